"""Shared by the platform channels (standard library only, and bot/metrics.py).

``SenderLocks``: one asyncio.Lock per sender, so a user's messages are handled one at a
time and in order (tasks take the lock in creation order; asyncio.Lock wakes waiters
first-in first-out), while different users run concurrently. A lock is dropped when
nobody holds or waits for it.

The messages held or waiting in a ``SenderLocks`` are the channel's queue depth
(``dvc_rasa_channel_queue_depth``, bot/metrics.py).

``RecentIds``: a bounded memory of message ids, because platforms redeliver webhooks.

``SharedOrder``: a user's messages handled in arrival order across Rasa worker processes
(two messages from one user may reach two workers): each message takes a ticket (Redis
``INCR``) before the webhook answers, and its handling waits until the previous ticket
has been served. A ticket left unserved by a crashed worker is skipped after a while.

``SharedIds``: the same as ``RecentIds`` across Rasa worker processes, in Redis (``SET NX`` with an
expiry), when the stack runs several Rasa workers (``DVC_REDIS_URL``). A redelivery can
reach another worker than the first delivery; the local memory stays the fast path.
When Redis cannot be reached the message is handled (a rare duplicate answer is better
than a lost question) and the failure is logged.

``SeenDb``: the same memory without Redis, in a small SQLite file (``DVC_SEEN_DB``, mode 600),
so that a redelivery after a restart of the one Rasa process is still recognised. Keys are
stored hashed (a fallback key may contain a user id) and expire after the platform's retry
horizon. ``redelivery_memory`` picks Redis (``DVC_REDIS_URL``), else the SQLite file, else
nothing beyond the process's own ``RecentIds``.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import sqlite3
import time
from collections import OrderedDict
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, AsyncIterator, Dict, List, Optional, Union

from bot import metrics

logger = logging.getLogger(__name__)
REDIS_URL_ENV = "DVC_REDIS_URL"
SEEN_DB_ENV = "DVC_SEEN_DB"


class SenderLocks:
    def __init__(self, channel: str = "other") -> None:
        self._locks: Dict[str, List[object]] = {}  # sender -> [lock, holders and waiters]
        self._channel = channel  # the queue-depth gauge's label (bot/metrics.py)

    @asynccontextmanager
    async def hold(self, sender: str) -> AsyncIterator[None]:
        entry = self._locks.setdefault(sender, [asyncio.Lock(), 0])
        entry[1] = int(entry[1]) + 1  # type: ignore[call-overload]
        try:
            with metrics.queued(self._channel):
                async with entry[0]:  # type: ignore[attr-defined]
                    yield
        finally:
            entry[1] = int(entry[1]) - 1  # type: ignore[call-overload]
            if entry[1] == 0:
                self._locks.pop(sender, None)

    def __len__(self) -> int:
        return len(self._locks)


class RecentIds:
    def __init__(self, size: int) -> None:
        self._size = size
        self._seen: OrderedDict[str, None] = OrderedDict()

    def first_time(self, key: str) -> bool:
        """True the first time a key is seen (and remembers it), False for a repeat."""
        if key in self._seen:
            self._seen.move_to_end(key)
            return False
        self._seen[key] = None
        while len(self._seen) > self._size:
            self._seen.popitem(last=False)
        return True


class _Redis:
    """A lazily created redis.asyncio client (in the worker's own event loop), or none."""

    def __init__(self, namespace: str, url: Optional[str]) -> None:
        self.namespace = namespace
        self.url = url if url is not None else os.environ.get(REDIS_URL_ENV, "")
        self._client: Any = None

    @property
    def enabled(self) -> bool:
        return bool(self.url)

    def client(self) -> Any:
        if self._client is None:
            import redis.asyncio as redis_asyncio

            # Short timeouts: the webhook must answer the platform within 2 s even if Redis hangs.
            self._client = redis_asyncio.from_url(self.url, socket_timeout=0.5, socket_connect_timeout=0.5)
        return self._client

    def key(self, *parts: str) -> str:
        return ":".join(["dvc", self.namespace, *parts])


# served := max(served, ticket), with an expiry: a skipped ticket never moves it backwards.
_SERVE = ("local v = tonumber(redis.call('get', KEYS[1]) or '0') "
          "if v < tonumber(ARGV[1]) then redis.call('set', KEYS[1], ARGV[1]) end "
          "redis.call('expire', KEYS[1], ARGV[2]) return 1")


class SharedOrder:
    def __init__(self, namespace: str, url: Optional[str] = None, wait_seconds: float = 60.0,
                 poll_seconds: float = 0.01, ttl_seconds: int = 24 * 3600) -> None:
        self._redis = _Redis(namespace, url)
        self._wait = wait_seconds
        self._poll = poll_seconds
        self._ttl = ttl_seconds

    async def ticket(self, sender: str) -> Optional[int]:
        """This message's place in the sender's queue (None: no shared queue)."""
        if not self._redis.enabled:
            return None
        try:
            client = self._redis.client()
            key = self._redis.key("order", sender, "issued")
            number = int(await client.incr(key))
            await client.expire(key, self._ttl)
            return number
        except Exception as exc:  # noqa: BLE001 - order is best effort; the message is never dropped
            logger.warning("%s: shared order unavailable (%s)", self._redis.namespace, type(exc).__name__)
            return None

    @asynccontextmanager
    async def turn(self, sender: str, ticket: Optional[int]) -> AsyncIterator[None]:
        """Wait until the sender's previous messages were handled, then hold the turn."""
        if ticket is None:
            yield
            return
        served_key = self._redis.key("order", sender, "served")
        deadline = time.monotonic() + self._wait
        try:
            client = self._redis.client()
            while int(await client.get(served_key) or 0) < ticket - 1:
                if time.monotonic() > deadline:
                    logger.warning("%s: an earlier message of a sender was not finished in %.0f s; going on",
                                   self._redis.namespace, self._wait)
                    break
                await asyncio.sleep(self._poll)
        except Exception as exc:  # noqa: BLE001
            logger.warning("%s: shared order unavailable (%s)", self._redis.namespace, type(exc).__name__)
        try:
            yield
        finally:
            try:
                await self._redis.client().eval(_SERVE, 1, served_key, ticket, self._ttl)
            except Exception as exc:  # noqa: BLE001
                logger.warning("%s: could not mark a message served (%s)", self._redis.namespace,
                               type(exc).__name__)


class SharedIds:
    def __init__(self, namespace: str, ttl_seconds: int = 2 * 24 * 3600, url: Optional[str] = None) -> None:
        self._redis = _Redis(namespace, url)
        self._ttl = ttl_seconds

    @property
    def enabled(self) -> bool:
        return self._redis.enabled

    async def first_time(self, key: str) -> bool:
        """True unless another worker already took this key."""
        if not self._redis.enabled:
            return True
        try:
            return bool(await self._redis.client().set(self._redis.key("seen", key), b"1", nx=True, ex=self._ttl))
        except Exception as exc:  # noqa: BLE001 - never drop a citizen's message over the dedup store
            logger.warning("%s: shared duplicate check unavailable (%s); handling the message",
                           self._redis.namespace, type(exc).__name__)
            return True


_SEEN_SCHEMA = """
CREATE TABLE IF NOT EXISTS seen (
    namespace TEXT NOT NULL,
    key TEXT NOT NULL,           -- sha256 of the message id
    expires_at REAL NOT NULL,    -- unix seconds
    PRIMARY KEY (namespace, key)
)
"""


class SeenDb:
    """Message ids already handled, in SQLite (standard library), surviving a restart."""

    PURGE_EVERY = 500  # first_time calls between two deletions of expired rows

    def __init__(self, path: Union[str, Path], namespace: str, ttl_seconds: float) -> None:
        self.path = Path(path)
        self.namespace = namespace
        self.ttl = float(ttl_seconds)
        self._conn: Optional[sqlite3.Connection] = None
        self._calls = 0

    @property
    def enabled(self) -> bool:
        return True

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600)  # created private, never world-readable
            os.close(fd)
            os.chmod(self.path, 0o600)
            conn = sqlite3.connect(str(self.path), timeout=5.0, isolation_level=None, check_same_thread=False)
            conn.execute(_SEEN_SCHEMA)
            self._conn = conn
        return self._conn

    def first_time_sync(self, key: str, now: Optional[float] = None) -> bool:
        now = time.time() if now is None else now
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
        conn = self._connect()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("DELETE FROM seen WHERE namespace = ? AND key = ? AND expires_at <= ?",
                         (self.namespace, digest, now))
            cur = conn.execute("INSERT OR IGNORE INTO seen (namespace, key, expires_at) VALUES (?, ?, ?)",
                               (self.namespace, digest, now + self.ttl))
            first = cur.rowcount == 1
            self._calls += 1
            if self._calls % self.PURGE_EVERY == 1:
                conn.execute("DELETE FROM seen WHERE expires_at <= ?", (now,))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return first

    async def first_time(self, key: str) -> bool:
        """True unless this key was already taken within the horizon (by this or an earlier process)."""
        try:
            return self.first_time_sync(key)
        except (sqlite3.Error, OSError) as exc:  # never drop a citizen's message over the dedup store
            logger.warning("%s: duplicate store %s unavailable (%s); handling the message",
                           self.namespace, SEEN_DB_ENV, type(exc).__name__)
            return True

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class NoMemory:
    """No shared memory configured: only the process's RecentIds."""

    enabled = False

    async def first_time(self, key: str) -> bool:
        return True


