"""The portal page's headers and assets (knowledge/api/routers/portal.py): strict CSP, no inline script."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from knowledge.api.routers import portal
from knowledge.settings import Settings

STATIC = Path(portal.__file__).resolve().parent.parent / "static"


@pytest.fixture()
def client() -> TestClient:
    app = FastAPI()
    app.state.settings = settings()
    app.include_router(portal.router)
    return TestClient(app)


def settings(**kwargs: object) -> Settings:
    return Settings(**kwargs)  # type: ignore[arg-type]


def test_the_page_has_no_inline_script_only_a_json_config() -> None:
    page = (STATIC / "portal.html").read_text(encoding="utf-8")
    scripts = [chunk.split(">", 1)[0] for chunk in page.split("<script")[1:]]
    assert scripts == [' id="portal-config" type="application/json"', ' src="/static/portal.js" defer']
    assert "<style" not in page and " style=" not in page and " on" not in page.split("<body", 1)[1].split(">")[0]
    js = (STATIC / "portal.js").read_text(encoding="utf-8")
    assert 'storage: "session"' in js and "WebChat.default" in js


def test_the_csp_is_strict() -> None:
    csp = portal.content_security_policy(["http://h:5005", "ws://h:5005"])
    directives = dict(d.split(" ", 1) for d in csp.split("; "))
    assert directives["script-src"] == "'self'"
    assert directives["connect-src"] == "'self' http://h:5005 ws://h:5005"
    assert directives["object-src"] == "'none'" and directives["base-uri"] == "'none'"
    assert directives["frame-ancestors"] == "'none'" and directives["form-action"] == "'self'"
    assert directives["style-src"] == "'self' 'unsafe-inline'"


class FakeURL:
    def __init__(self, scheme: str, hostname: str) -> None:
        self.scheme, self.hostname = scheme, hostname


class FakeRequest:
    def __init__(self, scheme: str, hostname: str) -> None:
        self.url = FakeURL(scheme, hostname)


@pytest.mark.parametrize(("rasa_url", "scheme", "host", "expected"), [
    ("", "http", "127.0.0.1", ["http://127.0.0.1:5005", "ws://127.0.0.1:5005"]),
    ("", "https", "dvc.example.gov.vn", ["https://dvc.example.gov.vn:5005", "wss://dvc.example.gov.vn:5005"]),
    ("", "http", "::1", ["http://[::1]:5005", "ws://[::1]:5005"]),
    ("https://chat.example.gov.vn", "http", "x", ["https://chat.example.gov.vn", "wss://chat.example.gov.vn"]),
    ("", "http", "evil; script-src *", []),
])
def test_the_rasa_socket_origin_is_allowed_as_http_and_ws(rasa_url: str, scheme: str, host: str,
                                                          expected: list[str]) -> None:
    s = settings(rasa_url=rasa_url, rasa_port=5005)
    assert portal.rasa_socket_origins(s, FakeRequest(scheme, host)) == expected  # type: ignore[arg-type]


def test_page_and_assets_carry_the_security_headers(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-security-policy"].startswith("default-src 'self'; script-src 'self';")
    assert page.headers["x-content-type-options"] == "nosniff" and page.headers["referrer-policy"] == "no-referrer"
    assert '"socketUrl"' in page.text and "__CONFIG__" not in page.text
    for name, kind in (("portal.js", "text/javascript"), ("portal.css", "text/css")):
        asset = client.get(f"/static/{name}")
        assert asset.status_code == 200 and asset.headers["content-type"].startswith(kind)
        assert asset.headers["x-content-type-options"] == "nosniff"
    assert client.get("/static/portal.html").status_code == 404
    assert client.get("/static/..%2Fsettings.py").status_code == 404


def test_the_config_cannot_close_its_script_element() -> None:
    s = settings(portal_title="</script><script>alert(1)</script>")
    page = portal.portal(s, FakeRequest("http", "127.0.0.1")).body.decode()  # type: ignore[arg-type]
    config = page.split('type="application/json">', 1)[1].split("</script>", 1)[0]
    assert "<" not in config and "\\u003c/script" in config


def test_the_widget_bundle_loses_its_google_font_import(tmp_path: Path) -> None:
    bundle = tmp_path / "index.js"
    bundle.write_text('a.push([e.i,"@import url(https://fonts.googleapis.com/css?family=Inter:400,500,700&display=swap);",'
                      '""]);b="font-family:Inter,sans-serif"', encoding="utf-8")
    served = portal.widget_bundle(bundle).decode()
    assert "googleapis" not in served and 'a.push([e.i,"",""])' in served and "Inter,sans-serif" in served
