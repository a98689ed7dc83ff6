"""General questions on using online public services: account, VNeID, submitting
online, paying, tracking a dossier, toàn trình / một phần."""

from __future__ import annotations

import logging
from typing import Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.knowledge_client import KnowledgeClient, KnowledgeUnavailable
from actions.messages import APOLOGY_DOWN, NOT_FOUND, guide_messages, send

log = logging.getLogger(__name__)

# Words added to the citizen's text so that short questions reach the right guide.
INTENT_HINTS = {
    "ask_online_howto": "nộp hồ sơ trực tuyến",
    "ask_online_levels": "toàn trình một phần mức độ 3 mức độ 4",
    "ask_account": "tài khoản đăng nhập VNeID",
    "ask_payment": "thanh toán phí lệ phí trực tuyến",
    "ask_dossier_status": "tra cứu tình trạng hồ sơ mã hồ sơ",
}


class ActionAnswerGuide(Action):
    def __init__(self, client: Optional[KnowledgeClient] = None) -> None:
        self.client = client or KnowledgeClient()

    def name(self) -> str:
        return "action_answer_guide"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
        text = tracker.latest_message.get("text") or ""
        query = f"{text} {INTENT_HINTS.get(intent, '')}".strip()
        try:
            if await self._names_a_procedure(tracker, text):
                # "nộp phạt nguội online kiểu gì", "gia hạn bhyt hộ gia đình online": how to do
                # one procedure online is that procedure's answer (its online steps), not a guide.
                from actions.procedures import ActionAnswerProcedure

                return await ActionAnswerProcedure(self.client).run(dispatcher, tracker, domain)
            hits = await self.client.search(query, k=1, kinds=["guide"])
            guide = await self.client.guide(hits[0].id) if hits else None
        except KnowledgeUnavailable:
            log.exception("knowledge service unavailable")
            dispatcher.utter_message(text=APOLOGY_DOWN)
            return []
        if guide is None:
            dispatcher.utter_message(text=NOT_FOUND)
            return []
        send(dispatcher, guide_messages(guide))
        return []

    async def _names_a_procedure(self, tracker: Tracker, text: str) -> bool:
        """NLU found a procedure, or the knowledge service matches the message to a procedure before
        any guide (its match decision, thresholds calibrated per index build)."""
        entities = {e.get("entity") for e in tracker.latest_message.get("entities") or []}
        if entities & {"procedure", "procedure_id"}:
            return True
        if not text.strip():
            return False
        reply = await self.client.match(text, k=5, kinds=["procedure", "guide"])
        first = reply.candidates()[:1]
        return reply.match.decision != "none" and bool(first) and first[0].kind == "procedure"
