"""End to end: the channels' webhooks fuzzed (bodies from tests/e2e/fuzz_bodies.py, fixed seed).

REST (``/webhooks/rest/webhook``, development posture, loopback) on the session's stack;
Facebook (``/webhooks/facebook/webhook``) and Zalo (``/webhooks/zalo/webhook``) on one stack of
this module with both channels pointed at fake platforms (the Facebook and Zalo test modules'
own stacks are module-scoped, so they cannot be shared: one Rasa start here serves both).

Malformed JSON, wrong types, arrays where objects are expected, huge and NFD strings, lone
surrogates, control characters, nesting thousands deep; platform bodies both signed and unsigned
(or signed wrongly). What must hold for every body: never a 5xx; a refusal is a 4xx with the
channel's short fixed body; a REST answer is the bot's replies, with nothing internal in them;
afterwards the same processes still run and a normal message gets its normal answer.

What the fuzzing found is also checked without a model, in the Rasa environment
(tests/rasa_side/check_channels.py, ``inbound``): the first test here.
"""

from __future__ import annotations

import http.client
import json
import random
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Optional

import pytest
import yaml

from scripts.stack import Stack, StackConfig
from tests.e2e import test_facebook as fbt
from tests.e2e import test_zalo as zt
from tests.e2e.conftest import model_or_skip
from tests.e2e.fuzz_bodies import bodies
from tests.unit.rasa_side import rasa_side_report

e2e = pytest.mark.e2e

SEED = 20261202
BODIES = 150  # per channel
GREETING = "xin chao"
GREETING_MARK = "Xin chào! Tôi là trợ lý ảo"
DEADLINE = 180.0
# Nothing a caller sees may name the code behind it.
INTERNAL = re.compile(r"Traceback|File \"|\.py\b|Exception|Error\b|\bNone\b|sanic|rasa\.|bot\.channels|/work/")


def post(port: int, path: str, raw: bytes, headers: Optional[dict[str, str]] = None,
         timeout: float = 120) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", path, body=raw, headers={"Content-Type": "application/json", **(headers or {})})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def alive(stack: Stack) -> dict[str, int]:
    """The stack's running processes: name → pid (a dead child is left out)."""
    return {c.name: c.proc.pid for c in stack.children if c.proc.poll() is None}


def wait_for(condition: Any, what: str, deadline: float = DEADLINE) -> Any:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out after {deadline:.0f}s waiting for {what}")


def size_limit_answer(status: int, body: bytes) -> bool:
    """Sanic's own answer to a body above the stack's limit (SANIC_REQUEST_MAX_SIZE, 64 KB)."""
    try:
        data = json.loads(body)
    except ValueError:
        return False
    return status == 413 and isinstance(data, dict) and data.get("status") == 413 and len(body) <= 200 \
        and not INTERNAL.search(body.decode("utf-8", "replace"))


def report(problems: list[str]) -> str:
    return f"{len(problems)} problem(s):\n" + "\n".join(problems[:20])


# -- What fuzzing found, without a model ---------------------------------------------------------------


def test_what_fuzzing_found_is_refused_or_cleaned_in_the_channels() -> None:
    found = rasa_side_report("check_channels.py")["inbound"]
    body, sender = "the body must be a JSON object", "'sender' must be a non-empty string of at most 128 characters"
    assert found["rest_refused"] == [body, body, sender, sender, "'metadata' must be at most 4096 characters of JSON"]
    assert found["rest_cleaned"] == "a\ufffdbc Làm"  # surrogate replaced, NUL dropped, NFC
    # Wrong types and unusable ids drop the event; an odd quick reply or mid falls back to the text.
    assert found["facebook_counts"] == [0, 0, 0, 0, 0, 0, 1, 1, 0, 1]
    assert found["facebook_events"] == [{"k": 1}]
    assert found["zalo_outcomes"] == ["ignored (no user)", "ignored (no user)", "ignored (empty text)",
                                      "ignored (malformed message id)", "text → dialogue",
                                      "replay (no timestamp, dropped)"]
    received = [(r["sender"], r["text"]) for r in found["received"]]
    assert received == [("fb:601", "x"), ("fb:602", "a\ufffdb"), ("fb:604", "Lệ phí"), ("zalo:701", "a\ufffdb")]
    # Any other way in: the sender id that made Rasa exit is not handled, the text is cleaned.
    assert found["guard"] == {"refused_answer": [], "keys": ["rest:s1"], "stored_text": "/\ufffd\ufffd ab",
                              "nlu": "/\ufffd\ufffd ab"}


