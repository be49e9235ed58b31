"""Reading files of events, CSV and JSON Lines: the first half of the registrar's batch job (批量导入).

Reading is pure: ``read_rows`` turns each line of a file into an ``ImportRow`` holding either a validated event or
an ``ImportProblem`` that names the line and the column of what can't be read. ``imports.import_events`` writes.

**The default layout** is one column (or JSON key) per event field, named as in the event models: ``kind,
event_id, student_id, occurred_on, institution, program, course, grade, attempt, term, credits, mode, employer,
entry_basis, reason, target_event_id, award, part_time, ...``. An empty cell means the field is absent, so one
file can hold events of several kinds. Nested fields take dotted columns (``target.course``, ``target.category``).
Dates may be written ``2025-09-01``, ``2025/9/1``, ``2025.9.1`` or ``2025年9月1日``; grades as scores (``85``) or
words (优/良/中/及格/不及格, 合格/不合格, excellent/good/pass/fail). CSV files are UTF-8, with or without a BOM; the
header is line 1.

**A mapping file** (YAML or JSON, ``--map``) reads the exports of other school systems::

    columns:                 # the file's column -> the event field
      学号: student_id
      课程代码: course
      成绩: grade
      考试日期: occurred_on
      学期: term
    constants:               # fields the file leaves out (or leaves empty), the same on every row
      kind: course_completed
      institution: HNJX
    event_id: "{student_id}-{course}-{term}"   # a template for rows without an event id

A name column (``name``, ``姓名``, or mapped to ``name``) goes to the roster (``ImportRow.personal``). With a
mapping, other columns neither mapped nor event fields are ignored; without one, an unknown column is a problem.
The ``event_id`` template is a Python format string over the row's fields (after renaming and constants); a field
it names that the row lacks is ``missing_field``. Keep it stable: a file imported again is ``already_present``.

**Bad files** are problems too, never a crash. Reading is bounded: a line (a JSON Lines line, or a CSV row with the
line breaks of its quoted cells) holds at most ``MAX_LINE_CHARS`` characters, a cell (a CSV cell, a JSON key or
string) ``MAX_CELL_CHARS`` and a JSON row nests at most ``MAX_DEPTH`` deep; beyond that the row is a
``line_too_long``, ``cell_too_long`` or ``too_deep`` problem. Some problems stop the whole file, because what
follows can't be trusted or placed: a byte that is not UTF-8 (``bad_encoding``; a UTF-16 file is named as one), a
NUL byte (``binary_content``: a spreadsheet or other binary file), a CSV row over the line limit (its end can't be
found), and what the csv module refuses (``bad_format``). Each names the line, the column where it has one, and
the character.

>>> rows = list(read_text("kind,event_id,student_id,occurred_on,institution,course,grade\\n"
...                       "course_completed,e1,S1,2025/1/9,HNJX,MT101,良\\n"
...                       "course_completed,e2,S1,2025/13/9,HNJX,MT102,80\\n", format="csv"))
>>> rows[0].line, rows[0].event.occurred_on.isoformat(), rows[0].event.grade.level
(2, '2025-01-09', 'good')
>>> rows[1].error.line, rows[1].error.column, rows[1].error.code
(3, 'occurred_on', 'bad_date')
"""

from __future__ import annotations

import csv
import io
import json
import re
import string
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, Callable, Iterator, Literal

from pydantic import ValidationError, field_validator

from .errors import ImportFileError
from .models import EVENT_ADAPTER, EVENT_CLASSES, Frozen
from .roster import NAME_COLUMNS

Format = Literal["csv", "jsonl"]

FORMATS: dict[str, Format] = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
"""File suffixes and the format each means."""
_FORMAT_NAMES: dict[str, Format] = {"csv": "csv", "jsonl": "jsonl"}

