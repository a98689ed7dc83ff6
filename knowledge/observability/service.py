"""The knowledge service's metrics, its ``/metrics`` answer and the request id of each request.

Routes are labelled by their template (``/procedures/{procedure_id}``, ``/console``), taken from
the route that answered, never from the raw URL; a request no route matched is "unmatched".
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Optional

from prometheus_client import Counter, Histogram
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from knowledge.observability.logs import REQUEST_ID_HEADER, accepted_request_id, bound
from knowledge.observability.prometheus import METRICS_PATH, bounded, exposition, metrics_refusal

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
DECISIONS = ("confident", "ambiguous", "none")
UNMATCHED = "unmatched"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

REQUESTS = Counter("dvc_knowledge_requests_total", "HTTP requests answered, by route template and status",
                   ["method", "route", "status"])
REQUEST_SECONDS = Histogram("dvc_knowledge_request_seconds", "time to answer an HTTP request, by route template",
                            ["method", "route"], buckets=LATENCY_BUCKETS)
ERRORS = Counter("dvc_knowledge_errors_total", "requests that ended in a server error (5xx), by route template",
                 ["route"])
SEARCH_SECONDS = Histogram("dvc_knowledge_search_seconds", "time of one search (retrieval, fusion, match decision)",
                           buckets=LATENCY_BUCKETS)
MATCH_DECISIONS = Counter("dvc_knowledge_match_decisions_total", "searches by match decision", ["decision"])


def route_template(scope: Scope, root_path: str = "") -> str:
    """The matched route's path template, behind the prefix of the mount it is in (``/console/login``;
    a mount without routes of its own, the static files: its prefix), or "unmatched".
    ``root_path`` is the scope's before routing (a mount appends its prefix to it)."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    prefix = str(scope.get("root_path") or "")[len(root_path):]  # set by our mounts: fixed words
    if not isinstance(path, str) or not path.startswith("/"):
        return prefix or UNMATCHED
    return prefix or path if isinstance(route, Mount) else prefix + path


@contextmanager
def timed_search() -> Iterator[Callable[[str], None]]:
    """Times the block as one search; call the yielded function with the match decision."""
    start = time.perf_counter()
    decided: list[str] = []
    yield decided.append
    SEARCH_SECONDS.observe(time.perf_counter() - start)
    for decision in decided[:1]:
        MATCH_DECISIONS.labels(bounded(decision, DECISIONS)).inc()


def _header(scope: Scope, name: bytes) -> Optional[str]:
    for key, value in scope.get("headers") or []:
        if key == name:
            return bytes(value).decode("latin-1")
    return None


class ObservabilityMiddleware:
    """Outermost ASGI layer: request id (accepted or made, bound for the logs, sent back), latency
    and status per route template, and ``GET /metrics`` for who may read it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = accepted_request_id(_header(scope, b"x-request-id"))
        if scope.get("path") == METRICS_PATH:
            await self._metrics(scope, send, request_id)
            return
        status = [500]

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = int(message["status"])
                message = {**message, "headers": [*message.get("headers", []),
                                                  (REQUEST_ID_HEADER.lower().encode(), request_id.encode())]}
            await send(message)

        start, root_path = time.perf_counter(), str(scope.get("root_path") or "")
        try:
            with bound(request_id=request_id):
                await self.app(scope, receive, send_with_id)
        finally:
            self._observe(scope, root_path, status[0], time.perf_counter() - start)

    @staticmethod
    def _observe(scope: Scope, root_path: str, status: int, seconds: float) -> None:
        method, route = bounded(scope.get("method"), METHODS), route_template(scope, root_path)
        REQUESTS.labels(method, route, str(status)).inc()
        REQUEST_SECONDS.labels(method, route).observe(seconds)
        if status >= 500:
            ERRORS.labels(route).inc()

    @staticmethod
    async def _metrics(scope: Scope, send: Send, request_id: str) -> None:
        client: Any = scope.get("client") or (None,)
        refusal = metrics_refusal(client[0], _header(scope, b"authorization"))
        if scope.get("method") not in ("GET", "HEAD"):
            refusal = (405, "use GET")
        if refusal is not None:
            body, content_type, status = (f'{{"detail": "{refusal[1]}"}}'.encode(), "application/json",
                                          refusal[0])
        else:
            body, content_type = exposition()
            status = 200
        headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode()),
                   (REQUEST_ID_HEADER.lower().encode(), request_id.encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body if scope.get("method") != "HEAD" else b""})
