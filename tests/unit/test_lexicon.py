"""The colloquial lexicon: reviewed data, matched on folded whole syllables, used when indexing."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml

from knowledge.catalogue.models import OnlineService, Procedure
from knowledge.errors import KnowledgeBaseError
from knowledge.index.documents import procedure_chunk
from knowledge.lexicon import DEFAULT_LEXICON, load_lexicon, parse_lexicon

ENTRY = {"stands_for": "giấy phép lái xe", "match": ["giấy phép lái xe"], "everyday": ["bằng lái"],
         "reason": "Người dân quen gọi là bằng lái.", "source": "Luật 36/2024/QH15"}


def lexicon_of(*entries: dict[str, object], cues: dict[str, object] | None = None) -> bytes:
    return yaml.safe_dump({"version": 1, "entries": list(entries), "audience_cues": cues or {}},
                          allow_unicode=True).encode()


def procedure(name: str, field: str = "Đường bộ", **extra: object) -> Procedure:
    return Procedure(id="x.1", name=name, field=field, summary=f"{name}. Lĩnh vực: {field}.",
                     online=OnlineService(type="khong"), source="kiểm thử", checked_on=dt.date(2026, 12, 1),
                     **extra)  # type: ignore[arg-type]


def test_shipped_lexicon_loads_and_every_entry_says_why() -> None:
    raw = yaml.safe_load(DEFAULT_LEXICON.read_text(encoding="utf-8"))
    lexicon = load_lexicon()
    assert lexicon.entries == len(raw["entries"]) >= 40
    for entry in raw["entries"]:
        assert entry["reason"].strip() and entry["source"].strip() and entry["stands_for"].strip()
    assert set(raw["audience_cues"]) == {"doanh_nghiep", "to_chuc", "nguoi_nuoc_ngoai"}


def test_matching_is_folded_and_on_whole_syllables() -> None:
    lexicon = parse_lexicon(lexicon_of(ENTRY))
    assert lexicon.everyday_names(["Đổi GIAY PHEP LAI XE quá hạn"]) == ["bằng lái"]
    assert lexicon.everyday_names(["Đổi giấy phép lái xeo"]) == []  # not a whole syllable


def test_fields_and_not_with_limit_an_entry() -> None:
    lexicon = parse_lexicon(lexicon_of(
        {**ENTRY, "match": ["giấy chứng nhận"], "fields": ["đất đai"], "everyday": ["sổ đỏ"]},
        {**ENTRY, "match": ["đăng ký thường trú"], "not_with": ["xóa đăng ký thường trú"],
         "everyday": ["nhập hộ khẩu"]},
    ))
    assert lexicon.everyday_names(["Cấp lại Giấy chứng nhận do bị mất"], field="Đất đai") == ["sổ đỏ"]
    assert lexicon.everyday_names(["Cấp lại Giấy chứng nhận do bị mất"], field="Thú y") == []
    assert lexicon.everyday_names(["Đăng ký thường trú"], name="Đăng ký thường trú") == ["nhập hộ khẩu"]
    assert lexicon.everyday_names(["Xóa đăng ký thường trú"], name="Xóa đăng ký thường trú") == []


def test_an_entry_without_reason_or_source_is_refused() -> None:
    with pytest.raises(KnowledgeBaseError, match="reason"):
        parse_lexicon(lexicon_of({k: v for k, v in ENTRY.items() if k != "reason"}))
    with pytest.raises(KnowledgeBaseError, match="source"):
        parse_lexicon(lexicon_of({**ENTRY, "source": ""}))
    with pytest.raises(KnowledgeBaseError, match="(?i)extra inputs"):
        parse_lexicon(lexicon_of({**ENTRY, "answer": "3.000347"}))


def test_the_digest_follows_the_content() -> None:
    one, same, other = lexicon_of(ENTRY), lexicon_of(ENTRY), lexicon_of({**ENTRY, "everyday": ["bằng"]})
    assert parse_lexicon(one).digest == parse_lexicon(same).digest != parse_lexicon(other).digest


def test_documents_are_expanded_queries_are_not() -> None:
    lexicon = parse_lexicon(lexicon_of(ENTRY))
    chunk = procedure_chunk(procedure("Đổi giấy phép lái xe"), lexicon)
    assert "bằng lái" in chunk.text and chunk.title == "Đổi giấy phép lái xe"
    plain = procedure_chunk(procedure("Cấp giấy phép kinh doanh vận tải"), lexicon)
    assert "bằng lái" not in plain.text


def test_audience_cues_of_a_question() -> None:
    lexicon = load_lexicon()
    assert lexicon.audiences_named("thành lập công ty TNHH") == {"doanh_nghiep"}
    assert lexicon.audiences_named("doi bang lai cho nguoi nuoc ngoai") == {"nguoi_nuoc_ngoai"}
    assert lexicon.audiences_named("làm lại giấy khai sinh cho con") == frozenset()
