"""Exports: the SQLite analysis file (tables, foreign keys, indexes, full-text search), pandas frames, JSON
transcripts, CSV and JSON Lines audits, JSON Schemas, and the two examples built on them. Frames and pictures need
the ``notebook`` extra: those tests skip without it."""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import sqlite_utils

import credit_ledger as cl
from credit_ledger import demo
from credit_ledger.exports import (
    TABLES,
    audit_row,
    audits_csv,
    audits_jsonl,
    export_sqlite,
    to_pandas,
    transcript_json,
)
from credit_ledger.schemas import json_schemas
from notebook_extra import needs_notebook, needs_pandas
from scripts import load_script

AS_OF = date(2026, 7, 31)
EXAMPLES = Path(__file__).parent.parent / "examples"


@pytest.fixture(scope="module")
def small() -> cl.Ledger:
    """The demo's part-time student, a full-time student with a converted certificate, and a full-time student
    with a reversed course."""
    led = demo.run(None)
    led.append_many([
        cl.Enrolled(event_id="F1-enrol", student_id="F1", occurred_on=date(2025, 9, 1), institution="HNJX",
                    program="CNC-SR-2025"),
        cl.CourseCompleted(event_id="F1-CNC203", student_id="F1", occurred_on=date(2026, 1, 9), institution="HNJX",
                           course="CNC203", grade=90),
        cl.CourseCompleted(event_id="F1-CNC201", student_id="F1", occurred_on=date(2026, 1, 10),
                           institution="HNJX", course="CNC201", grade="良"),
        cl.Enrolled(event_id="F2-enrol", student_id="F2", occurred_on=date(2025, 9, 1), institution="HNJX",
                    program="CNC-SR-2025"),
        cl.CourseCompleted(event_id="F2-PUB101", student_id="F2", occurred_on=date(2026, 1, 9), institution="HNJX",
                           course="PUB101", grade=70),
    ])
    led.reverse("F2-PUB101", reason="录入错误", occurred_on=date(2026, 1, 20))
    led.convert("F1", [cl.Outcome(type="certificate", outcome_id="C-1", title="数控车工", level="foundation",
                                  issued_on=date(2026, 6, 1))], as_of=AS_OF)
    yield led
    led.close()


@pytest.fixture(scope="module")
def exported(small: cl.Ledger, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, sqlite_utils.Database]:
    path = tmp_path_factory.mktemp("export") / "analysis.db"
    counts = export_sqlite(small, path, as_of=AS_OF)
    db = sqlite_utils.Database(str(path))
    yield counts, db
    db.close()


def test_export_writes_every_table_with_counts_that_match_the_ledger(small, exported):
    counts, db = exported
    assert set(TABLES) <= set(db.table_names()) and set(counts) == set(TABLES)
    assert {name: db[name].count for name in TABLES} == counts
    students = small.students()
    assert counts["students"] == len(students) == 3
    assert counts["enrolments"] == 3
    assert counts["transcript_records"] == sum(len(small.transcript(s, AS_OF).records) for s in students)
    assert counts["audits"] == len(list(small.audit_all(as_of=AS_OF))) == 3
    kinds = [e.kind for s in students for e in small.events(s, AS_OF)]
    assert counts["decisions"] == kinds.count("credit_recognized") + kinds.count("outcome_converted") == 1


def test_exported_credits_match_each_balance(small, exported):
    _, db = exported
    for sid in small.students():
        got = db.execute("SELECT coalesce(sum(credits), 0) FROM transcript_records WHERE student_id = ?",
                         [sid]).fetchone()[0]
        assert Decimal(str(got)).quantize(Decimal("0.01")) == small.balance(sid, AS_OF).total
    row = db["audits"].get(demo.STUDENT)
    report = small.audit(demo.STUDENT, as_of=AS_OF)
    assert row["status"] == report.status.value and row["stages"] == len(report.stages)
    assert row["deadline"] == report.deadline.isoformat() and row["total"] == float(report.credits.total)


