"""Start and stop the three processes of the assistant (standard library only).

    redis (optional)   Debian pkg   redis-server                REDIS_PORT     (6390), or REDIS_URL
    knowledge service  .venv        python -m knowledge serve   KNOWLEDGE_PORT (8000), KNOWLEDGE_WORKERS
    action server      .venv        python -m actions.server    ACTIONS_PORT   (5055), loopback, token
    Rasa server        .venv-rasa   python -m bot.serve run     RASA_PORT      (5005), API behind a token

Security posture (issue 10, docs/PRIVACY.md, README "Production"): settings are validated
before anything starts (scripts/settings.py); every child runs with umask 077; the shared
secrets (Rasa API token, action-server token, desk token, portal session key, Redis
password) come from the environment, or in development are generated once into
``var/dev-secrets.json``; the REST channel is left out of Rasa's channels when
``DVC_REST_CHANNEL=off`` (always in production).

Used by ``make run`` (scripts/run.py) and by the end-to-end tests, which start the
stack on free ports.

Scaling Rasa. One Rasa process handles one turn at a time (about 20 ms of CPU each), so
when a Redis is available (``REDIS_URL``, or ``redis-server`` installed: it is then
started here on 127.0.0.1:``REDIS_PORT`` with an append-only file under var/redis) the
stack runs:

- ``rasa``: ``RASA_WORKERS`` Sanic workers (default 2) for the REST, Facebook and Zalo
  channels, closing each connection after its answer so that every request goes to a
  free worker (bot/rasa_patches.py);
- ``rasa-portal``: one process for the portal's socket.io widget on ``RASA_PORTAL_PORT``
  (Engine.IO keeps a session in the process that opened it, so the widget's requests
  must not be spread over workers);
- both share Redis as lock store (one turn of a conversation at a time, whichever process
  has it) and as tracker store.

Without Redis (or with ``RASA_WORKERS=1``) one Rasa process serves every channel with the
SQLite tracker store, as before.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Optional
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(os.environ.get("VENV", ROOT / ".venv"))
VENV_RASA = Path(os.environ.get("VENV_RASA", ROOT / ".venv-rasa"))
MODELS = ROOT / "models"
PURGE_EVERY_SECONDS = 24 * 3600


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
    rasa_workers: int = 0  # 0: 2 when a Redis is available (REDIS_URL or redis-server installed), else 1
    redis_url: str = ""  # an existing Redis; empty: start redis-server on redis_port when needed
    redis_port: int = 6390
    rasa_portal_port: int = 5006  # the portal's own Rasa process, when Rasa runs several workers
    environment: str = "development"
    rest_channel: bool = True  # development only (scripts/settings.py refuses it in production)
    portal_origins: str = ""  # '' = the knowledge service's own address (development)
    retention_days: int = 30
    secrets: dict[str, str] = field(default_factory=dict)  # filled by Stack.start (env var → value)

    @classmethod
    def from_env(cls) -> StackConfig:
        """From the environment, validated (SettingError names the variable to fix)."""
        from scripts.settings import load_runner_settings

        s = load_runner_settings()
        return cls(
            host=s.host, knowledge_port=s.knowledge_port, actions_port=s.actions_port, rasa_port=s.rasa_port,
            index_dir=s.knowledge_index_dir or ROOT / "var" / "index",
            tracker_db=s.rasa_tracker_db or ROOT / "var" / "tracker.db",
            rasa_workers=s.rasa_workers, redis_url=s.redis_url, redis_port=s.redis_port,
            rasa_portal_port=s.rasa_portal_port, environment=s.environment, rest_channel=s.rest_channel == "on",
            portal_origins=s.portal_origins, retention_days=s.retention_days,
        )

    @classmethod
    def on_free_ports(cls, **kwargs: object) -> StackConfig:
        """Every port picked free (tests, benchmarks)."""
        ports = {name: free_port() for name in ("knowledge_port", "actions_port", "rasa_port", "rasa_portal_port",
                                                "redis_port")}
        return cls(**{**ports, **kwargs})  # type: ignore[arg-type]

    @property
    def workers(self) -> int:
        """Rasa worker processes to run."""
        if self.rasa_workers > 0:
            return self.rasa_workers
        redis_available = bool(self.redis_url) or shutil.which("redis-server") is not None
        return 2 if redis_available and (os.cpu_count() or 1) >= 2 else 1

    @property
    def starts_redis(self) -> bool:
        return self.workers > 1 and not self.redis_url

    @property
    def scaled(self) -> bool:
        """Several Rasa workers plus the portal's own Rasa process, sharing Redis."""
        return self.workers > 1

    @property
    def lock_store_url(self) -> str:
        """The Redis the Rasa processes share ('' with one worker)."""
        if not self.scaled:
            return ""
        if self.redis_url:
            return self.redis_url
        password = self.secrets.get("REDIS_PASSWORD", "")
        return f"redis://{':' + password + '@' if password else ''}127.0.0.1:{self.redis_port}/0"

    @property
    def origins(self) -> str:
        """Origins allowed to open the portal's socket and call Rasa from a browser."""
        if self.portal_origins:
            return self.portal_origins
        hosts = ["localhost", "127.0.0.1"] + ([self.host] if self.host not in ("127.0.0.1", "0.0.0.0") else [])
        return ",".join(f"http://{h}:{self.knowledge_port}" for h in hosts)

    @property
    def api_token(self) -> str:
        """Rasa's HTTP API token (send as ?token=…)."""
        return self.secrets.get("RASA_API_TOKEN", "")

    @property
    def portal_rasa_port(self) -> int:
        """Where the portal widget's socket.io connects."""
        return self.rasa_portal_port if self.scaled else self.rasa_port

    @property
    def endpoints(self) -> Path:
        return self.tracker_db.parent / "endpoints.yml"

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
            "KNOWLEDGE_RASA_PORT": str(c.portal_rasa_port),
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
            "SANIC_WORKERS": "1",
            "DVC_CLOSE_CONNECTIONS": "0",
            "DVC_REDIS_URL": c.lock_store_url,
            "DVC_REDIS_PASSWORD": urlsplit(c.lock_store_url).password or "",
            "DVC_ENVIRONMENT": c.environment,
            "DVC_RETENTION_DAYS": str(c.retention_days),
            "DVC_PORTAL_ORIGINS": c.origins,
            "DVC_REST_CHANNEL": "on" if c.rest_channel else "off",
            "DVC_SEEN_DB": str(c.tracker_db.parent / "seen.db"),
            "ACTIONS_HOST": "127.0.0.1",
            "ACTIONS_PORT": str(c.actions_port),
            # Sanic (Rasa) refuses larger bodies with 413; a long message in a small body gets a polite answer.
            "SANIC_REQUEST_MAX_SIZE": "65536",
        })
        env.update(c.secrets)
        env.setdefault("ACTIONS_DESK_TOKEN", c.secrets.get("KNOWLEDGE_DESK_TOKEN", ""))
        if c.environment == "development":
            # The demo one-stop system, unless the operator configured the province's real one.
            env.setdefault("ACTIONS_ONESTOP_URL", f"{c.knowledge_url}/demo/onestop")
            env.setdefault("ACTIONS_ONESTOP_TOKEN", c.secrets.get("KNOWLEDGE_DEMO_ONESTOP_TOKEN", ""))
        env.update(c.extra_env)
        return env

    def commands(self) -> list[tuple[str, list[str], str, dict[str, str]]]:
        """(name, command, health URL, environment overrides) of each child, in start order."""
        c = self.config
        model = c.model or latest_model()
        py = str(VENV / "bin" / "python")

        def rasa(port: int, credentials: Path) -> list[str]:
            # bot/serve.py adds the API token (RASA_API_TOKEN) and the CORS origins (DVC_PORTAL_ORIGINS).
            return [str(VENV_RASA / "bin" / "python"), "-m", "bot.serve", "run", "--enable-api",
                    "--interface", c.host, "--port", str(port), "--model", str(model),
                    "--credentials", str(credentials), "--endpoints", str(c.endpoints)]

        children: list[tuple[str, list[str], str, dict[str, str]]] = []
        if c.starts_redis:
            server = shutil.which("redis-server")
            if server is None:
                raise FileNotFoundError(f"RASA_WORKERS={c.workers} needs Redis (shared lock and tracker store): "
                                        "install redis-server (apt-get install redis-server) or set REDIS_URL")
            # Conversations live here (masked): appended to a file every second, reloaded on restart. The
            # password is in a mode-600 config file, not on the command line.
            conf = redis_config(c.tracker_db.parent / "redis", c.redis_port, c.secrets.get("REDIS_PASSWORD", ""))
            children.append(("redis", [server, str(conf)], c.lock_store_url, {}))
        children += [
            ("knowledge", [py, "-m", "knowledge", "serve", "--log-level", "warning"], f"{c.knowledge_url}/health", {}),
            ("actions", [py, "-m", "actions.server"], f"http://127.0.0.1:{c.actions_port}/health", {}),
        ]
        credentials = channels_file(c.credentials, c.tracker_db.parent, rest=c.rest_channel)
        if not c.scaled:
            children.append(("rasa", rasa(c.rasa_port, credentials), f"{c.rasa_url}/", {}))
            return children
        webhooks, portal = split_credentials(credentials, c.tracker_db.parent)
        children += [
            ("rasa", rasa(c.rasa_port, webhooks), f"{c.rasa_url}/",
             {"SANIC_WORKERS": str(c.workers), "DVC_CLOSE_CONNECTIONS": "1"}),
            ("rasa-portal", rasa(c.rasa_portal_port, portal), f"http://127.0.0.1:{c.rasa_portal_port}/", {}),
        ]
        return children

    def _spawn(self, name: str, cmd: list[str], health: str, env: Optional[dict[str, str]] = None) -> Child:
        log = None
        if self.config.log_dir:
            self.config.log_dir.mkdir(parents=True, exist_ok=True)
            log = open(self.config.log_dir / f"{name}.log", "ab")
        proc = subprocess.Popen(cmd, cwd=ROOT, env={**self._env(), **(env or {})}, stdout=log,
                                stderr=subprocess.STDOUT if log else None, start_new_session=True)
        return Child(name, proc, health, log)

    def start(self, timeout: float = 240.0) -> None:
        from scripts.settings import resolve_secrets

        os.umask(0o077)  # every file and socket the children create is private
        state = self.config.tracker_db.parent
        state.mkdir(parents=True, exist_ok=True)
        state.chmod(0o700)  # conversations, the desk and the secrets live here
        if not self.config.secrets:
            posture = "production" if self.config.environment == "production" else "development"
            self.config.secrets = resolve_secrets(posture, state / "dev-secrets.json")
        retention = self.config.retention_days * 86400
        write_endpoints(self.config.endpoints, self.config.lock_store_url, retention)
        for name, cmd, health, env in self.commands():
            self.children.append(self._spawn(name, cmd, health, env))
        deadline = time.monotonic() + timeout
        for child in self.children:
            self._wait_healthy(child, deadline)

    def restart_child(self, name: str, timeout: float = 120.0) -> None:
        for i, child in enumerate(self.children):
            if child.name == name:
                _terminate(child.proc)
                if child.log:
                    child.log.close()
                cmd, health, env = next((c, h, e) for n, c, h, e in self.commands() if n == name)
                self.children[i] = self._spawn(name, cmd, health, env)
                self._wait_healthy(self.children[i], time.monotonic() + timeout)

    def _wait_healthy(self, child: Child, deadline: float) -> None:
        while time.monotonic() < deadline:
            if child.proc.poll() is not None:
                raise RuntimeError(f"{child.name} exited with code {child.proc.returncode}")
            try:
                if child.health_url.startswith("redis://"):
                    if redis_ping(child.health_url):
                        return
                else:
                    with urllib.request.urlopen(child.health_url, timeout=2) as resp:
                        if resp.status == 200:
                            return
            except OSError:
                pass
            time.sleep(0.5 if not child.health_url.startswith("redis://") else 0.1)
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

    def purge(self) -> bool:
        """Delete what is older than the retention period from every store (docs/PRIVACY.md)."""
        cmd = [str(VENV / "bin" / "python"), "-m", "knowledge", "privacy", "purge"]
        result = subprocess.run(cmd, cwd=ROOT, env=self._env(), capture_output=True, text=True, timeout=600)
        if result.returncode != 0:
            print(f"[run] retention purge failed (exit {result.returncode}); it is retried in "
                  f"{PURGE_EVERY_SECONDS // 3600} h", file=sys.stderr)
            return False
        return True

    def wait(self) -> int:
        """Block until one child exits; returns its code (the caller then stops the rest). Purges
        the stores once at the start and then every PURGE_EVERY_SECONDS."""
        next_purge = time.monotonic()
        while True:
            for child in self.children:
                code = child.proc.poll()
                if code is not None:
                    print(f"[run] {child.name} exited with code {code}", file=sys.stderr)
                    return code or 1
            if time.monotonic() >= next_purge:
                self.purge()
                next_purge = time.monotonic() + PURGE_EVERY_SECONDS
            time.sleep(0.5)

    def __enter__(self) -> Stack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def redis_ping(url: str, timeout: float = 2.0) -> bool:
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), timeout=timeout) as conn:
        if parts.password:
            conn.sendall(_resp("AUTH", parts.password))
            if not conn.recv(64).startswith(b"+OK"):
                return False
        conn.sendall(b"PING\r\n")
        return conn.recv(64).startswith(b"+PONG")


