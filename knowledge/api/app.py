"""The knowledge service: search API, catalogue API, web portal.

Errors are turned into words here and only here: 422 for invalid input (one readable
``detail`` string plus the field errors), 400 for a body that cannot be read at all, 404 for
unknown records, 413 for oversized bodies, and a generic 500 without internals for anything
unexpected. The OpenAPI document declares these answers as they are sent (tests/integration/
test_schemathesis.py fuzzes the service against it).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Literal, Optional

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from knowledge import __version__
from knowledge.api.deps import IndexHolder, LoadedDep
from knowledge.api.routers import catalogue, desk, onestop_demo, portal, referral, search
from knowledge.api.schemas import Health, error_responses
from knowledge.console import create_console
from knowledge.desk import DeskStore
from knowledge.desk.onestop_demo import DemoOneStop
from knowledge.observability.logs import install_log_masking
from knowledge.observability.service import ObservabilityMiddleware
from knowledge.settings import Settings, get_settings

log = logging.getLogger(__name__)
BODY_UNREADABLE = "Không đọc được nội dung gửi lên (cần JSON mã hoá UTF-8)."


class BodyLimitMiddleware:
    """Answers 413 for bodies above the limit, whether or not Content-Length is sent."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _too_large(self.max_bytes)(scope, receive, send)
            return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _BodyTooLarge()
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _BodyTooLarge:
            await _too_large(self.max_bytes)(scope, receive, send)


class _BodyTooLarge(Exception):
    pass


def _too_large(limit: int) -> JSONResponse:
    return JSONResponse({"detail": f"Nội dung gửi lên quá lớn (tối đa {limit} byte)."}, status_code=413)


class Probe(BaseModel):
    """A liveness or readiness answer: the state and nothing else."""

    status: Literal["ok", "ready", "not ready"]


def _readable(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
        if err.get("type") == "json_invalid":
            parts.append("Nội dung không phải JSON hợp lệ.")
        else:
            parts.append(f"{where}: {err.get('msg')}")
    return "Yêu cầu không hợp lệ: " + "; ".join(parts)


def create_app(settings: Optional[Settings] = None, holder: Optional[IndexHolder] = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if app.state.holder is None:
            app.state.holder = IndexHolder(settings)
            app.state.holder.start()
        yield

    # The refusals every operation may answer are documented (OpenAPI) as they are sent: 422 with
    # the readable sentence and the field errors (not FastAPI's default shape), 400 for an unreadable
    # body, 413 from the body limit.
    app = FastAPI(title="Knowledge service — dịch vụ công trực tuyến", version=__version__, lifespan=lifespan,
                  responses=error_responses(400, 413, 422))
    app.state.settings = settings
    app.state.holder = holder
    app.state.desk = DeskStore(settings.desk_db)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    # Outermost: the request id (X-Request-ID) for every log line of the request, latency and status
    # per route template, and GET /metrics (loopback in development, DVC_METRICS_TOKEN otherwise).
    install_log_masking()
    app.add_middleware(ObservabilityMiddleware)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")} for e in exc.errors()]
        return JSONResponse({"detail": _readable(exc), "errors": errors}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _refused(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 400:  # FastAPI could not read the body (e.g. not UTF-8): said in our words
            return JSONResponse({"detail": BODY_UNREADABLE}, status_code=400)
        return await http_exception_handler(request, exc)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse({"detail": "Lỗi máy chủ, vui lòng thử lại sau."}, status_code=500)

    @app.get("/health", response_model=Health, tags=["health"])
    def health(loaded: LoadedDep) -> Health:
        kb = loaded.kb
        return Health(status="ok", index_version=str(loaded.meta.get("version", "memory")), chunks=len(loaded.index),
                      procedures=len(kb.procedures), guides=len(kb.guides), directives=len(kb.directives),
                      dense_model=loaded.meta.get("dense_model"))

    # Probes for the runner, systemd and a load balancer: open, and saying nothing but the state.
    @app.get("/health/live", response_model=Probe, tags=["health"])
    def live() -> Probe:
        """The process answers (it is not hung); restart it if this fails."""
        return Probe(status="ok")

    @app.get("/health/ready", response_model=Probe, tags=["health"],
             responses={503: {"model": Probe, "description": "the index is not loaded yet"}})
    def ready(request: Request) -> JSONResponse:
        """The index is loaded: send searches here."""
        holder: Optional[IndexHolder] = request.app.state.holder
        try:
            serving = holder is not None and len(holder.loaded.index) > 0
        except Exception:  # noqa: BLE001 - not loaded (yet): not ready, the cause is not shown
            serving = False
        return JSONResponse({"status": "ready" if serving else "not ready"}, status_code=200 if serving else 503)

    app.include_router(search.router)
    app.include_router(catalogue.router, responses=error_responses(404))
    app.include_router(portal.router)
    app.include_router(referral.router, responses=error_responses(404))
    app.include_router(desk.router, responses=error_responses(401, 403, 404, 503))
    if settings.demo_onestop:
        app.state.onestop = DemoOneStop(settings.demo_onestop_db)
        app.include_router(onestop_demo.router, responses=error_responses(401, 404))
    if portal.WIDGET_DIR.is_dir():
        app.mount("/static/webchat", StaticFiles(directory=portal.WIDGET_DIR), name="webchat")
    # The officers' console: its own app (sessions, CSRF, headers), on the desk's database.
    app.mount("/console", create_console(settings, desk=app.state.desk))
    return app
