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
from typing import Any, Callable, Iterable, Iterator

from .errors import CreditLedgerError, ImportFileError, PermissionDenied, PersonalDataError, RejectedEvent
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
from .roster import checked

__all__ = [
    "DATE_FIELDS", "EVENT_FIELDS", "FORMATS", "MAX_CELL_CHARS", "MAX_DEPTH", "MAX_LINE_CHARS", "ColumnMap", "Format",
    "ImportProblem", "ImportResult", "ImportRow", "Progress", "format_of", "import_events", "parse_date",
    "read_rows", "read_text",
]

# ---------------------------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------------------------

Progress = Callable[[int, int], None]
"""``progress(done, total)``: rows read so far, and the rows of the file: its line count (an upper bound) while it
is being read, the rows read at the end."""


def import_events(ledger: Any, path: str | Path, *, format: str | None = None,
                  mapping: ColumnMap | str | Path | None = None, skip_bad: bool = False,
                  rejects: str | Path | None = None, batch: int = 5000,
                  progress: Progress | None = None, encoding: str = "utf-8") -> ImportResult:
    """Import a file of events into ``ledger``.

    All-or-nothing by default: any row that can't be read, or any event the ledger refuses, raises
    ``ImportFileError`` (its ``problems`` name each line) and nothing is written. With ``skip_bad``, the good rows
    are written in batches of ``batch`` and each rejected row goes to the ``rejects`` CSV (columns ``line, code,
    message, raw``; UTF-8 with a BOM, so that spreadsheet programs read the Chinese; a cell that a spreadsheet would
    run as a formula is written as text, ``'=...``). Events already in the ledger
    with the same content count as ``already_present``: importing a file twice writes it once.

    The file is streamed, ``batch`` rows at a time, so memory stays that of a batch however long the file: all or
    nothing appends the batches in one write transaction (``Ledger.writing``; each batch is checked against the
    ledger with the batches before it, so an event id repeated far apart, or a look-alike of a student of an earlier
    batch, is still refused). Every problem of reading the whole file is reported, as before any refusal; of the
    ledger's refusals, those of the first batch refused (reading the file once more to name every line of each
    refused event id).

    Args:
        progress: called with ``(done, total)`` rows as the import goes.
        encoding: the file's, one of ``eventfiles.ENCODINGS`` (``"gb18030"`` reads GBK and GB2312 too).
    """
    if batch < 1:
        raise ValueError("batch is at least 1")
    counter = _Counter(progress, _line_count(path, format))
    rows = counter.counted(read_rows(path, format=format, mapping=mapping, encoding=encoding))
    if skip_bad:
        result = _import_what_can_be(ledger, rows, batch, rejects)
    else:
        result = _import_all(ledger, path, rows, batch, format=format, mapping=mapping, encoding=encoding)
    counter.done()
    return result


def _import_all(ledger: Any, path: str | Path, rows: Iterator[ImportRow], batch: int, *, format: str | None,
                mapping: ColumnMap | str | Path | None, encoding: str = "utf-8") -> ImportResult:
    """All or nothing: the file's batches appended in one write transaction, rolled back at the first problem."""
    problems: list[ImportProblem] = []
    refusal: RejectedEvent | PermissionDenied | None = None
    read = good = written = 0
    names = _Names()
    with ledger.writing() as session:
        for chunk in _chunks(rows, batch):
            read += len(chunk)
            problems += [r.error for r in chunk if r.error is not None]
            problems += names.problems(chunk)
            events = [r.event for r in chunk if r.event is not None]
            good += len(events)
            if problems or not events:
                continue  # nothing more is written: the rest is read for its problems
            try:
                written += session.append_many(events).written
            except (RejectedEvent, PermissionDenied) as exc:
                refusal = exc
                break
            problems += names.write(chunk, session.set_personal)  # in the same transaction: all or nothing
        if problems:
            raise ImportFileError(problems, str(path))
        if refusal is not None:
            raise ImportFileError(_refusals_in_file(path, refusal, format=format, mapping=mapping,
                                                    encoding=encoding), str(path))
    return ImportResult(read=read, written=written, already_present=good - written, rejected=0)


