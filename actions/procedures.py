"""Questions about one procedure: what it is, how to do it online, documents, fee,
time limit, where to submit. The procedure named last is kept in the slot
``procedure_id`` so that "lệ phí bao nhiêu?" refers to it."""

from __future__ import annotations

import logging
import re
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
    steps_text,
    without_personal_numbers,
)
from knowledge.text import normalize_for_match

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
        if render is None and asks_how_online(tracker.latest_message.get("text") or ""):
            render = steps_text  # "làm khai sinh online thế nào": the steps, not the overview
        send(dispatcher, [render(procedure)] if render else procedure_overview(procedure))
        events: list[EventType] = [SlotSet("procedure_id", procedure.id)]
        if procedure.online.type != "khong" and (render is None or render is steps_text):
            # A referral to the online service, countable in the tracker store and at the desk.
            events.append(SlotSet("online_referral", procedure.id))
            await self.client.record_event(tracker.sender_id, "online_referral", procedure.id)
        return events

    async def _resolve(self, tracker: Tracker) -> tuple[Optional[str], list[Hit]]:
        """The procedure this turn is about, or None with the candidates to offer. The knowledge
        service decides whether the message names one procedure, several close variants or none
        (thresholds calibrated per index build); the turn's context decides the rest."""
        chosen = latest_entity(tracker, "procedure_id")
        if chosen:
            return chosen, []
        # "…cho con, cccd của tôi là 0792******34": the ID clause would make it a question about ID cards.
        text = without_personal_numbers(tracker.latest_message.get("text") or "")
        entity = latest_entity(tracker, "procedure")
        # The mention found by NLU, plus the whole message: "gplx" alone matches every
        # driving-licence procedure, "gplx hết hạn thì đổi" the renewal.
        mention = f"{entity} {text}" if entity and entity not in text else (text or entity or "")
        reply = await self.client.match(mention, k=4, kinds=["procedure"]) if mention.strip() else None
        hits = reply.results if reply else []
        decision = reply.match.decision if reply else "none"
        current = tracker.get_slot("procedure_id")
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        follow_up = bool(current) and intent in ASPECT_RENDERERS  # "lệ phí bao nhiêu?" after a procedure
        settings = self.client.settings
        # In a follow-up, only a clear mention of another procedure changes the subject.
        if follow_up and not entity and (not hits or hits[0].score < settings.mention_threshold):
            return str(current), []
        if reply is not None and decision == "confident":
            return reply.candidates()[0].id, hits
        if reply is not None and decision == "ambiguous":
            candidates = reply.candidates()
            if entity:  # NLU found the procedure's name in the message: the best of the close ones
                return candidates[0].id, hits
            return None, candidates
        if follow_up:
            return str(current), []
        return None, [h for h in hits if h.score >= settings.suggest_threshold]

    @staticmethod
    def _ask_which(dispatcher: CollectingDispatcher, candidates: list[Hit], intent: str) -> None:
        if not candidates:
            dispatcher.utter_message(text=NOT_FOUND)
            return
        labels = variant_labels([h.title for h in candidates[:3]])
        buttons = [Button(label, intent_payload(intent, procedure_id=h.id))
                   for label, h in zip(labels, candidates[:3], strict=True)]
        send(dispatcher, [BotMessage(WHICH_ONE, buttons)])




BUTTON_CHARS = 80
_HOW_ONLINE = re.compile(r"\b(?:online|truc tuyen|qua mang|tren mang|vneid|dich vu cong)\b.*"
                         r"\b(?:the nao|nhu nao|ntn|lam sao|ra sao|cach nao|bang cach|huong dan|cac buoc)\b"
                         r"|\b(?:cach|huong dan|cac buoc)\b.*\b(?:online|truc tuyen|qua mang|tren mang)\b")


def asks_how_online(text: str) -> bool:
    """The message asks how to do it online ("nộp online thế nào", "cách làm trực tuyến")."""
    return _HOW_ONLINE.search(normalize_for_match(text)) is not None



def variant_labels(titles: list[str]) -> list[str]:
    """Button labels for close variants that show how each differs: a title that fits is kept whole;
    a long one keeps its first words and then the words the other titles lack ("Đăng ký khai sinh …
    lưu động"), cut at a word boundary."""
    words = [t.split() for t in titles]
    folded = [[normalize_for_match(w) for w in ws] for ws in words]
    labels = []
    for i, ws in enumerate(words):
        title = " ".join(ws)
        if len(title) <= BUTTON_CHARS or len(titles) < 2:
            labels.append(_cut(title))
            continue
        others = set().union(*(set(f) for j, f in enumerate(folded) if j != i))
        own = [w for w, f in zip(ws[3:], folded[i][3:], strict=True) if f not in others]
        labels.append(_cut(" ".join(ws[:3]) + (" … " + " ".join(own) if own else " …")))
    return labels


def _cut(text: str) -> str:
    if len(text) <= BUTTON_CHARS:
        return text
    return text[: BUTTON_CHARS - 1].rsplit(" ", 1)[0] + "…"
