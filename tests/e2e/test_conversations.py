"""Multi-turn conversations through the real stack, for the traps citizens fell into (issue 11):
an ID number in a question, leaving each form mid-way, stop words, re-asking at most twice, consent
declined then a new question, questions that assume the old rules (district level, licences at the
transport department, "căn cước công dân"), scams, another language, corrections, NFD text.
Each turn asserts the words the citizen reads."""

from __future__ import annotations

import unicodedata
import uuid

import pytest

from bot.texts import (
    CONTACT_DECLINED,
    DOSSIER_GAVE_UP,
    DOSSIER_NOT_PERSONAL,
    FORM_STOPPED,
    OTHER_LANGUAGE,
    SCAM_WARNING,
)
from scripts.stack import Stack
from tests.e2e.test_stack import say

pytestmark = pytest.mark.e2e
ASK_CODE = "Bạn cho tôi mã hồ sơ nhé"
BAD_CODE_START = "Mã hồ sơ chưa đúng định dạng"
CONSENT = "Bạn có đồng ý để lại số điện thoại hoặc email"
TWO_TIER = "ℹ️ Quy định hiện hành: Từ 01/7/2025 chính quyền địa phương chỉ còn hai cấp"
POLICE = "ℹ️ Quy định hiện hành: Từ 01/3/2025 việc cấp, đổi, cấp lại giấy phép lái xe do cơ quan Công an"
ID_CARD = "ℹ️ Quy định hiện hành: Từ 01/7/2024 thẻ được cấp mới, cấp đổi, cấp lại là thẻ căn cước"


class Citizen:
    """One conversation: each call sends a message and returns what the citizen reads."""

    def __init__(self, stack: Stack) -> None:
        self.stack, self.sender = stack, f"conv-{uuid.uuid4().hex[:12]}"

    def __call__(self, text: str) -> str:
        return say(self.stack, text, self.sender)


def test_an_id_number_in_a_question_is_not_a_dossier_code(stack: Stack) -> None:
    c = Citizen(stack)
    first = c("tôi muốn đăng ký thường trú cho con, cccd của tôi là 079203001234")
    assert first.startswith("📄 ") and "thường trú" in first.splitlines()[0].lower()
    assert ASK_CODE not in first and BAD_CODE_START not in first and "079203001234" not in first
    fee = c("lệ phí bao nhiêu")
    assert fee.startswith("Lệ phí «") and BAD_CODE_START not in fee


def test_another_question_leaves_the_dossier_form_and_is_answered(stack: Stack) -> None:
    c = Citizen(stack)
    assert c("tra cứu hồ sơ").startswith(ASK_CODE)
    answer = c("làm giấy khai sinh online thế nào")
    assert answer.startswith("📄 Thủ tục đăng ký khai sinh") and "Các bước làm trực tuyến:" in answer
    assert ASK_CODE not in answer and BAD_CODE_START not in answer
    assert c("lệ phí bao nhiêu").startswith("Lệ phí «Thủ tục đăng ký khai sinh»")


def test_an_id_number_given_as_a_code_is_refused_then_thoi_stops(stack: Stack) -> None:
    c = Citizen(stack)
    c("tra cứu tình trạng hồ sơ")
    assert c("079203001234").startswith(DOSSIER_NOT_PERSONAL)
    assert c("thôi") == FORM_STOPPED


@pytest.mark.parametrize("stop", ["hủy", "quay lại", "thoi khong can nua", "không tra nữa"])
def test_stop_words_always_stop_the_dossier_form(stack: Stack, stop: str) -> None:
    c = Citizen(stack)
    c("hs cua minh den dau roi")
    assert c(stop) == FORM_STOPPED
    assert c("xin chào").startswith("Xin chào!")


def test_the_dossier_form_asks_again_at_most_twice(stack: Stack) -> None:
    c = Citizen(stack)
    c("tra cứu hồ sơ")
    assert c("123").startswith(BAD_CODE_START)
    assert c("456").startswith(BAD_CODE_START)
    assert c("789") == DOSSIER_GAVE_UP
    assert c("cảm ơn").startswith("Rất vui được giúp bạn")


def test_a_scam_question_inside_a_form_gets_the_warning(stack: Stack) -> None:
    c = Citizen(stack)
    c("tra cứu hồ sơ")
    answer = c("có người gọi xưng công an bảo tôi chuyển tiền để làm lại căn cước")
    assert answer.startswith(SCAM_WARNING) and ASK_CODE not in answer


