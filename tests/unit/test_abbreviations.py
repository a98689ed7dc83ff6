"""Abbreviations citizens type and the portal's own shorthand in procedure names expand to the same words."""

from __future__ import annotations

import pytest

from knowledge.text import lexical_tokens, normalize_for_match


@pytest.mark.parametrize(
    ("typed", "expanded"),
    [
        ("đk lại ks cần gì", "dang ky lai khai sinh can gi"),
        ("giấy xn cư trú", "giay xac nhan cu tru"),
        ("đăng kí hộ kinh doanh", "dang ky ho kinh doanh"),
        ("công ty TNHH một thành viên", "cong ty trach nhiem huu han mot thanh vien"),
        ("chế độ TNLĐ, BNN", "che do tai nan lao dong benh nghe nghiep"),
        ("cơ sở KCB BHYT", "co so kham chua benh bao hiem y te"),
    ],
)
def test_abbreviations_expand(typed: str, expanded: str) -> None:
    assert normalize_for_match(typed) == expanded


def test_a_citizen_abbreviation_meets_the_official_name_as_bigrams() -> None:
    assert "huu_han" in lexical_tokens("giải thể cty tnhh") and "khai_sinh" in lexical_tokens("làm ks cho con")
