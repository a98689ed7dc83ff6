"""The desk's store: unguessable handover references, personal data masked on write,
contact only with consent and only from the citizen's own conversation, retention and
erasure, a private file, and the migration of files from before references."""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
from pathlib import Path

import pytest

from knowledge.desk import DeskStore
from knowledge.desk.store import REF_ALPHABET, REF_PATTERN, is_ref

UTC = dt.timezone.utc
PII_TEXT = "CCCD của tôi là 079203001234, sđt 0912345678, email nguyenvana@gmail.com"
PII_MASKED = "CCCD của tôi là 0792******34, sđt 0912****78, email n*********@gmail.com"


@pytest.fixture()
def store(tmp_path: Path) -> DeskStore:
    return DeskStore(tmp_path / "desk.db")


def _rows(store: DeskStore, sql: str) -> list[sqlite3.Row]:
    with store._db() as db:
        return db.execute(sql).fetchall()


def _age(store: DeskStore, table: str, row_id: int, when: dt.datetime) -> None:
    with store._db() as db:
        db.execute(f"UPDATE {table} SET created_at = ? WHERE id = ?", (when.isoformat(timespec="seconds"), row_id))


def test_references_look_random_and_are_unique_over_1000_handovers(store: DeskStore) -> None:
    created = [store.add_handover(f"rest:c{i}", "rest", True, []) for i in range(1000)]
    refs = [c.ref for c in created]
    assert len(set(refs)) == 1000
    assert all(REF_PATTERN.match(r) for r in refs)
    assert [c.id for c in created] == list(range(created[0].id, created[0].id + 1000))
    # 8000 characters drawn from 31: each one turns up (a counter or a clock would not spread like this).
    drawn = "".join(r.removeprefix("HT-") for r in refs)
    assert set(drawn) == set(REF_ALPHABET)
    assert not set(drawn) & set("01IOL")
    assert max(drawn.count(ch) for ch in REF_ALPHABET) < 3 * 8000 / len(REF_ALPHABET)


def test_reference_shape() -> None:
    assert is_ref("HT-23456789") and is_ref("HT-ABCDEFGH")
    for bad in ("1", "HT-1234567O", "HT-2345678", "ht-23456789", "HT-234567899", " HT-23456789", 7):
        assert not is_ref(bad), bad


def test_transcript_is_stored_masked(store: DeskStore) -> None:
    created = store.add_handover("rest:c1", "rest", False, [{"role": "user", "text": PII_TEXT},
                                                            {"role": "bot", "text": "Ngoài giờ làm việc."}])
    stored = json.loads(_rows(store, f"SELECT transcript FROM handover WHERE id = {created.id}")[0]["transcript"])
    assert stored == [{"role": "user", "text": PII_MASKED}, {"role": "bot", "text": "Ngoài giờ làm việc."}]
    assert "079203001234" not in _rows(store, "SELECT transcript FROM handover")[0]["transcript"]


def test_feedback_comment_is_stored_masked(store: DeskStore) -> None:
    fid = store.add_feedback("rest:c1", None, None, None, "tên tôi là Nguyễn Văn An, gọi 0912 345 678")
    assert _rows(store, f"SELECT comment FROM feedback WHERE id = {fid}")[0]["comment"] == (
        "tên tôi là N*** V*** A***, gọi 0912****78")
    assert store.add_feedback("rest:c1", "up", None, None, None) > fid


def test_consented_contact_is_stored_as_given_and_refused_consent_stores_none(store: DeskStore) -> None:
    yes = store.add_handover("rest:c1", "rest", False, [])
    no = store.add_handover("rest:c2", "rest", False, [])
    assert store.set_contact(yes.ref, "rest:c1", True, "0912 345 678")
    assert store.set_contact(no.ref, "rest:c2", False, "0987654321")
    got_yes, got_no = store.handover(yes.ref), store.handover(no.ref)
    assert got_yes is not None and got_no is not None
    assert (got_yes.contact, got_yes.contact_consent) == ("0912 345 678", True)
    assert (got_no.contact, got_no.contact_consent) == (None, False)


def test_contact_only_from_the_conversation_that_opened_the_handover(store: DeskStore) -> None:
    created = store.add_handover("rest:victim", "rest", False, [])
    assert store.set_contact(created.ref, "rest:victim", True, "0912345678")
    assert not store.set_contact(created.ref, "rest:attacker", True, "0999999999")
    assert not store.set_contact(str(created.id), "rest:victim", True, "0999999999")  # the sequential id
    assert not store.set_contact("HT-23456789" if created.ref != "HT-23456789" else "HT-98765432",
                                 "rest:victim", True, "0999999999")
    got = store.handover(created.ref)
    assert got is not None and got.contact == "0912345678" and got.sender_id == "rest:victim"


