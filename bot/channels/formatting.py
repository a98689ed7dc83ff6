"""One formatting layer for every channel (standard library only: Rasa imports it).

Actions send channel-neutral messages: text, and buttons that are either a payload
(``{"title", "payload"}``) or a link (``{"title", "url"}``). Each channel renders them
within its own limits with these helpers: long text is split at paragraph, line, then
word boundaries (never cut), and buttons are trimmed to the platform's title length and
count, the overflow going into extra messages rather than being dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional


@dataclass(frozen=True)
class ChannelLimits:
    text: int  # characters per message
    buttons: int  # buttons per message
    button_title: int  # characters per button title


@dataclass(frozen=True)
class NeutralButton:
    title: str
    payload: Optional[str] = None
    url: Optional[str] = None

    @property
    def is_link(self) -> bool:
        return bool(self.url)


def neutral_buttons(buttons: Optional[List[Dict[str, Any]]]) -> List[NeutralButton]:
    out = []
    for b in buttons or []:
        title = str(b.get("title") or "").strip()
        url = b.get("url") or None
        payload = b.get("payload") or (None if url else title)
        if title:
            out.append(NeutralButton(title, payload, url))
    return out


def shorten_title(title: str, limit: int) -> str:
    title = " ".join(title.split())
    if len(title) <= limit:
        return title
    cut = title[: limit - 1].rsplit(" ", 1)[0] or title[: limit - 1]
    return cut.rstrip(" ,.;:-") + "…"


def split_text(text: str, limit: int) -> List[str]:
    """Split into parts of at most ``limit`` characters at the most natural boundary."""
    text = text.strip()
    if len(text) <= limit:
        return [text] if text else []
    parts: List[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        cut = -1
        for sep in ("\n\n", "\n", ". ", " "):
            cut = window.rfind(sep)
            if cut > limit // 3:
                cut += len(sep) if sep == ". " else 0
                break
        if cut <= 0:
            cut = limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts


def chunk_buttons(buttons: List[NeutralButton], per_message: int) -> List[List[NeutralButton]]:
    return [buttons[i:i + per_message] for i in range(0, len(buttons), per_message)] or [[]]