def test_a_look_alike_address_is_called_out(stack: Stack) -> None:
    answer = Citizen(stack)("link dichvucong-gov.com.vn có phải trang thật không")
    assert answer.startswith("🔴 Địa chỉ dichvucong-gov.com.vn KHÔNG phải trang chính thức")
    assert SCAM_WARNING in answer


def test_consent_declined_is_never_asked_again(stack: Stack) -> None:
    c = Citizen(stack)
    first = c("tôi muốn gặp cán bộ")
    if CONSENT in first:  # outside office hours (the stack runs on the real clock)
        assert c("không") == CONTACT_DECLINED
    else:
        assert "Tôi đã chuyển cuộc trò chuyện tới cán bộ hỗ trợ (mã yêu cầu HT-" in first
    later = [c("làm hộ chiếu thế nào"), c("lệ phí bao nhiêu"), c("trả lời chán quá")]
    assert later[0].startswith("📄 Cấp hộ chiếu phổ thông") and later[1].startswith("Lệ phí «Cấp hộ chiếu")
    assert all(CONSENT not in text for text in later)


def test_another_question_instead_of_consent_is_answered(stack: Stack) -> None:
    c = Citizen(stack)
    first = c("cho mình nói chuyện với người thật")
    answer = c("cap lai the can cuoc het bao nhieu tien")
    assert answer.startswith("Lệ phí «") and "căn cước" in answer.splitlines()[0]
    assert CONSENT not in answer and (CONSENT in first or "cán bộ hỗ trợ" in first)


def test_the_district_level_gets_the_current_rule_then_the_agency(stack: Stack) -> None:
    c = Citizen(stack)
    assert c("dang ky khai tu").startswith("📄 ")
    answer = c("nộp ở ủy ban huyện được không")
    assert answer.startswith(TWO_TIER)
    assert "Căn cứ: Luật Tổ chức chính quyền địa phương số 72/2025/QH15" in answer
    assert "\nNơi nộp «Thủ tục đăng ký khai tử»:\nCơ quan giải quyết: " in answer
    again = c("vậy ở huyện thì mất bao lâu")
    assert TWO_TIER not in again and again.startswith("Thời gian giải quyết «")


def test_a_licence_at_the_transport_department_gets_the_police_rule(stack: Stack) -> None:
    answer = Citizen(stack)("đổi bằng lái xe ở sở giao thông vận tải được không")
    assert answer.startswith(POLICE) and "giấy phép lái xe" in answer.split("\n", 2)[2].lower()


def test_a_new_citizen_id_card_is_a_the_can_cuoc(stack: Stack) -> None:
    c = Citizen(stack)
    answer = c("làm căn cước công dân cho con 14 tuổi thế nào")
    assert answer.startswith(ID_CARD) and "Căn cứ: Luật Căn cước số 26/2023/QH15" in answer
    assert ID_CARD not in c("cccd het han thi lam lai o dau")  # said once in a conversation


def test_english_gets_the_bilingual_reply_then_vietnamese_is_answered(stack: Stack) -> None:
    c = Citizen(stack)
    english = c("what documents do I need for a passport")
    assert english.startswith(OTHER_LANGUAGE)
    assert english.endswith("\nCó thể bạn muốn hỏi / You may be asking about: «Cấp hộ chiếu phổ thông ở trong nước "
                            "(thực hiện tại cấp tỉnh)»")
    assert c("lam giay khai sinh online the nao").startswith("📄 Thủ tục đăng ký khai sinh")


def test_a_correction_names_the_procedure_meant(stack: Stack) -> None:
    c = Citizen(stack)
    assert c("làm giấy khai sinh").startswith("📄 Thủ tục đăng ký khai sinh")
    corrected = c("không phải, ý tôi là kết hôn")
    assert corrected.startswith("📄 ") and "kết hôn" in corrected.splitlines()[0].lower()


def test_nfd_text_gets_the_same_answer_as_nfc(stack: Stack) -> None:
    question = "làm giấy khai sinh online thế nào"
    nfd = unicodedata.normalize("NFD", question)
    assert nfd != question
    assert Citizen(stack)(nfd) == Citizen(stack)(question)


def test_an_empty_message_gets_a_question_back(stack: Stack) -> None:
    assert Citizen(stack)("   ") == "Bạn cần hỏi thêm về thủ tục nào? Bạn có thể gõ tên thủ tục, ví dụ: đăng ký " \
                                     "tạm trú, cấp đổi giấy phép lái xe."
