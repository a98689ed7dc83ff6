"""Retrieval quality: the project's labelled dev sets and any BEIR-format folder.

Two dev sets: ``tests/data/dev_questions.yaml`` over the embedded knowledge base, and
``tests/data/catalogue_questions.yaml`` over the whole imported catalogue (``make import``;
each question also names its ``domain``, so figures are broken down by domain).

Metrics per query set: Recall@1/5/10 (share of relevant ids found in the top k; with
one relevant record this is hit@k), MRR@10 and nDCG@10 (binary relevance).
"""

from __future__ import annotations

import json
import math
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from knowledge.catalogue.loader import load_knowledge_base
from knowledge.errors import KnowledgeError
from knowledge.index import Chunk, HybridIndex, build_index, chunks_from_knowledge_base
from knowledge.index.calibration import (
    CATALOGUE_SET,
    DEV_SET,
    Calibration,
    MatchThresholds,
    Question,
    calibrate,
    calibration_sets,
)
from knowledge.service import training_pairs
from knowledge.settings import PROJECT_ROOT, Settings

__all__ = ["CATALOGUE_SET", "DEV_SET", "evaluate_beir", "evaluate_catalogue", "evaluate_dev", "load_dev_set"]
CATALOGUE_DIR = PROJECT_ROOT / "var" / "full-kb"
DEFAULT_WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)


@dataclass(frozen=True)
class LabelledQuery:
    text: str
    relevant: frozenset[str]
    style: str = "other"
    domain: str = ""


def ranking_metrics(ranked: Sequence[str], relevant: Iterable[str]) -> dict[str, float]:
    rel = set(relevant)
    out: dict[str, float] = {}
    for k in (1, 5, 10):
        out[f"recall@{k}"] = len(rel & set(ranked[:k])) / len(rel) if rel else 0.0
    rr = next((1.0 / (i + 1) for i, r in enumerate(ranked[:10]) if r in rel), 0.0)
    out["mrr@10"] = rr
    dcg = sum(1.0 / math.log2(i + 2) for i, r in enumerate(ranked[:10]) if r in rel)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(len(rel), 10)))
    out["ndcg@10"] = dcg / ideal if ideal else 0.0
    return out


def mean_metrics(rows: list[dict[str, float]]) -> dict[str, float]:
    if not rows:
        return {}
    return {key: round(sum(r[key] for r in rows) / len(rows), 4) for key in rows[0]}


def _groups(rows: dict[str, list[dict[str, float]]]) -> dict[str, dict[str, float]]:
    return {name: {"n": len(v), **mean_metrics(v)} for name, v in sorted(rows.items())}


def score(search: Callable[[str], list[str]], queries: Sequence[LabelledQuery]) -> dict[str, Any]:
    """Mean metrics overall and by style (and by domain when the queries name one), and the misses at 5."""
    per_style: dict[str, list[dict[str, float]]] = defaultdict(list)
    per_domain: dict[str, list[dict[str, float]]] = defaultdict(list)
    rows, misses = [], []
    for q in queries:
        ranked = search(q.text)
        m = ranking_metrics(ranked, q.relevant)
        rows.append(m)
        per_style[q.style].append(m)
        if q.domain:
            per_domain[q.domain].append(m)
        if m["recall@5"] < 1.0:
            miss = {"query": q.text, "expected": sorted(q.relevant), "got": ranked[:5]}
            misses.append({**miss, "domain": q.domain} if q.domain else miss)
    report: dict[str, Any] = {"n": len(rows), "overall": mean_metrics(rows), "by_style": _groups(per_style)}
    if per_domain:
        report["by_domain"] = _groups(per_domain)
    report["misses"] = misses
    return report


def load_dev_set(path: Path) -> list[LabelledQuery]:
    items = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    return [LabelledQuery(str(i["q"]), frozenset(i["relevant"]), str(i.get("style", "other")),
                          str(i.get("domain") or "")) for i in items]


def _searcher(index: HybridIndex, k: int = 10) -> Callable[[str], list[str]]:
    return lambda text: [h.chunk.record_id for h in index.search(text, k=k)]


def evaluate_dev(path: str | None, settings: Settings, weights: str = "", default: Path = DEV_SET) -> dict[str, Any]:
    """Index ``settings.data_dir`` as the service does and score the dev set at several dense weights."""
    dev_path = Path(path) if path else default
    queries = load_dev_set(dev_path)
    kb = load_knowledge_base(settings.data_dir)
    unknown = sorted({r for q in queries for r in q.relevant} - set(kb.procedures) - set(kb.guides)
                     - set(kb.directives))
    if unknown:
        raise KnowledgeError(f"dev set names records that do not exist: {unknown[:10]}")
    t0 = time.perf_counter()
    sets = calibration_sets()
    index, meta = build_index(chunks_from_knowledge_base(kb), settings, training_pairs(kb),
                              questions=sets.questions, unanswerable=sets.unanswerable)
    served = index.dense_weight
    report: dict[str, Any] = {"dev_set": str(dev_path), "queries": len(queries), "chunks": len(index),
                              "dense_model": meta["dense_model"], "build_seconds": round(time.perf_counter() - t0, 2),
                              "calibration": {k: meta[k] for k in ("dense_weight", "match", "calibrated_on",
                                                                   "calibration")}}
    grid = [float(w) for w in weights.split(",") if w.strip()] if weights else list(DEFAULT_WEIGHTS)
    if served not in grid:
        grid.append(served)
    report["by_weight"] = {}
    for w in sorted(set(grid)):
        index.dense_weight = w
        result = score(_searcher(index), queries)
        if w != served:
            result.pop("misses")
        report["by_weight"][f"{w:.2f}"] = result
    report["configured_weight"] = served
    index.dense_weight = served
    report["decision"] = decision_outcomes(index, queries, Calibration.from_meta(meta).thresholds,
                                           sets.unanswerable)
    others = [q for q in sets.questions if Question(q.text, q.relevant) not in
              {Question(x.text, x.relevant) for x in queries}]
    report["cross_validated"] = cross_validated(index, queries, others, sets.unanswerable)
    index.dense_weight = served
    return report


