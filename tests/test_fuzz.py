"""Bad input, nothing lost: malformed events thrown at ``append`` and ``append_many``, on both engines.

Each event is made malformed on purpose (wrong types, unknown students and courses, dates out of order or out of
range, credits negative or absurd, oversized strings, unicode oddities, a taken id with other content, an unknown
kind, not a mapping at all), sometimes among good events in one batch. Every attempt must raise a
``CreditLedgerError`` subclass or pydantic's ``ValidationError``, and leave the row count, the head and ``verify()``
as they were. A last test writes ids full of SQL and placeholder characters, and reads them back intact.

Bad files, nothing lost: the readers are fed random bytes, CSV in random dialects and encodings, random JSON, and
good files spoilt in one known way (a NUL, a byte that is not UTF-8, UTF-16, an oversized cell or line, an unclosed
quote, deep nesting, a key given twice, a lone surrogate escape). Nothing but ``ImportFileError`` may escape
``read_rows`` and ``import_events``, every problem names a line and prints as UTF-8, a spoilt file gets the code of
its spoiling, and a refused import leaves ``count()``, ``head()`` and ``verify()`` as they were.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pydantic
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import credit_ledger as cl
from credit_ledger.errors import ImportFileError
from credit_ledger.imports import MAX_CELL_CHARS, MAX_DEPTH, MAX_LINE_CHARS, import_events, read_rows

import strategies as sx

ENROLLED = date(2025, 9, 1)
COURSE_DAY = date(2026, 1, 10)
TAKEN = {"S1-enrol": "enrolled", "S1-c1": "course_completed"}
"""Ids already in the fuzzed ledger, and their kinds."""

ODD_TEXT = st.sampled_from([
    "\u202eevil", "e\u0301", "\ufeffbom", "😀", "a\u200bb", "Ω≈ç√", "'; DROP TABLE events; --", "%s %(x)s %% ?",
    "学生\u3000甲", "\\x00", "null", '"recorded_by":null',
])
"""Strings that are valid but odd: they may ride along in any field of a malformed event."""

BAD_STRINGS = st.one_of(
    st.sampled_from(["", " ", " lead", "trail ", "nul\x00", "tab\there", "line\nbreak", "\ud800", "x\udfff",
                     "\x7f", "bell\x07", "\u2028"]),
    st.text(min_size=129, max_size=600),
    st.text(st.characters(codec="utf-8"), min_size=1, max_size=5).map(lambda t: "\x1b" + t),
)
"""Strings no id accepts: empty, surrounding space, control characters, lone surrogates, over 128 characters."""

NOT_STRINGS = st.one_of(st.integers(), st.floats(allow_nan=True), st.booleans(), st.none(),
                        st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(),
                                                                             max_size=2))
BAD_CREDITS = st.one_of(
    st.decimals(max_value=Decimal("-0.01"), allow_nan=False, allow_infinity=False, places=2),
    st.decimals(min_value=Decimal("1000.01"), allow_nan=False, allow_infinity=False),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", "0.001", "abc", "", [], "1,5"]),  # None: the default
)
STRING_FIELDS = ("event_id", "student_id", "institution", "course")


def good_course(event_id: str, day: date = COURSE_DAY, course: str = "MECH102", grade: Any = 75) -> dict:
    return {"kind": "course_completed", "event_id": event_id, "student_id": "S1", "occurred_on": day.isoformat(),
            "institution": "HNJX", "course": course, "grade": grade}


def base_events(event_id: str) -> st.SearchStrategy[dict]:
    """Good events for S1 (enrolled 2025-09-01, a course on 2026-01-10), to be broken."""
    day = (COURSE_DAY + timedelta(days=5)).isoformat()
    return st.sampled_from([
        good_course(event_id),
        {"kind": "suspended", "event_id": event_id, "student_id": "S1", "occurred_on": day, "reason": "ill"},
        {"kind": "outcome_converted", "event_id": event_id, "student_id": "S1", "occurred_on": day,
         "outcome_type": "certificate", "outcome_id": "C-1", "title": "数控车工", "level": "foundation",
         "target": {"course": "PRA305"}, "credits": "4", "rule_id": "CERT-CNC-L5"},
        {"kind": "credit_recognized", "event_id": event_id, "student_id": "S1", "occurred_on": day,
         "source_institution": "XTJX", "source_course": "XT-CNC1", "source_credits": "6", "source_grade": 82,
         "source_date": "2025-06-30", "target": {"course": "CNC201"}, "credits": "6",
         "agreement_id": "AGR-HN-MFG-2024"},
    ])


@st.composite
def malformed(draw: st.DrawFn) -> tuple[str, Any]:
    """``(what is wrong, the event as plain data)``; the data never makes a valid event for the fuzzed ledger."""
    event_id = "F-" + draw(sx.identifiers(max_size=30))
    event = dict(draw(base_events(event_id)))
    for key in ("reason", "title"):
        if key in event and draw(st.booleans()):
            event[key] = draw(ODD_TEXT)
    what = draw(st.sampled_from(["wrong_type", "unknown_student", "unknown_course", "before_enrolment",
                                 "out_of_order", "date_out_of_range", "bad_credits", "oversized", "bad_string",
                                 "taken_id", "unknown_kind", "missing_field", "extra_field", "not_a_mapping"]))
    if what == "wrong_type":
        event[draw(st.sampled_from([f for f in STRING_FIELDS if f in event]))] = draw(NOT_STRINGS)
    elif what == "unknown_student":
        event["student_id"] = "GHOST-" + draw(st.one_of(sx.identifiers(max_size=20), ODD_TEXT))
    elif what == "unknown_course":
        event = good_course(event_id, course="NO-" + draw(st.text("ABCXYZ0123-", min_size=1, max_size=8)))
    elif what == "before_enrolment":
        event["occurred_on"] = draw(st.dates(date(1950, 1, 1), ENROLLED - timedelta(days=1))).isoformat()
        if "source_date" in event:
            event["source_date"] = "1950-01-01"
    elif what == "out_of_order":  # a status change dated before the student's latest record
        event = {"kind": draw(st.sampled_from(["suspended", "withdrawn"])), "event_id": event_id, "student_id": "S1",
                 "occurred_on": draw(st.dates(ENROLLED, COURSE_DAY - timedelta(days=1))).isoformat()}
    elif what == "date_out_of_range":
        event["occurred_on"] = draw(st.one_of(st.dates(max_value=date(1949, 12, 31)),
                                              st.dates(min_value=date(2200, 1, 1)),
                                              st.sampled_from(["2026-02-30", "2026-13-01", "yesterday", ""])))
        if not isinstance(event["occurred_on"], str):
            event["occurred_on"] = event["occurred_on"].isoformat()
    elif what == "bad_credits":
        if "credits" not in event:
            event = good_course(event_id)
        event["credits"] = draw(BAD_CREDITS)
    elif what == "oversized":
        field = draw(st.sampled_from(["event_id", "student_id", "reason" if "reason" in event else "event_id"]))
        event[field] = draw(st.text(min_size=1, max_size=3)) * 600
        if not event[field].strip():
            event[field] = "x" * 600
    elif what == "bad_string":
        event[draw(st.sampled_from([f for f in STRING_FIELDS if f in event]))] = draw(BAD_STRINGS)
    elif what == "taken_id":  # an id in the ledger, with other content
        taken = draw(st.sampled_from(sorted(TAKEN)))
        event = good_course(taken, grade=draw(st.integers(0, 59)))
    elif what == "unknown_kind":
        event["kind"] = draw(st.one_of(st.text(max_size=20).filter(lambda k: k not in cl.models.EVENT_CLASSES),
                                       NOT_STRINGS))
    elif what == "missing_field":
        event.pop(draw(st.sampled_from(["event_id", "student_id", "occurred_on", "kind"])))
    elif what == "extra_field":
        event[draw(st.sampled_from(["seq", "event_hash", "recorded_at", "prev_hash", "zz"]))] = draw(ODD_TEXT)
    else:
        return what, draw(st.one_of(NOT_STRINGS, st.text(max_size=10), st.lists(ODD_TEXT, max_size=2)))
    return what, event


@pytest.fixture
def fuzzed(ledger: cl.Ledger) -> cl.Ledger:
    ledger.append_many([cl.Enrolled(event_id="S1-enrol", student_id="S1", occurred_on=ENROLLED, institution="HNJX",
                                    program="CNC-SR-2025"),
                        cl.EVENT_ADAPTER.validate_python(good_course("S1-c1", course="MECH101", grade=80))])
    return ledger


def _state(ledger: cl.Ledger) -> tuple:
    report = ledger.verify()
    assert report.ok, report
    return ledger.count(), ledger.head(), report.checked


def _refused(call) -> BaseException:
    with pytest.raises((cl.CreditLedgerError, pydantic.ValidationError)) as info:
        call()
    return info.value


FUZZ = settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.filter_too_much])


@FUZZ
@given(bad=malformed())
def test_append_refuses_malformed_events_and_changes_nothing(fuzzed, bad):
    before = _state(fuzzed)
    _refused(lambda: fuzzed.append(bad[1]))
    assert _state(fuzzed) == before


@FUZZ
@given(bad=st.lists(malformed(), min_size=1, max_size=3), good=st.integers(0, 3), data=st.data())
def test_append_many_refuses_a_batch_with_any_malformed_event_and_changes_nothing(fuzzed, bad, good, data):
    before = _state(fuzzed)
    fresh = [good_course(f"G-{data.draw(sx.identifiers(max_size=20))}-{i}") for i in range(good)]
    batch = fresh + [event for _, event in bad]
    batch = data.draw(st.permutations(batch))
    _refused(lambda: fuzzed.append_many(batch))
    assert _state(fuzzed) == before


@pytest.mark.parametrize("odd", ["'; DROP TABLE events; --", "%s", "%(x)s", "%%", "?", ":name", "$1", "\\'",
                                 'a"b', "学生'乙"])
def test_ids_full_of_sql_are_data(ledger, odd):
    """SQL is parameterised: quotes, placeholders and percent signs in ids are stored and read back as written.
    (A bidi override in an id is refused at the door: ``test_identifiers.py``.)"""
    student = f"S{odd}"
    ledger.append(cl.Enrolled(event_id=f"{odd}-enrol", student_id=student, occurred_on=ENROLLED, institution="HNJX",
                              program="CNC-SR-2025"))
    ledger.append(cl.CourseCompleted(event_id=f"{odd}-c", student_id=student, occurred_on=COURSE_DAY,
                                     institution="HNJX", course="MECH101", grade=80, term=odd))
    assert [e.event_id for e in ledger.events(student)] == [f"{odd}-enrol", f"{odd}-c"]
    assert ledger.events(student)[-1].term == odd
    assert ledger.students() == [student] and ledger.count() == 2 and ledger.verify().ok
    ledger.reverse(f"{odd}-c", reason=odd, occurred_on=COURSE_DAY)
    assert ledger.balance(student).total == 0


# -- bad files ------------------------------------------------------------------------------------------------------

FILE_COLUMNS = ["kind", "event_id", "student_id", "occurred_on", "institution", "course", "grade", "reason"]
"""The default layout's columns that the fuzzed files use (``reason`` is where long or odd text goes)."""

