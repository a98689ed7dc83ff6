"""The console's link to Rasa's HTTP API, for the live handover (issue 13, item 2).

Everything goes through ``POST /conversations/{id}/tracker/events`` behind Rasa's token:

* taking a case appends ``pause`` (a paused conversation still logs the citizen's messages but
  runs no action), closing it appends ``resume``;
* an officer's reply is a ``bot`` event appended with ``execute_side_effects=true`` and
  ``output_channel=<the conversation's channel>``: Rasa records it in the tracker (masked by
  bot/rasa_patches.py like every stored event) and sends it through that channel's own output
  (bot/channels/*.py), so the citizen gets it where they wrote;
* the officer reads the conversation from ``GET /conversations/{id}/tracker``.

Which Rasa process: the portal's socket.io sessions live in the process that opened them
(``rasa-portal`` when Rasa runs several workers, scripts/stack.py), so a portal conversation is
sent there (``Settings.rasa_port``); Facebook and Zalo conversations go to the webhook workers
(``Settings.rasa_api_port``), where their output channels are. Only loopback is called.
"""

from __future__ import annotations

import logging
import urllib.parse
from typing import Any, Optional, Protocol

import httpx

from knowledge.settings import Settings

log = logging.getLogger(__name__)
PORTAL_CHANNEL = "socketio"
TIMEOUT_SECONDS = 10.0


class RasaUnavailable(Exception):
    """Rasa did not take the events (down, wrong token, no API): nothing reached the citizen."""


class RasaLink(Protocol):
    """What the console asks of Rasa; tests give a fake."""

    def pause(self, sender_id: str, channel: Optional[str], text: str) -> None: ...

    def resume(self, sender_id: str, channel: Optional[str], text: str) -> None: ...

    def say(self, sender_id: str, channel: Optional[str], text: str, officer: str) -> None: ...

    def events(self, sender_id: str, channel: Optional[str]) -> list[dict[str, Any]]: ...


def bot_event(text: str, officer: Optional[str] = None) -> dict[str, Any]:
    """A ``bot`` event; the metadata says an officer wrote it (not the assistant)."""
    metadata: dict[str, Any] = {"officer": officer} if officer else {"console": True}
    return {"event": "bot", "text": text, "metadata": metadata}


class RasaHTTP:
    """Rasa's HTTP API on 127.0.0.1, with its token."""

    def __init__(self, token: str, portal_port: int, api_port: int, host: str = "127.0.0.1",
                 transport: Optional[httpx.BaseTransport] = None) -> None:
        self.token = token
        self.portal_url = f"http://{host}:{portal_port}"
        self.api_url = f"http://{host}:{api_port}"
        self.transport = transport

    @classmethod
    def from_settings(cls, settings: Settings) -> Optional[RasaHTTP]:
        """None without a token: the console then shows the queue but cannot take a case."""
        if not settings.rasa_api_token:
            return None
        return cls(settings.rasa_api_token, settings.rasa_port, settings.rasa_api_port)

    def _url(self, sender_id: str, channel: Optional[str], path: str) -> str:
        base = self.portal_url if channel == PORTAL_CHANNEL else self.api_url
        # Sanic does not decode %3A in the conversation id: the channel prefix (web:, fb:) stays as it is.
        return f"{base}/conversations/{urllib.parse.quote(sender_id, safe=':')}/{path}"

    def _call(self, method: str, url: str, params: dict[str, str], body: Any = None) -> Any:
        try:
            with httpx.Client(timeout=TIMEOUT_SECONDS, transport=self.transport) as client:
                resp = client.request(method, url, params={**params, "token": self.token}, json=body)
        except httpx.HTTPError as exc:
            log.warning("console: Rasa unreachable (%s)", type(exc).__name__)
            raise RasaUnavailable() from None
        if resp.status_code != 200:
            log.warning("console: Rasa answered %d", resp.status_code)
            raise RasaUnavailable()
        return resp.json()

    def _append(self, sender_id: str, channel: Optional[str], events: list[dict[str, Any]]) -> None:
        params = {"execute_side_effects": "true", "output_channel": channel or "collector"}
        self._call("POST", self._url(sender_id, channel, "tracker/events"), params, events)

    def pause(self, sender_id: str, channel: Optional[str], text: str) -> None:
        self._append(sender_id, channel, [{"event": "pause"}, bot_event(text)])

    def resume(self, sender_id: str, channel: Optional[str], text: str) -> None:
        self._append(sender_id, channel, [{"event": "resume"}, bot_event(text)])

    def say(self, sender_id: str, channel: Optional[str], text: str, officer: str) -> None:
        self._append(sender_id, channel, [bot_event(text, officer)])

    def events(self, sender_id: str, channel: Optional[str]) -> list[dict[str, Any]]:
        tracker = self._call("GET", self._url(sender_id, channel, "tracker"), {"include_events": "ALL"})
        found = tracker.get("events") if isinstance(tracker, dict) else None
        return found if isinstance(found, list) else []
