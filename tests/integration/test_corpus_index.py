"""The directive / legal corpus indexed beside the knowledge base (needs ../shared)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.knowledge_client import KnowledgeClient
from actions.policy import ActionAnswerPolicy
from actions.settings import ActionSettings
from knowledge.api.app import create_app
from knowledge.api.deps import IndexHolder
from knowledge.service import LoadedIndex, ensure_index
from knowledge.settings import Settings
from tests.conftest import shared_or_skip


@pytest.fixture(scope="module")
def with_corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, LoadedIndex]:
    corpus = shared_or_skip("corpus")
    state: Path = tmp_path_factory.mktemp("corpus-state")
    settings = Settings(index_dir=state / "index", desk_db=state / "desk.db", demo_onestop_db=state / "one.db",
                        corpus_dirs=str(corpus))
    return settings, ensure_index(settings)


def test_articles_are_found_and_cited_by_section(with_corpus: tuple[Settings, LoadedIndex]) -> None:
    _, loaded = with_corpus
    hits = loaded.index.search("điều 16 nghị định 224 mức độ dịch vụ công trực tuyến chủ động", k=5,
                               kinds=["directive"])
    assert hits[0].chunk.doc_number == "224/2026/NĐ-CP"
    assert (hits[0].chunk.section or "").startswith("Điều 16")


def test_curated_record_and_full_text_share_the_record(with_corpus: tuple[Settings, LoadedIndex]) -> None:
    _, loaded = with_corpus
    hit = loaded.index.search("công văn 1239 triển khai quyết định 1588", k=1, kinds=["directive"])[0]
    assert hit.chunk.record_id == "cv-1239-ubnd-kstt-2025-binh-dinh"


async def test_policy_answer_quotes_the_article(with_corpus: tuple[Settings, LoadedIndex]) -> None:
    settings, loaded = with_corpus
    app = create_app(settings, holder=IndexHolder.serving(settings, loaded))
    client = KnowledgeClient(ActionSettings(knowledge_url="http://k"), transport=httpx.ASGITransport(app=app))
    question = "dieu 16 nghi dinh 224 quy dinh muc do dich vu cong truc tuyen chu dong the nao"
    tracker = Tracker("c", {}, {"text": question, "intent": {"name": "ask_policy"}, "entities": []}, [], False, None,
                      {}, "action_listen")
    dispatcher = CollectingDispatcher()
    await ActionAnswerPolicy(client).run(dispatcher, tracker, {})
    text = "\n".join(m.get("text") or "" for m in dispatcher.messages)
    assert "Trích Điều 16" in text and "224/2026/NĐ-CP" in text
    assert "Nguồn:" in text