CELLS = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["course_completed", "suspended", "S1", "HNJX", "MECH102", "2026/1/10", "2026年1月10日", "良",
                     "不及格", "85", "=cmd|calc!A1", "-3.5", "", " ", '"', "'", "\\", ",", "\r\n", "\ufeff",
                     "target.course", "[[[[", "{}", "NaN", "1e400", "9" * 50]),
    ODD_TEXT,
)
"""Cells and JSON strings, often ones the ledger knows, sometimes odd."""

JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), CELLS),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.one_of(st.sampled_from(FILE_COLUMNS), st.text(max_size=6)), inner,
                                            max_size=4)),
    max_leaves=12)


def file_row(i: int, grade: int = 80) -> dict[str, str]:
    """A good row for S1 (enrolled in the fuzzed ledger): a course completed."""
    return {"kind": "course_completed", "event_id": f"FILE-{i}", "student_id": "S1", "occurred_on": "2026/1/10",
            "institution": "HNJX", "course": "MECH102", "grade": str(grade), "reason": ""}


def file_text(fmt: str, rows: list[dict[str, Any]]) -> str:
    if fmt == "jsonl":
        return "".join(json.dumps({k: v for k, v in r.items() if v != ""}, ensure_ascii=False) + "\n" for r in rows)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=FILE_COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def line_at(text: str, index: int) -> int:
    """The line of the file that the character ``text[index]`` is on (CR, LF and CRLF end a line)."""
    return len(re.findall(r"\r\n|\r|\n", text[:index])) + 1


