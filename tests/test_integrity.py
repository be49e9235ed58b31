"""Integrity: the database refuses UPDATE and DELETE on the guarded tables, and when someone drops the guards and
edits the SQLite file anyway, ``verify()`` names the first row that is not what the library wrote."""

from __future__ import annotations

import json
import sqlite3
from datetime import date, timedelta
from pathlib import Path

import pytest

import credit_ledger as cl
from credit_ledger.chain import row_hash
from credit_ledger.storage import GUARDED_TABLES

COURSES = ["MECH101", "PUB101", "CNC201", "PUB102", "CNC202", "PUB103"]
STUDENTS = ["S1", "S2", "S3"]


def _populate(ledger: cl.Ledger) -> None:
    """Three students: enrolments in one batch, then two batches of courses (so checkpoints cover many rows)."""
    ledger.append_many(cl.Enrolled(event_id=f"{s}-enrol", student_id=s, occurred_on=date(2025, 9, 1),
                                   institution="HNJX", program="CNC-SR-2025") for s in STUDENTS)
    for half in (COURSES[:3], COURSES[3:]):
        ledger.append_many(
            cl.CourseCompleted(event_id=f"{s}-{c}", student_id=s, occurred_on=date(2026, 1, 5) + timedelta(days=i),
                               institution="HNJX", course=c, grade=70 + i)
            for s in STUDENTS for i, c in enumerate(half))
    # a single-event append at the end, in its own checkpoint
    ledger.append(cl.CourseCompleted(event_id="S1-EL101", student_id="S1", occurred_on=date(2026, 6, 1),
                                     institution="HNJX", course="EL101", grade=90))


@pytest.fixture
def db_path(file_ledger, tmp_path) -> Path:
    """The populated file ledger's SQLite file."""
    _populate(file_ledger)
    assert file_ledger.verify().ok
    return tmp_path / "ledger.db"


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)
    db.row_factory = sqlite3.Row
    return db


def _drop_guards(db: sqlite3.Connection) -> None:
    names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")]
    assert names, "the ledger has no triggers to drop"
    for name in names:
        db.execute(f"DROP TRIGGER {name}")


def _row(db: sqlite3.Connection, event_id: str) -> sqlite3.Row:
    return db.execute("SELECT * FROM events WHERE event_id = ?", (event_id,)).fetchone()


def _checkpoint_first_seq(db: sqlite3.Connection, seq: int) -> int:
    return db.execute("SELECT first_seq FROM checkpoints WHERE first_seq <= ? AND last_seq >= ?",
                      (seq, seq)).fetchone()[0]


def _regraded(payload: str, score: str) -> str:
    data = json.loads(payload)
    data["grade"] = {"scale": "percent", "score": score, "level": None}
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


# -- guards ---------------------------------------------------------------------------------------------------------

STATEMENTS = {
    "events": ["UPDATE events SET payload = '{}' WHERE seq = 2", "UPDATE events SET student_id = 'X'",
               "DELETE FROM events WHERE seq = 2", "DELETE FROM events"],
    "checkpoints": ["UPDATE checkpoints SET checkpoint_hash = 'x' WHERE seq = 1", "DELETE FROM checkpoints",
                    "DELETE FROM checkpoints WHERE seq = (SELECT MAX(seq) FROM checkpoints)"],
    "catalogs": ["UPDATE catalogs SET content = '{}'", "DELETE FROM catalogs"],
}


def test_every_guarded_table_has_statements():
    assert set(STATEMENTS) == set(GUARDED_TABLES)


@pytest.mark.parametrize("sql", [s for table in GUARDED_TABLES for s in STATEMENTS[table]])
def test_guards_refuse_update_and_delete(db_path, file_ledger, sql):
    head, count = file_ledger.head(), file_ledger.count()
    db = _connect(db_path)
    try:
        with pytest.raises((sqlite3.IntegrityError, sqlite3.OperationalError), match="append-only"):
            db.execute(sql)
    finally:
        db.close()
    assert file_ledger.verify().ok
    assert (file_ledger.head(), file_ledger.count()) == (head, count)


def test_guards_hold_inside_a_transaction(db_path, file_ledger):
    db = _connect(db_path)
    try:
        db.execute("BEGIN")
        with pytest.raises((sqlite3.IntegrityError, sqlite3.OperationalError), match="append-only"):
            db.execute("DELETE FROM events WHERE seq = 3")
        db.execute("COMMIT")
    finally:
        db.close()
    assert file_ledger.verify().ok


