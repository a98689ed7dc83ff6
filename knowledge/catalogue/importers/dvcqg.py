"""Importer of the National Public Service Portal records: ``<folder>/<ministry>/<code>.json``.

Field mapping (portal field → ``Procedure``): ``ma_thu_tuc`` → id, code; ``ten_thu_tuc`` →
name; ``linh_vuc`` → field; ``cap_thuc_hien`` → level; ``co_quan_co_tham_quyen`` (else
``co_quan_thuc_hien``) → agency; ``dia_chi_tiep_nhan`` (else ``co_quan_thuc_hien`` when it is
not already the agency) → receiving_agency; ``doi_tuong_thuc_hien`` → applicants and audience;
``cach_thuc_thuc_hien`` → channels; ``thanh_phan_ho_so`` → documents; ``can_cu_phap_ly`` →
legal_basis; ``ket_qua_xu_ly`` → result; ``detail_url`` → url and online.url (an https link, or
``http://`` upgraded for ``.gov.vn`` hosts; any other is dropped with a ``link dropped`` warning).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any, Optional

from knowledge.catalogue.importers.channels import CHANNEL_HEADER, channel_warnings, parse_channels
from knowledge.catalogue.importers.common import (
    NO_INFO,
    clean,
    clip,
    import_link,
    imported_procedure,
    map_levels,
    online_service,
)
from knowledge.catalogue.importers.documents import parse_documents
from knowledge.catalogue.importers.legal_basis import LEGAL_HEADER, parse_legal_basis
from knowledge.catalogue.importers.report import ImportResult, import_files
from knowledge.catalogue.models import Procedure

SOURCE = "dvcqg"
_RESULT_CODE = re.compile(r"Mã:\s*KQ[\w.]*")
_RESULT_END = re.compile(r"Từ khóa|Chọn cơ quan thực hiện")


def parse_result(text: str) -> Optional[str]:
    """Result names of "…Mã: KQ.G15.000031…Từ khóa…Mô tả…", joined with "; "."""
    body = text or ""
    end = _RESULT_END.search(body)
    if end:
        body = body[: end.start()]
    names = [clean(part) for part in _RESULT_CODE.split(body)]
    kept = list(dict.fromkeys(n.strip(" ;,") for n in names if n))
    return clip("; ".join(k for k in kept if k)) if kept else None


def _recover_from_raw(rec: dict[str, Any]) -> Optional[tuple[str, str]]:
    """(channels text, legal text) cut from ``raw_text`` when the scraper split the fields in the wrong place.

    This happens when a fee note contains the words "Căn cứ pháp lý": the channel table is cut
    there and its tail lands in ``can_cu_phap_ly``.
    """
    raw = str(rec.get("raw_text") or "")
    docs = str(rec.get("thanh_phan_ho_so") or "")
    start = raw.find("Cách Thức Thực Hiện")
    marker = "Thành phần hồ sơ" + docs[:60]
    end = raw.find(marker, start)
    if start < 0 or end < 0:
        return None
    channels = raw[start + len("Cách Thức Thực Hiện") : end]
    legal = ""
    after = end + len("Thành phần hồ sơ") + len(docs)
    if raw.startswith("Căn cứ pháp lý", after):
        stop = raw.find("Cơ quan thực hiện", after)
        legal = raw[after + len("Căn cứ pháp lý") : stop if stop > 0 else None]
    return channels, legal


def record_to_procedure(rec: dict[str, Any], checked_on: dt.date) -> tuple[Procedure, list[str]]:
    """One portal record as a ``Procedure`` and the warnings about what was left out."""
    notes: list[str] = []
    code = clean(rec.get("ma_thu_tuc"))
    if not code:
        raise ValueError("missing code: ma_thu_tuc is empty")
    name = clean(rec.get("ten_thu_tuc")) or ""
    field = clean(rec.get("linh_vuc")) or ""
    if not field:
        notes.append("field missing: linh_vuc is empty")

    channel_text = str(rec.get("cach_thuc_thuc_hien") or "")
    legal_text = str(rec.get("can_cu_phap_ly") or "")
    legal_clean = legal_text.strip()
    if legal_clean and not legal_clean.startswith(LEGAL_HEADER) and not legal_clean.startswith(NO_INFO):
        recovered = _recover_from_raw(rec)
        if recovered is not None:
            channel_text, legal_text = recovered
            notes.append("fields misaligned: channels and legal basis re-read from raw_text")
        else:
            legal_text = ""
            notes.append("fields misaligned: legal basis text is not a legal table, dropped")

    channels = parse_channels(channel_text)
    notes.extend(channel_warnings(channels))
    levels, level_notes = map_levels(str(rec.get("cap_thuc_hien") or ""))
    notes.extend(level_notes)
    if not levels:
        notes.append(f"level empty: {clean(rec.get('cap_thuc_hien')) or 'none given'}")

    documents = parse_documents(str(rec.get("thanh_phan_ho_so") or ""))
    if not documents:
        notes.append("no documents: no document names with a quantity found")
    legal = parse_legal_basis(legal_text)
    if not legal and clean(legal_text.replace(LEGAL_HEADER, "")):
        notes.append("no legal basis: text present but no document number recognised")

    url, link_notes = import_link(rec.get("detail_url"), "detail_url")
    notes.extend(link_notes)
    decision = clean(rec.get("so_quyet_dinh"))
    source = f"Cổng Dịch vụ công quốc gia, thủ tục {code}"
    if decision:
        source += f" (Quyết định công bố {decision})"
    online = online_service(name, [channel_text.replace(CHANNEL_HEADER, " "), rec.get("trinh_tu_thuc_hien")],
                            channels, url)
    proc = imported_procedure(
        code=code, name=name, field=field, levels=levels, competent=clean(rec.get("co_quan_co_tham_quyen")),
        implementing=clean(rec.get("co_quan_thuc_hien")), receiving_address=clean(rec.get("dia_chi_tiep_nhan")),
        applicants=clean(rec.get("doi_tuong_thuc_hien")), result=parse_result(str(rec.get("ket_qua_xu_ly") or "")),
        online=online, channels=channels, documents=documents, legal=legal, url=url, source=source,
        checked_on=checked_on)
    return proc, notes


def import_dvcqg(folder: Path, checked_on: dt.date) -> ImportResult:
    """Every ``<folder>/<ministry>/<code>.json``; a bad record becomes a failure, never an exception."""
    folder = Path(folder)
    return import_files(sorted(folder.glob("*/*.json")), folder, SOURCE, record_to_procedure, checked_on,
                        group_of=lambda p: p.parent.name, code_key="ma_thu_tuc")
