"""Request and response bodies of the knowledge service (the /search contract is in
docs: ARCHITECTURE.md, "Contracts other tools rely on")."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator

from knowledge.index import SearchHit
from knowledge.text import normalize_for_display

KindName = Literal["procedure", "guide", "directive"]
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


class SearchResult(BaseModel):
    kind: KindName
    id: str
    title: str
    snippet: str
    score: float
    url: Optional[str] = None
    doc_number: Optional[str] = None
    source: Optional[str] = None
    section: Optional[str] = None


class SearchResponse(BaseModel):
    results: list[SearchResult]


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


def result_from_hit(hit: SearchHit) -> SearchResult:
    c = hit.chunk
    return SearchResult(kind=c.kind, id=c.record_id, title=c.title, snippet=c.snippet, score=hit.score,
                        url=c.url, doc_number=c.doc_number, source=c.source, section=c.section)
