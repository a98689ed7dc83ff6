"""Dense retrieval: a sentence-transformers encoder and a FAISS index.

No model can be downloaded on these machines, so the default encoder
(``builtin:static-vi``) is built by the project from the corpus it indexes: a
sentence-transformers ``StaticEmbedding`` whose word vectors come from LSA (TF-IDF + SVD
over folded syllables, IDF-weighted), then tuned with an in-batch contrastive loss on
(name or alias → record) pairs. It is deterministic and builds in seconds. Any other
value of ``KNOWLEDGE_DENSE_MODEL`` is a sentence-transformers name or path, loaded as is.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Optional

import faiss
import numpy as np

from knowledge.settings import BUILTIN_MODEL
from knowledge.text import normalize_for_display, normalize_for_match

log = logging.getLogger(__name__)

FLAT_LIMIT = 50_000  # above this many vectors, exact search stops meeting the latency target
UNK = "[UNK]"


class DenseEncoder:
    """Encodes texts to L2-normalised float32 vectors."""

    def __init__(self, model: SentenceTransformer, input_form: str = "folded") -> None:  # type: ignore[name-defined]  # noqa: F821
        self._model = model
        self._input_form = input_form
        self._static = _static_parts(model)

    def encode_one(self, text: str) -> np.ndarray:
        """One query's vector. For a static embedding (the built-in default) this is the
        same mean of token vectors that sentence-transformers computes, done in NumPy: a
        few microseconds instead of half a millisecond of batching machinery."""
        if self._static is None:
            return self.encode([text])[0]
        tokenizer, weights = self._static
        ids = tokenizer.encode(self.prepare(text), add_special_tokens=False).ids
        if not ids:
            return np.zeros(weights.shape[1], dtype=np.float32)
        vector = weights[ids].mean(axis=0)
        norm = float(np.linalg.norm(vector))
        return (vector / max(norm, 1e-12)).astype(np.float32)

    @property
    def dimension(self) -> int:
        return int(self._model.get_embedding_dimension())

    def prepare(self, text: str) -> str:
        return normalize_for_match(text) if self._input_form == "folded" else normalize_for_display(text)

    def encode(self, texts: Sequence[str], batch_size: int = 256) -> np.ndarray:
        prepared = [self.prepare(t) for t in texts]
        vectors = self._model.encode(
            prepared, batch_size=batch_size, convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def save(self, folder: Path) -> None:
        self._model.save(str(folder))


def _static_parts(model: object) -> Optional[tuple[Tokenizer, np.ndarray]]:  # type: ignore[name-defined]  # noqa: F821
    """(tokenizer, weights) when the model is a lone StaticEmbedding, else None."""
    from sentence_transformers.models import Normalize, StaticEmbedding

    modules = [m for m in model if not isinstance(m, Normalize)] if hasattr(model, "__iter__") else []
    if len(modules) != 1 or not isinstance(modules[0], StaticEmbedding):
        return None
    static = modules[0]
    weights = static.embedding.weight.detach().cpu().numpy().astype(np.float32)
    return static.tokenizer, weights


def load_encoder(model_name: str, artefact_model_dir: Optional[Path], input_form: str) -> DenseEncoder:
    from sentence_transformers import SentenceTransformer

    if model_name == BUILTIN_MODEL:
        if artefact_model_dir is None or not artefact_model_dir.is_dir():
            raise FileNotFoundError("the built-in dense model is part of the index artefact and is missing")
        return DenseEncoder(SentenceTransformer(str(artefact_model_dir), device="cpu"), "folded")
    return DenseEncoder(SentenceTransformer(model_name, device="cpu"), input_form)


def _syllable_analyzer(text: str) -> list[str]:
    return normalize_for_match(text).split()


def build_static_encoder(
    texts: Sequence[str], pairs: Sequence[tuple[str, str]] = (), dim: int = 256, epochs: int = 8, seed: int = 13
) -> DenseEncoder:
    """Build the project's own static embedding model from a corpus (see module docstring)."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.models import StaticEmbedding
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from tokenizers.pre_tokenizers import WhitespaceSplit

    tfidf = TfidfVectorizer(analyzer=_syllable_analyzer, sublinear_tf=True, min_df=1)
    matrix = tfidf.fit_transform(texts)
    vocab_terms = tfidf.get_feature_names_out()
    n_components = max(2, min(dim, matrix.shape[0] - 1, matrix.shape[1] - 1))
    svd = TruncatedSVD(n_components=n_components, random_state=seed, algorithm="randomized", n_iter=7)
    svd.fit(matrix)
    term_vectors = svd.components_.T * tfidf.idf_[:, None]  # IDF-weighted LSA term vectors
    weights = np.zeros((len(vocab_terms) + 1, n_components), dtype=np.float32)
    weights[1:] = term_vectors
    vocab = {UNK: 0, **{term: i + 1 for i, term in enumerate(vocab_terms)}}

    if pairs:
        weights = _contrastive_tune(weights, vocab, pairs, epochs, seed)

    tokenizer = Tokenizer(WordLevel(vocab=vocab, unk_token=UNK))
    tokenizer.pre_tokenizer = WhitespaceSplit()
    static = StaticEmbedding(tokenizer, embedding_weights=torch.from_numpy(weights))
    return DenseEncoder(SentenceTransformer(modules=[static], device="cpu"), "folded")


