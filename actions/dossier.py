"""Dossier status: a form asks for the dossier code, checks its shape, and the
one-stop system is asked through its adapter.

Where no one-stop system is configured (``ACTIONS_ONESTOP_URL`` unset) the form asks for
nothing and the citizen is told that lookup is not available here and where to do it (the
national portal's dossier tracking); a status is only ever one the system gave."""

from __future__ import annotations

import logging
from typing import Any, Optional

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.onestop_client import Dossier, OneStopClient, OneStopUnavailable, find_dossier_code

log = logging.getLogger(__name__)

BAD_CODE = ("Mã hồ sơ chưa đúng định dạng. Mã in trên phiếu hẹn trả kết quả hoặc tin nhắn/email xác nhận "
            "khi nộp hồ sơ, ví dụ G22.99.01-251120-0001. Bạn nhập lại mã, hoặc gõ \"thôi\" để dừng tra cứu.")
UNKNOWN = ("Không tìm thấy hồ sơ có mã {code}. Bạn kiểm tra lại mã trên phiếu hẹn; hồ sơ nộp ở tỉnh khác "
           "hoặc qua cổng khác cần tra cứu trên dichvucong.gov.vn.")
NOT_AVAILABLE = ("Trợ lý này chưa được kết nối với hệ thống một cửa của địa phương nên chưa tra cứu được "
                 "tình trạng hồ sơ. Bạn tra cứu trên Cổng Dịch vụ công quốc gia https://dichvucong.gov.vn (mục "
                 "Tra cứu hồ sơ) bằng mã hồ sơ in trên phiếu hẹn trả kết quả, hoặc hỏi bộ phận một cửa nơi bạn "
                 "đã nộp hồ sơ.")
DOWN = ("Xin lỗi, hệ thống một cửa đang tạm thời không tra cứu được. Bạn thử lại sau ít phút hoặc tra cứu "
        "trên dichvucong.gov.vn (mục Tra cứu hồ sơ) bằng mã hồ sơ.")


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


class ValidateDossierStatusForm(FormValidationAction):
    def __init__(self, client: Optional[OneStopClient] = None) -> None:
        self._client = client

    @property
    def client(self) -> OneStopClient:
        if self._client is None:
            self._client = OneStopClient()
        return self._client

    def name(self) -> str:
        return "validate_dossier_status_form"

    async def required_slots(self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> list[str]:
        # Nothing to ask for when there is no system to ask: action_dossier_status says where to look.
        return domain_slots if self.client.configured else []

    async def validate_dossier_code(self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                    domain: DomainDict) -> dict[str, Any]:
        code = find_dossier_code(str(slot_value or ""))
        if code is None:
            dispatcher.utter_message(text=BAD_CODE)
            return {"dossier_code": None}
        return {"dossier_code": code}


class ActionDossierStatus(Action):
    def __init__(self, client: Optional[OneStopClient] = None) -> None:
        self.client = client or OneStopClient()

    def name(self) -> str:
        return "action_dossier_status"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        if not self.client.configured:
            dispatcher.utter_message(text=NOT_AVAILABLE)
            return [SlotSet("dossier_code", None)]
        code = find_dossier_code(str(tracker.get_slot("dossier_code") or ""))
        if code is None:
            dispatcher.utter_message(text=BAD_CODE)
            return [SlotSet("dossier_code", None)]
        try:
            dossier = await self.client.dossier(code)
        except OneStopUnavailable:
            log.exception("one-stop system unavailable")
            dispatcher.utter_message(text=DOWN)
            return [SlotSet("dossier_code", None)]
        dispatcher.utter_message(text=status_text(dossier) if dossier else UNKNOWN.format(code=code))
        return [SlotSet("dossier_code", None)]
