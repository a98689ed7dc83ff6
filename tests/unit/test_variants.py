"""Near-variants read from the names (knowledge.index.variants) and the papers' field of the ranking."""

from __future__ import annotations

import numpy as np
import pytest

from knowledge.index.documents import Chunk
from knowledge.index.hybrid import HybridIndex
from knowledge.index.lexical import LexicalIndex
from knowledge.index.variants import VariantPrior, find_variants, inserted, name_syllables

BIRTH = ["Thủ tục đăng ký khai sinh", "Thủ tục đăng ký lại khai sinh", "Thủ tục đăng ký khai sinh lưu động",
         "Thủ tục đăng ký khai sinh có yếu tố nước ngoài", "Thủ tục đăng ký khai tử"]


def procedure(title: str, details: str = "") -> Chunk:
    return Chunk(title, title, "procedure", title, title, "", details=details)


def test_a_variant_is_its_base_with_a_few_words_inserted() -> None:
    assert name_syllables("Thủ tục đăng ký khai sinh") == ["dang", "ky", "khai", "sinh"]
    assert inserted(["dang", "ky", "khai", "sinh"], ["dang", "ky", "lai", "khai", "sinh"]) == ["lai"]
    assert inserted(["dang", "ky", "khai", "sinh"], ["dang", "ky", "khai", "tu"]) is None  # a different procedure
    assert inserted(["cap"], ["cap", "lai"]) is None  # one syllable is no family
    long_insert = ["cap", "giay", "a", "b", "c", "d", "e", "f", "g", "h", "i", "phep"]
    assert inserted(["cap", "giay", "phep"], long_insert) is None  # nine inserted syllables: another procedure


def test_the_families_of_the_birth_registration_are_found_from_the_names() -> None:
    found = find_variants(BIRTH)
    assert found == {1: (0, ["lai"]), 2: (0, ["luu", "dong"]), 3: (0, ["co", "yeu", "to", "nuoc", "ngoai"])}


def test_a_variant_keeps_its_score_only_when_the_question_says_what_makes_it_differ() -> None:
    prior = VariantPrior([procedure(t) for t in BIRTH], strength=0.1)
    ids = np.arange(len(BIRTH))
    assert prior.factors("làm khai sinh cho con", ids).round(3).tolist() == [1.0, 0.9, 0.9, 0.9, 1.0]
    assert prior.factors("dang ky lai khai sinh", ids).round(3).tolist() == [1.0, 1.0, 0.9, 0.9, 1.0]
    assert prior.factors("đăng ký khai sinh lưu động", ids).round(3).tolist() == [1.0, 0.9, 1.0, 0.9, 1.0]


@pytest.mark.parametrize(("weight", "order"), [(0.0, ["Cấp đổi", "Cấp lại"]), (0.5, ["Cấp lại", "Cấp đổi"])])
def test_the_papers_a_procedure_asks_for_count_at_their_weight(weight: float, order: list[str]) -> None:
    chunks = [procedure("Cấp đổi giấy chứng nhận", "Bản gốc giấy chứng nhận đã cấp"),
              procedure("Cấp lại giấy chứng nhận", "Đơn trình báo mất giấy chứng nhận có xác nhận của công an")]
    lexical = LexicalIndex.build([c.text for c in chunks])
    details = LexicalIndex.build([c.details for c in chunks])
    index = HybridIndex(chunks, lexical, details=details, details_weight=weight, citizen_prior=1.0,
                        variant_strength=0.0)
    hits = index.search("đổi giấy chứng nhận bị mất, đã trình báo công an")
    assert [h.chunk.title.removesuffix(" giấy chứng nhận") for h in hits] == order
