"""Scam warnings and other languages (actions/safety.py): the address check, the English detector and
the exact words a citizen reads."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import messages as m
from actions.knowledge_client import KnowledgeClient
from actions.safety import (
    ActionOtherLanguage,
    ActionScamWarning,
    english_query,
    hosts_in,
    looks_english,
    official_host,
)
from actions.settings import ActionSettings
from knowledge.api.app import create_app
from knowledge.api.deps import IndexHolder
from knowledge.service import LoadedIndex
from knowledge.settings import Settings
from tests.unit.test_actions import down_client
from tests.unit.test_forms import LEFT_DOSSIER, run_dossier
from tests.unit.test_forms import said as form_said


@pytest.mark.parametrize("url", [
    "dichvucong.gov.vn",
    "https://dichvucong.gov.vn",
    "https://dichvucong.gov.vn/p/home/dvc-tthc-thu-tuc-hanh-chinh.html?id=1",
    "HTTPS://DichVuCong.Gov.Vn:443/x",
    "https://csdl.dichvucong.gov.vn/",
    "vneid.gov.vn",
    "https://dichvucong.gov.vn./",
    "gov.vn",
])
def test_official_hosts(url: str) -> None:
    assert official_host(url) is True


@pytest.mark.parametrize("url", [
    "dichvucong.gov.vn.evil.com",
    "https://dichvucong.gov.vn.example.com/login",
    "gov.vn.com",
    "dichvucong-gov.com",
    "https://dichvucong-gov.vn",          # a .vn name, not .gov.vn
    "https://dichvucong.govvn.com",
    "https://fakegov.vn",                  # ends with "gov.vn" but not ".gov.vn"
    "https://dichvucong.gov.vn@evil.com/", # the host is evil.com
    "https://xn--dchvcng-gov-vn.com",
    "https://xn--dichvucng-9db.gov.vn",    # punycode label: a lookalike, never official
    "https://dichvucông.gov.vn",           # lookalike letter
    "https://dichvuc\u043eng.gov.vn",      # Cyrillic "о"
    "https://dichvucong\uff0egov\uff0evn", # full-width dots
    "https://dichvucong..gov.vn",
    "https://-dichvucong.gov.vn",
    "",
    "https://",
    "https://[::1",
])
def test_lookalike_and_foreign_hosts_are_not_official(url: str) -> None:
    assert official_host(url) is False


def test_addresses_are_found_in_a_message_and_only_there() -> None:
    assert hosts_in("link dichvucong-gov.com có phải trang thật không") == [("dichvucong-gov.com", False)]
    assert hosts_in("trang dichvucong.gov.vn.") == [("dichvucong.gov.vn", True)]
    assert hosts_in("https://dichvucong.gov.vn@evil.com/x và www.vneid-gov.vn.app/tai, vneid.gov.vn") == [
        ("evil.com", False), ("www.vneid-gov.vn.app", False), ("vneid.gov.vn", True)]
    # a dossier code, an abbreviation, an e-mail address: no address to check
    assert hosts_in("mã G22.99.01-251120-0001 ở TP.HCM, v.v. email ten@gmail.com") == []
    assert hosts_in("a.com b.com c.com d.com") == [("a.com", False), ("b.com", False), ("c.com", False)]


async def said(action: Any, text: str, intent: str) -> tuple[list[str], list[list[str]]]:
    dispatcher = CollectingDispatcher()
    tracker = Tracker("citizen-s", {}, {"text": text, "intent": {"name": intent}}, [], False, None, {}, "action_listen")
    assert await action.run(dispatcher, tracker, {}) == []
    return ([msg.get("text") or "" for msg in dispatcher.messages],
            [[b["title"] for b in msg.get("buttons") or []] for msg in dispatcher.messages])


WARNING = (
    "⚠️ Cảnh báo: đây rất có thể là lừa đảo mạo danh cơ quan nhà nước.\n"
    "• Công an, cán bộ xã hay Cổng Dịch vụ công không bao giờ yêu cầu chuyển tiền, đọc mã OTP hay mật khẩu qua "
    "điện thoại hoặc tin nhắn.\n"
    "• Trang web chính thức có địa chỉ kết thúc bằng .gov.vn (Cổng Dịch vụ công quốc gia: dichvucong.gov.vn).\n"
    "• Ứng dụng VNeID chỉ cài từ kho ứng dụng chính thức (App Store, Google Play), không cài từ đường link trong "
    "tin nhắn.\n"
    "Bạn nên: cúp máy, không bấm vào đường link, không cung cấp mã OTP hay mật khẩu. Nếu đã chuyển tiền, gọi ngay "
    "cho ngân hàng của bạn.\n"
    "Để trình báo: báo ngay cho cơ quan công an nơi gần nhất."
)


@pytest.mark.parametrize("text", ["có người gọi xưng công an bảo chuyển tiền",
                                  "can bo xa goi xin ma otp de cap nhat vneid",
                                  "tin nhắn yêu cầu cài app dịch vụ công"])
async def test_a_scam_call_or_message_gets_the_warning(text: str) -> None:
    texts, buttons = await said(ActionScamWarning(), text, "report_scam")
    assert texts == [WARNING]
    assert buttons == [["Hỏi thủ tục khác", "Gặp cán bộ hỗ trợ"]]
    assert len(WARNING.splitlines()) <= m.OVERVIEW_LINES


async def test_a_fake_link_is_named_not_official_as_plain_text() -> None:
    texts, _ = await said(ActionScamWarning(), "link https://dichvucong-gov.com/dang-nhap có phải trang thật không",
                          "report_scam")
    assert texts == [
        "🔴 Địa chỉ dichvucong-gov.com KHÔNG phải trang chính thức của cơ quan nhà nước (trang chính thức kết thúc "
        "bằng .gov.vn). Bạn đừng bấm vào và đừng nhập thông tin. Tôi chỉ kiểm tra được địa chỉ.",
        WARNING]
    assert not any("https://dichvucong-gov" in t or "dang-nhap" in t for t in texts)


async def test_a_lookalike_of_the_portal_is_not_official() -> None:
    texts, _ = await said(ActionScamWarning(), "dichvucong.gov.vn.example.com co phai trang that khong", "report_scam")
    assert texts[0].startswith("🔴 Địa chỉ dichvucong.gov.vn.example.com KHÔNG phải trang chính thức")
    assert texts[1] == WARNING


async def test_the_official_portal_is_said_official_for_the_address_only() -> None:
    texts, buttons = await said(ActionScamWarning(), "trang https://dichvucong.gov.vn có phải trang thật không",
                                "report_scam")
    assert texts == [
        "🟢 Địa chỉ dichvucong.gov.vn có đuôi .gov.vn, là tên miền của cơ quan nhà nước. Tôi chỉ kiểm tra được "
        "địa chỉ: bạn nên tự gõ địa chỉ này vào trình duyệt thay vì bấm link được gửi tới.",
        "Dù vậy, cán bộ không bao giờ xin mã OTP, mật khẩu hay yêu cầu chuyển tiền qua điện thoại, tin nhắn. "
        "Nếu nghi ngờ bị lừa đảo, báo ngay cho cơ quan công an nơi gần nhất."]
    assert buttons[1] == ["Hỏi thủ tục khác", "Gặp cán bộ hỗ trợ"]
    assert not any("https://" in t for t in texts)


async def test_one_fake_address_among_official_ones_gets_the_full_warning() -> None:
    texts, _ = await said(ActionScamWarning(), "dichvucong.gov.vn hay dichvucong.gov.vn.evil.com", "report_scam")
    assert texts[0].splitlines()[0].startswith("🟢 Địa chỉ dichvucong.gov.vn có đuôi")
    assert texts[0].splitlines()[1].startswith("🔴 Địa chỉ dichvucong.gov.vn.evil.com KHÔNG")
    assert texts[1] == WARNING


@pytest.mark.parametrize("text", ["how do I register a birth", "hello, can you help me",
                                  "what documents do I need for a passport", "How do I register a birth online?",
                                  "I don’t understand Vietnamese", "where can I renew my ID card"])
def test_english_is_recognised(text: str) -> None:
    assert looks_english(text) is True


@pytest.mark.parametrize("text", ["lam giay khai sinh online the nao", "làm giấy khai sinh online thế nào",
                                  "the can cuoc", "toi can help", "trang do co that khong", "hello ad",
                                  "do it so on", "thank you", "ok", "", "lam the can cuoc o dau a",
                                  "how do I register a café"])
def test_unaccented_vietnamese_and_short_messages_are_not_english(text: str) -> None:
    assert looks_english(text) is False


BILINGUAL = (
    "Xin lỗi, tôi chỉ trả lời bằng tiếng Việt. Tôi hỗ trợ thủ tục hành chính và dịch vụ công trực tuyến: giấy tờ "
    "cần chuẩn bị, lệ phí, nơi nộp, cách nộp online, tra cứu hồ sơ.\n"
    "Sorry, I can only answer in Vietnamese. I help with administrative procedures and online public services in "
    "Vietnam: required documents, fees, where and how to apply online, and application status. Please ask in "
    "Vietnamese (for example \"đăng ký khai sinh\" for a birth registration) or ask for an officer."
)


@pytest.fixture(scope="module")
def knowledge(settings: Settings, loaded: LoadedIndex) -> KnowledgeClient:
    app = create_app(settings, holder=IndexHolder.serving(settings, loaded))
    return KnowledgeClient(ActionSettings(knowledge_url="http://knowledge"), transport=httpx.ASGITransport(app=app))


async def test_an_english_question_gets_the_bilingual_reply() -> None:
    texts, buttons = await said(ActionOtherLanguage(down_client()), "hello, can you help me please", "non_vietnamese")
    assert texts == [BILINGUAL]
    assert buttons == [["Gặp cán bộ / Officer", "Menu"]]


@pytest.mark.parametrize(("text", "title"), [
    ("how do I get a passport", "Cấp hộ chiếu phổ thông ở trong nước (thực hiện tại cấp tỉnh)"),
    ("how do I register a birth online", "Thủ tục đăng ký khai sinh"),
])
async def test_an_english_question_naming_a_procedure_gets_it_offered(knowledge: KnowledgeClient, text: str,
                                                                     title: str) -> None:
    texts, buttons = await said(ActionOtherLanguage(knowledge), text, "non_vietnamese")
    assert texts == [BILINGUAL, f"Có thể bạn muốn hỏi / You may be asking about: «{title}»"]
    assert buttons == [["Gặp cán bộ / Officer", "Menu"], [title]]


async def test_the_bilingual_reply_does_not_wait_for_a_knowledge_service_that_is_down() -> None:
    texts, _ = await said(ActionOtherLanguage(down_client()), "how do I get a passport", "non_vietnamese")
    assert texts == [BILINGUAL]


def test_english_words_become_the_knowledge_base_s_terms() -> None:
    assert english_query("How do I renew my driver's license and my ID card?") == "giấy phép lái xe thẻ căn cước"
    assert english_query("Passport, PASSPORT") == "hộ chiếu"
    assert english_query("hello there") == ""


async def test_vietnamese_taken_for_another_language_is_asked_again_in_vietnamese() -> None:
    texts, buttons = await said(ActionOtherLanguage(down_client()), "lam giay khai sinh online the nao",
                                "non_vietnamese")
    assert texts == ["Xin lỗi, tôi chưa hiểu câu hỏi. Bạn gõ tên thủ tục cần làm, ví dụ \"làm giấy khai sinh "
                     "online\", \"cấp lại thẻ căn cước\", hoặc gặp cán bộ hỗ trợ."]
    assert buttons == [["Hỏi thủ tục khác", "Gặp cán bộ hỗ trợ"]]


def test_the_forms_let_scam_and_other_language_messages_go() -> None:
    assert {"report_scam", "non_vietnamese"} <= m.FORM_LEAVE_INTENTS


@pytest.mark.parametrize(("text", "intent"), [("có người gọi xưng công an bảo chuyển tiền", "report_scam"),
                                              ("how do I register a birth", "non_vietnamese")])
async def test_the_dossier_form_is_left_for_a_scam_or_english_message(text: str, intent: str) -> None:
    events, dispatcher = await run_dossier(text, intent)
    assert events == LEFT_DOSSIER
    assert form_said(dispatcher) == []
