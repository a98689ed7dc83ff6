"""The officers' desk (written by the action server) and the admin views over it."""

from __future__ import annotations

import hmac
from typing import Annotated, Any, Literal, Optional

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request
from pydantic import BaseModel, Field

from knowledge.api.deps import SettingsDep
from knowledge.desk import DeskStore

router = APIRouter(tags=["desk"])


def get_desk(request: Request) -> DeskStore:
    desk: DeskStore = request.app.state.desk
    return desk


DeskDep = Annotated[DeskStore, Depends(get_desk)]


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def require_desk_token(settings: SettingsDep, x_desk_token: Annotated[Optional[str], Header()] = None) -> None:
    if settings.desk_token and not (x_desk_token and _same(x_desk_token, settings.desk_token)):
        raise HTTPException(401, detail="Thiếu hoặc sai X-Desk-Token.")


def require_admin(settings: SettingsDep, authorization: Annotated[Optional[str], Header()] = None) -> None:
    if not settings.admin_token:
        raise HTTPException(403, detail="Trang quản trị chưa bật (đặt KNOWLEDGE_ADMIN_TOKEN).")
    expected = f"Bearer {settings.admin_token}"
    if not (authorization and _same(authorization, expected)):
        raise HTTPException(401, detail="Cần đăng nhập quản trị (Authorization: Bearer …).")


class TranscriptLine(BaseModel):
    role: Literal["user", "bot"]
    text: str = Field(max_length=4000)


class HandoverIn(BaseModel):
    sender_id: str = Field(min_length=1, max_length=200)
    channel: Optional[str] = Field(None, max_length=50)
    within_office_hours: bool
    transcript: list[TranscriptLine] = Field(default_factory=list, max_length=200)


class ContactIn(BaseModel):
    consent: bool
    contact: Optional[str] = Field(None, max_length=200)


class FeedbackIn(BaseModel):
    sender_id: str = Field(min_length=1, max_length=200)
    value: Optional[Literal["up", "down"]] = None
    rating: Optional[int] = Field(None, ge=1, le=5)
    answer_ref: Optional[str] = Field(None, max_length=200)
    comment: Optional[str] = Field(None, max_length=2000)


class EventIn(BaseModel):
    sender_id: str = Field(min_length=1, max_length=200)
    type: Literal["online_referral", "fallback", "handover", "not_found"]
    ref: Optional[str] = Field(None, max_length=200)


class Created(BaseModel):
    id: int


@router.post("/desk/handovers", response_model=Created, dependencies=[Depends(require_desk_token)])
def create_handover(body: HandoverIn, desk: DeskDep) -> Created:
    transcript = [line.model_dump() for line in body.transcript]
    return Created(id=desk.add_handover(body.sender_id, body.channel, body.within_office_hours, transcript))


@router.post("/desk/handovers/{handover_id}/contact", response_model=Created,
             dependencies=[Depends(require_desk_token)])
def set_contact(handover_id: int, body: ContactIn, desk: DeskDep) -> Created:
    if not desk.set_contact(handover_id, body.consent, body.contact):
        raise HTTPException(404, detail=f"Không có yêu cầu hỗ trợ số {handover_id}.")
    return Created(id=handover_id)


@router.post("/desk/feedback", response_model=Created, dependencies=[Depends(require_desk_token)])
def create_feedback(body: FeedbackIn, desk: DeskDep) -> Created:
    if body.value is None and body.rating is None and not body.comment:
        raise HTTPException(422, detail="Cần ít nhất một trong: value, rating, comment.")
    return Created(id=desk.add_feedback(body.sender_id, body.value, body.rating, body.answer_ref, body.comment))


@router.post("/desk/events", response_model=Created, dependencies=[Depends(require_desk_token)])
def create_event(body: EventIn, desk: DeskDep) -> Created:
    return Created(id=desk.add_event(body.sender_id, body.type, body.ref))


@router.get("/admin/handovers", dependencies=[Depends(require_admin)])
def list_handovers(desk: DeskDep, status: Optional[str] = Query(None, max_length=20),
                   limit: int = Query(50, ge=1, le=500)) -> list[dict[str, Any]]:
    return [h.__dict__ for h in desk.handovers(status, limit)]


@router.get("/admin/stats", dependencies=[Depends(require_admin)])
def stats(desk: DeskDep) -> dict[str, Any]:
    return desk.stats()
