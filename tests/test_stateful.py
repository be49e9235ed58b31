"""A stateful test: a real SQLite-file ledger (PostgreSQL in ``test_stateful_postgres``) driven beside a plain model
of the documented rules.

The model below is deliberately independent of ``credit_ledger.history`` and ``credit_ledger.grades``: it re-states
the rules in a few lines of dicts and lists (pass mark 60; 优95/良85/中75/及格65/不及格50; 合格 passes without a
score; a passed make-up counts at 60, flagged; at most one make-up per course; a course counts once by its best
attempt; reversals stop an event counting; a grade correction replaces its target's grade; credits are earned only
while enrolled and not suspended; status changes are recorded in date order; within one day an enrolment or a
resumption comes first and a suspension last, see ``SUSPENSION_ENDS_ITS_DAY``). Only the catalog (reference data) is
read from the library, for course credits and categories.

Every step checks balances and transcripts against the model; a ``reopen`` rule closes the ledger, opens the file
again, and checks that history, hashes, receipts and transcripts survived and that ``verify()`` passes.
"""

from __future__ import annotations

import copy
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

import credit_ledger as cl
from credit_ledger.errors import CreditLedgerError

import strategies as sx

DEEP = os.environ.get("HYPOTHESIS_PROFILE") == "deep"

CATALOG = cl.Catalog.sample()

# -- the plain model's rules ------------------------------------------------------------------------------------

PASS_MARK = Decimal(60)
MAKEUP_SCORE = Decimal(60)
FIVE_LEVEL = {"优": Decimal(95), "良": Decimal(85), "中": Decimal(75), "及格": Decimal(65), "不及格": Decimal(50)}
MAX_SUSPENSION_DAYS = 730  # two years
STATUS_KINDS = {"enrolled", "suspended", "resumed"}


def plain_score(grade: Any) -> Decimal | None:
    """A grade as written (Decimal or word) -> its score; None on the pass/fail scale."""
    if isinstance(grade, Decimal):
        return grade
    if grade in FIVE_LEVEL:
        return FIVE_LEVEL[grade]
    return None


def plain_passes(grade: Any) -> bool:
    if grade == "合格":
        return True
    if grade == "不合格":
        return False
    return plain_score(grade) >= PASS_MARK


def course_credits(code: str, on: date) -> Decimal:
    return CATALOG.course(sx.HOME, code, on).credits


def course_category(code: str, on: date) -> str:
    return CATALOG.course(sx.HOME, code, on).category


@dataclass
class Rec:
    """An event the ledger accepted, as the model sees it."""

    index: int
    kind: str
    student: str
    on: date
    obj: Any
    receipt: cl.Receipt
    course: str | None = None
    attempt: str | None = None
    grade: Any = None
    target: str | None = None


SUSPENSION_ENDS_ITS_DAY = True
"""Within one day: an enrolment or a resumption (复学) starts the day, study comes next, a suspension (休学) ends the
day (the replay order documented by ``KIND_RANK``). So a course dated the day of a resumption is studied while
active, and one dated the day a suspension starts was studied before it. With False, a change applies to every
event of its whole day (the older reading: suspended on D means suspended from D)."""

DAY_PLACE = {"enrolled": 0, "resumed": 1, "course_completed": 3, "grade_corrected": 6, "entry_reversed": 8,
             "suspended": 11}
"""Where a kind falls within its day (only the kinds this machine writes): enrolment first, then study, then
corrections, and last what ends study that day. A batch is checked in this order (date, place, position)."""


