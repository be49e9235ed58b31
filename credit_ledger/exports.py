"""Exports for analysts and other systems: a SQLite file for Datasette, pandas frames, JSON transcripts, CSV audits.

The analysis tables are a *copy* of what the ledger decides on a day, never a second source of truth: each export
reads the events, replays them with the same rules as ``Ledger.transcript`` and ``Ledger.audit_all``, and writes
seven flat tables, one row per

- ``students``: student (the latest enrolment's institution, program and mode; status on the export date; the
  ``name`` from the roster, personal data: a copy of it stays in the file after the roster erases it);
- ``enrolments``: ``Enrolled`` event (入学);
- ``transcript_records``: effective credit record (best attempt, reversals applied), with full-text search on codes
  and titles that finds two Chinese characters (``analysis_db``);
- ``audits``: graduation audit (毕业审核) of an enrolled student;
- ``decisions``: recognition (学分认定, ``CreditRecognized``) or conversion (学分转换, ``OutcomeConverted``) event,
  with ``counted`` saying whether it is still in the transcript (not reversed, not revoked);
- ``courses``: catalog course (课程目录), each version, with full-text search on codes and titles.
- ``attempts``: attempt at a course (``attempts.course_attempts``: regular, 补考 make-up, 重修 retake; failed ones
  too), with ``passed`` and ``counted`` (the attempt the transcript counts), so a make-up list is a query.

Credits are floats in these tables (they are for sums and charts; the ledger keeps the exact decimals), dates are
ISO strings in SQLite and timestamps in pandas.

>>> from datetime import date
>>> from credit_ledger import Catalog, CourseCompleted, Enrolled, Ledger
>>> ledger = Ledger.open()
>>> ledger.load_catalog(Catalog.sample())
>>> _ = ledger.append_many([
...     Enrolled(event_id="e", student_id="S1", occurred_on=date(2025, 9, 1), institution="HNJX",
...              program="CNC-SR-2025"),
...     CourseCompleted(event_id="c", student_id="S1", occurred_on=date(2026, 1, 9), institution="HNJX",
...                     course="CNC203", grade=90)])
>>> tables = analysis_rows(ledger, as_of=date(2026, 2, 1))
>>> {name: len(rows) for name, rows in tables.items()}
{'students': 1, 'enrolments': 1, 'transcript_records': 1, 'audits': 1, 'decisions': 0, 'courses': 47, 'attempts': 1}
>>> tables["transcript_records"][0]["title"], tables["audits"][0]["status"]
('CAD/CAM 应用', 'requirements_missing')
"""

from __future__ import annotations

import csv
import json
import re
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Iterable, Iterator, Protocol, Sequence

from .attempts import Attempt, course_attempts
from .analysis_db import FULL_TEXT, SEARCH_COLUMN, datasette_metadata, search_terms
from .errors import OutputIsLedger
from .extras import NOTEBOOK_HINT as NOTEBOOK_HINT  # re-exported: its home before extras.py
from .extras import require as require  # re-exported, as above
from .history import build_timeline, transcript_records
from .models import Catalog, Transcript
from .reports import AuditSummary
from .storage import is_ledger_file

if TYPE_CHECKING:  # pragma: no cover
    import pandas

    from .reports import AuditReport


class LedgerReader(Protocol):
    """What an export reads of a ledger: its public read methods, nothing of its storage. ``Ledger`` is one (a
    ledger opened ``acting_as`` a school exports what the school may read)."""

    @property
    def catalog(self) -> Catalog: ...

    def students(self) -> Sequence[str]: ...

    def events(self, student_id: str, as_of: date | None = None) -> Sequence[Any]: ...

    def transcript(self, student_id: str, as_of: date | None = None) -> Transcript: ...

    def audit_all(self, students: Iterable[str] | None = None, as_of: date | None = None, *,
                  workers: int = 1, detail: str = "full") -> Iterable[Any]: ...


