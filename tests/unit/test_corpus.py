"""Document ingest: readers, metadata, structural chunking, citation links, index chunks."""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import time
import unicodedata
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from knowledge.corpus.chunking import MAX_CHARS, ChunkStats, chunk_text, pack
from knowledge.corpus.cli import add_ingest_command
from knowledge.corpus.ingest import (
    IngestedDocument,
    SkippedFile,
    document_chunks,
    ingest_file,
    ingest_folder,
    link_citations,
    record_id_for,
    to_chunks,
)
from knowledge.corpus.metadata import DocumentMeta, extract_metadata, parse_date
from knowledge.corpus.readers import decode_bytes, read_document
from knowledge.errors import KnowledgeBaseError
from knowledge.text.legal_numbers import find_numbers, issuer_from_number, type_from_number
from tests.conftest import shared_or_skip

# -- literal documents (written for these tests) --------------------------------------------

CONG_VAN = """
ỦY BAN NHÂN DÂN
TỈNH BÌNH ĐỊNH

CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc

Số: 1239 /UBND-KSTT

Bình Định, ngày 20 tháng 02 năm 2025

V/v báo cáo việc thực hiện
Quyết định số 1588/QĐ-TTg ngày 17
tháng 12 năm 2024 của Thủ tướng Chính phủ

Kính gửi: Bộ Thông tin và Truyền thông

Thực hiện Công văn số 506/BTTTT-CDSQG ngày 18/02/2025 và Nghị quyết số 57-NQ/TW, tỉnh đã ban hành
Quyết định số 4492/QĐ-UBND ngày 27/12/2024 (b/c) về dịch vụ công trực tuyến giai đoạn 2025-2030.
"""

NGHI_DINH = """CHÍNH PHỦ
_______
Số: 224/2026/NĐ-CP
CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Hà Nội, ngày 24 tháng 6 năm 2026
NGHỊ ĐỊNH
Quy định chi tiết một số điều của Luật Chuyển đổi số
Căn cứ Luật Chuyển đổi số số 148/2025/QH15;
Chương I
NHỮNG QUY ĐỊNH CHUNG
Điều 1. Phạm vi điều chỉnh
Nghị định này quy định chi tiết Điều 7, khoản 8 Điều 8 của Luật.
"""


def _long_clause(n: int) -> str:
    return f"{n}. Nội dung khoản {n} " + " ".join(f"quy định số {n} về dịch vụ công trực tuyến" for _ in range(18))


LEGAL = "\n".join([
    "Chương I",
    "NHỮNG QUY ĐỊNH CHUNG",
    "Điều 1. Phạm vi điều chỉnh",
    "Nghị định này quy định chi tiết khoản 2 Điều 8 của Luật.",
    "Điều 5 Luật này không áp dụng cho trường hợp sau.",  # a reference, not an article heading
    "Chương II",
    "CUNG CẤP DỊCH VỤ CÔNG TRỰC TUYẾN",
    "Mục 1",
    "CÁC MỨC ĐỘ",
    "Điều 2. Mức độ cung cấp",
    "Bộ, cơ quan ngang bộ có trách nhiệm sau đây:",
    _long_clause(1),
    "a) điểm a của khoản 1;",
    _long_clause(2),
    _long_clause(3),
    "Điều 3. Hiệu lực thi hành",
    "Nghị định này có hiệu lực từ ngày 01 tháng 7 năm 2026.",
])


# -- metadata -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("ngày 17 tháng 12 năm 2024", dt.date(2024, 12, 17)),
        ("Hà Nội, ngày 24 tháng 6 năm 2026", dt.date(2026, 6, 24)),
        ("ban hành ngày 17/12/2024 của", dt.date(2024, 12, 17)),
        ("ngày 03/6/2022", dt.date(2022, 6, 3)),
        ("ngày 5-7-2021", dt.date(2021, 7, 5)),
        ("ngày 17\ntháng 12 năm 2024", dt.date(2024, 12, 17)),
        ("ngày 31/02/2024", None),
        ("giai đoạn 2021-2025", None),
        ("Sáng ngày 18/02, UBND tỉnh họp", None),
    ],
)
def test_dates_are_read_either_way(text: str, expected: dt.date | None) -> None:
    assert parse_date(text) == expected


