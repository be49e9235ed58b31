"""Reads check what they read (issue 12, attack 6): with the append-only triggers dropped, a grade edited in a row's
JSON, a middle row deleted, a forged row inserted or re-hashed, a row filed under another student, a course's credits
edited in the stored catalog or a forged catalog added are refused by every read (``events``, ``transcript``,
``balance``, ``status``, ``audit``, ``audit_all`` here and in worker processes, statements, conversion, the exports
and the command) with ``IntegrityError`` naming the row, its event and the student. Both engines."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Callable

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

import credit_ledger as cl
from credit_ledger.chain import content_hash, row_hash
from credit_ledger.cli import app
from credit_ledger.storage import GUARDED_TABLES, normalise_url

runner = CliRunner()
COURSES = ["MECH101", "PUB101", "CNC201", "PUB102", "CNC202", "PUB103"]
STUDENTS = ["S1", "S2", "S3"]
ON = date(2026, 7, 1)
KEY = Ed25519PrivateKey.generate()


def _populate(ledger: cl.Ledger) -> None:
    """Three students: enrolments in one batch, then two batches of courses, then one course alone."""
    ledger.append_many(cl.Enrolled(event_id=f"{s}-enrol", student_id=s, occurred_on=date(2025, 9, 1),
                                   institution="HNJX", program="CNC-SR-2025") for s in STUDENTS)
    for half in (COURSES[:3], COURSES[3:]):
        ledger.append_many(
            cl.CourseCompleted(event_id=f"{s}-{c}", student_id=s, occurred_on=date(2026, 1, 5) + timedelta(days=i),
                               institution="HNJX", course=c, grade=70 + i)
            for s in STUDENTS for i, c in enumerate(half))
    ledger.append(cl.CourseCompleted(event_id="S1-EL101", student_id="S1", occurred_on=date(2026, 6, 1),
                                     institution="HNJX", course="EL101", grade=90))


@pytest.fixture
def populated(file_ledger: cl.Ledger) -> cl.Ledger:
    _populate(file_ledger)
    assert file_ledger.verify().ok
    return file_ledger


def _tamper(url: str, *statements: tuple[str, dict[str, Any]], drop_guards: bool = True) -> None:
    """Edit the ledger's database as an operator with a database client would: the append-only triggers dropped
    (unless an INSERT, which they allow, is all that is done), then the statements run."""
    engine = create_engine(normalise_url(url))
    try:
        with engine.begin() as conn:
            if drop_guards and engine.dialect.name == "sqlite":
                for (name,) in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'").all():
                    conn.exec_driver_sql(f"DROP TRIGGER {name}")
            elif drop_guards:
                for table in GUARDED_TABLES:
                    conn.exec_driver_sql(f"DROP TRIGGER {table}_append_only ON {table}")
                    conn.exec_driver_sql(f"DROP TRIGGER {table}_no_truncate ON {table}")
            for sql, params in statements:
                conn.execute(text(sql), params)
    finally:
        engine.dispose()


def _row(url: str, event_id: str) -> dict[str, Any]:
    engine = create_engine(normalise_url(url))
    try:
        with engine.connect() as conn:
            return dict(conn.execute(text("SELECT * FROM events WHERE event_id = :e"), {"e": event_id}).mappings()
                        .one())
    finally:
        engine.dispose()


def _json(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _regraded(payload: str, score: str) -> str:
    data = json.loads(payload)
    data["grade"] = {"scale": "percent", "score": score, "level": None}
    return _json(data)


def _insert(url: str, row: dict[str, Any]) -> None:
    _tamper(url, (f"INSERT INTO events ({', '.join(row)}) VALUES ({', '.join(':' + k for k in row)})", row),
            drop_guards=False)


# -- the attacks on rows: each returns (student read, seq, event id, what the refusal says) --------------------------


def edit_a_grade(url: str) -> tuple[str, int, str, str]:
    row = _row(url, "S2-CNC201")
    _tamper(url, ("UPDATE events SET payload = :p WHERE seq = :s", {"p": _regraded(row["payload"], "99"),
                                                                      "s": row["seq"]}))
    return "S2", row["seq"], "S2-CNC201", "does not match its hash: it was altered"


def delete_a_middle_row(url: str) -> tuple[str, int, str, str]:
    gone, after = _row(url, "S2-CNC201"), _row(url, "S2-PUB102")
    _tamper(url, ("DELETE FROM events WHERE seq = :s", {"s": gone["seq"]}))
    return "S2", after["seq"], "S2-PUB102", "breaks the chain of student S2"


def delete_the_first_row(url: str) -> tuple[str, int, str, str]:
    gone, after = _row(url, "S3-enrol"), _row(url, "S3-MECH101")
    _tamper(url, ("DELETE FROM events WHERE seq = :s", {"s": gone["seq"]}))
    return "S3", after["seq"], "S3-MECH101", "breaks the chain of student S3"


def insert_a_forged_row(url: str) -> tuple[str, int, str, str]:
    """A row that extends S2's chain exactly as the library would (no trigger stops an INSERT); no checkpoint
    covers it."""
    last = _row(url, "S2-PUB103")
    payload = json.loads(last["payload"])
    payload.update(event_id="forged", course="EL101", grade={"scale": "percent", "score": "100", "level": None})
    payload = _json(payload)
    forged = dict(last, seq=last["seq"] + 100, event_id="forged", student_seq=last["student_seq"] + 1,
                  prev_hash=last["event_hash"], payload=payload, subject="HNJX/EL101",
                  event_hash=row_hash(last["event_hash"], last["student_seq"] + 1, last["recorded_at"], payload))
    _insert(url, forged)
    return "S2", forged["seq"], "forged", "is not covered by any checkpoint"


def rewrite_a_row_with_its_hash(url: str) -> tuple[str, int, str, str]:
    """A row's grade edited and its own hash recomputed: the next row of the student no longer links to it."""
    row, after = _row(url, "S2-CNC201"), _row(url, "S2-PUB102")
    payload = _regraded(row["payload"], "99")
    _tamper(url, ("UPDATE events SET payload = :p, event_hash = :h WHERE seq = :s",
                  {"p": payload, "h": row_hash(row["prev_hash"], row["student_seq"], row["recorded_at"], payload),
                   "s": row["seq"]}))
    return "S2", after["seq"], "S2-PUB102", "breaks the chain of student S2"


