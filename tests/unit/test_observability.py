"""Metrics and logs (knowledge/observability, bot/metrics.py): the JSON lines, the masking they go
through, the request and conversation ids, who may read /metrics, and label values that stay bounded."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from bot import metrics as rasa_metrics
from bot.channels.ordering import SenderLocks
from knowledge.environment import SettingError
from knowledge.observability import actions as action_metrics
from knowledge.observability.logs import (
    JsonFormatter,
    accepted_request_id,
    bound,
    conversation_id,
    install_log_masking,
    log_format,
    outgoing_headers,
    uvicorn_log_config,
)
from knowledge.observability.prometheus import bounded, metrics_refusal, metrics_token
from knowledge.observability.service import ObservabilityMiddleware, timed_search

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "m" * 40


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def json_line(logger: logging.Logger, *args: object, exc: bool = False) -> dict[str, object]:
    """What ``logger`` writes through the JSON formatter for ``logger.error(*args)``."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("knowledge"))
    logger.addHandler(handler)
    logger.propagate = False
    try:
        if exc:
            try:
                raise ValueError("khách 079203001234")
            except ValueError:
                logger.exception(*args)  # type: ignore[arg-type]
        else:
            logger.error(*args)  # type: ignore[arg-type]
    finally:
        logger.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    parsed: dict[str, object] = json.loads(lines[0])
    return parsed


# -- logs -------------------------------------------------------------------------------------

def test_json_line_has_the_fields_and_masks_the_message() -> None:
    install_log_masking()
    with bound(request_id="req-12345678", sender_id="rest:0912345678"):
        line = json_line(logging.getLogger("dvc.test.fields"), "gọi %s, email %s", "0912345678", "an@gmail.com")
    assert set(line) == {"time", "level", "logger", "message", "process", "pid", "request_id", "conversation_id"}
    assert line["level"] == "ERROR" and line["logger"] == "dvc.test.fields" and line["process"] == "knowledge"
    assert line["message"] == "gọi 0912****78, email a***@gmail.com"
    assert line["request_id"] == "req-12345678"
    assert line["conversation_id"] == conversation_id("rest:0912345678")
    assert "0912345678" not in json.dumps(line)
    assert str(line["time"]).endswith("+00:00")


def test_json_line_masks_the_traceback_and_secrets() -> None:
    install_log_masking()
    line = json_line(logging.getLogger("dvc.test.exc"), "GET /x?token=abcdef Bearer s3cr3t", exc=True)
    assert line["message"] == "GET /x?token=*** Bearer ***"
    assert "0792******34" in str(line["exception"]) and "079203001234" not in str(line["exception"])
    assert "request_id" not in line and "conversation_id" not in line


def test_a_record_made_before_the_masking_is_masked_by_the_formatter() -> None:
    record = logging.LogRecord("dvc.test.raw", logging.INFO, __file__, 1, "cccd %s", ("079203001234",), None)
    line = json.loads(JsonFormatter("actions").format(record))
    assert line["message"] == "cccd 0792******34" and line["process"] == "actions"


def test_conversation_id_is_a_stable_pseudonym() -> None:
    cid = conversation_id("fb:1234567890")
    assert cid == conversation_id("fb:1234567890") != conversation_id("fb:1234567891")
    assert cid.startswith("c-") and len(cid) == 18 and "1234567890" not in cid


def test_request_id_from_the_caller_only_when_well_formed() -> None:
    assert accepted_request_id("e2e-metrics-0001") == "e2e-metrics-0001"
    for bad in (None, "", "short", "x" * 65, "a b c d e f g h", "id\n12345678", "sdt-0912345678"):
        made = accepted_request_id(bad)
        assert made != bad and len(made) == 32 and int(made, 16) >= 0


def test_request_id_goes_on_to_the_next_process() -> None:
    assert outgoing_headers({"X-Desk-Token": "t"}) == {"X-Desk-Token": "t"}
    with bound(request_id="turn-12345678"):
        assert outgoing_headers({"X-Desk-Token": "t"}) == {"X-Desk-Token": "t", "X-Request-ID": "turn-12345678"}
    assert outgoing_headers() == {}


def test_log_format_setting() -> None:
    assert log_format({}) == "text"
    assert log_format({"DVC_ENVIRONMENT": "production"}) == "json"
    assert log_format({"DVC_LOG_FORMAT": "TEXT", "DVC_ENVIRONMENT": "production"}) == "text"
    assert log_format({"DVC_LOG_FORMAT": "json"}) == "json"
    with pytest.raises(SettingError, match="DVC_LOG_FORMAT='xml': use 'json' or 'text'"):
        log_format({"DVC_LOG_FORMAT": "xml"})


