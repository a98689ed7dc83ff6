"""Every message of the test stories, sent in order through the real stack (one conversation per
story): no answer may show an internal name (a file name, a path, "của dự án", "bản ghi"), a
Python "None" or a traceback, and every message gets an answer (issue 11, item 7).

The stories (bot/tests/test_stories.yml) check which actions the dialogue predicts; this test checks
what the citizen reads when those actions really run against the knowledge service."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from scripts.stack import Stack
from tests.e2e.test_stack import say

pytestmark = pytest.mark.e2e
STORIES = Path(__file__).resolve().parents[2] / "bot" / "tests" / "test_stories.yml"

# What must never reach a citizen. URLs are allowed (dichvucong.gov.vn/thu-tuc-…): a path is a run of
# "/dir/" not preceded by a host, a dot-dot, or a home-made folder name.
LEAKS = {
    "file name": re.compile(r"\b[\w-]+\.(?:ya?ml|json|txt|py|md|csv|db|sqlite|log|jsonl|pkl|faiss)\b", re.I),
    "path": re.compile(r"(?<![\w.:/-])(?:\.\.|~)?/(?:[\w.-]+/)+[\w.-]*|\.\./|\b(?:shared|corpus|knowledge)/\w"),
    "project wording": re.compile(r"của dự án|bản ghi", re.I),
    "None": re.compile(r"\bNone\b|\bnull\b"),
    "traceback": re.compile(r"Traceback|Exception|Error:|File \"|line \d+, in "),
    "template": re.compile(r"\{[a-z_]+\}"),
}


def story_messages() -> list[tuple[str, list[str]]]:
    """(story name, the citizen's messages in order) for every story with at least one message."""
    data: dict[str, Any] = yaml.safe_load(STORIES.read_text(encoding="utf-8"))
    stories = []
    for story in data.get("stories") or []:
        texts = [str(step["user"]).strip() for step in story.get("steps") or [] if "user" in step]
        if texts:
            stories.append((str(story["story"]), texts))
    return stories


def leaks(text: str) -> list[str]:
    return [f"{name}: {m.group(0)!r}" for name, pattern in LEAKS.items() if (m := pattern.search(text))]


def test_the_checks_catch_what_they_are_for() -> None:
    assert leaks("Dẫn theo Văn bản gốc: binhdinh-1239.txt (../shared/corpus/directives)")
    assert leaks("Chưa có bản ghi trong dữ liệu Cổng DVCQG của dự án")
    assert leaks("Lệ phí: None") and leaks('Traceback (most recent call last):\n  File "x", line 3, in f')
    assert not leaks("Nộp trực tuyến tại: https://dichvucong.gov.vn/thu-tuc-hanh-chinh/019d2bf7-bda8 (đối chiếu "
                     "ngày 23/11/2026). Nguồn: Nghị định 118/2025/NĐ-CP, Điều 12; 1/7/2025.")


def test_every_story_message_gets_an_answer_without_internal_names(stack: Stack) -> None:
    stories = story_messages()
    assert len(stories) >= 40 and sum(len(t) for _, t in stories) >= 100  # the stories are really read
    problems, sent = [], 0
    for name, texts in stories:
        sender = f"replay-{uuid.uuid4().hex[:12]}"
        for text in texts:
            answer = say(stack, text, sender)
            sent += 1
            if not answer.strip():
                problems.append(f"{name} / {text!r}: no answer")
            problems += [f"{name} / {text!r}: {leak}" for leak in leaks(answer)]
    assert sent >= 100
    assert problems == []
