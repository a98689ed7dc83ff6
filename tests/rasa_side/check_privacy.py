"""Checks of the privacy patches (bot/rasa_patches.py) on Rasa's own classes, run with
.venv-rasa's Python by tests/unit/test_rasa_privacy.py (the Rasa environment has no pytest).

Real SQLTrackerStore (a temporary SQLite file), real RedisTrackerStore (a redis-server
started here on a free port, when one is installed), real InMemoryTrackerStore, a real
MessageProcessor (its model left out: NLU is a stub that records what it was given), the
log masking with Rasa's own structlog configuration. Prints JSON."""

import asyncio
import io
import json
import logging
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[2]
CCCD, PHONE, EMAIL = "079203001234", "0912345678", "nguyenvana@gmail.com"
RAW = (CCCD, PHONE, EMAIL, "0912 345 678", "nguyenvana")


def domain():
    from rasa.shared.core.domain import Domain

    return Domain.load(str(ROOT / "domain.yml"))


def tracker_with_pii(sender, dom):
    from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    text = f"cccd {CCCD}, sdt 0912 345 678, mail {EMAIL}"
    parse = {"text": text, "intent": {"name": "request_human", "confidence": 0.9},
             "entities": [{"entity": "email", "value": EMAIL, "start": 30, "end": 50}]}
    events = [ActionExecuted("action_listen"),
              UserUttered(text, parse["intent"], parse["entities"], parse, message_id="m1"),
              SlotSet("contact", PHONE), SlotSet("dossier_code", "G22.99.01-251120-0001"),
              BotUttered(f"Cán bộ sẽ gọi lại số {PHONE} hoặc email {EMAIL}.")]
    return DialogueStateTracker.from_events(sender, events, dom.slots)


def leaks(blob):
    return [raw for raw in RAW if raw in blob]


async def sql_store(tmp):
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.events import BotUttered

    dom = domain()
    path = tmp / "tracker.db"
    store = SQLTrackerStore(dom, dialect="sqlite", db=str(path))
    tracker = tracker_with_pii("rest:a", dom)
    await store.save(tracker)
    tracker.update(BotUttered(f"Số của bạn: {PHONE}"))
    await store.save(tracker)  # only the new event is added
    rows = sqlite3.connect(path).execute("SELECT type_name, data FROM events ORDER BY id").fetchall()
    blob = "\n".join(data for _, data in rows)
    back = await store.retrieve("rest:a")
    return {"rows": [t for t, _ in rows], "leaks": leaks(blob),
            "user_text": json.loads(rows[1][1])["text"], "bot_texts": [json.loads(d)["text"] for t, d in rows
                                                                       if t == "bot"],
            "dossier_code_kept": "G22.99.01-251120-0001" in blob,
            "running_turn_contact": tracker.get_slot("contact"),
            "running_turn_text": tracker.latest_message.text,
            "retrieved_contact": back.get_slot("contact")}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def redis_store(tmp):
    server = shutil.which("redis-server")
    if not server:
        return {"skipped": "redis-server is not installed"}
    from rasa.core.tracker_store import RedisTrackerStore

    port = free_port()
    proc = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(tmp), "--save", "",
                             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        import redis

        client = redis.Redis(port=port)
        for _ in range(200):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.025)
        dom = domain()
        store = RedisTrackerStore(dom, host="127.0.0.1", port=port, key_prefix="dvc")
        tracker = tracker_with_pii("web:b", dom)
        await store.save(tracker)
        await store.save(tracker)  # merged with what is stored (masked) without duplicating events
        stored = client.get("dvc:tracker:web:b").decode()
        back = await store.retrieve("web:b")
        return {"leaks": leaks(stored), "events": len(json.loads(stored)["events"]),
                "running_turn_contact": tracker.get_slot("contact"), "retrieved_contact": back.get_slot("contact")}
    finally:
        proc.terminate()
        proc.wait(timeout=10)


async def memory_store():
    from rasa.core.tracker_store import InMemoryTrackerStore

    dom = domain()
    store = InMemoryTrackerStore(dom)
    tracker = tracker_with_pii("fb:c", dom)
    await store.save(tracker)
    return {"leaks": leaks(store.store["fb:c"]), "running_turn_contact": tracker.get_slot("contact")}


