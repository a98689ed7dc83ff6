"""Answers built from a record read as well for an imported record as for a curated one (issue 9, item 7):
short first message, online claims no larger than the record, offline procedures done in person,
fees as they hold today."""

from __future__ import annotations

import datetime as dt
from typing import Any

from actions.messages import fee_text, procedure_overview, steps_text, time_text
from knowledge.catalogue.importers.common import ONLINE_LEVEL_UNKNOWN
from knowledge.catalogue.models import Procedure

CAN_CUOC_FEE = ("70,000 Việt Nam Đồng (- Cấp lại thẻ căn cước: 70.000 đồng/thẻ căn cước. Kể từ ngày 01/01/2025 "
                "đến hết ngày 31/12/2025, mức thu lệ phí khi nộp trực tuyến bằng 50% mức thu lệ phí quy định.)")


def record(**changes: Any) -> Procedure:
    base: dict[str, Any] = {
        "id": "1.000001", "code": "1.000001", "name": "Cấp lại thẻ căn cước", "field": "Căn cước",
        "level": ["cấp tỉnh"], "agency": "Công an tỉnh", "summary": "Cấp lại thẻ căn cước. Lĩnh vực: Căn cước.",
        "result": "Thẻ căn cước",
        "online": {"type": "mot_phan", "url": "https://dichvucong.gov.vn/p/1",
                   "note": ONLINE_LEVEL_UNKNOWN},
        "channels": [{"kind": "truc_tuyen", "time_limit": "7 Ngày làm việc", "fee": CAN_CUOC_FEE},
                     {"kind": "truc_tiep", "time_limit": "7 Ngày làm việc", "fee": CAN_CUOC_FEE}],
        "source": "Cổng Dịch vụ công quốc gia, thủ tục 1.000001", "checked_on": "2026-12-01",
    }
    return Procedure.model_validate({**base, **changes})


def test_an_imported_record_gets_a_short_first_answer_without_repeating_its_name() -> None:
    [message] = procedure_overview(record())
    lines = message.text.splitlines()
    assert len(lines) <= 8
    assert lines[0] == "📄 Cấp lại thẻ căn cước" and lines[1] == "Kết quả: Thẻ căn cước."
    # the portal only says there is an online channel: no claim about steps in person either way
    assert lines[2].startswith("🟡 Nộp hồ sơ trực tuyến được; trang thủ tục chưa ghi rõ")
    assert ONLINE_LEVEL_UNKNOWN not in message.text and "Lưu ý" not in message.text
    assert "Nộp trực tuyến tại: https://dichvucong.gov.vn/p/1" in message.text
    assert [b.title for b in message.buttons][:4] == ["Cách làm trực tuyến", "Giấy tờ cần chuẩn bị", "Lệ phí",
                                                      "Thời gian giải quyết"]


def test_a_fully_online_pitch_shows_the_records_own_limit() -> None:
    p = record(online={"type": "toan_trinh", "url": "https://dichvucong.gov.vn/p/1",
                       "note": "Khi nhận kết quả phải xuất trình bản chính giấy tờ."})
    text = procedure_overview(p)[0].text
    assert "✅ Làm được hoàn toàn trực tuyến" in text and "nhận kết quả tại nhà" not in text
    assert "Lưu ý: Khi nhận kết quả phải xuất trình bản chính giấy tờ." in text


def test_an_offline_procedure_is_done_in_person_and_never_gets_online_steps() -> None:
    p = record(online={"type": "khong"}, receiving_agency="Bộ phận một cửa Công an tỉnh",
               channels=[{"kind": "truc_tiep", "fee": "Miễn phí"}, {"kind": "buu_chinh", "fee": "Miễn phí"}],
               online_steps=[])
    overview = procedure_overview(p)[0]
    assert ("⛔ Thủ tục này chưa nộp trực tuyến được: bạn nộp trực tiếp tại Bộ phận một cửa Công an tỉnh "
            "hoặc gửi qua bưu chính.") in overview.text
    assert "Nộp trực tuyến" not in [b.title for b in overview.buttons]
    steps = steps_text(p).text
    assert "Cách làm trực tiếp:" in steps and "trực tuyến:" not in steps
    assert "2. Nộp tại Bộ phận một cửa Công an tỉnh hoặc gửi qua bưu chính." in steps


def test_fees_as_they_hold_today_and_no_payment_sentence_when_free() -> None:
    fee = fee_text(record(), on=dt.date(2026, 12, 2)).text
    assert "• Trực tuyến: 70.000 đồng (Cấp lại thẻ căn cước: 70.000 đồng/thẻ căn cước.)" in fee
    assert "31/12/2025" not in fee and "Việt Nam Đồng" not in fee
    assert "thanh toán lệ phí ngay trên Cổng" in fee
    free = fee_text(record(channels=[{"kind": "truc_tuyen", "fee": "Miễn phí"}])).text
    assert "• Trực tuyến: Miễn phí" in free and "thanh toán" not in free


def test_time_limits_in_plain_words() -> None:
    text = time_text(record()).text
    assert "• Trực tuyến: 7 ngày làm việc" in text and "Ngày làm việc" not in text


def test_how_to_do_it_online_is_recognised_in_any_spelling() -> None:
    from actions.resolver import asks_how_online

    for text in ("lam giay khai sinh online the nao", "Làm giấy khai sinh online thế nào?",
                 "cách làm hộ chiếu trực tuyến", "đổi bằng lái xe online ntn"):
        assert asks_how_online(text), text
    for text in ("đăng ký khai sinh", "lệ phí bao nhiêu", "gplx hết hạn đổi ở đâu"):
        assert not asks_how_online(text), text
