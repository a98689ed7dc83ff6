"""End to end: one REST message moves the counters of all three processes by exactly what it did
(docs/OPERATIONS.md, "Metrics and logs"). Rasa and the knowledge service run several workers:
whichever answers the scrape, the sums are those of every worker (multiprocess mode)."""

from __future__ import annotations

import json
import urllib.request
import uuid

import pytest
from prometheus_client.parser import text_string_to_metric_families

from scripts.stack import Stack

pytestmark = pytest.mark.e2e

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(base_url: str) -> Samples:
    with urllib.request.urlopen(f"{base_url}/metrics", timeout=30) as resp:
        assert resp.status == 200
        text = resp.read().decode("utf-8")
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum of ``name`` over the samples carrying ``labels`` (others free)."""
    wanted = set(labels.items())
    return sum(v for (n, lbls), v in samples.items() if n == name and wanted <= lbls)


def urls(stack: Stack) -> dict[str, str]:
    return {"rasa": stack.config.rasa_url, "actions": f"http://127.0.0.1:{stack.config.actions_port}",
            "knowledge": stack.config.knowledge_url}


def say_with_id(stack: Stack, text: str, request_id: str) -> tuple[list[dict[str, str]], str]:
    body = json.dumps({"sender": uuid.uuid4().hex, "message": text}).encode()
    req = urllib.request.Request(f"{stack.config.rasa_url}/webhooks/rest/webhook", data=body,
                                 headers={"Content-Type": "application/json", "X-Request-ID": request_id})
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read()), resp.headers.get("X-Request-ID", "")


def test_one_rest_message_moves_each_process_counters(stack: Stack) -> None:
    before = {name: scrape(url) for name, url in urls(stack).items()}
    replies, echoed = say_with_id(stack, "lam giay khai sinh online the nao", "e2e-metrics-0001")
    after = {name: scrape(url) for name, url in urls(stack).items()}

    def delta(process: str, name: str, **labels: str) -> float:
        return total(after[process], name, **labels) - total(before[process], name, **labels)

    assert "Thủ tục đăng ký khai sinh" in "\n".join(r.get("text", "") for r in replies)
    assert echoed == "e2e-metrics-0001"
    assert delta("rasa", "dvc_rasa_turns_total", channel="rest") == 1
    assert delta("rasa", "dvc_rasa_turn_seconds_count", channel="rest") == 1
    assert delta("rasa", "dvc_rasa_turn_errors_total") == 0
    assert delta("actions", "dvc_action_seconds_count", action="action_answer_procedure") == 1
    assert delta("actions", "dvc_action_errors_total") == 0
    searches = delta("knowledge", "dvc_knowledge_search_seconds_count")
    assert searches >= 1
    # every search the actions asked for was one the knowledge service ran and decided on
    assert delta("actions", "dvc_knowledge_client_seconds_count", method="POST", route="/search", outcome="ok") \
        == searches
    assert delta("knowledge", "dvc_knowledge_match_decisions_total") == searches
    assert delta("knowledge", "dvc_knowledge_requests_total", method="POST", route="/search", status="200") \
        == searches


def test_metrics_labels_hold_no_sender_or_query(stack: Stack) -> None:
    sender = f"metrics-{uuid.uuid4().hex[:8]}"
    body = json.dumps({"sender": sender, "message": "số tôi 0912345678 làm cccd"}).encode()
    req = urllib.request.Request(f"{stack.config.rasa_url}/webhooks/rest/webhook", data=body,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60):
        pass
    for url in urls(stack).values():
        with urllib.request.urlopen(f"{url}/metrics", timeout=30) as resp:
            text = resp.read().decode("utf-8")
        assert sender not in text and "0912345678" not in text and "cccd" not in text