def processor(tmp):
    """A real MessageProcessor on a real SQL tracker store; the model's NLU replaced by a recorder."""
    from rasa.core.lock_store import InMemoryLockStore
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator
    from rasa.core.processor import MessageProcessor
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.engine.storage.storage import ModelMetadata  # noqa: F401  (the attribute it stands for)
    from rasa.shared.data import TrainingType

    dom = domain()
    proc = MessageProcessor.__new__(MessageProcessor)
    proc.nlg = TemplatedNaturalLanguageGenerator(dom.responses)
    proc.tracker_store = SQLTrackerStore(dom, dialect="sqlite", db=str(tmp / "processor.db"))
    proc.lock_store = InMemoryLockStore()
    proc.max_number_of_predictions = 10
    proc.on_circuit_break = None
    proc.action_endpoint = None
    proc.model_metadata = SimpleNamespace(training_type=TrainingType.NLU, domain=dom, assistant_id="test",
                                         model_id="check-privacy")
    proc.graph_runner = None
    proc.domain = dom
    proc.http_interpreter = None
    proc.nlu_inputs = []

    async def parse_message(message, tracker=None, only_output_properties=True):
        proc.nlu_inputs.append(message.text)
        return {"text": message.text, "intent": {"name": "inform", "confidence": 1.0}, "entities": []}

    proc.parse_message = parse_message
    return proc


async def processor_checks(tmp):
    import warnings

    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
    from rasa.shared.core.events import ActiveLoop, SlotSet

    proc = processor(tmp)
    db = tmp / "processor.db"
    warnings.simplefilter("ignore")  # "No core model" (the NLU-only path of handle_message)

    def stored(sender):
        return "\n".join(d for (d,) in sqlite3.connect(db).execute(
            "SELECT data FROM events WHERE sender_id = ?", (sender,)))

    out = {}
    # 1. An ordinary message: NLU and the tracker get the masked text.
    await proc.handle_message(UserMessage(f"tôi tên là Nguyễn Văn An, cccd {CCCD}, sdt {PHONE}",
                                          CollectingOutputChannel(), "rest:p1"))
    tracker = await proc.tracker_store.retrieve("rest:p1")
    out["ordinary"] = {"nlu": proc.nlu_inputs[-1], "tracker_text": tracker.latest_message.text,
                       "stored_leaks": leaks(stored("rest:p1")), "name_left": "Nguyễn Văn An" in stored("rest:p1")}

    # 2. The consented contact answer: NLU and the running turn keep the phone and e-mail; the store does not.
    sender = "rest:p2"
    tracker = await proc.fetch_tracker_and_update_session(sender, CollectingOutputChannel())
    for event in (ActiveLoop("handover_contact_form"), SlotSet("contact_consent", True),
                  SlotSet("requested_slot", "contact")):
        tracker.update(event, proc.domain)
    await proc.save_tracker(tracker)
    running = await proc.log_message(UserMessage(f"{PHONE} hoặc {EMAIL}, cccd {CCCD}", CollectingOutputChannel(),
                                                 sender), should_save_tracker=False)
    out["contact"] = {"nlu": proc.nlu_inputs[-1], "running_turn_text": running.latest_message.text}
    await proc.save_tracker(running)
    out["contact"]["stored_leaks"] = leaks(stored(sender))

    # 3. The same words without consent are masked.
    sender = "rest:p3"
    tracker = await proc.fetch_tracker_and_update_session(sender, CollectingOutputChannel())
    for event in (ActiveLoop("handover_contact_form"), SlotSet("contact_consent", False),
                  SlotSet("requested_slot", "contact")):
        tracker.update(event, proc.domain)
    await proc.save_tracker(tracker)
    await proc.handle_message(UserMessage(PHONE, CollectingOutputChannel(), sender))
    out["no_consent_nlu"] = proc.nlu_inputs[-1]

    # 4. A long message: the notice, no NLU, nothing stored.
    calls = len(proc.nlu_inputs)
    long_text = f"sdt {PHONE} " + "a" * 2100
    answer = await proc.handle_message(UserMessage(long_text, CollectingOutputChannel(), "rest:long"))
    out["long"] = {"answer": answer, "nlu_calls": len(proc.nlu_inputs) - calls,
                   "stored": stored("rest:long"), "keys": list(await proc.tracker_store.keys())}
    os.environ["DVC_MAX_MESSAGE_CHARS"] = "50"
    answer = await proc.handle_message(UserMessage("x" * 51, CollectingOutputChannel(), "rest:long2"))
    out["long_configured"] = answer[0]["text"]
    del os.environ["DVC_MAX_MESSAGE_CHARS"]

    # 5. Empty and whitespace-only messages do not crash.
    for text in ("", "   ", None):
        await proc.handle_message(UserMessage(text, CollectingOutputChannel(), "rest:empty"))
    out["empty_ok"] = True
    return out


