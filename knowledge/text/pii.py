"""Personal data in citizens' messages, masked before anything is stored or logged.

Standard library only: the Rasa server (Python 3.10, bot/rasa_patches.py), the action
server and the knowledge service's desk all mask with this one module.

What is masked (Nghị định 13/2023/NĐ-CP: basic personal data; docs/PRIVACY.md):

* e-mail addresses: ``nguyenvana@gmail.com`` → ``n*********@gmail.com``;
* phone numbers written the Vietnamese way (``0912 345 678``, ``0912.345.678``,
  ``+84 912 345 678``, landlines ``028 3829 …``): the digits between the first four and the
  last two become ``*`` (``0912****78``);
* every other run of 9 to 12 digits: CMND (9), the social-insurance number (10), CCCD (12)
  (``079203001234`` → ``0792******34``), also typed in groups (``079 203 001 234``,
  ``123 456 789``); a passport number (one capital letter and 7 digits, ``C1234567``);
* a name the citizen gives after "tên tôi là", "tôi tên", "họ tên", "họ và tên": the words
  up to the next punctuation or number become initials (``tên tôi là N*** V*** A***``).

Dossier codes (``G22.99.01-251120-0001``), procedure codes (``1.001193``), dates, amounts
and short numbers are left alone: none has 9 consecutive digits. Masking is idempotent.

``keep_contact=True`` leaves phone numbers and e-mail addresses as typed: only for the one
message in which a citizen who consented gives the number an officer should call back.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["mask_pii", "mask_number", "mask_email", "mask_passport", "contains_pii"]

EMAIL = re.compile(r"(?<![\w.+-])([\w.+-]+)@([\w-]+(?:\.[\w-]+)+)", re.UNICODE)
# 0, +84, 84 or (+84) then 8 to 10 more digits, single spaces, dots or dashes allowed between digits;
# not inside an amount (``1.000.000.000 đồng``).
PHONE = re.compile(r"(?<![\w+*(])(?<!\d[.,])(?:\(\+?84\) ?|\+84|84|0)(?:[ .\-]?\d){8,10}(?![\w*]|[.,]\d)")
DIGITS = re.compile(r"(?<![\d*])\d{9,12}(?![\d*])")
# An ID number typed in groups: 12 digits as 3-3-3-3 or 4-4-4 (CCCD; masked before phone numbers,
# which would otherwise take its first 9 or 10 digits), 9 digits as 3-3-3 (CMND). Spaces only:
# amounts are written with dots (``150.000.000 đồng``).
GROUPED_ID = re.compile(r"(?<![\w*.,+-])(?:\d{3}(?: \d{3}){3}|\d{4}(?: \d{4}){2})(?![\w*]|[.,-]\d)")
GROUPED_CMND = re.compile(r"(?<![\w*.,+-])\d{3} \d{3} \d{3}(?![\w*]|[ .,-]\d)")
PASSPORT = re.compile(r"(?<![\w*.-])[A-Z]\d{7}(?![\w*]|[.-]\d)")
# "tên tôi là …", "tôi tên là …", "họ tên: …", "họ và tên …", matched on folded text.
NAME_CUE = re.compile(
    r"\b(?:ten (?:cua )?(?:toi|em|minh|con|chau|tui|anh|chi) la|(?:toi|em|minh|tui) ten(?: la)?|ho va ten|ho ten)"
    r"\b[\s:]*",
    re.IGNORECASE)
NAME_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
# Words that end a name: compared as typed when accented, folded when typed without accents
# (folded syllables that are also given names, thi/nam/sinh/an…, only stop an accented name).
NAME_STOP = {"và", "cccd", "cmnd", "sđt", "sdt", "số", "điện", "email", "mail", "ở", "tại", "sinh", "năm", "cần",
             "muốn", "hỏi", "làm", "có", "đang", "thì", "nhé", "ạ", "ơi", "không", "ko", "gì", "là", "của", "đây",
             "xin", "cho", "được", "đã", "sẽ", "mình", "tôi", "em"}
NAME_STOP_FOLDED = {"va", "cccd", "cmnd", "sdt", "so", "dien", "email", "mail", "tai", "can", "muon", "hoi", "lam",
                    "co", "dang", "nhe", "oi", "khong", "ko", "gi", "la", "cua", "day", "xin", "cho", "duoc", "da",
                    "se", "minh", "toi", "em"}
MAX_NAME_WORDS = 5
MIDDLE_NAMES = {"van", "thi"}  # often typed in lower case inside a capitalised name


def mask_number(number: str) -> str:
    """Digits kept at the ends (4 and 2; 3 and 2 for 9 digits), the rest ``*``; separators dropped."""
    digits = "".join(ch for ch in number if ch.isdigit())
    plus = "+" if number.lstrip("(").startswith("+") else ""
    head = 3 if len(digits) <= 9 else 4
    return plus + digits[:head] + "*" * (len(digits) - head - 2) + digits[-2:]


def mask_email(match: re.Match[str]) -> str:
    local, domain = match.group(1), match.group(2)
    return f"{local[0]}{'*' * max(len(local) - 1, 3)}@{domain}"


def _number(match: re.Match[str]) -> str:
    return mask_number(match.group(0))


def mask_passport(match: re.Match[str]) -> str:
    return match.group(0)[0] + "*" * 5 + match.group(0)[-2:]


def _fold(text: str) -> str:
    """Lowercase, diacritics removed, one character per character (offsets are kept)."""
    out = []
    for ch in text:
        base = unicodedata.normalize("NFD", ch)[0]
        out.append("d" if ch in "đĐ" else base.lower())
    return "".join(out)


def _ends_name(word: str) -> bool:
    lower = word.lower()
    folded = _fold(word)
    return lower in NAME_STOP if folded != lower else folded in NAME_STOP_FOLDED


def _mask_names(text: str) -> str:
    folded = _fold(text)
    pieces: list[str] = []
    last = 0
    for cue in NAME_CUE.finditer(folded):
        pos = cue.end()
        words = 0
        capitalised = False
        while words < MAX_NAME_WORDS:
            word = NAME_WORD.match(text, pos)
            if not word or text[word.end():word.end() + 1] == "*":
                break
            # A name typed with capitals goes on while the words are capitalised ("Phạm Minh Châu": "Minh"
            # is not "mình") and ends at the first lower-case word ("Lê Văn Tám sinh năm …").
            upper = word.group(0)[0].isupper()
            if words == 0:
                capitalised = upper
            if capitalised and not upper and _fold(word.group(0)) not in MIDDLE_NAMES:
                break
            if not (capitalised and upper and words > 0) and _ends_name(word.group(0)):
                break
            # A name typed with capitals ends at the first lower-case word ("Lê Văn Tám sinh năm …").
            pieces.append(text[last:word.start()])
            pieces.append(word.group(0)[0] + "***")
            last = pos = word.end()
            words += 1
            gap = re.match(r"[ \t]+", text[pos:])
            if not gap:
                break
            pos += gap.end()
    pieces.append(text[last:])
    return "".join(pieces)


def mask_pii(text: str, keep_contact: bool = False) -> str:
    """``text`` with ID numbers, phone numbers, e-mail addresses and given names masked."""
    if not text:
        return text
    text = unicodedata.normalize("NFC", text)
    text = GROUPED_ID.sub(_number, text)
    text = PASSPORT.sub(mask_passport, text)
    if not keep_contact:
        text = EMAIL.sub(mask_email, text)
        text = PHONE.sub(_number, text)
        text = GROUPED_CMND.sub(_number, text)
        text = DIGITS.sub(_number, text)
    else:
        # ID numbers still go; a phone number (0…, 10–11 digits) is the contact being left.
        text = DIGITS.sub(lambda m: m.group(0) if PHONE.fullmatch(m.group(0)) else mask_number(m.group(0)), text)
    return _mask_names(text)


def contains_pii(text: str) -> bool:
    """True when masking would change ``text`` (used by tests and the privacy checks)."""
    return mask_pii(text) != unicodedata.normalize("NFC", text or "")