def _resp(*words: str) -> bytes:
    out = [f"*{len(words)}\r\n".encode()]
    for w in words:
        data = w.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


def redis_config(data: Path, port: int, password: str) -> Path:
    """The config of the Redis the runner starts: loopback, append-only, password (mode 600)."""
    data.mkdir(parents=True, exist_ok=True)
    conf = data / "redis.conf"
    lines = ["bind 127.0.0.1", f"port {port}", f"dir {data}", 'save ""', "appendonly yes",
             "appendfsync everysec", "protected-mode yes", "loglevel warning"]
    if password:
        lines.append(f"requirepass {password}")
    fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return conf


PORTAL_CHANNEL = "bot.channels.portal.PortalSocketIOInput"
REST_CHANNELS = ("rest", "bot.channels.rest.GuardedRestInput")


def channels_file(path: Path, out_dir: Path, rest: bool) -> Path:
    """The credentials file as Rasa gets it: the REST channel left out unless ``rest``."""
    import yaml

    creds = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not rest:
        creds = {k: v for k, v in creds.items() if k not in REST_CHANNELS}
    target = out_dir / "credentials-rasa.yml"
    target.write_text(yaml.safe_dump(creds, allow_unicode=True, sort_keys=False), encoding="utf-8")
    target.chmod(0o600)
    return target


