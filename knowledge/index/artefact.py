"""The index as a versioned, self-describing artefact on disk.

    <index_dir>/current            name of the version being served (replaced atomically)
    <index_dir>/<version>/meta.json  format, model, dimension, normalisation, lexicon hash,
                                     corpus hash, library versions, counts, FAISS index kind
    <index_dir>/<version>/chunks.jsonl, lexical/, details/ (procedures' papers), dense.faiss,
                                     model/ (built-in encoder)

A build writes a new version folder and then swaps ``current``; readers keep serving
the version they loaded until they reload. A version is refused when its meta does not
match the running settings (another model, normalisation, colloquial lexicon or format).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import os
import shutil
import time
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any, Optional

from knowledge.errors import IndexArtefactError
from knowledge.index.calibration import DEFAULT_WEIGHT, Calibration, Question, apply, calibrate
from knowledge.index.dense import DenseEncoder, VectorIndex, build_static_encoder, load_encoder
from knowledge.index.documents import Chunk
from knowledge.index.hybrid import DETAILS_WEIGHT, HybridIndex
from knowledge.index.lexical import LexicalIndex
from knowledge.lexicon import load_lexicon
from knowledge.settings import BUILTIN_MODEL, Settings
from knowledge.text import NORMALIZATION_VERSION

log = logging.getLogger(__name__)

Meta = dict[str, Any]
FORMAT_VERSION = 1
KEEP_VERSIONS = 2


def _versions() -> dict[str, str]:
    out = {}
    for lib in ("bm25s", "faiss-cpu", "sentence-transformers", "torch"):
        try:
            out[lib] = metadata.version(lib)
        except metadata.PackageNotFoundError:
            out[lib] = "absent"
    return out


def build_index(
    chunks: Sequence[Chunk],
    settings: Settings,
    pairs: Sequence[tuple[str, str]] = (),
    dense: bool = True,
    questions: Sequence[Question] = (),
    unanswerable: Sequence[str] = (),
) -> tuple[HybridIndex, Meta]:
    """Build indexes in memory, calibrated on ``questions`` (knowledge.index.calibration); returns the
    index and the timing/meta figures."""
    t0 = time.perf_counter()
    texts = [c.text for c in chunks]
    lexical = LexicalIndex.build(texts)
    # the papers' field costs a second BM25 build: only when it weighs anything (index.hybrid.DETAILS_WEIGHT)
    details = LexicalIndex.build([c.details for c in chunks]) if DETAILS_WEIGHT and any(c.details for c in chunks) \
        else None
    t1 = time.perf_counter()
    encoder: Optional[DenseEncoder] = None
    vectors: Optional[VectorIndex] = None
    if dense and chunks:
        if settings.dense_model == BUILTIN_MODEL:
            encoder = build_static_encoder(texts, pairs)
        else:
            encoder = load_encoder(settings.dense_model, None, settings.dense_input)
        vectors = VectorIndex.build(encoder.encode(texts))
    t2 = time.perf_counter()
    index = HybridIndex(chunks, lexical, encoder, vectors, DEFAULT_WEIGHT, settings.candidates, details=details)
    calibration = calibrate(index, questions, unanswerable)
    apply(index, calibration, settings.dense_weight)
    t3 = time.perf_counter()
    meta = {
        "format": FORMAT_VERSION,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "normalization": NORMALIZATION_VERSION,
        # the everyday names in the chunks come from this file: another lexicon means another index
        "lexicon": load_lexicon().digest,
        "citizen_prior": index.prior.factor,
        "variant_strength": index.variants.strength,
        "variants": index.variants.variants,
        "details_weight": index.details_weight,
        "dense_model": settings.dense_model if encoder else None,
        "dense_input": "folded" if settings.dense_model == BUILTIN_MODEL else settings.dense_input,
        "dimension": encoder.dimension if encoder else None,
        "faiss_index": vectors.kind if vectors else None,
        "chunks": len(chunks),
        "library_versions": _versions(),
        "build_seconds": {"lexical": round(t1 - t0, 3), "dense": round(t2 - t1, 3), "calibration": round(t3 - t2, 3)},
        **calibration.to_meta(),
    }
    return index, meta


class IndexStore:
    """Reads and writes index artefacts under one folder."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @property
    def current_file(self) -> Path:
        return self.root / "current"

    def current_version(self) -> Optional[Path]:
        try:
            name = self.current_file.read_text().strip()
        except FileNotFoundError:
            return None
        path = self.root / name
        return path if (path / "meta.json").is_file() else None

    def read_meta(self, version: Path) -> Meta:
        try:
            meta: Meta = json.loads((version / "meta.json").read_text())
            return meta
        except (OSError, ValueError) as exc:
            raise IndexArtefactError(f"unreadable index meta in {version}: {exc}") from exc

    def save(self, index: HybridIndex, meta: Meta, corpus_hash: str) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        name = f"v{time.strftime('%Y%m%d-%H%M%S')}-{corpus_hash[:10]}-{os.getpid()}"
        tmp = self.root / f".tmp-{name}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        with open(tmp / "chunks.jsonl", "w", encoding="utf-8") as fh:
            for c in index.chunks:
                fh.write(json.dumps(dataclasses.asdict(c), ensure_ascii=False) + "\n")
        index.lexical.save(tmp / "lexical")
        if index.details is not None:
            index.details.save(tmp / "details")
        if index.vectors is not None and index.encoder is not None:
            index.vectors.save(tmp / "dense.faiss")
            if meta.get("dense_model") == BUILTIN_MODEL:
                index.encoder.save(tmp / "model")
        (tmp / "meta.json").write_text(json.dumps({**meta, "corpus_hash": corpus_hash}, indent=2, ensure_ascii=False))
        final = self.root / name
        os.replace(tmp, final)
        pointer = self.root / f".current-{os.getpid()}"
        pointer.write_text(name)
        os.replace(pointer, self.current_file)  # the atomic swap readers see
        self._prune(keep=final)
        log.info("index %s written (%d chunks)", name, meta.get("chunks", 0))
        return final

    def _prune(self, keep: Path) -> None:
        versions = sorted((p for p in self.root.glob("v*") if p.is_dir()), key=lambda p: p.stat().st_mtime)
        for old in versions[:-KEEP_VERSIONS]:
            if old != keep:
                shutil.rmtree(old, ignore_errors=True)

    def load(self, settings: Settings, version: Optional[Path] = None) -> tuple[HybridIndex, Meta]:
        version = version or self.current_version()
        if version is None:
            raise IndexArtefactError(f"no index in {self.root}; run `python -m knowledge index`")
        meta = self.read_meta(version)
        self.check_compatible(meta, settings)
        with open(version / "chunks.jsonl", encoding="utf-8") as fh:
            chunks = [Chunk(**json.loads(line)) for line in fh]
        lexical = LexicalIndex.load(version / "lexical")
        details = LexicalIndex.load(version / "details") if (version / "details").is_dir() else None
        encoder = vectors = None
        if meta.get("dense_model") and (version / "dense.faiss").is_file():
            encoder = load_encoder(meta["dense_model"], version / "model", meta["dense_input"])
            vectors = VectorIndex.load(version / "dense.faiss")
        index = HybridIndex(chunks, lexical, encoder, vectors, DEFAULT_WEIGHT, settings.candidates, details=details)
        apply(index, Calibration.from_meta(meta), settings.dense_weight)
        return index, {**meta, "version": version.name}

    @staticmethod
    def check_compatible(meta: Meta, settings: Settings) -> None:
        problems = []
        if meta.get("format") != FORMAT_VERSION:
            problems.append(f"format {meta.get('format')} != {FORMAT_VERSION}")
        if meta.get("normalization") != NORMALIZATION_VERSION:
            problems.append(f"normalisation {meta.get('normalization')} != {NORMALIZATION_VERSION}")
        lexicon = load_lexicon().digest
        if meta.get("lexicon") != lexicon:
            problems.append(f"colloquial lexicon {str(meta.get('lexicon'))[:12]} != {lexicon[:12]}")
        if meta.get("dense_model") not in (None, settings.dense_model):
            problems.append(f"dense model {meta.get('dense_model')} != {settings.dense_model}")
        if problems:
            raise IndexArtefactError("index built for other settings: " + "; ".join(problems))

    def is_fresh(self, settings: Settings, corpus_hash: str) -> bool:
        version = self.current_version()
        if version is None:
            return False
        meta = self.read_meta(version)
        try:
            self.check_compatible(meta, settings)
        except IndexArtefactError:
            return False
        return bool(meta.get("corpus_hash") == corpus_hash)