def test_uvicorn_json_config_routes_uvicorn_through_the_formatter() -> None:
    config = uvicorn_log_config("knowledge", "warning")
    assert config["formatters"]["json"] == {"()": "knowledge.observability.logs.JsonFormatter",
                                            "process": "knowledge"}
    assert config["root"] == {"handlers": ["stderr"], "level": "WARNING"}
    assert all(v == {"handlers": [], "propagate": True} for v in config["loggers"].values())


# -- who may read /metrics --------------------------------------------------------------------

def test_metrics_refusal() -> None:
    dev: dict[str, str] = {}
    prod = {"DVC_ENVIRONMENT": "production"}
    assert metrics_refusal("127.0.0.1", None, dev) is None
    assert metrics_refusal("::ffff:127.0.0.1", None, dev) is None
    assert metrics_refusal("10.0.0.5", None, dev) == (403, "metrics are only served to this machine")
    assert metrics_refusal("127.0.0.1", None, prod) == (403, "metrics are off until DVC_METRICS_TOKEN is set")
    with_token = {**prod, "DVC_METRICS_TOKEN": TOKEN}
    assert metrics_refusal("10.0.0.5", f"Bearer {TOKEN}", with_token) is None
    assert metrics_refusal("127.0.0.1", None, with_token) == (401, "metrics need the bearer token")
    assert metrics_refusal("127.0.0.1", "Bearer wrong", with_token) == (401, "metrics need the bearer token")


def test_metrics_token_checked_like_the_other_secrets() -> None:
    assert metrics_token({"DVC_ENVIRONMENT": "production"}) == ""
    with pytest.raises(SettingError, match="DVC_METRICS_TOKEN is too short for production"):
        metrics_token({"DVC_ENVIRONMENT": "production", "DVC_METRICS_TOKEN": "short"})


def small_app() -> FastAPI:
    app = FastAPI()

    @app.get("/procedures/{procedure_id}")
    def procedure(procedure_id: str) -> dict[str, str]:
        return {"id": procedure_id}

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("x")

    console = FastAPI()

    @console.get("/login")
    def login() -> dict[str, str]:
        return {}

    app.mount("/console", console)
    app.add_middleware(ObservabilityMiddleware)
    return app


