"""The desk's HTTP API against the attacks it must refuse: no or a wrong token, a desk
with no token configured, a contact rewritten from another conversation or by the
sequential id, and what is stored of a citizen's personal data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Optional

import pytest
from fastapi.testclient import TestClient

from knowledge.api.app import create_app
from knowledge.api.deps import IndexHolder
from knowledge.api.routers.desk import DESK_CLOSED, DESK_TOKEN_WRONG, NO_SUCH_HANDOVER
from knowledge.desk.onestop_demo import DEMO_NOTE
from knowledge.desk.store import REF_PATTERN
from knowledge.service import LoadedIndex
from knowledge.settings import Settings

DESK_TOKEN = "desk-token-for-the-security-tests"
DESK = {"X-Desk-Token": DESK_TOKEN}
ADMIN = {"Authorization": "Bearer test-admin-token"}
WRITES: list[tuple[str, dict[str, Any]]] = [
    ("/desk/handovers", {"sender_id": "rest:a", "within_office_hours": True}),
    ("/desk/handovers/HT-23456789/contact", {"sender_id": "rest:a", "consent": False}),
    ("/desk/feedback", {"sender_id": "rest:a", "value": "up"}),
    ("/desk/events", {"sender_id": "rest:a", "type": "fallback"}),
]


def _client(settings: Settings, loaded: LoadedIndex, tmp: Path, desk_token: Optional[str],
            admin_token: Optional[str] = "test-admin-token", demo: bool = True) -> TestClient:
    own = settings.model_copy(update={"desk_token": desk_token, "admin_token": admin_token, "demo_onestop": demo,
                                      "desk_db": tmp / "desk.db", "demo_onestop_db": tmp / "onestop.db"})
    return TestClient(create_app(own, holder=IndexHolder.serving(own, loaded)))


@pytest.fixture(scope="module")
def desk(settings: Settings, loaded: LoadedIndex, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with _client(settings, loaded, tmp_path_factory.mktemp("desk"), DESK_TOKEN) as client:
        yield client


@pytest.fixture(scope="module")
def closed(settings: Settings, loaded: LoadedIndex, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with _client(settings, loaded, tmp_path_factory.mktemp("closed"), None, admin_token=None, demo=False) as client:
        yield client


def _handover(desk: TestClient, sender: str, transcript: Optional[list[dict[str, str]]] = None) -> dict[str, Any]:
    resp = desk.post("/desk/handovers", headers=DESK, json={"sender_id": sender, "channel": "rest",
                                                             "within_office_hours": False,
                                                             "transcript": transcript or []})
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def _listed(desk: TestClient, hid: int) -> dict[str, Any]:
    found: dict[str, Any] = next(h for h in desk.get("/admin/handovers", headers=ADMIN).json() if h["id"] == hid)
    return found


@pytest.mark.parametrize(("path", "body"), WRITES)
def test_no_token_or_a_wrong_one_is_401(desk: TestClient, path: str, body: dict[str, Any]) -> None:
    for headers in ({}, {"X-Desk-Token": "wrong"}, {"X-Desk-Token": DESK_TOKEN + "x"}, {"X-Desk-Token": ""}):
        resp = desk.post(path, json=body, headers=headers)
        assert (resp.status_code, resp.json()) == (401, {"detail": DESK_TOKEN_WRONG}), headers


def test_the_token_is_checked_before_the_body(desk: TestClient) -> None:
    resp = desk.post("/desk/feedback", json={"rating": 99})
    assert (resp.status_code, resp.json()) == (401, {"detail": DESK_TOKEN_WRONG})


@pytest.mark.parametrize(("path", "body"), WRITES)
def test_the_desk_is_closed_when_no_token_is_configured(closed: TestClient, path: str, body: dict[str, Any]) -> None:
    for headers in ({}, {"X-Desk-Token": "anything"}):
        resp = closed.post(path, json=body, headers=headers)
        assert (resp.status_code, resp.json()) == (503, {"detail": DESK_CLOSED})
    assert "KNOWLEDGE_DESK_TOKEN" in DESK_CLOSED


def test_admin_is_off_without_its_token_and_needs_it_otherwise(closed: TestClient, desk: TestClient) -> None:
    assert closed.get("/admin/stats", headers=ADMIN).status_code == 403
    assert "KNOWLEDGE_ADMIN_TOKEN" in closed.get("/admin/stats").json()["detail"]
    assert desk.get("/admin/handovers").status_code == 401
    assert desk.get("/admin/handovers", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert desk.get("/admin/handovers", headers=DESK).status_code == 401  # the desk token is not an admin token


def test_a_handover_answers_its_id_and_a_random_reference(desk: TestClient) -> None:
    first, second = _handover(desk, "rest:r1"), _handover(desk, "rest:r1")
    assert set(first) == {"id", "ref"} and second["id"] == first["id"] + 1
    assert REF_PATTERN.match(first["ref"]) and REF_PATTERN.match(second["ref"]) and first["ref"] != second["ref"]
    assert _listed(desk, first["id"])["ref"] == first["ref"]


def test_contact_with_the_right_reference_and_sender(desk: TestClient) -> None:
    created = _handover(desk, "web:citizen-1")
    resp = desk.post(f"/desk/handovers/{created['ref']}/contact", headers=DESK,
                     json={"sender_id": "web:citizen-1", "consent": True, "contact": "0912 345 678"})
    assert (resp.status_code, resp.json()) == (200, {"ref": created["ref"]})
    mine = _listed(desk, created["id"])
    assert (mine["contact"], mine["contact_consent"]) == ("0912 345 678", True)


def test_contact_rewrite_from_another_conversation_is_404_and_changes_nothing(desk: TestClient) -> None:
    created = _handover(desk, "fb:victim")
    assert desk.post(f"/desk/handovers/{created['ref']}/contact", headers=DESK,
                     json={"sender_id": "fb:victim", "consent": True, "contact": "0912345678"}).status_code == 200
    attempts = [
        (created["ref"], {"sender_id": "fb:attacker", "consent": True, "contact": "0999999999"}),
        (created["ref"], {"sender_id": "fb:attacker", "consent": False}),
        (str(created["id"]), {"sender_id": "fb:victim", "consent": True, "contact": "0999999999"}),
        (created["ref"].lower(), {"sender_id": "fb:victim", "consent": True, "contact": "0999999999"}),
        ("HT-" + "2" * 8 if created["ref"] != "HT-" + "2" * 8 else "HT-" + "3" * 8,
         {"sender_id": "fb:victim", "consent": True, "contact": "0999999999"}),
        ("x" * 500, {"sender_id": "fb:victim", "consent": True, "contact": "0999999999"}),
    ]
    for ref, body in attempts:
        resp = desk.post(f"/desk/handovers/{ref}/contact", headers=DESK, json=body)
        assert (resp.status_code, resp.json()) == (404, {"detail": NO_SUCH_HANDOVER}), ref
    mine = _listed(desk, created["id"])
    assert (mine["contact"], mine["contact_consent"], mine["sender_id"]) == ("0912345678", True, "fb:victim")


def test_the_contact_body_needs_the_sender(desk: TestClient) -> None:
    created = _handover(desk, "rest:s")
    resp = desk.post(f"/desk/handovers/{created['ref']}/contact", headers=DESK, json={"consent": False})
    assert resp.status_code == 422 and "sender_id" in resp.json()["detail"]


def test_refused_consent_stores_no_contact(desk: TestClient) -> None:
    created = _handover(desk, "zalo:77")
    resp = desk.post(f"/desk/handovers/{created['ref']}/contact", headers=DESK,
                     json={"sender_id": "zalo:77", "consent": False, "contact": "0912345678"})
    assert resp.status_code == 200
    mine = _listed(desk, created["id"])
    assert (mine["contact"], mine["contact_consent"]) == (None, False)


def test_transcript_and_feedback_are_stored_masked(desk: TestClient) -> None:
    created = _handover(desk, "rest:pii", [
        {"role": "user", "text": "CCCD của tôi là 079203001234, sđt 0912345678, email nguyenvana@gmail.com"},
        {"role": "bot", "text": "Tôi đã ghi nhận."}])
    assert _listed(desk, created["id"])["transcript"] == [
        {"role": "user", "text": "CCCD của tôi là 0792******34, sđt 0912****78, email n*********@gmail.com"},
        {"role": "bot", "text": "Tôi đã ghi nhận."}]
    resp = desk.post("/desk/feedback", headers=DESK, json={"sender_id": "rest:pii", "comment": "gọi tôi 0912345678"})
    assert resp.status_code == 200
    app_desk = desk.app.state.desk  # type: ignore[attr-defined]
    with app_desk._db() as db:
        comment = db.execute("SELECT comment FROM feedback WHERE id = ?", (resp.json()["id"],)).fetchone()[0]
    assert comment == "gọi tôi 0912****78"


def test_the_demo_one_stop_system_says_it_is_demo_data(desk: TestClient) -> None:
    auth = {"Authorization": "Bearer demo-onestop-token"}
    found = desk.get("/demo/onestop/dossiers/G22.99.02-251110-0003", headers=auth).json()
    assert found["demo"] is True
    assert found["note"] == f"{DEMO_NOTE} Cần bổ sung ảnh chụp rõ nét của giấy tờ tùy thân."
    assert desk.get("/demo/onestop/dossiers/G22.99.01-251118-0007", headers=auth).json()["note"] == DEMO_NOTE
    assert DEMO_NOTE.startswith("Dữ liệu minh họa")
    for wrong in ({}, {"Authorization": "Bearer demo-onestop-tokenx"}, {"Authorization": "demo-onestop-token"}):
        resp = desk.get("/demo/onestop/dossiers/G22.99.02-251110-0003", headers=wrong)
        assert resp.status_code == 401


def test_the_demo_one_stop_system_is_absent_when_off(closed: TestClient) -> None:
    resp = closed.get("/demo/onestop/dossiers/G22.99.02-251110-0003",
                      headers={"Authorization": "Bearer demo-onestop-token"})
    assert resp.status_code == 404
