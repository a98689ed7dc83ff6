"""Catalogue mode: the catalogue dev set is well-formed, curated records win over imported ones,
``eval --catalogue`` skips without an import and scores by domain. Fast: no ``../shared`` needed."""

from __future__ import annotations

import argparse
import json
import unicodedata
from collections import Counter
from pathlib import Path

import pytest
import yaml

from knowledge.catalogue.import_cli import add_import_command, curated_result, drop_superseded
from knowledge.catalogue.importers import ImportResult, write_catalogue
from knowledge.catalogue.loader import load_knowledge_base
from knowledge.cli import main
from knowledge.evaluation import CATALOGUE_SET, LabelledQuery, load_dev_set, score
from tests.unit.test_importers import _dvcqg_record

STYLES = {"accented", "unaccented", "abbreviated", "typo"}
DOMAINS = {"hộ tịch", "cư trú", "căn cước", "xuất nhập cảnh", "đất đai", "xây dựng nhà ở", "giao thông",
           "bhxh lao động", "tư pháp", "doanh nghiệp hộ kinh doanh", "thuế", "quân sự",
           "xã hội"}


@pytest.fixture(scope="module")
def items() -> list[dict[str, object]]:
    loaded = yaml.safe_load(CATALOGUE_SET.read_text(encoding="utf-8"))
    assert isinstance(loaded, list)
    return loaded


def test_catalogue_set_is_well_formed(items: list[dict[str, object]]) -> None:
    assert len(items) >= 400
    for item in items:
        assert set(item) == {"q", "relevant", "style", "domain"}, item
        assert isinstance(item["q"], str) and item["q"].strip()
        relevant = item["relevant"]
        assert isinstance(relevant, list) and relevant and all(isinstance(r, str) for r in relevant), item
    assert len({r for i in items for r in i["relevant"]}) >= 150  # type: ignore[attr-defined]
    assert {i["style"] for i in items} == STYLES
    assert {i["domain"] for i in items} == DOMAINS


def test_catalogue_set_style_mix_and_no_duplicates(items: list[dict[str, object]]) -> None:
    folded = Counter(unicodedata.normalize("NFC", str(i["q"])).casefold().strip() for i in items)
    assert [q for q, n in folded.items() if n > 1] == []
    styles = Counter(str(i["style"]) for i in items)
    assert styles["unaccented"] + styles["abbreviated"] + styles["typo"] >= 0.5 * len(items)
    assert sum(unicodedata.normalize("NFC", str(i["q"])) != i["q"] for i in items) >= 3  # a few NFD questions
    loaded = load_dev_set(CATALOGUE_SET)
    assert len(loaded) == len(items) and all(q.domain in DOMAINS for q in loaded)


def test_score_breaks_figures_down_by_domain() -> None:
    queries = [LabelledQuery("a", frozenset({"x"}), "accented", "hộ tịch"),
               LabelledQuery("b", frozenset({"y"}), "unaccented", "cư trú")]
    report = score(lambda text: ["x"] if text == "a" else ["z", "y"], queries)
    assert report["by_domain"]["hộ tịch"]["mrr@10"] == 1.0
    assert report["by_domain"]["cư trú"]["mrr@10"] == 0.5
    assert report["misses"] == []
    no_domain = score(lambda text: ["x"], [LabelledQuery("a", frozenset({"x"}))])
    assert "by_domain" not in no_domain  # the embedded dev set reports as before


def test_curated_records_take_precedence_over_imported_ones(tmp_path: Path) -> None:
    curated = curated_result()
    birth = next(p for p in curated.procedures if p.id == "1.001193")
    imported = ImportResult(
        procedures=[birth.model_copy(update={"name": "Bản ghi nhập từ cổng", "aliases": []}),
                    birth.model_copy(update={"id": "9.999999", "code": "9.999999", "name": "Thủ tục khác"})],
        failures=[], warnings=[], source="dvcqg", groups={"1.001193": "bo-tu-phap", "9.999999": "bo-tu-phap"})
    kept = drop_superseded(imported, curated)
    assert [p.id for p in kept.procedures] == ["9.999999"]
    assert [(w.code, w.kind) for w in kept.warnings] == [("1.001193", "superseded")]
    report = write_catalogue([curated, kept], tmp_path / "kb")
    kb = load_knowledge_base(tmp_path / "kb")
    assert kb.procedures["1.001193"].name == birth.name and kb.procedures["1.001193"].aliases
    assert "9.999999" in kb.procedures and report["sources"]["curated"]["written"] == len(curated.procedures)


def test_curated_code_also_supersedes_an_imported_id() -> None:
    curated = curated_result()
    birth = next(p for p in curated.procedures if p.id == "1.001193")
    renamed = ImportResult(procedures=[birth.model_copy(update={"id": "khai-sinh"})], failures=[], warnings=[],
                           source="curated", groups={"khai-sinh": "curated"})
    imported = ImportResult(procedures=[birth], failures=[], warnings=[], source="dvcqg")
    assert drop_superseded(imported, renamed).procedures == []


def test_import_command_with_curated(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dvcqg = tmp_path / "dvcqg" / "bo-tu-phap"
    dvcqg.mkdir(parents=True)
    for code in ("1.001193", "1.000001"):  # 1.001193 is also a curated record
        (dvcqg / f"{code}.json").write_text(json.dumps(_dvcqg_record(code), ensure_ascii=False), encoding="utf-8")
    bqp = tmp_path / "bqp"
    bqp.mkdir()
    parser = argparse.ArgumentParser()
    add_import_command(parser.add_subparsers(dest="command", required=True))
    out = tmp_path / "kb"
    args = parser.parse_args(["import", "--dvcqg", str(tmp_path / "dvcqg"), "--bqp", str(bqp), "--out", str(out),
                              "--with-embedded", "--with-curated"])
    assert args.func(args) == 0
    summary = json.loads(capsys.readouterr().out)
    curated = len(load_knowledge_base().procedures)
    assert (summary["curated"], summary["superseded"], summary["dvcqg"]) == (curated, 1, 1)
    kb = load_knowledge_base(out)
    assert len(kb.procedures) == curated + 1 and kb.guides and kb.directives
    assert kb.procedures["1.001193"].source != "dvcqg" and kb.procedures["1.001193"].aliases
    assert kb.procedures["1.000001"].name == "Thủ tục thử 1.000001"
    args = parser.parse_args(["import", "--dvcqg", str(tmp_path / "dvcqg"), "--bqp", str(bqp), "--out", str(out),
                              "--with-embedded", "--with-curated"])
    assert args.func(args) == 0  # a second import over the first replaces it, curated file included


def test_eval_catalogue_skips_without_an_import(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "--catalogue", "--data-dir", str(tmp_path / "absent")]) == 0
    err = capsys.readouterr().err
    assert "skipped" in err and "make import" in err
