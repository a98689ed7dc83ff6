"""The Rasa-side code (tokenizer, portal channel) checked in the Rasa environment."""

from __future__ import annotations

from typing import Any

from tests.unit.rasa_side import rasa_side_report


def report() -> dict[str, Any]:
    return rasa_side_report("check_components.py")


def test_tokens_are_folded_and_point_into_the_original_text() -> None:
    toks = report()["accented"]
    assert [t["text"] for t in toks] == ["lam", "lai", "can", "cuoc", "cong", "dan", "o", "dau"]
    assert [t["span"] for t in toks] == ["Làm", "lại", "C", "C", "C", "D", "ở", "đâu"]


def test_nfd_and_old_tone_placement_tokenise_like_nfc() -> None:
    assert [t["text"] for t in report()["nfd"]] == ["hoa", "khoe", "khong"]


def test_dossier_codes_stay_one_token() -> None:
    assert report()["code"][-1]["span"] == "G22.99.01-251120-0001"


def test_emoji_only_message_still_has_a_token() -> None:
    assert len(report()["emoji_only"]) == 1


def test_portal_renders_link_buttons_as_links_and_keeps_line_breaks() -> None:
    assert report()["quick_reply_url"]["type"] == "web_url"
    sent = report()["portal"]
    assert [m["data"]["text"] for m in sent] == ["Dòng một  \nDòng hai", "Đoạn hai"]
    replies = sent[-1]["data"]["quick_replies"]
    assert replies[0] == {"content_type": "text", "title": "Lệ phí", "payload": "/ask_fee"}
    assert replies[1]["type"] == "web_url" and replies[1]["url"] == "https://dichvucong.gov.vn"
    assert all(m["room"] == "room-1" for m in sent)


def test_action_responses_are_validated_like_rasa_does_but_with_a_cached_validator() -> None:
    patch = report()["validation_patch"]
    assert patch["marked"] is True
    good, *bad = patch["cases"]
    assert good == {"reference": "ok", "patched": "ok"}
    for case in bad:
        assert case["reference"] != "ok"
        assert case["patched"].startswith(case["reference"])  # same error, Rasa's hint appended
        assert "Failed to validate Action server response" in case["patched"]
    assert patch["validate_calls"] == 0  # jsonschema.validate re-checks the whole schema: 20 ms a call
