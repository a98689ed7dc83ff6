"""Importer of the Ministry of National Defence records with split tables: ``<folder>/<code>.json``.

Shape: ``metadata`` {mã_thủ_tục, tên_thủ_tục, số_quyết_định, cấp_thực_hiện, lĩnh_vực, …},
``content`` {cơ_quan_có_thẩm_quyền, cơ_quan_thực_hiện, địa_chỉ_tiếp_nhận_hs,
đối_tượng_thực_hiện, kết_quả_thực_hiện, trình_tự_thực_hiện, …} and ``tables``
{hinh_thuc_nop[{hinh_thuc, thoi_han_giai_quyet, phi_le_phi, mo_ta}],
thanh_phan_ho_so[{ten_giay_to, so_luong, ghi_chu}], can_cu_phap_ly[{so_ky_hieu, trich_yeu, …}]}.
The records have no portal address, so ``url`` and ``online.url`` stay empty.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from knowledge.catalogue.importers.channels import channel_kind, channel_warnings
from knowledge.catalogue.importers.common import clean, clip, imported_procedure, map_levels, online_service
from knowledge.catalogue.importers.report import ImportResult, import_files
from knowledge.catalogue.models import Channel, LegalRef, Procedure
from knowledge.text.legal_numbers import find_numbers, unglue

SOURCE = "bqp"
GROUP = "bo-quoc-phong"


def _rows(tables: dict[str, Any], key: str) -> list[dict[str, Any]]:
    rows = tables.get(key) or []
    return [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []


def table_channels(tables: dict[str, Any]) -> tuple[list[Channel], list[str]]:
    """Channels of ``tables.hinh_thuc_nop``, one per row, values as given."""
    channels: list[Channel] = []
    notes: list[str] = []
    for row in _rows(tables, "hinh_thuc_nop"):
        kind = channel_kind(str(row.get("hinh_thuc") or ""))
        if kind is None:
            notes.append(f"unknown channel kind: {row.get('hinh_thuc')!r} dropped")
            continue
        note = clean(row.get("mo_ta"))
        fee = clean(row.get("phi_le_phi"))
        channel = Channel(kind=kind, time_limit=clean(row.get("thoi_han_giai_quyet")),
                          fee=clip(fee) if fee else None, note=clip(note) if note else None)
        if channel not in channels:
            channels.append(channel)
    return channels, notes


def _numbers(cell: str) -> list[tuple[int, int, str]]:
    return find_numbers(unglue(cell), glued=True)


def table_legal_basis(tables: dict[str, Any]) -> tuple[list[LegalRef], list[str]]:
    """Legal references; the number is taken from ``so_ky_hieu``, else from the title, else kept as given."""
    refs: list[LegalRef] = []
    notes: list[str] = []
    seen: set[str] = set()
    for row in _rows(tables, "can_cu_phap_ly"):
        given = clean(row.get("so_ky_hieu")) or ""
        title = clean(row.get("trich_yeu"))
        numbers = _numbers(given) or _numbers(title or "")
        if numbers:
            number = numbers[0][2]
        elif given:
            number = given
            notes.append(f"legal number non-standard: {given!r} kept as given")
        else:
            notes.append("legal number missing: row dropped")
            continue
        if number in seen:
            continue
        seen.add(number)
        refs.append(LegalRef(number=number, title=clip(title) if title else None))
    return refs, notes


def table_documents(tables: dict[str, Any]) -> list[str]:
    docs: list[str] = []
    for row in _rows(tables, "thanh_phan_ho_so"):
        name = clean(row.get("ten_giay_to"))
        if name and clip(name) not in docs:
            docs.append(clip(name))
    return docs


def record_to_procedure(rec: dict[str, Any], checked_on: dt.date) -> tuple[Procedure, list[str]]:
    meta = rec.get("metadata") or {}
    content = rec.get("content") or {}
    tables = rec.get("tables") or {}
    if not isinstance(meta, dict) or not isinstance(content, dict) or not isinstance(tables, dict):
        raise ValueError("bad shape: metadata, content and tables must be objects")
    notes: list[str] = []
    code = clean(meta.get("mã_thủ_tục")) or clean(rec.get("thu_tuc_id"))
    if not code:
        raise ValueError("missing code: metadata.mã_thủ_tục is empty")
    name = clean(meta.get("tên_thủ_tục")) or ""
    field = clean(meta.get("lĩnh_vực")) or ""
    if not field:
        notes.append("field missing: lĩnh_vực is empty")

    channels, channel_notes = table_channels(tables)
    notes.extend(channel_notes)
    notes.extend(channel_warnings(channels))
    levels, level_notes = map_levels(str(meta.get("cấp_thực_hiện") or ""))
    notes.extend(level_notes)
    if not levels:
        notes.append(f"level empty: {clean(meta.get('cấp_thực_hiện')) or 'none given'}")
    documents = table_documents(tables)
    if not documents:
        notes.append("no documents: table is empty")
    legal, legal_notes = table_legal_basis(tables)
    notes.extend(legal_notes)

    decision = clean(meta.get("số_quyết_định"))
    source = f"Bộ Quốc phòng, thủ tục {code}" + (f" ({decision})" if decision else "")
    online = online_service(name, [content.get("cách_thức_thực_hiện"), content.get("trình_tự_thực_hiện"),
                                   *(str(r.get("mo_ta") or "") for r in _rows(tables, "hinh_thuc_nop"))],
                            channels, None)
    proc = imported_procedure(
        code=code, name=name, field=field, levels=levels, competent=clean(content.get("cơ_quan_có_thẩm_quyền")),
        implementing=clean(content.get("cơ_quan_thực_hiện")),
        receiving_address=clean(content.get("địa_chỉ_tiếp_nhận_hs")),
        applicants=clean(content.get("đối_tượng_thực_hiện")), result=clean(content.get("kết_quả_thực_hiện")),
        online=online, channels=channels, documents=documents, legal=legal, url=None, source=source,
        checked_on=checked_on)
    return proc, notes


def import_bqp(folder: Path, checked_on: dt.date) -> ImportResult:
    """Every ``<folder>/*.json``; a bad record becomes a failure, never an exception."""
    folder = Path(folder)
    return import_files(sorted(folder.glob("*.json")), folder, SOURCE, record_to_procedure, checked_on,
                        group_of=lambda _: GROUP, code_key=None)
