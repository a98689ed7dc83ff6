"""Scam warnings and messages in other languages (issue 11 items 5 and 6).

* ``action_scam_warning`` (intent ``report_scam``): a call or message in an agency's name asking
  for money, an OTP, a password or an app from a link gets the warning, what to do and where to
  report. Every address in the message is checked first: a host is official only if it is
  ``gov.vn`` or ends with ``.gov.vn`` (ASCII, no ``xn--`` label); the check is about the address
  only, and the address is written back as plain text (host only, no scheme), never as a link.
* ``action_other_language`` (intent ``non_vietnamese``): NLU's guess is checked again without a
  model (``looks_english``: no Vietnamese diacritics, at least three words, most of them common
  English words, at least two of them words that unaccented Vietnamese does not also spell); the
  citizen then gets a short bilingual reply saying what the bot can do.

Nothing here logs the message or an address (they may quote the citizen).
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from pathlib import Path
from typing import Optional
from urllib.parse import urlsplit

import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.knowledge_client import KnowledgeClient, KnowledgeUnavailable
from actions.messages import (
    MENU_BUTTON,
    OFFICER_BUTTON,
    OTHER_LANGUAGE_BUTTONS,
    SCAM_HOSTS_CHECKED,
    BotMessage,
    Button,
    intent_payload,
    link_verdict,
    send,
)
from bot.texts import NOT_OTHER_LANGUAGE, OTHER_LANGUAGE, OTHER_LANGUAGE_MATCH, SCAM_OFFICIAL_REMINDER, SCAM_WARNING
from knowledge.contract import SearchResult
from knowledge.text.normalize import fold, nfc

log = logging.getLogger(__name__)

OFFICIAL_SUFFIX = ".gov.vn"
_ASCII_HOST = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$")
HOST_SHOWN_CHARS = 80


def host_of(url: str) -> Optional[str]:
    """The host a browser would open for ``url`` ("https://a.gov.vn@evil.com/x" → "evil.com"), lowercase,
    without a trailing dot; None when there is none."""
    url = (url or "").strip()
    if not url:
        return None
    try:
        host = urlsplit(url if "://" in url else f"//{url}").hostname
    except ValueError:
        return None
    host = (host or "").rstrip(".")
    return host or None


def official_host(url: str) -> bool:
    """True only when the host of ``url`` is ``gov.vn`` or ends with ``.gov.vn``, in plain ASCII and
    without a punycode (``xn--``) label. An address check only: it says nothing about the page."""
    host = host_of(url)
    if host is None or not _ASCII_HOST.match(host):
        return False  # lookalike letters (Cyrillic "о", full-width dots…), "_", empty labels
    if any(label.startswith("xn--") for label in host.split(".")):
        return False
    return host == OFFICIAL_SUFFIX[1:] or host.endswith(OFFICIAL_SUFFIX)


# An address in a message: with a scheme, anything up to white space; without one, dotted labels
# whose last label is a usual top-level domain ("dichvucong-gov.com", "vneid.gov.vn.app"), so that
# "TP.HCM", "v.v." or a dossier code "G22.99.01-251120-0001" are not taken for one. Not after "@"
# (an e-mail address) nor inside a longer token.
_WITH_SCHEME = re.compile(r"(?i)\b[a-z][a-z0-9+.-]{1,15}://[^\s<>\"'`]+")
_BARE = re.compile(r"(?<![@\w.:/-])(?:[\w-]+\.)+([a-zA-Z]{2,12})(?::\d{1,5})?(?:[/?#][^\s<>\"'`]*)?(?![\w@-])")
BARE_TLDS = frozenset({
    "vn", "com", "net", "org", "info", "biz", "xyz", "top", "app", "site", "online", "io", "co", "cc", "me",
    "link", "click", "shop", "store", "live", "club", "asia", "tk", "ml", "ga", "cf", "gq", "us", "pro", "vip",
    "icu", "cn", "ru", "tv", "ws", "name", "mobi", "website", "space", "fun", "tech", "work", "today", "life",
    "services", "support", "help", "gov", "edu", "int", "eu", "uk", "de", "ly", "to", "gl", "gd", "sbs", "cfd",
})
_TRAILING = ".,;:!?)]}»”'\""


def hosts_in(text: str) -> list[tuple[str, bool]]:
    """(host as shown, official) for each distinct address in ``text``, in order, at most
    ``SCAM_HOSTS_CHECKED``."""
    text = nfc(text or "")
    found: list[tuple[int, str]] = [(m.start(), m.group(0)) for m in _WITH_SCHEME.finditer(text)]
    taken = [(m.start(), m.end()) for m in _WITH_SCHEME.finditer(text)]
    for m in _BARE.finditer(text):
        if m.group(1).lower() in BARE_TLDS and not any(a <= m.start() < b for a, b in taken):
            found.append((m.start(), m.group(0)))
    out: dict[str, bool] = {}
    for _, candidate in sorted(found):
        url = candidate.rstrip(_TRAILING)
        host = host_of(url)
        if host and host not in out:
            out[host[:HOST_SHOWN_CHARS]] = official_host(url)
    return list(out.items())[:SCAM_HOSTS_CHECKED]


def scam_messages(text: str) -> list[BotMessage]:
    """What a citizen reads for a scam question: the address check first (when the message has an
    address), then the warning; only a reminder when every address is official."""
    hosts = hosts_in(text)
    verdicts = "\n".join(link_verdict(host, official) for host, official in hosts)
    buttons = [MENU_BUTTON, OFFICER_BUTTON]
    if hosts and all(official for _, official in hosts):
        return [BotMessage(verdicts), BotMessage(SCAM_OFFICIAL_REMINDER, buttons)]
    return [*([BotMessage(verdicts)] if hosts else []), BotMessage(SCAM_WARNING, buttons)]


class ActionScamWarning(Action):
    def name(self) -> str:
        return "action_scam_warning"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        send(dispatcher, scam_messages(str(tracker.latest_message.get("text") or "")))
        return []


# -- Other languages -------------------------------------------------------------------------------

# Common English words, for telling an English message from unaccented Vietnamese.
ENGLISH_WORDS = frozenset("""
a about after all also am an and any anyone apply application applications are as ask at be because before
birth born business can card certificate change check child citizen could criminal date day did do document
documents does don't driver driving english fee fees find for foreign foreigner from get give go going good
government has have hello help here hi how i i'm id identity if in information is it its know language legal
license licence live long look make marriage married may me my name need new no not of office official on
online or other our passport pay payment person please procedure procedures public real record register
registration rejected renew residence resident service services should so someone speak status still submit
take talk tell thank thanks that the there this time to understand up us vietnam vietnamese visa want was we
what when where which who why will with work would you your
""".split())
# English words that unaccented Vietnamese also spells ("the" thẻ, "can" cần, "do" đỗ, "me" mẹ, "my" mỹ…)
# or that Vietnamese citizens use as loanwords ("online", "hello"): they count, but never on their own.
AMBIGUOUS_WORDS = frozenset({
    "a", "am", "an", "at", "be", "can", "do", "hi", "hello", "i", "in", "long", "may", "me", "my", "no", "on",
    "online", "so", "the", "to", "id", "it", "day", "that", "not", "up", "us", "go", "good", "thank", "thanks",
    "card", "visa", "passport",
})
ENGLISH_MIN_WORDS = 3
ENGLISH_SHARE = 0.6
ENGLISH_MIN_CLEAR = 2
_EN_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


def has_diacritics(text: str) -> bool:
    """A letter with a Vietnamese (or any) diacritic, or "đ"."""
    low = nfc(text or "").lower()
    return any(ch.isalpha() and fold(ch) != ch for ch in low)


def looks_english(text: str) -> bool:
    """No diacritics, at least three words, at least 60% of them common English words and at least two
    of those not also unaccented Vietnamese: "how do I register a birth" yes, "lam giay khai sinh
    online the nao" and "the can cuoc" no."""
    if has_diacritics(text):
        return False
    words = _EN_WORD.findall(nfc(text or "").lower().replace("’", "'"))
    if len(words) < ENGLISH_MIN_WORDS:
        return False
    hits = [w for w in words if w in ENGLISH_WORDS]
    clear = [w for w in hits if w not in AMBIGUOUS_WORDS]
    return len(hits) >= ENGLISH_SHARE * len(words) and len(clear) >= ENGLISH_MIN_CLEAR