def test_document_numbers_are_found_and_normalised() -> None:
    text = ("Số: 1239 /UBND-KSTT; Quyết định số 1588/QĐ-TTg ngày 17/12/2024; Nghị quyết 57-NQ/TW; "
            "Luật số 148/2025/QH15; Thông tư liên tịch 05/2015/TTLT-BTP-BCA-BYT; V/v; (b/c); 2021-2025; "
            "Báo cáo số 13/BC-UBQGCĐS.")
    assert [n for _, _, n in find_numbers(text)] == [
        "1239/UBND-KSTT", "1588/QĐ-TTg", "57-NQ/TW", "148/2025/QH15", "05/2015/TTLT-BTP-BCA-BYT", "13/BC-UBQGCĐS",
    ]


@pytest.mark.parametrize(
    "number, doc_type, issuer",
    [
        ("1588/QĐ-TTg", "Quyết định", "Thủ tướng Chính phủ"),
        ("224/2026/NĐ-CP", "Nghị định", "Chính phủ"),
        ("13/BC-UBQGCĐS", "Báo cáo", "Ủy ban Quốc gia về chuyển đổi số"),
        ("148/2025/QH15", "Luật", "Quốc hội"),
        ("1239/UBND-KSTT", "Công văn", "UBND tỉnh Bình Định"),
        ("651/STTTT", "Công văn", "Sở Thông tin và Truyền thông tỉnh Bình Định"),
        ("59/KH-UBND", "Kế hoạch", "UBND tỉnh Bình Định"),
    ],
)
def test_number_codes_give_type_and_issuer(number: str, doc_type: str, issuer: str) -> None:
    assert type_from_number(number) == doc_type
    assert issuer_from_number(number, "Bình Định") == issuer


def test_letter_header_gives_number_date_issuer_subject_and_cites() -> None:
    meta = extract_metadata(CONG_VAN, filename="cong-van.txt")
    assert meta.number == "1239/UBND-KSTT"
    assert meta.doc_type == "Công văn"
    assert meta.date == dt.date(2025, 2, 20)
    assert meta.issuer == "UBND tỉnh Bình Định"
    assert meta.province == "Bình Định"
    assert meta.subject == ("Báo cáo việc thực hiện Quyết định số 1588/QĐ-TTg ngày 17 tháng 12 năm 2024 "
                            "của Thủ tướng Chính phủ")
    assert meta.cites == ("1588/QĐ-TTg", "506/BTTTT-CDSQG", "57-NQ/TW", "4492/QĐ-UBND")
    assert meta.title == f"Công văn 1239/UBND-KSTT: {meta.subject}"


def test_decree_header_gives_type_heading_subject_and_government() -> None:
    meta = extract_metadata(NGHI_DINH)
    assert (meta.number, meta.doc_type, meta.issuer) == ("224/2026/NĐ-CP", "Nghị định", "Chính phủ")
    assert meta.date == dt.date(2026, 6, 24)
    assert meta.subject == "Quy định chi tiết một số điều của Luật Chuyển đổi số"
    assert meta.cites == ("148/2025/QH15",)


@pytest.mark.parametrize(
    "header, issuer",
    [
        ("THỦ TƯỚNG CHÍNH PHỦ\nSố: 1588/QĐ-TTg\nHà Nội, ngày 17 tháng 12 năm 2024\nQUYẾT ĐỊNH\nPhê duyệt Đề án",
         "Thủ tướng Chính phủ"),
        ("UBND TỈNH QUẢNG NGÃI\nSỞ THÔNG TIN VÀ TRUYỀN THÔNG\nSố: 651/STTTT\nQuảng Ngãi, ngày 29 tháng 6 năm 2020",
         "Sở Thông tin và Truyền thông tỉnh Quảng Ngãi"),
        ("BỘ THÔNG TIN VÀ TRUYỀN THÔNG\nSố: 506/BTTTT-CDSQG\nHà Nội, ngày 18 tháng 02 năm 2025",
         "Bộ Thông tin và Truyền thông"),
        ("Số: 651/STTTT\nQuảng Ngãi, ngày 29 tháng 6 năm 2020\nV/v giới thiệu nội dung",
         "Sở Thông tin và Truyền thông tỉnh Quảng Ngãi"),
    ],
)
def test_issuer_from_header_lines_or_number(header: str, issuer: str) -> None:
    assert extract_metadata(header).issuer == issuer


