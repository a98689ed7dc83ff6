"""Zalo Official Account channel (OA API v3) for Rasa 3.6.

Configured in credentials.yml as ``bot.channels.zalo.ZaloInput`` (keys: app_id, oa_secret_key,
app_secret_key, access_token, refresh_token, api_base, oauth_base, token_db, max_retries).

Webhook ``POST /webhooks/zalo/webhook``:

* ``X-ZEvent-Signature: mac=<hex>`` is checked over the RAW body (bot/channels/zalo_signature.py);
  a missing or wrong signature gets 401 and nothing reaches the dialogue. The signed timestamp is
  in the JSON body, so a signed body that is not JSON gets 400.
* The answer is 200 at once; the event is processed in a background task (Zalo retries a slow
  webhook for hours, then disables it). Each user's events run in arrival order (one
  ``asyncio.Lock`` per sender); different users run concurrently. Zalo's retries are dropped by
  ``msg_id`` (bounded in-memory memory of recent ids).
* ``user_send_text`` → Rasa (text cleaned by ``bot.channels.safety.clean_text``: NFC, without
  lone surrogates or control characters; a text that is not a string is no text);
  ``follow`` → a welcome sent directly;
  other ``user_send_*`` (image, sticker, location, file, …) → a polite "text only" reply;
  anything else (the OA's own ``oa_send_*`` echoes, seen/received receipts, unfollow, …) is
  ignored with 200, and so is an event whose user or message id is not a plain id.

Sending ``POST {api_base}/v3.0/oa/message/cs`` (header ``access_token``) goes through the shared
formatting layer (bot/channels/formatting.py): text split at 2000 characters, buttons as a
template attachment (``oa.query.hide`` for payloads, ``oa.open.url`` for links), titles cut to
35 characters, at most 5 buttons per message. Network errors, HTTP 5xx/429 and Zalo's
rate-limit error are retried with exponential backoff; an invalid/expired access token (Zalo
error -216 / -124, or HTTP 401) triggers one refresh (bot/channels/zalo_token.py) and one retry.

Conversations are ``zalo:<user id>`` in Rasa; the output channel strips the prefix before calling
Zalo and refuses (logs, sends nothing) a recipient without it, so an operator API call for another
channel's conversation can never make the OA send. Events older than Zalo's retry horizon
(``REPLAY_HORIZON_S``) or dated more than ``CLOCK_SKEW_S`` ahead are answered 200 and dropped as
replays; handled ids are remembered across workers (Redis) or across restarts (``DVC_SEEN_DB``).
Only safe links leave (bot/channels/safety.py): an ``oa.open.url`` button with another URL is dropped.

Logs never contain message text, tokens or user ids in clear (ids are hashed).
Imported by the Rasa server: standard library, Rasa, aiohttp and sanic only.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
import traceback
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Dict, List, Optional, Set

import aiohttp
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import metrics
from bot.channels import ordering
from bot.channels.formatting import (
    ChannelLimits,
    NeutralButton,
    chunk_buttons,
    neutral_buttons,
    shorten_title,
    split_text,
)
from bot.channels.ordering import RecentIds, SenderLocks, SharedOrder, redelivery_memory
from bot.channels.safety import clean_id, clean_text, load_json, safe_buttons, safe_link, scrub_links, unsafe_chars
from bot.channels.zalo_signature import HEADER, TIMESTAMP_HEADER, timestamp_candidates, verify
from bot.channels.zalo_token import TokenRefreshError, ZaloTokenStore
from bot.texts import MORE_BUTTONS_TEXT, TEXT_ONLY_TEXT, WELCOME_TEXT

logger = logging.getLogger(__name__)

LIMITS = ChannelLimits(text=2000, buttons=5, button_title=35)
MAX_BODY_BYTES = 256 * 1024
DEDUP_SIZE = 10_000
PREFIX = "zalo:"
# [check] Zalo's OA webhook documentation does not state how long a failed delivery is retried
# (developers.zalo.me only says an unhealthy webhook is retried and then disabled); 24 h is a
# conservative bound. An event older than this is a replay, not a retry.
REPLAY_HORIZON_S = 24 * 3600
CLOCK_SKEW_S = 5 * 60  # an event's timestamp may be this far in our future (clocks differ)

# Zalo answers HTTP 200 with {"error": <code>, "message": ...}. [check] Codes from community
# integrations, not Zalo's own table: -216 (and -124) = access token invalid/expired;
# -32 = request rate exceeded.
EXPIRED_TOKEN_CODES = frozenset({-216, -124})
RETRY_CODES = frozenset({-32})

BUTTONS_ONLY_TEXT = "Mời bạn chọn:"


def hashed(value: Any) -> str:
    """A stable, non-reversible tag for logs (user ids never appear in clear)."""
    return hashlib.sha256(f"zalo:{value}".encode()).hexdigest()[:12]


def platform_id(recipient_id: Any) -> Optional[str]:
    """The Zalo user id of a ``zalo:<user id>`` conversation; None for another channel's."""
    return ordering.platform_id(recipient_id, PREFIX)


