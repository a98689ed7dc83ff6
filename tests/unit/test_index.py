import json
import shutil
from pathlib import Path

import pytest

from knowledge.errors import IndexArtefactError
from knowledge.index import IndexStore
from knowledge.service import LoadedIndex, ensure_index
from knowledge.settings import PROJECT_ROOT, Settings


def top_ids(loaded: LoadedIndex, query: str, k: int = 3, kinds: list | None = None) -> list[str]:
    return [h.chunk.record_id for h in loaded.index.search(query, k=k, kinds=kinds)]


@pytest.mark.parametrize(
    "query",
    ["làm giấy khai sinh online thế nào", "lam giay khai sinh online the nao", "LAM GIAY KHAI SINH ONLINE"],
)
def test_birth_registration_is_found_in_any_spelling(loaded: LoadedIndex, query: str) -> None:
    assert top_ids(loaded, query)[0] == "1.001193"


def test_colloquial_and_abbreviated_names(loaded: LoadedIndex) -> None:
    assert top_ids(loaded, "doi gplx", kinds=["procedure"])[0] == "3.000347"
    assert top_ids(loaded, "xin phiếu lý lịch tư pháp", kinds=["procedure"])[0] == "3.000333"


def test_directive_by_number(loaded: LoadedIndex) -> None:
    hits = loaded.index.search("quyết định 1588 về tuyên truyền dịch vụ công", k=3, kinds=["directive"])
    assert hits[0].chunk.doc_number == "1588/QĐ-TTg"


def test_kinds_filter_only_returns_those_kinds(loaded: LoadedIndex) -> None:
    hits = loaded.index.search("đăng nhập bằng tài khoản VNeID", k=5, kinds=["guide"])
    assert hits and {h.chunk.kind for h in hits} == {"guide"}


def test_gibberish_finds_nothing_or_only_weak_matches(loaded: LoadedIndex) -> None:
    hits = loaded.index.search("qwxz zzkq", k=5)
    assert all(h.score < 0.2 for h in hits)


def test_artefact_describes_itself(loaded: LoadedIndex, settings: Settings) -> None:
    version = IndexStore(settings.index_dir).current_version()
    assert version is not None
    meta = json.loads((version / "meta.json").read_text())
    assert meta["dense_model"] == "builtin:static-vi"
    assert meta["dimension"] > 0 and meta["chunks"] == len(loaded.index)
    assert meta["corpus_hash"] == loaded.meta["corpus_hash"] and len(meta["corpus_hash"]) == 64
    assert {"bm25s", "faiss-cpu", "sentence-transformers", "torch"} <= set(meta["library_versions"])


def test_artefact_for_another_model_is_refused(loaded: LoadedIndex, settings: Settings) -> None:
    other = settings.model_copy(update={"dense_model": "some/other-model"})
    with pytest.raises(IndexArtefactError, match="dense model"):
        IndexStore(settings.index_dir).load(other)


def test_saved_index_answers_like_the_built_one(loaded: LoadedIndex, settings: Settings) -> None:
    index, _ = IndexStore(settings.index_dir).load(settings)
    query = "cấp lại thẻ căn cước"
    assert [h.chunk.record_id for h in index.search(query)] == top_ids(loaded, query, k=5)


