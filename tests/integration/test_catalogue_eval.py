"""The catalogue dev set against the real import of ``../shared/data`` (skipped when it is absent).

The import into a temp dir takes about 10 s on 2 cores (measured 2026-12-02); the figures themselves
come from ``make eval`` (docs/RETRIEVAL.md), never from a timed or thresholded test.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from knowledge.catalogue.import_cli import run_import
from knowledge.catalogue.loader import KnowledgeBase, load_knowledge_base
from knowledge.evaluation import CATALOGUE_SET, load_dev_set
from tests.conftest import shared_or_skip


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    dvcqg = shared_or_skip("data", "dvcqg")
    bqp = shared_or_skip("data", "bqp-structured")
    out: Path = tmp_path_factory.mktemp("full-kb")
    started = time.perf_counter()
    run_import(dvcqg, bqp, out, with_embedded=True, with_curated=True)
    assert time.perf_counter() - started < 120  # a hang, not a benchmark
    return load_knowledge_base(out)


def test_every_labelled_id_exists_in_the_imported_catalogue(catalogue: KnowledgeBase) -> None:
    labelled = {r for q in load_dev_set(CATALOGUE_SET) for r in q.relevant}
    known = set(catalogue.procedures) | set(catalogue.guides) | set(catalogue.directives)
    assert sorted(labelled - known) == []


def test_curated_records_replace_their_imported_copies(catalogue: KnowledgeBase) -> None:
    curated = load_knowledge_base().procedures
    for rid, proc in curated.items():
        assert catalogue.procedures[rid] == proc
    assert len(catalogue.procedures) > 2500
    codes = [p.code for p in catalogue.procedures.values() if p.code]
    assert len(codes) == len(set(codes))  # no portal code twice (curated + imported)
