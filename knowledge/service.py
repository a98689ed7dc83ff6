"""Glue between the knowledge base (+ corpus folders) and its index: build when stale,
load otherwise."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from knowledge.catalogue.loader import KnowledgeBase, load_knowledge_base
from knowledge.errors import KnowledgeBaseError
from knowledge.index import Chunk, HybridIndex, IndexStore, build_index, chunks_from_knowledge_base
from knowledge.index.artefact import Meta
from knowledge.index.calibration import Calibration, MatchThresholds, calibration_sets
from knowledge.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadedIndex:
    kb: KnowledgeBase
    index: HybridIndex
    meta: Meta

    @property
    def thresholds(self) -> MatchThresholds:
        """The match decision's thresholds calibrated for this index build."""
        return Calibration.from_meta(self.meta).thresholds


def training_pairs(kb: KnowledgeBase) -> list[tuple[str, str]]:
    """(what a citizen might type → the text of the record) pairs for the built-in encoder."""
    chunks = {c.record_id: c.text for c in chunks_from_knowledge_base(kb)}
    pairs: list[tuple[str, str]] = []
    for p in kb.procedures.values():
        pairs += [(q, chunks[p.id]) for q in [p.name, *p.aliases]]
    for g in kb.guides.values():
        pairs += [(q, chunks[g.id]) for q in [g.title, *g.aliases]]
    for d in kb.directives.values():
        pairs += [(q, chunks[d.id]) for q in [d.doc_number, d.title, *d.aliases]]
    return pairs


def corpus_folders(settings: Settings) -> list[Path]:
    folders = [Path(p.strip()) for p in settings.corpus_dirs.split(",") if p.strip()]
    missing = [str(f) for f in folders if not f.is_dir()]
    if missing:
        raise KnowledgeBaseError(f"corpus folder not found: {', '.join(missing)}")
    return folders


def content_hash(settings: Settings, kb: KnowledgeBase) -> str:
    """The knowledge base's hash plus the names, sizes and times of the corpus files."""
    digest = hashlib.sha256(kb.content_hash.encode())
    digest.update(calibration_sets().digest.encode())  # another dev set means another calibration
    for folder in corpus_folders(settings):
        for f in sorted(p for p in folder.rglob("*") if p.is_file()):
            st = f.stat()
            digest.update(f"{f.relative_to(folder)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def corpus_chunks(settings: Settings) -> list[Chunk]:
    from knowledge.corpus.ingest import ingest_folder, to_chunks

    chunks: list[Chunk] = []
    for folder in corpus_folders(settings):
        result = ingest_folder(folder)
        for skipped in result.skipped:
            log.warning("corpus: skipped %s", skipped)
        chunks += to_chunks(result)
    return chunks


def rebuild(settings: Settings, kb: KnowledgeBase | None = None) -> LoadedIndex:
    kb = kb or load_knowledge_base(settings.data_dir)
    chunks = chunks_from_knowledge_base(kb) + corpus_chunks(settings)
    sets = calibration_sets()
    index, meta = build_index(chunks, settings, training_pairs(kb), questions=sets.questions,
                              unanswerable=sets.unanswerable)
    digest = content_hash(settings, kb)
    version = IndexStore(settings.index_dir).save(index, meta, digest)
    return LoadedIndex(kb, index, {**meta, "corpus_hash": digest, "version": version.name})


def ensure_index(settings: Settings, force: bool = False) -> LoadedIndex:
    """Load the current index, rebuilding it first when the data or settings changed."""
    kb = load_knowledge_base(settings.data_dir)
    store = IndexStore(settings.index_dir)
    if force or not store.is_fresh(settings, content_hash(settings, kb)):
        log.info("knowledge base changed or index missing: rebuilding")
        return rebuild(settings, kb)
    index, meta = store.load(settings)
    return LoadedIndex(kb, index, meta)
