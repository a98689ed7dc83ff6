"""``GET /metrics`` and the request id on a Sanic app: the action server (Sanic 25) and Rasa (Sanic
21.12, bot/metrics.py); only what both versions share is used."""

from __future__ import annotations

from typing import Any

from sanic import response

from knowledge.observability.logs import REQUEST_ID_HEADER, accepted_request_id, request_id_var
from knowledge.observability.prometheus import METRICS_PATH, exposition, metrics_refusal


def install(app: Any) -> None:
    """Each request gets its id (the caller's if well formed), bound for its logs and for the calls
    it makes (``outgoing_headers``) and sent back; ``/metrics`` answers who may read it."""

    async def bind_request_id(request: Any) -> None:
        request.ctx.dvc_request_id = accepted_request_id(request.headers.get(REQUEST_ID_HEADER))
        request_id_var.set(request.ctx.dvc_request_id)  # set again by the next request on this connection

    async def send_request_id(request: Any, resp: Any) -> None:
        rid = getattr(request.ctx, "dvc_request_id", None)
        if rid and resp is not None:
            resp.headers[REQUEST_ID_HEADER] = rid

    async def metrics(request: Any) -> Any:
        refusal = metrics_refusal(request.ip, request.headers.get("authorization"))
        if refusal is not None:
            return response.json({"detail": refusal[1]}, status=refusal[0])
        body, content_type = exposition()
        return response.raw(body, content_type=content_type)

    app.register_middleware(bind_request_id, "request")
    app.register_middleware(send_request_id, "response")
    app.add_route(metrics, METRICS_PATH, methods=["GET"], name="dvc_metrics")
