"""Meta's webhook signature (standard library only: Rasa imports it, the tests import it directly).

Meta signs every webhook POST with ``X-Hub-Signature-256: sha256=<hex>``, the HMAC-SHA256 of
the raw request body keyed with the app secret. Rasa 3.6 only checks the older sha1
``X-Hub-Signature``; this is the check the Messenger channel uses instead.
"""

from __future__ import annotations

import hashlib
import hmac

PREFIX = "sha256="


def expected_signature(raw_body: bytes, app_secret: str) -> str:
    """The header value Meta would send for this body: ``sha256=<lowercase hex>``."""
    digest = hmac.new(app_secret.encode("utf-8"), raw_body, hashlib.sha256).hexdigest()
    return PREFIX + digest


def valid_signature(raw_body: bytes, header_256: str | None, app_secret: str) -> bool:
    """True only if ``header_256`` is ``sha256=<hex>`` of ``raw_body`` keyed with ``app_secret``.

    A missing or malformed header, a forged digest, or an empty app secret (nothing could be
    verified) all give False. The comparison is constant-time.
    """
    if not app_secret or not header_256 or raw_body is None:
        return False
    header = header_256.strip()
    if not header.isascii() or not header[: len(PREFIX)].lower() == PREFIX:
        return False
    given = header[len(PREFIX):].lower()
    if len(given) != 64:
        return False
    expected = expected_signature(raw_body, app_secret)[len(PREFIX):]
    return hmac.compare_digest(given.encode("ascii"), expected.encode("ascii"))
