"""The web portal's socket.io channel: Rasa's own, with buttons the widget can render.

Rasa 3.6's socket.io output turns every button into a quick reply and requires a
``payload``, so a link button (``{"title", "url", "type": "web_url"}``) raised KeyError and
the whole answer was lost. Here link buttons stay links (rasa-webchat opens ``web_url``
quick replies in a new tab) and payload buttons stay quick replies.

Imported by the Rasa server: standard library and Rasa only.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Dict, List, Optional

from rasa.core.channels import socketio as rasa_socketio
from rasa.core.channels.channel import OutputChannel, UserMessage
from sanic import Blueprint


def quick_reply(button: Dict[str, Any]) -> Dict[str, Any]:
    title = str(button.get("title") or "")
    url = button.get("url")
    if url:
        return {"content_type": "text", "type": "web_url", "title": title, "url": url, "payload": url}
    return {"content_type": "text", "title": title, "payload": button.get("payload") or title}


def markdown_lines(text: str) -> str:
    """The widget renders Markdown, where a single newline is a space: make it a line break."""
    return "  \n".join(line.rstrip() for line in text.split("\n"))


def split_parts(text: str) -> List[str]:
    """Paragraphs (blank-line separated) become separate bubbles, as in Rasa's channel."""
    return [markdown_lines(p.strip()) for p in text.strip().split("\n\n") if p.strip()] or [text]


class PortalOutput(rasa_socketio.SocketIOOutput):
    @classmethod
    def name(cls) -> str:
        return "socketio"

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        for part in split_parts(text):
            await self._send_message(recipient_id, {"text": part})

    async def send_text_with_buttons(self, recipient_id: str, text: str, buttons: List[Dict[str, Any]],
                                     **kwargs: Any) -> None:
        messages: List[Dict[str, Any]] = [{"text": p} for p in split_parts(text)]
        messages[-1]["quick_replies"] = [quick_reply(b) for b in buttons]
        for message in messages:
            await self._send_message(recipient_id, message)


class PortalSocketIOInput(rasa_socketio.SocketIOInput):
    """Configured in credentials.yml as ``bot.channels.portal.PortalSocketIOInput``."""

    @classmethod
    def name(cls) -> str:
        return "socketio"

    def get_output_channel(self) -> Optional[OutputChannel]:
        channel = super().get_output_channel()
        return PortalOutput(self.sio, self.bot_message_evt) if channel is not None else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        # The parent's message handler builds its output channel from this module-level
        # name; pointing it at PortalOutput is the one change we need.
        rasa_socketio.SocketIOOutput = PortalOutput  # type: ignore[misc]
        return super().blueprint(on_new_message)
