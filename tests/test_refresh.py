"""Incremental re-audits: ``audit_all(..., detail="summary", refresh=True)`` equals a full summary batch.

A stateful property test drives a file ledger (and the same on PostgreSQL) through random appends (courses,
suspensions and resumptions, withdrawals, events dated ahead), catalog loads (a new version of a course, from a
random day), days moving on and back, and edits of the kept summaries by hand (their chain head, catalog, days or
row): after every step the refreshed summaries equal those of a full batch, and a refresh after nothing changed
re-audits nobody.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import event
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

import credit_ledger as cl
from conftest import DEEP, PgDatabases
from credit_ledger import batch, summary_cache

START = date(2024, 9, 1)
STUDENTS = ("R1", "R2", "R3", "R4", "R5")
HNJX = cl.Catalog.sample().institution("HNJX").model_dump(mode="json", exclude_defaults=True)
COURSES = ("MECH101", "MECH102", "CNC201", "CNC202", "PRA301", "PUB101", "EL101")


class RefreshMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = tempfile.mkdtemp(prefix="cl-refresh-")
        self.url = self.new_ledger_url()
        self.ledger = cl.Ledger.open(self.url, create=True)
        self.ledger.load_catalog(cl.Catalog.sample())
        self.day = START
        self.n = 0
        self.versions: set[date] = set()

    def new_ledger_url(self) -> str:
        return os.path.join(self.dir, "ledger.db")

    def drop_ledger(self) -> None:
        """Remove this run's ledger (the temp dir goes anyway)."""

    def teardown(self) -> None:
        self.ledger.close()
        self.drop_ledger()
        shutil.rmtree(self.dir, ignore_errors=True)

    def append(self, event: Any) -> None:
        try:
            self.ledger.append(event)
        except cl.CreditLedgerError:
            pass  # a refused write changes nothing; the invariant still holds

    @initialize(part_time=st.booleans())
    def enrol(self, part_time: bool) -> None:
        for i, sid in enumerate(STUDENTS):
            extra = ({"program": "MECH-PT-2024", "mode": "part_time", "employer": "SANY-HV"}
                     if part_time and i == 4 else {"program": "CNC-SR-2025"})
            self.append(cl.Enrolled(event_id=f"{sid}-e", student_id=sid, occurred_on=START + timedelta(days=i),
                                    institution="HNJX", **extra))

    def fresh(self) -> str:
        self.n += 1
        return f"x{self.n}"

    @rule(sid=st.sampled_from(STUDENTS), course=st.sampled_from(COURSES), grade=st.integers(40, 100),
          ahead=st.sampled_from((0, 0, 0, 30, 400)))
    def complete(self, sid: str, course: str, grade: int, ahead: int) -> None:
        self.append(cl.CourseCompleted(event_id=self.fresh(), student_id=sid, occurred_on=self.day + timedelta(ahead),
                                       institution="HNJX", course=course, grade=grade))

    @rule(sid=st.sampled_from(STUDENTS), what=st.sampled_from(("suspend", "resume", "withdraw", "graduate")))
    def status(self, sid: str, what: str) -> None:
        kind: Any = {"suspend": cl.Suspended, "resume": cl.Resumed, "withdraw": cl.Withdrawn}.get(what)
        if kind is not None:
            self.append(kind(event_id=self.fresh(), student_id=sid, occurred_on=self.day))
        else:
            self.append(cl.Graduated(event_id=self.fresh(), student_id=sid, occurred_on=self.day, award="completion"))

    @rule(offset=st.integers(-200, 900), credits=st.sampled_from(("3", "5", "6")))
    def new_course_version(self, offset: int, credits: str) -> None:
        day = self.day + timedelta(offset)
        if day in self.versions:
            return
        self.versions.add(day)
        self.ledger.load_catalog(cl.Catalog.from_data({"institutions": [HNJX], "courses": [{
            "institution": "HNJX", "code": "MECH101", "title": f"机械制图 ({day})", "credits": credits,
            "category": "core", "level": "foundation", "valid_from": day.isoformat()}]}))

    @rule(step=st.sampled_from((0, 1, 7, 90, 365, 800, -30)))
    def time_passes(self, step: int) -> None:
        self.day += timedelta(step)

    @rule(data=st.data(), edit=st.sampled_from(("head", "catalog", "as_of", "stable_until", "other_student",
                                                 "wrong_type", "garbage", "delete")))
    def edit_kept_row(self, data: st.DataObject, edit: str) -> None:
        store = self.ledger._store
        with store.write() as conn:
            if not summary_cache.exists(conn):
                return
            found = conn.exec_driver_sql("SELECT program, student_id, summary FROM audit_summaries "
                                         "ORDER BY program, student_id").fetchall()
            if not found:
                return
            program, sid, text = data.draw(st.sampled_from(found))
            try:  # an earlier step may have left garbage there: edits of the JSON then have nothing to edit
                json.loads(text) if text is not None else None
            except ValueError:
                text = None
            p = store._param
            where = f"WHERE program = {p} AND student_id = {p}"
            if edit == "head":
                conn.exec_driver_sql(f"UPDATE audit_summaries SET head = 'f00d' {where}", (program, sid))
            elif edit == "catalog":
                conn.exec_driver_sql(f"UPDATE audit_summaries SET catalog = 'f00d' {where}", (program, sid))
            elif edit == "as_of":
                conn.exec_driver_sql(f"UPDATE audit_summaries SET as_of = '2020-01-01' {where}", (program, sid))
            elif edit == "stable_until":
                conn.exec_driver_sql(f"UPDATE audit_summaries SET stable_until = '2099-01-01' {where}", (program, sid))
            elif edit == "other_student" and text is not None:
                row = json.loads(text)
                row["student_id"] = "R9"
                conn.exec_driver_sql(f"UPDATE audit_summaries SET summary = {p} {where}", (json.dumps(row), program,
                                                                                           sid))
            elif edit == "wrong_type" and text is not None:
                row = json.loads(text)
                row["total"] = "many"
                conn.exec_driver_sql(f"UPDATE audit_summaries SET summary = {p} {where}", (json.dumps(row), program,
                                                                                           sid))
            elif edit == "garbage":
                conn.exec_driver_sql(f"UPDATE audit_summaries SET summary = '[1, 2' {where}", (program, sid))
            elif edit == "delete":
                conn.exec_driver_sql(f"DELETE FROM audit_summaries {where}", (program, sid))

    @rule(program=st.sampled_from((None, "CNC-SR-2025")),
          students=st.sampled_from((STUDENTS, STUDENTS[:2] + ("NOBODY",))))
    def refresh(self, program: str | None, students: tuple[str, ...]) -> None:
        full = list(self.ledger.audit_all(list(students), self.day, program=program, detail="summary"))
        again = list(self.ledger.audit_all(list(students), self.day, program=program, detail="summary", refresh=True))
        assert again == full

    @invariant()
    def refreshed_equals_a_full_batch(self) -> None:
        full = list(self.ledger.audit_all(as_of=self.day, detail="summary"))
        again = list(self.ledger.audit_all(as_of=self.day, detail="summary", refresh=True))
        assert again == full
        # nothing changed since: the next refresh re-audits nobody
        calls: list[int] = []
        original = batch.audit_in_chunks

        def counting(catalogs: Any, students: list[str], *args: Any, **kwargs: Any) -> Any:
            calls.append(len(students))
            return original(catalogs, students, *args, **kwargs)

        batch.audit_in_chunks = counting
        try:
            assert list(self.ledger.audit_all(as_of=self.day, detail="summary", refresh=True)) == full
        finally:
            batch.audit_in_chunks = original
        assert calls == [0]