# Each table: its columns (name -> SQLite type, in order), its primary key, and whether it refers to students.
TABLES: dict[str, tuple[dict[str, type], str]] = {
    "students": ({
        "student_id": str, "institution": str, "program": str, "mode": str, "status": str, "enrolled_on": str,
        "employer": str, "name": str,
    }, "student_id"),
    "enrolments": ({
        "event_id": str, "student_id": str, "institution": str, "program": str, "mode": str, "employer": str,
        "entry_basis": str, "occurred_on": str,
    }, "event_id"),
    "transcript_records": ({
        "event_id": str, "student_id": str, "course": str, "institution": str, "title": str, "category": str,
        "tags": str, "mode": str, "level": str, "credits": float, "hours": float, "grade": str, "score": float,
        "grade_points": float, "attempt": str, "flagged": int, "origin": str, "occurred_on": str,
        "valid_until": str, "outcome_type": str, "outcome_id": str, "source_institution": str,
        "statement_id": str, "rule": str,
    }, "event_id"),
    "audits": ({
        "student_id": str, "as_of": str, "program": str, "institution": str, "status": str, "eligible": int,
        "award": str, "part_time": int, "enrolled_on": str, "total": float, "home": float, "recognized": float,
        "converted": float, "required": float, "shortfall": float, "earliest_date": str, "deadline": str,
        "stages": int, "rate_per_year": float, "projection_finish_on": str, "projection_graduate_on": str,
        "at_risk": int, "issues": str,
    }, "student_id"),
    "decisions": ({
        "event_id": str, "student_id": str, "kind": str, "occurred_on": str, "source": str,
        "source_institution": str, "source_course": str, "source_credits": float, "source_grade": str,
        "outcome_type": str, "outcome_id": str, "title": str, "level": str, "target_course": str,
        "target_category": str, "credits": float, "rule": str, "statement_id": str, "valid_until": str,
        "counted": int,
    }, "event_id"),
    "courses": ({
        "course_key": str, "institution": str, "code": str, "title": str, "credits": float, "hours": float,
        "practice_weeks": float, "category": str, "tags": str, "mode": str, "level": str, "valid_from": str,
    }, "course_key"),
    "attempts": ({
        "event_id": str, "student_id": str, "course": str, "institution": str, "title": str, "credits": float,
        "occurred_on": str, "term": str, "attempt": str, "grade": str, "score": float, "passed": int,
        "counted": int, "corrected": int,
    }, "event_id"),
}
DATE_COLUMNS = frozenset({"enrolled_on", "occurred_on", "valid_until", "as_of", "earliest_date", "deadline",
                          "projection_finish_on", "projection_graduate_on", "valid_from"})
"""The columns holding dates (ISO strings in SQLite, timestamps in pandas)."""
INDEXES: dict[str, tuple[str, ...]] = {
    "enrolments": ("student_id", "program"),
    "transcript_records": ("student_id", "course", "category", "origin"),
    "audits": ("status", "program"),
    "decisions": ("student_id", "kind"),
    "courses": ("code", "category"),
    "attempts": ("student_id", "course", "attempt", "passed"),
}


# ---------------------------------------------------------------------------------------------------------------
# Rows
# ---------------------------------------------------------------------------------------------------------------


