"""Masking of personal data in citizens' messages (knowledge/text/pii.py): what realistic
Vietnamese messages look like masked, and what must stay as typed."""

from __future__ import annotations

import unicodedata

import pytest

from knowledge.text.pii import contains_pii, mask_pii

MASKED = [
    # phone numbers: separators, +84 / 84 / (+84), landlines, several in one message
    ("sdt cua toi la 0912345678", "sdt cua toi la 0912****78"),
    ("số tôi 0912 345 678 nhé", "số tôi 0912****78 nhé"),
    ("goi lai 0912.345.678 giup em", "goi lai 0912****78 giup em"),
    ("0912-345-678", "0912****78"),
    ("liên hệ +84 912 345 678", "liên hệ +8491*****78"),
    ("+84912345678", "+8491*****78"),
    ("84912345678", "8491*****78"),
    ("zalo (+84) 912 345 678", "zalo +8491*****78"),
    ("số điện thoại: 0912 34 56 78", "số điện thoại: 0912****78"),
    ("bàn 028 3829 6052", "bàn 0283*****52"),
    ("goi 091 234 5678 hoac 0987654321", "goi 0912****78 hoac 0987****21"),
    ("0912345678 0987654321", "0912****78 0987****21"),
    ("0912 345 678 và 0987 654 321", "0912****78 và 0987****21"),
    ("sđt 0912345678.", "sđt 0912****78."),
    ("zalo 0912345678 ạ", "zalo 0912****78 ạ"),
    # ID numbers: CCCD (12), CMND (9), social insurance (10), typed in groups, passports
    ("cccd 079203001234", "cccd 0792******34"),
    ("so can cuoc 079 203 001 234 nhe", "so can cuoc 0792******34 nhe"),
    ("CCCD: 0792 0300 1234", "CCCD: 0792******34"),
    ("CMND 123456789", "CMND 123****89"),
    ("cmnd cũ 123 456 789", "cmnd cũ 123****89"),
    ("mã bhxh 7912345678", "mã bhxh 7912****78"),
    ("số hộ chiếu C1234567", "số hộ chiếu C*****67"),
    # e-mail addresses
    ("email nguyenvana@gmail.com", "email n*********@gmail.com"),
    ("Email: Nguyen.Van_A+dvc@yahoo.com.vn", "Email: N***************@yahoo.com.vn"),
    ("gửi vào tran.b@hanoi.gov.vn giúp tôi", "gửi vào t*****@hanoi.gov.vn giúp tôi"),
    # names after a cue, accented or not, and where they end
    ("ten toi la nguyen van a, so cccd 079203001234", "ten toi la n*** v*** a***, so cccd 0792******34"),
    ("Tên tôi là Nguyễn Văn An, sđt 0912345678", "Tên tôi là N*** V*** A***, sđt 0912****78"),
    ("Họ và tên: Trần Thị Bích Ngọc", "Họ và tên: T*** T*** B*** N***"),
    ("họ tên Lê Văn Tám sinh năm 1990", "họ tên L*** V*** T*** sinh năm 1990"),
    ("tôi tên là Hoa", "tôi tên là H***"),
    ("tên của tôi là Phạm Minh Châu", "tên của tôi là P*** M*** C***"),
    ("Tên tôi là Nguyễn văn An", "Tên tôi là N*** v*** A***"),
    ("tên tôi là Lan và tôi cần hỏi làm hộ chiếu", "tên tôi là L*** và tôi cần hỏi làm hộ chiếu"),
    ("mình tên Lan, sđt +84912345678, mail lan.nguyen@gmail.com",
     "mình tên L***, sđt +8491*****78, mail l*********@gmail.com"),
    # everything at once
    ("Họ tên: Đỗ Thị Mai, CCCD 001190012345, SĐT 0987.654.321, email mai.do@outlook.com, hồ sơ "
     "G22.99.01-251120-0001",
     "Họ tên: Đ*** T*** M***, CCCD 0011******45, SĐT 0987****21, email m*****@outlook.com, hồ sơ "
     "G22.99.01-251120-0001"),
]

KEPT = [
    "Ma ho so G22.99.01-251120-0001",
    "tra cứu hồ sơ 000.00.12.H29-250101-0001",
    "thủ tục 1.001193 và 1.001194",
    "lệ phí 1.000.000 đồng",
    "le phi 1000000 dong",
    "150.000.000 đồng",
    "so tien 1.000.000.000 dong",
    "nộp ngày 20/11/2025 lúc 08:30",
    "năm 2025, quý 3",
    "biển số 51F-123.45",
    "mất 15 ngày làm việc",
    "Làm lại CCCD ở đâu?",
    "tôi là sinh viên, cần xác nhận cư trú",
    "gọi tổng đài 1900 1234",
    "",
]


@pytest.mark.parametrize(("text", "masked"), MASKED)
def test_personal_data_is_masked(text: str, masked: str) -> None:
    assert mask_pii(text) == masked
    assert contains_pii(text)


@pytest.mark.parametrize(("text", "masked"), MASKED)
def test_masking_is_idempotent(text: str, masked: str) -> None:
    assert mask_pii(masked) == masked
    assert not contains_pii(masked)


@pytest.mark.parametrize("text", KEPT)
def test_codes_dates_and_amounts_are_left_alone(text: str) -> None:
    assert mask_pii(text) == text
    assert not contains_pii(text)


def test_nfd_input_is_masked_like_nfc() -> None:
    text = unicodedata.normalize("NFD", "Họ và tên: Trần Thị Bích Ngọc, sđt 0912345678")
    assert mask_pii(text) == "Họ và tên: T*** T*** B*** N***, sđt 0912****78"


@pytest.mark.parametrize(("text", "kept"), [
    ("0912345678", "0912345678"),
    ("0912 345 678", "0912 345 678"),
    ("+84 912 345 678", "+84 912 345 678"),
    ("nguyenvana@gmail.com", "nguyenvana@gmail.com"),
    ("0912345678 hoặc nguyenvana@gmail.com, cccd 079203001234", "0912345678 hoặc nguyenvana@gmail.com, cccd "
                                                                 "0792******34"),
    ("gọi 0912345678, tên tôi là Nguyễn Văn An", "gọi 0912345678, tên tôi là N*** V*** A***"),
    ("cccd 079 203 001 234", "cccd 0792******34"),
])
def test_keep_contact_leaves_the_phone_and_email_but_not_ids_or_names(text: str, kept: str) -> None:
    assert mask_pii(text, keep_contact=True) == kept


def test_a_masked_number_keeps_its_ends_only() -> None:
    masked = mask_pii("cccd 079203001234")
    assert masked.count("*") == 6 and "203001" not in masked