def decision_outcomes(index: HybridIndex, queries: Sequence[LabelledQuery], thresholds: MatchThresholds,
                      unanswerable: Sequence[str]) -> dict[str, Any]:
    """What a citizen meets with the match decision: the answer at once (right or wrong), a choice
    between candidates (holding the right record or not), or no match; and the unanswerable refused."""
    counts: dict[str, int] = defaultdict(int)
    for q in queries:
        decision, chosen = thresholds.decide(index.search(q.text, k=5, kinds=["procedure", "guide", "directive"]))
        right = any(h.chunk.record_id in q.relevant for h in chosen)
        counts[f"{decision}_{'right' if right else 'wrong'}" if decision != "none" else "none"] += 1
    n = max(1, len(queries))
    out: dict[str, Any] = {key: round(v / n, 4) for key, v in sorted(counts.items())}
    out["reached_in_one_step"] = round((counts["confident_right"] + counts["ambiguous_right"]) / n, 4)
    if unanswerable:
        refused = sum(1 for text in unanswerable if thresholds.decide(index.search(text, k=5))[0] == "none")
        out["unanswerable_refused"] = round(refused / len(unanswerable), 4)
    return out


def cross_validated(index: HybridIndex, queries: Sequence[LabelledQuery], others: Sequence[Question],
                    unanswerable: Sequence[str]) -> dict[str, Any]:
    """Out-of-sample figures of the calibration: calibrate on one half of ``queries`` (plus ``others``),
    score the other half at the weight chosen, and the reverse; the two halves' rows are pooled."""
    rows: list[dict[str, float]] = []
    chosen: list[float] = []
    for fold in (0, 1):
        held_in = [Question(q.text, q.relevant) for i, q in enumerate(queries) if i % 2 != fold]
        held_out = [q for i, q in enumerate(queries) if i % 2 == fold]
        calibration = calibrate(index, [*others, *held_in], unanswerable)
        index.dense_weight = calibration.dense_weight
        chosen.append(calibration.dense_weight)
        rows += [ranking_metrics(_searcher(index)(q.text), q.relevant) for q in held_out]
    return {"weights_chosen": chosen, "overall": mean_metrics(rows)}


def evaluate_catalogue(path: str | None, data_dir: Path | str, settings: Settings, weights: str = "") -> dict[str, Any]:
    """The catalogue dev set over an imported knowledge base (``make import``), as ``evaluate_dev`` does it.

    ``lexical`` (dense weight 0) and ``hybrid`` (the configured weight) sum up ``by_weight``.
    """
    folder = Path(data_dir)
    if not folder.is_dir():
        raise KnowledgeError(f"catalogue knowledge base not found: {folder} (build it with `make import`)")
    weights = f"0,{weights}" if weights.strip() else ""  # the lexical side is always reported
    report = evaluate_dev(path, settings.model_copy(update={"data_dir": folder}), weights, default=CATALOGUE_SET)
    report = {"data_dir": str(folder), **report}
    by_weight = report["by_weight"]
    lexical, hybrid = by_weight["0.00"], by_weight[f"{report['configured_weight']:.2f}"]
    report["lexical"] = {"overall": lexical["overall"], "by_style": lexical["by_style"]}
    report["hybrid"] = {"overall": hybrid["overall"], "by_style": hybrid["by_style"]}
    return report


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def evaluate_beir(folder: str, settings: Settings, dense: bool = True) -> dict[str, Any]:
    """Index a BEIR corpus with the project's own pipeline and score its test queries."""
    root = Path(folder)
    corpus = _read_jsonl(root / "corpus.jsonl")
    queries = {str(q["_id"]): str(q["text"]) for q in _read_jsonl(root / "queries.jsonl")}
    qrels: dict[str, set[str]] = defaultdict(set)
    with open(root / "qrels" / "test.tsv", encoding="utf-8") as fh:
        for line in fh:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 3 or parts[0] in ("query-id", "query_id"):
                continue
            if float(parts[2]) > 0:
                qrels[parts[0]].add(parts[1])
    chunks = [Chunk(chunk_id=str(d["_id"]), record_id=str(d["_id"]), kind="directive",
                    title=str(d.get("title") or ""), text=f"{d.get('title') or ''}\n{d.get('text') or ''}",
                    snippet="") for d in corpus]
    pairs = [(c.title, c.text) for c in chunks if c.title]
    t0 = time.perf_counter()
    index, meta = build_index(chunks, settings, pairs, dense=dense)
    build = time.perf_counter() - t0
    labelled = [LabelledQuery(queries[qid], frozenset(rel)) for qid, rel in qrels.items() if qid in queries]
    report: dict[str, Any] = {"folder": str(root), "documents": len(chunks), "queries": len(labelled),
                              "build_seconds": round(build, 2), "dense_model": meta["dense_model"]}
    index.dense_weight = 0.0
    report["lexical"] = score(_searcher(index), labelled)["overall"]
    if dense:
        # The weight a build of this corpus would serve, chosen on half of its queries and scored on the
        # other half (and the reverse): with no labelled questions of its own it would keep the default.
        report["hybrid"] = cross_validated(index, labelled, [], [])
        index.dense_weight = 0.3
        report["hybrid_fixed_0.30"] = score(_searcher(index), labelled)["overall"]
    return report
