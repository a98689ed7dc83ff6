"""Parsers and helpers shared by the catalogue importers.

The National Public Service Portal records (``dvcqg``) keep their tables as text whose
cells are run together without separators. The parsers below cut them back into cells
with anchors that the portal always prints (channel names, quantity markers, document
numbers) and never guess a value that is not in the text: what they cannot find stays
empty and the importer reports it as a warning.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Optional
from urllib.parse import urlsplit

import yaml
from pydantic import ValidationError

from knowledge.catalogue.loader import DEFAULT_DATA_DIR
from knowledge.catalogue.models import (
    Channel,
    ChannelKind,
    LegalRef,
    OnlineService,
    OnlineType,
    Procedure,
    audience_of,
)
from knowledge.errors import KnowledgeBaseError
from knowledge.text.links import safe_link

NO_INFO = "Không có thông tin"
NOTE_LIMIT = 500
FEE_LIMIT = 500
REPORT_NAME = "import-report.json"

# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class ImportFailure:
    """One record that was dropped (failure) or imported with something missing (warning).

    ``reason`` reads ``"<kind>: <detail>"``; ``kind`` is what the report counts by.
    """

    file: str
    code: Optional[str]
    reason: str

    @property
    def kind(self) -> str:
        return self.reason.split(":", 1)[0].strip()

    def as_dict(self) -> dict[str, Optional[str]]:
        return {"file": self.file, "code": self.code, "reason": self.reason}


@dataclass(frozen=True)
class ImportResult:
    """What one importer made of one source folder."""

    procedures: list[Procedure]
    failures: list[ImportFailure]
    warnings: list[ImportFailure]
    source: str = ""
    folder: str = ""
    files: int = 0
    groups: dict[str, str] = field(default_factory=dict)  # procedure id -> output file stem

    @property
    def accounted(self) -> int:
        return len(self.procedures) + len(self.failures)


RecordConverter = Callable[[dict[str, Any], dt.date], tuple[Procedure, list[str]]]


def import_files(files: list[Path], folder: Path, source: str, convert: RecordConverter, checked_on: dt.date,
                 group_of: Callable[[Path], str], code_key: Optional[str] = None) -> ImportResult:
    """Convert every JSON file; a bad record becomes a failure (with its reason), never an exception."""
    procedures: list[Procedure] = []
    failures: list[ImportFailure] = []
    warnings: list[ImportFailure] = []
    groups: dict[str, str] = {}
    seen: set[str] = set()
    for path in files:
        rel = f"{folder.name}/{path.relative_to(folder).as_posix()}"
        code: Optional[str] = path.stem
        try:
            rec = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(rec, dict):
                raise ValueError("bad shape: not a JSON object")
            if code_key:
                code = clean(rec.get(code_key)) or code
            proc, notes = convert(rec, checked_on)
        except json.JSONDecodeError as exc:
            failures.append(ImportFailure(rel, code, f"invalid JSON: {exc.msg} (line {exc.lineno})"))
            continue
        except Exception as exc:  # one bad record must not stop the import
            failures.append(ImportFailure(rel, code, failure_reason(exc)))
            continue
        if proc.id in seen:
            failures.append(ImportFailure(rel, proc.id, f"duplicate id: {proc.id} appears twice in {source}, "
                                                        "second copy dropped"))
            continue
        seen.add(proc.id)
        procedures.append(proc)
        groups[proc.id] = group_of(path)
        warnings.extend(ImportFailure(rel, proc.id, note) for note in notes)
    return ImportResult(procedures=procedures, failures=failures, warnings=warnings, source=source,
                        folder=str(folder), files=len(files), groups=groups)


# --------------------------------------------------------------------------- text helpers

_WS = re.compile(r"\s+")


def clean(value: Any) -> Optional[str]:
    """Whitespace collapsed; ``None`` for empty values and the portal's "no information"."""
    if value is None:
        return None
    text = _WS.sub(" ", str(value)).strip()
    if not text or text.casefold() == NO_INFO.casefold():
        return None
    return text


