"""Schema versions: a new ledger records its version; an older one is upgraded in one transaction (or left as it
was); a newer one, or tables without a version, are refused with a message naming the versions. Both engines."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import create_engine, inspect
from sqlalchemy.exc import DBAPIError

import credit_ledger as cl
from credit_ledger import storage
from credit_ledger.identifiers import RULES_VERSION
from credit_ledger.migrations import SEQ_COLUMNS
from credit_ledger.storage import SCHEMA_VERSION, normalise_url

INDEX = "ix_events_kind_recorded_by"


def _raw(url: str):
    """A plain engine on the ledger's database (no guards, no library)."""
    return create_engine(normalise_url(url))


def _version(url: str) -> str:
    engine = _raw(url)
    with engine.connect() as conn:
        found = conn.exec_driver_sql("SELECT value FROM ledger_meta WHERE key = 'schema_version'").scalar()
    engine.dispose()
    return found


def _set_version(url: str, value: str, *, drop_index: bool = False) -> None:
    engine = _raw(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"UPDATE ledger_meta SET value = '{value}' WHERE key = 'schema_version'")
        if drop_index:
            conn.exec_driver_sql(f"DROP INDEX {INDEX}")
    engine.dispose()


def _has_index(url: str) -> bool:
    engine = _raw(url)
    with engine.connect() as conn:
        names = {i["name"] for i in inspect(conn).get_indexes("events")}
    engine.dispose()
    return INDEX in names


def _populated(url: str, catalog: cl.Catalog) -> str:
    with cl.Ledger.open(url, create=True) as ledger:
        ledger.load_catalog(catalog)
        ledger.append(cl.Enrolled(event_id="S1-enrol", student_id="S1", occurred_on=date(2025, 9, 1),
                                  institution="HNJX", program="CNC-SR-2025"))
        ledger.append(cl.CourseCompleted(event_id="S1-c1", student_id="S1", occurred_on=date(2026, 1, 5),
                                         institution="HNJX", course="MECH101", grade=80))
        return ledger.head()


def test_a_new_ledger_records_the_current_version(ledger_url):
    with cl.Ledger.open(ledger_url, create=True):
        pass
    assert _version(ledger_url) == str(SCHEMA_VERSION)
    assert _has_index(ledger_url)


def test_a_version_1_ledger_is_upgraded_on_open(ledger_url, catalog):
    head = _populated(ledger_url, catalog)
    _set_version(ledger_url, "1", drop_index=True)
    assert not _has_index(ledger_url)
    with cl.Ledger.open(ledger_url) as ledger:
        assert ledger.head() == head and ledger.count() == 2 and ledger.verify().ok
        assert ledger.balance("S1").total == 4
    assert _version(ledger_url) == str(SCHEMA_VERSION)
    assert _has_index(ledger_url)


def test_a_failed_upgrade_leaves_the_ledger_at_its_old_version(ledger_url, catalog, monkeypatch):
    _populated(ledger_url, catalog)
    _set_version(ledger_url, "1", drop_index=True)

    def half_done(conn):
        storage.upgrade_1_to_2(conn)
        raise RuntimeError("the upgrade failed half-way")

    monkeypatch.setitem(storage.MIGRATIONS, 1, half_done)
    with pytest.raises(RuntimeError, match="half-way"):
        cl.Ledger.open(ledger_url)
    assert _version(ledger_url) == "1"
    assert not _has_index(ledger_url)  # the index made before the failure was rolled back with it
    monkeypatch.undo()
    with cl.Ledger.open(ledger_url) as ledger:
        assert ledger.verify().ok and ledger.count() == 2
    assert _version(ledger_url) == str(SCHEMA_VERSION)


def test_a_newer_ledger_is_refused_naming_both_versions(ledger_url, catalog):
    head = _populated(ledger_url, catalog)
    _set_version(ledger_url, "99")
    with pytest.raises(cl.CreditLedgerError, match=rf"schema version 99; this credit_ledger knows versions 1 to "
                                                   rf"{SCHEMA_VERSION}: upgrade credit_ledger"):
        cl.Ledger.open(ledger_url)
    assert _version(ledger_url) == "99"
    _set_version(ledger_url, str(SCHEMA_VERSION))
    with cl.Ledger.open(ledger_url) as ledger:
        assert ledger.head() == head


@pytest.mark.parametrize("value", ["0", "two", ""])
def test_an_unreadable_version_is_refused(ledger_url, catalog, value):
    _populated(ledger_url, catalog)
    _set_version(ledger_url, value)
    with pytest.raises(cl.CreditLedgerError, match=rf"opens versions 1 to {SCHEMA_VERSION} only"):
        cl.Ledger.open(ledger_url)