EVENT_FIELDS = frozenset(name for cls in EVENT_CLASSES.values() for name in cls.model_fields)
"""Every field name of any event kind: the columns of the default layout (and a name column, ``NAME_COLUMNS``)."""
_KNOWN = EVENT_FIELDS | NAME_COLUMNS.keys()

DATE_FIELDS = frozenset({"occurred_on", "source_date", "valid_until"})
"""Fields read as dates, in any of the accepted forms."""

_DATE = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*$")

MAX_LINE_CHARS = 131_072
"""The longest line read, in characters (128 Ki, the csv module's own limit on a cell): a JSON Lines line, or a CSV
row with the line breaks of its quoted cells. An event's row takes a few hundred."""

MAX_CELL_CHARS = 65_536
"""The longest cell read, in characters (64 Ki): a CSV cell, or a JSON key or string. No event field takes more
than 500; the rest is room for the long remarks of columns a mapping leaves out."""

MAX_DEPTH = 32
"""The deepest nesting of a JSON Lines row (an event nests two deep: the row, and its ``target``)."""

ENCODINGS = {"utf-8": "utf-8-sig", "utf-8-sig": "utf-8-sig",
             "gb18030": "gb18030", "gbk": "gb18030", "gb2312": "gb18030"}
"""The encodings a file of events may be read in (``read_rows(..., encoding=)``, ``import --encoding``) and the codec
each is read with: UTF-8 with or without a byte order mark, and GB18030 for GBK and GB2312 (its subsets)."""

_UNREADABLE = re.compile("[\x00\ud800-\udfff]")
"""A NUL, or a lone surrogate: what reading with ``surrogateescape`` makes of a byte that is not UTF-8."""

_JSON_NESTING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)
"""A JSON string (skipped) or a bracket (counted), to measure nesting before ``json`` recurses into it."""

_SHOWN_RAW = 1_000
"""How much of an oversized row's text its ``raw`` keeps (a spreadsheet cell holds at most 32,767)."""


class ImportProblem(Frozen):
    """Why one line of a file can't be imported: its line, the column at fault, a stable code and a sentence."""

    line: int
    column: str | None = None
    code: str
    message: str


class ImportRow(Frozen):
    """One line of a file: a validated ``event``, or the ``error`` that keeps it out; ``raw`` is its text."""

    line: int
    event: Any = None
    error: ImportProblem | None = None
    raw: str = ""
    personal: dict[str, Any] | None = None  # the roster's fields the row gives (its name column; JSON: any type)


