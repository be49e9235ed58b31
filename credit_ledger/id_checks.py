"""The door for identifiers: a batch's new student and event ids, and a catalog's new codes, are canonical and imitate
no id already in the ledger (the rules are ``identifiers``'; this module applies them where ids come in).

A new event's id, and the id of a student the ledger does not know yet, must break no rule of
``identifiers.problems``, and their skeletons must differ from those of every stored id of the same kind (and of every
other new id of the batch): ``S1`` enrolled, ``Ѕ1`` (a Cyrillic Dze) is not a second student but a look-alike:

>>> import credit_ledger as cl
>>> from datetime import date
>>> enrol = cl.Enrolled(event_id="Ѕ1-enrol", student_id="Ѕ1", occurred_on=date(2025, 9, 1), institution="HNJX",
...                     program="CNC-SR-2025")
>>> issues = check_ids([enrol], stored_events={}, stored_students={"Sl": "S1"}, known_students=set()).issues
>>> [i.code for i in issues]
['id_lookalike', 'id_mixed_script']
>>> print(issues[0].message)  # doctest: +NORMALIZE_WHITESPACE
student 'Ѕ1', event 'Ѕ1-enrol' (enrolled on 2025-09-01): the student id 'Ѕ1' looks like 'S1', a student already in
the ledger: U+0405 CYRILLIC CAPITAL LETTER DZE imitates 'S'; one student has one id (use 'S1'), and another student
an id that cannot be mistaken for it

Ids already stored are kept as written: events of a stored student are not refused for its id, and ``verify`` reports
the stored ids that the rules would refuse (``stored_id_issues``). Catalog codes are checked when a catalog is loaded
into a ledger (``catalog_code_problems``): each new code of an institution, alliance, course, program, agreement,
conversion rule or requirement, against the rules and the codes of the same kind already loaded.

``IdGuard`` is what a ``Ledger`` keeps: it reads the stored skeleton keys a batch needs (``storage`` keeps them in
``identifiers``, written in the transaction of the rows), remembers which students are stored, and remakes the
stored keys when the rules change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Container, Iterable, Mapping, Sequence

from sqlalchemy.engine import Connection

from .catalog import ENTRY_KEYS, Catalog, walk_requirements
from .identifiers import RULES_VERSION, imitations, problems, shown, skeleton_key
from .models import Issue
from .storage import Store, identifier_rules, rebuild_identifiers

IdRow = tuple[int, str, str | None]
"""A row of ``identifiers``: ``(seq, event_key, student_key)``, the student's key on its first row only."""

KNOWN_STUDENTS = 200_000
"""At most about this many stored student ids are remembered between appends (a cache: a student not in it is
looked up)."""

_WHAT = {"student": ("student id", "a student"), "event": ("event id", "an event")}


@dataclass(slots=True)
class NewIds:
    """What the door found in a batch: its issues, and the ids it brings (kept once the batch is written)."""

    issues: list[Issue]
    event_keys: list[str]
    """The skeleton key of each new event's id, in the batch's order."""
    students: dict[str, str] = field(default_factory=dict)
    """Each new student's id and skeleton key (students already stored are not here)."""

    def rows(self, events: Sequence[Any], seqs: Sequence[int]) -> list[IdRow]:
        """The ``identifiers`` rows of the batch, once its events have their ``seqs``."""
        pending = dict(self.students)
        return [(seq, key, pending.pop(e.student_id, None) if pending else None)
                for e, key, seq in zip(events, self.event_keys, seqs, strict=True)]


def _issue(code: str, event: Any, message: str) -> Issue:
    return Issue(code=code, event_id=event.event_id, student_id=event.student_id,
                 message=f"student {shown(event.student_id)}, event {shown(event.event_id)} ({event.kind} on "
                         f"{event.occurred_on}): {message}")


def _id_issues(kind: str, value: str, key: str, event: Any, existing: tuple[str, str] | None) -> list[Issue]:
    """The issues of one new id: each rule it breaks, and the id it imitates (``existing``: the id and where it is)."""
    what, one = _WHAT[kind]
    found = problems(value)
    if found:
        tail = (f"; it would print like {shown(existing[0])}, {existing[1]}" if existing is not None else "")
        return [_issue(p.code, event, f"the {what} {p.message}" + (tail if i == 0 else "")) for i, p in
                enumerate(found)]
    if existing is None:
        return []
    other, where = existing
    advice = (f"one student has one id (use {shown(other)}), and another student an id that cannot be mistaken for it"
              if kind == "student" else "an event id names one fact, and another fact an id that cannot be mistaken "
              "for it")
    return [_issue("id_lookalike", event, f"the {what} {shown(value)} looks like {shown(other)}, {where}: "
                   f"{imitations(value, other)}; {advice}")]


