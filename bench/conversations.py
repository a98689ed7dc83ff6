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
import os
import statistics
import sys
import tempfile
import uuid
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.httpload import run_clients  # noqa: E402
from bench.report import machine, record  # noqa: E402
from bench.search_latency import pct, peak_rss_mb, worker_pids  # noqa: E402
from scripts.stack import Stack, StackConfig  # noqa: E402

SCRIPTS = [
    ["xin chào", "lam giay khai sinh online the nao", "lệ phí bao nhiêu", "dang nhap bang vneid the nao", "cảm ơn"],
    ["chao ad", "đổi bằng lái xe ở đâu", "mat bao lau", "thanh toán phí online được không", "cam on nhe"],
    ["hello", "xin phiếu lý lịch tư pháp", "can giay to gi", "quyết định 1588 nói gì", "tạm biệt"],
]


def _answered(status: int, body: bytes) -> bool:
    """200 with at least one bot message."""
    try:
        return status == 200 and bool(json.loads(body))
    except ValueError:
        return False


async def drive(base: str, conversations: int, rounds: int,
                keep_alive: bool = True) -> tuple[list[float], list[str], float]:
    """Each round: N conversations at once, each on its own keep-alive connection (a
    channel's webhook calls look like this), turns sent as soon as the previous answer
    arrives (no thinking time: the harshest load N conversations can make)."""
    url = urlsplit(base)
    latencies: list[float] = []
    errors: list[str] = []
    elapsed = 0.0
    for _ in range(rounds):
        sessions = []
        for i in range(conversations):
            sender = uuid.uuid4().hex
            sessions.append([("/webhooks/rest/webhook", {"sender": sender, "message": text})
                             for text in SCRIPTS[i % len(SCRIPTS)]])
        result = await run_clients(url.hostname or "127.0.0.1", url.port or 80, sessions, check=_answered,
                                   keep_alive=keep_alive)
        latencies += result.latencies_ms
        errors += result.errors
        elapsed += result.elapsed_s
    return latencies, errors, elapsed


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--conversations", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--label", default="", help="added to the section title in the docs")
    ap.add_argument("--new-connection-per-turn", action="store_true",
                    help="each turn on a new connection (as behind a reverse proxy) instead of one per conversation")
    ap.add_argument("--record", default=str(ROOT / "docs" / "BENCHMARKS.md"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workers = int(os.environ.get("RASA_WORKERS", 0))  # 0: two with Redis, as `make run`
        config = StackConfig.on_free_ports(index_dir=Path(tmp) / "index", tracker_db=Path(tmp) / "tracker.db",
                                           log_dir=Path(tmp) / "logs", rasa_workers=workers)
        with Stack(config) as stack:
            asyncio.run(drive(config.rasa_url, 2, 1))  # warm-up
            procs = {c.name: sorted({c.proc.pid, *worker_pids(c.proc.pid)}) for c in stack.children}
            cpu_before = {name: sum(cpu_seconds(p) for p in pids) for name, pids in procs.items()}
            keep_alive = not args.new_connection_per_turn
            latencies, errors, elapsed = asyncio.run(drive(config.rasa_url, args.conversations, args.rounds,
                                                           keep_alive))
            cpu = {name: sum(cpu_seconds(p) for p in pids) - cpu_before[name] for name, pids in procs.items()}
            memory = {name: round(max(peak_rss_mb(p) for p in pids), 0) for name, pids in procs.items()}
    figures = {
        "concurrent_conversations": args.conversations, "turns": len(latencies), "errors": len(errors),
        "turns_per_s": round(len(latencies) / elapsed, 1), "p50_ms": round(statistics.median(latencies), 1),
        "p95_ms": round(pct(latencies, 95), 1), "p99_ms": round(pct(latencies, 99), 1),
        **{f"peak_rss_mb_{name}": mb for name, mb in memory.items()},
        **{f"cpu_ms_per_turn_{name}": round(1000 * sec / len(latencies), 1) for name, sec in cpu.items()},
        "rasa_processes": (f"{config.workers} workers (REST/webhooks) + 1 (portal)" if config.scaled else "1"),
        "tracker_store": "Redis" if config.scaled else "SQLite",
        "lock_store": "Redis" if config.scaled else "in-memory",
        "connections": "one per turn" if not keep_alive else "one per conversation, kept alive unless the server "
                       "closes it",
    }
    print(json.dumps(figures, ensure_ascii=False, indent=2))
    record(Path(args.record), f"Conversations — {args.conversations} concurrent through the REST channel"
           + (f" ({args.label})" if args.label else ""),
           figures, machine())
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())