def test_page_reporting_a_letter_takes_number_from_file_name_and_date_from_mention() -> None:
    page = ("Triển khai báo cáo về dịch vụ công trực tuyến của tỉnh\n\n"
            "(binhdinh.gov.vn) - Chủ tịch UBND tỉnh đã ban hành Công văn số 3406/UBND-KSTT ngày 18/6/2022 "
            "triển khai Báo cáo số 13/BC-UBQGCĐS ngày 03/6/2022 trên địa bàn tỉnh Bình Định.")
    meta = extract_metadata(page, filename="binhdinh-3406-UBND-KSTT-2022-bao-cao.txt")
    assert meta.number == "3406/UBND-KSTT"
    assert meta.date == dt.date(2022, 6, 18)
    assert meta.doc_type == "Công văn"
    assert meta.issuer == "UBND tỉnh Bình Định"
    assert meta.subject == "Triển khai báo cáo về dịch vụ công trực tuyến của tỉnh"
    assert meta.cites == ("13/BC-UBQGCĐS",)
    assert record_id_for(meta, "x") == "cv-3406-ubnd-kstt-2022-binh-dinh"


def test_unknown_fields_stay_empty() -> None:
    meta = extract_metadata("Một đoạn văn bản ngắn không có số hiệu.\nDòng thứ hai.", filename="ghi-chu.txt")
    assert (meta.number, meta.doc_type, meta.date, meta.issuer) == (None, None, None, None)
    assert record_id_for(meta, "ghi-chu") == "ghi-chu"


def test_record_ids_follow_the_catalogue_style() -> None:
    assert record_id_for(DocumentMeta("224/2026/NĐ-CP", "Nghị định", dt.date(2026, 6, 24)), "x") == "nd-224-2026-nd-cp"
    meta = DocumentMeta("1239/UBND-KSTT", "Công văn", dt.date(2025, 2, 20), "UBND tỉnh Bình Định", None, "Bình Định")
    assert record_id_for(meta, "x") == "cv-1239-ubnd-kstt-2025-binh-dinh"


# -- chunking -------------------------------------------------------------------------------


def test_articles_and_clauses_get_citation_labels_and_context() -> None:
    chunks = chunk_text(LEGAL)
    assert [c.section for c in chunks] == ["Điều 1", "Điều 2, khoản 1", "Điều 2, khoản 2", "Điều 2, khoản 3", "Điều 3"]
    first, clause1, *_ = chunks
    assert first.heading == "Phạm vi điều chỉnh"
    assert first.context == "Chương I. NHỮNG QUY ĐỊNH CHUNG"
    assert "Điều 5 Luật này" in first.text  # a line that only cites an article stays text
    assert clause1.context == "Chương II. CUNG CẤP DỊCH VỤ CÔNG TRỰC TUYẾN › Mục 1. CÁC MỨC ĐỘ"
    assert clause1.text.startswith("Bộ, cơ quan ngang bộ")  # the lead-in rides with clause 1
    assert "a) điểm a của khoản 1;" in clause1.text
    assert clause1.section_line == (
        "Chương II. CUNG CẤP DỊCH VỤ CÔNG TRỰC TUYẾN › Mục 1. CÁC MỨC ĐỘ › Điều 2, khoản 1. Mức độ cung cấp"
    )
    assert all(len(c.text) <= MAX_CHARS for c in chunks)


def test_short_clauses_of_a_long_article_are_packed_with_a_range_label() -> None:
    sentence = "Cơ quan có trách nhiệm cung cấp dịch vụ công trực tuyến toàn trình. "
    clauses = [f"{n}. " + sentence * 4 for n in range(1, 8)]
    chunks = chunk_text("Điều 7. Trách nhiệm\n" + "\n".join(clauses))
    labels = [c.section or "" for c in chunks]
    assert labels == ["Điều 7, khoản 1-5", "Điều 7, khoản 6-7"]


