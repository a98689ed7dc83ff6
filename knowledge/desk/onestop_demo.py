"""A demo one-stop system (Hệ thống thông tin giải quyết TTHC) with sample dossiers.

It stands in for a province's real system so that `make run` and the tests can look
up dossier status end to end. The action server reaches it through the same HTTP
adapter it would use for the real one (base URL + token are settings).

Its answers say they are demo data (``note`` starts with ``DEMO_NOTE``, ``demo`` is true), so a
citizen who meets one by mistake is never led to take it for their dossier. It is mounted only
when ``KNOWLEDGE_DEMO_ONESTOP`` is on, which production refuses (knowledge/settings.py).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, Optional

SAMPLES: list[dict[str, str]] = [
    {"code": "G22.99.01-251120-0001", "procedure": "Thủ tục đăng ký khai sinh", "status": "Đã có kết quả",
     "received_at": "2025-11-20", "due_at": "2025-11-21", "agency": "UBND phường Quy Nhơn",
     "note": "Kết quả đã gửi bản điện tử vào tài khoản của người nộp."},
    {"code": "G22.99.01-251118-0007", "procedure": "Đăng ký thường trú", "status": "Đang xử lý",
     "received_at": "2025-11-18", "due_at": "2025-11-25", "agency": "Công an phường Quy Nhơn Nam", "note": ""},
    {"code": "G22.99.02-251110-0003", "procedure": "Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam",
     "status": "Chờ bổ sung hồ sơ", "received_at": "2025-11-10", "due_at": "2025-11-20",
     "agency": "Sở Tư pháp", "note": "Cần bổ sung ảnh chụp rõ nét của giấy tờ tùy thân."},
    {"code": "H12.34-250101-0005", "procedure": "Đổi giấy phép lái xe", "status": "Đã trả kết quả",
     "received_at": "2025-01-01", "due_at": "2025-01-06", "agency": "Phòng Cảnh sát giao thông Công an tỉnh",
     "note": "Đã gửi qua bưu chính."},
    {"code": "000.00.12.H12-251023-0001", "procedure": "Đăng ký kết hôn", "status": "Đã tiếp nhận",
     "received_at": "2025-10-23", "due_at": "2025-10-24", "agency": "UBND xã An Nhơn", "note": ""},
]


DEMO_NOTE = "Dữ liệu minh họa của hệ thống một cửa mẫu, không phải hồ sơ thật."


class DemoOneStop:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(self.path) as db:
            db.execute("CREATE TABLE IF NOT EXISTS dossier (code TEXT PRIMARY KEY, procedure TEXT, status TEXT,"
                       " received_at TEXT, due_at TEXT, agency TEXT, note TEXT)")
            db.executemany("INSERT OR IGNORE INTO dossier VALUES (:code, :procedure, :status, :received_at,"
                           " :due_at, :agency, :note)", SAMPLES)

    def get(self, code: str) -> Optional[dict[str, Any]]:
        with sqlite3.connect(self.path) as db:
            db.row_factory = sqlite3.Row
            row = db.execute("SELECT * FROM dossier WHERE upper(code) = upper(?)", (code.strip(),)).fetchone()
        if not row:
            return None
        found = dict(row)
        found["note"] = f"{DEMO_NOTE} {found.get('note') or ''}".strip()
        found["demo"] = True
        return found
