"""Catalogue importers: the run-together table parsers, the two importers and the written catalogue.

The parser tests use short made-up strings shaped like the portal's text. The tests on the real
datasets use ``../shared`` and skip when it is absent.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

import pytest

from knowledge.catalogue.import_cli import add_import_command, run_import
from knowledge.catalogue.importers import (
    ImportResult,
    import_bqp,
    import_dvcqg,
    map_levels,
    parse_channels,
    parse_documents,
    parse_legal_basis,
    write_catalogue,
)
from knowledge.catalogue.loader import load_knowledge_base
from knowledge.errors import KnowledgeBaseError
from tests.conftest import shared_or_skip

TODAY = dt.date(2026, 1, 15)
CH = "Hình thức nộpThời gianPhí, lệ phíMô tả"
LEGAL = "Tên văn bản pháp lýMã văn bản"
DOCS = "--Tên giấy tờMẫu đơn, tờ khaiSố lượng"


# --------------------------------------------------------------------------- parse_channels

def test_channels_without_units_or_description() -> None:
    channels = parse_channels(CH + "Trực tuyến2Miễn phíDịch vụ bưu chính2Miễn phíTrực tiếp2Miễn phí")
    assert [c.kind for c in channels] == ["truc_tuyen", "buu_chinh", "truc_tiep"]
    assert all(c.time_limit == "2" and c.fee == "Miễn phí" and c.note is None for c in channels)


def test_channels_with_units_fee_and_description() -> None:
    text = (CH + "Trực tiếp15 Ngày làm việcLệ phí : 30.000 ĐồngNộp tại bộ phận một cửa."
            "Trực tuyến10 Ngày làm việcLệ phí : 15.000 ĐồngNộp trên Cổng.")
    first, second = parse_channels(text)
    assert (first.kind, first.time_limit, first.fee, first.note) == (
        "truc_tiep", "15 Ngày làm việc", "Lệ phí : 30.000 Đồng", "Nộp tại bộ phận một cửa.")
    assert (second.kind, second.time_limit, second.fee) == ("truc_tuyen", "10 Ngày làm việc", "Lệ phí : 15.000 Đồng")


def test_channel_names_inside_a_description_do_not_start_rows() -> None:
    text = (CH + "Trực tuyến5 NgàyMiễn phí- Trực tuyến: qua Cổng. - Trực tiếp: tại trụ sở. - Bưu chính: gửi thư."
            "Trực tiếp5 NgàyMiễn phíTrực tiếp nộp tại trụ sở")
    channels = parse_channels(text)
    assert [c.kind for c in channels] == ["truc_tuyen", "truc_tiep"]
    assert channels[0].note == "- Trực tuyến: qua Cổng. - Trực tiếp: tại trụ sở. - Bưu chính: gửi thư."
    assert channels[1].note == "Trực tiếp nộp tại trụ sở"


def test_fee_detail_in_parentheses_belongs_to_the_fee() -> None:
    (channel,) = parse_channels(CH + "Trực tuyến3 Ngày làm việc70,000 VNĐ(70.000 đồng/giấy (bản gốc))Trả qua bưu điện")
    assert channel.fee == "70,000 VNĐ (70.000 đồng/giấy (bản gốc))"
    assert channel.note == "Trả qua bưu điện"


def test_missing_time_and_fee_stay_empty() -> None:
    (channel,) = parse_channels(CH + "Dịch vụ bưu chínhKhông có thông tinKhông có thông tin(1) Trường hợp A")
    assert channel.kind == "buu_chinh"
    assert channel.time_limit is None and channel.fee is None
    assert channel.note == "(1) Trường hợp A"


def test_currency_without_amount_is_not_a_fee() -> None:
    (channel,) = parse_channels(CH + "Trực tuyến4 NgàyVNĐ")
    assert channel.time_limit == "4 Ngày" and channel.fee is None


def test_free_text_time_is_followed_through_the_rows() -> None:
    text = CH + "Trực tuyếnKhông quy địnhMiễn phíQua Cổng quốc giaTrực tiếpKhông quy địnhMiễn phíTại một cửa"
    channels = parse_channels(text)
    assert [(c.kind, c.time_limit, c.fee, c.note) for c in channels] == [
        ("truc_tuyen", "Không quy định", "Miễn phí", "Qua Cổng quốc gia"),
        ("truc_tiep", "Không quy định", "Miễn phí", "Tại một cửa"),
    ]


def test_bare_postal_name_and_long_note_is_clipped() -> None:
    (channel,) = parse_channels(CH + "Bưu chính3 GiờMiễn phí" + "Mô tả dài. " * 100)
    assert channel.kind == "buu_chinh" and channel.time_limit == "3 Giờ"
    assert channel.note is not None and len(channel.note) <= 500 and channel.note.endswith("…")


def test_no_channels_in_empty_or_foreign_text() -> None:
    assert parse_channels("") == []
    assert parse_channels(CH) == []
    assert parse_channels("Nộp hồ sơ trực tiếp hoặc trực tuyến") == []


# --------------------------------------------------------------------------- parse_legal_basis

def test_legal_basis_rows_and_titles() -> None:
    text = (LEGAL + "Luật Cư trú68/2020/QH14"
            "Nghị định số 154/2024/NĐ-CP ngày 26/12/2024 quy định chi tiết154/2024/NĐ-CP"
            "Thông tư 55/2021/TT-BCA55/2021/TT-BCA"
            "Quyết định phê duyệt đề án1588/QĐ-TTg")
    refs = parse_legal_basis(text)
    assert [r.number for r in refs] == ["68/2020/QH14", "154/2024/NĐ-CP", "55/2021/TT-BCA", "1588/QĐ-TTg"]
    assert refs[0].title == "Luật Cư trú"
    assert refs[1].title == "Nghị định số 154/2024/NĐ-CP ngày 26/12/2024 quy định chi tiết"
    assert refs[2].title == "Thông tư 55/2021/TT-BCA"
    assert refs[3].title == "Quyết định phê duyệt đề án"


def test_legal_numbers_glued_to_years_and_titles() -> None:
    refs = parse_legal_basis(LEGAL + "Luật Khiếu nại năm 201102/2011/QH13Hướng dẫn xử lý68/2013/TT-BCALuật X"
                                     "12/2019/QH14")
    assert [(r.number, r.title) for r in refs] == [
        ("02/2011/QH13", "Luật Khiếu nại năm 2011"),
        ("68/2013/TT-BCA", "Hướng dẫn xử lý"),
        ("12/2019/QH14", "Luật X"),
    ]


def test_legal_issuer_code_ends_before_a_capitalised_title() -> None:
    refs = parse_legal_basis(LEGAL + "Quy định A15/2020/NĐ-CPQUY ĐỊNH B20/2021/TT-BTCquy định C")
    assert [r.number for r in refs][:2] == ["15/2020/NĐ-CP", "20/2021/TT-BTC"]


def test_legal_cut_short_code_is_completed_from_its_title() -> None:
    refs = parse_legal_basis(LEGAL + "Quyết định 24/2024/QĐ-UBND về mẫu hồ sơ24/2024")
    assert [r.number for r in refs] == ["24/2024/QĐ-UBND"]


def test_legal_without_numbers_or_information() -> None:
    assert parse_legal_basis("Không có thông tin") == []
    assert parse_legal_basis("") == []


# --------------------------------------------------------------------------- parse_documents

def test_documents_split_at_quantities_and_drop_headers_and_forms() -> None:
    text = (DOCS + "Tờ khai đề nghị (Mẫu 01);Mau01.docx1 bản chính"
            "Bản sao giấy phép0 bản chính,1 bản sao"
            "Ảnh 4x6 cm2 bản chính")
    assert parse_documents(text) == ["Tờ khai đề nghị (Mẫu 01)", "Bản sao giấy phép", "Ảnh 4x6 cm"]


def test_documents_quantity_inside_a_name_is_kept() -> None:
    text = DOCS + "Bằng tốt nghiệp: 01 bản sao có chứng thực1 bản chínhBáo cáo theo Nghị định 1161 bản chính"
    assert parse_documents(text) == ["Bằng tốt nghiệp: 01 bản sao có chứng thực", "Báo cáo theo Nghị định 116"]


def test_documents_section_titles_before_a_repeated_header_are_dropped() -> None:
    text = (DOCS + "Đơn đề nghị1 bản chính"
            "* Trường hợp ủy quyền:Tên giấy tờMẫu đơn, tờ khaiSố lượngVăn bản ủy quyền1 bản chính")
    assert parse_documents(text) == ["Đơn đề nghị", "Văn bản ủy quyền"]


def test_documents_absent() -> None:
    assert parse_documents("--") == []
    assert parse_documents("Người nộp kê khai trên biểu mẫu điện tử") == []


# --------------------------------------------------------------------------- levels

def test_levels_map_drop_other_and_never_give_district() -> None:
    assert map_levels("Cấp bộ, Cấp tỉnh, Cấp xã, Cơ quan khác") == (["cấp bộ", "cấp tỉnh", "cấp xã"], [])
    assert map_levels("Cơ quan khác") == ([], [])
    levels, notes = map_levels("Cấp huyện, Cấp xã")
    assert levels == ["cấp xã"] and notes and "huyện" in notes[0]


# --------------------------------------------------------------------------- importers on small folders

def _dvcqg_record(code: str, **fields: Any) -> dict[str, Any]:
    record = {
        "ma_thu_tuc": code,
        "detail_url": f"https://dichvucong.gov.vn/thu-tuc-hanh-chinh/{code}",
        "ten_thu_tuc": f"Thủ tục thử {code}",
        "so_quyet_dinh": "1/QĐ-BTP",
        "cap_thuc_hien": "Cấp xã",
        "loai_thu_tuc": "",
        "linh_vuc": "Hộ tịch",
        "doi_tuong_thuc_hien": "Công dân Việt Nam",
        "co_quan_co_tham_quyen": "Ủy ban nhân dân cấp xã",
        "co_quan_thuc_hien": "Không có thông tin",
        "dia_chi_tiep_nhan": "",
        "trinh_tu_thuc_hien": "Bước 1: nộp hồ sơ.",
        "cach_thuc_thuc_hien": CH + "Trực tuyến1Miễn phíTrực tiếp1Miễn phí",
        "thanh_phan_ho_so": DOCS + "Tờ khai1 bản chính",
        "can_cu_phap_ly": LEGAL + "Luật Hộ tịch60/2014/QH13",
        "yeu_cau_dieu_kien": "Không có thông tin",
        "ket_qua_xu_ly": "Giấy chứng nhậnMã: KQ.G15.000001Từ khóaKhông có thông tinMô tảKhông có thông tin",
        "raw_text": "",
    }
    record.update(fields)
    return record


def _bqp_record(code: str) -> dict[str, Any]:
    return {
        "thu_tuc_id": code,
        "metadata": {"mã_thủ_tục": code, "tên_thủ_tục": f"Thủ tục quốc phòng {code}",
                     "số_quyết_định": "Quyết định số 1/QĐ-BQP", "cấp_thực_hiện": "Cấp Bộ, Cấp Xã",
                     "lĩnh_vực": "Chính sách"},
        "content": {"cơ_quan_có_thẩm_quyền": "Bộ Quốc phòng", "cơ_quan_thực_hiện": "Cục Chính sách",
                    "kết_quả_thực_hiện": "Quyết định hưởng chế độ", "đối_tượng_thực_hiện": "Công dân Việt Nam"},
        "tables": {
            "hinh_thuc_nop": [
                {"hinh_thuc": "Trực tiếp", "thoi_han_giai_quyet": "30 Ngày", "phi_le_phi": "Phí : 0 Đồng", "mo_ta": ""},
                {"hinh_thuc": "Dịch vụ bưu chính", "thoi_han_giai_quyet": "", "phi_le_phi": "", "mo_ta": "Gửi thư"},
            ],
            "thanh_phan_ho_so": [{"ten_giay_to": "Đơn đề nghị", "so_luong": "", "ghi_chu": "Bản chính: 1"}],
            "can_cu_phap_ly": [{"so_ky_hieu": "12", "trich_yeu": "Quyết định số 12/2021/QĐ-TTg về X"},
                               {"so_ky_hieu": "Bộ luật Y", "trich_yeu": "Bộ luật Y"}],
        },
    }


@pytest.fixture()
def sources(tmp_path: Path) -> tuple[Path, Path]:
    dvcqg = tmp_path / "dvcqg"
    (dvcqg / "bo-tu-phap").mkdir(parents=True)
    (dvcqg / "bo-cong-an").mkdir(parents=True)
    records = {
        "bo-tu-phap/1.000001": _dvcqg_record("1.000001"),
        "bo-tu-phap/1.000002": _dvcqg_record("1.000002", cap_thuc_hien="Cấp huyện", cach_thuc_thuc_hien=CH),
        "bo-cong-an/1.000003": _dvcqg_record("1.000003", ten_thu_tuc=""),  # invalid: no name
        "bo-cong-an/1.000004": _dvcqg_record("1.000004", ten_thu_tuc="Đăng ký trực tuyến toàn trình"),
    }
    for rel, record in records.items():
        (dvcqg / f"{rel}.json").write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    (dvcqg / "bo-cong-an" / "1.000005.json").write_text("{not json", encoding="utf-8")
    bqp = tmp_path / "bqp"
    bqp.mkdir()
    for code in ("1.000001", "1.999999"):  # 1.000001 is also in dvcqg
        (bqp / f"{code}.json").write_text(json.dumps(_bqp_record(code), ensure_ascii=False), encoding="utf-8")
    return dvcqg, bqp


def test_dvcqg_importer_accounts_for_every_file(sources: tuple[Path, Path]) -> None:
    result = import_dvcqg(sources[0], TODAY)
    assert result.files == 5 and result.accounted == 5
    assert sorted(p.id for p in result.procedures) == ["1.000001", "1.000002", "1.000004"]
    assert {f.code: f.kind for f in result.failures} == {"1.000003": "invalid record", "1.000005": "invalid JSON"}
    by_id = {p.id: p for p in result.procedures}
    first = by_id["1.000001"]
    assert first.level == ["cấp xã"] and first.field == "Hộ tịch" and first.checked_on == TODAY
    assert first.online.type == "mot_phan" and first.online.url == first.url == first.id.join(
        ["https://dichvucong.gov.vn/thu-tuc-hanh-chinh/", ""])
    assert [c.kind for c in first.channels] == ["truc_tuyen", "truc_tiep"]
    assert first.documents == ["Tờ khai"] and first.legal_basis[0].number == "60/2014/QH13"
    assert first.result == "Giấy chứng nhận"
    assert first.source == "Cổng Dịch vụ công quốc gia, thủ tục 1.000001 (Quyết định công bố 1/QĐ-BTP)"
    assert first.summary.startswith("Thủ tục thử 1.000001. Lĩnh vực: Hộ tịch.")
    assert by_id["1.000002"].level == ["cấp xã"] and by_id["1.000002"].online.type == "khong"
    assert by_id["1.000004"].online.type == "toan_trinh"
    kinds = {(w.code, w.kind) for w in result.warnings}
    assert ("1.000002", "district level") in kinds and ("1.000002", "no channels") in kinds


def test_bqp_importer_uses_the_split_tables(sources: tuple[Path, Path]) -> None:
    result = import_bqp(sources[1], TODAY)
    assert result.accounted == 2 and not result.failures
    proc = {p.id: p for p in result.procedures}["1.999999"]
    assert proc.level == ["cấp bộ", "cấp xã"] and proc.url is None and proc.online.type == "khong"
    assert [(c.kind, c.time_limit, c.fee, c.note) for c in proc.channels] == [
        ("truc_tiep", "30 Ngày", "Phí : 0 Đồng", None), ("buu_chinh", None, None, "Gửi thư")]
    assert [r.number for r in proc.legal_basis] == ["12/2021/QĐ-TTg", "Bộ luật Y"]
    assert proc.source == "Bộ Quốc phòng, thủ tục 1.999999 (Quyết định số 1/QĐ-BQP)"
    assert {w.kind for w in result.warnings} >= {"fee missing", "legal number non-standard"}


def test_written_catalogue_loads_and_keeps_dvcqg_on_duplicates(sources: tuple[Path, Path], tmp_path: Path) -> None:
    results = [import_dvcqg(sources[0], TODAY), import_bqp(sources[1], TODAY)]
    out = tmp_path / "kb"
    report = write_catalogue(results, out)
    assert report["imported"] == 4
    assert report["sources"]["bqp"]["written"] == 1
    assert report["warnings_by_kind"]["duplicate id"] == 1
    assert report["failures_by_reason"] == {"invalid record": 1, "invalid JSON": 1}
    assert sorted(p.name for p in (out / "procedures").iterdir()) == [
        "bo-cong-an.yaml", "bo-quoc-phong.yaml", "bo-tu-phap.yaml"]
    kb = load_knowledge_base(out)
    assert len(kb.procedures) == 4
    assert kb.procedures["1.000001"].source.startswith("Cổng Dịch vụ công quốc gia")
    assert kb.procedures["1.000001"].checked_on == TODAY
    saved = json.loads((out / "import-report.json").read_text(encoding="utf-8"))
    assert saved["imported"] == 4 and len(saved["failure_list"]) == 2
    write_catalogue(results, out)  # a second run replaces its own files


@pytest.mark.parametrize(("given", "kept", "kind"), [
    ("https://dichvucong.gov.vn/p/1", "https://dichvucong.gov.vn/p/1", None),
    ("http://dichvucong.gov.vn/p/1", "https://dichvucong.gov.vn/p/1", "link upgraded"),
    ("HTTP://dichvucong.bocongan.gov.vn/x", "https://dichvucong.bocongan.gov.vn/x", "link upgraded"),
    ("http://gov.vn.example.com/x", None, "link dropped"),
    ("http://evilgov.vn/x", None, "link dropped"),
    ("http://example.com/x", None, "link dropped"),
    ("javascript:alert(1)", None, "link dropped"),
    ("/thu-tuc/1", None, "link dropped"),
    ("", None, None),
    ("Không có thông tin", None, None),
])
def test_import_links_upgrade_gov_vn_and_drop_the_rest(given: str, kept: str | None, kind: str | None) -> None:
    from knowledge.catalogue.importers.common import import_link

    link, notes = import_link(given, "detail_url")
    assert link == kept
    assert [n.split(":", 1)[0] for n in notes] == ([kind] if kind else [])


def test_dropped_links_are_counted_in_the_report(tmp_path: Path) -> None:
    folder = tmp_path / "dvcqg" / "bo-tu-phap"
    folder.mkdir(parents=True)
    urls = {"1.000011": "javascript:alert(1)", "1.000012": "http://dichvucong.gov.vn/thu-tuc/1.000012",
            "1.000013": "http://example.com/1.000013", "1.000014": "https://dichvucong.gov.vn/thu-tuc/1.000014"}
    for code, url in urls.items():
        (folder / f"{code}.json").write_text(json.dumps(_dvcqg_record(code, detail_url=url), ensure_ascii=False),
                                             encoding="utf-8")
    result = import_dvcqg(tmp_path / "dvcqg", TODAY)
    by_id = {p.id: p for p in result.procedures}
    assert len(by_id) == 4 and not result.failures  # a bad link drops the link, not the record
    assert [(by_id[c].url, by_id[c].online.url) for c in sorted(urls)] == [
        (None, None), ("https://dichvucong.gov.vn/thu-tuc/1.000012",) * 2, (None, None),
        ("https://dichvucong.gov.vn/thu-tuc/1.000014",) * 2]
    report = write_catalogue([result], tmp_path / "kb")
    assert (report["links_dropped"], report["links_upgraded"]) == (2, 1)
    assert report["warnings_by_kind"]["link dropped"] == 2
    dropped = sorted(w["code"] for w in report["warning_list"] if w["reason"].startswith("link dropped"))
    assert dropped == ["1.000011", "1.000013"]
    assert len(load_knowledge_base(tmp_path / "kb").procedures) == 4


def test_write_refuses_a_folder_with_other_yaml(tmp_path: Path) -> None:
    (tmp_path / "procedures").mkdir()
    (tmp_path / "procedures" / "hand-written.yaml").write_text("[]\n", encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match="not written by a previous import"):
        write_catalogue([ImportResult(procedures=[], failures=[], warnings=[], source="dvcqg")], tmp_path)


def test_import_command(sources: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    add_import_command(parser.add_subparsers(dest="command", required=True))
    out = tmp_path / "kb"
    args = parser.parse_args(["import", "--dvcqg", str(sources[0]), "--bqp", str(sources[1]), "--out", str(out),
                              "--with-embedded"])
    assert args.func(args) == 0
    summary = json.loads(capsys.readouterr().out)
    assert {k: summary[k] for k in ("imported", "dvcqg", "bqp", "failures", "warnings")} == {
        "imported": 4, "dvcqg": 3, "bqp": 1, "failures": 2, "warnings": summary["warnings"]}
    assert summary["warnings"] >= 3 and summary["seconds"] >= 0
    kb = load_knowledge_base(out)
    assert len(kb.procedures) == 4 and len(kb.guides) >= 1
    with pytest.raises(KnowledgeBaseError, match="source folder not found"):
        run_import(tmp_path / "missing", sources[1], tmp_path / "kb2")


# --------------------------------------------------------------------------- the real datasets

@pytest.fixture(scope="module")
def real() -> dict[str, Any]:
    dvcqg = shared_or_skip("data", "dvcqg")
    bqp = shared_or_skip("data", "bqp-structured")
    started = time.perf_counter()
    results = {"dvcqg": import_dvcqg(dvcqg, TODAY), "bqp": import_bqp(bqp, TODAY)}
    return {"results": results, "seconds": time.perf_counter() - started, "dvcqg": dvcqg, "bqp": bqp}


def test_real_every_record_is_accounted_for(real: dict[str, Any]) -> None:
    dvcqg, bqp = real["results"]["dvcqg"], real["results"]["bqp"]
    assert dvcqg.files == len(list(real["dvcqg"].glob("*/*.json"))) == 2642
    assert bqp.files == len(list(real["bqp"].glob("*.json"))) == 207
    for result in (dvcqg, bqp):
        assert result.accounted == result.files
        assert len(result.procedures) >= 0.98 * result.files, [f.reason for f in result.failures[:5]]
    assert real["seconds"] < 60


def test_real_records_are_clean(real: dict[str, Any]) -> None:
    procedures = [p for r in real["results"].values() for p in r.procedures]
    assert not any("huyện" in level for p in procedures for level in p.level)
    assert sum(bool(p.channels) for p in procedures) >= 0.98 * len(procedures)
    assert sum(bool(p.legal_basis) for p in procedures) >= 0.95 * len(procedures)
    assert sum(bool(p.documents) for p in procedures) >= 0.95 * len(procedures)


def test_real_birth_registration_channels(real: dict[str, Any]) -> None:
    proc = {p.id: p for p in real["results"]["dvcqg"].procedures}["1.001193"]
    assert len(proc.channels) == 3
    assert {c.kind for c in proc.channels} == {"truc_tuyen", "truc_tiep", "buu_chinh"}
    assert all(c.fee == "Miễn phí" for c in proc.channels)
    assert proc.level == ["cấp xã"] and proc.online.url == proc.url
    assert "123/2015/NĐ-CP" in {r.number for r in proc.legal_basis}


def test_real_bqp_channels_equal_the_table(real: dict[str, Any]) -> None:
    procs = {p.id: p for p in real["results"]["bqp"].procedures}
    for code in ("1.013124", sorted(procs)[-1]):
        table = json.loads((real["bqp"] / f"{code}.json").read_text(encoding="utf-8"))["tables"]["hinh_thuc_nop"]
        expected = [(row["hinh_thuc"], row["thoi_han_giai_quyet"] or None, row["phi_le_phi"] or None) for row in table]
        label = {"truc_tuyen": "Trực tuyến", "truc_tiep": "Trực tiếp", "buu_chinh": "Dịch vụ bưu chính"}
        got = [(label[c.kind], c.time_limit, c.fee) for c in procs[code].channels]
        assert got == list(dict.fromkeys(expected))


def test_real_catalogue_loads(real: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> None:
    out = tmp_path_factory.mktemp("imported-kb")
    report = write_catalogue([real["results"]["dvcqg"], real["results"]["bqp"]], out)
    kb = load_knowledge_base(out)
    assert len(kb.procedures) == report["imported"] >= 0.98 * (2642 + 207)