SPOILINGS = {"csv": ("nul", "bad_byte", "utf16", "huge_cell", "huge_line", "open_quote"),
             "jsonl": ("nul", "bad_byte", "utf16", "huge_cell", "huge_line", "deep", "key_twice", "surrogate")}
"""The ways a good file is spoilt, by format."""


@st.composite
def spoilings(draw: st.DrawFn) -> dict[str, Any]:
    """How to spoil a good file in one known way: a small recipe (``spoil`` makes the bytes), so that hypothesis
    shows and shrinks the recipe rather than a file of 200,000 characters."""
    fmt = draw(st.sampled_from(["csv", "jsonl"]))
    how = draw(st.sampled_from(SPOILINGS[fmt]))
    recipe: dict[str, Any] = {"fmt": fmt, "how": how, "grades": draw(st.lists(st.integers(60, 100), min_size=1,
                                                                               max_size=4))}
    recipe["at"] = draw(st.integers(0, len(recipe["grades"]) - 1))
    if how == "huge_cell":
        recipe["size"] = draw(st.integers(MAX_CELL_CHARS + 1, MAX_LINE_CHARS - 1_000))
        recipe["char"] = draw(st.sampled_from(["x", "长", "😀", "\t"]))
    elif how == "huge_line":
        recipe["size"] = draw(st.integers(MAX_LINE_CHARS + 1, 2 * MAX_LINE_CHARS))
    elif how == "open_quote":
        recipe["filler"] = draw(st.sampled_from(["more,", "行\r\n", "a,b\n"]))
    elif how == "deep":
        recipe["depth"] = draw(st.one_of(st.integers(MAX_DEPTH + 1, 200), st.integers(200, 100_000)))
        recipe["brackets"] = draw(st.sampled_from([("[", "]"), ('{"a":', "}"), ('[{"b":', "}]")]))
    elif how == "utf16":
        recipe["encoding"] = draw(st.sampled_from(["utf-16", "utf-32", "utf-16-le", "utf-16-be"]))
    elif how in ("nul", "bad_byte"):
        recipe["index"] = draw(st.floats(0, 1))  # where, as a share of the file's characters
        recipe["bad"] = draw(st.sampled_from([b"\x00"] if how == "nul" else [
            b"\xff", b"\x80", b"\xc0\x80", b"\xe4\xb8", b"\xed\xa0\x80", b"\xf5\x80\x80\x80"]))
        recipe["bom"] = draw(st.booleans())
    return recipe


