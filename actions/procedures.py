"""Questions about one procedure: what it is, how to do it online, documents, fee,
time limit, where to submit. The procedure named last is kept in the slot
``procedure_id`` so that "lệ phí bao nhiêu?" refers to it."""

from __future__ import annotations

import logging
from typing import Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.knowledge_client import Hit, KnowledgeClient, KnowledgeUnavailable
from actions.messages import (
    APOLOGY_DOWN,
    ASPECT_RENDERERS,
    NOT_FOUND,
    BotMessage,
    Button,
    intent_payload,
    procedure_overview,
    send,
)

log = logging.getLogger(__name__)
WHICH_ONE = ("Bạn muốn hỏi về thủ tục nào dưới đây? Nếu không có thủ tục bạn cần, hãy gõ tên thủ tục cụ thể hơn "
             "hoặc tra cứu trên dichvucong.gov.vn.")


def latest_entity(tracker: Tracker, name: str) -> Optional[str]:
    value = next(tracker.get_latest_entity_values(name), None)
    return str(value) if value else None


class ActionAnswerProcedure(Action):
    def __init__(self, client: Optional[KnowledgeClient] = None) -> None:
        self.client = client or KnowledgeClient()

    def name(self) -> str:
        return "action_answer_procedure"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name") or "ask_procedure"
        try:
            procedure_id, candidates = await self._resolve(tracker)
            if procedure_id is None:
                self._ask_which(dispatcher, candidates, intent)
                return []
            procedure = await self.client.procedure(procedure_id)
        except KnowledgeUnavailable:
            log.exception("knowledge service unavailable")
            dispatcher.utter_message(text=APOLOGY_DOWN)
            return []
        if procedure is None:
            dispatcher.utter_message(text=NOT_FOUND)
            return [SlotSet("procedure_id", None)]
        render = ASPECT_RENDERERS.get(intent)
        send(dispatcher, [render(procedure)] if render else procedure_overview(procedure))
        events: list[EventType] = [SlotSet("procedure_id", procedure.id)]
        if procedure.online.type != "khong" and render is None:
            # A referral to the online service, countable in the tracker store and at the desk.
            events.append(SlotSet("online_referral", procedure.id))
            await self.client.record_event(tracker.sender_id, "online_referral", procedure.id)
        return events

    async def _resolve(self, tracker: Tracker) -> tuple[Optional[str], list[Hit]]:
        """The procedure this turn is about, or None with the candidates to offer."""
        chosen = latest_entity(tracker, "procedure_id")
        if chosen:
            return chosen, []
        text = tracker.latest_message.get("text") or ""
        entity = latest_entity(tracker, "procedure")
        # The mention found by NLU, plus the whole message: "gplx" alone matches every
        # driving-licence procedure, "gplx hết hạn thì đổi" the renewal.
        mention = f"{entity} {text}" if entity and entity not in text else (text or entity or "")
        hits = await self.client.search(mention, k=4, kinds=["procedure"]) if mention.strip() else []
        settings = self.client.settings
        if hits and hits[0].score >= settings.mention_threshold:
            close = [h for h in hits if h.score >= settings.ambiguity_ratio * hits[0].score]
            if len(close) > 1 and not latest_entity(tracker, "procedure"):
                return None, close
            return hits[0].id, hits
        current = tracker.get_slot("procedure_id")
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if current and intent in ASPECT_RENDERERS:  # "lệ phí bao nhiêu?" after a procedure was named
            return str(current), []
        return None, [h for h in hits if h.score >= settings.suggest_threshold]

    @staticmethod
    def _ask_which(dispatcher: CollectingDispatcher, candidates: list[Hit], intent: str) -> None:
        if not candidates:
            dispatcher.utter_message(text=NOT_FOUND)
            return
        buttons = [Button(h.title[:80], intent_payload(intent, procedure_id=h.id)) for h in candidates[:3]]
        send(dispatcher, [BotMessage(WHICH_ONE, buttons)])


