"""Checks of the observability hooks (bot/rasa_patches.py, bot/metrics.py) on Rasa's own classes, run
with the Rasa environment's Python by tests/unit/test_observability.py; prints one JSON report.

With ``DVC_LOG_FORMAT=json``: Rasa's app (``rasa.core.run.configure_app``) gets ``/metrics``, and
every log handler installed so far writes masked JSON lines; a call to the action server
(``EndpointConfig.request``) carries the turn's ``X-Request-ID``."""

import asyncio
import http.server
import io
import json
import logging
import os
import sys
import threading

os.environ["DVC_LOG_FORMAT"] = "json"
os.environ["DVC_PROCESS_NAME"] = "rasa"


def captured_handler():
    stream = io.StringIO()
    logging.getLogger().addHandler(logging.StreamHandler(stream))
    return stream


def app_checks(stream):
    import rasa.core.run
    from rasa.core.processor import MessageProcessor

    app = rasa.core.run.configure_app(input_channels=None, enable_api=False)
    uris = sorted({getattr(r, "uri", getattr(r, "path", "")) for r in app.router.routes_all.values()})
    logging.getLogger("rasa.check").warning("sdt %s", "0912345678")
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]
    return {"metrics_route": any(u.strip("/") == "metrics" for u in uris),
            "run_action_marked": getattr(MessageProcessor._run_action, "_dvc_patched", False),
            "last_line": lines[-1] if lines else None}


class Recorder(http.server.BaseHTTPRequestHandler):
    seen = []

    def do_POST(self):  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        Recorder.seen.append(self.headers.get("X-Request-ID"))
        body = b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def endpoint_checks():
    from rasa.utils.endpoints import EndpointConfig

    from bot import metrics

    server = http.server.HTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = EndpointConfig(f"http://127.0.0.1:{server.server_address[1]}/webhook")

    async def call():
        from knowledge.observability.logs import bound

        with bound(request_id="rest-call-0001"), metrics.turn("rest", "rest:check"):
            await endpoint.request(method="post", json={"next_action": "x"})

    asyncio.run(call())
    server.shutdown()
    return {"sent_ids": Recorder.seen}


def main():
    from rasa.utils.log_utils import configure_structlog

    stream = captured_handler()
    configure_structlog(logging.WARNING)
    from bot import rasa_patches

    applied = rasa_patches.apply()
    report = {"applied": applied, "app": app_checks(stream), "endpoint": endpoint_checks()}
    json.dump(report, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
