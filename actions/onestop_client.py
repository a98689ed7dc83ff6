"""Adapter to the province's one-stop system (Hệ thống thông tin giải quyết TTHC).

Contract (the demo system in knowledge/desk/onestop_demo.py implements it):
``GET {base}/dossiers/{code}`` with ``Authorization: Bearer <token>`` → 200 JSON
``{code, procedure, status, received_at, due_at, agency, note}`` or 404. A real
system with another API gets another adapter with the same two methods.
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

    async def dossier(self, code: str) -> Optional[Dossier]:
        s = self.settings
        if not s.onestop_url or not s.onestop_token:
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
            return Dossier(str(d["code"]), str(d["procedure"]), str(d["status"]), d.get("received_at"),
                           d.get("due_at"), d.get("agency"), d.get("note"))
        except (ValueError, KeyError, TypeError) as exc:
            raise OneStopUnavailable(f"unexpected reply: {exc}") from exc
