"""Channel-neutral bot messages and the Vietnamese texts built from records.

Actions produce ``BotMessage`` objects (text, buttons, links); each channel renders them
within its own limits. Texts never state a fact the record does not hold: a missing fee
or time limit is said to be missing, with where to find it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Any, Optional
from zoneinfo import ZoneInfo

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.onestop_client import Dossier
from bot.texts import MENU_LABEL, OFFICER_LABEL, PORTAL_URL
from knowledge.catalogue.models import CHANNEL_LABEL, Directive, Guide, Procedure
from knowledge.catalogue.plain import is_free, plain_fee, plain_time
from knowledge.contract import Notice
from knowledge.text.normalize import fold, nfc

# Notes the importers write when the portal does not say more than "there is an online channel":
# they add nothing a citizen can use, so they are not shown.
GENERIC_ONLINE_NOTES = ("Trang thủ tục trên Cổng có kênh nộp trực tuyến nhưng không ghi rõ",
                        "Trang thủ tục trên Cổng ghi là toàn trình; các bước chưa",
                        # written by imports made before 2026-12-02
                        "Có kênh nộp trực tuyến; nguồn không ghi rõ", "Bản ghi nguồn có nhắc")


@dataclass(frozen=True)
class Button:
    title: str
    payload: Optional[str] = None
    url: Optional[str] = None

    def as_rasa(self) -> dict[str, str]:
        if self.url:
            return {"title": self.title, "url": self.url, "type": "web_url"}
        return {"title": self.title, "payload": self.payload or self.title}


@dataclass(frozen=True)
class BotMessage:
    text: str
    buttons: list[Button] = field(default_factory=list)


def send(dispatcher: CollectingDispatcher, messages: list[BotMessage]) -> None:
    for m in messages:
        dispatcher.utter_message(text=m.text, buttons=[b.as_rasa() for b in m.buttons] or None)


def intent_payload(intent: str, **entities: Any) -> str:
    return f"/{intent}{json.dumps(entities, ensure_ascii=False)}" if entities else f"/{intent}"


def source_line(source: str, checked_on: Any) -> str:
    return f"Nguồn: {source} (đối chiếu ngày {checked_on:%d/%m/%Y})."


OVERVIEW_LINES = 8  # the first answer to a procedure question fits a phone screen (issue 11)
WHAT_CHARS = 160
NOTE_CHARS = 180
LOCAL_ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


def today() -> dt.date:
    return dt.datetime.now(LOCAL_ZONE).date()


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def _link(p: Procedure) -> str:
    from actions.links import counted  # the counting redirect when ACTIONS_PUBLIC_URL is set

    direct = p.online.url or p.url
    return counted(p.id, direct) if direct else PORTAL_URL


def what_it_is(p: Procedure) -> str:
    """One sentence on what the procedure gives: a curated summary's first sentence, or the result."""
    if not p.summary.startswith(p.name.rstrip(" .")):
        return _clip(p.summary.split(". ")[0].rstrip(".") + ".", WHAT_CHARS)
    if p.result:
        return _clip(f"Kết quả: {p.result.rstrip('.')}.", WHAT_CHARS)
    return f"Lĩnh vực: {p.field}."


def _postal(p: Procedure) -> bool:
    return any(c.kind == "buu_chinh" for c in p.channels)


def online_pitch(p: Procedure) -> str:
    """What the online service really allows, never more than the record says."""
    if p.online.type == "toan_trinh":
        return ("✅ Làm được hoàn toàn trực tuyến (toàn trình, mức độ 4 cũ): nộp hồ sơ, nộp phí nếu có và "
                "theo dõi tiến độ trên mạng, không phải đến cơ quan để nộp.")
    if p.online.type == "mot_phan" and (p.online.note or "").startswith(GENERIC_ONLINE_NOTES):
        return ("🟡 Nộp hồ sơ trực tuyến được; trang thủ tục chưa ghi rõ có bước nào còn phải đến cơ quan, "
                "bạn xem kỹ hướng dẫn khi nộp.")
    if p.online.type == "mot_phan":
        return "🟡 Nộp hồ sơ trực tuyến được (một phần, mức độ 3 cũ): có bước vẫn phải đến cơ quan."
    where = p.receiving_agency or p.agency or "cơ quan giải quyết"
    postal = " hoặc gửi qua bưu chính" if _postal(p) else ""
    return f"⛔ Thủ tục này chưa nộp trực tuyến được: bạn nộp trực tiếp tại {_clip(where, 90)}{postal}."