def test_phap_dien_labels_are_kept_as_written_and_repeated_articles_dropped() -> None:
    text = "\n".join([
        "Chương I", "", "NHỮNG QUY ĐỊNH CHUNG", "",
        "Điều 1.2.LQ.3. Phạm vi điều chỉnh",
        "(Điều 3 Luật số 81/2006/QH11)",
        "Luật này quy định về cư trú.Điều 1.2.LQ.4. Đối tượng áp dụng",  # heading glued to the sentence
        "Luật này áp dụng đối với công dân. Xem thêm Điều 1.2.LQ.3. Phạm vi điều chỉnh.",
        "Điều 5. Nội dung trích của luật gốc, không phải một điều của pháp điển.",
        "Điều 1.2.NĐ.1.1. Phạm vi điều chỉnh",
        "Nghị định này quy định chi tiết.",
        "## Danh sách điều khoản",
        "### 3900300000000000100000100000000000000000",
        "Điều 1.2.LQ.3. Phạm vi điều chỉnh Luật này quy định về cư trú.",
    ])
    stats = ChunkStats()
    chunks = chunk_text(text, stats=stats)
    assert [c.section for c in chunks] == ["Điều 1.2.LQ.3", "Điều 1.2.LQ.4", "Điều 1.2.NĐ.1.1"]
    assert "Điều 5. Nội dung trích" in chunks[1].text
    assert stats.duplicates_dropped == 1


def test_text_without_articles_is_packed_by_paragraph_with_overlap() -> None:
    paragraphs = [f"Đoạn {i}. " + "Ủy ban nhân dân tỉnh yêu cầu các sở, ngành triển khai dịch vụ công. " * 5
                  for i in range(12)]
    chunks = chunk_text("\n\n".join(paragraphs))
    assert len(chunks) > 3
    assert all(c.section is None for c in chunks)
    assert all(len(c.text) <= 1200 + 200 for c in chunks)
    assert chunks[1].text.startswith("… ")  # overlap with the previous chunk
    assert "Đoạn 11." in chunks[-1].text


def test_no_chunk_exceeds_the_maximum_even_for_one_huge_paragraph() -> None:
    huge = " ".join(f"câu số {i} nói về hồ sơ trực tuyến." for i in range(600))  # ~20,000 chars, one line
    chunks = chunk_text(huge)
    assert len(chunks) >= 10
    assert all(len(c.text) <= MAX_CHARS for c in chunks)
    assert pack(["x" * 50, "y" * 50], target=60, max_chars=60) == ["x" * 50, "y" * 50]


# -- readers --------------------------------------------------------------------------------


def test_html_reader_strips_tags_and_keeps_paragraphs(tmp_path: Path) -> None:
    page = tmp_path / "trang.html"
    page.write_text(
        "<html><head><title>Công văn 12/UBND-VP</title><style>p {color: red}</style></head><body>"
        "<h1>Thông báo</h1><p>Đoạn một &amp; <b>chữ đậm</b>.</p><p>Đoạn hai<br>dòng hai</p>"
        "<script>var x = 1;</script><ul><li>mục a</li><li>mục b</li></ul>"
        "<table><tr><td>Số</td><td>12/UBND-VP</td></tr></table></body></html>",
        encoding="utf-8",
    )
    read = read_document(page)
    assert read.title_hint == "Công văn 12/UBND-VP"
    assert read.text.split("\n\n") == ["Thông báo", "Đoạn một & chữ đậm.", "Đoạn hai\ndòng hai", "- mục a",
                                       "- mục b", "Số | 12/UBND-VP"]
    assert "color" not in read.text and "var x" not in read.text


def _write_docx(path: Path, paragraphs: list[str], table: list[list[str]] | None = None) -> None:
    w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    body = "".join(f"<w:p><w:r><w:t xml:space=\"preserve\">{escape(p)}</w:t></w:r></w:p>" for p in paragraphs)
    if table:
        rows = "".join(
            "<w:tr>" + "".join(f"<w:tc><w:p><w:r><w:t>{escape(c)}</w:t></w:r></w:p></w:tc>" for c in row) + "</w:tr>"
            for row in table
        )
        body += f"<w:tbl>{rows}</w:tbl>"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                    'package/2006/content-types"/>')
        zf.writestr("word/document.xml", f'<?xml version="1.0" encoding="UTF-8"?><w:document {w}><w:body>{body}'
                    "</w:body></w:document>")


