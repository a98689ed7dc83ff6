"""The colloquial lexicon: official wording ⇄ what citizens say, as reviewed data (``colloquial.yaml``).

Used when the index is built, never on queries: a record whose name, aliases or result contains an
entry's official phrase gets the entry's everyday names in its indexed text, so that "sổ đỏ" finds
"Cấp đổi Giấy chứng nhận quyền sử dụng đất". The file's hash goes into the index's meta: a changed
lexicon makes the index stale.

Phrases are compared folded (no diacritics, lowercase) on whole syllables.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from knowledge.catalogue.models import Audience
from knowledge.errors import KnowledgeBaseError
from knowledge.text import syllables

DEFAULT_LEXICON = Path(__file__).resolve().parent / "colloquial.yaml"


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LexiconEntry(_Data):
    stands_for: str = Field(min_length=3)
    match: list[str] = Field(min_length=1)
    fields: list[str] = Field(default_factory=list)
    not_with: list[str] = Field(default_factory=list)
    everyday: list[str] = Field(min_length=1)
    reason: str = Field(min_length=10)
    source: str = Field(min_length=5)


class AudienceCue(_Data):
    words: list[str] = Field(min_length=1)
    reason: str = Field(min_length=10)


class LexiconFile(_Data):
    version: int
    entries: list[LexiconEntry]
    audience_cues: dict[Audience, AudienceCue] = Field(default_factory=dict)


def _folded(text: str) -> str:
    """`` word word `` (folded syllables padded with spaces) so that ``f" {p} " in text`` matches whole syllables."""
    return " " + " ".join(syllables(text)) + " "


def _phrases(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(p for p in (_folded(i) for i in items) if p.strip())


@dataclass(frozen=True)
class _Rule:
    match: tuple[str, ...]
    fields: tuple[str, ...]
    not_with: tuple[str, ...]
    everyday: tuple[str, ...]


@dataclass(frozen=True)
class Lexicon:
    """The compiled lexicon; ``digest`` identifies the file's content."""

    rules: tuple[_Rule, ...]
    cues: dict[str, tuple[str, ...]]
    digest: str
    entries: int

    def everyday_names(self, texts: Sequence[str], field: str = "", name: str = "") -> list[str]:
        """Everyday names of the entries matching ``texts`` (name, aliases, result), once each, in file order.

        ``field`` is the record's lĩnh vực (for entries limited to some fields); ``name`` is checked
        against an entry's ``not_with``.
        """
        haystack = " ".join(_folded(t) for t in texts if t)
        folded_field, folded_name = _folded(field), _folded(name)
        out: list[str] = []
        for rule in self.rules:
            if not any(p in haystack for p in rule.match):
                continue
            if rule.fields and not any(f.strip() in folded_field for f in rule.fields):
                continue
            if any(p in folded_name for p in rule.not_with):
                continue
            out += [e for e in rule.everyday if e not in out]
        return out

    def audiences_named(self, query: str) -> frozenset[str]:
        """The audiences (other than citizens) a question names, e.g. "công ty" → doanh_nghiep."""
        folded = _folded(query)
        return frozenset(a for a, words in self.cues.items() if any(w in folded for w in words))


def parse_lexicon(raw: bytes, where: str = "lexicon") -> Lexicon:
    try:
        data = yaml.safe_load(raw) or {}
        parsed = LexiconFile.model_validate(data)
    except yaml.YAMLError as exc:
        raise KnowledgeBaseError(f"{where}: not valid YAML: {exc}") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        place = ".".join(str(p) for p in first.get("loc", ()))
        raise KnowledgeBaseError(f"{where}: {place}: {first.get('msg', '')}") from None
    rules = tuple(
        _Rule(_phrases(e.match), _phrases(e.fields), _phrases(e.not_with), tuple(e.everyday)) for e in parsed.entries
    )
    cues: dict[str, tuple[str, ...]] = {a: _phrases(c.words) for a, c in parsed.audience_cues.items()}
    return Lexicon(rules, cues, hashlib.sha256(raw).hexdigest(), len(parsed.entries))


@functools.lru_cache(maxsize=4)
def _load_cached(path: str, mtime_ns: int, size: int) -> Lexicon:
    return parse_lexicon(Path(path).read_bytes(), path)


def load_lexicon(path: Optional[Path | str] = None) -> Lexicon:
    """The lexicon at ``path`` (default: the shipped ``colloquial.yaml``), re-read when the file changes."""
    target = Path(path) if path else DEFAULT_LEXICON
    try:
        st = target.stat()
    except OSError as exc:
        raise KnowledgeBaseError(f"lexicon not found: {target}") from exc
    return _load_cached(str(target), st.st_mtime_ns, st.st_size)
