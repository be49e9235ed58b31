"""What the checks of a batch need to know of the students already in the ledger, read in the write transaction.

``checks.check_batch`` is a pure rule: it is handed, per student of the batch, the head of the student's hash chain,
a ``StudentContext`` (status events, reversed events, converted outcomes), the latest date of the status-dependent
records, the make-ups that still count for the courses the batch makes up, the stored events the batch's
reversals and corrections refer to, and the graduation audit behind each award (on the award's date, over the
history before it). ``StudentContexts`` reads all of that in a few bulk queries, and keeps the students' contexts
between appends (a cache, bounded and evicted by hand: the ledger's rows never change, only grow, so a context is
current while no other writer has appended for its student since).

>>> import credit_ledger as cl
>>> from datetime import date
>>> from credit_ledger.storage import Store
>>> store = Store.open()
>>> contexts = StudentContexts(store, limit=2)
>>> enrolled = cl.Enrolled(event_id="S1-enrol", student_id="S1", occurred_on=date(2025, 9, 1), institution="HNJX",
...                        program="CNC-SR-2025")
>>> with store.write() as conn:
...     known = contexts.for_batch(conn, [enrolled], catalog=cl.Catalog.sample())
>>> known.seq, known.heads, known.contexts     # a new ledger: a new student, nothing known
(0, {}, {})
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from itertools import islice
from typing import Any, Sequence

from pydantic_core import to_json
from sqlalchemy.engine import Connection

from .checks import DEPENDENT_KINDS
from .errors import UnknownReference
from .graduation import AuditReport, audit_history
from .history import StudentContext
from .models import STATUS_KINDS, Catalog
from .reading import read_event
from .statements import ReceiptKey, receipt_keys
from .storage import Store

CONTEXT_KINDS = STATUS_KINDS | {"entry_reversed", "outcome_converted"}
"""The kinds of row a ``StudentContext`` is built from."""
CACHE_STUDENTS = 100_000
"""At most about this many students' check contexts (a few KB each) are kept between appends; the ones cached
longest ago go first. A cache only: a student not in it is read from the ledger."""

RECEIPT_SEARCH_LIMIT = 16
"""Up to this many ids, the database searches the recognition rows for them; past it, every recognition row is read
once (a search per id per row would cost more than reading each row)."""

Head = tuple[int, str]
"""The head of a student's chain: ``(student_seq, event_hash)`` of its last row."""
Learnt = dict[str, tuple[StudentContext, date | None]]
"""What the checks learnt per student (``check_batch``'s ``after``): the context with the batch folded in, and the
latest status-dependent date."""


@dataclass(frozen=True, slots=True)
class BatchContext:
    """What the checks of one batch need to know of the stored ledger (the arguments of ``check_batch`` it reads)."""

    seq: int
    """The ledger's highest ``seq`` (the batch is chained after it)."""
    heads: dict[str, Head]
    """The chain head of each of the batch's students already in the ledger."""
    contexts: dict[str, StudentContext]
    last_dependent: dict[str, date]
    makeups: dict[tuple[str, str, str], int]
    known_events: dict[str, Any]
    audits: dict[str, AuditReport] | None
    outcome_recorders: dict[tuple[str, str, str], set[str | None]] | None = None
    """When the batch revokes outcomes: who recorded the stored conversions of each (``outcome_recorders``)."""
    receipts: dict[ReceiptKey, tuple[str, str]] | None = None
    """When the batch recognises credit from statements: their stored receipts (``statement_receipts``)."""


