"""Typed records of the knowledge base.

Every record carries ``source`` (where its facts come from) and ``checked_on``.
Descriptions and steps are written in the project's own words; facts (codes, names,
fees, time limits, agencies, document numbers, dates) are taken from the source.
A field that the source does not give stays empty: the bot then says where the
citizen can find it, it never guesses.

Every link (``Procedure.url``, ``OnlineService.url``, ``Guide.links[].url``, ``Directive.url``)
must pass ``knowledge.text.links.safe_link``: https with a host, or tel:. A record with any
other link (``http:``, ``javascript:``, relative…) does not load.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from knowledge.text import fold, syllables
from knowledge.text.links import safe_link

OnlineType = Literal["toan_trinh", "mot_phan", "khong"]
ChannelKind = Literal["truc_tuyen", "truc_tiep", "buu_chinh"]

ONLINE_TYPE_LABEL: dict[str, str] = {
    "toan_trinh": "Dịch vụ công trực tuyến toàn trình (tương đương mức độ 4 cũ)",
    "mot_phan": "Dịch vụ công trực tuyến một phần (tương đương mức độ 3 cũ)",
    "khong": "Chưa cung cấp trực tuyến",
}
LEGACY_LEVEL: dict[str, Optional[int]] = {"toan_trinh": 4, "mot_phan": 3, "khong": None}
CHANNEL_LABEL: dict[str, str] = {
    "truc_tuyen": "Trực tuyến",
    "truc_tiep": "Trực tiếp",
    "buu_chinh": "Qua bưu chính",
}

# Who a procedure is for, from the portal's "Đối tượng thực hiện": individual citizens (Vietnamese,
# households, Vietnamese abroad), foreign nationals, organisations (public bodies and officials acting
# for them included), enterprises (cooperatives and employers included).
Audience = Literal["cong_dan", "nguoi_nuoc_ngoai", "to_chuc", "doanh_nghiep"]
_AUDIENCES: tuple[Audience, ...] = ("cong_dan", "nguoi_nuoc_ngoai", "to_chuc", "doanh_nghiep")
AUDIENCE_LABEL: dict[str, str] = {
    "cong_dan": "Công dân",
    "nguoi_nuoc_ngoai": "Người nước ngoài",
    "to_chuc": "Tổ chức",
    "doanh_nghiep": "Doanh nghiệp",
}
# Folded phrases, matched on whole syllables. The portal writes "Tổ chức (không bao gồm doanh
# nghiệp, HTX)": the parenthesis is dropped before matching so that it does not read as enterprises.
_NOT_ENTERPRISES = re.compile(r"\(\s*khong bao gom[^)]*\)")
_VIETNAMESE_ABROAD = ("dinh cu o nuoc ngoai", "goc viet nam")
_AUDIENCE_WORDS: dict[str, tuple[str, ...]] = {
    "doanh_nghiep": ("doanh nghiep", "hop tac xa", "htx", "su dung lao dong", "nha dau tu", "chu dau tu"),
    "to_chuc": ("to chuc", "co quan", "don vi", "can bo", "cong chuc", "vien chuc", "co so"),
    "nguoi_nuoc_ngoai": ("nuoc ngoai", "khong quoc tich"),
}
# Phrases with a citizen word inside that name someone else ("người nước ngoài", "người sử dụng lao động").
_NOT_CITIZEN = ("nguoi nuoc ngoai", "cong dan nuoc ngoai", "nguoi khong quoc tich", "nguoi su dung lao dong",
                "ca nhan nuoc ngoai")
_CITIZEN_WORDS = ("cong dan", "ca nhan", "ho gia dinh", "nguoi", "cha", "me", "vo", "chong", "con", "chu ho",
                  "hoc sinh", "sinh vien", "dang vien", "cong dong dan cu", "ho")


def _has(text: str, phrases: tuple[str, ...]) -> bool:
    return any(f" {p} " in text for p in phrases)


def audience_of(applicants: Optional[str]) -> list[Audience]:
    """The audiences named by a record's applicants (``doi_tuong_thuc_hien``); empty when it names none."""
    if not applicants:
        return []
    text = " " + " ".join(syllables(_NOT_ENTERPRISES.sub(" ", fold(applicants)))) + " "
    found: set[str] = set()
    if _has(text, _VIETNAMESE_ABROAD):
        found.add("cong_dan")
        for phrase in _VIETNAMESE_ABROAD:
            text = text.replace(f" {phrase} ", " ")
    found |= {label for label, words in _AUDIENCE_WORDS.items() if _has(text, words)}
    for phrase in _NOT_CITIZEN:
        text = text.replace(f" {phrase} ", " ")
    if _has(text, _CITIZEN_WORDS):
        found.add("cong_dan")
    return [a for a in _AUDIENCES if a in found]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _checked_link(value: Optional[str]) -> Optional[str]:
    if value is None:
        return None
    link = safe_link(value)
    if link is None:
        raise ValueError("not a safe link: only https:// links with a host, or tel: numbers, are allowed")
    return link


