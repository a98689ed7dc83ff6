"""Forms never trap: the dossier-status form and the handover contact form, turn by turn.

Each test builds the tracker the action server receives inside the form (active loop, the
requested slot, the events since the form started) and asserts the events and the exact words
the citizen sees. The rules that answer "another question" are checked against the intents the
validation actions let go (``FORM_LEAVE_INTENTS``); bot/tests/test_stories.yml runs the same
conversations through the trained policies."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any, Optional

import httpx
import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.events import ActionExecutionRejected, SlotSet, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from actions.dossier import ActionDossierStatus, ValidateDossierStatusForm
from actions.fallback import ActionDefaultFallback
from actions.handover import (
    LEAVE_INTENTS,
    ActionHandover,
    ActionSaveHandoverContact,
    ValidateHandoverContactForm,
    valid_contact,
)
from actions.knowledge_client import KnowledgeClient
from actions.messages import FORM_LEAVE_INTENTS, has_personal_number, is_stop, without_personal_numbers
from actions.onestop_client import OneStopClient, find_dossier_code
from actions.settings import ActionSettings
from bot.texts import (
    BAD_CODE,
    CONTACT_DECLINED,
    CONTACT_GAVE_UP,
    CONTACT_INVALID,
    DOSSIER_GAVE_UP,
    DOSSIER_NOT_PERSONAL,
    FORM_STOPPED,
)

ROOT = Path(__file__).resolve().parents[2]
DOSSIER = "dossier_status_form"
CONTACT = "handover_contact_form"
SETTINGS = ActionSettings(knowledge_url="http://knowledge", onestop_url="http://onestop", onestop_token="t",
                          desk_token="desk-token-of-the-form-tests")
HANOI = dt.timezone(dt.timedelta(hours=7))
DOMAIN: dict[str, Any] = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))


def tracker_in_form(form: str, requested: Optional[str], text: str, intent: str, slots: dict[str, Any] | None = None,
                    answers_before: int = 0, entities: list[dict[str, Any]] | None = None) -> Tracker:
    """The tracker while ``form`` asks for ``requested`` and the citizen answers ``text``: the form's
    activation, ``answers_before`` earlier answers, then this message (as the form's validation sees it)."""
    events: list[dict[str, Any]] = [{"event": "user", "text": "bắt đầu"}, {"event": "action", "name": form},
                                    {"event": "active_loop", "name": form}]
    for n in range(answers_before):
        events += [{"event": "user", "text": f"trả lời {n}"}, {"event": "action", "name": form}]
    message = {"text": text, "intent": {"name": intent}, "entities": entities or []}
    events.append({"event": "user", **message})
    all_slots = {"requested_slot": requested, **(slots or {})}
    active = {"name": form} if requested else {}
    return Tracker("citizen-f", all_slots, message, events, False, None, active, form)


def said(dispatcher: CollectingDispatcher) -> list[str]:
    return [m.get("text") or "" for m in dispatcher.messages]


def buttons(dispatcher: CollectingDispatcher) -> list[tuple[str, str]]:
    return [(b["title"], b["payload"]) for m in dispatcher.messages for b in (m.get("buttons") or [])]


def dossier_form() -> ValidateDossierStatusForm:
    return ValidateDossierStatusForm(OneStopClient(SETTINGS, transport=httpx.MockTransport(
        lambda r: httpx.Response(404))))


async def run_dossier(text: str, intent: str, answers_before: int = 0) -> tuple[list[Any], CollectingDispatcher]:
    dispatcher = CollectingDispatcher()
    tracker = tracker_in_form(DOSSIER, "dossier_code", text, intent, {"dossier_code": text} if intent != "deny"
                              else {}, answers_before)
    # As Rasa fills dossier_code from the text (from_text), the slot is "to validate" when set this turn.
    if intent != "deny":
        tracker.events.append({"event": "slot", "name": "dossier_code", "value": text})
    return await dossier_form().run(dispatcher, tracker, DOMAIN), dispatcher


LEFT_DOSSIER = [SlotSet("dossier_code", None), ActionExecutionRejected(DOSSIER)]


# -- numbers that are not dossier codes --------------------------------------------------------

def test_ids_phones_and_emails_are_never_dossier_codes() -> None:
    for text in ("079203001234", "0792******34", "cccd 079 203 001 234", "123456789", "0912345678",
                 "+84 912 345 678", "0912****78", "ten@gmail.com", "n***@gmail.com"):
        assert find_dossier_code(text) is None, text
        assert has_personal_number(text), text
    assert find_dossier_code("mã G22.99.01-251120-0001 nhé") == "G22.99.01-251120-0001"
    for text in ("G22.99.01-251120-0001", "1.001193", "lệ phí 150.000.000 đồng", "1588/QĐ-TTg"):
        assert not has_personal_number(text), text


def test_the_clause_giving_a_personal_number_is_not_part_of_the_question() -> None:
    # Matched whole, "cccd của tôi là …" pulls the answer towards the identity-card procedures.
    assert without_personal_numbers("tôi muốn đăng ký thường trú cho con, cccd của tôi là 0792******34") == \
        "tôi muốn đăng ký thường trú cho con"
    assert without_personal_numbers("làm hộ chiếu cần gì, sđt của tôi 0903****21") == "làm hộ chiếu cần gì"
    assert without_personal_numbers("xin lý lịch tư pháp, email n*********@gmail.com") == "xin lý lịch tư pháp"
    assert without_personal_numbers("làm lại cccd bị mất, số cccd cũ 079 203 001 234 thì sao") == \
        "làm lại cccd bị mất thì sao"
    assert without_personal_numbers("cấp lại cccd thế nào") == "cấp lại cccd thế nào"


async def test_a_procedure_question_with_a_cccd_leaves_the_dossier_form_silently() -> None:
    # What NLU reads: the CCCD is masked before parsing (bot/rasa_patches.py).
    events, dispatcher = await run_dossier("tôi muốn đăng ký thường trú cho con, cccd của tôi là 0792******34",
                                           "ask_procedure")
    assert events == LEFT_DOSSIER and said(dispatcher) == []


async def test_a_cccd_alone_is_told_apart_from_a_dossier_code() -> None:
    events, dispatcher = await run_dossier("0792******34", "nlu_fallback")
    assert said(dispatcher) == [DOSSIER_NOT_PERSONAL]
    assert DOSSIER_NOT_PERSONAL == ("Đây là số giấy tờ tùy thân hoặc số điện thoại, không phải mã hồ sơ (bạn không "
                                    "cần gửi số căn cước để tra cứu). Mã hồ sơ in trên phiếu hẹn trả kết quả, có dạng "
                                    "G22.99.01-251120-0001. Bạn nhập lại mã, hoặc gõ \"thôi\" để dừng.")
    assert events == [SlotSet("dossier_code", None)]


async def test_a_phone_number_in_the_dossier_form_is_not_a_code() -> None:
    events, dispatcher = await run_dossier("sđt của tôi 0912****78", "ask_dossier_status")
    assert said(dispatcher) == [DOSSIER_NOT_PERSONAL] and events == [SlotSet("dossier_code", None)]


@pytest.mark.parametrize(("text", "intent"), [("123", "feedback"), ("079203001234", "feedback"),
                                             ("mã hồ sơ là 12345", "nlu_fallback"), ("G22-1", "ask_fee")])
async def test_a_short_message_with_a_number_is_an_answer_whatever_nlu_said(text: str, intent: str) -> None:
    # NLU reads a bare number as a rating (feedback): inside the form it is an answer to the question.
    events, dispatcher = await run_dossier(text, intent)
    assert events == [SlotSet("dossier_code", None)]
    assert said(dispatcher) == [DOSSIER_NOT_PERSONAL if has_personal_number(text) else BAD_CODE]


async def test_a_phone_number_with_a_question_leaves_the_form() -> None:
    events, dispatcher = await run_dossier("lệ phí làm hộ chiếu bao nhiêu, sđt 0912****78", "ask_fee")
    assert events == LEFT_DOSSIER and said(dispatcher) == []


# -- leaving the dossier form mid-way -----------------------------------------------------------

@pytest.mark.parametrize(("text", "intent"), [
    ("làm giấy khai sinh online thế nào", "ask_procedure"),
    ("how do I register a birth online?", "nlu_fallback"),
    ("thời tiết hôm nay thế nào", "out_of_scope"),
    ("😀", "nlu_fallback"),
    ("xin chào", "greet"),
    ("trả lời chán quá, chẳng giúp được gì", "feedback"),
    ("đăng nhập bằng vneid thế nào", "ask_account"),
    ("cho tôi gặp cán bộ", "request_human"),
])
async def test_another_question_leaves_the_dossier_form(text: str, intent: str) -> None:
    events, dispatcher = await run_dossier(text, intent)
    assert events == LEFT_DOSSIER and said(dispatcher) == []


@pytest.mark.parametrize(("text", "intent"), [
    ("thôi", "goodbye"), ("hủy", "nlu_fallback"), ("huỷ", "nlu_fallback"), ("huy", "nlu_fallback"),
    ("quay lại", "nlu_fallback"), ("dừng", "nlu_fallback"), ("thoi", "goodbye"), ("khong", "nlu_fallback"),
    ("thôi không tra nữa", "ask_dossier_status"), ("Hủy tra cứu!", "ask_dossier_status")])
async def test_stop_words_end_the_dossier_form_whatever_nlu_said(text: str, intent: str) -> None:
    events, dispatcher = await run_dossier(text, intent)
    assert said(dispatcher) == ["Vâng, tôi đã dừng. Bạn cần hỏi thêm thủ tục nào không?"] == [FORM_STOPPED]
    assert events == [SlotSet("dossier_code", None), SlotSet("requested_slot", None)]


async def test_deny_is_left_to_the_stop_rule() -> None:
    # Nothing extracted (dossier_code's from_text excludes deny): Rasa rejects the form and the rule stops it.
    events, dispatcher = await run_dossier("thôi không cần", "deny")
    assert events == [] and said(dispatcher) == []


def test_stop_words_and_questions_that_only_start_like_one() -> None:
    for text in ("thôi", "không", "hủy", "huỷ", "quay lại", "dừng", "dừng lại", "thoi", "huy", "khong", "ko",
                 "thôi cảm ơn", "không có mã", "hủy bỏ nhé", "stop"):
        assert is_stop(text), text
    for text in ("đúng rồi", "dung roi", "hủy đăng ký thường trú cho con thế nào", "cảm ơn", "ok",
                 "không biết nộp hồ sơ khai sinh ở đâu", "G22.99.01-251120-0001"):
        assert not is_stop(text), text


# -- re-asking at most twice ----------------------------------------------------------------------

async def test_the_dossier_form_reasks_twice_then_offers_the_menu_and_an_officer() -> None:
    first, d1 = await run_dossier("G22-12345", "nlu_fallback", answers_before=0)
    second, d2 = await run_dossier("H22 0001", "ask_dossier_status", answers_before=1)
    assert said(d1) == [BAD_CODE] and said(d2) == [BAD_CODE]
    assert first == second == [SlotSet("dossier_code", None)]
    third, d3 = await run_dossier("abc 123", "nlu_fallback", answers_before=2)
    assert said(d3) == [DOSSIER_GAVE_UP] == [
        "Tôi vẫn chưa nhận ra mã hồ sơ nên dừng tra cứu ở đây. Bạn có thể tra cứu trên https://dichvucong.gov.vn "
        "(mục Tra cứu hồ sơ), hỏi thủ tục khác, hoặc gặp cán bộ hỗ trợ."]
    assert buttons(d3) == [("Hỏi thủ tục khác", "/greet"), ("Gặp cán bộ hỗ trợ", "/request_human")]
    assert third == [SlotSet("dossier_code", None), SlotSet("requested_slot", None)]


async def test_asking_for_the_lookup_again_inside_the_form_just_reasks() -> None:
    events, dispatcher = await run_dossier("tra cứu hồ sơ", "ask_dossier_status")
    assert events == [SlotSet("dossier_code", None)] and said(dispatcher) == []  # the form asks for the code


async def test_returning_to_the_form_starts_the_count_again() -> None:
    dispatcher = CollectingDispatcher()
    tracker = tracker_in_form(DOSSIER, "dossier_code", "G22-1", "nlu_fallback", {"dossier_code": "G22-1"}, 0)
    # An earlier run of the form with three answers, left; then "tra cứu hồ sơ" started it again.
    earlier = [{"event": "active_loop", "name": DOSSIER}, *[{"event": "user", "text": "x"}] * 3,
               {"event": "active_loop", "name": None}]
    tracker.events[:0] = earlier
    tracker.events.append({"event": "slot", "name": "dossier_code", "value": "G22-1"})
    assert await dossier_form().run(dispatcher, tracker, DOMAIN) == [SlotSet("dossier_code", None)]
    assert said(dispatcher) == [BAD_CODE]


async def test_a_valid_code_is_taken_whatever_the_intent() -> None:
    events, dispatcher = await run_dossier("G22.99.01-251120-0001", "ask_fee")
    assert events == [SlotSet("dossier_code", "G22.99.01-251120-0001")] and said(dispatcher) == []


async def test_the_status_action_is_silent_when_the_form_ended_without_a_code() -> None:
    dispatcher = CollectingDispatcher()
    client = OneStopClient(SETTINGS, transport=httpx.MockTransport(lambda r: httpx.Response(500)))
    tracker = Tracker("citizen-f", {"dossier_code": None}, {"text": "thôi", "intent": {"name": "goodbye"}}, [],
                      False, None, {}, DOSSIER)
    assert await ActionDossierStatus(client).run(dispatcher, tracker, DOMAIN) == [SlotSet("dossier_code", None)]
    assert said(dispatcher) == []


# -- the handover contact form ---------------------------------------------------------------------

async def run_contact(text: str, intent: str, requested: str = "contact_consent", answers_before: int = 0,
                      slots: dict[str, Any] | None = None) -> tuple[list[Any], CollectingDispatcher]:
    dispatcher = CollectingDispatcher()
    tracker = tracker_in_form(CONTACT, requested, text, intent, slots, answers_before)
    if requested in (slots or {}):  # filled from this message (from_text); earlier answers are older events
        tracker.events.append({"event": "slot", "name": requested, "value": (slots or {})[requested]})
    return await ValidateHandoverContactForm().run(dispatcher, tracker, DOMAIN), dispatcher


LEFT_CONTACT = [SlotSet("contact_consent", None), SlotSet("contact", None), SlotSet("handover_after_hours", None),
                ActionExecutionRejected(CONTACT)]


@pytest.mark.parametrize(("text", "intent"), [
    ("làm giấy khai sinh online thế nào", "ask_procedure"),
    ("các anh làm việc chậm quá, tôi muốn phàn nàn", "feedback"),
    ("tra cứu hồ sơ", "ask_dossier_status"),
    ("để làm gì vậy", "nlu_fallback"),
])
async def test_another_question_at_the_consent_question_ends_it(text: str, intent: str) -> None:
    events, dispatcher = await run_contact(text, intent)
    assert events == LEFT_CONTACT and said(dispatcher) == []


async def test_another_question_when_asked_for_the_number_ends_the_form_and_forgets_the_consent() -> None:
    events, dispatcher = await run_contact("nộp hồ sơ kết hôn ở đâu", "ask_where_to_submit", requested="contact",
                                           answers_before=1, slots={"contact_consent": True})
    assert events == LEFT_CONTACT and said(dispatcher) == []


@pytest.mark.parametrize(("text", "intent", "requested"), [
    ("thôi", "goodbye", "contact_consent"), ("hủy", "nlu_fallback", "contact_consent"),
    ("quay lại", "nlu_fallback", "contact"), ("thoi", "goodbye", "contact")])
async def test_stop_words_decline_the_contact(text: str, intent: str, requested: str) -> None:
    events, dispatcher = await run_contact(text, intent, requested, slots={"contact_consent": True}
                                           if requested == "contact" else None)
    assert events == [SlotSet("contact_consent", False), SlotSet("contact", None), SlotSet("requested_slot", None)]
    assert said(dispatcher) == []  # action_save_handover_contact says it (CONTACT_DECLINED)


async def test_a_number_written_in_a_sentence_is_the_contact() -> None:
    assert valid_contact("số của tôi là 0912 345 678 nhé") == "0912 345 678"
    assert valid_contact("email: ten.ho@gmail.com ạ") == "ten.ho@gmail.com"
    assert valid_contact("+84912345678") == "+84912345678"
    assert valid_contact("abc") is None and valid_contact("079203001234 là cccd") is None
    events, dispatcher = await run_contact("số của tôi là 0912 345 678 nhé", "ask_fee", "contact", 1,
                                           {"contact_consent": True, "contact": "số của tôi là 0912 345 678 nhé"})
    assert SlotSet("contact", "0912 345 678") in events and said(dispatcher) == []


async def test_a_number_typed_at_the_consent_question_is_a_yes_and_the_number_is_asked_for() -> None:
    # Masked (consent was not given yet), so it cannot be kept: the form asks for it next.
    events, dispatcher = await run_contact("0912****78", "feedback")
    assert events == [SlotSet("contact_consent", True)] and said(dispatcher) == []


async def test_a_bare_number_when_asked_for_the_contact_is_reasked_not_left() -> None:
    events, dispatcher = await run_contact("09", "feedback", "contact", 1, {"contact_consent": True, "contact": "09"})
    assert events == [SlotSet("contact", None)] and said(dispatcher) == [CONTACT_INVALID]


async def test_the_contact_is_reasked_twice_then_the_form_ends() -> None:
    slots = {"contact_consent": True, "contact": "09"}
    _, d1 = await run_contact("09", "nlu_fallback", "contact", 1, slots)
    _, d2 = await run_contact("09", "nlu_fallback", "contact", 2, slots)
    assert said(d1) == said(d2) == [CONTACT_INVALID]
    events, d3 = await run_contact("09", "nlu_fallback", "contact", 3, slots)
    assert said(d3) == [CONTACT_GAVE_UP] and buttons(d3) == [("Hỏi thủ tục khác", "/greet")]
    assert SlotSet("requested_slot", None) in events and SlotSet("contact_consent", None) in events


def desk(requests: list[dict[str, Any]]) -> KnowledgeClient:
    def handler(request: httpx.Request) -> httpx.Response:
        requests.append({"path": request.url.path, **json.loads(request.read())})
        return httpx.Response(200, json={"ok": True})
    return KnowledgeClient(SETTINGS, transport=httpx.MockTransport(handler))


def saved_tracker(slots: dict[str, Any]) -> Tracker:
    return Tracker("citizen-f", {"handover_id": "HT-ABCDEFGH", **slots}, {"text": "x", "intent": {"name": "deny"}},
                   [], False, None, {}, CONTACT)


async def test_declining_is_recorded_and_said_once() -> None:
    requests: list[dict[str, Any]] = []
    dispatcher = CollectingDispatcher()
    events = await ActionSaveHandoverContact(desk(requests)).run(dispatcher, saved_tracker(
        {"contact_consent": False}), DOMAIN)
    assert said(dispatcher) == [CONTACT_DECLINED] == [
        "Vâng, tôi không lưu thông tin liên hệ của bạn. Bạn có thể quay lại trong giờ làm việc hoặc hỏi tôi về thủ "
        "tục khác."]
    assert requests == [{"path": "/desk/handovers/HT-ABCDEFGH/contact", "sender_id": "citizen-f", "consent": False,
                         "contact": None}]
    assert events == [SlotSet("contact", None), SlotSet("contact_consent", None),
                      SlotSet("handover_after_hours", None)]


async def test_no_to_the_number_after_yes_withdraws_the_consent() -> None:
    requests: list[dict[str, Any]] = []
    dispatcher = CollectingDispatcher()
    await ActionSaveHandoverContact(desk(requests)).run(dispatcher, saved_tracker({"contact_consent": True}), DOMAIN)
    assert said(dispatcher) == [CONTACT_DECLINED] and [r["consent"] for r in requests] == [False]


async def test_a_given_up_contact_form_saves_nothing_and_says_nothing_more() -> None:
    requests: list[dict[str, Any]] = []
    dispatcher = CollectingDispatcher()
    events = await ActionSaveHandoverContact(desk(requests)).run(dispatcher, saved_tracker(
        {"contact_consent": None}), DOMAIN)
    assert requests == [] and said(dispatcher) == [] and SlotSet("contact_consent", None) in events


async def test_after_hours_the_rules_start_the_contact_form_once() -> None:
    requests: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append({"path": request.url.path})
        return httpx.Response(200, json={"ref": "HT-ABCDEFGH"})

    client = KnowledgeClient(SETTINGS, transport=httpx.MockTransport(handler))
    tracker = Tracker("citizen-f", {}, {"text": "tôi muốn gặp cán bộ", "intent": {"name": "request_human"}}, [],
                      False, None, {}, "action_listen")
    for hour, after in ((21, True), (9, False)):
        dispatcher = CollectingDispatcher()
        action = ActionHandover(client, clock=lambda h=hour: dt.datetime(2026, 11, 23, h, 0, tzinfo=HANOI))
        events = await action.run(dispatcher, tracker, DOMAIN)
        assert events[-1] == SlotSet("handover_after_hours", after)
        assert all(e.get("event") != "followup" for e in events)
        assert not any("đồng ý" in t for t in said(dispatcher))  # the consent question is the form's, asked once


# -- the fallback that answers a message which left a form -------------------------------------------

async def test_the_fallback_keeps_the_message_that_closed_a_form() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"results": []})

    client = KnowledgeClient(SETTINGS, transport=httpx.MockTransport(handler))
    left = [{"event": "user", "text": "😀"}, {"event": "action", "name": "action_deactivate_loop"},
            {"event": "active_loop", "name": None}, {"event": "slot", "name": "requested_slot", "value": None}]
    for events, reverted in ((left, False), (left[:1], True)):
        dispatcher = CollectingDispatcher()
        tracker = Tracker("citizen-f", {}, {"text": "😀", "intent": {"name": "nlu_fallback"}}, events, False, None,
                          {}, "action_deactivate_loop")
        result = await ActionDefaultFallback(client).run(dispatcher, tracker, DOMAIN)
        assert (result == [UserUtteranceReverted()]) is reverted
        assert said(dispatcher)[0].startswith("Xin lỗi, tôi chưa hiểu câu hỏi")


