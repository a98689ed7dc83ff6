"""The runner (``scripts/run.py`` → ``scripts/stack.py``) keeps the stack up and leaves nothing behind
(issue 12): the real runner, the real knowledge service (two workers), the real action server and,
when it is installed, the real Redis, on free ports; no Rasa (``DVC_RUN_CHILDREN``).

Reproduces what the issue saw: a ``kill -9`` of the action server left the stack up but dead; a
SIGTERM to the runner while the action server hung left orphans holding the ports.

The tests share one runner and run in file order: the last one stops it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from knowledge.service import LoadedIndex
from knowledge.settings import Settings
from scripts.settings import DEV_ONLY_SECRETS, SECRETS
from scripts.stack import ROOT, free_port, redis_ping

EVENT_TIMEOUT = 600.0  # a (re)start: the knowledge service loads its index in two workers, on a shared 2-core machine

MARKERS = {"knowledge": "knowledge serve", "actions": "actions.server", "redis": "redis-server"}


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            continue
    return out


def _descendants(pid: int) -> set[int]:
    found, todo = set(), [pid]
    while todo:
        for child in _children(todo.pop()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _alive(pid: int) -> bool:
    """Running (or stopped), not gone and not a zombie waiting for a reaper."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _get(url: str) -> tuple[int, object]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def _until(condition: Callable[[], object], what: str, timeout: float = EVENT_TIMEOUT) -> object:
    """Poll ``condition`` until it is truthy (bounded); its value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@dataclass
class Runner:
    proc: subprocess.Popen[bytes]
    log: Path
    state: Path
    ports: dict[str, int]
    children: tuple[str, ...]

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def mark(self) -> int:
        return len(self.text())

    def wait_line(self, pattern: str, after: int = 0) -> re.Match[str]:
        """The first line after ``after`` (a mark) matching ``pattern`` in full, once it is there."""
        regex = re.compile(pattern)

        def found() -> re.Match[str] | None:
            exited = self.proc.poll() is not None
            match = next((m for m in map(regex.fullmatch, self.text()[after:].splitlines()) if m), None)
            assert match or not exited, f"the runner exited:\n{self.text()[-3000:]}"
            return match

        match = _until(found, f"a log line {pattern!r}")
        assert isinstance(match, re.Match)
        return match

    def pid(self, name: str) -> int:
        """The runner's child serving ``name`` (not a purge run)."""
        pids = [p for p in _children(self.proc.pid) if MARKERS[name] in _cmdline(p)]
        assert len(pids) == 1, (name, pids)
        return pids[0]

    def url(self, name: str, path: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}{path}"

    def ready(self, name: str) -> bool:
        if name == "redis":
            return redis_ping(self.redis_url())
        try:
            return _get(self.url(name, "/health/ready")) == (200, {"status": "ready"})
        except OSError:
            return False

    def redis_url(self) -> str:
        password = self.secrets()["REDIS_PASSWORD"]
        return f"redis://:{password}@127.0.0.1:{self.ports['redis']}/0"

    def secrets(self) -> dict[str, str]:
        kept: dict[str, str] = json.loads((self.state / "dev-secrets.json").read_text(encoding="utf-8"))
        return kept


def start_runner(tmp: Path, children: tuple[str, ...], index_dir: Path) -> Runner:
    state = tmp / "state"
    ports = {"knowledge": free_port(), "actions": free_port(), "redis": free_port()}
    env = {k: v for k, v in os.environ.items() if k not in {*SECRETS.values(), *DEV_ONLY_SECRETS.values()}}
    env.update({
        "PYTHONPATH": str(ROOT), "DVC_RUN_CHILDREN": ",".join(children),
        "KNOWLEDGE_PORT": str(ports["knowledge"]), "ACTIONS_PORT": str(ports["actions"]),
        "REDIS_PORT": str(ports["redis"]), "RASA_PORT": str(free_port()), "RASA_PORTAL_PORT": str(free_port()),
        "RASA_WORKERS": "2" if "redis" in children else "1", "KNOWLEDGE_WORKERS": "2",
        "RASA_TRACKER_DB": str(state / "tracker.db"), "KNOWLEDGE_INDEX_DIR": str(index_dir),
        "DVC_HEALTH_INTERVAL": "1", "DVC_HEALTH_FAILURES": "2", "DVC_HEALTH_TIMEOUT": "5",
        "DVC_RESTART_BACKOFF_MAX": "4", "DVC_START_TIMEOUT": "540", "HF_HUB_OFFLINE": "1",
    })
    log = tmp / "runner.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "run.py")], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    runner = Runner(proc, log, state, ports, children)
    runner.wait_line(r"  Ctrl-C to stop\.")
    return runner