ENGLISH_TERMS_FILE = Path(__file__).resolve().parent / "data" / "english_terms.yaml"


@lru_cache(maxsize=1)
def english_terms() -> list[tuple[re.Pattern[str], str]]:
    """(English phrase as a whole-word pattern, the Vietnamese term), longest phrase first."""
    data = yaml.safe_load(ENGLISH_TERMS_FILE.read_text(encoding="utf-8")) or {}
    pairs = sorted(((str(k).lower(), str(v)) for k, v in data.items()), key=lambda kv: -len(kv[0]))
    return [(re.compile(r"(?<![a-z])" + re.escape(k) + r"(?![a-z])"), v) for k, v in pairs]


def english_query(text: str) -> str:
    """The Vietnamese terms of the English words in ``text`` ("how do I get a passport" → "hộ chiếu"),
    each phrase read once (a phrase found is removed before shorter ones are looked for)."""
    rest, found = nfc(text or "").lower().replace("’", "'"), []
    for pattern, term in english_terms():
        if pattern.search(rest):
            found.append(term)
            rest = pattern.sub(" ", rest)
    return " ".join(dict.fromkeys(found))


class ActionOtherLanguage(Action):
    def __init__(self, client: Optional[KnowledgeClient] = None) -> None:
        self.client = client or KnowledgeClient()

    def name(self) -> str:
        return "action_other_language"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        text = str(tracker.latest_message.get("text") or "")
        if not looks_english(text):  # NLU's guess, not confirmed: ask again in Vietnamese
            send(dispatcher, [BotMessage(NOT_OTHER_LANGUAGE, [MENU_BUTTON, OFFICER_BUTTON])])
            return []
        messages = [BotMessage(OTHER_LANGUAGE, OTHER_LANGUAGE_BUTTONS)]
        best = await self._clear_match(english_query(text))
        if best is not None:
            payload = intent_payload("ask_procedure", procedure_id=best.id) if best.kind == "procedure" else best.title
            offer = Button(best.title[:80], payload)
            messages.append(BotMessage(OTHER_LANGUAGE_MATCH.format(title=best.title), [offer]))
        send(dispatcher, messages)
        return []

    async def _clear_match(self, query: str) -> Optional[SearchResult]:
        """The one procedure or guide the terms name, when the knowledge service is confident."""
        if not query:
            return None
        try:
            reply = await self.client.match(query, k=3, kinds=["procedure", "guide"])
        except KnowledgeUnavailable:
            log.warning("knowledge service unavailable: the bilingual reply goes without a match")
            return None
        first = reply.candidates()[:1]
        return first[0] if reply.match.decision == "confident" and first else None
