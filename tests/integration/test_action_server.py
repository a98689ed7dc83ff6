"""The action server as Rasa reaches it (the real process, python -m actions.server): only
calls with the token, no compressed bodies, bounded bodies, errors that echo nothing."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import threading
import zlib
from collections.abc import Iterator

import pytest

from scripts.stack import ROOT, free_port

TOKEN = "t" * 40


def _request(port: int, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None,
             ) -> tuple[int, dict[str, object]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers={"Content-Type": "application/json", **(headers or {})})
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read() or b"null")
    finally:
        conn.close()


@pytest.fixture(scope="module")
def server() -> Iterator[int]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ACTIONS_TOKEN": TOKEN, "ACTIONS_PORT": str(port),
           "ACTIONS_MAX_BODY_BYTES": "65536", "ACTIONS_KNOWLEDGE_URL": "http://127.0.0.1:9"}
    proc = subprocess.Popen([sys.executable, "-m", "actions.server"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert proc.stdout is not None
    for line in proc.stdout:  # wait for the event, not a delay
        if b"Worker ready" in line:
            break
    else:
        pytest.fail("action server did not start")
    threading.Thread(target=proc.stdout.read, daemon=True).start()  # keep the pipe drained
    yield port
    proc.terminate()
    proc.wait(timeout=10)


def call(action: str, text: str = "xin chao") -> bytes:
    return json.dumps({"next_action": action, "sender_id": "rest:x", "version": "3.6.21", "domain": {},
                       "tracker": {"sender_id": "rest:x", "slots": {}, "latest_message": {"text": text},
                                   "events": [], "active_loop": {}}}).encode()


def test_health_is_open(server: int) -> None:
    assert _request(server, "GET", "/health") == (200, {"status": "ok"})


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}])
def test_a_forged_action_call_is_refused(server: int, headers: dict[str, str]) -> None:
    assert _request(server, "POST", "/webhook", call("action_handover"), headers) == (401, {"error": "unauthorised"})


def test_a_deflate_bomb_is_refused_unread(server: int) -> None:
    bomb = zlib.compress(b"{" + b" " * 50_000_000 + b"}", 9)  # 50 MB once inflated, ~50 KB on the wire
    status, body = _request(server, "POST", "/webhook", bomb,
                            {"Authorization": f"Bearer {TOKEN}", "Content-Encoding": "deflate"})
    assert (status, body) == (415, {"error": "compressed bodies are not accepted"})
    assert _request(server, "GET", "/health")[0] == 200


def test_an_oversized_body_gets_413(server: int) -> None:
    status, _ = _request(server, "POST", "/webhook", b"[" + b"0," * 100_000 + b"0]",
                         {"Authorization": f"Bearer {TOKEN}"})
    assert status == 413


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"tracker": {}}'])
def test_a_malformed_call_is_a_clear_400(server: int, body: bytes) -> None:
    assert _request(server, "POST", "/webhook", body, {"Authorization": f"Bearer {TOKEN}"}) == (
        400, {"error": "invalid body"})


def test_an_unknown_action_names_only_the_action(server: int) -> None:
    status, body = _request(server, "POST", "/webhook", call("action_nope", "cccd 079203001234"),
                            {"Authorization": f"Bearer {TOKEN}"})
    assert status == 404 and body == {"error": "unknown action", "action_name": "action_nope"}


def test_the_action_server_refuses_to_start_without_its_token() -> None:
    env = {k: v for k, v in os.environ.items() if k != "ACTIONS_TOKEN"}
    result = subprocess.run([sys.executable, "-m", "actions.server"], cwd=ROOT, capture_output=True, text=True,
                            env={**env, "PYTHONPATH": str(ROOT), "ACTIONS_PORT": str(free_port())}, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip() == ("[actions] configuration error: ACTIONS_TOKEN must be set: the action server "
                                     "only answers Rasa (`make run` generates one in development)")