def file_a_row_under_another_student(url: str) -> tuple[str, int, str, str]:
    """S2's last row filed under S9 (S2's chain, one row shorter, is whole: see ``test_what_a_read_cannot_see``)."""
    row = _row(url, "S2-PUB103")
    _tamper(url, ("UPDATE events SET student_id = 'S9' WHERE seq = :s", {"s": row["seq"]}))
    return "S9", row["seq"], "S2-PUB103", "breaks the chain of student S9"


def file_a_record_under_another_student(url: str) -> tuple[str, int, str, str]:
    """Every row of S2 filed under S9, who has none: the chain is whole, but it is S2's record."""
    first = _row(url, "S2-enrol")
    _tamper(url, ("UPDATE events SET student_id = 'S9' WHERE student_id = 'S2'", {}))
    return "S9", first["seq"], "S2-enrol", "is filed under student S9 but holds an event of student S2"


ATTACKS: dict[str, Callable[[str], tuple[str, int, str, str]]] = {
    f.__name__: f for f in (edit_a_grade, delete_a_middle_row, delete_the_first_row, insert_a_forged_row,
                            rewrite_a_row_with_its_hash, file_a_row_under_another_student,
                            file_a_record_under_another_student)}


READS: dict[str, Callable[[cl.Ledger, str, dict[str, Any]], Any]] = {
    "events": lambda led, s, _: led.events(s),
    "transcript": lambda led, s, _: led.transcript(s),
    "balance": lambda led, s, _: led.balance(s),
    "status": lambda led, s, _: led.status(s, ON),
    "audit": lambda led, s, _: led.audit(s, as_of=ON),
    "audit_all": lambda led, s, _: list(led.audit_all([s, *(x for x in led.students() if x != s)], as_of=ON)),
    "audit_all of one": lambda led, s, _: list(led.audit_all([s], as_of=ON)),
    "issue_statement": lambda led, s, _: led.issue_statement(s, key=KEY, as_of=ON),
    "convert": lambda led, s, _: led.convert(s, [], as_of=ON, dry_run=True),
    "receive_statement": lambda led, s, given: led.receive_statement(
        given["statement"], trusted_keys={"HNJX": cl.public_key_hex(KEY)}, student_id=s, as_of=ON, dry_run=True),
    "export_sqlite": lambda led, s, given: cl.export_sqlite(led, given["tmp"] / "analysis.db", as_of=ON),
    "transcript_json": lambda led, s, _: cl.transcript_json(led, s),
}
"""Every read of a student's record, by name: ``(ledger, student, given)``, where ``given`` holds a folder to
export into and a statement signed before the tampering (received for the student)."""


