"""When NLU is unsure: search the whole knowledge base and offer the best matches as
buttons; when nothing matches, say so honestly and offer human help. A rule in force that the
message overlooks ("còn nộp ở UBND huyện không") is said first, as on every answer."""

from __future__ import annotations

import logging
from typing import Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.knowledge_client import KnowledgeClient, KnowledgeUnavailable
from actions.messages import OFFICER_BUTTON, BotMessage, Button, intent_payload, send
from actions.resolver import notices_first, question_text
from bot.texts import APOLOGY_DOWN, FALLBACK_SUGGEST, NOTHING

log = logging.getLogger(__name__)

KIND_INTENT = {"procedure": "ask_procedure", "guide": "ask_online_howto", "directive": "ask_policy"}


def left_a_form(tracker: Tracker) -> bool:
    """A form was closed (``action_deactivate_loop``) since the citizen's latest message."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "active_loop" and event.get("name") is None:
            return True
    return False


class ActionDefaultFallback(Action):
    def __init__(self, client: Optional[KnowledgeClient] = None) -> None:
        self.client = client or KnowledgeClient()

    def name(self) -> str:
        return "action_default_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        text = question_text(tracker).strip()
        # The message is forgotten (reverted) so that it does not steer the dialogue, except when a rule
        # has just closed a form for it: reverting would reopen the form.
        done: list[EventType] = [] if left_a_form(tracker) else [UserUtteranceReverted()]
        try:
            reply = await self.client.match(text, k=3) if text else None
        except KnowledgeUnavailable:
            log.exception("knowledge service unavailable")
            dispatcher.utter_message(text=APOLOGY_DOWN)
            return done
        send(dispatcher, notices_first(tracker, reply))
        hits = reply.results if reply else []
        good = [h for h in hits if h.score >= self.client.settings.suggest_threshold]
        if good:
            buttons = [Button(h.title[:80], self._payload(h.kind, h.id, h.title)) for h in good]
            send(dispatcher, [BotMessage(FALLBACK_SUGGEST, buttons)])
        else:
            send(dispatcher, [BotMessage(NOTHING, [OFFICER_BUTTON])])
        return done

    @staticmethod
    def _payload(kind: str, record_id: str, title: str) -> str:
        if kind == "procedure":
            return intent_payload("ask_procedure", procedure_id=record_id)
        return title  # guides and directives: the title itself is a good question