# -- REST ------------------------------------------------------------------------------------------


def rest_template(i: int) -> dict[str, Any]:
    return {"sender": f"fuzz-{SEED}-{i}", "message": "làm giấy khai sinh online thế nào",
            "metadata": {"source": "fuzz"}}


def rest_answer_problem(status: int, body: bytes) -> Optional[str]:
    text = body.decode("utf-8", "replace")
    if size_limit_answer(status, body):
        return None
    if status == 400:
        data = json.loads(body)
        return None if set(data) == {"error"} and len(body) <= 200 and not INTERNAL.search(text) else "odd 400 body"
    if status != 200:
        return f"HTTP {status}"
    if body.startswith(b"["):
        replies = json.loads(body)
    else:  # ?stream=true: one JSON message a line
        replies = [json.loads(line) for line in body.splitlines() if line.strip()]
    for reply in replies:
        if not isinstance(reply, dict) or not isinstance(reply.get("recipient_id"), str):
            return "a reply that is not a message"
        if INTERNAL.search(str(reply.get("text") or "")):
            return "a reply naming internals"
    return None


@e2e
def test_fuzzed_rest_bodies_get_a_4xx_or_the_bots_answer(stack: Stack) -> None:
    before = alive(stack)
    rng = random.Random(SEED)
    problems = []
    statuses: dict[int, int] = {}
    for i, raw in enumerate(bodies(SEED, BODIES, rest_template)):
        path = "/webhooks/rest/webhook" + ("?stream=true" if rng.random() < 0.05 else "")
        status, body = post(stack.config.rasa_port, path, raw)
        statuses[status] = statuses.get(status, 0) + 1
        problem = rest_answer_problem(status, body)
        if problem:
            problems.append(f"#{i} {problem}: {raw[:80]!r} → {body[:120]!r}")
    assert not problems, report(problems)
    assert statuses.get(400, 0) > 20 and statuses.get(200, 0) > 20, statuses  # both kinds were tried
    assert alive(stack) == before
    replies = json.loads(post(stack.config.rasa_port, "/webhooks/rest/webhook",
                              json.dumps({"sender": uuid.uuid4().hex, "message": GREETING}).encode())[1])
    assert GREETING_MARK in "\n".join(str(r.get("text", "")) for r in replies)


# -- Facebook and Zalo: one stack with both channels --------------------------------------------------


@dataclass
class Platforms:
    stack: Stack
    graph: fbt.FakeGraph
    zalo: zt.FakeZalo


@pytest.fixture(scope="module")
def platforms(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platforms]:
    model = model_or_skip()
    tmp = tmp_path_factory.mktemp("fuzz-platforms")
    graph = fbt.FakeGraph().start()
    fake = zt.FakeZalo().start()
    channels = yaml.safe_load(zt.credentials_text(fake.base_url, tmp / "zalo-token.db"))
    channels["bot.channels.facebook.MessengerInput"] = {
        "verify": fbt.VERIFY_TOKEN, "secret": fbt.APP_SECRET, "page-access-token": fbt.PAGE_TOKEN,
        "graph_base_url": graph.base_url, "graph_version": fbt.GRAPH_VERSION}
    credentials = tmp / "credentials.yml"
    credentials.write_text(yaml.safe_dump(channels, allow_unicode=True, sort_keys=False), encoding="utf-8")
    config = StackConfig.on_free_ports(index_dir=tmp / "index", tracker_db=tmp / "tracker.db", model=model,
                                       credentials=credentials, log_dir=tmp / "logs", rasa_workers=1)
    stack = Stack(config)
    try:
        stack.start(timeout=400)
        yield Platforms(stack, graph, fake)
    finally:
        stack.stop()
        graph.stop()
        fake.stop()
        for log in sorted((tmp / "logs").glob("*.log")):
            print(f"---- {log.name} ----\n{log.read_text(errors='replace')[-3000:]}")


def psid_of(i: int) -> str:
    return str(7_000_000_000_000 + SEED % 1000 * 10_000 + i)


FB_PATH = "/webhooks/facebook/webhook"
FB_ANSWERS = {200: b"EVENT_RECEIVED", 400: b"invalid json", 403: b"invalid signature"}


def fb_template(i: int) -> dict[str, Any]:
    return json.loads(fbt.webhook_body(fbt.text_event(psid_of(i), "làm giấy khai sinh online thế nào")))


def forged_fb_signature(raw: bytes, rng: random.Random) -> Optional[str]:
    return rng.choice([None, "", "sha256=", "sha1=" + "0" * 40, fbt.sign(raw, "wrong-secret"),
                       fbt.sign(raw)[:-2], "sha256=" + "g" * 64, fbt.sign(raw + b" ")])


