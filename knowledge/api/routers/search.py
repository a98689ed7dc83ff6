from __future__ import annotations

from fastapi import APIRouter, Response

from knowledge.api.deps import LoadedDep
from knowledge.api.schemas import SearchRequest, SearchResponse, search_response
from knowledge.catalogue.reforms import reforms_cued
from knowledge.observability.service import timed_search

router = APIRouter(tags=["search"])


@router.post("/search", response_model=SearchResponse, summary="Hybrid search over procedures, guides, directives")
async def search(body: SearchRequest, loaded: LoadedDep) -> Response:
    # A search is about a millisecond of CPU: it runs on the event loop (a thread-pool hop
    # costs as much and adds GIL contention), and the response is serialised once by
    # pydantic-core instead of being validated again by FastAPI. The service runs several
    # worker processes to use every core (KNOWLEDGE_WORKERS, scripts/stack.py).
    with timed_search() as decided:  # dvc_knowledge_search_seconds, dvc_knowledge_match_decisions_total
        hits = loaded.index.search(body.query, k=body.k, kinds=body.kinds)
        payload = search_response(hits, loaded.thresholds, reforms_cued(loaded.kb.reforms.values(), body.query))
        decided(payload.match.decision)
    return Response(payload.model_dump_json(), media_type="application/json")
