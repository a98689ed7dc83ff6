"""Handover to an officer: the conversation is marked and its transcript sent to the
desk; office hours are stated; outside them the citizen may leave a contact, with
explicit consent, which is stored with the handover.

The contact form asks for consent once: declining, a stop word or another question ends it
(the rules in bot/data/rules/handover.yml answer that question), a contact is re-asked at most
twice, and consent is never kept beyond the form.

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
from rasa_sdk.events import ActionExecutionRejected, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.knowledge_client import KnowledgeClient, KnowledgeUnavailable
from actions.messages import (
    FORM_LEAVE_INTENTS,
    FORM_MAX_ANSWERS,
    answers_in_form,
    gave_up_message,
    has_personal_number,
    is_stop,
    latest_intent,
    looks_like_an_answer,
    replying_in_form,
    send,
)
from actions.settings import ActionSettings
from bot.texts import CONTACT_DECLINED, CONTACT_GAVE_UP, CONTACT_INVALID
from knowledge.text.pii import mask_pii

log = logging.getLogger(__name__)
# A phone number (0…, +84…, 84…; spaces or dots between digits) or an e-mail address, inside a message.
PHONE = re.compile(r"(?<![\w+])(?:\+84|84|0)(?:[\s.]?\d){8,10}(?![\w])")
EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-zA-Z]{2,}\b")
TRANSCRIPT_TURNS = 30
REASON_TURNS = 4  # user turns looked at for repeated fallbacks
FORM = "handover_contact_form"
# Set by action_handover: true outside office hours, when the rules start the contact form.
AFTER_HOURS = "handover_after_hours"
# Inside the contact form "tra cứu hồ sơ" is another question too (it starts the dossier form).
LEAVE_INTENTS = FORM_LEAVE_INTENTS | {"ask_dossier_status"}


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


def handover_reason(tracker: Tracker) -> str:
    """Why the bot hands over, for the officers' queue: the citizen asked for an officer, the bot
    failed to understand twice or more among the last turns, or something else (a form gave up)."""
    if latest_intent(tracker) == "request_human":
        return "citizen_asked"
    recent = [e for e in tracker.events if e.get("event") == "user"][-REASON_TURNS:]
    misses = sum(1 for e in recent if ((e.get("parse_data") or {}).get("intent") or {}).get("name") == "nlu_fallback")
    return "repeated_fallback" if misses >= 2 else "other"


def valid_contact(text: str) -> Optional[str]:
    """The phone number or e-mail address in ``text`` ("số của tôi là 0912 345 678 nhé"), as typed."""
    found = PHONE.search(text or "") or EMAIL.search(text or "")
    return found.group(0).strip() if found else None


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
                "transcript": transcript(tracker), "reason": handover_reason(tracker)}
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
            return [*events, SlotSet(AFTER_HOURS, False)]
        if inside:
            dispatcher.utter_message(text=f"Tôi đã chuyển cuộc trò chuyện tới cán bộ hỗ trợ (mã yêu cầu "
                                          f"{ref}). Cán bộ sẽ trả lời bạn tại đây trong giờ làm việc. "
                                          f"Bạn cũng có thể liên hệ trực tiếp {desk}.")
            return [*events, SlotSet(AFTER_HOURS, False)]
        dispatcher.utter_message(text=f"Hiện đang ngoài giờ làm việc của cán bộ ({s.office_hours_text}). "
                                      f"Tôi đã ghi nhận yêu cầu (mã {ref}).")
        # The rule "gặp cán bộ ngoài giờ" then starts handover_contact_form (the consent question, once).
        return [*events, SlotSet(AFTER_HOURS, True)]


def _form_ended(consent: Optional[bool]) -> list[EventType]:
    return [SlotSet("contact_consent", consent), SlotSet("contact", None), SlotSet("requested_slot", None)]


class ValidateHandoverContactForm(FormValidationAction):
    def name(self) -> str:
        return "validate_handover_contact_form"

    async def required_slots(self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> list[str]:
        if tracker.get_slot("contact_consent") is False:
            return ["contact_consent"]
        return ["contact_consent", "contact"]

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        if replying_in_form(tracker, FORM):
            text = str(tracker.latest_message.get("text") or "")
            intent = latest_intent(tracker)
            asking_contact = tracker.get_slot("requested_slot") == "contact"
            if not (asking_contact and valid_contact(text)):
                if intent != "deny" and is_stop(text):
                    # "thôi", "hủy" however NLU read them: declined (action_save_handover_contact says so).
                    return _form_ended(False)
                if not asking_contact and has_personal_number(text):
                    # A number given straight away is a yes; it was masked, so it is asked for once more.
                    return [SlotSet("contact_consent", True)]
                if asking_contact and (looks_like_an_answer(text) or "@" in text):
                    return await super().run(dispatcher, tracker, domain)  # "09", "abc@": re-asked
                leaving = intent in LEAVE_INTENTS or (intent == "nlu_fallback" and not asking_contact)
                if leaving or (not asking_contact and intent not in ("affirm", "deny")):
                    # Another question: its rule answers it; the consent question is not asked again.
                    return [SlotSet("contact_consent", None), SlotSet("contact", None), SlotSet(AFTER_HOURS, None),
                            ActionExecutionRejected(FORM)]
        return await super().run(dispatcher, tracker, domain)

    async def validate_contact(self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                               domain: DomainDict) -> dict[str, Any]:
        contact = valid_contact(str(slot_value or ""))
        if contact is not None:
            return {"contact": contact}
        # Answers since the form started: the consent answer, then the contact answers.
        if answers_in_form(tracker, FORM) - 1 >= FORM_MAX_ANSWERS:
            send(dispatcher, [gave_up_message(CONTACT_GAVE_UP, officer=False)])
            return {"contact_consent": None, "contact": None, "requested_slot": None}
        dispatcher.utter_message(text=CONTACT_INVALID)
        return {"contact": None}


class ActionSaveHandoverContact(Action):
    def __init__(self, client: Optional[KnowledgeClient] = None) -> None:
        self.client = client or KnowledgeClient()

    def name(self) -> str:
        return "action_save_handover_contact"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        given = tracker.get_slot("contact_consent")
        done = [SlotSet("contact", None), SlotSet("contact_consent", None), SlotSet(AFTER_HOURS, None)]
        if given is None:
            return done  # the form gave up on the contact and has said so; nothing was decided
        contact = tracker.get_slot("contact") if given is True else None
        # Consent given but no contact ("không" when asked for the number): withdrawn.
        consent = given is True and bool(contact)
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
            dispatcher.utter_message(text=CONTACT_DECLINED)
        return done