def test_knowledge_requests_are_labelled_by_route_template(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DVC_METRICS_TOKEN", TOKEN)
    client = TestClient(small_app(), raise_server_exceptions=False)
    first = value("dvc_knowledge_requests_total", method="GET", route="/procedures/{procedure_id}", status="200")
    mounted = value("dvc_knowledge_requests_total", method="GET", route="/console/login", status="200")
    unmatched = value("dvc_knowledge_requests_total", method="GET", route="unmatched", status="404")
    errors = value("dvc_knowledge_errors_total", route="/boom")
    resp = client.get("/procedures/0912345678", headers={"X-Request-ID": "caller-0001"})
    assert resp.headers["X-Request-ID"] == "caller-0001"
    client.get("/console/login")
    client.get("/no/such/0912345678")
    assert client.get("/boom").status_code == 500
    assert value("dvc_knowledge_requests_total", method="GET", route="/procedures/{procedure_id}",
                 status="200") == first + 1
    assert value("dvc_knowledge_requests_total", method="GET", route="/console/login", status="200") == mounted + 1
    assert value("dvc_knowledge_requests_total", method="GET", route="unmatched", status="404") == unmatched + 1
    assert value("dvc_knowledge_errors_total", route="/boom") == errors + 1
    assert client.get("/metrics").status_code == 401  # the test client is not on loopback, and no token
    scraped = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert scraped.status_code == 200 and scraped.headers["content-type"].startswith("text/plain")
    assert 'route="/procedures/{procedure_id}"' in scraped.text and "0912345678" not in scraped.text


def test_search_decisions_are_bounded() -> None:
    before = {d: value("dvc_knowledge_match_decisions_total", decision=d) for d in ("confident", "other")}
    count = value("dvc_knowledge_search_seconds_count")
    with timed_search() as decided:
        decided("confident")
    with timed_search() as decided:
        decided("lam giay khai sinh")  # never a label
    assert value("dvc_knowledge_search_seconds_count") == count + 2
    assert value("dvc_knowledge_match_decisions_total", decision="confident") == before["confident"] + 1
    assert value("dvc_knowledge_match_decisions_total", decision="other") == before["other"] + 1


# -- bounded labels ---------------------------------------------------------------------------

ALLOWED_LABELS = {"channel", "platform", "action", "kind", "method", "route", "status", "outcome", "decision"}


def test_every_project_metric_has_only_bounded_label_names() -> None:
    names = [m.name for m in REGISTRY.collect() if m.name.startswith("dvc_")]
    assert {"dvc_rasa_turns", "dvc_rasa_turn_seconds", "dvc_action_seconds", "dvc_knowledge_search_seconds",
            "dvc_knowledge_request_seconds", "dvc_rasa_channel_queue_depth"} <= set(names)
    for metric in REGISTRY.collect():
        if metric.name.startswith("dvc_"):
            for sample in metric.samples:
                assert set(sample.labels) - {"le"} <= ALLOWED_LABELS, sample


def test_label_values_outside_the_fixed_sets_become_other() -> None:
    assert bounded("rest", ("rest",)) == "rest" and bounded("rest:0912345678", ("rest",)) == "other"
    assert bounded(None, ("rest",)) == "other"
    assert rasa_metrics.channel_label("socketio") == "socketio"
    assert rasa_metrics.channel_label("cmdline") == "other"
    assert action_metrics.action_label("action_handover", {"action_handover"}) == "action_handover"
    assert action_metrics.action_label("action_x' OR 1", {"action_handover"}) == "other"
    assert action_metrics.client_route("/procedures/1.001193") == "/procedures/{id}"
    assert action_metrics.client_route("/guides/tro-cap") == "/guides/{id}"
    assert action_metrics.client_route("/desk/handovers/HT-ABCDEFGH/contact") == "/desk/handovers/{ref}/contact"
    assert action_metrics.client_route("/desk/events") == "/desk/events"
    assert action_metrics.client_route("/anything/else") == "other"


def test_a_turn_is_counted_in_its_channel_with_its_fallback() -> None:
    turns = value("dvc_rasa_turns_total", channel="rest")
    fallbacks = value("dvc_rasa_fallbacks_total", channel="rest")
    handovers = value("dvc_rasa_handovers_total", channel="other")
    errors = value("dvc_rasa_turn_errors_total", channel="zalo")
    with rasa_metrics.turn("rest", "rest:me"):
        rasa_metrics.action_predicted("action_default_fallback")
        rasa_metrics.action_predicted("utter_greet")
    rasa_metrics.action_predicted("action_handover")  # outside a turn: "other"
    with pytest.raises(RuntimeError), rasa_metrics.turn("zalo", "zalo:1"):
        raise RuntimeError("boom")
    assert value("dvc_rasa_turns_total", channel="rest") == turns + 1
    assert value("dvc_rasa_fallbacks_total", channel="rest") == fallbacks + 1
    assert value("dvc_rasa_handovers_total", channel="other") == handovers + 1
    assert value("dvc_rasa_turn_errors_total", channel="zalo") == errors + 1


def test_a_portal_turn_gets_its_own_request_id() -> None:
    seen: list[tuple[str, str]] = []
    install_log_masking()
    with bound(request_id="socket-conn-0001"):
        for channel in ("rest", "socketio"):
            with rasa_metrics.turn(channel, "web:abc"):
                seen.append((channel, logging.getLogger("dvc.test").makeRecord(
                    "dvc.test", logging.INFO, __file__, 1, "x", (), None).dvc_request_id))
    assert seen[0] == ("rest", "socket-conn-0001")
    assert seen[1][0] == "socketio" and seen[1][1] != "socket-conn-0001"


def test_queue_depth_counts_held_and_waiting_messages() -> None:
    async def scenario() -> list[float]:
        locks = SenderLocks("facebook")
        depth = value("dvc_rasa_channel_queue_depth", channel="facebook")
        release = asyncio.Event()
        seen: list[float] = []

        async def message() -> None:
            async with locks.hold("fb:1"):
                await release.wait()

        tasks = [asyncio.create_task(message()) for _ in range(3)]
        await asyncio.sleep(0)
        seen.append(value("dvc_rasa_channel_queue_depth", channel="facebook") - depth)
        release.set()
        await asyncio.gather(*tasks)
        seen.append(value("dvc_rasa_channel_queue_depth", channel="facebook") - depth)
        return seen

    assert asyncio.run(scenario()) == [3.0, 0.0]


def test_platform_sends_are_counted_per_platform() -> None:
    retries, failures = value("dvc_rasa_platform_send_retries_total", platform="zalo"), value(
        "dvc_rasa_platform_send_failures_total", platform="other")
    rasa_metrics.send_retried("zalo")
    rasa_metrics.send_failed("telegram")
    assert value("dvc_rasa_platform_send_retries_total", platform="zalo") == retries + 1
    assert value("dvc_rasa_platform_send_failures_total", platform="other") == failures + 1


# -- several workers --------------------------------------------------------------------------

WORKER = """
import sys
from bot import metrics
metrics.TURNS.labels("rest").inc(int(sys.argv[1]))
"""
SCRAPE = """
from knowledge.observability.prometheus import exposition
print(exposition()[0].decode())
"""


def test_several_workers_are_summed_and_a_restart_starts_from_zero(tmp_path: Path) -> None:
    from knowledge.observability.prometheus import prepare_multiprocess_dir

    folder = tmp_path / "metrics" / "rasa"
    env = {"PYTHONPATH": str(ROOT), "PROMETHEUS_MULTIPROC_DIR": str(folder), "PATH": "/usr/bin:/bin"}
    prepare_multiprocess_dir(env)

    def run(code: str, *args: str) -> str:
        return subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True,
                              check=True, timeout=60).stdout

    run(WORKER, "2")
    run(WORKER, "3")
    assert 'dvc_rasa_turns_total{channel="rest"} 5.0' in run(SCRAPE)
    prepare_multiprocess_dir(env)  # what the process starting the workers does at its start
    assert not list(folder.glob("*.db")) and folder.stat().st_mode & 0o777 == 0o700
    assert "dvc_rasa_turns_total{" not in run(SCRAPE)


