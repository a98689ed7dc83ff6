"""The live handover in the console: taking a case (atomically), replying, closing, the call-back
list; with a fake of Rasa's HTTP API that records what the console asked of it."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from typing import Any, Optional

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from rasa_sdk import Tracker

from actions.handover import handover_reason
from knowledge.console import create_console
from knowledge.console.accounts import Accounts
from knowledge.console.db import ConsoleDB
from knowledge.console.handover import CLOSED_TEXT, live_messages
from knowledge.console.rasa import RasaHTTP, RasaUnavailable
from knowledge.desk import DeskStore
from knowledge.settings import Settings
from tests.integration import test_console
from tests.integration.test_console import OFFICER_PASSWORD, FakeClock, fast_hasher, login, page_csrf

OTHER = "canbo2"
TAKEN = "Cán bộ canbo đã nhận yêu cầu {ref} và sẽ trả lời bạn tại đây."
NO_RASA = ("Chưa kết nối được với trợ lý ảo nên chưa thực hiện được. Yêu cầu vẫn giữ nguyên trạng thái; "
           "vui lòng thử lại sau ít phút.")
TRANSCRIPT = [{"role": "user", "text": "lệ phí đổi bằng lái"}, {"role": "bot", "text": "Xin lỗi, tôi chưa hiểu."},
              {"role": "user", "text": "tôi muốn gặp cán bộ"}]


class FakeRasa:
    """Records the calls; ``down`` makes every call fail as an unreachable Rasa does."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, Optional[str], str]] = []
        self.tracker_events: list[dict[str, Any]] = []
        self.down = False

    def _record(self, kind: str, sender: str, channel: Optional[str], text: str) -> None:
        if self.down:
            raise RasaUnavailable()
        self.calls.append((kind, sender, channel, text))

    def pause(self, sender_id: str, channel: Optional[str], text: str) -> None:
        self._record("pause", sender_id, channel, text)

    def resume(self, sender_id: str, channel: Optional[str], text: str) -> None:
        self._record("resume", sender_id, channel, text)

    def say(self, sender_id: str, channel: Optional[str], text: str, officer: str) -> None:
        self._record("say", sender_id, channel, text)

    def events(self, sender_id: str, channel: Optional[str]) -> list[dict[str, Any]]:
        if self.down:
            raise RasaUnavailable()
        return self.tracker_events


settings = test_console.settings  # the same fixture: a desk file in tmp_path


@pytest.fixture
def rasa() -> FakeRasa:
    return FakeRasa()


@pytest.fixture
def desk(settings: Settings) -> DeskStore:
    return DeskStore(settings.desk_db)


def console_client(settings: Settings, rasa: Optional[FakeRasa]) -> TestClient:
    app = FastAPI()
    app.mount("/console", create_console(settings, clock=FakeClock(), hasher=fast_hasher(), rasa=rasa))
    return TestClient(app, follow_redirects=False)


@pytest.fixture
def clients(settings: Settings, rasa: FakeRasa) -> Iterator[tuple[TestClient, TestClient]]:
    accounts = Accounts(ConsoleDB(settings.desk_db), hasher=fast_hasher())
    accounts.create("canbo", OFFICER_PASSWORD, "officer")
    accounts.create(OTHER, OFFICER_PASSWORD, "officer")
    with console_client(settings, rasa) as first, console_client(settings, rasa) as second:
        login(first, "canbo", OFFICER_PASSWORD)
        login(second, OTHER, OFFICER_PASSWORD)
        yield first, second


def post(client: TestClient, ref: str, action: str, **fields: str) -> Any:
    token = page_csrf(client, f"/console/handovers/{ref}")
    return client.post(f"/console/handovers/{ref}/{action}", data={"csrf": token, **fields})


def error_of(resp: Any) -> str:
    found = re.search(r'<p class="error" role="alert">([^<]*)</p>', resp.text)
    return found.group(1) if found else ""


def status_of(resp: Any) -> str:
    found = re.search(r'<dd class="status">([^<]*)</dd>', resp.text)
    return found.group(1) if found else ""


# -- the case page -------------------------------------------------------------------------------

def test_case_page_shows_reason_transcript_and_last_answer(clients: tuple[TestClient, TestClient],
                                                           desk: DeskStore) -> None:
    created = desk.add_handover("web:abc", "socketio", True, TRANSCRIPT, reason="citizen_asked")
    first, _ = clients
    queue = first.get("/console/").text
    assert "<td>Người dân yêu cầu gặp cán bộ</td>" in queue
    assert f'<a href="/console/handovers/{created.ref}">Xem yêu cầu {created.ref}</a>' in queue
    page = first.get(f"/console/handovers/{created.ref}")
    assert page.status_code == 200 and status_of(page) == "Đang chờ"
    assert '<dd class="reason">Người dân yêu cầu gặp cán bộ</dd>' in page.text
    assert '<dd class="last-answer">Xin lỗi, tôi chưa hiểu.</dd>' in page.text
    assert '<li class="user"><strong>Người dân:</strong> tôi muốn gặp cán bộ</li>' in page.text
    assert "<button type=\"submit\">Nhận yêu cầu này</button>" in page.text


