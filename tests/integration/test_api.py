from fastapi.testclient import TestClient


def test_search_contract(app_client: TestClient) -> None:
    resp = app_client.post("/search", json={"query": "lam giay khai sinh online the nao", "k": 3})
    assert resp.status_code == 200
    results = resp.json()["results"]
    assert 1 <= len(results) <= 3
    first = results[0]
    assert set(first) >= {"kind", "id", "title", "snippet", "score", "url", "doc_number", "source"}
    assert (first["kind"], first["id"], first["title"]) == ("procedure", "1.001193", "Thủ tục đăng ký khai sinh")
    assert first["url"].startswith("https://dichvucong.gov.vn")


def test_search_directives_carry_their_number(app_client: TestClient) -> None:
    resp = app_client.post("/search", json={"query": "qd 942 chinh phu so", "kinds": ["directive"]})
    assert resp.json()["results"][0]["doc_number"] == "942/QĐ-TTg"


def test_empty_query_is_422_with_a_readable_message(app_client: TestClient) -> None:
    resp = app_client.post("/search", json={"query": "   "})
    assert resp.status_code == 422
    assert "query" in resp.json()["detail"] and "empty" in resp.json()["detail"]


def test_malformed_json_is_422(app_client: TestClient) -> None:
    resp = app_client.post("/search", content=b'{"query": "khai sinh"', headers={"content-type": "application/json"})
    assert resp.status_code == 422
    assert "JSON" in resp.json()["detail"]


def test_unknown_kind_and_bad_k_are_422(app_client: TestClient) -> None:
    assert app_client.post("/search", json={"query": "x", "kinds": ["recipe"]}).status_code == 422
    assert app_client.post("/search", json={"query": "x", "k": 0}).status_code == 422


def test_too_long_query_is_422_and_huge_body_is_413(app_client: TestClient) -> None:
    assert app_client.post("/search", json={"query": "a" * 1001}).status_code == 422
    resp = app_client.post("/search", json={"query": "a" * 200_000})
    assert resp.status_code == 413
    assert "quá lớn" in resp.json()["detail"]


def test_procedure_by_code_and_404(app_client: TestClient) -> None:
    resp = app_client.get("/procedures/1.001193")
    assert resp.status_code == 200
    body = resp.json()
    assert body["online"]["type"] == "toan_trinh" and body["source"]
    missing = app_client.get("/procedures/9.999999")
    assert missing.status_code == 404
    assert missing.json()["detail"] == "Không tìm thấy thủ tục có mã '9.999999'"


def test_procedure_list_filters(app_client: TestClient) -> None:
    online = app_client.get("/procedures", params={"online": "toan_trinh", "limit": 200}).json()
    assert online and all(p["online"] == "toan_trinh" for p in online)
    civil = app_client.get("/procedures", params={"field": "ho tich", "limit": 200}).json()
    assert civil and all("hộ tịch" in p["field"].lower() for p in civil)
    found = app_client.get("/procedures", params={"q": "bang lai xe"}).json()
    assert "3.000346" in [p["id"] for p in found[:5]]


def test_guides_and_directives_404(app_client: TestClient) -> None:
    assert app_client.get("/guides/khong-co").status_code == 404
    assert app_client.get("/directives/khong-co").status_code == 404


def test_health_reports_the_index(app_client: TestClient) -> None:
    body = app_client.get("/health").json()
    assert body["status"] == "ok" and body["procedures"] >= 10 and body["chunks"] > 0


def test_portal_page_loads_the_widget(app_client: TestClient) -> None:
    page = app_client.get("/")
    assert page.status_code == 200
    assert 'lang="vi"' in page.text and 'src="/static/portal.js"' in page.text and '"socketUrl"' in page.text
    assert "WebChat.default" in app_client.get("/static/portal.js").text


def test_openapi_lists_the_routes(app_client: TestClient) -> None:
    paths = app_client.get("/openapi.json").json()["paths"]
    assert {"/search", "/procedures", "/procedures/{procedure_id}", "/guides/{guide_id}",
            "/directives/{directive_id}", "/health"} <= set(paths)