def event_age_problem(timestamp: Any, now_ms: float) -> Optional[str]:
    """Why an event's ``timestamp`` (ms, a string in Zalo's events) makes it a replay, or None."""
    return ordering.event_age_problem(timestamp, now_ms, REPLAY_HORIZON_S, CLOCK_SKEW_S)


def _event_name(event: Dict[str, Any]) -> str:
    """The event's name for a log line (at most 40 characters; not a name: its type)."""
    name = event.get("event_name")
    return name[:40] if isinstance(name, str) else f"<{type(name).__name__}>"


def _describe(exc: BaseException) -> str:
    """Exception class and stack frames, without the exception message (it may quote user text)."""
    frames = "".join(traceback.format_tb(exc.__traceback__)[-5:])
    return f"{type(exc).__name__}\n{frames}"


@dataclass(frozen=True)
class ZaloConfig:
    app_id: str
    oa_secret_key: str
    app_secret_key: str = ""
    access_token: str = ""
    refresh_token: str = ""
    api_base: str = "https://openapi.zalo.me"
    oauth_base: str = "https://oauth.zaloapp.com"
    token_db: str = "var/zalo-token.db"
    max_retries: int = 3
    backoff: float = 0.2  # seconds; doubled on every retry
    http_timeout: float = 15.0

    @classmethod
    def from_credentials(cls, credentials: Dict[str, Any]) -> ZaloConfig:
        def s(key: str, default: str = "") -> str:
            value = credentials.get(key)
            return default if value is None or str(value).strip() == "" else str(value).strip()

        config = cls(
            app_id=s("app_id"), oa_secret_key=s("oa_secret_key"), app_secret_key=s("app_secret_key"),
            access_token=s("access_token"), refresh_token=s("refresh_token"),
            api_base=s("api_base", cls.api_base).rstrip("/"), oauth_base=s("oauth_base", cls.oauth_base).rstrip("/"),
            token_db=s("token_db", cls.token_db), max_retries=int(credentials.get("max_retries") or cls.max_retries),
            backoff=float(credentials.get("backoff") or cls.backoff),
            http_timeout=float(credentials.get("http_timeout") or cls.http_timeout),
        )
        if not config.app_id or not config.oa_secret_key:
            raise ValueError("zalo channel: app_id and oa_secret_key are required (credentials.yml)")
        return config


# ---------------------------------------------------------------------------------------------
# Sending


