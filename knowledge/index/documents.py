"""Turn knowledge-base records into the chunks that the indexes see."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, Optional

from knowledge.catalogue.loader import KnowledgeBase
from knowledge.catalogue.models import Directive, Guide, Procedure

Kind = Literal["procedure", "guide", "directive"]
SNIPPET_CHARS = 240


@dataclass(frozen=True)
class Chunk:
    """A unit of retrieval; several chunks may belong to one record."""

    chunk_id: str
    record_id: str
    kind: Kind
    title: str
    text: str
    snippet: str
    url: Optional[str] = None
    doc_number: Optional[str] = None
    source: Optional[str] = None
    section: Optional[str] = None  # e.g. "Điều 12" for a chunk of a legal text


def _snippet(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= SNIPPET_CHARS:
        return text
    cut = text[:SNIPPET_CHARS].rsplit(" ", 1)[0]
    return cut + "…"


def procedure_chunk(p: Procedure) -> Chunk:
    # Names and aliases are what citizens type; repeating the name weighs it up a little.
    parts = [p.name, p.name, " ; ".join(p.aliases), p.field, p.summary, p.code or "", p.result or ""]
    return Chunk(
        chunk_id=p.id,
        record_id=p.id,
        kind="procedure",
        title=p.name,
        text="\n".join(x for x in parts if x),
        snippet=_snippet(p.summary),
        url=p.online.url or p.url,
        source=p.source,
    )


def guide_chunk(g: Guide) -> Chunk:
    parts = [g.title, g.title, " ; ".join(g.aliases), g.summary, " ".join(g.steps)]
    url = g.links[0].url if g.links else None
    text = "\n".join(x for x in parts if x)
    return Chunk(g.id, g.id, "guide", g.title, text, _snippet(g.summary), url, None, g.source)


def directive_chunk(d: Directive) -> Chunk:
    title = f"{d.doc_type} {d.doc_number}: {d.title}"
    parts = [title, f"{d.doc_type} số {d.doc_number} ngày {d.date:%d/%m/%Y}", d.issuer, " ; ".join(d.aliases),
             d.summary, " ".join(d.key_points)]
    return Chunk(d.id, d.id, "directive", title, "\n".join(parts), _snippet(d.summary), d.url, d.doc_number, d.source)


def chunks_from_knowledge_base(kb: KnowledgeBase) -> list[Chunk]:
    out: list[Chunk] = []
    out += [procedure_chunk(p) for p in kb.procedures.values()]
    out += [guide_chunk(g) for g in kb.guides.values()]
    out += [directive_chunk(d) for d in kb.directives.values()]
    return out


def iter_texts(chunks: Iterable[Chunk]) -> Iterable[str]:
    return (c.text for c in chunks)
