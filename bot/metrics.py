"""Rasa's metrics (docs/OPERATIONS.md, "Metrics and logs"), counted by the hooks in bot/rasa_patches.py
and the channels; served at ``/metrics`` on Rasa's own port (knowledge/observability/sanic.py).

* a turn is one user message handled (``MessageProcessor.handle_message``), labelled by the
  channel it came in on (rest, facebook, zalo, socketio: the portal; anything else "other");
* fallbacks and handovers are the predicted actions ``action_default_fallback`` (the project's
  own fallback, actions/fallback.py) and ``action_handover``, counted in the turn's channel;
* the queue depth is the number of platform messages held or waiting in the per-sender order
  (bot/channels/ordering.py ``SenderLocks``), summed over the live Rasa workers;
* platform sends: retries and sends given up (Graph API, Zalo OA).

Each turn also binds a request id (the HTTP request's, or a new one for the portal's socket,
where one connection carries many messages) and the conversation's pseudonym for the logs.
Imported by the Rasa server (and by the channel code's tests in the other environment):
``prometheus-client`` and the standard library only.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Iterator, Optional

from prometheus_client import Counter, Gauge, Histogram

from knowledge.observability.logs import bound, log_format, new_request_id, request_id_var, use_json_everywhere
from knowledge.observability.prometheus import OTHER, bounded

CHANNELS = ("rest", "facebook", "zalo", "socketio")
PLATFORMS = ("facebook", "zalo")
FALLBACK_ACTIONS = frozenset({"action_default_fallback"})
HANDOVER_ACTIONS = frozenset({"action_handover"})
PORTAL_CHANNEL = "socketio"
TURN_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

TURNS = Counter("dvc_rasa_turns_total", "user messages handled, by channel", ["channel"])
TURN_SECONDS = Histogram("dvc_rasa_turn_seconds", "time to handle one user message (NLU, dialogue, actions, "
                         "replies), by channel", ["channel"], buckets=TURN_BUCKETS)
TURN_ERRORS = Counter("dvc_rasa_turn_errors_total", "user messages whose handling failed or timed out, by channel",
                      ["channel"])
FALLBACKS = Counter("dvc_rasa_fallbacks_total", "fallback answers (action_default_fallback), by channel",
                    ["channel"])
HANDOVERS = Counter("dvc_rasa_handovers_total", "handovers to an officer (action_handover), by channel",
                    ["channel"])
QUEUE_DEPTH = Gauge("dvc_rasa_channel_queue_depth", "platform messages being handled or waiting for the same "
                    "sender's earlier ones, by channel", ["channel"], multiprocess_mode="livesum")
SEND_RETRIES = Counter("dvc_rasa_platform_send_retries_total", "sends to a platform tried again, by platform",
                       ["platform"])
SEND_FAILURES = Counter("dvc_rasa_platform_send_failures_total", "sends to a platform given up, by platform",
                        ["platform"])

_turn_channel: ContextVar[str] = ContextVar("dvc_turn_channel", default=OTHER)


def channel_label(input_channel: object) -> str:
    return bounded(input_channel, CHANNELS)


@contextmanager
def turn(input_channel: object, sender_id: str) -> Iterator[None]:
    """Counts and times one user message; its logs carry a request id and the conversation's pseudonym."""
    channel = channel_label(input_channel)
    request_id = request_id_var.get()
    if channel == PORTAL_CHANNEL or not request_id:
        request_id = new_request_id()
    token = _turn_channel.set(channel)
    start = time.perf_counter()
    try:
        with bound(request_id=request_id, sender_id=sender_id):
            yield
    except (Exception, asyncio.CancelledError):
        TURN_ERRORS.labels(channel).inc()
        raise
    finally:
        TURNS.labels(channel).inc()
        TURN_SECONDS.labels(channel).observe(time.perf_counter() - start)
        _turn_channel.reset(token)


def action_predicted(action_name: str) -> None:
    """Counts the fallback and handover actions, in the channel of the turn that runs them."""
    if action_name in FALLBACK_ACTIONS:
        FALLBACKS.labels(_turn_channel.get()).inc()
    elif action_name in HANDOVER_ACTIONS:
        HANDOVERS.labels(_turn_channel.get()).inc()


@contextmanager
def queued(channel: str) -> Iterator[None]:
    gauge = QUEUE_DEPTH.labels(channel_label(channel))
    gauge.inc()
    try:
        yield
    finally:
        gauge.dec()


def send_retried(platform: str) -> None:
    SEND_RETRIES.labels(bounded(platform, PLATFORMS)).inc()


def send_failed(platform: str) -> None:
    SEND_FAILURES.labels(bounded(platform, PLATFORMS)).inc()


def install(app: Any, process: Optional[str] = None) -> Any:
    """``/metrics`` and request ids on Rasa's Sanic app; in JSON mode every handler Rasa and Sanic
    installed writes JSON lines. Returns the app."""
    from knowledge.observability import sanic

    sanic.install(app)
    if log_format() == "json":
        use_json_everywhere(process or "rasa")
    return app
