"""Read a document file into plain NFC text.

    .txt            as is
    .md             YAML front matter split off; emphasis, links and inline tags removed
    .html / .htm    tags stripped (html.parser), block elements become paragraph breaks
    .docx           word/document.xml paragraphs and table rows (zipfile + ElementTree)
    .pdf            text layer through pypdf when it is installed, otherwise unreadable

Bytes are decoded as UTF-8; failing that as cp1258 (the Vietnamese Windows code page)
and as a last resort latin-1, with a warning. A file that cannot be read raises
``UnreadableFile`` with a reason that the ingest report shows.
"""

from __future__ import annotations

import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Optional
from xml.etree import ElementTree

import yaml

SUPPORTED_EXTENSIONS = frozenset({".txt", ".md", ".markdown", ".html", ".htm", ".docx", ".pdf"})
MAX_FILE_BYTES = 20 * 1024 * 1024


class UnreadableFile(Exception):
    """The file cannot be turned into text; the message is the reason shown in reports."""


@dataclass(frozen=True)
class ReadResult:
    text: str
    encoding: str
    front_matter: dict[str, Any] = field(default_factory=dict)
    title_hint: Optional[str] = None  # <title> of an HTML page
    warnings: tuple[str, ...] = ()


def read_document(path: Path) -> ReadResult:
    """Read one supported file; raise ``UnreadableFile`` with the reason otherwise."""
    ext = path.suffix.lower()
    if ext not in SUPPORTED_EXTENSIONS:
        raise UnreadableFile(f"unsupported extension {ext or '(none)'}")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise UnreadableFile(f"cannot stat file: {exc.strerror or exc}") from exc
    if size > MAX_FILE_BYTES:
        raise UnreadableFile(f"file too large ({size} bytes > {MAX_FILE_BYTES})")
    try:
        if ext == ".docx":
            return read_docx(path)
        if ext == ".pdf":
            return read_pdf(path)
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableFile(f"cannot read file: {exc.strerror or exc}") from exc
    text, encoding, warnings = decode_bytes(data)
    if ext in (".html", ".htm"):
        body, title = html_to_text(text)
        return ReadResult(body, encoding, title_hint=title, warnings=warnings)
    if ext in (".md", ".markdown"):
        meta, body = split_front_matter(text)
        return ReadResult(clean_markup(body), encoding, front_matter=meta, warnings=warnings)
    return ReadResult(clean_markup(text), encoding, warnings=warnings)


# -- decoding ---------------------------------------------------------------------------------


def decode_bytes(data: bytes) -> tuple[str, str, tuple[str, ...]]:
    """UTF-8 (BOM allowed), else cp1258, else latin-1; text returned in NFC with \\n newlines."""
    for encoding in ("utf-8-sig", "cp1258", "latin-1"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        warnings: tuple[str, ...] = ()
        if encoding != "utf-8-sig":
            warnings = (f"not valid UTF-8, decoded as {encoding}",)
        return normalize_text(text), ("utf-8" if encoding == "utf-8-sig" else encoding), warnings
    raise AssertionError("latin-1 decodes any bytes")  # pragma: no cover


def normalize_text(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # no-break and zero-width spaces are common in pages copied from portals
    text = text.replace("\u00a0", " ").replace("\u200b", "").replace("\ufeff", "")
    return text


# -- Markdown and plain text ------------------------------------------------------------------

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)---[ \t]*\n", re.S)
_MD_LINK = re.compile(r"!?\[([^\]\n]*)\]\([^)\n]*\)")
_INLINE_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>\n]*)?/?>")
_EMPHASIS = re.compile(r"\*\*|__")
_SUPERSCRIPT = re.compile(r"\^\(([^)\n]{0,10})\)")


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """Split a leading YAML block off; a malformed block is left in the text."""
    m = _FRONT_MATTER.match(text)
    if not m:
        return {}, text
    try:
        meta = yaml.safe_load(m.group(1))
    except yaml.YAMLError:
        return {}, text
    if not isinstance(meta, dict):
        return {}, text
    return {str(k): v for k, v in meta.items()}, text[m.end():]


def clean_markup(text: str) -> str:
    """Drop the Markdown/HTML decoration that pages copied into .txt/.md carry; keep '#' headings."""
    text = _MD_LINK.sub(r"\1", text)
    text = _INLINE_TAG.sub("", text)
    text = _EMPHASIS.sub("", text)
    text = _SUPERSCRIPT.sub("", text)
    return text


# -- HTML -------------------------------------------------------------------------------------

