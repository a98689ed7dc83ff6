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
stack on free ports. ``StackConfig.children`` (``DVC_RUN_CHILDREN``) starts only some.

Supervision (``Stack.wait``, issue 12). Each child runs in its own process group, so
stopping it stops what it started, and gets SIGTERM if the runner dies, even by SIGKILL
(Linux). Each has a liveness and a readiness probe: ``/health/live`` and ``/health/ready``
on the knowledge service and the action server, ``/`` on Rasa (it answers once the model
is loaded; ``/status`` needs the token), PING on Redis. A child that exits or fails its
liveness probe several times in a row is stopped with its group and restarted after a
backoff, with one log line naming it and the reason (fixed words: never a URL, which may
hold a password). In production systemd does this instead: its units (deploy/systemd/) run
``python -m scripts.stack exec NAME``, which becomes the child this runner would start.

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

import ctypes
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Literal, Optional
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(os.environ.get("VENV", ROOT / ".venv"))
VENV_RASA = Path(os.environ.get("VENV_RASA", ROOT / ".venv-rasa"))
MODELS = ROOT / "models"
PURGE_EVERY_SECONDS = 24 * 3600
CHILD_NAMES = ("redis", "knowledge", "actions", "rasa", "rasa-portal")  # in start order
TICK_SECONDS = 0.2  # supervision loop
BACKOFF_FIRST_SECONDS = 1.0  # the first restart after a failure; doubled at each one in a row
STABLE_SECONDS = 60.0  # up this long: the next failure is restarted after BACKOFF_FIRST_SECONDS again


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
    children: tuple[str, ...] = ()  # start only these (CHILD_NAMES); () = all
    # supervision (Stack.wait): liveness probed every health_interval s, restart after health_failures
    # failures in a row; a restarted child must be ready within start_timeout s
    health_interval: float = 5.0
    health_timeout: float = 5.0
    health_failures: int = 3
    backoff_max: float = 60.0
    start_timeout: float = 300.0  # also the first start's, in scripts/run.py

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
            children=tuple(n.strip() for n in s.run_children.split(",") if n.strip()),
            health_interval=s.health_interval, health_timeout=s.health_timeout, health_failures=s.health_failures,
            backoff_max=s.restart_backoff_max, start_timeout=s.start_timeout,
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
class ChildSpec:
    """How to start one child and how to ask it whether it is alive and ready."""

    name: str
    cmd: list[str]
    live: str  # liveness probe (http:// URL, or redis:// for a PING): fails → the child is restarted
    ready: str  # readiness probe: passes → the child serves (start-up, after a restart)
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class Child:
    name: str
    proc: subprocess.Popen  # type: ignore[type-arg]
    spec: ChildSpec
    log: Optional[IO[bytes]] = None
    # supervision (Stack.wait)
    state: str = "starting"  # starting (not ready yet) → up → waiting (stopped, restarted at ``due``)
    since: float = 0.0  # when the current state began (monotonic)
    restarts: int = 0  # restarts in a row, for the backoff (back to 0 after STABLE_SECONDS up)
    total_restarts: int = 0
    failures: int = 0  # liveness probes failed in a row
    next_probe: float = 0.0
    due: float = 0.0


class Stopped(Exception):
    """A stop was requested (a signal) while the stack was starting."""


