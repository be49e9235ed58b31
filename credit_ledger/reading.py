"""Reading the stored ledger back: what every read of the facade (``Ledger``, batch audits) passes through.

A read checks what it reads. A student's rows become events again only once each row's hash, its link to the row
before it and a checkpoint over it are found sound (``chain.check_record``; else ``IntegrityError`` names the row,
its event and the student), and a row that holds no event was not written by this library either. Rows so checked
are decoded without validating them again (``read_checked_event``); rows read without the check (what a write's
checks and the read rights look at) are validated in full (``read_event``). The stored
catalogs become the ledger's catalog (every one loaded, merged in order, kept current by ``StoredCatalog``) once
each matches its hash and the newest is the one the last checkpoint names. And an acting institution reads a
student's record only with a reason (``access.read_reason``):

>>> event = read_event('{"kind":"enrolled","event_id":"S1-enrol","student_id":"S1","occurred_on":"2025-09-01",'
...                    '"institution":"HNJX","program":"CNC-SR-2025"}', seq=1)
>>> event.program
'CNC-SR-2025'
>>> read_events_leniently(['{"kind":"no such kind"}', event.model_dump_json()]) == [event]
True
"""

from __future__ import annotations

import threading
from typing import Any, Iterable, Sequence

from pydantic import ValidationError
from sqlalchemy.engine import Connection

from .access import READ_KINDS, read_reason, read_refusal
from .chain import GENESIS, ReadRow, check_catalog_rows, check_record
from .errors import IntegrityError, PermissionDenied
from .fast import trusted_decoder
from .models import EVENT_ADAPTER, EVENT_CLASSES, Catalog
from .storage import Store

decode_trusted = trusted_decoder(EVENT_CLASSES)
"""The event of a stored row's JSON as the library wrote it, without validating it again (``fast.trusted_decoder``:
safe after the chain check ``read_record`` makes first); ``None`` for JSON not exactly as the library writes it."""


def read_event(payload: str, seq: int) -> Any:
    """The event the stored row ``seq`` holds, validated in full; a row that holds none raises ``IntegrityError``.
    For rows read without the chain check (what a write's checks and the read rights look at)."""
    try:
        return EVENT_ADAPTER.validate_json(payload)
    except ValidationError as exc:
        raise IntegrityError(f"row {seq} does not hold a valid event ({exc.error_count()} problems, first: "
                             f"{exc.errors()[0]['msg']}); run verify() to find the first altered row") from None


def read_checked_event(payload: str, seq: int) -> Any:
    """The event the stored row ``seq`` holds, once the row was found to be what the library wrote
    (``chain.check_record``, in ``read_record``); a row that holds none raises ``IntegrityError``.

    The row's JSON is decoded as trusted (``decode_trusted``): the library validated every event it wrote, and the
    chain check says this row is one of them. JSON that is not exactly as the library writes it (a row of an older
    version without a field added since, a row written by hand with its hash recomputed) is validated in full
    (``read_event``), and raises ``IntegrityError`` unless it is an event: an unknown kind, a missing or unknown
    field, a value a model refuses. Never half an event."""
    event = decode_trusted(payload)
    return event if event is not None else read_event(payload, seq)


