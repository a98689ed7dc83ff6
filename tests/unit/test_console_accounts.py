"""Console accounts: argon2 hashing, roles, login throttling and session expiry (clock injected)."""

from __future__ import annotations

import datetime as dt
import io
import sqlite3
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from knowledge.console import cli
from knowledge.console.accounts import Account, Accounts
from knowledge.console.auth import ConsoleAuth, Failed, LoggedIn, Refused
from knowledge.console.db import ConsoleDB
from knowledge.console.errors import BadUsername, UsernameTaken, WeakPassword
from knowledge.console.sessions import Sessions
from knowledge.console.throttle import Throttle

PASSWORD = "mật-khẩu-đủ-dài-1"
T0 = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.timezone.utc)


class FakeClock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


def fast_hasher() -> PasswordHasher:
    return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def db(tmp_path: Path) -> ConsoleDB:
    return ConsoleDB(tmp_path / "desk.db")


@pytest.fixture
def accounts(db: ConsoleDB, clock: FakeClock) -> Accounts:
    return Accounts(db, hasher=fast_hasher(), clock=clock)


@pytest.fixture
def auth(db: ConsoleDB, accounts: Accounts, clock: FakeClock) -> ConsoleAuth:
    return ConsoleAuth(accounts, Sessions(db, accounts, clock=clock), Throttle(db, clock=clock))


def stored_hash(db: ConsoleDB, username: str) -> str:
    with db.connect() as conn:
        return str(conn.execute("SELECT password_hash FROM console_account WHERE username = ?",
                                (username,)).fetchone()[0])


# -- hashing and roles -------------------------------------------------------------------------

def test_default_hash_is_argon2id_and_the_password_is_not_stored(db: ConsoleDB) -> None:
    Accounts(db).create("canbo.mot", PASSWORD, "officer")
    hashed = stored_hash(db, "canbo.mot")
    assert hashed.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert PASSWORD not in db.path.read_bytes().decode("utf-8", "replace")


def test_the_file_is_private(db: ConsoleDB) -> None:
    assert db.path.stat().st_mode & 0o777 == 0o600


def test_verify_answers_the_account_without_its_hash(accounts: Accounts) -> None:
    created = accounts.create("Admin.Tinh", PASSWORD, "admin")
    assert created.username == "admin.tinh" and created.role == "admin" and created.is_admin
    found = accounts.verify("  ADMIN.tinh ", PASSWORD)
    assert isinstance(found, Account) and found.id == created.id and found.last_login_at == "2026-12-01T08:00:00+00:00"
    assert not hasattr(found, "password_hash") and "argon2" not in repr(found)
    assert accounts.verify("admin.tinh", PASSWORD + "x") is None
    assert accounts.verify("khong.co", PASSWORD) is None


def test_roles(accounts: Accounts) -> None:
    officer = accounts.create("canbo", PASSWORD, "officer")
    assert officer.role == "officer" and not officer.is_admin
    with pytest.raises(ValueError):
        accounts.create("sieu", PASSWORD, "root")  # type: ignore[arg-type]
    with pytest.raises(sqlite3.IntegrityError):  # the table refuses it too
        with accounts.db.connect() as conn:
            conn.execute("INSERT INTO console_account (username, role, password_hash, created_at)"
                         " VALUES ('x1', 'root', 'h', 't')")
    assert accounts.count("officer") == 1 and accounts.count("admin") == 0


def test_password_of_twelve_characters_at_least(accounts: Accounts) -> None:
    with pytest.raises(WeakPassword) as exc:
        accounts.create("canbo", "a" * 11, "officer")
    assert str(exc.value) == "Mật khẩu cần ít nhất 12 ký tự."
    assert accounts.create("canbo", "a" * 12, "officer").username == "canbo"


def test_names_are_checked_and_unique(accounts: Accounts) -> None:
    accounts.create("canbo", PASSWORD, "officer")
    with pytest.raises(UsernameTaken) as exc:
        accounts.create("CanBo", PASSWORD, "admin")
    assert str(exc.value) == "Đã có tài khoản tên “canbo”."
    for bad in ("ab", "cán bộ", "a/b", "x" * 65):
        with pytest.raises(BadUsername):
            accounts.create(bad, PASSWORD, "officer")


def test_a_hash_with_old_parameters_is_upgraded_at_login(db: ConsoleDB, clock: FakeClock) -> None:
    Accounts(db, hasher=fast_hasher(), clock=clock).create("canbo", PASSWORD, "officer")
    stronger = Accounts(db, hasher=PasswordHasher(time_cost=2, memory_cost=16, parallelism=1), clock=clock)
    assert stronger.verify("canbo", PASSWORD) is not None
    assert stored_hash(db, "canbo").startswith("$argon2id$v=19$m=16,t=2,p=1$")


