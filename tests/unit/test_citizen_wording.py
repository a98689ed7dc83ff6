"""No internal wording reaches a citizen: no file name, path, "của dự án", "bản ghi", "None"…

Checked twice: on every citizen-visible string of every record of the embedded knowledge base
(``knowledge/data``), and on the messages the actions render from each record. When the full
import (``var/full-kb``, built by ``make import`` from ../shared) is present, the rendered messages
of a fixed sample of its records are checked too.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from actions import messages as m
from knowledge.catalogue.loader import DEFAULT_DATA_DIR, KnowledgeBase, load_knowledge_base
from knowledge.catalogue.models import Directive, Guide, Procedure

ROOT = Path(__file__).resolve().parents[2]
FULL_KB = ROOT / "var" / "full-kb"
SAMPLE_SIZE = 300

# Each pattern with the reason a citizen must not see it.
FORBIDDEN: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\.(?:txt|md|ya?ml|json)\b", re.IGNORECASE), "file name"),
    (re.compile(r"\.\./"), "relative path"),
    (re.compile(r"\bshared/", re.IGNORECASE), "path to ../shared"),
    (re.compile(r"\bcorpus/", re.IGNORECASE), "path to the corpus"),
    (re.compile(r"của dự án", re.IGNORECASE), "“của dự án”"),
    (re.compile(r"bản ghi", re.IGNORECASE), "“bản ghi”"),
    (re.compile(r"kho tài liệu", re.IGNORECASE), "“kho tài liệu”"),
    (re.compile(r"\bNone\b"), "None"),
]
# Not citizen-visible, or not text: identifiers, links between records, dates, enum values.
NOT_SHOWN = {"id", "related", "implements", "checked_on", "date", "audience", "type", "kind"}


def forbidden_in(text: str) -> list[str]:
    return [f"{why} ({match.group(0)!r})" for pattern, why in FORBIDDEN for match in [pattern.search(text)] if match]


def strings(value: Any, where: str) -> Iterator[tuple[str, str]]:
    """(field path, text) for every string inside a record, ``documents[2]``, ``online.note``…"""
    if isinstance(value, BaseModel):
        for name in type(value).model_fields:
            if name not in NOT_SHOWN:
                yield from strings(getattr(value, name), f"{where}.{name}" if where else name)
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from strings(item, f"{where}[{i}]")
    elif isinstance(value, str):
        yield where, value


Record = Procedure | Guide | Directive


def records(kb: KnowledgeBase) -> list[Record]:
    return [*kb.procedures.values(), *kb.guides.values(), *kb.directives.values()]


def field_problems(record: Record) -> list[str]:
    return [f"{record.id} · {where}: {', '.join(found)} in {text!r:.200}"
            for where, text in strings(record, "") for found in [forbidden_in(text)] if found]


def rendered(record: Record) -> Iterator[tuple[str, m.BotMessage]]:
    """Every message the actions build from ``record``, named by the function that built it."""
    if isinstance(record, Procedure):
        for i, msg in enumerate(m.procedure_overview(record)):
            yield f"procedure_overview[{i}]", msg
        for render in (m.documents_text, m.fee_text, m.time_text, m.where_text):
            yield render.__name__, render(record)
    elif isinstance(record, Guide):
        for i, msg in enumerate(m.guide_messages(record)):
            yield f"guide_messages[{i}]", msg
    else:
        for i, msg in enumerate(m.directive_messages(record)):
            yield f"directive_messages[{i}]", msg


def portal_wording(record: Record) -> list[str]:
    """The fields an imported record quotes verbatim from the portal (official names, the dossier list…).

    The portal's own wording may legitimately hold "của dự án" (an investment project) or "bản ghi lời
    khiếu nại" (a written record of a complaint); the check on imported records is about the wording
    the importers and the actions add around it. Longest first, so that a name is not cut by a part of it.
    """
    if not isinstance(record, Procedure):
        return []
    quoted = [record.name, record.result, record.applicants, record.agency, record.receiving_agency,
              *record.documents, *(ref.title for ref in record.legal_basis)]
    return sorted({q for q in quoted if q and len(q) >= 10}, key=len, reverse=True)


def unquote(text: str, quoted: str) -> str:
    """``text`` with ``quoted`` taken out, whole or cut short by the renderer ("Kết quả: Thông báo…")."""
    quoted = " ".join(quoted.split())
    if quoted in text:
        return text.replace(quoted, "«…»")
    head, start = quoted[:20], text.find(quoted[:20])
    while start != -1:
        end = start
        while end < len(text) and end - start < len(quoted) and text[end] == quoted[end - start]:
            end += 1
        if text[end:end + 1] == "…":
            text = text[:start] + "«…»" + text[end + 1:]
        start = text.find(head, start + 1)
    return text


def message_problems(record: Record, quoted: list[str] | None = None) -> list[str]:
    problems = []
    for where, msg in rendered(record):
        for label, text in [("text", msg.text), *((f"button {b.title!r}", b.title) for b in msg.buttons)]:
            for q in quoted or ():
                text = unquote(text, q)
            found = forbidden_in(text)
            if found:
                problems.append(f"{record.id} · {where} {label}: {', '.join(found)} in {text!r:.300}")
    return problems


EMBEDDED = load_knowledge_base(DEFAULT_DATA_DIR)
EMBEDDED_RECORDS = records(EMBEDDED)


def test_the_patterns_catch_internal_wording() -> None:
    # The checker itself must be able to fail: each of these is what issue 11 saw reach citizens.
    for text in ("Nguồn: Dẫn theo Văn bản gốc: binhdinh-1239-UBND-KSTT-2025.txt (../shared/corpus/directives)",
                 "Văn bản gốc không có trong kho tài liệu của dự án",
                 "Chưa có bản ghi trong dữ liệu Cổng DVCQG",
                 "Lệ phí: None", "theo docs DOMAIN.md", "procedures/ho-tich.yaml"):
        assert forbidden_in(text), text
    for text in ("Nguồn: Điều 90 Nghị định 224/2026/NĐ-CP; tra cứu tại dichvucong.gov.vn (mã 1.001193).",
                 "Xuất trình bản chính để đối chiếu.", "Nộp tại: https://dichvucong.gov.vn"):
        assert not forbidden_in(text), text


def test_the_embedded_knowledge_base_is_not_empty() -> None:
    assert len(EMBEDDED.procedures) >= 20 and EMBEDDED.guides and EMBEDDED.directives


@pytest.mark.parametrize("record", EMBEDDED_RECORDS, ids=lambda r: r.id)
def test_no_internal_wording_in_any_field(record: Record) -> None:
    assert field_problems(record) == []


@pytest.mark.parametrize("record", EMBEDDED_RECORDS, ids=lambda r: r.id)
def test_no_internal_wording_in_rendered_messages(record: Record) -> None:
    assert message_problems(record) == []


def test_no_internal_wording_in_a_sample_of_the_full_import() -> None:
    if not (FULL_KB / "procedures").is_dir():
        pytest.skip("var/full-kb is not built on this machine (make import, from ../shared/data)")
    population = sorted(records(load_knowledge_base(FULL_KB)), key=lambda r: r.id)
    sample = random.Random(11).sample(population, min(SAMPLE_SIZE, len(population)))
    problems = [p for record in sample for p in message_problems(record, portal_wording(record))]
    assert problems == [], f"{len(problems)} problems in {len(sample)} records:\n" + "\n".join(problems[:40])
