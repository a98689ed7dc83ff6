"""Normalisation functions (see the package docstring for the pipeline)."""

from __future__ import annotations

import re
import unicodedata

from knowledge.text.abbreviations import ABBREVIATIONS, COLLOQUIAL

# Bump when any function here changes what it returns: indexes record it and refuse to
# load when it differs.
NORMALIZATION_VERSION = "vi-fold-5"

_TONE_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}  # huyền sắc ngã hỏi nặng
_SYLLABLE = re.compile(r"[0-9a-zA-Z\u00c0-\u024f\u1e00-\u1eff]+(?:[./-][0-9a-zA-Z]+)*")
# Old-style placement puts the tone on the second vowel of oa/oe/uy in an open syllable
# (hoà, khoẻ, thuỷ); the canonical form used here puts it on the first (hòa, khỏe, thủy).
_OLD_TONE = re.compile(r"(?i)(?<![qg])([ou])([aey])([\u0300\u0301\u0303\u0309\u0323])(?![a-z\u0300-\u036f])")


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def canonical_tones(text: str) -> str:
    """Move the tone of open oa/oe/uy syllables to the first vowel (hoà → hòa)."""
    decomposed = unicodedata.normalize("NFD", text)
    moved = _OLD_TONE.sub(lambda m: m.group(1) + m.group(3) + m.group(2), decomposed)
    return unicodedata.normalize("NFC", moved)


def normalize_for_display(text: str) -> str:
    """NFC, canonical tones, collapsed whitespace: the form stored and shown."""
    return " ".join(canonical_tones(nfc(text)).split())


def fold(text: str) -> str:
    """Lowercase and strip all diacritics (đ → d); keeps one char per NFC char."""
    out = []
    for ch in nfc(text).lower():
        if ch == "đ":
            out.append("d")
            continue
        base = unicodedata.normalize("NFD", ch)[0]
        out.append(base)
    return "".join(out)


def syllables(text: str) -> list[str]:
    """Folded syllables and alphanumeric codes ("1.001193", "1588/qđ-ttg" keep together)."""
    return [m.group(0).strip(".-/") for m in _SYLLABLE.finditer(fold(text)) if m.group(0).strip(".-/")]


def expand_abbreviations(tokens: list[str]) -> list[str]:
    out: list[str] = []
    for tok in tokens:
        expansion = ABBREVIATIONS.get(tok)
        out.extend(expansion.split() if expansion else [tok])
    return out


_COLLOQUIAL = [(re.compile(rf"(?<![a-z0-9]){re.escape(k)}(?![a-z0-9])"), v) for k, v in COLLOQUIAL.items()]


def add_official_names(matched: str) -> str:
    """Append the official wording of colloquial names found in an already-folded text."""
    extra = [official for pattern, official in _COLLOQUIAL if pattern.search(matched)]
    return " ".join([matched, *extra]) if extra else matched


def normalize_for_match(text: str) -> str:
    """The folded, expanded form used as input of every index (lexical and dense)."""
    return add_official_names(" ".join(expand_abbreviations(syllables(text))))


# Function words that carry no topic; dropped from unigrams only (bigrams keep them so
# that "o dau" or "bao lau" still match as phrases).
STOPWORDS = frozenset(
    "a ah a. ai anh ba bi cac cai can cho chi co con cua da dang de di do duoc gi gium giup ha hay "
    "hoi khi khong la lam lieu luc ma minh muon nay nao ne nhe nhi nho nhu nhung o oi roi sao "
    "the thi thoi toi tu va vay ve voi vui xin em chau bac co ong".split()
)


def lexical_tokens(text: str) -> list[str]:
    """Unigrams (minus stopwords) plus all adjacent-syllable bigrams of the matched form."""
    toks = normalize_for_match(text).split()
    unigrams = [t for t in toks if t not in STOPWORDS]
    # "1588/qd-ttg" must also match a query that says "quyết định 1588"
    unigrams += [part for t in toks if "/" in t or "-" in t for part in re.split(r"[/-]", t) if part]
    bigrams = [f"{a}_{b}" for a, b in zip(toks, toks[1:], strict=False)]
    return unigrams + bigrams
