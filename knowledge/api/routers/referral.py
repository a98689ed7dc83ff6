"""The counting redirect of the bot's online-service links: ``GET /r/<procedure id>``.

The bot links to ``<public URL>/r/<procedure id>`` (actions/links.py) instead of the official
address; this counts one click for the procedure, the channel the link names (``?k=``) and
the day — no sender id, no address, no time of day — and answers 302 to the procedure's own
online-service (or portal) address from the knowledge base. Only those addresses: an unknown
procedure gets 404, whatever the query says, so this is never an open redirect.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Optional

from fastapi import APIRouter, HTTPException
from fastapi.responses import RedirectResponse

from knowledge.analytics.clicks import ClickCounter
from knowledge.analytics.figures import ZONE
from knowledge.api.deps import LoadedDep, SettingsDep

log = logging.getLogger(__name__)
router = APIRouter(tags=["referral"])
UNKNOWN = "Không có đường dẫn này trong cơ sở tri thức."


@router.get("/r/{procedure_id}", status_code=302, response_class=RedirectResponse,
            responses={404: {"description": UNKNOWN}})
def follow(procedure_id: str, loaded: LoadedDep, settings: SettingsDep, k: Optional[str] = None) -> RedirectResponse:
    procedure = loaded.kb.procedures.get(procedure_id)
    target = (procedure.online.url or procedure.url) if procedure else None
    if procedure is None or not target or not target.startswith(("https://", "http://")):
        raise HTTPException(404, UNKNOWN)
    try:
        ClickCounter(settings.desk_db).count(procedure.id, k, dt.datetime.now(ZONE).date())
    except Exception:  # the citizen still gets the service; the count is lost, the log says why
        log.exception("referral: click not counted")
    return RedirectResponse(target, status_code=302, headers={"cache-control": "no-store",
                                                              "referrer-policy": "no-referrer"})
