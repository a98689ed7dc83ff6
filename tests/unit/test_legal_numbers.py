"""Vietnamese document numbers: the one grammar read in running text and in run-together table cells."""

from __future__ import annotations

from typing import Optional

import pytest

from knowledge.text.legal_numbers import (
    canonical_number,
    find_numbers,
    issuer_from_number,
    normalize_number,
    number_codes,
    number_key,
    type_from_number,
    unglue,
)

CYRILLIC_ES = "\u0421"  # looks like a Latin "C"


def spaced(text: str) -> list[str]:
    return [n for _, _, n in find_numbers(text)]


def glued(text: str) -> list[str]:
    return [n for _, _, n in find_numbers(unglue(text), glued=True)]


# -- the same number whichever way the text is written ----------------------------------------


@pytest.mark.parametrize(
    "text, number",
    [
        ("Luật Khiếu nại số 02/2011/QH13 ngày 11/11/2011", "02/2011/QH13"),
        ("Thông tư liên tịch 05/2015/TTLT-BTP-BCA-BYT hướng dẫn", "05/2015/TTLT-BTP-BCA-BYT"),
        ("Thông tư liên tịch 18/2009/TTLT/BGDĐT-BTC-BLĐTBXH", "18/2009/TTLT/BGDĐT-BTC-BLĐTBXH"),
        ("Quyết định số 1588/QĐ-TTg của Thủ tướng", "1588/QĐ-TTg"),
        ("Nghị quyết số 66.7/2025/NQ-CP của Chính phủ", "66.7/2025/NQ-CP"),
        ("Nghị định 64-CP ngày 27/9/1993", "64-CP"),
        ("Nghị quyết số 57-NQ/TW của Bộ Chính trị", "57-NQ/TW"),
        ("Nghị định số 165/2024/NĐ- CP ngày 26/12/2024", "165/2024/NĐ-CP"),
        (f"Thông tư số 10/2020/TT-BT{CYRILLIC_ES} ngày", "10/2020/TT-BTC"),
    ],
)
def test_both_readings_give_one_spelling(text: str, number: str) -> None:
    assert spaced(text) == [number]
    assert glued(text) == [number]


# -- running text ------------------------------------------------------------------------------


def test_running_text_numbers_and_what_is_not_a_number() -> None:
    text = ("Số: 1239 /UBND-KSTT; Quyết định số 1588/QĐ-TTg ngày 17/12/2024; Nghị quyết 57-NQ/TW; "
            "Luật số 148/2025/QH15; Tờ trình 12/TTr-UBND; mẫu số 03/ĐK-T-VAN; V/v; (b/c); 2021-2025; "
            "ngày 18/02/2025; Báo cáo số 13/BC-UBQGCĐS.")
    assert spaced(text) == ["1239/UBND-KSTT", "1588/QĐ-TTg", "57-NQ/TW", "148/2025/QH15", "12/TTr-UBND",
                            "03/ĐK-T-VAN", "13/BC-UBQGCĐS"]


def test_running_text_offsets_are_those_of_the_text() -> None:
    text = f"Căn cứ Số: 1239 /UBND-KSTT và Thông tư 10/2020/TT-BT{CYRILLIC_ES}."
    (s1, e1, n1), (s2, e2, n2) = find_numbers(text)
    assert (text[s1:e1], n1) == ("1239 /UBND-KSTT", "1239/UBND-KSTT")
    assert (text[s2:e2], n2) == (f"10/2020/TT-BT{CYRILLIC_ES}", "10/2020/TT-BTC")


def test_running_text_never_takes_part_of_a_glued_word() -> None:
    # In running text a number glued to the next word is not cut short into a wrong number.
    assert spaced("Quyết định 12/2020/QĐ-XYZLuật") == []
    assert spaced("Nghị định số 232/2025/NĐ-CP34/2025/TT-NHNN") == []
    assert spaced("Quyết định 24/2024/QĐ-UBND về mẫu hồ sơ24/2024") == ["24/2024/QĐ-UBND"]


# -- run-together cells -----------------------------------------------------------------------


def test_glued_year_title_and_next_number() -> None:
    text = "Luật Khiếu nại năm 201102/2011/QH13Hướng dẫn xử lý68/2013/TT-BCALuật X12/2019/QH14"
    assert unglue(text).startswith("Luật Khiếu nại năm 2011 02/2011/QH13")
    assert glued(text) == ["02/2011/QH13", "68/2013/TT-BCA", "12/2019/QH14"]