LINK_DROPPED = "link dropped"
LINK_UPGRADED = "link upgraded"


def import_link(value: Any, field_name: str) -> tuple[Optional[str], list[str]]:
    """A source link as the knowledge base takes it, and the warnings about it.

    ``http://`` becomes ``https://`` only for hosts under ``.gov.vn`` (the state portals all
    serve https); any other link that ``safe_link`` refuses is dropped and reported, never kept.
    """
    url = clean(value)
    if url is None:
        return None, []
    notes: list[str] = []
    if url[:7].lower() == "http://":
        host = (urlsplit_host(url) or "").lower().rstrip(".")
        if host == "gov.vn" or host.endswith(".gov.vn"):
            url = "https://" + url[7:]
            notes.append(f"{LINK_UPGRADED}: {field_name} http:// → https:// ({host})")
    link = safe_link(url)
    if link is None:
        return None, [f"{LINK_DROPPED}: {field_name} is not an https:// link ({url[:80]!r})"]
    return link, notes


def urlsplit_host(url: str) -> Optional[str]:
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None


def clip(text: str, limit: int = NOTE_LIMIT) -> str:
    """Cut ``text`` at a word boundary to at most ``limit`` characters, marking the cut."""
    text = _WS.sub(" ", text).strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:") + "…"


# --------------------------------------------------------------------------- channels

CHANNEL_HEADER = "Hình thức nộpThời gianPhí, lệ phíMô tả"
KIND_OF: dict[str, ChannelKind] = {
    "trực tuyến": "truc_tuyen",
    "trực tiếp": "truc_tiep",
    "dịch vụ bưu chính": "buu_chinh",
    "bưu chính": "buu_chinh",
    "qua bưu chính": "buu_chinh",
}

_ANCHOR = re.compile(r"Dịch vụ bưu chính|Bưu chính|Trực tuyến|Trực tiếp")
_TIME_UNIT = r"Ngày làm việc|Ngày|Giờ làm việc|Giờ|Tháng|Năm|Tuần|Phút"
_TIME = re.compile(rf"\s*(?:(?P<num>\d+(?:[.,]\d+)?)(?:\s*(?P<unit>{_TIME_UNIT}))?|(?P<none>{NO_INFO}))")
_CURRENCY = r"Việt Nam Đồng|VNĐ|Đồng|đồng|USD"
_FEE_BODY = rf"Miễn phí|{NO_INFO}|(?:(?:Lệ phí|Phí)\s*:\s*)?(?P<amount>\d[\d.,]*)?\s*(?:{_CURRENCY})"
_FEE = re.compile(rf"\s*(?P<fee>{_FEE_BODY})")
# Looser search used only to find where a free-text time cell ends (the fee must have an amount
# or be one of the fixed words, so that "đồng" inside a sentence does not end the cell).
_FEE_SEARCH = re.compile(rf"Miễn phí|{NO_INFO}|(?:(?:Lệ phí|Phí)\s*:\s*)?\d[\d.,]*\s*(?:{_CURRENCY})")


# "(1) Trường hợp …", "(a) …": a numbered description, not a fee detail.
_ENUMERATOR = re.compile(r"\((?:\d{1,2}|[a-zđ]|[ivx]{1,4})\)")


def channel_kind(name: str) -> Optional[ChannelKind]:
    return KIND_OF.get(_WS.sub(" ", name).strip().casefold())


@dataclass
class _Row:
    kind: ChannelKind
    start: int  # where the channel name starts
    head_end: int  # where the fee token ends (the optional fee detail and the description follow)
    time: Optional[str]
    fee_token: str
    amount: Optional[str]


