"""Reforms a question can be out of date about: the rule in force, its legal basis, and the cues
that show a message still assumes the old rule ("nộp ở UBND huyện", "đổi bằng lái ở Sở GTVT",
"làm căn cước công dân", "xin sổ hộ khẩu").

Records live in ``<knowledge base>/reforms/*.yaml`` beside procedures and guides, with a source
and the date they were checked like every fact of the base. Cues are data: each one is written
``phrase | phrase + phrase | phrase`` and matches when every ``+`` group has one of its phrases in
the message, compared word by word without accents and with abbreviations expanded ("ubnd" and
"ủy ban nhân dân" are the same cue; "cccd" is "căn cước công dân"). No question is mapped to an answer here;
the service only tells the actions which rules in force a message seems to overlook, and the
actions say that rule before they answer.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Optional

from pydantic import Field, field_validator

from knowledge.catalogue.models import _Record
from knowledge.text import expand_abbreviations, syllables


class Reform(_Record):
    id: str = Field(min_length=1)
    title: str = Field(min_length=5)
    since: dt.date  # the day the rule below came into force
    rule: str = Field(min_length=20, max_length=400)  # what holds now, in a citizen's words
    basis: str = Field(min_length=5)  # the legal basis as a citizen can look it up
    cues: list[str] = Field(min_length=1)
    guide: Optional[str] = None  # the guide that explains the change at length
    source: str = Field(min_length=5)
    checked_on: dt.date

    @field_validator("cues")
    @classmethod
    def _cues_parse(cls, cues: list[str]) -> list[str]:
        for cue in cues:
            if not all(phrase_list(group) for group in cue.split("+")):
                raise ValueError(f"cue {cue!r}: every '+' group needs at least one phrase")
        return cues

    def cued_by(self, folded: str) -> bool:
        """``folded`` (see :func:`folded`) shows the old rule is assumed."""
        return any(_matcher(cue)(folded) for cue in self.cues)


def phrase_list(group: str) -> list[str]:
    return [p.strip() for p in group.split("|") if p.strip()]


def folded(text: str) -> str:
    """Lower case, no accents, abbreviations expanded, one space between syllables."""
    return " ".join(expand_abbreviations(syllables(text or "")))


@lru_cache(maxsize=512)
def _matcher(cue: str):  # type: ignore[no-untyped-def]
    groups = [re.compile(r"\b(?:" + "|".join(re.escape(folded(p)) for p in phrase_list(g)) + r")\b")
              for g in cue.split("+")]
    return lambda folded: all(g.search(folded) for g in groups)


def reforms_cued(reforms: Iterable[Reform], text: str) -> list[Reform]:
    """The reforms ``text`` overlooks, in the order of the base."""
    message = folded(text)
    return [r for r in reforms if r.cued_by(message)] if message else []