def test_guards_come_back_on_reopen(db_path, file_ledger):
    file_ledger.close()
    db = _connect(db_path)
    _drop_guards(db)
    db.close()
    with cl.Ledger.open(str(db_path)):
        db = _connect(db_path)
        try:
            with pytest.raises((sqlite3.IntegrityError, sqlite3.OperationalError), match="append-only"):
                db.execute("DELETE FROM events")
        finally:
            db.close()


def test_inserts_are_allowed_by_the_guards_but_caught_by_verify(db_path, file_ledger):
    db = _connect(db_path)
    try:
        # a well-formed row that extends S2's chain correctly, but no checkpoint covers it
        row = dict(_row(db, "S2-PUB103"))
        seq = db.execute("SELECT MAX(seq) FROM events").fetchone()[0] + 1
        payload = json.loads(row["payload"])
        payload.update(event_id="forged", grade={"scale": "percent", "score": "100", "level": None})
        payload = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        row.update(seq=seq, event_id="forged", student_seq=row["student_seq"] + 1, prev_hash=row["event_hash"],
                   payload=payload,
                   event_hash=row_hash(row["event_hash"], row["student_seq"] + 1, row["recorded_at"], payload))
        db.execute(f"INSERT INTO events ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", tuple(row.values()))
    finally:
        db.close()
    report = file_ledger.verify()
    assert not report.ok
    assert report.first_bad_seq == seq


# -- tampering with the guards dropped ------------------------------------------------------------------------------


def test_changed_payload_is_caught_at_its_row(db_path, file_ledger):
    db = _connect(db_path)
    try:
        _drop_guards(db)
        row = _row(db, "S2-CNC201")
        db.execute("UPDATE events SET payload = ? WHERE seq = ?", (_regraded(row["payload"], "99"), row["seq"]))
    finally:
        db.close()
    report = file_ledger.verify()
    assert not report.ok
    assert report.first_bad_seq == row["seq"]
    assert "altered" in report.reason


def test_rehashed_chain_is_caught_by_the_checkpoint(db_path, file_ledger):
    db = _connect(db_path)
    try:
        _drop_guards(db)
        target = _row(db, "S2-CNC201")
        # the altered row sits inside a batch, so its checkpoint starts before it
        first = _checkpoint_first_seq(db, target["seq"])
        assert first < target["seq"]
        rows = db.execute("SELECT * FROM events WHERE student_id = ? AND student_seq >= ? ORDER BY student_seq",
                          (target["student_id"], target["student_seq"])).fetchall()
        assert len(rows) > 1  # the rest of the chain must be recomputed too
        prev = target["prev_hash"]
        for row in rows:
            payload = _regraded(row["payload"], "99") if row["seq"] == target["seq"] else row["payload"]
            new_hash = row_hash(prev, row["student_seq"], row["recorded_at"], payload)
            db.execute("UPDATE events SET payload = ?, prev_hash = ?, event_hash = ? WHERE seq = ?",
                       (payload, prev, new_hash, row["seq"]))
            prev = new_hash
    finally:
        db.close()
    report = file_ledger.verify()
    assert not report.ok
    assert report.first_bad_seq == first
    assert "checkpoint" in report.reason
    # a chain re-hashed from the altered row on passes a read's own check (each row matches its hash and links to
    # the one before): only the checkpoints, which verify reads, see it
    grades = {r.course: r.score for r in file_ledger.transcript("S2").records}
    assert str(grades["CNC201"]) == "99"


def test_deleted_middle_row_is_named(db_path, file_ledger):
    db = _connect(db_path)
    try:
        _drop_guards(db)
        seq = _row(db, "S1-PUB101")["seq"]
        db.execute("DELETE FROM events WHERE seq = ?", (seq,))
    finally:
        db.close()
    report = file_ledger.verify()
    assert not report.ok
    assert report.first_bad_seq == seq
    assert "missing" in report.reason


def test_deleted_last_row_of_the_ledger_is_detected(db_path, file_ledger):
    db = _connect(db_path)
    try:
        _drop_guards(db)
        last = db.execute("SELECT MAX(seq) FROM events").fetchone()[0]
        db.execute("DELETE FROM events WHERE seq = ?", (last,))
    finally:
        db.close()
    report = file_ledger.verify()
    assert not report.ok
    assert report.first_bad_seq == last