class Stack:
    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.children: list[Child] = []
        self.stopping = False  # set by request_stop (a signal): supervision ends, nothing is restarted
        self.hurry = False  # a second request: what is still running is killed without waiting
        self._purge: Optional[subprocess.Popen] = None  # type: ignore[type-arg]
        self._purge_deadline = 0.0

    def _env(self) -> dict[str, str]:
        c = self.config
        env = dict(os.environ)
        env.pop("NOTIFY_SOCKET", None)  # the runner under systemd: a child must not speak for it
        env.update({
            "PYTHONPATH": str(ROOT),
            "KNOWLEDGE_HOST": c.host,
            "KNOWLEDGE_PORT": str(c.knowledge_port),
            "KNOWLEDGE_INDEX_DIR": str(c.index_dir),
            "KNOWLEDGE_RASA_PORT": str(c.portal_rasa_port),
            "KNOWLEDGE_RASA_API_PORT": str(c.rasa_port),  # the console's live handover (Facebook, Zalo)
            "KNOWLEDGE_DESK_DB": str(c.tracker_db.parent / "desk.db"),
            "KNOWLEDGE_DEMO_ONESTOP_DB": str(c.tracker_db.parent / "demo-onestop.db"),
            "ACTIONS_KNOWLEDGE_URL": c.knowledge_url,
            "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{c.actions_port}/webhook",
            "RASA_TRACKER_DB": str(c.tracker_db),
            "RASA_EVENTS_DB": str(c.tracker_db.parent / "events.db"),  # Rasa's SQL event broker (bot/endpoints.yml)
            "KNOWLEDGE_EVENTS_DB": str(c.tracker_db.parent / "events.db"),  # read by the dashboard and the report
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

    def probes(self, name: str) -> tuple[str, str]:
        """(liveness, readiness) probe of a child; Rasa's "/" answers once the model is loaded
        (/status would need the token), Redis's is a PING."""
        c = self.config
        http = {"knowledge": c.knowledge_url, "actions": f"http://127.0.0.1:{c.actions_port}"}
        if name in http:
            return f"{http[name]}/health/live", f"{http[name]}/health/ready"
        if name == "redis":
            return c.lock_store_url, c.lock_store_url
        port = c.rasa_port if name == "rasa" else c.rasa_portal_port
        return f"http://127.0.0.1:{port}/", f"http://127.0.0.1:{port}/"

    def observability_env(self, name: str) -> dict[str, str]:
        """The child's name in its JSON log lines, and for the children with several worker processes
        (knowledge, Rasa) the folder where the workers share their metrics (emptied by the child at
        its start; docs/OPERATIONS.md "Metrics and logs")."""
        env = {"DVC_PROCESS_NAME": name}
        if name in ("knowledge", "rasa", "rasa-portal"):
            env["PROMETHEUS_MULTIPROC_DIR"] = str(self.config.tracker_db.parent / "metrics" / name)
        return env

    def specs(self) -> list[ChildSpec]:
        """Every child (``config.children`` of them, if set), in start order."""
        c = self.config
        unknown = set(c.children) - set(CHILD_NAMES)
        if unknown:
            raise ValueError(f"unknown children {sorted(unknown)}; known: {', '.join(CHILD_NAMES)}")

        def wanted(name: str) -> bool:
            return not c.children or name in c.children

        py = str(VENV / "bin" / "python")
        specs: list[ChildSpec] = []
        if c.starts_redis and wanted("redis"):
            server = shutil.which("redis-server")
            if server is None:
                raise FileNotFoundError(f"RASA_WORKERS={c.workers} needs Redis (shared lock and tracker store): "
                                        "install redis-server (apt-get install redis-server) or set REDIS_URL")
            # Conversations live here (masked): appended to a file every second, reloaded on restart. The
            # password is in a mode-600 config file, not on the command line.
            conf = redis_config(c.tracker_db.parent / "redis", c.redis_port, c.secrets.get("REDIS_PASSWORD", ""))
            specs.append(ChildSpec("redis", [server, str(conf)], *self.probes("redis")))
        if wanted("knowledge"):
            specs.append(ChildSpec("knowledge", [py, "-m", "knowledge", "serve", "--log-level", "warning"],
                                   *self.probes("knowledge"), self.observability_env("knowledge")))
        if wanted("actions"):
            specs.append(ChildSpec("actions", [py, "-m", "actions.server"], *self.probes("actions"),
                                   self.observability_env("actions")))
        if not (wanted("rasa") or (c.scaled and wanted("rasa-portal"))):
            return specs
        model = c.model or latest_model()

        def rasa(name: str, port: int, credentials: Path, env: Optional[dict[str, str]] = None) -> ChildSpec:
            # bot/serve.py adds the API token (RASA_API_TOKEN) and the CORS origins (DVC_PORTAL_ORIGINS).
            cmd = [str(VENV_RASA / "bin" / "python"), "-m", "bot.serve", "run", "--enable-api",
                   "--interface", c.host, "--port", str(port), "--model", str(model),
                   "--credentials", str(credentials), "--endpoints", str(c.endpoints)]
            return ChildSpec(name, cmd, *self.probes(name), {**self.observability_env(name), **(env or {})})

        credentials = channels_file(c.credentials, c.tracker_db.parent, rest=c.rest_channel)
        if not c.scaled:
            return specs + ([rasa("rasa", c.rasa_port, credentials)] if wanted("rasa") else [])
        webhooks, portal = split_credentials(credentials, c.tracker_db.parent)
        if wanted("rasa"):
            specs.append(rasa("rasa", c.rasa_port, webhooks,
                              {"SANIC_WORKERS": str(c.workers), "DVC_CLOSE_CONNECTIONS": "1"}))
        if wanted("rasa-portal"):
            specs.append(rasa("rasa-portal", c.rasa_portal_port, portal))
        return specs

    def _spawn(self, spec: ChildSpec) -> Child:
        log = None
        if self.config.log_dir:
            self.config.log_dir.mkdir(parents=True, exist_ok=True)
            log = open(self.config.log_dir / f"{spec.name}.log", "ab")
        # Its own session (process group), so that stopping it stops whatever it started; and told
        # to stop when the runner dies, even by SIGKILL (Linux; see _die_with_runner).
        proc = subprocess.Popen(spec.cmd, cwd=ROOT, env={**self._env(), **spec.env}, stdout=log,
                                stderr=subprocess.STDOUT if log else None, start_new_session=True,
                                preexec_fn=_die_with_runner())
        return Child(spec.name, proc, spec, log, since=time.monotonic())

    def _prepare(self) -> None:
        from scripts.settings import resolve_secrets

        os.umask(0o077)  # every file and socket the children create is private
        state = self.config.tracker_db.parent
        state.mkdir(parents=True, exist_ok=True)
        state.chmod(0o700)  # conversations, the desk and the secrets live here
        if not self.config.secrets:
            posture: Literal["development", "production"] = (
                "production" if self.config.environment == "production" else "development")
            self.config.secrets = resolve_secrets(posture, state / "dev-secrets.json")
        retention = self.config.retention_days * 86400
        write_endpoints(self.config.endpoints, self.config.lock_store_url, retention)

    def render(self) -> list[Path]:
        """Write, as ``start`` does, the files the children read (Rasa's endpoints and channels,
        Redis's config) into the state folder, and start nothing: for systemd (deploy/systemd,
        ``python -m scripts.stack render``). Returns the files written."""
        from scripts import credentials

        self._prepare()
        state = self.config.tracker_db.parent
        self.config.credentials = state / "credentials.yml"
        credentials.write(self.config.credentials)
        self.specs()
        names = ["endpoints.yml", "credentials.yml", "credentials-rasa.yml", "credentials-webhooks.yml",
                 "credentials-portal.yml", "redis/redis.conf"]
        return [state / n for n in names if (state / n).is_file()]

    def port(self, name: str) -> int:
        c = self.config
        return {"redis": c.redis_port, "knowledge": c.knowledge_port, "actions": c.actions_port,
                "rasa": c.rasa_port, "rasa-portal": c.rasa_portal_port}[name]

    def start(self, timeout: float = 240.0) -> None:
        self._prepare()
        specs = self.specs()
        for spec in specs:
            # Something already answering there (a stack left running) would pass our child's
            # readiness probe while the child itself fails to listen.
            if _listening(self.port(spec.name)):
                raise RuntimeError(f"port {self.port(spec.name)} ({spec.name}) is already in use: "
                                   "is another stack still running?")
        for spec in specs:
            if self.stopping:
                raise Stopped()
            self.children.append(self._spawn(spec))
        deadline = time.monotonic() + timeout
        for child in self.children:
            self._wait_ready(child, deadline)

    def restart_child(self, name: str, timeout: Optional[float] = None) -> None:
        """Stop one child and start it again, waiting until it is ready (tests); ``timeout``
        defaults to ``config.start_timeout``."""
        for i, child in enumerate(self.children):
            if child.name == name:
                self._stop_one(child)
                self.children[i] = self._spawn(child.spec)
                wait = self.config.start_timeout if timeout is None else timeout
                self._wait_ready(self.children[i], time.monotonic() + wait)

    def _wait_ready(self, child: Child, deadline: float) -> None:
        reason = "no answer yet"
        while time.monotonic() < deadline:
            if self.stopping:
                raise Stopped()
            code = child.proc.poll()
            if code is not None:
                raise RuntimeError(f"{child.name} {exit_reason(code)}")
            reason = probe(child.spec.ready, self.config.health_timeout) or ""
            if not reason:
                child.state, child.since, child.failures = "up", time.monotonic(), 0
                child.next_probe = child.since + self.config.health_interval
                return
            time.sleep(0.1 if child.spec.ready.startswith("redis://") else 0.5)
        raise TimeoutError(f"{child.name} not ready in time ({reason})")  # never the URL: it may hold a password

    def stop_child(self, name: str) -> None:
        for child in self.children:
            if child.name == name:
                self._stop_one(child)

    def _stop_one(self, child: Child, grace: float = 10.0) -> None:
        _kill_group(child.proc, grace, lambda: self.hurry)
        if child.log:
            child.log.close()
            child.log = None

    def request_stop(self) -> None:
        """Safe in a signal handler. The first request ends supervision (nothing is restarted)
        and lets ``stop`` give each child its grace period; any further one makes ``stop`` kill
        what is still running at once. Either way every child's process group ends."""
        if self.stopping:
            self.hurry = True
        self.stopping = True

    def stop(self, grace: float = 10.0) -> None:
        """Stop every child and its process group, the last started first (Rasa finishes its turns
        while the actions and the knowledge service still answer). Idempotent."""
        self.stopping = True
        for child in reversed(self.children):
            if child.state != "waiting":  # a waiting child's group was already ended
                self._stop_one(child, grace)
            elif child.log:
                child.log.close()
        self.children.clear()
        if self._purge is not None:
            _kill_group(self._purge, 0.0)
            self._purge = None

    def _purge_cmd(self) -> list[str]:
        return [str(VENV / "bin" / "python"), "-m", "knowledge", "privacy", "purge"]

    def purge(self) -> bool:
        """Delete what is older than the retention period from every store (docs/PRIVACY.md)."""
        result = subprocess.run(self._purge_cmd(), cwd=ROOT, env=self._env(), capture_output=True, text=True,
                                timeout=600)
        if result.returncode != 0:
            self._say(f"retention purge failed (exit {result.returncode}); it is retried in "
                      f"{PURGE_EVERY_SECONDS // 3600} h")
            return False
        return True

    def _purge_step(self, now: float, next_purge: float) -> float:
        """The purge in the background of supervision; returns when the next one is due."""
        if self._purge is not None:
            code = self._purge.poll()
            if code is None and now < self._purge_deadline:
                return next_purge
            if code is None:
                _kill_group(self._purge, 0.0)
                code = -int(signal.SIGKILL)
            self._purge = None
            if code != 0:
                self._say(f"retention purge failed ({exit_reason(code)}); it is retried in "
                          f"{PURGE_EVERY_SECONDS // 3600} h")
        if now < next_purge:
            return next_purge
        self._purge = subprocess.Popen(self._purge_cmd(), cwd=ROOT, env=self._env(), stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL, start_new_session=True,
                                       preexec_fn=_die_with_runner())
        self._purge_deadline = now + 600
        return now + PURGE_EVERY_SECONDS

    def wait(self) -> int:
        """Supervise the children until a stop is requested (``request_stop``); returns 0.

        A child that exits, or fails its liveness probe ``health_failures`` times in a row
        (every ``health_interval`` s, ``health_timeout`` s each: a hung process), is stopped with
        its whole process group and started again after a backoff (1 s, doubling up to
        ``backoff_max``; back to 1 s after STABLE_SECONDS up), with one line naming it and the
        reason. It serves again once its readiness probe passes; if that takes longer than
        ``start_timeout``, it is restarted again. The stores are purged at the start and then
        every PURGE_EVERY_SECONDS, in the background."""
        next_purge = time.monotonic()
        while not self.stopping:
            for child in self.children:
                if self.stopping:
                    break
                self._supervise(child, time.monotonic())
            next_purge = self._purge_step(time.monotonic(), next_purge)
            time.sleep(TICK_SECONDS)
        return 0

    def _supervise(self, child: Child, now: float) -> None:
        c = self.config
        if child.state == "waiting":
            if now >= child.due:
                new = self._spawn(child.spec)
                child.proc, child.log = new.proc, new.log
                child.state, child.since, child.next_probe = "starting", now, now
            return
        code = child.proc.poll()
        if code is not None:
            self._restart_later(child, exit_reason(code))
        elif child.state == "starting":
            if now < child.next_probe:
                return
            if probe(child.spec.ready, c.health_timeout) is None:
                child.state, child.since, child.failures = "up", time.monotonic(), 0
                child.next_probe = child.since + c.health_interval
                self._say(f"{child.name} is ready again (pid {child.proc.pid})")
            elif now - child.since > c.start_timeout:
                self._restart_later(child, f"was not ready {c.start_timeout:g} s after its start")
            else:
                child.next_probe = time.monotonic() + 0.5
        elif now >= child.next_probe:
            if child.restarts and now - child.since >= STABLE_SECONDS:
                child.restarts = 0  # a stable run: the next restart is quick again
            reason = probe(child.spec.live, c.health_timeout)
            child.next_probe = time.monotonic() + c.health_interval
            child.failures = 0 if reason is None else child.failures + 1
            if reason is not None and child.failures >= c.health_failures:
                self._restart_later(child, f"failed its health check {child.failures} times in a row ({reason})")

    def _restart_later(self, child: Child, reason: str) -> None:
        self._stop_one(child, grace=5.0)
        child.restarts += 1
        child.total_restarts += 1
        delay = min(self.config.backoff_max, BACKOFF_FIRST_SECONDS * 2 ** (child.restarts - 1))
        child.state, child.due, child.failures = "waiting", time.monotonic() + delay, 0
        self._say(f"{child.name} {reason}: restarting it in {delay:g} s (restart {child.total_restarts})")

    @staticmethod
    def _say(line: str) -> None:
        """One line of the runner's log (no URL, no secret: the reasons are fixed words)."""
        print(f"[run] {line}", file=sys.stderr, flush=True)

    def __enter__(self) -> Stack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def probe(url: str, timeout: float) -> Optional[str]:
    """None if the probe passes, else why not, in a few fixed words (never the URL: a Redis
    URL holds its password)."""
    try:
        if url.startswith("redis://"):
            return None if redis_ping(url, timeout) else "no PONG"
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return None if resp.status == 200 else f"HTTP {resp.status}"
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code}"
    except urllib.error.URLError as exc:
        return _why(exc.reason)
    except (OSError, http.client.HTTPException) as exc:
        return _why(exc)


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _why(exc: object) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionError | http.client.HTTPException):
        return "connection closed"
    return type(exc).__name__ if isinstance(exc, BaseException) else "unreachable"


