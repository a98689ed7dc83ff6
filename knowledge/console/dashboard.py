"""The outreach dashboard, the monthly report's download and the knowledge upkeep page.

    /dashboard              officers and administrators: the figures of a period (filters: dates, channel)
    /dashboard/report       the monthly report (xlsx or pdf) — the same ``figures`` as the page
    /admin/upkeep           administrators: index version, record counts, each source's last check
    /admin/upkeep/reindex   POST (CSRF): rebuild the index; the service swaps to it atomically

Charts are drawn on the server as SVG bars (the console runs no script, CSP ``default-src
'self'``), each followed by its data table, which is the chart's text alternative.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Optional

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from knowledge.analytics.figures import CHANNEL_NAMES, LEVEL_NAMES, TOP, ZONE, Figures, Period, PeriodError, figures
from knowledge.analytics.report import ReportError, render
from knowledge.catalogue.loader import KnowledgeBase, load_knowledge_base
from knowledge.catalogue.models import Directive, Guide, Procedure
from knowledge.console.app import AdminDep, OfficerDep, checked_form, console, error_page, page, redirect
from knowledge.index import IndexStore
from knowledge.settings import Settings

log = logging.getLogger(__name__)
router = APIRouter()
MEDIA = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "pdf": "application/pdf"}
REINDEXED = "Đã xây dựng lại chỉ mục; dịch vụ đã chuyển sang phiên bản mới."
REINDEX_FAILED = "Chưa xây dựng lại được chỉ mục (dữ liệu có lỗi); chỉ mục cũ vẫn đang được dùng."


def _rebuild(settings: Settings, kb: KnowledgeBase) -> None:
    from knowledge.service import rebuild

    rebuild(settings, kb)


@dataclass
class Analytics:
    """What the pages read: the settings, the knowledge base (loaded once, again after a reindex)."""

    settings: Settings
    rebuild: Callable[[Settings, KnowledgeBase], None] = _rebuild
    _kb: Optional[KnowledgeBase] = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def kb(self, reload: bool = False) -> KnowledgeBase:
        with self._lock:
            if self._kb is None or reload:
                self._kb = load_knowledge_base(self.settings.data_dir)
            return self._kb

    def figures(self, period: Period) -> Figures:
        return figures(period, events_db=self.settings.events_db, desk_db=self.settings.desk_db, kb=self.kb())


def install(app: FastAPI, settings: Settings, rebuild: Callable[[Settings, KnowledgeBase], None] = _rebuild) -> None:
    """Add the pages to the console ``app``; ``rebuild`` is for tests."""
    app.state.analytics = Analytics(settings, rebuild)
    app.include_router(router)


def analytics(request: Request) -> Analytics:
    value: Analytics = request.app.state.analytics
    return value


def today(request: Request) -> dt.date:
    return console(request).clock().astimezone(ZONE).date()


def bars(rows: list[tuple[str, float]]) -> list[dict[str, Any]]:
    """Label, value and bar width (percent of the largest) for an SVG bar chart."""
    top = max((v for _, v in rows), default=0) or 1
    return [{"label": label, "value": value, "width": round(90 * value / top, 1), "y": 24 * i}
            for i, (label, value) in enumerate(rows)]


@router.get("/dashboard", response_class=HTMLResponse, name="dashboard")
def dashboard(request: Request, session: OfficerDep, start: str = "", end: str = "", channel: str = "") -> Response:
    try:
        period = Period.parse(start, end, channel, today(request))
    except PeriodError as exc:
        return page(request, "dashboard.html", {"error": str(exc), "f": None, "start": start[:10], "end": end[:10],
                                                "channel": "", "channels": CHANNEL_NAMES}, 400, session=session)
    f = analytics(request).figures(period)
    per_day: dict[str, int] = {}
    for row in f.days:
        per_day[row.day.isoformat()] = per_day.get(row.day.isoformat(), 0) + row.conversations
    return page(request, "dashboard.html", {
        "f": f, "start": period.start.isoformat(), "end": period.end.isoformat(), "channel": period.channel or "",
        "month": period.end.strftime("%Y-%m"), "channels": CHANNEL_NAMES, "levels": LEVEL_NAMES,
        "top": f.procedures[:TOP], "day_bars": bars(list(per_day.items())),
        "level_bars": bars([(LEVEL_NAMES[lv], f.level_share(lv)) for lv in f.levels]), "error": "",
    }, session=session)


@router.get("/dashboard/report", name="report")
def report(request: Request, session: OfficerDep, month: str = "", format: str = "xlsx",
           channel: str = "") -> Response:
    if format not in MEDIA:
        return error_page(request, 400, "Yêu cầu không hợp lệ", "Định dạng báo cáo phải là xlsx hoặc pdf.")
    try:
        period = Period.month(month, None)
        period = Period.parse(period.start.isoformat(), period.end.isoformat(), channel, period.end)
        data = render(analytics(request).figures(period), format)
    except PeriodError as exc:
        return error_page(request, 400, "Yêu cầu không hợp lệ", str(exc))
    except ReportError:
        log.exception("console: the pdf report cannot be written")
        return error_page(request, 503, "Chưa tạo được báo cáo", "Máy chủ thiếu phông chữ; vui lòng báo quản trị.")
    name = f"bao-cao-{month}{'-' + channel if channel else ''}.{format}"
    return Response(data, media_type=MEDIA[format], headers={"content-disposition": f'attachment; filename="{name}"'})


def upkeep_context(a: Analytics) -> dict[str, Any]:
    kb = a.kb()
    store = IndexStore(a.settings.index_dir)
    version = store.current_version()
    meta = store.read_meta(version) if version else {}
    checked: dict[str, dt.date] = {}
    records: list[Procedure | Guide | Directive] = [*kb.procedures.values(), *kb.guides.values(),
                                                   *kb.directives.values()]
    for record in records:
        checked[record.source] = min(checked.get(record.source, record.checked_on), record.checked_on)
    return {"version": version.name if version else "", "built": meta.get("created", ""),
            "chunks": meta.get("chunks", 0), "counts": {"Thủ tục": len(kb.procedures), "Hướng dẫn": len(kb.guides),
                                                         "Văn bản chỉ đạo": len(kb.directives)},
            "sources": sorted(checked.items(), key=lambda item: (item[1], item[0]))}


@router.get("/admin/upkeep", response_class=HTMLResponse, name="upkeep")
def upkeep(request: Request, session: AdminDep, done: str = "") -> Response:
    notice = REINDEXED if done == "1" else ""
    return page(request, "upkeep.html", {**upkeep_context(analytics(request)), "notice": notice, "error": ""},
                session=session)


@router.post("/admin/upkeep/reindex", response_class=HTMLResponse)
async def reindex(request: Request, session: AdminDep) -> Response:
    await checked_form(request, session)
    a = analytics(request)
    try:
        kb = await run_in_threadpool(a.kb, True)
        await run_in_threadpool(a.rebuild, a.settings, kb)
    except Exception:  # the data or the build failed: the old index keeps serving; the log has the cause
        log.exception("console: reindex failed")
        return page(request, "upkeep.html", {**upkeep_context(a), "notice": "", "error": REINDEX_FAILED}, 500,
                    session=session)
    log.info("console: index rebuilt by account %d", session.account.id)
    return redirect(request, "/admin/upkeep?done=1")
