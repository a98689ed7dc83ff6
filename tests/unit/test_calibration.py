"""The per-build calibration (dense weight, match thresholds) and the match decision."""

from __future__ import annotations

import json

import pytest

from knowledge.index import Chunk, SearchHit
from knowledge.index.calibration import (
    MIN_QUESTIONS,
    Calibration,
    MatchThresholds,
    Question,
    calibrate,
    calibration_sets,
)
from knowledge.service import LoadedIndex


def hit(record: str, score: float) -> SearchHit:
    chunk = Chunk(chunk_id=record, record_id=record, kind="procedure", title=record, text=record, snippet="")
    return SearchHit(chunk, score, 0.0, 0.0)


def test_decision_is_confident_ambiguous_or_none() -> None:
    t = MatchThresholds(floor=0.4, ratio=0.95)
    assert t.decide([hit("a", 0.8), hit("b", 0.5)]) == ("confident", [hit("a", 0.8)])
    decision, close = t.decide([hit("a", 0.8), hit("b", 0.78), hit("c", 0.77), hit("d", 0.2)])
    assert decision == "ambiguous" and [h.chunk.record_id for h in close] == ["a", "b", "c"]
    assert t.decide([hit("a", 0.39), hit("b", 0.38)]) == ("none", [])
    assert t.decide([]) == ("none", [])


def test_meta_round_trip_and_defaults() -> None:
    c = Calibration(0.2, MatchThresholds(0.41, 0.93), 300, {"chosen_because": "x"})
    meta = json.loads(json.dumps(c.to_meta()))
    assert Calibration.from_meta(meta) == c
    old = Calibration.from_meta({})  # an index built before calibration existed
    assert old.thresholds == MatchThresholds() and old.questions == 0


def test_the_served_index_is_calibrated_on_the_dev_set(loaded: LoadedIndex) -> None:
    meta = loaded.meta
    assert meta["calibrated_on"] >= 300  # the embedded dev set applies in full
    by_weight = meta["calibration"]["mrr@10_by_weight"]
    chosen = f"{meta['dense_weight']:.2f}"
    assert by_weight[chosen] >= by_weight["0.00"]  # never below lexical on the calibration questions
    assert loaded.index.dense_weight == meta["dense_weight"]
    assert 0.0 < loaded.thresholds.floor < 1.0 and 0.5 <= loaded.thresholds.ratio <= 1.0
    assert meta["calibration"]["confident_precision"] >= 0.95


def test_too_few_questions_keep_the_defaults(loaded: LoadedIndex) -> None:
    few = [Question("đăng ký khai sinh", frozenset({"1.001193"}))] * (MIN_QUESTIONS - 1)
    c = calibrate(loaded.index, few)
    assert c.questions == 0 and c.thresholds == MatchThresholds()
    assert "defaults kept" in c.figures["reason"]


def test_questions_about_records_the_base_lacks_are_not_used(loaded: LoadedIndex) -> None:
    sets = calibration_sets()
    foreign = [Question(q.text, frozenset({"no-such-record"})) for q in sets.questions]
    assert calibrate(loaded.index, foreign).questions == 0


def test_lexical_only_index_is_calibrated_at_weight_zero(loaded: LoadedIndex) -> None:
    index = loaded.index
    saved = (index.encoder, index.vectors, index.dense_weight)
    try:
        index.encoder = index.vectors = None
        c = calibrate(index, calibration_sets().questions)
        assert c.dense_weight == 0.0 and list(c.figures["mrr@10_by_weight"]) == ["0.00"]
    finally:
        index.encoder, index.vectors, index.dense_weight = saved


@pytest.mark.parametrize("query, decision, first", [
    ("lam giay khai sinh online the nao", "confident", "1.001193"),
    ("thời tiết hôm nay thế nào", "none", None),
    ("cách nấu phở bò", "none", None),
])
def test_search_answers_with_the_decision(app_client, query: str, decision: str, first: str | None) -> None:  # type: ignore[no-untyped-def]
    body = app_client.post("/search", json={"query": query, "kinds": ["procedure"]}).json()
    assert body["match"]["decision"] == decision
    assert (body["match"]["candidates"][:1] or [None])[0] == first
    assert set(body["match"]["candidates"]) <= {r["id"] for r in body["results"]}


def test_variant_buttons_say_how_long_titles_differ() -> None:
    from actions.resolver import variant_labels

    short = ["Đăng ký khai sinh", "Đăng ký lại khai sinh", "Đăng ký khai sinh lưu động"]
    assert variant_labels(short) == short
    common = "giấy chứng nhận quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất"
    long = [f"Thủ tục cấp {common} lần đầu cho hộ gia đình",
            "Thủ tục cấp đổi giấy chứng nhận quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất do đo đạc lại"]
    assert variant_labels(long) == ["Thủ tục cấp … lần đầu cho hộ gia đình", "Thủ tục cấp … đổi do đo đạc lại"]
    assert all(len(label) <= 80 for label in variant_labels(long))
