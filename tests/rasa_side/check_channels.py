"""Checks of the channels the Rasa server imports (REST, portal, Facebook, Zalo), run with
.venv-rasa's Python by tests/unit/test_channel_rasa.py (the Rasa environment has no pytest).
Prints one JSON report; the assertions are in the test file."""

import asyncio
import json
import logging
import os
import socket
import sys
import time

import aiohttp

os.environ.setdefault("DVC_ENVIRONMENT", "development")
os.environ.pop("PORTAL_SESSION_SECRET", None)
os.environ.pop("DVC_REDIS_URL", None)

from bot.channels import facebook, zalo  # noqa: E402
from bot.channels.portal import PortalOutput, PortalSocketIOInput, portal_origins  # noqa: E402
from bot.channels.rest import GuardedRestInput, is_loopback, parse_body, refusal  # noqa: E402
from knowledge.environment import SettingError  # noqa: E402

logging.disable(logging.CRITICAL)
JS = "javascript:alert(1)"


class FakeSio:
    def __init__(self):
        self.sent = []

    async def emit(self, event, data=None, room=None, **kwargs):
        self.sent.append({"event": event, "data": data, "room": room, **kwargs})


# -- REST --------------------------------------------------------------------------------------


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


PORTAL_ENV = {"DVC_ENVIRONMENT": "development", "PORTAL_SESSION_SECRET": "p" * 40,
              "DVC_PORTAL_ORIGINS": "http://portal.example:8000"}


async def rest_server(env):
    """One Sanic app (Sanic's TouchUp allows one per process) with the REST and portal channels,
    and CORS configured as Rasa does it with ``--cors`` (bot/serve.py)."""
    from rasa.server import configure_cors
    from sanic import Sanic

    seen = []

    async def on_new_message(message):
        seen.append({"sender": message.sender_id, "channel": message.input_channel, "text": message.text})
        await message.output_channel.send_text_message(message.sender_id, "đáp: " + message.text)

    app = Sanic("rest_check")
    configure_cors(app, ["http://portal.example:8000"])
    channel = GuardedRestInput(env=env)
    app.blueprint(channel.blueprint(on_new_message), url_prefix="/webhooks/rest")
    portal = PortalSocketIOInput(env=PORTAL_ENV)
    app.blueprint(portal.blueprint(on_new_message), url_prefix="/webhooks/socketio")
    port = free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
    await server.startup()
    await server.before_start()  # Sanic-CORS installs its middleware in a listener
    await server.start_serving()
    await server.after_start()
    return server, port, seen


async def socket_checks(port, seen):
    """The portal socket end to end: origins, CORS headers once, server-issued sessions."""
    import socketio

    out = {}
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as http:
        for name, origin in (("allowed", "http://portal.example:8000"), ("foreign", "http://evil.example")):
            async with http.get(f"{base}/socket.io/?EIO=4&transport=polling", headers={"Origin": origin}) as resp:
                out[name] = {"status": resp.status,
                             "allow_origin": resp.headers.getall("Access-Control-Allow-Origin", [])}

    async def session(offered, message_session=None):
        client = socketio.AsyncClient()
        confirmed = asyncio.get_running_loop().create_future()
        answers = []

        @client.on("session_confirm")
        async def on_confirm(data):
            if not confirmed.done():
                confirmed.set_result(data)

        @client.on("bot_uttered")
        async def on_bot(data):
            answers.append(data)

        await client.connect(base, headers={"Origin": "http://portal.example:8000"}, transports=["polling"],
                             socketio_path="/socket.io")
        await client.emit("user_uttered", {"message": "trước phiên", "session_id": offered})
        await client.emit("session_request", {"session_id": offered})
        token = await asyncio.wait_for(confirmed, 10)
        before = len(seen)
        await client.emit("user_uttered", {"message": "xin chào", "session_id": message_session or token})
        for _ in range(200):
            if answers:
                break
            await asyncio.sleep(0.02)
        await client.disconnect()
        return token, seen[before:], answers

    token, turns, answers = await session(None)
    out["first"] = {"token": token, "turns": turns, "answers": answers}
    kept, turns2, _ = await session(token)
    out["kept"] = kept == token and turns2[0]["sender"] == turns[0]["sender"]
    forged = token.split(".")[0] + "." + "B" * 43
    other, turns3, _ = await session(forged, message_session=token)
    out["forged"] = {"replaced": other != token, "sender_is_own": turns3[0]["sender"] == "web:" + other.split(".")[0]}
    out["unconfirmed_ignored"] = all(t["text"] != "trước phiên" for t in seen)
    return out


