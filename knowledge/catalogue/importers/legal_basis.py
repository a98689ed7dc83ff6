"""The legal-basis table of a portal record: "Tên văn bản pháp lý | Mã văn bản", run together.

Document numbers are read by ``knowledge.text.legal_numbers`` (the same grammar the corpus
uses); this module decides which number is the "Mã văn bản" cell of a row and which is cited
inside the title.
"""

from __future__ import annotations

import re
from typing import Optional

from knowledge.catalogue.importers.common import clip
from knowledge.catalogue.models import LegalRef
from knowledge.text.legal_numbers import find_numbers, unglue

LEGAL_HEADER = "Tên văn bản pháp lýMã văn bản"
_GLUED_TYPE = re.compile(
    r"(?<=[^\W_]|[.)])(?:Nghị định|Thông tư liên tịch|Thông tư|Quyết định|Nghị quyết|Bộ luật|Luật|"
    r"Pháp lệnh|NĐ|TT|QĐ)(?:\s+số)?\s*$"
)
_WS = re.compile(r"\s+")


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
    body = unglue((text or "").replace(LEGAL_HEADER, " "))
    numbers = find_numbers(body, glued=True)
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