def test_deleted_last_rows_of_a_batch_are_detected(db_path, file_ledger):
    db = _connect(db_path)
    try:
        _drop_guards(db)
        # drop the single-event final append and its checkpoint, and the last row of the batch before it
        last_cp = db.execute("SELECT seq, first_seq FROM checkpoints ORDER BY seq DESC LIMIT 1").fetchone()
        db.execute("DELETE FROM checkpoints WHERE seq = ?", (last_cp["seq"],))
        db.execute("DELETE FROM events WHERE seq >= ?", (last_cp["first_seq"] - 1,))
    finally:
        db.close()
    report = file_ledger.verify()
    assert not report.ok
    assert report.first_bad_seq == last_cp["first_seq"] - 1


def test_deleted_last_event_of_one_student_is_detected(db_path, file_ledger):
    db = _connect(db_path)
    try:
        _drop_guards(db)
        ledger_last = db.execute("SELECT MAX(seq) FROM events").fetchone()[0]
        row = db.execute("SELECT seq FROM events WHERE student_id = 'S3' ORDER BY student_seq DESC LIMIT 1").fetchone()
        assert row["seq"] != ledger_last
        db.execute("DELETE FROM events WHERE seq = ?", (row["seq"],))
    finally:
        db.close()
    report = file_ledger.verify()
    assert not report.ok
    assert report.first_bad_seq == row["seq"]


def test_renumbered_rows_after_a_deletion_are_detected(db_path, file_ledger):
    """Deleting a row and shifting the later seqs down leaves no gap; the chain and the checkpoints still tell."""
    db = _connect(db_path)
    try:
        _drop_guards(db)
        seq = _row(db, "S3-enrol")["seq"]
        db.execute("DELETE FROM events WHERE seq = ?", (seq,))
        for (later,) in db.execute("SELECT seq FROM events WHERE seq > ? ORDER BY seq", (seq,)).fetchall():
            db.execute("UPDATE events SET seq = ? WHERE seq = ?", (later - 1, later))
    finally:
        db.close()
    report = file_ledger.verify()
    assert not report.ok
    assert report.first_bad_seq is not None and report.first_bad_seq <= seq + 1


@pytest.mark.parametrize("column, value", [
    ("student_id", "S9"), ("event_id", "forged-id"), ("kind", "enrolled"), ("occurred_on", "2020-01-01"),
    ("subject", "HNJX/CNC202"), ("recorded_by", "XTJX"), ("student_seq", 99), ("prev_hash", "0" * 64),
    ("event_hash", "f" * 64), ("recorded_at", "2020-01-01T00:00:00+00:00"),
])
def test_changed_column_without_payload_is_caught(db_path, file_ledger, column, value):
    db = _connect(db_path)
    try:
        _drop_guards(db)
        seq = _row(db, "S2-CNC201")["seq"]
        db.execute(f"UPDATE events SET {column} = ? WHERE seq = ?", (value, seq))
    finally:
        db.close()
    report = file_ledger.verify()
    assert not report.ok
    assert report.first_bad_seq == seq


def test_changed_checkpoint_is_caught(db_path, file_ledger):
    db = _connect(db_path)
    try:
        _drop_guards(db)
        cp = db.execute("SELECT * FROM checkpoints WHERE seq = 2").fetchone()
        db.execute("UPDATE checkpoints SET checkpoint_hash = ? WHERE seq = 2", ("a" * 64,))
    finally:
        db.close()
    report = file_ledger.verify()
    assert not report.ok
    assert report.first_bad_seq == cp["first_seq"]


def test_altered_catalog_is_caught(db_path, file_ledger):
    db = _connect(db_path)
    try:
        _drop_guards(db)
        content = db.execute("SELECT content FROM catalogs WHERE seq = 1").fetchone()[0]
        forged = content.replace('"hours":"96.0"', '"hours":"160.0"').replace('"credits":"6.00"', '"credits":"10.00"')
        assert forged != content
        db.execute("UPDATE catalogs SET content = ? WHERE seq = 1", (forged,))
    finally:
        db.close()
    report = file_ledger.verify()
    assert not report.ok
    assert "catalog" in report.reason


