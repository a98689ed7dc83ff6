"""Retrieval: a BM25 index over folded syllables and bigrams, a dense index
(sentence-transformers + FAISS), and their fusion, persisted as one versioned artefact."""

from knowledge.index.artefact import IndexStore, build_index
from knowledge.index.documents import Chunk, chunks_from_knowledge_base
from knowledge.index.hybrid import HybridIndex, SearchHit

__all__ = ["Chunk", "HybridIndex", "IndexStore", "SearchHit", "build_index", "chunks_from_knowledge_base"]
