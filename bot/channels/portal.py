"""The web portal's socket.io channel: Rasa's, with server-issued sessions and safe output.

Configured in credentials.yml as ``bot.channels.portal.PortalSocketIOInput``. Differences
from Rasa 3.6's ``SocketIOInput``:

* Sessions are issued and signed by the server (bot/channels/sessions.py). On
  ``session_request`` a client's ``session_id`` is kept only if it is a token this server
  issued; otherwise a new one is sent in ``session_confirm``. The conversation's sender id is
  ``web:<random>``. The server remembers which socket has which session: ``user_uttered``
  from a socket without a confirmed session is ignored, and the ``session_id`` a client puts
  in a message is ignored too, so a foreign session id can neither write into nor read
  another conversation.
* Only the portal's origins (``DVC_PORTAL_ORIGINS``) may open the socket. Rasa passes
  ``cors_allowed_origins=[]``, which in python-engineio DISABLES the origin check
  (engineio/base_server.py ``_cors_headers``, server.py ``handle_request``); an empty
  setting here means engineio's default (same origin only), never ``[]``. The CORS headers
  themselves come from Sanic-CORS (``--cors``, bot/serve.py), not twice. Messages are
  limited to ``MAX_HTTP_BUFFER`` bytes.
* Output: link buttons stay links (rasa-webchat opens ``web_url`` quick replies in a new tab;
  Rasa's output required a ``payload`` and lost the whole answer), only safe links leave, and
  bot text is escaped for the widget's Markdown renderer (bot/channels/safety.py). A custom
  payload always goes to the conversation's own room.

Imported by the Rasa server: standard library, Rasa (and what it brings) and knowledge.text only.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any, Awaitable, Callable, Dict, Iterable, List, Mapping, Optional, Union

import engineio
from rasa.core.channels import socketio as rasa_socketio
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage, decode_bearer_token
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from bot.channels.safety import markdown_text, safe_buttons, safe_link, scrub_links
from bot.channels.sessions import SessionSigner, session_secret

logger = logging.getLogger(__name__)

ORIGINS_VAR = "DVC_PORTAL_ORIGINS"
MAX_HTTP_BUFFER = 64 * 1024  # bytes per socket.io message (a question is at most a few KiB)
MAX_MESSAGE_CHARS = 20_000  # longer messages are ignored (Rasa's own limit cuts far below)


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
    """Paragraphs (blank-line separated) become separate bubbles, as in Rasa's channel; each is
    escaped for the widget's Markdown (bot/channels/safety.py)."""
    parts = [p.strip() for p in (text or "").strip().split("\n\n") if p.strip()] or [text or ""]
    return [markdown_lines(markdown_text(p)) for p in parts]


def portal_origins(env: Mapping[str, str] = os.environ) -> Optional[List[str]]:
    """The origins allowed to open the socket; None = engineio's default (same origin only)."""
    origins = [o.strip().rstrip("/") for o in env.get(ORIGINS_VAR, "").split(",") if o.strip()]
    if not origins:
        logger.warning("%s is not set: the portal socket only accepts its own origin", ORIGINS_VAR)
        return None
    if "*" in origins:
        raise ValueError(f"{ORIGINS_VAR}: list the portal's origins, not '*'")
    return origins


class _OriginCheckedEngineIO(engineio.AsyncServer):
    """Engine.IO refusing other origins, but leaving the CORS response headers to Sanic-CORS
    (Rasa's ``--cors``, which bot/serve.py sets from the same DVC_PORTAL_ORIGINS): Sanic-CORS
    *adds* its headers, so with both the polling answers carried two Access-Control-Allow-Origin
    headers, which browsers refuse. The origin check itself is in ``handle_request``."""

    def _cors_headers(self, environ: Dict[str, Any]) -> List[Any]:
        return []