def test_index_is_rebuilt_when_the_data_changes_and_not_otherwise(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(PROJECT_ROOT / "knowledge" / "data", data)
    settings = Settings(data_dir=data, index_dir=tmp_path / "index")
    first = ensure_index(settings)
    assert ensure_index(settings).meta["version"] == first.meta["version"]
    extra = data / "guides" / "zz-test.yaml"
    extra.write_text(
        "- id: huong-dan-thu-nghiem\n  title: Hướng dẫn thử nghiệm chim cánh cụt\n"
        "  summary: Một hướng dẫn chỉ dùng trong kiểm thử.\n  source: kiểm thử\n  checked_on: 2026-11-23\n",
        encoding="utf-8",
    )
    second = ensure_index(settings)
    assert second.meta["version"] != first.meta["version"]
    assert second.index.search("chim cánh cụt")[0].chunk.record_id == "huong-dan-thu-nghiem"


def test_running_service_switches_to_a_rebuilt_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from knowledge.api import deps

    data = tmp_path / "data"
    shutil.copytree(PROJECT_ROOT / "knowledge" / "data", data)
    settings = Settings(data_dir=data, index_dir=tmp_path / "index")
    holder = deps.IndexHolder(settings)
    holder.start()
    old = holder.loaded.meta["version"]
    monkeypatch.setattr(deps, "RELOAD_CHECK_SECONDS", 0.0)
    (data / "guides" / "zz.yaml").write_text(
        "- id: huong-dan-moi\n  title: Hướng dẫn mới về chim cánh cụt\n  summary: Chỉ dùng trong kiểm thử.\n"
        "  source: kiểm thử\n  checked_on: 2026-11-23\n", encoding="utf-8")
    ensure_index(settings)  # another process (or `python -m knowledge index`) rebuilds
    assert holder.loaded.meta["version"] != old
    assert holder.loaded.index.search("chim cánh cụt")[0].chunk.record_id == "huong-dan-moi"


@pytest.mark.parametrize("query", ["Làm lại CCCD bị mất", "lam giay khai sinh online", "xyzzy không có", ""])
def test_one_query_vector_equals_sentence_transformers_own(loaded: LoadedIndex, query: str) -> None:
    import numpy as np

    encoder = loaded.index.encoder
    assert encoder is not None
    fast = encoder.encode_one(query)
    reference = encoder.encode([query])[0]
    assert fast.dtype == np.float32 and fast.shape == reference.shape
    assert np.allclose(fast, reference, atol=1e-6)


def test_fused_ranking_is_the_fusion_formula_best_chunk_per_record(loaded: LoadedIndex) -> None:
    import numpy as np

    from knowledge.index.hybrid import LEXICAL_HALF

    index = loaded.index
    query = "đổi giấy phép lái xe quá hạn"
    hits = index.search(query, k=10)
    w = index.dense_weight
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert len({h.chunk.record_id for h in hits}) == len(hits)
    position = {c.chunk_id: i for i, c in enumerate(index.chunks)}
    for h in hits:
        expected = (1 - w) * h.lexical / (h.lexical + LEXICAL_HALF) + w * max(h.dense, 0.0)
        if h.chunk.audience and "cong_dan" not in h.chunk.audience:
            expected *= index.prior.factor
        expected *= float(index.variants.factors(query, np.array([position[h.chunk.chunk_id]]))[0])
        assert abs(h.score - expected) < 1e-5


def test_artefact_records_the_lexicon_and_is_stale_when_it_changes(
    loaded: LoadedIndex, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from knowledge.lexicon import colloquial

    store = IndexStore(settings.index_dir)
    version = store.current_version()
    assert version is not None
    meta = store.read_meta(version)
    assert meta["lexicon"] == colloquial.load_lexicon().digest and meta["citizen_prior"] == loaded.index.prior.factor
    assert store.is_fresh(settings, meta["corpus_hash"])
    edited = tmp_path / "colloquial.yaml"
    edited.write_bytes(colloquial.DEFAULT_LEXICON.read_bytes() + b"\n# reviewed again\n")
    monkeypatch.setattr(colloquial, "DEFAULT_LEXICON", edited)
    assert not store.is_fresh(settings, meta["corpus_hash"])  # so `ensure_index` rebuilds
    with pytest.raises(IndexArtefactError, match="colloquial lexicon"):
        store.load(settings)


def test_everyday_names_are_indexed_with_the_record(loaded: LoadedIndex) -> None:
    chunk = next(c for c in loaded.index.chunks if c.record_id == "3.000347")  # Đổi giấy phép lái xe
    assert "bằng lái" in chunk.text and chunk.audience == ("cong_dan", "nguoi_nuoc_ngoai")
