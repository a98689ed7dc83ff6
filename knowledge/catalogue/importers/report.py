"""What an import made of its sources, and the catalogue it writes.

``import_files`` turns every record file into a ``Procedure`` or an ``ImportFailure`` (a bad
record is reported, never raised); ``write_catalogue`` writes ``procedures/<group>.yaml`` and
``import-report.json`` (counts, failures and warnings by kind).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Optional

import yaml
from pydantic import ValidationError

from knowledge.catalogue.importers.common import LINK_DROPPED, LINK_UPGRADED, clean
from knowledge.catalogue.loader import DEFAULT_DATA_DIR
from knowledge.catalogue.models import Procedure
from knowledge.errors import KnowledgeBaseError

REPORT_NAME = "import-report.json"

# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class ImportFailure:
    """One record that was dropped (failure) or imported with something missing (warning).

    ``reason`` reads ``"<kind>: <detail>"``; ``kind`` is what the report counts by.
    """

    file: str
    code: Optional[str]
    reason: str

    @property
    def kind(self) -> str:
        return self.reason.split(":", 1)[0].strip()

    def as_dict(self) -> dict[str, Optional[str]]:
        return {"file": self.file, "code": self.code, "reason": self.reason}


@dataclass(frozen=True)
class ImportResult:
    """What one importer made of one source folder."""

    procedures: list[Procedure]
    failures: list[ImportFailure]
    warnings: list[ImportFailure]
    source: str = ""
    folder: str = ""
    files: int = 0
    groups: dict[str, str] = field(default_factory=dict)  # procedure id -> output file stem

    @property
    def accounted(self) -> int:
        return len(self.procedures) + len(self.failures)


RecordConverter = Callable[[dict[str, Any], dt.date], tuple[Procedure, list[str]]]


def import_files(files: list[Path], folder: Path, source: str, convert: RecordConverter, checked_on: dt.date,
                 group_of: Callable[[Path], str], code_key: Optional[str] = None) -> ImportResult:
    """Convert every JSON file; a bad record becomes a failure (with its reason), never an exception."""
    procedures: list[Procedure] = []
    failures: list[ImportFailure] = []
    warnings: list[ImportFailure] = []
    groups: dict[str, str] = {}
    seen: set[str] = set()
    for path in files:
        rel = f"{folder.name}/{path.relative_to(folder).as_posix()}"
        code: Optional[str] = path.stem
        try:
            rec = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(rec, dict):
                raise ValueError("bad shape: not a JSON object")
            if code_key:
                code = clean(rec.get(code_key)) or code
            proc, notes = convert(rec, checked_on)
        except json.JSONDecodeError as exc:
            failures.append(ImportFailure(rel, code, f"invalid JSON: {exc.msg} (line {exc.lineno})"))
            continue
        except Exception as exc:  # one bad record must not stop the import
            failures.append(ImportFailure(rel, code, failure_reason(exc)))
            continue
        if proc.id in seen:
            failures.append(ImportFailure(rel, proc.id, f"duplicate id: {proc.id} appears twice in {source}, "
                                                        "second copy dropped"))
            continue
        seen.add(proc.id)
        procedures.append(proc)
        groups[proc.id] = group_of(path)
        warnings.extend(ImportFailure(rel, proc.id, note) for note in notes)
    return ImportResult(procedures=procedures, failures=failures, warnings=warnings, source=source,
                        folder=str(folder), files=len(files), groups=groups)


def failure_reason(exc: Exception) -> str:
    """A one-line reason for the report: the first validation error, or the exception's message."""
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "record"
        return f"invalid record: {where}: {first.get('msg', '')}"
    message = str(exc).splitlines()[0] if str(exc) else ""
    if isinstance(exc, ValueError) and ":" in message:
        return message
    return f"{type(exc).__name__}: {message}"


# --------------------------------------------------------------------------- writing

def _dump(records: list[dict[str, Any]]) -> str:
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    # No line wrapping: the files are generated, and long lines load faster with the pure-Python loader.
    return yaml.dump(records, Dumper=dumper, allow_unicode=True, sort_keys=False, width=100_000)


