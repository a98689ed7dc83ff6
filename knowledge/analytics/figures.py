"""The outreach figures of a period, counted from what the system already records.

Sources (no second, hand-kept copy):

* Rasa's SQL event broker (table ``events``: sender id, the event as JSON, masked by
  bot/rasa_patches.py before it enters the tracker): conversations, citizens, channels,
  procedures asked (``procedure_id`` slot), fallbacks (``action_default_fallback``),
  handovers asked (``action_handover``) and the questions that got a fallback;
* the desk database: links shown (``online_referral`` events), links followed (the
  counting redirect's ``referral_click``), feedback, handovers and how fast an officer took them.

A conversation is one citizen (sender id) on one day; days are Vietnam's (UTC+7), the
period's ends included. A channel filter keeps the citizens whose messages came through
that channel (the desk rows carry the sender id, whose channel the broker knows).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from knowledge.analytics.clicks import ClickCounter
from knowledge.catalogue.loader import KnowledgeBase
from knowledge.text.normalize import normalize_for_display

ZONE = dt.timezone(dt.timedelta(hours=7), "ICT")
FALLBACK_ACTION = "action_default_fallback"
HANDOVER_ACTION = "action_handover"
PROCEDURE_SLOT = "procedure_id"
TOP = 10
UNANSWERED_TOP = 20
MAX_DAYS = 366
CHANNEL_NAMES = {"socketio": "Cổng dịch vụ công (khung chat)", "facebook": "Facebook Messenger",
                 "zalo": "Zalo OA", "rest": "REST (thử nghiệm)", "other": "Khác"}
LEVEL_NAMES = {"toan_trinh": "Toàn trình", "mot_phan": "Một phần", "khong": "Trực tiếp (chưa trực tuyến)",
               "other": "Không rõ"}


class PeriodError(ValueError):
    """A period the dashboard cannot show; the message is Vietnamese, for the officer."""


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date
    channel: Optional[str] = None

    @classmethod
    def month(cls, value: str, channel: Optional[str] = None) -> Period:
        """``YYYY-MM`` → the whole month."""
        try:
            first = dt.datetime.strptime(value, "%Y-%m").date()
        except ValueError as exc:
            raise PeriodError("Tháng phải có dạng NNNN-TT, ví dụ 2026-11.") from exc
        following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        return cls(first, following - dt.timedelta(days=1), channel)

    @classmethod
    def parse(cls, start: str, end: str, channel: str, today: dt.date) -> Period:
        """The dashboard's filters; empty ends mean the last 30 days up to ``today``."""
        try:
            last = dt.date.fromisoformat(end) if end else today
            first = dt.date.fromisoformat(start) if start else last - dt.timedelta(days=29)
        except ValueError as exc:
            raise PeriodError("Ngày phải có dạng NNNN-TT-NN, ví dụ 2026-11-30.") from exc
        if first > last:
            raise PeriodError("Ngày bắt đầu phải trước ngày kết thúc.")
        if (last - first).days >= MAX_DAYS:
            raise PeriodError("Chỉ xem được tối đa 366 ngày một lần.")
        if channel and channel not in CHANNEL_NAMES:
            raise PeriodError("Kênh không có trong danh sách.")
        return cls(first, last, channel or None)

    def holds(self, day: dt.date) -> bool:
        return self.start <= day <= self.end

    @property
    def label(self) -> str:
        return f"{self.start:%d/%m/%Y} – {self.end:%d/%m/%Y}"


@dataclass(frozen=True)
class DayRow:
    day: dt.date
    channel: str
    conversations: int
    citizens: int


@dataclass(frozen=True)
class ProcedureRow:
    id: str
    name: str
    level: str
    asked: int
    shown: int
    followed: int


@dataclass(frozen=True)
class Feedback:
    up: int
    down: int
    ratings: int
    average_rating: Optional[float]


@dataclass(frozen=True)
class Handovers:
    total: int
    taken: int
    closed: int
    median_wait_minutes: Optional[float]
    outside_office_hours: int


