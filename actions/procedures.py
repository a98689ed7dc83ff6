"""Questions about one procedure: what it is, how to do it online, documents, fee,
time limit, where to submit. The procedure named last is kept in the slot
``procedure_id`` so that "lệ phí bao nhiêu?" refers to it. What to answer is decided by
actions.resolver, the one path every procedure and how-to answer takes."""

from __future__ import annotations

import logging
from typing import Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.knowledge_client import KnowledgeClient, KnowledgeUnavailable
from actions.messages import send
from actions.resolver import Resolver
from bot.texts import APOLOGY_DOWN

log = logging.getLogger(__name__)


class ActionAnswerProcedure(Action):
    guides = False  # how-to questions (actions.guides) may be answered by a guide

    def __init__(self, client: Optional[KnowledgeClient] = None) -> None:
        self.client = client or KnowledgeClient()

    def name(self) -> str:
        return "action_answer_procedure"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        try:
            answer = await Resolver(self.client).answer(tracker, guides=self.guides)
        except KnowledgeUnavailable:
            log.exception("knowledge service unavailable")
            dispatcher.utter_message(text=APOLOGY_DOWN)
            return []
        send(dispatcher, answer.messages)
        return answer.events
