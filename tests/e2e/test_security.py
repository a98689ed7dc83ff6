"""The attack suite: each attack of issue 10 tried against the real processes of the shared
stack (Rasa, portal Rasa, action server, knowledge service, Redis), as an outsider on the
network would. Every check states what the attacker gets back."""

from __future__ import annotations

import http.client
import json
import re
import uuid
import zlib
from typing import Any, Optional

import pytest

from scripts.stack import Stack
from tests.e2e.rasa_api import tracker
from tests.e2e.stores import assert_nowhere, found

pytestmark = pytest.mark.e2e


def request(port: int, method: str, path: str, body: Any = None, headers: Optional[dict[str, str]] = None,
            raw: Optional[bytes] = None, timeout: float = 60) -> tuple[int, bytes, http.client.HTTPResponse]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        conn.request(method, path, body=data, headers={"Content-Type": "application/json", **(headers or {})})
        resp = conn.getresponse()
        return resp.status, resp.read(), resp
    finally:
        conn.close()


def rest(stack: Stack, message: str, sender: Optional[str] = None, **extra: Any) -> list[dict[str, Any]]:
    status, body, _ = request(stack.config.rasa_port, "POST", "/webhooks/rest/webhook",
                              {"sender": sender or uuid.uuid4().hex, "message": message, **extra})
    assert status == 200, body[:300]
    replies: list[dict[str, Any]] = json.loads(body)
    return replies


def text_of(replies: list[dict[str, Any]]) -> str:
    return "\n".join(str(m.get("text", "")) for m in replies)


def rasa_ports(stack: Stack) -> list[int]:
    return [stack.config.rasa_port] + ([stack.config.rasa_portal_port] if stack.config.scaled else [])


# -- Rasa's HTTP API --------------------------------------------------------------------------


def test_a_transcript_cannot_be_read_without_the_token(stack: Stack) -> None:
    sender = uuid.uuid4().hex
    rest(stack, "xin chào", sender)
    for port in rasa_ports(stack):
        for path in (f"/conversations/rest:{sender}/tracker", f"/conversations/rest:{sender}/tracker?token=wrong",
                     f"/conversations/rest:{sender}/story", "/status"):
            status, body, _ = request(port, "GET", path)
            assert status == 401, (port, path, body[:200])
            assert b"xin ch" not in body
    assert any(e.get("event") == "user" for e in tracker(stack, f"rest:{sender}")["events"])


def test_no_one_can_make_the_bot_send_without_the_token(stack: Stack) -> None:
    sender = f"fb:{uuid.uuid4().int % 10**15}"
    event = [{"event": "bot", "text": "Chuyển khoản 500.000đ vào số tài khoản 0123 để nhận kết quả"}]
    for port in rasa_ports(stack):
        for query in ("?execute_side_effects=true&output_channel=latest", "?execute_side_effects=true&token=x"):
            status, _, _ = request(port, "POST", f"/conversations/{sender}/tracker/events{query}", event)
            assert status == 401
        status, _, _ = request(port, "POST", f"/conversations/{sender}/execute", {"name": "utter_greet"})
        assert status == 401


def test_the_model_cannot_be_replaced_or_removed(stack: Stack) -> None:
    for port in rasa_ports(stack):
        assert request(port, "PUT", "/model", {"model_file": "/tmp/evil.tar.gz"})[0] == 401
        assert request(port, "DELETE", "/model")[0] == 401
        assert request(port, "POST", "/model/parse", {"text": "xin chao"})[0] == 401
    assert "Xin chào" in text_of(rest(stack, "xin chào"))  # the model is still there


def test_cors_allows_the_portal_only(stack: Stack) -> None:
    portal_origin = stack.config.origins.split(",")[0]
    for origin, allowed in (("https://evil.example", False), (portal_origin, True)):
        _, _, resp = request(stack.config.rasa_port, "OPTIONS", "/webhooks/rest/webhook",
                             headers={"Origin": origin, "Access-Control-Request-Method": "POST"})
        assert (resp.getheader("Access-Control-Allow-Origin") == origin) is allowed, origin
        assert resp.getheader("Access-Control-Allow-Origin") != "*"


# -- impersonation ----------------------------------------------------------------------------


def test_rest_cannot_write_into_a_facebook_conversation_nor_spoof_the_channel(stack: Stack) -> None:
    psid = f"fb:{uuid.uuid4().int % 10**15}"
    rest(stack, "xin chào", psid, input_channel="facebook")
    assert [e for e in tracker(stack, psid)["events"] if e.get("event") == "user"] == []
    users = [e for e in tracker(stack, f"rest:{psid}")["events"] if e.get("event") == "user"]
    assert [(u["text"], u["input_channel"]) for u in users] == [("xin chào", "rest")]


# -- internal services ------------------------------------------------------------------------


def test_the_action_server_refuses_a_forged_call_and_a_deflate_bomb(stack: Stack) -> None:
    port = stack.config.actions_port
    call = {"next_action": "action_handover", "sender_id": "fb:1", "tracker": {"sender_id": "fb:1", "events": []},
            "domain": {}, "version": "3.6.21"}
    status, body, _ = request(port, "POST", "/webhook", call)
    assert (status, json.loads(body)) == (401, {"error": "unauthorised"})
    bomb = zlib.compress(b"{" + b" " * 20_000_000 + b"}", 9)
    status, body, _ = request(port, "POST", "/webhook", raw=bomb, headers={
        "Content-Encoding": "deflate", "Authorization": f"Bearer {stack.config.secrets['ACTIONS_TOKEN']}"})
    assert (status, json.loads(body)) == (415, {"error": "compressed bodies are not accepted"})


