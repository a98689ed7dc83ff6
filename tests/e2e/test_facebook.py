"""End to end: Facebook Messenger through the real stack.

The real knowledge service, action server and Rasa server are started with a credentials
file that adds ``bot.channels.facebook.MessengerInput`` pointed at a fake Graph API on
127.0.0.1. The test posts webhooks signed the way Meta signs them (``X-Hub-Signature-256``,
HMAC-SHA256 of the raw body with the app secret) and reads what the bot sent from the fake
Graph server's log.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from scripts.stack import ROOT, Stack, StackConfig
from tests.e2e.conftest import model_or_skip
from tests.e2e.rasa_api import rasa_api, user_turns

pytestmark = pytest.mark.e2e

VERIFY_TOKEN = "verify-" + uuid.uuid4().hex
APP_SECRET = "secret-" + uuid.uuid4().hex
PAGE_TOKEN = "page-token-" + uuid.uuid4().hex
GRAPH_VERSION = "v19.0"
PAGE_ID = "104857600000001"

# Generous: two cores shared with other work, and each answer goes through NLU, the action
# server and the knowledge service.
DEADLINE = 180.0


# ------------------------------------------------------------------------------------------
# Fake Graph API


class FakeGraph:
    """Plays ``POST /{version}/me/messages``: records every request, can fail the next N sends."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []  # every request, failed ones included
        self._fail: dict[str, list[int]] = {}  # PSID → statuses to answer to its next message sends
        handler = self._handler()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, name="fake-graph", daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeGraph:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def fail_next(self, psid: str, n: int, status: int = 500) -> None:
        with self.lock:
            self._fail.setdefault(psid, []).extend([status] * n)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        graph = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                url = urllib.parse.urlsplit(self.path)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = None
                status = 200
                with graph.lock:
                    recipient = (body or {}).get("recipient", {}).get("id", "") if isinstance(body, dict) else ""
                    if isinstance(body, dict) and "message" in body and graph._fail.get(recipient):
                        status = graph._fail[recipient].pop(0)
                    graph.requests.append({"path": url.path, "query": urllib.parse.parse_qs(url.query),
                                           "body": body, "status": status, "at": time.monotonic()})
                if status == 200:
                    answer = {"recipient_id": recipient, "message_id": "m_" + uuid.uuid4().hex}
                else:
                    answer = {"error": {"message": "An unexpected error has occurred.", "type": "OAuthException",
                                        "code": 2, "is_transient": True, "fbtrace_id": "Fake" + uuid.uuid4().hex}}
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler

    def snapshot(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.requests)

    def delivered(self, psid: str | None = None) -> list[dict[str, Any]]:
        """Messages (not sender actions) accepted with 200, in arrival order, optionally for one PSID."""
        return [r["body"] for r in self.snapshot()
                if r["status"] == 200 and isinstance(r["body"], dict) and "message" in r["body"]
                and (psid is None or r["body"]["recipient"]["id"] == psid)]

    def attempts(self, psid: str) -> list[dict[str, Any]]:
        return [r for r in self.snapshot()
                if isinstance(r["body"], dict) and r["body"].get("recipient", {}).get("id") == psid]


def message_text(body: dict[str, Any]) -> str:
    message = body["message"]
    if "text" in message:
        return str(message["text"])
    payload = message.get("attachment", {}).get("payload", {})
    return str(payload.get("text") or "")


def texts_for(graph: FakeGraph, psid: str) -> str:
    return "\n".join(message_text(b) for b in graph.delivered(psid))


def wait_for(condition: Callable[[], Any], deadline: float = DEADLINE, what: str = "condition") -> Any:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out after {deadline:.0f}s waiting for {what}")


def settle(graph: FakeGraph, psid: str, quiet: float = 3.0, deadline: float = 60.0) -> None:
    """Wait until nothing new has reached the fake Graph for this PSID for ``quiet`` seconds."""
    end = time.monotonic() + deadline
    last = len(graph.attempts(psid))
    stable_since = time.monotonic()
    while time.monotonic() < end:
        time.sleep(0.25)
        now = len(graph.attempts(psid))
        if now != last:
            last, stable_since = now, time.monotonic()
        elif time.monotonic() - stable_since >= quiet:
            return


