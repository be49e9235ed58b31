"""The Ledger facade: open, append, reverse, query and verify a ledger of student credit events.

It wires the pieces and owns none of their rules. An append reads what the checks need to know of the batch's
students (``contexts``), checks the batch (``checks``), chains it onto the ledger (``chain``) and stores it with a
checkpoint (``storage``), in one write transaction: check, chain, store. A read goes through ``reading`` (the
stored catalog, the events of a row, the acting institution's rights) and replays with ``history``; audits run
``graduation`` (many at once: ``batch``); ``verify`` rechecks the chain (``storage.verify_store``).

>>> import credit_ledger as cl
>>> from datetime import date as d
>>> ledger = cl.Ledger.open()
>>> ledger.load_catalog(cl.Catalog.sample())
>>> _ = ledger.append(cl.Enrolled(event_id="S1-enrol", student_id="S1", occurred_on=d(2025, 9, 1),
...                               institution="HNJX", program="CNC-SR-2025"))
>>> _ = ledger.append(cl.CourseCompleted(event_id="S1-MECH101", student_id="S1", occurred_on=d(2026, 1, 12),
...                                      institution="HNJX", course="MECH101", grade=86))
>>> ledger.balance("S1").total
Decimal('4.00')
>>> ledger.verify().ok
True
"""

from __future__ import annotations

from concurrent.futures import Executor
from contextlib import contextmanager
from datetime import date, datetime, timezone
from typing import Any, Iterable, Iterator

from pydantic import BaseModel

from .access import catalog_refusals, new_entries
from .batch import audit_in_chunks, refreshed
from .chain import ChainedBatch, Finding, chain_batch
from .checks import check_batch, error_for
from .contexts import Learnt, StudentContexts, statement_receipts
from .errors import (CatalogError, DuplicateEvent, IntegrityError, PermissionDenied, PersonalDataError, RejectedEvent,
                     UnknownReference)
from .fast import gc_paused
from .graduation import AuditReport, audit_history
from .planner import plan_history
from .plans import StudyPlan
from .id_checks import IdGuard, catalog_code_problems, stored_id_issues
from .history import balance_of, build_timeline, transcript_records
from .models import (
    EVENT_ADAPTER,
    EVENT_CLASSES,
    Balance,
    Catalog,
    EntryReversed,
    Issue,
    Receipt,
    Receipts,
    Transcript,
    VerifyReport,
)
from .personal import erase, named, read, write
from .reading import StoredCatalog, may_read, read_event, read_record, readable_students
from .roster import PersonalRecord, forget_freed_pages
from .roster import TABLE as ROSTER, raw_rows, record
from .storage import Store, StoredEvent, verify_store
from .transfer import (
    Outcome,
    RecognitionResult,
    TransferStatement,
    convert,
    recognize,
    standing_of,
    statement_keys,
    statement_of,
)

_EVENT_TYPES = tuple(EVENT_CLASSES.values())


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def _as_event(value: Any) -> Any:
    """An event model from a model or plain data (a dict as read from JSON)."""
    if isinstance(value, _EVENT_TYPES):
        return value
    if isinstance(value, BaseModel):
        raise TypeError(f"a {type(value).__name__} is not an event")
    return EVENT_ADAPTER.validate_python(value)


def _same_content(a: Any, b: Any) -> bool:
    """True when two events are the same fact (``recorded_by`` is the ledger's stamp and does not count)."""
    if type(a) is not type(b):
        return False
    if a == b:
        return True
    return a.model_copy(update={"recorded_by": None}) == b.model_copy(update={"recorded_by": None})