def analysis_rows(ledger: LedgerReader, as_of: date | None = None, *, workers: int = 1) -> dict[str, list[dict]]:
    """The analysis tables as lists of plain rows (dates and decimals as Python values), for the students the
    ledger may read, on ``as_of`` (default: today). Each student's events are read once."""
    day = as_of or date.today()
    catalog = ledger.catalog
    out: dict[str, list[dict]] = {name: [] for name in TABLES}
    students = ledger.students()
    roster = getattr(ledger, "roster", None)  # a LedgerReader without a roster: no names
    names = {s: r.name for s, r in roster(students).items()} if roster is not None and students else {}
    for sid in students:
        events = ledger.events(sid)
        dated = [e for e in events if e.occurred_on <= day]
        state = build_timeline(dated).status_on(day)
        enrolment = state.enrolment
        enrolments = [e for e in dated if e.kind == "enrolled"]
        out["students"].append({
            "student_id": sid,
            "institution": enrolment.institution if enrolment else None,
            "program": enrolment.program if enrolment else None,
            "mode": enrolment.mode if enrolment else None,
            "status": state.status,
            "enrolled_on": enrolment.start if enrolment else (enrolments[-1].occurred_on if enrolments else None),
            "employer": enrolment.employer if enrolment else None,
            "name": names.get(sid),
        })
        for e in enrolments:
            out["enrolments"].append({
                "event_id": e.event_id, "student_id": sid, "institution": e.institution, "program": e.program,
                "mode": e.mode, "employer": e.employer, "entry_basis": e.entry_basis, "occurred_on": e.occurred_on,
            })
        records = transcript_records(events, catalog=catalog, as_of=day)
        counted = {r.event_id for r in records}
        for r in records:
            out["transcript_records"].append({
                "event_id": r.event_id, "student_id": sid, "course": r.course, "institution": r.institution,
                "title": r.title, "category": r.category, "tags": ",".join(r.tags), "mode": r.mode,
                "level": r.level, "credits": r.credits, "hours": r.hours, "grade": r.grade, "score": r.score,
                "grade_points": r.grade_points, "attempt": r.attempt, "flagged": r.flagged, "origin": r.origin,
                "occurred_on": r.occurred_on, "valid_until": r.valid_until, "outcome_type": r.outcome_type,
                "outcome_id": r.outcome_id, "source_institution": r.source_institution,
                "statement_id": r.statement_id, "rule": r.rule,
            })
        for e in dated:
            if e.kind in ("credit_recognized", "outcome_converted"):
                out["decisions"].append(decision_row(e, counted=e.event_id in counted))
        out["attempts"] += [attempt_row(a) for a in course_attempts(events, catalog=catalog, as_of=day)]
    out["audits"] = [audit_row(r) for r in ledger.audit_all(students, as_of=day, workers=workers, detail="summary")]
    out["courses"] = [course_row(c) for c in catalog.courses]
    return out


def attempt_row(attempt: Attempt) -> dict[str, Any]:
    """An ``Attempt`` (``attempts.course_attempts``) as one row of the ``attempts`` table."""
    return {column: getattr(attempt, column) for column in TABLES["attempts"][0]}


def course_row(course: Any) -> dict[str, Any]:
    """A catalog ``Course`` (one version of it) as one row of the ``courses`` table, keyed ``institution:code``, with
    ``@valid_from`` for a version in force from a day (``HNJX:CNC203@2026-09-01``)."""
    key = f"{course.institution}:{course.code}" + (f"@{course.valid_from.isoformat()}" if course.valid_from else "")
    return {
        "course_key": key, "institution": course.institution, "code": course.code, "title": course.title,
        "credits": course.credits, "hours": course.hours, "practice_weeks": course.practice_weeks,
        "category": course.category, "tags": ",".join(course.tags), "mode": course.mode, "level": course.level,
        "valid_from": course.valid_from,
    }


def decision_row(event: Any, *, counted: bool = True) -> dict[str, Any]:
    """A ``CreditRecognized`` or ``OutcomeConverted`` event as one row of the ``decisions`` table."""
    recognized = event.kind == "credit_recognized"
    return {
        "event_id": event.event_id, "student_id": event.student_id, "kind": event.kind,
        "occurred_on": event.occurred_on,
        "source": (f"{event.source_institution}:{event.source_course}" if recognized
                   else f"{event.outcome_type}:{event.outcome_id}"),
        "source_institution": event.source_institution if recognized else None,
        "source_course": event.source_course if recognized else None,
        "source_credits": event.source_credits if recognized else None,
        "source_grade": str(event.source_grade) if recognized else None,
        "outcome_type": None if recognized else event.outcome_type,
        "outcome_id": None if recognized else event.outcome_id,
        "title": None if recognized else event.title,
        "level": None if recognized else event.level,
        "target_course": event.target.course, "target_category": event.target.category,
        "credits": event.credits,
        "rule": event.agreement_id if recognized else event.rule_id,
        "statement_id": event.statement_id if recognized else None,
        "valid_until": None if recognized else event.valid_until,
        "counted": counted,
    }


