"""The ``import`` sub-command: build a knowledge base from the procedure datasets in ``../shared``.

    python -m knowledge import [--dvcqg DIR] [--bqp DIR] --out DIR [--with-embedded] [--with-curated]

Writes ``DIR/procedures/<ministry>.yaml`` and ``DIR/import-report.json``; with
``--with-embedded`` the embedded ``guides/``, ``directives/`` and ``reforms/`` are copied too, so that
``KNOWLEDGE_DATA_DIR=DIR`` is a complete knowledge base. With ``--with-curated`` the
hand-written procedures of the embedded base go into ``DIR/procedures/curated.yaml`` and
take precedence over imported records with the same code (id or ``code`` field): the
imported copy is dropped and reported as a ``superseded`` warning. ``make import`` uses both.
Prints a one-line JSON summary.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import shutil
import time
from pathlib import Path
from typing import Any, Optional

from knowledge.catalogue.importers import ImportFailure, ImportResult, import_bqp, import_dvcqg, write_catalogue
from knowledge.catalogue.loader import DEFAULT_DATA_DIR, load_knowledge_base
from knowledge.errors import KnowledgeBaseError

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
DEFAULT_DVCQG = PROJECT_ROOT.parent / "shared" / "data" / "dvcqg"
DEFAULT_BQP = PROJECT_ROOT.parent / "shared" / "data" / "bqp-structured"
EMBEDDED_KINDS = ("guides", "directives", "reforms")
CURATED = "curated"


def curated_result(data_dir: Path = DEFAULT_DATA_DIR) -> ImportResult:
    """The hand-written procedures of a knowledge base, as an import result written to ``curated.yaml``."""
    procedures = list(load_knowledge_base(data_dir).procedures.values())
    return ImportResult(procedures=procedures, failures=[], warnings=[], source=CURATED,
                        folder=str(Path(data_dir) / "procedures"), files=len(procedures),
                        groups={p.id: CURATED for p in procedures})


def drop_superseded(result: ImportResult, curated: ImportResult) -> ImportResult:
    """``result`` without the records a curated one replaces (same id, or same portal code)."""
    owner: dict[str, str] = {}
    for proc in curated.procedures:
        owner[proc.id] = proc.id
        if proc.code:
            owner.setdefault(proc.code, proc.id)
    kept, superseded = [], []
    for proc in result.procedures:
        by = owner.get(proc.id) or (owner.get(proc.code) if proc.code else None)
        if by is None:
            kept.append(proc)
            continue
        superseded.append(ImportFailure(file=result.source, code=proc.id,
                                        reason=f"superseded: curated record {by} takes precedence"))
    return dataclasses.replace(result, procedures=kept, warnings=[*result.warnings, *superseded])


def run_import(dvcqg: Path, bqp: Path, out: Path, *, with_embedded: bool = False, with_curated: bool = False,
               checked_on: Optional[dt.date] = None) -> dict[str, Any]:
    """Import both sources into ``out`` and return the summary printed by the CLI.

    With ``with_curated`` the embedded procedures are written first and win over imported copies.
    """
    started = time.perf_counter()
    for label, folder in (("--dvcqg", dvcqg), ("--bqp", bqp)):
        if not Path(folder).is_dir():
            raise KnowledgeBaseError(f"source folder not found: {folder} (give another one with {label} DIR)")
    checked_on = checked_on or dt.date.today()
    dvcqg_result = import_dvcqg(Path(dvcqg), checked_on)
    bqp_result = import_bqp(Path(bqp), checked_on)
    results = [dvcqg_result, bqp_result]
    if with_curated:
        curated = curated_result()
        results = [curated, *(drop_superseded(r, curated) for r in results)]
    report = write_catalogue(results, Path(out))
    if with_embedded:
        for kind in EMBEDDED_KINDS:
            source = DEFAULT_DATA_DIR / kind
            if source.is_dir():
                shutil.copytree(source, Path(out) / kind, dirs_exist_ok=True)
    summary: dict[str, Any] = {
        "imported": report["imported"],
        "dvcqg": report["sources"]["dvcqg"]["written"],
        "bqp": report["sources"]["bqp"]["written"],
        "failures": report["failures"],
        "warnings": report["warnings"],
        "seconds": round(time.perf_counter() - started, 2),
    }
    if with_curated:
        summary["curated"] = report["sources"][CURATED]["written"]
        summary["superseded"] = report["warnings_by_kind"].get("superseded", 0)
    return summary


def _cmd_import(args: argparse.Namespace) -> int:
    summary = run_import(args.dvcqg, args.bqp, args.out, with_embedded=args.with_embedded,
                         with_curated=args.with_curated)
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
                   help="copy the embedded guides/, directives/ and reforms/ too (DIR becomes a whole knowledge base)")
    p.add_argument("--with-curated", action="store_true",
                   help="also write the embedded (hand-written) procedures; they replace imported records "
                        "with the same code")
    p.set_defaults(func=_cmd_import)
