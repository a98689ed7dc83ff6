"""Search latency and throughput through the knowledge service's HTTP API.

Starts the real service (``python -m knowledge serve``: uvicorn workers on one port) on a
free port over a knowledge base, fires queries from N concurrent keep-alive clients
(bench/httpload.py), and prints and records: p50/p95/p99 latency, queries/s, index build
time and the server's peak memory (VmHWM, per worker).

    .venv/bin/python bench/search_latency.py [--data-dir DIR] [--clients 8] [--requests 4000]
        [--workers 2] [--index-dir DIR] [--label NAME] [--record docs/BENCHMARKS.md]

``--index-dir`` keeps the built index (a second run over the same data skips the build);
corpus folders come from ``KNOWLEDGE_CORPUS_DIRS`` as for the service.
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.httpload import run_clients  # noqa: E402
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


def sessions(clients: int, requests: int) -> list[list[tuple[str, dict[str, object]]]]:
    per = max(1, requests // clients)
    return [[("/search", {"query": QUERIES[(c * 7 + i) % len(QUERIES)], "k": 5}) for i in range(per)]
            for c in range(clients)]


def worker_pids(parent: int) -> list[int]:
    """The server's worker processes (spawned or forked children of the supervisor), or
    the server itself."""
    def cmdline(pid: int) -> str:
        try:
            return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            return ""

    children = Path(f"/proc/{parent}/task/{parent}/children")
    pids = [int(p) for p in children.read_text().split()] if children.exists() else []
    own = cmdline(parent)
    return [p for p in pids if "spawn_main" in cmdline(p) or (own and cmdline(p) == own)] or [parent]


def wait_ready(server: subprocess.Popen[bytes], port: int, timeout: float = 1800.0) -> None:
    """Until the service answers (it accepts connections once every worker has loaded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the knowledge service exited with code {server.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5):
                return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError("the knowledge service did not become ready")


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", default=str(ROOT / "knowledge" / "data"))
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--requests", type=int, default=4000)
    ap.add_argument("--workers", type=int, default=0, help="server workers; 0 = the service's default")
    ap.add_argument("--index-dir", default="", help="keep the index here (default: a temporary folder)")
    ap.add_argument("--label", default="embedded knowledge base")
    ap.add_argument("--record", default=str(ROOT / "docs" / "BENCHMARKS.md"))
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        env = {**os.environ, "PYTHONPATH": str(ROOT), "KNOWLEDGE_DATA_DIR": args.data_dir,
               "KNOWLEDGE_INDEX_DIR": args.index_dir or f"{tmp}/index", "KNOWLEDGE_DESK_DB": f"{tmp}/desk.db",
               "KNOWLEDGE_DEMO_ONESTOP_DB": f"{tmp}/demo.db", "HF_HUB_OFFLINE": "1",
               "KNOWLEDGE_HOST": "127.0.0.1", "KNOWLEDGE_PORT": str(port)}
        if args.workers:
            env["KNOWLEDGE_WORKERS"] = str(args.workers)
        index_dir = Path(env["KNOWLEDGE_INDEX_DIR"])
        versions_before = {p.name for p in index_dir.iterdir()} if index_dir.is_dir() else set()
        t0 = time.perf_counter()
        built = subprocess.run([str(VENV / "bin" / "python"), "-m", "knowledge", "index"], env=env, cwd=ROOT,
                               capture_output=True, text=True, check=True)
        meta = json.loads(built.stdout.strip().splitlines()[-1])
        build_s = time.perf_counter() - t0
        reused = meta.get("version") in versions_before  # an artefact that was already there, only loaded
        server = subprocess.Popen([str(VENV / "bin" / "python"), "-m", "knowledge", "serve", "--log-level", "warning"],
                                  env=env, cwd=ROOT)
        try:
            wait_ready(server, port)
            asyncio.run(run_clients("127.0.0.1", port, sessions(args.clients, 200)))  # warm-up
            result = asyncio.run(run_clients("127.0.0.1", port, sessions(args.clients, args.requests)))
            latencies, errors, elapsed = result.latencies_ms, result.errors, result.elapsed_s
            workers = worker_pids(server.pid)
            rss = max(peak_rss_mb(p) for p in workers)
        finally:
            server.terminate()
            server.wait(timeout=20)

    figures = {
        "label": args.label, "chunks": meta.get("chunks"), "faiss_index": meta.get("faiss_index"),
        "clients": args.clients, "server_workers": len(workers), "requests": len(latencies), "errors": len(errors),
        "qps": round(len(latencies) / elapsed, 1), "p50_ms": round(statistics.median(latencies), 2),
        "p95_ms": round(pct(latencies, 95), 2), "p99_ms": round(pct(latencies, 99), 2),
        "index_reused": "yes: index_build_s is from the run that built it" if reused else "no",
        "index_build_s_total": None if reused else round(build_s, 1), "index_build_s": meta.get("build_seconds"),
        "server_peak_rss_mb_per_worker": round(rss, 1), "load_client": "bench/httpload.py (keep-alive)",
    }
    print(json.dumps(figures, ensure_ascii=False, indent=2))
    record(Path(args.record), f"Search API — {args.label}", figures, machine())
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())
