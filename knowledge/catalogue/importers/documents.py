"""The document table of a portal record: "Tên giấy tờ | Mẫu đơn, tờ khai | Số lượng", run together.

Each name ends at its quantity cell ("1 bản chính"); header words, section titles and the
form file names glued after a name are dropped.
"""

from __future__ import annotations

import re

from knowledge.catalogue.importers.common import clean, clip

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