class ColumnMap(Frozen):
    """How another school system's export maps onto the default layout (see the module's docstring)."""

    columns: dict[str, str | None] = {}
    constants: dict[str, Any] = {}
    event_id: str | None = None

    @field_validator("event_id")
    @classmethod
    def _plain_template(cls, template: str | None) -> str | None:
        """An event id template names fields as ``{field}``: no conversion, no format, no attribute or index."""
        if template is None:
            return None
        try:
            parts = list(string.Formatter().parse(template))
        except ValueError as exc:
            raise ValueError(f"the event id template {template!r} is not a format string: {exc}") from None
        for _text, name, spec, conversion in parts:
            if name is not None and (not name or name.isdigit() or spec or conversion or "[" in name):
                raise ValueError(f"the event id template {template!r} names fields as {{field}}, with no "
                                 "position, conversion, format or index")
        return template

    @classmethod
    def from_file(cls, path: str | Path) -> "ColumnMap":
        """Read a mapping from YAML (``.yaml``/``.yml``) or JSON; a bad one raises ``ImportFileError``."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8-sig")
            if path.suffix.lower() == ".json":
                data = json.loads(text)
            else:
                import yaml

                data = yaml.safe_load(text)
            return cls.model_validate(data or {})
        except Exception as exc:  # unreadable, not YAML/JSON, or not a mapping: the parsers raise many kinds
            raise ImportFileError([ImportProblem(line=_line_of(exc), code="bad_map", message=_first_line(exc))],
                                  source=str(path)) from None


class ImportResult(Frozen):
    """What an import did: rows read, events written, events already in the ledger, rows rejected."""

    read: int
    written: int
    already_present: int
    rejected: int
    rejects_file: str | None = None


# ---------------------------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------------------------


def format_of(path: str | Path, format: str | None = None) -> Format:
    """The format of a file: the one given, else by its suffix.

    >>> format_of("grades.ndjson"), format_of("x.txt", "csv")
    ('jsonl', 'csv')
    """
    if format is not None:
        named = _FORMAT_NAMES.get(format)
        if named is None:
            raise ImportFileError([ImportProblem(line=1, code="bad_format",
                                                 message=f"format {format!r} is not csv or jsonl")], str(path))
        return named
    found = FORMATS.get(Path(path).suffix.lower())
    if found is None:
        raise ImportFileError([ImportProblem(
            line=1, code="bad_format",
            message=f"cannot tell the format from the suffix {Path(path).suffix!r}: use .csv, .jsonl or .ndjson, "
                    "or give the format")], str(path))
    return found


def parse_date(value: Any) -> date:
    """A date from ``2025-09-01``, ``2025/9/1``, ``2025.9.1`` or ``2025年9月1日``; a ``ValueError`` otherwise.

    >>> parse_date("2025/9/1"), parse_date("2025年9月1日")
    (datetime.date(2025, 9, 1), datetime.date(2025, 9, 1))
    """
    if isinstance(value, date):
        return value
    match = _DATE.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"{value!r} is not a date like 2025-09-01 or 2025/9/1")
    year, month, day = (int(g) for g in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError(f"{value!r} is not a date of the calendar") from None


def read_rows(path: str | Path, *, format: str | None = None,
              mapping: ColumnMap | str | Path | None = None, encoding: str = "utf-8") -> Iterator[ImportRow]:
    """Read a CSV or JSON Lines file of events, one ``ImportRow`` per line (blank lines are skipped).

    A file that can't be read at all (missing, not UTF-8, binary, a CSV row beyond the line limit: see the module's
    docstring) raises ``ImportFileError`` when the reading reaches it; the rows before it have been yielded.

    Args:
        path: the file; its suffix gives the format unless ``format`` is given.
        format: ``"csv"`` or ``"jsonl"``.
        mapping: a ``ColumnMap`` or the path of a mapping file; ``None`` reads the default layout.
        encoding: one of ``ENCODINGS`` (another: ``unknown_encoding``); a byte not of it is ``bad_encoding``.
    """
    fmt = format_of(path, format)
    codec = {k.replace("-", ""): v for k, v in ENCODINGS.items()}.get(re.sub("[-_]", "", encoding.lower()))
    if codec is None:
        raise ImportFileError([ImportProblem(line=1, code="unknown_encoding", message=f"{_printable(encoding)} is "
                                             f"not an encoding read here: one of {', '.join(ENCODINGS)}")], str(path))
    if mapping is not None and not isinstance(mapping, ColumnMap):
        mapping = ColumnMap.from_file(mapping)
    try:
        # surrogateescape: a byte that is not UTF-8 becomes a lone surrogate, found and named by the line reader
        handle = open(path, encoding=codec, errors="surrogateescape", newline="")
    except (OSError, ValueError) as exc:  # ValueError: a path with a NUL in it
        raise ImportFileError([ImportProblem(line=1, code="unreadable_file",
                                             message=getattr(exc, "strerror", None) or str(exc))],
                              str(path)) from None
    with handle:
        try:
            yield from _read(handle, fmt, mapping)
        except OSError as exc:  # a read that fails midway
            raise ImportFileError([ImportProblem(line=1, code="unreadable_file",
                                                 message=exc.strerror or str(exc))], str(path)) from None
        except _Unreadable as exc:
            raise ImportFileError([exc.problem], str(path)) from None


def read_text(text: str, *, format: Format, mapping: ColumnMap | None = None) -> Iterator[ImportRow]:
    """``read_rows`` for text already in memory."""
    try:
        yield from _read(io.StringIO(text.removeprefix("\ufeff"), newline=""), format, mapping)
    except _Unreadable as exc:
        raise ImportFileError([exc.problem]) from None


class _Unreadable(Exception):
    """A problem that stops the reading of the whole file; ``read_rows`` raises it as ``ImportFileError``."""

    def __init__(self, problem: ImportProblem):
        super().__init__(problem.message)
        self.problem = problem


def _read(handle: IO[str], fmt: Format, mapping: ColumnMap | None) -> Iterator[ImportRow]:
    if fmt == "csv":
        yield from _read_csv(handle, mapping)
    else:
        yield from _read_jsonl(handle, mapping)


def _next_line(handle: IO[str]) -> str:
    """The next line of the file with its line break, or as much of it as shows it is too long ("" at the end)."""
    return handle.readline(MAX_LINE_CHARS + 2)


def _break_length(text: str) -> int:
    """How many characters of ``text`` are its line break: 2 for CRLF, 1 for LF or CR, 0 at the end of the file."""
    return 2 if text.endswith("\r\n") else 1 if text.endswith(("\n", "\r")) else 0


def _check_characters(text: str, *, line: int, column_of: Callable[[str], str | None] | None = None,
                      encoding: str | None = None) -> None:
    """Stop at a NUL or at a byte that is not UTF-8 in ``text``, line ``line`` of the file; ``column_of`` names the
    column that the line's text up to the character ends in (asked only then: it may have a whole row to read)."""
    found = _UNREADABLE.search(text)
    if found is None:
        return
    at = found.start()
    column = column_of(text[:at]) if column_of is not None else None
    raise _Unreadable(_unreadable_character(text, at, line=line, column=column, gb=encoding == "gb18030"))