@e2e
def test_fuzzed_facebook_bodies_signed_and_unsigned(platforms: Platforms) -> None:
    before = alive(platforms.stack)
    rng = random.Random(SEED + 1)
    problems = []
    statuses: dict[int, int] = {}
    for i, raw in enumerate(bodies(SEED + 1, BODIES, fb_template)):
        signed = rng.random() < 0.8
        signature = fbt.sign(raw) if signed else forged_fb_signature(raw, rng)
        headers = {"X-Hub-Signature-256": signature} if signature is not None else {}
        status, body = post(platforms.stack.config.rasa_port, FB_PATH, raw, headers)
        statuses[status] = statuses.get(status, 0) + 1
        expected = {200, 400} if signed else {403}
        if size_limit_answer(status, body):
            continue
        if status not in expected or body != FB_ANSWERS.get(status):
            problems.append(f"#{i} {'signed' if signed else 'unsigned'}: {raw[:80]!r} → {status} {body[:120]!r}")
    assert not problems, report(problems)
    assert statuses.get(200, 0) > 20 and statuses.get(400, 0) > 5 and statuses.get(403, 0) > 5, statuses
    assert alive(platforms.stack) == before
    psid = psid_of(10_000)
    post(platforms.stack.config.rasa_port, FB_PATH, body := fbt.webhook_body(fbt.text_event(psid, GREETING)),
         {"X-Hub-Signature-256": fbt.sign(body)})
    wait_for(lambda: GREETING_MARK in fbt.texts_for(platforms.graph, psid), "the greeting on Messenger")
    assert alive(platforms.stack) == before


ZALO_PATH = "/webhooks/zalo/webhook"
ZALO_ANSWERS = {200: {"status": "ok"}, 400: {"error": "malformed JSON"}, 401: {"error": "unauthorized"},
                413: {"error": "payload too large"}}


def zalo_user(i: int) -> str:
    return str(8_000_000_000_000 + SEED % 1000 * 10_000 + i)


def zalo_template(i: int) -> dict[str, Any]:
    return zt.event(zalo_user(i), "làm giấy khai sinh online thế nào")


@e2e
def test_fuzzed_zalo_bodies_signed_and_unsigned(platforms: Platforms) -> None:
    before = alive(platforms.stack)
    rng = random.Random(SEED + 2)
    problems = []
    statuses: dict[int, int] = {}
    for i, raw in enumerate(bodies(SEED + 2, BODIES, zalo_template)):
        signed = rng.random() < 0.8
        timestamp = str(int(time.time() * 1000))
        headers = {"X-ZEvent-Timestamp": timestamp}
        if signed:
            headers["X-ZEvent-Signature"] = zt.sign(raw, timestamp)
        else:
            forged = rng.choice([None, "", "mac=", zt.sign(raw, timestamp, secret="wrong"), "mac=" + "0" * 64,
                                 zt.sign(raw + b" ", timestamp)])
            if forged is not None:
                headers["X-ZEvent-Signature"] = forged
        status, body = post(platforms.stack.config.rasa_port, ZALO_PATH, raw, headers)
        statuses[status] = statuses.get(status, 0) + 1
        # Unsigned: refused (401), unless the body cannot be an event at all (400) or is too large
        # to be read (413), which are said before the signature is checked.
        expected = {200, 400, 413} if signed else {400, 401, 413}
        try:
            answer = json.loads(body)
        except ValueError:
            answer = None
        if size_limit_answer(status, body):
            continue
        if status not in expected or answer != ZALO_ANSWERS.get(status):
            problems.append(f"#{i} {'signed' if signed else 'unsigned'}: {raw[:80]!r} → {status} {body[:120]!r}")
    assert not problems, report(problems)
    assert statuses.get(200, 0) > 20 and statuses.get(400, 0) > 5 and statuses.get(401, 0) > 5, statuses
    assert alive(platforms.stack) == before
    user = zalo_user(10_000)
    raw = json.dumps(zt.event(user, GREETING), ensure_ascii=False).encode("utf-8")
    timestamp = json.loads(raw)["timestamp"]
    post(platforms.stack.config.rasa_port, ZALO_PATH, raw, {"X-ZEvent-Signature": zt.sign(raw, timestamp)})
    wait_for(lambda: any(GREETING_MARK in s.text for s in platforms.zalo.for_user(user)), "the greeting on Zalo")
    assert alive(platforms.stack) == before