def audit_row(report: AuditReport | AuditSummary) -> dict[str, Any]:
    """An audit report (or its ``AuditSummary``: the same row) flattened to one row: the one row format of an audit, for
    the ``audits`` table (SQLite and pandas) and each row of ``audits_csv``. A column is named after the report's
    field it holds, with the path joined by ``_`` where the field is nested: ``total``, ``home``, ``recognized``,
    ``converted`` and ``required`` are ``credits.<name>``, ``projection_finish_on`` is ``projection.finish_on``,
    ``rate_per_year`` and ``at_risk`` are the projection's; ``stages`` is how many there are and ``issues`` the
    distinct issue codes, sorted and comma-separated."""
    s = report if isinstance(report, AuditSummary) else report.summary()
    return {
        "student_id": s.student_id, "as_of": s.as_of, "program": s.program,
        "institution": s.institution, "status": str(s.status), "eligible": s.eligible,
        "award": s.award, "part_time": s.part_time, "enrolled_on": s.enrolled_on,
        "total": s.total, "home": s.home, "recognized": s.recognized,
        "converted": s.converted, "required": s.required,
        "shortfall": s.shortfall, "earliest_date": s.earliest_date, "deadline": s.deadline,
        "stages": s.stages,
        "rate_per_year": s.rate_per_year,
        "projection_finish_on": s.finish_on,
        "projection_graduate_on": s.graduate_on,
        "at_risk": bool(s.at_risk),
        "issues": ",".join(s.issue_codes),
    }


def _sqlite_row(row: dict[str, Any], sources: tuple[str, ...] | None) -> dict[str, Any]:
    """A row as the SQLite file holds it, with its ``search_terms`` when its table is searchable."""
    out = {k: _sqlite_value(v) for k, v in row.items()}
    if sources:
        out[SEARCH_COLUMN] = search_terms(*(out[column] for column in sources))
    return out


def metadata_path(path: str | Path) -> Path:
    """Where ``export_sqlite`` writes the Datasette metadata of the file ``path``: beside it, its name with
    ``.metadata.json`` for its suffix (``day.db`` -> ``day.metadata.json``).

    >>> metadata_path("out/day.db").as_posix()
    'out/day.metadata.json'
    """
    return Path(path).with_suffix(".metadata.json")


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


# ---------------------------------------------------------------------------------------------------------------
# SQLite (Datasette)
# ---------------------------------------------------------------------------------------------------------------


def export_sqlite(ledger: LedgerReader, path: str | Path, *, as_of: date | None = None,
                  workers: int = 1, metadata: bool = True) -> dict[str, int]:
    """Write the analysis tables to the SQLite file ``path`` (created, or its tables replaced) and return the
    number of rows per table. The file opens in ``datasette path``: foreign keys to ``students``, indexes on
    student, course and category, and full-text search (``transcript_records_fts`` on course codes and titles,
    ``decisions_fts`` on sources, titles and target courses) that finds a Chinese word of one or more characters
    (语文, 数控, 机电一体化) and Latin words and codes, whole: each searchable table has a column ``search_terms``
    (``analysis_db.search_terms``) indexed with the ``unicode61`` tokenizer. With ``metadata`` (the default) the
    Datasette metadata (``analysis_db.datasette_metadata``: Chinese titles, column names and facets) is written
    beside it, to ``metadata_path(path)`` (``day.db`` -> ``day.metadata.json``). Neither ``path`` nor the metadata
    file may be the ledger's own file (``OutputIsLedger``, before anything is written)."""
    import sqlite_utils

    refuse_ledger_file(ledger, path)
    if metadata:
        refuse_ledger_file(ledger, metadata_path(path))
    rows = analysis_rows(ledger, as_of, workers=workers)
    db = sqlite_utils.Database(str(path))
    try:
        with db.conn:
            for name in reversed(list(TABLES)):  # tables that refer to students first
                old = db.table(name)
                if old.exists():
                    if old.detect_fts():
                        old.disable_fts()
                    old.drop()
        counts: dict[str, int] = {}
        for name, (columns, pk) in TABLES.items():
            fks = [("student_id", "students", "student_id")] if name != "students" and "student_id" in columns else []
            table = db.table(name)
            sources = FULL_TEXT.get(name)
            table.create({**columns, SEARCH_COLUMN: str} if sources else columns, pk=pk, foreign_keys=fks)
            table.insert_all(_sqlite_row(row, sources) for row in rows[name])
            for column in INDEXES.get(name, ()):
                table.create_index([column], if_not_exists=True)
            counts[name] = table.count
        for name, sources in FULL_TEXT.items():
            db.table(name).enable_fts([*sources, SEARCH_COLUMN], tokenize="unicode61", create_triggers=True)
        if metadata:
            meta = metadata_path(path)
            meta.write_text(json.dumps(datasette_metadata(Path(path).stem), ensure_ascii=False, indent=2) + "\n",
                            encoding="utf-8")
        return counts
    finally:
        db.close()


