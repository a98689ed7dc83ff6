import unicodedata

import pytest

from knowledge.text import canonical_tones, fold, lexical_tokens, normalize_for_display, normalize_for_match


@pytest.mark.parametrize(
    "accented, plain",
    [
        ("Làm giấy khai sinh online thế nào?", "lam giay khai sinh online the nao"),
        ("Đổi bằng lái xe ở đâu", "doi bang lai xe o dau"),
        ("Lý lịch tư pháp", "ly lich tu phap"),
    ],
)
def test_unaccented_and_accented_give_the_same_tokens(accented: str, plain: str) -> None:
    assert lexical_tokens(accented) == lexical_tokens(plain)


def test_nfd_input_is_the_same_as_nfc() -> None:
    text = "Đăng ký thường trú ở phường"
    assert normalize_for_match(unicodedata.normalize("NFD", text)) == normalize_for_match(text)
    assert normalize_for_display(unicodedata.normalize("NFD", text)) == text


@pytest.mark.parametrize("old, new", [("hoà", "hòa"), ("khoẻ", "khỏe"), ("thuỷ", "thủy"), ("Hoá đơn", "Hóa đơn")])
def test_old_tone_placement_becomes_canonical(old: str, new: str) -> None:
    assert canonical_tones(old) == new


def test_tone_is_not_moved_in_closed_syllables_or_after_qu() -> None:
    assert canonical_tones("hoàn thành") == "hoàn thành"
    assert canonical_tones("quý") == "quý"


def test_fold_keeps_one_character_per_character() -> None:
    text = "Căn cước Đà Nẵng"
    assert fold(text) == "can cuoc da nang"
    assert len(fold(text)) == len(text)


def test_abbreviations_and_teencode_are_expanded() -> None:
    assert normalize_for_match("lam lai cccd ko dc ntn").startswith("lam lai can cuoc cong dan khong duoc nhu the nao")
    assert "giay_phep" in lexical_tokens("đổi gplx")
    assert "bao_hiem" in lexical_tokens("gia han bhyt")


def test_document_numbers_match_by_their_parts() -> None:
    tokens = lexical_tokens("Quyết định 1588/QĐ-TTg")
    assert "1588/qd-ttg" in tokens and "1588" in tokens and "ttg" in tokens


def test_colloquial_names_bring_the_official_wording() -> None:
    assert "giay phep lai xe" in normalize_for_match("đổi bằng lái ở đâu")
    assert "giay chung nhan quyen su dung dat" in normalize_for_match("lam so do lan dau")
    assert normalize_for_match("sổ tay") == "so tay"  # no false match inside other words
