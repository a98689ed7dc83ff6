"""Command line: ``python -m knowledge <command>``.

    index [--force]                  build the index of the configured knowledge base if stale
    import --out DIR [...]           build a catalogue from the portal's records (2,849 procedures)
    ingest DIR                       read a folder of directives / legal texts and show what was found
    export-nlu                       regenerate Rasa's lookup table from the catalogue
    check                            validate the knowledge base
    search "<query>" [--k 5] [--kinds procedure,guide] [--json]
    eval --beir DIR | --dev [FILE] | --catalogue [FILE] [--data-dir DIR]   retrieval quality figures as JSON
    serve                            run the knowledge service (FastAPI)
    privacy purge [--days N]         delete conversations older than DVC_RETENTION_DAYS everywhere
    privacy forget SENDER_ID         delete one conversation everywhere (a citizen's request)
    report --month YYYY-MM --format xlsx|pdf [--channel C] [--out FILE]   the monthly outreach report
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from typing import Optional

from knowledge.environment import SettingError
from knowledge.errors import KnowledgeError
from knowledge.settings import get_settings


def _cmd_index(args: argparse.Namespace) -> int:
    from knowledge.service import ensure_index

    loaded = ensure_index(get_settings(), force=args.force)
    print(json.dumps({k: loaded.meta.get(k) for k in ("version", "chunks", "dense_model", "faiss_index",
                                                        "build_seconds", "corpus_hash")}, ensure_ascii=False))
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from knowledge.catalogue.loader import load_knowledge_base

    kb = load_knowledge_base(get_settings().data_dir)
    print(f"ok: {len(kb.procedures)} procedures, {len(kb.guides)} guides, {len(kb.directives)} directives")
    return 0


def _cmd_search(args: argparse.Namespace) -> int:
    from knowledge.api.schemas import result_from_hit
    from knowledge.service import ensure_index

    loaded = ensure_index(get_settings())
    kinds = [k for k in args.kinds.split(",") if k] if args.kinds else None
    hits = loaded.index.search(args.query, k=args.k, kinds=kinds)
    results = [result_from_hit(h).model_dump() for h in hits]
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=2))
    else:
        for r in results:
            print(f"{r['score']:.3f}  [{r['kind']}] {r['id']}  {r['title']}")
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    from pathlib import Path

    from knowledge.evaluation import CATALOGUE_DIR, evaluate_beir, evaluate_catalogue, evaluate_dev

    if args.beir:
        report = evaluate_beir(args.beir, get_settings(), dense=not args.lexical_only)
    elif args.catalogue is not None:
        data_dir = Path(args.data_dir) if args.data_dir else CATALOGUE_DIR
        if not data_dir.is_dir():
            print(f"eval --catalogue: skipped, no imported catalogue at {data_dir} (build it with `make import`, "
                  "which needs ../shared/data)", file=sys.stderr)
            return 0
        report = evaluate_catalogue(args.catalogue, data_dir, get_settings(), weights=args.weights)
    else:
        report = evaluate_dev(args.dev, get_settings(), weights=args.weights)
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return 0


def _cmd_export_nlu(args: argparse.Namespace) -> int:
    from knowledge import nlu_export
    from knowledge.catalogue.loader import load_knowledge_base

    path = nlu_export.write(load_knowledge_base(get_settings().data_dir))
    print(f"wrote {path}")
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from knowledge.server import serve

    return serve(get_settings(), workers=args.workers, log_level=args.log_level)


def _cmd_privacy(args: argparse.Namespace) -> int:
    from pathlib import Path

    from knowledge import privacy

    os.umask(0o077)
    tracker_db = Path(args.tracker_db) if args.tracker_db else privacy.DEFAULT_TRACKER_DB
    if not args.tracker_db and os.environ.get(privacy.TRACKER_DB_ENV):
        tracker_db = Path(os.environ[privacy.TRACKER_DB_ENV])
    stores = privacy.Stores(
        tracker_db=tracker_db,
        redis_url=os.environ.get(privacy.REDIS_URL_ENV, "") if args.redis_url is None else args.redis_url,
        desk_db=Path(args.desk_db) if args.desk_db else get_settings().desk_db,
        seen_db=Path(args.seen_db) if args.seen_db else privacy.default_stores().seen_db,
        events_db=get_settings().events_db or tracker_db.parent / "events.db")  # the stack keeps both together
    if args.action == "purge":
        days = args.days if args.days is not None else get_settings().retention_days
        if days < 1:
            raise SettingError("--days: the retention is at least one day")
        deleted = privacy.purge(privacy.cutoff_for(days), stores)
        print(json.dumps({"purged_older_than_days": days, "deleted": deleted}))
    else:
        print(json.dumps({"forgotten": True, "deleted": privacy.forget(args.sender_id, stores)}))
    return 0


def _add_privacy_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("privacy", help="retention (purge) and erasure (forget) of conversations; docs/PRIVACY.md")
    actions = p.add_subparsers(dest="action", required=True)
    purge = actions.add_parser("purge", help="delete everything older than DVC_RETENTION_DAYS")
    purge.add_argument("--days", type=int, default=None, help="retention in days (default DVC_RETENTION_DAYS, 30)")
    forget = actions.add_parser("forget", help="delete one conversation (sender id, e.g. web:…, fb:…) everywhere")
    forget.add_argument("sender_id")
    for q in (purge, forget):
        q.add_argument("--tracker-db", default="", help="Rasa's SQLite tracker store (default RASA_TRACKER_DB, "
                       "else var/tracker.db)")
        q.add_argument("--redis-url", default=None, help="Redis of the tracker store (default DVC_REDIS_URL; '' none)")
        q.add_argument("--desk-db", default="", help="the desk database (default KNOWLEDGE_DESK_DB)")
        q.add_argument("--seen-db", default="", help="the webhook redelivery memory (default DVC_SEEN_DB)")
        q.set_defaults(func=_cmd_privacy)


def _cmd_report(args: argparse.Namespace) -> int:
    from pathlib import Path

    from knowledge.analytics.figures import Period, PeriodError
    from knowledge.analytics.report import ReportError, render, report_figures

    try:
        period = Period.month(args.month, args.channel or None)
        data = render(report_figures(get_settings(), period), args.format)
    except (PeriodError, ReportError) as exc:
        print(f"report: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out or f"bao-cao-{args.month}.{args.format}")
    out.write_bytes(data)
    print(json.dumps({"written": str(out), "bytes": len(data)}))
    return 0


def _add_report_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("report", help="the monthly outreach report (Quyết định 1588), figures as on the dashboard")
    p.add_argument("--month", required=True, metavar="YYYY-MM")
    p.add_argument("--format", required=True, choices=["xlsx", "pdf"])
    p.add_argument("--channel", default="", choices=["", "socketio", "facebook", "zalo", "rest"])
    p.add_argument("--out", default="", metavar="FILE", help="default bao-cao-YYYY-MM.FORMAT here")
    p.set_defaults(func=_cmd_report)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m knowledge", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("index", help="build the index if the knowledge base changed")
    p.add_argument("--force", action="store_true")
    p.set_defaults(func=_cmd_index)
    sub.add_parser("check", help="validate the knowledge base").set_defaults(func=_cmd_check)
    p = sub.add_parser("search", help="search the knowledge base")
    p.add_argument("query")
    p.add_argument("--k", type=int, default=5)
    p.add_argument("--kinds", default="")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_search)
    p = sub.add_parser("eval", help="retrieval quality")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--beir", metavar="DIR")
    g.add_argument("--dev", nargs="?", const="", metavar="FILE")
    g.add_argument("--catalogue", nargs="?", const="", metavar="FILE",
                   help="catalogue dev set (default tests/data/catalogue_questions.yaml) over --data-dir")
    p.add_argument("--data-dir", default="", metavar="DIR",
                   help="imported knowledge base for --catalogue (default var/full-kb, from `make import`)")
    p.add_argument("--lexical-only", action="store_true")
    p.add_argument("--weights", default="", help="comma-separated dense weights to compare (dev sets)")
    p.set_defaults(func=_cmd_eval)
    p = sub.add_parser("serve", help="run the knowledge service (KNOWLEDGE_HOST, KNOWLEDGE_PORT)")
    p.add_argument("--workers", type=int, default=None,
                   help="worker processes (default KNOWLEDGE_WORKERS, else min(2, cores))")
    p.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    p.set_defaults(func=_cmd_serve)
    from knowledge.catalogue.import_cli import add_import_command
    from knowledge.corpus.cli import add_ingest_command

    add_import_command(sub)
    add_ingest_command(sub)
    sub.add_parser("export-nlu", help="write Rasa lookup tables generated from the catalogue").set_defaults(
        func=_cmd_export_nlu)
    _add_privacy_command(sub)
    _add_report_command(sub)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except KnowledgeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except SettingError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
