"""The officers' desk (written by the action server) and the admin views over it.

``/desk/*`` is closed unless ``KNOWLEDGE_DESK_TOKEN`` is set (503), and then needs that token in
``X-Desk-Token`` (401 otherwise). ``/admin/*`` is off unless ``KNOWLEDGE_ADMIN_TOKEN`` is set (403),
and then needs ``Authorization: Bearer <token>``. Tokens are compared in constant time.

A handover is known outside the desk only by its reference (``HT-…``); its contact is set with the
reference and the sender id of the conversation that opened it, and a wrong pair answers the same
404 as an unknown reference.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Optional

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request
from pydantic import BaseModel, Field

from knowledge.api.deps import SettingsDep
from knowledge.desk import DeskStore
from knowledge.environment import same_secret

router = APIRouter(tags=["desk"])


def get_desk(request: Request) -> DeskStore:
    desk: DeskStore = request.app.state.desk
    return desk


DeskDep = Annotated[DeskStore, Depends(get_desk)]


DESK_CLOSED = ("Bàn làm việc của cán bộ đang đóng: chưa đặt KNOWLEDGE_DESK_TOKEN. "
               "(The desk is closed: KNOWLEDGE_DESK_TOKEN is not set.)")
DESK_TOKEN_WRONG = "Thiếu hoặc sai X-Desk-Token. (Missing or wrong X-Desk-Token.)"
NO_SUCH_HANDOVER = "Không có yêu cầu hỗ trợ này. (No such handover.)"


def require_desk_token(settings: SettingsDep, x_desk_token: Annotated[Optional[str], Header()] = None) -> None:
    if not settings.desk_token:
        raise HTTPException(503, detail=DESK_CLOSED)
    if not (same_secret(x_desk_token, settings.desk_token)):
        raise HTTPException(401, detail=DESK_TOKEN_WRONG)


def require_admin(settings: SettingsDep, authorization: Annotated[Optional[str], Header()] = None) -> None:
    if not settings.admin_token:
        raise HTTPException(403, detail="Trang quản trị chưa bật (đặt KNOWLEDGE_ADMIN_TOKEN).")
    expected = f"Bearer {settings.admin_token}"
    if not (same_secret(authorization, expected)):
        raise HTTPException(401, detail="Cần đăng nhập quản trị (Authorization: Bearer …).")


class TranscriptLine(BaseModel):
    role: Literal["user", "bot"]
    text: str = Field(max_length=4000)


class HandoverIn(BaseModel):
    sender_id: str = Field(min_length=1, max_length=200)
    channel: Optional[str] = Field(None, max_length=50)
    within_office_hours: bool
    transcript: list[TranscriptLine] = Field(default_factory=list, max_length=200)
    # Why the bot handed over, shown in the officers' queue (knowledge/desk/store.py REASONS).
    reason: Literal["citizen_asked", "repeated_fallback", "other"] = "other"


class ContactIn(BaseModel):
    sender_id: str = Field(min_length=1, max_length=200)
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


class HandoverCreated(BaseModel):
    id: int
    ref: str


class ContactSaved(BaseModel):
    ref: str


@router.post("/desk/handovers", response_model=HandoverCreated, dependencies=[Depends(require_desk_token)])
def create_handover(body: HandoverIn, desk: DeskDep) -> HandoverCreated:
    transcript = [line.model_dump() for line in body.transcript]
    created = desk.add_handover(body.sender_id, body.channel, body.within_office_hours, transcript, body.reason)
    return HandoverCreated(id=created.id, ref=created.ref)


@router.post("/desk/handovers/{ref}/contact", response_model=ContactSaved, dependencies=[Depends(require_desk_token)])
def set_contact(ref: str, body: ContactIn, desk: DeskDep) -> ContactSaved:
    # An unknown reference, a sequential id and another conversation's reference get the same answer.
    if not desk.set_contact(ref, body.sender_id, body.consent, body.contact):
        raise HTTPException(404, detail=NO_SUCH_HANDOVER)
    return ContactSaved(ref=ref)


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