def _cleanup(runner: Runner) -> None:
    """After a failed test: nothing of ours may outlive it."""
    pids = _descendants(runner.proc.pid)
    if runner.proc.poll() is None:
        runner.proc.kill()
        runner.proc.wait(timeout=10)
    for pid in pids:
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    print(f"---- runner log ----\n{runner.text()[-4000:]}")


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory, settings: Settings, loaded: LoadedIndex) -> Iterator[Runner]:
    children = ("redis", "knowledge", "actions") if shutil.which("redis-server") else ("knowledge", "actions")
    r = start_runner(tmp_path_factory.mktemp("runner"), children, settings.index_dir)
    try:
        yield r
    finally:
        _cleanup(r)


def test_every_child_answers_its_probes_with_the_state_only(runner: Runner) -> None:
    for name in ("knowledge", "actions"):
        assert _get(runner.url(name, "/health/live")) == (200, {"status": "ok"})
        assert _get(runner.url(name, "/health/ready")) == (200, {"status": "ready"})
    assert f"  Running:                  {', '.join(runner.children)} (restarted if they fail)" in runner.text()


def _restarted(runner: Runner, name: str, old: int, reason: str, mark: int) -> None:
    """The runner says it restarts ``name`` and why, starts a new process, which becomes ready."""
    runner.wait_line(rf"\[run\] {name} {reason}: restarting it in \d+ s \(restart \d+\)", mark)
    line = runner.wait_line(rf"\[run\] {name} is ready again \(pid (\d+)\)", mark)
    new = int(line.group(1))
    assert new != old and new == runner.pid(name)
    assert runner.ready(name)
    assert not _alive(old)


def test_a_killed_action_server_is_restarted(runner: Runner) -> None:
    old, mark = runner.pid("actions"), runner.mark()
    os.kill(old, signal.SIGKILL)
    _restarted(runner, "actions", old, "was killed by SIGKILL", mark)


def test_a_hung_action_server_is_restarted(runner: Runner) -> None:
    old, mark = runner.pid("actions"), runner.mark()
    os.kill(old, signal.SIGSTOP)  # answers nothing, exits never
    _restarted(runner, "actions", old, r"failed its health check 2 times in a row \(timed out\)", mark)