def refuse_ledger_file(ledger: Any, path: str | Path) -> None:
    """Raise ``OutputIsLedger`` when ``path`` is the ledger's own SQLite file (``storage.is_ledger_file``: however
    it is written, relative, absolute or through a link), before anything is written: an output never lands in the
    ledger. Every file the command writes beside an open ledger passes here."""
    url = getattr(ledger, "url", None)
    if url is not None and is_ledger_file(url, path):
        raise OutputIsLedger("output_is_ledger", f"{path} is the ledger's own file ({url}): nothing was written "
                                                 "(an output never goes into the ledger; name another file)")


# ---------------------------------------------------------------------------------------------------------------
# pandas
# ---------------------------------------------------------------------------------------------------------------


def to_pandas(ledger: LedgerReader, as_of: date | None = None, *, workers: int = 1) -> dict[str, pandas.DataFrame]:
    """The analysis tables as pandas DataFrames (credits as floats, dates as timestamps), keyed by table name; the
    ``audits`` frame has a ``name`` column too when the roster keeps any student's name. Needs the ``notebook``
    extra: ``pip install 'credit-ledger[notebook]'``."""
    pd = require("pandas")
    rows = analysis_rows(ledger, as_of, workers=workers)
    frames = {}
    for name, (columns, _pk) in TABLES.items():
        data = [{k: float(v) if isinstance(v, Decimal) else v for k, v in row.items()} for row in rows[name]]
        frame = pd.DataFrame(data, columns=list(columns))
        for column in columns:
            if column in DATE_COLUMNS:
                frame[column] = pd.to_datetime(frame[column])
            elif columns[column] is float:
                frame[column] = frame[column].astype("float64")
        frames[name] = frame
    names = {row["student_id"]: row["name"] for row in rows["students"] if row["name"] is not None}
    if names:  # the audits with the students' names, when the roster keeps any (personal data)
        frames["audits"]["name"] = frames["audits"]["student_id"].map(names)
    return frames


# ---------------------------------------------------------------------------------------------------------------
# JSON and CSV
# ---------------------------------------------------------------------------------------------------------------


def transcript_json(ledger: LedgerReader, student_id: str, as_of: date | None = None, *, indent: int | None = 2) -> str:
    """A student's transcript as JSON (the ``Transcript`` schema of ``json_schemas()``; credits as strings, dates
    ISO). ``Transcript.model_validate_json`` reads it back."""
    return ledger.transcript(student_id, as_of).model_dump_json(indent=indent)


def read_transcript_json(text: str | bytes) -> Transcript:
    """A transcript written by ``transcript_json``."""
    return Transcript.model_validate_json(text)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\x00")
