"""Dossier status, handover and feedback actions, offline, against the real knowledge
service app (which also serves the demo one-stop system) in-process."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.dossier import ActionDossierStatus, ValidateDossierStatusForm
from actions.feedback import ActionFeedback
from actions.handover import ActionHandover, ActionSaveHandoverContact, valid_contact, within_office_hours
from actions.knowledge_client import KnowledgeClient
from actions.onestop_client import OneStopClient, find_dossier_code
from actions.settings import ActionSettings
from knowledge.api.app import create_app
from knowledge.api.deps import IndexHolder
from knowledge.service import LoadedIndex
from knowledge.settings import Settings

ACTION_SETTINGS = ActionSettings(knowledge_url="http://knowledge", onestop_url="http://knowledge/demo/onestop",
                                 onestop_token="demo-onestop-token")
HANOI = dt.timezone(dt.timedelta(hours=7))


@pytest.fixture(scope="module")
def transport(settings: Settings, loaded: LoadedIndex) -> httpx.ASGITransport:
    return httpx.ASGITransport(app=create_app(settings, holder=IndexHolder.serving(settings, loaded)))


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


async def test_handover_inside_office_hours(transport: httpx.ASGITransport) -> None:
    client = KnowledgeClient(ACTION_SETTINGS, transport=transport)
    action = ActionHandover(client, clock=lambda: dt.datetime(2026, 11, 23, 9, 0, tzinfo=HANOI))
    dispatcher = CollectingDispatcher()
    history = [{"event": "user", "text": "lệ phí bao nhiêu"}, {"event": "bot", "text": "Lệ phí: Miễn phí"}]
    events = await action.run(dispatcher, make_tracker("gặp cán bộ", "request_human", events=history), {})
    assert "đã chuyển cuộc trò chuyện tới cán bộ" in texts(dispatcher)
    assert not any(isinstance(e, dict) and e.get("event") == "followup" for e in events)


async def test_handover_outside_hours_asks_for_a_contact(transport: httpx.ASGITransport) -> None:
    client = KnowledgeClient(ACTION_SETTINGS, transport=transport)
    action = ActionHandover(client, clock=lambda: dt.datetime(2026, 11, 22, 21, 0, tzinfo=HANOI))
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, make_tracker("gặp cán bộ", "request_human"), {})
    assert "ngoài giờ làm việc" in texts(dispatcher) and "thứ Hai đến thứ Sáu" in texts(dispatcher)
    assert FollowupAction("handover_contact_form") in events
    handover_id = next(e["value"] for e in events if e.get("name") == "handover_id")
    dispatcher = CollectingDispatcher()
    await ActionSaveHandoverContact(client).run(dispatcher, make_tracker(
        "0912345678", "inform", {"handover_id": handover_id, "contact_consent": True, "contact": "0912345678"}), {})
    assert "Cán bộ sẽ liên hệ lại" in texts(dispatcher)


async def test_thumbs_down_asks_for_a_rating_and_offers_a_person(transport: httpx.ASGITransport) -> None:
    client = KnowledgeClient(ACTION_SETTINGS, transport=transport)
    dispatcher = CollectingDispatcher()
    tracker = make_tracker('/feedback{"feedback_value": "down"}', "feedback",
                           entities=[{"entity": "feedback_value", "value": "down"}])
    await ActionFeedback(client).run(dispatcher, tracker, {})
    buttons = [b["title"] for m in dispatcher.messages for b in (m.get("buttons") or [])]
    assert "1 ⭐" in buttons and "5 ⭐" in buttons and "Gặp cán bộ" in buttons
