"""The multi-worker knowledge service (``python -m knowledge serve``): real processes on a
free port, keep-alive connections spread evenly over the workers, clean shutdown."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.httpload import Connection
from knowledge.settings import Settings

ROOT = Path(__file__).resolve().parent.parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(settings: Settings, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "KNOWLEDGE_HOST": "127.0.0.1", "KNOWLEDGE_PORT": str(port),
           "KNOWLEDGE_INDEX_DIR": str(settings.index_dir), "KNOWLEDGE_DESK_DB": str(settings.desk_db),
           "KNOWLEDGE_DEMO_ONESTOP_DB": str(settings.demo_onestop_db), "HF_HUB_OFFLINE": "1"}
    return subprocess.Popen([sys.executable, "-m", "knowledge", "serve", "--workers", str(workers),
                             "--log-level", "warning"], cwd=ROOT, env=env, stderr=subprocess.PIPE)


def _wait_health(proc: subprocess.Popen[bytes], port: int, timeout: float = 180) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else "exited"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as resp:
                health: dict[str, object] = json.load(resp)
                return health
        except OSError:
            time.sleep(0.3)
    raise TimeoutError("knowledge service did not answer")


def _workers(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            if "spawn_main" in Path(f"/proc/{p}/cmdline").read_bytes().decode(errors="replace")]


def _established_to(port: int, pid: int) -> int:
    """Established TCP connections on the service's port held by this process."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            f = line.split()
            if f[3] == "01" and int(f[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f[9])
    held = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:[") and target[8:-1] in inodes:
            held += 1
    return held


@pytest.fixture(scope="module")
def service(settings: Settings, loaded: object) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    port = _free_port()
    proc = _start(settings, port, workers=2)
    try:
        _wait_health(proc, port)
        yield proc, port
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=30)


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_keep_alive_connections_are_spread_evenly_over_the_workers(
        service: tuple[subprocess.Popen[bytes], int]) -> None:
    proc, port = service
    workers = _workers(proc.pid)
    assert len(workers) == 2
    # Earlier connections (the health check) must be closed on the workers' side first, or their
    # late close reports move the least-busy choice during the burst (seen on a loaded machine).
    deadline = time.monotonic() + 30
    while any(_established_to(port, w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.05)

    async def scenario() -> tuple[list[dict[str, object]], list[int]]:
        conns = [Connection("127.0.0.1", port) for _ in range(8)]
        answers = await asyncio.gather(*[c.post_json("/search", {"query": "lam lai cccd", "k": 1}) for c in conns])
        held = [_established_to(port, w) for w in workers]  # while the 8 connections are still open
        for c in conns:
            await c.close()
        return [json.loads(body) for status, body in answers if status == 200], held

    bodies, held = asyncio.run(scenario())
    assert len(bodies) == 8 and all(b["results"][0]["kind"] == "procedure" for b in bodies)  # type: ignore[index]
    assert held == [4, 4]


def test_errors_keep_their_meaning_through_the_workers(service: tuple[subprocess.Popen[bytes], int]) -> None:
    _, port = service

    async def scenario() -> list[tuple[int, bytes]]:
        conn = Connection("127.0.0.1", port)
        try:
            return [await conn.post_json("/search", {"query": "   "}),
                    await conn.post_json("/search", {"query": "đăng ký khai sinh", "k": 2})]
        finally:
            await conn.close()

    (blank_status, blank_body), (ok_status, ok_body) = asyncio.run(scenario())
    assert blank_status == 422 and "empty" in json.loads(blank_body)["detail"]
    assert ok_status == 200 and json.loads(ok_body)["results"][0]["id"] == "1.001193"


def test_sigterm_stops_the_supervisor_and_every_worker(settings: Settings, loaded: object) -> None:
    port = _free_port()
    proc = _start(settings, port, workers=2)
    _wait_health(proc, port)
    workers = _workers(proc.pid)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    time.sleep(0.5)
    assert not [w for w in workers if Path(f"/proc/{w}").exists() and
                "Z" not in Path(f"/proc/{w}/stat").read_text().split()[2]]


def test_a_dead_worker_stops_the_service_with_an_error(settings: Settings, loaded: object) -> None:
    port = _free_port()
    proc = _start(settings, port, workers=2)
    _wait_health(proc, port)
    os.kill(_workers(proc.pid)[0], signal.SIGKILL)
    assert proc.wait(timeout=30) != 0
    assert proc.stderr is not None and b"exited with code" in proc.stderr.read()


def test_a_taken_port_is_a_clear_error(settings: Settings, loaded: object) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        proc = _start(settings, port, workers=2)
        assert proc.wait(timeout=60) != 0
        assert proc.stderr is not None and b"cannot listen on 127.0.0.1" in proc.stderr.read()


def test_a_broken_knowledge_base_is_a_clear_error_not_a_traceback(settings: Settings, tmp_path: Path) -> None:
    broken = tmp_path / "data"
    (broken / "procedures").mkdir(parents=True)
    (broken / "procedures" / "bad.yaml").write_text("- id: x\n  name: [unclosed\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "KNOWLEDGE_HOST": "127.0.0.1", "KNOWLEDGE_PORT": str(_free_port()),
           "KNOWLEDGE_DATA_DIR": str(broken), "KNOWLEDGE_INDEX_DIR": str(tmp_path / "index"), "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run([sys.executable, "-m", "knowledge", "serve", "--workers", "2", "--log-level", "warning"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert "knowledge service:" in proc.stderr and "Traceback" not in proc.stderr
