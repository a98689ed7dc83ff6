"""Facebook Messenger channel: Rasa's ``facebook`` webhook with today's signature and our formatting.

Configured in credentials.yml as ``bot.channels.facebook.MessengerInput`` (keys ``verify``,
``secret``, ``page-access-token`` as in Rasa's channel, plus ``graph_base_url`` and
``graph_version``). Differences from Rasa 3.6's ``FacebookInput``:

* POSTs must carry a valid ``X-Hub-Signature-256`` (HMAC-SHA256 of the raw body with the app
  secret); unsigned or forged posts get 403 and nothing reaches the dialogue. A wrong verify
  token on the GET handshake gets 403 too.
* Every event of a batched delivery is handled (Rasa's stops at the first), echoes,
  deliveries and reads are ignored, attachments get a polite text, text is cleaned
  (``bot.channels.safety.clean_text``: NFC, no lone surrogates or control characters),
  redelivered message ids are dropped. A field of the wrong type, or a sender id that is not a
  plain id, drops that event (200, nothing sent); a body that is not JSON gets 400. The
  webhook answers 200 at once; the dialogue runs in the background, one message at a time per
  sender and in the order received.
* Sending goes to ``{graph_base_url}/{graph_version}/me/messages`` through aiohttp (not the
  blocking ``fbmessenger`` client), retried with backoff on network errors, 5xx and
  throttling. Text and buttons are rendered with the shared formatting layer
  (``bot.channels.formatting``) within Messenger's limits, and no button is dropped.
* Conversations are ``fb:<psid>`` in Rasa. The output channel strips the prefix before calling
  the Graph API and refuses (logs, sends nothing) a recipient without it, so an operator API
  call for another channel's conversation can never make the Page send.
* Replays: an event older than Meta's retry horizon (``REPLAY_HORIZON_S``) or dated more than
  ``CLOCK_SKEW_S`` in the future is answered 200 and not processed. Redelivered message ids are
  remembered across workers (Redis, ``DVC_REDIS_URL``) or, without Redis, across restarts in
  ``DVC_SEEN_DB`` (bot/channels/ordering.py), for that horizon.
* Only safe links leave (bot/channels/safety.py): a link button, element or attachment with
  another URL is dropped.
* Logs never contain message text, tokens or PSIDs (senders appear as a short hash).

Imported by the Rasa server: standard library, Rasa, aiohttp and sanic only.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import random
import time
from typing import Any, Awaitable, Callable, Dict, Iterable, List, Optional, Set, Tuple, Union

import aiohttp
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.facebook import FacebookInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import metrics
from bot.channels import ordering
from bot.channels.facebook_signature import valid_signature
from bot.channels.formatting import (
    ChannelLimits,
    NeutralButton,
    chunk_buttons,
    neutral_buttons,
    shorten_title,
    split_text,
)
from bot.channels.ordering import RecentIds, SenderLocks, SharedOrder, redelivery_memory
from bot.channels.safety import clean_id, clean_text, load_json, safe_buttons, safe_link, scrub_links
from bot.texts import ATTACHMENT_REPLY, CHOOSE_PROMPT, MORE_LINKS, MORE_OPTIONS, QUICK_REPLY_PROMPT

logger = logging.getLogger(__name__)

DEFAULT_GRAPH_BASE_URL = "https://graph.facebook.com"
DEFAULT_GRAPH_VERSION = "v19.0"

# Messenger's limits (Send API, button template, quick replies).
LIMITS = ChannelLimits(text=2000, buttons=3, button_title=20)
TEMPLATE_TEXT = 640  # characters of a button template's text
QUICK_REPLIES = 13  # quick replies per message
PAYLOAD = 1000  # characters of a postback / quick reply payload


PREFIX = "fb:"
# Meta retries a webhook delivery that failed "immediately, then a few more times with decreasing
# frequency over the next 36 hours" (Graph API webhooks documentation, "Event Notifications";
# [check] the Messenger Platform page mentions 8 hours of retries for failed deliveries). The
# longer figure is used: an event older than this is a replay, not a retry.
REPLAY_HORIZON_S = 36 * 3600
CLOCK_SKEW_S = 5 * 60  # an event's timestamp may be this far in our future (clocks differ)

# Graph error codes that mean "try again later" even when the HTTP status is 4xx:
# 1/2 unknown/temporary, 4/17/32/613 rate limits, 1200 temporary send failure.
TRANSIENT_GRAPH_CODES = {1, 2, 4, 17, 32, 613, 1200}


def pseudonym(psid: str) -> str:
    """A short stable hash of a PSID for logs (the PSID itself is personal data)."""
    psid = psid[len(PREFIX):] if psid.startswith(PREFIX) else psid
    return "fb:" + hashlib.sha256(("messenger-psid:" + psid).encode("utf-8")).hexdigest()[:12]


def platform_id(recipient_id: Any) -> Optional[str]:
    """The PSID of a ``fb:<psid>`` conversation; None for any other channel's conversation."""
    return ordering.platform_id(recipient_id, PREFIX)


