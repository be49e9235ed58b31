"""Reading the stored ledger back: what every read of the facade (``Ledger``, batch audits) passes through.

A stored row's JSON becomes an event again (a row that holds none was not written by this library); the stored
catalogs become the ledger's catalog (every one loaded, merged in order, kept current by ``StoredCatalog``); and an
acting institution reads a student's record only with a reason (``access.read_reason``):

>>> event = read_event('{"kind":"enrolled","event_id":"S1-enrol","student_id":"S1","occurred_on":"2025-09-01",'
...                    '"institution":"HNJX","program":"CNC-SR-2025"}', seq=1)
>>> event.program
'CNC-SR-2025'
>>> read_events_leniently(['{"kind":"no such kind"}', event.model_dump_json()]) == [event]
True
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

from pydantic import ValidationError
from sqlalchemy.engine import Connection

from .access import READ_KINDS, read_reason, read_refusal
from .errors import IntegrityError, PermissionDenied
from .models import EVENT_ADAPTER, Catalog
from .storage import Store


def read_event(payload: str, seq: int) -> Any:
    """The event the stored row ``seq`` holds; a row that holds none raises ``IntegrityError``."""
    try:
        return EVENT_ADAPTER.validate_json(payload)
    except ValidationError as exc:
        raise IntegrityError(f"row {seq} does not hold a valid event ({exc.error_count()} problems, first: "
                             f"{exc.errors()[0]['msg']}); run verify() to find the first altered row") from None


def read_events_leniently(payloads: Iterable[str]) -> list[Any]:
    """The events of stored JSON that reads as one (a deciding row that does not is simply no reason)."""
    out = []
    for payload in payloads:
        try:
            out.append(EVENT_ADAPTER.validate_json(payload))
        except ValidationError:
            continue
    return out


class StoredCatalog:
    """A store and the catalog stored in it: every catalog ever loaded, merged in order. Another process may load
    one at any time, so ``sync`` (inside a transaction) or ``current`` merges those stored since the last look."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.catalog = Catalog()
        """The catalog as of the last look."""
        self._merged = 0
        """The ``seq`` of the last stored catalog merged into ``catalog``."""

    def sync(self, conn: Connection) -> Catalog:
        """Merge the catalogs stored since the last look (in the transaction of ``conn``); the catalog."""
        rows = self.store.catalogs(conn, after=self._merged)
        if rows:
            catalog = self.catalog
            for _seq, _at, content, _prev, _hash in rows:
                catalog = catalog.merge(Catalog.from_text(content, source="stored catalog", format="json"))
            self.catalog, self._merged = catalog, rows[-1][0]
        return self.catalog

    def current(self) -> Catalog:
        """The catalog, after a look at the store."""
        with self.store.read() as conn:
            return self.sync(conn)


def require_read(acting_as: str | None, student_id: str, events: Sequence[Any], *, catalogs: StoredCatalog) -> None:
    """With ``acting_as``: raise ``PermissionDenied`` unless the institution may read this student's record
    (``events``: the whole record as stored). Every read of a student's record passes here."""
    if acting_as is not None and read_reason(acting_as, events, catalog=catalogs.current()) is None:
        raise PermissionDenied([read_refusal(acting_as, student_id)])


def may_read(conn: Connection, student_id: str, *, acting_as: str, catalogs: StoredCatalog) -> bool:
    """Whether ``acting_as`` may read this student's record (reads only the rows that decide, and the catalog, in the
    transaction of ``conn``: a second one on the same connection would fail on an in-memory ledger)."""
    rows = catalogs.store.rows_of_kinds(conn, [student_id], READ_KINDS)
    return read_reason(acting_as, read_events_leniently(r[4] for r in rows), catalog=catalogs.sync(conn)) is not None


def readable_students(conn: Connection, *, acting_as: str, catalogs: StoredCatalog) -> set[str]:
    """Every student whose record ``acting_as`` may read (the catalog read in the transaction of ``conn``)."""
    by_student: dict[str, list[str]] = {}
    for student_id, payload in catalogs.store.payloads_of_kinds(conn, READ_KINDS):
        by_student.setdefault(student_id, []).append(payload)
    catalog = catalogs.sync(conn)
    return {s for s, payloads in by_student.items()
            if read_reason(acting_as, read_events_leniently(payloads), catalog=catalog)}


__all__ = ["StoredCatalog", "may_read", "read_event", "read_events_leniently", "readable_students", "require_read"]
