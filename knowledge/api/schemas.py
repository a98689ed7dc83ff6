"""Request and response bodies of the knowledge service (the /search contract is in
docs: ARCHITECTURE.md, "Contracts other tools rely on")."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator

from knowledge.catalogue.reforms import Reform
from knowledge.contract import KindName, Match, Notice, SearchResponse, SearchResult
from knowledge.index import SearchHit
from knowledge.index.calibration import MatchThresholds
from knowledge.text import normalize_for_display

__all__ = ["Match", "SearchRequest", "SearchResponse", "SearchResult", "result_from_hit", "search_response"]
MAX_QUERY_CHARS = 1000


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(..., max_length=MAX_QUERY_CHARS, description="the citizen's question, any spelling")
    k: int = Field(5, ge=1, le=50)
    kinds: Optional[list[KindName]] = Field(None, description="restrict to these kinds of record")

    @field_validator("query")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        value = normalize_for_display(value)
        if not value:
            raise ValueError("query must not be empty")
        return value


class ProcedureSummary(BaseModel):
    id: str
    code: Optional[str]
    name: str
    field: str
    level: list[str]
    online: str
    url: Optional[str]


class Health(BaseModel):
    status: Literal["ok"]
    index_version: str
    chunks: int
    procedures: int
    guides: int
    directives: int
    dense_model: Optional[str]


class ErrorDetail(BaseModel):
    """Every refusal (4xx) and the generic 500: one readable sentence, nothing internal."""

    detail: str


class FieldError(BaseModel):
    loc: list[Union[str, int]]
    msg: str
    type: str


class ValidationProblem(BaseModel):
    """422: the readable sentence, and the field errors when the request did not validate."""

    detail: str
    errors: list[FieldError] = Field(default_factory=list)


def error_responses(*statuses: int) -> dict[Union[int, str], dict[str, Any]]:
    """OpenAPI ``responses`` for these refusals, as the service really answers them."""
    described = {400: "body not readable (not UTF-8)", 401: "missing or wrong token", 403: "turned off",
                 404: "no such record", 413: "body too large", 422: "invalid request", 503: "closed (not configured)"}
    return {status: {"model": ValidationProblem if status == 422 else ErrorDetail, "description": described[status]}
            for status in statuses}


def search_response(hits: list[SearchHit], thresholds: MatchThresholds,
                    reforms: Sequence[Reform] = ()) -> SearchResponse:
    """The ranked hits, the match decision, and the reforms the query overlooks (``reforms``: those
    cued by it, knowledge.catalogue.reforms)."""
    decision, chosen = thresholds.decide(hits)
    return SearchResponse(results=[result_from_hit(h) for h in hits],
                          match=Match(decision=decision, candidates=[h.chunk.record_id for h in chosen]),
                          notices=[Notice(id=r.id, rule=r.rule, basis=r.basis, guide=r.guide) for r in reforms])


def result_from_hit(hit: SearchHit) -> SearchResult:
    c = hit.chunk
    return SearchResult(kind=c.kind, id=c.record_id, title=c.title, snippet=c.snippet, score=hit.score,
                        url=c.url, doc_number=c.doc_number, source=c.source, section=c.section)