def test_unknown_case_is_404(clients: tuple[TestClient, TestClient]) -> None:
    resp = clients[0].get("/console/handovers/HT-22222222")
    assert resp.status_code == 404 and "<p>Không có yêu cầu này.</p>" in resp.text


# -- take, reply, close ----------------------------------------------------------------------------

def test_take_reply_close(clients: tuple[TestClient, TestClient], desk: DeskStore, rasa: FakeRasa) -> None:
    ref = desk.add_handover("fb:42", "facebook", True, TRANSCRIPT).ref
    first, _ = clients
    taken = post(first, ref, "take")
    assert taken.status_code == 303 and taken.headers["location"] == f"/console/handovers/{ref}?m=taken"
    assert rasa.calls == [("pause", "fb:42", "facebook", TAKEN.format(ref=ref))]
    handover = desk.handover(ref)
    assert handover is not None and handover.status == "taken" and handover.officer == "canbo"

    rasa.tracker_events = [{"event": "user", "text": "trước"}, {"event": "pause"},
                           {"event": "bot", "text": TAKEN.format(ref=ref), "metadata": {"console": True}},
                           {"event": "user", "text": "số CCCD của tôi là ***"}]
    page = first.get(f"/console/handovers/{ref}?m=taken")
    assert "Bạn đã nhận yêu cầu. Trợ lý ảo đã tạm dừng trong cuộc trò chuyện này." in page.text
    assert status_of(page) == "Đang xử lý (cán bộ canbo)"
    assert "<li><strong>Người dân:</strong> số CCCD của tôi là ***</li>" in page.text
    assert "<strong>Người dân:</strong> trước" not in page.text

    sent = post(first, ref, "reply", text="  Bạn mang theo giấy phép lái xe cũ nhé.  ")
    assert sent.status_code == 303 and sent.headers["location"] == f"/console/handovers/{ref}?m=sent"
    assert rasa.calls[-1] == ("say", "fb:42", "facebook", "Cán bộ canbo: Bạn mang theo giấy phép lái xe cũ nhé.")

    closed = post(first, ref, "close")
    assert closed.status_code == 303 and closed.headers["location"] == f"/console/handovers/{ref}?m=closed"
    assert rasa.calls[-1] == ("resume", "fb:42", "facebook", CLOSED_TEXT)
    handover = desk.handover(ref)
    assert handover is not None and handover.status == "closed" and handover.closed_at
    assert ref not in first.get("/console/").text


def test_a_case_taken_is_not_taken_again(clients: tuple[TestClient, TestClient], desk: DeskStore,
                                         rasa: FakeRasa) -> None:
    ref = desk.add_handover("zalo:7", "zalo", True, []).ref
    first, second = clients
    assert post(first, ref, "take").status_code == 303
    again = post(second, ref, "take")
    assert again.status_code == 409 and error_of(again) == "Yêu cầu này đã có cán bộ khác nhận."
    assert [c[0] for c in rasa.calls] == ["pause"]
    for action, fields in (("reply", {"text": "xin chào"}), ("close", {})):
        refused = post(second, ref, action, **fields)
        assert refused.status_code == 403
        assert error_of(refused) == "Chỉ cán bộ đã nhận yêu cầu mới trả lời hoặc kết thúc được yêu cầu này."
    assert [c[0] for c in rasa.calls] == ["pause"]
    handover = desk.handover(ref)
    assert handover is not None and handover.status == "taken" and handover.officer == "canbo"


