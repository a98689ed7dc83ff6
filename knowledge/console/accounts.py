"""Officer and administrator accounts; passwords hashed with argon2id (argon2-cffi).

The hash never leaves this module: ``Account`` has no hash field, and ``verify`` answers
with the account or None. A name that does not exist costs the same hash as a wrong
password, so the time taken does not tell whether the account exists.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from typing import Literal, Optional

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from knowledge.console.db import Clock, ConsoleDB, stamp, utc_now
from knowledge.console.errors import BadUsername, UsernameTaken, WeakPassword

Role = Literal["officer", "admin"]
ROLES: tuple[Role, ...] = ("officer", "admin")
MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_CHARS = 256  # argon2 hashes any length; this only bounds the work per request
USERNAME = re.compile(r"^[a-z0-9._-]{3,64}$")


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    role: Role
    active: bool
    created_at: str
    last_login_at: Optional[str]

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def normalise_username(username: str) -> str:
    return username.strip().lower()


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise WeakPassword(f"Mật khẩu cần ít nhất {MIN_PASSWORD_CHARS} ký tự.")
    if len(password) > MAX_PASSWORD_CHARS:
        raise WeakPassword(f"Mật khẩu dài quá {MAX_PASSWORD_CHARS} ký tự.")


class Accounts:
    def __init__(self, db: ConsoleDB, hasher: Optional[PasswordHasher] = None, clock: Clock = utc_now) -> None:
        self.db = db
        self.hasher = hasher or PasswordHasher()  # argon2id, RFC 9106 low-memory profile
        self.clock = clock
        self._dummy_hash = self.hasher.hash("không có tài khoản này")

    def create(self, username: str, password: str, role: Role) -> Account:
        name = normalise_username(username)
        if not USERNAME.match(name):
            raise BadUsername("Tên đăng nhập gồm 3–64 ký tự: chữ thường không dấu, chữ số, dấu chấm, gạch dưới, "
                              "gạch ngang.")
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        check_password(password)
        hashed = self.hasher.hash(password)
        try:
            with self.db.connect() as db:
                cur = db.execute("INSERT INTO console_account (username, role, password_hash, created_at)"
                                 " VALUES (?, ?, ?, ?)", (name, role, hashed, stamp(self.clock())))
                account_id = int(cur.lastrowid or 0)
        except sqlite3.IntegrityError:
            raise UsernameTaken(f"Đã có tài khoản tên “{name}”.") from None
        found = self.get(account_id)
        assert found is not None
        return found

    def verify(self, username: str, password: str) -> Optional[Account]:
        """The active account whose password this is, or None (unknown name, wrong password, disabled)."""
        name = normalise_username(username)
        with self.db.connect() as db:
            row = db.execute("SELECT id, password_hash, active FROM console_account WHERE username = ?",
                             (name,)).fetchone()
        if row is None or len(password) > MAX_PASSWORD_CHARS:
            self._spend(password[:MAX_PASSWORD_CHARS])
            return None
        try:
            self.hasher.verify(row["password_hash"], password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        if not row["active"]:
            return None
        with self.db.connect() as db:
            db.execute("UPDATE console_account SET last_login_at = ? WHERE id = ?",
                       (stamp(self.clock()), row["id"]))
            if self.hasher.check_needs_rehash(row["password_hash"]):  # parameters raised since it was set
                db.execute("UPDATE console_account SET password_hash = ? WHERE id = ?",
                           (self.hasher.hash(password), row["id"]))
        return self.get(int(row["id"]))

    def _spend(self, password: str) -> None:
        try:
            self.hasher.verify(self._dummy_hash, password)
        except VerificationError:
            pass

    def get(self, account_id: int) -> Optional[Account]:
        with self.db.connect() as db:
            row = db.execute(f"SELECT {_COLUMNS} FROM console_account WHERE id = ?", (account_id,)).fetchone()
        return _account(row) if row else None

    def all(self) -> list[Account]:
        with self.db.connect() as db:
            rows = db.execute(f"SELECT {_COLUMNS} FROM console_account ORDER BY role, username").fetchall()
        return [_account(r) for r in rows]

    def count(self, role: Optional[Role] = None) -> int:
        sql = "SELECT COUNT(*) n FROM console_account" + (" WHERE role = ?" if role else "")
        with self.db.connect() as db:
            return int(db.execute(sql, (role,) if role else ()).fetchone()["n"])


_COLUMNS = "id, username, role, active, created_at, last_login_at"


def _account(r: sqlite3.Row) -> Account:
    return Account(int(r["id"]), r["username"], r["role"], bool(r["active"]), r["created_at"], r["last_login_at"])