def _given(ledger: cl.Ledger, tmp_path: Path) -> dict[str, Any]:
    return {"tmp": tmp_path, "statement": ledger.issue_statement("S1", key=KEY, as_of=ON)}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_every_read_refuses_a_tampered_record(populated, ledger_url, tmp_path, attack):
    given = _given(populated, tmp_path)
    student, seq, event_id, says = ATTACKS[attack](ledger_url)
    for ledger in (populated, cl.Ledger.open(ledger_url)):  # the handle open before, and one opened after
        for name, read in READS.items():
            with pytest.raises(cl.IntegrityError) as caught:
                read(ledger, student, given)
            message = str(caught.value)
            assert f"row {seq} (event {event_id})" in message and f"student {student}" in message, (name, message)
            assert says in message, (name, message)
        assert not (tmp_path / "analysis.db").exists()  # the export refused before it wrote anything
        assert not ledger.verify().ok  # and verify names it too
    untouched = next(s for s in STUDENTS if s != student and not (student == "S9" and s == "S2"))
    assert populated.transcript(untouched).records  # another student's record is read as before


def test_a_batch_audits_worker_processes_refuse_a_tampered_record(populated, ledger_url):
    """With ``workers=2`` and one student a chunk, S2 is audited in the other process: its refusal comes back."""
    _, seq, _, _ = edit_a_grade(ledger_url)
    reports = populated.audit_all(STUDENTS, as_of=ON, workers=2, chunk=1)
    assert next(reports).student_id == "S1"
    with pytest.raises(cl.IntegrityError, match=rf"row {seq} \(event S2-CNC201\) of student S2 does not match"):
        next(reports)


def test_a_school_that_may_not_read_the_record_learns_nothing_of_it(populated, ledger_url):
    edit_a_grade(ledger_url)
    with pytest.raises(cl.IntegrityError, match="S2-CNC201"):
        populated.acting_for("HNJX").transcript("S2")  # its own student
    with pytest.raises(cl.PermissionDenied) as caught:
        populated.acting_for("SANY-HV").transcript("S2")  # as it would be refused anyway
    assert "S2-CNC201" not in str(caught.value) and "altered" not in str(caught.value)


def test_what_a_read_cannot_see_verify_does(populated, ledger_url):
    """A student's last row removed leaves a whole chain, and every row left is covered: a read of the record checks
    what it holds and no more. The checkpoint over the removed row names its hash, and verify reads them all."""
    last = _row(ledger_url, "S3-PUB103")
    _tamper(ledger_url, ("DELETE FROM events WHERE seq = :s", {"s": last["seq"]}))
    assert "PUB103" not in {r.course for r in populated.transcript("S3").records}
    report = populated.verify()
    assert not report.ok and report.first_bad_seq == last["seq"]


# -- the stored catalog -----------------------------------------------------------------------------------------------


def edit_a_courses_credits(url: str) -> str:
    engine = create_engine(normalise_url(url))
    with engine.connect() as conn:
        content = conn.exec_driver_sql("SELECT content FROM catalogs WHERE seq = 1").scalar_one()
    engine.dispose()
    forged = content.replace('"hours":"96.0"', '"hours":"160.0"').replace('"credits":"6.00"', '"credits":"10.00"')
    assert forged != content
    _tamper(url, ("UPDATE catalogs SET content = :c WHERE seq = 1", {"c": forged}))
    return "stored catalog 1 does not match its hash: it was altered"


def add_a_forged_catalog(url: str) -> str:
    """A newer version of a course with more credits, chained to the stored catalogs as the library would chain it
    (no trigger stops an INSERT), but loaded by no one: no checkpoint names it."""
    hnjx = cl.Catalog.sample().institution("HNJX").model_dump(mode="json")
    newer = cl.Catalog.from_data({"institutions": [hnjx], "courses": [{
        "institution": "HNJX", "code": "CNC201", "title": "数控编程", "credits": 20, "category": "core",
        "valid_from": "2025-01-01"}]}, source="forged")
    engine = create_engine(normalise_url(url))
    with engine.connect() as conn:
        seq, prev = conn.exec_driver_sql("SELECT seq, content_hash FROM catalogs ORDER BY seq DESC LIMIT 1").one()
    engine.dispose()
    at, content = "2026-07-01T00:00:00+00:00", newer.to_json()
    _tamper(url, ("INSERT INTO catalogs (seq, loaded_at, content, prev_hash, content_hash) VALUES (:s, :a, :c, :p, :h)",
                  {"s": seq + 1, "a": at, "c": content, "p": prev, "h": content_hash(prev, at, content)}),
            drop_guards=False)
    return "the newest stored catalog"


def delete_the_stored_catalog(url: str) -> str:
    _tamper(url, ("DELETE FROM catalogs", {}))
    return "is not the one the last checkpoint names"


CATALOG_ATTACKS = {f.__name__: f for f in (edit_a_courses_credits, add_a_forged_catalog, delete_the_stored_catalog)}


