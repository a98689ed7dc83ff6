"""Per-sender order and duplicate checks shared by Rasa workers, against a real Redis
(redis-server started on a free port; skipped when it is not installed, required in CI),
and the files the stack writes for several Rasa processes."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from bot.channels.ordering import SharedIds, SharedOrder
from scripts.stack import PORTAL_CHANNEL, StackConfig, free_port, redis_ping, split_credentials, write_endpoints


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = shutil.which("redis-server")
    if server is None:
        if os.environ.get("E2E_REQUIRED"):
            pytest.fail("redis-server is required here (apt-get install redis-server)")
        pytest.skip("redis-server is not installed")
    port = free_port()
    proc = subprocess.Popen([server, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
                             "--dir", str(tmp_path_factory.mktemp("redis"))], stdout=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if redis_ping(url):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_messages_are_handled_in_ticket_order_whichever_worker_runs_them(redis_url: str) -> None:
    async def scenario() -> list[int]:
        # Two "workers": two independent objects with their own Redis clients.
        workers = [SharedOrder("test", url=redis_url), SharedOrder("test", url=redis_url)]
        tickets = [await workers[n % 2].ticket("user-1") for n in range(6)]
        handled: list[int] = []

        async def handle(n: int) -> None:
            async with workers[n % 2].turn("user-1", tickets[n]):
                await asyncio.sleep(0.02 * (6 - n))  # later messages are quicker: order must still hold
                handled.append(n)

        # Started in reverse order, as if the later messages reached a free worker first.
        await asyncio.gather(*[handle(n) for n in reversed(range(6))])
        return handled

    assert asyncio.run(scenario()) == [0, 1, 2, 3, 4, 5]


def test_other_senders_do_not_wait(redis_url: str) -> None:
    async def scenario() -> float:
        order = SharedOrder("test", url=redis_url)
        first = await order.ticket("slow-user")
        await order.ticket("slow-user")  # a second message that will wait for the first
        other = await order.ticket("other-user")
        async with order.turn("slow-user", first):
            t0 = time.monotonic()
            async with order.turn("other-user", other):
                return time.monotonic() - t0

    assert asyncio.run(scenario()) < 1.0


def test_an_unfinished_earlier_message_is_skipped_after_the_wait(redis_url: str) -> None:
    async def scenario() -> bool:
        order = SharedOrder("test", url=redis_url, wait_seconds=0.3)
        await order.ticket("crashed-user")  # taken by a worker that died before serving it
        second = await order.ticket("crashed-user")
        async with order.turn("crashed-user", second):
            pass
        third = await order.ticket("crashed-user")
        t0 = time.monotonic()
        async with order.turn("crashed-user", third):  # served > the skipped ticket: no wait
            return time.monotonic() - t0 < 0.2

    assert asyncio.run(scenario())


def test_a_message_id_is_taken_once_across_workers(redis_url: str) -> None:
    async def scenario() -> list[bool]:
        a, b = SharedIds("test", url=redis_url), SharedIds("test", url=redis_url)
        return [await a.first_time("mid-1"), await b.first_time("mid-1"), await b.first_time("mid-2")]

    assert asyncio.run(scenario()) == [True, False, True]


def test_without_redis_nothing_is_shared_and_nothing_is_dropped() -> None:
    async def scenario() -> tuple[bool, bool, object]:
        ids = SharedIds("test", url="")
        order = SharedOrder("test", url="")
        return await ids.first_time("x"), await ids.first_time("x"), await order.ticket("u")

    assert asyncio.run(scenario()) == (True, True, None)


def test_an_unreachable_redis_never_drops_a_message() -> None:
    async def scenario() -> tuple[bool, object]:
        dead = f"redis://127.0.0.1:{free_port()}/0"
        return await SharedIds("test", url=dead).first_time("x"), await SharedOrder("test", url=dead).ticket("u")

    assert asyncio.run(scenario()) == (True, None)


def test_endpoints_for_several_rasa_processes_share_redis(tmp_path: Path) -> None:
    write_endpoints(tmp_path / "one.yml", "")
    single = yaml.safe_load((tmp_path / "one.yml").read_text())
    assert single["tracker_store"]["type"] == "SQL" and "lock_store" not in single

    write_endpoints(tmp_path / "many.yml", "redis://:secret@10.0.0.5:6380/2")
    many = yaml.safe_load((tmp_path / "many.yml").read_text())
    for store in ("tracker_store", "lock_store"):
        assert many[store]["type"] == "redis"
        assert (many[store]["url"], many[store]["port"], many[store]["db"]) == ("10.0.0.5", 6380, 2)
        assert many[store]["password"] == "${DVC_REDIS_PASSWORD}"  # the secret stays in the environment
    assert "secret" not in (tmp_path / "many.yml").read_text()
    assert many["action_endpoint"]["url"] == "${ACTION_ENDPOINT_URL}"


def test_the_portal_gets_its_own_rasa_process(tmp_path: Path) -> None:
    creds = tmp_path / "credentials.yml"
    creds.write_text(yaml.safe_dump({"rest": None, PORTAL_CHANNEL: {"session_persistence": True},
                                     "bot.channels.zalo.ZaloInput": {"app_id": "1"}}))
    webhooks, portal = split_credentials(creds, tmp_path)
    assert set(yaml.safe_load(webhooks.read_text())) == {"rest", "bot.channels.zalo.ZaloInput"}
    assert set(yaml.safe_load(portal.read_text())) == {PORTAL_CHANNEL}
    assert oct(webhooks.stat().st_mode & 0o777) == "0o600"

    scaled = StackConfig(rasa_workers=2, redis_url="redis://127.0.0.1:6399/0", rasa_portal_port=7006)
    assert scaled.scaled and scaled.portal_rasa_port == 7006 and not scaled.starts_redis
    single = StackConfig(rasa_workers=1, rasa_port=7005)
    assert not single.scaled and single.portal_rasa_port == 7005 and single.lock_store_url == ""
