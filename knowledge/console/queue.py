"""The queue page's rows: what an officer reads about each open handover.

The contact is only ever stored with the citizen's consent (knowledge/desk/store.py); this
view shows it only when the consent is recorded as given, whatever the row holds.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Optional

from knowledge.console.db import parse
from knowledge.desk import DeskStore, Handover
from knowledge.desk.store import OPEN, TAKEN

CHANNELS = {
    "socketio": "Cổng dịch vụ công (khung chat)",
    "facebook": "Facebook Messenger",
    "zalo": "Zalo",
    "rest": "Kênh thử nghiệm",
}
REASONS = {
    "citizen_asked": "Người dân yêu cầu gặp cán bộ",
    "repeated_fallback": "Trợ lý ảo nhiều lần không hiểu câu hỏi",
    "other": "Trợ lý ảo không giải quyết được",
}
STATUSES = {OPEN: "Đang chờ", TAKEN: "Đang xử lý", "closed": "Đã kết thúc"}
CALLBACK_LABELS = {"not_called": "Chưa gọi", "called": "Đã gọi", "unreachable": "Không liên lạc được"}
QUEUE_LIMIT = 200
VIETNAM = dt.timezone(dt.timedelta(hours=7), "ICT")


@dataclass(frozen=True)
class QueueRow:
    ref: str
    channel: str
    created_at: str
    waiting: str
    within_office_hours: bool
    consent: str
    contact: Optional[str]
    reason: str = ""
    status: str = ""
    officer: Optional[str] = None
    callback: str = ""
    callback_status: str = "not_called"


def channel_label(channel: Optional[str]) -> str:
    if not channel:
        return "Không rõ"
    return CHANNELS.get(channel, channel)


def waiting_text(delta: dt.timedelta) -> str:
    minutes = max(0, int(delta.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} ngày {hours} giờ"
    if hours:
        return f"{hours} giờ {mins} phút"
    return f"{mins} phút" if mins else "dưới 1 phút"


def consent_text(consent: Optional[bool]) -> str:
    if consent is None:
        return "Chưa trả lời"
    return "Đồng ý để lại liên hệ" if consent else "Không đồng ý"


def row(handover: Handover, now: dt.datetime) -> QueueRow:
    created = parse(handover.created_at)
    return QueueRow(
        ref=handover.ref, channel=channel_label(handover.channel),
        created_at=created.astimezone(VIETNAM).strftime("%H:%M %d/%m/%Y"),
        waiting=waiting_text(now - created), within_office_hours=handover.within_office_hours,
        consent=consent_text(handover.contact_consent),
        contact=handover.contact if handover.contact_consent is True else None,
        reason=REASONS.get(handover.reason, REASONS["other"]), status=STATUSES.get(handover.status, handover.status),
        officer=handover.officer, callback=CALLBACK_LABELS.get(handover.callback_status, ""),
        callback_status=handover.callback_status)


def open_queue(desk: DeskStore, now: dt.datetime, status: str = OPEN) -> list[QueueRow]:
    """Open handovers (or those of another ``status``), the longest waiting first."""
    handovers = desk.handovers(status=status, limit=QUEUE_LIMIT)
    return [row(h, now) for h in sorted(handovers, key=lambda h: (h.created_at, h.id))]