async def rest_checks():
    out = {}
    env = {"DVC_ENVIRONMENT": "development"}
    server, port, seen = await rest_server(env)
    url = f"http://127.0.0.1:{port}/webhooks/rest/webhook"
    try:
        async with aiohttp.ClientSession() as http:
            async def post(data, raw=False):
                kwargs = {"data": data} if raw else {"json": data}
                async with http.post(url, **kwargs) as resp:
                    text = await resp.text()
                    try:
                        body = json.loads(text)
                    except ValueError:
                        body = text
                    return resp.status, body

            out["ok"] = await post({"sender": "u1", "message": "xin chào", "input_channel": "facebook"})
            out["twice"] = await post({"sender": "rest:u2", "message": "a"})
            out["fuzz"] = [
                (await post(b"not json", raw=True))[0],
                (await post(b"[1, 2]", raw=True))[0],
                (await post(b"\xff\xfe", raw=True))[0],
                (await post({"sender": 5, "message": "a"}))[0],
                (await post({"sender": "u", "message": ["a"]}))[0],
                (await post({"sender": "u", "message": "a", "metadata": "x"}))[0],
                (await post({"sender": "", "message": "a"}))[0],
                (await post({"sender": "u" * 500, "message": "a"}))[0],
                (await post({"sender": "u"}))[0],
            ]
            out["fuzz_body"] = (await post(b"[1, 2]", raw=True))[1]
            out["seen"] = list(seen)
            env["DVC_ENVIRONMENT"] = "production"  # the same channel, read per request
            async with http.post(url, json={"sender": "u", "message": "a"}) as resp:
                out["production"] = [resp.status, await resp.json()]
            out["production_seen"] = len(seen) - len(out["seen"])
        out["socket"] = await socket_checks(port, seen)
    finally:
        server.close()
        await server.wait_closed()
    out["loopback"] = {a: is_loopback(a) for a in ("127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1",
                                                   "10.0.0.5", "192.168.1.2", "::ffff:10.0.0.1", "", "junk")}
    out["refusal_remote"] = refusal("10.0.0.5", {})
    out["parse_default_sender"] = parse_body(b'{"message": "a"}')[0]
    return out


# -- portal ------------------------------------------------------------------------------------