def exit_reason(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


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
    # "supervised auto": tells systemd when it is ready (Type=notify, deploy/systemd), silent otherwise.
    lines = ["bind 127.0.0.1", f"port {port}", f"dir {data}", 'save ""', "appendonly yes",
             "appendfsync everysec", "protected-mode yes", "loglevel warning", "supervised auto"]
    if password:
        lines.append(f"requirepass {password}")
    _write_private(conf, "\n".join(lines) + "\n")
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
    _write_private(target, yaml.safe_dump(creds, allow_unicode=True, sort_keys=False))
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
        _write_private(target, yaml.safe_dump(content, allow_unicode=True, sort_keys=False))
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
    _write_private(path, text)


def _write_private(path: Path, text: str) -> None:
    """Mode 600, replaced at once: a process reading it (another unit starting at the same time)
    sees the old file or the new one, never half of one."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def _kill_group(proc: subprocess.Popen, grace: float, hurry: Callable[[], bool] = lambda: False,  # type: ignore[type-arg]
                ) -> None:
    """End a child and whatever it started (its process group, see Stack._spawn): SIGTERM, with
    SIGCONT so that a stopped (SIGSTOP) one acts on it, then SIGKILL after ``grace`` seconds or
    as soon as ``hurry()``. Also sweeps the group of a child that already died (kill -9 of a
    parent whose workers live on), so that nothing keeps its port."""
    group = proc.pid  # start_new_session: the child leads its own group
    if proc.returncode is not None and not _group_alive(group):
        return  # ended and reaped before (nothing to sweep)
    _signal_group(group, signal.SIGTERM)
    _signal_group(group, signal.SIGCONT)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and not hurry():
        if proc.poll() is not None and not _group_alive(group):
            return
        time.sleep(0.05)
    _signal_group(group, signal.SIGKILL)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass


def _signal_group(group: int, sig: signal.Signals) -> None:
    try:
        os.killpg(group, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


_PR_SET_PDEATHSIG = 1


def _die_with_runner() -> Optional[Callable[[], None]]:
    """For Popen(preexec_fn=…): the child gets SIGTERM when the runner dies, even by SIGKILL
    (Linux's PR_SET_PDEATHSIG). Only the child itself is told; what it started (the knowledge
    workers, Rasa's Sanic workers) ends when it does. The signal follows the *thread* that
    started the child: start children from a thread that lives as long as the stack (the main
    thread, as run.py and the tests do). Elsewhere: None (nothing is told)."""
    global _prctl
    if not sys.platform.startswith("linux"):
        return None
    if _prctl is None:
        try:
            _prctl = ctypes.CDLL(None, use_errno=True).prctl
        except (OSError, AttributeError):
            return None
    prctl, runner, sigterm = _prctl, os.getpid(), int(signal.SIGTERM)

    def preexec() -> None:  # in the child, between fork and exec: nothing but two system calls
        prctl(_PR_SET_PDEATHSIG, sigterm)
        if os.getppid() != runner:  # the runner died before prctl: no one would tell us
            os._exit(1)

    return preexec


_prctl: Optional[Callable[..., int]] = None


def wait_ready(url: str, timeout: float, health_timeout: float = 3.0) -> Optional[str]:
    """Poll a probe until it passes (None) or ``timeout`` s have gone (the last reason)."""
    deadline = time.monotonic() + timeout
    while True:
        reason = probe(url, health_timeout)
        if reason is None or time.monotonic() >= deadline:
            return reason
        time.sleep(0.5)


def exec_child(name: str) -> None:
    """Become one child, with the command line, environment and files the runner would give
    it (systemd's ``ExecStart``, deploy/systemd): then the process systemd watches is the
    child itself, and a unit runs exactly what the tests run. Returns only on an error."""
    stack = Stack(StackConfig.from_env())
    stack.render()
    spec = next((s for s in stack.specs() if s.name == name), None)
    if spec is None:
        raise ValueError(f"{name} is not started in this configuration (known: "
                         f"{', '.join(s.name for s in stack.specs())})")
    os.chdir(ROOT)
    os.execve(spec.cmd[0], spec.cmd, {**stack._env(), **spec.env})


def main(argv: Optional[list[str]] = None) -> int:
    """``python -m scripts.stack render | exec NAME | wait NAME``: the pieces of the runner that
    the systemd units use (deploy/systemd), so that a deployment runs what the tests run."""
    import argparse

    from knowledge.environment import SettingError

    parser = argparse.ArgumentParser(prog="python -m scripts.stack")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("render", help="validate the settings and write the children's files (Rasa's endpoints and "
                                  "channels, Redis's config) into the state folder (that of RASA_TRACKER_DB)")
    run = sub.add_parser("exec", help="become one child, as the runner would start it")
    run.add_argument("name", choices=CHILD_NAMES)
    wait = sub.add_parser("wait", help="wait until a child's readiness probe passes (ExecStartPost)")
    wait.add_argument("name", choices=CHILD_NAMES)
    wait.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args(argv)
    try:
        if args.command == "render":
            for path in Stack(StackConfig.from_env()).render():
                print(path)
        elif args.command == "exec":
            exec_child(args.name)
        else:
            config = StackConfig.from_env()
            config.secrets = {"REDIS_PASSWORD": os.environ.get("REDIS_PASSWORD", "")}
            reason = wait_ready(Stack(config).probes(args.name)[1], args.timeout, config.health_timeout)
            if reason is not None:
                print(f"[stack] {args.name} not ready after {args.timeout:g} s ({reason})", file=sys.stderr)
                return 1
    except (SettingError, FileNotFoundError, ValueError) as exc:
        print(f"[stack] {args.name if args.command != 'render' else 'configuration'}: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
