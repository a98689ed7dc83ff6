"""Error analysis and tuning harness for catalogue-scale retrieval (issue 9).

Builds the index of a knowledge base once, then scores the catalogue dev set (or any dev set) in two
fixed halves split by a hash of the question text, so that a change can be tuned on one half ("tune")
and checked on the other ("check"). With ``--misses`` it prints, for every question whose relevant
record is not first, what outranks it and with which lexical / dense scores.

    .venv/bin/python bench/retrieval_study.py --data-dir var/full-kb [--weights 0,0.1,0.3] [--misses]
    .venv/bin/python bench/retrieval_study.py --dev tests/data/dev_questions.yaml   # the embedded base

The dense model is the one a build would train (slow at catalogue scale: about a minute on 2 cores);
``--lexical-only`` skips it and ``--cache DIR`` keeps the built index for the next run while the chunks are
unchanged. ``--details``, ``--variants`` and ``--weights`` take comma-separated values to compare (the
papers' field weight, the near-variant strength, the dense weight); the figures of each combination are
printed for the whole set, each half and each style. The build here is not calibrated: the served weight
is the default, compare weights explicitly.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from knowledge.catalogue.loader import load_knowledge_base  # noqa: E402
from knowledge.evaluation import LabelledQuery, load_dev_set, mean_metrics, ranking_metrics  # noqa: E402
from knowledge.index import HybridIndex, build_index, chunks_from_knowledge_base  # noqa: E402
from knowledge.index.artefact import IndexStore  # noqa: E402
from knowledge.index.calibration import CATALOGUE_SET  # noqa: E402
from knowledge.index.lexical import LexicalIndex  # noqa: E402
from knowledge.index.variants import VariantPrior  # noqa: E402
from knowledge.service import training_pairs  # noqa: E402
from knowledge.settings import get_settings  # noqa: E402


def half_of(text: str) -> str:
    """The fixed half a question belongs to: "tune" or "check", from a hash of its text (stable across runs)."""
    return "tune" if hashlib.sha256(text.encode("utf-8")).digest()[0] % 2 == 0 else "check"


def build(data_dir: Path, dense: bool, cache: Path | None = None) -> HybridIndex:
    """The index of ``data_dir``; with ``cache``, saved there and reused while its chunks are unchanged."""
    kb = load_knowledge_base(data_dir)
    settings = get_settings().model_copy(update={"data_dir": data_dir})
    chunks = chunks_from_knowledge_base(kb)
    digest = hashlib.sha256(json.dumps([dataclasses.asdict(c) for c in chunks], ensure_ascii=False).encode())
    digest.update(f"dense={dense}".encode())
    store = IndexStore(cache) if cache else None
    if store is not None and store.is_fresh(settings, digest.hexdigest()):
        return store.load(settings)[0]
    index, meta = build_index(chunks, settings, training_pairs(kb) if dense else (), dense=dense)
    if store is not None:
        store.save(index, meta, digest.hexdigest())
    return index


def figures(index: HybridIndex, queries: Sequence[LabelledQuery]) -> dict[str, dict[str, float]]:
    """Mean metrics over all questions, each half and each style."""
    groups: dict[str, list[dict[str, float]]] = {"all": [], "tune": [], "check": []}
    for q in queries:
        m = ranking_metrics([h.chunk.record_id for h in index.search(q.text, k=10)], q.relevant)
        for name in ("all", half_of(q.text), f"style:{q.style}"):
            groups.setdefault(name, []).append(m)
    return {name: {"n": len(rows), **{k: v for k, v in mean_metrics(rows).items() if k in ("recall@5", "mrr@10")}}
            for name, rows in groups.items()}


def misses(index: HybridIndex, queries: Sequence[LabelledQuery]) -> list[dict[str, Any]]:
    """Questions whose relevant record is not first: what outranks it, with the scores of each side."""
    out = []
    for q in queries:
        hits = index.search(q.text, k=50)
        ranked = [h.chunk.record_id for h in hits]
        rank = next((i for i, r in enumerate(ranked) if r in q.relevant), None)
        if rank == 0:
            continue
        shown = hits[: (rank + 1 if rank is not None and rank < 10 else 5)]
        out.append({"q": q.text, "half": half_of(q.text), "style": q.style, "domain": q.domain,
                    "rank": None if rank is None else rank + 1,
                    "expected": sorted(q.relevant),
                    "expected_hit": None if rank is None else _row(hits[rank]),
                    "above": [_row(h) for h in shown if h.chunk.record_id not in q.relevant]})
    return out


def _row(h: Any) -> dict[str, Any]:
    return {"id": h.chunk.record_id, "title": h.chunk.title[:110], "score": round(h.score, 4),
            "lex": round(h.lexical, 2), "dense": round(h.dense, 3), "audience": list(h.chunk.audience)}


def _grid(text: str, default: float) -> list[float]:
    return sorted({float(x) for x in text.split(",") if x.strip()}) or [default]


def compare(index: HybridIndex, queries: Sequence[LabelledQuery], details: list[float], variants: list[float],
            weights: list[float]) -> dict[str, Any]:
    """Figures of every combination of the papers' weight, the near-variant strength and the dense weight;
    the index is left as it was."""
    shipped, served, shipped_details = index.variants, index.dense_weight, index.details_weight
    out: dict[str, Any] = {}
    try:
        for dw in details:
            index.details_weight = dw
            for strength in variants:
                index.variants = VariantPrior(index.chunks, strength)
                for w in weights:
                    index.dense_weight = w
                    out[f"details {dw:.2f} variants {strength:.2f} w {w:.2f}"] = figures(index, queries)
    finally:
        index.variants, index.dense_weight, index.details_weight = shipped, served, shipped_details
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, default=ROOT / "var" / "full-kb")
    parser.add_argument("--dev", type=Path, default=CATALOGUE_SET)
    parser.add_argument("--weights", default="0,0.1,0.2,0.3", help="dense weights to compare")
    parser.add_argument("--details", default="", help="weights of the papers' field to compare (default: shipped)")
    parser.add_argument("--variants", default="", help="near-variant strengths to compare (default: the shipped one)")
    parser.add_argument("--lexical-only", action="store_true")
    parser.add_argument("--cache", type=Path, default=None, help="keep the built index in this folder and reuse it")
    parser.add_argument("--misses", type=Path, default=None, help="write the misses (JSON) to this file")
    parser.add_argument("--misses-weight", type=float, default=None, help="weight of the misses (default: served)")
    args = parser.parse_args(argv)
    queries = load_dev_set(args.dev)
    t0 = time.perf_counter()
    index = build(args.data_dir, dense=not args.lexical_only, cache=args.cache)
    if index.details is None and any(_grid(args.details, 0.0)):  # off in builds: built here to compare
        index.details = LexicalIndex.build([c.details for c in index.chunks])
    weights = [0.0] if args.lexical_only else sorted(set(_grid(args.weights, index.dense_weight)))
    report: dict[str, Any] = {"build_seconds": round(time.perf_counter() - t0, 1), "served_weight": index.dense_weight}
    report["by_setting"] = compare(index, queries, _grid(args.details, index.details_weight),
                                   _grid(args.variants, index.variants.strength), weights)
    if args.misses:
        if args.misses_weight is not None:
            index.dense_weight = args.misses_weight
        args.misses.write_text(json.dumps(misses(index, queries), ensure_ascii=False, indent=1), encoding="utf-8")
    print(json.dumps(report, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
