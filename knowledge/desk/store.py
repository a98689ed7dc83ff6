"""SQLite store of the desk. Thread-safe through one connection per call."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

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
    status TEXT NOT NULL DEFAULT 'open'
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


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Handover:
    id: int
    sender_id: str
    channel: Optional[str]
    created_at: str
    within_office_hours: bool
    transcript: list[dict[str, str]]
    contact: Optional[str]
    contact_consent: Optional[bool]
    status: str


class DeskStore:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.executescript(SCHEMA)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=10)
        conn.row_factory = sqlite3.Row
        try:
            yield conn
            conn.commit()
        finally:
            conn.close()

    def add_handover(self, sender_id: str, channel: Optional[str], within_office_hours: bool,
                     transcript: list[dict[str, str]]) -> int:
        with self._db() as db:
            cur = db.execute(
                "INSERT INTO handover (sender_id, channel, created_at, within_office_hours, transcript)"
                " VALUES (?, ?, ?, ?, ?)",
                (sender_id, channel, _now(), int(within_office_hours), json.dumps(transcript, ensure_ascii=False)))
            return int(cur.lastrowid or 0)

    def set_contact(self, handover_id: int, consent: bool, contact: Optional[str]) -> bool:
        with self._db() as db:
            cur = db.execute("UPDATE handover SET contact_consent = ?, contact = ? WHERE id = ?",
                             (int(consent), contact if consent else None, handover_id))
            return cur.rowcount == 1

    def handovers(self, status: Optional[str] = None, limit: int = 100) -> list[Handover]:
        sql = "SELECT * FROM handover" + (" WHERE status = ?" if status else "") + " ORDER BY id DESC LIMIT ?"
        args: tuple[Any, ...] = (status, limit) if status else (limit,)
        with self._db() as db:
            rows = db.execute(sql, args).fetchall()
        return [Handover(r["id"], r["sender_id"], r["channel"], r["created_at"], bool(r["within_office_hours"]),
                         json.loads(r["transcript"]), r["contact"],
                         None if r["contact_consent"] is None else bool(r["contact_consent"]), r["status"])
                for r in rows]

    def add_feedback(self, sender_id: str, value: Optional[str], rating: Optional[int], answer_ref: Optional[str],
                     comment: Optional[str]) -> int:
        with self._db() as db:
            cur = db.execute(
                "INSERT INTO feedback (sender_id, created_at, value, rating, answer_ref, comment) VALUES (?,?,?,?,?,?)",
                (sender_id, _now(), value, rating, answer_ref, comment))
            return int(cur.lastrowid or 0)

    def add_event(self, sender_id: str, type_: str, ref: Optional[str]) -> int:
        with self._db() as db:
            cur = db.execute("INSERT INTO event (sender_id, created_at, type, ref) VALUES (?,?,?,?)",
                             (sender_id, _now(), type_, ref))
            return int(cur.lastrowid or 0)

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