def _import_what_can_be(ledger: Any, rows: Iterator[ImportRow], batch: int,
                        rejects: str | Path | None) -> ImportResult:
    """``skip_bad``: the good rows written ``batch`` at a time, each batch committed; the bad ones set aside (a row
    whose name the roster refuses, before its event is written)."""
    rejected: list[ImportRow] = []
    read = good = written = 0
    kept = 0  # rows whose event was written (or was there) but whose name the roster refused: rejected too
    pending: list[ImportRow] = []
    names = _Names()
    for row in rows:
        read += 1
        if row.error is None:
            bad = names.problems([row])
            row = row.model_copy(update={"error": bad[0]}) if bad else row
        if row.error is not None:
            rejected.append(row)
            continue
        good += 1
        pending.append(row)
        if len(pending) >= batch:
            wrote, refused = _append_what_can_be(ledger, pending)
            unnamed = _named(names, ledger, pending, refused)
            written, rejected, kept = written + wrote, rejected + refused + unnamed, kept + len(unnamed)
            pending = []
    if pending:
        wrote, refused = _append_what_can_be(ledger, pending)
        unnamed = _named(names, ledger, pending, refused)
        written, rejected, kept = written + wrote, rejected + refused + unnamed, kept + len(unnamed)
    rejected.sort(key=lambda r: r.line)
    written_to = None
    if rejects is not None:
        _write_rejects(rejects, rejected)
        written_to = str(rejects)
    accepted = good - sum(1 for r in rejected if r.event is not None) + kept  # (a refused name keeps its event)
    return ImportResult(read=read, written=written, already_present=accepted - written, rejected=len(rejected),
                        rejects_file=written_to)


class _Names:
    """The name column of a file (``ImportRow.personal``): each row's checked by the roster's rules as it is read, a
    student named differently on two lines refused, and the names written once their events are."""

    def __init__(self) -> None:
        self.seen: dict[str, tuple[dict[str, str], int]] = {}
        """student -> (the personal fields given, the first line giving them)."""

    def problems(self, chunk: list[ImportRow]) -> list[ImportProblem]:
        found: list[ImportProblem] = []
        for r in chunk:
            if r.event is None or not r.personal:
                continue
            sid = r.event.student_id
            try:
                given = {k: v for k, v in checked(sid, r.personal).items() if v is not None}
            except PersonalDataError as exc:
                found.append(ImportProblem(line=r.line, column=exc.field, code=exc.code, message=str(exc)))
                continue
            before = self.seen.setdefault(sid, (given, r.line))
            clash = next((k for k in given if k in before[0] and before[0][k] != given[k]), None)
            if clash is not None:
                found.append(ImportProblem(line=r.line, column=clash, code="bad_value", message=(
                    f"student {sid}'s {clash} differs from line {before[1]}'s; a file gives a student one {clash}")))
        return found

    def write(self, chunk: list[ImportRow], set_personal: Callable[..., Any]) -> list[ImportProblem]:
        """Set the names of the chunk's rows (one write per student); the refusals, as problems of their lines."""
        last: dict[str, ImportRow] = {}
        for r in chunk:
            if r.event is not None and r.personal:
                last[r.event.student_id] = r
        found: list[ImportProblem] = []
        for sid, r in last.items():
            try:
                set_personal(sid, **(r.personal or {}))
            except (PersonalDataError, RejectedEvent, PermissionDenied) as exc:
                code = getattr(exc, "code", None) or next(iter(getattr(exc, "codes", [])), "rejected")
                found.append(ImportProblem(line=r.line, column=getattr(exc, "field", None) or "name", code=code,
                                           message=str(exc)))
        return found


