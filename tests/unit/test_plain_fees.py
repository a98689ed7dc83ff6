"""Fees and time limits as a citizen should read them on a given day (knowledge/catalogue/plain.py)."""

from __future__ import annotations

import datetime as dt

from knowledge.catalogue.plain import in_force, is_free, plain_amounts, plain_fee, plain_time

DAY = dt.date(2026, 12, 2)
CAN_CUOC = ("70,000 Việt Nam Đồng (- Cấp lại thẻ căn cước: 70.000 đồng/thẻ căn cước. Kể từ ngày 01/01/2025 đến "
            "hết ngày 31/12/2025, mức thu lệ phí khi nộp trực tuyến bằng 50% mức thu lệ phí quy định. - Kể từ "
            "ngày 01/7/2025 đến hết ngày 31/12/2026 mức thu lệ phí cấp đổi, cấp lại bằng 50% mức thu nêu trên.)")


def test_a_period_that_ended_is_left_out_and_one_in_force_kept() -> None:
    fee = plain_fee(CAN_CUOC, DAY)
    assert fee is not None
    assert fee.startswith("70.000 đồng (")
    assert "31/12/2025" not in fee and "đến hết ngày 31/12/2026 mức thu lệ phí cấp đổi" in fee
    assert fee.count("(") == fee.count(")")


def test_after_the_last_period_only_the_base_amount_remains() -> None:
    fee = plain_fee(CAN_CUOC, dt.date(2027, 1, 1))
    assert fee == "70.000 đồng (Cấp lại thẻ căn cước: 70.000 đồng/thẻ căn cước.)"


def test_a_rate_that_only_applied_until_a_past_day_is_none() -> None:
    old = ("40,000 Việt Nam Đồng (40.000đ/giấy thông hành (áp dụng đến hết ngày 31/12/2024 theo "
           "Thông tư 43/2024/TT-BTC).)")
    assert plain_fee(old, DAY) is None
    assert plain_fee(old, dt.date(2024, 12, 31)) == old.replace("40,000 Việt Nam Đồng", "40.000 đồng")


def test_text_without_dates_is_unchanged_but_for_the_amount() -> None:
    assert in_force("Miễn phí", DAY) == "Miễn phí"
    assert plain_amounts("200,000 Việt Nam Đồng và 1500 Việt Nam Đồng") == "200.000 đồng và 1500 đồng"
    assert is_free("Miễn phí (Theo Luật phí và lệ phí)") and not is_free("70.000 đồng")


def test_time_units_in_lower_case() -> None:
    assert plain_time("15 Ngày làm việc") == "15 ngày làm việc"
    assert plain_time("Trong  ngày") == "Trong ngày"


def test_a_reduced_rate_in_brackets_that_ended_is_left_out_but_the_base_rate_kept() -> None:
    fee = "Lệ phí 135.000 đồng/lần (nộp trực tuyến từ 01/12/2023 đến hết 31/12/2025: 115.000 đồng/lần cấp)."
    assert plain_fee(fee, DAY) == "Lệ phí 135.000 đồng/lần."
    assert plain_fee(fee, dt.date(2025, 6, 1)) == fee
