"""Importing events from CSV and JSON Lines files into a ledger: the registrar's batch job (批量导入).

``eventfiles`` reads a file into rows (each an event, or a problem naming its line and column); ``import_events``
writes them: all or nothing by default, or batch by batch with every refused row set aside in a rejects file
(``skip_bad``). The layout of a file, mapping files and the bounds on bad files are ``eventfiles``' (its names are
re-exported here).

>>> from credit_ledger import Catalog, Ledger
>>> import tempfile, pathlib
>>> ledger = Ledger.open()
>>> ledger.load_catalog(Catalog.sample())
>>> path = pathlib.Path(tempfile.mkdtemp()) / "enrol.csv"
>>> _ = path.write_text("kind,event_id,student_id,occurred_on,institution,program\\n"
...                     "enrolled,S1-enrol,S1,2025/9/1,HNJX,CNC-SR-2025\\n", encoding="utf-8")
>>> result = import_events(ledger, path)
>>> result.read, result.written, import_events(ledger, path).already_present
(1, 1, 1)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from .errors import CreditLedgerError, ImportFileError, PermissionDenied, RejectedEvent
from .eventfiles import (
    DATE_FIELDS,
    EVENT_FIELDS,
    FORMATS,
    MAX_CELL_CHARS,
    MAX_DEPTH,
    MAX_LINE_CHARS,
    ColumnMap,
    Format,
    ImportProblem,
    ImportResult,
    ImportRow,
    format_of,
    parse_date,
    read_rows,
    read_text,
)
from .exports import csv_writer

__all__ = [
    "DATE_FIELDS", "EVENT_FIELDS", "FORMATS", "MAX_CELL_CHARS", "MAX_DEPTH", "MAX_LINE_CHARS", "ColumnMap", "Format",
    "ImportProblem", "ImportResult", "ImportRow", "Progress", "format_of", "import_events", "parse_date",
    "read_rows", "read_text",
]

# ---------------------------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------------------------

Progress = Callable[[int, int], None]


def import_events(ledger: Any, path: str | Path, *, format: str | None = None,
                  mapping: ColumnMap | str | Path | None = None, skip_bad: bool = False,
                  rejects: str | Path | None = None, batch: int = 5000,
                  progress: Progress | None = None) -> ImportResult:
    """Import a file of events into ``ledger``.

    All-or-nothing by default: any row that can't be read, or any event the ledger refuses, raises
    ``ImportFileError`` (its ``problems`` name each line) and nothing is written. With ``skip_bad``, the good rows
    are written in batches of ``batch`` and each rejected row goes to the ``rejects`` CSV (columns ``line, code,
    message, raw``; UTF-8 with a BOM, so that spreadsheet programs read the Chinese; a cell that a spreadsheet would
    run as a formula is written as text, ``'=...``). Events already in the ledger
    with the same content count as ``already_present``: importing a file twice writes it once.

    Args:
        progress: called with ``(done, total)`` rows as the import goes.
    """
    if batch < 1:
        raise ValueError("batch is at least 1")
    rows = list(read_rows(path, format=format, mapping=mapping))
    total = len(rows)
    if progress is not None:
        progress(0, total)
    good = [r for r in rows if r.event is not None]
    if not skip_bad:
        problems = [r.error for r in rows if r.error is not None]
        if problems:
            raise ImportFileError(problems, str(path))
        try:
            written = _append(ledger, [r.event for r in good])
        except (RejectedEvent, PermissionDenied) as exc:
            raise ImportFileError(_refusals(good, exc), str(path)) from None
        if progress is not None:
            progress(total, total)
        return ImportResult(read=total, written=written, already_present=len(good) - written, rejected=0)

    rejected: list[ImportRow] = [r for r in rows if r.error is not None]
    written = done = 0
    for start in range(0, len(good), batch):
        chunk = good[start:start + batch]
        wrote, refused = _append_what_can_be(ledger, chunk)
        written += wrote
        rejected += refused
        done += len(chunk)
        if progress is not None:
            progress(min(total, done + total - len(good)), total)
    if progress is not None:
        progress(total, total)
    rejected.sort(key=lambda r: r.line)
    written_to = None
    if rejects is not None:
        _write_rejects(rejects, rejected)
        written_to = str(rejects)
    accepted = len(good) - sum(1 for r in rejected if r.event is not None)
    return ImportResult(read=total, written=written, already_present=accepted - written, rejected=len(rejected),
                        rejects_file=written_to)


def _append(ledger: Any, events: list[Any]) -> int:
    """Append events in one ``append_many``; returns how many were new (``Receipts.written``)."""
    if not events:
        return 0
    written: int = ledger.append_many(events).written
    return written


def _append_what_can_be(ledger: Any, rows: list[ImportRow]) -> tuple[int, list[ImportRow]]:
    """Write the rows the ledger accepts; returns how many events were new and the refused rows, each with its
    refusal as ``error``. A refused batch is retried without the events it names; when a refusal names none, the
    batch goes one event at a time."""
    pending = list(rows)
    refused: list[ImportRow] = []
    while pending:
        try:
            return _append(ledger, [r.event for r in pending]), refused
        except (RejectedEvent, PermissionDenied) as exc:
            named = {i.event_id for i in exc.issues if i.event_id}
            if not named or not any(r.event.event_id in named for r in pending):
                break
            problems = {p.line: p for p in _refusals(pending, exc)}
            refused += [r.model_copy(update={"error": problems[r.line]}) for r in pending if r.line in problems]
            pending = [r for r in pending if r.line not in problems]
    written = 0
    for row in pending:  # one by one: every refusal names its own row
        try:
            written += _append(ledger, [row.event])
        except (RejectedEvent, PermissionDenied) as exc:
            refused.append(row.model_copy(update={"error": _refusals([row], exc)[0]}))
    return written, refused


def _refusals(rows: list[ImportRow], exc: CreditLedgerError) -> list[ImportProblem]:
    """The ledger's refusal, as problems naming the lines of the refused events (every line with a refused id)."""
    lines: dict[str, list[int]] = {}
    for r in rows:
        lines.setdefault(r.event.event_id, []).append(r.line)
    problems: list[ImportProblem] = []
    for issue in getattr(exc, "issues", []):
        where = lines.get(issue.event_id or "", [])
        if not where and len(rows) == 1:
            where = [rows[0].line]
        for line in where:
            problems.append(ImportProblem(line=line, code=issue.code, message=issue.message))
    if not problems:
        problems = [ImportProblem(line=r.line, code="rejected", message=str(exc)) for r in rows[:1]]
    return sorted(problems, key=lambda p: p.line)


def _write_rejects(path: str | Path, rows: list[ImportRow]) -> None:
    """The rejects file: formula-safe cells (``exports.escape_formula``), and any character UTF-8 can't hold
    written as its escape, so that listing a row never fails."""
    with open(path, "w", encoding="utf-8-sig", errors="backslashreplace", newline="") as handle:
        out = csv_writer(handle)
        out.writerow(["line", "code", "message", "raw"])
        for r in rows:
            code, message = (r.error.code, r.error.message) if r.error is not None else ("rejected", "")
            out.writerow([r.line, code, message, r.raw])
