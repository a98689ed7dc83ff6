"""Retention and erasure (knowledge/privacy.py, ``python -m knowledge privacy``): real SQLite
files shaped like Rasa's SQL tracker store, a real redis-server with an append-only file,
the real desk store."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import socket
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from knowledge import privacy
from knowledge.cli import main
from knowledge.desk.store import DeskStore

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.timezone.utc)
OLD = (NOW - dt.timedelta(days=40)).timestamp()
RECENT = (NOW - dt.timedelta(days=2)).timestamp()
CUTOFF = NOW - dt.timedelta(days=30)

# Rasa 3.6 SQLTrackerStore.SQLEvent (rasa/core/tracker_store.py), as SQLAlchemy creates it on SQLite.
RASA_EVENTS = """CREATE TABLE events (
    id INTEGER NOT NULL, sender_id VARCHAR(255) NOT NULL, type_name VARCHAR(255) NOT NULL, timestamp FLOAT,
    intent_name VARCHAR(255), action_name VARCHAR(255), data TEXT, PRIMARY KEY (id));
CREATE INDEX ix_events_sender_id ON events (sender_id);"""


def tracker_db(path: Path, rows: list[tuple[str, float, str]]) -> Path:
    with sqlite3.connect(path) as db:
        db.executescript(RASA_EVENTS)
        for sender, stamp, text in rows:
            data = json.dumps({"event": "user", "timestamp": stamp, "text": text})
            db.execute("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?, 'user', ?, ?)",
                       (sender, stamp, data))
    return path


def senders(path: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(path) as db:
        return [(s, json.loads(d)["text"]) for s, d in db.execute("SELECT sender_id, data FROM events ORDER BY id")]


def test_purge_deletes_the_tracker_events_older_than_the_cutoff(tmp_path: Path) -> None:
    db = tracker_db(tmp_path / "tracker.db", [("web:old", OLD, "cũ"), ("web:live", OLD, "đầu cuộc trò chuyện"),
                                              ("web:live", RECENT, "mới")])
    deleted = privacy.purge(CUTOFF, privacy.Stores(tracker_db=db))
    assert deleted == {"tracker_sql": 2, "tracker_redis": None, "desk": None, "seen": None, "event_broker": None}
    assert senders(db) == [("web:live", "mới")]


def test_forget_deletes_every_event_of_one_conversation(tmp_path: Path) -> None:
    db = tracker_db(tmp_path / "tracker.db", [("fb:1", OLD, "a"), ("fb:1", RECENT, "b"), ("fb:2", RECENT, "c")])
    assert privacy.forget("fb:1", privacy.Stores(tracker_db=db))["tracker_sql"] == 2
    assert senders(db) == [("fb:2", "c")]


def broker_db(path: Path, rows: list[tuple[str, float, str]]) -> Path:
    """Rasa's SQL event broker table: the time is only inside the JSON."""
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255), data TEXT)")
        for sender, stamp, text in rows:
            db.execute("INSERT INTO events (sender_id, data) VALUES (?, ?)",
                       (sender, json.dumps({"event": "user", "timestamp": stamp, "text": text})))
    return path


def test_the_event_broker_is_purged_and_forgotten_like_the_tracker_store(tmp_path: Path) -> None:
    db = broker_db(tmp_path / "events.db", [("web:old", OLD, "cũ"), ("web:live", RECENT, "mới"), ("fb:9", RECENT, "x")])
    assert privacy.purge(CUTOFF, privacy.Stores(events_db=db))["event_broker"] == 1
    assert privacy.forget("fb:9", privacy.Stores(events_db=db))["event_broker"] == 1
    assert senders(db) == [("web:live", "mới")]


def test_deleted_text_is_overwritten_in_the_sqlite_file(tmp_path: Path) -> None:
    secret = "TEXT-TO-BE-ERASED " * 20
    db = tracker_db(tmp_path / "tracker.db", [("web:x", OLD, secret), ("web:y", RECENT, "giữ lại")])
    assert secret.encode() in db.read_bytes()
    privacy.purge(CUTOFF, privacy.Stores(tracker_db=db))
    assert secret.encode() not in db.read_bytes()  # secure_delete: not left in a free page
    with privacy._connect(db) as conn:  # on whatever SQLite's build default is
        assert conn.execute("PRAGMA secure_delete").fetchone() == (1,)


