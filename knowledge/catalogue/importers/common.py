"""Helpers both catalogue importers share: cleaned text, clipped notes, source links, and the
``Procedure`` they build from the fields both portals give.

The tables are read in ``channels``, ``documents`` and ``legal_basis``; results, failures and
the written catalogue are in ``report``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from typing import Any, Optional
from urllib.parse import urlsplit

from knowledge.catalogue.models import (
    Channel,
    LegalRef,
    OnlineService,
    OnlineType,
    Procedure,
    audience_of,
)
from knowledge.text.links import safe_link

NO_INFO = "Không có thông tin"
NOTE_LIMIT = 500
FEE_LIMIT = 500

# --------------------------------------------------------------------------- text helpers

_WS = re.compile(r"\s+")


def clean(value: Any) -> Optional[str]:
    """Whitespace collapsed; ``None`` for empty values and the portal's "no information"."""
    if value is None:
        return None
    text = _WS.sub(" ", str(value)).strip()
    if not text or text.casefold() == NO_INFO.casefold():
        return None
    return text


LINK_DROPPED = "link dropped"
LINK_UPGRADED = "link upgraded"


def import_link(value: Any, field_name: str) -> tuple[Optional[str], list[str]]:
    """A source link as the knowledge base takes it, and the warnings about it.

    ``http://`` becomes ``https://`` only for hosts under ``.gov.vn`` (the state portals all
    serve https); any other link that ``safe_link`` refuses is dropped and reported, never kept.
    """
    url = clean(value)
    if url is None:
        return None, []
    notes: list[str] = []
    if url[:7].lower() == "http://":
        host = (urlsplit_host(url) or "").lower().rstrip(".")
        if host == "gov.vn" or host.endswith(".gov.vn"):
            url = "https://" + url[7:]
            notes.append(f"{LINK_UPGRADED}: {field_name} http:// → https:// ({host})")
    link = safe_link(url)
    if link is None:
        return None, [f"{LINK_DROPPED}: {field_name} is not an https:// link ({url[:80]!r})"]
    return link, notes


def urlsplit_host(url: str) -> Optional[str]:
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None


def clip(text: str, limit: int = NOTE_LIMIT) -> str:
    """Cut ``text`` at a word boundary to at most ``limit`` characters, marking the cut."""
    text = _WS.sub(" ", text).strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:") + "…"


# --------------------------------------------------------------------------- levels, online service, the record

LEVELS = {"cấp bộ": "cấp bộ", "cấp tỉnh": "cấp tỉnh", "cấp xã": "cấp xã"}


def map_levels(text: str) -> tuple[list[str], list[str]]:
    """Levels of the model from "Cấp bộ, Cấp tỉnh, Cấp xã, Cơ quan khác"; also the notes to warn about.

    "Cơ quan khác" is dropped; "Cấp huyện" no longer exists (1/7/2025) and becomes "cấp xã".
    """
    levels: list[str] = []
    notes: list[str] = []
    for part in re.split(r"[,;]", text or ""):
        key = _WS.sub(" ", part).strip().casefold()
        if not key or key == "cơ quan khác":
            continue
        if "huyện" in key:
            value = "cấp xã"
            notes.append(f"district level: {part.strip()!r} mapped to cấp xã (no district level since 1/7/2025)")
        elif key in LEVELS:
            value = LEVELS[key]
        else:
            notes.append(f"unknown level: {part.strip()!r} dropped")
            continue
        if value not in levels:
            levels.append(value)
    return levels, notes


# Notes written when the portal page says no more than this; the answers recognise them
# (actions/messages.py, GENERIC_ONLINE_NOTES) and say it in their own words.
TOAN_TRINH_UNCHECKED = "Trang thủ tục trên Cổng ghi là toàn trình; các bước chưa được kiểm tra lại."
ONLINE_LEVEL_UNKNOWN = "Trang thủ tục trên Cổng có kênh nộp trực tuyến nhưng không ghi rõ có bước nào phải đến cơ quan."
_SELF_FULLY_ONLINE = re.compile(r"(?<!đã )toàn trình", re.IGNORECASE)


def online_service(name: str, texts: Iterable[Optional[str]], channels: Sequence[Channel],
                   url: Optional[str]) -> OnlineService:
    """``toan_trinh`` when the record says "toàn trình" of itself, else ``mot_phan`` with an online channel.

    The name counts whenever it says so; in the other texts "… các TTHC đã toàn trình" speaks of
    other procedures (a conditional sentence copied across tax records) and does not count.
    """
    body = " ".join(t or "" for t in texts)
    kind: OnlineType
    if "toàn trình" in name.casefold() or _SELF_FULLY_ONLINE.search(body):
        kind = "toan_trinh"
        note = TOAN_TRINH_UNCHECKED
    elif any(c.kind == "truc_tuyen" for c in channels):
        kind = "mot_phan"
        note = ONLINE_LEVEL_UNKNOWN
    else:
        kind = "khong"
        note = None
    return OnlineService(type=kind, url=url, note=note)


def make_summary(name: str, field: Optional[str], result: Optional[str]) -> str:
    """A neutral sentence built from the record's own fields."""
    parts = [name.rstrip(" .")]
    if field:
        parts.append(f"Lĩnh vực: {field.rstrip(' .')}")
    if result:
        parts.append(f"Kết quả: {clip(result, 200).rstrip(' .')}")
    summary = ". ".join(parts) + "."
    if len(summary) < 10:
        summary = f"Thủ tục hành chính: {summary}"
    return summary


def imported_procedure(*, code: str, name: str, field: str, levels: list[str], competent: Optional[str],
                       implementing: Optional[str], receiving_address: Optional[str], applicants: Optional[str],
                       result: Optional[str], online: OnlineService, channels: list[Channel], documents: list[str],
                       legal: list[LegalRef], url: Optional[str], source: str, checked_on: dt.date) -> Procedure:
    """A ``Procedure`` from fields both portals give, filled the same way for both: the
    competent agency (else the implementing one), the receiving address (else the
    implementing agency when it is another), long texts clipped, the audience read from the
    applicants (``audience_of``). Aliases and online steps stay empty: they are written by people,
    not imported."""
    agency = competent or implementing
    receiving = receiving_address or (implementing if implementing != agency else None)
    return Procedure(
        id=code,
        code=code,
        name=name,
        field=field,
        level=levels,
        agency=clip(agency) if agency else None,
        receiving_agency=clip(receiving) if receiving else None,
        applicants=clip(applicants) if applicants else None,
        audience=audience_of(applicants),
        aliases=[],
        summary=make_summary(name, field, result),
        online=online,
        channels=channels,
        documents=documents,
        online_steps=[],
        result=clip(result) if result else None,
        legal_basis=legal,
        url=url,
        related=[],
        source=source,
        checked_on=checked_on,
    )


