"""The officers' console: a FastAPI application mounted at ``/console`` of the knowledge service.

    app.mount("/console", create_console(settings))

Pages are server-rendered (Jinja2), Vietnamese, with no script at all, under a CSP of
``default-src 'self'``. Authorisation: a GET without a session is sent to the login page; a
POST without one gets 401; a POST whose CSRF token is not the session's gets 403, and so does
an officer on an administrator's page. The login form has its own CSRF token
(double-submit cookie), since there is no session yet.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Optional

from argon2 import PasswordHasher
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from knowledge.console.accounts import Accounts
from knowledge.console.auth import ConsoleAuth, Failed, LoggedIn
from knowledge.console.db import Clock, ConsoleDB, utc_now
from knowledge.console.errors import AccountError
from knowledge.console.queue import open_queue
from knowledge.console.rasa import RasaHTTP, RasaLink
from knowledge.console.sessions import Session, Sessions
from knowledge.console.throttle import Throttle
from knowledge.desk import DeskStore
from knowledge.environment import same_secret
from knowledge.settings import Settings

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=HERE / "templates")

SESSION_COOKIE = "console_session"
LOGIN_CSRF_COOKIE = "console_login_csrf"
SECURITY_HEADERS = {
    "content-security-policy": "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
}
LOGIN_FAILED = "Tên đăng nhập hoặc mật khẩu không đúng."
LOGIN_EXPIRED = "Trang đăng nhập đã cũ. Vui lòng nhập lại."
MAX_FORM_FIELDS = 10


@dataclass(frozen=True)
class Console:
    auth: ConsoleAuth
    desk: DeskStore
    clock: Clock
    secure_cookies: bool
    rasa: Optional[RasaLink] = None  # the live handover (knowledge/console/rasa.py); None: no case can be taken


class SecurityHeaders:
    """Adds SECURITY_HEADERS to every response of the console (pages, static files, errors)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.decode().lower() not in SECURITY_HEADERS]
                headers += [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
                message = {**message, "headers": headers}
            await send(message)

        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await with_headers(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception:  # the page says nothing of the cause; the log has it
            log.exception("console: unexpected error on %s", scope.get("path"))
            if not started:
                await Response("Lỗi máy chủ, vui lòng thử lại sau.", status_code=500,
                               media_type="text/plain; charset=utf-8")(scope, receive, tracked)


class LoginRequired(Exception):
    pass


class Forbidden(Exception):
    pass


def base_path(request: Request) -> str:
    """Where the console is mounted ('' when it runs on its own)."""
    return str(request.scope.get("root_path", "")).rstrip("/")


def console(request: Request) -> Console:
    value: Console = request.app.state.console
    return value


ConsoleDep = Annotated[Console, Depends(console)]


def current_session(request: Request, app: ConsoleDep) -> Optional[Session]:
    return app.auth.sessions.get(request.cookies.get(SESSION_COOKIE))


def require_login(session: Annotated[Optional[Session], Depends(current_session)]) -> Session:
    if session is None:
        raise LoginRequired()
    return session


def require_admin(session: Annotated[Session, Depends(require_login)]) -> Session:
    if not session.account.is_admin:
        raise Forbidden()
    return session


OfficerDep = Annotated[Session, Depends(require_login)]
AdminDep = Annotated[Session, Depends(require_admin)]


async def read_form(request: Request) -> FormData:
    return await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)


async def checked_form(request: Request, session: Session) -> FormData:
    """The posted form, once its CSRF token is the session's (constant-time comparison)."""
    form = await read_form(request)
    given = form.get("csrf")
    if not isinstance(given, str) or not same_secret(given, session.csrf):
        raise Forbidden()
    return form


def text_field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def page(request: Request, name: str, context: dict[str, Any], status_code: int = 200,
         session: Optional[Session] = None) -> HTMLResponse:
    ctx = {"base": base_path(request), "session": session, "account": session.account if session else None,
           "csrf": session.csrf if session else "", **context}
    return templates.TemplateResponse(request, name, ctx, status_code=status_code)


def set_cookie(response: Response, request: Request, app: Console, name: str, value: str,
               max_age: Optional[int] = None) -> None:
    response.set_cookie(name, value, max_age=max_age, path=base_path(request) + "/", httponly=True,
                        samesite="strict", secure=app.secure_cookies)


def clear_cookie(response: Response, request: Request, app: Console, name: str) -> None:
    response.delete_cookie(name, path=base_path(request) + "/", httponly=True, samesite="strict",
                           secure=app.secure_cookies)


def login_page(request: Request, app: Console, error: str = "", status_code: int = 200,
               username: str = "") -> HTMLResponse:
    token = secrets.token_urlsafe(32)
    response = page(request, "login.html", {"login_csrf": token, "error": error, "username": username},
                    status_code=status_code)
    set_cookie(response, request, app, LOGIN_CSRF_COOKIE, token, max_age=3600)
    return response


def redirect(request: Request, path: str) -> RedirectResponse:
    return RedirectResponse(base_path(request) + path, status_code=303)


def _routes(app: FastAPI) -> None:
    @app.get("/login", response_class=HTMLResponse, name="login")
    def login_form(request: Request, app_: ConsoleDep,
                   session: Annotated[Optional[Session], Depends(current_session)]) -> Response:
        if session is not None:
            return redirect(request, "/")
        return login_page(request, app_)

    @app.post("/login", response_class=HTMLResponse)
    async def login(request: Request, app_: ConsoleDep) -> Response:
        form = await read_form(request)
        username = text_field(form, "username")[:64]
        if not same_secret(text_field(form, "csrf"), request.cookies.get(LOGIN_CSRF_COOKIE)):
            return login_page(request, app_, LOGIN_EXPIRED, 403, username)
        address = request.client.host if request.client else "unknown"
        outcome = app_.auth.login(username, text_field(form, "password"), address)
        if isinstance(outcome, Failed):
            return login_page(request, app_, LOGIN_FAILED, 401, username)
        if not isinstance(outcome, LoggedIn):
            return login_page(request, app_, f"Đăng nhập sai quá nhiều lần nên tạm bị khoá. Vui lòng thử lại sau "
                              f"{outcome.minutes} phút.", 429, username)
        app_.auth.logout(request.cookies.get(SESSION_COOKIE))  # a session from before is not reused
        response = redirect(request, "/")
        set_cookie(response, request, app_, SESSION_COOKIE, outcome.session.token)
        clear_cookie(response, request, app_, LOGIN_CSRF_COOKIE)
        return response

    @app.post("/logout")
    async def logout(request: Request, app_: ConsoleDep, session: OfficerDep) -> Response:
        await checked_form(request, session)
        app_.auth.logout(request.cookies.get(SESSION_COOKIE))
        response = redirect(request, "/login")
        clear_cookie(response, request, app_, SESSION_COOKIE)
        return response

    @app.get("/", response_class=HTMLResponse, name="queue")
    def queue(request: Request, app_: ConsoleDep, session: OfficerDep) -> Response:
        rows = open_queue(app_.desk, app_.clock())
        taken = open_queue(app_.desk, app_.clock(), status="taken")
        return page(request, "queue.html", {"rows": rows, "taken": taken}, session=session)

    @app.get("/admin/officers", response_class=HTMLResponse, name="officers")
    def officers(request: Request, app_: ConsoleDep, session: AdminDep, created: str = "") -> Response:
        return officers_page(request, app_, session, notice="Đã tạo tài khoản cán bộ." if created == "1" else "")

    @app.post("/admin/officers", response_class=HTMLResponse)
    async def create_officer(request: Request, app_: ConsoleDep, session: AdminDep) -> Response:
        form = await checked_form(request, session)
        username, password = text_field(form, "username"), text_field(form, "password")
        if password != text_field(form, "password2"):
            return officers_page(request, app_, session, error="Hai lần nhập mật khẩu không khớp.",
                                 username=username[:64], status_code=400)
        try:
            app_.auth.accounts.create(username, password, "officer")
        except AccountError as exc:
            return officers_page(request, app_, session, error=str(exc), username=username[:64], status_code=400)
        return redirect(request, "/admin/officers?created=1")


def officers_page(request: Request, app: Console, session: Session, notice: str = "", error: str = "",
                  username: str = "", status_code: int = 200) -> HTMLResponse:
    return page(request, "officers.html", {"accounts": app.auth.accounts.all(), "notice": notice, "error": error,
                                           "username": username}, status_code=status_code, session=session)


def _errors(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        if request.method in ("GET", "HEAD"):
            return redirect(request, "/login")
        return error_page(request, 401, "Chưa đăng nhập", "Vui lòng đăng nhập lại rồi thử lại.")

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        return error_page(request, 403, "Không được phép",
                          "Tài khoản của bạn không có quyền này, hoặc trang đã cũ (hãy tải lại trang).")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return error_page(request, 404, "Không tìm thấy trang", "Địa chỉ này không có trong trang cán bộ.")
        if exc.status_code == 405:
            return error_page(request, 405, "Không hỗ trợ", "Trang này không nhận yêu cầu kiểu này.")
        return error_page(request, exc.status_code, "Không thực hiện được", "Vui lòng thử lại.")

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        return error_page(request, 400, "Yêu cầu không hợp lệ", "Vui lòng quay lại và thử lại.")


def error_page(request: Request, status: int, title: str, message: str) -> HTMLResponse:
    return page(request, "error.html", {"title": title, "message": message}, status_code=status)


def create_console(settings: Settings, *, desk: Optional[DeskStore] = None, clock: Clock = utc_now,
                   hasher: Optional[PasswordHasher] = None, rasa: Optional[RasaLink] = None) -> FastAPI:
    """The console over ``settings.desk_db``; ``clock``, ``hasher`` and ``rasa`` are for tests."""
    db = ConsoleDB(settings.desk_db)
    accounts = Accounts(db, hasher=hasher, clock=clock)
    auth = ConsoleAuth(accounts, Sessions(db, accounts, clock=clock), Throttle(db, clock=clock))
    app = FastAPI(title="Trang cán bộ", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.console = Console(auth, desk or DeskStore(settings.desk_db), clock,
                                secure_cookies=settings.environment == "production",
                                rasa=rasa or RasaHTTP.from_settings(settings))
    app.add_middleware(SecurityHeaders)
    _errors(app)
    _routes(app)
    from knowledge.console.handover import router as handover_router  # its pages use this module's helpers

    app.include_router(handover_router)
    from knowledge.console.dashboard import install as install_dashboard  # likewise

    install_dashboard(app, settings)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    return app