def split_credentials(path: Path, out_dir: Path) -> tuple[Path, Path]:
    """The credentials file split in two: every channel but the portal's socket.io (for
    the Rasa workers), and the portal's alone (for its own Rasa process)."""
    import yaml

    creds = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    webhooks = {k: v for k, v in creds.items() if k != PORTAL_CHANNEL}
    portal = {k: v for k, v in creds.items() if k == PORTAL_CHANNEL}
    out = []
    for suffix, content in (("webhooks", webhooks), ("portal", portal)):
        target = out_dir / f"credentials-{suffix}.yml"
        target.write_text(yaml.safe_dump(content, allow_unicode=True, sort_keys=False), encoding="utf-8")
        target.chmod(0o600)
        out.append(target)
    return out[0], out[1]


def write_endpoints(path: Path, redis_url: str, retention_seconds: int = 30 * 86400) -> None:
    """bot/endpoints.yml; with several Rasa processes, Redis as their shared lock store and
    tracker store instead (a conversation expires ``retention_seconds`` after its last turn)."""
    text = (ROOT / "bot" / "endpoints.yml").read_text(encoding="utf-8")
    if redis_url:
        parts = urlsplit(redis_url)
        db = (parts.path or "/0").lstrip("/") or "0"
        redis = f"  type: redis\n  url: {parts.hostname or '127.0.0.1'}\n  port: {parts.port or 6379}\n  db: {db}\n"
        if parts.password:
            redis += "  password: ${DVC_REDIS_PASSWORD}\n"
        text = text.split("\ntracker_store:")[0].rstrip() + (
            "\n\n# Written by scripts/stack.py: the Rasa processes share these (see its docstring).\n"
            f"tracker_store:\n{redis}  key_prefix: dvc\n  record_exp: {retention_seconds}\n\n"
            f"lock_store:\n{redis}  key_prefix: dvc\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


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
