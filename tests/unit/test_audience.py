"""Audience from the portal's "Đối tượng thực hiện" and the citizen-first prior in the ranking."""

from __future__ import annotations

import datetime as dt

import pytest

from knowledge.catalogue.models import OnlineService, Procedure, audience_of
from knowledge.index.documents import Chunk
from knowledge.index.hybrid import AudiencePrior
from knowledge.lexicon import load_lexicon


@pytest.mark.parametrize(
    ("applicants", "audience"),
    [
        ("Công dân Việt Nam", ["cong_dan"]),
        ("Tổ chức (không bao gồm doanh nghiệp, HTX)", ["to_chuc"]),
        ("Tổ chức (không bao gồm doanh nghiệp, HTX), Công dân Việt Nam", ["cong_dan", "to_chuc"]),
        ("Doanh nghiệp, Doanh nghiệp có vốn đầu tư nước ngoài", ["nguoi_nuoc_ngoai", "doanh_nghiep"]),
        ("Hợp tác xã", ["doanh_nghiep"]),
        ("Cán bộ, công chức, viên chức", ["to_chuc"]),
        ("Người nước ngoài", ["nguoi_nuoc_ngoai"]),
        ("Người Việt Nam định cư ở nước ngoài", ["cong_dan"]),
        ("Hộ gia đình, cá nhân, cộng đồng dân cư", ["cong_dan"]),
        ("Người sử dụng lao động (doanh nghiệp, tổ chức)", ["to_chuc", "doanh_nghiep"]),
        (None, []),
    ],
)
def test_audience_of_applicants(applicants: str | None, audience: list[str]) -> None:
    assert audience_of(applicants) == audience


def make(applicants: str | None, **extra: object) -> Procedure:
    return Procedure(id="x.1", name="Thủ tục thử", field="Thử", summary="Một thủ tục để kiểm thử.",
                     applicants=applicants, online=OnlineService(type="khong"), source="kiểm thử",
                     checked_on=dt.date(2026, 12, 1), **extra)  # type: ignore[arg-type]


def test_records_derive_their_audience_unless_given() -> None:
    assert make("Doanh nghiệp").audience == ["doanh_nghiep"] and not make("Doanh nghiệp").for_citizens
    assert make("Doanh nghiệp", audience=["cong_dan"]).audience == ["cong_dan"]
    assert make(None).audience == [] and make(None).for_citizens


def chunk(rid: str, audience: tuple[str, ...]) -> Chunk:
    return Chunk(rid, rid, "procedure", rid, rid, rid, audience=audience)


def test_prior_lowers_other_audiences_unless_the_question_names_them() -> None:
    import numpy as np

    chunks = [chunk("citizen", ("cong_dan",)), chunk("firm", ("doanh_nghiep",)), chunk("any", ())]
    prior = AudiencePrior(chunks, 0.8, load_lexicon())
    ids = np.arange(3)
    assert prior.factors("giải thể hộ kinh doanh", ids).tolist() == [1.0, 0.8, 1.0]
    assert prior.factors("giải thể công ty", ids).tolist() == [1.0, 1.0, 1.0]


def test_imported_catalogue_records_carry_their_audience() -> None:
    from knowledge.catalogue.importers.common import imported_procedure

    proc = imported_procedure(code="1.1", name="Thủ tục thử", field="Thử", levels=[], competent=None,
                              implementing=None, receiving_address=None, applicants="Tổ chức nước ngoài",
                              result=None, online=OnlineService(type="khong"), channels=[], documents=[], legal=[],
                              url=None, source="kiểm thử", checked_on=dt.date(2026, 12, 1))
    assert proc.audience == ["nguoi_nuoc_ngoai", "to_chuc"]