def test_a_disabled_account_cannot_log_in(accounts: Accounts) -> None:
    accounts.create("canbo", PASSWORD, "officer")
    with accounts.db.connect() as conn:
        conn.execute("UPDATE console_account SET active = 0")
    assert accounts.verify("canbo", PASSWORD) is None


# -- throttling --------------------------------------------------------------------------------

def test_five_failures_for_an_account_lock_it_for_fifteen_minutes(auth: ConsoleAuth, clock: FakeClock) -> None:
    auth.accounts.create("canbo", PASSWORD, "officer")
    for i in range(5):
        assert isinstance(auth.login("canbo", "sai-mat-khau-dai", f"10.0.0.{i}"), Failed)
        clock.advance(minutes=1)
    # the right password from a new address is refused too, without being checked
    refused = auth.login("canbo", PASSWORD, "10.0.0.99")
    assert isinstance(refused, Refused)
    assert refused.until == T0 + dt.timedelta(minutes=4 + 15) and refused.minutes == 14
    clock.now = T0 + dt.timedelta(minutes=4 + 15) - dt.timedelta(seconds=1)
    assert isinstance(auth.login("canbo", PASSWORD, "10.0.0.99"), Refused)
    clock.advance(seconds=1)
    assert isinstance(auth.login("canbo", PASSWORD, "10.0.0.99"), LoggedIn)


def test_five_failures_from_one_address_lock_it_whatever_the_name(auth: ConsoleAuth, clock: FakeClock) -> None:
    auth.accounts.create("canbo", PASSWORD, "officer")
    for name in ("a1x", "b2x", "c3x", "d4x", "e5x"):
        assert isinstance(auth.login(name, PASSWORD, "203.0.113.7"), Failed)
    assert isinstance(auth.login("canbo", PASSWORD, "203.0.113.7"), Refused)
    assert isinstance(auth.login("canbo", PASSWORD, "203.0.113.8"), LoggedIn)


def test_unknown_names_are_throttled_like_real_ones(auth: ConsoleAuth) -> None:
    outcomes = [auth.login("khong.co.ai", "mot-mat-khau-bat-ky", f"10.1.0.{i}") for i in range(6)]
    assert [type(o) for o in outcomes] == [Failed] * 5 + [Refused]


def test_failures_spread_over_more_than_fifteen_minutes_do_not_lock(auth: ConsoleAuth, clock: FakeClock) -> None:
    auth.accounts.create("canbo", PASSWORD, "officer")
    for _ in range(8):
        assert isinstance(auth.login("canbo", "sai-mat-khau-dai", "10.0.0.1"), Failed)
        clock.advance(minutes=4)
    assert isinstance(auth.login("canbo", PASSWORD, "10.0.0.1"), LoggedIn)


def test_refused_attempts_do_not_extend_the_lock(auth: ConsoleAuth, clock: FakeClock) -> None:
    auth.accounts.create("canbo", PASSWORD, "officer")
    for _ in range(5):
        auth.login("canbo", "sai-mat-khau-dai", "10.0.0.1")
    for _ in range(10):
        clock.advance(minutes=1)
        assert isinstance(auth.login("canbo", "sai-mat-khau-dai", "10.0.0.1"), Refused)
    clock.now = T0 + dt.timedelta(minutes=15)
    assert isinstance(auth.login("canbo", PASSWORD, "10.0.0.1"), LoggedIn)


def test_a_success_forgets_the_accounts_failures(auth: ConsoleAuth) -> None:
    auth.accounts.create("canbo", PASSWORD, "officer")
    for i in range(4):
        auth.login("canbo", "sai-mat-khau-dai", f"10.0.0.{i}")
    assert isinstance(auth.login("canbo", PASSWORD, "10.0.1.1"), LoggedIn)
    for i in range(4):
        assert isinstance(auth.login("canbo", "sai-mat-khau-dai", f"10.0.2.{i}"), Failed)
    assert isinstance(auth.login("canbo", PASSWORD, "10.0.1.1"), LoggedIn)


# -- sessions ----------------------------------------------------------------------------------