# -- the rules answer every intent the forms let go ---------------------------------------------------

def leaving_intents(form: str) -> set[str]:
    """Intents for which a rule with ``condition: active_loop: form`` closes the form, then answers."""
    found: set[str] = set()
    for path in sorted((ROOT / "bot" / "data" / "rules").glob("*.yml")):
        for rule in yaml.safe_load(path.read_text(encoding="utf-8")).get("rules") or []:
            if {"active_loop": form} not in (rule.get("condition") or []):
                continue
            steps = rule.get("steps") or []
            if {"action": "action_deactivate_loop"} not in steps:
                continue
            first = steps[0]
            intents = [s["intent"] for s in first.get("or", [first]) if "intent" in s]
            answer = [s["action"] for s in steps[steps.index({"action": "action_deactivate_loop"}) + 1:]
                      if "action" in s]
            assert answer, rule["rule"]
            found.update(intents)
    return found


def test_every_intent_that_leaves_a_form_has_a_rule_that_answers_it() -> None:
    assert leaving_intents(DOSSIER) == FORM_LEAVE_INTENTS | {"deny", "nlu_fallback"}
    assert leaving_intents(CONTACT) >= LEAVE_INTENTS | {"deny", "nlu_fallback"}
    domain_intents = set(DOMAIN["intents"])
    assert FORM_LEAVE_INTENTS <= domain_intents
    # Every intent is either let go by the dossier form or a (re-asked) answer to its question.
    assert domain_intents - FORM_LEAVE_INTENTS == {"ask_dossier_status", "affirm", "deny"}
