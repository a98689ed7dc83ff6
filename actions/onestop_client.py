"""Adapter to the province's one-stop system (Hệ thống thông tin giải quyết TTHC).

Contract (the demo system in knowledge/desk/onestop_demo.py implements it):
``GET {base}/dossiers/{code}`` with ``Authorization: Bearer <token>`` → 200 JSON
``{code, procedure, status, received_at, due_at, agency, note}`` or 404. A real
system with another API gets another adapter with the same two methods.

What the system answers is plain text from outside the project: control and bidi
characters are removed, whitespace collapsed and every field capped (``FIELD_LIMITS``)
before an action puts it in a message; the channels escape Markdown, and no action builds
a link from these fields.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Optional
from urllib.parse import quote

import httpx

from actions.knowledge_client import SharedClient
from actions.settings import ActionSettings, get_settings

log = logging.getLogger(__name__)

# Agency segments with dots, a YYMMDD date and a 4-digit sequence: G22.99.01-251120-0001
DOSSIER_CODE = re.compile(
    r"\b[A-Za-z0-9]{1,3}(?:\.[A-Za-z0-9]{1,3}){1,4}-\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])-\d{4}\b")


# C0/C1 controls, zero-width and bidi-override characters: nothing a status line needs.
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_SPACE = re.compile(r"\s+")
FIELD_LIMITS = {"code": 60, "procedure": 300, "status": 120, "received_at": 30, "due_at": 30, "agency": 300,
                "note": 500}


def plain(value: object, limit: int) -> Optional[str]:
    """``value`` as one line of plain text of at most ``limit`` characters; None when empty."""
    if value is None or isinstance(value, (dict, list)):
        return None
    text = _SPACE.sub(" ", _UNPRINTABLE.sub("", str(value))).strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text or None


def find_dossier_code(text: str) -> Optional[str]:
    match = DOSSIER_CODE.search(text or "")
    return match.group(0).upper() if match else None


class OneStopUnavailable(Exception):
    """The one-stop system is not configured, unreachable or answered wrongly (logged, never shown)."""


@dataclass(frozen=True)
class Dossier:
    code: str
    procedure: str
    status: str
    received_at: Optional[str]
    due_at: Optional[str]
    agency: Optional[str]
    note: Optional[str]


class OneStopClient:
    def __init__(self, settings: Optional[ActionSettings] = None,
                 transport: Optional[httpx.AsyncBaseTransport] = None) -> None:
        self.settings = settings or get_settings()
        self._shared = SharedClient(self.settings.onestop_url or "", self.settings.onestop_timeout, transport)

    @property
    def configured(self) -> bool:
        """Whether a one-stop system is set (ACTIONS_ONESTOP_URL and ACTIONS_ONESTOP_TOKEN)."""
        return bool(self.settings.onestop_url and self.settings.onestop_token)

    async def dossier(self, code: str) -> Optional[Dossier]:
        s = self.settings
        if not self.configured:
            raise OneStopUnavailable("ACTIONS_ONESTOP_URL / ACTIONS_ONESTOP_TOKEN not set")
        try:
            resp = await self._shared.get().get(f"/dossiers/{quote(code, safe='')}",
                                                headers={"Authorization": f"Bearer {s.onestop_token}"})
        except httpx.HTTPError as exc:
            raise OneStopUnavailable(repr(exc)) from exc
        if resp.status_code == 404:
            return None
        if resp.status_code != 200:
            raise OneStopUnavailable(f"HTTP {resp.status_code}")
        try:
            d = resp.json()
            fields = {name: plain(d.get(name), limit) for name, limit in FIELD_LIMITS.items()}
        except (ValueError, AttributeError) as exc:
            raise OneStopUnavailable(f"unexpected reply ({type(exc).__name__})") from None
        code_, procedure, status = fields["code"], fields["procedure"], fields["status"]
        if not (code_ and procedure and status):
            raise OneStopUnavailable("unexpected reply: code, procedure or status missing")
        return Dossier(code_, procedure, status, fields["received_at"], fields["due_at"], fields["agency"],
                       fields["note"])