def test_docx_reader_reads_paragraphs_and_tables(tmp_path: Path) -> None:
    path = tmp_path / "quyet-dinh.docx"
    _write_docx(path, ["THỦ TƯỚNG CHÍNH PHỦ", "Số: 1588/QĐ-TTg", "Hà Nội, ngày 17 tháng 12 năm 2024", "QUYẾT ĐỊNH",
                       "Phê duyệt Đề án tuyên truyền dịch vụ công trực tuyến", "Điều 1. Phê duyệt Đề án",
                       "Nội dung Đề án."], table=[["Mục tiêu", "Năm 2025"]])
    read = read_document(path)
    assert read.text.split("\n\n")[:2] == ["THỦ TƯỚNG CHÍNH PHỦ", "Số: 1588/QĐ-TTg"]
    assert read.text.endswith("Mục tiêu | Năm 2025")
    doc = ingest_file(path)
    assert isinstance(doc, IngestedDocument)
    assert (doc.meta.number, doc.meta.doc_type, doc.meta.issuer) == ("1588/QĐ-TTg", "Quyết định", "Thủ tướng Chính phủ")
    assert doc.meta.subject == "Phê duyệt Đề án tuyên truyền dịch vụ công trực tuyến"
    assert [c.section for c in doc.chunks] == [None, "Điều 1"]  # the header, then the article


def test_broken_docx_and_pdf_are_skipped_with_a_reason(tmp_path: Path) -> None:
    (tmp_path / "hong.docx").write_bytes(b"not a zip")
    (tmp_path / "scan.pdf").write_bytes(b"%PDF-1.4 broken")
    result = ingest_folder(tmp_path)
    reasons = {s.path.name: s.reason for s in result.skipped}
    assert "bad zip" in reasons["hong.docx"]
    if importlib.util.find_spec("pypdf") is None:
        assert "pypdf" in reasons["scan.pdf"]
    else:
        assert "scan.pdf" in reasons


def test_decoding_falls_back_and_normalises_to_nfc() -> None:
    text, encoding, warnings = decode_bytes(unicodedata.normalize("NFD", "Hộ tịch").encode("utf-8"))
    assert (text, encoding, warnings) == ("Hộ tịch", "utf-8", ())
    # cp1258 writes the tone as a combining mark after the (possibly accented) base letter
    text, encoding, warnings = decode_bytes("Hô\u0323 ti\u0323ch".encode("cp1258"))
    assert text == "Hộ tịch" and encoding == "cp1258" and warnings


def test_markdown_front_matter_feeds_metadata(tmp_path: Path) -> None:
    md = tmp_path / "phap-dien-mau.md"
    md.write_text("---\ntitle: Cư trú\nlastedit: 2026-05-13\n---\n\n# Cư trú\n\n"
                  + "\n\n".join(f"Điều 39.3.LQ.{i}. Điều thứ {i}\n\nNội dung **điều** {i}, xem Luật số 81/2006/QH11."
                                for i in range(1, 5)), encoding="utf-8")
    doc = ingest_file(md)
    assert isinstance(doc, IngestedDocument)
    assert (doc.meta.doc_type, doc.meta.subject, doc.meta.number, doc.meta.date) == ("Pháp điển", "Cư trú", None, None)
    assert doc.title == "Pháp điển: Cư trú" and doc.record_id == "phap-dien-mau"
    assert [c.section for c in doc.chunks] == [f"Điều 39.3.LQ.{i}" for i in range(1, 5)]
    assert "**" not in doc.chunks[0].text


# -- folder ingest, links, index chunks, CLI ------------------------------------------------


