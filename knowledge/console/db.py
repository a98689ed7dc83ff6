"""The console's tables, kept in the desk database file (``Settings.desk_db``).

Why the desk file and not a file of its own: the live handover (issue 13, item 2) assigns a
handover to an officer account in one transaction ("several officers never take the same
case"), which SQLite only does inside one file; and one file means one backup, one private
mode (600) and one place an operator looks. The tables are prefixed ``console_`` and are not
touched by the retention and erasure commands (they hold no conversation).

Migrations run at open, in order, recorded in ``console_meta``; each step is idempotent.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from knowledge.desk.store import _create_private  # the desk file is private (600) before SQLite opens it

Clock = Callable[[], dt.datetime]

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE IF NOT EXISTS console_account (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        username TEXT NOT NULL UNIQUE,
        role TEXT NOT NULL CHECK (role IN ('officer', 'admin')),
        password_hash TEXT NOT NULL,
        active INTEGER NOT NULL DEFAULT 1,
        created_at TEXT NOT NULL,
        last_login_at TEXT
    );
    CREATE TABLE IF NOT EXISTS console_session (
        token_hash TEXT PRIMARY KEY,
        account_id INTEGER NOT NULL REFERENCES console_account(id) ON DELETE CASCADE,
        csrf TEXT NOT NULL,
        created_at TEXT NOT NULL,
        seen_at TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS console_session_account ON console_session(account_id);
    CREATE TABLE IF NOT EXISTS console_login_failure (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        username TEXT NOT NULL,
        address TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS console_login_failure_at ON console_login_failure(at);
    """,
)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def stamp(when: dt.datetime) -> str:
    """Stored form of a time: UTC, ISO 8601 to the second (sorts as text, as in the desk store)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return when.astimezone(dt.timezone.utc).isoformat(timespec="seconds")


def parse(value: str) -> dt.datetime:
    when = dt.datetime.fromisoformat(value)
    return when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)


class ConsoleDB:
    """The desk database file opened for the console: one connection per call, thread-safe."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _create_private(self.path)
        with self.connect() as db:
            self._migrate(db)

    @staticmethod
    def _migrate(db: sqlite3.Connection) -> None:
        db.execute("CREATE TABLE IF NOT EXISTS console_meta (version INTEGER NOT NULL)")
        row = db.execute("SELECT version FROM console_meta").fetchone()
        version = int(row["version"]) if row else 0
        if row is None:
            db.execute("INSERT INTO console_meta (version) VALUES (0)")
        for number, script in enumerate(MIGRATIONS, start=1):
            if number > version:
                db.executescript(script)
                db.execute("UPDATE console_meta SET version = ?", (number,))

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=10)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA secure_delete=ON")
        try:
            yield conn
            conn.commit()
        finally:
            conn.close()
