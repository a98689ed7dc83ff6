"""The Rasa-side channels (REST, portal, Facebook, Zalo), checked in the Rasa environment by
tests/rasa_side/check_channels.py (run with .venv-rasa's Python, like test_rasa_side.py)."""

from __future__ import annotations

import json
from typing import Any

from tests.unit.rasa_side import rasa_side_report

JS = "javascript:alert(1)"


def report() -> dict[str, Any]:
    return rasa_side_report("check_channels.py")


# -- REST --------------------------------------------------------------------------------------


def test_rest_senders_are_prefixed_once_and_the_channel_cannot_be_spoofed() -> None:
    rest = report()["rest"]
    assert rest["ok"] == [200, [{"recipient_id": "rest:u1", "text": "đáp: xin chào"}]]
    assert rest["twice"] == [200, [{"recipient_id": "rest:u2", "text": "đáp: a"}]]
    assert rest["seen"] == [{"sender": "rest:u1", "channel": "rest", "text": "xin chào"},
                            {"sender": "rest:u2", "channel": "rest", "text": "a"}]
    assert rest["parse_default_sender"] == {"sender": "rest:default", "message": "a", "metadata": None}


def test_rest_fuzzed_bodies_get_400_not_500() -> None:
    rest = report()["rest"]
    assert rest["fuzz"] == [400] * 9
    assert rest["fuzz_body"] == {"error": "the body must be a JSON object"}


def test_rest_is_loopback_only_and_off_in_production() -> None:
    rest = report()["rest"]
    assert rest["production"] == [403, {"error": "the REST channel is disabled in production"}]
    assert rest["production_seen"] == 0
    assert rest["loopback"] == {"127.0.0.1": True, "127.8.9.10": True, "::1": True, "::ffff:127.0.0.1": True,
                                "10.0.0.5": False, "192.168.1.2": False, "::ffff:10.0.0.1": False, "": False,
                                "junk": False}
    assert rest["refusal_remote"] == "the REST channel only accepts requests from this machine"


# -- portal ------------------------------------------------------------------------------------


def test_portal_sessions_are_issued_by_the_server() -> None:
    portal = report()["portal"]
    assert portal["new"] == {"token_parts": 2, "sender": portal["new"]["sender"], "previous": None,
                             "sender_matches": True}
    assert portal["new"]["sender"].startswith("web:")
    assert portal["kept"] is True  # a token the server issued is kept (reload, reconnect)
    assert portal["replaced"] == [True] * 4  # forged, other secret, a bare sender id, garbage
    assert portal["dev_random_secret"] is True
    assert "PORTAL_SESSION_SECRET" in portal["production_without_secret"]


def test_portal_messages_only_from_a_confirmed_socket_into_its_own_conversation() -> None:
    portal = report()["portal"]
    assert portal["message_unconfirmed"] is None
    # sid-3 got a fresh session; the foreign session id it puts in its message is ignored.
    sender, text, metadata = portal["message_foreign_session_id"]
    assert sender != portal["new"]["sender"] and sender.startswith("web:") and text == "x"
    assert portal["message_bad"] == [None, None, None]
    assert portal["message_metadata"] == [portal["new"]["sender"], "x", {}]


def test_portal_origins_never_disable_the_check() -> None:
    portal = report()["portal"]
    assert portal["origins"] == ["http://localhost:8000", "http://127.0.0.1:8000"]
    assert portal["origins_empty"] is None  # engineio's same-origin default, not [] (= no check)


def test_portal_output_is_inert_markdown_with_safe_buttons_in_its_own_room() -> None:
    sent = report()["portal"]["sent"]
    assert all(m["room"] == "web:abc" for m in sent)
    first = sent[0]["data"]
    assert first["text"] == ("\\[x\\]\\(javascript&#58;alert\\(1\\)\\) &lt;img src=x onerror=alert\\(1\\)&gt;  \n"
                             "Xem https://dichvucong.gov.vn/tra-cuu")
    assert [q["title"] for q in first["quick_replies"]] == ["Lệ phí", "Nộp"]
    assert first["quick_replies"][1]["url"] == "https://dichvucong.gov.vn"
    assert sent[1]["data"] == {"text": "\\*hi\\*"}  # its "room" (another conversation) is ignored
    assert len(sent) == 2  # the custom payload left without buttons, the javascript: image, the data: attachment


# -- Facebook and Zalo -------------------------------------------------------------------------


def test_facebook_sends_only_to_fb_conversations_with_safe_links() -> None:
    sent = report()["platforms"]["facebook"]
    assert [m["to"] for m in sent] == ["123"]  # prefix stripped; zalo:, web:, bare and rest: refused
    buttons = sent[0]["message"]["attachment"]["payload"]["buttons"]
    assert buttons == [{"type": "postback", "title": "Lệ phí", "payload": "/ask_fee"},
                       {"type": "web_url", "url": "https://dichvucong.gov.vn", "title": "Nộp"}]
    assert JS not in json.dumps(sent)


def test_zalo_sends_only_to_zalo_conversations_with_safe_links() -> None:
    sent = report()["platforms"]["zalo"]
    assert [m["to"] for m in sent] == ["777"]
    assert [b["title"] for b in sent[0]["message"]["attachment"]["payload"]["buttons"]] == ["Lệ phí", "Nộp"]
    assert JS not in json.dumps(sent)


def test_replays_are_refused_by_age() -> None:
    age = report()["platforms"]["age"]
    assert age["facebook"] == [None, None, "older than the retry horizon", None, "dated in the future",
                               "no timestamp", "no timestamp", "no timestamp"]
    assert age["zalo"] == [None, "older than the retry horizon", None, "no timestamp", "no timestamp"]
    assert report()["platforms"]["horizons"] == {"facebook": 36 * 3600, "zalo": 24 * 3600}


def test_platform_senders_are_prefixed_and_redeliveries_survive_a_restart() -> None:
    dispatch = report()["dispatch"]
    assert dispatch["facebook_counts"] == [1, 0, 0, 0]  # fresh, old, redelivered, redelivered after a restart
    assert dispatch["zalo_outcomes"] == ["text → dialogue", "replay (older than the retry horizon, dropped)",
                                         "duplicate (dropped)", "duplicate (dropped)"]
    assert dispatch["received"] == [{"sender": "fb:555", "channel": "facebook", "text": "xin chào"},
                                    {"sender": "zalo:777", "channel": "zalo", "text": "xin chào"}]
    assert dispatch["seen_mode"] == "0o600"


def test_portal_socket_refuses_other_origins_and_sends_cors_headers_once() -> None:
    socket = report()["rest"]["socket"]
    assert socket["allowed"] == {"status": 200, "allow_origin": ["http://portal.example:8000"]}  # once, not twice
    assert socket["foreign"] == {"status": 400, "allow_origin": []}


def test_portal_socket_sessions_end_to_end() -> None:
    socket = report()["rest"]["socket"]
    first = socket["first"]
    random_part = first["token"].split(".")[0]
    assert first["turns"] == [{"sender": f"web:{random_part}", "channel": "socketio", "text": "xin chào"}]
    assert first["answers"] == [{"text": "đáp: xin chào"}]  # the answer reaches the socket's own room
    assert socket["kept"] is True  # reconnecting with the issued token: the same conversation
    # A forged token is replaced, and the victim's token put in the message is ignored.
    assert socket["forged"] == {"replaced": True, "sender_is_own": True}
    assert socket["unconfirmed_ignored"] is True
