"""The live handover end to end, in Chromium: a conversation through the portal widget is handed
over, an officer takes it in the console and replies, the reply arrives in the citizen's widget,
and closing the case gives the conversation back to the assistant."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from knowledge.console.accounts import Accounts
from knowledge.console.db import ConsoleDB
from knowledge.console.handover import CLOSED_TEXT
from knowledge.desk import DeskStore
from scripts.stack import ROOT, Stack
from tests.e2e.rasa_api import tracker
from tests.e2e.test_portal import _browser_or_skip

pytestmark = pytest.mark.e2e
DRIVER = Path(__file__).resolve().parent / "console_handover.js"
OUTPUT = ROOT / "test-output" / "console-handover"
OFFICER, PASSWORD = "canbo.e2e", "mật-khẩu-cán-bộ-e2e"
REPLY = "Cán bộ canbo.e2e: Bạn mang theo căn cước bản gốc khi đến nộp hồ sơ nhé."


def test_officer_takes_replies_in_the_widget_and_hands_back(portal_stack: Stack) -> None:
    _browser_or_skip()
    OUTPUT.mkdir(parents=True, exist_ok=True)
    desk_db = portal_stack.config.tracker_db.parent / "desk.db"
    Accounts(ConsoleDB(desk_db)).create(OFFICER, PASSWORD, "officer")
    result = subprocess.run(["node", str(DRIVER), portal_stack.config.knowledge_url, str(OUTPUT), OFFICER, PASSWORD],
                            capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr + result.stdout
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["ok"] and not report["answeredWhilePaused"] and report["status"] == "Đã kết thúc (cán bộ canbo.e2e)"
    handover = DeskStore(desk_db).handover(report["ref"])
    assert handover is not None and handover.channel == "socketio" and handover.reason == "citizen_asked"
    assert handover.status == "closed" and handover.officer == OFFICER
    events = tracker(portal_stack, handover.sender_id)["events"]
    kinds = [e["event"] for e in events]
    assert kinds.count("pause") == 1 and kinds.index("pause") < kinds.index("resume")
    bots = [e.get("text") for e in events if e["event"] == "bot"]
    assert REPLY in bots and CLOSED_TEXT in bots
    officer_line = next(e for e in events if e["event"] == "bot" and e.get("text") == REPLY)
    assert officer_line["metadata"]["officer"] == OFFICER  # Rasa adds model_id and assistant_id
