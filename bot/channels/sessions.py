"""Portal session ids issued and signed by the server (standard library only: Rasa imports it).

A session token is ``<random>.<signature>``: 18 random bytes (base64url) and
HMAC-SHA256(``PORTAL_SESSION_SECRET``, "dvc-portal-session:" + random), base64url. The
conversation's sender id is ``web:<random>``. A client can keep its token (the widget
stores it per tab) but cannot make one up: a token the server did not issue is replaced
by a new one, so nobody can write into or read another conversation by guessing or copying
a sender id seen elsewhere (e.g. in a desk hand-over).

``PORTAL_SESSION_SECRET`` missing: development → a random secret for this process (tokens
then last until Rasa restarts) and a warning; production → ``SettingError`` naming it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import re
import secrets
from typing import Mapping, Optional

from knowledge.environment import SettingError, check_secret, environment

logger = logging.getLogger(__name__)

SECRET_VAR = "PORTAL_SESSION_SECRET"
SENDER_PREFIX = "web:"
_CONTEXT = b"dvc-portal-session:"
_RANDOM = re.compile(r"^[A-Za-z0-9_-]{24}$")
_SIGNATURE = re.compile(r"^[A-Za-z0-9_-]{43}$")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def session_secret(env: Mapping[str, str] = os.environ) -> bytes:
    """The HMAC key; raises SettingError in production when it is missing or short."""
    posture = environment(env)
    value = env.get(SECRET_VAR, "")
    if not value:
        if posture == "production":
            raise SettingError(f"{SECRET_VAR} must be set in production: it signs the portal's session ids "
                               "(a random secret of at least 32 characters)")
        logger.warning("%s is not set: using a random secret for this process (development only); portal "
                       "sessions will not survive a restart", SECRET_VAR)
        return secrets.token_bytes(32)
    check_secret(SECRET_VAR, value, posture)
    return value.encode("utf-8")


class SessionSigner:
    def __init__(self, secret: bytes) -> None:
        if not secret:
            raise ValueError("empty session secret")
        self._secret = secret

    def _signature(self, random_part: str) -> str:
        return _b64(hmac.new(self._secret, _CONTEXT + random_part.encode("ascii"), hashlib.sha256).digest())

    def issue(self) -> str:
        random_part = _b64(secrets.token_bytes(18))
        return f"{random_part}.{self._signature(random_part)}"

    def verify(self, token: object) -> Optional[str]:
        """The random part of a token this server issued, else None (constant-time comparison)."""
        if not isinstance(token, str) or len(token) > 100 or token.count(".") != 1:
            return None
        random_part, signature = token.split(".")
        if not _RANDOM.match(random_part) or not _SIGNATURE.match(signature):
            return None
        if not hmac.compare_digest(signature.encode("ascii"), self._signature(random_part).encode("ascii")):
            return None
        return random_part

    @staticmethod
    def sender(random_part: str) -> str:
        return SENDER_PREFIX + random_part
