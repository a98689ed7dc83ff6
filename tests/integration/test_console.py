"""The officers' console mounted at /console on a bare FastAPI app, through FastAPI's TestClient."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient

from knowledge.console import create_console
from knowledge.console.accounts import Accounts
from knowledge.console.db import ConsoleDB
from knowledge.desk import DeskStore
from knowledge.settings import Settings

ADMIN_PASSWORD = "quản-trị-viên-2026"
OFFICER_PASSWORD = "cán-bộ-một-cửa-1"
FAILED = "Tên đăng nhập hoặc mật khẩu không đúng."
LOCKED = "Đăng nhập sai quá nhiều lần nên tạm bị khoá. Vui lòng thử lại sau 15 phút."
HEADERS = {
    "content-security-policy": "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class Reply(Protocol):
    """What the tests read of a TestClient response (httpx or httpx2, whichever Starlette uses)."""

    @property
    def status_code(self) -> int: ...

    @property
    def text(self) -> str: ...

    @property
    def headers(self) -> Any: ...


class FakeClock:
    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.timezone.utc)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


def fast_hasher() -> PasswordHasher:
    return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(desk_db=tmp_path / "desk.db", index_dir=tmp_path / "index")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def client(settings: Settings, clock: FakeClock) -> Iterator[TestClient]:
    accounts = Accounts(ConsoleDB(settings.desk_db), hasher=fast_hasher())
    accounts.create("quantri", ADMIN_PASSWORD, "admin")
    accounts.create("canbo", OFFICER_PASSWORD, "officer")
    app = FastAPI()
    app.mount("/console", create_console(settings, clock=clock, hasher=fast_hasher()))
    with TestClient(app, follow_redirects=False) as c:
        yield c


def login(client: TestClient, username: str, password: str) -> Reply:
    form = client.get("/console/login")
    assert form.status_code == 200
    token = CSRF.search(form.text)
    assert token is not None
    return client.post("/console/login", data={"csrf": token.group(1), "username": username, "password": password})


def page_csrf(client: TestClient, path: str = "/console/") -> str:
    found = CSRF.search(client.get(path).text)
    assert found is not None
    return found.group(1)


def error_of(resp: Reply) -> str:
    found = re.search(r'<p class="error" role="alert"[^>]*>([^<]*)</p>', resp.text)
    return found.group(1) if found else ""


def assert_headers(resp: Reply) -> None:
    for name, value in HEADERS.items():
        assert resp.headers.get(name) == value, name


# -- logging in --------------------------------------------------------------------------------

def test_login_page_is_an_accessible_vietnamese_form(client: TestClient) -> None:
    resp = client.get("/console/login")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/html")
    assert '<html lang="vi">' in resp.text and "<h1>Đăng nhập</h1>" in resp.text
    assert '<label for="username">Tên đăng nhập</label>' in resp.text
    assert '<label for="password">Mật khẩu</label>' in resp.text
    assert "<script" not in resp.text and "style=" not in resp.text
    cookie = resp.headers["set-cookie"]
    assert cookie.startswith("console_login_csrf=") and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert_headers(resp)


def test_login_success_opens_a_session(client: TestClient) -> None:
    resp = login(client, "canbo", OFFICER_PASSWORD)
    assert resp.status_code == 303 and resp.headers["location"] == "/console/"
    cookie = next(c for c in resp.headers.get_list("set-cookie") if c.startswith("console_session="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/console/" in cookie
    assert "Secure" not in cookie  # development posture: plain http on loopback
    assert_headers(resp)
    queue = client.get("/console/")
    assert queue.status_code == 200 and "<h1>Yêu cầu gặp cán bộ đang chờ</h1>" in queue.text
    assert "canbo (cán bộ)" in queue.text and "Tài khoản cán bộ</a>" not in queue.text
    assert client.get("/console/login").headers["location"] == "/console/"  # already logged in


def test_login_failure_never_says_whether_the_account_exists(client: TestClient) -> None:
    wrong = login(client, "canbo", "mật-khẩu-sai-rồi")
    unknown = login(client, "khong.co.ai", "mật-khẩu-sai-rồi")
    assert wrong.status_code == unknown.status_code == 401
    assert error_of(wrong) == error_of(unknown) == FAILED
    assert "console_session" not in client.cookies
    assert client.get("/console/").headers["location"] == "/console/login"


def test_login_needs_the_forms_own_csrf_token(client: TestClient) -> None:
    client.get("/console/login")
    resp = client.post("/console/login", data={"csrf": "doan-bua", "username": "canbo", "password": OFFICER_PASSWORD})
    assert resp.status_code == 403 and error_of(resp) == "Trang đăng nhập đã cũ. Vui lòng nhập lại."
    assert "console_session" not in client.cookies


def test_throttling_after_five_failures(client: TestClient, clock: FakeClock) -> None:
    for _ in range(5):
        assert login(client, "canbo", "mật-khẩu-sai-rồi").status_code == 401
    locked = login(client, "canbo", OFFICER_PASSWORD)
    assert locked.status_code == 429 and error_of(locked) == LOCKED
    assert login(client, "quantri", ADMIN_PASSWORD).status_code == 429  # the same client address
    clock.advance(minutes=15)
    assert login(client, "canbo", OFFICER_PASSWORD).status_code == 303


def test_production_cookies_are_secure(tmp_path: Path) -> None:
    settings = Settings(environment="production", desk_token="d" * 32, desk_db=tmp_path / "desk.db",
                        demo_onestop=False)
    Accounts(ConsoleDB(settings.desk_db), hasher=fast_hasher()).create("canbo", OFFICER_PASSWORD, "officer")
    app = FastAPI()
    app.mount("/console", create_console(settings, hasher=fast_hasher()))
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as c:
        assert "Secure" in c.get("/console/login").headers["set-cookie"]
        resp = login(c, "canbo", OFFICER_PASSWORD)
        cookie = next(x for x in resp.headers.get_list("set-cookie") if x.startswith("console_session="))
        assert resp.status_code == 303 and "Secure" in cookie


# -- authorisation -----------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/console/", "/console/admin/officers"])
def test_no_page_without_login(client: TestClient, path: str) -> None:
    resp = client.get(path)
    assert resp.status_code == 303 and resp.headers["location"] == "/console/login"
    assert_headers(resp)


@pytest.mark.parametrize("path", ["/console/logout", "/console/admin/officers"])
def test_no_post_without_login(client: TestClient, path: str) -> None:
    resp = client.post(path, data={"csrf": "x", "username": "moi.ne", "password": "a" * 12, "password2": "a" * 12})
    assert resp.status_code == 401 and "<h1>Chưa đăng nhập</h1>" in resp.text
    assert_headers(resp)


def test_officer_cannot_reach_admin_pages(client: TestClient, settings: Settings) -> None:
    login(client, "canbo", OFFICER_PASSWORD)
    token = page_csrf(client)
    resp = client.get("/console/admin/officers")
    assert resp.status_code == 403 and "<h1>Không được phép</h1>" in resp.text
    assert_headers(resp)
    post = client.post("/console/admin/officers", data={"csrf": token, "username": "ke.gian", "password": "a" * 12,
                                                        "password2": "a" * 12})
    assert post.status_code == 403
    assert [a.username for a in Accounts(ConsoleDB(settings.desk_db)).all()] == ["quantri", "canbo"]


def test_admin_lists_accounts_and_creates_an_officer(client: TestClient) -> None:
    login(client, "quantri", ADMIN_PASSWORD)
    listing = client.get("/console/admin/officers")
    assert listing.status_code == 200 and "<h1>Tài khoản cán bộ</h1>" in listing.text
    assert "<th scope=\"row\">canbo</th>" in listing.text and "argon2" not in listing.text
    token = page_csrf(client, "/console/admin/officers")
    short = client.post("/console/admin/officers", data={"csrf": token, "username": "canbo.hai", "password": "ngắn",
                                                         "password2": "ngắn"})
    assert short.status_code == 400 and error_of(short) == "Mật khẩu cần ít nhất 12 ký tự."
    differ = client.post("/console/admin/officers", data={"csrf": token, "username": "canbo.hai",
                                                          "password": "a" * 12, "password2": "b" * 12})
    assert differ.status_code == 400 and error_of(differ) == "Hai lần nhập mật khẩu không khớp."
    new = "mật-khẩu-mới-dài"
    made = client.post("/console/admin/officers", data={"csrf": token, "username": "canbo.hai",
                                                        "password": new, "password2": new})
    assert made.status_code == 303 and made.headers["location"] == "/console/admin/officers?created=1"
    after = client.get(made.headers["location"])
    assert "Đã tạo tài khoản cán bộ." in after.text and "<th scope=\"row\">canbo.hai</th>" in after.text
    client.cookies.clear()
    assert login(client, "canbo.hai", "mật-khẩu-mới-dài").status_code == 303


# -- CSRF and logout ---------------------------------------------------------------------------

def test_csrf_refused_without_or_with_a_wrong_token(client: TestClient, settings: Settings) -> None:
    login(client, "quantri", ADMIN_PASSWORD)
    assert client.post("/console/logout").status_code == 403
    assert client.post("/console/logout", data={"csrf": "sai"}).status_code == 403
    assert client.get("/console/").status_code == 200  # still logged in
    body = {"username": "moi.ne", "password": "a" * 12, "password2": "a" * 12}
    assert client.post("/console/admin/officers", data=body).status_code == 403
    assert client.post("/console/admin/officers", data={**body, "csrf": page_csrf(client) + "x"}).status_code == 403
    assert Accounts(ConsoleDB(settings.desk_db)).count() == 2


def test_another_sessions_csrf_token_is_refused(client: TestClient, settings: Settings, clock: FakeClock) -> None:
    login(client, "quantri", ADMIN_PASSWORD)
    mine = page_csrf(client)
    app = client.app
    with TestClient(app, follow_redirects=False) as other:
        login(other, "quantri", ADMIN_PASSWORD)
        assert other.post("/console/logout", data={"csrf": mine}).status_code == 403


def test_logout_invalidates_the_session(client: TestClient) -> None:
    login(client, "canbo", OFFICER_PASSWORD)
    old = client.cookies["console_session"]
    resp = client.post("/console/logout", data={"csrf": page_csrf(client)})
    assert resp.status_code == 303 and resp.headers["location"] == "/console/login"
    assert 'console_session=""' in resp.headers["set-cookie"] or "Max-Age=0" in resp.headers["set-cookie"]
    client.cookies.clear()
    client.cookies.set("console_session", old, path="/console/")
    assert client.get("/console/").headers["location"] == "/console/login"


def test_an_idle_session_is_sent_back_to_login(client: TestClient, clock: FakeClock) -> None:
    login(client, "canbo", OFFICER_PASSWORD)
    clock.advance(minutes=31)
    assert client.get("/console/").headers["location"] == "/console/login"


# -- the queue ---------------------------------------------------------------------------------

def test_queue_shows_open_handovers_with_consent_only_contacts(client: TestClient, settings: Settings,
                                                               clock: FakeClock) -> None:
    desk = DeskStore(settings.desk_db)
    consented = desk.add_handover("fb:1", "facebook", False, [{"role": "user", "text": "gặp cán bộ"}])
    assert desk.set_contact(consented.ref, "fb:1", True, "0912345678")
    refused = desk.add_handover("zalo:2", "zalo", True, [])
    assert desk.set_contact(refused.ref, "zalo:2", False, "0987654321")
    silent = desk.add_handover("web:3", "socketio", True, [])
    closed = desk.add_handover("web:4", "socketio", True, [])
    with sqlite3.connect(settings.desk_db) as conn:
        conn.execute("UPDATE handover SET status = 'closed' WHERE ref = ?", (closed.ref,))
    # the desk stamps real time to the second (rounded down): 75 minutes from now is 75 whole minutes later
    clock.now = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=75)
    login(client, "canbo", OFFICER_PASSWORD)
    resp = client.get("/console/")
    assert resp.status_code == 200
    rows = re.findall(r"<tr>\s*<th scope=\"row\" class=\"ref\">(.*?)</th>\s*<td>(.*?)</td>\s*<td>.*?</td>\s*"
                      r"<td>(.*?)</td>\s*<td>(.*?)</td>\s*<td>(.*?)</td>", resp.text, re.S)
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        (consented.ref, "Facebook Messenger", "1 giờ 15 phút", "Ngoài giờ"),
        (refused.ref, "Zalo", "1 giờ 15 phút", "Có"),
        (silent.ref, "Cổng dịch vụ công (khung chat)", "1 giờ 15 phút", "Có"),
    ]
    assert rows[0][4] == 'Đồng ý để lại liên hệ: <span class="contact">0912345678</span>'
    assert rows[1][4] == "Không đồng ý" and rows[2][4] == "Chưa trả lời"
    assert "0987654321" not in resp.text and closed.ref not in resp.text
    assert "3 yêu cầu đang chờ, chờ lâu nhất ở trên." in resp.text
    assert "<caption>Danh sách yêu cầu gặp cán bộ chưa được xử lý</caption>" in resp.text


def test_empty_queue_says_so(client: TestClient) -> None:
    login(client, "canbo", OFFICER_PASSWORD)
    assert "<p>Hiện không có yêu cầu nào đang chờ.</p>" in client.get("/console/").text


# -- headers everywhere ------------------------------------------------------------------------

def test_security_headers_on_every_kind_of_response(client: TestClient) -> None:
    css = client.get("/console/static/console.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    missing = client.get("/console/khong-co")
    assert missing.status_code == 404 and "<h1>Không tìm thấy trang</h1>" in missing.text
    for resp in (css, missing, client.get("/console/login"), client.get("/console/"), login(client, "canbo", "x" * 12)):
        assert_headers(resp)
    login(client, "canbo", OFFICER_PASSWORD)
    assert_headers(client.get("/console/"))
