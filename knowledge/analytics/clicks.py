"""Clicks on the bot's online-service links, counted by the redirect ``/r/<procedure id>``.

One row per (day, procedure, channel) with a counter: no sender id, no address, no time of
day is kept, so the table holds nothing about a person. It lives in the desk database.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Optional

SCHEMA = """
CREATE TABLE IF NOT EXISTS referral_click (
    day TEXT NOT NULL,
    procedure_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    clicks INTEGER NOT NULL,
    PRIMARY KEY (day, procedure_id, channel)
)
"""
# The channels a link may name (Rasa's input channel names); anything else is counted as "other".
CHANNELS = ("socketio", "facebook", "zalo", "rest")


def known_channel(value: Optional[str]) -> str:
    return value if value in CHANNELS else "other"


class ClickCounter:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        with self._db() as db:
            db.execute(SCHEMA)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=10)
        conn.row_factory = sqlite3.Row
        try:
            yield conn
            conn.commit()
        finally:
            conn.close()

    def count(self, procedure_id: str, channel: Optional[str], day: dt.date) -> None:
        """One more click; an UPSERT, so concurrent clicks are all counted."""
        with self._db() as db:
            db.execute("INSERT INTO referral_click (day, procedure_id, channel, clicks) VALUES (?, ?, ?, 1)"
                       " ON CONFLICT (day, procedure_id, channel) DO UPDATE SET clicks = clicks + 1",
                       (day.isoformat(), procedure_id, known_channel(channel)))

    def by_procedure(self, start: dt.date, end: dt.date, channel: Optional[str]) -> dict[str, int]:
        """Clicks per procedure from ``start`` to ``end`` (both included), of one channel or all."""
        sql = "SELECT procedure_id, SUM(clicks) n FROM referral_click WHERE day >= ? AND day <= ?"
        args: list[str] = [start.isoformat(), end.isoformat()]
        if channel:
            sql += " AND channel = ?"
            args.append(channel)
        with self._db() as db:
            rows = db.execute(sql + " GROUP BY procedure_id", args).fetchall()
        return {r["procedure_id"]: int(r["n"]) for r in rows}