def spoil(recipe: dict[str, Any]) -> tuple[bytes, str, int]:
    """The bytes of a spoilt file, the code its spoiling gets, and the line it names."""
    fmt, how, at = recipe["fmt"], recipe["how"], recipe["at"]
    rows = [file_row(i, grade) for i, grade in enumerate(recipe["grades"])]
    first = 2 if fmt == "csv" else 1  # the line of the first row
    if how == "huge_cell":  # a cell over its limit, on a line that may not be (JSON writes a tab as two characters)
        rows[at]["reason"] = recipe["char"] * recipe["size"]
        text = file_text(fmt, rows)
        row_length = len(text.splitlines()[first - 1 + at])
        return text.encode(), "cell_too_long" if row_length <= MAX_LINE_CHARS else "line_too_long", first + at
    if how == "huge_line":
        rows[at]["reason"] = "y" * recipe["size"]
        return file_text(fmt, rows).encode(), "line_too_long", first + at
    text = file_text(fmt, rows)
    lines = text.splitlines(keepends=True)
    if how == "deep":
        opening, closing = recipe["brackets"]
        nested = opening * recipe["depth"] + "0" + closing * recipe["depth"]
        lines[at] = lines[at].rstrip("}\n") + f', "reason": {nested}}}\n'
        code = "too_deep" if len(lines[at]) < MAX_LINE_CHARS else "line_too_long"
        return "".join(lines).encode(), code, first + at
    if how == "open_quote":  # a quote left open swallows the rest of the file into one cell
        lines[first - 1 + at] = lines[first - 1 + at].replace(",S1,", ',"S1,', 1)
        return ("".join(lines) + recipe["filler"] * (MAX_LINE_CHARS // 3)).encode(), "line_too_long", first + at
    if how == "key_twice":
        lines[at] = lines[at].replace('"student_id": "S1"', '"student_id": "S1", "student_id": "S2"')
        return "".join(lines).encode(), "bad_json", first + at
    if how == "surrogate":
        lines[at] = lines[at].replace('"S1"', '"S1\\ud83d"')
        return "".join(lines).encode(), "bad_json", first + at
    if how == "utf16":
        code = "bad_encoding" if recipe["encoding"] in ("utf-16", "utf-32") else "binary_content"
        return text.encode(recipe["encoding"]), code, 1
    index = round(recipe["index"] * len(text))
    spoilt = text[:index].encode() + recipe["bad"] + text[index:].encode()
    code = "binary_content" if how == "nul" else "bad_encoding"
    return (b"\xef\xbb\xbf" if recipe["bom"] else b"") + spoilt, code, line_at(text, index)


@st.composite
def csv_in_any_dialect(draw: st.DrawFn) -> bytes:
    """Rows written by ``csv.writer`` in a random dialect and encoding: delimiters, quoting, line ends."""
    header = draw(st.one_of(st.just(FILE_COLUMNS), st.lists(st.sampled_from(FILE_COLUMNS + ["姓名", "", "a.b.c"]),
                                                             max_size=8), st.lists(CELLS, max_size=5)))
    rows = draw(st.lists(st.lists(CELLS, max_size=len(header) + 2), max_size=6))
    fmt = {"delimiter": draw(st.sampled_from([",", ";", "\t", "|", " ", "，"])),
           "quotechar": draw(st.sampled_from(['"', "'", "`"])),
           "quoting": draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONE, csv.QUOTE_NONNUMERIC])),
           "escapechar": draw(st.sampled_from([None, "\\"])), "doublequote": draw(st.booleans()),
           "lineterminator": draw(st.sampled_from(["\r\n", "\n", "\r"]))}
    out = io.StringIO()
    try:
        writer = csv.writer(out, **fmt)
        writer.writerow(header)
        writer.writerows(rows)
    except csv.Error:  # a dialect that can't write these cells (QUOTE_NONE without an escape character)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "gb18030", "latin-1", "utf-16"]))
    return out.getvalue().encode(encoding, errors="replace")


