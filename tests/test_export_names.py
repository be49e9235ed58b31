"""Names and every attempt in the exports (issue 14): the students table's ``name`` (from the roster), the
``attempts`` table (regular, 补考 make-up, 重修 retake, failed ones too), so that a make-up list is a query."""

from __future__ import annotations

import sqlite3
from datetime import date

import pytest

import credit_ledger as cl
from credit_ledger.attempts import course_attempts
from credit_ledger.exports import analysis_rows

D = date
AS_OF = D(2026, 7, 1)

MAKEUP_LIST = """
SELECT student_id, course FROM attempts
GROUP BY student_id, course HAVING max(passed) = 0
ORDER BY student_id, course
"""
"""The 补考 list: each course a student has attempted and not passed (yet)."""


def completed(eid: str, sid: str, course: str, grade, on: date, attempt: str = "regular") -> cl.CourseCompleted:
    return cl.CourseCompleted(event_id=eid, student_id=sid, occurred_on=on, institution="HNJX", course=course,
                              grade=grade, attempt=attempt)


@pytest.fixture
def school(ledger):
    ledger.append_many([
        cl.Enrolled(event_id=f"{s}-e", student_id=s, occurred_on=D(2025, 9, 1), institution="HNJX",
                    program="CNC-SR-2025") for s in ("S1", "S2", "S3")])
    ledger.append_many([
        completed("S1-a", "S1", "MECH101", 45, D(2026, 1, 10)),                 # failed, passed at the make-up
        completed("S1-b", "S1", "MECH101", 72, D(2026, 3, 1), "makeup"),
        completed("S1-c", "S1", "CNC203", 50, D(2026, 1, 12)),                  # failed: on the list
        completed("S2-a", "S2", "MECH101", 40, D(2026, 1, 10)),                 # failed twice: on the list
        completed("S2-b", "S2", "MECH101", 55, D(2026, 3, 1), "makeup"),
        completed("S3-a", "S3", "MECH101", 90, D(2026, 1, 10)),
        completed("S3-x", "S3", "CNC203", 30, D(2026, 1, 12)),                  # reversed: not an attempt
        cl.GradeCorrected(event_id="S3-fix", student_id="S3", occurred_on=D(2026, 2, 1), target_event_id="S3-a",
                          grade=58, reason="marking error"),                   # corrected to a fail: on the list
    ])
    ledger.reverse("S3-x", reason="recorded for the wrong student", occurred_on=D(2026, 1, 20))
    return ledger


def test_every_attempt_is_listed(school):
    attempts = course_attempts(school.events("S1"), catalog=school.catalog)
    assert [(a.event_id, a.attempt, a.passed, a.counted) for a in attempts] == [
        ("S1-a", "regular", False, False), ("S1-c", "regular", False, False), ("S1-b", "makeup", True, True)]
    s3 = course_attempts(school.events("S3"), catalog=school.catalog)
    assert [(a.event_id, a.grade, a.passed, a.corrected) for a in s3] == [("S3-a", "58", False, True)]
    assert course_attempts(school.events("S1"), catalog=school.catalog, as_of=D(2026, 2, 1))[-1].event_id == "S1-c"


def test_the_makeup_list_is_a_query(school, tmp_path):
    path = tmp_path / "analysis.db"
    counts = cl.export_sqlite(school, path, as_of=AS_OF)
    assert counts["attempts"] == 6
    with sqlite3.connect(path) as db:
        assert db.execute(MAKEUP_LIST).fetchall() == [("S1", "CNC203"), ("S2", "MECH101"), ("S3", "MECH101")]
        kinds = db.execute("SELECT attempt, count(*) FROM attempts GROUP BY attempt ORDER BY attempt").fetchall()
    assert kinds == [("makeup", 2), ("regular", 4)]


def test_names_in_the_students_table_and_frames(school, tmp_path):
    school.set_personal("S1", name="王小明", phone="13800000000")
    path = tmp_path / "analysis.db"
    cl.export_sqlite(school, path, as_of=AS_OF)
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT student_id, name FROM students ORDER BY student_id").fetchall()
        everything = b"".join(str(r).encode() for t in ("students", "audits", "attempts")
                              for r in db.execute(f"SELECT * FROM {t}"))
    assert rows == [("S1", "王小明"), ("S2", None), ("S3", None)]
    assert b"13800000000" not in everything  # only the name is exported, not the school's other fields
    frames = cl.to_pandas(school, AS_OF)
    assert frames["students"].set_index("student_id")["name"].to_dict()["S1"] == "王小明"
    assert frames["audits"].set_index("student_id")["name"].to_dict()["S1"] == "王小明"
    school.erase_personal("S1")
    assert "name" not in cl.to_pandas(school, AS_OF)["audits"].columns
    assert analysis_rows(school, AS_OF)["students"][0]["name"] is None


def test_a_school_exports_the_names_it_may_read(school):
    school.set_personal("S1", name="王小明")
    rows = analysis_rows(school.acting_for("HNJX"), AS_OF)["students"]
    assert {r["student_id"]: r["name"] for r in rows} == {"S1": "王小明", "S2": None, "S3": None}
    assert analysis_rows(school.acting_for("SANY-HV"), AS_OF)["students"] == []
