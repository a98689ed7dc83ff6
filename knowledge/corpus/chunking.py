"""Split a document into retrieval chunks along its legal structure.

    Chương / Mục          kept as the context of every article below them
    Điều N. / Điều 39.3.LQ.1.
                          one chunk per article ("Điều 12"); an article longer than
                          ``article_chars`` is cut between its numbered clauses, packing
                          neighbouring clauses ("Điều 12, khoản 3", "Điều 12, khoản 1-2")
    anything else         (preamble, closing, documents without articles) packed by
                          paragraph to about ``paragraph_chars`` with a small overlap

No chunk body is longer than ``max_chars``: an over-long clause or paragraph is split at
sentence, then word boundaries, with the same overlap. Compiled legal-code topics (pháp
điển) repeat their articles in a closing list ("Danh sách điều khoản"); a repeated article
whose text is already covered by the first occurrence is dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

MAX_CHARS = 2000
ARTICLE_CHARS = 1500
PARAGRAPH_CHARS = 1200
OVERLAP_CHARS = 150
_HEADING_TITLE_CHARS = 200


@dataclass(frozen=True)
class TextChunk:
    text: str  # the body, without the article heading
    section: Optional[str] = None  # citation label: "Điều 12", "Điều 12, khoản 3", "Chương I"
    heading: Optional[str] = None  # the article title: "Phạm vi điều chỉnh"
    context: Optional[str] = None  # enclosing parts: "Chương III. … › Mục 2. …"

    @property
    def section_line(self) -> Optional[str]:
        """"Chương I. NHỮNG QUY ĐỊNH CHUNG › Điều 1. Phạm vi điều chỉnh"."""
        own = f"{self.section}. {self.heading}" if self.section and self.heading else self.section
        if own and self.context and (self.context == own or self.context.startswith(own + ".")):
            own = None  # a chapter's own text: the context already names it
        line = " › ".join(x for x in (self.context, own) if x)
        return line or None


@dataclass
class ChunkStats:
    articles: int = 0
    duplicates_dropped: int = 0
    labels: list[str] = field(default_factory=list)


_NUM = r"\d+(?:\.\d+)*\.[A-ZĐ]+(?:\.\d+[a-zđ]?)+|\d+[a-zđ]?"
_ARTICLE = re.compile(rf"^(?:#{{1,6}}\s*)?(?:Điều|ĐIỀU)\s+(?P<num>{_NUM})(?:[.:]\s*|\s*$)(?P<title>.*)$")
_PHAP_DIEN_NUM = re.compile(r"^\d+(?:\.\d+)*\.[A-ZĐ]+\.")
_CHAPTER = re.compile(r"^(?:#{1,6}\s*)?(?:Chương|CHƯƠNG)\s+(?P<num>[IVXLC]+|\d+)\b\.?\s*(?P<title>.*)$")
_SECTION = re.compile(r"^(?:#{1,6}\s*)?(?:Mục|MỤC)\s+(?P<num>[IVXLC]+|\d+)\b\.?\s*(?P<title>.*)$")
_CLOSING = re.compile(r"^(?:Nơi nhận|NƠI NHẬN)\s*[:.]?")
_MD_HEADING = re.compile(r"^#{1,6}\s+(?P<title>.*)$")
_CLAUSE = re.compile(r"^(?:Khoản\s+)?(?P<n>\d{1,3})\.\s+\S")
# pháp điển pages glue the next heading to the previous sentence: "…tạm trú.Điều 39.3.LQ.2. …"
_GLUED = re.compile(r"(?<=[.;:)”\"])(?=Điều \d+\.\d+\.[A-ZĐ]+\.\d)")


@dataclass
class _Block:
    lines: list[str]
    label: Optional[str] = None
    heading: Optional[str] = None
    context: Optional[str] = None
    article: bool = False


def _is_upper(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and all(c.isupper() for c in letters)


def _clean_line(line: str) -> str:
    m = _MD_HEADING.match(line)
    line = (m.group("title") if m else line).strip()
    if len(line) > 2 and line[0] == line[-1] == "*":  # *italic line*
        line = line.strip("*").strip()
    return line


def _is_rule(line: str) -> bool:
    """Separator lines: ---, ___, ***, ===."""
    return not any(c.isalnum() for c in line)


def chunk_text(
    text: str,
    *,
    max_chars: int = MAX_CHARS,
    article_chars: int = ARTICLE_CHARS,
    paragraph_chars: int = PARAGRAPH_CHARS,
    overlap: int = OVERLAP_CHARS,
    stats: Optional[ChunkStats] = None,
) -> list[TextChunk]:
    """Chunks of one document, in reading order."""
    article_chars = min(article_chars, max_chars)
    paragraph_chars = min(paragraph_chars, max_chars)
    overlap = min(overlap, paragraph_chars // 4)
    stats = stats if stats is not None else ChunkStats()
    blocks = _blocks(_GLUED.sub("\n", text), stats)
    out: list[TextChunk] = []
    for block in blocks:
        if block.article:
            out += _article_chunks(block, max_chars, article_chars, overlap)
        else:
            lines = [_clean_line(x) for x in block.lines if not _is_rule(x)]
            for part in pack(lines, paragraph_chars, max_chars, overlap):
                out.append(TextChunk(part, block.label, None, block.context))
    return out


def _blocks(text: str, stats: ChunkStats) -> list[_Block]:
    lines = [ln.rstrip() for ln in text.split("\n")]
    stripped = [ln.strip() for ln in lines]
    matches = [_ARTICLE.match(s) for s in stripped]
    phap_dien = sum(1 for m in matches if m and _PHAP_DIEN_NUM.match(m.group("num"))) >= 3
    if phap_dien:  # plain "Điều 5." lines there quote the source law, they are not articles
        matches = [m if m and _PHAP_DIEN_NUM.match(m.group("num")) else None for m in matches]
    if not any(matches):
        return [_Block(lines)]

    blocks: list[_Block] = []
    chapter: Optional[str] = None
    chapter_label: Optional[str] = None
    section: Optional[str] = None
    current = _Block([])
    seen: dict[str, list[_Block]] = {}

    def context() -> Optional[str]:
        return " › ".join(x for x in (chapter, section) if x) or None

    def close(new: _Block) -> _Block:
        nonlocal current
        label = current.label
        if current.article and label:
            if any(_covered(current, earlier) for earlier in seen.get(label, [])):
                stats.duplicates_dropped += 1
                current = new
                return current
            seen.setdefault(label, []).append(current)
            stats.articles += 1
            stats.labels.append(label)
        content = [x for x in current.lines if x.strip() and not x.lstrip().startswith("#")]
        if current.article or content:
            blocks.append(current)
        current = new
        return current

    def part_title(i: int, title: str) -> tuple[str, int]:
        """Title of a chapter/section: on its line, or the capitalised line below it."""
        title = title.strip(" .:-–")
        if title:
            return title, i
        j = i + 1
        while j < len(stripped) and not stripped[j]:
            j += 1
        if j < len(stripped) and _is_upper(stripped[j]) and not matches[j]:
            return _clean_line(stripped[j]), j
        return "", i

    i = 0
    while i < len(lines):
        s = stripped[i]
        m = matches[i]
        chap = _CHAPTER.match(s) if not m else None
        sect = _SECTION.match(s) if not m and not chap else None
        if m:
            title = m.group("title").strip()
            label = f"Điều {m.group('num')}"
            new = _Block([], label, title or None, context(), article=True)
            if len(title) > _HEADING_TITLE_CHARS:  # a one-line article: keep its text as body
                new = _Block([title], label, None, context(), article=True)
            close(new)
        elif chap and (not chap.group("title") or _is_upper(chap.group("title"))):
            title, i = part_title(i, chap.group("title"))
            chapter_label = f"Chương {chap.group('num')}"
            chapter = chapter_label + (f". {title}" if title else "")
            section = None
            close(_Block([], chapter_label, None, context()))
        elif sect and (not sect.group("title") or _is_upper(sect.group("title"))):
            title, i = part_title(i, sect.group("title"))
            section = f"Mục {sect.group('num')}" + (f". {title}" if title else "")
            close(_Block([], chapter_label, None, context()))
        elif re.fullmatch(r"#+\s*\d+", s):
            pass  # numeric anchors of the pháp điển article list
        elif _CLOSING.match(s) or (_MD_HEADING.match(s) and current.article):
            chapter = section = chapter_label = None  # what follows is outside the articles
            close(_Block([lines[i]]))
        else:
            current.lines.append(lines[i])
        i += 1
    close(_Block([]))
    return blocks


def _bigrams(text: str) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    if len(words) < 2:
        return {tuple(words)} if words else set()
    return set(zip(words, words[1:], strict=False))


def _covered(dup: _Block, first: _Block) -> bool:
    """True when (nearly) every word pair of the repeated article is already in the first one."""
    dup_pairs = _bigrams(" ".join([dup.heading or "", *dup.lines]))
    if not dup_pairs:
        return True
    first_pairs = _bigrams(" ".join([first.heading or "", *first.lines]))
    if len(dup_pairs) == 1:
        only = next(iter(dup_pairs))
        return only in first_pairs or (len(only) == 1 and any(only[0] in p for p in first_pairs))
    return len(dup_pairs & first_pairs) >= 0.8 * len(dup_pairs)


def _article_chunks(block: _Block, max_chars: int, article_chars: int, overlap: int) -> list[TextChunk]:
    label = block.label
    lines = [ln.strip() for ln in block.lines if not _is_rule(ln)]
    body = "\n".join(lines)

    def make(text: str, clauses: list[int]) -> TextChunk:
        section = label
        if clauses:
            span = str(clauses[0]) if len(clauses) == 1 else f"{clauses[0]}-{clauses[-1]}"
            section = f"{label}, khoản {span}"
        return TextChunk(text, section, block.heading, block.context)

    if len(body) <= article_chars:
        return [make(body or (block.heading or label or ""), [])]
    pieces = _clauses(lines)
    if len(pieces) <= 1:
        return [make(part, []) for part in pack(lines, article_chars, max_chars, overlap)]

    groups: list[tuple[list[int], str]] = []  # (clause numbers, text)
    group: list[str] = []
    nums: list[int] = []
    size = 0
    for num, piece_lines in pieces:
        piece = "\n".join(piece_lines)
        if len(piece) > max_chars:
            # a short lead-in (the source note, the intro sentence) rides with the long clause
            lead = group if group and size < article_chars // 3 else []
            if group and not lead:
                groups.append((nums, "\n".join(group)))
            parts = pack(lead + piece_lines, article_chars, max_chars, overlap)
            groups += [(nums + [num] if num else list(nums), part) for part in parts] if lead else [
                ([num] if num else [], part) for part in parts]
            group, nums, size = [], [], 0
            continue
        small_lead = size < article_chars // 3 and size + len(piece) + 1 <= max_chars
        if group and size + len(piece) + 1 > article_chars and not small_lead:
            groups.append((nums, "\n".join(group)))
            group, nums, size = [], [], 0
        group.append(piece)
        size += len(piece) + 1
        if num:
            nums.append(num)
    if group:
        groups.append((nums, "\n".join(group)))
    # a short last clause joins the group before it rather than standing alone
    if len(groups) >= 2 and len(groups[-1][1]) < article_chars // 5:
        (n1, t1), (n2, t2) = groups[-2], groups[-1]
        if len(t1) + len(t2) + 1 <= max_chars and not t2.startswith("…"):
            groups[-2:] = [(n1 + n2, t1 + "\n" + t2)]
    return [make(text, clause_nums) for clause_nums, text in groups]


def _clauses(lines: list[str]) -> list[tuple[Optional[int], list[str]]]:
    """Split article lines at clauses numbered 1., 2., 3. … in sequence; text before 1. has None.

    A "1." inside clause 3 (a nested list) is text of clause 3, not a new clause.
    """
    pieces: list[tuple[Optional[int], list[str]]] = [(None, [])]
    expected = 1
    for line in lines:
        m = _CLAUSE.match(line)
        if m and expected <= int(m.group("n")) <= expected + 1:  # one missing number is tolerated
            n = int(m.group("n"))
            pieces.append((n, [line]))
            expected = n + 1
        else:
            pieces[-1][1].append(line)
    return [p for p in pieces if p[1]]


# -- packing ----------------------------------------------------------------------------------


def pack(units: list[str], target: int, max_chars: int, overlap: int = 0) -> list[str]:
    """Join units (lines, paragraphs) into chunks of about ``target`` chars, never above ``max_chars``.

    A new chunk starts with the last ``overlap`` characters of the previous one ("… tail")
    so that a sentence cut at the boundary is still readable on both sides.
    """
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for unit in units:
        unit = unit.strip()
        if not unit:
            continue
        if len(unit) > max_chars:
            if current:
                chunks.append("\n".join(current))
                current, size = [], 0
            chunks += hard_split(unit, max_chars, overlap)
            continue
        if current and size + len(unit) + 1 > target:
            chunks.append("\n".join(current))
            tail = _tail(chunks[-1], overlap)
            current, size = ([tail], len(tail) + 1) if tail and len(tail) + len(unit) + 1 <= max_chars else ([], 0)
        current.append(unit)
        size += len(unit) + 1
    if current:
        chunks.append("\n".join(current))
    return chunks


def hard_split(text: str, max_chars: int, overlap: int = 0) -> list[str]:
    """Split one long paragraph at sentence ends, then at spaces, into pieces ≤ ``max_chars``."""
    sentences = re.split(r"(?<=[.;:!?])\s+", text)
    units: list[str] = []
    for sentence in sentences:
        while len(sentence) > max_chars - overlap - 2:
            limit = max_chars - overlap - 2
            cut = sentence.rfind(" ", 0, limit)
            cut = cut if cut > limit // 2 else limit
            units.append(sentence[:cut])
            sentence = sentence[cut:].lstrip()
        if sentence:
            units.append(sentence)
    chunks: list[str] = []
    current = ""
    for unit in units:
        if current and len(current) + 1 + len(unit) > max_chars:
            chunks.append(current)
            tail = _tail(current, overlap)
            current = tail if tail and len(tail) + 1 + len(unit) <= max_chars else ""
        current = f"{current} {unit}" if current else unit
    if current:
        chunks.append(current)
    return chunks


def _tail(text: str, overlap: int) -> str:
    if overlap <= 0 or len(text) <= overlap:
        return ""
    tail = text[-overlap:]
    space = tail.find(" ")
    tail = tail[space + 1:] if 0 <= space < len(tail) - 1 else tail
    return "… " + " ".join(tail.split())