def _folder(tmp_path: Path) -> Path:
    root = tmp_path / "kho"
    (root / "con").mkdir(parents=True)
    (root / "qd.txt").write_text(
        "THỦ TƯỚNG CHÍNH PHỦ\nSố: 1588/QĐ-TTg\nHà Nội, ngày 17 tháng 12 năm 2024\nQUYẾT ĐỊNH\n"
        "Phê duyệt Đề án dịch vụ công trực tuyến\nĐiều 1. Phê duyệt\nPhê duyệt Đề án.\n", encoding="utf-8")
    (root / "con" / "cv.txt").write_text(CONG_VAN, encoding="utf-8")
    (root / "con" / "ban-sao.txt").write_text(CONG_VAN, encoding="utf-8")  # same document twice
    (root / "bang.xlsx").write_bytes(b"PK")
    (root / "LICENSE.txt").write_text("MIT License", encoding="utf-8")
    (root / ".an.txt").write_text("hidden", encoding="utf-8")
    (root / "rong.md").write_text("---\ntitle: x\n---\n", encoding="utf-8")
    return root


def test_folder_ingest_reports_skips_and_links_citations_both_ways(tmp_path: Path) -> None:
    result = ingest_folder(_folder(tmp_path))
    ids = [d.record_id for d in result.documents]
    assert ids == ["cv-1239-ubnd-kstt-2025-binh-dinh", "cv-1239-ubnd-kstt-2025-binh-dinh-2", "qd-1588-qd-ttg-2024"]
    assert {s.path.name: s.reason for s in result.skipped} == {
        "LICENSE.txt": "licence/readme file, not a document",
        "bang.xlsx": "unsupported extension .xlsx",
        "rong.md": "no text",
    }
    links = result.links
    assert links.cites["cv-1239-ubnd-kstt-2025-binh-dinh"] == ("qd-1588-qd-ttg-2024",)
    assert links.cited_by["qd-1588-qd-ttg-2024"] == ("cv-1239-ubnd-kstt-2025-binh-dinh",
                                                      "cv-1239-ubnd-kstt-2025-binh-dinh-2")
    assert (links.found, links.linked) == (8, 2)
    assert link_citations([]).found == 0
    with pytest.raises(KnowledgeBaseError):
        ingest_folder(tmp_path / "khong-co")


def test_index_chunks_carry_title_number_section_and_source(tmp_path: Path) -> None:
    result = ingest_folder(_folder(tmp_path))
    chunks = to_chunks(result)
    assert len(chunks) == result.chunk_count
    assert len({c.chunk_id for c in chunks}) == len(chunks)
    qd = [c for c in chunks if c.record_id == "qd-1588-qd-ttg-2024"]
    assert [c.chunk_id for c in qd] == ["qd-1588-qd-ttg-2024#doan-0", "qd-1588-qd-ttg-2024#dieu-1-1"]
    header, c = qd
    assert header.section is None and "Số: 1588/QĐ-TTg" in header.text
    assert c.kind == "directive" and c.section == "Điều 1" and c.doc_number == "1588/QĐ-TTg"
    assert c.title == "Quyết định 1588/QĐ-TTg: Phê duyệt Đề án dịch vụ công trực tuyến"
    assert c.text.startswith(c.title + "\nĐiều 1. Phê duyệt\n")
    assert c.snippet == "Phê duyệt Đề án." and c.source == "Văn bản: qd.txt"
    assert all(len(x.snippet) <= 241 for x in chunks)


def test_cli_prints_a_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    add_ingest_command(parser.add_subparsers(dest="command", required=True))
    root = _folder(tmp_path)
    args = parser.parse_args(["ingest", str(root), "--json"])
    assert args.func(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["documents"], data["skipped"], data["citations"]) == (3, 3, {"found": 8, "linked": 2})
    assert data["per_document"][2]["date"] == "2024-12-17"
    args = parser.parse_args(["ingest", str(root)])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "3 documents" in out and "skipped LICENSE.txt" in out and "2 linked" in out


# -- the real corpus (../shared) ------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus() -> Path:
    return shared_or_skip("corpus")


def test_every_corpus_file_is_ingested_quickly(corpus: Path) -> None:
    start = time.perf_counter()
    result = ingest_folder(corpus)
    assert time.perf_counter() - start < 5
    files = {p for p in corpus.rglob("*") if p.is_file()}
    assert {d.path for d in result.documents} | {s.path for s in result.skipped} == files
    assert [s.path.name for s in result.skipped if not s.path.name.startswith("LICENSE")] == []
    assert len(result.documents) == len([p for p in files if not p.name.startswith("LICENSE")])
    chunks = to_chunks(result)
    assert len({c.chunk_id for c in chunks}) == len(chunks)
    assert all(len(tc.text) <= MAX_CHARS for d in result.documents for tc in d.chunks)