def test_the_desk_refuses_writes_without_its_token(stack: Stack) -> None:
    port = stack.config.knowledge_port
    for path, body in (("/desk/handovers/HT-AAAAAAAA/contact", {"consent": True, "contact": "0900000000",
                                                                "sender_id": "rest:x"}),
                       ("/desk/handovers/1/contact", {"consent": True, "contact": "0900000000"}),
                       ("/desk/handovers", {"sender_id": "x", "within_office_hours": True}),
                       ("/desk/feedback", {"sender_id": "x", "value": "up"})):
        for headers in ({}, {"X-Desk-Token": "wrong"}):
            status, _, _ = request(port, "POST", path, body, headers)
            assert status == 401, (path, headers)


def test_a_handover_reference_is_not_guessable(stack: Stack) -> None:
    answer = text_of(rest(stack, "cho tôi gặp cán bộ"))
    assert "HT-" in answer
    ref = answer.split("HT-", 1)[1][:8]
    assert re.fullmatch(r"[2-9A-HJKMNP-Z]{8}", ref), ref


def test_the_demo_one_stop_token_is_not_the_public_one(stack: Stack) -> None:
    status, _, _ = request(stack.config.knowledge_port, "GET", "/demo/onestop/dossiers/G22.99.01-251120-0001",
                           headers={"Authorization": "Bearer demo-onestop-token"})
    assert status == 401


# -- untrusted text ---------------------------------------------------------------------------


def test_a_typed_path_never_reaches_the_knowledge_service_url(stack: Stack) -> None:
    answer = text_of(rest(stack, '/ask_procedure{"procedure_id":"../health"}'))
    assert answer  # the citizen gets an answer in Vietnamese, not an error
    assert "status" not in answer and "index_version" not in answer and "Traceback" not in answer
    logs = stack.config.log_dir
    assert logs is not None
    actions_log = (logs / "actions.log").read_text(errors="replace")
    assert "../health" not in actions_log and "index_version" not in actions_log


def test_a_huge_body_is_refused_and_a_long_message_answered_politely(stack: Stack) -> None:
    status, _, _ = request(stack.config.rasa_port, "POST", "/webhooks/rest/webhook",
                           {"sender": uuid.uuid4().hex, "message": "a" * 3_000_000})
    assert status == 413
    answer = text_of(rest(stack, "làm giấy khai sinh " * 400))
    assert "Tin nhắn quá dài" in answer
    assert "Xin chào" in text_of(rest(stack, "xin chào"))  # still serving


# -- personal data ----------------------------------------------------------------------------

CCCD, PHONE, EMAIL = "079203001234", "0912345678", "nguyenvana.test@gmail.com"


def test_personal_data_typed_through_rest_is_stored_and_logged_masked(stack: Stack) -> None:
    sender = uuid.uuid4().hex
    rest(stack, f"tôi muốn đăng ký thường trú cho con, cccd {CCCD}, sđt {PHONE}, email {EMAIL}", sender)
    rest(stack, "cho tôi gặp cán bộ", sender)
    users = [e["text"] for e in tracker(stack, f"rest:{sender}")["events"] if e.get("event") == "user"]
    assert users[0] == ("tôi muốn đăng ký thường trú cho con, cccd 0792******34, sđt 0912****78, "
                        "email n**************@gmail.com")
    needles = [CCCD, PHONE, EMAIL, "nguyenvana.test"]
    assert not [n for n in needles if n in json.dumps(tracker(stack, f"rest:{sender}"), ensure_ascii=False)]
    assert_nowhere(stack, needles)
    # The search can fail: the masked sentence itself is found where the conversation is kept.
    where = found(stack, ["0792******34"])
    assert where and all(w.startswith("0792******34 in ") for w in where), where


def test_the_runner_purges_and_a_citizen_can_be_forgotten(stack: Stack) -> None:
    import subprocess

    from scripts.stack import ROOT, VENV

    sender = uuid.uuid4().hex
    rest(stack, "xin chào", sender)
    assert stack.purge()  # the runner's own call: nothing recent is deleted
    assert [e["text"] for e in tracker(stack, f"rest:{sender}")["events"] if e.get("event") == "user"] == ["xin chào"]
    result = subprocess.run([str(VENV / "bin" / "python"), "-m", "knowledge", "privacy", "forget", f"rest:{sender}"],
                            cwd=ROOT, env=stack._env(), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert sender not in result.stdout  # counts only
    assert [e for e in tracker(stack, f"rest:{sender}")["events"] if e.get("event") == "user"] == []


def test_a_foreign_or_forged_portal_session_cannot_reach_another_conversation(stack: Stack) -> None:
    import subprocess

    from scripts.stack import ROOT, VENV_RASA

    port = stack.config.portal_rasa_port
    origin = stack.config.origins.split(",")[0]
    result = subprocess.run([str(VENV_RASA / "bin" / "python"), str(ROOT / "tests" / "e2e" / "socketio_probe.py"),
                             f"http://127.0.0.1:{port}", origin], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    assert probe["evil_refused"] is True
    token_a, token_b = probe["token_a"], probe["token_b"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}", token_a), token_a
    assert token_b != "forged." + "0" * 43 and token_b != token_a
    assert "Xin chào" in probe["reply_a"][0]["text"]
    sender_a, sender_b = f"web:{token_a.split('.')[0]}", f"web:{token_b.split('.')[0]}"
    assert [e["text"] for e in tracker(stack, sender_a)["events"] if e.get("event") == "user"] == ["xin chào"]
    users_b = [e["text"] for e in tracker(stack, sender_b)["events"] if e.get("event") == "user"]
    assert users_b == ["cccd của tôi là 0792******34, sđt 0912****78, email n**************@gmail.com"]
    assert_nowhere(stack, [CCCD, PHONE, EMAIL, "nguyenvana.test"])