def redelivery_memory(namespace: str, ttl_seconds: float,
                      env: Optional[Dict[str, str]] = None) -> Union[SharedIds, SeenDb, NoMemory]:
    """Redis when ``DVC_REDIS_URL`` is set, else the SQLite file ``DVC_SEEN_DB``, else none (warned)."""
    env = dict(os.environ) if env is None else env
    if env.get(REDIS_URL_ENV):
        return SharedIds(namespace, ttl_seconds=int(ttl_seconds), url=env[REDIS_URL_ENV])
    path = env.get(SEEN_DB_ENV, "")
    if path:
        return SeenDb(path, namespace, ttl_seconds)
    logger.warning("%s: neither %s nor %s set; redeliveries after a restart will be answered again",
                   namespace, REDIS_URL_ENV, SEEN_DB_ENV)
    return NoMemory()


def platform_id(recipient_id: Any, prefix: str) -> Optional[str]:
    """The platform's own user id of a ``<prefix><id>`` conversation; None for another channel's."""
    if not isinstance(recipient_id, str) or not recipient_id.startswith(prefix):
        return None
    return recipient_id[len(prefix):] or None


def event_age_problem(timestamp: Any, now_ms: float, horizon_s: float, skew_s: float) -> Optional[str]:
    """Why an event's ``timestamp`` (ms, a number or a string of one) makes it a replay, or None."""
    if isinstance(timestamp, bool) or not isinstance(timestamp, (int, float, str)):
        return "no timestamp"
    try:
        ts = float(timestamp)
    except ValueError:
        return "no timestamp"
    if ts < now_ms - horizon_s * 1000:
        return "older than the retry horizon"
    if ts > now_ms + skew_s * 1000:
        return "dated in the future"
    return None
