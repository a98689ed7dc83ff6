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


def main() -> None:
    report = {
        "accented": tokens("Làm lại CCCD ở đâu?"),
        "nfd": tokens(unicodedata.normalize("NFD", "Hoà khoẻ ko")),
        "code": tokens("hồ sơ G22.99.01-251120-0001"),
        "emoji_only": tokens("👍"),
        "quick_reply_url": quick_reply({"title": "Mở", "url": "https://dichvucong.gov.vn"}),
        "split": split_parts("a\nb\n\nc"),
        "portal": asyncio.run(portal_messages()),
    }
    json.dump(report, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
