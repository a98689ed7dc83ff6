"""Metadata of a Vietnamese administrative or legal document, read from its text.

A document issued by a state body opens with a fixed header (Nghị định 30/2020/NĐ-CP on
office work): the issuing body in capitals ("ỦY BAN NHÂN DÂN / TỈNH BÌNH ĐỊNH"), the number
line ("Số: 1239/UBND-KSTT"), the place and date ("Bình Định, ngày 20 tháng 02 năm 2025"),
then either the type in capitals with the subject below it ("NGHỊ ĐỊNH / Quy định chi tiết
…") or, for a letter (công văn), the subject after "V/v". The number itself encodes the
type and the body: "1588/QĐ-TTg" is a Quyết định of the Thủ tướng; a number without a type
code ("1239/UBND-KSTT") is a công văn.

The corpus also holds pages copied from portals that only *report* a document, and
compiled legal-code topics (pháp điển) without any header; for those the file name, the
sentence that mentions the number, Markdown front matter and the article numbering fill in
what the header would have said. Anything not found stays ``None``: nothing is guessed.
Document numbers and what their codes say are read by ``knowledge.text.legal_numbers``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Optional

from knowledge.text.legal_numbers import (
    PROVINCIAL_CODES,
    find_numbers,
    issuer_from_number,
    normalize_number,
    number_codes,
    number_key,
    type_from_number,
    with_locality,
)
from knowledge.text.normalize import fold


@dataclass(frozen=True)
class DocumentMeta:
    number: Optional[str] = None  # "224/2026/NĐ-CP"
    doc_type: Optional[str] = None  # "Nghị định"
    date: Optional[dt.date] = None  # date of issue
    issuer: Optional[str] = None  # "Chính phủ", "UBND tỉnh Bình Định"
    subject: Optional[str] = None  # the "V/v …" line or the line under the type heading
    province: Optional[str] = None  # "Bình Định" for a provincial body, when known
    cites: tuple[str, ...] = ()  # document numbers mentioned in the text, first mention order

    @property
    def label(self) -> Optional[str]:
        """"Nghị định 224/2026/NĐ-CP", "Pháp điển", … or None when neither is known."""
        label = " ".join(x for x in (self.doc_type, self.number) if x)
        return label or None

    @property
    def title(self) -> Optional[str]:
        """"<type> <number>: <subject>" with whatever parts are known."""
        if self.label and self.subject:
            return f"{self.label}: {self.subject}"
        return self.label or self.subject


# -- dates ------------------------------------------------------------------------------------

_DATE_WORDS = re.compile(r"ngày\s+(\d{1,2})\s+tháng\s+(\d{1,2})\s+năm\s+(\d{4})", re.I)
_DATE_NUM = re.compile(r"(?<![\d/-])(\d{1,2})\s?([/-])\s?(\d{1,2})\s?\2\s?((?:19|20)\d\d)(?![\d/])")


def _make_date(d: str, m: str, y: str) -> Optional[dt.date]:
    try:
        return dt.date(int(y), int(m), int(d))
    except ValueError:
        return None


def find_dates(text: str) -> list[tuple[int, int, dt.date]]:
    """(start, end, date) of every valid date written either way, in order of position."""
    out: list[tuple[int, int, dt.date]] = []
    for m in _DATE_WORDS.finditer(text):
        date = _make_date(m.group(1), m.group(2), m.group(3))
        if date:
            out.append((m.start(), m.end(), date))
    for m in _DATE_NUM.finditer(text):
        date = _make_date(m.group(1), m.group(3), m.group(4))
        if date:
            out.append((m.start(), m.end(), date))
    return sorted(out, key=lambda x: x[0])


def parse_date(text: str) -> Optional[dt.date]:
    """The first date in the text: "ngày 17 tháng 12 năm 2024" or "17/12/2024" → date(2024, 12, 17)."""
    dates = find_dates(text)
    return dates[0][2] if dates else None


# -- header lines -----------------------------------------------------------------------------

_HEADING_MARKS = re.compile(r"^[#>*_\s]+|[*_\s]+$")
_STRUCTURE = re.compile(r"^(?:#+\s*)?(?:Chương|CHƯƠNG|Điều|ĐIỀU)\s+[\dIVXLC]")
_NUMBER_LINE = re.compile(r"^(?:Số|SỐ)\s*[:.]?\s*(\d.*)$")
_PLACE_DATE = re.compile(
    r"^(?P<place>[^\d\n,;:()]{2,40}),\s*(?:ngày\s+(?P<d1>\d{1,2})\s+tháng\s+(?P<m1>\d{1,2})\s+năm\s+(?P<y1>\d{4})"
    r"|ngày\s+(?P<d2>\d{1,2})/(?P<m2>\d{1,2})/(?P<y2>\d{4}))",
    re.I,
)
_VV = re.compile(r"^(?:V/v|V/V|Về việc|VỀ VIỆC)\s*[:.]?\s*(.*)$")
TYPE_WORDS = (
    "Thông tư liên tịch", "Quyết định", "Nghị định", "Nghị quyết", "Chỉ thị", "Kế hoạch", "Công văn",
    "Báo cáo", "Thông báo", "Thông tư", "Luật", "Tờ trình", "Hướng dẫn", "Công điện", "Pháp lệnh",
    "Kết luận", "Quy chế", "Văn bản",
)
_TYPE_HEADINGS = {w.upper(): w for w in TYPE_WORDS if w != "Văn bản"}
_PHAP_DIEN_ARTICLE = re.compile(r"^(?:#+\s*)?Điều\s+\d+\.\d+\.[A-ZĐ]+\.", re.M)
_ORGAN_PREFIXES = (
    "ỦY BAN", "UỶ BAN", "UBND", "HĐND", "HỘI ĐỒNG", "CHÍNH PHỦ", "THỦ TƯỚNG", "QUỐC HỘI", "BỘ ", "SỞ ",
    "VĂN PHÒNG", "BAN ", "CỤC ", "TỔNG CỤC", "TỈNH ỦY", "TỈNH UỶ", "TÒA ÁN", "VIỆN KIỂM SÁT", "KIỂM TOÁN",
)
_LOCALITIES = ("TỈNH", "THÀNH PHỐ", "HUYỆN", "QUẬN", "THỊ XÃ", "XÃ", "PHƯỜNG", "ĐẶC KHU")
_PROPER = {  # words that keep a capital inside an organ name
    "chính phủ": "Chính phủ", "quốc hội": "Quốc hội", "ủy ban nhân dân": "Ủy ban nhân dân",
    "uỷ ban nhân dân": "Ủy ban nhân dân", "công thương": "Công Thương", "việt nam": "Việt Nam",
}


def _strip_marks(line: str) -> str:
    return _HEADING_MARKS.sub("", line).strip()


def _is_upper(line: str) -> bool:
    letters = [c for c in line if c.isalpha()]
    return len(letters) >= 2 and all(c.isupper() for c in letters)


def _title_words(name: str) -> str:
    """"BÌNH ĐỊNH" → "Bình Định" (place names capitalise every syllable)."""
    return " ".join(w[:1].upper() + w[1:].lower() for w in name.split())


_ORGAN_KINDS = ("văn phòng", "tổng cục", "chi cục", "ủy ban", "uỷ ban", "bộ", "sở", "cục", "ban", "vụ")


def _sentence_case(name: str) -> str:
    """"BỘ THÔNG TIN VÀ TRUYỀN THÔNG" → "Bộ Thông tin và Truyền thông" (organ names)."""
    words = name.lower().split()
    capital = {0}
    lowered = " ".join(words)
    for kind in _ORGAN_KINDS:
        if lowered == kind or lowered.startswith(kind + " "):
            capital.add(len(kind.split()))  # the first word of the field after the kind
            break
    out: list[str] = []
    for i, w in enumerate(words):
        out.append(w[:1].upper() + w[1:] if i in capital or (i and words[i - 1] in ("và", "-")) else w)
    text = " ".join(out)
    for low, proper in _PROPER.items():
        text = re.sub(rf"(?i)\b{low}\b", proper, text)
    return text


def _locality_name(line: str) -> Optional[str]:
    for loc in _LOCALITIES:
        if line.startswith(loc + " "):
            return f"{loc.lower()} {_title_words(line[len(loc) + 1:])}"
    return None


def _organ_name(line: str) -> tuple[str, Optional[str]]:
    """(name, locality) of an organ line in capitals."""
    for prefix in ("ỦY BAN NHÂN DÂN", "UỶ BAN NHÂN DÂN", "UBND"):
        if line.startswith(prefix):
            return "UBND", _locality_name(line[len(prefix):].strip())
    for prefix in ("HỘI ĐỒNG NHÂN DÂN", "HĐND"):
        if line.startswith(prefix):
            return "HĐND", _locality_name(line[len(prefix):].strip())
    m = re.match(r"^(.*?)\s+(TỈNH|THÀNH PHỐ|HUYỆN|QUẬN|THỊ XÃ)\s+(.+)$", line)
    if m and not line.startswith(("BỘ ", "BAN ")):
        return _sentence_case(m.group(1)), f"{m.group(2).lower()} {_title_words(m.group(3))}"
    return _sentence_case(line), None


def _issuer_from_header(lines: list[str]) -> tuple[Optional[str], Optional[str]]:
    """(issuer, province) from the capitalised organ lines at the top of the header."""
    organs: list[tuple[str, Optional[str]]] = []  # (name, locality)
    for raw in lines[:25]:
        line = _strip_marks(raw)
        if not line or set(line) <= set("_-–=. "):
            continue
        if _NUMBER_LINE.match(line) or _PLACE_DATE.match(line) or _VV.match(line) or line.startswith("Kính gửi"):
            break
        if not _is_upper(line) or line.startswith(("CỘNG HÒA", "CỘNG HOÀ", "ĐỘC LẬP")):
            continue
        locality = _locality_name(line)
        if locality and organs and organs[-1][1] is None:
            organs[-1] = (organs[-1][0], locality)
        elif line.startswith(_ORGAN_PREFIXES):
            organs.append(_organ_name(line))
    if not organs:
        return None, None
    name, locality = organs[-1]
    if locality is None:
        locality = next((loc for _, loc in reversed(organs) if loc), None)
    province = None
    if locality and locality.startswith(("tỉnh ", "thành phố ")):
        province = locality.split(" ", 1)[1] if locality.startswith("tỉnh ") else locality[len("thành phố "):]
    return (f"{name} {locality}" if locality else name), province


def _province_from_text(text: str) -> Optional[str]:
    """The province most often named as "tỉnh <Name>" in the text."""
    counts: Counter[str] = Counter()
    for m in re.finditer(r"\btỉnh\s+", text):
        words: list[str] = []
        for token in text[m.end():m.end() + 40].split()[:3]:
            w = token.strip(",.;:()“”\"'")
            if not w or not w[0].isupper() or not w.isalpha():
                break
            words.append(w)
            if w != token:  # punctuation ends the name
                break
        if words and words[0] not in ("Ủy", "Uỷ"):
            counts[" ".join(words)] += 1
    return counts.most_common(1)[0][0] if counts else None


def _header_lines(text: str, limit: int = 80) -> list[str]:
    """Stripped lines before the first chapter/article heading, up to ``limit`` non-empty ones.

    Runs of blank lines are kept as one "" so that a wrapped "V/v" subject ends at the blank.
    """
    out: list[str] = []
    filled = 0
    for raw in text.split("\n"):
        line = raw.strip()
        if _STRUCTURE.match(line):
            break
        if line:
            out.append(line)
            filled += 1
            if filled >= limit:
                break
        elif out and out[-1]:
            out.append("")
    return out


def _front(front: Mapping[str, Any], *keys: str) -> Optional[Any]:
    for key in keys:
        value = front.get(key)
        if value not in (None, "", []):
            return value
    return None


_TABLE_ROW = re.compile(r"^\|\s*(?P<k>[^|]+?)\s*\|\s*(?P<v>[^|]*?)\s*\|")
_UNKNOWN = ("đang cập nhật", "không có", "n/a", "")


def _table_fields(lines: list[str]) -> dict[str, str]:
    """Key/value rows of a Markdown "THÔNG TIN VĂN BẢN" table, minus "Đang cập nhật"."""
    out: dict[str, str] = {}
    for line in lines:
        m = _TABLE_ROW.match(line)
        if m and m.group("v").strip().lower() not in _UNKNOWN:
            out[fold(m.group("k")).strip()] = m.group("v").strip()
    return out


def _filename_number(stem: str, numbers: list[tuple[int, int, str]]) -> Optional[tuple[int, int, str]]:
    """The mention whose number the file name spells ("binhdinh-3406-UBND-KSTT-2022" → "3406/UBND-KSTT")."""
    folded = "-" + re.sub(r"[^0-9a-z]+", "-", fold(stem)) + "-"
    best: Optional[tuple[int, tuple[int, int, str]]] = None
    for mention in numbers:
        key = re.sub(r"[^0-9a-z]+", "-", number_key(mention[2])).strip("-")
        pos = folded.find("-" + key + "-")
        if pos >= 0 and (best is None or pos < best[0]):
            best = (pos, mention)
    return best[1] if best else None


def _type_before(text: str, start: int) -> Optional[str]:
    """The type word right before a mention: "Công văn số 3406/…" → "Công văn"."""
    before = text[max(0, start - 40):start]
    for word in TYPE_WORDS:
        if re.search(rf"{word}\s+(?:số\s+)?$", before, re.I):
            return word
    return None


def _date_near(text: str, start: int, end: int) -> Optional[dt.date]:
    """Date of a mention: "… 3406/UBND-KSTT ngày 18/6/2022" or "Ngày 02 tháng 7 năm 2021, … số 1626/…"."""
    after = text[end:end + 60]
    m = re.match(r"\s*,?\s*(?:ngày\s+)?", after)
    dates = find_dates(after)
    if dates and m and dates[0][0] <= m.end() + 5:
        return dates[0][2]
    sentence_start = max(text.rfind("\n", 0, start), text.rfind(". ", 0, start)) + 1
    before = find_dates(text[sentence_start:start])
    return before[-1][2] if before else None


def _subject_from_header(lines: list[str]) -> tuple[Optional[str], Optional[str]]:
    """(subject, type word) from the "V/v" line or the line under a type heading."""
    vv_parts: list[str] = []
    for i, raw in enumerate(lines[:40]):
        if len(raw) > 300 or raw.startswith("Kính gửi"):
            break  # the body has started: a later "Về việc …" is a sentence, not the subject
        m = _VV.match(_strip_marks(raw))
        if m:
            vv_parts = [m.group(1)] if m.group(1) else []
            for nxt in lines[i + 1:i + 8]:
                nxt = _strip_marks(nxt)
                if not nxt or nxt.startswith(("Kính gửi", "Căn cứ")) or _PLACE_DATE.match(nxt):
                    break
                vv_parts.append(nxt)
            break
    candidates: list[str] = []
    doc_type: Optional[str] = None
    for i, raw in enumerate(lines):
        line = _strip_marks(raw)
        if line in _TYPE_HEADINGS:
            doc_type = doc_type or _TYPE_HEADINGS[line]
            following = next((_strip_marks(x) for x in lines[i + 1:i + 3] if _strip_marks(x)), "")
            if following and not _VV.match(following) and not following.startswith("Căn cứ"):
                candidates.append(following)
    if vv_parts:
        return _clean_subject(" ".join(vv_parts)), doc_type
    mixed = [c for c in candidates if not _is_upper(c)]
    if mixed:
        return _clean_subject(mixed[0]), doc_type
    if candidates:
        return _clean_subject(candidates[0][:1] + candidates[0][1:].lower()), doc_type
    return None, doc_type


def _clean_subject(text: str) -> str:
    text = " ".join(text.split()).strip(" .;:")
    return text[:1].upper() + text[1:]


def _headline(lines: list[str]) -> Optional[str]:
    """First line that reads like the headline of a page (portal copies have no header)."""
    for raw in lines[:12]:
        line = _strip_marks(raw)
        if (
            "|" in line or len(line.split()) < 5 or len(line) > 250 or line.endswith(":")
            or _is_upper(line) or _NUMBER_LINE.match(line) or line.lower().startswith("skip")
            or find_dates(line[:25])
        ):
            continue
        return _clean_subject(line)
    return None


def is_phap_dien(text: str) -> bool:
    """Compiled legal-code topics number their articles "Điều 39.3.LQ.1."."""
    return len(_PHAP_DIEN_ARTICLE.findall(text, 0, 200_000)) >= 3


def extract_metadata(
    text: str,
    *,
    filename: str = "",
    front_matter: Optional[Mapping[str, Any]] = None,
    title_hint: Optional[str] = None,
) -> DocumentMeta:
    """Number, type, date, issuer, subject and cited numbers of one document."""
    front = front_matter or {}
    stem = filename.rsplit("/", 1)[-1]
    stem = stem.rsplit(".", 1)[0] if "." in stem else stem
    header = _header_lines(text)
    table = _table_fields(header)
    mentions = find_numbers(text)

    # number: the "Số:" line, then front matter / info table, then the mention the file name spells
    number: Optional[str] = None
    mention: Optional[tuple[int, int, str]] = None
    for raw in header[:30]:
        m = _NUMBER_LINE.match(_strip_marks(raw))
        if m:
            number = normalize_number(m.group(1))
            if number:
                break
    if number is None:
        for value in (_front(front, "number", "doc_number", "so_hieu"), table.get("so hieu"),
                      _front(front, "title")):
            if isinstance(value, str) and normalize_number(value):
                number = normalize_number(value)
                break
    if number is None and stem:
        mention = _filename_number(stem, mentions)
        number = mention[2] if mention else None

    # place and date of the header line, else the date next to the mention, front matter, early text
    place: Optional[str] = None
    date: Optional[dt.date] = None
    for raw in header[:40]:
        m = _PLACE_DATE.match(_strip_marks(raw))
        if m:
            place = _strip_marks(m.group("place"))
            date = _make_date(m.group("d1") or m.group("d2"), m.group("m1") or m.group("m2"),
                              m.group("y1") or m.group("y2"))
            break
    if date is None and mention:
        date = _date_near(text, mention[0], mention[1])
    if date is None:
        value = _front(front, "date", "ngay_ban_hanh") or table.get("ngay ban hanh")
        if isinstance(value, dt.datetime):
            date = value.date()
        elif isinstance(value, dt.date):
            date = value
        elif isinstance(value, str):
            date = parse_date(value) or _iso_date(value)
    if date is None:
        date = parse_date("\n".join(header[:12]))

    subject, heading_type = _subject_from_header(header)
    has_vv = any(_strip_marks(x).startswith(("V/v", "V/V")) for x in header[:40])

    # type: heading in capitals, the word before the mention, pháp điển numbering, number codes
    doc_type = heading_type
    if doc_type is None and mention:
        word = _type_before(text, mention[0])
        doc_type = word if word and word != "Văn bản" else None
    if doc_type is None and number is None and is_phap_dien(text):
        doc_type = "Pháp điển"
    if doc_type is None:
        value = _front(front, "doc_type", "loai_van_ban") or table.get("loai van ban")
        if isinstance(value, str) and value.strip().capitalize() in [w.capitalize() for w in TYPE_WORDS]:
            doc_type = next(w for w in TYPE_WORDS if w.capitalize() == value.strip().capitalize())
    if doc_type is None and number:
        doc_type = type_from_number(number)
    if doc_type is None and has_vv:
        doc_type = "Công văn"

    # issuer: organ lines of the header, front matter, the issuer code of the number
    issuer, province = _issuer_from_header(header)
    if province is None and place and issuer and issuer.startswith(("UBND", "HĐND", "Sở ")):
        province = place  # "ỦY BAN NHÂN DÂN" alone, placed by "Bình Định, ngày …"
        if not re.search(r"\b(?:tỉnh|thành phố|huyện|quận|thị xã|xã|phường)\b", issuer):
            issuer = with_locality(issuer, place)
    if issuer is None:
        value = _front(front, "issuer", "noi_ban_hanh") or table.get("noi ban hanh")
        issuer = value.strip() if isinstance(value, str) else None
    if issuer is None and number:
        _, code = number_codes(number)
        if code in PROVINCIAL_CODES and province is None:
            province = place or _province_from_text(text)
        issuer = issuer_from_number(number, province)

    if subject is None:
        for value in (_front(front, "title"), title_hint):
            if isinstance(value, str) and value.strip():
                subject = _strip_label(value.strip(), number)
                break
    if subject is None:
        subject = next((_strip_marks(x) for x in header if x.startswith("# ") and
                        _strip_marks(x) not in _TYPE_HEADINGS), None) or _headline(header)

    own = number_key(number) if number else None
    seen: set[str] = set()
    cites: list[str] = []
    for _, _, n in mentions:
        key = number_key(n)
        if key != own and key not in seen:
            seen.add(key)
            cites.append(n)
    return DocumentMeta(number, doc_type, date, issuer, subject, province, tuple(cites))


def _iso_date(value: str) -> Optional[dt.date]:
    try:
        return dt.date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


def _strip_label(title: str, number: Optional[str]) -> str:
    """"Nghị định 224/2026/NĐ-CP thi hành Luật …" → "Thi hành Luật …" when type and number lead."""
    if number and number in title:
        rest = title.split(number, 1)[1].strip(" :-–")
        if rest:
            return _clean_subject(rest)
    return _clean_subject(title)

