"""Numbers of Vietnamese legal and administrative documents: one grammar, one spelling.

A document number ("số, ký hiệu", Nghị định 30/2020/NĐ-CP) is the order number, the year
for legal documents, then the codes of the type and of the issuing body joined by dashes:
``224/2026/NĐ-CP``, ``1588/QĐ-TTg``, ``02/2011/QH13``, ``05/2015/TTLT-BTP-BCA-BYT``,
``1239/UBND-KSTT`` (a letter: no type code). Party documents put the type first
(``57-NQ/TW``) and the government of the 1990s wrote ``64-CP``.

The same grammar reads two kinds of text:

* running text (documents, pages): a number is a word of its own, so its code runs to the
  end of the word and may be spaced ("1239 /UBND-KSTT", "165/2024/NĐ- CP");
* run-together table cells (the portal's "Tên văn bản pháp lý | Mã văn bản" rows, ``glued=True``):
  titles and numbers touch ("…năm 201102/2011/QH13Hướng dẫn…68/2013/TT-BCALuật …"), so a code is
  read in capitals and ends at the issuing body it names; ``unglue`` first splits years glued
  to a number and joins "NĐ- CP".

Either way the number comes back in its one canonical spelling (``canonical_number``): no
spaces around "/" or after "-", Latin capitals for the Cyrillic look-alikes that slip in
("TT-BTС"). ``number_key`` compares numbers whatever their case and accents.
"""

from __future__ import annotations

import re
from typing import Optional

from knowledge.text.normalize import fold

# -- what the codes say -----------------------------------------------------------------------

TYPE_CODES: dict[str, str] = {
    "QĐ": "Quyết định", "NĐ": "Nghị định", "CT": "Chỉ thị", "KH": "Kế hoạch", "BC": "Báo cáo",
    "TB": "Thông báo", "TT": "Thông tư", "TTLT": "Thông tư liên tịch", "NQ": "Nghị quyết",
    "HD": "Hướng dẫn", "TTr": "Tờ trình", "KL": "Kết luận", "CĐ": "Công điện", "PL": "Pháp lệnh",
    "L": "Luật", "QC": "Quy chế", "CV": "Công văn",
}
# Issuing bodies by their code. In run-together text a code ends a number: a longer run of
# capitals after one of them is the next title glued on ("NĐ-CPQUY ĐỊNH …", "TT-BCALuật …").
ISSUER_CODES: dict[str, str] = {
    "TTg": "Thủ tướng Chính phủ", "CP": "Chính phủ", "VPCP": "Văn phòng Chính phủ", "TTCP": "Thanh tra Chính phủ",
    "UBTVQH": "Ủy ban Thường vụ Quốc hội", "UBND": "UBND", "HĐND": "HĐND",
    "STTTT": "Sở Thông tin và Truyền thông", "BTTTT": "Bộ Thông tin và Truyền thông",
    "BCA": "Bộ Công an", "BTP": "Bộ Tư pháp", "BTC": "Bộ Tài chính", "BNV": "Bộ Nội vụ",
    "BKHCN": "Bộ Khoa học và Công nghệ", "BKHĐT": "Bộ Kế hoạch và Đầu tư", "BYT": "Bộ Y tế",
    "BCT": "Bộ Công Thương", "BQP": "Bộ Quốc phòng", "BNG": "Bộ Ngoại giao", "BXD": "Bộ Xây dựng",
    "BGDĐT": "Bộ Giáo dục và Đào tạo", "BLĐTBXH": "Bộ Lao động - Thương binh và Xã hội",
    "BGTVT": "Bộ Giao thông vận tải", "BNNMT": "Bộ Nông nghiệp và Môi trường",
    "BNNPTNT": "Bộ Nông nghiệp và Phát triển nông thôn", "BTNMT": "Bộ Tài nguyên và Môi trường",
    "BVHTTDL": "Bộ Văn hóa, Thể thao và Du lịch", "BHXH": "Bảo hiểm xã hội Việt Nam",
    "NHNN": "Ngân hàng Nhà nước Việt Nam", "KTNN": "Kiểm toán nhà nước", "TANDTC": "Tòa án nhân dân tối cao",
    "VKSNDTC": "Viện kiểm sát nhân dân tối cao", "UBDT": "Ủy ban Dân tộc", "BCY": "Ban Cơ yếu Chính phủ",
    "UBQGCĐS": "Ủy ban Quốc gia về chuyển đổi số",
}
ISSUERS = frozenset(ISSUER_CODES)
PROVINCIAL_CODES = frozenset({"UBND", "HĐND", "STTTT"})
_CENTRAL_CITIES = frozenset({"Hà Nội", "Hồ Chí Minh", "Hải Phòng", "Đà Nẵng", "Cần Thơ", "Huế"})