def _row_head(body: str, pos: int, free_time: Optional[str]) -> Optional[tuple[Optional[str], re.Match[str]]]:
    """(time, fee match) of the cells right after a channel name at ``pos``; ``None`` when they are not there."""
    t = _TIME.match(body, pos)
    if t and (t.group("num") or t.group("none")):
        f = _FEE.match(body, t.end())
        if f:
            return (None if t.group("none") else _WS.sub(" ", t.group(0)).strip()), f
    if free_time:
        # Later rows repeat the first row's free-text time (sometimes with a different ending).
        lead = len(body) - len(body[pos:].lstrip())
        if body.startswith(free_time[:20], lead):
            found = _FEE_SEARCH.search(body, lead, lead + len(free_time) + 100)
            f = _FEE.match(body, found.start()) if found else None
            if found and f:
                return clean(body[lead : found.start()]), f
    return None


def _free_head(body: str, pos: int) -> tuple[Optional[str], Optional[re.Match[str]]]:
    """(time, fee match) when the time cell is free text: it ends where the fee cell starts."""
    found = _FEE_SEARCH.search(body, pos, pos + 300)
    if found is None:
        return None, None
    return clean(body[pos : found.start()]), _FEE.match(body, found.start())


def _closing_paren(text: str) -> int:
    """Index of the parenthesis closing ``text[0] == "("``, or -1 when it is never closed."""
    depth = 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i
    return -1


def parse_channels(text: str) -> list[Channel]:
    """Split the run-together "Hình thức nộp | Thời gian | Phí, lệ phí | Mô tả" table.

    A row starts at a channel name (Trực tuyến, Trực tiếp, Dịch vụ bưu chính, Bưu chính)
    that is followed by a time cell (a number with an optional unit, or "Không có thông
    tin") and a fee cell ("Miễn phí", "Không có thông tin", an amount with its currency,
    optionally "Phí :"/"Lệ phí :" before it). Channel names inside descriptions are not
    followed by that shape and are left alone. When the first row's time is free text
    ("Không quy định", …), the later rows are found by that same text.
    """
    body = (text or "").replace(CHANNEL_HEADER, "\n")
    rows: list[_Row] = []
    free_time: Optional[str] = None
    for anchor in _ANCHOR.finditer(body):
        if rows and anchor.start() < rows[-1].head_end:
            continue
        kind = channel_kind(anchor.group(0))
        if kind is None:  # pragma: no cover - the anchor pattern only matches known names
            continue
        head = _row_head(body, anchor.end(), free_time)
        if head is None and not rows and len(body[: anchor.start()].strip()) < 5:
            time, fee_m = _free_head(body, anchor.end())
            free_time = time
            if fee_m is None:
                rows.append(_Row(kind, anchor.start(), anchor.end(), None, "", None))
                continue
            head = time, fee_m
        if head is not None:
            time, fee_cell = head
            rows.append(_Row(kind, anchor.start(), fee_cell.end(), time, fee_cell.group("fee"),
                             fee_cell.group("amount")))

    channels: list[Channel] = []
    for i, row in enumerate(rows):
        end = rows[i + 1].start if i + 1 < len(rows) else len(body)
        rest = body[row.head_end : end].strip()
        detail: Optional[str] = None
        if rest.startswith("(") and row.fee_token != NO_INFO and not _ENUMERATOR.match(rest):
            close = _closing_paren(rest)
            detail, rest = (rest[1:close], rest[close + 1 :]) if close >= 0 else (rest[1:], "")
            detail = clean(detail)
        fee = _fee_text(row.fee_token, row.amount, detail)
        note = clean(rest)
        channel = Channel(kind=row.kind, time_limit=row.time, fee=fee, note=clip(note) if note else None)
        if channel not in channels:
            channels.append(channel)
    return channels


def _fee_text(token: str, amount: Optional[str], detail: Optional[str]) -> Optional[str]:
    token = _WS.sub(" ", token).strip()
    if not token or token == NO_INFO:
        return clip(detail, FEE_LIMIT) if detail else None
    if amount is None and token not in {"Miễn phí"}:
        # A currency without an amount ("VNĐ", "Phí : Đồng"): only the detail says anything.
        return clip(detail, FEE_LIMIT) if detail else None
    return clip(f"{token} ({detail})", FEE_LIMIT) if detail else token


