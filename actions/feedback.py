"""Feedback after an answer: 👍/👎 buttons, an optional 1–5 rating, or free words."""

from __future__ import annotations

import logging
from typing import Any, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.knowledge_client import KnowledgeClient, KnowledgeUnavailable
from actions.messages import BotMessage, Button, intent_payload, send
from actions.resolver import latest_entity
from bot.texts import FEEDBACK_DOWN, FEEDBACK_THANKS, FEEDBACK_UP, OFFICER_SHORT_LABEL
from knowledge.text.pii import mask_pii

log = logging.getLogger(__name__)


def rating_buttons() -> list[Button]:
    return [Button(f"{n} ⭐", intent_payload("feedback", rating=str(n))) for n in range(1, 6)]


class ActionFeedback(Action):
    def __init__(self, client: Optional[KnowledgeClient] = None) -> None:
        self.client = client or KnowledgeClient()

    def name(self) -> str:
        return "action_feedback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        value = latest_entity(tracker, "feedback_value")
        rating_text = latest_entity(tracker, "rating")
        rating = int(rating_text) if rating_text and rating_text.isdigit() and 1 <= int(rating_text) <= 5 else None
        text = tracker.latest_message.get("text") or ""
        # Masked here as well as on the desk: a comment is free text and may hold an ID or phone number.
        comment = None if value or rating or text.startswith("/") else mask_pii(text)[:2000]
        body: dict[str, Any] = {"sender_id": tracker.sender_id, "value": value if value in ("up", "down") else None,
                                "rating": rating, "answer_ref": tracker.get_slot("procedure_id"), "comment": comment}
        try:
            await self.client.post_desk("feedback", body)
        except KnowledgeUnavailable:
            log.exception("desk unavailable for feedback")
        if body["value"] == "down":
            officer = Button(OFFICER_SHORT_LABEL, "/request_human")
            send(dispatcher, [BotMessage(FEEDBACK_DOWN, [*rating_buttons(), officer])])
        elif body["value"] == "up":
            send(dispatcher, [BotMessage(FEEDBACK_UP, rating_buttons())])
        else:
            dispatcher.utter_message(text=FEEDBACK_THANKS)
        return []