# -- the grammar ------------------------------------------------------------------------------

# Cyrillic capitals that look like Latin ones sometimes slip into document numbers ("TT-BTС").
HOMOGLYPHS = str.maketrans("АВЕКМНОРСТХ", "ABEKMHOPCTX")

_ORDER = r"(?:\d{1,3}\.\d{1,3}|\d{1,5})[a-z]?"  # 123, 14a, 123.4
_YEAR = r"\d{4}"
_SLASH = r"[ \t]?/[ \t]?"  # "1239 /UBND-KSTT"
# Between code segments: a dash, in running text also spaced after it ("165/2024/NĐ- CP"), or a
# slash ("18/2009/TTLT/BGDĐT-BTC-BLĐTBXH").
_SPACED_JOIN = r"(?:-[ \t]?|/)"
_GLUED_JOIN = r"[-/]"
_PARTY = r"\d{1,4}-(?:NQ|CT|KL|QĐ|HD|TB|QC)/[A-ZĐ]{2,}"  # 57-NQ/TW, 05-NQ/TU
_OLD_DECREE = r"\d{1,4}-CP"  # 64-CP
# A code segment in running text runs to the end of its word ("TTr", "QH15", "UBQGCĐS", "KH&ĐT");
# in run-together text only capitals count, so that a glued title or number is not taken in.
_WORD_SEG = r"[A-ZĐ][A-Za-zĐđ0-9&]*"
_CAPS_SEG = r"(?:TTg|TTr|UBTVQH\d{1,2}|QH\d{1,2}|[A-ZĐ]+)"


def _number(seg: str, sep: str) -> str:
    return rf"(?P<order>{_ORDER}){_SLASH}(?:(?P<year>{_YEAR})/)?(?P<code>{seg}(?:{sep}{seg})*)"


# Running text: a number is a word of its own (nothing glued before or after it).
SPACED_NUMBER = re.compile(
    rf"(?<![\w/.-])(?:{_number(_WORD_SEG, _SPACED_JOIN)}|(?P<party>{_PARTY})|(?P<old>{_OLD_DECREE}))(?![\w/]|-[ \t]?\w)"
)
# Run-together cells: a number may touch the words around it; it ends where ``_number_end`` says.
# A cut-short code at the very end ("…24/2024") is kept for its title to complete.
GLUED_NUMBER = re.compile(
    rf"(?<![\d/])(?:(?<!\d\.)|(?<=\d{{4}}\.))"
    rf"(?:{_number(_CAPS_SEG, _GLUED_JOIN)}|(?P<party>{_PARTY})|(?P<old>{_OLD_DECREE})"
    rf"|(?P<short>\d{{1,4}}/\d{{4}})(?=\s*$))"
)

# "…năm 2011" or "…ngày 29/6/2024" glued to the next number ("201102/2011/QH13").
_GLUED_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?=\d{1,4}/\d{4}/)")
_SPLIT_DASH = re.compile(r"(?<=[A-ZĐ])-\s+(?=[A-ZĐ])")  # "165/2024/NĐ- CP"
_SPACES = re.compile(r"\s*/\s*|(?<=-)\s+")


def canonical_number(number: str) -> str:
    """The one spelling of a number: "1239 /UBND-KSTT" → "1239/UBND-KSTT", "NĐ- CP" → "NĐ-CP", Cyrillic → Latin."""
    return _SPACES.sub(lambda m: "/" if "/" in m.group(0) else "", number.strip().translate(HOMOGLYPHS))


def unglue(text: str) -> str:
    """Run-together cell text made ready for ``find_numbers(…, glued=True)``.

    Cyrillic look-alikes become Latin, a year glued to the next number is spaced off
    ("năm 201102/2011/QH13" → "năm 2011 02/2011/QH13") and "NĐ- CP" is joined.
    """
    text = _GLUED_YEAR.sub(r"\1 ", text.translate(HOMOGLYPHS))
    return _SPLIT_DASH.sub("-", text)


def _number_end(text: str, start: int, end: int) -> int:
    """Where a number matched in run-together text really ends when the next title is glued to it."""
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


