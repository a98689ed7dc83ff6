"""bot/channels/sessions.py: portal session ids issued and signed by the server."""

from __future__ import annotations

import logging

import pytest

from bot.channels.sessions import SessionSigner, session_secret
from knowledge.environment import SettingError

SIGNER = SessionSigner(b"k" * 32)


def test_an_issued_token_verifies_and_names_a_web_sender() -> None:
    token = SIGNER.issue()
    random_part, signature = token.split(".")
    assert SIGNER.verify(token) == random_part
    assert SIGNER.sender(random_part) == "web:" + random_part
    assert len(random_part) == 24 and len(signature) == 43
    assert SIGNER.issue() != token


def test_tokens_the_server_did_not_issue_are_refused() -> None:
    token = SIGNER.issue()
    random_part, signature = token.split(".")
    other = SessionSigner(b"o" * 32).issue()
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    for candidate in (other, f"{random_part}.{flipped}", random_part, f"web:{random_part}", f"{token}.x",
                      "", None, 42, ["x"], "a" * 200, f"{random_part}x.{signature}", token.upper()):
        assert SIGNER.verify(candidate) is None, candidate


def test_the_secret_comes_from_the_environment() -> None:
    assert session_secret({"PORTAL_SESSION_SECRET": "s" * 40}) == b"s" * 40
    with pytest.raises(SettingError, match="PORTAL_SESSION_SECRET"):
        session_secret({"DVC_ENVIRONMENT": "production"})
    with pytest.raises(SettingError, match="PORTAL_SESSION_SECRET"):
        session_secret({"DVC_ENVIRONMENT": "production", "PORTAL_SESSION_SECRET": "short"})


def test_development_without_a_secret_gets_a_random_one_and_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.channels.sessions"):
        first, second = session_secret({}), session_secret({})
    assert len(first) == 32 and first != second
    assert "PORTAL_SESSION_SECRET is not set" in caplog.text
    # Tokens of one process do not verify in another one.
    assert SessionSigner(second).verify(SessionSigner(first).issue()) is None