def _unreadable_character(text: str, at: int, *, line: int, column: str | None, gb: bool = False) -> ImportProblem:
    """The problem of the NUL or the byte not of the file's encoding (UTF-8, or GB18030 when ``gb``) at ``text[at]``."""
    char = text[at]
    where = f"character {at + 1} of line {line}"
    if char == "\x00":
        return ImportProblem(line=line, column=column, code="binary_content",
                             message=f"a NUL at {where}: the file is binary, not text (a spreadsheet's own format, "
                                     "or UTF-16 without a byte order mark?); save it as CSV UTF-8")
    if not "\udc80" <= char <= "\udcff":  # a str handed to read_text can hold any lone surrogate
        return ImportProblem(line=line, column=column, code="bad_encoding",
                             message=f"a lone surrogate U+{ord(char):04X} at {where} is no character")
    if line == 1 and at == 0 and text.startswith(("\udcff\udcfe", "\udcfe\udcff")):
        return ImportProblem(line=line, column=column, code="bad_encoding",
                             message="the file is UTF-16 (it begins with a UTF-16 byte order mark), not UTF-8; "
                                     "save it as UTF-8 (CSV UTF-8)")
    if gb:
        return ImportProblem(line=line, column=column, code="bad_encoding",
                             message=f"byte 0x{ord(char) - 0xDC00:02X} at {where} is not GB18030 (nor GBK)")
    hint = ""
    try:
        guess = text.encode("utf-8", "surrogateescape").decode("gb18030")
        if re.search("[\u4e00-\u9fff]", guess):
            hint = (" (the line reads as GBK/GB18030, the Chinese encoding of older spreadsheets: read it with "
                    "encoding gb18030, --encoding gb18030 in the command)")
    except UnicodeError:
        pass
    return ImportProblem(line=line, column=column, code="bad_encoding",
                         message=f"byte 0x{ord(char) - 0xDC00:02X} at {where} is not UTF-8{hint}; save the file as "
                                 "UTF-8 (CSV UTF-8)")