# --------------------------------------------------------------------------- legal basis

LEGAL_HEADER = "Tên văn bản pháp lýMã văn bản"
# Issuer codes that end a document number; a longer run of capitals after one of them is the
# next title glued on ("NĐ-CPQUY ĐỊNH …", "TT-BCALuật …").
ISSUERS = frozenset(
    "CP TTg TTCP VPCP BTC BTP BCA BQP BNG BNV BYT BCT BXD BGTVT BNNMT BNNPTNT BTNMT BKHĐT BKHCN BLĐTBXH "
    "BVHTTDL BTTTT BGDĐT BHXH NHNN UBND HĐND KTNN TANDTC VKSNDTC UBDT BCY".split()
)
_PART = r"(?:TTg|UBTVQH\d{1,2}|QH\d{1,2}|[A-ZĐ]+)"
DOC_NUMBER = re.compile(
    rf"(?<![\d/])(?:(?<!\d\.)|(?<=\d{{4}}\.))(?:(?:\d{{1,3}}\.\d{{1,3}}|\d{{1,4}})[a-z]?(?:/\d{{4}})?/{_PART}(?:[-/]{_PART})*"
    rf"|\d{{1,4}}-CP|\d{{1,4}}/\d{{4}}(?=\s*$))"
)
# "…năm 2011" or "…ngày 29/6/2024" glued to the next number ("201102/2011/QH13").
_GLUED_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?=\d{1,4}/\d{4}/)")
# Cyrillic capitals that look like Latin ones sometimes slip into document numbers ("TT-BTС").
_HOMOGLYPHS = str.maketrans("АВЕКМНОРСТХ", "ABEKMHOPCTX")
_SPLIT_DASH = re.compile(r"(?<=[A-ZĐ])-\s+(?=[A-ZĐ])")  # "165/2024/NĐ- CP"
_GLUED_TYPE = re.compile(
    r"(?<=[^\W_]|[.)])(?:Nghị định|Thông tư liên tịch|Thông tư|Quyết định|Nghị quyết|Bộ luật|Luật|"
    r"Pháp lệnh|NĐ|TT|QĐ)(?:\s+số)?\s*$"
)


def _number_end(text: str, start: int, end: int) -> int:
    """Where a matched number really ends when the next title is glued to it."""
    number = text[start:end]
    cut = max(number.rfind("-"), number.rfind("/"))
    last = number[cut + 1 :]
    if last in ISSUERS or last.startswith(("QH", "UBTVQH")) or not last.isalpha():
        return end
    known = [code for code in ISSUERS if last.startswith(code)]
    if known:
        return end - len(last) + len(max(known, key=len))
    # Unknown issuer: a capital followed by small letters starts the next title ("…/XYZLuật").
    while end - 1 >= start + cut + 1 and end < len(text) and text[end].islower() and text[end - 1].isupper():
        end -= 1
    return end


def find_doc_numbers(text: str) -> list[tuple[int, int, str]]:
    """Vietnamese document numbers (``123/2015/NĐ-CP``, ``02/2011/QH13``, ``1588/QĐ-TTg``) in ``text``.

    Returns ``(start, end, number)``; a number glued to the next title ("68/2013/TT-BCALuật …")
    ends at its issuer code.
    """
    found: list[tuple[int, int, str]] = []
    for m in DOC_NUMBER.finditer(text):
        start = m.start()
        end = _number_end(text, start, m.end())
        while end > start and text[end - 1] in "-/":
            end -= 1
        found.append((start, end, text[start:end]))
    return found


def _title(text: str) -> Optional[str]:
    title = _WS.sub(" ", text).strip(" ;,.:-\t\n")
    stripped = _GLUED_TYPE.sub("", title).strip(" ;,.:-")
    if stripped:
        title = stripped
    return clip(title) if title else None