@dataclass(frozen=True)
class Figures:
    period: Period
    days: list[DayRow]
    conversations: int
    citizens: int
    by_channel: dict[str, tuple[int, int]]  # channel → (conversations, citizens)
    messages: int
    fallbacks: int
    handover_conversations: int
    procedures: list[ProcedureRow]  # the most asked first (pages show the first TOP)
    levels: dict[str, int]  # online type → questions about a procedure of that type
    referrals_shown: int
    referrals_followed: int
    feedback: Feedback
    handovers: Handovers
    unanswered: list[tuple[str, int]]  # the questions that got a fallback, grouped, most frequent first

    @property
    def answered_without_officer(self) -> int:
        return self.conversations - self.handover_conversations

    @property
    def fallback_rate(self) -> float:
        return percent(self.fallbacks, self.messages)

    @property
    def handover_rate(self) -> float:
        return percent(self.handover_conversations, self.conversations)

    @property
    def follow_rate(self) -> float:
        return percent(self.referrals_followed, self.referrals_shown)

    def level_share(self, level: str) -> float:
        return percent(self.levels.get(level, 0), sum(self.levels.values()))


def percent(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


@dataclass
class _Conversations:
    """What the broker's events say, folded per conversation (sender, day)."""

    channel_of: dict[str, str] = field(default_factory=dict)
    days: dict[tuple[str, dt.date], str] = field(default_factory=dict)  # conversation → channel
    messages: int = 0
    fallbacks: int = 0
    handovers: set[tuple[str, dt.date]] = field(default_factory=set)
    asked: set[tuple[str, dt.date, str]] = field(default_factory=set)
    unanswered: Counter[str] = field(default_factory=Counter)


def figures(period: Period, *, events_db: Optional[Path], desk_db: Path, kb: KnowledgeBase) -> Figures:
    """The figures of ``period``: the dashboard shows them and the monthly report prints them."""
    conv = _fold_broker(_broker_events(events_db), period)
    wanted = _senders_filter(conv, period)
    days = _day_rows(conv)
    by_channel: dict[str, tuple[int, int]] = {}
    for channel in sorted({c for c in conv.days.values()}):
        keys = [k for k, c in conv.days.items() if c == channel]
        by_channel[channel] = (len(keys), len({s for s, _ in keys}))
    shown = _desk_referrals(desk_db, period, wanted)
    followed = ClickCounter(desk_db).by_procedure(period.start, period.end, period.channel)
    asked = Counter(p for _, _, p in conv.asked)
    return Figures(
        period=period, days=days, conversations=len(conv.days), citizens=len({s for s, _ in conv.days}),
        by_channel=by_channel, messages=conv.messages, fallbacks=conv.fallbacks,
        handover_conversations=len(conv.handovers & set(conv.days)),
        procedures=_procedure_rows(kb, asked, shown, followed), levels=_levels(kb, asked),
        referrals_shown=sum(shown.values()), referrals_followed=sum(followed.values()),
        feedback=_feedback(desk_db, period, wanted), handovers=_handovers(desk_db, period),
        unanswered=conv.unanswered.most_common(UNANSWERED_TOP),
    )


def _broker_events(path: Optional[Path]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(sender id, event) in the order Rasa published them; nothing when there is no broker file."""
    if path is None or not Path(path).is_file():
        return
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        try:
            rows = conn.execute("SELECT sender_id, data FROM events ORDER BY id").fetchall()
        except sqlite3.OperationalError:  # Rasa has not created its table yet
            return
    finally:
        conn.close()
    for sender, data in rows:
        try:
            event = json.loads(data)
        except (TypeError, ValueError):
            continue
        if isinstance(event, dict) and sender:
            yield str(sender), event


def _local_day(timestamp: object) -> Optional[dt.date]:
    if not isinstance(timestamp, (int, float)):
        return None
    return dt.datetime.fromtimestamp(timestamp, ZONE).date()


def _fold_broker(events: Iterator[tuple[str, dict[str, Any]]], period: Period) -> _Conversations:
    conv = _Conversations()
    last_text: dict[str, str] = {}
    for sender, event in events:
        kind = event.get("event")
        if kind == "user" and event.get("input_channel"):
            conv.channel_of[sender] = str(event["input_channel"])
        day = _local_day(event.get("timestamp"))
        channel = conv.channel_of.get(sender, "other")
        if day is None or not period.holds(day) or (period.channel and channel != period.channel):
            continue
        key = (sender, day)
        if kind == "user":
            conv.days[key] = channel
            conv.messages += 1
            last_text[sender] = str(event.get("text") or "")
        elif kind == "action" and event.get("name") == FALLBACK_ACTION:
            conv.fallbacks += 1
            question = _question(last_text.pop(sender, ""))
            if question:
                conv.unanswered[question] += 1
        elif kind == "action" and event.get("name") == HANDOVER_ACTION:
            conv.handovers.add(key)
        elif kind == "slot" and event.get("name") == PROCEDURE_SLOT and isinstance(event.get("value"), str):
            conv.asked.add((sender, day, event["value"]))
    return conv


def _question(text: str) -> str:
    """The form questions are grouped by: display-normalised, lower case, one space; not a payload."""
    text = " ".join(normalize_for_display(text).lower().split())
    return "" if text.startswith("/") else text[:200]


def _senders_filter(conv: _Conversations, period: Period) -> Optional[set[str]]:
    """With a channel filter, the citizens of that channel (None: everyone)."""
    if not period.channel:
        return None
    return {s for s, c in conv.channel_of.items() if c == period.channel}


def _day_rows(conv: _Conversations) -> list[DayRow]:
    per: dict[tuple[dt.date, str], set[str]] = defaultdict(set)
    count: Counter[tuple[dt.date, str]] = Counter()
    for (sender, day), channel in conv.days.items():
        per[(day, channel)].add(sender)
        count[(day, channel)] += 1
    return [DayRow(day, channel, count[(day, channel)], len(per[(day, channel)])) for day, channel in sorted(per)]


def _desk_rows(desk_db: Path, sql: str) -> list[sqlite3.Row]:
    if not Path(desk_db).is_file():
        return []
    conn = sqlite3.connect(f"file:{desk_db}?mode=ro", uri=True, timeout=10)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql).fetchall()
    except sqlite3.OperationalError:  # a desk file from before the table
        return []
    finally:
        conn.close()


def _in_period(stamp: Optional[str], period: Period) -> bool:
    if not stamp:
        return False
    try:
        when = dt.datetime.fromisoformat(stamp)
    except ValueError:
        return False
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return period.holds(when.astimezone(ZONE).date())


def _desk_referrals(desk_db: Path, period: Period, wanted: Optional[set[str]]) -> Counter[str]:
    rows = _desk_rows(desk_db, "SELECT sender_id, created_at, ref FROM event WHERE type = 'online_referral'")
    return Counter(r["ref"] for r in rows if r["ref"] and _in_period(r["created_at"], period)
                   and (wanted is None or r["sender_id"] in wanted))


def _feedback(desk_db: Path, period: Period, wanted: Optional[set[str]]) -> Feedback:
    rows = [r for r in _desk_rows(desk_db, "SELECT sender_id, created_at, value, rating FROM feedback")
            if _in_period(r["created_at"], period) and (wanted is None or r["sender_id"] in wanted)]
    ratings = [int(r["rating"]) for r in rows if r["rating"] is not None]
    return Feedback(sum(r["value"] == "up" for r in rows), sum(r["value"] == "down" for r in rows), len(ratings),
                    round(statistics.fmean(ratings), 2) if ratings else None)


def _handovers(desk_db: Path, period: Period) -> Handovers:
    rows = [r for r in _desk_rows(desk_db, "SELECT * FROM handover") if _in_period(r["created_at"], period)
            and (not period.channel or r["channel"] == period.channel)]
    waits = [_minutes(r["created_at"], r["taken_at"]) for r in rows if "taken_at" in r.keys() and r["taken_at"]]
    return Handovers(len(rows), len(waits), sum(r["status"] == "closed" for r in rows),
                     round(statistics.median(waits), 1) if waits else None,
                     sum(not r["within_office_hours"] for r in rows))


def _minutes(start: str, end: str) -> float:
    return (dt.datetime.fromisoformat(end) - dt.datetime.fromisoformat(start)).total_seconds() / 60


def _level(kb: KnowledgeBase, procedure_id: str) -> str:
    p = kb.procedures.get(procedure_id)
    return p.online.type if p else "other"


def _procedure_rows(kb: KnowledgeBase, asked: Counter[str], shown: Counter[str],
                    followed: dict[str, int]) -> list[ProcedureRow]:
    ids = sorted(set(asked) | set(shown) | set(followed),
                 key=lambda i: (-asked.get(i, 0), -shown.get(i, 0), -followed.get(i, 0), i))
    rows = []
    for pid in ids:
        p = kb.procedures.get(pid)
        rows.append(ProcedureRow(pid, p.name if p else pid, _level(kb, pid), asked.get(pid, 0), shown.get(pid, 0),
                                 followed.get(pid, 0)))
    return rows


def _levels(kb: KnowledgeBase, asked: Counter[str]) -> dict[str, int]:
    levels: Counter[str] = Counter()
    for pid, n in asked.items():
        levels[_level(kb, pid)] += n
    return {level: levels.get(level, 0) for level in LEVEL_NAMES if level != "other" or levels.get(level)}
