"""What may leave the bot, in every channel (standard library only: Rasa imports it).

One rule, used by the portal, Facebook and Zalo output channels:

* Links: only ``knowledge.text.links.safe_link`` links (https: with a host, tel:) leave.
  A link button with any other URL (``javascript:``, ``data:``, ``http:``, malformed) is
  dropped; so is a custom payload or attachment that carries such a URL.
* Portal text: the widget (rasa-webchat 1.0.1) renders bot text as Markdown with
  ``transformLinkUri: null``, i.e. it does NOT neutralise ``[x](javascript:…)`` itself. Bot
  text is therefore escaped (``markdown_text``) so that whatever a record, the one-stop
  system or an injected event puts in it renders as the literal characters: Markdown
  punctuation is backslash-escaped (the escapes remark-parse accepts in GFM mode), ``<``,
  ``>`` and ``&`` become entities (remark decodes them into plain text), and a
  ``http:``/``mailto:`` that remark would autolink is broken with ``&#58;``. Bare safe https
  URLs are kept (brackets percent-encoded), so they stay readable and clickable (GFM autolink).

And what may come in, in every channel (``clean_text``, ``clean_id``, ``load_json``): text is
NFC-normalised, a lone surrogate (valid in JSON as ``"\\ud800"``, not encodable in UTF-8)
becomes U+FFFD and control characters other than tab and newlines are dropped, because such a
string reaching the SQL tracker store made Rasa 3.6 exit (its ``session_scope`` takes any
``ValueError``, ``UnicodeEncodeError`` included, for a missing PostgreSQL schema and calls
``sys.exit``). An id (sender, message id) with any of them is refused instead. A body nested
too deep for the JSON parser is malformed JSON like any other.

Nothing here logs a URL or a text (they may quote a citizen or carry an injected payload).
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from typing import Any, Dict, List, Optional, Tuple

from knowledge.text.links import safe_link

__all__ = ["safe_link", "safe_buttons", "markdown_text", "scrub_links", "is_link_button", "clean_text", "clean_id",
           "load_json", "unsafe_chars", "MAX_ID_CHARS"]

logger = logging.getLogger(__name__)

# Keys whose value is fetched or opened by the client.
URL_KEYS = ("url", "image_url", "src", "fallback_url", "image", "thumbnail")

# The escapes remark-parse (markdown-escapes, gfm set) understands; a backslash before any
# other character would be shown.
_MD_ESCAPE = re.compile(r"([\\`*{}\[\]()#+\-.!_~|])")
# A bare URL candidate: up to white space or a character no safe URL contains.
_BARE_URL = re.compile(r"https://[^\s<>\"'`\\]+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}*_~"
_URL_BRACKETS = str.maketrans({"[": "%5B", "]": "%5D", "(": "%28", ")": "%29"})
_AUTOLINK_SCHEME = re.compile(r"(?i)\b(https?|mailto|ftp|file|javascript|data|vbscript):")
_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_ID_CHARS = 128


def clean_text(text: str) -> str:
    """Inbound text as the dialogue may read and store it (see the module docstring)."""
    text = _CONTROL.sub("", _SURROGATE.sub("\ufffd", text))
    return unicodedata.normalize("NFC", text)


def unsafe_chars(text: str) -> bool:
    """True when ``text`` has a lone surrogate or a control character (tab and newlines aside)."""
    return bool(_SURROGATE.search(text) or _CONTROL.search(text))


def clean_id(value: Any, spaces: bool = False) -> Optional[str]:
    """A platform id (a string or an integer) as a string, or None when it is not a usable id:
    empty, longer than ``MAX_ID_CHARS``, or with surrogates, control characters or (unless
    ``spaces``) white space."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    text = str(value)
    if not text or len(text) > MAX_ID_CHARS or unsafe_chars(text) \
            or not text.strip() or (not spaces and any(c.isspace() for c in text)):
        return None
    return text


def load_json(raw: Optional[bytes]) -> Tuple[bool, Any]:
    """(True, value) for a JSON body, (False, None) for anything else: not JSON, not UTF-8,
    nested too deep for the parser (RecursionError), numbers too long to convert."""
    try:
        return True, json.loads(raw or b"")
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        return False, None


def is_link_button(button: Dict[str, Any]) -> bool:
    return bool(button.get("url")) or str(button.get("type") or "") in ("web_url", "oa.open.url")


def safe_buttons(buttons: Optional[List[Any]], channel: str = "") -> List[Dict[str, Any]]:
    """The buttons that may be sent: payload buttons, and link buttons whose URL is safe (the
    safe URL then replaces the original). Dropped ones are counted in the log."""
    out: List[Dict[str, Any]] = []
    dropped = 0
    for button in buttons or []:
        if not isinstance(button, dict):
            dropped += 1
            continue
        if is_link_button(button):
            url = safe_link(button.get("url") or button.get("payload"))
            if url is None:
                dropped += 1
                continue
            button = {**button, "url": url}
        out.append(button)
    if dropped:
        logger.warning("%s: %d button(s) with an unsafe or missing link dropped", channel or "channel", dropped)
    return out


def _escape_plain(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_ESCAPE.sub(r"\\\1", text)
    return _AUTOLINK_SCHEME.sub(lambda m: m.group(1) + "&#58;", text)


def markdown_text(text: str) -> str:
    """``text`` made inert for a Markdown renderer, bare safe https URLs kept as they are."""
    out: List[str] = []
    pos = 0
    for match in _BARE_URL.finditer(text):
        url = match.group(0).rstrip(_TRAILING)
        # A closing parenthesis belongs to the URL only if it opened one (Wikipedia-style links).
        while url.endswith(")") and url.count("(") < url.count(")"):
            url = url[:-1]
        if safe_link(url) is None or len(url) <= len("https://"):
            continue
        start = match.start()
        out.append(_escape_plain(text[pos:start]))
        # Brackets percent-encoded (the same URL): no Markdown link syntax can hide inside one.
        out.append(url.translate(_URL_BRACKETS))
        pos = start + len(url)
    out.append(_escape_plain(text[pos:]))
    return "".join(out)


def scrub_links(value: Any) -> Any:
    """``value`` (a custom payload, attachment or template) without anything that carries an
    unsafe URL: an unsafe URL removes the nearest enclosing list item, or the whole value
    (None) when there is no list in between; a list emptied that way counts as unsafe too
    (a template without its buttons is not sent)."""
    if isinstance(value, list):
        items = [scrub_links(v) for v in value]
        kept = [v for v, original in zip(items, value, strict=True) if v is not None or original is None]
        return None if value and not kept else kept  # emptied (e.g. every button unsafe): drop the parent
    if isinstance(value, dict):
        out: Dict[str, Any] = {}
        for key, item in value.items():
            if key in URL_KEYS and isinstance(item, str):
                url = safe_link(item)
                if url is None:
                    return None
                out[key] = url
                continue
            if isinstance(item, dict):
                cleaned = scrub_links(item)
                if cleaned is None:
                    return None
                out[key] = cleaned
            elif isinstance(item, list):
                cleaned_list = scrub_links(item)
                if cleaned_list is None:
                    return None
                out[key] = cleaned_list
            else:
                out[key] = item
        if str(out.get("type") or "") in ("web_url", "oa.open.url") and "url" not in out \
                and not isinstance(out.get("payload"), dict):
            return None  # a link button without a URL of its own
        return out
    return value