def parse_legal_basis(text: str) -> list[LegalRef]:
    """Rows of "Tên văn bản pháp lý | Mã văn bản" run together: ``<title><number><title><number>…``.

    A number ends a row (it is the "Mã văn bản" cell) when it is the end of the text, or is
    glued to the next title (a letter follows) or to another, different number, or when it
    is glued to the text before it and repeats a number of its own title. A number followed
    by a space or by punctuation is part of the title ("Nghị định số 123/2015/NĐ-CP ngày …"),
    and so is a number repeated right away ("Nghị định 05/2012/NĐ-CP05/2012/NĐ-CP"). Text
    left after the last row that names a number becomes a row of its own.
    """
    body = (text or "").replace(LEGAL_HEADER, " ").translate(_HOMOGLYPHS)
    body = _SPLIT_DASH.sub("-", _GLUED_YEAR.sub(r"\1 ", body))
    numbers = find_doc_numbers(body)
    refs: list[LegalRef] = []
    seen: set[str] = set()
    row_start = 0
    in_title: list[str] = []

    def add(number: str, title_text: str) -> None:
        # A cut-short code ("24/2024") is completed from its own title ("24/2024/QĐ-UBND").
        fuller = [n for n in in_title if n.startswith(number + "/") or n.startswith(number + "-")]
        if fuller:
            number = fuller[0]
        if number not in seen:
            seen.add(number)
            refs.append(LegalRef(number=number, title=_title(title_text)))

    for i, (start, end, number) in enumerate(numbers):
        after = body[end:]
        nxt = after[:1]
        glued_before = start > 0 and not body[start - 1].isspace() and body[start - 1] not in "(“\""
        if not after.strip(" \t\n;.,"):
            is_code = True
        elif nxt.isalpha():
            is_code = True
        elif nxt.isdigit() and not glued_before and start > row_start:
            # "… bởi Nghị định số 232/2025/NĐ-CP34/2025/TT-NHNN": the spaced one is cited in the title.
            is_code = False
        elif nxt.isdigit():
            following = numbers[i + 1][2] if i + 1 < len(numbers) and numbers[i + 1][0] == end else None
            # "Nghị định 05/2012/NĐ-CP05/2012/NĐ-CP", "… 46/2020/NĐ-CP46/2020": the title's number, then the code.
            is_code = following is None or not (following == number or number.startswith(following + "/"))
        else:
            is_code = glued_before and number in in_title
        if not is_code:
            in_title.append(number)
            continue
        add(number, body[row_start:start])
        row_start = end
        in_title = []
    if in_title and body[row_start:].strip():
        add(in_title[0], body[row_start:])
    return refs


# --------------------------------------------------------------------------- documents

DOCUMENT_HEADER = "Tên giấy tờMẫu đơn, tờ khaiSố lượng"
# The quantity cell: one digit ("01" at most) glued to the name before it ("…Nghị định 1161 bản chính"
# is "Nghị định 116" + "1 bản chính"), and glued to the next name or the end. "01 bản sao có chứng thực"
# inside a name is followed by a space and a word, and is left alone.
_QUANTITY = re.compile(
    r"(?:(?<!\d)0)?\d\s*bản\s*(?:chính|sao)(?:\s*,\s*\d\s*bản\s*(?:chính|sao))*(?=$|\S|\s+[^\w(])"
)
_FORM_EXT = re.compile(r"\.(?:docx?|pdf|xlsx?|rtf|odt|zip|rar)\s*$", re.IGNORECASE)
_FORM_EXT_ANY = re.compile(r"\.(?:docx?|pdf|xlsx?|rtf|odt|zip|rar)", re.IGNORECASE)
_HEADER_WORDS = re.compile(r"^(?:Tên giấy tờ|Mẫu đơn, tờ khai|Số lượng|-+|\s)+")


_SEPARATOR = re.compile(r"[;:)”\"\]]|\.(?=[^\d\s])")
# A form name glued to the document name: "…tại Việt NamMẫu TP-HGTM-20.docx".
_FORM_WORD = re.compile(r"(?<=\S)(?:Mẫu|MẪU|Mau|mau|Phụ lục|Phu luc|Biểu mẫu|Bieu mau)")
_FILE_NUMBER = re.compile(r"(?<=[.;])\s*\d{1,3}[-.]?\s*$")  # "…nhân dân.32-" left of "Mẫu số 01.doc"