def test_concurrent_takes_give_the_case_to_exactly_one_officer(settings: Settings, desk: DeskStore) -> None:
    ref = desk.add_handover("web:x", "socketio", True, []).ref
    officers = [f"canbo{i}" for i in range(8)]
    barrier = threading.Barrier(len(officers))
    results: dict[str, bool] = {}

    def attempt(officer: str) -> None:
        store = DeskStore(settings.desk_db)  # each officer's request has its own connection
        barrier.wait()
        results[officer] = store.take(ref, officer)

    threads = [threading.Thread(target=attempt, args=(o,)) for o in officers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [o for o, won in results.items() if won]
    assert len(results) == len(officers) and len(winners) == 1
    handover = desk.handover(ref)
    assert handover is not None and handover.officer == winners[0]


def test_rasa_down_leaves_the_case_in_the_queue(clients: tuple[TestClient, TestClient], desk: DeskStore,
                                                rasa: FakeRasa) -> None:
    ref = desk.add_handover("web:y", "socketio", True, []).ref
    rasa.down = True
    resp = post(clients[0], ref, "take")
    assert resp.status_code == 503 and error_of(resp) == NO_RASA
    handover = desk.handover(ref)
    assert handover is not None and handover.status == "open" and handover.officer is None
    rasa.down = False
    assert post(clients[0], ref, "take").status_code == 303
    rasa.down = True
    assert post(clients[0], ref, "close").status_code == 503
    handover = desk.handover(ref)
    assert handover is not None and handover.status == "taken"  # not closed while the bot is still paused


@pytest.mark.parametrize("text, error", [("   ", "Vui lòng nhập nội dung trả lời."),
                                         ("a" * 2001, "Nội dung trả lời dài quá 2000 ký tự.")])
def test_reply_must_be_text_of_a_sensible_length(clients: tuple[TestClient, TestClient], desk: DeskStore,
                                                 rasa: FakeRasa, text: str, error: str) -> None:
    ref = desk.add_handover("web:z", "socketio", True, []).ref
    post(clients[0], ref, "take")
    resp = post(clients[0], ref, "reply", text=text)
    assert resp.status_code == 400 and error_of(resp) == error
    assert [c[0] for c in rasa.calls] == ["pause"]


def test_without_rasa_token_no_case_can_be_taken(settings: Settings, desk: DeskStore) -> None:
    Accounts(ConsoleDB(settings.desk_db), hasher=fast_hasher()).create("canbo", OFFICER_PASSWORD, "officer")
    ref = desk.add_handover("web:q", "socketio", True, []).ref
    with console_client(settings, None) as client:
        login(client, "canbo", OFFICER_PASSWORD)
        page = client.get(f"/console/handovers/{ref}").text
        assert "chưa kết nối với trợ lý ảo (chưa đặt RASA_API_TOKEN)" in page
        assert post(client, ref, "take").status_code == 503


# -- authorisation: login and CSRF on every POST ----------------------------------------------------

POSTS = ["/handovers/{ref}/take", "/handovers/{ref}/reply", "/handovers/{ref}/close", "/callbacks/{ref}"]


@pytest.mark.parametrize("path", POSTS)
def test_every_post_needs_the_sessions_csrf_token(clients: tuple[TestClient, TestClient], desk: DeskStore,
                                                  rasa: FakeRasa, path: str) -> None:
    ref = desk.add_handover("web:c", "socketio", False, []).ref
    desk.set_contact(ref, "web:c", True, "0912345678")
    first, _ = clients
    for data in ({}, {"csrf": "doan-bua", "text": "x", "status": "called"}):
        resp = first.post("/console" + path.format(ref=ref), data=data)
        assert resp.status_code == 403 and "<h1>Không được phép</h1>" in resp.text
    assert rasa.calls == []
    handover = desk.handover(ref)
    assert handover is not None and handover.status == "open" and handover.callback_status == "not_called"


@pytest.mark.parametrize("path", POSTS)
def test_no_post_without_login(settings: Settings, desk: DeskStore, rasa: FakeRasa, path: str) -> None:
    ref = desk.add_handover("web:d", "socketio", True, []).ref
    with console_client(settings, rasa) as anonymous:
        resp = anonymous.post("/console" + path.format(ref=ref), data={"csrf": "x", "status": "called"})
    assert resp.status_code == 401 and "<h1>Chưa đăng nhập</h1>" in resp.text and rasa.calls == []


@pytest.mark.parametrize("path", ["/handovers/HT-22222222", "/callbacks"])
def test_no_page_without_login(settings: Settings, rasa: FakeRasa, path: str) -> None:
    with console_client(settings, rasa) as anonymous:
        resp = anonymous.get("/console" + path)
    assert resp.status_code == 303 and resp.headers["location"] == "/console/login"


# -- the call-back list ---------------------------------------------------------------------------

def test_callback_list_and_its_status(clients: tuple[TestClient, TestClient], desk: DeskStore) -> None:
    consented = desk.add_handover("fb:1", "facebook", False, []).ref
    desk.set_contact(consented, "fb:1", True, "0912345678")
    declined = desk.add_handover("fb:2", "facebook", False, []).ref
    desk.set_contact(declined, "fb:2", False, "0987654321")
    inside = desk.add_handover("fb:3", "facebook", True, []).ref
    first, _ = clients
    page = first.get("/console/callbacks").text
    assert '<td class="contact">0912345678</td>' in page
    assert declined not in page and inside not in page and "0987654321" not in page
    assert '<option value="not_called" selected>Chưa gọi</option>' in page
    token = page_csrf(first, "/console/callbacks")
    saved = first.post(f"/console/callbacks/{consented}", data={"csrf": token, "status": "unreachable"})
    assert saved.status_code == 303 and saved.headers["location"] == "/console/callbacks?m=saved"
    page = first.get("/console/callbacks?m=saved").text
    assert "Đã lưu trạng thái gọi lại." in page
    assert '<option value="unreachable" selected>Không liên lạc được</option>' in page
    for ref, status in ((consented, "gọi rồi"), (declined, "called"), (inside, "called")):
        bad = first.post(f"/console/callbacks/{ref}", data={"csrf": token, "status": status})
        assert bad.status_code == 400 and error_of(bad) == "Không lưu được trạng thái này."


# -- the pieces -------------------------------------------------------------------------------------

def test_live_messages_are_those_after_the_last_pause() -> None:
    events: list[dict[str, Any]] = [
        {"event": "user", "text": "a"}, {"event": "pause"}, {"event": "user", "text": "b"},
        {"event": "bot", "text": "Cán bộ lan: c", "metadata": {"officer": "lan"}}, {"event": "resume"},
        {"event": "bot", "text": "d"}, {"event": "action", "name": "action_listen"}]
    assert live_messages(events) == [{"who": "Người dân", "text": "b"}, {"who": "Cán bộ", "text": "Cán bộ lan: c"},
                                     {"who": "Trợ lý ảo", "text": "d"}]


def test_rasa_http_appends_events_with_the_conversations_output_channel() -> None:
    seen: list[tuple[str, str, dict[str, str], Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        seen.append((request.method, f"{request.url.host}:{request.url.port}{request.url.path}",
                     dict(request.url.params), body))
        return httpx.Response(200, json={"events": [{"event": "user", "text": "x"}]})

    link = RasaHTTP("tok", portal_port=5006, api_port=5005, transport=httpx.MockTransport(handler))
    link.say("web:abc", "socketio", "Cán bộ lan: chào bạn", "lan")
    link.pause("fb:1", "facebook", "đã nhận")
    assert link.events("zalo:9", "zalo") == [{"event": "user", "text": "x"}]
    side = {"execute_side_effects": "true", "token": "tok"}
    assert seen == [
        ("POST", "127.0.0.1:5006/conversations/web:abc/tracker/events", {**side, "output_channel": "socketio"},
         [{"event": "bot", "text": "Cán bộ lan: chào bạn", "metadata": {"officer": "lan"}}]),
        ("POST", "127.0.0.1:5005/conversations/fb:1/tracker/events", {**side, "output_channel": "facebook"},
         [{"event": "pause"}, {"event": "bot", "text": "đã nhận", "metadata": {"console": True}}]),
        ("GET", "127.0.0.1:5005/conversations/zalo:9/tracker", {"include_events": "ALL", "token": "tok"}, None),
    ]


def test_rasa_http_errors_are_rasa_unavailable() -> None:
    refused = RasaHTTP("tok", 1, 2, transport=httpx.MockTransport(lambda r: httpx.Response(401, json={})))
    with pytest.raises(RasaUnavailable):
        refused.resume("web:a", "socketio", "x")

    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    with pytest.raises(RasaUnavailable):
        RasaHTTP("tok", 1, 2, transport=httpx.MockTransport(unreachable)).events("web:a", "socketio")


def _tracker(intent: str, intents: list[str]) -> Tracker:
    events = [{"event": "user", "text": "x", "parse_data": {"intent": {"name": name}}} for name in intents]
    return Tracker("s", {}, {"intent": {"name": intent}}, events, False, None, {}, None)


@pytest.mark.parametrize("intent, intents, reason", [
    ("request_human", ["nlu_fallback", "request_human"], "citizen_asked"),
    ("nlu_fallback", ["greet", "nlu_fallback", "nlu_fallback"], "repeated_fallback"),
    ("affirm", ["greet", "nlu_fallback", "affirm"], "other"),
])
def test_handover_reason(intent: str, intents: list[str], reason: str) -> None:
    assert handover_reason(_tracker(intent, intents)) == reason


def test_desk_records_the_reason_and_refuses_unknown_ones(desk: DeskStore) -> None:
    created = desk.add_handover("web:r", "socketio", True, [], reason="repeated_fallback")
    odd = desk.add_handover("web:s", "socketio", True, [], reason="bịa ra")
    assert [(h.ref, h.reason) for h in (desk.handover(created.ref), desk.handover(odd.ref)) if h] == [
        (created.ref, "repeated_fallback"), (odd.ref, "other")]
