"""Concurrent conversations through Rasa's REST webhook against the real three processes.

Each conversation is a short scripted dialogue (greeting, a procedure question, a
follow-up about the fee, a guide question, thanks). Prints and records p50/p95/p99
latency per turn, errors, turns/s and each process's peak memory (VmHWM).

    .venv/bin/python bench/conversations.py [--conversations 10] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import machine, record  # noqa: E402
from bench.search_latency import pct, peak_rss_mb  # noqa: E402
from scripts.stack import Stack, StackConfig, free_port  # noqa: E402

SCRIPTS = [
    ["xin chào", "lam giay khai sinh online the nao", "lệ phí bao nhiêu", "dang nhap bang vneid the nao", "cảm ơn"],
    ["chao ad", "đổi bằng lái xe ở đâu", "mat bao lau", "thanh toán phí online được không", "cam on nhe"],
    ["hello", "xin phiếu lý lịch tư pháp", "can giay to gi", "quyết định 1588 nói gì", "tạm biệt"],
]


async def conversation(client: httpx.AsyncClient, script: list[str], latencies: list[float],
                       errors: list[str]) -> None:
    sender = uuid.uuid4().hex
    for text in script:
        t0 = time.perf_counter()
        try:
            resp = await client.post("/webhooks/rest/webhook", json={"sender": sender, "message": text})
            ok = resp.status_code == 200 and bool(resp.json())
        except httpx.HTTPError as exc:
            ok, resp = False, None
            errors.append(repr(exc))
        latencies.append((time.perf_counter() - t0) * 1000)
        if not ok and resp is not None:
            errors.append(f"HTTP {resp.status_code}")


async def drive(base: str, conversations: int, rounds: int) -> tuple[list[float], list[str], float]:
    latencies: list[float] = []
    errors: list[str] = []
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        t0 = time.perf_counter()
        for _ in range(rounds):
            await asyncio.gather(*[conversation(client, SCRIPTS[i % len(SCRIPTS)], latencies, errors)
                                   for i in range(conversations)])
        return latencies, errors, time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--conversations", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--record", default=str(ROOT / "docs" / "BENCHMARKS.md"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config = StackConfig(knowledge_port=free_port(), actions_port=free_port(), rasa_port=free_port(),
                             index_dir=Path(tmp) / "index", tracker_db=Path(tmp) / "tracker.db",
                             log_dir=Path(tmp) / "logs")
        with Stack(config) as stack:
            asyncio.run(drive(config.rasa_url, 2, 1))  # warm-up
            latencies, errors, elapsed = asyncio.run(drive(config.rasa_url, args.conversations, args.rounds))
            memory = {c.name: round(peak_rss_mb(c.proc.pid), 0) for c in stack.children}
    figures = {
        "concurrent_conversations": args.conversations, "turns": len(latencies), "errors": len(errors),
        "turns_per_s": round(len(latencies) / elapsed, 1), "p50_ms": round(statistics.median(latencies), 1),
        "p95_ms": round(pct(latencies, 95), 1), "p99_ms": round(pct(latencies, 99), 1),
        **{f"peak_rss_mb_{name}": mb for name, mb in memory.items()},
        "tracker_store": "SQLite", "lock_store": "in-memory",
    }
    print(json.dumps(figures, ensure_ascii=False, indent=2))
    record(Path(args.record), f"Conversations — {args.conversations} concurrent through the REST channel",
           figures, machine())
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())
