"""The channel table of a portal record: "Hình thức nộp | Thời gian | Phí, lệ phí | Mô tả".

The National Public Service Portal records (``dvcqg``) keep the table as text whose cells are
run together without separators. ``parse_channels`` cuts it back into rows with anchors the
portal always prints (channel names, time units, fee words) and never guesses a value that is
not in the text: what it cannot find stays empty and the importer reports it as a warning.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Optional

from knowledge.catalogue.importers.common import FEE_LIMIT, NO_INFO, clean, clip
from knowledge.catalogue.models import Channel, ChannelKind

_WS = re.compile(r"\s+")

CHANNEL_HEADER = "Hình thức nộpThời gianPhí, lệ phíMô tả"
KIND_OF: dict[str, ChannelKind] = {
    "trực tuyến": "truc_tuyen",
    "trực tiếp": "truc_tiep",
    "dịch vụ bưu chính": "buu_chinh",
    "bưu chính": "buu_chinh",
    "qua bưu chính": "buu_chinh",
}

_ANCHOR = re.compile(r"Dịch vụ bưu chính|Bưu chính|Trực tuyến|Trực tiếp")
_TIME_UNIT = r"Ngày làm việc|Ngày|Giờ làm việc|Giờ|Tháng|Năm|Tuần|Phút"
_TIME = re.compile(rf"\s*(?:(?P<num>\d+(?:[.,]\d+)?)(?:\s*(?P<unit>{_TIME_UNIT}))?|(?P<none>{NO_INFO}))")
_CURRENCY = r"Việt Nam Đồng|VNĐ|Đồng|đồng|USD"
_FEE_BODY = rf"Miễn phí|{NO_INFO}|(?:(?:Lệ phí|Phí)\s*:\s*)?(?P<amount>\d[\d.,]*)?\s*(?:{_CURRENCY})"
_FEE = re.compile(rf"\s*(?P<fee>{_FEE_BODY})")
# Looser search used only to find where a free-text time cell ends (the fee must have an amount
# or be one of the fixed words, so that "đồng" inside a sentence does not end the cell).
_FEE_SEARCH = re.compile(rf"Miễn phí|{NO_INFO}|(?:(?:Lệ phí|Phí)\s*:\s*)?\d[\d.,]*\s*(?:{_CURRENCY})")


# "(1) Trường hợp …", "(a) …": a numbered description, not a fee detail.
_ENUMERATOR = re.compile(r"\((?:\d{1,2}|[a-zđ]|[ivx]{1,4})\)")


def channel_kind(name: str) -> Optional[ChannelKind]:
    return KIND_OF.get(_WS.sub(" ", name).strip().casefold())


@dataclass
class _Row:
    kind: ChannelKind
    start: int  # where the channel name starts
    head_end: int  # where the fee token ends (the optional fee detail and the description follow)
    time: Optional[str]
    fee_token: str
    amount: Optional[str]


def _row_head(body: str, pos: int, free_time: Optional[str]) -> Optional[tuple[Optional[str], re.Match[str]]]:
    """(time, fee match) of the cells right after a channel name at ``pos``; ``None`` when they are not there."""
    t = _TIME.match(body, pos)
    if t and (t.group("num") or t.group("none")):
        f = _FEE.match(body, t.end())
        if f:
            return (None if t.group("none") else _WS.sub(" ", t.group(0)).strip()), f
    if free_time:
        # Later rows repeat the first row's free-text time (sometimes with a different ending).
        lead = len(body) - len(body[pos:].lstrip())
        if body.startswith(free_time[:20], lead):
            found = _FEE_SEARCH.search(body, lead, lead + len(free_time) + 100)
            f = _FEE.match(body, found.start()) if found else None
            if found and f:
                return clean(body[lead : found.start()]), f
    return None


def _free_head(body: str, pos: int) -> tuple[Optional[str], Optional[re.Match[str]]]:
    """(time, fee match) when the time cell is free text: it ends where the fee cell starts."""
    found = _FEE_SEARCH.search(body, pos, pos + 300)
    if found is None:
        return None, None
    return clean(body[pos : found.start()]), _FEE.match(body, found.start())


def _closing_paren(text: str) -> int:
    """Index of the parenthesis closing ``text[0] == "("``, or -1 when it is never closed."""
    depth = 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i
    return -1


def parse_channels(text: str) -> list[Channel]:
    """Split the run-together "Hình thức nộp | Thời gian | Phí, lệ phí | Mô tả" table.

    A row starts at a channel name (Trực tuyến, Trực tiếp, Dịch vụ bưu chính, Bưu chính)
    that is followed by a time cell (a number with an optional unit, or "Không có thông
    tin") and a fee cell ("Miễn phí", "Không có thông tin", an amount with its currency,
    optionally "Phí :"/"Lệ phí :" before it). Channel names inside descriptions are not
    followed by that shape and are left alone. When the first row's time is free text
    ("Không quy định", …), the later rows are found by that same text.
    """
    body = (text or "").replace(CHANNEL_HEADER, "\n")
    rows: list[_Row] = []
    free_time: Optional[str] = None
    for anchor in _ANCHOR.finditer(body):
        if rows and anchor.start() < rows[-1].head_end:
            continue
        kind = channel_kind(anchor.group(0))
        if kind is None:  # pragma: no cover - the anchor pattern only matches known names
            continue
        head = _row_head(body, anchor.end(), free_time)
        if head is None and not rows and len(body[: anchor.start()].strip()) < 5:
            time, fee_m = _free_head(body, anchor.end())
            free_time = time
            if fee_m is None:
                rows.append(_Row(kind, anchor.start(), anchor.end(), None, "", None))
                continue
            head = time, fee_m
        if head is not None:
            time, fee_cell = head
            rows.append(_Row(kind, anchor.start(), fee_cell.end(), time, fee_cell.group("fee"),
                             fee_cell.group("amount")))

    channels: list[Channel] = []
    for i, row in enumerate(rows):
        end = rows[i + 1].start if i + 1 < len(rows) else len(body)
        rest = body[row.head_end : end].strip()
        detail: Optional[str] = None
        if rest.startswith("(") and row.fee_token != NO_INFO and not _ENUMERATOR.match(rest):
            close = _closing_paren(rest)
            detail, rest = (rest[1:close], rest[close + 1 :]) if close >= 0 else (rest[1:], "")
            detail = clean(detail)
        fee = _fee_text(row.fee_token, row.amount, detail)
        note = clean(rest)
        channel = Channel(kind=row.kind, time_limit=row.time, fee=fee, note=clip(note) if note else None)
        if channel not in channels:
            channels.append(channel)
    return channels


def _fee_text(token: str, amount: Optional[str], detail: Optional[str]) -> Optional[str]:
    token = _WS.sub(" ", token).strip()
    if not token or token == NO_INFO:
        return clip(detail, FEE_LIMIT) if detail else None
    if amount is None and token not in {"Miễn phí"}:
        # A currency without an amount ("VNĐ", "Phí : Đồng"): only the detail says anything.
        return clip(detail, FEE_LIMIT) if detail else None
    return clip(f"{token} ({detail})", FEE_LIMIT) if detail else token


def channel_warnings(channels: Sequence[Channel]) -> list[str]:
    if not channels:
        return ["no channels: none found in the source text"]
    notes = []
    no_fee = [c.kind for c in channels if not c.fee]
    no_time = [c.kind for c in channels if not c.time_limit]
    if no_fee:
        notes.append(f"fee missing: {', '.join(dict.fromkeys(no_fee))}")
    if no_time:
        notes.append(f"time missing: {', '.join(dict.fromkeys(no_time))}")
    return notes