def test_a_crashed_knowledge_worker_restarts_the_knowledge_service(runner: Runner) -> None:
    old, mark = runner.pid("knowledge"), runner.mark()
    workers = [p for p in _children(old) if "spawn_main" in _cmdline(p)]
    assert len(workers) == 2
    os.kill(workers[0], signal.SIGKILL)
    _restarted(runner, "knowledge", old, r"exited with code \d+", mark)
    assert not any(_alive(w) for w in workers)
    search = urllib.request.Request(runner.url("knowledge", "/search"), method="POST",
                                    data=json.dumps({"query": "đăng ký khai sinh", "k": 1}).encode(),
                                    headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(search, timeout=30) as resp:
        assert "khai sinh" in json.load(resp)["results"][0]["title"].lower()


def test_a_killed_redis_is_restarted(runner: Runner) -> None:
    if "redis" not in runner.children:
        pytest.skip("redis-server is not installed")
    old, mark = runner.pid("redis"), runner.mark()
    os.kill(old, signal.SIGKILL)
    _restarted(runner, "redis", old, "was killed by SIGKILL", mark)


def test_no_secret_and_no_address_in_the_runner_log(runner: Runner) -> None:
    text = runner.text()
    secrets = runner.secrets()
    assert secrets and all(len(v) >= 32 for v in secrets.values())
    leaked = [name for name, value in secrets.items() if value in text]
    assert leaked == []
    own = [line for line in text.splitlines() if line.startswith("[run] ")]
    assert len(own) >= 4 and not [line for line in own if "://" in line or "@" in line]


def test_two_sigterms_while_the_action_server_hangs_stop_everything(runner: Runner) -> None:
    pids = _descendants(runner.proc.pid)
    assert {runner.pid(name) for name in runner.children} <= pids
    os.kill(runner.pid("actions"), signal.SIGSTOP)  # hung, as in the issue
    mark = runner.mark()
    runner.proc.send_signal(signal.SIGTERM)
    runner.wait_line(r"\[run\] SIGTERM: stopping", mark)
    runner.proc.send_signal(signal.SIGTERM)  # what a supervisor sends when the first seems to do nothing
    if runner.proc.poll() is None:
        runner.proc.send_signal(signal.SIGINT)  # and a Ctrl-C on top
    assert runner.proc.wait(timeout=120) == 0
    assert runner.text().rstrip().endswith("[run] stopped")
    assert [p for p in pids if _alive(p)] == []
    assert [name for name, port in runner.ports.items() if not _port_free(port)] == []


def test_children_stop_when_the_runner_is_killed(tmp_path: Path, settings: Settings) -> None:
    r = start_runner(tmp_path, ("actions",), settings.index_dir)
    try:
        actions = r.pid("actions")
        r.proc.kill()  # no handler, no finally: only the kernel can tell the children
        r.proc.wait(timeout=10)
        _until(lambda: not _alive(actions), "the action server to exit after its runner")
        _until(lambda: _port_free(r.ports["actions"]), "the action server's port to be free")
    finally:
        _cleanup(r)


UNITS = ROOT / "deploy" / "systemd"


def test_every_unit_restarts_always_and_reads_the_env_file() -> None:
    units = sorted(UNITS.glob("dvc-*.service"))
    assert [u.name for u in units] == ["dvc-actions.service", "dvc-knowledge.service", "dvc-rasa-portal.service",
                                       "dvc-rasa.service", "dvc-redis.service"]
    for unit in units:
        lines = unit.read_text(encoding="utf-8").splitlines()
        name = unit.name.removeprefix("dvc-").removesuffix(".service")
        assert "Restart=always" in lines and "EnvironmentFile=/etc/dvc/dvc.env" in lines, unit.name
        assert f"ExecStart=/opt/dvc/.venv/bin/python -m scripts.stack exec {name}" in lines, unit.name


def test_the_units_are_valid_for_systemd(tmp_path: Path) -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    for unit in [*UNITS.glob("dvc-*.service"), UNITS / "dvc.target"]:  # as installed, with this checkout
        (tmp_path / unit.name).write_text(unit.read_text(encoding="utf-8").replace("/opt/dvc", str(ROOT)))
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", *sorted(map(str, tmp_path.iterdir()))],
                            capture_output=True, text=True, timeout=120)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_a_unit_runs_the_child_the_runner_runs(tmp_path: Path) -> None:
    """What ExecStart/ExecStartPost run, in the production posture: the process becomes the action
    server itself (the main PID systemd watches), and `wait` returns once it is ready."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in {*SECRETS.values(), *DEV_ONLY_SECRETS.values()}}
    env.update({"PYTHONPATH": str(ROOT), "DVC_ENVIRONMENT": "production",
                "DVC_PORTAL_ORIGINS": "https://dichvucong.example.gov.vn", "ACTIONS_PORT": str(port),
                "RASA_TRACKER_DB": str(tmp_path / "state" / "tracker.db"), "RASA_WORKERS": "1",
                **{var: f"{var.lower()}-{'x' * 32}" for var in SECRETS.values()}})
    stack = [sys.executable, "-m", "scripts.stack"]
    proc = subprocess.Popen([*stack, "exec", "actions"], cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        waited = subprocess.run([*stack, "wait", "actions", "--timeout", "120"], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=180)
        assert (waited.returncode, waited.stderr) == (0, "")
        assert "-m actions.server" in _cmdline(proc.pid)
        assert _get(f"http://127.0.0.1:{port}/health/ready") == (200, {"status": "ready"})
        assert (tmp_path / "state" / "endpoints.yml").is_file()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    missing = subprocess.run([*stack, "exec", "actions"], cwd=ROOT, capture_output=True, text=True, timeout=120,
                             env={**env, "ACTIONS_TOKEN": ""})
    assert missing.returncode == 2 and "ACTIONS_TOKEN" in missing.stderr


def test_the_runner_refuses_ports_that_something_already_answers(tmp_path: Path) -> None:
    """The issue: after orphans were left behind, the next start found an answering but dead stack."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**os.environ, "PYTHONPATH": str(ROOT), "DVC_RUN_CHILDREN": "actions", "ACTIONS_PORT": str(port),
               "RASA_WORKERS": "1", "RASA_TRACKER_DB": str(tmp_path / "state" / "tracker.db")}
        result = subprocess.run([sys.executable, str(ROOT / "scripts" / "run.py")], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert f"[run] could not start: port {port} (actions) is already in use: is another stack still running?" \
        in result.stderr.splitlines()


def test_the_knowledge_service_is_not_ready_before_its_index_is_loaded(settings: Settings, loaded: LoadedIndex) -> None:
    from fastapi.testclient import TestClient

    from knowledge.api.app import create_app
    from knowledge.api.deps import IndexHolder

    waiting = TestClient(create_app(settings, holder=IndexHolder(settings)))  # holder not started
    assert (waiting.get("/health/live").status_code, waiting.get("/health/live").json()) == (200, {"status": "ok"})
    assert (waiting.get("/health/ready").status_code, waiting.get("/health/ready").json()) == \
        (503, {"status": "not ready"})
    serving = TestClient(create_app(settings, holder=IndexHolder.serving(settings, loaded)))
    assert (serving.get("/health/ready").status_code, serving.get("/health/ready").json()) == \
        (200, {"status": "ready"})