def _contrastive_tune(
    weights: np.ndarray, vocab: dict[str, int], pairs: Sequence[tuple[str, str]], epochs: int, seed: int
) -> np.ndarray:
    """In-batch multiple-negatives ranking loss on (query → passage) pairs."""
    import torch

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    bag = torch.nn.EmbeddingBag.from_pretrained(torch.from_numpy(weights), freeze=False, mode="mean")
    optimiser = torch.optim.Adam(bag.parameters(), lr=2e-3)

    def ids(text: str) -> list[int]:
        return [vocab.get(t, 0) for t in normalize_for_match(text).split()] or [0]

    encoded = [(ids(q), ids(p)) for q, p in pairs]
    batch = 64
    for _ in range(epochs):
        order = rng.permutation(len(encoded))
        for start in range(0, len(order), batch):
            sel = [encoded[i] for i in order[start : start + batch]]
            if len(sel) < 2:
                continue
            q = _embed_bag(bag, [s[0] for s in sel])
            p = _embed_bag(bag, [s[1] for s in sel])
            logits = 20.0 * q @ p.T
            loss = torch.nn.functional.cross_entropy(logits, torch.arange(len(sel)))
            optimiser.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]
            optimiser.step()
    return bag.weight.detach().numpy().astype(np.float32)


def _embed_bag(bag: torch.nn.EmbeddingBag, seqs: list[list[int]]) -> torch.Tensor:  # type: ignore[name-defined]  # noqa: F821
    import torch

    flat = torch.tensor([i for s in seqs for i in s], dtype=torch.long)
    offsets = torch.tensor(np.cumsum([0] + [len(s) for s in seqs[:-1]]), dtype=torch.long)
    return torch.nn.functional.normalize(bag(flat, offsets), dim=-1)


class VectorIndex:
    """FAISS inner-product index over normalised vectors (= cosine).

    Exact (flat) search up to ``flat_limit`` vectors; above it an inverted-file index
    (IVF, ``nlist`` ≈ 4·√n, trained on a sample), which builds in minutes at a million
    vectors on two cores where HNSW takes much longer.
    """

    def __init__(self, index: faiss.Index) -> None:
        self._index = index
        if isinstance(index, faiss.IndexIVF):
            index.make_direct_map()  # so that stored vectors can be read back

    @classmethod
    def build(cls, vectors: np.ndarray, flat_limit: int = FLAT_LIMIT, nprobe: int = 16) -> VectorIndex:
        n, dim = vectors.shape
        faiss.omp_set_num_threads(max(1, os.cpu_count() or 1))
        if n <= flat_limit:
            index: faiss.Index = faiss.IndexFlatIP(dim)
        else:
            nlist = int(4 * np.sqrt(n))
            quantizer = faiss.IndexFlatIP(dim)
            index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
            sample = vectors[np.random.default_rng(0).choice(n, size=min(n, nlist * 40), replace=False)]
            index.train(sample)
            index.nprobe = nprobe
        index.add(vectors)
        return cls(index)

    @property
    def kind(self) -> str:
        return "flat" if isinstance(self._index, faiss.IndexFlat) else "ivf"

    @property
    def size(self) -> int:
        return int(self._index.ntotal)

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = min(k, self._index.ntotal)
        if k <= 0:
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
        scores, ids = self._index.search(query.reshape(1, -1), k)
        keep = ids[0] >= 0
        return scores[0][keep], ids[0][keep]

    def vectors(self, ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """The stored vectors of these ids (no re-encoding)."""
        if len(ids) == 0:
            return np.zeros((0, self._index.d), dtype=np.float32)
        return np.asarray(self._index.reconstruct_batch(np.asarray(ids, dtype=np.int64)), dtype=np.float32)

    def save(self, path: Path) -> None:
        faiss.write_index(self._index, str(path))

    @classmethod
    def load(cls, path: Path) -> VectorIndex:
        return cls(faiss.read_index(str(path)))