def test_glued_number_ends_at_its_issuer_code() -> None:
    assert glued("Quy định A15/2020/NĐ-CPQUY ĐỊNH B20/2021/TT-BTCquy định C") == ["15/2020/NĐ-CP", "20/2021/TT-BTC"]
    assert glued("Quyết định 12/2020/QĐ-XYZLuật Đất đai") == ["12/2020/QĐ-XYZ"]  # an unknown issuer
    assert glued("bởi Nghị định số 232/2025/NĐ-CP34/2025/TT-NHNN") == ["232/2025/NĐ-CP", "34/2025/TT-NHNN"]
    assert glued("về tuổi của đảng viên13-TB/TWLuật Việc làm38/2013/QH13") == ["13-TB/TW", "38/2013/QH13"]


def test_glued_cut_short_code_at_the_end_only() -> None:
    assert glued("Quyết định 24/2024/QĐ-UBND về mẫu hồ sơ24/2024") == ["24/2024/QĐ-UBND", "24/2024"]
    assert glued("năm 24/2024 rồi") == []


def test_glued_offsets_are_those_of_the_unglued_text() -> None:
    body = unglue("Luật Cư trú68/2020/QH14Nghị định 154/2024/NĐ- CP154/2024/NĐ-CP")
    spans = find_numbers(body, glued=True)
    assert [(body[s:e], n) for s, e, n in spans] == [
        ("68/2020/QH14", "68/2020/QH14"), ("154/2024/NĐ-CP", "154/2024/NĐ-CP"), ("154/2024/NĐ-CP", "154/2024/NĐ-CP")]


# -- spelling and comparison -------------------------------------------------------------------


def test_canonical_spelling_and_key() -> None:
    assert canonical_number(" 1239 / UBND-KSTT ") == "1239/UBND-KSTT"
    assert canonical_number("165/2024/NĐ- CP") == "165/2024/NĐ-CP"
    assert canonical_number(f"10/2020/TT-BT{CYRILLIC_ES}") == "10/2020/TT-BTC"
    assert normalize_number("Số: 1239 /UBND-KSTT") == "1239/UBND-KSTT"
    assert normalize_number("Số: không rõ") is None
    assert number_key("1588/QĐ-TTg") == number_key("1588/qđ-ttg") == "1588/qd-ttg"


# -- what the codes say ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number, codes, doc_type, issuer",
    [
        ("1588/QĐ-TTg", ("QĐ", "TTg"), "Quyết định", "Thủ tướng Chính phủ"),
        ("224/2026/NĐ-CP", ("NĐ", "CP"), "Nghị định", "Chính phủ"),
        ("148/2025/QH15", (None, "QH15"), "Luật", "Quốc hội"),
        ("1239/UBND-KSTT", (None, "UBND"), "Công văn", "UBND tỉnh Bình Định"),
        ("651/STTTT", (None, "STTTT"), "Công văn", "Sở Thông tin và Truyền thông tỉnh Bình Định"),
        ("12/TTr-UBND", ("TTr", "UBND"), "Tờ trình", "UBND tỉnh Bình Định"),
        ("05/2015/TTLT-BTP-BCA-BYT", ("TTLT", "BTP"), "Thông tư liên tịch", "Bộ Tư pháp"),
        ("18/2009/TTLT/BGDĐT-BTC-BLĐTBXH", ("TTLT", "BGDĐT"), "Thông tư liên tịch", "Bộ Giáo dục và Đào tạo"),
        ("34/2025/TT-NHNN", ("TT", "NHNN"), "Thông tư", "Ngân hàng Nhà nước Việt Nam"),
        ("66.7/2025/NQ-CP", ("NQ", "CP"), "Nghị quyết", "Chính phủ"),
        ("57-NQ/TW", ("NQ", "TW"), "Nghị quyết", None),
        ("64-CP", (None, "CP"), None, "Chính phủ"),
        ("24/2024", (None, None), None, None),
    ],
)
def test_number_codes_type_and_issuer(number: str, codes: tuple[Optional[str], Optional[str]],
                                      doc_type: Optional[str], issuer: Optional[str]) -> None:
    assert number_codes(number) == codes
    assert type_from_number(number) == doc_type
    assert issuer_from_number(number, "Bình Định") == issuer


def test_provincial_issuer_without_and_with_a_central_city() -> None:
    assert issuer_from_number("1239/UBND-KSTT") == "UBND tỉnh"
    assert issuer_from_number("1239/UBND-KSTT", "Hà Nội") == "UBND thành phố Hà Nội"
