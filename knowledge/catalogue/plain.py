"""Fees and time limits in plain words, as they hold on a given day.

The portal's fee cells mix the amount in force with periods that have ended ("Kể từ ngày
01/01/2025 đến hết ngày 31/12/2025, … bằng 50%"), and write amounts as "70,000 Việt Nam Đồng".
These helpers keep what is in force on ``today`` and write amounts the Vietnamese way
("70.000 đồng"); they never add an amount, they only leave out periods whose end date has passed.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Optional

_UNTIL = re.compile(r"đến\s+(?:hết\s+)?(?:ngày\s+)?(\d{1,2})/(\d{1,2})/((?:19|20)\d{2})", re.IGNORECASE)
# Sentences and the "- " items of a list run together in one cell.
_PARTS = re.compile(r"(?<=[.;])\s+|\s+-\s+|^\s*-\s+")
_AMOUNT = re.compile(r"(?<![\d.,])(\d{1,3}(?:,\d{3})+|\d+)\s*Việt Nam Đồng", re.IGNORECASE)
_UNIT_CASE = re.compile(r"(?<=\d)\s+(Ngày|Tháng|Giờ|Năm)\b")
_SPACES = re.compile(r"\s+")
_LIST_DASH = re.compile(r"\(\s*-\s+")  # "(- Cấp lại …" opens a list of one item


def _end_dates(text: str) -> list[dt.date]:
    out = []
    for d, m, y in _UNTIL.findall(text):
        try:
            out.append(dt.date(int(y), int(m), int(d)))
        except ValueError:
            continue
    return out


def _balanced(text: str) -> str:
    """Drop unmatched closing brackets and close open ones, after parts were left out."""
    out, depth = [], 0
    for ch in text:
        if ch == ")":
            if depth == 0:
                continue
            depth -= 1
        elif ch == "(":
            depth += 1
        out.append(ch)
    text = "".join(out).rstrip(" (")
    return text + ")" * text.count("(") if text.count("(") > text.count(")") else text


_GROUP = re.compile(r"\s*\(([^()]*)\)")


def _drop_ended_periods(text: str, today: dt.date) -> str:
    """Brackets that give another rate for a period that has ended ("135.000 đồng (nộp trực tuyến từ
    01/12/2023 đến hết 31/12/2025: 115.000 đồng)") are left out; a bracket that limits the rate before it
    ("(áp dụng đến hết …)") stays, so that the whole sentence is seen as ended."""

    def keep(m: re.Match[str]) -> str:
        inner = m.group(1)
        if len([p for p in _PARTS.split(inner) if p and p.strip()]) > 1:
            return m.group(0)  # several sentences: judged one by one below
        ends = _end_dates(inner)
        if ends and max(ends) < today and not inner.strip().lower().startswith("áp dụng"):
            return ""
        return m.group(0)

    return _GROUP.sub(keep, text)


def in_force(text: str, today: dt.date) -> Optional[str]:
    """``text`` without the parts whose period ended before ``today``; None when all of it has ended."""
    text = _drop_ended_periods(text, today)
    parts = [p for p in _PARTS.split(text) if p and p.strip()]
    kept = [p for p in parts if not (ends := _end_dates(p)) or max(ends) >= today]
    if not kept:
        return None
    if len(kept) == len(parts):
        return _SPACES.sub(" ", text).strip()
    return _balanced(_SPACES.sub(" ", " ".join(kept)).strip())


def plain_amounts(text: str) -> str:
    """"70,000 Việt Nam Đồng" → "70.000 đồng"."""
    return _AMOUNT.sub(lambda m: f"{m.group(1).replace(',', '.')} đồng", text)


def plain_fee(text: str, today: dt.date) -> Optional[str]:
    """The fee cell as it holds on ``today``, in plain words; None when it only describes a past rate."""
    current = in_force(text, today)
    return _LIST_DASH.sub("(", plain_amounts(current)) if current else None


def is_free(text: str) -> bool:
    return text.strip().lower().startswith(("miễn", "không thu", "0 đồng", "0 việt nam đồng"))


def plain_time(text: str) -> str:
    """"15 Ngày làm việc" → "15 ngày làm việc"."""
    return _UNIT_CASE.sub(lambda m: " " + m.group(1).lower(), _SPACES.sub(" ", text).strip())