class Ledger:
    """A ledger of credit events on SQLite or PostgreSQL.

    Open with ``Ledger.open(url, acting_as=...)``; every write is checked against the catalog, the student's history
    and the acting institution's rights, and is either written whole or refused with a typed error that leaves the
    ledger as it was. With ``acting_as``, reads of a student's record need a reason too (see ``access``).
    """

    def __init__(self, store: Store, *, acting_as: str | None = None):
        self._store = store
        self.acting_as = acting_as
        self._catalogs = StoredCatalog(store)
        self._contexts = StudentContexts(store)
        self._ids = IdGuard(store)
        try:
            self._catalogs.current()  # the stored catalogs are checked as the ledger opens
        except IntegrityError:
            pass  # altered: every use of the catalog raises it again, while verify() still runs and reports it

    @classmethod
    def open(cls, url: str | None = None, *, acting_as: str | None = None, create: bool = False) -> "Ledger":
        """Open a ledger: in-memory SQLite with no ``url`` (always a new one), a SQLite file for a path, or an
        SQLAlchemy URL.

        A ledger is opened, never conjured: where there is none (no such file or folder, an empty database) this
        raises ``LedgerNotFound`` unless ``create=True``, which makes a new one (and a file's missing folders). A
        database that holds anything but a ledger is refused, with or without ``create``, and left as it was.
        """
        return cls(Store.open(url, create=create), acting_as=acting_as)

    def acting_for(self, institution: str) -> "Ledger":
        """The same ledger (same database and connections) acting as ``institution``: a registrar's set-up loads the
        catalog with the unrestricted handle, then hands each school its own. Closing either closes both."""
        return Ledger(self._store, acting_as=institution)

    def close(self) -> None:
        """Release the database connections."""
        self._store.close()

    def __enter__(self) -> "Ledger":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def committed(self) -> int:
        """How many events this handle (with its ``acting_for`` views) has committed to the ledger since it was
        opened: what an interrupted import or command had written when it stopped."""
        return self._store.committed

    @property
    def url(self) -> str:
        """The database URL (password hidden)."""
        return self._store.engine.url.render_as_string(hide_password=True)

    # -- the catalog ---------------------------------------------------------------------------------------------

    @property
    def catalog(self) -> Catalog:
        """The catalog this ledger judges records by: every catalog ever loaded into it, merged."""
        return self._catalogs.current()

    def load_catalog(self, catalog: Catalog) -> None:
        """Add a catalog's entries to the ledger's (stored with the ledger). Loading the same catalog again is a
        no-op; changing an entry version already loaded is a ``CatalogError``: add a version with a later
        ``valid_from`` instead.
        """
        with self._store.write() as conn:
            current = self._catalogs.sync(conn)
            if current.merge(catalog) is current:
                return
            if self.acting_as is not None:
                issues = catalog_refusals(self.acting_as, new_entries(current, catalog))
                if issues:
                    raise PermissionDenied(issues)
            problems = catalog_code_problems(catalog, loaded=current)
            if problems:
                raise CatalogError(problems)
            self._store.insert_catalog(conn, _now(), catalog.to_json())
            self._catalogs.sync(conn)

    # -- writes --------------------------------------------------------------------------------------------------

    def append(self, event: Any) -> Receipt:
        """Append one event; returns its ``Receipt``. Re-appending the identical event returns the first receipt."""
        receipt: Receipt = self.append_many([event])[0]
        return receipt

    def append_many(self, events: Iterable[Any]) -> Receipts:
        """Append events atomically: all are written, or none (the error names every refused event).

        Returns one receipt per event given, in order (a read-only sequence of ``Receipt``). Checks and hashes run
        in bulk; the rows go in with one executemany, and one checkpoint covers the batch.
        """
        batch = [_as_event(e) for e in events]
        if not batch:
            return Receipts([], [], [])
        with self.writing() as session:
            return session.append_many(batch)

    @contextmanager
    def writing(self) -> Iterator["WriteSession"]:
        """One write transaction for many batches: ``session.append_many(batch)`` checks and chains each batch onto
        the ledger as it stands in the transaction (the batches before it included), and the whole is committed when
        the block ends, or none of it when the block raises. An import streams a big file through one: its memory is
        a batch's, and it is still all or nothing.

        The ledger's write lock is held for the whole block (other writers wait); a refused batch writes nothing and
        leaves the session usable.
        """
        session: WriteSession | None = None
        try:
            with self._store.write() as conn:
                session = WriteSession(self, conn)
                yield session
            self._store.committed += session.written
            if session.personal:  # names corrected in the session: their old values leave the write-ahead log
                forget_freed_pages(self._store)
        except BaseException:
            if session is not None and session.kept:  # what the cache learnt of batches rolled back is forgotten
                self._contexts.forget()
                self._ids.forget()
            raise
        finally:
            if session is not None:
                session.closed = True

    def _new_events(self, batch: list[Any], existing: dict[str, StoredEvent], since: int = -1) -> list[Any]:
        """The batch's events not in the ledger yet, once each; an event id already used for another fact (stored,
        or earlier in the batch), or stored by another institution than the acting one, is refused. A row after
        ``since`` was written earlier in the same write (``WriteSession``): it counts as earlier in the batch."""
        new: list[Any] = []
        seen: dict[str, Any] = {}
        issues: list[Issue] = []
        for e in batch:
            stored = existing.get(e.event_id)
            prior = seen.get(e.event_id)
            if stored is not None and 0 <= since < stored.seq:  # written earlier in this write session
                if stored.student_id != e.student_id or not _same_content(read_event(stored.payload, stored.seq), e):
                    issues.append(_duplicate(e, "appears twice in the batch with different content"))
            elif stored is not None and self.acting_as is not None and stored.recorded_by != self.acting_as:
                issues.append(_not_recorded_by(e, self.acting_as))
            elif stored is not None:
                if stored.student_id != e.student_id or not _same_content(read_event(stored.payload, stored.seq), e):
                    issues.append(_duplicate(e, "is already in the ledger with other content"))
            elif prior is not None:
                if not _same_content(prior, e):
                    issues.append(_duplicate(e, "appears twice in the batch with different content"))
            else:
                seen[e.event_id] = e
                new.append(e)
        if issues:
            raise error_for(issues)(issues)
        return new

    def _write(self, conn: Any, new: list[Any]) -> tuple[ChainedBatch, Learnt]:
        """Check the new events against what the ledger knows, chain them onto it and store them with a checkpoint
        over them; the chained batch, and what the checks learnt per student (kept once the transaction commits)."""
        catalog = self._catalogs.catalog
        known = self._contexts.for_batch(conn, new, catalog=catalog)
        owners: dict[str, str | None] = {}
        learnt: Learnt = {}
        issues = check_batch(new, catalog=catalog, contexts=known.contexts, known_events=known.known_events,
                             acting_as=self.acting_as, last_dependent=known.last_dependent, makeups=known.makeups,
                             owners=owners, after=learnt, audits=known.audits,
                             outcome_recorders=known.outcome_recorders, receipts=known.receipts)
        ids = self._ids.check(conn, new)
        issues = ids.issues + issues
        if issues:
            raise error_for(issues)(issues)
        recorded_at = _now()
        chained = chain_batch(new, heads=known.heads, recorded_by=owners, first_seq=known.seq + 1,
                              recorded_at=recorded_at)
        self._store.insert_events(conn, chained.rows)
        self._ids.write(conn, ids, new, chained.seqs)
        self._store.write_checkpoint(conn, chained.first_seq, chained.last_seq, recorded_at, chained.hashes)
        return chained, learnt

    def reverse(self, event_id: str, *, reason: str, occurred_on: date, reversal_id: str | None = None) -> Receipt:
        """Append an ``EntryReversed`` for ``event_id`` (a correction is a reversal plus a new event).

        The reversal's id defaults to ``"<event_id>:reversed"``: calling ``reverse`` again with the same arguments
        returns the first receipt, and with other arguments is refused as ``already_reversed``.
        """
        with self._store.read() as conn:
            found = self._store.find_events(conn, [event_id]).get(event_id)
            if found is not None and self.acting_as is not None and not self._may_read(conn, found.student_id):
                found = None  # refused as if unknown: the refusal must not tell that the event exists
        if found is None:
            where = "the ledger" if self.acting_as is None else f"a record {self.acting_as} may read"
            raise UnknownReference([Issue(code="unknown_event", event_id=event_id,
                                          message=f"event {event_id} is not in {where}; nothing to reverse")])
        reversal = EntryReversed(event_id=reversal_id or f"{event_id}:reversed", student_id=found.student_id,
                                 occurred_on=occurred_on, target_event_id=event_id, reason=reason)
        try:
            return self.append(reversal)
        except DuplicateEvent:
            raise RejectedEvent([Issue(
                code="already_reversed", event_id=reversal.event_id, student_id=found.student_id,
                message=f"student {found.student_id}, event {event_id}: already reversed by {reversal.event_id} "
                        "with other details")]) from None

    # -- reads ---------------------------------------------------------------------------------------------------

    def _may_read(self, conn: Any, student_id: str) -> bool:
        """With ``acting_as``: whether the institution may read this student's record."""
        return may_read(conn, student_id, acting_as=str(self.acting_as), catalogs=self._catalogs)

    def events(self, student_id: str, as_of: date | None = None) -> list[Any]:
        """A student's raw history in recording order (events dated after ``as_of`` left out). Every read of a
        record comes here (or to ``audit_all``): its rows are checked first, and one that is not what the library
        wrote raises ``IntegrityError`` naming it (``reading.read_record``)."""
        with self._store.read() as conn:
            rows = self._store.student_rows(conn, student_id)
        events = read_record(student_id, rows, acting_as=self.acting_as, catalogs=self._catalogs)
        if as_of is not None:
            events = [e for e in events if e.occurred_on <= as_of]
        return events

    def transcript(self, student_id: str, as_of: date | None = None) -> Transcript:
        """The student's effective credit records: best attempt per course, reversals and corrections applied."""
        records = transcript_records(self.events(student_id), catalog=self.catalog, as_of=as_of)
        return Transcript(student_id=student_id, as_of=as_of, records=tuple(records))

    def balance(self, student_id: str, as_of: date | None = None) -> Balance:
        """The student's effective credits in total, by origin (home / recognized / converted) and by category."""
        return balance_of(student_id, self.transcript(student_id, as_of).records, as_of)

    def audit(self, student_id: str, program: Any = None, as_of: date | None = None, *,
              method: str = "auto") -> AuditReport:
        """May the student graduate on ``as_of`` (default: today), and if not, what is missing?

        ``program``: a what-if audit against another program (its code, or a ``Program``). Raises
        ``UnknownReference`` for a student with no enrolment when no program is named.
        """
        day = as_of or date.today()
        with self._store.read() as conn:  # a portal's one student: the rows, catalog and name in one read
            rows, newest, has_roster = self._store.student_read(conn, student_id, ROSTER)
            catalog = self._catalogs.sync(conn, newest)
            kept = (None if has_roster is False
                    else raw_rows(self._store, conn, [student_id], table=has_roster).get(student_id))
        events = read_record(student_id, rows, acting_as=self.acting_as, catalogs=self._catalogs)  # may read it?
        report = audit_history(events, catalog=catalog, as_of=day, program=program, student_id=student_id,
                               method=method)
        name = record(kept).name if kept is not None else None
        return report if name is None else report.model_copy(update={"student_name": name})

    def plan(self, student_id: str, *, start: date, hours_per_term: Any, program: Any = None,
             as_of: date | None = None, skip_terms: Iterable[date] = (), max_terms: int = 12) -> StudyPlan:
        """The fastest study plan to the student's diploma from ``start`` within ``hours_per_term`` class hours a
        term (``credit_ledger.planner``): the record read as ``audit`` reads it, as on ``as_of`` (default: ``start``,
        or the student's last event when later). ``skip_terms``: days inside terms the student will not study in.
        """
        with self._store.read() as conn:
            rows = self._store.student_rows(conn, student_id)
            catalog = self._catalogs.sync(conn)
        events = read_record(student_id, rows, acting_as=self.acting_as, catalogs=self._catalogs)
        return plan_history(events, catalog=catalog, start=start, hours_per_term=hours_per_term, program=program,
                            as_of=as_of, skip_terms=tuple(skip_terms), max_terms=max_terms, student_id=student_id)

    def audit_all(self, students: Iterable[str] | None = None, as_of: date | None = None, *,
                  program: Any = None, workers: int | None = None, chunk: int = 100, detail: str = "full",
                  refresh: bool = False, executor: Executor | None = None) -> Iterator[Any]:
        """Audit many students (default: every student in the ledger, or with ``acting_as`` every one it may read),
        in the order given; a student with no enrolment on ``as_of`` is skipped, one the acting institution may not
        read raises ``PermissionDenied``. ``workers`` > 1 audits in that many processes: this one and
        ``workers - 1`` others, each reading the ledger itself (a file or server ledger; an in-memory one is audited
        here). ``workers=None`` (the default) chooses: this machine's cores for a batch big enough to pay for
        starting them, one process per ``batch.WORKER_BREAK_EVEN`` (2,000) students, else this process alone; the
        reports are the same either way. Reports come back in order, ``chunk`` students at a time (small chunks keep
        few reports waiting their turn in this process: fewer for the garbage collector to walk over and over).

        ``detail="summary"``: ``AuditSummary`` rows instead of reports (the same figures, without the tree; they
        cross between processes as compact rows). ``refresh=True`` (with summaries only): re-audit only the students
        whose record or catalog changed since the ledger's last summary batch, or whose ``stable_until`` has passed,
        and take the others from that batch (kept in the table ``audit_summaries``, outside the hash chain) - the
        same summaries as a full batch; the batch is kept for the next refresh.

        ``executor``: any ``concurrent.futures.Executor`` (a process pool, a ``dask.distributed`` client's
        ``get_executor()``) audits every chunk instead of this machine's processes; its workers open the ledger at
        its URL themselves (a file they all see, or a PostgreSQL server; not an in-memory ledger) with the same
        rights, and the reports come back in order. Give ``workers`` or ``executor``, not both."""
        if executor is not None and workers is not None:
            raise ValueError("give workers (this machine's processes) or an executor, not both")
        if detail not in ("full", "summary"):
            raise ValueError(f"detail is \"full\" or \"summary\", not {detail!r}")
        day = as_of or date.today()
        ids = list(students) if students is not None else self.students()
        if refresh:
            if detail != "summary":
                raise ValueError("refresh=True re-audits summaries: give detail=\"summary\"")
            yield from refreshed(self._catalogs, ids, day, program, acting_as=self.acting_as, workers=workers,
                                 chunk=chunk, executor=executor)
            return
        reports = audit_in_chunks(self._catalogs, ids, day, program, acting_as=self.acting_as, workers=workers,
                                  chunk=chunk, detail=detail, executor=executor)
        yield from (named(self._store, reports, ids, chunk=chunk) if detail == "full" else reports)

    def status(self, student_id: str, on: date) -> str:
        """The student's status on a day: not_enrolled, active, suspended, withdrawn or graduated."""
        return build_timeline(self.events(student_id)).status_on(on).status

    def students(self) -> list[str]:
        """Every student id with at least one event (with ``acting_as``: those the institution may read)."""
        with self._store.read() as conn:
            if self.acting_as is None:
                return self._store.student_ids(conn)
            return sorted(readable_students(conn, acting_as=self.acting_as, catalogs=self._catalogs))

    def count(self) -> int:
        """The number of events in the ledger (with ``acting_as``: in the records the institution may read)."""
        with self._store.read() as conn:
            if self.acting_as is None:
                return self._store.count(conn)
            readable = readable_students(conn, acting_as=self.acting_as, catalogs=self._catalogs)
            return sum(n for student_id, n in self._store.counts_by_student(conn) if student_id in readable)

    # -- personal data: the roster, outside the hash chain (``roster``, ``personal``) ----------------------------------

    def set_personal(self, student_id: str, **fields: str | None) -> PersonalRecord:
        """Set or correct the student's personal data: ``name`` and any field a school keeps (``gender="女"``,
        ``phone=...``); a field given ``None`` is removed, a field not given stays. Returns the row as it now is.
        Only the student's own school may (``personal``); a bad value is a ``PersonalDataError`` naming the student
        and the field. Nothing of it enters the hash chain."""
        with self._store.write() as conn:
            record, replaced = write(self._store, conn, student_id, fields, acting_as=self.acting_as,
                                     catalogs=self._catalogs, updated_at=_now())
        if replaced:  # a corrected value is gone from the write-ahead log too, as an erased one
            forget_freed_pages(self._store)
        return record

    def personal(self, student_id: str) -> PersonalRecord | None:
        """The student's personal data (``None``: none kept); read as the student's record is read."""
        with self._store.read() as conn:
            return read(self._store, conn, [student_id], acting_as=self.acting_as,
                        catalogs=self._catalogs).get(student_id)

    def roster(self, students: Iterable[str] | None = None) -> dict[str, PersonalRecord]:
        """The personal data of ``students`` (default: every student with a row that this ledger may read)."""
        with self._store.read() as conn:
            return read(self._store, conn, None if students is None else list(students), acting_as=self.acting_as,
                        catalogs=self._catalogs)

    def erase_personal(self, student_id: str) -> bool:
        """Erase the student's personal data: the row is deleted and no copy is kept (no history; on SQLite its
        bytes are overwritten and the write-ahead log checkpointed). Every credit record, and ``verify()``, stay as
        they were. Whether there was a row. Only the student's own school may."""
        with self._store.write() as conn:
            found = erase(self._store, conn, student_id, acting_as=self.acting_as, catalogs=self._catalogs)
        forget_freed_pages(self._store)
        return found

    # -- recognition and conversion ------------------------------------------------------------------------------

    def convert(self, student_id: str, outcomes: Iterable[Any], *, as_of: date | None = None,
                program: str | None = None, dry_run: bool = False) -> RecognitionResult:
        """Decide the conversion of learning outcomes (``Outcome``, or plain data) into credits on ``as_of`` (default:
        today), and append the accepted ones as ``OutcomeConverted`` events in one atomic batch.

        One decision per outcome, in order (see ``transfer.convert``). ``program`` decides under another program of
        the school instead of the student's (what-if); ``dry_run=True`` decides and writes nothing. Converting the
        same outcome again grants nothing more (``duplicate_outcome``).
        """
        on = as_of or date.today()
        items = [o if isinstance(o, Outcome) else Outcome.model_validate(o) for o in outcomes]
        standing = standing_of(student_id, self.events(student_id), catalog=self.catalog, on=on,
                               institution=self.acting_as, program=program)
        return self._apply(convert(items, standing=standing, catalog=self.catalog, on=on), dry_run)

    def issue_statement(self, student_id: str, *, key: Any, as_of: date | None = None,
                        issued_at: datetime | None = None) -> TransferStatement:
        """A ``TransferStatement`` of the student's effective results at the issuing school (the acting
        institution, else the student's school), signed with the school's Ed25519 private ``key``."""
        events = self.events(student_id)
        enrolment = build_timeline(events).current_enrolment()
        issuer = self.acting_as or (enrolment.institution if enrolment is not None else None)
        if issuer is None:
            raise UnknownReference([Issue(code="not_enrolled", student_id=student_id, message=(
                f"student {student_id} has no enrolment in this ledger: no school to issue a statement"))])
        records = transcript_records(events, catalog=self.catalog, as_of=as_of)
        program = enrolment.program if enrolment is not None and enrolment.institution == issuer else None
        statement = statement_of(records, issuer=issuer, student_id=student_id, program=program,
                                 issued_at=issued_at or datetime.now(timezone.utc))
        return statement.sign(key)

    def receive_statement(self, statement: TransferStatement | str | bytes, *, trusted_keys: Any,
                          program: str | None = None, dry_run: bool = False, as_of: date | None = None,
                          student_id: str | None = None) -> RecognitionResult:
        """Verify a statement from another school against ``trusted_keys`` (institution code -> key or keys), and
        recognise its results on ``as_of`` (default: today) under the agreements in force, appending the accepted
        ones as ``CreditRecognized`` events in one atomic batch.

        An altered, unsigned or untrusted statement raises ``BadSignature`` and writes nothing. Receiving the same
        statement again grants nothing more (``duplicate_outcome``). ``student_id`` is the student's id here when
        it differs from the statement's; ``program`` and ``dry_run`` as for ``convert``. A statement counts for one
        student of the ledger, and so does the issuing school's student it names: received for another student,
        every item is ``duplicate_outcome`` and nothing is written (the append checks it again).
        """
        if not isinstance(statement, TransferStatement):
            statement = TransferStatement.from_json(statement)
        statement.verify(trusted_keys)
        on = as_of or date.today()
        sid = student_id or statement.student_id
        standing = standing_of(sid, self.events(sid), catalog=self.catalog, on=on, institution=self.acting_as,
                               program=program)
        with self._store.read() as conn:
            found = statement_receipts(self._store, conn, set(statement_keys(statement)))
        received = {key: student for key, (student, _event_id) in found.items()}
        return self._apply(recognize(statement, standing=standing, catalog=self.catalog, on=on, received=received),
                           dry_run)

    def _apply(self, result: RecognitionResult, dry_run: bool) -> RecognitionResult:
        """Write a result's events in one atomic batch, unless this is a dry run."""
        if dry_run:
            return result.model_copy(update={"dry_run": True})
        if result.events:
            self.append_many(result.events)
        return result

    # -- integrity -----------------------------------------------------------------------------------------------

    def verify(self, *, strict: bool = False) -> VerifyReport:
        """Recompute every row's hash, every student's chain and every checkpoint; name the first bad row.

        With ``strict=True`` a failed check raises ``IntegrityError`` instead of returning the report. The report's
        ``identifier_issues`` name the stored ids that the rules for new ids would refuse (``id_checks``): they are
        kept as written, and do not make ``ok`` false.
        """
        checked, finding = verify_store(self._store)
        ids = tuple(self._stored_id_issues())
        if finding is None:
            return VerifyReport(ok=True, checked=checked, identifier_issues=ids)
        if self.acting_as is not None:
            finding = self._redacted(finding)
        if strict:
            raise IntegrityError(f"ledger {self.url}: {finding.reason} (first bad row: {finding.seq})")
        return VerifyReport(ok=False, checked=checked, first_bad_seq=finding.seq, reason=finding.reason,
                            identifier_issues=ids)

    def _stored_id_issues(self) -> list[Issue]:
        """The stored ids the rules for new ids would refuse (with ``acting_as``: of the students it may read)."""
        if self.acting_as is None:
            return stored_id_issues(self._store)
        with self._store.read() as conn:
            readable = readable_students(conn, acting_as=self.acting_as, catalogs=self._catalogs)
        return stored_id_issues(self._store, readable=readable)

    def _redacted(self, finding: Finding) -> Finding:
        """A finding whose reason names no event or student of a record the acting institution may not read (the
        whole ledger is still verified: every school relies on all of it)."""
        with self._store.read() as conn:
            student_id = self._store.student_of_seq(conn, finding.seq)
            if student_id is not None and self._may_read(conn, student_id):
                return finding
        return Finding(finding.seq, f"row {finding.seq} (or the checkpoint over it) is not what the library wrote; it "
                                    f"is not in a record {self.acting_as} may read, so no more is told")

    def head(self) -> str:
        """The hash of the latest checkpoint: publish it to make later rewriting of the whole file detectable."""
        with self._store.read() as conn:
            return self._store.last_checkpoint(conn)[1]