# ------------------------------------------------------------------------------------------
# Webhooks the way Meta sends them


def sign(raw: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def text_event(psid: str, text: str, timestamp: int | None = None, **message: Any) -> dict[str, Any]:
    return {"sender": {"id": psid}, "recipient": {"id": PAGE_ID},
            "timestamp": int(time.time() * 1000) if timestamp is None else timestamp,
            "message": {"mid": "m_" + uuid.uuid4().hex, "text": text, **message}}


def webhook_body(*events: dict[str, Any]) -> bytes:
    entry = {"id": PAGE_ID, "time": int(time.time() * 1000), "messaging": list(events)}
    return json.dumps({"object": "page", "entry": [entry]}, ensure_ascii=False).encode("utf-8")


class FbStack:
    def __init__(self, stack: Stack, graph: FakeGraph) -> None:
        self.stack = stack
        self.graph = graph
        self.webhook = f"{stack.config.rasa_url}/webhooks/facebook/webhook"

    def post(self, raw: bytes, signature: str | None = "auto") -> int:
        headers = {"Content-Type": "application/json"}
        if signature == "auto":
            signature = sign(raw)
        if signature is not None:
            headers["X-Hub-Signature-256"] = signature
        req = urllib.request.Request(self.webhook, data=raw, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                return int(resp.status)
        except urllib.error.HTTPError as e:
            return int(e.code)

    def say(self, psid: str, text: str) -> int:
        return self.post(webhook_body(text_event(psid, text)))

    def get(self, params: dict[str, str]) -> tuple[int, str]:
        url = f"{self.webhook}?{urllib.parse.urlencode(params)}"
        try:
            with urllib.request.urlopen(url, timeout=30) as resp:
                return int(resp.status), resp.read().decode()
        except urllib.error.HTTPError as e:
            return int(e.code), e.read().decode()

    def api(self, path: str, body: Any = None) -> Any:
        """Rasa's HTTP API (behind its token), as an operator tool would call it."""
        return rasa_api(self.stack, path, body)

    def user_events(self, psid: str) -> list[dict[str, Any]]:
        """The user turns of a PSID's conversation (sender id ``fb:<psid>``)."""
        return user_turns(self.stack, "fb:" + psid)


@pytest.fixture(scope="module")
def fb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FbStack]:
    model = model_or_skip()
    tmp = tmp_path_factory.mktemp("fbstack")
    graph = FakeGraph().start()
    credentials = tmp / "credentials.yml"
    credentials.write_text(
        (ROOT / "bot" / "credentials.yml").read_text(encoding="utf-8")
        + "\n\nbot.channels.facebook.MessengerInput:\n"
        + f'  verify: "{VERIFY_TOKEN}"\n  secret: "{APP_SECRET}"\n  page-access-token: "{PAGE_TOKEN}"\n'
        + f'  graph_base_url: "{graph.base_url}"\n  graph_version: "{GRAPH_VERSION}"\n',
        encoding="utf-8")
    # One Rasa process without Redis: the redelivery memory is the SQLite file DVC_SEEN_DB, which
    # must survive a restart (test_a_redelivery_after_a_restart_is_not_answered_twice). The Zalo
    # test module runs the scaled stack (workers sharing Redis).
    config = StackConfig.on_free_ports(index_dir=tmp / "index", tracker_db=tmp / "tracker.db", model=model,
                                       credentials=credentials, log_dir=tmp / "logs", rasa_workers=1)
    stack = Stack(config)
    try:
        stack.start(timeout=400)
        assert not stack.config.scaled and stack.config.lock_store_url == ""
        yield FbStack(stack, graph)
    finally:
        stack.stop()
        graph.stop()
        for log in sorted((tmp / "logs").glob("*.log")):
            tail = log.read_text(errors="replace")[-3000:]
            print(f"---- {log.name} ----\n{tail}")
        rasa_log = tmp / "logs" / "rasa.log"
        if rasa_log.exists():
            logged = rasa_log.read_text(errors="replace")
            assert PAGE_TOKEN not in logged, "the page token leaked into the logs"
            assert not [p for p in USED_PSIDS if p in logged], "a PSID was logged in clear"
            assert "tra cứu hồ sơ" not in logged, "a user's message was logged"


USED_PSIDS: list[str] = []


def psid() -> str:
    """A fresh page-scoped id (16 digits, like Meta's)."""
    value = str(10**15 + uuid.uuid4().int % 10**15)
    USED_PSIDS.append(value)
    return value


# ------------------------------------------------------------------------------------------
# (a) webhook verification


def test_verification_answers_the_challenge_only_with_the_right_token(fb: FbStack) -> None:
    status, body = fb.get({"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"})
    assert (status, body) == (200, "1158201444")
    status, body = fb.get({"hub.mode": "subscribe", "hub.verify_token": "wrong-token", "hub.challenge": "1158201444"})
    assert status == 403 and "1158201444" not in body
    status, body = fb.get({"hub.mode": "subscribe", "hub.challenge": "1158201444"})
    assert status == 403 and "1158201444" not in body


# ------------------------------------------------------------------------------------------
# (b) a signed text message is answered, buttons within Messenger's limits


def assert_within_limits(body: dict[str, Any]) -> None:
    assert body["messaging_type"] == "RESPONSE"
    message = body["message"]
    if "text" in message:
        assert 0 < len(message["text"]) <= 2000
        replies = message.get("quick_replies") or []
        assert len(replies) <= 13
        for qr in replies:
            assert qr["content_type"] == "text" and 0 < len(qr["title"]) <= 20 and 0 < len(qr["payload"]) <= 1000
    else:
        payload = message["attachment"]["payload"]
        assert message["attachment"]["type"] == "template" and payload["template_type"] == "button"
        assert 0 < len(payload["text"]) <= 640
        assert 1 <= len(payload["buttons"]) <= 3
        for b in payload["buttons"]:
            assert 0 < len(b["title"]) <= 20
            if b["type"] == "web_url":
                assert b["url"].startswith("https://")
            else:
                assert b["type"] == "postback" and 0 < len(b["payload"]) <= 1000


def test_signed_text_is_answered_with_buttons_within_limits(fb: FbStack) -> None:
    user = psid()
    assert fb.say(user, "lam giay khai sinh online the nao") == 200

    def answered() -> bool:
        return "Thủ tục đăng ký khai sinh" in texts_for(fb.graph, user) and any(
            "quick_replies" in b["message"] for b in fb.graph.delivered(user))

    wait_for(answered, what="the birth-registration answer with quick replies")
    settle(fb.graph, user)
    delivered = fb.graph.delivered(user)
    for body in delivered:
        assert_within_limits(body)
    # The Graph call itself: version, path, page token.
    request = next(r for r in fb.graph.snapshot() if r["body"] in delivered)
    assert request["path"] == f"/{GRAPH_VERSION}/me/messages"
    assert request["query"]["access_token"] == [PAGE_TOKEN]
    # The overview has more than 3 buttons: payload buttons as quick replies, the link in a template.
    replies = [qr for b in delivered for qr in b["message"].get("quick_replies") or []]
    assert {"Giấy tờ cần chuẩn bị", "Lệ phí", "Thời gian giải quyết"} <= {qr["title"] for qr in replies}
    assert all(qr["payload"].startswith("/") for qr in replies)
    links = [btn for b in delivered if "attachment" in b["message"]
             for btn in b["message"]["attachment"]["payload"]["buttons"] if btn["type"] == "web_url"]
    assert links and all(link["title"] == "Nộp trực tuyến" for link in links)
    # Quick replies only show on the latest message: they must come last.
    assert "quick_replies" in delivered[-1]["message"]
    # A sender action (typing indicator) was sent too, before the answer.
    assert any(r["body"].get("sender_action") == "typing_on" for r in fb.graph.attempts(user))

    # Tapping a quick reply sends its payload back; the fee answer follows.
    fee = next(qr for qr in replies if qr["title"] == "Lệ phí")
    before = len(fb.graph.delivered(user))
    assert fb.post(webhook_body(text_event(user, "Lệ phí", quick_reply={"payload": fee["payload"]}))) == 200
    wait_for(lambda: "Lệ phí «" in "\n".join(message_text(b) for b in fb.graph.delivered(user)[before:]),
             what="the fee answer after the quick reply")


def test_postback_payload_is_handled(fb: FbStack) -> None:
    user = psid()
    event = {"sender": {"id": user}, "recipient": {"id": PAGE_ID}, "timestamp": int(time.time() * 1000),
             "postback": {"mid": "m_" + uuid.uuid4().hex, "title": "Làm giấy khai sinh online",
                          "payload": "làm giấy khai sinh online thế nào"}}
    assert fb.post(webhook_body(event)) == 200
    wait_for(lambda: "Thủ tục đăng ký khai sinh" in texts_for(fb.graph, user), what="the postback's answer")


def test_attachments_get_a_polite_text_and_echoes_receipts_are_ignored(fb: FbStack) -> None:
    user = psid()
    image = {"sender": {"id": user}, "recipient": {"id": PAGE_ID}, "timestamp": int(time.time() * 1000),
             "message": {"mid": "m_" + uuid.uuid4().hex,
                         "attachments": [{"type": "image", "payload": {"url": "https://example.invalid/a.jpg"}}]}}
    echo = {"sender": {"id": PAGE_ID}, "recipient": {"id": user}, "timestamp": int(time.time() * 1000),
            "message": {"mid": "m_" + uuid.uuid4().hex, "is_echo": True, "text": "xin chao"}}
    delivery = {"sender": {"id": user}, "recipient": {"id": PAGE_ID},
                "delivery": {"mids": ["m_x"], "watermark": int(time.time() * 1000)}}
    read = {"sender": {"id": user}, "recipient": {"id": PAGE_ID}, "read": {"watermark": int(time.time() * 1000)}}
    assert fb.post(webhook_body(echo, delivery, read, image)) == 200
    wait_for(lambda: "Hiện tôi chỉ đọc được tin nhắn chữ" in texts_for(fb.graph, user), what="the polite text")
    settle(fb.graph, user)
    assert len(fb.graph.delivered(user)) == 1
    assert fb.graph.attempts(PAGE_ID) == []  # the echo was not answered
    assert fb.user_events(user) == []  # nothing of this reached the dialogue


# ------------------------------------------------------------------------------------------
# (c) forged and missing signatures


def test_forged_and_missing_signatures_are_refused(fb: FbStack) -> None:
    forged_user, unsigned_user, tampered_user = psid(), psid(), psid()
    raw = webhook_body(text_event(forged_user, "xin chao"))
    assert fb.post(raw, signature=sign(raw, secret="not-the-app-secret")) == 403
    assert fb.post(raw, signature="sha256=" + "0" * 64) == 403
    assert fb.post(raw, signature="sha1=" + hmac.new(APP_SECRET.encode(), raw, hashlib.sha1).hexdigest()) == 403
    assert fb.post(webhook_body(text_event(unsigned_user, "xin chao")), signature=None) == 403
    # A body changed after signing.
    signed = webhook_body(text_event(tampered_user, "xin chao"))
    assert fb.post(signed.replace(b"xin chao", b"xin chao!"), signature=sign(signed)) == 403
    # A correctly signed control message, sent after them, is answered...
    control = psid()
    assert fb.say(control, "xin chao") == 200
    wait_for(lambda: fb.graph.delivered(control), what="the control message's answer")
    time.sleep(2.0)
    # ...while nothing was sent to, or recorded for, the refused senders.
    for user in (forged_user, unsigned_user, tampered_user):
        assert fb.graph.attempts(user) == []
        assert fb.user_events(user) == []


# ------------------------------------------------------------------------------------------
# (d) a burst: 50 messages from 10 users


def dossier_code(user: int, n: int) -> str:
    """A well-formed code the one-stop system does not know: the answer quotes it back."""
    return f"G22.99.{user // 28 + 1:02d}-2511{user % 28 + 1:02d}-{9000 + n:04d}"


def test_burst_of_50_messages_from_10_users(fb: FbStack) -> None:
    users = [psid() for _ in range(10)]
    statuses: list[int] = []

    def send_all(i: int, user: str) -> None:
        for n in range(5):
            statuses.append(fb.say(user, f"tra cứu hồ sơ {dossier_code(i, n)}"))

    threads = [threading.Thread(target=send_all, args=(i, u)) for i, u in enumerate(users)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert statuses == [200] * 50
    assert time.monotonic() - started < 60, "the webhook must answer at once, not after the dialogue"

    def codes_answered(i: int, user: str) -> list[str]:
        text = texts_for(fb.graph, user)
        return [dossier_code(i, n) for n in range(5) if dossier_code(i, n) in text]

    wait_for(lambda: all(len(codes_answered(i, u)) == 5 for i, u in enumerate(users)), deadline=DEADLINE * 2,
             what="an answer to each of the 50 messages")
    for user in users:
        settle(fb.graph, user, quiet=2.0)
    for i, user in enumerate(users):
        text = texts_for(fb.graph, user)
        own = [dossier_code(i, n) for n in range(5)]
        # Answered in the order asked, and nothing about another user's dossier.
        positions = [text.index(code) for code in own]
        assert positions == sorted(positions), f"user {i} answered out of order"
        for j in range(10):
            if j != i:
                assert not any(dossier_code(j, n) in text for n in range(5)), f"user {j}'s answer went to user {i}"
        # Every message reached the dialogue exactly once.
        assert len(fb.user_events(user)) == 5


# ------------------------------------------------------------------------------------------
# (e) the Send API failing, then recovering


def test_send_api_failing_twice_then_succeeding_delivers_exactly_once(fb: FbStack) -> None:
    user = psid()
    code = dossier_code(42, 7)
    fb.graph.fail_next(user, 2, status=500)
    assert fb.say(user, f"tra cứu hồ sơ {code}") == 200
    wait_for(lambda: code in texts_for(fb.graph, user), what="the answer after two failed sends")
    settle(fb.graph, user)
    answers = [b for b in fb.graph.delivered(user) if code in message_text(b)]
    assert len(answers) == 1
    failed = [r for r in fb.graph.attempts(user) if r["status"] == 500]
    assert len(failed) == 2 and all(code in message_text(r["body"]) for r in failed)


# ------------------------------------------------------------------------------------------
# (f) sender ids, replays, redeliveries after a restart, unsafe links (issue 10)


def test_the_conversation_is_fb_prefixed(fb: FbStack) -> None:
    user = psid()
    assert fb.say(user, "xin chao") == 200
    wait_for(lambda: fb.graph.delivered(user), what="the greeting")
    assert [e["input_channel"] for e in fb.user_events(user)] == ["facebook"]
    assert all(b["recipient"]["id"] == user for b in fb.graph.delivered(user))  # the platform gets the bare PSID


def test_a_replayed_old_event_is_not_answered(fb: FbStack) -> None:
    user = psid()
    old, fresh = dossier_code(50, 1), dossier_code(50, 2)
    yesterday_and_more = int(time.time() * 1000) - 37 * 3600 * 1000  # beyond Meta's 36 h of retries
    assert fb.post(webhook_body(text_event(user, f"tra cứu hồ sơ {old}", timestamp=yesterday_and_more))) == 200
    assert fb.say(user, f"tra cứu hồ sơ {fresh}") == 200  # canary: same sender, handled in order
    wait_for(lambda: fresh in texts_for(fb.graph, user), what="the canary's answer")
    settle(fb.graph, user)
    assert old not in texts_for(fb.graph, user)
    assert [e["text"] for e in fb.user_events(user)] == [f"tra cứu hồ sơ {fresh}"]


def test_a_redelivery_after_a_restart_is_not_answered_twice(fb: FbStack) -> None:
    user = psid()
    code, canary = dossier_code(51, 1), dossier_code(51, 2)
    raw = webhook_body(text_event(user, f"tra cứu hồ sơ {code}"))
    assert fb.post(raw) == 200
    wait_for(lambda: code in texts_for(fb.graph, user), what="the first answer")
    settle(fb.graph, user)
    fb.stack.restart_child("rasa")  # the webhook process: its in-memory ids are gone
    assert fb.post(raw) == 200  # Meta redelivers the same signed body (same mid)
    assert fb.say(user, f"tra cứu hồ sơ {canary}") == 200
    wait_for(lambda: canary in texts_for(fb.graph, user), what="the canary's answer after the restart")
    settle(fb.graph, user)
    assert sum(code in message_text(b) for b in fb.graph.delivered(user)) == 1
    assert [e["text"] for e in fb.user_events(user)] == [f"tra cứu hồ sơ {code}", f"tra cứu hồ sơ {canary}"]


def test_a_javascript_button_never_reaches_the_page(fb: FbStack) -> None:
    user = psid()
    event = [{"event": "bot", "text": "Mời bạn mở liên kết", "data": {"buttons": [
        {"title": "Bẫy", "url": "javascript:alert(document.cookie)", "type": "web_url"},
        {"title": "Trang http", "url": "http://dichvucong.gov.vn", "type": "web_url"},
        {"title": "Cổng DVC", "url": "https://dichvucong.gov.vn", "type": "web_url"}]}}]
    path = f"/conversations/{urllib.parse.quote('fb:' + user, safe=':')}/tracker/events"
    fb.api(path + "?execute_side_effects=true&output_channel=facebook", event)
    wait_for(lambda: fb.graph.delivered(user), what="the injected message")
    settle(fb.graph, user)
    sent = json.dumps(fb.graph.delivered(user), ensure_ascii=False)
    assert "javascript:" not in sent and "http://" not in sent
    buttons = [btn for b in fb.graph.delivered(user) if "attachment" in b["message"]
               for btn in b["message"]["attachment"]["payload"]["buttons"]]
    assert buttons == [{"type": "web_url", "url": "https://dichvucong.gov.vn", "title": "Cổng DVC"}]


def test_another_channels_conversation_never_makes_the_page_send(fb: FbStack) -> None:
    user = psid()
    for sender in (f"zalo:{user}", f"web:{user}", f"rest:{user}", user):
        path = f"/conversations/{urllib.parse.quote(sender, safe=':')}/tracker/events"
        fb.api(path + "?execute_side_effects=true&output_channel=facebook",
               [{"event": "bot", "text": "Chuyển khoản để nhận kết quả"}])
    control = psid()
    fb.api(f"/conversations/fb:{control}/tracker/events?execute_side_effects=true&output_channel=facebook",
           [{"event": "bot", "text": "Tin thật"}])
    wait_for(lambda: fb.graph.delivered(control), what="the control message")
    settle(fb.graph, user, quiet=2.0)
    assert fb.graph.attempts(user) == []


def test_personal_data_typed_on_messenger_is_stored_and_logged_masked(fb: FbStack) -> None:
    from tests.e2e.stores import assert_nowhere

    user = psid()
    assert fb.say(user, "tôi muốn đăng ký thường trú cho con, cccd 079203001234, sđt 0912 345 678, "
                        "email nguyenvana.fb@gmail.com") == 200
    wait_for(lambda: fb.graph.delivered(user), what="the answer")
    wait_for(lambda: fb.user_events(user), what="the saved turn")  # saved after the reply is sent
    assert [e["text"] for e in fb.user_events(user)] == [
        "tôi muốn đăng ký thường trú cho con, cccd 0792******34, sđt 0912****78, email n************@gmail.com"]
    assert_nowhere(fb.stack, ["079203001234", "0912 345 678", "0912345678", "nguyenvana.fb"])
