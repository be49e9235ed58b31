"""A stateful test of issue 12's trust between schools: random schools act on random students through every write
path, and no write by one school changes what another recorded.

Three schools of the alliance (HNJX, XTJX, ZZJX), a school outside it (SANY-HV) and, now and then, the operator (a
ledger opened without ``acting_as``) enrol, transfer and withdraw students, record courses, correct grades, reverse
events (with ``reverse`` and by appending ``EntryReversed``), convert outcomes (``convert`` and by hand), revoke them,
issue statements and receive them (``receive_statement`` and by hand), grant exceptions and change status, each
through its own handle (``acting_for``). Beside the ledger runs a plain model: the events each write was seen to add,
and from them, per school, what it recorded that counts (an event not reversed, a conversion not revoked) with its
grade (a course's latest correction that is not reversed). The rules never consult the library's own replay.

After every step: the ledger's events give the model's answer for every school (so every stamp ``recorded_by`` is
the expected one); a statement, and an issuing school's student, are received for one student only. Every write:

- accepted, it changes no other school's part (the model before and after, school by school), and only adds to
  what its own school recorded or changes that;
- refused, it leaves ``count()``, ``head()`` and every student's transcript as they were;
- a reversal, grade correction or revocation by a school of what another school recorded is refused
  (``PermissionDenied``; ``reverse`` by a school that may not read the record says "unknown event"), and one by the
  school that recorded it, of a target that still counts and dated no earlier, is accepted, wherever the student
  studies now.

Transfers are frequent, and one rule (``after_a_transfer``) plays the issue's scene itself: the new school tries
the old school's records, or the old school corrects its own after the student left. The SQLite run is in-memory (each school's handle from ``acting_for``, the path of issue 12's attack 4); the
PostgreSQL run (``test_owners_machine_on_postgresql``) makes a database per example, with fewer examples.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Callable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

import credit_ledger as cl
from conftest import DEEP, PgDatabases

SCHOOLS = ("HNJX", "XTJX", "ZZJX")
"""The alliance's schools: each has a program here."""
OUTSIDER = "SANY-HV"
ACTORS = (*SCHOOLS, *SCHOOLS, OUTSIDER, None)
"""Who acts: a school (twice as often), the outsider, or the operator (``None``: no ``acting_as``)."""
STUDENTS = ("P1", "P2", "P3", "P4")
PROGRAMS = {"HNJX": "CNC-SR-2025", "XTJX": "XT-CNC-2024", "ZZJX": "ZZ-ELEC-2025"}
COURSES = {"HNJX": ("PUB101", "PUB102", "MECH101", "CNC201", "PRA301"), "XTJX": ("XT-CNC1", "XT-DRAW", "XT-PUB1",
                                                                               "XT-PRA"),
           "ZZJX": ("ZZ-ELEC", "ZZ-PLC", "ZZ-PRA"), OUTSIDER: ("PUB101",)}
OUTCOMES = ("CERT-A", "CERT-B", "CERT-C")
KEYS = {s: Ed25519PrivateKey.from_private_bytes(bytes([i + 1]) * 32) for i, s in enumerate((*SCHOOLS, OUTSIDER))}
TRUSTED = {s: cl.public_key_hex(k) for s, k in KEYS.items()}
WHO = ("recorder", "current", "drawn")
"""Who attempts a correction (``OwnersMachine.who``)."""
REVERSIBLE = {"course_completed", "credit_recognized", "outcome_converted", "grade_corrected", "exception_granted"}
START = date(2025, 9, 1)


def alliance_catalog() -> cl.Catalog:
    """The sample catalog, with a program at ZZJX and a certificate rule at XTJX and ZZJX."""
    data = json.loads(cl.Catalog.sample().to_json())
    data["programs"].append({
        "institution": "ZZJX", "code": "ZZ-ELEC-2025", "title": "电气自动化", "level": "intermediate_worker",
        "kind": "regular", "modes": ["full_time"], "standard_years": 3, "total_credits": 60,
        "requirements": {"id": "root", "title": "毕业要求", "courses": ["ZZ-ELEC", "ZZ-PLC"]}})
    for school, target in (("XTJX", "practice"), ("ZZJX", "practice")):
        data["conversion_rules"].append({"id": f"{school}-CERT", "institution": school, "outcome_type": "certificate",
                                         "title": "数控车工", "level": "intermediate", "target": {"category": target},
                                         "credits": 4})
    return cl.Catalog.from_data(data)


