"""The action server: ``python -m actions.server`` (rasa_sdk's executor behind our own Sanic app).

Only Rasa calls it, so it is internal by construction:

* it listens on ``ACTIONS_HOST`` (127.0.0.1 by default; rasa_sdk's own server binds 0.0.0.0);
* ``POST /webhook`` needs ``Authorization: Bearer <ACTIONS_TOKEN>`` (bot/endpoints.yml sends it;
  compared in constant time); ``GET /health``, ``/health/live`` and ``/health/ready`` are open
  and say nothing but the state;
* compressed bodies are refused (415): rasa_sdk inflates a deflate body without a limit;
* bodies above ``ACTIONS_MAX_BODY_BYTES`` get 413 before they are read;
* an error answers a fixed message: rasa_sdk's handler echoes the whole request (the
  citizen's conversation) into the response and the log;
* ``GET /metrics`` (knowledge/observability: latency and errors per action, calls to the
  knowledge service) for this machine in development, with ``DVC_METRICS_TOKEN`` otherwise; each
  call's logs carry Rasa's ``X-Request-ID`` and the conversation's pseudonym, and the id goes on
  to the knowledge service.

Settings are validated before the port opens; a bad one stops the server with the
variable to fix.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, Optional

from rasa_sdk.executor import ActionExecutor
from rasa_sdk.interfaces import ActionExecutionRejection, ActionMissingDomainException, ActionNotFoundException
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from actions.settings import ActionSettings, load_settings
from knowledge.environment import SettingError, same_secret
from knowledge.observability import sanic as observability
from knowledge.observability.actions import action_error, action_label, timed_action
from knowledge.observability.logs import bound, configure_logging
from knowledge.observability.prometheus import metrics_token

log = logging.getLogger("actions.server")


def create_app(settings: ActionSettings, executor: Optional[ActionExecutor] = None) -> Sanic:  # type: ignore[type-arg]
    if executor is None:
        executor = ActionExecutor()
        executor.register_package("actions")
    app = Sanic("dvc_actions", configure_logging=False)
    app.config.REQUEST_MAX_SIZE = settings.max_body_bytes
    app.config.FALLBACK_ERROR_FORMAT = "json"
    observability.install(app)

    @app.get("/health")
    async def health(_: Request) -> HTTPResponse:
        return response.json({"status": "ok"})

    # Probes for the runner, systemd and a load balancer: open, and saying nothing but the state.
    @app.get("/health/live")
    async def live(_: Request) -> HTTPResponse:
        return response.json({"status": "ok"})

    @app.get("/health/ready")
    async def ready(_: Request) -> HTTPResponse:
        if executor.actions:  # the actions are registered: Rasa's calls can be run
            return response.json({"status": "ready"})
        return response.json({"status": "not ready"}, status=503)

    @app.post("/webhook")
    async def webhook(request: Request) -> HTTPResponse:
        if not settings.token or not same_secret(request.headers.get("authorization"), f"Bearer {settings.token}"):
            return response.json({"error": "unauthorised"}, status=401)
        if request.headers.get("content-encoding", "identity").lower() != "identity":
            return response.json({"error": "compressed bodies are not accepted"}, status=415)
        try:
            action_call: Any = request.json
        except Exception:  # noqa: BLE001 - Sanic raises its own error type for bad JSON
            action_call = None
        if not isinstance(action_call, dict) or not action_call.get("next_action"):
            return response.json({"error": "invalid body"}, status=400)
        name = str(action_call.get("next_action"))[:100]
        label = action_label(name, executor.actions)
        sender = action_call.get("sender_id")
        with bound(sender_id=sender if isinstance(sender, str) else None), timed_action(label):
            try:
                result = await executor.run(action_call)
            except ActionExecutionRejection as e:
                action_error(label, "rejected")
                return response.json({"error": e.message, "action_name": e.action_name}, status=400)
            except ActionNotFoundException as e:
                action_error(label, "unknown")
                log.error("unknown action %s", name)
                return response.json({"error": "unknown action", "action_name": e.action_name}, status=404)
            except ActionMissingDomainException as e:
                return response.json({"error": e.message, "action_name": e.action_name}, status=449)
            except Exception as exc:  # noqa: BLE001 - the cause is logged without the conversation
                action_error(label, "failed")
                log.error("action %s failed: %s", name, type(exc).__name__, exc_info=(type(exc), exc, None))
                return response.json({"error": "action failed", "action_name": name}, status=500)
        return response.json(result.model_dump() if result else None)

    @app.exception(Exception)
    async def unexpected(request: Request, exc: Exception) -> HTTPResponse:
        status = int(getattr(exc, "status_code", 500) or 500)
        if status >= 500:
            log.error("%s %s failed: %s", request.method, request.path, type(exc).__name__)
        return response.json({"error": "request refused" if status < 500 else "server error"}, status=status)

    return app


def main() -> int:
    try:
        settings = load_settings()
        if not settings.token:
            raise SettingError("ACTIONS_TOKEN must be set: the action server only answers Rasa "
                               "(`make run` generates one in development)")
        metrics_token()
        configure_logging("actions", logging.INFO)
    except SettingError as exc:
        print(f"[actions] configuration error: {exc}", file=sys.stderr)
        return 2
    app = create_app(settings)
    log.info("action server on http://%s:%d", settings.host, settings.port)
    app.run(host=settings.host, port=settings.port, single_process=True, access_log=False, motd=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
