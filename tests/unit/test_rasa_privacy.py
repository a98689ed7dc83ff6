"""Personal data masked by bot/rasa_patches.py, checked on Rasa's own classes in the Rasa
environment (tests/rasa_side/check_privacy.py, run with .venv-rasa's Python)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.rasa_side import rasa_side_report

TOO_LONG_2000 = ("Tin nhắn quá dài (tối đa 2000 ký tự). Bạn vui lòng gửi câu hỏi ngắn gọn hơn, ví dụ: "
                 "tên thủ tục và điều bạn cần biết (hồ sơ, lệ phí, thời gian, nơi nộp).")


def report() -> dict[str, Any]:
    return rasa_side_report("check_privacy.py")


def test_apply_is_safe_before_a_model_and_twice() -> None:
    applied = report()["apply"]
    assert report()["early_apply"] is True
    assert applied["applied"] == [True, True]
    assert applied["unchanged_by_second_call"] is True
    assert applied["marked"] is True
    assert applied["access_filters"] == 1


def test_sql_tracker_store_rows_hold_only_masked_values() -> None:
    sql = report()["sql"]
    assert sql["rows"] == ["action", "user", "slot", "slot", "bot", "bot"]  # the second save added one event
    assert sql["leaks"] == []
    assert sql["user_text"] == "cccd 0792******34, sdt 0912****78, mail n*********@gmail.com"
    assert sql["bot_texts"] == ["Cán bộ sẽ gọi lại số 0912****78 hoặc email n*********@gmail.com.",
                                "Số của bạn: 0912****78"]
    assert sql["dossier_code_kept"] is True
    assert sql["retrieved_contact"] == "0912****78"


def test_the_running_turn_keeps_its_values() -> None:
    sql = report()["sql"]
    assert sql["running_turn_contact"] == "0912345678"
    assert sql["running_turn_text"] == "cccd 079203001234, sdt 0912 345 678, mail nguyenvana@gmail.com"
    assert report()["memory"] == {"leaks": [], "running_turn_contact": "0912345678"}


def test_redis_tracker_store_holds_only_masked_values() -> None:
    redis = report()["redis"]
    if "skipped" in redis:
        pytest.skip(redis["skipped"])
    assert redis == {"leaks": [], "events": 8, "running_turn_contact": "0912345678", "retrieved_contact": "0912****78"}


def test_a_message_is_masked_before_nlu_and_the_tracker() -> None:
    ordinary = report()["processor"]["ordinary"]
    masked = "tôi tên là N*** V*** A***, cccd 0792******34, sdt 0912****78"
    assert ordinary == {"nlu": masked, "tracker_text": masked, "stored_leaks": [], "name_left": False}


def test_the_consented_contact_reaches_the_form_but_not_the_store() -> None:
    contact = report()["processor"]["contact"]
    kept = "0912345678 hoặc nguyenvana@gmail.com, cccd 0792******34"
    assert contact == {"nlu": kept, "running_turn_text": kept, "stored_leaks": []}
    assert report()["processor"]["no_consent_nlu"] == "0912****78"


def test_a_long_message_gets_the_notice_and_nothing_is_stored() -> None:
    long = report()["processor"]["long"]
    assert long["answer"] == [{"recipient_id": "rest:long", "text": TOO_LONG_2000}]
    assert long["nlu_calls"] == 0
    assert long["stored"] == ""
    assert "rest:long" not in long["keys"]
    assert report()["processor"]["long_configured"].startswith("Tin nhắn quá dài (tối đa 50 ký tự).")


def test_empty_messages_do_not_crash() -> None:
    assert report()["processor"]["empty_ok"] is True


def test_log_lines_are_masked_and_tokens_dropped() -> None:
    logs = report()["logs"]
    assert logs["leaks"] == []
    assert logs["received"] and logs["structlog"] and logs["traceback"]
    assert logs["masked_phone"] and logs["masked_cccd"]
    assert logs["access"] == "GET /conversations/x/tracker?token=***&a=1 200"
    assert logs["bad_format_logged"] is True