def find_numbers(text: str, *, glued: bool = False) -> list[tuple[int, int, str]]:
    """``(start, end, number)`` of every document number in ``text``, in order, each in its canonical spelling.

    With ``glued=True`` the text is run-together table cells (pass it through ``unglue``
    first): a number may touch the title before and after it and ends at its issuer code
    ("68/2013/TT-BCALuật …" → "68/2013/TT-BCA"), and a cut-short code at the very end
    ("…24/2024") is found too.
    """
    source = text.translate(HOMOGLYPHS)  # one character for one: the offsets stay those of ``text``
    found: list[tuple[int, int, str]] = []
    if not glued:
        for m in SPACED_NUMBER.finditer(source):
            found.append((m.start(), m.end(), canonical_number(m.group(0))))
        return found
    for m in GLUED_NUMBER.finditer(source):
        start = m.start()
        end = _number_end(source, start, m.end())
        while end > start and source[end - 1] in "-/":
            end -= 1
        found.append((start, end, canonical_number(source[start:end])))
    return found


def normalize_number(raw: str) -> Optional[str]:
    """The canonical spelling of the first number in ``raw`` ("Số: 1239 /UBND-KSTT" → "1239/UBND-KSTT")."""
    numbers = find_numbers(raw)
    return numbers[0][2] if numbers else None


def number_key(number: str) -> str:
    """Comparison key: folded, no spaces ("1588/QĐ-TTg" and "1588/qđ-ttg" → "1588/qd-ttg")."""
    return "".join(fold(number).split())


# -- reading the codes ------------------------------------------------------------------------

_PARTY_SHAPE = re.compile(r"\d+-[^/]+/")
_OLD_SHAPE = re.compile(r"\d+-CP$")
_CODE_PART = re.compile(r"[^/]+/(?:\d{4}/)?(?P<code>.+)$")  # what follows the order number and the year
_ASSEMBLY = re.compile(r"QH\d*")


def number_codes(number: str) -> tuple[Optional[str], Optional[str]]:
    """(type code, issuer code) of a number: "1588/QĐ-TTg" → ("QĐ", "TTg"); "651/STTTT" → (None, "STTTT")."""
    if _PARTY_SHAPE.match(number):  # Party documents: 57-NQ/TW
        t, _, org = number.split("-", 1)[1].partition("/")
        return t, org
    if _OLD_SHAPE.match(number):  # 64-CP
        return None, "CP"
    m = _CODE_PART.match(number)
    parts = re.split(r"[-/]", m.group("code") if m else number)
    if not parts[0][:1].isalpha():  # a cut-short number ("24/2024") names no code
        return None, None
    type_code = parts[0] if parts[0] in TYPE_CODES else None
    rest = parts[1:] if type_code else parts
    if type_code is None and _ASSEMBLY.fullmatch(parts[0]):
        return None, parts[0]
    return type_code, (rest[0] if rest else None)


def type_from_number(number: str) -> Optional[str]:
    """The document type the number's code says: "1588/QĐ-TTg" → "Quyết định"; a letter has none → "Công văn"."""
    type_code, issuer_code = number_codes(number)
    if type_code:
        return TYPE_CODES[type_code]
    if _PARTY_SHAPE.match(number) or _OLD_SHAPE.match(number) or issuer_code is None:
        return None  # the number does not say it; the text does ("Nghị định 64-CP")
    if issuer_code and _ASSEMBLY.fullmatch(issuer_code):
        return "Luật"  # "148/2025/QH15"; a resolution would say "Nghị quyết" in the text
    return "Công văn"  # a number without a type code is a letter by convention


def with_locality(name: str, province: str) -> str:
    """"UBND" in Bình Định → "UBND tỉnh Bình Định"; the central cities are "thành phố"."""
    kind = "thành phố" if province in _CENTRAL_CITIES else "tỉnh"
    return f"{name} {kind} {province}"


def issuer_from_number(number: str, province: Optional[str] = None) -> Optional[str]:
    """The issuing body the number's code names, placed in ``province`` for a provincial body."""
    _, code = number_codes(number)
    if not code:
        return None
    if _ASSEMBLY.fullmatch(code):
        return "Quốc hội"
    name = ISSUER_CODES.get(code)
    if name is None:
        return None
    if code in PROVINCIAL_CODES:
        return with_locality(name, province) if province else (name + " tỉnh" if code != "STTTT" else name)
    return name