def read_record(student_id: str, rows: Sequence[ReadRow], *, acting_as: str | None,
                catalogs: "StoredCatalog") -> list[Any]:
    """The events of a student's rows as read (``chain.READ_COLUMNS``, in chain order), once the rows are found to be
    what the library wrote (``chain.check_record``) and ``acting_as`` may read them (``require_read``). Every read of
    a student's record passes here.

    A row that is not raises ``IntegrityError`` naming it (seq, event, student), and nothing of the record is used;
    a school that may not read the record gets ``PermissionDenied`` as it would anyway, and learns nothing of it.
    """
    finding = check_record(student_id, rows)
    if finding is not None:
        if acting_as is not None:
            require_read(acting_as, student_id, read_events_leniently(r[4] for r in rows), catalogs=catalogs)
        raise IntegrityError(f"{finding.reason}; nothing of the record of student {student_id} is used "
                             "(verify() checks the whole ledger)")
    events = [read_checked_event(r[4], r[0]) for r in rows]
    for row, event in zip(rows, events, strict=True):
        if event.student_id != student_id:
            raise IntegrityError(f"row {row[0]} (event {row[1]}) is filed under student {student_id} but holds an "
                                 f"event of student {event.student_id}; nothing of the record of student "
                                 f"{student_id} is used (verify() checks the whole ledger)")
    require_read(acting_as, student_id, events, catalogs=catalogs)
    return events


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
        self._head = GENESIS
        """The hash of that stored catalog."""
        self._checked = False
        """Whether the newest stored catalog was once found to be the one the last checkpoint names."""
        self._lock = threading.RLock()
        """One look at a time: threads sharing a ledger (a portal's request threads, a thread pool's batch) would
        otherwise check the same new catalogs against a position another thread has just moved."""

    def sync(self, conn: Connection, newest: int | None = None) -> Catalog:
        """Merge the catalogs stored since the last look (in the transaction of ``conn``); the catalog. The first
        look (when the ledger opens), and every look that finds new catalogs, checks them (``check``). ``newest``:
        the newest stored catalog's seq, when the caller read it in that transaction (``Store.student_read``): no
        query when it is the one merged last."""
        with self._lock:
            if newest == self._merged and self._checked:
                return self.catalog
            rows = self.store.catalogs(conn, after=self._merged)
            if rows or not self._checked:
                self.check(conn, rows)
            if rows:
                catalog = self.catalog
                for _seq, _at, content, _prev, _hash in rows:
                    catalog = catalog.merge(Catalog.from_text(content, source="stored catalog", format="json"))
                self.catalog, self._merged, self._head = catalog, rows[-1][0], rows[-1][4]
            return self.catalog

    def check(self, conn: Connection, rows: Sequence[Any]) -> None:
        """Raise ``IntegrityError`` unless the stored catalogs ``rows`` (those after the last one merged) each match
        their hash and follow the one before, and the newest stored catalog is the one the last checkpoint names (a
        catalog removed, or one put there outside the library, shows as a difference). One hash per new catalog."""
        finding = check_catalog_rows(rows, after=(self._merged, self._head))
        reason = finding.reason if finding is not None else None
        if reason is None:
            newest, named = self.store.catalog_heads(conn)
            if newest != named:
                reason = (f"the newest stored catalog ({newest[:12]}) is not the one the last checkpoint names "
                          f"({named[:12]}): a catalog was removed, altered or put there")
        if reason is not None:
            where = self.store.engine.url.render_as_string(hide_password=True)
            raise IntegrityError(f"ledger {where}: {reason}; nothing is decided by this catalog (verify() checks "
                                 "the whole ledger)")
        self._checked = True

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
    return set(read_reasons(conn, acting_as=acting_as, catalogs=catalogs))


def read_reasons(conn: Connection, *, acting_as: str, catalogs: StoredCatalog) -> dict[str, str]:
    """Why ``acting_as`` may read each student's record it may read (``access.read_reason``: ``own_student``,
    ``agreement``, ``received_statement``), keyed by student (the catalog read in the transaction of ``conn``)."""
    by_student: dict[str, list[str]] = {}
    for student_id, payload in catalogs.store.payloads_of_kinds(conn, READ_KINDS):
        by_student.setdefault(student_id, []).append(payload)
    catalog = catalogs.sync(conn)
    reasons: dict[str, str] = {}
    for s, payloads in by_student.items():
        reason = read_reason(acting_as, read_events_leniently(payloads), catalog=catalog)
        if reason:
            reasons[s] = reason
    return reasons


__all__ = ["StoredCatalog", "decode_trusted", "may_read", "read_checked_event", "read_event", "read_events_leniently",
           "read_reasons", "read_record", "readable_students", "require_read"]
