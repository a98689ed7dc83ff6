"""Performance fixes for Rasa 3.6, applied in the Rasa server when it imports ``bot``
(the model's tokenizer lives in ``bot.components``, so every Rasa process imports it).

``RemoteAction._validate_action_result`` calls ``jsonschema.validate`` on every answer of
the action server. That function first checks the schema itself against the JSON Schema
meta-schema, then builds a validator, and Rasa's response schema (every event type) is
large: 20 ms of CPU per action call on these machines, a third of a whole turn. The fix
builds the validator once (the schema is checked once, here) and validates each answer
with it: 0.8 ms. Behaviour is unchanged: the same errors, chosen the same way
(``best_match``), with Rasa's own message appended.

With several Sanic workers (``DVC_CLOSE_CONNECTIONS=1``, set by scripts/stack.py for the
webhook workers only), each HTTP connection is closed after its answer. The workers share
one listening socket and a kept-alive connection stays with the worker that accepted it:
ten conversations on ten connections were split 7:3 or worse, and the busy worker set the
latency while the other idled. A new connection is accepted by whichever worker is free.
Websocket upgrades are left alone (the portal's widget has its own Rasa process anyway).

Personal data (docs/PRIVACY.md), masked with ``knowledge.text.pii.mask_pii``:

* A citizen's message is masked before NLU reads it and before it enters the tracker
  (``MessageProcessor._handle_message_with_tracker``, through which every user message
  goes: channels, the REST webhook, the HTTP API). The one exception is the answer to the
  consented contact question (``handover_contact_form`` asking for ``contact`` after
  ``contact_consent`` was given): phone numbers and e-mail addresses are then kept so the
  form can read them; ID numbers and names are still masked.
* Every user message's text is cleaned (``bot.channels.safety.clean_text``: NFC, a lone
  surrogate replaced, control characters dropped) and a sender id with a surrogate or a
  control character is not handled: stored, either made Rasa's SQL tracker store call
  ``sys.exit`` (it takes the ``UnicodeEncodeError`` for a missing PostgreSQL schema) and the
  whole Rasa process stopped. The channels refuse such input themselves; this is the net for
  every other way in (the portal socket, the HTTP API).
* A message longer than ``DVC_MAX_MESSAGE_CHARS`` (default 2000) is not read at all: the
  citizen gets ``TOO_LONG`` on the same output channel and nothing is stored
  (``MessageProcessor.handle_message``).
* The tracker stores (SQL, Redis, in-memory) keep masked copies: every string of every
  stored event (user and bot text, parse data, slot values, the ``contact`` slot too: the
  consented contact is kept in the desk database only) is masked at save time. The tracker
  of the running turn is left as it is, so the action server still reads the contact in
  that turn.
* Log records: every record's message (arguments and traceback included) is masked when
  it is created (a log record factory: it sees the records of handlers Rasa installs after
  this ran too), and Sanic's access log lines lose ``token=`` values (knowledge/observability/logs.py,
  shared with the knowledge service and the action server).

Observability (bot/metrics.py, docs/OPERATIONS.md): each user message is counted and timed per
channel with a request id and the conversation's pseudonym bound for its logs; fallbacks and
handovers are counted from the actions run; Rasa's app gets ``/metrics`` (and JSON logs with
``DVC_LOG_FORMAT=json``); the request id goes on to the action server as ``X-Request-ID``.

Each patch checks that the function it replaces is the one it was written for (by Rasa
version) and otherwise leaves Rasa alone, logging why. ``apply()`` may run more than once
and before a model is loaded (``bot/serve.py`` calls it before Rasa starts; importing
``bot.components`` calls it again): each patch is applied once. The Sanic patch waits for
Sanic's start-up (its TouchUp recompiles ``Http`` methods), i.e. for the second call.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any, Dict, Optional

from bot.texts import TOO_LONG
from knowledge.observability.logs import (  # noqa: F401 - re-exported: the masking every process uses
    SecretLogFilter,
    install_log_masking,
    mask_log_record,
    mask_log_text,
    outgoing_headers,
)
from knowledge.text.pii import mask_pii

log = logging.getLogger(__name__)
PATCHED_RASA = ("3.6.",)
_MARK = "_dvc_patched"
_warned: set = set()

MAX_MESSAGE_ENV = "DVC_MAX_MESSAGE_CHARS"
DEFAULT_MAX_MESSAGE_CHARS = 2000
CONTACT_FORM = "handover_contact_form"
CONTACT_SLOT = "contact"
CONSENT_SLOT = "contact_consent"
# Keys of a stored event whose values are names or ids chosen by the bot, never the citizen's words.
STRUCTURAL_KEYS = frozenset({"event", "timestamp", "message_id", "input_channel", "policy", "name",
                             "confidence", "intent_name", "action_name", "entity", "extractor", "model_id",
                             "assistant_id", "action_text_id"})


def apply() -> bool:
    """Apply the patches; True if they are in place. Safe to call again (each patch applies once)."""
    try:
        import rasa
        from rasa.core.actions.action import RemoteAction
    except ImportError:  # not inside the Rasa environment (e.g. the knowledge service's tests)
        return False
    _install_log_masking()  # standard library only: on any Rasa version
    version = str(getattr(rasa, "__version__", ""))
    if not version.startswith(PATCHED_RASA):
        if version not in _warned:
            _warned.add(version)
            log.warning("rasa %s: patches (action-response validation, masking of personal data, message "
                        "length) not applied: written for %s", version or "?", PATCHED_RASA)
        return False
    if not getattr(RemoteAction._validate_action_result, _MARK, False):
        RemoteAction._validate_action_result = _cached_validation(RemoteAction)  # type: ignore[method-assign]
    _mask_user_messages()
    _mask_tracker_stores()
    _observe()
    if os.environ.get("DVC_CLOSE_CONNECTIONS") == "1":
        _close_connections()
    return True


def _close_connections() -> None:
    import sanic
    from sanic.http import Http

    if not str(sanic.__version__).startswith("21.12") or getattr(Http.http1_request_header, _MARK, False):
        return
    if not getattr(Http, "__touched__", False):
        return  # before Sanic's start-up: its TouchUp would recompile the patch away; applied on the next call
    original = Http.http1_request_header

    async def http1_request_header(self: Any) -> None:
        await original(self)
        request = getattr(self, "request", None)
        if request is not None and "upgrade" not in request.headers:
            self.keep_alive = False  # answered with "Connection: close"

    setattr(http1_request_header, _MARK, True)
    Http.http1_request_header = http1_request_header


def _cached_validation(remote_action: Any) -> Any:
    from jsonschema import ValidationError
    from jsonschema.exceptions import best_match
    from jsonschema.validators import validator_for
    from rasa.shared.constants import DOCS_BASE_URL

    spec = remote_action.action_response_format_spec()
    cls = validator_for(spec)
    cls.check_schema(spec)
    validator = cls(spec)

    def _validate_action_result(self: Any, result: dict[str, Any]) -> bool:
        error: ValidationError | None = best_match(validator.iter_errors(result))
        if error is None:
            return True
        error.message += (
            ". Failed to validate Action server response from API, "
            "make sure your response from the Action endpoint is valid. "
            "For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error

    setattr(_validate_action_result, _MARK, True)
    return _validate_action_result


# -- personal data: messages ------------------------------------------------------------------

def max_message_chars(env: Optional[Dict[str, str]] = None) -> int:
    raw = (os.environ if env is None else env).get(MAX_MESSAGE_ENV, "")
    try:
        value = int(raw) if raw.strip() else DEFAULT_MAX_MESSAGE_CHARS
    except ValueError:
        value = DEFAULT_MAX_MESSAGE_CHARS
    return value if value > 0 else DEFAULT_MAX_MESSAGE_CHARS


def too_long_answer(limit: int) -> str:
    return TOO_LONG.format(limit=limit)


def answering_contact(tracker: Any) -> bool:
    """True while the citizen, having consented, is asked for the contact an officer should use."""
    try:
        return (tracker.active_loop_name == CONTACT_FORM and tracker.get_slot("requested_slot") == CONTACT_SLOT
                and tracker.get_slot(CONSENT_SLOT) is True)
    except Exception:  # noqa: BLE001 - a tracker we cannot read: mask everything
        return False


def mask_message(message: Any, tracker: Any) -> None:
    """Mask ``message`` (a rasa UserMessage) in place, keeping the contact when it is being asked for."""
    keep = answering_contact(tracker)
    if isinstance(message.text, str) and message.text:
        message.text = mask_pii(message.text, keep_contact=keep)
    parse_data = message.parse_data
    if isinstance(parse_data, dict) and isinstance(parse_data.get("text"), str):
        parse_data["text"] = mask_pii(parse_data["text"], keep_contact=keep)


def _mask_user_messages() -> None:
    from rasa.core.channels.channel import CollectingOutputChannel
    from rasa.core.processor import MessageProcessor

    if getattr(MessageProcessor.handle_message, _MARK, False):
        return
    original_handle = MessageProcessor.handle_message
    original_with_tracker = MessageProcessor._handle_message_with_tracker

    async def handle_message(self: Any, message: Any) -> Any:
        from bot import metrics
        from bot.channels.safety import clean_text, unsafe_chars

        if not isinstance(message.sender_id, str) or unsafe_chars(message.sender_id):
            # Such an id cannot be stored (and Rasa's SQL tracker store exits on it): not handled.
            log.warning("a message with an unusable sender id was dropped")
            return [] if isinstance(message.output_channel, CollectingOutputChannel) else None
        with metrics.turn(message.input_channel, message.sender_id):
            if isinstance(message.text, str):
                message.text = clean_text(message.text)
            limit = max_message_chars()
            if isinstance(message.text, str) and len(message.text) > limit:
                # Not parsed, not predicted on, not stored: only its length is logged.
                log.info("message of %d characters answered with the length notice (limit %d)",
                         len(message.text), limit)
                await message.output_channel.send_response(message.sender_id, {"text": too_long_answer(limit)})
                if isinstance(message.output_channel, CollectingOutputChannel):
                    return message.output_channel.messages
                return None
            return await original_handle(self, message)

    async def _handle_message_with_tracker(self: Any, message: Any, tracker: Any) -> None:
        mask_message(message, tracker)
        await original_with_tracker(self, message, tracker)

    for fn in (handle_message, _handle_message_with_tracker):
        setattr(fn, _MARK, True)
    MessageProcessor.handle_message = handle_message  # type: ignore[method-assign]
    MessageProcessor._handle_message_with_tracker = _handle_message_with_tracker  # type: ignore[method-assign]


# -- personal data: tracker stores ------------------------------------------------------------

def mask_value(value: Any) -> Any:
    """Every string inside ``value`` masked (dicts and lists walked; structural keys left)."""
    if isinstance(value, str):
        return mask_pii(value)
    if isinstance(value, list):
        return [mask_value(v) for v in value]
    if isinstance(value, dict):
        return {k: v if k in STRUCTURAL_KEYS else mask_value(v) for k, v in value.items()}
    return value


def mask_event_dict(data: Dict[str, Any]) -> Dict[str, Any]:
    return {k: v if k in STRUCTURAL_KEYS else mask_value(v) for k, v in data.items()}


class MaskedEvent:
    """What SQLTrackerStore.save reads of an event (``type_name``, ``as_dict()``), masked."""

    def __init__(self, event: Any) -> None:
        self.type_name = event.type_name
        self._data = mask_event_dict(event.as_dict())

    def as_dict(self) -> Dict[str, Any]:
        return self._data


def serialise_masked(tracker: Any) -> str:
    """SerializedTrackerAsText.serialise_tracker with every event masked (the tracker is not changed)."""
    dialogue = tracker.as_dialogue().as_dict()
    dialogue["events"] = [mask_event_dict(e) for e in dialogue.get("events") or []]
    return json.dumps(dialogue)


def _mask_tracker_stores() -> None:
    from rasa.core.tracker_store import InMemoryTrackerStore, RedisTrackerStore, SQLTrackerStore

    if not getattr(SQLTrackerStore._additional_events, _MARK, False):
        original_additional = SQLTrackerStore._additional_events

        def _additional_events(self: Any, session: Any, tracker: Any) -> Any:
            return [MaskedEvent(e) for e in original_additional(self, session, tracker)]

        setattr(_additional_events, _MARK, True)
        SQLTrackerStore._additional_events = _additional_events  # type: ignore[method-assign]
    for store in (RedisTrackerStore, InMemoryTrackerStore):
        if not getattr(store.serialise_tracker, _MARK, False):
            fn = staticmethod(serialise_masked)
            setattr(serialise_masked, _MARK, True)
            store.serialise_tracker = fn  # type: ignore[assignment]


# -- personal data and secrets: logs ----------------------------------------------------------

def _install_log_masking() -> None:
    """The masking every process installs (knowledge/observability/logs.py): the record factory
    and the access-log filter; records also carry the bound request id and conversation pseudonym."""
    install_log_masking()


# -- observability: metrics, request ids, JSON logs (bot/metrics.py) ---------------------------

def _observe() -> None:
    """``/metrics`` and request ids on Rasa's app (``rasa.core.run.configure_app``), fallbacks and
    handovers counted from the actions run (``MessageProcessor._run_action``), and the request id
    sent on to the action server (``EndpointConfig.request``)."""
    import rasa.core.run
    from rasa.core.processor import MessageProcessor
    from rasa.utils.endpoints import EndpointConfig

    from bot import metrics

    if not getattr(rasa.core.run.configure_app, _MARK, False):
        original_configure = rasa.core.run.configure_app

        def configure_app(*args: Any, **kwargs: Any) -> Any:
            return metrics.install(original_configure(*args, **kwargs))

        setattr(configure_app, _MARK, True)
        rasa.core.run.configure_app = configure_app
    if not getattr(MessageProcessor._run_action, _MARK, False):
        original_run_action = MessageProcessor._run_action

        async def _run_action(self: Any, action: Any, *args: Any, **kwargs: Any) -> Any:
            metrics.action_predicted(action.name())
            return await original_run_action(self, action, *args, **kwargs)

        setattr(_run_action, _MARK, True)
        MessageProcessor._run_action = _run_action  # type: ignore[method-assign]
    if not getattr(EndpointConfig.request, _MARK, False):
        original_request = EndpointConfig.request

        async def request(self: Any, *args: Any, **kwargs: Any) -> Any:
            kwargs["headers"] = outgoing_headers(kwargs.get("headers"))
            return await original_request(self, *args, **kwargs)

        setattr(request, _MARK, True)
        EndpointConfig.request = request  # type: ignore[method-assign]
