"""The demo one-stop system's API (see knowledge/desk/onestop_demo.py).

Mounted by knowledge/api/app.py only when ``settings.demo_onestop`` is true (never in production).
The token is compared in constant time, over digests so that its length does not show either.
"""

from __future__ import annotations

from typing import Annotated, Any, Optional

from fastapi import APIRouter, Header, HTTPException, Request

from knowledge.api.deps import SettingsDep
from knowledge.desk.onestop_demo import DemoOneStop
from knowledge.environment import same_secret

router = APIRouter(prefix="/demo/onestop", tags=["demo one-stop system"])


@router.get("/dossiers/{code}", summary="Status of a dossier (demo data)")
def dossier(code: str, request: Request, settings: SettingsDep,
            authorization: Annotated[Optional[str], Header()] = None) -> dict[str, Any]:
    if not same_secret(authorization, f"Bearer {settings.demo_onestop_token}"):
        raise HTTPException(401, detail="Sai mã truy cập hệ thống một cửa.")
    system: DemoOneStop = request.app.state.onestop
    found = system.get(code[:100])
    if found is None:
        raise HTTPException(404, detail="Không tìm thấy hồ sơ.")
    return found
