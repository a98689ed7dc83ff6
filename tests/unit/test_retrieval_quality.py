"""Quality targets of issue 3 on the labelled dev set (a regression test, not a timing)."""

from knowledge.evaluation import DEV_SET, load_dev_set, score
from knowledge.service import LoadedIndex


def test_dev_set_meets_the_quality_targets(loaded: LoadedIndex) -> None:
    queries = load_dev_set(DEV_SET)
    assert len(queries) >= 150
    result = score(lambda q: [h.chunk.record_id for h in loaded.index.search(q, k=10)], queries)
    overall, styles = result["overall"], result["by_style"]
    assert overall["recall@5"] >= 0.95, result["misses"][:10]
    assert overall["mrr@10"] >= 0.85
    assert abs(styles["unaccented"]["mrr@10"] - styles["accented"]["mrr@10"]) <= 0.02


def test_hybrid_is_not_worse_than_lexical_alone(loaded: LoadedIndex) -> None:
    queries = load_dev_set(DEV_SET)
    index = loaded.index
    hybrid = score(lambda q: [h.chunk.record_id for h in index.search(q, k=10)], queries)["overall"]
    weight = index.dense_weight
    try:
        index.dense_weight = 0.0
        lexical = score(lambda q: [h.chunk.record_id for h in index.search(q, k=10)], queries)["overall"]
    finally:
        index.dense_weight = weight
    assert hybrid["mrr@10"] >= lexical["mrr@10"] and hybrid["recall@5"] >= lexical["recall@5"]
