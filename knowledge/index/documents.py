"""Turn knowledge-base records into the chunks that the indexes see."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, Optional

from knowledge.catalogue.loader import KnowledgeBase
from knowledge.catalogue.models import Directive, Guide, Procedure
from knowledge.lexicon import Lexicon, load_lexicon

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
    audience: tuple[str, ...] = ()  # a procedure's audiences (``Procedure.audience``); empty: anyone
    details: str = ""  # a procedure's papers (thành phần hồ sơ): a second, weaker lexical field

    def __post_init__(self) -> None:
        if not isinstance(self.audience, tuple):  # read back from JSON as a list
            object.__setattr__(self, "audience", tuple(self.audience))


def _snippet(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= SNIPPET_CHARS:
        return text
    cut = text[:SNIPPET_CHARS].rsplit(" ", 1)[0]
    return cut + "…"


# How many times each part of a procedure goes into its indexed text (BM25 counts repetitions):
# the official name and the citizen's words for it (aliases written by people, everyday names from
# the lexicon) weigh most; the field, the summary and the result name once.
PROCEDURE_WEIGHTS: dict[str, int] = {"name": 2, "aliases": 1, "everyday": 1, "field": 1, "summary": 1, "code": 1,
                                     "result": 1}
SKIP_GENERATED_SUMMARY = True


def _generated_summary(p: Procedure) -> bool:
    """An imported record's summary repeats its name, field and result (``make_summary``): counting it
    would weigh those again, more for imported records than for curated ones."""
    return SKIP_GENERATED_SUMMARY and p.summary.startswith(p.name.rstrip(" ."))


def procedure_chunk(p: Procedure, lexicon: Optional[Lexicon] = None) -> Chunk:
    lexicon = lexicon or load_lexicon()
    everyday = lexicon.everyday_names([p.name, *p.aliases, p.result or ""], field=p.field, name=p.name)
    values = {"name": p.name, "aliases": " ; ".join(p.aliases), "everyday": " ; ".join(everyday), "field": p.field,
              "summary": "" if _generated_summary(p) else p.summary, "code": p.code or "", "result": p.result or ""}
    parts = [values[key] for key, times in PROCEDURE_WEIGHTS.items() for _ in range(times)]
    return Chunk(
        chunk_id=p.id,
        record_id=p.id,
        kind="procedure",
        title=p.name,
        text="\n".join(x for x in parts if x),
        snippet=_snippet(p.summary),
        url=p.online.url or p.url,
        source=p.source,
        audience=tuple(p.audience),
        details="\n".join(dict.fromkeys(p.documents)),
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


def chunks_from_knowledge_base(kb: KnowledgeBase, lexicon: Optional[Lexicon] = None) -> list[Chunk]:
    """Every record's chunk; procedures carry the everyday names of ``lexicon`` (default: the shipped one)."""
    lexicon = lexicon or load_lexicon()
    out: list[Chunk] = []
    out += [procedure_chunk(p, lexicon) for p in kb.procedures.values()]
    out += [guide_chunk(g) for g in kb.guides.values()]
    out += [directive_chunk(d) for d in kb.directives.values()]
    return out


def iter_texts(chunks: Iterable[Chunk]) -> Iterable[str]:
    return (c.text for c in chunks)
