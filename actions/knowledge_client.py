"""The one client of the knowledge service used by all actions.

Ids that reach a URL come from citizens' messages too (``/ask_procedure{"procedure_id": …}``):
one that is not shaped like a catalogue id is refused before any request, the others are
quoted as one path segment. A reply that is not the expected record is ``KnowledgeUnavailable``
with a short message that names the route, never the payload (which goes nowhere).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from typing import Any, Optional, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from actions.settings import ActionSettings, get_settings
from knowledge.catalogue.models import Directive, Guide, Procedure
from knowledge.contract import SearchResponse, SearchResult
from knowledge.observability.actions import timed_call
from knowledge.observability.logs import outgoing_headers

Hit = SearchResult  # one /search result, as the knowledge service defines it (knowledge/contract.py)

log = logging.getLogger(__name__)
# The catalogue's ids: codes (1.001193, 2.002193.000.00.00.H12) and slugs (tro-cap-that-nghiep).
RECORD_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")
# The desk's public handover references (knowledge/desk/store.py).
HANDOVER_REF = re.compile(r"^HT-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{8}$")
M = TypeVar("M", bound=BaseModel)


def valid_record_id(value: object) -> bool:
    return isinstance(value, str) and RECORD_ID.match(value) is not None and ".." not in value


def valid_handover_ref(value: object) -> bool:
    return isinstance(value, str) and HANDOVER_REF.match(value) is not None


class KnowledgeUnavailable(Exception):
    """The knowledge service could not be reached or answered wrongly (logged, never shown)."""


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
        return (await self.match(query, k, kinds)).results

    async def match(self, query: str, k: int = 5, kinds: Optional[Sequence[str]] = None) -> SearchResponse:
        """The ranked results and the service's match decision (confident / ambiguous / none)."""
        body = {"query": query[:1000], "k": k, "kinds": list(kinds) if kinds else None}
        data = await self._request("POST", "/search", json=body)
        if data is None:
            raise KnowledgeUnavailable("empty /search reply")
        try:
            return SearchResponse.model_validate(data)
        except ValidationError:
            raise KnowledgeUnavailable("POST /search: reply is not a valid SearchResponse") from None

    async def procedure(self, procedure_id: str) -> Optional[Procedure]:
        return await self._record("procedures", procedure_id, Procedure)

    async def guide(self, guide_id: str) -> Optional[Guide]:
        return await self._record("guides", guide_id, Guide)

    async def directive(self, directive_id: str) -> Optional[Directive]:
        return await self._record("directives", directive_id, Directive)

    async def _record(self, kind: str, record_id: str, model: type[M]) -> Optional[M]:
        """The record, or None when there is none; an id not shaped like one is never sent."""
        if not valid_record_id(record_id):
            log.warning("refused a %s id that is not a catalogue id", kind)
            return None
        data = await self._request("GET", f"/{kind}/{quote(record_id, safe='')}", allow_404=True)
        if data is None:
            return None
        try:
            return model.model_validate(data)
        except ValidationError:
            # The payload stays out of the message (and so out of the logs).
            raise KnowledgeUnavailable(f"GET /{kind}/…: reply is not a valid {model.__name__}") from None

    async def post_desk(self, path: str, body: dict[str, Any], allow_404: bool = False) -> Optional[dict[str, Any]]:
        """Write to the officers' desk; the reply (``{"id": …}``), None for a 404 when allowed."""
        headers = {"X-Desk-Token": self.settings.desk_token} if self.settings.desk_token else {}
        data = await self._request("POST", f"/desk/{path}", allow_404=allow_404, json=body, headers=headers)
        if data is not None and not isinstance(data, dict):
            raise KnowledgeUnavailable(f"POST /desk/{path}: unexpected reply")
        return data

    async def create_handover(self, body: dict[str, Any]) -> str:
        """A new handover on the desk; its public reference (``HT-…``), the only thing shown to the citizen."""
        data = await self.post_desk("handovers", body)
        ref = data.get("ref") if data else None
        if not valid_handover_ref(ref):
            raise KnowledgeUnavailable("POST /desk/handovers: reply without a valid reference")
        return str(ref)

    async def set_handover_contact(self, ref: str, sender_id: str, consent: bool, contact: Optional[str]) -> bool:
        """Record the citizen's answer on handover ``ref`` of ``sender_id``; False when the desk has no such one."""
        if not valid_handover_ref(ref):
            return False
        body = {"sender_id": sender_id, "consent": consent, "contact": contact if consent else None}
        return await self.post_desk(f"handovers/{quote(ref, safe='')}/contact", body, allow_404=True) is not None

    async def record_event(self, sender_id: str, type_: str, ref: Optional[str]) -> None:
        """Best effort: an analytics event must never break an answer."""
        try:
            await self.post_desk("events", {"sender_id": sender_id, "type": type_, "ref": ref})
        except KnowledgeUnavailable:
            log.warning("could not record event %s", type_)

    async def _request(self, method: str, path: str, allow_404: bool = False,
                       **kwargs: Any) -> dict[str, Any] | None:
        """One call, timed (dvc_knowledge_client_seconds), with the request id of Rasa's call."""
        kwargs["headers"] = outgoing_headers(kwargs.get("headers"))
        with timed_call(method, path):
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