def _first_glue(text: str, start: int) -> int:
    """First small letter glued to a capital after ``start``, else to a digit; -1 when none."""
    for test in (str.isupper, str.isdigit):
        for i in range(start, len(text) - 1):
            if text[i].islower() and test(text[i + 1]):
                return i
    return -1


def _strip_form_files(name: str) -> str:
    """Drop the form file names the portal glues after a document name ("…;Mẫu 01.docx").

    The file name starts after the last separator (";", ":", ")", a dot before a letter) close
    to the extension, else at the first place where a small letter is glued to a capital or a
    digit ("…luật sưMẫu TP-LS-05.docx"). When no such place is found the name is kept whole.
    """
    for _ in range(5):
        ext = _FORM_EXT.search(name)
        if ext is None:
            break
        head = name[: ext.start()]
        window = max(0, len(head) - 130)
        cut = -1
        for m in _FORM_EXT_ANY.finditer(head, window):  # several files in a row
            cut = max(cut, m.end() - 1)
        if cut < 0:
            seps = list(_SEPARATOR.finditer(head, window))
            keyword = _FORM_WORD.search(head, window)
            if seps:
                cut = seps[-1].start()
            elif keyword:
                cut = keyword.start() - 1
            else:
                cut = _first_glue(head, window)
        if cut < 0 or not head[: cut + 1].strip(" ;:.-"):
            break
        name = _FILE_NUMBER.sub("", head[: cut + 1])
    return name


def parse_documents(text: str) -> list[str]:
    """Document names of the run-together "Tên giấy tờ | Mẫu đơn, tờ khai | Số lượng" table.

    Each name ends at its quantity ("1 bản chính", "0 bản chính,1 bản sao"); header words,
    section titles before a repeated header, and form file names are dropped.
    """
    docs: list[str] = []
    pos = 0
    body = text or ""
    for m in _QUANTITY.finditer(body):
        chunk = body[pos : m.start()]
        pos = m.end()
        header = chunk.rfind(DOCUMENT_HEADER)
        if header >= 0:
            chunk = chunk[header + len(DOCUMENT_HEADER) :]
        chunk = _HEADER_WORDS.sub("", chunk)
        chunk = _strip_form_files(chunk)
        name = clean(chunk.strip(" ;,:-*+•\t\n"))
        if name and len(name) >= 3:
            name = clip(name)
            if name not in docs:
                docs.append(name)
    return docs


# --------------------------------------------------------------------------- other fields

LEVELS = {"cấp bộ": "cấp bộ", "cấp tỉnh": "cấp tỉnh", "cấp xã": "cấp xã"}


def map_levels(text: str) -> tuple[list[str], list[str]]:
    """Levels of the model from "Cấp bộ, Cấp tỉnh, Cấp xã, Cơ quan khác"; also the notes to warn about.

    "Cơ quan khác" is dropped; "Cấp huyện" no longer exists (1/7/2025) and becomes "cấp xã".
    """
    levels: list[str] = []
    notes: list[str] = []
    for part in re.split(r"[,;]", text or ""):
        key = _WS.sub(" ", part).strip().casefold()
        if not key or key == "cơ quan khác":
            continue
        if "huyện" in key:
            value = "cấp xã"
            notes.append(f"district level: {part.strip()!r} mapped to cấp xã (no district level since 1/7/2025)")
        elif key in LEVELS:
            value = LEVELS[key]
        else:
            notes.append(f"unknown level: {part.strip()!r} dropped")
            continue
        if value not in levels:
            levels.append(value)
    return levels, notes


_SELF_FULLY_ONLINE = re.compile(r"(?<!đã )toàn trình", re.IGNORECASE)


