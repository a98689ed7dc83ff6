from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from knowledge.api.app import create_app
from knowledge.api.deps import IndexHolder
from knowledge.service import LoadedIndex
from knowledge.settings import Settings

ADMIN = {"Authorization": "Bearer test-admin-token"}
DESK_TOKEN = "test-desk-token"


@pytest.fixture(scope="module")
def app_client(settings: Settings, loaded: LoadedIndex, tmp_path_factory: pytest.TempPathFactory
               ) -> Iterator[TestClient]:
    """The service with the desk open (its token set) and sent on every request."""
    own = settings.model_copy(update={"desk_token": DESK_TOKEN, "desk_db": tmp_path_factory.mktemp("desk") / "desk.db"})
    with TestClient(create_app(own, holder=IndexHolder.serving(own, loaded)), headers={"X-Desk-Token": DESK_TOKEN}
                    ) as client:
        yield client


def test_handover_with_transcript_and_consented_contact(app_client: TestClient) -> None:
    body = {"sender_id": "rest:citizen-1", "channel": "rest", "within_office_hours": False,
            "transcript": [{"role": "user", "text": "gặp cán bộ"}, {"role": "bot", "text": "Ngoài giờ"}]}
    created = app_client.post("/desk/handovers", json=body)
    assert created.status_code == 200
    hid, ref = created.json()["id"], created.json()["ref"]
    assert app_client.post(f"/desk/handovers/{ref}/contact",
                           json={"sender_id": "rest:citizen-1", "consent": True, "contact": "0912345678"}
                           ).status_code == 200
    listed = app_client.get("/admin/handovers", headers=ADMIN).json()
    mine = next(h for h in listed if h["id"] == hid)
    assert mine["contact"] == "0912345678" and mine["contact_consent"] is True and mine["ref"] == ref
    assert mine["transcript"][0] == {"role": "user", "text": "gặp cán bộ"}


def test_contact_without_consent_is_not_stored(app_client: TestClient) -> None:
    created = app_client.post("/desk/handovers", json={"sender_id": "rest:c2", "within_office_hours": False}).json()
    app_client.post(f"/desk/handovers/{created['ref']}/contact",
                    json={"sender_id": "rest:c2", "consent": False, "contact": "0912345678"})
    mine = next(h for h in app_client.get("/admin/handovers", headers=ADMIN).json() if h["id"] == created["id"])
    assert mine["contact"] is None and mine["contact_consent"] is False


def test_unknown_handover_is_404(app_client: TestClient) -> None:
    resp = app_client.post("/desk/handovers/999999/contact",
                           json={"sender_id": "rest:c1", "consent": True, "contact": "a@b.vn"})
    assert resp.status_code == 404 and resp.json()["detail"] == "Không có yêu cầu hỗ trợ này. (No such handover.)"


def test_admin_needs_the_token(app_client: TestClient) -> None:
    assert app_client.get("/admin/stats").status_code == 401
    assert app_client.get("/admin/stats", headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_feedback_and_referrals_are_counted(app_client: TestClient) -> None:
    before = app_client.get("/admin/stats", headers=ADMIN).json()
    assert app_client.post("/desk/feedback", json={"sender_id": "c3", "value": "down", "rating": 2}).status_code == 200
    assert app_client.post("/desk/events", json={"sender_id": "c3", "type": "online_referral", "ref": "1.001193"}
                           ).status_code == 200
    after = app_client.get("/admin/stats", headers=ADMIN).json()
    assert after["feedback"]["down"] == before["feedback"]["down"] + 1
    assert after["events"]["online_referral"] == before["events"].get("online_referral", 0) + 1


def test_empty_or_invalid_feedback_is_422(app_client: TestClient) -> None:
    assert app_client.post("/desk/feedback", json={"sender_id": "c4"}).status_code == 422
    assert app_client.post("/desk/feedback", json={"sender_id": "c4", "rating": 9}).status_code == 422


def test_demo_onestop_system(app_client: TestClient) -> None:
    auth = {"Authorization": "Bearer demo-onestop-token"}
    ok = app_client.get("/demo/onestop/dossiers/g22.99.01-251120-0001", headers=auth)
    assert ok.status_code == 200 and ok.json()["status"] == "Đã có kết quả" and ok.json()["demo"] is True
    assert app_client.get("/demo/onestop/dossiers/G22.99.01-251120-9999", headers=auth).status_code == 404
    assert app_client.get("/demo/onestop/dossiers/G22.99.01-251120-0001").status_code == 401
