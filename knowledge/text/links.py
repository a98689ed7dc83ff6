"""Which links may leave the bot (standard library only: the Rasa channels use it too).

Only ``https:`` URLs with a host, and ``tel:`` numbers, are links; anything else
(``javascript:``, ``data:``, ``http:``, relative or malformed) is not. Records are checked
when they are loaded (knowledge/catalogue/models.py) and every channel checks again
before it sends (bot/channels), so a link injected anywhere in between is dropped too.
"""

from __future__ import annotations

import re
from typing import Optional
from urllib.parse import urlsplit

__all__ = ["safe_link", "is_safe_link"]

TEL = re.compile(r"^tel:\+?[0-9][0-9 .\-]{2,19}$")
# Characters that have no business in a URL a citizen is sent (control, space, quotes, angle brackets).
UNSAFE_CHARS = re.compile(r"[\x00-\x20\x7f<>\"'`\\]")


def safe_link(url: object) -> Optional[str]:
    """``url`` stripped, if it is an https: link with a host or a tel: number; else None."""
    if not isinstance(url, str):
        return None
    url = url.strip()
    if not url or len(url) > 2000:
        return None
    if url.lower().startswith("tel:"):
        return url if TEL.match(url) else None
    if UNSAFE_CHARS.search(url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme != "https" or not parts.hostname or parts.username or parts.password:
        return None
    return url


def is_safe_link(url: object) -> bool:
    return safe_link(url) is not None