def _clip(raw: str) -> str:
    """The start of an oversized row's text, to show without carrying it all."""
    return raw if len(raw) <= _SHOWN_RAW else raw[:_SHOWN_RAW] + "…"


class _CsvLines:
    """The lines of a CSV file, each checked before ``csv.reader`` sees it: no NUL, no byte that is not UTF-8, no row
    longer than ``MAX_LINE_CHARS`` (which keeps every cell within the csv module's own limit). ``row`` holds the
    lines of the row being read; the reader of rows calls ``row_read`` when it has the row."""

    def __init__(self, handle: IO[str]):
        self.handle = handle
        self.header: list[str] | None = None
        self.line = 0
        self.row: list[str] = []
        self._size = 0

    def __iter__(self) -> Iterator[str]:
        while True:
            text = _next_line(self.handle)
            if not text:
                return
            self.line += 1
            _check_characters(text, line=self.line, column_of=lambda head: self.column_of("".join(self.row) + head),
                              encoding=getattr(self.handle, "encoding", None))
            self.row.append(text)
            self._size += len(text)
            if self._size - _break_length(text) > MAX_LINE_CHARS:
                first = self.line - len(self.row) + 1
                column = self.column_of("".join(self.row)[:MAX_LINE_CHARS])
                raise _Unreadable(ImportProblem(
                    line=first, column=column, code="line_too_long",
                    message=f"the row is longer than {MAX_LINE_CHARS:,} characters (a quote left open?); the rows "
                            "after it can't be found"))
            yield text

    def row_read(self) -> None:
        self.row, self._size = [], 0

    def column_of(self, text: str) -> str | None:
        """The column of the cell that ``text``, the start of a row, ends in (``None`` in the header)."""
        if self.header is None:
            return None
        try:
            cells = next(csv.reader([text]), [])
        except csv.Error:
            return None
        index = max(len(cells) - 1, 0)
        return self.header[index] if index < len(self.header) and self.header[index] else f"#{index + 1}"


def _read_csv(handle: IO[str], mapping: ColumnMap | None) -> Iterator[ImportRow]:
    lines = _CsvLines(handle)
    reader = csv.reader(lines)
    header: list[str] | None = None
    end = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # what the csv module refuses to read (its own cell limit, if someone lowered it)
            raise _Unreadable(ImportProblem(line=end + 1, code="bad_format",
                                            message=f"the csv module can't read the row: {exc}")) from None
        lines.row_read()
        line, end = end + 1, reader.line_num
        oversized = next((i for i, c in enumerate(cells) if len(c) > MAX_CELL_CHARS), None)
        if header is None:
            header = lines.header = [c.strip() for c in cells]
            if oversized is not None:
                yield ImportRow(line=1, raw=_clip(_csv_text(cells)), error=ImportProblem(
                    line=1, code="cell_too_long",
                    message=f"cell {oversized + 1} of the header is longer than {MAX_CELL_CHARS:,} characters"))
                continue
            unknown = [c for c in header if c and mapping is None and c not in _KNOWN and "." not in c]
            if unknown:
                yield ImportRow(line=1, raw=_csv_text(cells), error=ImportProblem(
                    line=1, column=unknown[0], code="unknown_column",
                    message=f"column {unknown[0]!r} is no event field; rename it or map it with a mapping file"))
            continue
        if not any(c.strip() for c in cells):
            continue
        raw = _csv_text(cells)
        if oversized is not None:
            column = header[oversized] if oversized < len(header) and header[oversized] else f"#{oversized + 1}"
            yield ImportRow(line=line, raw=_clip(raw), error=ImportProblem(
                line=line, column=column, code="cell_too_long",
                message=f"the cell has {len(cells[oversized]):,} characters; at most {MAX_CELL_CHARS:,} are read"))
            continue
        if len(cells) > len(header):
            yield ImportRow(line=line, raw=raw, error=ImportProblem(
                line=line, column=None, code="bad_value",
                message=f"the row has {len(cells)} cells but the header names {len(header)} columns"))
            continue
        values = {name: cell.strip() for name, cell in zip(header, cells, strict=False) if name and cell.strip()}
        yield _row(line, values, raw, mapping, strict_columns=mapping is None)