def write_catalogue(results: Sequence[ImportResult], out_dir: Path) -> dict[str, Any]:
    """Write ``out_dir/procedures/<group>.yaml`` and ``out_dir/import-report.json``; return the report.

    Ids are unique: when two results hold the same id the first one wins (pass the dvcqg
    result first) and the other is reported as a ``duplicate id`` warning.
    """
    out_dir = Path(out_dir)
    if out_dir.resolve() == DEFAULT_DATA_DIR.resolve():
        raise KnowledgeBaseError("refusing to write imported records over the embedded knowledge base")
    proc_dir = out_dir / "procedures"
    _clear_previous_output(out_dir, proc_dir)
    proc_dir.mkdir(parents=True, exist_ok=True)

    seen: dict[str, str] = {}
    groups: dict[str, list[Procedure]] = {}
    written: Counter[str] = Counter()
    duplicates: list[ImportFailure] = []
    for result in results:
        for proc in result.procedures:
            if proc.id in seen:
                reason = f"duplicate id: {proc.id} already imported from {seen[proc.id]}, {result.source} copy dropped"
                duplicates.append(ImportFailure(file=result.source, code=proc.id, reason=reason))
                continue
            seen[proc.id] = result.source
            group = result.groups.get(proc.id) or result.source or "imported"
            groups.setdefault(group, []).append(proc)
            written[result.source] += 1

    files: list[str] = []
    for group in sorted(groups):
        procs = sorted(groups[group], key=lambda p: p.id)
        records = [p.model_dump(mode="json", exclude_none=True) for p in procs]
        name = f"{group}.yaml"
        header = (f"# Generated by `python -m knowledge import` ({len(procs)} procedures, group {group}).\n"
                  "# Facts and texts come from the source named in each record; do not edit by hand.\n")
        (proc_dir / name).write_text(header + _dump(records), encoding="utf-8")
        files.append(f"procedures/{name}")

    failures = [f for r in results for f in r.failures]
    warnings = [w for r in results for w in r.warnings] + duplicates
    report: dict[str, Any] = {
        "written_at": datetime.now().isoformat(timespec="seconds"),
        "imported": sum(written.values()),
        "failures": len(failures),
        "warnings": len(warnings),
        "links_dropped": sum(w.kind == LINK_DROPPED for w in warnings),
        "links_upgraded": sum(w.kind == LINK_UPGRADED for w in warnings),
        "sources": {
            r.source: {"folder": r.folder, "files": r.files, "parsed": len(r.procedures),
                       "written": written[r.source], "failures": len(r.failures), "warnings": len(r.warnings)}
            for r in results
        },
        "failures_by_reason": dict(Counter(f.kind for f in failures).most_common()),
        "warnings_by_kind": dict(Counter(w.kind for w in warnings).most_common()),
        "files_written": files,
        "failure_list": [f.as_dict() for f in failures],
        "warning_list": [w.as_dict() for w in warnings],
    }
    (out_dir / REPORT_NAME).write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    return report


def _clear_previous_output(out_dir: Path, proc_dir: Path) -> None:
    """Remove the YAML files of a previous import; refuse to mix with hand-written records."""
    if not proc_dir.is_dir():
        return
    existing = {p.name for p in proc_dir.iterdir() if p.suffix in {".yaml", ".yml"}}
    if not existing:
        return
    previous: set[str] = set()
    report = out_dir / REPORT_NAME
    if report.is_file():
        try:
            previous = {Path(f).name for f in json.loads(report.read_text(encoding="utf-8")).get("files_written", [])}
        except (OSError, ValueError):
            previous = set()
    foreign = existing - previous
    if foreign:
        raise KnowledgeBaseError(
            f"{proc_dir} already holds YAML files not written by a previous import "
            f"({', '.join(sorted(foreign)[:3])}…); choose an empty --out folder"
        )
    for name in existing:
        (proc_dir / name).unlink()
