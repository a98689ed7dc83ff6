"""The live handover pages: one case, taking it, replying to the citizen, closing it; and the
call-back list of the requests made outside office hours.

Taking is atomic in the desk store (one conditional UPDATE: several officers at once never
take the same case); only then is the bot paused, and if Rasa cannot be reached the case goes
back to the queue. Only the officer who took a case replies to it or closes it. What the
citizen reads of an officer is prefixed "Cán bộ <name>:"; the console logs references and
account names, never what anyone wrote.
"""

from __future__ import annotations

import logging
from typing import Any, Optional

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from knowledge.console.app import (
    Console,
    ConsoleDep,
    OfficerDep,
    checked_form,
    error_page,
    page,
    redirect,
    text_field,
)
from knowledge.console.queue import CALLBACK_LABELS, row
from knowledge.console.rasa import RasaLink, RasaUnavailable
from knowledge.console.sessions import Session
from knowledge.desk.store import CALLBACK_STATUSES, TAKEN, Handover

log = logging.getLogger(__name__)
router = APIRouter()

MAX_REPLY_CHARS = 2000
TAKEN_TEXT = "Cán bộ {officer} đã nhận yêu cầu {ref} và sẽ trả lời bạn tại đây."
OFFICER_TEXT = "Cán bộ {officer}: {text}"
CLOSED_TEXT = ("Cán bộ đã kết thúc hỗ trợ. Trợ lý ảo đã quay lại: bạn có thể tiếp tục đặt câu hỏi "
               "về thủ tục hành chính.")
NOTICES = {
    "taken": "Bạn đã nhận yêu cầu. Trợ lý ảo đã tạm dừng trong cuộc trò chuyện này.",
    "sent": "Đã gửi trả lời tới người dân.",
    "closed": "Đã kết thúc yêu cầu. Trợ lý ảo đã tiếp tục trả lời người dân.",
    "saved": "Đã lưu trạng thái gọi lại.",
}
ALREADY_TAKEN = "Yêu cầu này đã có cán bộ khác nhận."
NOT_YOURS = "Chỉ cán bộ đã nhận yêu cầu mới trả lời hoặc kết thúc được yêu cầu này."
NO_RASA = ("Chưa kết nối được với trợ lý ảo nên chưa thực hiện được. Yêu cầu vẫn giữ nguyên trạng thái; "
           "vui lòng thử lại sau ít phút.")
EMPTY_REPLY = "Vui lòng nhập nội dung trả lời."
LONG_REPLY = f"Nội dung trả lời dài quá {MAX_REPLY_CHARS} ký tự."
NO_SUCH_CASE = "Không có yêu cầu này."


