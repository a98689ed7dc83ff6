"""The provincial web portal page with the chat widget (rasa-webchat over socket.io).

The page carries no inline script: its configuration is a JSON data block and its code is
``/static/portal.js`` (knowledge/api/static/), so it is sent with a strict
Content-Security-Policy: scripts from this origin only, connections to this origin and to the
Rasa socket (http and ws), no plugins, no <base>, no framing, forms to this origin. Styles
allow 'unsafe-inline' because rasa-webchat injects its own <style> elements.

rasa-webchat 1.0.1's CSS ``@import``s the Inter font from fonts.googleapis.com: every citizen's
browser would call Google, and the CSP refuses it (a violation on every page). The bundle is
served here with that import removed (``widget_bundle``); the widget's own fallback
(``font-family: Inter, sans-serif``) applies.
"""

from __future__ import annotations

import html
import json
import re
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from knowledge.api.deps import SettingsDep
from knowledge.settings import PROJECT_ROOT, Settings

router = APIRouter(tags=["portal"])
STATIC = Path(__file__).resolve().parent.parent / "static"
PAGE = STATIC / "portal.html"
WIDGET_DIR = PROJECT_ROOT / "web" / "node_modules" / "rasa-webchat" / "lib"
ASSETS = {"portal.js": "text/javascript; charset=utf-8", "portal.css": "text/css; charset=utf-8"}
_FONT_IMPORT = re.compile(r"@import url\(https://fonts\.googleapis\.com/[^)]*\);?")
_HOST = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?$")

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def rasa_socket_origins(settings: Settings, request: Request) -> list[str]:
    """The Rasa socket's origin as http(s) and ws(s), as the page's script will compute it."""
    if settings.rasa_url:
        parts = urlsplit(settings.rasa_url)
        secure, netloc = parts.scheme in ("https", "wss"), parts.netloc
    else:
        host = request.url.hostname or ""
        host = f"[{host}]" if ":" in host else host
        secure, netloc = request.url.scheme == "https", f"{host}:{settings.rasa_port}"
    if not netloc or not _HOST.match(netloc):
        return []  # nothing that could break out of the header
    return [f"{'https' if secure else 'http'}://{netloc}", f"{'wss' if secure else 'ws'}://{netloc}"]


def content_security_policy(connect: list[str]) -> str:
    return "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",  # rasa-webchat injects <style> elements
        "img-src 'self' data: https:",  # the widget's icons are data: URIs; bot images are https
        "font-src 'self' data:",
        "connect-src " + " ".join(["'self'", *connect]),
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ])


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def portal(settings: SettingsDep, request: Request) -> HTMLResponse:
    config = {"socketUrl": settings.rasa_url, "rasaPort": settings.rasa_port, "title": settings.portal_title}
    page = PAGE.read_text(encoding="utf-8")
    page = page.replace("__TITLE__", html.escape(settings.portal_title))
    page = page.replace("__CONFIG__", json.dumps(config, ensure_ascii=False).replace("<", "\\u003c"))
    page = page.replace("__WIDGET_MISSING__", "" if (WIDGET_DIR / "index.js").is_file() else "missing")
    headers = {**SECURITY_HEADERS,
               "Content-Security-Policy": content_security_policy(rasa_socket_origins(settings, request))}
    return HTMLResponse(page, headers=headers)


@router.get("/static/{name}", include_in_schema=False)
def asset(name: str) -> Response:
    if name not in ASSETS:
        return Response("not found", status_code=404, media_type="text/plain", headers=SECURITY_HEADERS)
    return Response((STATIC / name).read_bytes(), media_type=ASSETS[name],
                    headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"})


@lru_cache(maxsize=2)
def _bundle(path: Path, mtime_ns: int) -> bytes:
    return _FONT_IMPORT.sub("", path.read_text(encoding="utf-8")).encode("utf-8")


def widget_bundle(path: Path = WIDGET_DIR / "index.js") -> bytes:
    """rasa-webchat's bundle without its third-party font import (cached until the file changes)."""
    return _bundle(path, path.stat().st_mtime_ns)


@router.get("/static/webchat/index.js", include_in_schema=False)
def webchat_bundle() -> Response:
    # Registered before the /static/webchat mount (knowledge/api/app.py), so it takes precedence.
    path = WIDGET_DIR / "index.js"
    if not path.is_file():
        return Response("not found", status_code=404, media_type="text/plain", headers=SECURITY_HEADERS)
    return Response(widget_bundle(path), media_type="text/javascript; charset=utf-8",
                    headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"})
