"""Rasa's HTTP API behind its token, as an operator tool calls it (tests of every stack)."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from typing import Any

from scripts.stack import Stack


def rasa_api(stack: Stack, path: str, body: Any = None) -> Any:
    """GET ``path`` (POST ``body`` as JSON when given) on the stack's Rasa, with ``?token=…``."""
    sep = "&" if "?" in path else "?"
    url = f"{stack.config.rasa_url}{path}{sep}token={urllib.parse.quote(stack.config.api_token)}"
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"},
                                 method="GET" if body is None else "POST")
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read())


def tracker(stack: Stack, sender: str) -> dict[str, Any]:
    # Sanic does not decode %3A in the conversation id: the channel prefix stays as it is.
    result: dict[str, Any] = rasa_api(stack, f"/conversations/{urllib.parse.quote(sender, safe=':')}/tracker")
    return result


def user_turns(stack: Stack, sender: str) -> list[dict[str, Any]]:
    """The user events of one conversation (sender ids carry their channel: ``fb:…``, ``zalo:…``)."""
    return [e for e in tracker(stack, sender).get("events") or [] if e.get("event") == "user"]
