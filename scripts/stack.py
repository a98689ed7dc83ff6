"""Start and stop the three processes of the assistant (standard library only).

    knowledge service  .venv        python -m knowledge serve   KNOWLEDGE_PORT (8000), KNOWLEDGE_WORKERS
    action server      .venv        python -m rasa_sdk          ACTIONS_PORT   (5055)
    Rasa server        .venv-rasa   rasa run --enable-api       RASA_PORT      (5005)

Used by ``make run`` (scripts/run.py) and by the end-to-end tests, which start the
stack on free ports.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Optional

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(os.environ.get("VENV", ROOT / ".venv"))
VENV_RASA = Path(os.environ.get("VENV_RASA", ROOT / ".venv-rasa"))
MODELS = ROOT / "models"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def latest_model(models_dir: Path = MODELS) -> Path:
    models = sorted(models_dir.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        raise FileNotFoundError(f"no trained model in {models_dir}; run `make train`")
    return models[-1]


@dataclass
class StackConfig:
    host: str = "127.0.0.1"
    knowledge_port: int = 8000
    actions_port: int = 5055
    rasa_port: int = 5005
    index_dir: Path = ROOT / "var" / "index"
    tracker_db: Path = ROOT / "var" / "tracker.db"
    model: Optional[Path] = None
    credentials: Path = ROOT / "bot" / "credentials.yml"
    log_dir: Optional[Path] = None  # None: children write to this terminal
    extra_env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> StackConfig:
        env = os.environ
        return cls(
            host=env.get("HOST", "127.0.0.1"),
            knowledge_port=int(env.get("KNOWLEDGE_PORT", 8000)),
            actions_port=int(env.get("ACTIONS_PORT", 5055)),
            rasa_port=int(env.get("RASA_PORT", 5005)),
            index_dir=Path(env.get("KNOWLEDGE_INDEX_DIR", ROOT / "var" / "index")),
            tracker_db=Path(env.get("RASA_TRACKER_DB", ROOT / "var" / "tracker.db")),
        )

    @property
    def knowledge_url(self) -> str:
        return f"http://127.0.0.1:{self.knowledge_port}"

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"


@dataclass
class Child:
    name: str
    proc: subprocess.Popen
    health_url: str
    log: Optional[IO[bytes]] = None


class Stack:
    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.children: list[Child] = []

    def _env(self) -> dict[str, str]:
        c = self.config
        env = dict(os.environ)
        env.update({
            "PYTHONPATH": str(ROOT),
            "KNOWLEDGE_HOST": c.host,
            "KNOWLEDGE_PORT": str(c.knowledge_port),
            "KNOWLEDGE_INDEX_DIR": str(c.index_dir),
            "KNOWLEDGE_RASA_PORT": str(c.rasa_port),
            "KNOWLEDGE_DESK_DB": str(c.tracker_db.parent / "desk.db"),
            "KNOWLEDGE_DEMO_ONESTOP_DB": str(c.tracker_db.parent / "demo-onestop.db"),
            "ACTIONS_KNOWLEDGE_URL": c.knowledge_url,
            "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{c.actions_port}/webhook",
            "RASA_TRACKER_DB": str(c.tracker_db),
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "HF_HUB_OFFLINE": "1",
            "RASA_TELEMETRY_ENABLED": "false",
            "TRANSFORMERS_OFFLINE": "1",
        })
        # The demo one-stop system, unless the operator configured the province's real one.
        env.setdefault("ACTIONS_ONESTOP_URL", f"{c.knowledge_url}/demo/onestop")
        env.setdefault("ACTIONS_ONESTOP_TOKEN", env.get("KNOWLEDGE_DEMO_ONESTOP_TOKEN", "demo-onestop-token"))
        env.update(c.extra_env)
        return env

    def commands(self) -> list[tuple[str, list[str], str]]:
        c = self.config
        model = c.model or latest_model()
        py = str(VENV / "bin" / "python")
        return [
            ("knowledge", [py, "-m", "knowledge", "serve", "--log-level", "warning"], f"{c.knowledge_url}/health"),
            ("actions", [py, "-m", "rasa_sdk", "--actions", "actions", "--port", str(c.actions_port)],
             f"http://127.0.0.1:{c.actions_port}/health"),
            ("rasa", [str(VENV_RASA / "bin" / "rasa"), "run", "--enable-api", "--cors", "*",
                      "--interface", c.host, "--port", str(c.rasa_port), "--model", str(model),
                      "--credentials", str(c.credentials),
                      "--endpoints", str(ROOT / "bot" / "endpoints.yml")],
             f"{c.rasa_url}/"),
        ]

    def _spawn(self, name: str, cmd: list[str], health: str) -> Child:
        log = None
        if self.config.log_dir:
            self.config.log_dir.mkdir(parents=True, exist_ok=True)
            log = open(self.config.log_dir / f"{name}.log", "ab")
        proc = subprocess.Popen(cmd, cwd=ROOT, env=self._env(), stdout=log,
                                stderr=subprocess.STDOUT if log else None, start_new_session=True)
        return Child(name, proc, health, log)

    def start(self, timeout: float = 240.0) -> None:
        self.config.tracker_db.parent.mkdir(parents=True, exist_ok=True)
        for name, cmd, health in self.commands():
            self.children.append(self._spawn(name, cmd, health))
        deadline = time.monotonic() + timeout
        for child in self.children:
            self._wait_healthy(child, deadline)

    def restart_child(self, name: str, timeout: float = 120.0) -> None:
        for i, child in enumerate(self.children):
            if child.name == name:
                _terminate(child.proc)
                if child.log:
                    child.log.close()
                cmd, health = next((c, h) for n, c, h in self.commands() if n == name)
                self.children[i] = self._spawn(name, cmd, health)
                self._wait_healthy(self.children[i], time.monotonic() + timeout)

    def _wait_healthy(self, child: Child, deadline: float) -> None:
        while time.monotonic() < deadline:
            if child.proc.poll() is not None:
                raise RuntimeError(f"{child.name} exited with code {child.proc.returncode}")
            try:
                with urllib.request.urlopen(child.health_url, timeout=2) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.5)
        raise TimeoutError(f"{child.name} not healthy at {child.health_url}")

    def stop_child(self, name: str) -> None:
        for child in self.children:
            if child.name == name:
                _terminate(child.proc)

    def stop(self) -> None:
        for child in reversed(self.children):
            _terminate(child.proc)
            if child.log:
                child.log.close()
        self.children.clear()

    def wait(self) -> int:
        """Block until one child exits; returns its code (the caller then stops the rest)."""
        while True:
            for child in self.children:
                code = child.proc.poll()
                if code is not None:
                    print(f"[run] {child.name} exited with code {code}", file=sys.stderr)
                    return code or 1
            time.sleep(0.5)

    def __enter__(self) -> Stack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _terminate(proc: subprocess.Popen, grace: float = 10.0) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=grace)
    except (ProcessLookupError, PermissionError):
        return
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)
