"""Log records of every process: masked, tied to a request and a conversation, optionally JSON.

Standard library only (and ``knowledge.text.pii``): the Rasa server imports it too.

* Masking. Every record's message (its arguments and traceback included) is masked with
  ``knowledge.text.pii.mask_pii`` when it is created, and ``token=`` / ``Bearer`` values are
  starred (a log record factory: it also sees records of handlers installed later, such as
  Sanic's or uvicorn's). The JSON formatter masks what it writes once more, so a record made
  before the factory was installed is masked too.
* Ids. ``request_id`` is the caller's ``X-Request-ID`` when it is well formed (8-64 letters,
  digits, ``.``, ``_``, ``:``, ``-``, and nothing ``mask_pii`` would mask), otherwise a new
  one; Rasa sends it on to the action server, which sends it on to the knowledge service.
  ``conversation_id`` is a hash of the sender id (``c-`` and 16 hex digits), never the id itself.
  Both live in context variables, so an asyncio task started while handling a request keeps them.
* Format. ``DVC_LOG_FORMAT=json`` writes one JSON object per line (time, level, logger, message,
  process, pid, request_id, conversation_id, exception); ``text`` the usual lines. Default: json
  in production (``DVC_ENVIRONMENT``), text in development.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import os
import re
import sys
import uuid
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from typing import Any, Literal, Optional

from knowledge.environment import SettingError, environment
from knowledge.text.pii import mask_pii

LOG_FORMAT_VAR = "DVC_LOG_FORMAT"
PROCESS_VAR = "DVC_PROCESS_NAME"
REQUEST_ID_HEADER = "X-Request-ID"
LogFormat = Literal["json", "text"]
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s - %(message)s"

_MARK = "_dvc_patched"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{7,63}$")
_SECRET = re.compile(r"(?i)\b((?:access_|auth_)?token=)[^&\s\"']+|\b(bearer )[\w.~+/=-]+")

request_id_var: ContextVar[Optional[str]] = ContextVar("dvc_request_id", default=None)
conversation_var: ContextVar[Optional[str]] = ContextVar("dvc_conversation_id", default=None)


# -- ids --------------------------------------------------------------------------------------

def new_request_id() -> str:
    return uuid.uuid4().hex


def accepted_request_id(value: Optional[str]) -> str:
    """The caller's id if it is well formed and holds nothing personal, else a new one."""
    if isinstance(value, str) and _REQUEST_ID.match(value) and mask_pii(value) == value:
        return value
    return new_request_id()


def conversation_id(sender_id: str) -> str:
    """A pseudonym of a conversation for logs: the same sender always gives the same one."""
    return "c-" + hashlib.sha256(("dvc-conversation:" + sender_id).encode("utf-8")).hexdigest()[:16]


@contextlib.contextmanager
def bound(request_id: Optional[str] = None, sender_id: Optional[str] = None) -> Iterator[None]:
    """Within the block, log records carry this request id and this conversation's pseudonym
    (an argument left None keeps what is already bound)."""
    tokens = []
    if request_id is not None:
        tokens.append((request_id_var, request_id_var.set(request_id)))
    if sender_id is not None:
        tokens.append((conversation_var, conversation_var.set(conversation_id(sender_id))))
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def outgoing_headers(headers: Optional[Mapping[str, str]] = None) -> dict[str, str]:
    """``headers`` with the bound request id added, for a call to another of our processes."""
    out = dict(headers or {})
    rid = request_id_var.get()
    if rid:
        out[REQUEST_ID_HEADER] = rid
    return out


# -- masking ----------------------------------------------------------------------------------

def mask_log_text(text: str) -> str:
    return _SECRET.sub(lambda m: (m.group(1) or m.group(2)) + "***", mask_pii(text))


def mask_log_record(record: logging.LogRecord) -> logging.LogRecord:
    """``record`` with its message (arguments included) and traceback masked, in place."""
    try:
        message, broken = record.getMessage(), False
    except Exception:  # noqa: BLE001 - a bad format string: what can be shown, masked
        message, broken = f"{record.msg!s} {record.args!r}", True
    masked = mask_log_text(message)
    if broken or masked != message:
        record.msg, record.args = masked, None
    if record.exc_info and not record.exc_text:
        record.exc_text = mask_log_text(logging.Formatter().formatException(record.exc_info))
    elif record.exc_text:
        record.exc_text = mask_log_text(record.exc_text)
    return record


