"""The ``import`` sub-command: build a knowledge base from the procedure datasets in ``../shared``.

    python -m knowledge import [--dvcqg DIR] [--bqp DIR] --out DIR [--with-embedded]

Writes ``DIR/procedures/<ministry>.yaml`` and ``DIR/import-report.json``; with
``--with-embedded`` the embedded ``guides/`` and ``directives/`` are copied too, so that
``KNOWLEDGE_DATA_DIR=DIR`` is a complete knowledge base. Prints a one-line JSON summary.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import time
from pathlib import Path
from typing import Any, Optional

from knowledge.catalogue.importers import import_bqp, import_dvcqg, write_catalogue
from knowledge.catalogue.loader import DEFAULT_DATA_DIR
from knowledge.errors import KnowledgeBaseError

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
DEFAULT_DVCQG = PROJECT_ROOT.parent / "shared" / "data" / "dvcqg"
DEFAULT_BQP = PROJECT_ROOT.parent / "shared" / "data" / "bqp-structured"
EMBEDDED_KINDS = ("guides", "directives")


def run_import(dvcqg: Path, bqp: Path, out: Path, *, with_embedded: bool = False,
               checked_on: Optional[dt.date] = None) -> dict[str, Any]:
    """Import both sources into ``out`` and return the summary printed by the CLI."""
    started = time.perf_counter()
    for label, folder in (("--dvcqg", dvcqg), ("--bqp", bqp)):
        if not Path(folder).is_dir():
            raise KnowledgeBaseError(f"source folder not found: {folder} (give another one with {label} DIR)")
    checked_on = checked_on or dt.date.today()
    dvcqg_result = import_dvcqg(Path(dvcqg), checked_on)
    bqp_result = import_bqp(Path(bqp), checked_on)
    report = write_catalogue([dvcqg_result, bqp_result], Path(out))
    if with_embedded:
        for kind in EMBEDDED_KINDS:
            source = DEFAULT_DATA_DIR / kind
            if source.is_dir():
                shutil.copytree(source, Path(out) / kind, dirs_exist_ok=True)
    return {
        "imported": report["imported"],
        "dvcqg": report["sources"]["dvcqg"]["written"],
        "bqp": report["sources"]["bqp"]["written"],
        "failures": report["failures"],
        "warnings": report["warnings"],
        "seconds": round(time.perf_counter() - started, 2),
    }


def _cmd_import(args: argparse.Namespace) -> int:
    summary = run_import(args.dvcqg, args.bqp, args.out, with_embedded=args.with_embedded)
    print(json.dumps(summary, ensure_ascii=False))
    return 0


def add_import_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``import`` on the sub-parsers of ``python -m knowledge``."""
    p = subparsers.add_parser(
        "import", help="build procedure YAML from the dvcqg and bqp datasets",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--dvcqg", type=Path, default=DEFAULT_DVCQG, metavar="DIR",
                   help="National Public Service Portal records, <DIR>/<ministry>/<code>.json (default: %(default)s)")
    p.add_argument("--bqp", type=Path, default=DEFAULT_BQP, metavar="DIR",
                   help="Ministry of National Defence records, <DIR>/<code>.json (default: %(default)s)")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="knowledge base folder to write")
    p.add_argument("--with-embedded", action="store_true",
                   help="also copy the embedded guides/ and directives/ so that DIR is a complete knowledge base")
    p.set_defaults(func=_cmd_import)
