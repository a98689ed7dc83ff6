"""Questions about the directives, plans and laws behind online public services,
answered with the document's number, date and issuer."""

from __future__ import annotations

import logging
from typing import Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.knowledge_client import KnowledgeClient, KnowledgeUnavailable
from actions.messages import directive_messages, passage_message, send
from actions.resolver import latest_entity, notices_first
from bot.texts import APOLOGY_DOWN, NOT_FOUND

log = logging.getLogger(__name__)


class ActionAnswerPolicy(Action):
    def __init__(self, client: Optional[KnowledgeClient] = None) -> None:
        self.client = client or KnowledgeClient()

    def name(self) -> str:
        return "action_answer_policy"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        text = tracker.latest_message.get("text") or ""
        number = latest_entity(tracker, "doc_number")
        query = f"{number} {text}" if number else text
        try:
            reply = await self.client.match(query, k=1, kinds=["directive"])
            hits = reply.results
            directive = await self.client.directive(hits[0].id) if hits else None
        except KnowledgeUnavailable:
            log.exception("knowledge service unavailable")
            dispatcher.utter_message(text=APOLOGY_DOWN)
            return []
        if not hits:
            dispatcher.utter_message(text=NOT_FOUND)
            return []
        send(dispatcher, notices_first(tracker, reply))
        hit = hits[0]
        # A chunk of an indexed legal text (section set) is quoted; a curated record is summarised.
        passage = passage_message(hit.title, hit.section, hit.snippet, hit.source) if hit.section else None
        if directive is not None:
            send(dispatcher, directive_messages(directive, passage))
        elif passage is not None:
            send(dispatcher, [passage])
        else:
            dispatcher.utter_message(text=NOT_FOUND)
        return []
