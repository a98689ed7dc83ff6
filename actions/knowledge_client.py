"""The one client of the knowledge service used by all actions."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Optional

import httpx

from actions.settings import ActionSettings, get_settings
from knowledge.catalogue.models import Directive, Guide, Procedure

log = logging.getLogger(__name__)


class KnowledgeUnavailable(Exception):
    """The knowledge service could not be reached or answered wrongly (logged, never shown)."""


@dataclass(frozen=True)
class Hit:
    kind: str
    id: str
    title: str
    snippet: str
    score: float
    url: Optional[str]
    doc_number: Optional[str]
    source: Optional[str]
    section: Optional[str] = None


class SharedClient:
    """One httpx.AsyncClient per event loop: creating a client builds an SSL context, which
    costs tens of milliseconds, and a pooled connection saves a TCP handshake per call."""

    def __init__(self, base_url: str, timeout: float, transport: Optional[httpx.AsyncBaseTransport]) -> None:
        self._args = {"base_url": base_url, "timeout": timeout, "transport": transport}
        self._client: Optional[httpx.AsyncClient] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None

    def get(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop or self._client.is_closed:
            self._client = httpx.AsyncClient(**self._args)  # type: ignore[arg-type]
            self._loop = loop
        return self._client


class KnowledgeClient:
    def __init__(self, settings: Optional[ActionSettings] = None,
                 transport: Optional[httpx.AsyncBaseTransport] = None) -> None:
        self.settings = settings or get_settings()
        self._shared = SharedClient(self.settings.knowledge_url, self.settings.knowledge_timeout, transport)

    async def search(self, query: str, k: int = 5, kinds: Optional[Sequence[str]] = None) -> list[Hit]:
        body = {"query": query[:1000], "k": k, "kinds": list(kinds) if kinds else None}
        data = await self._request("POST", "/search", json=body)
        if data is None:
            raise KnowledgeUnavailable("empty /search reply")
        try:
            return [Hit(r["kind"], r["id"], r["title"], r["snippet"], float(r["score"]), r.get("url"),
                        r.get("doc_number"), r.get("source"), r.get("section")) for r in data["results"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise KnowledgeUnavailable(f"unexpected /search reply: {exc}") from exc

    async def procedure(self, procedure_id: str) -> Optional[Procedure]:
        data = await self._request("GET", f"/procedures/{procedure_id}", allow_404=True)
        return Procedure.model_validate(data) if data is not None else None

    async def guide(self, guide_id: str) -> Optional[Guide]:
        data = await self._request("GET", f"/guides/{guide_id}", allow_404=True)
        return Guide.model_validate(data) if data is not None else None

    async def directive(self, directive_id: str) -> Optional[Directive]:
        data = await self._request("GET", f"/directives/{directive_id}", allow_404=True)
        return Directive.model_validate(data) if data is not None else None

    async def post_desk(self, path: str, body: dict[str, Any]) -> Optional[int]:
        """Write to the officers' desk; returns the new record's id."""
        headers = {"X-Desk-Token": self.settings.desk_token} if self.settings.desk_token else {}
        data = await self._request("POST", f"/desk/{path}", json=body, headers=headers)
        return int(data["id"]) if data and "id" in data else None

    async def record_event(self, sender_id: str, type_: str, ref: Optional[str]) -> None:
        """Best effort: an analytics event must never break an answer."""
        try:
            await self.post_desk("events", {"sender_id": sender_id, "type": type_, "ref": ref})
        except KnowledgeUnavailable:
            log.warning("could not record event %s", type_)

    async def _request(self, method: str, path: str, allow_404: bool = False,
                       **kwargs: Any) -> dict[str, Any] | None:
        try:
            resp = await self._shared.get().request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise KnowledgeUnavailable(f"{method} {path}: {exc!r}") from exc
        if allow_404 and resp.status_code == 404:
            return None
        if resp.status_code != 200:
            raise KnowledgeUnavailable(f"{method} {path}: HTTP {resp.status_code}")
        try:
            payload: dict[str, Any] = resp.json()
            return payload
        except ValueError as exc:
            raise KnowledgeUnavailable(f"{method} {path}: invalid JSON") from exc
