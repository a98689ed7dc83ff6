"""One path from a citizen's question to an answer.

The intent, the entities, the procedure in context (slot ``procedure_id``) and the knowledge
service's match decision (``/search``: confident / ambiguous / none, thresholds calibrated per
index build) lead to one :class:`Answer`, which the actions send. Every question about a
procedure or a how-to guide goes through :meth:`Resolver.answer`, whichever action the dialogue
predicted; no action runs another.

Before the answer come the rules in force that the question overlooks (the service's
``notices``: "nộp ở UBND huyện" when there is no district level any more), each said once per
conversation, with its legal basis.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet

from actions.knowledge_client import Hit, KnowledgeClient
from actions.messages import (
    ASPECT_RENDERERS,
    BotMessage,
    Button,
    guide_messages,
    intent_payload,
    latest_intent,
    notice_message,
    procedure_overview,
    steps_text,
    without_personal_numbers,
)
from bot.texts import NOT_FOUND, REFORM_ONLY, WHICH_ONE
from knowledge.contract import Notice, SearchResponse
from knowledge.text import normalize_for_match

# Words added to the citizen's text so that short how-to questions reach the right guide.
GUIDE_HINTS = {
    "ask_online_howto": "nộp hồ sơ trực tuyến",
    "ask_online_levels": "toàn trình một phần mức độ 3 mức độ 4",
    "ask_account": "tài khoản đăng nhập VNeID",
    "ask_payment": "thanh toán phí lệ phí trực tuyến",
    "ask_dossier_status": "tra cứu tình trạng hồ sơ mã hồ sơ",
}
BUTTON_CHARS = 80
_HOW_ONLINE = re.compile(r"\b(?:online|truc tuyen|qua mang|tren mang|vneid|dich vu cong)\b.*"
                         r"\b(?:the nao|nhu nao|ntn|lam sao|ra sao|cach nao|bang cach|huong dan|cac buoc)\b"
                         r"|\b(?:cach|huong dan|cac buoc)\b.*\b(?:online|truc tuyen|qua mang|tren mang)\b")


@dataclass
class Answer:
    """What the citizen reads, and the events the turn leaves in the tracker."""

    messages: list[BotMessage] = field(default_factory=list)
    events: list[EventType] = field(default_factory=list)


def latest_entity(tracker: Tracker, name: str) -> Optional[str]:
    value = next(tracker.get_latest_entity_values(name), None)
    return str(value) if value else None


def asks_how_online(text: str) -> bool:
    """The message asks how to do it online ("nộp online thế nào", "cách làm trực tuyến")."""
    return _HOW_ONLINE.search(normalize_for_match(text)) is not None


def question_text(tracker: Tracker) -> str:
    """The citizen's message without the clauses that give an ID or a phone number: "…cho con, cccd
    của tôi là 0792******34" is not a question about ID cards."""
    return without_personal_numbers(tracker.latest_message.get("text") or "")


def said_before(tracker: Tracker, notice: Notice) -> bool:
    return any(e.get("event") == "bot" and notice.rule in str(e.get("text") or "") for e in tracker.events)


def notices_first(tracker: Tracker, reply: Optional[SearchResponse]) -> list[BotMessage]:
    """The rules in force the question overlooks, each once per conversation."""
    if reply is None:
        return []
    return [notice_message(n) for n in reply.notices if not said_before(tracker, n)]


