from __future__ import annotations

from fastapi import APIRouter

from knowledge.api.deps import LoadedDep
from knowledge.api.schemas import SearchRequest, SearchResponse, result_from_hit

router = APIRouter(tags=["search"])


@router.post("/search", response_model=SearchResponse, summary="Hybrid search over procedures, guides, directives")
def search(body: SearchRequest, loaded: LoadedDep) -> SearchResponse:
    hits = loaded.index.search(body.query, k=body.k, kinds=body.kinds)
    return SearchResponse(results=[result_from_hit(h) for h in hits])