def check_ids(events: Sequence[Any], *, stored_events: Mapping[str, str], stored_students: Mapping[str, str],
              known_students: Container[str], key_of: Callable[[str], str] = skeleton_key) -> NewIds:
    """The issues of a batch's new ids, and the ids it brings.

    ``events`` are new (not in the ledger); ``stored_events`` and ``stored_students`` map a skeleton key to a stored
    event or student id of that skeleton (for the batch's keys); ``known_students`` holds the batch's student ids
    that are stored (kept as written: their events are not refused for their ids). ``key_of`` is ``skeleton_key``,
    or a look-up of the keys already made.
    """
    issues: list[Issue] = []
    students: dict[str, str] = {}
    batch_students: dict[str, str] = {}
    refused_students: dict[str, list[Issue]] = {}
    for e in (e for e in events if e.student_id not in known_students):  # new students, and stored ones not known
        sid = e.student_id
        if sid in students:  # every event of a refused student is refused, naming its line
            issues.extend(_issue(i.code, e, i.message.split("): ", 1)[1]) for i in refused_students.get(sid, ()))
            continue
        skey = students[sid] = key_of(sid)
        found = _id_issues("student", sid, skey, e, _existing("student", sid, stored_students.get(skey),
                                                              batch_students.setdefault(skey, sid)))
        if found:
            refused_students[sid] = found
            issues.extend(found)
    ids = [e.event_id for e in events]
    event_keys = [key_of(eid) for eid in ids]
    firsts = dict(zip(reversed(event_keys), reversed(ids), strict=True))  # the first id of each skeleton
    if len(firsts) == len(ids) and stored_events.keys().isdisjoint(event_keys) and _all_plain(ids):
        return NewIds(issues, event_keys, students)  # the bulk case: every event id canonical and like no other
    for e, key in zip(events, event_keys, strict=True):
        eid = e.event_id
        issues.extend(_id_issues("event", eid, key, e, _existing("event", eid, stored_events.get(key), firsts[key])))
    return NewIds(issues, event_keys, students)


def _all_plain(ids: list[str]) -> bool:
    """Whether every id is printable ASCII with no surrounding space (canonical by every rule but the look-alike
    one), told for the whole list at once."""
    joined = "".join(ids)
    if not (joined.isascii() and joined.isprintable()):
        return False
    return " " not in joined or not any(i[:1] == " " or i[-1:] == " " for i in ids)


def _existing(kind: str, value: str, stored: str | None, first: str) -> tuple[str, str] | None:
    """The id of the same kind and skeleton that ``value`` would imitate, and where it is: ``stored`` in the ledger,
    or ``first`` in the batch."""
    if stored is not None and stored != value:
        return stored, f"{_WHAT[kind][1]} already in the ledger"
    if first != value:
        return first, f"{_WHAT[kind][1]} earlier in this batch"
    return None


class IdGuard:
    """The door for the ids of one ``Ledger`` object's appends (on its store): ``check`` in the write transaction,
    ``write`` the new ids with the rows, ``keep`` what a committed batch taught."""

    def __init__(self, store: Store, *, limit: int = KNOWN_STUDENTS) -> None:
        self.store = store
        self.limit = limit
        self._students: set[str] = set()
        """Student ids known to be stored (with their row in ``identifiers``)."""
        self._pending: tuple[NewIds, set[str], bool] | None = None
        self._current = False
        """Whether the stored keys were seen to be made under this ``RULES_VERSION``."""

    def check(self, conn: Connection, new: Sequence[Any]) -> NewIds:
        """The issues of the batch's new ids against the stored ones (read in the write transaction of ``conn``)."""
        rebuilt = False
        if not self._current:
            if identifier_rules(conn) == RULES_VERSION:
                self._current = True
            else:  # made under other rules (or never): made again, in this transaction (undone with a refusal)
                rebuild_identifiers(conn)
                self._students.clear()
                rebuilt = True
        unknown = {e.student_id for e in new}.difference(self._students)
        keys = {e.event_id: skeleton_key(e.event_id) for e in new}
        student_keys = {sid: skeleton_key(sid) for sid in unknown}
        stored_events = dict(self.store.find_identifiers(conn, "event", keys.values()))
        stored_students: dict[str, str] = {}
        found_students: set[str] = set()
        for key, value in self.store.find_identifiers(conn, "student", student_keys.values()):
            stored_students.setdefault(key, value)
            if value in unknown:
                found_students.add(value)
        keys.update(student_keys)
        found = check_ids(new, stored_events=stored_events, stored_students=stored_students,
                          known_students=found_students.union(self._students) if found_students else self._students,
                          key_of=keys.__getitem__)
        self._pending = (found, found_students, rebuilt)
        return found

    def write(self, conn: Connection, found: NewIds, new: Sequence[Any], seqs: Sequence[int]) -> None:
        """Store the batch's new ids with its rows."""
        self.store.insert_identifiers(conn, found.rows(new, seqs))

    def keep(self) -> None:
        """The last checked batch is committed: remember its students (and those it found stored) as stored."""
        pending, self._pending = self._pending, None
        if pending is None:
            return
        found, stored_students, rebuilt = pending
        self._current = self._current or rebuilt
        if len(self._students) + len(found.students) + len(stored_students) > self.limit:
            self._students.clear()
        self._students.update(found.students)
        self._students.update(stored_students)

    def forget(self) -> None:
        """Forget what was kept: the batches it came from were rolled back (``Ledger.writing``)."""
        self._pending = None
        self._students.clear()
        self._current = False