class StudentContexts:
    """The check contexts of a ledger's students, kept between appends of one ``Ledger`` object (on its store).

    ``for_batch`` reads what a batch's checks need (kept contexts first); ``keep`` keeps what the checks learnt,
    once the batch is committed (a refused or failed batch leaves the cache as it was).
    """

    def __init__(self, store: Store, *, limit: int | None = None) -> None:
        self.store = store
        self.limit = CACHE_STUDENTS if limit is None else limit
        """At most this many students are kept (``CACHE_STUDENTS`` by default)."""
        self._kept: dict[str, tuple[Head, date | None, StudentContext]] = {}
        self._seq = -1
        """The ledger's highest seq right after our last append: while it is unchanged, the cache is current."""

    def __len__(self) -> int:
        """How many students' contexts are kept."""
        return len(self._kept)

    def for_batch(self, conn: Connection, new: Sequence[Any], *, catalog: Catalog) -> BatchContext:
        """What the checks of ``new`` need to know, read in the write transaction of ``conn``."""
        store = self.store
        seq = store.max_seq(conn)
        if seq != self._seq:
            self._forget_students_written_since(conn, seq)
        heads, contexts, last_dependent = self._contexts(conn, {e.student_id for e in new})
        makeups = makeups_of(store, conn, new, contexts)
        targets = {e.target_event_id for e in new if e.kind in ("entry_reversed", "grade_corrected")}
        known = ({s.event_id: read_event(s.payload, s.seq) for s in store.find_events(conn, targets).values()}
                 if targets else {})
        audits = award_audits(store, conn, new, catalog=catalog)
        revoked = {(e.student_id, e.outcome_type, e.outcome_id) for e in new if e.kind == "outcome_revoked"}
        recorders = outcome_recorders(store, conn, revoked) if revoked else None
        named = {key for e in new if e.kind == "credit_recognized" for key in receipt_keys(e)}
        receipts = statement_receipts(store, conn, named) if named else None
        return BatchContext(seq, heads, contexts, last_dependent, makeups, known, audits, recorders, receipts)

    def keep(self, learnt: Learnt, heads: dict[str, Head], seq: int) -> None:
        """Keep what the checks learnt of each student of a committed batch (and its new chain head); ``seq`` is the
        ledger's highest seq after it. The students kept longest ago go first when there are too many."""
        kept = self._kept
        kept.update({sid: (heads[sid], day, ctx) for sid, (ctx, day) in learnt.items()})
        if len(kept) > self.limit:
            for student_id in list(islice(kept, len(kept) - self.limit * 3 // 4)):
                del kept[student_id]
        self._seq = seq

    def forget(self) -> None:
        """Forget every kept context: what was kept of a write that was then rolled back (``Ledger.writing``)."""
        self._kept.clear()
        self._seq = -1

    def _forget_students_written_since(self, conn: Connection, seq: int) -> None:
        """Another writer appended since our last append: drop the kept contexts of the students it wrote for
        (rows are never removed and seq only grows, so the rows after our last seq are exactly what changed)."""
        if self._kept:
            if 0 <= self._seq and seq - self._seq <= 10 * self.limit:
                for student_id in self.store.students_since(conn, self._seq):
                    self._kept.pop(student_id, None)
            else:
                self._kept.clear()
        self._seq = seq

    def _contexts(self, conn: Connection, students: set[str]
                  ) -> tuple[dict[str, Head], dict[str, StudentContext], dict[str, date]]:
        """The chain heads of the batch's students, their contexts, and the latest date of each one's
        status-dependent records: kept ones (current as of the ledger's highest seq, see
        ``_forget_students_written_since``), else from a few bulk queries. New students have none of these."""
        store = self.store
        heads: dict[str, Head] = {}
        contexts: dict[str, StudentContext] = {}
        last_dependent: dict[str, date] = {}
        unseen: set[str] = set()
        kept = self._kept
        for student_id in students:
            cached = kept.get(student_id)
            if cached is None:
                unseen.add(student_id)
                continue
            heads[student_id], day, contexts[student_id] = cached
            if day is not None:
                last_dependent[student_id] = day
        if unseen:
            found = store.heads(conn, unseen)
            heads.update(found)
            stale = found.keys()
            loaded: dict[str, tuple[list[Any], set[str], set[tuple[str, str]]]] = {}
            for student_id, seq, kind, subject, payload in store.rows_of_kinds(conn, stale, CONTEXT_KINDS):
                status, reversed_ids, outcomes = loaded.setdefault(student_id, ([], set(), set()))
                if kind in STATUS_KINDS:
                    status.append(read_event(payload, seq))
                elif kind == "entry_reversed":
                    reversed_ids.add(subject or "")
                elif kind == "outcome_converted":
                    outcome_type, _, outcome_id = (subject or "").partition("/")
                    outcomes.add((outcome_type, outcome_id))
            for student_id in stale:
                status, reversed_ids, outcomes = loaded.get(student_id, ([], set(), set()))
                contexts[student_id] = StudentContext.of(student_id, status, reversed_ids, outcomes)
            last_dependent.update(store.latest_dates(conn, stale, DEPENDENT_KINDS))
        return heads, contexts, last_dependent


def makeups_of(store: Store, conn: Connection, new: Sequence[Any], contexts: dict[str, StudentContext]
               ) -> dict[tuple[str, str, str], int]:
    """Make-ups (补考) that still count per (student, institution, course), for the courses the batch makes up."""
    wanted = {(e.student_id, e.institution, e.course) for e in new
              if e.kind == "course_completed" and e.attempt == "makeup"}
    counts: dict[tuple[str, str, str], int] = {}
    if not wanted:
        return counts
    for student_id, seq, _kind, subject, payload in store.rows_of_kinds(
            conn, {s for s, _, _ in wanted}, {"course_completed"}):
        institution, _, code = (subject or "").partition("/")
        key = (student_id, institution, code)
        if key not in wanted:
            continue
        event = read_event(payload, seq)
        ctx = contexts.get(student_id)
        if event.attempt == "makeup" and (ctx is None or event.event_id not in ctx.reversed_ids):
            counts[key] = counts.get(key, 0) + 1
    return counts


def outcome_recorders(store: Store, conn: Connection, outcomes: set[tuple[str, str, str]]
                      ) -> dict[tuple[str, str, str], set[str | None]]:
    """The institutions that recorded each student's stored conversions of the given outcomes, by (student,
    outcome type, outcome id): who may revoke it (``checks.check_outcome_revoked``)."""
    found: dict[tuple[str, str, str], set[str | None]] = {}
    for student_id, seq, _kind, subject, payload in store.rows_of_kinds(
            conn, {s for s, _, _ in outcomes}, {"outcome_converted"}):
        outcome_type, _, outcome_id = (subject or "").partition("/")
        key = (student_id, outcome_type, outcome_id)
        if key in outcomes:
            found.setdefault(key, set()).add(read_event(payload, seq).recorded_by)
    return found


def statement_receipts(store: Store, conn: Connection, keys: set[ReceiptKey]
                       ) -> dict[ReceiptKey, tuple[str, str]]:
    """The first stored receipt that still counts of each statement and each issuing school's student in ``keys``
    (``statements.receipt_keys``), as (student here, event id). A receipt whose recognitions are all reversed (a
    statement received for the wrong student, say) no longer holds the statement.

    Only recognition rows are read (the index on ``events (kind, recorded_by)`` narrows to the kind): for a few keys
    (one statement received) only those whose JSON holds one of the ids as written, searched by the database; for
    many (a bulk import of recognitions) every recognition row once. Each row found is read and matched exactly;
    then the reversals of the students found.
    """
    field = {"statement": "statement_id", "student": "source_student_id"}
    texts = {f'"{field[what]}":{to_json(name).decode()}' for what, _issuer, name in keys}
    search = texts if len(texts) <= RECEIPT_SEARCH_LIMIT else None
    candidates: list[tuple[ReceiptKey, str, str]] = []
    for student_id, seq, _by, payload in store.rows_of_kind(conn, "credit_recognized", search):
        event = read_event(payload, seq)
        candidates.extend((key, student_id, event.event_id) for key in receipt_keys(event) if key in keys)
    if not candidates:
        return {}
    reversed_ids = {subject for _s, _seq, _kind, subject, _payload in store.rows_of_kinds(
        conn, {student_id for _k, student_id, _e in candidates}, {"entry_reversed"})}
    found: dict[ReceiptKey, tuple[str, str]] = {}
    for key, student_id, event_id in candidates:
        if event_id not in reversed_ids:
            found.setdefault(key, (student_id, event_id))
    return found


def award_audits(store: Store, conn: Connection, new: Sequence[Any], *, catalog: Catalog
                 ) -> dict[str, AuditReport] | None:
    """The graduation audit behind each award (毕业) in the batch, by the award's event id: on the award's date, over
    the student's stored history and the batch's events before it (the batch is written whole or not at all).
    ``None`` when the batch awards nothing."""
    awards = [i for i, e in enumerate(new) if e.kind == "graduated"]
    if not awards:
        return None
    stored: dict[str, list[Any]] = {}
    audits: dict[str, AuditReport] = {}
    for i in awards:
        award = new[i]
        sid = award.student_id
        if sid not in stored:
            stored[sid] = [read_event(payload, seq) for seq, payload in store.student_payloads(conn, sid)]
        history = stored[sid] + [e for e in new[:i] if e.student_id == sid]
        try:
            # the student's own program on that day: an award in another program is refused by the check
            audits[award.event_id] = audit_history(history, catalog=catalog, as_of=award.occurred_on, student_id=sid)
        except UnknownReference:
            pass  # no program to audit: the award's checks refuse it
    return audits


__all__ = ["CACHE_STUDENTS", "CONTEXT_KINDS", "RECEIPT_SEARCH_LIMIT", "BatchContext", "StudentContexts",
           "award_audits", "makeups_of", "outcome_recorders", "statement_receipts"]
