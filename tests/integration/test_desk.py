from fastapi.testclient import TestClient

ADMIN = {"Authorization": "Bearer test-admin-token"}


def test_handover_with_transcript_and_consented_contact(app_client: TestClient) -> None:
    body = {"sender_id": "citizen-1", "channel": "rest", "within_office_hours": False,
            "transcript": [{"role": "user", "text": "gặp cán bộ"}, {"role": "bot", "text": "Ngoài giờ"}]}
    created = app_client.post("/desk/handovers", json=body)
    assert created.status_code == 200
    hid = created.json()["id"]
    assert app_client.post(f"/desk/handovers/{hid}/contact", json={"consent": True, "contact": "0912345678"}
                           ).status_code == 200
    listed = app_client.get("/admin/handovers", headers=ADMIN).json()
    mine = next(h for h in listed if h["id"] == hid)
    assert mine["contact"] == "0912345678" and mine["contact_consent"] is True
    assert mine["transcript"][0] == {"role": "user", "text": "gặp cán bộ"}


def test_contact_without_consent_is_not_stored(app_client: TestClient) -> None:
    hid = app_client.post("/desk/handovers", json={"sender_id": "c2", "within_office_hours": False}).json()["id"]
    app_client.post(f"/desk/handovers/{hid}/contact", json={"consent": False, "contact": "0912345678"})
    mine = next(h for h in app_client.get("/admin/handovers", headers=ADMIN).json() if h["id"] == hid)
    assert mine["contact"] is None and mine["contact_consent"] is False


def test_unknown_handover_is_404(app_client: TestClient) -> None:
    resp = app_client.post("/desk/handovers/999999/contact", json={"consent": True, "contact": "a@b.vn"})
    assert resp.status_code == 404 and "999999" in resp.json()["detail"]


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
    assert ok.status_code == 200 and ok.json()["status"] == "Đã có kết quả"
    assert app_client.get("/demo/onestop/dossiers/G22.99.01-251120-9999", headers=auth).status_code == 404
    assert app_client.get("/demo/onestop/dossiers/G22.99.01-251120-0001").status_code == 401
