"""The monthly report a province sends to the ministry, as xlsx or pdf, from ``figures``.

Both formats print the same sections (``sections``), so a number in the pdf is the number
in the spreadsheet and on the dashboard for the same period. The pdf uses DejaVu Sans
(Debian package fonts-dejavu-core), which has every Vietnamese letter.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Union

from knowledge.analytics.figures import CHANNEL_NAMES, LEVEL_NAMES, Figures, Period, figures
from knowledge.catalogue.loader import KnowledgeBase, load_knowledge_base
from knowledge.settings import Settings

Cell = Union[str, int, float]
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
FONT_BOLD = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
TITLE = "Báo cáo kết quả tuyên truyền, hướng dẫn sử dụng dịch vụ công trực tuyến (Quyết định 1588/QĐ-TTg)"
FORMATS = ("xlsx", "pdf")


class ReportError(RuntimeError):
    """The report cannot be written here (the font is missing); the message says what to install."""


@dataclass(frozen=True)
class Section:
    title: str
    header: tuple[str, ...]
    rows: list[tuple[Cell, ...]]


def report_figures(settings: Settings, period: Period, kb: KnowledgeBase | None = None) -> Figures:
    """The figures of ``period`` from the configured stores: what the dashboard shows for it."""
    return figures(period, events_db=settings.events_db, desk_db=settings.desk_db,
                   kb=kb if kb is not None else load_knowledge_base(settings.data_dir))


def _number(value: object) -> Cell:
    return "—" if value is None else value  # type: ignore[return-value]


def sections(f: Figures) -> list[Section]:
    """The report's tables, in the order the ministry reads them."""
    fb, ho = f.feedback, f.handovers
    summary: list[tuple[Cell, ...]] = [
        ("Kỳ báo cáo", f.period.label),
        ("Kênh", CHANNEL_NAMES.get(f.period.channel or "", "Tất cả các kênh")),
        ("Lượt trò chuyện", f.conversations),
        ("Số người dân được phục vụ", f.citizens),
        ("Số câu hỏi", f.messages),
        ("Trả lời không cần cán bộ (lượt trò chuyện)", f.answered_without_officer),
        ("Tỷ lệ chưa hiểu câu hỏi (%)", f.fallback_rate),
        ("Tỷ lệ chuyển cán bộ (%)", f.handover_rate),
        ("Đường dẫn dịch vụ công đã đưa", f.referrals_shown),
        ("Đường dẫn người dân đã mở", f.referrals_followed),
    ]
    return [
        Section("Tổng hợp", ("Chỉ tiêu", "Giá trị"), summary),
        Section("Theo kênh", ("Kênh", "Lượt trò chuyện", "Người dân"),
                [(CHANNEL_NAMES.get(c, c), n, p) for c, (n, p) in f.by_channel.items()]),
        Section("Câu hỏi theo mức độ dịch vụ công trực tuyến", ("Mức độ", "Số câu hỏi", "Tỷ lệ (%)"),
                [(LEVEL_NAMES[lv], n, f.level_share(lv)) for lv, n in f.levels.items()]),
        Section("Thủ tục được hỏi và đường dẫn trực tuyến",
                ("Thủ tục", "Mức độ", "Lượt hỏi", "Đường dẫn đã đưa", "Đường dẫn đã mở"),
                [(p.name, LEVEL_NAMES.get(p.level, p.level), p.asked, p.shown, p.followed) for p in f.procedures]),
        Section("Ý kiến người dân", ("Chỉ tiêu", "Giá trị"),
                [("Hữu ích", fb.up), ("Chưa đúng", fb.down), ("Số lượt chấm điểm", fb.ratings),
                 ("Điểm trung bình (1–5)", _number(fb.average_rating))]),
        Section("Chuyển cho cán bộ", ("Chỉ tiêu", "Giá trị"),
                [("Yêu cầu chuyển cán bộ", ho.total), ("Ngoài giờ hành chính", ho.outside_office_hours),
                 ("Đã có cán bộ nhận", ho.taken), ("Đã xử lý xong", ho.closed),
                 ("Thời gian chờ trung vị (phút)", _number(ho.median_wait_minutes))]),
        Section("Câu hỏi trợ lý chưa trả lời được", ("Câu hỏi (đã che thông tin cá nhân)", "Số lần"),
                [(q, n) for q, n in f.unanswered]),
    ]


def render(f: Figures, fmt: str) -> bytes:
    if fmt == "xlsx":
        return to_xlsx(f)
    if fmt == "pdf":
        return to_pdf(f)
    raise ValueError(f"unknown report format {fmt!r} (xlsx or pdf)")


def to_xlsx(f: Figures) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "Báo cáo"
    sheet.append([TITLE])
    sheet["A1"].font = Font(bold=True)
    for section in sections(f):
        sheet.append([])
        sheet.append([section.title])
        sheet.cell(sheet.max_row, 1).font = Font(bold=True)
        sheet.append(list(section.header))
        for row in section.rows or [("Không có",)]:
            sheet.append(list(row))
    sheet.column_dimensions["A"].width = 60
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def to_pdf(f: Figures) -> bytes:
    from fpdf import FPDF

    if not FONT.is_file() or not FONT_BOLD.is_file():
        raise ReportError(f"the pdf report needs {FONT} (apt-get install fonts-dejavu-core)")
    pdf = FPDF(orientation="portrait", format="A4")
    pdf.add_font("DejaVu", "", str(FONT))
    pdf.add_font("DejaVu", "B", str(FONT_BOLD))
    pdf.set_title(TITLE)
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 13)
    pdf.multi_cell(0, 7, TITLE)
    for section in sections(f):
        pdf.ln(3)
        pdf.set_font("DejaVu", "B", 11)
        pdf.multi_cell(0, 7, section.title)
        pdf.set_font("DejaVu", "", 9)
        with pdf.table(first_row_as_headings=True) as table:
            for line in [section.header, *(section.rows or [("Không có",) + ("",) * (len(section.header) - 1)])]:
                row = table.row()
                for value in line:
                    row.cell(str(value))
    return bytes(pdf.output())
