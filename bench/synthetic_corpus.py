"""Write a synthetic legal-text corpus of about N chunks for API benchmarks at scale.

Files of ten articles ("Điều k.") each, whose sentences are windows of the embedded
knowledge base's own text; the knowledge service ingests the folder through
KNOWLEDGE_CORPUS_DIRS like any corpus.

    .venv/bin/python bench/synthetic_corpus.py --chunks 100000 --out /tmp/synthetic-100k
    KNOWLEDGE_CORPUS_DIRS=/tmp/synthetic-100k .venv/bin/python bench/search_latency.py --label "synthetic 100k"
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.scale import synthetic_texts  # noqa: E402
from knowledge.catalogue.loader import load_knowledge_base  # noqa: E402
from knowledge.index import chunks_from_knowledge_base  # noqa: E402

ARTICLES_PER_FILE = 10


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--chunks", type=int, default=100_000)
    ap.add_argument("--words", type=int, default=80)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    source = [c.text for c in chunks_from_knowledge_base(load_knowledge_base())]
    texts = synthetic_texts(source, args.chunks, args.words)
    for f in range(0, len(texts), ARTICLES_PER_FILE):
        number = f // ARTICLES_PER_FILE + 1
        body = "\n\n".join(f"Điều {i + 1}. {t}" for i, t in enumerate(texts[f:f + ARTICLES_PER_FILE]))
        (out / f"van-ban-{number:06d}.txt").write_text(
            f"QUYẾT ĐỊNH\nSố: {number}/QĐ-TH\nVề việc thử nghiệm {number}\n\n{body}\n", encoding="utf-8")
    print(f"wrote {len(texts)} articles in {(len(texts) + ARTICLES_PER_FILE - 1) // ARTICLES_PER_FILE} files to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