class WriteSession:
    """Batches appended in one write transaction (``Ledger.writing``): each is checked against the ledger as it
    stands in the transaction, the batches written before it included, so an event id repeated thousands of rows
    apart, or a look-alike of a student of an earlier batch, is still found."""

    def __init__(self, ledger: Ledger, conn: Any):
        self._ledger = ledger
        self._conn = conn
        self._since = ledger._store.max_seq(conn)
        """The ledger's highest seq when the session began: the rows after it are the session's."""
        self.kept = False
        """Whether the ledger's caches learnt of a batch of this session (forgotten if it rolls back)."""
        self.closed = False
        self.broken = False
        """An error other than a refusal ended the session: nothing more is written in it."""
        self.written = 0
        """Events the session's batches have written (committed with the session, or not at all)."""
        self.personal = False
        """Whether the session corrected a student's personal data (``set_personal`` over a row kept before)."""

    def append_many(self, events: Iterable[Any]) -> Receipts:
        """Check, chain and store a batch in the session's transaction: as ``Ledger.append_many``, except that the
        batch is committed (or not) with the session."""
        if self.closed or self.broken:
            raise RuntimeError("this write session is over" if self.closed else
                               "this write session failed; its transaction will be rolled back")
        batch = [_as_event(e) for e in events]
        if not batch:
            return Receipts([], [], [])
        ledger, conn = self._ledger, self._conn
        try:
            with gc_paused(len(batch)):
                ledger._catalogs.sync(conn)
                existing = ledger._store.find_events(conn, (e.event_id for e in batch))
                new = ledger._new_events(batch, existing, self._since)
                if not new:  # every event was in the ledger already
                    return _receipts(batch, existing, new, [], [])
                chained, learnt = ledger._write(conn, new)
        except (RejectedEvent, PermissionDenied, CatalogError):
            raise  # refused before anything was written: the session goes on
        except BaseException:
            self.broken = True
            raise
        # the batch is written in the transaction: the caches learn it now (forgotten if the session rolls back)
        self.kept = True
        self.written += len(new)
        ledger._contexts.keep(learnt, chained.heads, chained.last_seq)
        ledger._ids.keep()
        if len(new) == len(batch):  # the usual bulk case: every event is new, in the order given
            return Receipts(chained.seqs, [e.event_id for e in batch], chained.hashes, len(new))
        return _receipts(batch, existing, new, chained.seqs, chained.hashes)

    def set_personal(self, student_id: str, **fields: str | None) -> PersonalRecord:
        """``Ledger.set_personal`` in the session's transaction (an import's names, all or nothing with its events)."""
        if self.closed or self.broken:
            raise RuntimeError("this write session is over" if self.closed else
                               "this write session failed; its transaction will be rolled back")
        ledger = self._ledger
        try:
            record, replaced = write(ledger._store, self._conn, student_id, fields, acting_as=ledger.acting_as,
                                     catalogs=ledger._catalogs, updated_at=_now())
        except (PersonalDataError, RejectedEvent, PermissionDenied):
            raise  # refused before anything was written: the session goes on
        except BaseException:
            self.broken = True  # the row may be half replaced (deleted, not inserted): nothing more is written
            raise
        self.personal = self.personal or replaced
        return record