def online_service(name: str, texts: Iterable[Optional[str]], channels: Sequence[Channel],
                   url: Optional[str]) -> OnlineService:
    """``toan_trinh`` when the record says "toàn trình" of itself, else ``mot_phan`` with an online channel.

    The name counts whenever it says so; in the other texts "… các TTHC đã toàn trình" speaks of
    other procedures (a conditional sentence copied across tax records) and does not count.
    """
    body = " ".join(t or "" for t in texts)
    kind: OnlineType
    if "toàn trình" in name.casefold() or _SELF_FULLY_ONLINE.search(body):
        kind = "toan_trinh"
        note = "Bản ghi nguồn có nhắc \"toàn trình\"; chưa đối chiếu từng bước trên Cổng."
    elif any(c.kind == "truc_tuyen" for c in channels):
        kind = "mot_phan"
        note = "Có kênh nộp trực tuyến; nguồn không ghi rõ thực hiện toàn trình hay một phần."
    else:
        kind = "khong"
        note = None
    return OnlineService(type=kind, url=url, note=note)


def make_summary(name: str, field: Optional[str], result: Optional[str]) -> str:
    """A neutral sentence built from the record's own fields."""
    parts = [name.rstrip(" .")]
    if field:
        parts.append(f"Lĩnh vực: {field.rstrip(' .')}")
    if result:
        parts.append(f"Kết quả: {clip(result, 200).rstrip(' .')}")
    summary = ". ".join(parts) + "."
    if len(summary) < 10:
        summary = f"Thủ tục hành chính: {summary}"
    return summary


def imported_procedure(*, code: str, name: str, field: str, levels: list[str], competent: Optional[str],
                       implementing: Optional[str], receiving_address: Optional[str], applicants: Optional[str],
                       result: Optional[str], online: OnlineService, channels: list[Channel], documents: list[str],
                       legal: list[LegalRef], url: Optional[str], source: str, checked_on: dt.date) -> Procedure:
    """A ``Procedure`` from fields both portals give, filled the same way for both: the
    competent agency (else the implementing one), the receiving address (else the
    implementing agency when it is another), long texts clipped, the audience read from the
    applicants (``audience_of``). Aliases and online steps stay empty: they are written by people,
    not imported."""
    agency = competent or implementing
    receiving = receiving_address or (implementing if implementing != agency else None)
    return Procedure(
        id=code,
        code=code,
        name=name,
        field=field,
        level=levels,
        agency=clip(agency) if agency else None,
        receiving_agency=clip(receiving) if receiving else None,
        applicants=clip(applicants) if applicants else None,
        audience=audience_of(applicants),
        aliases=[],
        summary=make_summary(name, field, result),
        online=online,
        channels=channels,
        documents=documents,
        online_steps=[],
        result=clip(result) if result else None,
        legal_basis=legal,
        url=url,
        related=[],
        source=source,
        checked_on=checked_on,
    )


def channel_warnings(channels: Sequence[Channel]) -> list[str]:
    if not channels:
        return ["no channels: none found in the source text"]
    notes = []
    no_fee = [c.kind for c in channels if not c.fee]
    no_time = [c.kind for c in channels if not c.time_limit]
    if no_fee:
        notes.append(f"fee missing: {', '.join(dict.fromkeys(no_fee))}")
    if no_time:
        notes.append(f"time missing: {', '.join(dict.fromkeys(no_time))}")
    return notes


def failure_reason(exc: Exception) -> str:
    """A one-line reason for the report: the first validation error, or the exception's message."""
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "record"
        return f"invalid record: {where}: {first.get('msg', '')}"
    message = str(exc).splitlines()[0] if str(exc) else ""
    if isinstance(exc, ValueError) and ":" in message:
        return message
    return f"{type(exc).__name__}: {message}"


# --------------------------------------------------------------------------- writing

def _dump(records: list[dict[str, Any]]) -> str:
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    # No line wrapping: the files are generated, and long lines load faster with the pure-Python loader.
    return yaml.dump(records, Dumper=dumper, allow_unicode=True, sort_keys=False, width=100_000)


