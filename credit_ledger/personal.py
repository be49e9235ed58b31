"""Personal data as the facade reads and writes it: who may set, correct, read and erase a student's row of the
roster (``roster``), checked against the ledger as it stands in the transaction.

- **Writes** (set, correct, erase): only the student's own school, the school of the student's current (or, after
  leaving, last) enrolment, when the ledger is opened ``acting_as`` a school; any student with a record, for a
  ledger opened without it (the operator's). A student with no record in the ledger has no row:
  ``unknown_student`` (``UnknownReference``) for the operator, ``not_own_student`` for a school (a refusal that does
  not tell whether the student exists).
- **Reads** follow the read rights of the student's record (``access``): a school reads the names of the students
  whose records it may read, and the other fields (a phone, an id-card number) only of its own students (ever
  enrolled there); a school that reads a record under an agreement or a transfer statement it received reads the
  name alone (``name_only``).

>>> from datetime import date as d
>>> import credit_ledger as cl
>>> ledger = cl.Ledger.open()
>>> ledger.load_catalog(cl.Catalog.sample())
>>> _ = ledger.append(cl.Enrolled(event_id="e", student_id="S1", occurred_on=d(2025, 9, 1), institution="HNJX",
...                               program="CNC-SR-2025"))
>>> ledger.acting_for("HNJX").set_personal("S1", name="李娜", gender="女").name
'李娜'
>>> ledger.personal("S1").fields, ledger.erase_personal("S1"), ledger.personal("S1")
({'gender': '女'}, True, None)
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator, Mapping, Sequence

from sqlalchemy.engine import Connection

from .access import read_reason, read_refusal
from .errors import PermissionDenied, UnknownReference
from .history import build_timeline
from .reading import StoredCatalog, read_reasons, read_record
from .records import Issue
from .roster import PersonalRecord, checked, delete, merged, put, raw_rows, record, rows
from .storage import Store


def require_write(store: Store, conn: Connection, student_id: str, *, acting_as: str | None,
                  catalogs: StoredCatalog) -> None:
    """Raise unless ``acting_as`` (``None``: the operator) may set or erase the student's personal data."""
    found = store.student_rows(conn, student_id)
    if not found:
        if acting_as is not None:
            raise PermissionDenied([read_refusal(acting_as, student_id)])
        raise UnknownReference([Issue(code="unknown_student", student_id=student_id, message=(
            f"student {student_id} has no record in this ledger: no personal data is kept for a student the ledger "
            "does not know (record the enrolment first)"))])
    events = read_record(student_id, found, acting_as=None, catalogs=catalogs)  # its rows checked
    if acting_as is None:
        return
    enrolment = build_timeline(events).current_enrolment()
    if enrolment is None or enrolment.institution != acting_as:
        if read_reason(acting_as, events, catalog=catalogs.sync(conn)) is None:
            raise PermissionDenied([read_refusal(acting_as, student_id)])  # tells nothing of the record
        raise PermissionDenied([Issue(code="not_own_student", student_id=student_id, message=(
            f"{acting_as} may not set or erase the personal data of student {student_id}: only the student's own "
            "school (of the current, or last, enrolment) may"))])


def write(store: Store, conn: Connection, student_id: str, changes: Mapping[str, Any], *, acting_as: str | None,
          catalogs: StoredCatalog, updated_at: str) -> tuple[PersonalRecord, bool]:
    """Set the given fields of the student's row (``None`` removes a field), in the transaction of ``conn``; the row
    as it now is, and whether it corrected a row kept before (its old values are to leave the files; the same
    values again, as a second import of one file sets them, change nothing and write nothing). The values are
    checked before the rights (a bad value tells nothing of the student)."""
    values = checked(student_id, changes)
    require_write(store, conn, student_id, acting_as=acting_as, catalogs=catalogs)
    before = rows(store, conn, [student_id]).get(student_id)
    record = merged(student_id, before, values)
    if record == before:
        return record, False
    put(store, conn, record, updated_at)
    return record, before is not None


def erase(store: Store, conn: Connection, student_id: str, *, acting_as: str | None,
          catalogs: StoredCatalog) -> bool:
    """Delete the student's row, in the transaction of ``conn``; whether there was one."""
    require_write(store, conn, student_id, acting_as=acting_as, catalogs=catalogs)
    return delete(store, conn, student_id)


def read(store: Store, conn: Connection, students: Sequence[str] | None, *, acting_as: str | None,
         catalogs: StoredCatalog) -> dict[str, PersonalRecord]:
    """The rows of ``students`` (``None``: every row ``acting_as`` may read), keyed by student id. With
    ``acting_as``, a named student whose record the school may not read raises ``PermissionDenied``."""
    if acting_as is None:
        return rows(store, conn, students)
    reasons = read_reasons(conn, acting_as=acting_as, catalogs=catalogs)
    if students is not None:
        refused = sorted(set(students) - set(reasons))
        if refused:
            raise PermissionDenied([read_refusal(acting_as, s) for s in refused])
    readable = {s: record(r) for s, r in raw_rows(store, conn, students).items() if s in reasons}  # no other's row
    return {s: r if reasons[s] == "own_student" else name_only(r) for s, r in readable.items()}


def name_only(record: PersonalRecord) -> PersonalRecord:
    """What another school reads of a student's row: the name, without the fields only the student's own school
    keeps for itself (a partner needs the name on a transcript it recognises, not the phone or the id-card number)."""
    return record if not record.fields else PersonalRecord(student_id=record.student_id, name=record.name)


def named(store: Store, reports: Iterable[Any], students: Sequence[str], *, chunk: int = 100) -> Iterator[Any]:
    """The audit reports (of ``students``, in their order, some perhaps skipped), each with ``student_name`` from the
    roster when it keeps one, handed on one at a time as they come: the names are read for ``chunk`` students at a
    time, from the student of the report at hand on, never by holding reports back (a batch's first report is not
    kept waiting for the next, nor lost to a later student's refusal). The reports were read with the record's
    rights, and so are their names."""
    ids = list(students)
    names: dict[str, tuple[Any, ...]] = {}
    window: set[str] = set()  # the students whose rows ``names`` holds (with or without one)
    at = 0  # the reports come in the students' order: the next report's student is at ``at`` or later
    for report in reports:
        sid = report.student_id
        if sid not in window:
            try:
                at = ids.index(sid, at)
                part = ids[at:at + chunk]
            except ValueError:  # not among ``students`` as given (or out of order): this one alone
                part = [sid]
            with store.read() as conn:
                names = raw_rows(store, conn, part)  # read as a record only for a report: its student is readable
            window = set(part)
        row = names.get(report.student_id)
        name = record(row).name if row is not None else None
        yield report if name is None else report.model_copy(update={"student_name": name})


__all__ = ["erase", "name_only", "named", "read", "require_write", "write"]