class ZaloClient:
    """POST /v3.0/oa/message/cs with retries and one token refresh on an expired token."""

    OK, RETRY, EXPIRED, FAIL = "ok", "retry", "expired", "fail"

    def __init__(self, config: ZaloConfig, tokens: ZaloTokenStore) -> None:
        self.config = config
        self.tokens = tokens
        self.url = f"{config.api_base}/v3.0/oa/message/cs"
        self._session: Optional[aiohttp.ClientSession] = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.config.http_timeout))
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def send(self, user_id: str, message: Dict[str, Any]) -> bool:
        """Send one message; True when Zalo accepted it. Failures are logged, never raised."""
        body = {"recipient": {"user_id": user_id}, "message": message}
        who = hashed(user_id)
        try:
            token = await self.tokens.access_token()
        except TokenRefreshError as e:
            logger.error("zalo send to %s: no access token (%s)", who, e)
            return False
        refreshed = False
        retries = 0
        while True:
            outcome, detail, wait = await self._post_once(token, body)
            if outcome == self.OK:
                return True
            if outcome == self.EXPIRED and not refreshed:
                refreshed = True
                logger.info("zalo send to %s: access token rejected (%s); refreshing", who, detail)
                try:
                    token = (await self.tokens.refresh(token)).access_token
                except TokenRefreshError as e:
                    logger.error("zalo send to %s: token refresh failed (%s); message dropped", who, e)
                    return False
                continue
            if outcome == self.RETRY and retries < self.config.max_retries:
                delay = max(self.config.backoff * (2 ** retries), min(wait or 0.0, 10.0))
                retries += 1
                metrics.send_retried("zalo")
                logger.warning("zalo send to %s: %s; retry %d/%d in %.1fs", who, detail, retries,
                               self.config.max_retries, delay)
                await asyncio.sleep(delay)
                continue
            metrics.send_failed("zalo")
            logger.error("zalo send to %s failed after %d retries: %s", who, retries, detail)
            return False

    async def _post_once(self, token: str, body: Dict[str, Any]) -> tuple[str, str, Optional[float]]:
        try:
            async with self._http().post(self.url, json=body, headers={"access_token": token}) as resp:
                status = resp.status
                raw = await resp.read()
                retry_after = resp.headers.get("Retry-After")
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as e:
            return self.RETRY, f"network error {type(e).__name__}", None
        wait: Optional[float] = None
        if retry_after:
            try:
                wait = float(retry_after)
            except ValueError:
                wait = None
        if status == 401:
            return self.EXPIRED, "HTTP 401", None
        if status == 429 or status >= 500:
            return self.RETRY, f"HTTP {status}", wait
        if status >= 400:
            return self.FAIL, f"HTTP {status}", None
        try:
            data = json.loads(raw or b"{}")
        except ValueError:
            return self.RETRY, "invalid JSON answer", None
        error = data.get("error", 0) if isinstance(data, dict) else 0
        try:
            error = int(error or 0)
        except (TypeError, ValueError):
            return self.FAIL, "unexpected error field", None
        if error == 0:
            return self.OK, "", None
        if error in EXPIRED_TOKEN_CODES:
            return self.EXPIRED, f"Zalo error {error}", None
        if error in RETRY_CODES:
            return self.RETRY, f"Zalo error {error}", wait
        return self.FAIL, f"Zalo error {error}", None


def zalo_button(button: NeutralButton) -> Dict[str, Any]:
    title = shorten_title(button.title, LIMITS.button_title)
    url = safe_link(button.url) if button.is_link else None
    if url is not None:
        return {"title": title, "type": "oa.open.url", "payload": {"url": url}}
    return {"title": title, "type": "oa.query.hide", "payload": button.payload or button.title}


def button_message(text: str, buttons: List[NeutralButton]) -> Dict[str, Any]:
    """Zalo's "text with buttons" consultation message: a template attachment under the text."""
    return {"text": text, "attachment": {"type": "template",
                                         "payload": {"buttons": [zalo_button(b) for b in buttons]}}}


def render(text: str, buttons: Optional[List[Dict[str, Any]]] = None) -> List[Dict[str, Any]]:
    """Channel-neutral text (+ buttons) → the Zalo message bodies to send, in order."""
    parts = split_text(text or "", LIMITS.text)
    nbuttons = neutral_buttons(safe_buttons(buttons, "zalo"))
    if not nbuttons:
        return [{"text": p} for p in parts]
    messages: List[Dict[str, Any]] = [{"text": p} for p in parts[:-1]]
    for i, chunk in enumerate(chunk_buttons(nbuttons, LIMITS.buttons)):
        if i == 0:
            lead = parts[-1] if parts else BUTTONS_ONLY_TEXT
        else:
            lead = MORE_BUTTONS_TEXT
        messages.append(button_message(lead, chunk))
    return messages


