"""Near-variants of a procedure: the base ranks first unless the question says what makes the variant.

The catalogue holds families of procedures whose names are one name with a few words inserted:
"Đăng ký khai sinh" / "Đăng ký lại khai sinh" / "Đăng ký khai sinh lưu động" / "… có yếu tố nước
ngoài"; "Cấp giấy phép …" / "Cấp lại giấy phép …". BM25 cannot tell them apart on a question that
names only the common part ("làm khai sinh cho con"), and the longer record often wins on its longer
text. Here the family is read from the names alone (no list of procedures): a record is a variant of
another when its folded name is the other's with at most ``MAX_BLOCKS`` runs of at most
``MAX_EXTRA`` syllables inserted; the inserted syllables are what the question must say. A variant's
fused score is multiplied by ``1 − strength·(1 − said)``, where ``said`` is the IDF-weighted share of
its inserted syllables that the question contains: a question naming "lại" or "lưu động" keeps the
variant's score, one naming neither puts the base first. An ambiguous match still offers both
(knowledge.index.calibration).
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Sequence
from typing import Optional

import numpy as np
from scipy import sparse

from knowledge.index.documents import Chunk
from knowledge.text import expand_abbreviations, normalize_for_match, syllables
from knowledge.text.normalize import STOPWORDS

# Measured on the tuning half of the catalogue dev set (docs/RETRIEVAL.md, "Near-variants").
VARIANT_STRENGTH = 0.05
MAX_BLOCKS = 2
MAX_EXTRA = 8
MIN_BASE = 2  # syllables: "Cấp" alone is no family
_LEADING = ("thu", "tuc")  # "Thủ tục đăng ký khai sinh" is "Đăng ký khai sinh"


def name_syllables(title: str) -> list[str]:
    words = expand_abbreviations(syllables(title))
    return words[2:] if tuple(words[:2]) == _LEADING else words


def inserted(base: Sequence[str], variant: Sequence[str]) -> Optional[list[str]]:
    """The syllables ``variant`` adds to ``base`` when it is ``base`` with a few short runs inserted, else None."""
    if len(base) < MIN_BASE or len(base) >= len(variant):
        return None
    ops = difflib.SequenceMatcher(None, list(base), list(variant), autojunk=False).get_opcodes()
    if any(op not in ("equal", "insert") for op, *_ in ops):
        return None
    runs = [list(variant[j1:j2]) for op, _, _, j1, j2 in ops if op == "insert"]
    if len(runs) > MAX_BLOCKS or sum(len(r) for r in runs) > MAX_EXTRA:
        return None
    return [s for run in runs for s in run]


def find_variants(titles: Sequence[str]) -> dict[int, tuple[int, list[str]]]:
    """index of a variant → (index of its base, the syllables it adds); the longest base wins."""
    names = [name_syllables(t) for t in titles]
    df = Counter(s for n in names for s in set(n))
    by_rarest: dict[str, list[int]] = {}
    for i, n in enumerate(names):
        if len(n) >= MIN_BASE:
            by_rarest.setdefault(min(set(n), key=lambda s: (df[s], s)), []).append(i)
    out: dict[int, tuple[int, list[str]]] = {}
    for b, name in enumerate(names):
        best: Optional[tuple[int, list[str]]] = None
        for s in set(name):
            for a in by_rarest.get(s, ()):
                if a == b or (best is not None and len(names[a]) <= len(names[best[0]])):
                    continue
                extra = inserted(names[a], name)
                if extra is not None:
                    best = (a, extra)
        if best is not None:
            out[b] = best
    return out


class VariantPrior:
    """Per-chunk multipliers for the procedures that are variants of another, from what the question says."""

    def __init__(self, chunks: Sequence[Chunk], strength: float = VARIANT_STRENGTH) -> None:
        self.strength = strength
        procedures = [i for i, c in enumerate(chunks) if c.kind == "procedure"]
        names = [name_syllables(chunks[i].title) for i in procedures]
        cues: dict[int, set[str]] = {}
        for b, (a, extra) in find_variants([chunks[i].title for i in procedures]).items():
            words = {s for s in extra if s not in STOPWORDS} - set(names[a])
            if words:  # "của" alone makes no difference a citizen would say
                cues[procedures[b]] = words
        df = Counter(s for n in names for s in set(n))
        self._vocab = {s: j for j, s in enumerate(sorted({s for c in cues.values() for s in c}))}
        rows, cols, vals = [], [], []
        for i, words in cues.items():
            for s in words:
                rows.append(i)
                cols.append(self._vocab[s])
                vals.append(float(np.log(1.0 + len(names) / max(1, df[s]))))
        self._matrix = sparse.csr_matrix((vals, (rows, cols)), shape=(len(chunks), max(1, len(self._vocab))))
        self._totals = np.asarray(self._matrix.sum(axis=1)).ravel()
        self._is_variant = self._totals > 0
        self.variants = len(cues)
        self.active = strength > 0 and self.variants > 0

    def said(self, query: str) -> np.ndarray:
        """Every chunk's share of its inserted syllables that the question contains (0 for non-variants)."""
        hit = np.zeros(self._matrix.shape[1])
        cols = [self._vocab[s] for s in set(normalize_for_match(query).split()) if s in self._vocab]
        hit[cols] = 1.0
        return np.asarray(self._matrix @ hit) / np.maximum(self._totals, 1e-9)

    def factors(self, query: str, ids: np.ndarray) -> np.ndarray:
        return np.where(self._is_variant[ids], 1.0 - self.strength * (1.0 - self.said(query)[ids]), 1.0)
