"""Schema versions: what each version of the ledger's tables added, and the upgrade from each to the next.

``storage`` records the version in ``ledger_meta`` and, opening a ledger of an older version, runs the upgrades from
its version on (``MIGRATIONS``) inside the transaction that opens it: all or nothing, a failed upgrade leaves the
ledger at its old version. Each upgrade is SQL over a connection; none changes a row of the hash chain.

>>> sorted(MIGRATIONS), SCHEMA_VERSION
([1, 2, 3], 4)
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

from .identifiers import RULES_VERSION, skeleton_key

SCHEMA_VERSION = 4
"""The version of the tables this library writes, recorded in ``ledger_meta``. 1: the first tables; 2: an index on
``events (kind, recorded_by)``, for what an acting institution may read; 3: ``identifiers``, the skeleton of every
student and event id, for the look-alike check; 4: every column that holds an event's ``seq`` is a 64-bit integer on
PostgreSQL (room past 2,147,483,647 rows; SQLite's integers always were). Opening a ledger of an older version
upgrades it (``MIGRATIONS``) in the transaction that opens it; a newer one is refused, naming both versions."""

SEQ_COLUMNS = {"events": ("seq", "student_seq"), "checkpoints": ("seq", "first_seq", "last_seq"),
               "identifiers": ("seq",)}
"""The columns that hold a seq (an event's, a student's row count, a checkpoint's and the rows it covers): 64-bit
integers since version 4."""


def upgrade_1_to_2(conn: Connection) -> None:
    """Version 2 adds an index on ``events (kind, recorded_by)``."""
    conn.exec_driver_sql("CREATE INDEX IF NOT EXISTS ix_events_kind_recorded_by ON events (kind, recorded_by)")


def upgrade_2_to_3(conn: Connection) -> None:
    """Version 3 adds ``identifiers`` (made by ``create_all`` before the upgrades run), filled from the events."""
    rebuild_identifiers(conn)


def upgrade_3_to_4(conn: Connection) -> None:
    """Version 4 widens the seq columns (``SEQ_COLUMNS``) to ``BIGINT`` on PostgreSQL: one ``ALTER TABLE`` per table,
    which rewrites it (and its indexes) in the opening transaction, holding its lock meanwhile. The values are the
    same numbers, so no hash changes. Nothing to do on SQLite, whose ``INTEGER`` is 64-bit."""
    if conn.dialect.name != "postgresql":
        return
    for table, columns in SEQ_COLUMNS.items():
        conn.exec_driver_sql(f"ALTER TABLE {table} " + ", ".join(f"ALTER COLUMN {c} TYPE BIGINT" for c in columns))


def identifier_rules(conn: Connection) -> str | None:
    """The rules version the ledger's ``identifiers`` were made under (``None``: never made)."""
    found = conn.exec_driver_sql("SELECT value FROM ledger_meta WHERE key = 'identifier_rules'").scalar()
    return None if found is None else str(found)


def rebuild_identifiers(conn: Connection) -> None:
    """Make ``identifiers`` again from the events, under the current ``identifiers.RULES_VERSION``."""
    param = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    conn.exec_driver_sql("DELETE FROM identifiers")
    students: set[str] = set()
    rows: list[tuple[int, str, str | None]] = []
    insert = f"INSERT INTO identifiers (seq, event_key, student_key) VALUES ({param}, {param}, {param})"
    for seq, event_id, student_id in conn.exec_driver_sql("SELECT seq, event_id, student_id FROM events ORDER BY seq"):
        first = student_id not in students
        students.add(student_id)
        rows.append((seq, skeleton_key(event_id), skeleton_key(student_id) if first else None))
        if len(rows) >= 10_000:
            conn.exec_driver_sql(insert, rows)
            rows = []
    if rows:
        conn.exec_driver_sql(insert, rows)
    updated = conn.exec_driver_sql(f"UPDATE ledger_meta SET value = {param} WHERE key = 'identifier_rules'",
                                   (RULES_VERSION,))
    if not updated.rowcount:
        conn.exec_driver_sql(f"INSERT INTO ledger_meta (key, value) VALUES ('identifier_rules', {param})",
                             (RULES_VERSION,))


MIGRATIONS = {1: upgrade_1_to_2, 2: upgrade_2_to_3, 3: upgrade_3_to_4}
"""``{n: upgrade from version n to n + 1}``; each runs inside the transaction that opens the ledger."""

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "SEQ_COLUMNS", "identifier_rules", "rebuild_identifiers", "upgrade_1_to_2",
           "upgrade_2_to_3", "upgrade_3_to_4"]
