"""Write benchmark figures into docs/BENCHMARKS.md, one section per benchmark, replaced
on each run, with the date and the machine."""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
from pathlib import Path
from typing import Any

HEADER = ("# Benchmarks\n\nFigures written by the scripts in `bench/`; each section below is replaced when its "
          "script runs.\n")


def machine() -> str:
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({cpu}), {mem_gib:.0f} GiB, {platform.system()} {platform.machine()}, " \
           f"Python {platform.python_version()}"


def record(path: Path, title: str, figures: dict[str, Any], machine_text: str) -> None:
    today = dt.date.today().isoformat()
    rows = "\n".join(f"| {k} | {v} |" for k, v in figures.items())
    section = f"## {title}\n\n_{today}, {machine_text}_\n\n| figure | value |\n| --- | --- |\n{rows}\n"
    text = path.read_text(encoding="utf-8") if path.exists() else HEADER
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub(lambda _: section + "\n", text) if pattern.search(text) else text.rstrip() + "\n\n" + section
    path.write_text(text, encoding="utf-8")