CATALOG = alliance_catalog()


def outcome(outcome_id: str) -> cl.Outcome:
    return cl.Outcome(type="certificate", outcome_id=outcome_id, title="数控车工", level="中级")


# -- the plain model ----------------------------------------------------------------------------------------------


def plain_parts(events_by_student: dict[str, list[Any]]) -> dict[str | None, dict[str, tuple]]:
    """Per recording school: the events it recorded that count, as {event id: (kind, grade or credits)}.

    An event counts unless it is reversed; a conversion unless its outcome is revoked for the student. A course's
    grade is that of its latest correction (by date, then recording order) that is not reversed, else its own.
    """
    parts: dict[str | None, dict[str, tuple]] = {}
    for events in events_by_student.values():
        reversed_ids = {e.target_event_id for e in events if e.kind == "entry_reversed"}
        revoked = {(e.outcome_type, e.outcome_id) for e in events if e.kind == "outcome_revoked"}
        corrections: dict[str, tuple] = {}
        for i, e in enumerate(events):
            if e.kind == "grade_corrected" and e.event_id not in reversed_ids:
                key = (e.occurred_on, i)
                if e.target_event_id not in corrections or key > corrections[e.target_event_id][0]:
                    corrections[e.target_event_id] = (key, str(e.grade))
        for e in events:
            if e.kind not in REVERSIBLE or e.event_id in reversed_ids:
                continue
            if e.kind == "outcome_converted" and (e.outcome_type, e.outcome_id) in revoked:
                continue
            if e.kind in ("course_completed", "grade_corrected"):
                value: Any = corrections[e.event_id][1] if e.event_id in corrections else str(e.grade)
            else:
                value = str(getattr(e, "credits", ""))
            parts.setdefault(e.recorded_by, {})[e.event_id] = (e.kind, value)
    return parts


@dataclass
class Model:
    """What the ledger holds, as the test saw each write add it: every student's events in recording order."""

    events: dict[str, list[Any]] = field(default_factory=lambda: {s: [] for s in STUDENTS})
    by_id: dict[str, Any] = field(default_factory=dict)

    def add(self, event: Any, recorded_by: str | None) -> None:
        stamped = event.model_copy(update={"recorded_by": recorded_by})
        self.events[event.student_id].append(stamped)
        self.by_id[event.event_id] = stamped

    def parts(self) -> dict[str | None, dict[str, tuple]]:
        return plain_parts(self.events)

    def reversed_ids(self) -> set[str]:
        return {e.target_event_id for es in self.events.values() for e in es if e.kind == "entry_reversed"}

    def school_of(self, student: str) -> str | None:
        """The school the student studies at now (enrolled there, not withdrawn since)."""
        school = None
        for e in self.events[student]:
            if e.kind == "enrolled":
                school = e.institution
            elif e.kind in ("withdrawn", "graduated"):
                school = None
        return school

    def conversions(self, student: str, outcome_id: str) -> list[Any]:
        return [e for e in self.events[student] if e.kind == "outcome_converted" and e.outcome_id == outcome_id]


# -- the machine ----------------------------------------------------------------------------------------------


class OwnersMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.url = self.new_ledger_url()
        self.operator = cl.Ledger.open(self.url, create=True)
        self.operator.load_catalog(CATALOG)
        self.handles = {s: self.operator.acting_for(s) for s in (*SCHOOLS, OUTSIDER)}
        self.model = Model()
        self.clock = START
        self.counter = 0

    def new_ledger_url(self) -> str | None:
        """Where this run's ledger lives: in memory (the PostgreSQL run gives a database)."""
        return None

    def drop_ledger(self) -> None:
        """Remove this run's ledger (nothing to do in memory)."""

    def teardown(self) -> None:
        self.operator.close()
        self.drop_ledger()

    # -- helpers --------------------------------------------------------------------------------------------------

    def handle(self, actor: str | None) -> cl.Ledger:
        return self.operator if actor is None else self.handles[actor]

    def fresh(self, student: str, what: str) -> str:
        self.counter += 1
        return f"{student}/{what}-{self.counter}"

    def tick(self, days: int) -> date:
        self.clock += timedelta(days=days)
        return self.clock

    def snapshot(self) -> tuple:
        return (self.operator.count(), self.operator.head(),
                {s: self.operator.transcript(s).records for s in STUDENTS})

    def attempt(self, actor: str | None, write: Callable[[], Any], expected: Callable[[Any], list[Any]]
                ) -> tuple[bool, Any]:
        """Run a write as ``actor``. Refused: nothing changed. Accepted: ``expected(answer)`` is what it added (each
        event stamped by the ledger), and no other school's part of the model changed. (accepted, answer or error)"""
        before = self.snapshot()
        parts = self.model.parts()
        try:
            answer = write()
        except cl.CreditLedgerError as exc:
            assert self.snapshot() == before, (actor, exc)
            return False, exc
        added = expected(answer)
        # the schools that had converted an outcome this write revokes (read before the revocation joins the model)
        revoked = {c.recorded_by for e in added if e.kind == "outcome_revoked"
                   for c in self.model.conversions(e.student_id, e.outcome_id)}
        assert self.operator.count() == before[0] + len(added), (actor, added)
        stored = {e.event_id: e for s in {e.student_id for e in added} for e in self.operator.events(s)}
        for written in added:
            stamp = stored[written.event_id].recorded_by
            if actor is not None:
                assert stamp == actor, (written, stamp)
            elif written.kind in ("entry_reversed", "grade_corrected"):  # the operator's: the target's school
                target = self.model.by_id.get(written.target_event_id)
                assert target is None or stamp == target.recorded_by, (written, stamp)
            elif written.kind == "outcome_revoked":
                recorders = {c.recorded_by for c in self.model.conversions(written.student_id, written.outcome_id)}
                assert len(recorders) != 1 or stamp in recorders, (written, stamp)
            self.model.add(written, stamp)
        after = self.model.parts()
        changed = {school for school in set(parts) | set(after) if parts.get(school) != after.get(school)}
        if actor is not None:
            assert changed <= {actor}, (actor, changed, added)
        elif revoked:  # the operator's revocation voids the outcome everywhere (ARCHITECTURE: "every conversion
            # from it stops counting"): it changes the part of each school that converted it, and no other
            assert changed <= revoked, (changed, revoked, added)
        else:  # the operator writes for one school at a time: the one that recorded what it changes
            assert len(changed) <= 1, (changed, added)
        return True, answer

    def one(self, event: Any) -> Callable[[Any], list[Any]]:
        return lambda _receipt: [event]

    # -- status -----------------------------------------------------------------------------------------------------

    @initialize(schools=st.lists(st.sampled_from(SCHOOLS), min_size=len(STUDENTS), max_size=len(STUDENTS)))
    def enrol_everyone(self, schools: list[str]) -> None:
        """Each student enrols at a school, which records a course for them a week later."""
        for student, school in zip(STUDENTS, schools, strict=True):
            e = cl.Enrolled(event_id=self.fresh(student, "enrol"), student_id=student, occurred_on=self.clock,
                            institution=school, program=PROGRAMS[school])
            c = cl.CourseCompleted(event_id=self.fresh(student, "first"), student_id=student,
                                   occurred_on=self.clock + timedelta(days=7), institution=school,
                                   course=COURSES[school][0], grade=Decimal(80))
            accepted, _ = self.attempt(school, lambda e=e, c=c, s=school: self.handle(s).append_many([e, c]),
                                       lambda _r, e=e, c=c: [e, c])
            assert accepted
        self.tick(7)

    @rule(student=st.sampled_from(STUDENTS), to=st.sampled_from(SCHOOLS), days=st.integers(0, 40),
          by_operator=st.booleans())
    def transfer(self, student: str, to: str, days: int, by_operator: bool) -> None:
        """The student leaves their school (written by it) and enrols at another (written by that one)."""
        on = self.tick(days)
        current = self.model.school_of(student)
        if current is not None:
            leave = cl.Withdrawn(event_id=self.fresh(student, "leave"), student_id=student, occurred_on=on)
            actor = None if by_operator else current
            self.attempt(actor, lambda: self.handle(actor).append(leave), self.one(leave))
        enrol = cl.Enrolled(event_id=self.fresh(student, "enrol"), student_id=student, occurred_on=self.tick(1),
                            institution=to, program=PROGRAMS[to])  # the next day: a withdrawal ends its day
        self.attempt(to, lambda: self.handle(to).append(enrol), self.one(enrol))

    @rule(student=st.sampled_from(STUDENTS), to=st.sampled_from(SCHOOLS), days=st.integers(0, 40))
    def another_transfer(self, student: str, to: str, days: int) -> None:
        """Transfers are what this machine is about: twice as likely as another rule."""
        self.transfer(student, to, days, by_operator=False)

    @rule(actor=st.sampled_from(ACTORS), student=st.sampled_from(STUDENTS),
          kind=st.sampled_from(["suspended", "resumed", "withdrawn", "program_changed", "exception_granted",
                                "graduated"]), days=st.integers(0, 20))
    def status_or_exception(self, actor: str | None, student: str, kind: str, days: int) -> None:
        on = self.tick(days)
        eid = self.fresh(student, kind)
        e = {"suspended": lambda: cl.Suspended(event_id=eid, student_id=student, occurred_on=on),
             "resumed": lambda: cl.Resumed(event_id=eid, student_id=student, occurred_on=on),
             "withdrawn": lambda: cl.Withdrawn(event_id=eid, student_id=student, occurred_on=on),
             "program_changed": lambda: cl.ProgramChanged(event_id=eid, student_id=student, occurred_on=on,
                                                          program="CNC-TECH-2025"),
             "exception_granted": lambda: cl.ExceptionGranted(event_id=eid, student_id=student, occurred_on=on,
                                                              requirement_id="root", action="waive"),
             "graduated": lambda: cl.Graduated(event_id=eid, student_id=student, occurred_on=on, award="completion"),
             }[kind]()
        self.attempt(actor, lambda: self.handle(actor).append(e), self.one(e))

    # -- records ----------------------------------------------------------------------------------------------------

    @rule(actor=st.sampled_from(ACTORS), student=st.sampled_from(STUDENTS), pick=st.integers(0, 9),
          grade=st.sampled_from([Decimal(45), Decimal(60), Decimal(75), Decimal(92), "良", "合格"]),
          days=st.integers(0, 30), own=st.booleans())
    def complete_course(self, actor: str | None, student: str, pick: int, grade: Any, days: int, own: bool) -> None:
        on = self.tick(days)
        actor = self.model.school_of(student) if own and self.model.school_of(student) else actor
        school = actor or self.model.school_of(student) or "HNJX"
        course = COURSES[school][pick % len(COURSES[school])]
        e = cl.CourseCompleted(event_id=self.fresh(student, course), student_id=student, occurred_on=on,
                               institution=school, course=course, grade=grade)
        self.attempt(actor, lambda: self.handle(actor).append(e), self.one(e))

    def owned_check(self, actor: str | None, student: str, recorders: set[str | None], valid: bool,
                    accepted: bool, answer: Any, path: str) -> None:
        """A correction by a school of another school's record is refused; one by the recording school of a target
        that still counts is accepted."""
        if actor is None:
            return
        if recorders != {actor}:
            by = ", by the student's school" if self.model.school_of(student) == actor else ""
            event(f"{path}: another school's record{by}, refused")
            assert not accepted, (path, actor, recorders)
            assert isinstance(answer, (cl.PermissionDenied, cl.UnknownReference)), (path, answer)
            if isinstance(answer, cl.UnknownReference):
                assert path == "reverse" and answer.codes == ["unknown_event"], answer
        elif valid:
            left = "" if self.model.school_of(student) == actor else ", the student gone"
            event(f"{path}: its own record{left}, accepted")
            assert accepted, (path, actor, answer)

    def who(self, who: str, actor: str | None, student: str, recorders: set[str | None]) -> str | None:
        """Who writes a correction: the school that recorded its target (when one did), the student's school now
        (the attack of issue 12 when that is another), or whoever was drawn."""
        if who == "recorder" and len(recorders) == 1:
            return next(iter(recorders))
        if who == "current" and self.model.school_of(student) is not None:
            return self.model.school_of(student)
        return actor

    def target_ids(self, kinds: set[str]) -> list[str]:
        return sorted(eid for eid, e in self.model.by_id.items() if e.kind in kinds)

    @precondition(lambda self: self.target_ids({"course_completed"}))
    @rule(data=st.data(), actor=st.sampled_from(ACTORS), grade=st.sampled_from([Decimal(30), Decimal(88), "优"]),
          days=st.integers(0, 10), early=st.integers(0, 9), who=st.sampled_from(WHO))
    def correct_grade(self, data: st.DataObject, actor: str | None, grade: Any, days: int, early: int,
                      who: str) -> None:
        target = self.model.by_id[data.draw(st.sampled_from(self.target_ids({"course_completed"})), label="target")]
        actor = self.who(who, actor, target.student_id, {target.recorded_by})
        on = self.tick(days) if early else target.occurred_on - timedelta(days=1)
        e = cl.GradeCorrected(event_id=self.fresh(target.student_id, "fix"), student_id=target.student_id,
                              occurred_on=on, target_event_id=target.event_id, grade=grade, reason="成绩复核")
        accepted, answer = self.attempt(actor, lambda: self.handle(actor).append(e), self.one(e))
        valid = target.event_id not in self.model.reversed_ids() - ({e.target_event_id} if accepted else set())
        self.owned_check(actor, target.student_id, {target.recorded_by}, valid and bool(early), accepted, answer,
                         "correct")

    @precondition(lambda self: self.target_ids(REVERSIBLE | {"enrolled"}))
    @rule(data=st.data(), actor=st.sampled_from(ACTORS), via_reverse=st.booleans(), days=st.integers(0, 10),
          who=st.sampled_from(WHO))
    def reverse(self, data: st.DataObject, actor: str | None, via_reverse: bool, days: int, who: str) -> None:
        target = self.model.by_id[data.draw(st.sampled_from(self.target_ids(REVERSIBLE | {"enrolled"})),
                                            label="target")]
        actor = self.who(who, actor, target.student_id, {target.recorded_by})
        on = max(self.tick(days), target.occurred_on)
        was_reversed = target.event_id in self.model.reversed_ids()
        if via_reverse:
            e = cl.EntryReversed(event_id=f"{target.event_id}:reversed", student_id=target.student_id,
                                 occurred_on=on, target_event_id=target.event_id, reason="录入错误")
            known = e.event_id in self.model.by_id

            def write() -> Any:
                return self.handle(actor).reverse(target.event_id, reason="录入错误", occurred_on=on)

            accepted, answer = self.attempt(actor, write, lambda _r: [] if known else [e])
        else:
            e = cl.EntryReversed(event_id=self.fresh(target.student_id, "rev"), student_id=target.student_id,
                                 occurred_on=on, target_event_id=target.event_id, reason="录入错误")
            accepted, answer = self.attempt(actor, lambda: self.handle(actor).append(e), self.one(e))
        valid = not was_reversed and target.kind in REVERSIBLE
        self.owned_check(actor, target.student_id, {target.recorded_by}, valid, accepted, answer,
                         "reverse" if via_reverse else "append")

    def moved_targets(self) -> list[str]:
        """Events that count, recorded by a school the student has left for another (issue 12's scene)."""
        gone = self.model.reversed_ids()
        return sorted(eid for eid, e in self.model.by_id.items()
                      if e.kind in REVERSIBLE and eid not in gone and e.recorded_by is not None
                      and self.model.school_of(e.student_id) not in (None, e.recorded_by))

    @precondition(lambda self: self.moved_targets())
    @rule(data=st.data(), how=st.sampled_from(["reverse", "append", "correct", "revoke"]),
          by_recorder=st.booleans(), days=st.integers(0, 10))
    def after_a_transfer(self, data: st.DataObject, how: str, by_recorder: bool, days: int) -> None:
        """The scene of the issue: the student's new school takes back, regrades or revokes what the old school
        recorded (refused); or the old school corrects its own record although the student left it (accepted)."""
        target = self.model.by_id[data.draw(st.sampled_from(self.moved_targets()), label="target")]
        student, on = target.student_id, max(self.tick(days), target.occurred_on)
        actor = target.recorded_by if by_recorder else self.model.school_of(student)
        if how == "correct" and target.kind != "course_completed" or how == "revoke" and target.kind != \
                "outcome_converted":
            how = "append"
        eid = self.fresh(student, how)
        if how == "reverse":
            e: Any = cl.EntryReversed(event_id=f"{target.event_id}:reversed", student_id=student, occurred_on=on,
                                      target_event_id=target.event_id, reason="x")
            accepted, answer = self.attempt(actor, lambda: self.handle(actor).reverse(
                target.event_id, reason="x", occurred_on=on), self.one(e))
        else:
            e = {"append": lambda: cl.EntryReversed(event_id=eid, student_id=student, occurred_on=on,
                                                    target_event_id=target.event_id),
                 "correct": lambda: cl.GradeCorrected(event_id=eid, student_id=student, occurred_on=on,
                                                      target_event_id=target.event_id, grade=Decimal(99)),
                 "revoke": lambda: cl.OutcomeRevoked(event_id=eid, student_id=student, occurred_on=on,
                                                     outcome_type="certificate", outcome_id=target.outcome_id),
                 }[how]()
            accepted, answer = self.attempt(actor, lambda: self.handle(actor).append(e), self.one(e))
        recorders = ({c.recorded_by for c in self.model.conversions(student, target.outcome_id)} if how == "revoke"
                     else {target.recorded_by})
        self.owned_check(actor, student, recorders, True, accepted, answer, how)

    # -- conversion and revocation --------------------------------------------------------------------------------

    @rule(actor=st.sampled_from(ACTORS), student=st.sampled_from(STUDENTS), outcome_id=st.sampled_from(OUTCOMES),
          by_hand=st.booleans(), days=st.integers(0, 20), own=st.booleans())
    def convert(self, actor: str | None, student: str, outcome_id: str, by_hand: bool, days: int, own: bool) -> None:
        on = self.tick(days)
        actor = self.model.school_of(student) if own and self.model.school_of(student) else actor
        if by_hand:
            school = actor or self.model.school_of(student) or "HNJX"
            rule_id = "CERT-CNC-L4" if school in ("HNJX", OUTSIDER) else f"{school}-CERT"
            e = cl.OutcomeConverted(event_id=self.fresh(student, "conv"), student_id=student, occurred_on=on,
                                    outcome_type="certificate", outcome_id=outcome_id, title="数控车工", level="中级",
                                    target={"category": "practice"}, credits=Decimal(4), rule_id=rule_id)
            self.attempt(actor, lambda: self.handle(actor).append(e), self.one(e))
            return
        self.attempt(actor, lambda: self.handle(actor).convert(student, [outcome(outcome_id)], as_of=on),
                     lambda result: list(result.events))

    @precondition(lambda self: self.target_ids({"outcome_converted"}))
    @rule(data=st.data(), actor=st.sampled_from(ACTORS), days=st.integers(0, 10), who=st.sampled_from(WHO))
    def revoke(self, data: st.DataObject, actor: str | None, days: int, who: str) -> None:
        converted = self.model.by_id[data.draw(st.sampled_from(self.target_ids({"outcome_converted"})),
                                               label="conversion")]
        student, outcome_id = converted.student_id, converted.outcome_id
        recorders = {c.recorded_by for c in self.model.conversions(student, outcome_id)}
        actor = self.who(who, actor, student, recorders)
        e = cl.OutcomeRevoked(event_id=self.fresh(student, "revoke"), student_id=student, occurred_on=self.tick(days),
                              outcome_type="certificate", outcome_id=outcome_id, reason="证书作废")
        accepted, answer = self.attempt(actor, lambda: self.handle(actor).append(e), self.one(e))
        self.owned_check(actor, student, recorders, True, accepted, answer, "revoke")

    # -- statements -------------------------------------------------------------------------------------------------

    @rule(issuer=st.sampled_from(SCHOOLS), student=st.sampled_from(STUDENTS), actor=st.sampled_from(ACTORS),
          local=st.sampled_from(STUDENTS), days=st.integers(0, 20), by_hand=st.integers(0, 4), own=st.booleans())
    def issue_and_receive(self, issuer: str, student: str, actor: str | None, local: str, days: int,
                          by_hand: int, own: bool) -> None:
        """``issuer`` states ``student``'s results there; ``actor`` receives the statement for ``local``."""
        on = self.tick(days)
        actor = self.model.school_of(local) if own and self.model.school_of(local) else actor
        try:
            statement = self.handles[issuer].issue_statement(
                student, key=KEYS[issuer], issued_at=datetime.combine(on, datetime.min.time(), timezone.utc))
        except (cl.PermissionDenied, cl.UnknownReference):
            return  # the issuer may not read the student, or the student has no school
        receiver = self.handle(actor)
        if by_hand == 0:  # decided in a dry run, appended by hand (an import, say)
            try:
                decided = receiver.receive_statement(statement, trusted_keys=TRUSTED, as_of=on, student_id=local,
                                                     dry_run=True)
            except cl.PermissionDenied:
                return  # the receiver may not read the student
            if decided.events:
                self.attempt(actor, lambda: receiver.append_many(decided.events), lambda _r: list(decided.events))
            return
        self.attempt(actor, lambda: receiver.receive_statement(statement.to_json(), trusted_keys=TRUSTED, as_of=on,
                                                               student_id=local),
                     lambda result: list(result.events))

    # -- invariants -------------------------------------------------------------------------------------------------

    @invariant()
    def each_school_holds_what_it_recorded(self) -> None:
        stored = {s: self.operator.events(s) for s in STUDENTS}
        assert plain_parts(stored) == self.model.parts()
        assert [e.event_id for s in STUDENTS for e in stored[s]] == \
            [e.event_id for s in STUDENTS for e in self.model.events[s]]

    @invariant()
    def a_statement_counts_for_one_student(self) -> None:
        """Of the recognitions that count, those of one statement (or of one student of an issuing school) are one
        student's."""
        received: dict[tuple, set[str]] = {}
        gone = self.model.reversed_ids()
        for events in self.model.events.values():
            for e in events:
                if e.kind == "credit_recognized" and e.event_id not in gone:
                    received.setdefault(("statement", e.source_institution, e.statement_id), set()).add(e.student_id)
                    received.setdefault(("student", e.source_institution, e.source_student_id), set()).add(
                        e.student_id)
        assert all(len(students) == 1 for students in received.values()), received


OwnersMachine.TestCase.settings = settings(
    max_examples=600 if DEEP else 60,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    report_multiple_bugs=False,
)
TestOwnersMachine = OwnersMachine.TestCase


def test_owners_machine_on_postgresql(pg_databases: PgDatabases) -> None:
    class OnPostgres(OwnersMachine):
        def new_ledger_url(self) -> str:
            return pg_databases.new()

        def drop_ledger(self) -> None:
            pg_databases.drop(self.url)

    run_state_machine_as_test(OnPostgres, settings=settings(OwnersMachine.TestCase.settings,
                                                            max_examples=300 if DEEP else 15))