def log_checks():
    """Rasa's own logging set-up (structlog through the standard library), masked on the way."""
    import structlog
    from rasa.utils.log_utils import configure_structlog

    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)  # installed first: basicConfig inside Rasa then adds none
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    root.handlers = [handler]
    root.setLevel(logging.INFO)
    try:
        configure_structlog(logging.INFO)
        logging.getLogger("rasa.core.processor").info("Received user message '%s' with intent '%s'",
                                                      f"sdt {PHONE} mail {EMAIL}", "inform")
        structlog.get_logger().info("processor.message", text=f"cccd {CCCD}")
        try:
            raise ValueError(f"could not parse {PHONE}")
        except ValueError:
            logging.getLogger("rasa.core.channels").exception("Exception when trying to handle message.")
        logging.getLogger("x").info("bad format %s %s", "only one")
        access = io.StringIO()
        access_handler = logging.StreamHandler(access)
        access_handler.setFormatter(logging.Formatter("%(request)s %(status)s"))
        sanic_access = logging.getLogger("sanic.access")
        sanic_access.addHandler(access_handler)
        sanic_access.setLevel(logging.INFO)
        sanic_access.info("", extra={"request": "GET /conversations/x/tracker?token=s3cr3t-token&a=1",
                                     "status": 200})
    finally:
        root.handlers, level = saved
        root.setLevel(level)
    text = buffer.getvalue()
    return {"leaks": leaks(text), "masked_phone": "0912****78" in text, "masked_cccd": "0792******34" in text,
            "received": "Received user message" in text, "structlog": "processor.message" in text,
            "traceback": "Traceback" in text,
            "access": access.getvalue().strip(), "bad_format_logged": "bad format" in text}


def apply_checks():
    from rasa.core.processor import MessageProcessor
    from rasa.core.tracker_store import RedisTrackerStore, SQLTrackerStore

    from bot import rasa_patches

    before = (MessageProcessor.handle_message, SQLTrackerStore._additional_events,
              RedisTrackerStore.serialise_tracker, logging.getLogRecordFactory())
    again = [rasa_patches.apply(), rasa_patches.apply()]
    after = (MessageProcessor.handle_message, SQLTrackerStore._additional_events,
             RedisTrackerStore.serialise_tracker, logging.getLogRecordFactory())
    return {"applied": again, "unchanged_by_second_call": before == after,
            "marked": getattr(MessageProcessor.handle_message, "_dvc_patched", False),
            "access_filters": sum(type(f).__name__ == "SecretLogFilter"
                                  for f in logging.getLogger("sanic.access").filters)}


def quiet_structlog():
    """Rasa's structlog set-up at WARNING, through a silent handler: structlog's default prints every
    debug line to stdout, where this script's JSON goes."""
    from rasa.utils.log_utils import configure_structlog

    logging.getLogger().addHandler(logging.NullHandler())
    configure_structlog(logging.WARNING)


def main():
    from bot import rasa_patches

    quiet_structlog()

    early = rasa_patches.apply()  # as bot/serve.py does, before any model is loaded
    import bot.components  # noqa: F401  (applies the patches again, as loading a model does)

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        report = {
            "early_apply": early,
            "apply": apply_checks(),
            "sql": asyncio.run(sql_store(tmp)),
            "redis": asyncio.run(redis_store(tmp)),
            "memory": asyncio.run(memory_store()),
            "processor": asyncio.run(processor_checks(tmp)),
            "logs": log_checks(),
        }
    json.dump(report, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