def event_age_problem(timestamp: Any, now_ms: float) -> Optional[str]:
    """Why an event's ``timestamp`` (ms) makes it a replay, or None when it is fresh."""
    return ordering.event_age_problem(timestamp, now_ms, REPLAY_HORIZON_S, CLOCK_SKEW_S)


# ---------------------------------------------------------------------------------------------
# Graph API client


class GraphClient:
    """POSTs to ``/me/messages`` with retries; one aiohttp session per Rasa server."""

    def __init__(self, page_access_token: str, base_url: Optional[str] = None, version: Optional[str] = None,
                 *, timeout: float = 20.0, max_retries: int = 3, backoff: float = 0.5) -> None:
        base = (base_url or DEFAULT_GRAPH_BASE_URL).strip().rstrip("/")
        version = (version or DEFAULT_GRAPH_VERSION).strip().strip("/")
        self.url = f"{base}/{version}/me/messages"
        self.page_access_token = page_access_token or ""
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self._session: Optional[aiohttp.ClientSession] = None

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout),
                                                  raise_for_status=False)
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def send_message(self, recipient_id: str, message: Dict[str, Any]) -> bool:
        body = {"recipient": {"id": recipient_id}, "messaging_type": "RESPONSE", "message": message}
        return await self._post(body, recipient_id, "message", retries=self.max_retries)

    async def send_action(self, recipient_id: str, action: str) -> bool:
        """Sender actions (typing indicator) are a courtesy: one attempt, failures only logged."""
        body = {"recipient": {"id": recipient_id}, "sender_action": action}
        return await self._post(body, recipient_id, action, retries=0, timeout=min(self.timeout, 5.0))

    async def _post(self, body: Dict[str, Any], recipient_id: str, what: str, retries: int,
                    timeout: Optional[float] = None) -> bool:
        who = pseudonym(recipient_id)
        for attempt in range(retries + 1):
            retry_after: Optional[float] = None
            try:
                session = self._get_session()
                async with session.post(self.url, params={"access_token": self.page_access_token}, json=body,
                                        timeout=aiohttp.ClientTimeout(total=timeout or self.timeout)) as resp:
                    raw = await resp.read()
                    if resp.status < 300:
                        logger.debug("facebook send ok: %s to %s (attempt %d)", what, who, attempt + 1)
                        return True
                    code, subcode, trace, transient = _graph_error(raw)
                    retryable = resp.status >= 500 or resp.status == 429 or transient
                    retry_after = _retry_after(resp.headers.get("Retry-After"))
                    problem = f"HTTP {resp.status} (graph code {code}, subcode {subcode}, fbtrace_id {trace})"
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as e:
                retryable = True
                problem = f"network error {type(e).__name__}"
            if not retryable or attempt >= retries:
                metrics.send_failed("facebook")
                logger.error("facebook send failed: %s to %s after %d attempt(s): %s",
                             what, who, attempt + 1, problem)
                return False
            delay = retry_after if retry_after is not None else self.backoff * (2 ** attempt)
            delay = min(delay, 30.0) * (1 + random.random() * 0.2)
            metrics.send_retried("facebook")
            logger.warning("facebook send: %s to %s failed (%s); retry %d/%d in %.1fs",
                           what, who, problem, attempt + 1, retries, delay)
            await asyncio.sleep(delay)
        return False


def _graph_error(raw: bytes) -> Tuple[Any, Any, Any, bool]:
    """Code, subcode, fbtrace_id and transience of a Graph error body (its message is not logged)."""
    try:
        error = json.loads(raw or b"{}").get("error") or {}
    except (ValueError, AttributeError):
        return None, None, None, False
    if not isinstance(error, dict):
        return None, None, None, False
    code = error.get("code")
    transient = bool(error.get("is_transient")) or code in TRANSIENT_GRAPH_CODES
    return code, error.get("error_subcode"), error.get("fbtrace_id"), transient


def _retry_after(value: Optional[str]) -> Optional[float]:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


# ---------------------------------------------------------------------------------------------
# Output


