"""The summaries of the last refreshed summary batch, kept for the next (table ``audit_summaries``).

A refresh (``Ledger.audit_all(..., detail="summary", refresh=True)``) re-audits only the students whose record or
catalog changed, or whose summary's ``stable_until`` has passed, and takes the others from here. The table is a
cache, not a record: it is outside the hash chain, ``verify`` does not read it, and it may be emptied or dropped at
any time (the next refresh audits everyone again and fills it). It is made when a refresh first writes to it
(``CREATE TABLE IF NOT EXISTS``), so it needs no schema version of its own and a ledger without it is a ledger.

A row is trusted no further than its key proves. Its key is the student, the program asked for, the hash of the
student's last row (the chain head that the read check established when the summary was computed) and the hash of
the stored catalog, with the days it holds for (``as_of`` to ``stable_until``). A refresh takes a row only when the
student's chain head and the catalog are still those, the day asked for lies in its days, and the row reads back
as a summary of that student on that ``as_of`` with that ``stable_until``; anything else is audited again. So a
row edited by hand either says what an audit of that chain and catalog said, or is recomputed: what no key can
prove is the summary's content itself (whoever can write the table can write any summary under a true key), so a
ledger whose database others may write should not refresh, or should empty the table first (``clear``).

>>> from credit_ledger.storage import Store
>>> store = Store.open()
>>> with store.write() as conn:
...     ensure(conn)
...     put(store, conn, "", [("S1", "h1", "c1", "2027-07-01", None, None)])
>>> with store.read() as conn:
...     rows(store, conn, "", ["S1", "S2"])
{'S1': ('h1', 'c1', '2027-07-01', None, None)}
"""

from __future__ import annotations

from typing import Any, Sequence

from sqlalchemy.engine import Connection

from .storage import Store, table_exists

TABLE = "audit_summaries"

_CREATE = (f"CREATE TABLE IF NOT EXISTS {TABLE} (program TEXT NOT NULL, student_id TEXT NOT NULL, head TEXT NOT NULL, "
           "catalog TEXT NOT NULL, as_of TEXT NOT NULL, stable_until TEXT, summary TEXT, "
           "PRIMARY KEY (program, student_id))")


def ensure(conn: Connection) -> None:
    """Make the table if the ledger has none yet (idempotent)."""
    conn.exec_driver_sql(_CREATE)


def exists(conn: Connection) -> bool:
    """Whether the ledger has the table (``storage.table_exists``)."""
    return table_exists(conn, TABLE)


def rows(store: Store, conn: Connection, program: str, students: Sequence[str], *, heads: bool = False
         ) -> dict[str, tuple[Any, ...]]:
    """The kept rows of ``students`` for ``program``: student -> (head, catalog, as_of, stable_until, summary as
    JSON, or ``None`` for a student the batch skipped), and with ``heads`` the hash of the student's last row now
    (``None`` for a student with no rows), read in the same statement."""
    p = store._param
    now = (", (SELECT e.event_hash FROM events e WHERE e.student_id = s.student_id ORDER BY e.student_seq DESC "
           "LIMIT 1)") if heads else ""
    out: dict[str, tuple[Any, ...]] = {}
    values = sorted(set(students))
    for i in range(0, len(values), 900):
        chunk = values[i:i + 900]
        marks = ", ".join([p] * len(chunk))
        for r in conn.exec_driver_sql(f"SELECT s.student_id, s.head, s.catalog, s.as_of, s.stable_until, s.summary"
                                      f"{now} FROM {TABLE} s WHERE s.program = {p} AND s.student_id IN ({marks})",
                                      (program, *chunk)).fetchall():  # all at once, not a Python call per row
            out[r[0]] = r[1:]
    return out


def put(store: Store, conn: Connection, program: str,
        found: Sequence[tuple[str, str, str, str, str | None, str | None]]) -> None:
    """Keep ``found`` rows (student, head, catalog, as_of, stable_until, summary JSON or ``None``) for ``program``,
    replacing the students' rows kept before."""
    p = store._param
    values = [f[0] for f in found]
    for i in range(0, len(values), 900):
        chunk = values[i:i + 900]
        marks = ", ".join([p] * len(chunk))
        conn.exec_driver_sql(f"DELETE FROM {TABLE} WHERE program = {p} AND student_id IN ({marks})", (program, *chunk))
    if found:
        conn.exec_driver_sql(f"INSERT INTO {TABLE} (program, student_id, head, catalog, as_of, stable_until, summary) "
                             f"VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p})", [(program, *f) for f in found])


def clear(store: Store) -> None:
    """Forget every kept summary (the next refresh audits everyone)."""
    with store.write() as conn:
        if exists(conn):
            conn.exec_driver_sql(f"DELETE FROM {TABLE}")


__all__ = ["TABLE", "clear", "ensure", "exists", "put", "rows"]