def test_a_reversed_record_is_not_exported_and_a_conversion_is_a_decision(exported):
    _, db = exported
    assert not list(db["transcript_records"].rows_where("event_id = ?", ["F2-PUB101"]))
    [decision] = list(db["decisions"].rows)
    assert decision["kind"] == "outcome_converted" and decision["student_id"] == "F1"
    assert decision["source"] == "certificate:C-1" and decision["rule"] == "CERT-CNC-L5"
    assert decision["target_course"] == "PRA305" and decision["credits"] == 4.0 and decision["counted"] == 1


def test_foreign_keys_point_at_students_and_hold(exported):
    _, db = exported
    for name in TABLES:
        if name in ("students", "courses"):  # the catalog's courses are nobody's
            continue
        assert [(fk.column, fk.other_table, fk.other_column) for fk in db[name].foreign_keys] == [
            ("student_id", "students", "student_id")]
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    assert db["students"].pks == ["student_id"] and db["transcript_records"].pks == ["event_id"]


def test_indexes_on_student_course_and_category(exported):
    _, db = exported
    indexed = {tuple(index.columns) for index in db["transcript_records"].indexes}
    assert {("student_id",), ("course",), ("category",)} <= indexed
    assert ("student_id",) in {tuple(i.columns) for i in db["decisions"].indexes}


def test_full_text_search_finds_a_course_by_a_title_word(exported):
    _, db = exported
    assert db["transcript_records"].detect_fts() == "transcript_records_fts"
    assert {r["course"] for r in db["transcript_records"].search("CAD")} == {"CNC203"}
    assert {r["course"] for r in db["transcript_records"].search("数控车床")} == {"CNC201"}
    assert {r["course"] for r in db["transcript_records"].search("液压与气动")} == {"MT101"}
    assert {r["course"] for r in db["transcript_records"].search("数控车工")} == {"PRA305"}  # a certificate


def test_export_again_replaces_the_tables(small, exported, tmp_path):
    counts, _ = exported
    path = tmp_path / "again.db"
    export_sqlite(small, path, as_of=AS_OF)
    assert export_sqlite(small, path, as_of=AS_OF) == counts
    earlier = export_sqlite(small, path, as_of=date(2025, 12, 31))
    assert earlier["transcript_records"] < counts["transcript_records"] and earlier["decisions"] == 0
    db = sqlite_utils.Database(str(path))
    assert db["transcript_records"].count == earlier["transcript_records"]
    assert len(list(db["transcript_records"].search("CAD"))) == 0  # the index follows the new rows
    db.close()


@needs_pandas
def test_to_pandas_frames_match_the_tables(small, exported):
    counts, _ = exported
    frames = to_pandas(small, as_of=AS_OF)
    assert set(frames) == set(TABLES)
    assert {name: len(frame) for name, frame in frames.items()} == counts
    assert list(frames["audits"].columns) == list(TABLES["audits"][0])
    records = frames["transcript_records"]
    assert str(records["occurred_on"].dtype).startswith("datetime64")
    total = sum(small.balance(s, AS_OF).total for s in small.students())
    assert round(float(records["credits"].sum()), 2) == float(total)
    by_student = records.groupby("student_id")["credits"].sum()
    assert by_student["F1"] == float(small.balance("F1", AS_OF).total)


@needs_pandas
def test_to_pandas_on_an_empty_ledger_has_the_columns():
    with cl.Ledger.open() as empty:
        frames = to_pandas(empty, as_of=AS_OF)
    assert all(len(f) == 0 for f in frames.values())
    assert "title" in frames["transcript_records"].columns


def test_to_pandas_without_pandas_names_the_extra(small, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match=r"credit-ledger\[notebook\]"):
        to_pandas(small)


def test_transcript_json_round_trips(small):
    text = transcript_json(small, demo.STUDENT, AS_OF)
    data = json.loads(text)
    assert data["student_id"] == demo.STUDENT and data["records"][0]["credits"] == "4.00"
    assert cl.Transcript.model_validate_json(text) == small.transcript(demo.STUDENT, AS_OF)