def _fit_payload(button: NeutralButton) -> str:
    payload = button.payload or button.title
    if len(payload) > PAYLOAD:
        # Graph would reject the whole message; the title, typed back as text, still gets an answer.
        logger.warning("facebook: a button payload longer than %d characters was replaced by its title", PAYLOAD)
        payload = button.title[:PAYLOAD]
    return payload


def template_button(button: NeutralButton) -> Dict[str, Any]:
    title = shorten_title(button.title, LIMITS.button_title)
    if button.is_link:  # only safe links get here (safe_buttons); checked again, cheaply
        url = safe_link(button.url)
        if url is None:
            return {"type": "postback", "title": title, "payload": _fit_payload(NeutralButton(button.title))}
        return {"type": "web_url", "url": url, "title": title}
    return {"type": "postback", "title": title, "payload": _fit_payload(button)}


def quick_reply(button: NeutralButton) -> Dict[str, Any]:
    return {"content_type": "text", "title": shorten_title(button.title, LIMITS.button_title),
            "payload": _fit_payload(button)}


def split_with_tail(text: str, tail_limit: int, default: str) -> Tuple[List[str], str]:
    """Split ``text`` into plain messages (≤ LIMITS.text) and a last part of ≤ ``tail_limit``
    characters, the one that carries buttons or quick replies."""
    parts = split_text(text or "", LIMITS.text)
    if not parts:
        return [], default
    last = parts.pop()
    if len(last) > tail_limit:
        tail = split_text(last, tail_limit)[-1]  # always an exact suffix of ``last``
        head = last[: len(last) - len(tail)].rstrip()
        parts.extend(split_text(head, LIMITS.text))
        last = tail
    return parts, last


class MessengerOutput(OutputChannel):
    """Renders channel-neutral messages within Messenger's limits and sends them via the Graph API."""

    @classmethod
    def name(cls) -> str:
        return "facebook"

    def __init__(self, client: GraphClient) -> None:
        super().__init__()
        self.client = client

    async def _send(self, recipient_id: str, message: Dict[str, Any]) -> bool:
        psid = platform_id(recipient_id)
        if psid is None:
            logger.error("facebook: refused to send to a conversation of another channel (%s)",
                         pseudonym(str(recipient_id)))
            return False
        return await self.client.send_message(psid, message)

    async def send_action(self, recipient_id: str, sender_action: str) -> None:
        psid = platform_id(recipient_id)
        if psid is None:
            logger.error("facebook: refused a sender action for a conversation of another channel (%s)",
                         pseudonym(str(recipient_id)))
            return
        await self.client.send_action(psid, sender_action)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        for part in split_text(text or "", LIMITS.text):
            await self._send(recipient_id, {"text": part})

    async def send_text_with_buttons(self, recipient_id: str, text: str, buttons: List[Dict[str, Any]],
                                     **kwargs: Any) -> None:
        await self._send_with_buttons(recipient_id, text, neutral_buttons(safe_buttons(buttons, "facebook")),
                                      quick=False)

    async def send_quick_replies(self, recipient_id: str, text: str, quick_replies: List[Dict[str, Any]],
                                 **kwargs: Any) -> None:
        await self._send_with_buttons(recipient_id, text, neutral_buttons(safe_buttons(quick_replies, "facebook")),
                                      quick=True)

    async def _send_with_buttons(self, recipient_id: str, text: str, buttons: List[NeutralButton],
                                 quick: bool) -> None:
        if not buttons:
            await self.send_text_message(recipient_id, text)
            return
        if len(buttons) <= LIMITS.buttons and not quick:
            await self._send_templates(recipient_id, text, buttons)
            return
        # More than 3: payload buttons become quick replies (kept last, where Messenger shows them),
        # links go in button templates of their own, carrying the text.
        links = [b for b in buttons if b.is_link]
        choices = [b for b in buttons if not b.is_link]
        if links:
            await self._send_templates(recipient_id, text, links, more=MORE_LINKS)
            text = QUICK_REPLY_PROMPT
        if not choices:
            return
        if len(choices) > QUICK_REPLIES:
            # Quick replies vanish once another message arrives, so an overflow would be lost:
            # postback buttons stay in the thread instead.
            await self._send_templates(recipient_id, text, choices, more=MORE_OPTIONS)
            return
        plain, last = split_with_tail(text, LIMITS.text, CHOOSE_PROMPT)
        for part in plain:
            await self._send(recipient_id, {"text": part})
        await self._send(recipient_id, {"text": last, "quick_replies": [quick_reply(b) for b in choices]})

    async def _send_templates(self, recipient_id: str, text: str, buttons: List[NeutralButton],
                              more: str = CHOOSE_PROMPT) -> None:
        plain, last = split_with_tail(text, TEMPLATE_TEXT, CHOOSE_PROMPT)
        for part in plain:
            await self._send(recipient_id, {"text": part})
        for i, chunk in enumerate(chunk_buttons(buttons, LIMITS.buttons)):
            await self._send(recipient_id, {"attachment": {"type": "template", "payload": {
                "template_type": "button", "text": last if i == 0 else more,
                "buttons": [template_button(b) for b in chunk]}}})

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        url = safe_link(image)
        if url is None or not url.startswith("https://"):
            logger.warning("facebook: an image with an unsafe URL was not sent")
            return
        await self._send(recipient_id, {"attachment": {"type": "image", "payload": {"url": url,
                                                                                    "is_reusable": True}}})

    async def send_attachment(self, recipient_id: str, attachment: Any, **kwargs: Any) -> None:
        if isinstance(attachment, dict):
            cleaned = scrub_links(attachment)
            if cleaned is None:
                logger.warning("facebook: an attachment with an unsafe link was not sent")
                return
            await self._send(recipient_id, {"attachment": cleaned})
        else:
            await self.send_text_message(recipient_id, str(attachment))

    async def send_elements(self, recipient_id: str, elements: Iterable[Dict[str, Any]], **kwargs: Any) -> None:
        items = []
        for element in elements:
            buttons = element.get("buttons") if isinstance(element, dict) else None
            cleaned = scrub_links({k: v for k, v in element.items() if k != "buttons"}) \
                if isinstance(element, dict) else None
            if cleaned is None:
                logger.warning("facebook: an element with an unsafe link was not sent")
                continue
            if buttons:
                cleaned["buttons"] = [template_button(b) for b in
                                      neutral_buttons(safe_buttons(buttons, "facebook"))][:LIMITS.buttons]
            items.append(cleaned)
        for chunk in [items[i:i + 10] for i in range(0, len(items), 10)]:  # generic template: ≤ 10 elements
            await self._send(recipient_id, {"attachment": {"type": "template", "payload": {
                "template_type": "generic", "elements": chunk}}})

    async def send_custom_json(self, recipient_id: str, json_message: Union[List, Dict[str, Any]],
                               **kwargs: Any) -> None:
        for message in json_message if isinstance(json_message, list) else [json_message]:
            cleaned = scrub_links(message) if isinstance(message, dict) else None
            if cleaned is None:
                logger.warning("facebook: a custom payload with an unsafe link (or not an object) was not sent")
                continue
            await self._send(recipient_id, cleaned)


