"""The Zalo webhook signature (bot/channels/zalo_signature.py is standard-library only, so it is
imported here directly, outside Rasa's environment)."""

from __future__ import annotations

import hashlib
import hmac
import json

from bot.channels.zalo_signature import parse_header, timestamp_candidates, verify, zalo_signature

APP_ID = "2964373412345678901"
SECRET = "oa-secret-KEY-123"
TIMESTAMP = "1732329600123"
BODY = json.dumps({
    "app_id": APP_ID, "user_id_by_app": "552177279717587730", "event_name": "user_send_text",
    "timestamp": TIMESTAMP, "sender": {"id": "246845883529197922"}, "recipient": {"id": "388613280878808645"},
    "message": {"msg_id": "96d3cdf3af150460909", "text": "làm giấy khai sinh online thế nào"},
}, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def by_hand() -> str:
    # The documented formula, spelled out: SHA-256 over app_id + raw body + timestamp + OA secret key.
    h = hashlib.sha256()
    h.update(APP_ID.encode())
    h.update(BODY)
    h.update(TIMESTAMP.encode())
    h.update(SECRET.encode())
    return h.hexdigest()


def test_fixed_vector() -> None:
    # A literal vector as well, so a change of formula cannot go unnoticed by changing both sides.
    body = b'{"event_name":"user_send_text","timestamp":"1700000000000"}'
    assert zalo_signature("123", body, "1700000000000", "s3cret") == hashlib.sha256(
        b'123{"event_name":"user_send_text","timestamp":"1700000000000"}1700000000000s3cret').hexdigest()
    assert zalo_signature(APP_ID, BODY, TIMESTAMP, SECRET) == by_hand()
    assert len(by_hand()) == 64


def test_valid_header_forms() -> None:
    mac = by_hand()
    assert verify(f"mac={mac}", APP_ID, BODY, TIMESTAMP, SECRET)
    assert verify(f"MAC={mac.upper()}", APP_ID, BODY, TIMESTAMP, SECRET)
    assert verify(f"  mac= {mac} ", APP_ID, BODY, TIMESTAMP, SECRET)
    assert verify(mac, APP_ID, BODY, TIMESTAMP, SECRET)  # bare hex is tolerated


def test_missing_or_empty_signature() -> None:
    for header in (None, "", "mac=", "   "):
        assert not verify(header, APP_ID, BODY, TIMESTAMP, SECRET)
    assert parse_header(None) is None and parse_header("mac=") is None


def test_forged_signatures() -> None:
    mac = by_hand()
    assert not verify("mac=" + "0" * 64, APP_ID, BODY, TIMESTAMP, SECRET)
    assert not verify("mac=" + mac[:-1] + ("0" if mac[-1] != "0" else "1"), APP_ID, BODY, TIMESTAMP, SECRET)
    assert not verify("mac=" + mac[:32], APP_ID, BODY, TIMESTAMP, SECRET)  # truncated
    assert not verify("mac=ünïcode", APP_ID, BODY, TIMESTAMP, SECRET)
    # Signed with another secret, over another body, for another app, or another timestamp.
    assert not verify("mac=" + zalo_signature(APP_ID, BODY, TIMESTAMP, "other"), APP_ID, BODY, TIMESTAMP, SECRET)
    tampered = BODY.replace(b"khai sinh", "kết hôn".encode())
    assert not verify(f"mac={mac}", APP_ID, tampered, TIMESTAMP, SECRET)
    assert not verify(f"mac={mac}", "999", BODY, TIMESTAMP, SECRET)
    assert not verify(f"mac={mac}", APP_ID, BODY, "1732329600124", SECRET)
    # An HMAC of the body (what some integrations assume) is not Zalo's signature.
    assert not verify("mac=" + hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest(), APP_ID, BODY,
                      TIMESTAMP, SECRET)


def test_empty_secret_or_app_id_never_verifies() -> None:
    mac = zalo_signature(APP_ID, BODY, TIMESTAMP, "")
    assert not verify(f"mac={mac}", APP_ID, BODY, TIMESTAMP, "")
    assert not verify(f"mac={zalo_signature('', BODY, TIMESTAMP, SECRET)}", "", BODY, TIMESTAMP, SECRET)


def test_timestamp_candidates_header_then_body() -> None:
    assert timestamp_candidates(None, TIMESTAMP) == [TIMESTAMP]
    assert timestamp_candidates("1732329600999", TIMESTAMP) == ["1732329600999", TIMESTAMP]
    assert timestamp_candidates(TIMESTAMP, TIMESTAMP) == [TIMESTAMP]
    assert timestamp_candidates(None, 1732329600123) == ["1732329600123"]  # a number in the body
    assert timestamp_candidates("", None) == []
    assert timestamp_candidates(None, {"x": 1}) == []
    # Either candidate verifies; none of them without the secret.
    mac = by_hand()
    assert verify(f"mac={mac}", APP_ID, BODY, ["1732329600999", TIMESTAMP], SECRET)
    header_signed = zalo_signature(APP_ID, BODY, "1732329600999", SECRET)
    assert verify(f"mac={header_signed}", APP_ID, BODY, ["1732329600999", TIMESTAMP], SECRET)
    assert not verify(f"mac={mac}", APP_ID, BODY, [], SECRET)