def _read_jsonl(handle: IO[str], mapping: ColumnMap | None) -> Iterator[ImportRow]:
    line = 0
    while True:
        text = _next_line(handle)
        if not text:
            return
        line += 1
        _check_characters(text, line=line, encoding=getattr(handle, "encoding", None))
        if len(text) - _break_length(text) > MAX_LINE_CHARS:
            _skip_rest_of_line(handle, text, line)
            yield ImportRow(line=line, raw=_clip(text), error=ImportProblem(
                line=line, code="line_too_long", message=f"the line is longer than {MAX_LINE_CHARS:,} characters"))
            continue
        raw = text.rstrip("\r\n")
        if not raw.strip():
            continue
        problem = _nesting_problem(raw, line)
        if problem is not None:
            yield ImportRow(line=line, raw=_clip(raw), error=problem)
            continue
        try:
            data = json.loads(raw, object_pairs_hook=_object_of_unique_keys, parse_int=_json_int)
        except _KeyTwice as exc:
            yield ImportRow(line=line, raw=raw, error=ImportProblem(
                line=line, column=exc.key, code="bad_json", message=f"the key {exc.key!r} is given twice"))
            continue
        except ValueError as exc:
            yield ImportRow(line=line, raw=raw, error=ImportProblem(line=line, code="bad_json",
                                                                    message=f"not valid JSON: {exc}"))
            continue
        if not isinstance(data, dict):
            yield ImportRow(line=line, raw=raw, error=ImportProblem(
                line=line, code="bad_json", message="a line is one JSON object, the fields of one event"))
            continue
        problem = _string_problem(data, line)
        if problem is not None:
            yield ImportRow(line=line, raw=_clip(raw), error=problem)
            continue
        values = {k: v for k, v in data.items() if v is not None and v != ""}
        yield _row(line, values, raw, mapping, strict_columns=False)


def _skip_rest_of_line(handle: IO[str], text: str, line: int) -> None:
    """Read on to the end of an overlong line, checking what is skipped as every line is checked."""
    while text and not _break_length(text):
        text = _next_line(handle)
        _check_characters(text, line=line, encoding=getattr(handle, "encoding", None))


def _nesting_problem(raw: str, line: int) -> ImportProblem | None:
    """``too_deep`` when a JSON row nests deeper than ``MAX_DEPTH`` (brackets inside strings don't count), found
    before ``json`` recurses into it.

    >>> _nesting_problem('{"reason": "' + "[" * 40 + '"}', 1), _nesting_problem("[" * 33 + "]" * 33, 1).code
    (None, 'too_deep')
    """
    if raw.count("[") + raw.count("{") <= MAX_DEPTH:
        return None
    depth = 0
    for token in _JSON_NESTING.finditer(raw):
        bracket = token.group()
        if bracket in ("[", "{"):
            depth += 1
            if depth > MAX_DEPTH:
                return ImportProblem(line=line, code="too_deep",
                                     message=f"the row nests deeper than {MAX_DEPTH} levels at character "
                                             f"{token.start() + 1}")
        elif bracket in ("]", "}"):
            depth = max(depth - 1, 0)
    return None


def _json_int(digits: str) -> int:
    """A JSON integer, refused past 40 digits (no field holds one; Python's own limit speaks to programmers)."""
    if len(digits.lstrip("-")) > 40:
        raise ValueError(f"a number of {len(digits.lstrip('-'))} digits is no field's value")
    return int(digits)