# ---------------------------------------------------------------------------------------------
# Input


class MessengerInput(FacebookInput):
    """Rasa's ``facebook`` channel (same URL: /webhooks/facebook/webhook) with the sha256 signature."""

    @classmethod
    def name(cls) -> str:
        return "facebook"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        if not credentials:
            cls.raise_missing_credentials_exception()
        return cls(credentials.get("verify"), credentials.get("secret"), credentials.get("page-access-token"),
                   graph_base_url=credentials.get("graph_base_url"), graph_version=credentials.get("graph_version"))

    def __init__(self, fb_verify: str, fb_secret: str, fb_access_token: str,
                 graph_base_url: Optional[str] = None, graph_version: Optional[str] = None) -> None:
        super().__init__(str(fb_verify or ""), str(fb_secret or ""), str(fb_access_token or ""))
        self.client = GraphClient(self.fb_access_token, graph_base_url or None, graph_version or None)
        self._locks = SenderLocks("facebook")
        self._tasks: Set[asyncio.Task] = set()
        self._seen = RecentIds(4096)  # recent message ids (Meta redelivers)
        # The same across Rasa workers (Redis) or across restarts (SQLite), for the retry horizon.
        self._shared_seen = redelivery_memory("facebook", REPLAY_HORIZON_S + CLOCK_SKEW_S)
        self._order = SharedOrder("facebook")  # a user's messages in order across Rasa workers
        if not self.fb_secret:
            logger.error("facebook: no app secret configured; every webhook POST will be refused")

    def get_output_channel(self) -> OutputChannel:
        return MessengerOutput(self.client)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        fb_webhook = Blueprint("facebook_messenger_webhook", __name__)

        @fb_webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @fb_webhook.route("/webhook", methods=["GET"])
        async def token_verification(request: Request) -> HTTPResponse:
            token = request.args.get("hub.verify_token")
            mode = request.args.get("hub.mode")
            if self._verify_token_matches(token) and mode in (None, "subscribe"):
                return response.text(request.args.get("hub.challenge") or "")
            logger.warning("facebook: webhook verification with a wrong verify token (or mode) refused")
            return response.text("forbidden", status=403)

        @fb_webhook.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            if not valid_signature(request.body or b"", request.headers.get("X-Hub-Signature-256"), self.fb_secret):
                logger.warning("facebook: webhook POST with a missing or invalid X-Hub-Signature-256 refused")
                return response.text("invalid signature", status=403)
            ok, payload = load_json(request.body)
            if not ok:
                return response.text("invalid json", status=400)
            metadata = self.get_metadata(request)
            count = 0
            for event in _messaging_events(payload):
                try:
                    count += await self._dispatch(event, on_new_message, metadata)
                except Exception as exc:  # noqa: BLE001 - one odd event must not make Meta redeliver the batch
                    logger.error("facebook: an event could not be read (%s); skipped", type(exc).__name__)
            logger.debug("facebook: webhook accepted, %d message(s) scheduled", count)
            return response.text("EVENT_RECEIVED")

        @fb_webhook.listener("after_server_stop")
        async def close_client(app: Any, loop: Any) -> None:
            await self.client.close()

        return fb_webhook

    def _verify_token_matches(self, token: Optional[str]) -> bool:
        if not self.fb_verify or token is None:
            return False
        return hmac.compare_digest(token.encode("utf-8"), self.fb_verify.encode("utf-8"))

    # -- events ----------------------------------------------------------------------------

    async def _dispatch(self, event: Dict[str, Any], on_new_message: Callable[[UserMessage], Awaitable[Any]],
                  metadata: Optional[Dict[str, Any]]) -> int:
        """Schedule the handling of one messaging event; returns 1 if something was scheduled."""
        sender = event.get("sender")
        sender_id = clean_id(sender.get("id")) if isinstance(sender, dict) else None
        if not sender_id:
            return 0
        text: Optional[str] = None
        attachment = False
        mid: Optional[str] = None
        message = event.get("message")
        postback = event.get("postback")
        if isinstance(message, dict):
            if message.get("is_echo"):
                return 0
            mid = clean_id(message.get("mid"))
            quick = message.get("quick_reply")
            payload = quick.get("payload") if isinstance(quick, dict) else None
            if isinstance(payload, str) and payload:
                text = clean_text(payload)
            elif isinstance(message.get("text"), str) and message["text"]:
                text = clean_text(message["text"])
            elif message.get("attachments"):
                attachment = True
            else:
                return 0
        elif isinstance(postback, dict):
            mid = clean_id(postback.get("mid"))
            payload = postback.get("payload") or postback.get("title")
            if not isinstance(payload, str) or not payload:
                return 0
            text = clean_text(payload)
        else:
            return 0  # delivery, read, reaction, referral, optin…: nothing to answer
        problem = event_age_problem(event.get("timestamp"), time.time() * 1000)
        if problem:
            logger.warning("facebook: event from %s refused as a replay (%s)", pseudonym(sender_id), problem)
            return 0
        if mid and not self._seen.first_time(str(mid)):
            logger.info("facebook: redelivered message from %s ignored", pseudonym(sender_id))
            return 0
        if mid and not await self._shared_seen.first_time(str(mid)):
            logger.info("facebook: redelivered message from %s ignored (another worker has it)", pseudonym(sender_id))
            return 0
        ticket = await self._order.ticket(sender_id)  # taken before Meta gets its answer: arrival order
        task = asyncio.create_task(self._handle(sender_id, text, attachment, mid, on_new_message, metadata, ticket))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return 1

    async def _handle(self, sender_id: str, text: Optional[str], attachment: bool, mid: Optional[str],
                      on_new_message: Callable[[UserMessage], Awaitable[Any]],
                      metadata: Optional[Dict[str, Any]], ticket: Optional[int] = None) -> None:
        async with self._order.turn(sender_id, ticket), self._locks.hold(sender_id):
            out = MessengerOutput(self.client)
            conversation = PREFIX + sender_id
            try:
                if attachment or text is None:
                    await out.send_text_message(conversation, ATTACHMENT_REPLY)
                    return
                await out.send_action(conversation, "typing_on")
                await on_new_message(UserMessage(text, out, conversation, input_channel=self.name(),
                                                 message_id=mid, metadata=metadata))
            except Exception:
                logger.exception("facebook: handling a message from %s failed", pseudonym(sender_id))


def _messaging_events(payload: Any) -> Iterable[Dict[str, Any]]:
    if not isinstance(payload, dict) or payload.get("object") != "page":
        return
    entries = payload.get("entry")
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        events = entry.get("messaging")  # "standby" (handover protocol) is not ours
        for event in events if isinstance(events, list) else []:
            if isinstance(event, dict):
                yield event
