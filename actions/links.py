"""The online-service link the bot shows: through the knowledge service's counting redirect
(``<ACTIONS_PUBLIC_URL>/r/<procedure id>``, knowledge/api/routers/referral.py) when the public
address is set, so the dashboard counts the links citizens follow; the direct link otherwise.
"""

from __future__ import annotations

from urllib.parse import quote

from actions.settings import get_settings


def counted(procedure_id: str, direct: str) -> str:
    """The redirect to ``direct`` (the procedure's own address, which the redirect looks up again
    in the knowledge base); ``direct`` itself when no public URL is set."""
    base = (get_settings().public_url or "").rstrip("/")
    if not base:
        return direct
    return f"{base}/r/{quote(procedure_id, safe='')}"
