"""Fusion of the lexical and the dense index into one ranking of records."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Optional

import numpy as np

from knowledge.index.dense import DenseEncoder, VectorIndex
from knowledge.index.documents import Chunk, Kind
from knowledge.index.lexical import LexicalIndex

# BM25 scores are squashed with s / (s + LEXICAL_HALF) so that scores mean the same
# across queries (a per-query max normalisation would give 1.0 to the best of nothing).
LEXICAL_HALF = 8.0


@dataclass(frozen=True)
class SearchHit:
    chunk: Chunk
    score: float
    lexical: float
    dense: float


class HybridIndex:
    def __init__(
        self,
        chunks: Sequence[Chunk],
        lexical: LexicalIndex,
        encoder: Optional[DenseEncoder] = None,
        vectors: Optional[VectorIndex] = None,
        dense_weight: float = 0.3,
        candidates: int = 50,
    ) -> None:
        self.chunks = list(chunks)
        self.lexical = lexical
        self.encoder = encoder
        self.vectors = vectors
        self.dense_weight = dense_weight if encoder is not None and vectors is not None else 0.0
        self.candidates = candidates
        self._kinds = np.array([c.kind for c in self.chunks])

    def __len__(self) -> int:
        return len(self.chunks)

    def search(self, query: str, k: int = 5, kinds: Optional[Sequence[Kind]] = None) -> list[SearchHit]:
        allowed = np.isin(self._kinds, list(kinds)) if kinds else None
        lex = self.lexical.scores(query)
        if allowed is not None:
            lex = np.where(allowed, lex, 0.0)
        cand: dict[int, float] = {}
        top_lex = _top(lex, self.candidates)
        for i in top_lex:
            if lex[i] > 0:
                cand[int(i)] = 0.0
        if self.dense_weight > 0 and self.encoder is not None and self.vectors is not None:
            qv = self.encoder.encode([query])[0]
            fetch = self.candidates * (4 if kinds else 1)
            scores, ids = self.vectors.search(qv, fetch)
            for s, i in zip(scores, ids, strict=True):
                if allowed is None or allowed[i]:
                    cand[int(i)] = float(s)
            missing = [i for i, s in cand.items() if s == 0.0]
            if missing:  # dense score of lexical-only candidates, from the stored vectors
                cand.update(self._dense_scores(qv, missing))
        return self._rank(cand, lex, k)

    def _dense_scores(self, qv: np.ndarray, ids: list[int]) -> dict[int, float]:
        assert self.vectors is not None
        sims = self.vectors.vectors(ids) @ qv
        return {i: float(s) for i, s in zip(ids, sims, strict=True)}

    def _rank(self, cand: dict[int, float], lex: np.ndarray, k: int) -> list[SearchHit]:
        w = self.dense_weight
        best: dict[str, SearchHit] = {}
        for i, dense in cand.items():
            lx = float(lex[i])
            fused = (1 - w) * lx / (lx + LEXICAL_HALF) + w * max(dense, 0.0)
            chunk = self.chunks[i]
            hit = SearchHit(chunk, round(fused, 6), lx, dense)
            prev = best.get(chunk.record_id)
            if prev is None or hit.score > prev.score:
                best[chunk.record_id] = hit
        ranked = sorted(best.values(), key=lambda h: (-h.score, h.chunk.record_id))
        return [h for h in ranked if h.score > 0][:k]


def _top(scores: np.ndarray, n: int) -> np.ndarray:
    if scores.size <= n:
        return np.argsort(-scores)
    part = np.argpartition(-scores, n)[:n]
    return part[np.argsort(-scores[part])]