def test_decree_224_is_chunked_by_article(corpus: Path) -> None:
    doc = ingest_file(corpus / "legal" / "nd-224-2026-thi-hanh-luat-chuyen-doi-so.md")
    assert isinstance(doc, IngestedDocument)
    assert doc.record_id == "nd-224-2026-nd-cp"
    assert (doc.meta.number, doc.meta.doc_type, doc.meta.issuer) == ("224/2026/NĐ-CP", "Nghị định", "Chính phủ")
    assert doc.meta.date == dt.date(2026, 6, 24)
    assert "148/2025/QH15" in doc.meta.cites
    sections = [c.section for c in doc.chunks if c.section]
    assert {s.split(",")[0] for s in sections} == {f"Điều {n}" for n in range(1, 93)}
    assert "Điều 14" in sections and any(s.startswith("Điều 12") for s in sections)
    assert any(", khoản " in s for s in sections)
    chunks = [c for c in document_chunks(doc) if c.section and c.section.startswith("Điều 12")]
    assert chunks and all(c.doc_number == "224/2026/NĐ-CP" for c in chunks)
    assert all("224/2026/NĐ-CP" in c.text and "Điều 12" in c.text for c in chunks)


def test_binh_dinh_1239_gets_number_date_and_cites_1588(corpus: Path) -> None:
    doc = ingest_file(corpus / "directives" / "binhdinh-1239-UBND-KSTT-2025-trien-khai-QD-1588.txt")
    assert isinstance(doc, IngestedDocument)
    assert doc.meta.number == "1239/UBND-KSTT"
    assert doc.meta.date is not None and doc.meta.date.year == 2025
    assert doc.meta.date == dt.date(2025, 2, 20)
    assert doc.meta.issuer == "UBND tỉnh Bình Định"
    assert "1588/QĐ-TTg" in doc.meta.cites


def test_phap_dien_topics_keep_their_article_numbering(corpus: Path) -> None:
    doc = ingest_file(corpus / "legal" / "phap-dien-cu-tru.md")
    assert isinstance(doc, IngestedDocument)
    assert doc.meta.doc_type == "Pháp điển" and doc.meta.subject == "Cư trú"
    sections = {c.section for c in doc.chunks}
    assert "Điều 39.3.LQ.1" in sections and "Điều 39.3.LQ.2" in sections  # the second is glued in the source
    assert isinstance(ingest_file(corpus / "legal" / "LICENSE-source-MIT.txt"), SkippedFile)


def test_html_source_line_breaks_are_spaces_and_word_content_controls_are_read(tmp_path: Path) -> None:
    page = tmp_path / "a.htm"
    page.write_text("<body><p>Ủy ban nhân dân\n   tỉnh ban hành</p><pre>dòng 1\ndòng 2</pre></body>", encoding="utf-8")
    assert read_document(page).text == "Ủy ban nhân dân tỉnh ban hành\n\ndòng 1\ndòng 2"
    path = tmp_path / "sdt.docx"
    _write_docx(path, ["Đoạn đầu"])
    with zipfile.ZipFile(path) as zf:
        xml = zf.read("word/document.xml").decode()
    xml = xml.replace("</w:body>", "<w:sdt><w:sdtContent><w:p><w:r><w:t>Trong ô</w:t></w:r></w:p></w:sdtContent>"
                                    "</w:sdt></w:body>")
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("word/document.xml", xml)
    assert read_document(path).text == "Đoạn đầu\n\nTrong ô"


def test_a_bare_people_committee_header_is_placed_by_the_date_line() -> None:
    meta = extract_metadata("ỦY BAN NHÂN DÂN\nSố: 12/KH-UBND\nQuảng Ngãi, ngày 10 tháng 4 năm 2019\nKẾ HOẠCH\n"
                            "Phát triển chính quyền điện tử")
    assert (meta.issuer, meta.province, meta.doc_type) == ("UBND tỉnh Quảng Ngãi", "Quảng Ngãi", "Kế hoạch")
    assert meta.subject == "Phát triển chính quyền điện tử"