class Channel(_Record):
    """One way of submitting, with its own time limit and fee."""

    kind: ChannelKind
    time_limit: Optional[str] = None
    fee: Optional[str] = None
    note: Optional[str] = None


class OnlineService(_Record):
    type: OnlineType
    url: Optional[str] = None
    note: Optional[str] = None

    _url = field_validator("url")(_checked_link)

    @property
    def legacy_level(self) -> Optional[int]:
        return LEGACY_LEVEL[self.type]

    @property
    def label(self) -> str:
        return ONLINE_TYPE_LABEL[self.type]


class LegalRef(_Record):
    number: str
    title: Optional[str] = None


class Link(_Record):
    title: str
    url: str

    _url = field_validator("url")(_checked_link)


class Procedure(_Record):
    """An administrative procedure (thủ tục hành chính) as the citizen meets it."""

    id: str = Field(min_length=1)
    code: Optional[str] = None  # mã thủ tục on the National Public Service Portal
    name: str = Field(min_length=3)
    field: str
    level: list[str] = Field(default_factory=list)
    agency: Optional[str] = None
    receiving_agency: Optional[str] = None
    applicants: Optional[str] = None
    audience: list[Audience] = Field(default_factory=list)  # from ``applicants`` when not given
    aliases: list[str] = Field(default_factory=list)
    summary: str = Field(min_length=10)
    online: OnlineService
    channels: list[Channel] = Field(default_factory=list)
    documents: list[str] = Field(default_factory=list)
    online_steps: list[str] = Field(default_factory=list)
    result: Optional[str] = None
    legal_basis: list[LegalRef] = Field(default_factory=list)
    url: Optional[str] = None
    related: list[str] = Field(default_factory=list)
    source: str = Field(min_length=5)
    checked_on: dt.date

    _url = field_validator("url")(_checked_link)

    @model_validator(mode="before")
    @classmethod
    def _derive_audience(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("audience") and data.get("applicants"):
            return {**data, "audience": audience_of(str(data["applicants"]))}
        return data

    @property
    def for_citizens(self) -> bool:
        """True unless the record names only other audiences (organisations, enterprises, foreigners)."""
        return not self.audience or "cong_dan" in self.audience

    @field_validator("level")
    @classmethod
    def _no_district(cls, value: list[str]) -> list[str]:
        # Since 1/7/2025 there is no district level; a record naming it is out of date.
        for item in value:
            if "huyện" in item.lower():
                raise ValueError("cấp huyện no longer exists since 1/7/2025")
        return value

    def channel(self, kind: ChannelKind) -> Optional[Channel]:
        return next((c for c in self.channels if c.kind == kind), None)


class Guide(_Record):
    """A short how-to on using online public services in general."""

    id: str = Field(min_length=1)
    title: str = Field(min_length=3)
    aliases: list[str] = Field(default_factory=list)
    summary: str = Field(min_length=10)
    steps: list[str] = Field(default_factory=list)
    body: Optional[str] = None
    links: list[Link] = Field(default_factory=list)
    source: str = Field(min_length=5)
    checked_on: dt.date


class Directive(_Record):
    """A decision, plan, directive or report behind the outreach on online services."""

    id: str = Field(min_length=1)
    doc_number: str = Field(min_length=3)
    doc_type: str
    date: dt.date
    issuer: str
    title: str
    summary: str = Field(min_length=10)
    key_points: list[str] = Field(default_factory=list)
    implements: list[str] = Field(default_factory=list)  # doc_numbers this one carries out
    note: Optional[str] = None
    aliases: list[str] = Field(default_factory=list)
    url: Optional[str] = None
    source: str = Field(min_length=5)
    checked_on: dt.date

    _url = field_validator("url")(_checked_link)

    @property
    def citation(self) -> str:
        return f"{self.doc_type} {self.doc_number} ngày {self.date:%d/%m/%Y} của {self.issuer}"
