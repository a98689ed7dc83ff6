"""The action server's metrics: latency and errors per action, and its calls to the knowledge service.

Action names are those the server registered (anything else is "other"); a knowledge-service
call is labelled by the route's template (``/procedures/{id}``), never by the id in its URL.
"""

from __future__ import annotations

import re
import time
from collections.abc import Collection, Iterator
from contextlib import contextmanager

from prometheus_client import Counter, Histogram

from knowledge.observability.prometheus import OTHER, bounded

ACTION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
CLIENT_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
ACTION_OUTCOMES = ("rejected", "unknown", "failed")

ACTION_SECONDS = Histogram("dvc_action_seconds", "time to run one custom action, by action", ["action"],
                           buckets=ACTION_BUCKETS)
ACTION_ERRORS = Counter("dvc_action_errors_total", "action calls that did not succeed, by action and kind "
                        "(rejected: the action refused the call; unknown: not registered; failed: an exception)",
                        ["action", "kind"])
CLIENT_SECONDS = Histogram("dvc_knowledge_client_seconds", "time of one call to the knowledge service, by route "
                           "template and outcome (ok, error: unreachable or not 200)", ["method", "route", "outcome"],
                           buckets=CLIENT_BUCKETS)

# The knowledge service's paths the actions call, as templates (first match wins).
_ROUTES = (
    (re.compile(r"^/search$"), "/search"),
    (re.compile(r"^/(procedures|guides|directives)/[^/]+$"), r"/\1/{id}"),
    (re.compile(r"^/desk/handovers/[^/]+/contact$"), "/desk/handovers/{ref}/contact"),
    (re.compile(r"^/desk/(handovers|events|feedback)$"), r"/desk/\1"),
    (re.compile(r"^/demo/onestop/.*$"), "/demo/onestop"),
)


def client_route(path: str) -> str:
    for pattern, template in _ROUTES:
        if pattern.match(path):
            return pattern.sub(template, path)
    return OTHER


def action_label(name: object, registered: Collection[str]) -> str:
    return bounded(name, registered)


def action_error(name: str, kind: str) -> None:
    ACTION_ERRORS.labels(name, bounded(kind, ACTION_OUTCOMES)).inc()


@contextmanager
def timed_action(name: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        ACTION_SECONDS.labels(name).observe(time.perf_counter() - start)


@contextmanager
def timed_call(method: str, path: str) -> Iterator[None]:
    """Times one knowledge-service call; an exception leaving the block makes it an "error"."""
    start, outcome = time.perf_counter(), "error"
    try:
        yield
        outcome = "ok"
    finally:
        CLIENT_SECONDS.labels(bounded(method, ("GET", "POST")), client_route(path), outcome).observe(
            time.perf_counter() - start)