def test_session_idles_out_after_thirty_minutes(auth: ConsoleAuth, clock: FakeClock) -> None:
    account = auth.accounts.create("canbo", PASSWORD, "officer")
    new = auth.sessions.create(account)
    clock.advance(minutes=29)
    session = auth.sessions.get(new.token)
    assert session is not None and session.account.id == account.id and session.csrf == new.csrf
    clock.advance(minutes=30)  # 30 minutes since the last request: still alive
    assert auth.sessions.get(new.token) is not None
    clock.advance(minutes=30, seconds=1)
    assert auth.sessions.get(new.token) is None
    clock.advance(seconds=-61)  # and it stays gone (deleted, not merely refused)
    assert auth.sessions.get(new.token) is None


def test_session_ends_after_eight_hours_however_active(auth: ConsoleAuth, clock: FakeClock) -> None:
    new = auth.sessions.create(auth.accounts.create("canbo", PASSWORD, "officer"))
    for _ in range(16):
        clock.advance(minutes=29)
        assert auth.sessions.get(new.token) is not None
    clock.now = T0 + dt.timedelta(hours=8, seconds=1)
    assert auth.sessions.get(new.token) is None


def test_logout_deletes_the_session_and_tokens_are_stored_hashed(auth: ConsoleAuth, db: ConsoleDB) -> None:
    new = auth.sessions.create(auth.accounts.create("canbo", PASSWORD, "officer"))
    other = auth.sessions.create(auth.accounts.get(1))  # type: ignore[arg-type]
    assert new.token != other.token and new.csrf != other.csrf and len(new.token) >= 43
    assert new.token not in db.path.read_bytes().decode("latin-1")
    auth.logout(new.token)
    assert auth.sessions.get(new.token) is None and auth.sessions.get(other.token) is not None
    assert auth.sessions.get("") is None and auth.sessions.get("x" * 500) is None


def test_disabling_an_account_ends_its_sessions(auth: ConsoleAuth) -> None:
    new = auth.sessions.create(auth.accounts.create("canbo", PASSWORD, "officer"))
    with auth.accounts.db.connect() as conn:
        conn.execute("UPDATE console_account SET active = 0")
    assert auth.sessions.get(new.token) is None


def test_migrations_run_once_on_an_existing_desk_file(tmp_path: Path) -> None:
    from knowledge.desk import DeskStore

    desk = DeskStore(tmp_path / "desk.db")
    desk.add_handover("web:1", "socketio", True, [])
    first = ConsoleDB(tmp_path / "desk.db")
    Accounts(first, hasher=fast_hasher()).create("canbo", PASSWORD, "officer")
    again = ConsoleDB(tmp_path / "desk.db")
    assert Accounts(again, hasher=fast_hasher()).count() == 1 and len(desk.handovers()) == 1
    with again.connect() as conn:
        assert conn.execute("SELECT version FROM console_meta").fetchall()[0][0] == 1


# -- CLI ---------------------------------------------------------------------------------------

def test_cli_creates_the_first_admin_from_the_environment(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                                          ) -> None:
    path = tmp_path / "desk.db"
    code = cli.main(["create-admin", "--username", "quantri", "--desk-db", str(path)],
                    env={"CONSOLE_ADMIN_PASSWORD": PASSWORD}, stdin=io.StringIO(""))
    assert code == 0
    assert capsys.readouterr().out == ("Đã tạo tài khoản quản trị “quantri”. Đăng nhập tại /console/login của "
                                       "dịch vụ tri thức.\n")
    account = Accounts(ConsoleDB(path), hasher=fast_hasher()).verify("quantri", PASSWORD)
    assert account is not None and account.role == "admin"


def test_cli_reads_the_password_from_stdin(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "desk.db"
    assert cli.main(["create-officer", "--username", "canbo", "--desk-db", str(path)], env={},
                    stdin=io.StringIO(PASSWORD + "\n")) == 0
    account = Accounts(ConsoleDB(path), hasher=fast_hasher()).verify("canbo", PASSWORD)
    assert account is not None and account.role == "officer"
    assert cli.main(["create-officer", "--username", "canbo", "--desk-db", str(path)], env={},
                    stdin=io.StringIO(PASSWORD + "\n")) == 1
    assert capsys.readouterr().err == "lỗi: Đã có tài khoản tên “canbo”.\n"


def test_cli_refuses_a_short_password_and_has_no_password_option(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    args = ["create-admin", "--username", "quantri", "--desk-db", str(tmp_path / "d.db")]
    assert cli.main(args, env={}, stdin=io.StringIO("ngan\n")) == 1
    assert capsys.readouterr().err == "lỗi: Mật khẩu cần ít nhất 12 ký tự.\n"
    with pytest.raises(SystemExit) as exc:
        cli.main([*args, "--password", PASSWORD], env={}, stdin=io.StringIO(""))
    assert exc.value.code == 2