@pytest.mark.parametrize("attack", sorted(CATALOG_ATTACKS))
def test_a_tampered_catalog_is_found_when_the_ledger_opens(populated, ledger_url, tmp_path, attack):
    given = _given(populated, tmp_path)
    says = CATALOG_ATTACKS[attack](ledger_url)
    with cl.Ledger.open(ledger_url) as again:
        for name, read in READS.items():
            if name in ("events", "status"):  # what the rows hold, and the status they make: no catalog is needed
                read(again, "S2", given)
                continue
            with pytest.raises(cl.IntegrityError, match=says):
                read(again, "S2", given)
        with pytest.raises(cl.IntegrityError, match=says):
            again.load_catalog(cl.Catalog.sample())
        with pytest.raises(cl.IntegrityError, match=says):
            again.append(cl.CourseCompleted(event_id="S2-EL101", student_id="S2", occurred_on=ON, institution="HNJX",
                                            course="EL101", grade=80))
        report = again.verify()  # the ledger still opens, so that verify can say what is wrong
        assert not report.ok and "catalog" in report.reason
        assert again.count() == 3 + 3 * len(COURSES) + 1  # nothing was written


def test_a_handle_open_before_a_forged_catalog_refuses_it_on_its_next_audit(populated, ledger_url):
    # a portal's audit reads the newest catalog's seq with the student's rows (Store.student_read) and looks at the
    # catalogs only when that seq is new: a catalog added behind the open handle's back is new, so it is checked
    before = populated.audit("S2", as_of=ON)
    says = add_a_forged_catalog(ledger_url)
    with pytest.raises(cl.IntegrityError, match=says):
        populated.audit("S2", as_of=ON)
    assert before.credits.total > 0


def test_a_portal_audit_sees_what_another_handle_wrote_since(populated, ledger_url):
    # the roster table and a newer catalog appear through another handle after this one's first audit
    before = populated.audit("S2", as_of=ON)
    assert before.student_name is None
    with cl.Ledger.open(ledger_url) as other:
        other.set_personal("S2", name="李四")
        hnjx = cl.Catalog.sample().institution("HNJX").model_dump(mode="json")
        sample = cl.Catalog.sample()
        latest = {c.code: c for c in sample.courses if c.institution == "HNJX" and c.code not in COURSES}
        newer = [c.model_dump(mode="json") for c in latest.values()]  # the courses S2 still misses cost more
        for c in newer:
            c["credits"], c["valid_from"] = "19.00", (ON - timedelta(days=30)).isoformat()
        other.load_catalog(cl.Catalog.from_data({"institutions": [hnjx], "courses": newer}, source="newer"))
    after = populated.audit("S2", as_of=ON)
    assert after.student_name == "李四"
    assert after.requirements.shortfall > before.requirements.shortfall  # priced by the newer catalog
    with cl.Ledger.open(ledger_url) as fresh:
        assert after == fresh.audit("S2", as_of=ON)


def test_a_batch_audits_worker_processes_check_the_catalog_too(populated, ledger_url):
    """What a worker process runs for its share of ``audit_all``, run here: it opens the ledger itself, and checks
    the stored catalog as it does."""
    from credit_ledger import batch

    edit_a_courses_credits(ledger_url)
    try:
        with pytest.raises(cl.IntegrityError, match="stored catalog 1 does not match its hash"):
            batch.audit_in_worker(populated.url, ["S1"], ON, None, None)
    finally:
        stored = batch._WORKER_STORES.pop(populated.url, None)
        if stored is not None:
            stored.store.close()


# -- the command ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("attack", ["edit_a_grade", "insert_a_forged_row", "edit_a_courses_credits"])
def test_the_command_refuses_a_tampered_ledger_in_one_line(populated, ledger_url, tmp_path, attack):
    found = {**ATTACKS, **CATALOG_ATTACKS}[attack](ledger_url)
    says = found if isinstance(found, str) else f"row {found[1]} (event {found[2]}) of student {found[0]}"
    student = "S2"
    for args in (["transcript", student], ["balance", student], ["audit", student, "--as-of", str(ON)],
                 ["audit-all", "--out", str(tmp_path / "audits.csv"), "--workers", "1"],
                 ["export", str(tmp_path / "analysis.db")]):
        result = runner.invoke(app, [*args, "--db", ledger_url])
        assert result.exit_code == 1, (args, result.output)
        [line] = result.stderr.strip().splitlines()
        assert line.startswith("error: ") and says in line, (args, line)
        assert "Traceback" not in result.output
    assert not (tmp_path / "analysis.db").exists()
    verified = runner.invoke(app, ["verify", "--db", ledger_url, "--json"])
    assert verified.exit_code == 2 and json.loads(verified.stdout)["ok"] is False
