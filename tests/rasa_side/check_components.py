"""Checks of the code the Rasa server imports, run with .venv-rasa's Python by
tests/unit/test_rasa_side.py (the Rasa environment has no pytest). Prints JSON."""

import asyncio
import json
import sys
import unicodedata

from bot.channels.portal import PortalOutput, quick_reply, split_parts
from bot.components.vietnamese_tokenizer import vietnamese_tokens


class FakeSio:
    def __init__(self) -> None:
        self.sent = []

    async def emit(self, event, data, room=None):
        self.sent.append({"event": event, "data": data, "room": room})


def tokens(text):
    return [{"text": t.text, "start": t.start, "end": t.end, "span": text[t.start:t.end]}
            for t in vietnamese_tokens(text)]


async def portal_messages():
    sio = FakeSio()
    out = PortalOutput(sio, "bot_uttered")
    await out.send_text_with_buttons("room-1", "Dòng một\nDòng hai\n\nĐoạn hai", [
        {"title": "Lệ phí", "payload": "/ask_fee"},
        {"title": "Nộp trực tuyến", "url": "https://dichvucong.gov.vn", "type": "web_url"},
    ])
    return sio.sent


def validation_patch():
    """The patched action-response validation against Rasa's own (jsonschema.validate)."""
    import jsonschema
    from rasa.core.actions.action import RemoteAction

    import bot.components  # noqa: F401  (applies bot.rasa_patches)

    spec = RemoteAction.action_response_format_spec()
    action = RemoteAction("action_x", None)
    good = {"events": [{"event": "slot", "name": "procedure_id", "value": "1.001193"}],
            "responses": [{"text": "Xin chào", "buttons": [{"title": "Lệ phí", "payload": "/ask_fee"}]}]}
    bad = [{"events": [{"event": "slot", "name": 3}], "responses": []},
           {"events": "not a list", "responses": []},
           {"events": [{"event": "no_such_event"}], "responses": []}]
    verdicts = []
    for case in [good, *bad]:
        try:
            jsonschema.validate(case, spec)
            reference = "ok"
        except jsonschema.ValidationError as exc:
            reference = exc.message
        try:
            action._validate_action_result(case)
            patched = "ok"
        except jsonschema.ValidationError as exc:
            patched = exc.message
        verdicts.append({"reference": reference, "patched": patched})
    calls = []
    original = jsonschema.validate
    jsonschema.validate = lambda *a, **k: calls.append(a)  # the patched path must not re-check the schema
    try:
        action._validate_action_result(good)
    finally:
        jsonschema.validate = original
    return {"marked": getattr(RemoteAction._validate_action_result, "_dvc_patched", False), "cases": verdicts,
            "validate_calls": len(calls)}


def main() -> None:
    report = {
        "accented": tokens("Làm lại CCCD ở đâu?"),
        "nfd": tokens(unicodedata.normalize("NFD", "Hoà khoẻ ko")),
        "code": tokens("hồ sơ G22.99.01-251120-0001"),
        "emoji_only": tokens("👍"),
        "quick_reply_url": quick_reply({"title": "Mở", "url": "https://dichvucong.gov.vn"}),
        "split": split_parts("a\nb\n\nc"),
        "portal": asyncio.run(portal_messages()),
        "validation_patch": validation_patch(),
    }
    json.dump(report, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
