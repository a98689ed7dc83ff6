"""Dossier status, handover and feedback actions, offline, against the real knowledge
service app (which also serves the demo one-stop system) in-process."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.dossier import ActionDossierStatus, ValidateDossierStatusForm
from actions.feedback import ActionFeedback
from actions.handover import ActionHandover, ActionSaveHandoverContact, valid_contact, within_office_hours
from actions.knowledge_client import KnowledgeClient
from actions.onestop_client import Dossier, OneStopClient, find_dossier_code
from actions.settings import ActionSettings
from bot.texts import NOT_AVAILABLE
from knowledge.api.app import create_app
from knowledge.api.deps import IndexHolder
from knowledge.service import LoadedIndex
from knowledge.settings import Settings

DESK_TOKEN = "desk-token-of-the-action-flow-tests"
ACTION_SETTINGS = ActionSettings(knowledge_url="http://knowledge", onestop_url="http://knowledge/demo/onestop",
                                 onestop_token="demo-onestop-token", desk_token=DESK_TOKEN)
NO_ONESTOP = ActionSettings(knowledge_url="http://knowledge", onestop_url=None, onestop_token=None,
                            desk_token=DESK_TOKEN)
HANOI = dt.timezone(dt.timedelta(hours=7))
REF = re.compile(r"^HT-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{8}$")


@pytest.fixture(scope="module")
def service(settings: Settings, loaded: LoadedIndex, tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    own = settings.model_copy(update={"desk_token": DESK_TOKEN, "desk_db": tmp_path_factory.mktemp("flows") / "d.db"})
    return create_app(own, holder=IndexHolder.serving(own, loaded))


@pytest.fixture(scope="module")
def transport(service: FastAPI) -> httpx.ASGITransport:
    return httpx.ASGITransport(app=service)


def recorded(requests: list[httpx.Request], reply: httpx.Response) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return reply
    return httpx.MockTransport(handler)


def make_tracker(text: str, intent: str, slots: dict[str, Any] | None = None,
                 entities: list[dict[str, Any]] | None = None, events: list[dict[str, Any]] | None = None) -> Tracker:
    return Tracker("citizen-x", slots or {}, {"text": text, "intent": {"name": intent}, "entities": entities or []},
                   events or [], False, None, {}, "action_listen")


def texts(dispatcher: CollectingDispatcher) -> str:
    return "\n".join(m.get("text") or "" for m in dispatcher.messages)


def test_dossier_code_shapes() -> None:
    assert find_dossier_code("ma hs cua toi la g22.99.01-251120-0001 nhe") == "G22.99.01-251120-0001"
    assert find_dossier_code("1588/QĐ-TTg") is None
    assert find_dossier_code("G22.99.01-251320-0001") is None  # month 13


async def test_form_rejects_a_malformed_code_with_help() -> None:
    dispatcher = CollectingDispatcher()
    result = await ValidateDossierStatusForm().validate_dossier_code("123456", dispatcher, make_tracker("x", "x"), {})
    assert result == {"dossier_code": None}
    assert "chưa đúng định dạng" in texts(dispatcher) and "phiếu hẹn" in texts(dispatcher)


async def test_status_of_a_known_dossier(transport: httpx.ASGITransport) -> None:
    action = ActionDossierStatus(OneStopClient(ACTION_SETTINGS, transport=transport))
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, make_tracker("x", "ask_dossier_status",
                                                       {"dossier_code": "G22.99.02-251110-0003"}), {})
    text = texts(dispatcher)
    assert "Trạng thái: Chờ bổ sung hồ sơ" in text and "Ngày tiếp nhận: 10/11/2025" in text
    assert "tải lên giấy tờ được yêu cầu" in text
    assert SlotSet("dossier_code", None) in events


async def test_unknown_dossier_and_system_down(transport: httpx.ASGITransport) -> None:
    dispatcher = CollectingDispatcher()
    await ActionDossierStatus(OneStopClient(ACTION_SETTINGS, transport=transport)).run(
        dispatcher, make_tracker("x", "x", {"dossier_code": "G22.99.01-251120-9999"}), {})
    assert "Không tìm thấy hồ sơ có mã G22.99.01-251120-9999" in texts(dispatcher)

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("timeout", request=request)

    dispatcher = CollectingDispatcher()
    await ActionDossierStatus(OneStopClient(ACTION_SETTINGS, transport=httpx.MockTransport(refuse))).run(
        dispatcher, make_tracker("x", "x", {"dossier_code": "G22.99.01-251120-0001"}), {})
    assert "hệ thống một cửa đang tạm thời không tra cứu được" in texts(dispatcher)
    assert "Timeout" not in texts(dispatcher)


async def test_without_a_one_stop_system_the_citizen_is_told_where_to_look() -> None:
    requests: list[httpx.Request] = []
    client = OneStopClient(NO_ONESTOP, transport=recorded(requests, httpx.Response(200, json={})))
    assert await ValidateDossierStatusForm(client).required_slots(["dossier_code"], CollectingDispatcher(),
                                                                  make_tracker("x", "x"), {}) == []
    dispatcher = CollectingDispatcher()
    events = await ActionDossierStatus(client).run(
        dispatcher, make_tracker("x", "x", {"dossier_code": "G22.99.01-251120-0001"}), {})
    assert [m["text"] for m in dispatcher.messages] == [NOT_AVAILABLE]
    assert "https://dichvucong.gov.vn" in NOT_AVAILABLE and "Tra cứu hồ sơ" in NOT_AVAILABLE
    assert events == [SlotSet("dossier_code", None)] and requests == []
    configured = OneStopClient(ACTION_SETTINGS, transport=recorded(requests, httpx.Response(404)))
    assert await ValidateDossierStatusForm(configured).required_slots(
        ["dossier_code"], CollectingDispatcher(), make_tracker("x", "x"), {}) == ["dossier_code"]


async def test_one_stop_fields_are_plain_capped_text_and_the_code_is_quoted() -> None:
    requests: list[httpx.Request] = []
    reply = {"code": "G22.99.01-251120-0001\u202e", "procedure": "Khai\x00 sinh\n\n[bấm](javascript:alert(1))",
             "status": "Đang\x1b[31m xử lý", "received_at": 20251120, "due_at": {"x": 1}, "agency": "  ",
             "note": "ghi chú " * 200}
    client = OneStopClient(ACTION_SETTINGS, transport=recorded(requests, httpx.Response(200, json=reply)))
    found = await client.dossier("G22.99.01-251120-0001/../x")
    assert [r.url.raw_path for r in requests] == [b"/demo/onestop/dossiers/G22.99.01-251120-0001%2F..%2Fx"]
    assert found == Dossier("G22.99.01-251120-0001", "Khai sinh [bấm](javascript:alert(1))", "Đang[31m xử lý",
                            "20251120", None, None, found.note if found else None)
    assert found is not None and found.note is not None and len(found.note) == 500 and found.note.endswith("…")


def test_office_hours_in_vietnam_time() -> None:
    s = ActionSettings()
    assert within_office_hours(s, dt.datetime(2026, 11, 23, 9, 0, tzinfo=HANOI))  # Monday 9:00
    assert not within_office_hours(s, dt.datetime(2026, 11, 23, 12, 0, tzinfo=HANOI))  # lunch
    assert not within_office_hours(s, dt.datetime(2026, 11, 22, 9, 0, tzinfo=HANOI))  # Sunday
    assert not within_office_hours(s, dt.datetime(2026, 11, 23, 1, 0, tzinfo=dt.timezone.utc) + dt.timedelta(hours=10))


def test_contact_validation() -> None:
    assert valid_contact(" 0912 345 678 ") == "0912 345 678"
    assert valid_contact("ten@gmail.com") == "ten@gmail.com"
    assert valid_contact("abc") is None


async def test_handover_inside_office_hours(transport: httpx.ASGITransport, service: FastAPI) -> None:
    client = KnowledgeClient(ACTION_SETTINGS, transport=transport)
    action = ActionHandover(client, clock=lambda: dt.datetime(2026, 11, 23, 9, 0, tzinfo=HANOI))
    dispatcher = CollectingDispatcher()
    history = [{"event": "user", "text": "lệ phí bao nhiêu, CCCD 079203001234"},
               {"event": "bot", "text": "Lệ phí: Miễn phí"}]
    events = await action.run(dispatcher, make_tracker("gặp cán bộ", "request_human", events=history), {})
    assert len(events) == 2 and events[0]["name"] == "handover_id"
    ref = events[0]["value"]
    assert REF.match(ref) and events == [SlotSet("handover_id", ref), SlotSet("handover_after_hours", False)]
    assert texts(dispatcher) == (
        f"Tôi đã chuyển cuộc trò chuyện tới cán bộ hỗ trợ (mã yêu cầu {ref}). Cán bộ sẽ trả lời bạn tại đây trong "
        "giờ làm việc. Bạn cũng có thể liên hệ trực tiếp bộ phận một cửa (Trung tâm Phục vụ hành chính công) của "
        "tỉnh hoặc UBND xã, phường nơi bạn cư trú, hoặc kênh hỗ trợ ghi trên dichvucong.gov.vn.")
    stored = service.state.desk.handover(ref)
    assert stored.sender_id == "citizen-x" and str(stored.id) not in texts(dispatcher).replace(ref, "")
    assert stored.transcript == [{"role": "user", "text": "lệ phí bao nhiêu, CCCD 0792******34"},
                                 {"role": "bot", "text": "Lệ phí: Miễn phí"}]


async def test_handover_outside_hours_asks_for_a_contact(transport: httpx.ASGITransport, service: FastAPI) -> None:
    client = KnowledgeClient(ACTION_SETTINGS, transport=transport)
    action = ActionHandover(client, clock=lambda: dt.datetime(2026, 11, 22, 21, 0, tzinfo=HANOI))
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, make_tracker("gặp cán bộ", "request_human"), {})
    ref = events[0]["value"]
    # The rules start handover_contact_form on this slot (bot/data/rules/handover.yml).
    assert REF.match(ref) and events == [SlotSet("handover_id", ref), SlotSet("handover_after_hours", True)]
    assert texts(dispatcher) == ("Hiện đang ngoài giờ làm việc của cán bộ (thứ Hai đến thứ Sáu, 7 giờ 30 – 11 giờ 30 "
                                 f"và 13 giờ 30 – 17 giờ). Tôi đã ghi nhận yêu cầu (mã {ref}).")
    dispatcher = CollectingDispatcher()
    events = await ActionSaveHandoverContact(client).run(dispatcher, make_tracker(
        "0912345678", "inform", {"handover_id": ref, "contact_consent": True, "contact": "0912345678"}), {})
    assert texts(dispatcher) == ("Cảm ơn bạn. Cán bộ sẽ liên hệ lại qua thông tin bạn để lại trong giờ làm việc. "
                                 "Thông tin này chỉ dùng để hỗ trợ yêu cầu của bạn.")
    assert events == [SlotSet("contact", None), SlotSet("contact_consent", None), SlotSet("handover_after_hours", None)]
    stored = service.state.desk.handover(ref)
    assert (stored.contact, stored.contact_consent) == ("0912345678", True)


async def test_a_contact_is_saved_only_on_the_handover_of_this_conversation(service: FastAPI) -> None:
    created = service.state.desk.add_handover("someone-else", "rest", False, [])
    requests: list[httpx.Request] = []
    app_transport = httpx.ASGITransport(app=service)

    async def forward(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return await app_transport.handle_async_request(request)

    client = KnowledgeClient(ACTION_SETTINGS, transport=httpx.MockTransport(forward))
    for ref in (created.ref, str(created.id), "../admin/stats"):
        dispatcher = CollectingDispatcher()
        await ActionSaveHandoverContact(client).run(dispatcher, make_tracker(
            "0999999999", "inform", {"handover_id": ref, "contact_consent": True, "contact": "0999999999"}), {})
        assert texts(dispatcher) == ("Xin lỗi, chưa lưu được thông tin liên hệ. Bạn vui lòng liên hệ bộ phận một "
                                     "cửa trong giờ làm việc.")
    # Only the well-formed reference was sent, with this conversation's sender id; the desk refused it.
    assert [(r.url.path, r.read()) for r in requests] == [
        (f"/desk/handovers/{created.ref}/contact",
         b'{"sender_id":"citizen-x","consent":true,"contact":"0999999999"}')]
    stored = service.state.desk.handover(created.ref)
    assert (stored.contact, stored.contact_consent) == (None, None)


async def test_refused_consent_sends_no_contact(transport: httpx.ASGITransport, service: FastAPI) -> None:
    created = service.state.desk.add_handover("citizen-x", "rest", False, [])
    client = KnowledgeClient(ACTION_SETTINGS, transport=transport)
    dispatcher = CollectingDispatcher()
    await ActionSaveHandoverContact(client).run(dispatcher, make_tracker(
        "không", "deny", {"handover_id": created.ref, "contact_consent": False, "contact": "0912345678"}), {})
    assert "tôi không lưu thông tin liên hệ của bạn" in texts(dispatcher)
    stored = service.state.desk.handover(created.ref)
    assert (stored.contact, stored.contact_consent) == (None, False)


async def test_desk_down_gives_the_apology_and_no_reference() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    client = KnowledgeClient(ACTION_SETTINGS, transport=httpx.MockTransport(refuse))
    action = ActionHandover(client, clock=lambda: dt.datetime(2026, 11, 23, 9, 0, tzinfo=HANOI))
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, make_tracker("gặp cán bộ", "request_human"), {})
    assert events == [SlotSet("handover_id", None), SlotSet("handover_after_hours", False)]
    assert texts(dispatcher).startswith("Xin lỗi, hiện chưa chuyển được yêu cầu tới cán bộ.")


async def test_thumbs_down_asks_for_a_rating_and_offers_a_person(transport: httpx.ASGITransport) -> None:
    client = KnowledgeClient(ACTION_SETTINGS, transport=transport)
    dispatcher = CollectingDispatcher()
    tracker = make_tracker('/feedback{"feedback_value": "down"}', "feedback",
                           entities=[{"entity": "feedback_value", "value": "down"}])
    await ActionFeedback(client).run(dispatcher, tracker, {})
    buttons = [b["title"] for m in dispatcher.messages for b in (m.get("buttons") or [])]
    assert "1 ⭐" in buttons and "5 ⭐" in buttons and "Gặp cán bộ" in buttons