class ZaloOutput(OutputChannel):
    def __init__(self, client: ZaloClient) -> None:
        self.client = client

    @classmethod
    def name(cls) -> str:
        return "zalo"

    async def _send_all(self, recipient_id: str, messages: List[Dict[str, Any]]) -> None:
        user_id = platform_id(recipient_id)
        if user_id is None:
            logger.error("zalo: refused to send to a conversation of another channel (%s)", hashed(recipient_id))
            return
        for message in messages:
            await self.client.send(user_id, message)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self._send_all(recipient_id, render(text))

    async def send_text_with_buttons(self, recipient_id: str, text: str, buttons: List[Dict[str, Any]],
                                     **kwargs: Any) -> None:
        await self._send_all(recipient_id, render(text, buttons))

    async def send_quick_replies(self, recipient_id: str, text: str, quick_replies: List[Dict[str, Any]],
                                 **kwargs: Any) -> None:
        await self.send_text_with_buttons(recipient_id, text, quick_replies)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        url = safe_link(image)
        if url is None:
            logger.warning("zalo: an image with an unsafe URL was not sent")
            return
        await self._send_all(recipient_id, render(url))

    async def send_attachment(self, recipient_id: str, attachment: Any, **kwargs: Any) -> None:
        if isinstance(attachment, str):
            await self._send_all(recipient_id, render(attachment))
        else:
            logger.debug("zalo: non-text attachment not supported; skipped")

    async def send_custom_json(self, recipient_id: str, json_message: Dict[str, Any], **kwargs: Any) -> None:
        # A custom payload may carry a ready Zalo message under "zalo"; anything else is skipped
        # rather than shown to the citizen as raw JSON.
        zalo_message = json_message.get("zalo") if isinstance(json_message, dict) else None
        if isinstance(zalo_message, dict):
            cleaned = scrub_links(zalo_message)
            if cleaned is None:
                logger.warning("zalo: a custom payload with an unsafe link was not sent")
                return
            await self._send_all(recipient_id, [cleaned])
        else:
            logger.debug("zalo: custom payload without a 'zalo' message; skipped")


# ---------------------------------------------------------------------------------------------
# Receiving