@dataclass
class StudentModel:
    timeline: list[tuple[date, int, int, str]] = field(default_factory=list)
    """(date, place in the day, recording index, status) of each accepted status change."""
    last_dependent: date | None = None

    def changes(self) -> list[tuple[date, int, int, str]]:
        return sorted(self.timeline)

    def status_for(self, kind: str, day: date) -> str:
        """The status an event of ``kind`` dated ``day`` meets."""
        status = "not_enrolled"
        for d, place, _, s in self.changes():
            if d < day or (d == day and (not SUSPENSION_ENDS_ITS_DAY or place <= DAY_PLACE[kind])):
                status = s
        return status

    def latest(self) -> date | None:
        dates = [c[0] for c in self.timeline] + ([self.last_dependent] if self.last_dependent else [])
        return max(dates) if dates else None

    def suspended_days(self, until: date | None) -> int:
        total, start = 0, None
        for d, _, _, s in self.changes():
            if s == "suspended" and start is None:
                start = d
            elif s != "suspended" and start is not None:
                total += (d - start).days
                start = None
        if start is not None and until is not None and until > start:
            total += (until - start).days
        return total


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = tempfile.mkdtemp(prefix="cl-stateful-")
        self.path = self.new_ledger_url()
        self.ledger = cl.Ledger.open(self.path, create=True)
        self.ledger.load_catalog(CATALOG)
        self.other = cl.Ledger.open(self.path)
        """A second handle on the same file (another process, say); some single appends go through it."""
        self.clock = sx.START
        self.students: dict[str, StudentModel] = {s: StudentModel() for s in sx.STUDENT_POOL + (sx.GHOST_STUDENT,)}
        self.events: dict[str, Rec] = {}
        self.reversed: set[str] = set()
        self.counter = 0
        self.raw_grades: dict[str, Any] = {}
        """The grade of each course or correction event as the test wrote it (a Decimal or a word)."""

    def new_ledger_url(self) -> str:
        """Where this run's ledger lives: a SQLite file (``test_stateful_postgres`` puts it on PostgreSQL)."""
        return os.path.join(self.dir, "ledger.db")

    def drop_ledger(self) -> None:
        """Remove this run's ledger (the temp dir goes anyway)."""

    def teardown(self) -> None:
        self.ledger.close()
        self.other.close()
        self.drop_ledger()
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- model helpers --------------------------------------------------------------------------------------------

    def fresh_id(self, student: str, what: str) -> str:
        self.counter += 1
        return f"{student}/{what}-{self.counter}"

    def makeups(self, student: str, course: str) -> int:
        return sum(1 for eid, r in self.events.items() if r.kind == "course_completed" and r.student == student
                   and r.course == course and r.attempt == "makeup" and eid not in self.reversed)

    def predict(self, e: Any) -> list[str]:
        """The refusal codes the documented rules give for one event appended alone (empty: accepted)."""
        s = self.students[e.student_id]
        codes: list[str] = []
        if e.kind in STATUS_KINDS:
            latest = s.latest()
            if latest is not None and e.occurred_on < latest:
                codes.append("out_of_order")
        status = s.status_for(e.kind, e.occurred_on)
        if e.kind == "enrolled":
            if status in ("active", "suspended"):
                codes.append("already_enrolled")
            if (e.program, e.mode) not in sx.PROGRAMS:
                codes.append("mode_not_offered")
        elif e.kind == "suspended":
            if status == "suspended":
                codes.append("suspended")
            elif status != "active":
                codes.append("not_enrolled")
            elif s.suspended_days(None) >= MAX_SUSPENSION_DAYS:
                codes.append("suspension_limit")
        elif e.kind == "resumed":
            if status != "suspended":
                codes.append("not_suspended")
            elif s.suspended_days(e.occurred_on) > MAX_SUSPENSION_DAYS:
                codes.append("suspension_limit")
        elif e.kind == "course_completed":
            if CATALOG.course(e.institution, e.course, e.occurred_on) is None:
                codes.append("unknown_course")
            elif status == "suspended":
                codes.append("suspended")
            elif status != "active":
                codes.append("not_enrolled")
            elif e.attempt == "makeup" and self.makeups(e.student_id, e.course) >= 1:
                codes.append("makeup_limit")
        elif e.kind in ("entry_reversed", "grade_corrected"):
            target = self.events.get(e.target_event_id)
            kinds = {"course_completed", "grade_corrected"} if e.kind == "entry_reversed" else {"course_completed"}
            if target is None or target.student != e.student_id:
                codes.append("unknown_event")
            elif target.kind not in kinds:
                codes.append("not_reversible" if e.kind == "entry_reversed" else "not_a_course")
            elif e.target_event_id in self.reversed:
                codes.append("already_reversed")
            elif e.occurred_on < target.on:
                codes.append("before_target")
        return codes

    def apply(self, e: Any, receipt: cl.Receipt) -> None:
        """Fold an accepted event into the model."""
        rec = Rec(index=len(self.events), kind=e.kind, student=e.student_id, on=e.occurred_on, obj=e,
                  receipt=receipt)
        s = self.students[e.student_id]
        if e.kind in ("enrolled", "resumed", "suspended"):
            s.timeline.append((e.occurred_on, DAY_PLACE[e.kind], rec.index,
                               "suspended" if e.kind == "suspended" else "active"))
        elif e.kind == "course_completed":
            rec.course, rec.attempt, rec.grade = e.course, e.attempt, self.raw_grades[e.event_id]
            s.last_dependent = max(filter(None, [s.last_dependent, e.occurred_on]))
        elif e.kind == "grade_corrected":
            rec.target, rec.grade = e.target_event_id, self.raw_grades[e.event_id]
        elif e.kind == "entry_reversed":
            rec.target = e.target_event_id
            self.reversed.add(e.target_event_id)
        self.events[e.event_id] = rec

    def expected_records(self, student: str, as_of: date | None = None) -> list[tuple]:
        """(course, credits, score, grade points, flagged, event_id) of each counted course, by course."""
        def visible(r: Rec) -> bool:
            return as_of is None or r.on <= as_of

        mine = sorted((r for r in self.events.values() if r.student == student and visible(r)),
                      key=lambda r: r.index)
        reversed_ids = {r.target for r in mine if r.kind == "entry_reversed"}
        live = [r for r in mine if r.obj.event_id not in reversed_ids]
        corrections: dict[str, Rec] = {}
        for r in sorted((r for r in live if r.kind == "grade_corrected"), key=lambda r: (r.on, r.index)):
            corrections[r.target] = r  # the latest-dated correction wins (ties: the later recorded)
        by_course: dict[str, list[Rec]] = {}
        for r in live:
            if r.kind == "course_completed":
                by_course.setdefault(r.course, []).append(r)
        out = []
        for course, tries in by_course.items():
            best_key, best = None, None
            makeups = 0
            for r in tries:
                if r.attempt == "makeup":
                    makeups += 1
                    if makeups > 1:
                        continue
                grade = corrections[r.obj.event_id].grade if r.obj.event_id in corrections else r.grade
                passing = plain_passes(grade)
                score = plain_score(grade)
                flagged = r.attempt == "makeup" and passing
                if flagged and score is not None:
                    score = MAKEUP_SCORE
                # pass/fail has no score: a 合格 ranks as the pass mark
                rank = score if score is not None else (PASS_MARK if passing else Decimal(-1))
                key = (passing, rank, -r.index)
                if best_key is None or key > best_key:
                    points = None if score is None else ((score - 50) / 10 if passing else Decimal(0))
                    best_key, best = key, (course, course_credits(course, r.on), score, points, flagged,
                                           r.obj.event_id, passing, course_category(course, r.on))
            if best is not None and best[6]:
                out.append(best)
        return sorted(out)

    # -- ledger helpers -------------------------------------------------------------------------------------------

    def attempt_append(self, e: Any, writer: cl.Ledger | None = None) -> None:
        """Append one event; the ledger must accept it exactly when the model does."""
        expected = self.predict(e)
        before = self.ledger.count()
        writer = writer or self.ledger
        if expected:
            with pytest.raises(CreditLedgerError) as info:
                writer.append(e)
            assert expected[0] in getattr(info.value, "codes", []), (expected, info.value)
            assert self.ledger.count() == before
        else:
            receipt = writer.append(e)
            assert receipt.event_id == e.event_id
            assert self.ledger.count() == before + 1
            self.apply(e, receipt)

    def course_event(self, student: str, course: str, grade: Any, attempt: str, on: date) -> Any:
        e = cl.CourseCompleted(event_id=self.fresh_id(student, course), student_id=student, occurred_on=on,
                               institution=sx.HOME, course=course, grade=grade, attempt=attempt)
        self.raw_grades[e.event_id] = grade
        return e

    def pick_student(self, data: st.DataObject, status: str) -> str:
        """Mostly a student with that status on today's date (so most steps do something), sometimes anyone."""
        having = [s for s in sx.STUDENT_POOL if self.students[s].status_for("course_completed", self.clock) == status]
        if having and data.draw(st.integers(0, 4), label="pick by status"):
            return data.draw(st.sampled_from(having), label="student")
        return data.draw(sx.student_ids(), label="student")

    def has_events(self) -> bool:
        return bool(self.events)

    def has_courses(self) -> bool:
        return any(r.kind == "course_completed" for r in self.events.values())

    # -- rules ----------------------------------------------------------------------------------------------------

    @initialize(students=st.lists(sx.student_ids(), unique=True, max_size=3), enrolment=sx.enrolments())
    def enrol_some(self, students: list[str], enrolment: dict) -> None:
        for student in students:
            self.enrol(student, enrolment, 1, 0)

    @rule(student=sx.student_ids(), enrolment=sx.enrolments(), wrong_mode=st.integers(0, 9), days=sx.day_steps(),
          late=st.sampled_from([0] * 5 + [1, 30]))
    def enrol(self, student: str, enrolment: dict, wrong_mode: int, days: int, late: int = 0) -> None:
        self.clock += timedelta(days=days)
        if wrong_mode == 0:
            enrolment = {**enrolment, "mode": "part_time" if enrolment["mode"] == "full_time" else "full_time",
                         "employer": enrolment.get("employer") or "某公司"}
        latest = self.students[student].latest()
        on = latest - timedelta(days=late) if late and latest is not None else self.clock
        self.attempt_append(cl.Enrolled(event_id=self.fresh_id(student, "enrol"), student_id=student,
                                        occurred_on=on, institution=sx.HOME, **enrolment))

    @rule(data=st.data(), course=sx.few_course_codes(), grade=sx.grades(), attempt=sx.attempts(),
          back=st.sampled_from([0] * 6 + [1, 7, 30, 90]), days=sx.day_steps())
    def complete_course(self, data: st.DataObject, course: str, grade: Any, attempt: str, back: int,
                        days: int) -> None:
        self.clock += timedelta(days=days)
        student = self.pick_student(data, "active")
        self.attempt_append(self.course_event(student, course, grade, attempt, self.clock - timedelta(days=back)))

    @rule(data=st.data(), kind=st.sampled_from(["course", "course", "suspended", "resumed"]),
          course=sx.few_course_codes(), grade=sx.grades(), attempt=sx.attempts(), days=sx.day_steps())
    def another_handle_writes(self, data: st.DataObject, kind: str, course: str, grade: Any, attempt: str,
                              days: int) -> None:
        """A second Ledger on the same file (another process) writes; the first must notice on its next append."""
        self.clock += timedelta(days=days)
        if kind == "course":
            student = self.pick_student(data, "active")
            e = self.course_event(student, course, grade, attempt, self.clock)
        else:
            student = self.pick_student(data, "active" if kind == "suspended" else "suspended")
            cls = cl.Suspended if kind == "suspended" else cl.Resumed
            e = cls(event_id=self.fresh_id(student, kind[:4]), student_id=student, occurred_on=self.clock)
        self.attempt_append(e, writer=self.other)

    @rule(data=st.data(), course=sx.few_course_codes(), grades=st.lists(sx.grades(), min_size=2, max_size=3),
          days=sx.day_steps())
    def fail_then_try_again(self, data: st.DataObject, course: str, grades: list, days: int) -> None:
        """A regular attempt, then a make-up or retake (or both) of the same course, a few days apart."""
        self.clock += timedelta(days=days)
        student = self.pick_student(data, "active")
        kinds = ["regular"] + data.draw(st.permutations(["makeup", "retake"]))
        for grade, attempt in zip(grades, kinds):
            self.attempt_append(self.course_event(student, course, grade, attempt, self.clock))
            self.clock += timedelta(days=data.draw(st.integers(0, 20)))

    @precondition(has_courses)
    @rule(data=st.data(), reason=sx.reasons(), via_reverse=st.booleans(), backdate=st.integers(0, 5),
          days=sx.day_steps())
    def reverse(self, data: st.DataObject, reason: str, via_reverse: bool, backdate: int, days: int) -> None:
        self.clock += timedelta(days=days)
        ids = sorted(self.events, key=lambda i: self.events[i].index)
        if not ids or data.draw(st.integers(0, 19)) == 0:
            target = data.draw(st.sampled_from(["nope-1", "S1/ghost-event"]))
            with pytest.raises(cl.UnknownReference):
                self.ledger.reverse(target, reason=reason, occurred_on=self.clock)
            return
        courses = [i for i in ids if self.events[i].kind in ("course_completed", "grade_corrected")]
        target = data.draw(st.sampled_from(courses if courses and data.draw(st.integers(0, 9)) else ids))
        rec = self.events[target]
        on = self.clock if backdate else rec.on - timedelta(days=1)
        if via_reverse:
            reversal_id = f"{target}:reversed"
            event = cl.EntryReversed(event_id=reversal_id, student_id=rec.student, occurred_on=on,
                                     target_event_id=target, reason=reason)
            prior = self.events.get(reversal_id)
            if prior is not None:
                before = self.ledger.count()
                if prior.obj == event:
                    assert self.ledger.reverse(target, reason=reason, occurred_on=on) == prior.receipt
                else:  # the same reversal id with other details
                    with pytest.raises(cl.RejectedEvent) as info:
                        self.ledger.reverse(target, reason=reason, occurred_on=on)
                    assert {"already_reversed", "duplicate_event"} & set(info.value.codes), info.value
                assert self.ledger.count() == before
                return
            expected = self.predict(event)
            before = self.ledger.count()
            if expected:
                with pytest.raises(CreditLedgerError) as info:
                    self.ledger.reverse(target, reason=reason, occurred_on=on)
                assert expected[0] in info.value.codes, (expected, info.value)
                assert self.ledger.count() == before
            else:
                receipt = self.ledger.reverse(target, reason=reason, occurred_on=on)
                assert self.ledger.count() == before + 1
                self.apply(event, receipt)
        else:
            self.attempt_append(cl.EntryReversed(event_id=self.fresh_id(rec.student, "rev"), student_id=rec.student,
                                                 occurred_on=on, target_event_id=target, reason=reason))

    @precondition(has_courses)
    @rule(data=st.data(), grade=sx.grades(), back=st.sampled_from([0] * 5 + [-1, 3, 20, 60]), days=sx.day_steps())
    def correct_grade(self, data: st.DataObject, grade: Any, back: int, days: int) -> None:
        self.clock += timedelta(days=days)
        ids = sorted(self.events, key=lambda i: self.events[i].index)
        assume(ids)
        courses = [i for i in ids if self.events[i].kind == "course_completed"]
        target = data.draw(st.sampled_from(courses if courses and data.draw(st.integers(0, 9)) else ids))
        rec = self.events[target]
        # mostly between the target's date and today; back == -1 dates it before the target
        on = rec.on - timedelta(days=1) if back < 0 else max(rec.on, self.clock - timedelta(days=back))
        e = cl.GradeCorrected(event_id=self.fresh_id(rec.student, "fix"), student_id=rec.student, occurred_on=on,
                              target_event_id=target, grade=grade, reason="成绩复核")
        self.raw_grades[e.event_id] = grade
        self.attempt_append(e)

    @rule(data=st.data(), kind=st.sampled_from(["suspended", "resumed"]), reason=sx.reasons(),
          days=st.one_of(sx.day_steps(), st.integers(300, 800)), late=st.sampled_from([0] * 5 + [1, 30]))
    def change_status(self, data: st.DataObject, kind: str, reason: str, days: int, late: int) -> None:
        """休学 or 复学, dated today; sometimes dated before the student's latest record (refused: out_of_order)."""
        self.clock += timedelta(days=days)
        student = self.pick_student(data, "active" if kind == "suspended" else "suspended")
        on = self.clock
        if late:
            latest = self.students[student].latest()
            if latest is not None:
                on = latest - timedelta(days=late)
        e = {"suspended": cl.Suspended, "resumed": cl.Resumed}[kind](
            event_id=self.fresh_id(student, kind[:4]), student_id=student, occurred_on=on, reason=reason)
        if on < self.clock:
            assert "out_of_order" in self.predict(e)
        self.attempt_append(e)

    @precondition(has_events)
    @rule(data=st.data(), other_content=st.integers(0, 3))
    def reappend(self, data: st.DataObject, other_content: int) -> None:
        """Re-appending an event is a no-op returning its first receipt; the same id with other content is refused."""
        eid = data.draw(st.sampled_from(sorted(self.events)))
        rec = self.events[eid]
        before, head = self.ledger.count(), self.ledger.head()
        if other_content:
            assert self.ledger.append(rec.obj) == rec.receipt
            assert self.ledger.append_many([rec.obj.model_copy(), rec.obj]) == [rec.receipt, rec.receipt]
        else:
            other = rec.obj.model_copy(update={"occurred_on": rec.on + timedelta(days=1)})
            with pytest.raises(cl.DuplicateEvent) as info:
                self.ledger.append(other)
            assert "duplicate_event" in info.value.codes
        assert self.ledger.count() == before and self.ledger.head() == head

    @rule(data=st.data(), n=st.integers(2, 4), days=sx.day_steps())
    def append_a_good_batch(self, data: st.DataObject, n: int, days: int) -> None:
        """Several courses of studying students in one append_many: all written, with consecutive receipts."""
        self.clock += timedelta(days=days)
        active = [s for s in sx.STUDENT_POOL if self.students[s].status_for("course_completed", self.clock) == "active"]
        if not active:
            return
        batch = [self.course_event(data.draw(st.sampled_from(active)), data.draw(sx.few_course_codes()),
                                   data.draw(sx.grades()), data.draw(st.sampled_from(["regular", "retake"])),
                                   self.clock) for _ in range(n)]
        assert not any(self.predict(e) for e in batch)
        before = self.ledger.count()
        receipts = self.ledger.append_many(batch)
        assert [r.event_id for r in receipts] == [e.event_id for e in batch]
        assert [r.seq for r in receipts] == list(range(receipts[0].seq, receipts[0].seq + n))
        assert self.ledger.count() == before + n
        for e, r in zip(batch, receipts):
            self.apply(e, r)

    def predict_batch(self, batch: list[Any]) -> list[str]:
        """The refusal codes of a batch: each event meets the ones before it in replay order (nothing is kept), and
        a make-up also the reversals recorded before it."""
        saved = copy.deepcopy(self.students), dict(self.events), set(self.reversed)
        codes: list[str] = []
        try:
            order = sorted(range(len(batch)), key=lambda i: (batch[i].occurred_on, DAY_PLACE[batch[i].kind], i))
            for i in order:
                e = batch[i]
                # a reversal recorded before this make-up in the batch frees the limit (as one event at a time)
                released = {b.target_event_id for b in batch[:i] if b.kind == "entry_reversed"
                            and b.target_event_id in self.events} - self.reversed
                if e.kind == "course_completed" and e.attempt == "makeup" and released:
                    self.reversed |= released
                    found = self.predict(e)
                    self.reversed -= released
                else:
                    found = self.predict(e)
                codes.extend(found)
                if not found:
                    self.apply(e, cl.Receipt(seq=0, event_id=e.event_id, event_hash="-"))
        finally:
            self.students, self.events, self.reversed = saved
        return codes

    @rule(data=st.data(), n=st.integers(2, 5), days=sx.day_steps())
    def append_a_mixed_batch(self, data: st.DataObject, n: int, days: int) -> None:
        """A batch of courses, make-ups, status changes, reversals and corrections: all of it written, or none."""
        self.clock += timedelta(days=days)
        batch: list[Any] = []
        for _ in range(n):
            kind = data.draw(st.sampled_from(["course", "course", "suspended", "resumed", "enrolled", "reverse",
                                              "correct"]))
            on = self.clock + timedelta(days=data.draw(st.sampled_from([0, 0, 0, 1, 3])))
            earlier = [e.event_id for e in batch if e.kind in ("course_completed", "grade_corrected")]
            known = earlier + sorted(i for i, r in self.events.items()
                                     if r.kind in ("course_completed", "grade_corrected"))
            if kind == "course":
                student = self.pick_student(data, "active")
                batch.append(self.course_event(student, data.draw(sx.few_course_codes()), data.draw(sx.grades()),
                                               data.draw(sx.attempts()), on))
            elif kind in ("suspended", "resumed"):
                student = self.pick_student(data, "active" if kind == "suspended" else "suspended")
                cls = cl.Suspended if kind == "suspended" else cl.Resumed
                batch.append(cls(event_id=self.fresh_id(student, kind[:4]), student_id=student, occurred_on=on))
            elif kind == "enrolled":
                student = self.pick_student(data, "not_enrolled")
                batch.append(cl.Enrolled(event_id=self.fresh_id(student, "enrol"), student_id=student,
                                         occurred_on=on, institution=sx.HOME, program="CNC-SR-2025"))
            elif known:
                target_id = data.draw(st.sampled_from(known))
                target = next((e for e in batch if e.event_id == target_id), None) or self.events[target_id].obj
                on = max(on, target.occurred_on)
                if kind == "reverse":
                    batch.append(cl.EntryReversed(event_id=self.fresh_id(target.student_id, "rev"),
                                                  student_id=target.student_id, occurred_on=on,
                                                  target_event_id=target_id, reason="批量更正"))
                else:
                    grade = data.draw(sx.grades())
                    batch.append(cl.GradeCorrected(event_id=self.fresh_id(target.student_id, "fix"),
                                                   student_id=target.student_id, occurred_on=on,
                                                   target_event_id=target_id, grade=grade))
                    self.raw_grades[batch[-1].event_id] = grade
        if not batch:
            return
        expected = self.predict_batch(batch)
        before, head = self.ledger.count(), self.ledger.head()
        if expected:
            with pytest.raises(CreditLedgerError) as info:
                self.ledger.append_many(batch)
            assert expected[0] in info.value.codes, (expected, info.value)
            assert self.ledger.count() == before and self.ledger.head() == head
        else:
            receipts = self.ledger.append_many(batch)
            assert [r.event_id for r in receipts] == [e.event_id for e in batch]
            assert [r.seq for r in receipts] == list(range(receipts[0].seq, receipts[0].seq + len(batch)))
            assert self.ledger.count() == before + len(batch)
            for e, r in zip(batch, receipts):
                self.apply(e, r)
        self.clock = max([self.clock] + [e.occurred_on for e in batch])

    @rule(data=st.data(), bad_kind=st.sampled_from(["ghost", "unknown_course", "suspended", "makeup",
                                                   "reversed_target"]))
    def invalid_batch_writes_nothing(self, data: st.DataObject, bad_kind: str) -> None:
        # a good event, if one is to be had
        goods = []
        for s in sx.STUDENT_POOL:
            status = self.students[s].status_for("course_completed", self.clock)
            if status == "active":
                goods.append(self.course_event(s, data.draw(sx.course_codes()), data.draw(sx.grades()), "regular",
                                               self.clock))
            elif status == "not_enrolled":
                goods.append(cl.Enrolled(event_id=self.fresh_id(s, "enrol"), student_id=s, occurred_on=self.clock,
                                         institution=sx.HOME, program="CNC-SR-2025"))
        goods = [g for g in goods if not self.predict(g)]
        good = data.draw(st.sampled_from(goods)) if goods else None
        others = [s for s in sx.STUDENT_POOL if good is None or s != good.student_id]
        grade = data.draw(sx.grades())
        if bad_kind == "ghost":
            bad = self.course_event(sx.GHOST_STUDENT, data.draw(sx.course_codes()), grade, "regular", self.clock)
        elif bad_kind == "unknown_course":
            bad = self.course_event(data.draw(sx.student_ids()), data.draw(sx.unknown_course_codes()), grade,
                                    "regular", self.clock)
        elif bad_kind == "suspended":
            suspended = [s for s in others
                         if self.students[s].status_for("course_completed", self.clock) == "suspended"]
            assume(suspended)
            bad = self.course_event(data.draw(st.sampled_from(suspended)), data.draw(sx.course_codes()), grade,
                                    "regular", self.clock)
        elif bad_kind == "makeup":
            taken = sorted({(r.student, r.course) for r in self.events.values()
                            if r.kind == "course_completed" and r.attempt == "makeup"
                            and r.obj.event_id not in self.reversed and r.student in others})
            assume(taken)
            student, course = data.draw(st.sampled_from(taken))
            bad = self.course_event(student, course, grade, "makeup", self.clock)
        else:
            gone = sorted(t for t in self.reversed if self.events[t].kind == "course_completed")
            assume(gone)
            target = self.events[data.draw(st.sampled_from(gone))]
            bad = cl.GradeCorrected(event_id=self.fresh_id(target.student, "fix"), student_id=target.student,
                                    occurred_on=self.clock, target_event_id=target.obj.event_id, grade=grade)
            self.raw_grades[bad.event_id] = grade
        expected = self.predict(bad)
        assert expected, bad
        batch = [good, bad] if good is not None else [bad]
        if data.draw(st.booleans()):
            batch.reverse()
        before, head = self.ledger.count(), self.ledger.head()
        with pytest.raises(CreditLedgerError) as info:
            self.ledger.append_many(batch)
        assert expected[0] in info.value.codes, (expected, info.value)
        assert self.ledger.count() == before
        assert self.ledger.head() == head

    @rule()
    def reopen(self) -> None:
        students = sorted(self.students)
        history = {s: [e.model_dump() for e in self.ledger.events(s)] for s in students}
        head, count = self.ledger.head(), self.ledger.count()
        self.ledger.close()
        self.other.close()
        self.ledger = cl.Ledger.open(self.path)
        self.other = cl.Ledger.open(self.path)
        assert self.ledger.head() == head
        assert self.ledger.count() == count == len(self.events)
        assert sorted(self.ledger.students()) == sorted({r.student for r in self.events.values()})
        for s in students:
            assert [e.model_dump() for e in self.ledger.events(s)] == history[s]
            self.check_student(s)
        recs = sorted(self.events.values(), key=lambda r: r.index)
        if recs:
            assert self.ledger.append_many([r.obj for r in recs]) == [r.receipt for r in recs]
            assert [r.receipt.seq for r in recs] == sorted(r.receipt.seq for r in recs)
            assert self.ledger.count() == count and self.ledger.head() == head
        report = self.ledger.verify()
        assert report.ok, report
        assert report.checked >= count

    @rule(student=sx.student_ids(), days=st.integers(-30, 30))
    def transcript_as_of(self, student: str, days: int) -> None:
        day = self.clock + timedelta(days=days)
        expected = self.expected_records(student, as_of=day)
        got = self.ledger.transcript(student, as_of=day)
        assert self.shape(got.records) == [r[:6] for r in expected]
        assert self.ledger.balance(student, as_of=day).total == sum((r[1] for r in expected), Decimal(0))

    # -- invariants -----------------------------------------------------------------------------------------------

    @staticmethod
    def shape(records: Any) -> list[tuple]:
        return sorted((r.course, r.credits, r.score, r.grade_points, r.flagged, r.event_id) for r in records)

    def check_student(self, student: str) -> None:
        expected = self.expected_records(student)
        transcript = self.ledger.transcript(student)
        assert self.shape(transcript.records) == [r[:6] for r in expected], student
        assert all(r.origin == "home" for r in transcript.records)
        total = sum((r[1] for r in expected), Decimal(0))
        categories: dict[str, Decimal] = {}
        for r in expected:
            categories[r[7]] = categories.get(r[7], Decimal(0)) + r[1]
        balance = self.ledger.balance(student)
        assert balance.total == total, (student, balance, expected)
        assert balance.by_origin["home"] == total
        assert balance.by_category == categories, (student, balance.by_category, categories)

    @invariant()
    def balances_and_transcripts_agree(self) -> None:
        for student in sx.STUDENT_POOL:
            if self.students[student].timeline:
                self.check_student(student)


LedgerMachine.TestCase.settings = settings(
    max_examples=2000 if DEEP else 200,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    report_multiple_bugs=False,
)
TestLedgerMachine = LedgerMachine.TestCase