# -- the dashboard and the documentation name the metrics that exist ----------------------------

def project_metrics() -> set[str]:
    return {m.name for m in REGISTRY.collect() if m.name.startswith("dvc_")}


def test_dashboard_and_operations_doc_use_the_real_metric_names() -> None:
    import re

    dashboard = json.loads((ROOT / "deploy" / "grafana" / "dvc-dashboard.json").read_text(encoding="utf-8"))
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    used = {re.sub(r"_(bucket|count|sum|total)$", "", n) for e in exprs for n in re.findall(r"dvc_[a-z_]+", e)}
    known = project_metrics()
    assert used and used <= known, used - known
    assert known <= used  # every metric has a panel
    doc = (ROOT / "docs" / "OPERATIONS.md").read_text(encoding="utf-8")
    section = doc.split("## Metrics and logs", 1)[1]
    documented = {re.sub(r"_total$", "", n) for n in re.findall(r"`(dvc_[a-z_]+)`", section)}
    assert known <= documented, known - documented


# -- the action server's side -----------------------------------------------------------------

def test_knowledge_client_sends_the_request_id_and_times_each_call() -> None:
    import httpx

    from actions.knowledge_client import KnowledgeClient, KnowledgeUnavailable
    from actions.settings import ActionSettings

    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(404 if request.url.path.startswith("/procedures/") else 503)

    client = KnowledgeClient(ActionSettings(knowledge_url="http://knowledge"), transport=httpx.MockTransport(handler))
    labels = {"method": "GET", "route": "/procedures/{id}", "outcome": "ok"}
    failed = {"method": "POST", "route": "/search", "outcome": "error"}
    before = value("dvc_knowledge_client_seconds_count", **labels), value("dvc_knowledge_client_seconds_count",
                                                                           **failed)

    async def calls() -> None:
        with bound(request_id="rasa-turn-0001"):
            assert await client.procedure("1.001193") is None
            with pytest.raises(KnowledgeUnavailable):
                await client.search("0912345678")

    asyncio.run(calls())
    assert [r.headers.get("X-Request-ID") for r in seen] == ["rasa-turn-0001", "rasa-turn-0001"]
    assert value("dvc_knowledge_client_seconds_count", **labels) == before[0] + 1
    assert value("dvc_knowledge_client_seconds_count", **failed) == before[1] + 1


def test_action_server_writes_json_lines_when_asked(tmp_path: Path) -> None:
    """The real process (python -m actions.server) with DVC_LOG_FORMAT=json: its start-up lines are
    JSON objects naming the process; it is stopped as soon as they are read."""
    from scripts.stack import free_port

    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "ACTIONS_TOKEN": "t" * 40,
           "ACTIONS_PORT": str(free_port()), "DVC_LOG_FORMAT": "json", "DVC_PROCESS_NAME": "actions"}
    proc = subprocess.Popen([sys.executable, "-m", "actions.server"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        line = ""
        for line in proc.stdout:
            if "action server on" in line:
                break
        parsed = json.loads(line)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert parsed["process"] == "actions" and parsed["logger"] == "actions.server"
    assert parsed["level"] == "INFO" and parsed["message"].startswith("action server on http://127.0.0.1:")


def test_bad_log_format_stops_the_action_server_naming_the_variable() -> None:
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "ACTIONS_TOKEN": "t" * 40, "DVC_LOG_FORMAT": "xml"}
    out = subprocess.run([sys.executable, "-m", "actions.server"], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 2
    assert out.stderr.strip() == "[actions] configuration error: DVC_LOG_FORMAT='xml': use 'json' or 'text'"


def test_rasa_hooks_serve_metrics_write_json_and_pass_the_request_id_on() -> None:
    from tests.unit.rasa_side import rasa_side_report

    report = rasa_side_report("check_observability.py")
    assert report["applied"] is True
    assert report["app"]["metrics_route"] is True and report["app"]["run_action_marked"] is True
    line = report["app"]["last_line"]
    assert (line["level"], line["logger"], line["message"], line["process"]) == (
        "WARNING", "rasa.check", "sdt 0912****78", "rasa")
    assert report["endpoint"]["sent_ids"] == ["rest-call-0001"]