def online_note(p: Procedure) -> Optional[str]:
    """The record's own limit on the online claim (originals to show, a step in person), when it has one."""
    if p.online.type == "khong" or not p.online.note or p.online.note.startswith(GENERIC_ONLINE_NOTES):
        return None
    return f"Lưu ý: {_clip(p.online.note, NOTE_CHARS)}"


def link_line(p: Procedure) -> str:
    if p.online.type == "khong":
        return f"Xem hướng dẫn và tra cứu hồ sơ tại: {_link(p)}"
    return f"Nộp trực tuyến tại: {_link(p)}"


def aspect_buttons(p: Procedure) -> list[Button]:
    steps = "Cách làm trực tuyến" if p.online.type != "khong" else "Cách làm"
    buttons = [
        Button(steps, intent_payload("ask_online_howto", procedure_id=p.id)),
        Button("Giấy tờ cần chuẩn bị", intent_payload("ask_documents", procedure_id=p.id)),
        Button("Lệ phí", intent_payload("ask_fee", procedure_id=p.id)),
        Button("Thời gian giải quyết", intent_payload("ask_processing_time", procedure_id=p.id)),
    ]
    if p.online.type != "khong" and (p.online.url or p.url):
        buttons.append(Button("Nộp trực tuyến", url=_link(p)))
    return buttons


def feedback_buttons() -> list[Button]:
    return [Button("👍 Hữu ích", intent_payload("feedback", feedback_value="up")),
            Button("👎 Chưa đúng", intent_payload("feedback", feedback_value="down"))]


def procedure_overview(p: Procedure) -> list[BotMessage]:
    """The first answer: what it is, online or not and what that means, where, the link, the source
    (at most OVERVIEW_LINES lines); the steps, documents, fee and time limit are behind buttons."""
    lines = [f"📄 {p.name}", what_it_is(p), online_pitch(p)]
    note = online_note(p)
    if note:
        lines.append(note)
    lines += [agency_text(p), link_line(p), source_line(p.source, p.checked_on), "Bạn muốn xem thêm phần nào?"]
    return [BotMessage("\n".join(lines[:OVERVIEW_LINES]), [*aspect_buttons(p), *feedback_buttons()])]


def agency_text(p: Procedure) -> str:
    if not p.agency:
        return "Cơ quan giải quyết: xem trên trang thủ tục của Cổng Dịch vụ công."
    level = f" ({', '.join(p.level)})" if p.level else ""
    return f"Cơ quan giải quyết: {_clip(p.agency, 110)}{level}."


def steps_text(p: Procedure) -> BotMessage:
    """How to do it, after whether it can be done online: the record's own online steps; else the
    portal's usual steps for an online procedure; for one that is not online, how to do it in person
    and what can still be done online."""
    lines = [f"📄 {p.name}", online_pitch(p)]
    if p.online.type == "khong":
        where = p.receiving_agency or p.agency or "bộ phận một cửa nơi giải quyết"
        lines += ["Cách làm trực tiếp:",
                  "1. Chuẩn bị giấy tờ (bấm «Giấy tờ cần chuẩn bị»).",
                  f"2. Nộp tại {_clip(where, 110)}" + (" hoặc gửi qua bưu chính." if _postal(p) else "."),
                  "3. Giữ giấy biên nhận; tiến độ hồ sơ tra cứu được trên Cổng Dịch vụ công."]
    elif p.online_steps:
        lines += ["Các bước làm trực tuyến:", *(f"{i}. {s}" for i, s in enumerate(p.online_steps, 1))]
    else:
        fee = any(c.fee and not is_free(c.fee) for c in p.channels)
        lines += ["Các bước làm trực tuyến:",
                  "1. Đăng nhập Cổng Dịch vụ công quốc gia bằng tài khoản định danh điện tử VNeID.",
                  "2. Mở trang thủ tục (đường dẫn bên dưới), chọn nộp trực tuyến và cơ quan giải quyết.",
                  "3. Điền tờ khai, đính kèm bản chụp hoặc bản điện tử các giấy tờ (bấm «Giấy tờ cần chuẩn bị»).",
                  "4. Nộp hồ sơ" + (", nộp lệ phí trực tuyến" if fee else "") + " và ghi lại mã hồ sơ để tra cứu."]
    note = online_note(p)
    lines += [*([note] if note else []), link_line(p), source_line(p.source, p.checked_on)]
    return BotMessage("\n".join(lines), [*aspect_buttons(p), *feedback_buttons()])