def stored_id_issues(store: Store, *, readable: Container[str] | None = None) -> list[Issue]:
    """The stored student and event ids that the rules for new ids would refuse (kept as written: ``verify`` reports
    them). ``readable``: only the students whose ids may be told (an acting institution's).

    One pass over the ids, a page at a time; it keeps the skeleton key of every id (about 100 bytes each)."""
    issues: list[Issue] = []
    seen: set[str] = set()
    students: dict[str, str] = {}
    events: dict[str, str] = {}
    with store.read() as conn:
        for page in store.id_pages(conn):
            if readable is not None:
                page = [row for row in page if row[2] in readable]
            for seq, _eid, sid in page:
                if sid not in seen:  # a student's first row
                    seen.add(sid)
                    issues.extend(_stored_issues("student", sid, seq, students))
            ids = [row[1] for row in page]
            keys = [skeleton_key(eid) for eid in ids]
            plain = _all_plain(ids)
            for (seq, eid, sid), key in zip(page, keys, strict=True):
                first = events.setdefault(key, eid)
                if first != eid or not plain:
                    issues.extend(_stored_issues("event", eid, seq, events, sid, key))
    return issues


def _stored_issues(kind: str, value: str, seq: int, firsts: dict[str, str], student_id: str | None = None,
                   key: str | None = None) -> list[Issue]:
    """The issues of one stored id (``firsts``: the first stored id of each skeleton key of its kind, so far)."""
    what, _ = _WHAT[kind]
    first = firsts.setdefault(key or skeleton_key(value), value)
    found = [(p.code, p.message) for p in problems(value)]
    if first != value:
        found.append(("id_lookalike", f"{shown(value)} looks like {shown(first)}, stored before it: "
                                      f"{imitations(value, first)}"))
    sid = value if kind == "student" else student_id
    return [Issue(code=code, student_id=sid, event_id=None if kind == "student" else value,
                  message=f"row {seq}: the stored {what} {message}; a new id like it is refused, this one is kept as "
                          "written") for code, message in found]


def catalog_code_problems(new: Catalog, *, loaded: Catalog) -> list[str]:
    """The problems of the codes of a catalog's entries that ``loaded`` does not hold yet: the rules of
    ``identifiers.problems``, and a look-alike of a code of the same kind (loaded, or in ``new``). Each problem names
    the key path and its rule's code, as ``CatalogError`` lines do."""
    out: list[str] = []
    known: dict[tuple[str, str, str], str] = {}
    old = set()
    for kind, _path, code, scope in _codes(loaded):
        known.setdefault((kind, scope, skeleton_key(code)), code)
        old.add((kind, scope, code))
    for kind, path, code, scope in _codes(new):
        if (kind, scope, code) in old:
            continue  # loaded before: kept as written
        for p in problems(code):
            out.append(f"{path}: the {kind} code {p.message} [{p.code}]")
        key = (kind, scope, skeleton_key(code))
        first = known.setdefault(key, code)
        if first != code:
            out.append(f"{path}: the {kind} code {shown(code)} looks like {shown(first)}, a {kind} code already "
                       f"{'loaded' if (kind, scope, first) in old else 'in this catalog'}: {imitations(code, first)} "
                       "[id_lookalike]")
        old.add((kind, scope, code))
    return out


def _codes(catalog: Catalog) -> Iterable[tuple[str, str, str, str]]:
    """``(kind, key path, code, scope)`` of every code that names a catalog entry: a course's or program's code is
    scoped by its institution, a requirement's id by its program."""
    for section, key_of in ENTRY_KEYS.items():
        kind = {"institutions": "institution", "alliances": "alliance", "courses": "course", "programs": "program",
                "agreements": "agreement", "conversion_rules": "conversion rule"}[section]
        field_name = "id" if section in ("agreements", "conversion_rules") else "code"
        for i, entry in enumerate(getattr(catalog, section)):
            key = key_of(entry)
            scope = "/".join(key[:-1])
            yield kind, f"{section}[{i}].{field_name}", key[-1], scope
            if section == "programs":
                for path, node in walk_requirements(entry.requirements, f"programs[{i}].requirements"):
                    yield "requirement", f"{path}.id", node.id, f"{scope}/{entry.code}"


__all__ = ["IdGuard", "KNOWN_STUDENTS", "NewIds", "catalog_code_problems", "check_ids", "stored_id_issues"]
