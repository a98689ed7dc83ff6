"""Server-side sessions: a random 32-byte token in the cookie, its SHA-256 in the table.

A copy of the database does not give a live session (only token digests are stored). A
session ends after IDLE without a request, after ABSOLUTE whatever the activity, at logout,
or when its account is disabled. Each session carries its own CSRF token.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import sqlite3
from dataclasses import dataclass
from typing import Optional

from knowledge.console.accounts import Account, Accounts
from knowledge.console.db import Clock, ConsoleDB, parse, stamp, utc_now

IDLE = dt.timedelta(minutes=30)
ABSOLUTE = dt.timedelta(hours=8)
TOKEN_BYTES = 32


@dataclass(frozen=True)
class NewSession:
    token: str
    csrf: str


@dataclass(frozen=True)
class Session:
    account: Account
    csrf: str
    created_at: dt.datetime


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Sessions:
    def __init__(self, db: ConsoleDB, accounts: Accounts, clock: Clock = utc_now,
                 idle: dt.timedelta = IDLE, absolute: dt.timedelta = ABSOLUTE) -> None:
        self.db = db
        self.accounts = accounts
        self.clock = clock
        self.idle = idle
        self.absolute = absolute

    def create(self, account: Account) -> NewSession:
        now = self.clock()
        new = NewSession(secrets.token_urlsafe(TOKEN_BYTES), secrets.token_urlsafe(TOKEN_BYTES))
        with self.db.connect() as db:
            self._drop_expired(db, now)
            db.execute("INSERT INTO console_session (token_hash, account_id, csrf, created_at, seen_at)"
                       " VALUES (?, ?, ?, ?, ?)", (_digest(new.token), account.id, new.csrf, stamp(now), stamp(now)))
        return new

    def get(self, token: Optional[str]) -> Optional[Session]:
        """The live session of ``token`` (its idle clock restarted), or None; an expired one is deleted."""
        if not token or len(token) > 128:
            return None
        now = self.clock()
        key = _digest(token)
        with self.db.connect() as db:
            row = db.execute("SELECT account_id, csrf, created_at, seen_at FROM console_session WHERE token_hash = ?",
                             (key,)).fetchone()
            if row is None:
                return None
            created = parse(row["created_at"])
            if now - parse(row["seen_at"]) > self.idle or now - created > self.absolute:
                db.execute("DELETE FROM console_session WHERE token_hash = ?", (key,))
                return None
            db.execute("UPDATE console_session SET seen_at = ? WHERE token_hash = ?", (stamp(now), key))
        account = self.accounts.get(int(row["account_id"]))
        if account is None or not account.active:
            self.delete(token)
            return None
        return Session(account, row["csrf"], created)

    def delete(self, token: Optional[str]) -> None:
        if token:
            with self.db.connect() as db:
                db.execute("DELETE FROM console_session WHERE token_hash = ?", (_digest(token),))

    def _drop_expired(self, db: sqlite3.Connection, now: dt.datetime) -> None:
        db.execute("DELETE FROM console_session WHERE seen_at < ? OR created_at < ?",
                   (stamp(now - self.idle), stamp(now - self.absolute)))
