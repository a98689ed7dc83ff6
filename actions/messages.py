"""Channel-neutral bot messages and the Vietnamese texts built from records.

Actions produce ``BotMessage`` objects (text, buttons, links); each channel renders them
within its own limits. Texts never state a fact the record does not hold: a missing fee
or time limit is said to be missing, with where to find it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Optional

from rasa_sdk.executor import CollectingDispatcher

from knowledge.catalogue.models import CHANNEL_LABEL, Directive, Guide, Procedure

PORTAL_URL = "https://dichvucong.gov.vn"
APOLOGY_DOWN = (
    "Xin lỗi, hệ thống tra cứu thủ tục đang tạm thời gián đoạn. Bạn vui lòng thử lại sau ít phút, "
    f"hoặc tra cứu trực tiếp trên Cổng Dịch vụ công quốc gia: {PORTAL_URL}"
)
NOT_FOUND = (
    "Xin lỗi, tôi chưa tìm thấy thông tin phù hợp với câu hỏi của bạn trong cơ sở dữ liệu. "
    f"Bạn có thể gõ tên thủ tục cụ thể hơn, tra cứu trên {PORTAL_URL}, "
    "hoặc gõ \"gặp cán bộ\" để được hỗ trợ trực tiếp."
)


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


def online_pitch(p: Procedure) -> str:
    url = p.online.url or p.url or PORTAL_URL
    if p.online.type == "toan_trinh":
        return (f"✅ Thủ tục này làm được hoàn toàn trực tuyến (toàn trình, tương đương mức độ 4 cũ): "
                f"không phải đến cơ quan, theo dõi được tiến độ hồ sơ và nhận kết quả tại nhà. Nộp tại: {url}")
    if p.online.type == "mot_phan":
        extra = f" {p.online.note}" if p.online.note else ""
        return (f"🟡 Thủ tục này nộp trực tuyến được một phần (tương đương mức độ 3 cũ): bạn nộp hồ sơ online, "
                f"một số bước vẫn cần đến cơ quan.{extra} Nộp tại: {url}")
    return f"Thủ tục này hiện chưa nộp trực tuyến được; xem hướng dẫn tại {url}"


def aspect_buttons(p: Procedure) -> list[Button]:
    buttons = [
        Button("Giấy tờ cần chuẩn bị", intent_payload("ask_documents", procedure_id=p.id)),
        Button("Lệ phí", intent_payload("ask_fee", procedure_id=p.id)),
        Button("Thời gian giải quyết", intent_payload("ask_processing_time", procedure_id=p.id)),
    ]
    url = p.online.url or p.url
    if url and p.online.type != "khong":
        buttons.append(Button("Nộp trực tuyến", url=url))
    return buttons


def feedback_buttons() -> list[Button]:
    return [Button("👍 Hữu ích", intent_payload("feedback", feedback_value="up")),
            Button("👎 Chưa đúng", intent_payload("feedback", feedback_value="down"))]


def procedure_overview(p: Procedure) -> list[BotMessage]:
    head = f"📄 {p.name}\n{p.summary}\n\n{online_pitch(p)}"
    messages = [BotMessage(head)]
    if p.online_steps:
        steps = "\n".join(f"{i}. {s}" for i, s in enumerate(p.online_steps, 1))
        messages.append(BotMessage(f"Các bước làm trực tuyến:\n{steps}"))
    messages.append(BotMessage(f"{agency_text(p)}\n{source_line(p.source, p.checked_on)}\n"
                               "Bạn muốn xem thêm phần nào?", [*aspect_buttons(p), *feedback_buttons()]))
    return messages


def agency_text(p: Procedure) -> str:
    parts = []
    if p.agency:
        parts.append(f"Cơ quan giải quyết: {p.agency}")
    if p.level:
        parts.append(f"Cấp thực hiện: {', '.join(p.level)}")
    return ". ".join(parts) + "." if parts else "Cơ quan giải quyết: xem trên trang thủ tục của Cổng Dịch vụ công."


def documents_text(p: Procedure) -> BotMessage:
    if not p.documents:
        body = f"Chưa có danh sách giấy tờ trong cơ sở dữ liệu; xem thành phần hồ sơ tại {p.url or PORTAL_URL}."
    else:
        body = "\n".join(f"• {d}" for d in p.documents)
    return BotMessage(f"Giấy tờ cần chuẩn bị cho «{p.name}»:\n{body}\n{source_line(p.source, p.checked_on)}",
                      aspect_buttons(p))


def fee_text(p: Procedure) -> BotMessage:
    lines = [f"• {CHANNEL_LABEL[c.kind]}: {c.fee}" for c in p.channels if c.fee]
    if lines:
        body = "\n".join(lines)
        if p.online.type != "khong":
            body += "\nNộp trực tuyến thì thanh toán lệ phí ngay trên Cổng Dịch vụ công."
    else:
        body = (f"Cơ sở dữ liệu chưa có mức lệ phí chính thức cho thủ tục này. Bạn xem mức phí tại trang thủ tục "
                f"{p.url or PORTAL_URL} hoặc hỏi bộ phận một cửa nơi nộp hồ sơ.")
    return BotMessage(f"Lệ phí «{p.name}»:\n{body}\n{source_line(p.source, p.checked_on)}", aspect_buttons(p))


def time_text(p: Procedure) -> BotMessage:
    lines = [f"• {CHANNEL_LABEL[c.kind]}: {c.time_limit}" for c in p.channels if c.time_limit]
    body = "\n".join(lines) if lines else (
        f"Cơ sở dữ liệu chưa có thời hạn giải quyết chính thức; xem tại {p.url or PORTAL_URL}.")
    return BotMessage(f"Thời gian giải quyết «{p.name}»:\n{body}\n{source_line(p.source, p.checked_on)}",
                      aspect_buttons(p))


def where_text(p: Procedure) -> BotMessage:
    lines = [agency_text(p)]
    if p.receiving_agency:
        lines.append(f"Nơi tiếp nhận hồ sơ: {p.receiving_agency}.")
    lines.append(online_pitch(p))
    return BotMessage("\n".join(lines) + f"\n{source_line(p.source, p.checked_on)}", aspect_buttons(p))


ASPECT_RENDERERS = {
    "ask_documents": documents_text,
    "ask_fee": fee_text,
    "ask_processing_time": time_text,
    "ask_where_to_submit": where_text,
}


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