def portal_checks():
    out = {}
    env = {"DVC_ENVIRONMENT": "development", "PORTAL_SESSION_SECRET": "s" * 40,
           "DVC_PORTAL_ORIGINS": "http://localhost:8000, http://127.0.0.1:8000/"}
    channel = PortalSocketIOInput(env=env)
    other = PortalSocketIOInput(env={**env, "PORTAL_SESSION_SECRET": "t" * 40})
    token, sender, previous = channel.confirm_session("sid-1", {})
    out["new"] = {"token_parts": len(token.split(".")), "sender": sender, "previous": previous,
                  "sender_matches": sender == "web:" + token.split(".")[0]}
    again, sender2, _ = channel.confirm_session("sid-2", {"session_id": token})
    out["kept"] = again == token and sender2 == sender
    forged = token.split(".")[0] + "." + "A" * 43
    t3, s3, _ = channel.confirm_session("sid-3", {"session_id": forged})
    t4, s4, _ = channel.confirm_session("sid-4", {"session_id": other.signer.issue()})
    t5, s5, _ = channel.confirm_session("sid-5", {"session_id": "web:" + token.split(".")[0]})
    t6, s6, _ = channel.confirm_session("sid-6", "not a dict")
    out["replaced"] = [t != token and s != sender for t, s in ((t3, s3), (t4, s4), (t5, s5), (t6, s6))]
    out["message_unconfirmed"] = channel.message_for("sid-unknown", {"message": "x", "session_id": token})
    out["message_foreign_session_id"] = channel.message_for("sid-3", {"message": "x", "session_id": token})
    out["message_bad"] = [channel.message_for("sid-1", d) for d in (None, [], {"message": 5})]
    out["message_metadata"] = channel.message_for("sid-1", {"message": "x", "metadata": "{not json"})
    out["origins"] = portal_origins(env)
    out["origins_empty"] = portal_origins({})
    try:
        PortalSocketIOInput(env={"DVC_ENVIRONMENT": "production", "DVC_PORTAL_ORIGINS": "https://x.vn"})
        out["production_without_secret"] = "started"
    except SettingError as exc:
        out["production_without_secret"] = str(exc)
    dev = PortalSocketIOInput(env={"DVC_ENVIRONMENT": "development"})
    out["dev_random_secret"] = dev.signer.verify(dev.signer.issue()) is not None

    async def sent():
        sio = FakeSio()
        output = PortalOutput(sio, "bot_uttered")
        await output.send_text_with_buttons("web:abc", "[x](javascript:alert(1)) <img src=x onerror=alert(1)>\n"
                                            "Xem https://dichvucong.gov.vn/tra-cuu", [
                                                {"title": "Lệ phí", "payload": "/ask_fee"},
                                                {"title": "Bẫy", "url": JS, "type": "web_url"},
                                                {"title": "Http", "url": "http://dichvucong.gov.vn"},
                                                {"title": "Nộp", "url": "https://dichvucong.gov.vn"}])
        await output.send_custom_json("web:abc", {"room": "web:victim", "text": "*hi*"})
        await output.send_custom_json("web:abc", {"data": {"quick_replies": [{"title": "x", "url": JS}]},
                                                  "room": "web:victim"})
        await output.send_image_url("web:abc", "javascript:alert(1)")
        await output.send_attachment("web:abc", {"type": "image", "payload": {"src": "data:image/png;base64,x"}})
        return sio.sent

    out["sent"] = asyncio.run(sent())
    return out


# -- Facebook and Zalo output ------------------------------------------------------------------


class RecordingGraph(facebook.GraphClient):
    def __init__(self):
        super().__init__("token", "http://127.0.0.1:9")
        self.sent = []

    async def send_message(self, recipient_id, message):
        self.sent.append({"to": recipient_id, "message": message})
        return True

    async def send_action(self, recipient_id, action):
        self.sent.append({"to": recipient_id, "action": action})
        return True


class RecordingZalo:
    def __init__(self):
        self.sent = []

    async def send(self, user_id, message):
        self.sent.append({"to": user_id, "message": message})
        return True


def platform_checks():
    out = {}

    async def run():
        graph = RecordingGraph()
        fb = facebook.MessengerOutput(graph)
        buttons = [{"title": "Lệ phí", "payload": "/ask_fee"}, {"title": "Bẫy", "url": JS},
                   {"title": "Nộp", "url": "https://dichvucong.gov.vn"}]
        await fb.send_text_with_buttons("fb:123", "Chọn", buttons)
        await fb.send_text_message("zalo:999", "không được gửi")
        await fb.send_text_message("web:abc", "không được gửi")
        await fb.send_text_message("123", "không được gửi")
        await fb.send_action("rest:x", "typing_on")
        await fb.send_custom_json("fb:123", {"attachment": {"type": "template", "payload": {
            "template_type": "button", "text": "t", "buttons": [{"type": "web_url", "url": JS, "title": "x"}]}}})
        await fb.send_image_url("fb:123", "javascript:alert(1)")
        out["facebook"] = graph.sent

        client = RecordingZalo()
        zo = zalo.ZaloOutput(client)
        await zo.send_text_with_buttons("zalo:777", "Chọn", buttons)
        await zo.send_text_message("fb:123", "không được gửi")
        await zo.send_text_message("777", "không được gửi")
        await zo.send_custom_json("zalo:777", {"zalo": {"text": "t", "attachment": {"type": "template", "payload": {
            "buttons": [{"title": "x", "type": "oa.open.url", "payload": {"url": JS}}]}}}})
        out["zalo"] = client.sent

    asyncio.run(run())
    now = time.time() * 1000
    out["age"] = {
        "facebook": [facebook.event_age_problem(v, now) for v in
                     (int(now), int(now) - 3600_000, int(now) - 37 * 3600_000, int(now) + 60_000,
                      int(now) + 3600_000, None, "x", True)],
        "zalo": [zalo.event_age_problem(v, now) for v in
                 (str(int(now)), str(int(now) - 25 * 3600_000), str(int(now) + 60_000), None, "")],
    }
    out["horizons"] = {"facebook": facebook.REPLAY_HORIZON_S, "zalo": zalo.REPLAY_HORIZON_S}
    return out