class PortalSocketServer(AsyncServer):
    def _engineio_server_class(self) -> Any:
        return _OriginCheckedEngineIO


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
        messages[-1]["quick_replies"] = [quick_reply(b) for b in safe_buttons(buttons, "portal")]
        for message in messages:
            await self._send_message(recipient_id, message)

    async def send_quick_replies(self, recipient_id: str, text: str, quick_replies: List[Dict[str, Any]],
                                 **kwargs: Any) -> None:
        await self.send_text_with_buttons(recipient_id, text, quick_replies)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        url = safe_link(image)
        if url is None or not url.startswith("https://"):
            logger.warning("portal: an image with an unsafe URL was not sent")
            return
        await self._send_message(recipient_id, {"attachment": {"type": "image", "payload": {"src": url}}})

    async def send_elements(self, recipient_id: str, elements: Iterable[Dict[str, Any]], **kwargs: Any) -> None:
        for element in elements:
            cleaned = scrub_links(dict(element)) if isinstance(element, dict) else None
            if cleaned is None:
                logger.warning("portal: an element with an unsafe link was not sent")
                continue
            if isinstance(cleaned.get("title"), str):
                cleaned["title"] = markdown_text(cleaned["title"])
            await self._send_message(recipient_id, {"attachment": {"type": "template", "payload": {
                "template_type": "generic", "elements": cleaned}}})

    async def send_attachment(self, recipient_id: str, attachment: Any, **kwargs: Any) -> None:
        if isinstance(attachment, str):
            await self.send_text_message(recipient_id, attachment)
            return
        cleaned = scrub_links(attachment) if isinstance(attachment, dict) else None
        if cleaned is None:
            logger.warning("portal: an attachment with an unsafe link was not sent")
            return
        await self._send_message(recipient_id, {"attachment": cleaned})

    async def send_custom_json(self, recipient_id: str, json_message: Union[List, Dict[str, Any]],
                               **kwargs: Any) -> None:
        # Rasa emits ``**json_message``: a payload with a "room" key went to that room, i.e.
        # into another conversation. Here the data always goes to the recipient's own room.
        data: Any = json_message
        if isinstance(json_message, dict) and set(json_message) <= {"data", "room", "to", "namespace"} \
                and "data" in json_message:
            data = json_message["data"]
        cleaned = scrub_links(data)
        if cleaned is None:
            logger.warning("portal: a custom payload with an unsafe link was not sent")
            return
        if isinstance(cleaned, dict):
            for key in ("room", "to", "namespace", "skip_sid"):
                cleaned.pop(key, None)
            if isinstance(cleaned.get("text"), str):
                cleaned["text"] = markdown_lines(markdown_text(cleaned["text"]))
            for key in ("quick_replies", "buttons"):
                if isinstance(cleaned.get(key), list):
                    cleaned[key] = [quick_reply(b) for b in safe_buttons(cleaned[key], "portal")]
        await self.sio.emit(self.bot_message_evt, cleaned, room=recipient_id)