@st.composite
def json_lines_of_anything(draw: st.DrawFn) -> bytes:
    """Lines of random JSON values, good rows with fields replaced, and junk."""
    lines = []
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["value", "row", "junk"]))
        if kind == "value":
            lines.append(json.dumps(draw(JSON_VALUES), ensure_ascii=draw(st.booleans())))
        elif kind == "row":
            row: dict[str, Any] = dict(file_row(draw(st.integers(0, 9))))
            row.update(draw(st.dictionaries(st.sampled_from(FILE_COLUMNS + ["target", "credits"]), JSON_VALUES,
                                            max_size=3)))
            lines.append(json.dumps(row, ensure_ascii=False))
        else:
            lines.append(draw(CELLS))
    ending = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    return ending.join(lines).encode("utf-8", errors="surrogatepass")


ANY_FILE = st.one_of(st.binary(max_size=3_000), csv_in_any_dialect(), json_lines_of_anything(), spoilings())
"""A file: its bytes, anything at all, or the recipe of a spoilt one."""


def write_file(path, data: bytes | dict[str, Any]) -> None:
    path.write_bytes(data if isinstance(data, bytes) else spoil(data)[0])


def _read_all(path, fmt: str) -> list | ImportFileError:
    """Read a file whole: its rows, or the ``ImportFileError`` that stopped it. Every problem names a line, and
    prints as UTF-8 (a message or a row's text is written to a terminal or the rejects file)."""
    try:
        rows = list(read_rows(path, format=fmt))
    except ImportFileError as exc:
        assert exc.problems and all(p.line >= 1 for p in exc.problems)
        str(exc).encode("utf-8")
        return exc
    for row in rows:
        assert (row.event is None) != (row.error is None)
        assert row.line >= 1 and (row.error is None or row.error.line == row.line)
        row.raw.encode("utf-8")
        if row.error is not None:
            (row.error.message + (row.error.column or "")).encode("utf-8")
    return rows


