"""Zalo OA access/refresh tokens, kept in SQLite and refreshed by one process at a time.

Standard library only (the Rasa server imports it, and tests import it from the other venv).

Zalo's access token lives ~25 h; the refresh token is single-use and rotates on every refresh
(valid ~3 months). Losing the new refresh token means re-authorising the OA by hand, so:

* the row (access_token, refresh_token, expires_at) lives in SQLite, not in memory;
* a refresh runs inside ``BEGIN IMMEDIATE`` (the database write lock), re-reads the row inside
  that transaction and only calls Zalo if the token it holds is still the stale one — a second
  process (or coroutine) that waited on the lock finds the fresh token and uses it;
* the new tokens are written in the same transaction that held the lock while Zalo answered.

Refresh: ``POST {oauth_base}/v4/oa/access_token``, header ``secret_key: <app secret key>``, form
``refresh_token, app_id, grant_type=refresh_token``; answer ``{"access_token", "refresh_token",
"expires_in": "90000"}`` (seconds, sent as a string) or ``{"error": <negative>, ...}``.
The credentials' tokens only seed an empty database: once a refresh has happened the database
is the truth (the seeded refresh token has been spent).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sqlite3
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

logger = logging.getLogger(__name__)

REFRESH_MARGIN_S = 300.0  # refresh proactively when the token expires within 5 minutes
LOCK_TIMEOUT_S = 60.0  # how long a process waits for another one's refresh

_SCHEMA = """
CREATE TABLE IF NOT EXISTS zalo_token (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    access_token TEXT NOT NULL,
    refresh_token TEXT NOT NULL,
    expires_at REAL,            -- unix seconds; NULL = unknown (use until Zalo says expired)
    updated_at REAL NOT NULL,
    refresh_count INTEGER NOT NULL DEFAULT 0
)
"""


class TokenRefreshError(RuntimeError):
    """The refresh failed; the stored tokens are unchanged. Never carries a token value."""


@dataclass(frozen=True)
class TokenRow:
    access_token: str
    refresh_token: str
    expires_at: Optional[float]
    refresh_count: int = 0

    def expiring(self, now: float, margin: float = REFRESH_MARGIN_S) -> bool:
        return self.expires_at is not None and self.expires_at - now <= margin


class ZaloTokenStore:
    def __init__(self, db_path: str | os.PathLike[str], app_id: str, app_secret_key: str,
                 initial_access_token: str = "", initial_refresh_token: str = "",
                 oauth_base: str = "https://oauth.zaloapp.com", http_timeout: float = 15.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.db_path = Path(db_path)
        self.app_id = app_id
        self.app_secret_key = app_secret_key
        self.oauth_base = oauth_base.rstrip("/")
        self.http_timeout = http_timeout
        self.clock = clock
        self._async_lock: Optional[asyncio.Lock] = None
        self._init_db(initial_access_token, initial_refresh_token)

    # -- database ------------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: we issue BEGIN/COMMIT ourselves; timeout = wait for the write lock.
        conn = sqlite3.connect(str(self.db_path), timeout=LOCK_TIMEOUT_S, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {int(LOCK_TIMEOUT_S * 1000)}")
        return conn

    def _init_db(self, access_token: str, refresh_token: str) -> None:
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        conn = self._connect()
        try:
            conn.execute(_SCHEMA)
            if access_token or refresh_token:
                conn.execute("INSERT OR IGNORE INTO zalo_token (id, access_token, refresh_token, expires_at, "
                             "updated_at) VALUES (1, ?, ?, NULL, ?)", (access_token, refresh_token, self.clock()))
        finally:
            conn.close()

    @staticmethod
    def _row(conn: sqlite3.Connection) -> Optional[TokenRow]:
        r = conn.execute("SELECT access_token, refresh_token, expires_at, refresh_count FROM zalo_token "
                         "WHERE id = 1").fetchone()
        return TokenRow(r[0], r[1], r[2], r[3]) if r else None

    def read(self) -> Optional[TokenRow]:
        conn = self._connect()
        try:
            return self._row(conn)
        finally:
            conn.close()

    # -- refresh (blocking; call from a thread) -----------------------------------------------
    def refresh_sync(self, stale_access_token: Optional[str]) -> TokenRow:
        """Refresh unless another process already did. ``stale_access_token``: the token that
        failed (or is expiring); None forces a refresh of whatever is stored."""
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")  # the write lock: one refresher at a time
            try:
                row = self._row(conn)
                if row is None or not row.refresh_token:
                    raise TokenRefreshError("no refresh token stored; authorise the OA again")
                now = self.clock()
                if stale_access_token is not None and row.access_token != stale_access_token \
                        and not row.expiring(now):
                    conn.execute("COMMIT")
                    logger.info("zalo token: already refreshed by another worker")
                    return row
                access, refresh, expires_in = self._call_refresh(row.refresh_token)
                conn.execute("UPDATE zalo_token SET access_token = ?, refresh_token = ?, expires_at = ?, "
                             "updated_at = ?, refresh_count = refresh_count + 1 WHERE id = 1",
                             (access, refresh or row.refresh_token, now + expires_in if expires_in else None, now))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            new = self._row(conn)
            assert new is not None
            logger.info("zalo token: refreshed (refresh #%d, expires in %ss)", new.refresh_count,
                        int(expires_in) if expires_in else "?")
            return new
        finally:
            conn.close()

    def _call_refresh(self, refresh_token: str) -> tuple[str, str, float]:
        form = urllib.parse.urlencode({"refresh_token": refresh_token, "app_id": self.app_id,
                                       "grant_type": "refresh_token"}).encode()
        req = urllib.request.Request(f"{self.oauth_base}/v4/oa/access_token", data=form, method="POST",
                                     headers={"secret_key": self.app_secret_key,
                                              "Content-Type": "application/x-www-form-urlencoded"})
        try:
            with urllib.request.urlopen(req, timeout=self.http_timeout) as resp:
                body = json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as e:
            raise TokenRefreshError(f"token endpoint answered HTTP {e.code}") from None
        except (OSError, ValueError) as e:
            raise TokenRefreshError(f"token endpoint unreachable or invalid answer ({type(e).__name__})") from None
        access = body.get("access_token") if isinstance(body, dict) else None
        if not access:
            code = body.get("error") if isinstance(body, dict) else None
            raise TokenRefreshError(f"token endpoint refused the refresh (error {code})")
        try:
            expires_in = float(body.get("expires_in") or 0)
        except (TypeError, ValueError):
            expires_in = 0.0
        return str(access), str(body.get("refresh_token") or ""), expires_in

    # -- async API used by the channel -------------------------------------------------------
    def _lock(self) -> asyncio.Lock:
        if self._async_lock is None:
            self._async_lock = asyncio.Lock()
        return self._async_lock

    async def access_token(self) -> str:
        """The current access token, refreshed first if it expires within 5 minutes."""
        row = await asyncio.get_running_loop().run_in_executor(None, self.read)
        if row is None:
            raise TokenRefreshError("no Zalo token stored")
        if row.expiring(self.clock()):
            try:
                row = await self.refresh(row.access_token)
            except TokenRefreshError as e:
                logger.warning("zalo token: proactive refresh failed (%s); using the current token", e)
        return row.access_token

    async def refresh(self, stale_access_token: Optional[str]) -> TokenRow:
        # The asyncio lock keeps this process's coroutines from queueing threads on SQLite's
        # lock; BEGIN IMMEDIATE inside refresh_sync is what coordinates separate processes.
        async with self._lock():
            return await asyncio.get_running_loop().run_in_executor(None, self.refresh_sync, stale_access_token)