def documents_text(p: Procedure) -> BotMessage:
    if not p.documents:
        body = f"Chưa có danh sách giấy tờ cho thủ tục này; xem thành phần hồ sơ tại {p.url or PORTAL_URL}."
    else:
        body = "\n".join(f"• {d}" for d in p.documents)
    return BotMessage(f"Giấy tờ cần chuẩn bị cho «{p.name}»:\n{body}\n{source_line(p.source, p.checked_on)}",
                      aspect_buttons(p))


def fee_text(p: Procedure, on: Optional[dt.date] = None) -> BotMessage:
    """Fees per channel as they hold today: periods that have ended are left out."""
    day = on or today()
    lines, paid = [], False
    for c in p.channels:
        fee = plain_fee(c.fee, day) if c.fee else None
        if fee:
            lines.append(f"• {CHANNEL_LABEL[c.kind]}: {fee}")
            paid = paid or not is_free(fee)
    if lines:
        body = "\n".join(dict.fromkeys(lines))  # the same line once
        if paid and p.online.type != "khong":
            body += "\nNộp trực tuyến thì thanh toán lệ phí ngay trên Cổng Dịch vụ công."
    else:
        body = (f"Chưa có mức lệ phí chính thức cho thủ tục này. Bạn xem mức phí tại trang thủ tục "
                f"{p.url or PORTAL_URL} hoặc hỏi bộ phận một cửa nơi nộp hồ sơ.")
    return BotMessage(f"Lệ phí «{p.name}»:\n{body}\n{source_line(p.source, p.checked_on)}", aspect_buttons(p))


def time_text(p: Procedure) -> BotMessage:
    lines = [f"• {CHANNEL_LABEL[c.kind]}: {plain_time(c.time_limit)}" for c in p.channels if c.time_limit]
    body = "\n".join(dict.fromkeys(lines)) if lines else (
        f"Chưa có thời hạn giải quyết chính thức cho thủ tục này; xem tại {p.url or PORTAL_URL}.")
    return BotMessage(f"Thời gian giải quyết «{p.name}»:\n{body}\n{source_line(p.source, p.checked_on)}",
                      aspect_buttons(p))


def where_text(p: Procedure) -> BotMessage:
    lines = [f"Nơi nộp «{p.name}»:", agency_text(p)]
    if p.receiving_agency:
        lines.append(f"Nơi tiếp nhận hồ sơ: {p.receiving_agency}.")
    lines += [online_pitch(p), *([n] if (n := online_note(p)) else []), link_line(p)]
    return BotMessage("\n".join(lines) + f"\n{source_line(p.source, p.checked_on)}", aspect_buttons(p))


ASPECT_RENDERERS = {
    "ask_online_howto": steps_text,
    "ask_payment": steps_text,
    "ask_documents": documents_text,
    "ask_fee": fee_text,
    "ask_processing_time": time_text,
    "ask_where_to_submit": where_text,
}


def notice_message(n: Notice) -> BotMessage:
    """A rule in force that the question overlooks, said before the answer, with its legal basis."""
    return BotMessage(f"ℹ️ Quy định hiện hành: {n.rule}\nCăn cứ: {n.basis}.")


def guide_messages(g: Guide) -> list[BotMessage]:
    text = f"📘 {g.title}\n{g.summary}"
    if g.steps:
        text += "\n" + "\n".join(f"{i}. {s}" for i, s in enumerate(g.steps, 1))
    buttons = [Button(link.title[:40], url=link.url) for link in g.links[:2]]
    return [BotMessage(text), BotMessage(source_line(g.source, g.checked_on), buttons)]


def directive_messages(d: Directive, passage: Optional[BotMessage] = None) -> list[BotMessage]:
    text = f"📜 {d.citation}: {d.title}\n{d.summary}"
    if d.key_points:
        text += "\nNội dung chính:\n" + "\n".join(f"• {k}" for k in d.key_points)
    if d.note:
        text += f"\nLưu ý: {d.note}"
    return [BotMessage(text), *([passage] if passage else []), BotMessage(source_line(d.source, d.checked_on))]


def passage_message(title: str, section: Optional[str], snippet: str, source: Optional[str]) -> BotMessage:
    """A passage of a legal text or directive, cited by its article ("Điều 12, Nghị định …")."""
    where = f"{section}, {title}" if section else title
    text = f"Trích {where}:\n«{snippet}»"
    if source:
        text += f"\nNguồn: {source}"
    return BotMessage(text)


# -- Dossier status (from the one-stop system's record) -------------------------------------

