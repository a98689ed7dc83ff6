"""The provincial web portal page with the chat widget (rasa-webchat over socket.io)."""

from __future__ import annotations

import html
import json
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from knowledge.api.deps import SettingsDep
from knowledge.settings import PROJECT_ROOT

router = APIRouter(tags=["portal"])
PAGE = Path(__file__).resolve().parent.parent / "static" / "portal.html"
WIDGET_DIR = PROJECT_ROOT / "web" / "node_modules" / "rasa-webchat" / "lib"


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def portal(settings: SettingsDep) -> HTMLResponse:
    config = {"socketUrl": settings.rasa_url, "rasaPort": settings.rasa_port, "title": settings.portal_title}
    page = PAGE.read_text(encoding="utf-8")
    page = page.replace("__TITLE__", html.escape(settings.portal_title))
    page = page.replace("__CONFIG__", json.dumps(config, ensure_ascii=False).replace("</", "<\\/"))
    page = page.replace("__WIDGET_MISSING__", "" if (WIDGET_DIR / "index.js").is_file() else "missing")
    return HTMLResponse(page)