"""The first characters that make a spreadsheet program read a cell as a formula (or hide what follows)."""

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def escape_formula(cell: str) -> str:
    """A CSV cell as spreadsheet programs show it, rather than run it: a cell that begins with ``=``, ``+``, ``-`` or
    ``@`` (other than a number), or with a tab, a carriage return or a NUL, gets a single quote in front, which Excel,
    LibreOffice and Google Sheets read as "this is text" (OWASP's advice against CSV injection). Every CSV this
    library writes passes each cell through here (``csv_writer``); a program reading such a file back sees the quote.

    >>> escape_formula("=cmd|' /C calc'!A1"), escape_formula("@SUM(1)"), escape_formula("-2+3")
    ("'=cmd|' /C calc'!A1", "'@SUM(1)", "'-2+3")
    >>> escape_formula("-3.5"), escape_formula("+7"), escape_formula("李娜-2025"), escape_formula("")
    ('-3.5', '+7', '李娜-2025', '')
    """
    if cell.startswith(FORMULA_STARTS) and not (cell[0] in "+-" and _NUMBER.fullmatch(cell)):
        return "'" + cell
    return cell


class _FormulaSafeWriter:
    """A ``csv.writer`` that passes every cell through ``escape_formula``."""

    def __init__(self, sink: IO[str], **fmt: Any):
        self._writer = csv.writer(sink, **fmt)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([escape_formula(cell if isinstance(cell, str) else _csv_value(cell)) for cell in row])


def csv_writer(sink: IO[str], **fmt: Any) -> _FormulaSafeWriter:
    """A CSV writer onto ``sink`` (``csv.writer``'s format options) whose ``writerow`` escapes every cell with
    ``escape_formula``: the one way this library writes CSV. ``None`` is an empty cell, a boolean ``1``/``0``.

    >>> import io
    >>> sink = io.StringIO()
    >>> csv_writer(sink, lineterminator="\\n").writerow(["=1+1", -3.5, None, True, "S1"])
    >>> sink.getvalue()
    "'=1+1,-3.5,,1,S1\\n"
    """
    return _FormulaSafeWriter(sink, **fmt)


def audits_csv(reports: Iterable[AuditReport | AuditSummary], path: str | Path | IO[str]) -> int:
    """Write audit reports (or their summaries: the same rows) as CSV to a path or an open text file, and return the
    number of rows written: a header, then one row per report, ``audit_row``'s columns (those of the ``audits``
    table) in that order, UTF-8. Booleans are ``1``/``0``, dates ISO, credits as written in the ledger (``46.00``), a
    value the report lacks is empty and ``issues`` holds the distinct issue codes, sorted and comma-separated. A cell
    that a spreadsheet would run as a formula (a student id ``=cmd|...``) is written as text, with a single quote in
    front (``escape_formula``). ``credit-ledger audit-all --out FILE.csv`` writes this format.

    >>> import io
    >>> audits_csv([], io.StringIO())
    0
    """
    columns = list(TABLES["audits"][0])
    with _text_sink(path) as sink:
        writer = csv_writer(sink)
        writer.writerow(columns)
        n = 0
        for report in reports:
            row = audit_row(report)
            writer.writerow([row[column] for column in columns])
            n += 1
        return n


def audits_jsonl(reports: Iterable[AuditReport], path: str | Path | IO[str]) -> int:
    """Write audit reports as JSON Lines to a path or an open text file, and return the number of lines written:
    one whole report a line (the ``AuditReport`` schema of ``json_schemas()``; ``AuditReport.model_validate_json``
    reads a line back). Where a report has a column of ``audits_csv``, the line has it under the same name, or
    under the path ``audit_row`` names (``credits.total`` for ``total``). ``credit-ledger audit-all --out
    FILE.jsonl`` writes this format.

    >>> import io
    >>> audits_jsonl([], io.StringIO())
    0
    """
    with _text_sink(path) as sink:
        n = 0
        for report in reports:
            sink.write(report.to_json(indent=None) + "\n")
            n += 1
        return n


@contextmanager
def _text_sink(path: str | Path | IO[str]) -> Iterator[IO[str]]:
    """The open text file ``path`` names (created or truncated, closed after), or ``path`` itself when it is one."""
    if isinstance(path, (str, Path)):
        with open(path, "w", encoding="utf-8", newline="") as sink:
            yield sink
    else:
        yield path


def _csv_value(value: Any) -> str:
    """A cell of ``audits_csv``: empty for none, ``1``/``0`` for a boolean, else the value as text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(int(value))
    return str(value)