def test_transcript_json_refuses_what_the_school_may_not_read(small):
    outsider = small.acting_for("SANY-HV")
    with pytest.raises(cl.PermissionDenied):
        transcript_json(outsider, "F1")


def test_audits_csv_has_one_row_per_report(small, tmp_path):
    reports = list(small.audit_all(as_of=AS_OF))
    path = tmp_path / "audits.csv"
    assert audits_csv(reports, path) == len(reports) == 3
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["student_id"] for r in rows] == [r.student_id for r in reports]
    assert [r["status"] for r in rows] == [r.status.value for r in reports]
    assert all(r["eligible"] in ("0", "1") for r in rows)
    assert list(rows[0]) == list(TABLES["audits"][0])


def test_audits_csv_writes_the_audits_table_row_by_row(small, exported):
    """The CSV and the analysis file's ``audits`` table are one format: the same columns, the same values."""
    _, db = exported
    sink = io.StringIO()
    assert audits_csv(small.audit_all(as_of=AS_OF), sink) == 3
    rows = list(csv.DictReader(io.StringIO(sink.getvalue())))
    table = {r["student_id"]: r for r in db["audits"].rows}
    for row in rows:
        stored = table[row["student_id"]]
        assert list(row) == list(stored)
        for column, value in row.items():
            if isinstance(stored[column], float):
                assert float(value) == stored[column], column
            else:
                assert value == ("" if stored[column] is None else str(stored[column])), column


def test_the_readme_lists_the_audit_columns_in_order():
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    assert ", ".join(TABLES["audits"][0]) in " ".join(readme.replace("`", "").split())


def test_audits_jsonl_writes_whole_reports_that_read_back(small, tmp_path):
    reports = list(small.audit_all(as_of=AS_OF))
    path = tmp_path / "audits.jsonl"
    assert audits_jsonl(iter(reports), path) == 3
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [cl.AuditReport.model_validate_json(line) for line in lines] == reports
    assert [audit_row(cl.AuditReport.model_validate_json(line)) for line in lines] == [audit_row(r) for r in reports]


def test_json_schemas_cover_every_public_model():
    schemas = json_schemas()
    assert {"Event", "Catalog", "AuditReport", "Transcript", "Balance", "RecognitionResult", "TransferStatement",
            "Outcome", "Receipt", "VerifyReport", "CreditRecord"} <= set(schemas)
    assert "status" in schemas["AuditReport"]["properties"]
    assert all(s["$schema"].endswith("2020-12/schema") and s["title"] for s in schemas.values())
    mapping = schemas["Event"]["discriminator"]["mapping"]
    assert set(mapping) == set(cl.models.EVENT_CLASSES)
    json.dumps(schemas)  # plain JSON, ready to publish


@pytest.mark.parametrize("name, make", [
    ("AuditReport", lambda led: led.audit(demo.STUDENT, as_of=AS_OF)),
    ("Transcript", lambda led: led.transcript(demo.STUDENT, AS_OF)),
    ("Balance", lambda led: led.balance(demo.STUDENT, AS_OF)),
    ("VerifyReport", lambda led: led.verify()),
])
def test_a_dumped_object_has_the_keys_its_schema_names(small, name, make):
    schema = json_schemas()[name]
    data = json.loads(make(small).model_dump_json())
    assert set(data) <= set(schema["properties"])
    assert set(schema.get("required", ())) <= set(data)


def test_each_event_kind_has_its_schema_in_the_union(small):
    schema = json_schemas()["Event"]
    for event in small.events(demo.STUDENT)[:3]:
        ref = schema["discriminator"]["mapping"][event.kind].split("/")[-1]
        definition = schema["$defs"][ref]
        assert set(json.loads(event.model_dump_json())) <= set(definition["properties"])


def _example(name: str):
    return load_script(EXAMPLES / f"{name}.py")


