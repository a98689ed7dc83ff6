"""Login throttling: 5 failures for one account name or from one client address within 15
minutes lock further attempts for 15 minutes after the last of them.

Counted by the name as typed (normalised), whether or not such an account exists, so a lock
tells nothing about existence. Refused attempts are not counted (a lock does not extend
itself). Failures are kept one hour at most: they hold a client address.
"""

from __future__ import annotations

import datetime as dt
from typing import Optional

from knowledge.console.db import Clock, ConsoleDB, parse, stamp, utc_now

MAX_FAILURES = 5
WINDOW = dt.timedelta(minutes=15)
LOCK = dt.timedelta(minutes=15)
KEEP = dt.timedelta(hours=1)


class Throttle:
    def __init__(self, db: ConsoleDB, clock: Clock = utc_now, max_failures: int = MAX_FAILURES,
                 window: dt.timedelta = WINDOW, lock: dt.timedelta = LOCK) -> None:
        self.db = db
        self.clock = clock
        self.max_failures = max_failures
        self.window = window
        self.lock = lock

    def locked_until(self, username: str, address: str) -> Optional[dt.datetime]:
        """When attempts for this name or from this address are allowed again; None: allowed now."""
        now = self.clock()
        since = stamp(now - self.window - self.lock)
        until: Optional[dt.datetime] = None
        with self.db.connect() as db:
            for column, value in (("username", username), ("address", address)):
                times = [parse(r["at"]) for r in db.execute(
                    f"SELECT at FROM console_login_failure WHERE {column} = ? AND at >= ? ORDER BY at",
                    (value, since))]
                for i in range(self.max_failures - 1, len(times)):
                    if times[i] - times[i - self.max_failures + 1] <= self.window:
                        end = times[i] + self.lock
                        until = end if until is None or end > until else until
        return until if until is not None and until > now else None

    def record_failure(self, username: str, address: str) -> None:
        now = self.clock()
        with self.db.connect() as db:
            db.execute("DELETE FROM console_login_failure WHERE at < ?", (stamp(now - KEEP),))
            db.execute("INSERT INTO console_login_failure (at, username, address) VALUES (?, ?, ?)",
                       (stamp(now), username, address))

    def clear(self, username: str) -> None:
        """A successful login forgets the name's failures (not the address's: others may share it)."""
        with self.db.connect() as db:
            db.execute("DELETE FROM console_login_failure WHERE username = ?", (username,))