def test_purge_before_deletes_exactly_the_older_rows(store: DeskStore) -> None:
    cutoff = dt.datetime(2026, 1, 1, tzinfo=UTC)
    old_h = store.add_handover("rest:a", "rest", True, []).id
    new_h = store.add_handover("rest:a", "rest", True, []).id
    old_f = store.add_feedback("rest:a", "up", None, None, None)
    new_f = store.add_feedback("rest:b", "down", None, None, None)
    old_e = store.add_event("rest:b", "fallback", None)
    new_e = store.add_event("rest:b", "fallback", None)
    edge_e = store.add_event("rest:b", "fallback", None)
    for table, row in (("handover", old_h), ("feedback", old_f), ("event", old_e)):
        _age(store, table, row, cutoff - dt.timedelta(seconds=1))
    for table, row in (("handover", new_h), ("feedback", new_f), ("event", new_e)):
        _age(store, table, row, cutoff + dt.timedelta(days=3))
    _age(store, "event", edge_e, cutoff)  # at the cutoff: kept
    assert store.purge_before(cutoff) == 3
    assert [r["id"] for r in _rows(store, "SELECT id FROM handover")] == [new_h]
    assert [r["id"] for r in _rows(store, "SELECT id FROM feedback")] == [new_f]
    assert [r["id"] for r in _rows(store, "SELECT id FROM event ORDER BY id")] == [new_e, edge_e]
    assert store.purge_before(cutoff) == 0
    # A naive cutoff is UTC; a cutoff in another zone is compared as the same instant.
    assert store.purge_before(dt.datetime(2026, 1, 1, 0, 0, 1)) == 1  # edge_e
    assert store.purge_before(dt.datetime(2026, 1, 4, 7, 0, 1, tzinfo=dt.timezone(dt.timedelta(hours=7)))) == 3


def test_purge_before_now_keeps_nothing_and_the_default_stamps_are_utc(store: DeskStore) -> None:
    store.add_handover("rest:a", None, True, [])
    store.add_event("rest:a", "handover", None)
    stamp = _rows(store, "SELECT created_at FROM handover")[0]["created_at"]
    assert stamp.endswith("+00:00")
    assert store.purge_before(dt.datetime.now(UTC) - dt.timedelta(hours=1)) == 0
    assert store.purge_before(dt.datetime.now(UTC) + dt.timedelta(seconds=2)) == 2


def test_forget_deletes_every_row_of_that_sender_and_only_those(store: DeskStore) -> None:
    mine = store.add_handover("zalo:123", "zalo", False, [{"role": "user", "text": "gặp cán bộ"}])
    store.set_contact(mine.ref, "zalo:123", True, "0912345678")
    store.add_feedback("zalo:123", "down", 2, None, "chưa rõ")
    store.add_event("zalo:123", "handover", None)
    store.add_event("zalo:123", "online_referral", "1.001193")
    other = store.add_handover("zalo:1234", "zalo", False, [])
    other_f = store.add_feedback("fb:123", "up", None, None, None)
    assert store.forget("zalo:123") == 4
    assert [r["id"] for r in _rows(store, "SELECT id FROM handover")] == [other.id]
    assert [r["id"] for r in _rows(store, "SELECT id FROM feedback")] == [other_f]
    assert _rows(store, "SELECT id FROM event") == []
    assert store.forget("zalo:123") == 0


def test_the_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / "new" / "desk.db"
    DeskStore(path).add_handover("rest:a", None, True, [])
    assert os.stat(path).st_mode & 0o777 == 0o600
    loose = tmp_path / "loose.db"
    loose.touch(mode=0o644)
    os.chmod(loose, 0o644)
    DeskStore(loose)
    assert os.stat(loose).st_mode & 0o777 == 0o600


def test_a_file_from_before_references_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.executescript("""
            CREATE TABLE handover (id INTEGER PRIMARY KEY AUTOINCREMENT, sender_id TEXT NOT NULL, channel TEXT,
                created_at TEXT NOT NULL, within_office_hours INTEGER NOT NULL, transcript TEXT NOT NULL,
                contact TEXT, contact_consent INTEGER, status TEXT NOT NULL DEFAULT 'open');
            INSERT INTO handover (sender_id, created_at, within_office_hours, transcript)
                VALUES ('rest:a', '2025-12-01T00:00:00+00:00', 1, '[]'),
                       ('rest:b', '2025-12-02T00:00:00+00:00', 0, '[]');
        """)
    store = DeskStore(path)
    listed = store.handovers()
    assert [h.sender_id for h in listed] == ["rest:b", "rest:a"]
    assert all(is_ref(h.ref) for h in listed) and listed[0].ref != listed[1].ref
    assert store.set_contact(listed[0].ref, "rest:b", True, "ten@gmail.com")
    assert DeskStore(path).handovers()[0].ref == listed[0].ref  # opening again keeps the references
    with pytest.raises(sqlite3.IntegrityError):  # references stay unique
        with store._db() as db:
            db.execute("UPDATE handover SET ref = ? WHERE sender_id = 'rest:a'", (listed[0].ref,))
