"""Rasa's REST channel, guarded: ``bot.channels.rest.GuardedRestInput`` (name "rest", same URL
``POST /webhooks/rest/webhook``, replies collected in the HTTP answer as in Rasa's).

Differences from Rasa 3.6's ``RestInput``:

* The sender id is ``rest:<sender>`` (not prefixed twice), so a REST caller can never write
  into a portal (``web:``), Facebook (``fb:``) or Zalo (``zalo:``) conversation.
* ``input_channel`` is always "rest": the body's ``input_channel`` is ignored (it could be
  spoofed to make a REST message look like another channel's).
* Development only and loopback only: a request whose peer address is not loopback
  (127.0.0.0/8, ::1) gets 403; with ``DVC_ENVIRONMENT=production`` every request gets 403 (the
  stack runner leaves the channel out in production anyway).
* A body that is not a JSON object (nested too deep for the parser included), fields of the
  wrong type, a sender with surrogates or control characters, or metadata above 4 KB of JSON
  get 400 with a short JSON error (Rasa's answered 500). The message text is cleaned like every
  channel's (``bot.channels.safety.clean_text``).

Imported by the Rasa server: standard library and Rasa only.
"""

from __future__ import annotations

import json
import logging
import os
from asyncio import CancelledError
from typing import Any, Awaitable, Callable, Dict, Mapping, Optional, Tuple, Union

import rasa.utils.endpoints
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse, ResponseStream

from bot.channels.safety import MAX_ID_CHARS, clean_id, clean_text, load_json
from knowledge.environment import environment, is_loopback

logger = logging.getLogger(__name__)

PREFIX = "rest:"
MAX_SENDER_CHARS = MAX_ID_CHARS
MAX_METADATA_CHARS = 4096


def sender_id(sender: str) -> str:
    return sender if sender.startswith(PREFIX) else PREFIX + sender


def parse_body(raw: Optional[bytes]) -> Tuple[Optional[Dict[str, Any]], Optional[str]]:
    """(sender, message, metadata) as a dict, or None and the reason for a 400."""
    ok, body = load_json(raw)
    if not ok or not isinstance(body, dict):
        return None, "the body must be a JSON object"
    sender = body.get("sender")
    if sender is None:
        sender = "default"  # Rasa's default sender id
    if not isinstance(sender, str) or clean_id(sender, spaces=True) is None:
        return None, f"'sender' must be a non-empty string of at most {MAX_SENDER_CHARS} characters"
    message = body.get("message")
    if not isinstance(message, str):
        return None, "'message' must be a string"
    metadata = body.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        return None, "'metadata' must be an object"
    if metadata is not None and not _storable(metadata):
        return None, f"'metadata' must be at most {MAX_METADATA_CHARS} characters of JSON"
    return {"sender": sender_id(sender), "message": clean_text(message), "metadata": metadata}, None


def _storable(metadata: Dict[str, Any]) -> bool:
    """Small enough and shallow enough to be stored with the message (Rasa keeps it in the event)."""
    try:
        return len(json.dumps(metadata)) <= MAX_METADATA_CHARS
    except (ValueError, RecursionError):
        return False


def refusal(request_ip: Optional[str], env: Mapping[str, str]) -> Optional[str]:
    """Why this request is refused with 403, or None."""
    try:
        posture = environment(env)
    except ValueError:
        return "the REST channel is disabled"
    if posture == "production":
        return "the REST channel is disabled in production"
    if not is_loopback(request_ip):
        return "the REST channel only accepts requests from this machine"
    return None


class GuardedRestInput(RestInput):
    """Configured in credentials.yml as ``bot.channels.rest.GuardedRestInput``."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    def __init__(self, env: Optional[Mapping[str, str]] = None) -> None:
        self._env = env

    @property
    def env(self) -> Mapping[str, str]:
        return os.environ if self._env is None else self._env

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        webhook = Blueprint("custom_webhook_GuardedRestInput", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            reason = refusal(request.ip, self.env)
            if reason:
                return response.json({"error": reason}, status=403)
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> Union[ResponseStream, HTTPResponse]:
            reason = refusal(request.ip, self.env)
            if reason:
                logger.warning("rest: request refused (%s)", reason)
                return response.json({"error": reason}, status=403)
            fields, problem = parse_body(request.body)
            if fields is None:
                return response.json({"error": problem}, status=400)
            sender, text, metadata = fields["sender"], fields["message"], fields["metadata"]
            if rasa.utils.endpoints.bool_arg(request, "stream", default=False):
                return response.stream(self.stream_response(on_new_message, text, sender, self.name(), metadata),
                                       content_type="text/event-stream")
            collector = CollectingOutputChannel()
            try:
                await on_new_message(UserMessage(text, collector, sender, input_channel=self.name(),
                                                 metadata=metadata))
            except CancelledError:
                logger.error("rest: handling a message timed out")
            except Exception as exc:  # noqa: BLE001 - as Rasa's: the replies so far are answered
                logger.error("rest: handling a message failed (%s)", type(exc).__name__)
            return response.json(collector.messages)

        return webhook
