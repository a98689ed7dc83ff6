"""Handover to an officer: the conversation is marked and its transcript sent to the
desk; office hours are stated; outside them the citizen may leave a contact, with
explicit consent, which is stored with the handover.

The citizen is shown the handover's public reference (``HT-…``, slot ``handover_id``), never
the desk's sequential id; the contact is saved with that reference and this conversation's
sender id, so no other conversation can change it."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from typing import Any, Optional

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.knowledge_client import KnowledgeClient, KnowledgeUnavailable
from actions.settings import ActionSettings
from knowledge.text.pii import mask_pii

log = logging.getLogger(__name__)
PHONE = re.compile(r"^(?:\+?84|0)(?:\d[\s.]?){8,10}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-zA-Z]{2,}$")
TRANSCRIPT_TURNS = 30


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def within_office_hours(settings: ActionSettings, now: dt.datetime) -> bool:
    local = now.astimezone(settings.local_zone)
    if local.weekday() not in settings.office_days_set:
        return False
    minute = local.hour * 60 + local.minute
    return any(start <= minute < end for start, end in settings.office_minutes)


def transcript(tracker: Tracker) -> list[dict[str, str]]:
    """The last turns, masked (the desk masks again on write)."""
    lines = [{"role": "user" if e["event"] == "user" else "bot", "text": mask_pii(str(e.get("text") or ""))[:4000]}
             for e in tracker.events if e.get("event") in ("user", "bot") and e.get("text")]
    return lines[-TRANSCRIPT_TURNS:]


def valid_contact(text: str) -> Optional[str]:
    text = text.strip()
    if PHONE.match(text) or EMAIL.match(text):
        return text
    return None


class ActionHandover(Action):
    def __init__(self, client: Optional[KnowledgeClient] = None,
                 clock: Callable[[], dt.datetime] = utc_now) -> None:
        self.client = client or KnowledgeClient()
        self.clock = clock

    def name(self) -> str:
        return "action_handover"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        s = self.client.settings
        inside = within_office_hours(s, self.clock())
        channel = (tracker.get_latest_input_channel() or None)
        body = {"sender_id": tracker.sender_id, "channel": channel, "within_office_hours": inside,
                "transcript": transcript(tracker)}
        ref: Optional[str]
        try:
            ref = await self.client.create_handover(body)
        except KnowledgeUnavailable:
            log.exception("desk unavailable for handover")
            ref = None
        desk = ("bộ phận một cửa (Trung tâm Phục vụ hành chính công) của tỉnh hoặc UBND xã, phường nơi bạn cư trú, "
                "hoặc kênh hỗ trợ ghi trên dichvucong.gov.vn")
        events: list[EventType] = [SlotSet("handover_id", ref)]
        if ref is None:
            dispatcher.utter_message(text=f"Xin lỗi, hiện chưa chuyển được yêu cầu tới cán bộ. Bạn vui lòng liên hệ "
                                          f"{desk} trong giờ làm việc ({s.office_hours_text}).")
            return events
        if inside:
            dispatcher.utter_message(text=f"Tôi đã chuyển cuộc trò chuyện tới cán bộ hỗ trợ (mã yêu cầu "
                                          f"{ref}). Cán bộ sẽ trả lời bạn tại đây trong giờ làm việc. "
                                          f"Bạn cũng có thể liên hệ trực tiếp {desk}.")
            return events
        dispatcher.utter_message(text=f"Hiện đang ngoài giờ làm việc của cán bộ ({s.office_hours_text}). "
                                      f"Tôi đã ghi nhận yêu cầu (mã {ref}).")
        return [*events, FollowupAction("handover_contact_form")]


class ValidateHandoverContactForm(FormValidationAction):
    def name(self) -> str:
        return "validate_handover_contact_form"

    async def required_slots(self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> list[str]:
        if tracker.get_slot("contact_consent") is False:
            return ["contact_consent"]
        return ["contact_consent", "contact"]

    async def validate_contact(self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                               domain: DomainDict) -> dict[str, Any]:
        contact = valid_contact(str(slot_value or ""))
        if contact is None:
            dispatcher.utter_message(text="Số điện thoại hoặc email chưa hợp lệ. Ví dụ: 0912345678 hoặc ten@gmail.com. "
                                          "Gõ \"thôi\" nếu bạn không muốn để lại liên hệ.")
            return {"contact": None}
        return {"contact": contact}


class ActionSaveHandoverContact(Action):
    def __init__(self, client: Optional[KnowledgeClient] = None) -> None:
        self.client = client or KnowledgeClient()

    def name(self) -> str:
        return "action_save_handover_contact"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        consent = tracker.get_slot("contact_consent") is True
        contact = tracker.get_slot("contact") if consent else None
        ref = tracker.get_slot("handover_id")
        saved = False
        if isinstance(ref, str) and ref:
            try:
                saved = await self.client.set_handover_contact(ref, tracker.sender_id, consent, contact)
            except KnowledgeUnavailable:
                log.exception("desk unavailable for contact")
        if consent and saved:
            dispatcher.utter_message(text="Cảm ơn bạn. Cán bộ sẽ liên hệ lại qua thông tin bạn để lại trong giờ "
                                          "làm việc. Thông tin này chỉ dùng để hỗ trợ yêu cầu của bạn.")
        elif consent:
            dispatcher.utter_message(text="Xin lỗi, chưa lưu được thông tin liên hệ. Bạn vui lòng liên hệ bộ phận một "
                                          "cửa trong giờ làm việc.")
        else:
            dispatcher.utter_message(text="Vâng, tôi không lưu thông tin liên hệ của bạn. Bạn có thể quay lại trong "
                                          "giờ làm việc hoặc hỏi tôi về thủ tục khác.")
        return [SlotSet("contact", None), SlotSet("contact_consent", None)]
