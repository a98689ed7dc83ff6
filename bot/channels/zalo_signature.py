"""Zalo OA webhook signature (standard library only; no Rasa import, so it is unit-tested directly).

Zalo sends ``X-ZEvent-Signature: mac=<hex>`` with every webhook POST, where::

    hex = SHA-256( app_id + raw_body + timestamp + oa_secret_key )

a plain hash of the concatenation (not an HMAC), hex-encoded.

ASSUMPTION [check] — this is what community SDKs and integrations do; we could not read it in
Zalo's own documentation, and they disagree on one point: which ``timestamp``. Most take the
``"timestamp"`` field of the JSON body (milliseconds, as the string Zalo sent); some take an
``X-ZEvent-Timestamp`` request header. The channel therefore tries the header value first when
one is present and then the body field (see ``timestamp_candidates``); either way the secret is
required, so accepting both does not weaken the check. ``app_id`` is the one from our
configuration, not the (attacker-controlled) body. Keep the formula in ``zalo_signature`` only:
if Zalo's real signatures turn out to differ, this is the one line to change (and the test
vector in tests/unit/test_zalo_signature.py with it).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Iterable, List, Optional

HEADER = "X-ZEvent-Signature"
TIMESTAMP_HEADER = "X-ZEvent-Timestamp"
_PREFIX = "mac="


def zalo_signature(app_id: str, raw_body: bytes, timestamp: str, oa_secret_key: str) -> str:
    """Hex SHA-256 of ``app_id + raw_body + timestamp + oa_secret_key`` (UTF-8, body as received)."""
    data = app_id.encode("utf-8") + raw_body + timestamp.encode("utf-8") + oa_secret_key.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def parse_header(header_value: Optional[str]) -> Optional[str]:
    """``"mac=<hex>"`` (or a bare ``<hex>``) → lower-case hex; None when missing or empty."""
    if not header_value:
        return None
    value = header_value.strip()
    if value[: len(_PREFIX)].lower() == _PREFIX:
        value = value[len(_PREFIX):].strip()
    return value.lower() or None


def verify(header_value: Optional[str], app_id: str, raw_body: bytes, timestamp: str | Iterable[str],
           oa_secret_key: str) -> bool:
    """True when the header carries the signature of this raw body for one of the timestamps.

    ``timestamp`` is a string, or several candidates (see the module docstring). Comparisons use
    ``hmac.compare_digest``; a missing header, an empty secret or app id never verifies.
    """
    supplied = parse_header(header_value)
    if supplied is None or not app_id or not oa_secret_key:
        return False
    candidates: List[str] = [timestamp] if isinstance(timestamp, str) else list(timestamp)
    ok = False
    for ts in candidates:
        if ts is None:
            continue
        expected = zalo_signature(app_id, raw_body, str(ts), oa_secret_key)
        # No early exit: the work done does not depend on which candidate matched.
        ok = hmac.compare_digest(supplied.encode("ascii", "replace"), expected.encode("ascii")) or ok
    return ok


def timestamp_candidates(header_timestamp: Optional[str], body_timestamp: object) -> List[str]:
    """The timestamps a signature may have been computed with: the header's, then the body's."""
    out: List[str] = []
    for ts in (header_timestamp, body_timestamp):
        if ts is None or isinstance(ts, (dict, list, bool)):
            continue
        text = str(ts).strip()
        if text and text not in out:
            out.append(text)
    return out