class _KeyTwice(ValueError):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _object_of_unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object whose keys are each given once (``json`` keeps the last of twins without a word)."""
    data: dict[str, Any] = {}
    for key, value in pairs:
        if key in data:
            raise _KeyTwice(key)
        data[key] = value
    return data


def _string_problem(data: dict[str, Any], line: int) -> ImportProblem | None:
    """``cell_too_long`` for a key or string of a JSON row over ``MAX_CELL_CHARS``, or ``bad_json`` for a lone
    surrogate (a ``\\ud800`` escape: no character); the column is the row's key that holds it.

    >>> _string_problem({"reason": "\\ud800"}, 1).column, _string_problem({"kind": "x" * 70_000}, 1).code
    ('reason', 'cell_too_long')
    """
    stack: list[tuple[str | None, Any]] = [(None, data)]
    while stack:  # depth first, in the order of the row (its depth is bounded by MAX_DEPTH already)
        column, value = stack.pop()
        if isinstance(value, dict):
            for key, item in reversed(value.items()):
                stack += [(column or key, item), (column or key, key)]
        elif isinstance(value, list):
            stack += [(column, item) for item in reversed(value)]
        elif isinstance(value, str):
            shown = column if column is not None and _UNREADABLE.search(column) is None else None
            if len(value) > MAX_CELL_CHARS:
                return ImportProblem(line=line, column=shown, code="cell_too_long",
                                     message=f"a string of {len(value):,} characters; at most {MAX_CELL_CHARS:,} "
                                             "are read")
            found = _UNREADABLE.search(value)
            if found is not None and found.group() != "\x00":
                return ImportProblem(line=line, column=shown, code="bad_json",
                                     message=f"the escape \\u{ord(found.group()):04x} is half a surrogate pair, "
                                             "no character")
    return None


def _row(line: int, values: dict[str, Any], raw: str, mapping: ColumnMap | None, *,
         strict_columns: bool) -> ImportRow:
    """Rename, fill in, normalise and validate one row's values."""

    def problem(column: str | None, code: str, message: str) -> ImportRow:
        return ImportRow(line=line, raw=raw, error=ImportProblem(line=line, column=column, code=code, message=message))

    source: dict[str, str] = {}  # field -> the column it came from, to name it in problems
    fields: dict[str, Any] = {}
    for column, value in values.items():
        name = NAME_COLUMNS.get(column, column)
        if mapping is not None and column in mapping.columns:
            mapped = mapping.columns[column]
            if not mapped:
                continue  # mapped to nothing: a column to leave out
            name = mapped
        elif mapping is not None and column not in _KNOWN and "." not in column:
            continue  # another system's column we were not asked to read
        elif strict_columns and column not in _KNOWN and "." not in column:
            continue  # reported once, as a problem of the header
        if name in fields:
            return problem(column, "bad_value", f"the field {name!r} is given twice (also by {source[name]!r})")
        fields[name], source[name] = value, column
    if mapping is not None:
        for name, value in mapping.constants.items():
            if name not in fields and value is not None:
                fields[name], source[name] = value, f"constants.{name}"
        if "event_id" not in fields and mapping.event_id:
            try:
                fields["event_id"] = _fill(mapping.event_id, fields)
            except KeyError as exc:
                return problem(exc.args[0], "missing_field",
                               f"the event id template {mapping.event_id!r} needs {exc.args[0]!r}, which is empty")
            source["event_id"] = "event_id"
    personal = {n: fields.pop(n) for n in set(NAME_COLUMNS.values()) & fields.keys()} or None  # (roster checks)
    for name in DATE_FIELDS & fields.keys():
        try:
            fields[name] = parse_date(fields[name])
        except ValueError as exc:
            return problem(source[name], "bad_date", str(exc))
    data = _nest(fields)
    kind = data.get("kind")
    if kind is None:
        return problem("kind", "missing_field", "every row names its kind (course_completed, enrolled, ...)")
    if not isinstance(kind, str) or kind not in EVENT_CLASSES:
        return problem(source.get("kind", "kind"), "unknown_kind",
                       f"{kind!r} is not an event kind; expected one of {', '.join(EVENT_CLASSES)}")
    try:
        event = EVENT_ADAPTER.validate_python(data)
    except ValidationError as exc:
        return problem(*_first_problem(exc, source))
    return ImportRow(line=line, raw=raw, event=event, personal=personal)


