import json
from pathlib import Path

import pytest

from knowledge.catalogue.loader import load_knowledge_base
from knowledge.errors import KnowledgeBaseError
from tests.conftest import shared_or_skip

KB = load_knowledge_base()


def test_embedded_base_has_the_minimum_content() -> None:
    assert len(KB.procedures) >= 10
    assert len(KB.guides) >= 3
    assert len(KB.directives) >= 5


def test_every_record_names_its_source_and_date() -> None:
    for record in [*KB.procedures.values(), *KB.guides.values(), *KB.directives.values()]:
        assert record.source.strip(), record.id
        assert record.checked_on.year >= 2025, record.id


def test_no_record_sends_citizens_to_the_district_level() -> None:
    for p in KB.procedures.values():
        assert not any("huyện" in lvl for lvl in p.level), p.id


def test_the_seed_directives_are_present_with_number_and_date() -> None:
    numbers = {d.doc_number: d for d in KB.directives.values()}
    assert numbers["1588/QĐ-TTg"].date.isoformat() == "2024-12-17"
    assert numbers["942/QĐ-TTg"].date.isoformat() == "2021-06-15"


def test_invalid_record_is_reported_with_its_file(tmp_path: Path) -> None:
    (tmp_path / "procedures").mkdir()
    (tmp_path / "procedures" / "bad.yaml").write_text("- id: x\n  name: Thủ tục\n", encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match="bad.yaml record #0"):
        load_knowledge_base(tmp_path)


def test_broken_yaml_is_reported_with_its_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "guides").mkdir()
    (tmp_path / "guides" / "bad.yaml").write_text("- id: x\n  title: [unclosed\n", encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match=r"bad\.yaml: not valid YAML \(line 3, column 1\)"):
        load_knowledge_base(tmp_path)


def test_procedures_agree_with_the_national_portal_records() -> None:
    root = shared_or_skip("data", "dvcqg")
    portal = {}
    for f in root.glob("*/*.json"):
        rec = json.loads(f.read_text(encoding="utf-8"))
        portal[rec["ma_thu_tuc"]] = rec
    checked = 0
    for p in KB.procedures.values():
        if p.code and p.code in portal:
            rec = portal[p.code]
            assert p.name.strip() == " ".join(rec["ten_thu_tuc"].split()), p.code
            if p.url:
                assert p.url == rec["detail_url"], p.code
            checked += 1
    assert checked >= 10


def test_generated_nlu_lookup_is_up_to_date() -> None:
    from knowledge import nlu_export

    assert nlu_export.OUTPUT.read_text(encoding="utf-8") == nlu_export.render(KB), \
        "run `python -m knowledge export-nlu` after changing the catalogue"
