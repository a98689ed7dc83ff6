"""Retention and erasure of conversations (docs/PRIVACY.md).

``purge(cutoff)`` deletes what is older than ``cutoff`` from every store that holds a
conversation; ``forget(sender_id)`` deletes one conversation from all of them:

* Rasa's SQL tracker store (SQLite here): rows of its ``events`` table, whose
  ``timestamp`` is a float epoch; purge deletes the events older than the cutoff, forget
  every event of the sender.
* Rasa's Redis tracker store (``dvc:tracker:<sender id>``, the key prefix the stack runner
  writes in endpoints.yml): purge deletes the trackers whose newest event is older than
  the cutoff (a live conversation is one JSON value: Rasa rewrites it whole on every turn),
  forget the sender's tracker and its message-order counters. Then ``BGREWRITEAOF`` when
  Redis keeps an append-only file, so that the file stops holding what was deleted.
* Rasa's SQL event broker (``RASA_EVENTS_DB``, read by the console's dashboard and report):
  rows of its ``events`` table (sender id and the event as JSON, its ``timestamp`` inside);
  purge deletes the events older than the cutoff, forget every event of the sender.
* The desk database (handovers with the consented contact, feedback, events):
  ``DeskStore.purge_before`` and ``DeskStore.forget``.
* The webhook redelivery memory (``DVC_SEEN_DB``, message ids with the time they were
  seen), when the stack runs without Redis: rows older than the cutoff.

SQLite deletions run with ``PRAGMA secure_delete``: the deleted content is overwritten in
the file, not left in free pages. A store that is not configured, or whose file does not
exist, is reported as ``None`` and nothing is created. Only counts are returned (no ids).
CLI: ``python -m knowledge privacy purge|forget`` (knowledge/cli.py).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Protocol

from knowledge.settings import PROJECT_ROOT

TRACKER_DB_ENV = "RASA_TRACKER_DB"
REDIS_URL_ENV = "DVC_REDIS_URL"
SEEN_DB_ENV = "DVC_SEEN_DB"
EVENTS_DB_ENV = "RASA_EVENTS_DB"
DEFAULT_TRACKER_DB = PROJECT_ROOT / "var" / "tracker.db"
REDIS_PREFIX = "dvc:"
REDIS_TRACKER_PREFIX = REDIS_PREFIX + "tracker:"  # Rasa: key_prefix "dvc" + ":" + "tracker:"
CHANNEL_PREFIXES = ("rest:", "web:", "fb:", "zalo:")
# Columns of the redelivery memory that say when a row was written (epoch seconds or ISO 8601 text).
TIME_COLUMNS = ("seen_at", "created_at", "timestamp", "ts", "at", "time")
SENDER_COLUMNS = ("sender_id", "sender")
BUSY_TIMEOUT = 30.0


class Desk(Protocol):
    def purge_before(self, cutoff: dt.datetime) -> int: ...

    def forget(self, sender_id: str) -> int: ...


@dataclass(frozen=True)
class Stores:
    tracker_db: Optional[Path] = None
    redis_url: str = ""
    desk_db: Optional[Path] = None
    seen_db: Optional[Path] = None
    events_db: Optional[Path] = None


def default_stores(env: Optional[dict[str, str]] = None, desk_db: Optional[Path] = None) -> Stores:
    env = dict(os.environ) if env is None else env
    seen = env.get(SEEN_DB_ENV, "")
    tracker_db = Path(env.get(TRACKER_DB_ENV) or DEFAULT_TRACKER_DB)
    events = env.get(EVENTS_DB_ENV) or env.get("KNOWLEDGE_EVENTS_DB") or str(tracker_db.parent / "events.db")
    return Stores(tracker_db=tracker_db, redis_url=env.get(REDIS_URL_ENV, ""),
                  desk_db=desk_db, seen_db=Path(seen) if seen else None, events_db=Path(events))


def cutoff_for(days: int, now: Optional[dt.datetime] = None) -> dt.datetime:
    if days < 1:
        raise ValueError("the retention is at least one day")
    return (now or dt.datetime.now(dt.timezone.utc)) - dt.timedelta(days=days)


def purge(cutoff: dt.datetime, stores: Stores, desk: Optional[Desk] = None) -> dict[str, Optional[int]]:
    """Delete what is older than ``cutoff`` (aware, or naive UTC); the count deleted per store."""
    if cutoff.tzinfo is None:
        cutoff = cutoff.replace(tzinfo=dt.timezone.utc)
    epoch = cutoff.timestamp()
    return {
        "tracker_sql": _sqlite(stores.tracker_db, lambda db: _purge_tracker_sql(db, epoch)),
        "tracker_redis": _purge_redis(stores.redis_url, epoch) if stores.redis_url else None,
        "desk": _desk(stores, desk).purge_before(cutoff) if _has_desk(stores, desk) else None,
        "seen": _sqlite(stores.seen_db, lambda db: _purge_seen(db, cutoff)),
        "event_broker": _sqlite(stores.events_db, lambda db: _purge_broker(db, epoch)),
    }


def forget(sender_id: str, stores: Stores, desk: Optional[Desk] = None) -> dict[str, Optional[int]]:
    """Delete the conversation ``sender_id`` everywhere; the count deleted per store."""
    if not sender_id:
        raise ValueError("a sender id is needed")
    return {
        "tracker_sql": _sqlite(stores.tracker_db, lambda db: _forget_tracker_sql(db, sender_id)),
        "tracker_redis": _forget_redis(stores.redis_url, sender_id) if stores.redis_url else None,
        "desk": _desk(stores, desk).forget(sender_id) if _has_desk(stores, desk) else None,
        "seen": _sqlite(stores.seen_db, lambda db: _forget_seen(db, sender_id)),
        "event_broker": _sqlite(stores.events_db, lambda db: _forget_tracker_sql(db, sender_id)),
    }


# -- SQLite ------------------------------------------------------------------------------------

@contextmanager
def _connect(path: Path) -> Iterator[sqlite3.Connection]:
    with closing(sqlite3.connect(path, timeout=BUSY_TIMEOUT)) as db:
        db.execute("PRAGMA secure_delete = ON")
        with db:
            yield db


def _sqlite(path: Optional[Path], work: Any) -> Optional[int]:
    if path is None or not Path(path).is_file():
        return None
    with _connect(Path(path)) as db:
        return int(work(db))


def _tables(db: sqlite3.Connection) -> list[str]:
    return [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                     "AND name NOT LIKE 'sqlite_%'")]


def _columns(db: sqlite3.Connection, table: str) -> list[str]:
    return [r[1] for r in db.execute(f'PRAGMA table_info("{table}")')]


def _purge_tracker_sql(db: sqlite3.Connection, epoch: float) -> int:
    if "events" not in _tables(db):
        return 0
    return db.execute("DELETE FROM events WHERE timestamp < ?", (epoch,)).rowcount


def _forget_tracker_sql(db: sqlite3.Connection, sender_id: str) -> int:
    if "events" not in _tables(db):
        return 0
    return db.execute("DELETE FROM events WHERE sender_id = ?", (sender_id,)).rowcount


def _purge_broker(db: sqlite3.Connection, epoch: float) -> int:
    """Rasa's SQL event broker keeps each event as JSON: its time is the JSON's ``timestamp``."""
    if "events" not in _tables(db):
        return 0
    return db.execute("DELETE FROM events WHERE CAST(json_extract(data, '$.timestamp') AS REAL) < ?",
                      (epoch,)).rowcount


def _purge_seen(db: sqlite3.Connection, cutoff: dt.datetime) -> int:
    deleted = 0
    iso = cutoff.astimezone(dt.timezone.utc).isoformat(timespec="seconds")
    for table in _tables(db):
        column = next((c for c in TIME_COLUMNS if c in _columns(db, table)), None)
        if column is None:
            continue
        deleted += db.execute(
            f'DELETE FROM "{table}" WHERE (typeof("{column}") IN (\'real\', \'integer\') AND "{column}" < ?)'
            f' OR (typeof("{column}") = \'text\' AND "{column}" < ?)', (cutoff.timestamp(), iso)).rowcount
    return deleted


def _forget_seen(db: sqlite3.Connection, sender_id: str) -> int:
    deleted = 0
    for table in _tables(db):
        column = next((c for c in SENDER_COLUMNS if c in _columns(db, table)), None)
        if column is not None:
            deleted += db.execute(f'DELETE FROM "{table}" WHERE "{column}" IN (?, ?)',
                                  (sender_id, _platform_id(sender_id))).rowcount
    return deleted


# -- desk --------------------------------------------------------------------------------------

def _has_desk(stores: Stores, desk: Optional[Desk]) -> bool:
    return desk is not None or (stores.desk_db is not None and Path(stores.desk_db).is_file())


def _desk(stores: Stores, desk: Optional[Desk]) -> Desk:
    if desk is not None:
        return desk
    from knowledge.desk.store import DeskStore

    assert stores.desk_db is not None
    return DeskStore(Path(stores.desk_db))


# -- Redis -------------------------------------------------------------------------------------

def _redis(url: str) -> Any:
    import redis

    return redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5)


def _newest_event(stored: bytes) -> Optional[float]:
    try:
        events = json.loads(stored).get("events") or []
        stamps = [float(e["timestamp"]) for e in events if isinstance(e, dict) and e.get("timestamp") is not None]
    except (ValueError, TypeError, AttributeError, KeyError):
        return None
    return max(stamps) if stamps else None


def _purge_redis(url: str, epoch: float) -> int:
    client = _redis(url)
    deleted = 0
    for key in client.scan_iter(match=_glob_escape(REDIS_TRACKER_PREFIX) + "*", count=500):
        stored = client.get(key)
        newest = _newest_event(stored) if stored is not None else None
        if newest is not None and newest < epoch:
            deleted += int(client.delete(key))
    if deleted:
        _rewrite_append_only_file(client)
    return deleted


def _forget_redis(url: str, sender_id: str) -> int:
    client = _redis(url)
    keys = [REDIS_TRACKER_PREFIX + sender_id]
    # The platform channels' message-order counters (bot/channels/ordering.py): dvc:<channel>:order:<user id>:…
    keys += list(client.scan_iter(match=f"{REDIS_PREFIX}*:order:{_glob_escape(_platform_id(sender_id))}:*",
                                  count=500))
    deleted = int(client.delete(*keys))
    if deleted:
        _rewrite_append_only_file(client)
    return deleted


def _rewrite_append_only_file(client: Any) -> None:
    """Rewrite the append-only file (it still holds every deleted value otherwise), when there is one."""
    import redis

    try:
        if int(client.info("persistence").get("aof_enabled", 0)) != 1:
            return
        client.bgrewriteaof()
    except redis.ResponseError as exc:  # one already running has been scheduled again by Redis
        if "already in progress" not in str(exc):
            raise


def _glob_escape(text: str) -> str:
    return "".join("\\" + ch if ch in "*?[]\\" else ch for ch in text)


def _platform_id(sender_id: str) -> str:
    for prefix in CHANNEL_PREFIXES:
        if sender_id.startswith(prefix):
            return sender_id[len(prefix):]
    return sender_id
