"""``python -m knowledge ingest DIR [--json]``: ingest a folder of documents and summarise it.

Register it with ``add_ingest_command(subparsers)`` next to the other commands.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from knowledge.corpus.ingest import IngestResult


def add_ingest_command(subparsers: Any) -> None:
    """Add the ``ingest`` sub-command to an ``argparse`` sub-parser group."""
    p = subparsers.add_parser(
        "ingest",
        help="read, chunk and link a folder of documents (.txt .md .html .docx .pdf)",
        description="Ingest every supported file under DIR and print what was found.",
    )
    p.add_argument("dir", type=Path, metavar="DIR")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=_cmd_ingest)


def summary(result: IngestResult) -> dict[str, Any]:
    """JSON-ready summary of an ``IngestResult``."""
    links = result.links
    return {
        "root": str(result.root),
        "documents": len(result.documents),
        "chunks": result.chunk_count,
        "skipped": len(result.skipped),
        "seconds": round(result.seconds, 3),
        "citations": {"found": links.found, "linked": links.linked},
        "per_document": [
            {
                "record_id": d.record_id,
                "file": _relative(d.path, result.root),
                "number": d.meta.number,
                "type": d.meta.doc_type,
                "date": d.meta.date.isoformat() if d.meta.date else None,
                "issuer": d.meta.issuer,
                "subject": d.meta.subject,
                "chunks": len(d.chunks),
                "cites": list(d.meta.cites),
                "cites_ingested": list(links.cites.get(d.record_id, ())),
                "cited_by": list(links.cited_by.get(d.record_id, ())),
                "warnings": list(d.warnings),
            }
            for d in result.documents
        ],
        "skipped_files": [{"file": _relative(s.path, result.root), "reason": s.reason} for s in result.skipped],
    }


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix() if root.is_dir() else path.name
    except ValueError:
        return str(path)


def _cmd_ingest(args: argparse.Namespace) -> int:
    from knowledge.corpus.ingest import ingest_folder

    result = ingest_folder(args.dir)
    data = summary(result)
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return 0
    print(f"{data['documents']} documents, {data['chunks']} chunks, {data['skipped']} skipped "
          f"in {data['seconds']:.2f} s from {data['root']}")
    for d in data["per_document"]:
        print(f"  {d['record_id']}")
        print(f"      file {d['file']}  number {d['number'] or '-'}  type {d['type'] or '-'}  "
              f"date {d['date'] or '-'}  issuer {d['issuer'] or '-'}  chunks {d['chunks']}  "
              f"cites {len(d['cites'])}")
        for w in d["warnings"]:
            print(f"      note: {w}")
        if d["cites_ingested"] or d["cited_by"]:
            print(f"      cites {', '.join(d['cites_ingested']) or '-'}; cited by {', '.join(d['cited_by']) or '-'}")
    for s in data["skipped_files"]:
        print(f"  skipped {s['file']}: {s['reason']}")
    c = data["citations"]
    print(f"citations: {c['found']} found, {c['linked']} linked to an ingested document")
    return 0