def test_missing_stores_are_reported_as_none_and_not_created(tmp_path: Path) -> None:
    stores = privacy.Stores(tracker_db=tmp_path / "none.db", desk_db=tmp_path / "desk.db", seen_db=tmp_path / "s.db")
    assert privacy.purge(CUTOFF, stores) == {"tracker_sql": None, "tracker_redis": None, "desk": None, "seen": None,
                                             "event_broker": None}
    assert list(tmp_path.iterdir()) == []


def test_a_tracker_store_without_the_events_table_has_nothing_to_delete(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    sqlite3.connect(path).close()
    path.write_bytes(b"")
    assert privacy.purge(CUTOFF, privacy.Stores(tracker_db=path))["tracker_sql"] == 0


def age_desk_rows(path: Path, days: int) -> None:
    stamp = (NOW - dt.timedelta(days=days)).isoformat(timespec="seconds")
    with sqlite3.connect(path) as db:
        for table in ("handover", "feedback", "event"):
            db.execute(f"UPDATE {table} SET created_at = ?", (stamp,))


def test_desk_rows_are_purged_and_forgotten(tmp_path: Path) -> None:
    path = tmp_path / "desk.db"
    store = DeskStore(path)
    store.add_feedback("web:old", "down", None, None, "câu trả lời sai")
    store.add_event("web:old", "online_referral", "1.001193")
    age_desk_rows(path, 40)
    store.add_feedback("web:new", "up", 5, None, None)
    store.add_event("web:new", "online_referral", "1.001193")
    store.add_event("web:other", "online_referral", "1.001193")
    stores = privacy.Stores(desk_db=path)
    assert privacy.purge(CUTOFF, stores)["desk"] == 2
    assert privacy.forget("web:new", stores)["desk"] == 2
    assert store.stats()["events"] == {"online_referral": 1}


class FakeDesk:
    def __init__(self) -> None:
        self.calls: list[Any] = []

    def purge_before(self, cutoff: dt.datetime) -> int:
        self.calls.append(("purge_before", cutoff))
        return 3

    def forget(self, sender_id: str) -> int:
        self.calls.append(("forget", sender_id))
        return 1


def test_the_desk_is_called_with_the_cutoff_and_the_sender() -> None:
    desk = FakeDesk()
    assert privacy.purge(CUTOFF, privacy.Stores(), desk)["desk"] == 3
    assert privacy.forget("zalo:9", privacy.Stores(), desk)["desk"] == 1
    assert desk.calls == [("purge_before", CUTOFF), ("forget", "zalo:9")]


def test_the_redelivery_memory_loses_its_old_ids(tmp_path: Path) -> None:
    path = tmp_path / "seen.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE seen (key TEXT PRIMARY KEY, seen_at REAL NOT NULL)")
        db.executemany("INSERT INTO seen VALUES (?, ?)", [("facebook:m1", OLD), ("zalo:m2", RECENT)])
        db.execute("CREATE TABLE other (key TEXT, created_at TEXT)")
        db.executemany("INSERT INTO other VALUES (?, ?)", [("a", "2026-01-01T00:00:00+00:00"),
                                                             ("b", "2026-02-28T00:00:00+00:00")])
    assert privacy.purge(CUTOFF, privacy.Stores(seen_db=path))["seen"] == 2
    with sqlite3.connect(path) as db:
        assert [r[0] for r in db.execute("SELECT key FROM seen")] == ["zalo:m2"]
        assert [r[0] for r in db.execute("SELECT key FROM other")] == ["b"]


def test_retention_is_at_least_a_day() -> None:
    with pytest.raises(ValueError):
        privacy.cutoff_for(0)
    assert privacy.cutoff_for(30, NOW) == CUTOFF


# -- Redis ---------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A redis-server on a free loopback port, append-only file in plain commands, in a temp dir."""
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed")
    import redis

    data = tmp_path / "redis"
    data.mkdir()
    port = free_port()
    proc = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(data), "--save", "",
                             "--appendonly", "yes", "--appendfsync", "always", "--aof-use-rdb-preamble", "no",
                             "--requirepass", "test-pass"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://:test-pass@127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    try:
        for _ in range(400):  # until it accepts connections (bounded)
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.01)
        yield url, data
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def put_tracker(url: str, sender: str, stamps: list[float], text: str) -> None:
    import redis

    events = [{"event": "user", "timestamp": s, "text": text} for s in stamps]
    redis.Redis.from_url(url).set(privacy.REDIS_TRACKER_PREFIX + sender, json.dumps({"name": sender,
                                                                                      "events": events}))


def append_only_files(data: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted((data / "appendonlydir").iterdir()))


