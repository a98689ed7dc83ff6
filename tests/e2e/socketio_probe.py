"""A scripted portal visitor for the attack suite, run with the Rasa environment's python-socketio
client (``.venv-rasa/bin/python tests/e2e/socketio_probe.py URL ORIGIN``). Prints one JSON line.

Three tabs: A opens a session and asks a question; B offers a forged session id and then sends a
message naming A's session id; C sends A's session id without asking for a session; D comes from
a foreign origin. Every wait is for an event (a reply, a confirmation), bounded by a timeout.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any, Optional

import socketio

TIMEOUT = 60


class Tab:
    def __init__(self, url: str, origin: str) -> None:
        self.url, self.origin = url, origin
        self.sio = socketio.AsyncClient(reconnection=False)
        self.confirmed: asyncio.Queue = asyncio.Queue()
        self.replies: asyncio.Queue = asyncio.Queue()
        self.sio.on("session_confirm", self.confirmed.put_nowait)
        self.sio.on("bot_uttered", self.replies.put_nowait)

    async def open(self) -> None:
        await self.sio.connect(self.url, headers={"Origin": self.origin}, transports=["websocket"],
                               socketio_path="/socket.io", wait_timeout=TIMEOUT)

    async def session(self, offered: Optional[str]) -> str:
        await self.sio.emit("session_request", {"session_id": offered})
        token = await asyncio.wait_for(self.confirmed.get(), TIMEOUT)
        return token if isinstance(token, str) else str((token or {}).get("session_id"))

    async def say(self, text: str, session_id: Optional[str]) -> list[dict[str, Any]]:
        await self.sio.emit("user_uttered", {"message": text, "session_id": session_id})
        return [await asyncio.wait_for(self.replies.get(), TIMEOUT)]


async def main(url: str, origin: str) -> dict[str, Any]:
    a, b, c = Tab(url, origin), Tab(url, origin), Tab(url, origin)
    for tab in (a, b, c):
        await tab.open()
    token_a = await a.session(None)
    reply_a = await a.say("xin chào", token_a)
    token_b = await b.session("forged." + "0" * 43)
    reply_b = await b.say("cccd của tôi là 079203001234, sđt 0912345678, email nguyenvana.test@gmail.com", token_a)
    await c.sio.emit("user_uttered", {"message": "tôi là kẻ mạo danh", "session_id": token_a})  # no session: ignored
    token_c = await c.session(None)
    reply_c = await c.say("xin chào", token_c)
    for tab in (a, b, c):
        await tab.sio.disconnect()
    evil = Tab(url, "https://evil.example")
    try:
        await evil.open()
        evil_refused = False
        await evil.sio.disconnect()
    except socketio.exceptions.ConnectionError:
        evil_refused = True
    return {"token_a": token_a, "token_b": token_b, "token_c": token_c, "reply_a": reply_a, "reply_b": reply_b,
            "reply_c": reply_c, "evil_refused": evil_refused}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(sys.argv[1], sys.argv[2])), ensure_ascii=False))