class PortalSocketIOInput(InputChannel):
    """Configured in credentials.yml as ``bot.channels.portal.PortalSocketIOInput``."""

    @classmethod
    def name(cls) -> str:
        return "socketio"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        credentials = credentials or {}
        return cls(
            credentials.get("user_message_evt", "user_uttered"),
            credentials.get("bot_message_evt", "bot_uttered"),
            credentials.get("namespace"),
            credentials.get("socketio_path", "/socket.io"),
            credentials.get("jwt_key"),
            credentials.get("jwt_method", "HS256"),
            credentials.get("metadata_key", "metadata"),
        )

    def __init__(self, user_message_evt: str = "user_uttered", bot_message_evt: str = "bot_uttered",
                 namespace: Optional[str] = None, socketio_path: Optional[str] = "/socket.io",
                 jwt_key: Optional[str] = None, jwt_method: Optional[str] = "HS256",
                 metadata_key: Optional[str] = "metadata", env: Optional[Mapping[str, str]] = None) -> None:
        env = os.environ if env is None else env
        self.user_message_evt = user_message_evt
        self.bot_message_evt = bot_message_evt
        self.namespace = namespace
        self.socketio_path = socketio_path
        self.jwt_key = jwt_key
        self.jwt_algorithm = jwt_method
        self.metadata_key = metadata_key or "metadata"
        self.signer = SessionSigner(session_secret(env))  # production: raises without PORTAL_SESSION_SECRET
        self.origins = portal_origins(env)
        self.sio: Optional[AsyncServer] = None
        self.sessions: Dict[str, str] = {}  # socket id → sender id (web:<random>) of its confirmed session

    def get_output_channel(self) -> Optional[OutputChannel]:
        if self.sio is None:
            logger.warning("portal: the socket.io output channel cannot be recreated outside its process")
            return None
        return PortalOutput(self.sio, self.bot_message_evt)

    # -- the session rules, independent of socket.io (tested in tests/rasa_side) --------------

    def confirm_session(self, sid: str, data: Any) -> tuple[str, str, Optional[str]]:
        """(token to confirm, sender id, previous sender id of this socket) for a session_request."""
        offered = data.get("session_id") if isinstance(data, dict) else None
        random_part = self.signer.verify(offered)
        if random_part is None:
            if offered:
                logger.info("portal: a session id the server did not issue was replaced")
            token = self.signer.issue()
            random_part = token.split(".")[0]
        else:
            token = str(offered)
        sender = self.signer.sender(random_part)
        previous = self.sessions.get(sid)
        self.sessions[sid] = sender
        return token, sender, previous

    def message_for(self, sid: str, data: Any) -> Optional[tuple[str, str, Dict[str, Any]]]:
        """(sender id, text, metadata) of a user_uttered, or None when it must be ignored."""
        sender = self.sessions.get(sid)
        if sender is None:
            logger.info("portal: a message from a socket without a confirmed session was ignored")
            return None
        if not isinstance(data, dict):
            return None
        text = data.get("message", "")
        if not isinstance(text, str) or len(text) > MAX_MESSAGE_CHARS:
            return None
        metadata = data.get(self.metadata_key) or {}
        if isinstance(metadata, str):
            try:
                metadata = json.loads(metadata)
            except ValueError:
                metadata = {}
        if not isinstance(metadata, dict):
            metadata = {}
        return sender, text, metadata

    # -- socket.io --------------------------------------------------------------------------

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        sio = PortalSocketServer(async_mode="sanic", cors_allowed_origins=self.origins,
                                 max_http_buffer_size=MAX_HTTP_BUFFER)
        socketio_webhook = rasa_socketio.SocketBlueprint(sio, self.socketio_path, "socketio_webhook", __name__)
        self.sio = sio

        @socketio_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sio.on("connect", namespace=self.namespace)
        async def connect(sid: str, environ: Dict, auth: Optional[Dict] = None) -> bool:
            if self.jwt_key:
                token = auth.get("token") if isinstance(auth, dict) else None
                return bool(token and decode_bearer_token(token, self.jwt_key, self.jwt_algorithm))
            return True

        @sio.on("disconnect", namespace=self.namespace)
        async def disconnect(sid: str) -> None:
            self.sessions.pop(sid, None)

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: str, data: Any = None) -> None:
            token, sender, previous = self.confirm_session(sid, data)
            if previous and previous != sender:
                sio.leave_room(sid, previous, namespace=self.namespace)
            sio.enter_room(sid, sender, namespace=self.namespace)
            await sio.emit("session_confirm", token, room=sid, namespace=self.namespace)

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: str, data: Any = None) -> None:
            found = self.message_for(sid, data)
            if found is None:
                return
            sender, text, metadata = found
            output = PortalOutput(sio, self.bot_message_evt)
            await on_new_message(UserMessage(text, output, sender, input_channel=self.name(), metadata=metadata))

        return socketio_webhook
