"""The outreach figures (knowledge/analytics): counted from Rasa's event broker and the desk, the same
numbers in the monthly report (xlsx and pdf read back), and the counting redirect that never opens to
an address outside the knowledge base."""

from __future__ import annotations

import datetime as dt
import io
import json
import sqlite3
from pathlib import Path

import httpx
import openpyxl
import pytest
from pypdf import PdfReader

from knowledge.analytics.clicks import ClickCounter
from knowledge.analytics.figures import ZONE, Period, figures
from knowledge.analytics.report import render, sections
from knowledge.api.app import create_app
from knowledge.api.deps import IndexHolder
from knowledge.catalogue.loader import load_knowledge_base
from knowledge.desk.store import DeskStore
from knowledge.service import LoadedIndex
from knowledge.settings import Settings


def stamp(day: int, hour: int = 10) -> float:
    return dt.datetime(2026, 11, day, hour, tzinfo=ZONE).timestamp()


def broker(path: Path, events: list[tuple[str, dict]]) -> Path:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255), data TEXT)")
        db.executemany("INSERT INTO events (sender_id, data) VALUES (?, ?)",
                       [(s, json.dumps(e, ensure_ascii=False)) for s, e in events])
    return path


EVENTS = [
    ("web:a", {"event": "user", "timestamp": stamp(3), "text": "làm giấy khai sinh", "input_channel": "socketio"}),
    ("web:a", {"event": "slot", "timestamp": stamp(3), "name": "procedure_id", "value": "1.001193"}),
    ("web:a", {"event": "user", "timestamp": stamp(3), "text": "abc xyz", "input_channel": "socketio"}),
    ("web:a", {"event": "action", "timestamp": stamp(3), "name": "action_default_fallback"}),
    ("fb:b", {"event": "user", "timestamp": stamp(4), "text": "gặp cán bộ", "input_channel": "facebook"}),
    ("fb:b", {"event": "action", "timestamp": stamp(4), "name": "action_handover"}),
    ("fb:b", {"event": "user", "timestamp": stamp(5), "text": "xin chào", "input_channel": "facebook"}),
    ("fb:c", {"event": "user", "timestamp": dt.datetime(2026, 12, 1, 9, tzinfo=ZONE).timestamp(), "text": "x",
              "input_channel": "facebook"}),  # another month
]


@pytest.fixture()
def stores(tmp_path: Path) -> tuple[Path, Path]:
    events = broker(tmp_path / "events.db", EVENTS)
    desk = tmp_path / "desk.db"
    DeskStore(desk)  # the desk's tables
    ClickCounter(desk).count("1.001193", "socketio", dt.date(2026, 11, 3))
    ClickCounter(desk).count("1.001193", "socketio", dt.date(2026, 12, 2))  # another month
    return events, desk


def test_the_figures_count_conversations_citizens_fallbacks_and_clicks(stores: tuple[Path, Path]) -> None:
    events, desk = stores
    f = figures(Period.month("2026-11"), events_db=events, desk_db=desk, kb=load_knowledge_base())
    assert (f.conversations, f.citizens, f.messages, f.fallbacks) == (3, 2, 4, 1)  # fb:b talked on two days
    assert f.handover_conversations == 1 and f.answered_without_officer == 2
    assert f.by_channel == {"facebook": (2, 1), "socketio": (1, 1)}
    assert f.unanswered == [("abc xyz", 1)] and f.referrals_followed == 1
    assert [(p.name, p.asked, p.followed) for p in f.procedures][:1] == [("Thủ tục đăng ký khai sinh", 1, 1)]
    only_fb = figures(Period.month("2026-11", "facebook"), events_db=events, desk_db=desk, kb=load_knowledge_base())
    assert (only_fb.conversations, only_fb.citizens, only_fb.fallbacks) == (2, 1, 0)


def test_the_report_holds_the_dashboard_s_numbers_in_xlsx_and_pdf(stores: tuple[Path, Path]) -> None:
    events, desk = stores
    f = figures(Period.month("2026-11"), events_db=events, desk_db=desk, kb=load_knowledge_base())
    sheet = openpyxl.load_workbook(io.BytesIO(render(f, "xlsx"))).active
    rows = {r[0]: r[1] for r in sheet.iter_rows(values_only=True) if r and r[0] and len(r) > 1}
    assert rows["Lượt trò chuyện"] == f.conversations == 3
    assert rows["Số người dân được phục vụ"] == f.citizens == 2
    assert rows["Đường dẫn người dân đã mở"] == 1
    summary = dict(sections(f)[0].rows)
    assert all(rows[k] == v for k, v in summary.items() if isinstance(v, (int, float)))  # "Kênh" is also a header
    pdf = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(render(f, "pdf"))).pages)
    text = " ".join(pdf.split())  # the extractor's spacing varies
    assert "Số người dân được phục vụ 2" in text and "Lượt trò chuyện 3" in text and "abc xyz 1" in text


async def test_the_redirect_counts_and_only_goes_to_the_knowledge_base_s_addresses(
        settings: Settings, loaded: LoadedIndex, tmp_path: Path) -> None:
    own = settings.model_copy(update={"desk_db": tmp_path / "desk.db"})
    app = create_app(own, holder=IndexHolder.serving(own, loaded))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://k") as client:
        reply = await client.get("/r/1.001193", params={"k": "facebook"})
        assert reply.status_code == 302
        assert reply.headers["location"] == loaded.kb.procedures["1.001193"].online.url
        for bad in ["/r/khong-co", "/r/1.001193%2F..%2F", "/r/https:%2F%2Fevil.example"]:
            refused = await client.get(bad)
            assert refused.status_code == 404 and "evil" not in refused.text
    today = dt.datetime.now(ZONE).date()
    assert ClickCounter(tmp_path / "desk.db").by_procedure(today, today, None) == {"1.001193": 1}
