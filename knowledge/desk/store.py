"""SQLite store of the desk. Thread-safe through one connection per call.

Personal data (docs/PRIVACY.md): transcripts and feedback comments are masked with
``knowledge.text.pii.mask_pii`` on write, whatever the caller already did; the contact a
citizen leaves with consent is the one value stored as given, and nothing is stored
without consent. The file is created readable by its owner only (mode 600; SQLite gives
its journal and WAL files the database file's mode). ``purge_before`` and ``forget`` are
what the retention and erasure commands call.

Each handover has a public reference (``HT-`` + 8 random characters): the citizen is only
ever shown that, never the sequential id, and a contact is only changed by the reference
together with the conversation (sender id) that opened the handover.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from knowledge.text.pii import mask_pii

SCHEMA = """
CREATE TABLE IF NOT EXISTS handover (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sender_id TEXT NOT NULL,
    channel TEXT,
    created_at TEXT NOT NULL,
    within_office_hours INTEGER NOT NULL,
    transcript TEXT NOT NULL,
    contact TEXT,
    contact_consent INTEGER,
    status TEXT NOT NULL DEFAULT 'open',
    ref TEXT,
    reason TEXT,
    officer TEXT,
    taken_at TEXT,
    closed_at TEXT,
    callback_status TEXT
);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sender_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    value TEXT,
    rating INTEGER,
    answer_ref TEXT,
    comment TEXT
);
CREATE TABLE IF NOT EXISTS event (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sender_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    type TEXT NOT NULL,
    ref TEXT
);
CREATE INDEX IF NOT EXISTS event_type ON event(type);
"""
# Created after the migration below (a file from before the column existed has no ``ref`` yet).
REF_INDEX = "CREATE UNIQUE INDEX IF NOT EXISTS handover_ref ON handover(ref)"
# Columns of the live handover (issue 13), added to a file from before them.
LIVE_COLUMNS = ("reason", "officer", "taken_at", "closed_at", "callback_status")
# Why the bot handed over (actions/handover.py); anything else is stored as "other".
REASONS = ("citizen_asked", "repeated_fallback", "other")
# An open handover is taken by one officer, then closed; only a taken one is closed.
OPEN, TAKEN, CLOSED = "open", "taken", "closed"
# The call-back list (outside office hours, contact given with consent): an officer sets these.
CALLBACK_STATUSES = ("not_called", "called", "unreachable")
TABLES = ("handover", "feedback", "event")

# No 0/O, 1/I/L: a reference read over the phone or copied by hand is not mistaken.
REF_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
REF_LENGTH = 8
REF_PREFIX = "HT-"
REF_PATTERN = re.compile(rf"^{REF_PREFIX}[{REF_ALPHABET}]{{{REF_LENGTH}}}$")


def new_ref() -> str:
    """``HT-`` + 8 characters drawn with ``secrets`` (31^8 ≈ 8.5·10^11 references)."""
    return REF_PREFIX + "".join(secrets.choice(REF_ALPHABET) for _ in range(REF_LENGTH))


def is_ref(value: object) -> bool:
    return isinstance(value, str) and REF_PATTERN.match(value) is not None


def _now() -> str:
    return _stamp(dt.datetime.now(dt.timezone.utc))


def _stamp(when: dt.datetime) -> str:
    """The stored form of a time: UTC, ISO 8601 to the second (sorts as text); naive times are UTC."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return when.astimezone(dt.timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Handover:
    id: int
    ref: str
    sender_id: str
    channel: Optional[str]
    created_at: str
    within_office_hours: bool
    transcript: list[dict[str, str]]
    contact: Optional[str]
    contact_consent: Optional[bool]
    status: str
    reason: str = "other"
    officer: Optional[str] = None
    taken_at: Optional[str] = None
    closed_at: Optional[str] = None
    callback_status: str = "not_called"


@dataclass(frozen=True)
class CreatedHandover:
    id: int
    ref: str