def live_messages(events: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The user and bot lines after the last ``pause`` (what happened since the case was taken)."""
    start = max((i for i, e in enumerate(events) if e.get("event") == "pause"), default=-1)
    lines = []
    for event in events[start + 1:]:
        kind, text = event.get("event"), event.get("text")
        if kind in ("user", "bot") and isinstance(text, str) and text:
            metadata = event.get("metadata")
            officer = isinstance(metadata, dict) and bool(metadata.get("officer"))
            who = "Người dân" if kind == "user" else ("Cán bộ" if officer else "Trợ lý ảo")
            lines.append({"who": who, "text": text})
    return lines


def last_bot_answer(handover: Handover) -> str:
    """What the bot last said before handing over (its handover message excluded when there is another)."""
    answers = [line["text"] for line in handover.transcript if line.get("role") == "bot"]
    return answers[-1] if answers else ""


def rasa_of(app: Console) -> Optional[RasaLink]:
    rasa: Optional[RasaLink] = app.rasa
    return rasa


def case_page(request: Request, app: Console, session: Session, handover: Handover, error: str = "",
              status_code: int = 200, notice: str = "") -> HTMLResponse:
    mine = handover.status == TAKEN and handover.officer == session.account.username
    live: list[dict[str, str]] = []
    live_error = ""
    rasa = rasa_of(app)
    if mine and rasa is not None:
        try:
            live = live_messages(rasa.events(handover.sender_id, handover.channel))
        except RasaUnavailable:
            live_error = "Chưa đọc được tin nhắn mới từ trợ lý ảo; vui lòng tải lại trang."
    context = {"case": row(handover, app.clock()), "handover": handover, "mine": mine, "live": live,
               "live_error": live_error, "last_answer": last_bot_answer(handover), "error": error,
               "notice": notice, "can_take": rasa is not None, "max_reply": MAX_REPLY_CHARS}
    return page(request, "case.html", context, status_code=status_code, session=session)


def found_or_404(request: Request, app: Console, ref: str) -> Handover | Response:
    handover = app.desk.handover(ref)
    if handover is None:
        return error_page(request, 404, "Không tìm thấy", NO_SUCH_CASE)
    return handover


@router.get("/handovers/{ref}", response_class=HTMLResponse, name="case")
def case(request: Request, ref: str, app_: ConsoleDep, session: OfficerDep, m: str = "") -> Response:
    handover = found_or_404(request, app_, ref)
    if not isinstance(handover, Handover):
        return handover
    return case_page(request, app_, session, handover, notice=NOTICES.get(m, ""))


@router.post("/handovers/{ref}/take")
async def take(request: Request, ref: str, app_: ConsoleDep, session: OfficerDep) -> Response:
    await checked_form(request, session)
    handover = found_or_404(request, app_, ref)
    if not isinstance(handover, Handover):
        return handover
    officer = session.account.username
    rasa = rasa_of(app_)
    if rasa is None:
        return case_page(request, app_, session, handover, NO_RASA, 503)
    if not app_.desk.take(ref, officer):
        return case_page(request, app_, session, app_.desk.handover(ref) or handover, ALREADY_TAKEN, 409)
    try:
        rasa.pause(handover.sender_id, handover.channel, TAKEN_TEXT.format(officer=officer, ref=ref))
    except RasaUnavailable:
        app_.desk.release(ref, officer)
        return case_page(request, app_, session, handover, NO_RASA, 503)
    log.info("console: %s took %s", officer, ref)
    return redirect(request, f"/handovers/{ref}?m=taken")


def held(request: Request, app: Console, session: Session, ref: str) -> tuple[Handover, RasaLink] | Response:
    """The case and the link to Rasa, if this officer holds the case; otherwise the page that says why not."""
    handover = found_or_404(request, app, ref)
    if not isinstance(handover, Handover):
        return handover
    if handover.status != TAKEN or handover.officer != session.account.username:
        return case_page(request, app, session, handover, NOT_YOURS, 403)
    rasa = rasa_of(app)
    if rasa is None:
        return case_page(request, app, session, handover, NO_RASA, 503)
    return handover, rasa


@router.post("/handovers/{ref}/reply")
async def reply(request: Request, ref: str, app_: ConsoleDep, session: OfficerDep) -> Response:
    form = await checked_form(request, session)
    found = held(request, app_, session, ref)
    if isinstance(found, Response):
        return found
    handover, rasa = found
    text = text_field(form, "text").strip()
    if not text or len(text) > MAX_REPLY_CHARS:
        return case_page(request, app_, session, handover, EMPTY_REPLY if not text else LONG_REPLY, 400)
    officer = session.account.username
    try:
        rasa.say(handover.sender_id, handover.channel, OFFICER_TEXT.format(officer=officer, text=text), officer)
    except RasaUnavailable:
        return case_page(request, app_, session, handover, NO_RASA, 503)
    log.info("console: %s replied on %s", officer, ref)
    return redirect(request, f"/handovers/{ref}?m=sent")


@router.post("/handovers/{ref}/close")
async def close(request: Request, ref: str, app_: ConsoleDep, session: OfficerDep) -> Response:
    await checked_form(request, session)
    found = held(request, app_, session, ref)
    if isinstance(found, Response):
        return found
    handover, rasa = found
    try:
        rasa.resume(handover.sender_id, handover.channel, CLOSED_TEXT)
    except RasaUnavailable:
        return case_page(request, app_, session, handover, NO_RASA, 503)
    app_.desk.close(ref, session.account.username)
    log.info("console: %s closed %s", session.account.username, ref)
    return redirect(request, f"/handovers/{ref}?m=closed")


@router.get("/callbacks", response_class=HTMLResponse, name="callbacks")
def callbacks(request: Request, app_: ConsoleDep, session: OfficerDep, m: str = "") -> Response:
    return callbacks_page(request, app_, session, notice=NOTICES.get(m, ""))


def callbacks_page(request: Request, app: Console, session: Session, notice: str = "", error: str = "",
                   status_code: int = 200) -> HTMLResponse:
    rows = [row(h, app.clock()) for h in app.desk.callbacks()]
    return page(request, "callbacks.html", {"rows": rows, "labels": CALLBACK_LABELS, "notice": notice,
                                            "error": error}, status_code=status_code, session=session)


@router.post("/callbacks/{ref}")
async def set_callback(request: Request, ref: str, app_: ConsoleDep, session: OfficerDep) -> Response:
    form = await checked_form(request, session)
    status = text_field(form, "status")
    if status not in CALLBACK_STATUSES or not app_.desk.set_callback_status(ref, status):
        return callbacks_page(request, app_, session, error="Không lưu được trạng thái này.", status_code=400)
    log.info("console: %s set call-back %s to %s", session.account.username, ref, status)
    return redirect(request, "/callbacks?m=saved")