def test_deleted_catalog_is_caught(db_path, file_ledger):
    """Removing the stored catalog changes what the rows mean (credits come from the catalog), so verify must tell,
    and a ledger opened on it decides nothing by the catalog that is left."""
    db = _connect(db_path)
    try:
        _drop_guards(db)
        db.execute("DELETE FROM catalogs")
    finally:
        db.close()
    with cl.Ledger.open(str(db_path)) as again:
        with pytest.raises(cl.IntegrityError, match="not the one the last checkpoint names"):
            again.balance("S1")
        assert not again.verify().ok


def test_deleted_newest_catalog_is_caught(db_path, file_ledger, catalog):
    hnjx = catalog.institution("HNJX")
    newer = cl.Course(institution="HNJX", code="CNC203", title="CAD/CAM 应用（2027版）", hours=96, category="core",
                      valid_from=date(2027, 9, 1))
    file_ledger.load_catalog(cl.Catalog(institutions=(hnjx,), courses=(newer,)))
    assert file_ledger.verify().ok
    db = _connect(db_path)
    try:
        _drop_guards(db)
        db.execute("DELETE FROM catalogs WHERE seq = (SELECT MAX(seq) FROM catalogs)")
    finally:
        db.close()
    with cl.Ledger.open(str(db_path)) as again:
        with pytest.raises(cl.IntegrityError, match="not the one the last checkpoint names"):
            again.catalog.course("HNJX", "CNC203", on=date(2027, 9, 1))  # the older version would answer otherwise
        assert not again.verify().ok


def test_published_head_reveals_a_truncated_ledger(db_path, file_ledger):
    """Removing the last append and its checkpoint leaves a consistent prefix; only the published head tells."""
    published = file_ledger.head()
    db = _connect(db_path)
    try:
        _drop_guards(db)
        cp = db.execute("SELECT seq, first_seq FROM checkpoints ORDER BY seq DESC LIMIT 1").fetchone()
        db.execute("DELETE FROM checkpoints WHERE seq = ?", (cp["seq"],))
        db.execute("DELETE FROM events WHERE seq >= ?", (cp["first_seq"],))
    finally:
        db.close()
    assert file_ledger.verify().ok
    assert file_ledger.head() != published


# -- honest ledgers -------------------------------------------------------------------------------------------------


def test_one_students_rows_are_checked_alone(file_ledger, ledger_url):
    """``chain.check_student_rows`` checks a student's rows as read back, without the rest of the ledger (what a read
    of one record can afford): each row's hash, and its link to the row before it."""
    from credit_ledger.chain import check_student_rows
    from credit_ledger.storage import Store

    _populate(file_ledger)
    store = Store.open(ledger_url)
    try:
        with store.read() as conn:
            rows = list(store.iter_event_rows(conn))
    finally:
        store.close()
    mine = {s: [r for r in rows if r[2] == s] for s in STUDENTS}
    assert all(check_student_rows(mine[s]) is None for s in STUDENTS)
    s1 = mine["S1"]
    gap = check_student_rows(s1[:2] + s1[3:])
    assert gap is not None and gap.seq == s1[3][0] and "breaks the chain of student S1" in gap.reason
    assert check_student_rows(s1[1:]) is not None  # the first row kept must start the chain
    assert check_student_rows(s1[1:], head=(1, s1[0][11])) is None  # ...unless its head is given
    altered = s1[2][:9] + (s1[2][9].replace('"grade":', '"grade": ', 1),) + s1[2][10:]
    found = check_student_rows(s1[:2] + [altered] + s1[3:])
    assert found is not None and found.seq == s1[2][0] and "does not match its hash" in found.reason


def test_fresh_ledger_verifies_with_nothing_checked():
    with cl.Ledger.open() as fresh:
        report = fresh.verify()
        assert report.ok and report.checked == 0 and report.first_bad_seq is None and report.reason is None


def test_fresh_ledger_with_catalog_verifies(ledger):
    report = ledger.verify()
    assert report.ok and report.checked == 0


def test_populated_ledger_verifies(db_path, file_ledger):
    report = file_ledger.verify()
    assert report.ok
    assert report.checked == file_ledger.count() == 3 + 3 * len(COURSES) + 1


def test_many_appends_verify(ledger):
    students = [f"M{i:03d}" for i in range(40)]
    ledger.append_many(cl.Enrolled(event_id=f"{s}-enrol", student_id=s, occurred_on=date(2025, 9, 1),
                                   institution="HNJX", program="CNC-SR-2025") for s in students)
    for i, course in enumerate(COURSES):
        # some batches, some single appends, interleaving the students' chains
        events = [cl.CourseCompleted(event_id=f"{s}-{course}", student_id=s, occurred_on=date(2026, 1, 5 + i),
                                     institution="HNJX", course=course, grade=60 + (j + i) % 40)
                  for j, s in enumerate(students)]
        if i % 2:
            for e in events:
                ledger.append(e)
        else:
            ledger.append_many(events)
    report = ledger.verify()
    assert report.ok
    assert report.checked == ledger.count() == len(students) * (1 + len(COURSES))


