"""PostgreSQL's own tamper tests (the SQLite ones edit the file in ``test_integrity``): the triggers refuse UPDATE,
DELETE and TRUNCATE even to a superuser; a superuser who drops them and edits rows is caught by ``verify()``, which
names the row; reopening the ledger puts the triggers back."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.engine import make_url

import credit_ledger as cl
from credit_ledger.chain import row_hash
from credit_ledger.storage import GUARDED_TABLES

try:
    import psycopg
except ImportError:  # every test here asks for a database: conftest skips them, saying why (or fails them, in CI)
    psycopg = None

COURSES = ("MECH101", "MECH102", "ELEC101")


def _sql(url: str) -> psycopg.Connection:
    """A superuser's own connection to the ledger's database, in autocommit."""
    u = make_url(url)
    return psycopg.connect(host=u.host, port=u.port, user=u.username, password=u.password, dbname=u.database,
                           autocommit=True)


@pytest.fixture
def pg_ledger(pg_url: str, catalog: cl.Catalog) -> cl.Ledger:
    led = cl.Ledger.open(pg_url, create=True)
    led.load_catalog(catalog)
    for s in ("S1", "S2"):
        led.append(cl.Enrolled(event_id=f"{s}-enrol", student_id=s, occurred_on=date(2025, 9, 1),
                               institution="HNJX", program="CNC-SR-2025"))
        led.append_many([cl.CourseCompleted(event_id=f"{s}-{c}", student_id=s, occurred_on=date(2026, 1, 5 + i),
                                            institution="HNJX", course=c, grade=70 + i) for i, c in enumerate(COURSES)])
    assert led.verify().ok
    yield led
    led.close()


def _drop_guards(db: psycopg.Connection) -> None:
    for table in GUARDED_TABLES:
        db.execute(f"DROP TRIGGER {table}_append_only ON {table}")
        db.execute(f"DROP TRIGGER {table}_no_truncate ON {table}")


@pytest.mark.parametrize("table", GUARDED_TABLES)
@pytest.mark.parametrize("statement", ["UPDATE {t} SET seq = seq WHERE seq = 1", "DELETE FROM {t} WHERE seq = 1",
                                       "TRUNCATE {t}"])
def test_guards_refuse_even_a_superuser(pg_ledger, pg_url, table, statement):
    head, count = pg_ledger.head(), pg_ledger.count()
    with _sql(pg_url) as db:
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            db.execute(statement.format(t=table))
    assert (pg_ledger.head(), pg_ledger.count()) == (head, count) and pg_ledger.verify().ok


def test_an_updated_row_is_named_by_verify(pg_ledger, pg_url):
    with _sql(pg_url) as db:
        _drop_guards(db)
        seq = db.execute("SELECT seq FROM events WHERE event_id = 'S2-MECH102'").fetchone()[0]
        db.execute("UPDATE events SET payload = replace(payload, '71', '99') WHERE seq = %s", (seq,))
    report = pg_ledger.verify()
    assert not report.ok and report.first_bad_seq == seq
    assert "S2-MECH102" in report.reason and "altered" in report.reason
    with pytest.raises(cl.IntegrityError, match=f"first bad row: {seq}"):
        pg_ledger.verify(strict=True)


def test_a_rehashed_row_is_caught_by_its_checkpoint(pg_ledger, pg_url):
    with _sql(pg_url) as db:
        _drop_guards(db)
        seq, student_seq, recorded_at, payload, prev = db.execute(
            "SELECT seq, student_seq, recorded_at, payload, prev_hash FROM events WHERE event_id = 'S2-ELEC101'"
        ).fetchone()
        forged = payload.replace('"72"', '"99"') if '"72"' in payload else payload.replace("72", "99")
        assert forged != payload
        db.execute("UPDATE events SET payload = %s, event_hash = %s WHERE seq = %s",
                   (forged, row_hash(prev, student_seq, recorded_at, forged), seq))
    report = pg_ledger.verify()
    assert not report.ok and "checkpoint" in report.reason


def test_a_deleted_row_is_named_by_verify(pg_ledger, pg_url):
    with _sql(pg_url) as db:
        _drop_guards(db)
        seq = db.execute("SELECT seq FROM events WHERE event_id = 'S1-MECH102'").fetchone()[0]
        db.execute("DELETE FROM events WHERE seq = %s", (seq,))
    report = pg_ledger.verify()
    assert not report.ok and report.first_bad_seq == seq and "missing" in report.reason


def test_an_edited_catalog_is_caught(pg_ledger, pg_url):
    with _sql(pg_url) as db:
        _drop_guards(db)
        db.execute("UPDATE catalogs SET content = content || ' ' WHERE seq = 1")
    report = pg_ledger.verify()
    assert not report.ok and "catalog" in report.reason


def test_reopening_puts_the_guards_back(pg_ledger, pg_url):
    with _sql(pg_url) as db:
        _drop_guards(db)
    cl.Ledger.open(pg_url).close()
    with _sql(pg_url) as db:
        for table in GUARDED_TABLES:
            with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                db.execute(f"DELETE FROM {table}")
            with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                db.execute(f"TRUNCATE {table}")
    assert pg_ledger.verify().ok


def test_the_tables_have_postgresql_types(pg_ledger, pg_url):
    with _sql(pg_url) as db:
        types = dict(db.execute("SELECT column_name, data_type FROM information_schema.columns "
                                "WHERE table_name = 'events'").fetchall())
    assert types["occurred_on"] == "date" and types["payload"] == "text" and types["seq"] == "bigint"
    assert pg_ledger.events("S1")[0].occurred_on == date(2025, 9, 1)


def test_a_bulk_append_refreshes_the_planners_statistics(pg_url, catalog):
    """On a young table's stale statistics the per-student look-ups become seq scans (an import ran 7x slower)."""
    with cl.Ledger.open(pg_url, create=True) as led:
        led.load_catalog(catalog)
        students = [f"B{i:04d}" for i in range(1200)]
        led.append_many([cl.Enrolled(event_id=f"{s}-enrol", student_id=s, occurred_on=date(2025, 9, 1),
                                     institution="HNJX", program="CNC-SR-2025") for s in students])
        with _sql(pg_url) as db:
            estimate = db.execute("SELECT reltuples FROM pg_class WHERE relname = 'events'").fetchone()[0]
        assert estimate >= 1000
        assert led.verify().ok
