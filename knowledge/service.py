"""Glue between the knowledge base and its index: build when stale, load otherwise."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from knowledge.catalogue.loader import KnowledgeBase, load_knowledge_base
from knowledge.index import HybridIndex, IndexStore, build_index, chunks_from_knowledge_base
from knowledge.index.artefact import Meta
from knowledge.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadedIndex:
    kb: KnowledgeBase
    index: HybridIndex
    meta: Meta


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


def rebuild(settings: Settings, kb: KnowledgeBase | None = None) -> LoadedIndex:
    kb = kb or load_knowledge_base(settings.data_dir)
    index, meta = build_index(chunks_from_knowledge_base(kb), settings, training_pairs(kb))
    version = IndexStore(settings.index_dir).save(index, meta, kb.content_hash)
    return LoadedIndex(kb, index, {**meta, "corpus_hash": kb.content_hash, "version": version.name})


def ensure_index(settings: Settings, force: bool = False) -> LoadedIndex:
    """Load the current index, rebuilding it first when the data or settings changed."""
    kb = load_knowledge_base(settings.data_dir)
    store = IndexStore(settings.index_dir)
    if force or not store.is_fresh(settings, kb.content_hash):
        log.info("knowledge base changed or index missing: rebuilding")
        return rebuild(settings, kb)
    index, meta = store.load(settings)
    return LoadedIndex(kb, index, meta)
