"""Read access to the records themselves."""

from __future__ import annotations

from typing import Literal, Optional

from fastapi import APIRouter, HTTPException, Query

from knowledge.api.deps import LoadedDep
from knowledge.api.schemas import ProcedureSummary
from knowledge.catalogue.models import Directive, Guide, Procedure
from knowledge.text import fold

router = APIRouter(tags=["catalogue"])


def _summary(p: Procedure) -> ProcedureSummary:
    return ProcedureSummary(id=p.id, code=p.code, name=p.name, field=p.field, level=p.level,
                            online=p.online.type, url=p.online.url or p.url)


@router.get("/procedures", response_model=list[ProcedureSummary], summary="List or search procedures")
def list_procedures(
    loaded: LoadedDep,
    q: Optional[str] = Query(None, max_length=500, description="words to search for"),
    field: Optional[str] = Query(None, max_length=200, description="lĩnh vực, any spelling"),
    online: Optional[Literal["toan_trinh", "mot_phan", "khong"]] = Query(None),
    limit: int = Query(20, ge=1, le=200),
) -> list[ProcedureSummary]:
    if q and q.strip():
        hits = loaded.index.search(q, k=200, kinds=["procedure"])
        procs = [loaded.kb.procedures[h.chunk.record_id] for h in hits if h.chunk.record_id in loaded.kb.procedures]
    else:
        procs = sorted(loaded.kb.procedures.values(), key=lambda p: (p.field, p.name))
    if field:
        procs = [p for p in procs if fold(field).strip() in fold(p.field)]
    if online:
        procs = [p for p in procs if p.online.type == online]
    return [_summary(p) for p in procs[:limit]]


@router.get("/procedures/{procedure_id}", response_model=Procedure, summary="One procedure by code or id")
def get_procedure(procedure_id: str, loaded: LoadedDep) -> Procedure:
    proc = loaded.kb.procedures.get(procedure_id.strip())
    if proc is None:
        raise HTTPException(404, detail=f"Không tìm thấy thủ tục có mã '{procedure_id[:50]}'")
    return proc


@router.get("/guides/{guide_id}", response_model=Guide, summary="One guide")
def get_guide(guide_id: str, loaded: LoadedDep) -> Guide:
    guide = loaded.kb.guides.get(guide_id)
    if guide is None:
        raise HTTPException(404, detail=f"Không tìm thấy hướng dẫn '{guide_id[:50]}'")
    return guide


@router.get("/directives/{directive_id}", response_model=Directive, summary="One directive or legal text")
def get_directive(directive_id: str, loaded: LoadedDep) -> Directive:
    directive = loaded.kb.directives.get(directive_id)
    if directive is None:
        raise HTTPException(404, detail=f"Không tìm thấy văn bản '{directive_id[:50]}'")
    return directive