def _date(value: Optional[str]) -> str:
    if value and len(value) >= 10 and value[4] == "-":
        return f"{value[8:10]}/{value[5:7]}/{value[:4]}"
    return value or "—"


def status_text(d: Dossier) -> str:
    lines = [f"Hồ sơ {d.code} — {d.procedure}", f"Trạng thái: {d.status}",
             f"Ngày tiếp nhận: {_date(d.received_at)}; hẹn trả: {_date(d.due_at)}"]
    if d.agency:
        lines.append(f"Cơ quan xử lý: {d.agency}")
    if d.note:
        lines.append(f"Ghi chú: {d.note}")
    if "bổ sung" in d.status.lower():
        lines.append("Hồ sơ cần bổ sung: bạn đăng nhập tài khoản đã nộp hồ sơ trên Cổng Dịch vụ công, mở hồ sơ "
                     "và tải lên giấy tờ được yêu cầu trước hạn.")
    return "\n".join(lines)


# -- Forms (dossier status, handover contact): stopping, leaving, re-asking ------------------
# Every form ends on a stop word, leaves when the citizen clearly asks something else (the rules
# in bot/data/rules/{dossier,handover}.yml answer it), and re-asks at most twice.

FORM_MAX_ANSWERS = 3  # the question, then at most two re-asks: the third unusable answer ends the form
MENU_BUTTON = Button(MENU_LABEL, "/greet")
OFFICER_BUTTON = Button(OFFICER_LABEL, "/request_human")
# Intents that are clearly another question inside a form; each has a rule that leaves the form
# and answers it (tests/unit/test_forms.py checks the rules against this set).
FORM_LEAVE_INTENTS = frozenset({
    "greet", "goodbye", "thank", "bot_challenge", "out_of_scope", "feedback", "request_human",
    "ask_procedure", "ask_documents", "ask_fee", "ask_processing_time", "ask_where_to_submit",
    "ask_online_howto", "ask_online_levels", "ask_account", "ask_payment", "ask_policy"})
# Folded words that stop a form on their own or at the head of a short message ("thôi không cần nữa").
STOP_PHRASES = frozenset({
    "thoi", "khong", "ko", "k", "kh", "hong", "huy", "huy bo", "quay lai", "dungx", "dung lai", "thoat", "khoi",
    "bo qua", "thoi khoi", "khong can", "ko can", "k can", "khong muon", "ko muon", "cancel", "stop", "exit",
    "quit", "no", "ket thuc", "tro ve", "ve menu", "menu"})
STOP_HEADS = ("thoi", "huy", "dungx", "dung lai", "thoat", "quay lai", "bo qua", "khong can", "ko can", "khong muon",
              "ko muon", "khong co", "ko co", "chua co", "ket thuc", "tro ve")
STOP_FILLERS = frozenset({"a", "ah", "nhe", "nha", "nhen", "di", "ad", "oi", "nua", "minh", "toi", "em", "da",
                          "vay", "roi", "r", "luon", "ban", "bot", "thi", "the", "day", "dau", "tam",
                          "ha", "hen", "mk", "e", "cam", "on"})
STOP_MAX_WORDS = 4
_WORDS = re.compile(r"[a-z0-9]+")


def is_stop(text: str) -> bool:
    """True for "thôi", "hủy", "huỷ", "quay lại", "dừng", "không", "thoi", "huy", "khong"… alone or at the
    head of a short message ("thôi không tra nữa", "hủy tra cứu"); never for a longer question that
    merely starts with one ("hủy đăng ký thường trú cho con thế nào")."""
    # "dừng" (stop) and "đúng" (right) fold alike: only an accented "dừng" or "dung lai" stops.
    words = [w for w in _WORDS.findall(fold(nfc(text or "").lower().replace("dừng", "dungx")))
             if w not in STOP_FILLERS]
    if not words or len(words) > STOP_MAX_WORDS:
        return False
    joined = " ".join(words)
    return joined in STOP_PHRASES or any(joined == h or joined.startswith(h + " ") for h in STOP_HEADS)


# Personal numbers as NLU sees them (masked: "0792******34", "0912****78", "n***@gmail.com") or as typed.
_MASKED_NUMBER = re.compile(r"\+?\d{2,4}\*{2,}\d{2}")
_MASKED_EMAIL = re.compile(r"\w\*{3,}@")
_LONG_NUMBER = re.compile(r"(?<![\w.,-])\+?\d(?: ?\d){8,11}(?![\w.,-])")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[a-zA-Z]{2,}")