class SecretLogFilter(logging.Filter):
    """Sanic's access log keeps the URL in ``record.request``: its ``token=`` values go."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        if isinstance(request, str):
            record.request = mask_log_text(request)
        return True


def install_log_masking() -> None:
    """Mask every record from now on and tie it to the bound ids; safe to call again."""
    factory = logging.getLogRecordFactory()
    if not getattr(factory, _MARK, False):
        def record_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = mask_log_record(factory(*args, **kwargs))
            record.dvc_request_id = request_id_var.get()
            record.dvc_conversation_id = conversation_var.get()
            return record

        setattr(record_factory, _MARK, True)
        logging.setLogRecordFactory(record_factory)
    access = logging.getLogger("sanic.access")
    if not any(isinstance(f, SecretLogFilter) for f in access.filters):
        access.addFilter(SecretLogFilter())


# -- format -----------------------------------------------------------------------------------

def log_format(env: Mapping[str, str] = os.environ) -> LogFormat:
    """``DVC_LOG_FORMAT``, or the posture's default; SettingError for anything else."""
    value = (env.get(LOG_FORMAT_VAR) or "").strip().lower()
    if not value:
        return "json" if environment(env) == "production" else "text"
    if value not in ("json", "text"):
        raise SettingError(f"{LOG_FORMAT_VAR}={value!r}: use 'json' or 'text'")
    return "json" if value == "json" else "text"


def process_name(default: str, env: Mapping[str, str] = os.environ) -> str:
    """The name in each JSON line: the runner's name of the child (``DVC_PROCESS_NAME``)."""
    return (env.get(PROCESS_VAR) or default).strip()[:40] or default


class JsonFormatter(logging.Formatter):
    """One JSON object per line; the message and traceback masked (again)."""

    def __init__(self, process: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.process_name = process or process_name("dvc")

    def format(self, record: logging.LogRecord) -> str:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string still gives a line
            message = f"{record.msg!s} {record.args!r}"
        out: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, tz=dt.timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": mask_log_text(message),
            "process": self.process_name,
            "pid": record.process,
        }
        request_id = getattr(record, "dvc_request_id", None) or request_id_var.get()
        conversation = getattr(record, "dvc_conversation_id", None) or conversation_var.get()
        if request_id:
            out["request_id"] = request_id
        if conversation:
            out["conversation_id"] = conversation
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            out["exception"] = mask_log_text(record.exc_text)
        if record.stack_info:
            out["stack"] = mask_log_text(self.formatStack(record.stack_info))
        return json.dumps(out, ensure_ascii=False)


def formatter(fmt: LogFormat, process: str) -> logging.Formatter:
    return JsonFormatter(process) if fmt == "json" else logging.Formatter(TEXT_FORMAT)


def configure_logging(process: str, level: int | str = logging.INFO,
                      env: Mapping[str, str] = os.environ) -> LogFormat:
    """Masking installed and the root logger writing to stderr in the chosen format."""
    install_log_masking()
    fmt = log_format(env)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(fmt, process_name(process, env)))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    return fmt


def use_json_everywhere(process: str) -> int:
    """Every handler already installed (root and named loggers: Rasa's, Sanic's) writes JSON;
    returns how many handlers were switched."""
    seen: set[int] = set()
    json_formatter = JsonFormatter(process_name(process))
    loggers = [logging.getLogger()] + [lg for lg in logging.Logger.manager.loggerDict.values()
                                       if isinstance(lg, logging.Logger)]
    for lg in loggers:
        for handler in lg.handlers:
            if id(handler) not in seen:
                seen.add(id(handler))
                handler.setFormatter(json_formatter)
    return len(seen)


def uvicorn_log_config(process: str, level: str) -> dict[str, Any]:
    """uvicorn's ``log_config`` for JSON lines: its loggers write through the root logger's handler."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": f"{__name__}.JsonFormatter", "process": process_name(process)}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
        "root": {"handlers": ["stderr"], "level": level.upper()},
        "loggers": {name: {"handlers": [], "propagate": True} for name in ("uvicorn", "uvicorn.error",
                                                                            "uvicorn.access")},
    }