def _named(names: _Names, ledger: Any, rows: list[ImportRow], refused: list[ImportRow]) -> list[ImportRow]:
    """``skip_bad``: the names of the rows written (not ``refused``); a refused name rejects its row."""
    out = {r.line for r in refused}
    named = [r for r in rows if r.line not in out and r.event is not None and r.personal]
    if not named:
        return []
    with ledger.writing() as session:  # the batch's names in one transaction (and one checkpoint), not one each
        problems = names.write(named, session.set_personal)
    by_line = {r.line: r for r in rows}
    return [by_line[p.line].model_copy(update={"error": p}) for p in problems]


def _chunks(rows: Iterable[ImportRow], size: int) -> Iterator[list[ImportRow]]:
    """The rows, ``size`` at a time."""
    chunk: list[ImportRow] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class _Counter:
    """Tells ``progress`` of the rows as they are read (every ``_EVERY``, and at the start and the end)."""

    def __init__(self, progress: Progress | None, total: int):
        self.progress, self.total, self.read = progress, total, 0
        if progress is not None:
            progress(0, total)

    def counted(self, rows: Iterable[ImportRow]) -> Iterator[ImportRow]:
        progress = self.progress
        for row in rows:
            self.read += 1
            if progress is not None and self.read % _EVERY == 0:
                self.total = max(self.total, self.read)
                progress(self.read, self.total)
            yield row

    def done(self) -> None:
        if self.progress is not None:
            self.progress(self.read, self.read)


_EVERY = 1000
"""Rows between two calls of ``progress``."""


def _line_count(path: str | Path, format: str | None) -> int:
    """The lines of a file (an upper bound on its rows: a CSV header and multi-line cells take lines too; 0 when it
    can't be read: reading it will say why), counted in 1 MiB reads."""
    newlines = returns = 0
    last = b""
    try:
        with open(path, "rb") as handle:
            while block := handle.read(1 << 20):
                newlines += block.count(b"\n")
                returns += block.count(b"\r")
                last = block[-1:]
    except (OSError, ValueError):
        return 0
    lines = max(newlines, returns) + (1 if last not in (b"", b"\n", b"\r") else 0)
    header = (format or FORMATS.get(Path(path).suffix.lower())) == "csv"
    return max(lines - header, 0)


def _refusals_in_file(path: str | Path, exc: CreditLedgerError, *, format: str | None,
                      mapping: ColumnMap | str | Path | None, encoding: str = "utf-8") -> list[ImportProblem]:
    """The ledger's refusal as problems naming the lines of the refused events, every line of the file with a
    refused id (the file is read once more, keeping only those lines); or, as ever, the problems of reading the
    file, when the rows after the refused batch have any."""
    named = {i.event_id for i in getattr(exc, "issues", []) if i.event_id}
    found: list[ImportRow] = []
    unread: list[ImportProblem] = []
    good = 0
    first: ImportRow | None = None
    for row in read_rows(path, format=format, mapping=mapping, encoding=encoding):
        if row.error is not None:
            unread.append(row.error)
        if row.event is None:
            continue
        good += 1
        first = first or row
        if row.event.event_id in named:
            found.append(row)
    if unread:
        return unread
    return _refusals(found or ([first] if first is not None else []), exc, good=good)


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


def _refusals(rows: list[ImportRow], exc: CreditLedgerError, good: int | None = None) -> list[ImportProblem]:
    """The ledger's refusal, as problems naming the lines of the refused events (every line with a refused id).
    ``good``: how many events were appended (default: ``rows``); when one was, a refusal naming no event is its
    refusal."""
    single = rows[0] if rows and (len(rows) if good is None else good) == 1 else None
    lines: dict[str, list[int]] = {}
    for r in rows:
        lines.setdefault(r.event.event_id, []).append(r.line)
    problems: list[ImportProblem] = []
    for issue in getattr(exc, "issues", []):
        where = lines.get(issue.event_id or "", [])
        if not where and single is not None:
            where = [single.line]
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