RefreshMachine.TestCase.settings = settings(max_examples=200 if DEEP else 25, stateful_step_count=12,
                                            deadline=None)
TestRefreshOnSqlite = RefreshMachine.TestCase


def test_refresh_machine_on_postgresql(pg_databases: PgDatabases) -> None:
    class OnPostgres(RefreshMachine):
        def new_ledger_url(self) -> str:
            return pg_databases.new()

        def drop_ledger(self) -> None:
            pg_databases.drop(self.url)

    run_state_machine_as_test(OnPostgres, settings=settings(RefreshMachine.TestCase.settings,
                                                            max_examples=100 if DEEP else 10))


def test_refresh_needs_summaries() -> None:
    ledger = cl.Ledger.open()
    try:
        with pytest.raises(ValueError, match="summary"):
            list(ledger.audit_all(as_of=START, refresh=True))
    finally:
        ledger.close()



def test_summaries_cross_between_processes_as_rows_and_equal_the_reports(tmp_path) -> None:
    """A summary batch in two processes: the same summaries as the full reports' (in order, students without an
    enrolment skipped); a refresh after one new event re-audits only that student (in this process: fewer than
    ``batch.REFRESH_IN_PROCESSES``), and one after the kept batch is emptied audits everyone again."""
    url = str(tmp_path / "ledger.db")
    with cl.Ledger.open(url, create=True) as ledger:
        ledger.load_catalog(cl.Catalog.sample())
        ids = [f"P{i}" for i in range(9)]
        for i, sid in enumerate(ids):
            ledger.append(cl.Enrolled(event_id=f"{sid}-e", student_id=sid, occurred_on=START, institution="HNJX",
                                      program="CNC-SR-2025"))
            ledger.append(cl.CourseCompleted(event_id=f"{sid}-c", student_id=sid, occurred_on=START + timedelta(100),
                                             institution="HNJX", course=COURSES[i % len(COURSES)], grade=60 + i))
        day = date(2026, 7, 1)
        asked = ids[:4] + ["NOBODY"] + ids[4:]
        reports = list(ledger.audit_all(asked, day, workers=2, chunk=2))
        summaries = list(ledger.audit_all(asked, day, workers=2, chunk=2, detail="summary"))
        assert summaries == [r.summary() for r in reports] and len(summaries) == len(ids)
        assert list(ledger.audit_all(asked, day, workers=2, chunk=2, detail="summary", refresh=True)) == summaries
        ledger.append(cl.CourseCompleted(event_id="P3-late", student_id="P3", occurred_on=day, institution="HNJX",
                                         course="PUB101", grade=90))
        with ledger._store.read() as conn:
            heads = ledger._store.heads(conn, ids)
            kept = summary_cache.rows(ledger._store, conn, "", ids)
        assert [sid for sid in ids if kept[sid][0] != heads[sid][1]] == ["P3"]
        full = list(ledger.audit_all(asked, day, detail="summary"))
        assert list(ledger.audit_all(asked, day, workers=2, chunk=2, detail="summary", refresh=True)) == full
        summary_cache.clear(ledger._store)
        assert list(ledger.audit_all(asked, day, detail="summary", refresh=True)) == full
        # a refresh that audits no one again begins no write (nor waits for the write lock behind an import)
        begun: list[str] = []

        def record(conn: Any) -> None:
            begun.append(conn.get_execution_options().get("sqlite_begin", "DEFERRED"))

        event.listen(ledger._store.engine, "begin", record)
        try:
            assert list(ledger.audit_all(asked, day, detail="summary", refresh=True)) == full
            assert begun and "IMMEDIATE" not in begun
            ledger.append(cl.CourseCompleted(event_id="P4-late", student_id="P4", occurred_on=day,
                                             institution="HNJX", course="PUB101", grade=90))
            begun.clear()
            assert list(ledger.audit_all(asked, day, detail="summary", refresh=True)) == list(
                ledger.audit_all(asked, day, detail="summary"))
            assert begun.count("IMMEDIATE") == 1  # the one audited again is kept
        finally:
            event.remove(ledger._store.engine, "begin", record)


def test_a_kept_summary_is_no_way_around_the_right_to_read(tmp_path) -> None:
    url = str(tmp_path / "ledger.db")
    with cl.Ledger.open(url, create=True) as ledger:
        ledger.load_catalog(cl.Catalog.sample())
        ledger.append(cl.Enrolled(event_id="A-e", student_id="A", occurred_on=START, institution="HNJX",
                                  program="CNC-SR-2025"))
        day = date(2025, 7, 1)
        kept = list(ledger.audit_all(["A"], day, detail="summary", refresh=True))
        assert [s.student_id for s in kept] == ["A"]
        other = ledger.acting_for("SANY-HV")
        with pytest.raises(cl.PermissionDenied):
            list(other.audit_all(["A"], day, detail="summary"))
        with pytest.raises(cl.PermissionDenied):
            list(other.audit_all(["A"], day, detail="summary", refresh=True))
        assert list(ledger.acting_for("HNJX").audit_all(["A"], day, detail="summary", refresh=True)) == kept
