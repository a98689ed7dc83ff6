"""Ingest a folder of documents: read, extract metadata, chunk, link citations, index chunks.

    result = ingest_folder(Path("../shared/corpus"))
    result.documents          IngestedDocument(record_id, path, meta, chunks, warnings)
    result.skipped            SkippedFile(path, reason): unsupported, unreadable, empty, licence
    result.links              CitationLinks: which ingested documents cite which
    to_chunks(result)         the ``Chunk`` objects the indexes consume (kind "directive")

Files are visited in sorted order, so record ids and chunk ids are stable from run to run.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Union

from knowledge.corpus.chunking import ChunkStats, TextChunk, chunk_text
from knowledge.corpus.metadata import DocumentMeta, extract_metadata
from knowledge.corpus.readers import SUPPORTED_EXTENSIONS, UnreadableFile, read_document
from knowledge.errors import KnowledgeBaseError
from knowledge.index.documents import SNIPPET_CHARS, Chunk
from knowledge.text.legal_numbers import number_key
from knowledge.text.normalize import fold

# Files that travel with a corpus but are not documents.
_NOT_DOCUMENTS = re.compile(r"^(?:license|licence|copying|notice|readme|changelog|authors)\b", re.I)

TYPE_ABBREVIATIONS: dict[str, str] = {
    "Nghị định": "nd", "Quyết định": "qd", "Công văn": "cv", "Chỉ thị": "ct", "Kế hoạch": "kh",
    "Báo cáo": "bc", "Thông báo": "tb", "Thông tư": "tt", "Thông tư liên tịch": "ttlt", "Nghị quyết": "nq",
    "Luật": "luat", "Tờ trình": "ttr", "Hướng dẫn": "hd", "Công điện": "cd", "Kết luận": "kl",
    "Pháp lệnh": "pl", "Quy chế": "qc",
}


@dataclass(frozen=True)
class IngestedDocument:
    record_id: str
    path: Path
    meta: DocumentMeta
    chunks: tuple[TextChunk, ...]
    warnings: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        return self.meta.title or self.path.stem


@dataclass(frozen=True)
class SkippedFile:
    path: Path
    reason: str


@dataclass(frozen=True)
class CitationLinks:
    cites: Mapping[str, tuple[str, ...]]  # record_id → record_ids of the ingested documents it cites
    cited_by: Mapping[str, tuple[str, ...]]  # record_id → record_ids of the documents citing it
    found: int  # (document, cited number) pairs
    linked: int  # of those, the pairs whose number is an ingested document


@dataclass(frozen=True)
class IngestResult:
    root: Path
    documents: tuple[IngestedDocument, ...]
    skipped: tuple[SkippedFile, ...]
    links: CitationLinks
    seconds: float

    @property
    def chunk_count(self) -> int:
        return sum(len(d.chunks) for d in self.documents)

    def document(self, record_id: str) -> IngestedDocument:
        for doc in self.documents:
            if doc.record_id == record_id:
                return doc
        raise KeyError(record_id)

    def by_file(self, name: str) -> IngestedDocument:
        for doc in self.documents:
            if doc.path.name == name:
                return doc
        raise KeyError(name)


def slugify(text: str) -> str:
    """"224/2026/NĐ-CP" → "224-2026-nd-cp"; "Điều 12, khoản 3" → "dieu-12-khoan-3"."""
    return re.sub(r"[^0-9a-z]+", "-", fold(text)).strip("-")


def record_id_for(meta: DocumentMeta, stem: str) -> str:
    """The catalogue's id style: type, number, year when the number lacks it, province.

    "cv-1239-ubnd-kstt-2025-binh-dinh", "nd-224-2026-nd-cp"; the file stem when there is no number.
    """
    if not meta.number:
        return slugify(stem) or "van-ban"
    parts = [TYPE_ABBREVIATIONS.get(meta.doc_type or "", ""), slugify(meta.number)]
    if meta.date and not re.search(r"(?:19|20)\d\d", meta.number):
        parts.append(str(meta.date.year))
    if meta.province:
        parts.append(slugify(meta.province))
    return "-".join(p for p in parts if p)


def ingest_file(path: Path) -> Union[IngestedDocument, SkippedFile]:
    """One file as a document (record id not yet made unique) or the reason it was skipped."""
    if _NOT_DOCUMENTS.match(path.name):
        return SkippedFile(path, "licence/readme file, not a document")
    if path.suffix.lower() not in SUPPORTED_EXTENSIONS:
        return SkippedFile(path, f"unsupported extension {path.suffix.lower() or '(none)'}")
    try:
        read = read_document(path)
    except UnreadableFile as exc:
        return SkippedFile(path, str(exc))
    if len(read.text.split()) < 3:
        return SkippedFile(path, "no text")
    meta = extract_metadata(read.text, filename=path.name, front_matter=read.front_matter,
                            title_hint=read.title_hint)
    stats = ChunkStats()
    chunks = tuple(chunk_text(read.text, stats=stats))
    if not chunks:
        return SkippedFile(path, "no text left after cleaning")
    warnings = list(read.warnings)
    if stats.duplicates_dropped:
        warnings.append(f"{stats.duplicates_dropped} repeated articles dropped (already in the text)")
    return IngestedDocument(record_id_for(meta, path.stem), path, meta, chunks, tuple(warnings))


def _iter_files(root: Path) -> Iterable[Path]:
    if root.is_file():
        yield root
        return
    for path in sorted(root.rglob("*"), key=lambda p: p.relative_to(root).as_posix()):
        rel = path.relative_to(root)
        if any(part.startswith(".") for part in rel.parts):
            continue  # hidden files and folders (.git, .DS_Store)
        if path.is_file():
            yield path


def ingest_folder(path: Path) -> IngestResult:
    """Ingest every file under ``path`` (recursively); a single file is accepted too."""
    start = time.perf_counter()
    root = Path(path)
    if not root.exists():
        raise KnowledgeBaseError(f"corpus folder not found: {root}")
    documents: list[IngestedDocument] = []
    skipped: list[SkippedFile] = []
    used: set[str] = set()
    for file in _iter_files(root):
        outcome = ingest_file(file)
        if isinstance(outcome, SkippedFile):
            skipped.append(outcome)
            continue
        record_id, n = outcome.record_id, 2
        while record_id in used:  # two files of the same document, or two unnumbered files alike
            record_id, n = f"{outcome.record_id}-{n}", n + 1
        used.add(record_id)
        if record_id != outcome.record_id:
            outcome = IngestedDocument(record_id, outcome.path, outcome.meta, outcome.chunks,
                                       outcome.warnings + (f"record id {outcome.record_id} taken",))
        documents.append(outcome)
    links = link_citations(documents)
    return IngestResult(root, tuple(documents), tuple(skipped), links, time.perf_counter() - start)


def link_citations(documents: Sequence[IngestedDocument]) -> CitationLinks:
    """Resolve each document's cited numbers to the ingested documents bearing them."""
    by_number: dict[str, list[str]] = {}
    for doc in documents:
        if doc.meta.number:
            by_number.setdefault(number_key(doc.meta.number), []).append(doc.record_id)
    cites: dict[str, list[str]] = {d.record_id: [] for d in documents}
    cited_by: dict[str, list[str]] = {d.record_id: [] for d in documents}
    found = linked = 0
    for doc in documents:
        for number in doc.meta.cites:
            found += 1
            targets = [t for t in by_number.get(number_key(number), []) if t != doc.record_id]
            if targets:
                linked += 1
            for target in targets:
                if target not in cites[doc.record_id]:
                    cites[doc.record_id].append(target)
                    cited_by[target].append(doc.record_id)
    return CitationLinks(
        {k: tuple(v) for k, v in cites.items()}, {k: tuple(v) for k, v in cited_by.items()}, found, linked
    )


def _snippet(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= SNIPPET_CHARS:
        return text
    return text[:SNIPPET_CHARS].rsplit(" ", 1)[0] + "…"


def document_chunks(doc: IngestedDocument, url: Optional[str] = None) -> list[Chunk]:
    title = doc.title
    out: list[Chunk] = []
    for i, tc in enumerate(doc.chunks):
        section_slug = slugify(tc.section) if tc.section else "doan"
        text = "\n".join(x for x in (title, tc.section_line, tc.text) if x)
        out.append(Chunk(
            chunk_id=f"{doc.record_id}#{section_slug}-{i}",
            record_id=doc.record_id,
            kind="directive",
            title=title,
            text=text,
            snippet=_snippet(tc.text),
            url=url,
            doc_number=doc.meta.number,
            source=f"Văn bản: {doc.path.name}",
            section=tc.section,
        ))
    return out


def to_chunks(result: IngestResult) -> list[Chunk]:
    """Index chunks of every ingested document, in document then reading order."""
    return [c for doc in result.documents for c in document_chunks(doc)]
