"""End to end: the real Rasa server, action server and knowledge service, started on
free ports with the trained model, talked to through Rasa's REST channel."""

from __future__ import annotations

import json
import urllib.request
import uuid

import pytest

from scripts.stack import Stack

pytestmark = pytest.mark.e2e


def say(stack: Stack, text: str, sender: str | None = None) -> str:
    body = json.dumps({"sender": sender or uuid.uuid4().hex, "message": text}).encode()
    req = urllib.request.Request(f"{stack.config.rasa_url}/webhooks/rest/webhook", data=body,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        messages = json.loads(resp.read())
    return "\n".join(m.get("text", "") for m in messages)


@pytest.mark.parametrize("question", ["làm giấy khai sinh online thế nào", "lam giay khai sinh online the nao"])
def test_birth_registration_answered_in_both_spellings(stack: Stack, question: str) -> None:
    answer = say(stack, question)
    assert "Thủ tục đăng ký khai sinh" in answer
    assert "trực tuyến" in answer and "Các bước làm trực tuyến" in answer
    assert "https://dichvucong.gov.vn/" in answer
    assert "Nguồn:" in answer


def test_follow_up_fee_question_uses_the_context(stack: Stack) -> None:
    sender = uuid.uuid4().hex
    say(stack, "đổi bằng lái xe online thế nào", sender)
    answer = say(stack, "lệ phí bao nhiêu", sender)
    assert "Lệ phí «Đổi giấy phép lái xe»" in answer


def test_greeting_is_answered_in_vietnamese(stack: Stack) -> None:
    assert "Xin chào" in say(stack, "xin chao")


def test_dossier_status_asks_for_the_code_then_answers(stack: Stack) -> None:
    sender = uuid.uuid4().hex
    assert "mã hồ sơ" in say(stack, "tra cuu tinh trang ho so", sender)
    assert "chưa đúng định dạng" in say(stack, "123", sender)
    answer = say(stack, "G22.99.01-251120-0001", sender)
    assert "Trạng thái: Đã có kết quả" in answer


def test_dossier_code_in_the_first_message(stack: Stack) -> None:
    answer = say(stack, "hồ sơ G22.99.01-251118-0007 của tôi đến đâu rồi")
    assert "Trạng thái: Đang xử lý" in answer


def test_handover_is_recorded_and_office_hours_stated(stack: Stack) -> None:
    answer = say(stack, "cho toi gap can bo")
    assert "yêu cầu" in answer and ("giờ làm việc" in answer)


def test_knowledge_service_down_gives_the_apology(stack: Stack) -> None:
    stack.stop_child("knowledge")
    try:
        answer = say(stack, "lam giay khai sinh online the nao")
        assert "tạm thời gián đoạn" in answer
        assert "Traceback" not in answer
    finally:
        stack.restart_child("knowledge")
    assert "Thủ tục đăng ký khai sinh" in say(stack, "lam giay khai sinh online the nao")


def test_scaled_stack_spreads_turns_and_keeps_the_portal_on_its_own_process(stack: Stack) -> None:
    import http.client

    if not stack.config.scaled:
        pytest.skip("one Rasa process (no Redis on this machine)")
    names = [c.name for c in stack.children]
    assert "redis" in names and "rasa-portal" in names
    # The webhook workers close each connection after its answer (a free worker takes the next).
    conn = http.client.HTTPConnection("127.0.0.1", stack.config.rasa_port, timeout=60)
    conn.request("POST", "/webhooks/rest/webhook", body=json.dumps({"sender": uuid.uuid4().hex, "message": "xin chào"}),
                 headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    assert resp.status == 200 and "Xin chào" in json.loads(resp.read())[0]["text"]
    assert resp.getheader("Connection", "").lower() == "close"
    conn.close()
    # A conversation kept in the shared tracker store: a follow-up answered by whichever worker.
    sender = uuid.uuid4().hex
    say(stack, "xin phiếu lý lịch tư pháp", sender)
    assert "Lệ phí «" in say(stack, "het bao nhieu tien", sender)
    # The portal page points its widget at the portal's own Rasa process.
    with urllib.request.urlopen(f"{stack.config.knowledge_url}/", timeout=30) as page:
        html = page.read().decode()
    assert f'"rasaPort": {stack.config.rasa_portal_port}' in html