class DeskStore:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _create_private(self.path)
        with self._db() as db:
            db.executescript(SCHEMA)
            self._migrate(db)
            db.execute(REF_INDEX)

    @staticmethod
    def _migrate(db: sqlite3.Connection) -> None:
        """A file from before handover references: add the column and give every row one."""
        columns = {r["name"] for r in db.execute("PRAGMA table_info(handover)")}
        if "ref" not in columns:
            db.execute("ALTER TABLE handover ADD COLUMN ref TEXT")
        for column in LIVE_COLUMNS:
            if column not in columns:
                db.execute(f"ALTER TABLE handover ADD COLUMN {column} TEXT")
        missing = [r["id"] for r in db.execute("SELECT id FROM handover WHERE ref IS NULL")]
        taken = {r["ref"] for r in db.execute("SELECT ref FROM handover WHERE ref IS NOT NULL")}
        for hid in missing:
            ref = new_ref()
            while ref in taken:
                ref = new_ref()
            taken.add(ref)
            db.execute("UPDATE handover SET ref = ? WHERE id = ?", (ref, hid))

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=10)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA secure_delete=ON")  # purged rows are overwritten, not left in free pages
        try:
            yield conn
            conn.commit()
        finally:
            conn.close()

    def add_handover(self, sender_id: str, channel: Optional[str], within_office_hours: bool,
                     transcript: list[dict[str, str]], reason: str = "other") -> CreatedHandover:
        reason = reason if reason in REASONS else "other"
        masked = [{**line, "text": mask_pii(str(line.get("text") or ""))} for line in transcript]
        text = json.dumps(masked, ensure_ascii=False)
        with self._db() as db:
            for _ in range(10):
                ref = new_ref()
                try:
                    cur = db.execute(
                        "INSERT INTO handover (ref, sender_id, channel, created_at, within_office_hours, transcript,"
                        " reason) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (ref, sender_id, channel, _now(), int(within_office_hours), text, reason))
                except sqlite3.IntegrityError:  # the same reference drawn twice: draw again
                    continue
                return CreatedHandover(int(cur.lastrowid or 0), ref)
        raise RuntimeError("could not draw a free handover reference")

    def set_contact(self, ref: str, sender_id: str, consent: bool, contact: Optional[str]) -> bool:
        """Record the citizen's answer; only the conversation that opened the handover may.

        False when there is no handover ``ref`` of ``sender_id`` (the caller cannot tell which).
        """
        if not is_ref(ref):
            return False
        with self._db() as db:
            cur = db.execute("UPDATE handover SET contact_consent = ?, contact = ? WHERE ref = ? AND sender_id = ?",
                             (int(consent), contact if consent else None, ref, sender_id))
            return cur.rowcount == 1

    def handover(self, ref: str) -> Optional[Handover]:
        if not is_ref(ref):
            return None
        with self._db() as db:
            row = db.execute("SELECT * FROM handover WHERE ref = ?", (ref,)).fetchone()
        return _handover(row) if row else None

    def handovers(self, status: Optional[str] = None, limit: int = 100) -> list[Handover]:
        sql = "SELECT * FROM handover" + (" WHERE status = ?" if status else "") + " ORDER BY id DESC LIMIT ?"
        args: tuple[Any, ...] = (status, limit) if status else (limit,)
        with self._db() as db:
            rows = db.execute(sql, args).fetchall()
        return [_handover(r) for r in rows]

    def take(self, ref: str, officer: str) -> bool:
        """Give the open handover ``ref`` to ``officer``; False when it is not open (already taken).

        One conditional UPDATE: of several officers taking the same case at once exactly one
        changes the row (SQLite serialises writers), the others see rowcount 0.
        """
        if not is_ref(ref):
            return False
        with self._db() as db:
            cur = db.execute("UPDATE handover SET status = ?, officer = ?, taken_at = ? WHERE ref = ? AND status = ?",
                             (TAKEN, officer, _now(), ref, OPEN))
            return cur.rowcount == 1

    def release(self, ref: str, officer: str) -> bool:
        """Put a case ``officer`` took back in the queue (the bot could not be paused)."""
        with self._db() as db:
            cur = db.execute("UPDATE handover SET status = ?, officer = NULL, taken_at = NULL"
                             " WHERE ref = ? AND status = ? AND officer = ?", (OPEN, ref, TAKEN, officer))
            return cur.rowcount == 1

    def close(self, ref: str, officer: str) -> bool:
        """Close the case ``officer`` holds; False when it is not theirs or not taken."""
        if not is_ref(ref):
            return False
        with self._db() as db:
            cur = db.execute("UPDATE handover SET status = ?, closed_at = ?"
                             " WHERE ref = ? AND status = ? AND officer = ?", (CLOSED, _now(), ref, TAKEN, officer))
            return cur.rowcount == 1

    def callbacks(self, limit: int = 200) -> list[Handover]:
        """Handovers outside office hours whose citizen left a contact with consent, oldest first."""
        with self._db() as db:
            rows = db.execute("SELECT * FROM handover WHERE within_office_hours = 0 AND contact_consent = 1"
                              " AND contact IS NOT NULL ORDER BY id LIMIT ?", (limit,)).fetchall()
        return [_handover(r) for r in rows]

    def set_callback_status(self, ref: str, status: str) -> bool:
        """Record the call-back's outcome; False for an unknown status or a handover not on the list."""
        if status not in CALLBACK_STATUSES or not is_ref(ref):
            return False
        with self._db() as db:
            cur = db.execute("UPDATE handover SET callback_status = ? WHERE ref = ? AND within_office_hours = 0"
                             " AND contact_consent = 1 AND contact IS NOT NULL", (status, ref))
            return cur.rowcount == 1

    def add_feedback(self, sender_id: str, value: Optional[str], rating: Optional[int], answer_ref: Optional[str],
                     comment: Optional[str]) -> int:
        with self._db() as db:
            cur = db.execute(
                "INSERT INTO feedback (sender_id, created_at, value, rating, answer_ref, comment) VALUES (?,?,?,?,?,?)",
                (sender_id, _now(), value, rating, answer_ref, mask_pii(comment) if comment else comment))
            return int(cur.lastrowid or 0)

    def add_event(self, sender_id: str, type_: str, ref: Optional[str]) -> int:
        with self._db() as db:
            cur = db.execute("INSERT INTO event (sender_id, created_at, type, ref) VALUES (?,?,?,?)",
                             (sender_id, _now(), type_, ref))
            return int(cur.lastrowid or 0)

    def purge_before(self, cutoff: dt.datetime) -> int:
        """Delete the handovers, feedback and events created before ``cutoff``; the rows deleted."""
        stamp = _stamp(cutoff)
        with self._db() as db:
            return sum(db.execute(f"DELETE FROM {table} WHERE created_at < ?", (stamp,)).rowcount
                       for table in TABLES)

    def forget(self, sender_id: str) -> int:
        """Delete every row of ``sender_id``; the rows deleted."""
        with self._db() as db:
            return sum(db.execute(f"DELETE FROM {table} WHERE sender_id = ?", (sender_id,)).rowcount
                       for table in TABLES)

    def stats(self) -> dict[str, Any]:
        with self._db() as db:
            events = {r["type"]: r["n"] for r in db.execute("SELECT type, COUNT(*) n FROM event GROUP BY type")}
            top = [{"ref": r["ref"], "count": r["n"]} for r in db.execute(
                "SELECT ref, COUNT(*) n FROM event WHERE type = 'online_referral'"
                " GROUP BY ref ORDER BY n DESC LIMIT 10")]
            fb = db.execute("SELECT SUM(value = 'up') up, SUM(value = 'down') down, AVG(rating) avg_rating,"
                            " COUNT(rating) ratings FROM feedback").fetchone()
            ho = db.execute("SELECT COUNT(*) n, SUM(contact IS NOT NULL) with_contact FROM handover").fetchone()
        return {
            "events": events,
            "top_online_referrals": top,
            "feedback": {"up": fb["up"] or 0, "down": fb["down"] or 0, "ratings": fb["ratings"] or 0,
                         "average_rating": round(fb["avg_rating"], 2) if fb["avg_rating"] is not None else None},
            "handovers": {"total": ho["n"] or 0, "with_contact": ho["with_contact"] or 0},
        }


def _handover(r: sqlite3.Row) -> Handover:
    return Handover(r["id"], r["ref"], r["sender_id"], r["channel"], r["created_at"], bool(r["within_office_hours"]),
                    json.loads(r["transcript"]), r["contact"],
                    None if r["contact_consent"] is None else bool(r["contact_consent"]), r["status"],
                    r["reason"] or "other", r["officer"], r["taken_at"], r["closed_at"],
                    r["callback_status"] or "not_called")


def _create_private(path: Path) -> None:
    """Create ``path`` with mode 600 (before SQLite opens it), and tighten an existing file to 600."""
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(fd)
    try:
        os.chmod(path, 0o600)
    except OSError:  # not the owner (a shared volume): leave the mode the operator set
        pass