def _receipts(batch: list[Any], existing: dict[str, StoredEvent], new: list[Any], seqs: list[int],
              hashes: list[str]) -> Receipts:
    """One receipt per event of the batch, in order: the stored row's for an event already in the ledger, else the
    new row's (``seqs`` and ``hashes``, in the order of ``new``)."""
    where = {e.event_id: i for i, e in enumerate(new)}
    out_seqs, out_hashes = [], []
    for e in batch:
        stored = existing.get(e.event_id)
        if stored is not None:
            out_seqs.append(stored.seq)
            out_hashes.append(stored.event_hash)
        else:
            out_seqs.append(seqs[where[e.event_id]])
            out_hashes.append(hashes[where[e.event_id]])
    return Receipts(out_seqs, [e.event_id for e in batch], out_hashes, len(new))


def _not_recorded_by(event: Any, institution: str) -> Issue:
    return Issue(code="recorded_by_mismatch", event_id=event.event_id, student_id=event.student_id,
                 message=f"student {event.student_id}, event {event.event_id}: {institution} did not record an event "
                         f"with this id, so it may not append it again (an event id names one fact forever: use a "
                         "new id)")


def _duplicate(event: Any, what: str) -> Issue:
    return Issue(code="duplicate_event", event_id=event.event_id, student_id=event.student_id,
                 message=f"student {event.student_id}, event {event.event_id}: the event id {what}; an event id "
                         "names one fact forever (use a new id, or reverse and re-record)")

