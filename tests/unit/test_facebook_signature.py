"""Meta's X-Hub-Signature-256 check (standard library only, so it is tested here directly)."""

from __future__ import annotations

import hashlib
import hmac
import json

from bot.channels.facebook_signature import valid_signature

SECRET = "9f86d081884c7d659a2feaa0c55ad015"
BODY = json.dumps({"object": "page", "entry": [{"id": "1", "time": 1732300000000, "messaging": [
    {"sender": {"id": "2"}, "recipient": {"id": "1"}, "timestamp": 1732300000000,
     "message": {"mid": "m_1", "text": "làm giấy khai sinh online thế nào"}}]}]},
    ensure_ascii=False).encode("utf-8")


def header(body: bytes = BODY, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def test_a_correct_signature_is_accepted() -> None:
    assert valid_signature(BODY, header(), SECRET)


def test_fixed_vector() -> None:
    # HMAC-SHA256(key="key", "The quick brown fox jumps over the lazy dog"), the well-known RFC-style vector.
    body = b"The quick brown fox jumps over the lazy dog"
    expected = "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
    assert header(body, "key") == "sha256=" + expected
    assert valid_signature(body, "sha256=" + expected, "key")
    assert valid_signature(body, "sha256=" + expected.upper(), "key")  # hex case does not matter


def test_forged_signatures_are_refused() -> None:
    assert not valid_signature(BODY, header(secret="another-secret"), SECRET)
    assert not valid_signature(BODY + b" ", header(), SECRET)  # body changed after signing
    assert not valid_signature(BODY.replace(b"khai sinh", b"ket hon"), header(), SECRET)
    assert not valid_signature(BODY, "sha256=" + "0" * 64, SECRET)
    assert not valid_signature(BODY, header()[:-2], SECRET)  # truncated digest
    sha1 = "sha1=" + hmac.new(SECRET.encode(), BODY, hashlib.sha1).hexdigest()
    assert not valid_signature(BODY, sha1, SECRET)  # the old header's scheme is not accepted here
    assert not valid_signature(BODY, header().removeprefix("sha256="), SECRET)  # no "sha256=" prefix
    assert not valid_signature(BODY, "sha256=" + "é" * 64, SECRET)  # non-ASCII never raises


def test_missing_signature_or_secret_is_refused() -> None:
    assert not valid_signature(BODY, None, SECRET)
    assert not valid_signature(BODY, "", SECRET)
    assert not valid_signature(BODY, "sha256=", SECRET)
    # With no app secret configured nothing can be verified, not even a body "signed" with "".
    assert not valid_signature(BODY, header(secret=""), "")
