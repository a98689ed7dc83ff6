"""Actions run offline on saved trackers, against the real knowledge service app
(in-process through httpx's ASGI transport); assertions are on what a citizen reads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.fallback import ActionDefaultFallback
from actions.guides import ActionAnswerGuide
from actions.knowledge_client import KnowledgeClient, KnowledgeUnavailable
from actions.policy import ActionAnswerPolicy
from actions.procedures import ActionAnswerProcedure
from actions.settings import ActionSettings
from knowledge.api.app import create_app
from knowledge.api.deps import IndexHolder
from knowledge.service import LoadedIndex
from knowledge.settings import Settings

TRACKERS = Path(__file__).resolve().parent.parent / "data" / "trackers"


def tracker(name: str) -> Tracker:
    return Tracker.from_dict(json.loads((TRACKERS / f"{name}.json").read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def client(settings: Settings, loaded: LoadedIndex) -> KnowledgeClient:
    app = create_app(settings, holder=IndexHolder.serving(settings, loaded))
    return KnowledgeClient(ActionSettings(knowledge_url="http://knowledge"), transport=httpx.ASGITransport(app=app))


def down_client() -> KnowledgeClient:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    return KnowledgeClient(ActionSettings(knowledge_url="http://knowledge"), transport=httpx.MockTransport(refuse))


async def run(action: Any, name: str) -> tuple[str, list[dict], list]:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker(name), {})
    text = "\n".join(m.get("text") or "" for m in dispatcher.messages)
    return text, dispatcher.messages, events


async def test_how_to_do_it_online_gets_the_steps_link_and_source(client: KnowledgeClient) -> None:
    text, messages, events = await run(ActionAnswerProcedure(client), "khai_sinh_unaccented")
    assert text.startswith("📄 Thủ tục đăng ký khai sinh\n✅ Làm được hoàn toàn trực tuyến (toàn trình")
    assert "Các bước làm trực tuyến:\n1. " in text
    assert "Nộp trực tuyến tại: https://dichvucong.gov.vn/thu-tuc-hanh-chinh/" in text
    assert "Nguồn: Cổng Dịch vụ công quốc gia, thủ tục 1.001193" in text
    titles = [b["title"] for m in messages for b in (m.get("buttons") or [])]
    assert {"Giấy tờ cần chuẩn bị", "Lệ phí", "Thời gian giải quyết", "Nộp trực tuyến"} <= set(titles)
    assert SlotSet("procedure_id", "1.001193") in events and SlotSet("online_referral", "1.001193") in events


async def test_a_procedure_question_gets_one_short_overview(client: KnowledgeClient) -> None:
    data = json.loads((TRACKERS / "khai_sinh_unaccented.json").read_text(encoding="utf-8"))
    data["latest_message"]["text"] = "dang ky khai sinh cho con"
    dispatcher = CollectingDispatcher()
    events = await ActionAnswerProcedure(client).run(dispatcher, Tracker.from_dict(data), {})
    [message] = dispatcher.messages
    text = message["text"]
    assert text.startswith("📄 Thủ tục đăng ký khai sinh\n") and len(text.splitlines()) <= 8
    assert "✅ Làm được hoàn toàn trực tuyến (toàn trình" in text and "Các bước" not in text
    assert "Nộp trực tuyến tại: https://dichvucong.gov.vn/thu-tuc-hanh-chinh/" in text
    titles = [b["title"] for b in message["buttons"]]
    assert titles[:4] == ["Cách làm trực tuyến", "Giấy tờ cần chuẩn bị", "Lệ phí", "Thời gian giải quyết"]
    assert SlotSet("procedure_id", "1.001193") in events


async def test_an_id_number_in_the_question_does_not_change_what_it_is_about(client: KnowledgeClient) -> None:
    # NLU sees the masked number (bot/rasa_patches.py); the clause that gives it is not searched.
    data = json.loads((TRACKERS / "khai_sinh_unaccented.json").read_text(encoding="utf-8"))
    data["latest_message"]["text"] = "tôi muốn đăng ký thường trú cho con, cccd của tôi là 0792******34"
    dispatcher = CollectingDispatcher()
    await ActionAnswerProcedure(client).run(dispatcher, Tracker.from_dict(data), {})
    # for a child, the joint birth + residence + health-card procedure is as close: the citizen chooses
    [message] = dispatcher.messages
    assert message["text"].startswith("Bạn muốn hỏi về thủ tục nào dưới đây?")
    titles = [b["title"] for b in message["buttons"]]
    assert "Đăng ký thường trú" in titles[:2] and not any("căn cước" in t.lower() for t in titles)


async def test_fee_question_refers_to_the_procedure_in_context(client: KnowledgeClient) -> None:
    text, _, events = await run(ActionAnswerProcedure(client), "fee_follow_up")
    assert text.startswith("Lệ phí «Đổi giấy phép lái xe»")
    assert "Trực tuyến:" in text and "Nguồn:" in text
    assert SlotSet("procedure_id", "3.000347") in events


async def test_button_payload_selects_the_procedure_and_part(client: KnowledgeClient) -> None:
    text, _, _ = await run(ActionAnswerProcedure(client), "button_documents")
    assert text.startswith("Giấy tờ cần chuẩn bị cho «Thủ tục đăng ký khai sinh»")
    assert "Giấy chứng sinh" in text


async def test_policy_answer_cites_number_date_and_issuer(client: KnowledgeClient) -> None:
    text, _, _ = await run(ActionAnswerPolicy(client), "policy_1588")
    assert "1588/QĐ-TTg ngày 17/12/2024" in text
    assert "Thủ tướng" in text and "Nguồn:" in text


async def test_account_question_gets_a_guide(client: KnowledgeClient) -> None:
    text, _, _ = await run(ActionAnswerGuide(client), "account_vneid")
    assert "VNeID" in text and "Nguồn:" in text


async def test_gibberish_gets_an_honest_answer_and_human_help(client: KnowledgeClient) -> None:
    text, messages, _ = await run(ActionDefaultFallback(client), "gibberish")
    assert "chưa hiểu" in text
    assert any(b.get("payload") == "/request_human" for m in messages for b in (m.get("buttons") or []))


@pytest.mark.parametrize("action_cls, name", [
    (ActionAnswerProcedure, "khai_sinh_unaccented"),
    (ActionAnswerPolicy, "policy_1588"),
    (ActionAnswerGuide, "account_vneid"),
    (ActionDefaultFallback, "gibberish"),
])
async def test_service_down_gives_the_apology_not_a_crash(action_cls: Any, name: str) -> None:
    text, _, _ = await run(action_cls(down_client()), name)
    assert "tạm thời gián đoạn" in text and "dichvucong.gov.vn" in text
    assert "ConnectError" not in text and "refused" not in text


async def test_vague_mention_gets_a_clarifying_question_not_the_old_procedure(client: KnowledgeClient) -> None:
    text, messages, events = await run(ActionAnswerProcedure(client), "vague_mention")
    assert text.startswith("Bạn muốn hỏi về thủ tục nào dưới đây?") and "dichvucong.gov.vn" in text
    payloads = [b["payload"] for m in messages for b in (m.get("buttons") or [])]
    assert len(payloads) >= 2 and all(p.startswith('/ask_procedure{"procedure_id"') for p in payloads)
    assert "Đổi giấy phép lái xe" not in text and events == []


async def test_the_whole_message_picks_the_procedure_not_just_the_mention(client: KnowledgeClient) -> None:
    # NLU found "gplx"; "hết hạn thì đổi" makes it the renewal, not the first licence.
    text, _, events = await run(ActionAnswerProcedure(client), "gplx_renew_entity")
    assert text.startswith("📄 Đổi giấy phép lái xe")
    assert SlotSet("procedure_id", "3.000347") in events


@pytest.mark.parametrize("name, title", [
    ("howto_named_procedure", "Nộp tiền phạt vi phạm hành chính về giao thông"),
    ("payment_with_procedure", "Đăng ký đóng, cấp thẻ BHYT"),
])
async def test_how_to_do_a_named_procedure_online_gets_that_procedure(client: KnowledgeClient, name: str,
                                                                      title: str) -> None:
    text, _, events = await run(ActionAnswerGuide(client), name)
    assert text.startswith(f"📄 {title}")
    assert "Các bước làm trực tuyến" in text
    assert any(isinstance(e, dict) and e.get("name") == "procedure_id" for e in events)


async def test_a_general_payment_question_still_gets_the_payment_guide(client: KnowledgeClient) -> None:
    text, _, events = await run(ActionAnswerGuide(client), "payment_general")
    assert text.startswith("📘 Thanh toán phí, lệ phí") and "ví điện tử" in text
    assert events == []


# --------------------------------------------------------------------------- ids in URLs, replies that do not validate

BAD_IDS = ["../health", "..%2Fhealth", "..", ".", "a..b", "a/b", "/health", "%2e%2e", "", " ", "x" * 81,
           "1.001193?x=1", "1.001193#x", "khai sinh", "kh\u00e1i-sinh", "-x", ".hidden", "a\\b", "a\x00b"]


def recording_client(requests: list[httpx.Request], reply: httpx.Response) -> KnowledgeClient:
    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return reply

    return KnowledgeClient(ActionSettings(knowledge_url="http://knowledge"), transport=httpx.MockTransport(handler))


@pytest.mark.parametrize("method", ["procedure", "guide", "directive"])
async def test_a_bad_id_never_reaches_the_service(method: str) -> None:
    requests: list[httpx.Request] = []
    client = recording_client(requests, httpx.Response(200, json={"status": "ok"}))
    for bad in BAD_IDS:
        assert await getattr(client, method)(bad) is None, bad
    assert requests == []


async def test_a_good_id_is_sent_as_one_quoted_segment() -> None:
    requests: list[httpx.Request] = []
    client = recording_client(requests, httpx.Response(404, json={"detail": "x"}))
    assert await client.procedure("1.001193") is None
    assert await client.guide("tai-khoan_dinh-danh") is None
    assert await client.directive("QD.942-2021") is None
    assert [r.url.raw_path for r in requests] == [b"/procedures/1.001193", b"/guides/tai-khoan_dinh-danh",
                                                  b"/directives/QD.942-2021"]


async def test_a_typed_payload_with_a_path_id_gets_not_found_without_a_request() -> None:
    requests: list[httpx.Request] = []
    client = recording_client(requests, httpx.Response(200, json={"status": "ok"}))
    dispatcher = CollectingDispatcher()
    typed = Tracker("rest:x", {}, {"text": '/ask_procedure{"procedure_id":"../health"}',
                                   "intent": {"name": "ask_procedure"},
                                   "entities": [{"entity": "procedure_id", "value": "../health"}]},
                    [], False, None, {}, "action_listen")
    events = await ActionAnswerProcedure(client).run(dispatcher, typed, {})
    assert events == [SlotSet("procedure_id", None)]
    assert requests == []
    assert all("health" not in (m.get("text") or "") for m in dispatcher.messages)


@pytest.mark.parametrize("method", ["procedure", "guide", "directive"])
async def test_a_reply_that_is_not_the_record_is_unavailable_without_the_payload(method: str) -> None:
    secret = "PAYLOAD-0912345678-SHOULD-NOT-BE-LOGGED"
    requests: list[httpx.Request] = []
    client = recording_client(requests, httpx.Response(200, json={"id": "1.001193", "name": secret, "extra": secret}))
    with pytest.raises(KnowledgeUnavailable) as raised:
        await getattr(client, method)("1.001193")
    message = str(raised.value)
    assert secret not in message and "0912345678" not in message
    assert message == f"GET /{method}s/…: reply is not a valid {method.capitalize()}"
    assert raised.value.__cause__ is None and raised.value.__suppress_context__
    assert len(requests) == 1