def test_ledger_tables_without_a_version_are_refused(ledger_url):
    engine = _raw(ledger_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE events (seq INTEGER PRIMARY KEY, payload TEXT)")
    engine.dispose()
    with pytest.raises(cl.CreditLedgerError, match="no schema version"):
        cl.Ledger.open(ledger_url)


# -- version 3: the skeletons of the stored ids ------------------------------------------------------------------------


def _as_version_2(url: str) -> None:
    """Make a ledger look as version 2 left it: no ``identifiers`` table, no rules version."""
    engine = _raw(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE ledger_meta SET value = '2' WHERE key = 'schema_version'")
        conn.exec_driver_sql("DELETE FROM ledger_meta WHERE key = 'identifier_rules'")
        conn.exec_driver_sql("DROP TABLE identifiers")
    engine.dispose()


def _identifier_rows(url: str) -> int:
    engine = _raw(url)
    with engine.connect() as conn:
        found = conn.exec_driver_sql("SELECT COUNT(*) FROM identifiers").scalar()
    engine.dispose()
    return found


def test_a_version_2_ledger_is_upgraded_with_the_skeletons_of_its_ids(ledger_url, catalog, monkeypatch):
    from credit_ledger import id_checks

    head = _populated(ledger_url, catalog)
    with cl.Ledger.open(ledger_url) as ledger, monkeypatch.context() as m:  # look-alikes a version 2 ledger took
        m.setattr(id_checks, "problems", lambda value: [])
        m.setattr(id_checks, "_existing", lambda *args: None)
        ledger.append(cl.Enrolled(event_id="x-enrol", student_id="\u04051", occurred_on=date(2025, 9, 1),
                                  institution="HNJX", program="CNC-SR-2025"))
        head = ledger.head()
    _as_version_2(ledger_url)
    with cl.Ledger.open(ledger_url) as ledger:
        assert _version(ledger_url) == str(SCHEMA_VERSION) == "4"
        assert _identifier_rows(ledger_url) == 3  # one row per event row
        report = ledger.verify()
        assert report.ok and ledger.head() == head
        assert [(i.student_id, i.code) for i in report.identifier_issues] == [("\u04051", "id_lookalike")]
        with pytest.raises(cl.RejectedEvent, match="id_lookalike"):  # the upgraded index knows S1 and Ѕ1
            ledger.append(cl.Enrolled(event_id="y-enrol", student_id="Sl", occurred_on=date(2025, 9, 1),
                                      institution="HNJX", program="CNC-SR-2025"))
        ledger.append(cl.CourseCompleted(event_id="x-c1", student_id="\u04051", occurred_on=date(2026, 1, 5),
                                         institution="HNJX", course="MECH101", grade=80))  # a stored id goes on


def test_a_failed_upgrade_to_version_3_leaves_version_2(ledger_url, catalog, monkeypatch):
    _populated(ledger_url, catalog)
    _as_version_2(ledger_url)

    def half_done(conn):
        storage.upgrade_2_to_3(conn)
        raise RuntimeError("the upgrade failed half-way")

    monkeypatch.setitem(storage.MIGRATIONS, 2, half_done)
    with pytest.raises(RuntimeError, match="half-way"):
        cl.Ledger.open(ledger_url)
    assert _version(ledger_url) == "2"
    engine = _raw(ledger_url)
    with engine.connect() as conn:
        assert "identifiers" not in inspect(conn).get_table_names()
    engine.dispose()


def test_skeletons_made_under_other_rules_are_made_again(ledger_url, catalog):
    _populated(ledger_url, catalog)
    engine = _raw(ledger_url)
    with engine.begin() as conn:  # as an older release of the rules (or of Unicode's data) left them
        conn.exec_driver_sql("UPDATE ledger_meta SET value = 'older rules' WHERE key = 'identifier_rules'")
        conn.exec_driver_sql("UPDATE identifiers SET event_key = 'stale', student_key = NULL")
    engine.dispose()
    with cl.Ledger.open(ledger_url) as ledger:
        with pytest.raises(cl.RejectedEvent, match="id_lookalike"):
            ledger.append(cl.Enrolled(event_id="y-enrol", student_id="Sl", occurred_on=date(2025, 9, 1),
                                      institution="HNJX", program="CNC-SR-2025"))
        ledger.append(cl.CourseCompleted(event_id="S1-c2", student_id="S1", occurred_on=date(2026, 1, 6),
                                         institution="HNJX", course="CNC201", grade=80))
    engine = _raw(ledger_url)
    with engine.connect() as conn:
        rules = conn.exec_driver_sql("SELECT value FROM ledger_meta WHERE key = 'identifier_rules'").scalar()
        stale = conn.exec_driver_sql("SELECT COUNT(*) FROM identifiers WHERE event_key = 'stale'").scalar()
    engine.dispose()
    assert rules == RULES_VERSION and stale == 0


# -- version 4: 64-bit seqs on PostgreSQL ------------------------------------------------------------------------------


def _as_version_3(url: str) -> None:
    """Make a ledger look as version 3 left it: on PostgreSQL, its seq columns 32-bit ``INTEGER``."""
    engine = _raw(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE ledger_meta SET value = '3' WHERE key = 'schema_version'")
        if conn.dialect.name == "postgresql":
            for table, columns in SEQ_COLUMNS.items():
                conn.exec_driver_sql(f"ALTER TABLE {table} "
                                     + ", ".join(f"ALTER COLUMN {c} TYPE INTEGER" for c in columns))
    engine.dispose()


def _seq_types(url: str) -> set[str]:
    """The types of every seq column (``migrations.SEQ_COLUMNS``), as the database names them."""
    engine = _raw(url)
    with engine.connect() as conn:
        found = {str(c["type"]) for table, columns in SEQ_COLUMNS.items()
                 for c in inspect(conn).get_columns(table) if c["name"] in columns}
    engine.dispose()
    return found


def _takes_a_seq_past_32_bits(url: str) -> bool:
    """Whether ``events.seq`` holds 3,000,000,000 (tried in a transaction that is rolled back)."""
    engine = _raw(url)
    try:
        with engine.connect() as conn, conn.begin() as tx:
            conn.exec_driver_sql(
                "INSERT INTO events (seq, event_id, student_id, student_seq, kind, occurred_on, recorded_at, payload, "
                "prev_hash, event_hash) VALUES (3000000000, 'far', 'far', 3000000000, 'enrolled', '2025-09-01', "
                "'now', '{}', 'x', 'y')")
            tx.rollback()
        return True
    except DBAPIError:
        return False
    finally:
        engine.dispose()


def _upgraded_to_4(url: str, head: str) -> None:
    expected = {"BIGINT"} if url.startswith("postgresql") else {"INTEGER"}
    with cl.Ledger.open(url) as ledger:
        assert _version(url) == str(SCHEMA_VERSION) == "4"
        assert _seq_types(url) == expected and _takes_a_seq_past_32_bits(url)
        report = ledger.verify()
        assert report.ok and report.checked == 2 and ledger.head() == head  # the hash chain is as it was
        ledger.append(cl.CourseCompleted(event_id="S1-c2", student_id="S1", occurred_on=date(2026, 1, 6),
                                         institution="HNJX", course="CNC201", grade=80))
        assert ledger.verify().ok and [e.event_id for e in ledger.events("S1")] == ["S1-enrol", "S1-c1", "S1-c2"]
        with pytest.raises(cl.RejectedEvent, match="id_lookalike"):
            ledger.append(cl.Enrolled(event_id="y-enrol", student_id="Sl", occurred_on=date(2025, 9, 1),
                                      institution="HNJX", program="CNC-SR-2025"))


def test_a_new_ledger_has_64_bit_seqs(ledger_url):
    with cl.Ledger.open(ledger_url, create=True):
        pass
    assert _seq_types(ledger_url) == ({"BIGINT"} if ledger_url.startswith("postgresql") else {"INTEGER"})
    assert _takes_a_seq_past_32_bits(ledger_url)


def test_a_version_3_ledger_is_upgraded_to_64_bit_seqs(ledger_url, catalog):
    head = _populated(ledger_url, catalog)
    _as_version_3(ledger_url)
    if ledger_url.startswith("postgresql"):  # the old shape: 32 bits
        assert _seq_types(ledger_url) == {"INTEGER"} and not _takes_a_seq_past_32_bits(ledger_url)
    _upgraded_to_4(ledger_url, head)


def test_a_version_2_ledger_is_upgraded_to_version_4(ledger_url, catalog):
    head = _populated(ledger_url, catalog)
    _as_version_3(ledger_url)
    _as_version_2(ledger_url)
    _upgraded_to_4(ledger_url, head)
    assert _identifier_rows(ledger_url) == 3


def test_a_failed_upgrade_to_version_4_leaves_version_3(ledger_url, catalog, monkeypatch):
    head = _populated(ledger_url, catalog)
    _as_version_3(ledger_url)
    old = _seq_types(ledger_url)

    def half_done(conn):
        storage.upgrade_3_to_4(conn)
        raise RuntimeError("the upgrade failed half-way")

    monkeypatch.setitem(storage.MIGRATIONS, 3, half_done)
    with pytest.raises(RuntimeError, match="half-way"):
        cl.Ledger.open(ledger_url)
    assert _version(ledger_url) == "3" and _seq_types(ledger_url) == old
    monkeypatch.undo()
    _upgraded_to_4(ledger_url, head)