@FUZZ
@given(fmt=st.sampled_from(["csv", "jsonl"]), data=ANY_FILE)
def test_reading_any_file_raises_nothing_but_import_file_error(tmp_path, fmt, data):
    path = tmp_path / f"any.{fmt}"
    write_file(path, data)
    _read_all(path, fmt)


@FUZZ
@given(fmt=st.sampled_from(["csv", "jsonl"]), data=ANY_FILE, skip_bad=st.booleans())
def test_importing_any_file_raises_nothing_but_import_file_error_and_a_refusal_changes_nothing(
        fuzzed, tmp_path, fmt, data, skip_bad):
    path = tmp_path / f"any.{fmt}"
    write_file(path, data)
    before = _state(fuzzed)
    try:
        import_events(fuzzed, path, format=fmt, skip_bad=skip_bad, rejects=tmp_path / "rejects.csv")
    except ImportFileError:
        assert _state(fuzzed) == before
    else:
        assert fuzzed.verify().ok


@FUZZ
@given(recipe=spoilings())
def test_a_spoilt_file_gets_the_code_of_its_spoiling_and_changes_nothing(fuzzed, tmp_path, recipe):
    fmt = recipe["fmt"]
    data, code, line = spoil(recipe)
    path = tmp_path / f"spoilt.{fmt}"
    path.write_bytes(data)
    before = _state(fuzzed)
    with pytest.raises(ImportFileError) as caught:
        import_events(fuzzed, path)
    assert caught.value.codes == [code]
    assert caught.value.problems[0].line == line
    assert str(caught.value).startswith(f"{path}: line ")
    assert _state(fuzzed) == before
    if code in ("bad_encoding", "binary_content") or (code == "line_too_long" and fmt == "csv"):
        with pytest.raises(ImportFileError):  # the whole file is refused, even row by row
            import_events(fuzzed, path, skip_bad=True, rejects=tmp_path / "rejects.csv")
        assert _state(fuzzed) == before


MAPPINGS = st.one_of(
    st.binary(max_size=500),
    st.builds(lambda value: json.dumps(value, ensure_ascii=False).encode(), JSON_VALUES),
    st.builds(lambda columns, template: json.dumps({"columns": columns, "event_id": template}).encode(),
              st.dictionaries(CELLS, st.one_of(st.none(), st.sampled_from(FILE_COLUMNS), CELLS), max_size=3),
              st.one_of(st.none(), st.text("{}!:[]._student_idcourse0", max_size=15))),
    st.sampled_from([b"columns: &a [*a]", b"a: " + b"[" * 5_000, b"columns:\n  - x\n  y: z\n", b"\xff\xfe{\x00",
                     b"columns: {a: student_id}\nevent_id: '{a:>99999999999}'\n"]),
)
"""A mapping file: anything, JSON of any shape, columns and templates of any kind, and a few known traps (an alias
loop, deep nesting, bad YAML, UTF-16, a format that would fill memory)."""


@FUZZ
@given(mapping=MAPPINGS, suffix=st.sampled_from([".yaml", ".json"]))
def test_reading_with_any_mapping_file_raises_nothing_but_import_file_error(tmp_path, mapping, suffix):
    (tmp_path / f"map{suffix}").write_bytes(mapping)
    (tmp_path / "e.csv").write_text("学号,kind,event_id\nS1,suspended,e1\n", encoding="utf-8")
    try:
        rows = list(read_rows(tmp_path / "e.csv", mapping=tmp_path / f"map{suffix}"))
    except ImportFileError as exc:
        assert exc.problems[0].line >= 1
        str(exc).encode("utf-8")
    else:
        assert all((r.event is None) != (r.error is None) for r in rows)
