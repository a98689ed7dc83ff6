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


PROCEDURE_YAML = """\
- id: thu-tuc-thu
  name: Thủ tục thử
  field: Hộ tịch
  summary: Một thủ tục để thử kiểm tra đường link.
  online: {type: mot_phan, url: ONLINE_URL}
  url: URL
  source: Cổng Dịch vụ công quốc gia
  checked_on: 2026-01-01
"""
GUIDE_YAML = """\
- id: huong-dan-thu
  title: Hướng dẫn thử
  summary: Một hướng dẫn để thử kiểm tra đường link.
  links:
    - {title: Cổng, url: "https://dichvucong.gov.vn"}
    - {title: Tổng đài, url: URL}
  source: Cổng Dịch vụ công quốc gia
  checked_on: 2026-01-01
"""
DIRECTIVE_YAML = """\
- id: qd-thu
  doc_number: 1/QĐ-TTg
  doc_type: Quyết định
  date: 2026-01-01
  issuer: Thủ tướng Chính phủ
  title: Quyết định thử
  summary: Một văn bản để thử kiểm tra đường link.
  url: URL
  source: Cổng Thông tin điện tử Chính phủ
  checked_on: 2026-01-01
"""


def _base(tmp_path: Path, kind: str, text: str) -> Path:
    (tmp_path / kind).mkdir()
    (tmp_path / kind / "links.yaml").write_text(text, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("bad", ["javascript:alert(1)", "http://dichvucong.gov.vn", "data:text/html,x",
                                 "//dichvucong.gov.vn", "/thu-tuc", "https://", "ftp://a.gov.vn/x",
                                 "https://user:pw@dichvucong.gov.vn", '"https://a.vn/<script>"'])
@pytest.mark.parametrize(("kind", "template", "field"), [
    ("procedures", PROCEDURE_YAML.replace("ONLINE_URL", "null"), "field url"),
    ("procedures", PROCEDURE_YAML.replace("URL\n", "null\n").replace("ONLINE_URL", "URL"), "field online.url"),
    ("guides", GUIDE_YAML, "field links.1.url"),
    ("directives", DIRECTIVE_YAML, "field url"),
])
def test_a_record_with_an_unsafe_link_does_not_load_and_is_named(tmp_path: Path, bad: str, kind: str,
                                                                  template: str, field: str) -> None:
    text = template.replace("URL", bad if bad.startswith('"') else f'"{bad}"')
    with pytest.raises(KnowledgeBaseError) as raised:
        load_knowledge_base(_base(tmp_path, kind, text))
    message = str(raised.value)
    rid = {"procedures": "thu-tuc-thu", "guides": "huong-dan-thu", "directives": "qd-thu"}[kind]
    assert f"links.yaml record #0 (id '{rid}'): {field}: not a safe link" in message, message
    assert "only https:// links with a host, or tel: numbers" in message


def test_https_and_tel_links_load(tmp_path: Path) -> None:
    text = GUIDE_YAML.replace("URL", '"tel:1900 1234"')
    kb = load_knowledge_base(_base(tmp_path, "guides", text))
    assert [link.url for link in kb.guides["huong-dan-thu"].links] == ["https://dichvucong.gov.vn", "tel:1900 1234"]


def test_every_link_of_the_embedded_base_is_safe() -> None:
    from knowledge.text.links import safe_link

    links = [u for p in KB.procedures.values() for u in (p.url, p.online.url) if u]
    links += [link.url for g in KB.guides.values() for link in g.links]
    links += [d.url for d in KB.directives.values() if d.url]
    assert links and all(safe_link(u) == u for u in links)


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
