"""Command line: ``python -m knowledge <command>``.

    index [--force]                  build the index of the configured knowledge base if stale
    import --out DIR [...]           build a catalogue from the portal's records (2,849 procedures)
    ingest DIR                       read a folder of directives / legal texts and show what was found
    export-nlu                       regenerate Rasa's lookup table from the catalogue
    check                            validate the knowledge base
    search "<query>" [--k 5] [--kinds procedure,guide] [--json]
    eval --beir DIR | --dev [FILE]   retrieval quality figures as JSON
    serve                            run the knowledge service (FastAPI)
"""

from __future__ import annotations

import argparse
import json
import logging
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
    from knowledge.evaluation import evaluate_beir, evaluate_dev

    if args.beir:
        report = evaluate_beir(args.beir, get_settings(), dense=not args.lexical_only)
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
    p.add_argument("--lexical-only", action="store_true")
    p.add_argument("--weights", default="", help="comma-separated dense weights to compare (dev set)")
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