def write_catalogue(results: Sequence[ImportResult], out_dir: Path) -> dict[str, Any]:
    """Write ``out_dir/procedures/<group>.yaml`` and ``out_dir/import-report.json``; return the report.

    Ids are unique: when two results hold the same id the first one wins (pass the dvcqg
    result first) and the other is reported as a ``duplicate id`` warning.
    """
    out_dir = Path(out_dir)
    if out_dir.resolve() == DEFAULT_DATA_DIR.resolve():
        raise KnowledgeBaseError("refusing to write imported records over the embedded knowledge base")
    proc_dir = out_dir / "procedures"
    _clear_previous_output(out_dir, proc_dir)
    proc_dir.mkdir(parents=True, exist_ok=True)

    seen: dict[str, str] = {}
    groups: dict[str, list[Procedure]] = {}
    written: Counter[str] = Counter()
    duplicates: list[ImportFailure] = []
    for result in results:
        for proc in result.procedures:
            if proc.id in seen:
                reason = f"duplicate id: {proc.id} already imported from {seen[proc.id]}, {result.source} copy dropped"
                duplicates.append(ImportFailure(file=result.source, code=proc.id, reason=reason))
                continue
            seen[proc.id] = result.source
            group = result.groups.get(proc.id) or result.source or "imported"
            groups.setdefault(group, []).append(proc)
            written[result.source] += 1

    files: list[str] = []
    for group in sorted(groups):
        procs = sorted(groups[group], key=lambda p: p.id)
        records = [p.model_dump(mode="json", exclude_none=True) for p in procs]
        name = f"{group}.yaml"
        header = (f"# Generated by `python -m knowledge import` ({len(procs)} procedures, group {group}).\n"
                  "# Facts and texts come from the source named in each record; do not edit by hand.\n")
        (proc_dir / name).write_text(header + _dump(records), encoding="utf-8")
        files.append(f"procedures/{name}")

    failures = [f for r in results for f in r.failures]
    warnings = [w for r in results for w in r.warnings] + duplicates
    report: dict[str, Any] = {
        "written_at": datetime.now().isoformat(timespec="seconds"),
        "imported": sum(written.values()),
        "failures": len(failures),
        "warnings": len(warnings),
        "links_dropped": sum(w.kind == LINK_DROPPED for w in warnings),
        "links_upgraded": sum(w.kind == LINK_UPGRADED for w in warnings),
        "sources": {
            r.source: {"folder": r.folder, "files": r.files, "parsed": len(r.procedures),
                       "written": written[r.source], "failures": len(r.failures), "warnings": len(r.warnings)}
            for r in results
        },
        "failures_by_reason": dict(Counter(f.kind for f in failures).most_common()),
        "warnings_by_kind": dict(Counter(w.kind for w in warnings).most_common()),
        "files_written": files,
        "failure_list": [f.as_dict() for f in failures],
        "warning_list": [w.as_dict() for w in warnings],
    }
    (out_dir / REPORT_NAME).write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    return report


def _clear_previous_output(out_dir: Path, proc_dir: Path) -> None:
    """Remove the YAML files of a previous import; refuse to mix with hand-written records."""
    if not proc_dir.is_dir():
        return
    existing = {p.name for p in proc_dir.iterdir() if p.suffix in {".yaml", ".yml"}}
    if not existing:
        return
    previous: set[str] = set()
    report = out_dir / REPORT_NAME
    if report.is_file():
        try:
            previous = {Path(f).name for f in json.loads(report.read_text(encoding="utf-8")).get("files_written", [])}
        except (OSError, ValueError):
            previous = set()
    foreign = existing - previous
    if foreign:
        raise KnowledgeBaseError(
            f"{proc_dir} already holds YAML files not written by a previous import "
            f"({', '.join(sorted(foreign)[:3])}…); choose an empty --out folder"
        )
    for name in existing:
        (proc_dir / name).unlink()
