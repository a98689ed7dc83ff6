"""Search latency and throughput through the knowledge service's HTTP API.

Starts the real service (uvicorn) on a free port over a knowledge base, fires queries
from N concurrent clients, and prints and records: p50/p95/p99 latency, queries/s,
index build time and the server's peak memory (VmHWM).

    .venv/bin/python bench/search_latency.py [--data-dir DIR] [--clients 8] [--requests 2000]
        [--label NAME] [--record docs/BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import machine, record  # noqa: E402
from scripts.stack import VENV, free_port  # noqa: E402

QUERIES = [
    "lam giay khai sinh online the nao", "cấp lại thẻ căn cước", "doi gplx het bao nhieu tien",
    "xin phiếu lý lịch tư pháp ở đâu", "dang ky tam tru online", "đăng nhập dịch vụ công bằng VNeID",
    "thanh toán lệ phí trực tuyến", "quyết định 1588 tuyên truyền dịch vụ công", "làm sổ đỏ lần đầu",
    "dang ky ket hon can giay to gi", "tra cứu hồ sơ bằng mã", "rút bhxh một lần", "mã số thuế cá nhân",
    "toàn trình là gì", "xin giấy xác nhận độc thân", "đăng ký xe máy mới mua",
]


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def _client(base: str, n: int, offset: int, latencies: list[float], errors: list[int]) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        for i in range(n):
            q = QUERIES[(offset + i) % len(QUERIES)]
            t0 = time.perf_counter()
            resp = await client.post("/search", json={"query": q, "k": 5})
            latencies.append((time.perf_counter() - t0) * 1000)
            if resp.status_code != 200:
                errors.append(resp.status_code)


async def load(base: str, clients: int, requests: int) -> tuple[list[float], list[int], float]:
    latencies: list[float] = []
    errors: list[int] = []
    per = max(1, requests // clients)
    t0 = time.perf_counter()
    await asyncio.gather(*[_client(base, per, i * 7, latencies, errors) for i in range(clients)])
    return latencies, errors, time.perf_counter() - t0


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", default=str(ROOT / "knowledge" / "data"))
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--label", default="embedded knowledge base")
    ap.add_argument("--record", default=str(ROOT / "docs" / "BENCHMARKS.md"))
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "KNOWLEDGE_DATA_DIR": args.data_dir,
               "KNOWLEDGE_INDEX_DIR": f"{tmp}/index", "KNOWLEDGE_DESK_DB": f"{tmp}/desk.db",
               "KNOWLEDGE_DEMO_ONESTOP_DB": f"{tmp}/demo.db", "HF_HUB_OFFLINE": "1"}
        t0 = time.perf_counter()
        built = subprocess.run([str(VENV / "bin" / "python"), "-m", "knowledge", "index"], env=env, cwd=ROOT,
                               capture_output=True, text=True, check=True)
        build_s = time.perf_counter() - t0
        meta = json.loads(built.stdout.strip().splitlines()[-1])
        port = free_port()
        server = subprocess.Popen([str(VENV / "bin" / "python"), "-m", "uvicorn", "knowledge.api.app:create_app",
                                   "--factory", "--port", str(port), "--log-level", "warning"], env=env, cwd=ROOT)
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(240):
                try:
                    urllib.request.urlopen(f"{base}/health", timeout=1)
                    break
                except OSError:
                    time.sleep(0.5)
            asyncio.run(load(base, args.clients, 100))  # warm-up
            latencies, errors, elapsed = asyncio.run(load(base, args.clients, args.requests))
            rss = peak_rss_mb(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=20)

    figures = {
        "label": args.label, "chunks": meta.get("chunks"), "faiss_index": meta.get("faiss_index"),
        "clients": args.clients, "requests": len(latencies), "errors": len(errors),
        "qps": round(len(latencies) / elapsed, 1), "p50_ms": round(statistics.median(latencies), 2),
        "p95_ms": round(pct(latencies, 95), 2), "p99_ms": round(pct(latencies, 99), 2),
        "index_build_s_total": round(build_s, 1), "index_build_s": meta.get("build_seconds"),
        "server_peak_rss_mb": round(rss, 1),
    }
    print(json.dumps(figures, ensure_ascii=False, indent=2))
    record(Path(args.record), f"Search API — {args.label}", figures, machine())
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())