_BLOCK_TAGS = frozenset(
    "address article aside blockquote body br dd div dl dt fieldset figcaption figure footer form h1 h2 h3 "
    "h4 h5 h6 header hr li main nav ol p pre section table tbody td th thead tr ul".split()
)
_SKIP_TAGS = frozenset({"script", "style", "noscript", "template", "svg", "head"})


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title_parts: list[str] = []
        self._skip = 0
        self._pre = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, Optional[str]]]) -> None:
        if tag == "title":
            self._in_title = True
        if tag == "body":
            self._skip = 0  # an unclosed <head> must not hide the page
        if tag == "pre":
            self._pre += 1
        if tag in _SKIP_TAGS:
            self._skip += 1
        elif tag in ("td", "th"):
            self.parts.append(" | ")
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n" if tag == "br" else "\n\n")
            if tag == "li":
                self.parts.append("- ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, Optional[str]]]) -> None:
        if tag in ("br", "hr"):
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if tag == "pre":
            self._pre = max(0, self._pre - 1)
        if tag in _SKIP_TAGS:
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK_TAGS and tag not in ("td", "th", "br"):
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title_parts.append(data)
        if not self._skip:
            # source line breaks are plain spaces in HTML; only <br> and blocks break lines
            self.parts.append(data if self._pre else re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> tuple[str, Optional[str]]:
    """Visible text of a page with one blank line between blocks, and its <title>."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    raw = "".join(parser.parts)
    paragraphs: list[str] = []
    for block in re.split(r"\n\s*\n", raw):
        lines = [" ".join(line.split()) for line in block.split("\n")]
        lines = [ln[2:] if ln.startswith("| ") else ln for ln in lines]
        joined = "\n".join(ln for ln in lines if ln)
        if joined:
            paragraphs.append(joined)
    title = " ".join("".join(parser.title_parts).split()) or None
    return normalize_text("\n\n".join(paragraphs)), title


# -- DOCX -------------------------------------------------------------------------------------

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _paragraph_text(p: ElementTree.Element) -> str:
    out: list[str] = []
    for el in p.iter():
        if el.tag == _W + "t" and el.text:
            out.append(el.text)
        elif el.tag == _W + "tab":
            out.append("\t")
        elif el.tag in (_W + "br", _W + "cr"):
            out.append("\n")
    return "".join(out).strip()


def read_docx(path: Path) -> ReadResult:
    try:
        with zipfile.ZipFile(path) as zf:
            info = zf.getinfo("word/document.xml")
            if info.file_size > MAX_FILE_BYTES * 5:
                raise UnreadableFile("word/document.xml too large")
            xml = zf.read(info)
    except KeyError as exc:
        raise UnreadableFile("not a Word document (no word/document.xml)") from exc
    except zipfile.BadZipFile as exc:
        raise UnreadableFile("not a valid .docx (bad zip archive)") from exc
    try:
        root = ElementTree.fromstring(xml)
    except ElementTree.ParseError as exc:
        raise UnreadableFile(f"invalid word/document.xml: {exc}") from exc
    body = root.find(_W + "body")
    paragraphs: list[str] = []
    for el in body if body is not None else []:
        if el.tag == _W + "p":
            text = _paragraph_text(el)
            if text:
                paragraphs.append(text)
        elif el.tag != _W + "tbl":  # content controls (w:sdt) and the like wrap paragraphs
            paragraphs += [t for t in (_paragraph_text(p) for p in el.iter(_W + "p")) if t]
        else:
            for row in el.iter(_W + "tr"):
                cells = [" ".join(_paragraph_text(p) for p in tc.iter(_W + "p")).strip() for tc in row.iter(_W + "tc")]
                if any(cells):
                    paragraphs.append(" | ".join(cells))
    return ReadResult(normalize_text("\n\n".join(paragraphs)), "utf-8")


# -- PDF --------------------------------------------------------------------------------------


def read_pdf(path: Path) -> ReadResult:
    try:
        import pypdf
    except ImportError as exc:
        raise UnreadableFile("PDF support needs the optional package pypdf, which is not installed") from exc
    try:
        reader = pypdf.PdfReader(str(path))
        pages = [page.extract_text() or "" for page in reader.pages]
    except Exception as exc:  # pypdf raises many kinds of errors on broken files
        raise UnreadableFile(f"cannot read PDF: {exc}") from exc
    text = "\n\n".join(p.strip() for p in pages if p.strip())
    if not text:
        raise UnreadableFile("PDF has no text layer (scanned image?)")
    return ReadResult(normalize_text(text), "pdf")