async def dispatch_checks():
    """Facebook's and Zalo's input: the sender id given to Rasa, replays and redeliveries."""
    import tempfile

    tmp = tempfile.mkdtemp()
    os.environ["DVC_SEEN_DB"] = os.path.join(tmp, "seen.db")
    out = {}
    received = []

    async def on_new_message(message):
        received.append({"sender": message.sender_id, "channel": message.input_channel, "text": message.text})

    fb_in = facebook.MessengerInput("v", "s", "t", graph_base_url="http://127.0.0.1:9")
    fb_in.client = RecordingGraph()
    now = int(time.time() * 1000)
    fresh = {"sender": {"id": "555"}, "timestamp": now, "message": {"mid": "m-1", "text": "xin chào"}}
    old = {"sender": {"id": "556"}, "timestamp": now - 40 * 3600_000, "message": {"mid": "m-2", "text": "cũ"}}
    counts = [await fb_in._dispatch(e, on_new_message, None) for e in (fresh, old, fresh)]
    await asyncio.gather(*list(fb_in._tasks))
    # A new process (restart, no Redis): the SQLite memory still knows m-1.
    fb_again = facebook.MessengerInput("v", "s", "t", graph_base_url="http://127.0.0.1:9")
    counts.append(await fb_again._dispatch(fresh, on_new_message, None))
    out["facebook_counts"] = counts

    config = zalo.ZaloConfig(app_id="1", oa_secret_key="k", token_db=os.path.join(tmp, "token.db"))
    z_in = zalo.ZaloInput(config)
    z_in.client = RecordingZalo()
    zfresh = {"event_name": "user_send_text", "timestamp": str(now), "sender": {"id": "777"},
              "message": {"msg_id": "z-1", "text": "xin chào"}}
    zold = dict(zfresh, timestamp=str(now - 30 * 3600_000), message={"msg_id": "z-2", "text": "cũ"})
    outcomes = [await z_in._dispatch(e, on_new_message) for e in (zfresh, zold, zfresh)]
    await asyncio.gather(*list(z_in._tasks))
    z_again = zalo.ZaloInput(config)
    outcomes.append(await z_again._dispatch(zfresh, on_new_message))
    out["zalo_outcomes"] = outcomes
    out["received"] = received
    out["seen_mode"] = oct(os.stat(os.environ["DVC_SEEN_DB"]).st_mode & 0o777)
    return out


