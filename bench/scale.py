"""Retrieval at scale: synthetic chunks (syllables drawn from the embedded knowledge base's
own text, so vocabulary and frequencies are Vietnamese-like) indexed with the project's
pipeline, then searched in-process from one thread.

Prints and records: build time per stage, peak memory (ru_maxrss), FAISS index type,
p50/p95 search latency and queries/s at each size.

    .venv/bin/python bench/scale.py --sizes 100000,1000000 [--words 80] [--queries 300]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import machine, record  # noqa: E402
from bench.search_latency import QUERIES, pct  # noqa: E402
from knowledge.catalogue.loader import load_knowledge_base  # noqa: E402
from knowledge.index import Chunk, HybridIndex, chunks_from_knowledge_base  # noqa: E402
from knowledge.index.dense import VectorIndex, build_static_encoder  # noqa: E402
from knowledge.index.lexical import LexicalIndex  # noqa: E402
from knowledge.service import training_pairs  # noqa: E402
from knowledge.settings import get_settings  # noqa: E402


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def synthetic_texts(source: list[str], n: int, words: int, seed: int = 7) -> list[str]:
    stream = " ".join(source).split()
    rng = np.random.default_rng(seed)
    starts = rng.integers(0, len(stream) - words, size=n)
    # Windows of the real text, shuffled a little so chunks are not exact copies.
    out = []
    for s in starts:
        window = stream[s:s + words]
        j = int(rng.integers(0, words))
        out.append(" ".join(window[j:] + window[:j]))
    return out


def run(size: int, words: int, n_queries: int) -> dict[str, object]:
    settings = get_settings()
    kb = load_knowledge_base(settings.data_dir)
    base = chunks_from_knowledge_base(kb)
    t0 = time.perf_counter()
    texts = synthetic_texts([c.text for c in base], size, words)
    chunks = [Chunk(f"s{i}", f"s{i}", "directive", f"Văn bản {i}", t, "") for i, t in enumerate(texts)]
    t1 = time.perf_counter()
    lexical = LexicalIndex.build(texts)
    t2 = time.perf_counter()
    encoder = build_static_encoder([c.text for c in base], training_pairs(kb))
    vectors = encoder.encode(texts, batch_size=2048)
    t3 = time.perf_counter()
    vindex = VectorIndex.build(vectors)
    del vectors
    t4 = time.perf_counter()
    index = HybridIndex(chunks, lexical, encoder, vindex, settings.dense_weight, settings.candidates)
    for q in QUERIES:  # warm-up
        index.search(q)
    latencies = []
    t5 = time.perf_counter()
    for i in range(n_queries):
        s = time.perf_counter()
        index.search(QUERIES[i % len(QUERIES)], k=5)
        latencies.append((time.perf_counter() - s) * 1000)
    elapsed = time.perf_counter() - t5
    return {
        "chunks": size, "words_per_chunk": words, "faiss_index": vindex.kind,
        "generate_s": round(t1 - t0, 1), "lexical_build_s": round(t2 - t1, 1),
        "encode_s": round(t3 - t2, 1), "faiss_build_s": round(t4 - t3, 1),
        "p50_ms": round(float(np.median(latencies)), 2), "p95_ms": round(pct(latencies, 95), 2),
        "qps_one_thread": round(n_queries / elapsed, 1), "peak_rss_mb": round(peak_mb(), 0),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="100000")
    ap.add_argument("--words", type=int, default=80)
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--record", default=str(ROOT / "docs" / "BENCHMARKS.md"))
    args = ap.parse_args()
    for size in [int(s) for s in args.sizes.split(",")]:
        figures = run(size, args.words, args.queries)
        print(json.dumps(figures, ensure_ascii=False))
        record(Path(args.record), f"Synthetic scale — {size:,} chunks (in-process)", figures, machine())
    return 0


if __name__ == "__main__":
    sys.exit(main())
