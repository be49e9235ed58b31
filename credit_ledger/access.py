"""Tenancy: what a ledger opened ``acting_as`` an institution may read, and which catalog entries it may load.

A province may keep one ledger for all its schools; each school's system opens it ``acting_as`` the school. Such a
ledger writes only for the school's own students (``checks.check_own_student``), and reads a student's record only
when the school has a reason to:

- ``own_student``: the student is, or was, enrolled (入学) at the school;
- ``received_statement``: the school recorded a ``CreditRecognized`` with a ``statement_id`` for the student (it
  received the student's transfer statement, 学分转换证明);
- ``agreement``: a recognition agreement (学分互认协议) in the catalog names the school and a school the student was
  enrolled at, as its parties or as members (at any time) of its alliance.

A student the school has no reason to read is refused the same way whether or not the ledger holds any record of
them, so a refusal does not tell that the student exists. Catalog entries of a school (the school itself, its
courses, programs and conversion rules) are loaded by that school; alliances and agreements, which grant reasons
to read, only by a ledger opened without ``acting_as`` (the operator's).

>>> from datetime import date as d
>>> from credit_ledger.models import Catalog, Enrolled
>>> at_xtjx = Enrolled(event_id="e", student_id="S1", occurred_on=d(2025, 9, 1), institution="XTJX", program="P")
>>> read_reason("XTJX", [at_xtjx], catalog=Catalog()), read_reason("HNJX", [at_xtjx], catalog=Catalog.sample())
('own_student', 'agreement')
>>> read_reason("HNJX", [at_xtjx], catalog=Catalog()) is None
True
"""

from __future__ import annotations

from typing import Any, Iterable, Literal

from .catalog import ENTRY_KEYS, Catalog, in_force_from
from .records import Issue

ReadReason = Literal["own_student", "received_statement", "agreement"]

READ_KINDS = frozenset({"enrolled", "credit_recognized"})
"""The only kinds of event that can give a reason to read a record."""


def partners(institution: str, catalog: Catalog) -> frozenset[str]:
    """The institutions that share a recognition agreement with ``institution`` (as parties, or as members of the
    agreement's alliance at any time), itself not included.

    >>> sorted(partners("HNJX", Catalog.sample()))
    ['XTJX', 'ZZJX']
    """
    members: dict[str, set[str]] = {}
    for alliance in catalog.alliances:
        members.setdefault(alliance.code, set()).update(m.institution for m in alliance.members)
    found: set[str] = set()
    for agreement in catalog.agreements:
        group = set(agreement.parties) | members.get(agreement.alliance or "", set())
        if institution in group:
            found |= group
    found.discard(institution)
    return frozenset(found)


def read_reason(institution: str, events: Iterable[Any], *, catalog: Catalog) -> ReadReason | None:
    """Why ``institution`` may read the record these events make (one student's), or ``None``.

    Only ``enrolled`` and ``credit_recognized`` events matter (``READ_KINDS``); others are ignored.
    """
    schools: set[str] = set()
    for e in events:
        if e.kind == "enrolled":
            if e.institution == institution:
                return "own_student"
            schools.add(e.institution)
        elif e.kind == "credit_recognized" and e.statement_id is not None and e.recorded_by == institution:
            return "received_statement"
    if schools & partners(institution, catalog):
        return "agreement"
    return None


def read_refusal(institution: str, student_id: str) -> Issue:
    """The issue of a refused read (the same whether or not the student is in the ledger)."""
    return Issue(code="not_own_student", student_id=student_id,
                 message=f"{institution} may not read the record of student {student_id}: the student was never "
                         f"enrolled at {institution}, no recognition agreement links {institution} with the "
                         f"student's school, and {institution} received no transfer statement for the student")


def new_entries(current: Catalog, other: Catalog) -> dict[str, list[Any]]:
    """The entries of ``other`` that ``current`` lacks (by key and ``valid_from``), per catalog section."""
    out: dict[str, list[Any]] = {}
    for section, key_of in ENTRY_KEYS.items():
        have = {key_of(e) + (in_force_from(e),) for e in getattr(current, section)}
        added = [e for e in getattr(other, section) if key_of(e) + (in_force_from(e),) not in have]
        if added:
            out[section] = added
    return out


def catalog_refusals(institution: str, new_entries: dict[str, list[Any]]) -> list[Issue]:
    """Entries ``institution`` may not load: another school's entries, and any alliance or agreement.

    ``new_entries`` maps a catalog section (``courses``, ``programs``, ...) to the entries a load would add.
    """
    issues: list[Issue] = []
    for section, entries in new_entries.items():
        for entry in entries:
            if section == "institutions":
                owner, name = entry.code, entry.code
            elif section in ("alliances", "agreements"):
                owner, name = None, getattr(entry, "code", None) or entry.id
            else:
                owner, name = entry.institution, getattr(entry, "code", None) or entry.id
            if owner == institution:
                continue
            whose = f"of {owner}" if owner is not None else "shared by schools (it decides who may read whose records)"
            issues.append(Issue(code="not_own_catalog_entry",
                                message=f"{institution} may not load {section} entry {name} "
                                        f"(valid from {entry.valid_from or 'the start'}): it is {whose}; load it "
                                        "with a ledger opened without acting_as, or as its school"))
    return issues
