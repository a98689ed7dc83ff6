"""Dossier status: a form asks for the dossier code, checks its shape, and the
one-stop system is asked through its adapter.

The form never traps: a stop word ends it, another question leaves it (the rules in
bot/data/rules/dossier.yml answer that question), an ID or phone number is told apart from a
code, and after the question and two re-asks it ends with the menu and an officer.

Where no one-stop system is configured (``ACTIONS_ONESTOP_URL`` unset) the form asks for
nothing and the citizen is told that lookup is not available here and where to do it (the
national portal's dossier tracking); a status is only ever one the system gave."""

from __future__ import annotations

import logging
from typing import Any, Optional

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActionExecutionRejected, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.messages import (
    FORM_LEAVE_INTENTS,
    FORM_MAX_ANSWERS,
    answers_in_form,
    gave_up_message,
    has_digit,
    has_personal_number,
    is_stop,
    latest_intent,
    looks_like_an_answer,
    replying_in_form,
    send,
    status_text,
)
from actions.onestop_client import OneStopClient, OneStopUnavailable, find_dossier_code
from bot.texts import BAD_CODE, DOSSIER_GAVE_UP, DOSSIER_NOT_PERSONAL, DOWN, FORM_STOPPED, NOT_AVAILABLE, UNKNOWN

log = logging.getLogger(__name__)
FORM = "dossier_status_form"
SLOT = "dossier_code"
# Intents with which a message without a code is a (failed) answer to the code question, re-asked.
REASK_INTENTS = frozenset({"ask_dossier_status", "affirm"})


class ValidateDossierStatusForm(FormValidationAction):
    def __init__(self, client: Optional[OneStopClient] = None) -> None:
        self._client = client

    @property
    def client(self) -> OneStopClient:
        if self._client is None:
            self._client = OneStopClient()
        return self._client

    def name(self) -> str:
        return "validate_dossier_status_form"

    async def required_slots(self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> list[str]:
        # Nothing to ask for when there is no system to ask: action_dossier_status says where to look.
        return domain_slots if self.client.configured else []

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        if replying_in_form(tracker, FORM):
            text = str(tracker.latest_message.get("text") or "")
            intent = latest_intent(tracker)
            if find_dossier_code(text) is None:
                if intent != "deny" and is_stop(text):  # deny: the form is rejected and the stop rule runs
                    dispatcher.utter_message(text=FORM_STOPPED)
                    return [SlotSet(SLOT, None), SlotSet("requested_slot", None)]
                if looks_like_an_answer(text):
                    pass  # "123", "mã là 12345", "0792******34": validated below, whatever the intent
                elif intent in FORM_LEAVE_INTENTS or (intent == "nlu_fallback" and not has_digit(text)):
                    # Another question ("làm khai sinh online", "thời tiết", "😀"): its rule answers it.
                    return [SlotSet(SLOT, None), ActionExecutionRejected(FORM)]
        return await super().run(dispatcher, tracker, domain)

    async def validate_dossier_code(self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                    domain: DomainDict) -> dict[str, Any]:
        code = find_dossier_code(str(slot_value or ""))
        if code is not None:
            return {SLOT: code}
        text = str(slot_value or "")
        if answers_in_form(tracker, FORM) >= FORM_MAX_ANSWERS:
            send(dispatcher, [gave_up_message(DOSSIER_GAVE_UP, officer=True)])
            return {SLOT: None, "requested_slot": None}
        if has_personal_number(text):
            dispatcher.utter_message(text=DOSSIER_NOT_PERSONAL)
        elif has_digit(text) or latest_intent(tracker) not in REASK_INTENTS:
            dispatcher.utter_message(text=BAD_CODE)
        # "tra cứu hồ sơ" again, "ừ": the form asks for the code once more (utter_ask_dossier_code).
        return {SLOT: None}


class ActionDossierStatus(Action):
    def __init__(self, client: Optional[OneStopClient] = None) -> None:
        self.client = client or OneStopClient()

    def name(self) -> str:
        return "action_dossier_status"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        if not self.client.configured:
            dispatcher.utter_message(text=NOT_AVAILABLE)
            return [SlotSet("dossier_code", None)]
        code = find_dossier_code(str(tracker.get_slot("dossier_code") or ""))
        if code is None:
            # The form ended without a code (stopped, or given up after two re-asks): it has said so.
            return [SlotSet("dossier_code", None)]
        try:
            dossier = await self.client.dossier(code)
        except OneStopUnavailable:
            log.exception("one-stop system unavailable")
            dispatcher.utter_message(text=DOWN)
            return [SlotSet("dossier_code", None)]
        dispatcher.utter_message(text=status_text(dossier) if dossier else UNKNOWN.format(code=code))
        return [SlotSet("dossier_code", None)]