class ZaloInput(InputChannel):
    """Configured in credentials.yml as ``bot.channels.zalo.ZaloInput``."""

    @classmethod
    def name(cls) -> str:
        return "zalo"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        if not credentials:
            cls.raise_missing_credentials_exception()
        return cls(ZaloConfig.from_credentials(credentials))

    def __init__(self, config: ZaloConfig) -> None:
        self.config = config
        self.tokens = ZaloTokenStore(config.token_db, config.app_id, config.app_secret_key,
                                     config.access_token, config.refresh_token, oauth_base=config.oauth_base,
                                     http_timeout=config.http_timeout)
        self.client = ZaloClient(config, self.tokens)
        self._tasks: Set[asyncio.Task] = set()
        self._locks = SenderLocks("zalo")
        self._seen = RecentIds(DEDUP_SIZE)
        # The same across Rasa workers (Redis) or across restarts (SQLite), for the retry horizon.
        self._shared_seen = redelivery_memory("zalo", REPLAY_HORIZON_S + CLOCK_SKEW_S)
        self._order = SharedOrder("zalo")  # a user's messages in order across Rasa workers

    def get_output_channel(self) -> Optional[OutputChannel]:
        return ZaloOutput(self.client)

    # -- dedupe ---------------------------------------------------------------------------------
    def _first_time(self, key: str) -> bool:
        return self._seen.first_time(key)

    # -- background work --------------------------------------------------------------------------
    def _spawn(self, user_id: str, label: str, work: Callable[[], Awaitable[None]],
               ticket: Optional[int] = None) -> None:
        async def guarded() -> None:
            try:
                async with self._order.turn(user_id, ticket), self._locks.hold(user_id):
                    await work()
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 - a background task must never die silently
                logger.error("zalo %s for %s failed: %s", label, hashed(user_id), _describe(e))

        task = asyncio.get_running_loop().create_task(guarded())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _queue(self, user_id: str, label: str, work: Callable[[], Awaitable[None]]) -> None:
        ticket = await self._order.ticket(user_id)  # taken before Zalo gets its answer: arrival order
        self._spawn(user_id, label, work, ticket)

    async def _dispatch(self, event: Dict[str, Any], on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> str:
        """Start handling one verified event; returns what was done (for the log)."""
        name = str(event.get("event_name") or "")
        sender = event.get("sender") if isinstance(event.get("sender"), dict) else {}
        follower = event.get("follower") if isinstance(event.get("follower"), dict) else {}
        message = event.get("message") if isinstance(event.get("message"), dict) else {}
        user_id = clean_id(sender.get("id") or follower.get("id")) or ""
        raw_msg_id = message.get("msg_id")
        msg_id = clean_id(raw_msg_id) or ""
        if not user_id:
            return "ignored (no user)"
        if raw_msg_id not in (None, "") and not msg_id:
            return "ignored (malformed message id)"
        problem = event_age_problem(event.get("timestamp"), time.time() * 1000)
        if problem:
            logger.warning("zalo: event from %s refused as a replay (%s)", hashed(user_id), problem)
            return f"replay ({problem}, dropped)"
        key = msg_id or f"{name}:{user_id}:{event.get('timestamp')}"
        if not self._first_time(key) or not await self._shared_seen.first_time(key):
            return "duplicate (dropped)"

        conversation = PREFIX + user_id
        if name == "user_send_text":
            raw_text = message.get("text")
            text = clean_text(raw_text).strip() if isinstance(raw_text, str) else ""
            if not text:
                return "ignored (empty text)"

            async def to_rasa() -> None:
                await on_new_message(UserMessage(text, ZaloOutput(self.client), conversation,
                                                 input_channel=self.name(), message_id=msg_id or None,
                                                 metadata={"msg_id": msg_id or None}))

            await self._queue(user_id, "message", to_rasa)
            return "text → dialogue"
        if name == "follow":
            await self._queue(user_id, "welcome",
                              lambda: ZaloOutput(self.client).send_text_message(conversation, WELCOME_TEXT))
            return "follow → welcome"
        if name.startswith("user_send_"):
            await self._queue(user_id, "text-only notice",
                              lambda: ZaloOutput(self.client).send_text_message(conversation, TEXT_ONLY_TEXT))
            return "non-text → notice"
        return "ignored"

    # -- routes ---------------------------------------------------------------------------------------
    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        zalo_webhook = Blueprint("zalo_webhook", __name__)

        @zalo_webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @zalo_webhook.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            raw: bytes = request.body or b""
            signature = request.headers.get(HEADER)
            if not signature:
                logger.warning("zalo webhook rejected: no %s header (%d bytes)", HEADER, len(raw))
                return response.json({"error": "unauthorized"}, status=401)
            if len(raw) > MAX_BODY_BYTES:
                return response.json({"error": "payload too large"}, status=413)
            ok, event = load_json(raw)
            if not ok or not isinstance(event, dict):
                # The signed timestamp is a body field: a body that is not a JSON object cannot
                # be verified, and is not an event either.
                logger.warning("zalo webhook rejected: body is not a JSON object (%d bytes)", len(raw))
                return response.json({"error": "malformed JSON"}, status=400)
            # A timestamp with a lone surrogate cannot be part of a signature (it has no UTF-8).
            candidates = timestamp_candidates(request.headers.get(TIMESTAMP_HEADER), event.get("timestamp"))
            candidates = [ts for ts in candidates if not unsafe_chars(ts)]
            if not verify(signature, self.config.app_id, raw, candidates, self.config.oa_secret_key):
                logger.warning("zalo webhook rejected: bad signature (event %s, %d bytes)",
                               _event_name(event), len(raw))
                return response.json({"error": "unauthorized"}, status=401)
            try:
                outcome = await self._dispatch(event, on_new_message)
            except Exception as e:  # noqa: BLE001 - a signed but odd event: dropped, Zalo is not made to retry it
                logger.error("zalo webhook: an event could not be read (%s); skipped", type(e).__name__)
                outcome = "unreadable (dropped)"
            logger.debug("zalo webhook: %s %s", _event_name(event), outcome)
            return response.json({"status": "ok"})

        @zalo_webhook.listener("before_server_stop")
        async def drain(app: Any, loop: Any) -> None:
            pending = [t for t in self._tasks if not t.done()]
            if pending:
                logger.info("zalo: waiting for %d background tasks before stopping", len(pending))
                await asyncio.wait(pending, timeout=20)

        @zalo_webhook.listener("after_server_stop")
        async def close(app: Any, loop: Any) -> None:
            await self.client.close()

        return zalo_webhook
