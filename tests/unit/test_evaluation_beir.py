"""`python -m knowledge eval --beir DIR` on a small BEIR-format folder made here."""

import json
from pathlib import Path

from knowledge.cli import main
from knowledge.evaluation import evaluate_beir, ranking_metrics
from knowledge.settings import Settings

DOCS = {
    "d1": ("Đăng ký khai sinh", "Cha mẹ đăng ký khai sinh cho con tại UBND cấp xã, có thể nộp trực tuyến."),
    "d2": ("Cấp đổi giấy phép lái xe", "Đổi bằng lái xe khi hết hạn, nộp hồ sơ trên cổng dịch vụ công."),
    "d3": ("Đăng ký thường trú", "Đăng ký hộ khẩu thường trú tại công an cấp xã nơi cư trú."),
    "d4": ("Phiếu lý lịch tư pháp", "Xin phiếu lý lịch tư pháp tại Sở Tư pháp hoặc qua ứng dụng."),
}
QUERIES = {"q1": "lam giay khai sinh cho con", "q2": "doi bang lai het han", "q3": "nhap ho khau thuong tru",
           "q4": "xin ly lich tu phap"}
QRELS = {"q1": "d1", "q2": "d2", "q3": "d3", "q4": "d4"}


def make_beir(folder: Path) -> Path:
    (folder / "qrels").mkdir(parents=True)
    with open(folder / "corpus.jsonl", "w", encoding="utf-8") as fh:
        for i, (title, text) in DOCS.items():
            fh.write(json.dumps({"_id": i, "title": title, "text": text}, ensure_ascii=False) + "\n")
    with open(folder / "queries.jsonl", "w", encoding="utf-8") as fh:
        for i, text in QUERIES.items():
            fh.write(json.dumps({"_id": i, "text": text}, ensure_ascii=False) + "\n")
    rows = "".join(f"{q}\t{d}\t1\n" for q, d in QRELS.items())
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n" + rows, encoding="utf-8")
    return folder


def test_metrics_by_hand() -> None:
    m = ranking_metrics(["x", "a", "y"], {"a"})
    assert (m["recall@1"], m["recall@5"], m["mrr@10"]) == (0.0, 1.0, 0.5)


def test_beir_folder_is_indexed_and_scored(tmp_path: Path) -> None:
    report = evaluate_beir(str(make_beir(tmp_path / "beir")), Settings(index_dir=tmp_path / "i"))
    assert report["documents"] == 4 and report["queries"] == 4
    assert report["lexical"]["recall@5"] == 1.0 and report["lexical"]["mrr@10"] == 1.0
    # hybrid at the weight a build would choose, calibrated on one half of the queries, scored on the other
    assert set(report["hybrid"]["overall"]) == {"recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10"}
    assert len(report["hybrid"]["weights_chosen"]) == 2
    assert set(report["hybrid_fixed_0.30"]) == {"recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10"}


def test_cli_prints_json(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["eval", "--beir", str(make_beir(tmp_path / "beir")), "--lexical-only"]) == 0
    assert json.loads(capsys.readouterr().out)["lexical"]["recall@1"] == 1.0