def _fill(template: str, fields: dict[str, Any]) -> str:
    """Fill an event id template; a ``KeyError`` names a field the row lacks.

    >>> _fill("{student_id}-{course}", {"student_id": "S1", "course": "MT101"})
    'S1-MT101'
    """
    parts = list(string.Formatter().parse(template))  # a plain template: ColumnMap checks it
    for _text, name, _spec, _conv in parts:
        if name is not None and name not in fields:
            raise KeyError(name)
    return "".join(text + (str(fields[name]) if name is not None else "") for text, name, _spec, _conv in parts)


def _nest(fields: dict[str, Any]) -> dict[str, Any]:
    """Dotted columns (``target.course``) into nested mappings."""
    out: dict[str, Any] = {}
    for name, value in fields.items():
        *parents, leaf = name.split(".")
        node = out
        for parent in parents:
            node = node.setdefault(parent, {})
            if not isinstance(node, dict):
                break
        else:
            node[leaf] = value
    return out


def _first_problem(exc: ValidationError, source: dict[str, str]) -> tuple[str | None, str, str]:
    """The column, code and sentence of a validation error's first problem."""
    err = exc.errors(include_url=False)[0]
    loc = [str(p) for p in err["loc"] if isinstance(p, str)]
    if loc and loc[0] in EVENT_CLASSES:
        loc = loc[1:]  # the union's tag
    field = loc[0] if loc else None
    dotted = ".".join(loc[:2])
    column = (source.get(dotted) or source.get(field, field)) if field else None
    message = err["msg"].removeprefix("Value error, ")
    kind = err["type"]
    given = err.get("input")
    shown = f"{_printable(f'{given!s:.60}')}: " if isinstance(given, (str, int, float, Decimal, date)) else ""
    if kind == "missing":
        return column, "missing_field", f"{dotted or field} is required for this kind of event"
    if kind == "extra_forbidden":
        return column, "unexpected_field", f"{field!r} is no field of this kind of event"
    if field in DATE_FIELDS or kind.startswith("date"):
        return column, "bad_date", shown + message
    if field in ("grade", "source_grade"):
        return column, "bad_grade", message if message.startswith("unknown grade") else shown + message
    return column, "bad_value", shown + message


def _printable(text: str) -> str:
    """``text`` with each character that does not print (a control, a lone surrogate) written as its escape, so that
    a message shows what the cell holds and never drives a terminal.

    >>> _printable("S1\\x1b[31m"), _printable("李娜")
    ('S1\\\\x1b[31m', '李娜')
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def _csv_text(cells: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(cells)
    return out.getvalue()


def _line_of(exc: BaseException) -> int:
    """The line of a mapping file that a YAML or JSON parser names in its error (1 when it names none)."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)  # YAML
    if mark is not None and isinstance(getattr(mark, "line", None), int):
        return int(mark.line) + 1
    lineno = getattr(exc, "lineno", None)  # json.JSONDecodeError
    return lineno if isinstance(lineno, int) and lineno > 0 else 1


def _first_line(exc: BaseException) -> str:
    if isinstance(exc, ValidationError):
        err = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in err["loc"]) or "the top level"
        return f"{where}: {err['msg']}"
    problem, column = getattr(exc, "problem", None), getattr(getattr(exc, "problem_mark", None), "column", None)
    if isinstance(problem, str) and isinstance(column, int):  # YAML: what, and where
        return f"{problem} (column {column + 1})"
    return (str(exc).strip().splitlines() or [exc.__class__.__name__])[0]