def test_reappending_identical_events_keeps_the_ledger_valid(db_path, file_ledger):
    head, count = file_ledger.head(), file_ledger.count()
    receipt = file_ledger.append(cl.CourseCompleted(event_id="S1-EL101", student_id="S1",
                                                    occurred_on=date(2026, 6, 1), institution="HNJX",
                                                    course="EL101", grade=90))
    assert receipt.seq == count
    assert (file_ledger.head(), file_ledger.count()) == (head, count)
    assert file_ledger.verify().ok


def test_refused_append_leaves_no_trace(db_path, file_ledger):
    head, count = file_ledger.head(), file_ledger.count()
    with pytest.raises(cl.RejectedEvent):
        file_ledger.append_many([
            cl.CourseCompleted(event_id="S1-EL102", student_id="S1", occurred_on=date(2026, 6, 2),
                               institution="HNJX", course="EL102", grade=80),
            cl.CourseCompleted(event_id="S9-EL102", student_id="S9", occurred_on=date(2026, 6, 2),
                               institution="HNJX", course="EL102", grade=80),  # S9 is not enrolled
        ])
    assert (file_ledger.head(), file_ledger.count()) == (head, count)
    assert file_ledger.verify().ok


def test_reopen_gives_identical_head_and_transcripts(db_path, file_ledger):
    head = file_ledger.head()
    transcripts = {s: file_ledger.transcript(s) for s in STUDENTS}
    balances = {s: file_ledger.balance(s) for s in STUDENTS}
    events = {s: file_ledger.events(s) for s in STUDENTS}
    assert head != "0" * 64
    file_ledger.close()
    with cl.Ledger.open(str(db_path)) as again:
        assert again.head() == head
        assert again.students() == STUDENTS
        assert {s: again.transcript(s) for s in STUDENTS} == transcripts
        assert {s: again.balance(s) for s in STUDENTS} == balances
        assert {s: again.events(s) for s in STUDENTS} == events
        assert again.verify().ok
    with cl.Ledger.open(f"sqlite:///{db_path}") as by_url:
        assert by_url.head() == head


def test_head_moves_with_every_append(file_ledger):
    heads = [file_ledger.head()]
    file_ledger.append(cl.Enrolled(event_id="H-enrol", student_id="H", occurred_on=date(2025, 9, 1),
                                   institution="HNJX", program="CNC-SR-2025"))
    heads.append(file_ledger.head())
    file_ledger.append(cl.CourseCompleted(event_id="H-MECH101", student_id="H", occurred_on=date(2026, 1, 5),
                                          institution="HNJX", course="MECH101", grade=80))
    heads.append(file_ledger.head())
    assert len(set(heads)) == 3
    # loading the catalog wrote a checkpoint over no rows, binding the catalog to the chain
    assert heads[0] != "0" * 64


def test_fresh_ledger_head_is_genesis():
    with cl.Ledger.open() as empty:
        assert empty.head() == "0" * 64


@pytest.mark.sqlite_only
def test_a_row_that_holds_no_event_raises_integrity_error(file_ledger, tmp_path):
    file_ledger.append(cl.Enrolled(event_id="X-enrol", student_id="X", occurred_on=date(2025, 9, 1),
                                   institution="HNJX", program="CNC-SR-2025"))
    db = sqlite3.connect(tmp_path / "ledger.db", isolation_level=None)
    db.execute("DROP TRIGGER events_no_update")
    db.execute("""UPDATE events SET payload = '{"kind": "enrolled"}' WHERE event_id = 'X-enrol'""")
    db.close()
    with pytest.raises(cl.IntegrityError, match="row 1"):
        file_ledger.events("X")
    with pytest.raises(cl.IntegrityError, match="first bad row: 1"):
        file_ledger.verify(strict=True)
    report = file_ledger.verify()
    assert not report.ok and report.first_bad_seq == 1


def test_strict_verify_of_a_sound_ledger_returns_the_report(file_ledger):
    assert file_ledger.verify(strict=True).ok