def has_personal_number(text: str) -> bool:
    """A CCCD (12 digits), CMND (9), phone number or e-mail address, masked or not."""
    text = text or ""
    return bool(_MASKED_NUMBER.search(text) or _MASKED_EMAIL.search(text) or _LONG_NUMBER.search(text)
                or _EMAIL.search(text))


# "cccd của tôi là 0792******34", "sđt 0912****78", "email n***@gmail.com": the clause that gives a
# personal number (masked or not), which says nothing about the procedure asked for.
_PERSONAL_CLAUSE = re.compile(
    r"[,;]?\s*(?:(?:số|so)\s+)?(?:cccd|cmnd|cmt|căn cước(?: công dân)?|can cuoc(?: cong dan)?|sđt|sdt|"
    r"số điện thoại|so dien thoai|điện thoại|dien thoai|đt|dt|email|e-mail|mail)\b[^,;.?!\d*@]{0,30}"
    r"(?:\+?\d[\d* .]{6,}\d|\S+@\S+)", re.IGNORECASE)


def without_personal_numbers(text: str) -> str:
    """``text`` without the clauses that give an ID, phone number or e-mail address, for matching the
    question: "tôi muốn đăng ký thường trú cho con, cccd của tôi là 0792******34" → "tôi muốn đăng ký
    thường trú cho con"."""
    return " ".join(_PERSONAL_CLAUSE.sub("", text or "").split())


def has_digit(text: str) -> bool:
    return any(ch.isdigit() for ch in text or "")


_LETTER_WORD = re.compile(r"[^\W\d_]{2,}")
ANSWER_MAX_WORDS = 4


def looks_like_an_answer(text: str) -> bool:
    """A short message with a number ("123", "G22-1", "mã là 12345", "0912 345 678"): an answer to the
    form's question whatever NLU made of it (a bare number often reads as a rating, i.e. feedback)."""
    return has_digit(text) and len(_LETTER_WORD.findall(text or "")) <= ANSWER_MAX_WORDS




def gave_up_message(text: str, officer: bool) -> BotMessage:
    return BotMessage(text, [MENU_BUTTON, OFFICER_BUTTON] if officer else [MENU_BUTTON])


def latest_intent(tracker: Tracker) -> str:
    return str((tracker.latest_message.get("intent") or {}).get("name") or "")


def replying_in_form(tracker: Tracker, form: str) -> bool:
    """The latest message answers a question of ``form`` (not the form's activation)."""
    return (tracker.active_loop.get("name") == form and bool(tracker.get_slot("requested_slot"))
            and tracker.latest_message.get("text") is not None)


def answers_in_form(tracker: Tracker, form: str) -> int:
    """The citizen's messages since ``form`` was activated (the latest one included)."""
    count = 0
    for event in reversed(tracker.events):
        if event.get("event") == "active_loop" and event.get("name") == form:
            break
        if event.get("event") == "user":
            count += 1
    return count


# -- Scam and safety ------------------------------------------------------------------------------
# Calls and messages in an agency's name asking for money, an OTP, a password or an app from a link
# (../shared/docs/DOMAIN.md, "Scams that use public services' names"). No national report site is
# listed in the knowledge base, so none is named: the citizen is sent to the nearest police.
# Hosts are written as plain text, never as links (actions/safety.py).

SCAM_HOSTS_CHECKED = 3  # at most this many addresses of one message are checked


def link_verdict(host: str, official: bool) -> str:
    """What the address check says about ``host`` (plain text, no scheme: never a link)."""
    if official:
        return (f"🟢 Địa chỉ {host} có đuôi .gov.vn, là tên miền của cơ quan nhà nước. Tôi chỉ kiểm tra được "
                "địa chỉ: bạn nên tự gõ địa chỉ này vào trình duyệt thay vì bấm link được gửi tới.")
    return (f"🔴 Địa chỉ {host} KHÔNG phải trang chính thức của cơ quan nhà nước (trang chính thức kết thúc "
            "bằng .gov.vn). Bạn đừng bấm vào và đừng nhập thông tin. Tôi chỉ kiểm tra được địa chỉ.")


OTHER_LANGUAGE_BUTTONS = [Button("Gặp cán bộ / Officer", "/request_human"), Button("Menu", "/greet")]

# The forms let these intents go too (their rules in bot/data/rules/core.yml leave the form first).
FORM_LEAVE_INTENTS = FORM_LEAVE_INTENTS | {"report_scam", "non_vietnamese"}
