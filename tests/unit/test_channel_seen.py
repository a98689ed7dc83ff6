"""bot/channels/ordering.py: the redelivery memory without Redis (SQLite, survives a restart)."""

from __future__ import annotations

import asyncio
import sqlite3
import stat
from pathlib import Path

from bot.channels.ordering import NoMemory, SeenDb, SharedIds, redelivery_memory


def test_a_key_is_new_once_also_after_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "state" / "seen.db"
    first = SeenDb(path, "facebook", ttl_seconds=3600)
    assert asyncio.run(first.first_time("m_1")) is True
    assert asyncio.run(first.first_time("m_1")) is False
    first.close()
    again = SeenDb(path, "facebook", ttl_seconds=3600)  # a new process
    assert asyncio.run(again.first_time("m_1")) is False
    assert asyncio.run(again.first_time("m_2")) is True
    assert SeenDb(path, "zalo", ttl_seconds=3600).first_time_sync("m_1") is True  # namespaces apart


def test_the_file_is_private_and_holds_no_ids_in_clear(tmp_path: Path) -> None:
    path = tmp_path / "seen.db"
    SeenDb(path, "zalo", 60).first_time_sync("user_send_text:84912345678:1700000000000")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with sqlite3.connect(path) as conn:
        keys = [k for (k,) in conn.execute("SELECT key FROM seen")]
    assert len(keys) == 1 and "84912345678" not in keys[0] and len(keys[0]) == 64


def test_entries_expire_after_the_horizon(tmp_path: Path) -> None:
    store = SeenDb(tmp_path / "seen.db", "facebook", ttl_seconds=100)
    assert store.first_time_sync("m", now=1000.0) is True
    assert store.first_time_sync("m", now=1099.0) is False
    assert store.first_time_sync("m", now=1101.0) is True  # expired: new again, remembered anew
    assert store.first_time_sync("m", now=1150.0) is False


def test_an_unusable_file_never_drops_a_message(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    store = SeenDb(blocker / "seen.db", "facebook", 60)  # its directory is a file
    assert asyncio.run(store.first_time("m")) is True


def test_the_memory_is_redis_else_sqlite_else_none(tmp_path: Path) -> None:
    assert isinstance(redelivery_memory("facebook", 60, {"DVC_REDIS_URL": "redis://127.0.0.1:1/0",
                                                         "DVC_SEEN_DB": str(tmp_path / "s.db")}), SharedIds)
    seen = redelivery_memory("facebook", 60, {"DVC_SEEN_DB": str(tmp_path / "s.db")})
    assert isinstance(seen, SeenDb) and seen.ttl == 60
    assert isinstance(redelivery_memory("facebook", 60, {}), NoMemory)
