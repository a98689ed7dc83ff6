"""The conversations benchmark on two checkouts in one run, alternating, so that both are measured on
the same machine at the same time (absolute times differ between machines and between hours).

    .venv/bin/python bench/ab_conversations.py --baseline /tmp/base [--pairs 2] [--conversations 10] [--rounds 10]

``--baseline`` is another checkout of this repository (e.g. ``git worktree add /tmp/base <commit>``)
with its own trained model in ``models/`` and the same virtual environments (symlinks to ours do).
Each pair runs the baseline's ``bench/conversations.py`` and then this checkout's; the figures of
every run are kept, and the ratio current / baseline of the medians of p95 per turn and of the CPU per
turn of every process is printed and recorded in docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import machine, record  # noqa: E402

COMPARED = ("p95_ms", "p50_ms", "cpu_ms_per_turn_rasa", "cpu_ms_per_turn_actions", "cpu_ms_per_turn_knowledge")


def run(checkout: Path, conversations: int, rounds: int) -> dict[str, float]:
    """One run of ``checkout``'s conversations benchmark; its figures (recorded to a scratch file)."""
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp) / "figures.md"
        env = {**os.environ, "PYTHONPATH": str(checkout)}
        out = subprocess.run([str(ROOT / ".venv" / "bin" / "python"), str(checkout / "bench" / "conversations.py"),
                              "--conversations", str(conversations), "--rounds", str(rounds),
                              "--record", str(scratch)], cwd=checkout, env=env, capture_output=True, text=True,
                             timeout=1800)
    if out.returncode != 0:
        raise SystemExit(f"{checkout}: benchmark failed ({out.returncode}):\n{out.stderr[-2000:]}")
    start = out.stdout.index("{")
    return json.loads(out.stdout[start:out.stdout.rindex("}") + 1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--baseline", type=Path, required=True)
    ap.add_argument("--label", default="", help="what the baseline is (a commit)")
    ap.add_argument("--pairs", type=int, default=2)
    ap.add_argument("--conversations", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--record", default=str(ROOT / "docs" / "BENCHMARKS.md"))
    args = ap.parse_args()
    runs: dict[str, list[dict[str, float]]] = {"baseline": [], "current": []}
    for _ in range(args.pairs):
        runs["baseline"].append(run(args.baseline.resolve(), args.conversations, args.rounds))
        runs["current"].append(run(ROOT, args.conversations, args.rounds))
    figures: dict[str, object] = {"pairs": args.pairs, "concurrent_conversations": args.conversations,
                                  "turns_per_run": runs["current"][0]["turns"],
                                  "errors": sum(int(r["errors"]) for rs in runs.values() for r in rs)}
    for key in COMPARED:
        base = statistics.median(r[key] for r in runs["baseline"])
        cur = statistics.median(r[key] for r in runs["current"])
        figures[f"{key}_baseline"] = base
        figures[f"{key}_current"] = cur
        figures[f"{key}_ratio"] = round(cur / base, 2) if base else None
    print(json.dumps(figures, ensure_ascii=False, indent=2))
    record(Path(args.record), "Conversations, current against a baseline, alternating in one run"
           + (f" ({args.label})" if args.label else ""), figures, machine())
    return 0


if __name__ == "__main__":
    sys.exit(main())
