"""Fusion of the lexical and the dense index into one ranking of records."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Optional

import numpy as np

from knowledge.index.dense import DenseEncoder, VectorIndex
from knowledge.index.documents import Chunk, Kind
from knowledge.index.lexical import LexicalIndex
from knowledge.index.variants import VARIANT_STRENGTH, VariantPrior
from knowledge.lexicon import Lexicon, load_lexicon

# BM25 scores are squashed with s / (s + LEXICAL_HALF) so that scores mean the same
# across queries (a per-query max normalisation would give 1.0 to the best of nothing).
LEXICAL_HALF = 8.0
# Citizen first: the fused score of a procedure whose applicants are only organisations, enterprises
# or foreigners is multiplied by this, unless the question names one of its audiences ("công ty"…).
CITIZEN_PRIOR = 0.85
# The papers a procedure asks for name the situations it serves ("bản gốc Giấy chứng nhận" for an exchange,
# "ly hôn" for splitting a household); their BM25 score (a separate index, so that a long list does not
# dilute the name) is added at this weight to the lexical score. Off: at 0.1 it helped the lexical side on
# both halves of the catalogue set but the hybrid only on one, and it let combined procedures with long
# paper lists outrank the one named in the embedded base (docs/RETRIEVAL.md).
DETAILS_WEIGHT = 0.0


class AudiencePrior:
    """Per-chunk score multipliers from the chunks' audiences and the audiences a question names."""

    def __init__(self, chunks: Sequence[Chunk], factor: float, lexicon: Lexicon) -> None:
        self.factor = factor
        self._lexicon = lexicon
        labels = sorted({a for c in chunks for a in c.audience})
        self._has = {a: np.array([a in c.audience for c in chunks], dtype=bool) for a in labels}
        self._other = np.array([bool(c.audience) and "cong_dan" not in c.audience for c in chunks], dtype=bool)
        self.active = factor != 1.0 and bool(self._other.any())

    def factors(self, query: str, ids: np.ndarray) -> np.ndarray:
        penalised = self._other[ids]
        for audience in self._lexicon.audiences_named(query):
            if audience in self._has:
                penalised = penalised & ~self._has[audience][ids]
        return np.where(penalised, self.factor, 1.0)


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
        citizen_prior: float = CITIZEN_PRIOR,
        lexicon: Optional[Lexicon] = None,
        variant_strength: float = VARIANT_STRENGTH,
        details: Optional[LexicalIndex] = None,
        details_weight: float = DETAILS_WEIGHT,
    ) -> None:
        self.chunks = list(chunks)
        self.lexical = lexical
        self.details = details
        self.details_weight = details_weight if details is not None else 0.0
        self.encoder = encoder
        self.vectors = vectors
        self.dense_weight = dense_weight if encoder is not None and vectors is not None else 0.0
        self.candidates = candidates
        self._kinds = np.array([c.kind for c in self.chunks])
        # Each chunk's record id as its rank in sorted order: ties are broken by record id
        # with one vectorised sort instead of a Python key per candidate.
        record_ids = sorted({c.record_id for c in self.chunks})
        rank = {rid: i for i, rid in enumerate(record_ids)}
        self._record_rank = np.array([rank[c.record_id] for c in self.chunks], dtype=np.int64)
        self.prior = AudiencePrior(self.chunks, citizen_prior, lexicon or load_lexicon())
        self.variants = VariantPrior(self.chunks, variant_strength)

    def __len__(self) -> int:
        return len(self.chunks)

    def search(self, query: str, k: int = 5, kinds: Optional[Sequence[Kind]] = None) -> list[SearchHit]:
        allowed = np.isin(self._kinds, list(kinds)) if kinds else None
        lex = self.lexical.scores(query)
        if self.details is not None and self.details_weight > 0:
            lex = lex + self.details_weight * self.details.scores(query)
        if allowed is not None:
            lex = np.where(allowed, lex, 0.0)
        top_lex = _top(lex, self.candidates)
        lex_ids = top_lex[lex[top_lex] > 0]
        if not (self.dense_weight > 0 and self.encoder is not None and self.vectors is not None):
            return self._rank(query, lex_ids, lex[lex_ids], np.zeros(len(lex_ids), dtype=np.float32), k)
        qv = self.encoder.encode_one(query)
        fetch = self.candidates * (4 if kinds else 1)
        dense_scores, dense_ids = self.vectors.search(qv, fetch)
        if allowed is not None:
            keep = allowed[dense_ids]
            dense_scores, dense_ids = dense_scores[keep], dense_ids[keep]
        # Lexical candidates the dense search did not return get their cosine from the
        # stored vectors (no re-encoding), so every candidate is fused on both scores.
        only_lex = np.setdiff1d(lex_ids, dense_ids, assume_unique=True)
        ids = np.concatenate([dense_ids, only_lex]).astype(np.int64)
        dense = np.concatenate([dense_scores, self.vectors.vectors(only_lex) @ qv if len(only_lex) else []])
        return self._rank(query, ids, lex[ids], dense.astype(np.float32), k)

    def _rank(self, query: str, ids: np.ndarray, lex: np.ndarray, dense: np.ndarray, k: int) -> list[SearchHit]:
        w = self.dense_weight
        lex, dense = lex.astype(np.float64), dense.astype(np.float64)
        fused = (1 - w) * lex / (lex + LEXICAL_HALF) + w * np.maximum(dense, 0.0)
        if self.prior.active and len(ids):
            fused = fused * self.prior.factors(query, ids)
        if self.variants.active and len(ids):
            fused = fused * self.variants.factors(query, ids)
        fused = np.round(fused, 6)
        # Best first; ties by record id so that the order is stable across runs.
        order = np.lexsort((self._record_rank[ids], -fused))
        hits: list[SearchHit] = []
        seen: set[str] = set()
        for j in order:
            if fused[j] <= 0 or len(hits) == k:
                break
            chunk = self.chunks[int(ids[j])]
            if chunk.record_id in seen:  # a record counts once, with its best chunk
                continue
            seen.add(chunk.record_id)
            hits.append(SearchHit(chunk, float(fused[j]), float(lex[j]), float(dense[j])))
        return hits


def _top(scores: np.ndarray, n: int) -> np.ndarray:
    if scores.size <= n:
        return np.argsort(-scores)
    part = np.argpartition(-scores, n)[:n]
    return part[np.argsort(-scores[part])]