def rewrite_finished(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    for _ in range(1000):  # bounded wait for BGREWRITEAOF to finish
        info = client.info("persistence")
        if not info["aof_rewrite_in_progress"] and not info["aof_rewrite_scheduled"]:
            return
        time.sleep(0.01)
    raise AssertionError("BGREWRITEAOF did not finish")


def test_purge_deletes_old_redis_trackers_and_rewrites_the_append_only_file(
        redis_server: tuple[str, Path]) -> None:
    import redis

    url, data = redis_server
    put_tracker(url, "web:old", [OLD, OLD + 60], "TEXT-OF-AN-OLD-CONVERSATION")
    put_tracker(url, "web:live", [OLD, RECENT], "TEXT-OF-A-LIVE-CONVERSATION")
    client = redis.Redis.from_url(url)
    client.set("dvc:lock:web:old", "lock")  # not a tracker: left alone
    assert b"TEXT-OF-AN-OLD-CONVERSATION" in append_only_files(data)

    deleted = privacy.purge(CUTOFF, privacy.Stores(redis_url=url))
    assert deleted["tracker_redis"] == 1
    assert sorted(k.decode() for k in client.keys("*")) == ["dvc:lock:web:old", "dvc:tracker:web:live"]
    rewrite_finished(url)
    files = append_only_files(data)
    assert b"TEXT-OF-AN-OLD-CONVERSATION" not in files
    assert b"TEXT-OF-A-LIVE-CONVERSATION" in files


def test_forget_deletes_the_redis_tracker_and_order_counters(redis_server: tuple[str, Path]) -> None:
    import redis

    url, data = redis_server
    put_tracker(url, "zalo:42", [RECENT], "TEXT-TO-FORGET")
    put_tracker(url, "zalo:43", [RECENT], "TEXT-TO-KEEP")
    client = redis.Redis.from_url(url)
    client.set("dvc:zalo:order:42:issued", 3)
    client.set("dvc:zalo:order:42:served", 3)
    client.set("dvc:zalo:order:43:issued", 1)
    assert privacy.forget("zalo:42", privacy.Stores(redis_url=url))["tracker_redis"] == 3
    assert sorted(k.decode() for k in client.keys("*")) == ["dvc:tracker:zalo:43", "dvc:zalo:order:43:issued"]
    rewrite_finished(url)
    assert b"TEXT-TO-FORGET" not in append_only_files(data)


# -- CLI -----------------------------------------------------------------------------------------

def test_cli_purge_and_forget_print_counts_only(tmp_path: Path, redis_server: tuple[str, Path],
                                               capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    url, _ = redis_server
    now = dt.datetime.now(dt.timezone.utc)
    old, recent = (now - dt.timedelta(days=10)).timestamp(), (now - dt.timedelta(hours=1)).timestamp()
    db = tracker_db(tmp_path / "tracker.db", [("web:a", old, "a"), ("web:b", recent, "b"), ("web:c", recent, "c")])
    put_tracker(url, "web:a", [old], "a")
    desk = DeskStore(tmp_path / "desk.db")
    desk.add_event("web:b", "online_referral", "1.001193")
    monkeypatch.setenv("DVC_REDIS_URL", url)
    monkeypatch.delenv("DVC_SEEN_DB", raising=False)
    common = ["--tracker-db", str(db), "--desk-db", str(tmp_path / "desk.db")]

    assert main(["privacy", "purge", "--days", "7", *common]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out == {"purged_older_than_days": 7,
                   "deleted": {"tracker_sql": 1, "tracker_redis": 1, "desk": 0, "seen": None, "event_broker": None}}

    assert main(["privacy", "forget", "web:b", *common, "--redis-url", ""]) == 0
    printed = capsys.readouterr().out
    assert json.loads(printed) == {"forgotten": True,
                                   "deleted": {"tracker_sql": 1, "tracker_redis": None, "desk": 1, "seen": None,
                                               "event_broker": None}}
    assert "web:b" not in printed
    assert senders(db) == [("web:c", "c")]


def test_cli_purge_uses_the_retention_setting(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from knowledge.settings import get_settings

    monkeypatch.setenv("DVC_RETENTION_DAYS", "5")
    monkeypatch.delenv("DVC_REDIS_URL", raising=False)
    get_settings.cache_clear()
    try:
        assert main(["privacy", "purge", "--tracker-db", str(tmp_path / "t.db"),
                     "--desk-db", str(tmp_path / "d.db")]) == 0
    finally:
        get_settings.cache_clear()
    assert json.loads(capsys.readouterr().out)["purged_older_than_days"] == 5
