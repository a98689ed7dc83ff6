"""The 2024–2025 reforms as knowledge (issue 11, item 4): a question that assumes the old rule (the
district level, driving licences at the transport department, "căn cước công dân" for a new card,
CMND, the paper household book) gets the rule in force first, with its legal basis, then the answer;
once per conversation. The cues are data in knowledge/data/reforms/, served in /search's notices."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.fallback import ActionDefaultFallback
from actions.guides import ActionAnswerGuide
from actions.knowledge_client import KnowledgeClient
from actions.procedures import ActionAnswerProcedure
from actions.settings import ActionSettings
from knowledge.api.app import create_app
from knowledge.api.deps import IndexHolder
from knowledge.catalogue.loader import DEFAULT_DATA_DIR, load_knowledge_base
from knowledge.catalogue.reforms import Reform, reforms_cued
from knowledge.errors import KnowledgeBaseError
from knowledge.service import LoadedIndex
from knowledge.settings import Settings

TWO_TIER = "Từ 01/7/2025 chính quyền địa phương chỉ còn hai cấp, tỉnh và xã: không còn UBND huyện, quận, thị xã."
TWO_TIER_BASIS = "Căn cứ: Luật Tổ chức chính quyền địa phương số 72/2025/QH15, có hiệu lực từ 01/7/2025."
POLICE_LICENCE = "Từ 01/3/2025 việc cấp, đổi, cấp lại giấy phép lái xe do cơ quan Công an giải quyết"
ID_CARD = "Từ 01/7/2024 thẻ được cấp mới, cấp đổi, cấp lại là thẻ căn cước (không còn gọi là thẻ căn cước công dân)."
CMND = "Chứng minh nhân dân không còn là giấy tờ tùy thân từ 01/01/2025"
HOUSEHOLD_BOOK = "Sổ hộ khẩu và sổ tạm trú bằng giấy không còn giá trị từ 01/01/2023"


@pytest.fixture(scope="module")
def reforms() -> list[Reform]:
    return list(load_knowledge_base().reforms.values())


@pytest.mark.parametrize(("text", "expected"), [
    ("nộp hồ sơ ở ubnd huyện được không", ["chinh-quyen-hai-cap"]),
    ("NỘP HỒ SƠ Ở ỦY BAN NHÂN DÂN HUYỆN ĐƯỢC KHÔNG", ["chinh-quyen-hai-cap"]),
    ("phong tu phap huyen o dau", ["chinh-quyen-hai-cap"]),
    ("lam giay khai sinh o quan/huyen nao", ["chinh-quyen-hai-cap"]),
    ("đổi bằng lái xe ở sở gtvt nào", ["giay-phep-lai-xe-cong-an"]),
    ("lam lai cccd o dau", ["the-can-cuoc"]),
    ("làm căn cước công dân cho con 14 tuổi", ["the-can-cuoc"]),
    ("cmnd còn dùng được không", ["chung-minh-nhan-dan-het-gia-tri"]),
    ("chứng minh thư hết hạn thì làm sao", ["chung-minh-nhan-dan-het-gia-tri"]),
    ("xin cấp sổ hộ khẩu mới", ["so-ho-khau-het-gia-tri"]),
])
def test_a_question_that_assumes_the_old_rule_is_recognised(reforms: list[Reform], text: str,
                                                           expected: list[str]) -> None:
    assert [r.id for r in reforms_cued(reforms, text)] == expected


@pytest.mark.parametrize("text", [
    "làm thẻ căn cước ở đâu", "gplx hết hạn đổi online", "đăng ký thường trú cho con",
    "tôi muốn đăng ký thường trú cho con, cccd của tôi là 079203001234", "tích hợp bhyt vào cccd",
    "quản lý hồ sơ thế nào", "nộp hồ sơ ở ubnd xã", "", "😀",
])
def test_a_question_in_step_with_the_rules_gets_no_notice(reforms: list[Reform], text: str) -> None:
    assert reforms_cued(reforms, text) == []


def test_every_reform_has_a_basis_a_source_and_a_known_guide() -> None:
    kb = load_knowledge_base()
    assert len(kb.reforms) >= 5
    for r in kb.reforms.values():
        assert r.basis and r.source and r.checked_on
        assert r.guide is None or r.guide in kb.guides
        assert ".yaml" not in r.rule + r.basis and "bản ghi" not in r.rule


def _base_with(tmp_path: Path, reform: dict[str, Any]) -> Path:
    (tmp_path / "reforms").mkdir()
    (tmp_path / "reforms" / "r.yaml").write_text(yaml.safe_dump([reform], allow_unicode=True), encoding="utf-8")
    return tmp_path


REFORM = {"id": "x", "title": "Một quy định mới", "since": "2025-07-01", "rule": "Từ nay việc này làm ở cấp xã.",
          "basis": "Luật số 1/2025/QH15", "cues": ["cap huyen"], "source": "Luật số 1/2025/QH15",
          "checked_on": "2026-12-02"}


def test_a_cue_with_an_empty_group_is_refused_with_its_place(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeBaseError, match=r"r.yaml record #0 \(id 'x'\): field cues: cue 'cap huyen \+ ': "):
        load_knowledge_base(_base_with(tmp_path, {**REFORM, "cues": ["cap huyen + "]}))


def test_a_reform_pointing_at_an_unknown_guide_is_refused(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeBaseError, match="reform 'x': guide 'khong-co' is not in the knowledge base"):
        load_knowledge_base(_base_with(tmp_path, {**REFORM, "guide": "khong-co"}))


def test_the_embedded_reforms_are_part_of_an_import(tmp_path: Path) -> None:
    from knowledge.catalogue.import_cli import EMBEDDED_KINDS

    assert "reforms" in EMBEDDED_KINDS and (DEFAULT_DATA_DIR / "reforms").is_dir()


# -- /search and the actions ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def client(settings: Settings, loaded: LoadedIndex) -> KnowledgeClient:
    app = create_app(settings, holder=IndexHolder.serving(settings, loaded))
    return KnowledgeClient(ActionSettings(knowledge_url="http://knowledge"), transport=httpx.ASGITransport(app=app))


async def test_search_returns_the_notice_with_its_basis(client: KnowledgeClient) -> None:
    reply = await client.match("nộp hồ sơ ở ubnd huyện được không", kinds=["procedure"])
    [notice] = reply.notices
    assert notice.id == "chinh-quyen-hai-cap" and notice.rule.startswith(TWO_TIER)
    assert notice.basis == "Luật Tổ chức chính quyền địa phương số 72/2025/QH15, có hiệu lực từ 01/7/2025"
    assert (await client.match("đăng ký khai sinh", kinds=["procedure"])).notices == []


def tracker(text: str, intent: str, slots: dict[str, Any] | None = None,
            events: list[dict[str, Any]] | None = None) -> Tracker:
    return Tracker("citizen-r", slots or {}, {"text": text, "intent": {"name": intent}, "entities": []},
                   events or [], False, None, {}, "action_listen")


async def answer(action: Any, t: Tracker) -> tuple[list[str], list[Any]]:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, t, {})
    return [m.get("text") or "" for m in dispatcher.messages], events


async def test_district_level_question_gets_the_current_rule_then_the_agency(client: KnowledgeClient) -> None:
    texts, events = await answer(ActionAnswerProcedure(client),
                                 tracker("nộp hồ sơ ở ubnd huyện được không", "ask_where_to_submit",
                                         {"procedure_id": "1.001193"}))
    assert texts[0] == f"ℹ️ Quy định hiện hành: {TWO_TIER} Việc trước đây làm ở huyện nay làm ở UBND cấp xã " \
                       f"(xã, phường, đặc khu) hoặc ở cơ quan cấp tỉnh, tùy thủ tục.\n{TWO_TIER_BASIS}"
    assert texts[1].startswith("Nơi nộp «Thủ tục đăng ký khai sinh»:\nCơ quan giải quyết: ") and len(texts) == 2
    assert SlotSet("procedure_id", "1.001193") in events


async def test_the_notice_is_said_once_per_conversation(client: KnowledgeClient) -> None:
    first, _ = await answer(ActionAnswerProcedure(client),
                            tracker("nộp hồ sơ ở ubnd huyện được không", "ask_where_to_submit",
                                    {"procedure_id": "1.001193"}))
    said = [{"event": "bot", "text": t} for t in first]
    again, _ = await answer(ActionAnswerProcedure(client),
                            tracker("vậy lệ phí ở huyện bao nhiêu", "ask_fee", {"procedure_id": "1.001193"}, said))
    assert not any(TWO_TIER in t for t in again) and again[0].startswith("Lệ phí «")


async def test_licence_at_the_transport_department_gets_the_police_rule_first(client: KnowledgeClient) -> None:
    texts, _ = await answer(ActionAnswerProcedure(client), tracker("doi gplx o so gtvt", "ask_procedure"))
    assert texts[0].startswith(f"ℹ️ Quy định hiện hành: {POLICE_LICENCE}")
    assert "Căn cứ: Luật Trật tự, an toàn giao thông đường bộ số 36/2024/QH15" in texts[0]
    assert texts[1].startswith("📄 Đổi giấy phép lái xe\n")


async def test_a_new_citizen_id_card_question_says_it_is_a_can_cuoc_card(client: KnowledgeClient) -> None:
    texts, _ = await answer(ActionAnswerProcedure(client),
                            tracker("làm căn cước công dân lần đầu cho con", "ask_procedure"))
    assert texts[0].startswith(f"ℹ️ Quy định hiện hành: {ID_CARD}")
    assert "Căn cứ: Luật Căn cước số 26/2023/QH15" in texts[0]
    assert len(texts) >= 2 and "căn cước" in texts[1].lower()


async def test_cmnd_question_in_a_how_to_turn_gets_the_rule(client: KnowledgeClient) -> None:
    texts, _ = await answer(ActionAnswerGuide(client), tracker("cmnd còn dùng được không", "ask_online_howto"))
    assert texts[0].startswith(f"ℹ️ Quy định hiện hành: {CMND}") and "Điều 46" in texts[0]
    assert len(texts) >= 2


async def test_a_fallback_still_says_the_rule(client: KnowledgeClient) -> None:
    texts, _ = await answer(ActionDefaultFallback(client), tracker("xin sổ hộ khẩu giấy ở đâu", "nlu_fallback"))
    assert texts[0].startswith(f"ℹ️ Quy định hiện hành: {HOUSEHOLD_BOOK}")
    assert "Căn cứ: Luật Cư trú số 68/2020/QH14, Điều 38 khoản 3." in texts[0]
