"""Performance fixes for Rasa 3.6, applied in the Rasa server when it imports ``bot``
(the model's tokenizer lives in ``bot.components``, so every Rasa process imports it).

``RemoteAction._validate_action_result`` calls ``jsonschema.validate`` on every answer of
the action server. That function first checks the schema itself against the JSON Schema
meta-schema, then builds a validator, and Rasa's response schema (every event type) is
large: 20 ms of CPU per action call on these machines, a third of a whole turn. The fix
builds the validator once (the schema is checked once, here) and validates each answer
with it: 0.8 ms. Behaviour is unchanged: the same errors, chosen the same way
(``best_match``), with Rasa's own message appended.

With several Sanic workers (``DVC_CLOSE_CONNECTIONS=1``, set by scripts/stack.py for the
webhook workers only), each HTTP connection is closed after its answer. The workers share
one listening socket and a kept-alive connection stays with the worker that accepted it:
ten conversations on ten connections were split 7:3 or worse, and the busy worker set the
latency while the other idled. A new connection is accepted by whichever worker is free.
Websocket upgrades are left alone (the portal's widget has its own Rasa process anyway).

Each patch checks that the function it replaces is the one it was written for (by Rasa
version) and otherwise leaves Rasa alone, logging why.
"""

from __future__ import annotations

import logging
import os
from typing import Any

log = logging.getLogger(__name__)
PATCHED_RASA = ("3.6.",)
_MARK = "_dvc_patched"


def apply() -> bool:
    """Apply the patches; True if they are in place (idempotent)."""
    try:
        import rasa
        from rasa.core.actions.action import RemoteAction
    except ImportError:  # not inside the Rasa environment (e.g. the knowledge service's tests)
        return False
    if getattr(RemoteAction._validate_action_result, _MARK, False):
        return True
    if not str(getattr(rasa, "__version__", "")).startswith(PATCHED_RASA):
        log.warning("rasa %s: action-response validation patch not applied (written for %s)",
                    getattr(rasa, "__version__", "?"), PATCHED_RASA)
        return False
    RemoteAction._validate_action_result = _cached_validation(RemoteAction)  # type: ignore[method-assign]
    if os.environ.get("DVC_CLOSE_CONNECTIONS") == "1":
        _close_connections()
    return True


def _close_connections() -> None:
    import sanic
    from sanic.http import Http

    if not str(sanic.__version__).startswith("21.12") or getattr(Http.http1_request_header, _MARK, False):
        return
    original = Http.http1_request_header

    async def http1_request_header(self: Any) -> None:
        await original(self)
        request = getattr(self, "request", None)
        if request is not None and "upgrade" not in request.headers:
            self.keep_alive = False  # answered with "Connection: close"

    setattr(http1_request_header, _MARK, True)
    Http.http1_request_header = http1_request_header


def _cached_validation(remote_action: Any) -> Any:
    from jsonschema import ValidationError
    from jsonschema.exceptions import best_match
    from jsonschema.validators import validator_for
    from rasa.shared.constants import DOCS_BASE_URL

    spec = remote_action.action_response_format_spec()
    cls = validator_for(spec)
    cls.check_schema(spec)
    validator = cls(spec)

    def _validate_action_result(self: Any, result: dict[str, Any]) -> bool:
        error: ValidationError | None = best_match(validator.iter_errors(result))
        if error is None:
            return True
        error.message += (
            ". Failed to validate Action server response from API, "
            "make sure your response from the Action endpoint is valid. "
            "For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error

    setattr(_validate_action_result, _MARK, True)
    return _validate_action_result
