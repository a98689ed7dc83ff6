"""Per-build calibration: the dense weight of the fusion and the thresholds of the match decision.

Each index build is calibrated on the labelled questions that apply to it (the project's dev sets,
kept to the questions whose records the knowledge base holds) and on questions the assistant cannot
answer (``tests/data/out_of_scope.yaml``). The result goes into the index's ``meta.json``:

- ``dense_weight``: the weight of the grid with the best MRR@10, kept at 0 (lexical only) unless the
  dense side gains at least ``MIN_GAIN``, so that the hybrid ranking is never below the lexical one on
  the questions it was calibrated on;
- ``match``: ``floor`` (below it: no match) and ``ratio`` (a second record scoring at least this share of
  the first makes the match ambiguous), chosen so that a confident answer is right at least
  ``TARGET_PRECISION`` of the time while as many questions as possible get one.

With too few questions (a province's own knowledge base with none of the dev sets' records) the
defaults stay, and ``meta.json`` says so (``calibrated_on`` = 0).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, Optional

import numpy as np
import yaml

from knowledge.index.hybrid import HybridIndex, SearchHit
from knowledge.settings import PROJECT_ROOT

EVAL_DIR = PROJECT_ROOT / "tests" / "data"
DEV_SET = EVAL_DIR / "dev_questions.yaml"
CATALOGUE_SET = EVAL_DIR / "catalogue_questions.yaml"
OUT_OF_SCOPE_SET = EVAL_DIR / "out_of_scope.yaml"

Decision = Literal["confident", "ambiguous", "none"]
WEIGHT_GRID = (0.0, 0.1, 0.2, 0.3, 0.4)
MIN_GAIN = 0.003  # MRR@10 the dense side must add before it is used at all
MIN_QUESTIONS = 30
TARGET_PRECISION = 0.95
FLOOR_RECALL = 0.95  # of the questions answered in the top 5, this share stays above the floor
NEGATIVE_REFUSED = 0.95  # share of unanswerable messages the floor must refuse, when it can
RATIO_GRID = tuple(round(float(x), 3) for x in np.arange(0.70, 1.0001, 0.01))
DEFAULT_WEIGHT = 0.3
MAX_CANDIDATES = 3  # the buttons a citizen is offered at most


@dataclass(frozen=True)
class MatchThresholds:
    floor: float = 0.25
    ratio: float = 0.97

    def decide(self, hits: Sequence[SearchHit]) -> tuple[Decision, list[SearchHit]]:
        """confident (one record), ambiguous (the close candidates, best first) or none."""
        if not hits or hits[0].score < self.floor:
            return "none", []
        close = [h for h in hits if h.score >= self.ratio * hits[0].score][:MAX_CANDIDATES]
        if len(close) > 1:
            return "ambiguous", close
        return "confident", [hits[0]]


@dataclass(frozen=True)
class Calibration:
    dense_weight: float
    thresholds: MatchThresholds
    questions: int = 0
    figures: dict[str, Any] = field(default_factory=dict)

    def to_meta(self) -> dict[str, Any]:
        return {"dense_weight": self.dense_weight, "match": asdict(self.thresholds),
                "calibrated_on": self.questions, "calibration": self.figures}

    @staticmethod
    def from_meta(meta: dict[str, Any]) -> Calibration:
        match = meta.get("match") or {}
        thresholds = MatchThresholds(float(match.get("floor", MatchThresholds.floor)),
                                     float(match.get("ratio", MatchThresholds.ratio)))
        weight = meta.get("dense_weight")
        return Calibration(DEFAULT_WEIGHT if weight is None else float(weight), thresholds,
                           int(meta.get("calibrated_on") or 0), dict(meta.get("calibration") or {}))


@dataclass(frozen=True)
class Question:
    text: str
    relevant: frozenset[str]


def read_questions(path: Path) -> list[Question]:
    items = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    return [Question(str(i["q"]), frozenset(str(r) for r in i["relevant"])) for i in items]


@dataclass(frozen=True)
class CalibrationSets:
    questions: list[Question]
    unanswerable: list[str]
    digest: str


def calibration_sets(paths: Sequence[Path] = (DEV_SET, CATALOGUE_SET),
                     unanswerable: Path = OUT_OF_SCOPE_SET) -> CalibrationSets:
    """The labelled questions and the unanswerable ones; sets missing from this checkout are skipped."""
    digest = hashlib.sha256()
    questions: list[Question] = []
    for path in paths:
        if path.is_file():
            questions += read_questions(path)
            digest.update(path.read_bytes())
    negatives: list[str] = []
    if unanswerable.is_file():
        negatives = [str(x) for x in yaml.safe_load(unanswerable.read_text(encoding="utf-8")) or []]
        digest.update(unanswerable.read_bytes())
    return CalibrationSets(questions, negatives, digest.hexdigest())


def _mrr(ranked: list[str], relevant: frozenset[str]) -> float:
    return next((1.0 / (i + 1) for i, r in enumerate(ranked[:10]) if r in relevant), 0.0)


def calibrate(index: HybridIndex, questions: Sequence[Question], unanswerable: Sequence[str] = (),
              grid: Sequence[float] = WEIGHT_GRID) -> Calibration:
    """Choose the dense weight and the match thresholds for this index (see the module docstring)."""
    known = {c.record_id for c in index.chunks}
    usable = [q for q in questions if q.relevant & known]
    dense = index.encoder is not None and index.vectors is not None
    if len(usable) < MIN_QUESTIONS:
        return Calibration(DEFAULT_WEIGHT if dense else 0.0, MatchThresholds(), 0,
                           {"reason": f"{len(usable)} labelled questions apply to this knowledge base "
                                      f"(at least {MIN_QUESTIONS} needed): defaults kept"})
    saved = index.dense_weight
    try:
        by_weight: dict[str, float] = {}
        for w in (grid if dense else (0.0,)):
            index.dense_weight = w
            by_weight[f"{w:.2f}"] = round(float(np.mean(
                [_mrr([h.chunk.record_id for h in index.search(q.text, k=10)], q.relevant) for q in usable])), 4)
        lexical = by_weight["0.00"]
        best = max(by_weight, key=lambda k: (by_weight[k], -float(k)))
        weight = float(best) if by_weight[best] - lexical >= MIN_GAIN else 0.0
        index.dense_weight = weight
        answered = [(index.search(q.text, k=5), q.relevant) for q in usable]
        negatives = [index.search(text, k=5) for text in unanswerable]
    finally:
        index.dense_weight = saved
    thresholds, match_figures = _thresholds(answered, negatives)
    figures = {"mrr@10_by_weight": by_weight, "chosen_because": (
        f"best MRR@10 {by_weight[best]} at w = {best}" if weight else
        f"the dense side adds less than {MIN_GAIN} MRR@10 over lexical ({lexical}): lexical only"), **match_figures}
    return Calibration(weight, thresholds, len(usable), figures)


def _thresholds(answered: list[tuple[list[SearchHit], frozenset[str]]],
                negatives: list[list[SearchHit]]) -> tuple[MatchThresholds, dict[str, Any]]:
    found = [hits[0].score for hits, rel in answered if any(h.chunk.record_id in rel for h in hits)]
    floor = float(np.quantile(found, 1 - FLOOR_RECALL)) if found else MatchThresholds.floor
    unanswered = [hits[0].score if hits else 0.0 for hits in negatives]
    if unanswered:  # no higher than needed to refuse most unanswerable messages
        floor = min(floor, float(np.quantile(unanswered, NEGATIVE_REFUSED)) + 0.01)
    floor = round(floor, 4)
    rows = [(hits, rel) for hits, rel in answered if hits and hits[0].score >= floor]

    def outcome(ratio: float) -> tuple[float, float]:
        t = MatchThresholds(floor, ratio)
        confident = [hits[0].chunk.record_id in rel for hits, rel in rows if t.decide(hits)[0] == "confident"]
        share = len(confident) / len(answered) if answered else 0.0
        return (sum(confident) / len(confident) if confident else 1.0), share

    # the highest ratio (most answers given at once) whose confident answers are right often enough
    ratio = next((r for r in reversed(RATIO_GRID) if outcome(r)[0] >= TARGET_PRECISION), RATIO_GRID[0])
    precision, share = outcome(ratio)
    thresholds = MatchThresholds(floor, ratio)
    refused = sum(1 for hits in negatives if thresholds.decide(hits)[0] == "none")
    figures: dict[str, Any] = {
        "confident_share": round(share, 4), "confident_precision": round(precision, 4),
        "ambiguous_share": round(sum(1 for hits, _ in rows if thresholds.decide(hits)[0] == "ambiguous")
                                 / max(1, len(answered)), 4),
        "unanswerable": len(negatives),
        "unanswerable_refused": round(refused / len(negatives), 4) if negatives else None,
    }
    return thresholds, figures


def apply(index: HybridIndex, calibration: Optional[Calibration], explicit_weight: Optional[float]) -> None:
    """The weight an index serves with: the operator's setting when given, else the calibrated one."""
    if explicit_weight is not None:
        index.dense_weight = explicit_weight
    elif calibration is not None:
        index.dense_weight = calibration.dense_weight
    if index.encoder is None or index.vectors is None:
        index.dense_weight = 0.0