async def inbound_checks():
    """What fuzzing found (tests/e2e/test_fuzz_webhooks.py), checked without a model: bodies the
    JSON parser cannot nest, fields of the wrong type, lone surrogates and control characters
    (a sender id with one made Rasa's SQL tracker store exit the process)."""
    import tempfile
    from pathlib import Path

    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

    from bot import rasa_patches
    from tests.rasa_side.check_privacy import processor, quiet_structlog

    quiet_structlog()  # structlog would print the processor's debug lines into this script's JSON
    rasa_patches.apply()
    out = {}
    deep = b"[" * 5000 + b"]" * 5000
    out["rest_refused"] = [parse_body(raw)[1] for raw in (
        deep, b'{"a":' * 3000 + b"1" + b"}" * 3000, b'{"sender": "\\ud800", "message": "a"}',
        b'{"sender": "a\\u0000b", "message": "a"}', b'{"sender": "u", "message": "a", "metadata": {"k": "'
        + b"x" * 5000 + b'"}}')]
    cleaned = parse_body(b'{"sender": "u", "message": "a\\ud800b\\u0000c La\\u0300m"}')[0]
    out["rest_cleaned"] = cleaned["message"]

    received = []

    async def on_new_message(message):
        received.append({"sender": message.sender_id, "text": message.text, "id": message.message_id})

    now = int(time.time() * 1000)
    fb_in = facebook.MessengerInput("v", "s", "t", graph_base_url="http://127.0.0.1:9")
    fb_in.client = RecordingGraph()
    odd_fb = [{"sender": "601"}, {"sender": ["601"]}, {"sender": {"id": "6\ud8000"}}, {"sender": {"id": {"a": 1}}},
              {"sender": {"id": True}}, {"sender": {"id": "601"}, "message": {"mid": "f-1", "text": {"a": 1}}},
              {"sender": {"id": "601"}, "message": {"mid": "f-2", "text": "x", "quick_reply": "y"}},
              {"sender": {"id": "602"}, "message": {"mid": ["f"], "text": "a\ud800b"}},
              {"sender": {"id": 603}, "message": None, "postback": {"mid": "f-3", "payload": {"a": 1}}},
              {"sender": {"id": 604}, "message": None, "postback": {"mid": "f-4", "title": "Lệ phí"}}]
    counts = []
    for event in odd_fb:
        counts.append(await fb_in._dispatch({"timestamp": now, "message": {"mid": "f-0", "text": "x"}, **event},
                                            on_new_message, None))
    await asyncio.gather(*list(fb_in._tasks))
    out["facebook_counts"] = counts
    out["facebook_events"] = list(facebook._messaging_events(
        {"object": "page", "entry": [5, {"messaging": {"a": 1}}, {"messaging": 7}, {"messaging": ["x", {"k": 1}]}]}))

    tmp = Path(tempfile.mkdtemp())
    z_in = zalo.ZaloInput(zalo.ZaloConfig(app_id="1", oa_secret_key="k", token_db=str(tmp / "token.db")))
    z_in.client = RecordingZalo()
    base = {"event_name": "user_send_text", "timestamp": str(now), "sender": {"id": "701"}}
    odd_zalo = [{"sender": {"id": "7\ud8001"}}, {"sender": {"id": ["701"]}},
                {"message": {"msg_id": "zi-1", "text": ["a"]}},
                {"message": {"msg_id": {"a": 1}, "text": "a"}},
                {"message": {"msg_id": "zi-2", "text": "a\ud800b"}},
                {"timestamp": [[["1"]]], "message": {"msg_id": "zi-3", "text": "a"}}]
    out["zalo_outcomes"] = [await z_in._dispatch({**base, **event}, on_new_message) for event in odd_zalo]
    await asyncio.gather(*list(z_in._tasks))
    out["received"] = received

    # The net for every other way in: the patched MessageProcessor on a real SQL tracker store.
    proc = processor(tmp)
    refused = await proc.handle_message(UserMessage("xin chào", CollectingOutputChannel(), "rest:a\ud800"))
    await proc.handle_message(UserMessage("/\udfff\ud800 a\u0000b", CollectingOutputChannel(), "rest:s1"))
    tracker = await proc.tracker_store.retrieve("rest:s1")
    out["guard"] = {"refused_answer": refused, "keys": sorted(await proc.tracker_store.keys()),
                    "stored_text": tracker.latest_message.text, "nlu": proc.nlu_inputs[-1]}
    return out


def main():
    report = {
        "rest": asyncio.run(rest_checks()),
        "portal": portal_checks(),
        "platforms": platform_checks(),
        "dispatch": asyncio.run(dispatch_checks()),
        "inbound": asyncio.run(inbound_checks()),  # last: it applies the Rasa patches
    }
    json.dump(report, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