class Resolver:
    def __init__(self, client: KnowledgeClient) -> None:
        self.client = client

    async def answer(self, tracker: Tracker, *, guides: bool = False) -> Answer:
        """The answer to this turn: a procedure (overview, steps or the aspect asked), a choice between
        close variants, a guide (``guides``: how-to questions, unless the message names a procedure),
        or "not found"; raises KnowledgeUnavailable when the service does not answer."""
        text = question_text(tracker)
        if guides and not self._names_procedure_by_nlu(tracker):
            reply = await self.client.match(text, k=5, kinds=["procedure", "guide"]) if text.strip() else None
            first = reply.candidates()[:1] if reply else []
            if reply is None or reply.match.decision == "none" or not first or first[0].kind != "procedure":
                return await self._guide(tracker, text, notices_first(tracker, reply))
        return await self._procedure(tracker, text)

    @staticmethod
    def _names_procedure_by_nlu(tracker: Tracker) -> bool:
        entities = {e.get("entity") for e in tracker.latest_message.get("entities") or []}
        return bool(entities & {"procedure", "procedure_id"})

    async def _guide(self, tracker: Tracker, text: str, notices: list[BotMessage]) -> Answer:
        query = f"{text} {GUIDE_HINTS.get(latest_intent(tracker), '')}".strip()
        hits = await self.client.search(query, k=1, kinds=["guide"])
        guide = await self.client.guide(hits[0].id) if hits else None
        if guide is None:
            return Answer([*notices, BotMessage(REFORM_ONLY if notices else NOT_FOUND)])
        return Answer([*notices, *guide_messages(guide)])

    async def _procedure(self, tracker: Tracker, text: str) -> Answer:
        intent = latest_intent(tracker) or "ask_procedure"
        procedure_id, candidates, reply = await self._resolve(tracker, text)
        notices = notices_first(tracker, reply)
        if procedure_id is None:
            if not candidates:
                return Answer([*notices, BotMessage(REFORM_ONLY if notices else NOT_FOUND)])
            return Answer([*notices, which_one(candidates, intent)])
        procedure = await self.client.procedure(procedure_id)
        if procedure is None:
            return Answer([*notices, BotMessage(NOT_FOUND)], [SlotSet("procedure_id", None)])
        render = ASPECT_RENDERERS.get(intent)
        if render is None and asks_how_online(text):
            render = steps_text  # "làm khai sinh online thế nào": the steps, not the overview
        answer = Answer([*notices, *([render(procedure)] if render else procedure_overview(procedure))],
                        [SlotSet("procedure_id", procedure.id)])
        if procedure.online.type != "khong" and (render is None or render is steps_text):
            # A referral to the online service, countable in the tracker store and at the desk.
            answer.events.append(SlotSet("online_referral", procedure.id))
            await self.client.record_event(tracker.sender_id, "online_referral", procedure.id)
        return answer

    async def _resolve(self, tracker: Tracker, text: str) -> tuple[Optional[str], list[Hit], Optional[SearchResponse]]:
        """The procedure this turn is about, or None with the candidates to offer; and the service's
        reply. The service decides whether the message names one procedure, several close variants or
        none; the turn's context decides the rest."""
        chosen = latest_entity(tracker, "procedure_id")
        if chosen:
            return chosen, [], None
        entity = latest_entity(tracker, "procedure")
        # The mention found by NLU, plus the whole message: "gplx" alone matches every
        # driving-licence procedure, "gplx hết hạn thì đổi" the renewal.
        mention = f"{entity} {text}" if entity and entity not in text else (text or entity or "")
        reply = await self.client.match(mention, k=4, kinds=["procedure"]) if mention.strip() else None
        hits = reply.results if reply else []
        decision = reply.match.decision if reply else "none"
        current = tracker.get_slot("procedure_id")
        follow_up = bool(current) and latest_intent(tracker) in ASPECT_RENDERERS  # "lệ phí bao nhiêu?"
        settings = self.client.settings
        # In a follow-up, only a clear mention of another procedure changes the subject.
        if follow_up and not entity and (not hits or hits[0].score < settings.mention_threshold):
            return str(current), [], reply
        if reply is not None and decision == "confident":
            return reply.candidates()[0].id, hits, reply
        if reply is not None and decision == "ambiguous":
            candidates = reply.candidates()
            if entity:  # NLU found the procedure's name in the message: the best of the close ones
                return candidates[0].id, hits, reply
            return None, candidates, reply
        if follow_up:
            return str(current), [], reply
        return None, [h for h in hits if h.score >= settings.suggest_threshold], reply


def which_one(candidates: list[Hit], intent: str) -> BotMessage:
    labels = variant_labels([h.title for h in candidates[:3]])
    buttons = [Button(label, intent_payload(intent, procedure_id=h.id))
               for label, h in zip(labels, candidates[:3], strict=True)]
    return BotMessage(WHICH_ONE, buttons)


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