@needs_notebook
def test_cohort_analysis_exports_analyses_and_draws(tmp_path, capsys):
    result = _example("cohort_analysis").main(f"sqlite:///{tmp_path / 'cohort.db'}")
    assert result["students"] == result["exported"]["students"] == 60
    assert result["audited"] == result["exported"]["audits"] == 60
    assert result["exported"]["decisions"] == 4
    assert sum(result["cohort"].values()) == 60 and {"suspended", "withdrawn"} <= set(result["cohort"])
    assert sum(result["credits_by_category"].values()) == float(result["ledger_credits"])
    for picture in result["pictures"].values():
        assert Path(picture).read_bytes()[:4] == b"\x89PNG"
    assert Path(result["analysis_db"]).exists() and "eligible share" in capsys.readouterr().out


def test_portal_serves_its_students_and_refuses_others():
    responses = _example("portal_embedding").main(None)
    assert [status for _, status, _ in responses] == [200, 403, 403, 400, 404]
    ours = responses[0][2]
    assert ours["student_id"] == "HN-2025-0007" and ours["status"] == "requirements_missing"
    assert responses[1][2] == responses[2][2]  # another school's student looks like nobody


# -- no formula reaches a spreadsheet ----------------------------------------------------------------------------------

FORMULAS = {"=cmd|calc!A1": "'=cmd|calc!A1", "@SUM(1)": "'@SUM(1)", "+1+1": "'+1+1", "-2+3": "'-2+3",
            "-3.5": "-3.5", "+7": "+7", "S-1": "S-1"}
"""Student ids as written, and as a CSV cell holds them: a formula escaped, a number or an ordinary id as it is."""


@pytest.fixture
def formulas(ledger: cl.Ledger) -> cl.Ledger:
    ledger.append_many([cl.Enrolled(event_id=f"{sid}-enrol", student_id=sid, occurred_on=date(2025, 9, 1),
                                    institution="HNJX", program="CNC-SR-2025") for sid in FORMULAS])
    return ledger


def test_audits_csv_writes_formulas_as_text_and_numbers_as_numbers(formulas, tmp_path):
    path = tmp_path / "audits.csv"
    assert audits_csv(formulas.audit_all(as_of=AS_OF), path) == len(FORMULAS)
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert sorted(r["student_id"] for r in rows) == sorted(FORMULAS.values())
    assert all(r["shortfall"][0].isdigit() for r in rows)


@pytest.mark.parametrize(("cell", "written"), [
    ("=1+1", "'=1+1"), ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"), ("@A1", "'@A1"),
    ("+", "'+"), ("-", "'-"), ("--1", "'--1"), ("-1e5", "-1e5"), ("+.5", "+.5"), ("-0", "-0"), ("1-1", "1-1"),
    ("\t=1", "'\t=1"), ("\r=1", "'\r=1"), ("\x00", "'\x00"), (" =1", " =1"), ("", ""), ("李娜", "李娜"),
    ("-Infinity", "'-Infinity"), ("+1 ", "'+1 "), ("'=1", "'=1"),
])
def test_escape_formula(cell, written):
    from credit_ledger.exports import escape_formula

    assert escape_formula(cell) == written


def test_every_csv_writer_escapes_through_one_function():
    """The library writes CSV only through ``exports.csv_writer``: no other ``csv.writer`` writes a file."""
    import re

    package = Path(cl.__file__).parent
    writers = {path.name: len(re.findall(r"csv\.(?:writer|DictWriter)\(", path.read_text(encoding="utf-8")))
               for path in package.rglob("*.py")}
    assert {name: n for name, n in writers.items() if n} == {"exports.py": 1, "eventfiles.py": 1}
    reader_source = (package / "eventfiles.py").read_text(encoding="utf-8")
    assert 'csv.writer(out, lineterminator="")' in reader_source  # the raw text of a row, in memory: no file


def test_the_readme_says_what_the_csv_files_escape():
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Exports")[1].split("\n## ")[0]
    assert "escape_formula" in section and "'=cmd|calc!A1" in section
    for written in ("`audits_csv`", "rejects file", "`-3.5`", "`+7`"):
        assert written in section, written
