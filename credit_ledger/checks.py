"""The checks an event must pass before the ledger writes it.

Each check is a plain function ``check_x(event, ctx) -> list[Issue]`` over immutable inputs, gathered in
``CHECKS`` by kind and run together (the habit of beancount's validations); only the ledger raises. Every issue has
a stable code and a sentence naming the student, the record and the rule:

>>> from datetime import date as d
>>> from credit_ledger.models import Catalog, CourseCompleted
>>> ev = CourseCompleted(event_id="c1", student_id="S1", occurred_on=d(2025, 10, 1), institution="HNJX",
...                      course="MECH101", grade=80)
>>> [i.code for i in check_batch([ev], catalog=Catalog.sample(), contexts={}, known_events={})]
['not_enrolled']

Codes and the error class the ledger raises for them are in ``ERROR_OF_CODE``; a code not listed there is a plain
``RejectedEvent``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Callable, Iterable, Mapping, Sequence

from .catalog import Catalog, CoursesRequirement, program_in_force, walk_requirements
from .dates import years_to_days
from .errors import DuplicateEvent, PermissionDenied, RejectedEvent, UnknownReference
from .events import STATUS_KINDS
from .history import State, StudentContext, Timeline, build_timeline, policy_for, replay_order
from .records import Issue
from .statements import ReceiptKey, receipt_keys

ERROR_OF_CODE: dict[str, type[Exception]] = {
    "duplicate_event": DuplicateEvent,
    "unknown_institution": UnknownReference,
    "unknown_program": UnknownReference,
    "unknown_course": UnknownReference,
    "unknown_event": UnknownReference,
    "unknown_agreement": UnknownReference,
    "unknown_rule": UnknownReference,
    "unknown_requirement": UnknownReference,
    "unknown_outcome": UnknownReference,
    "not_own_student": PermissionDenied,
    "not_own_course": PermissionDenied,
    "not_own_program": PermissionDenied,
    "recorded_by_mismatch": PermissionDenied,
    "not_own_record": PermissionDenied,
    "received_for_another_student": RejectedEvent,
}
"""The error class per code; the ledger raises the most serious class among a batch's issues."""

SEVERITY = (PermissionDenied, DuplicateEvent, UnknownReference, RejectedEvent)

REVERSIBLE_KINDS = frozenset({"course_completed", "credit_recognized", "outcome_converted", "grade_corrected",
                              "exception_granted"})
"""Status events are not reversed: a wrong suspension is ended by a resumption, a wrong enrolment by a withdrawal."""

_COURSE_KINDS = frozenset({"course_completed"})

CORRECTION_KINDS = frozenset({"entry_reversed", "grade_corrected", "outcome_revoked"})
"""Kinds that change what another record is worth. Each belongs to the school that recorded that record: with
``acting_as``, only that school writes one (``not_own_record``), also after the student has left it."""

DEPENDENT_KINDS = frozenset({"course_completed", "credit_recognized", "outcome_converted", "exception_granted",
                             "graduated"})
"""Kinds whose validity depends on the student's status on their date."""


NO_ISSUES: tuple[Issue, ...] = ()
"""What a check returns when it finds nothing (a shared empty tuple: no allocation per event)."""


def error_for(issues: Iterable[Issue]) -> type[Exception]:
    """The most serious error class among the issues' codes."""
    classes = {ERROR_OF_CODE.get(i.code, RejectedEvent) for i in issues}
    for cls in SEVERITY:
        if cls in classes:
            return cls
    return RejectedEvent


@dataclass(slots=True)
class Ctx:
    """What one event's checks see: the catalog, the acting institution, and the student as replayed so far
    (the stored context with the batch's earlier events folded in)."""

    catalog: Catalog
    acting_as: str | None
    known_events: Mapping[str, Any]
    student: StudentContext
    timeline: Timeline
    last_dependent_date: date | None
    """The latest date of an event that depends on the student's status (courses, credits, awards)."""
    makeups: dict[tuple[str, str], int] | None
    """Make-up exams (补考) per (institution, course) that still count (``None``: none)."""
    reversed_ids: frozenset[str]
    outcomes: frozenset[tuple[str, str]]
    status_events: tuple[Any, ...]
    batch_events: dict[str, Any]
    """The batch's accepted events by id, when the batch refers to events (reversals, corrections)."""
    track_events: bool = False
    owner: str | None = None
    """The institution recording the event being checked (the ledger's ``recorded_by``)."""
    state: State = State(since=date.min, status="not_enrolled")
    """The status the event being checked meets (``timeline.status_at(event)``; set before each event's checks)."""
    audits: Mapping[str, Any] | None = None
    """Graduation audits of the batch's ``Graduated`` events, by event id (made by the ledger)."""
    released: frozenset[str] = frozenset()
    """Reversals in the batch whose make-up was already taken off the count (see ``_release_makeups``)."""
    stamps: Mapping[str, str | None] | None = None
    """The recording institution of each of the batch's events checked so far, by event id."""
    outcome_recorders: dict[tuple[str, str], set[str | None]] | None = None
    """When the batch revokes outcomes: the institutions that recorded the student's conversions of each outcome
    (stored, and earlier in the batch), by (type, id)."""
    receipts: dict[ReceiptKey, tuple[str, str]] | None = None
    """When the batch recognises credit from statements: the student here each statement and each student of an
    issuing school (``statements.receipt_keys``) was received for, stored or earlier in the batch, and the event
    that received it. Shared by the batch's students."""

    def find_event(self, event_id: str) -> Any:
        """An existing or earlier-in-batch event by id."""
        return self.batch_events.get(event_id) or self.known_events.get(event_id)

    def folded(self) -> StudentContext:
        """The student's context with the batch folded in (the stored one when nothing it holds changed)."""
        base = self.student
        if (self.status_events is base.status_events and self.reversed_ids is base.reversed_ids
                and self.outcomes is base.outcomes):
            return base
        return StudentContext(base.student_id, self.status_events, self.reversed_ids, self.outcomes, self.timeline)


def _issue(code: str, event: Any, message: str) -> Issue:
    return Issue(code=code, message=f"student {event.student_id}, event {event.event_id} "
                                    f"({event.kind} on {event.occurred_on}): {message}",
                 event_id=event.event_id, student_id=event.student_id)


def recorders_of_target(event: Any, ctx: Ctx) -> frozenset[str | None] | None:
    """The institutions that recorded what a correction changes (``CORRECTION_KINDS``): the target event of a
    reversal or a grade correction, every conversion of the outcome a revocation revokes. ``None`` when nothing of
    the student's is found (the kind's own check says so)."""
    if event.kind == "outcome_revoked":
        found = (ctx.outcome_recorders or {}).get((event.outcome_type, event.outcome_id))
        return frozenset(found) if found else None
    target = ctx.find_event(event.target_event_id)
    if target is None or target.student_id != event.student_id:
        return None
    if target.event_id in ctx.batch_events:  # recorded in this batch
        return frozenset({(ctx.stamps or {}).get(target.event_id)})
    return frozenset({target.recorded_by})


def _record_owner(event: Any, ctx: Ctx) -> str | None:
    """The institution a correction is recorded by when no institution acts: the one that recorded what it changes
    (so that later only that school may undo it), when a single one did."""
    if event.kind not in CORRECTION_KINDS:
        return None
    recorders = recorders_of_target(event, ctx)
    if recorders is None or len(recorders) != 1:
        return None
    return next(iter(recorders))


# -- shared checks ---------------------------------------------------------------------------------------------------


def check_status_order(event: Any, ctx: Ctx) -> Sequence[Issue]:
    """Status changes are recorded in date order, after the records that depend on the earlier status."""
    if event.kind not in STATUS_KINDS:
        return NO_ISSUES
    latest = max((d for d in (ctx.timeline.last_change, ctx.last_dependent_date) if d is not None),
                 default=None)
    if latest is not None and event.occurred_on < latest:
        return [_issue("out_of_order", event, f"a status change dated {event.occurred_on} comes before the "
                       f"student's record of {latest}; status changes are recorded in date order")]
    return NO_ISSUES


def check_active(event: Any, ctx: Ctx) -> Sequence[Issue]:
    """Credits and awards are recorded only while the student is enrolled and not suspended on that day."""
    state = ctx.state
    if state.status == "suspended":
        return [_issue("suspended", event, f"the student is suspended (休学) since {state.since}; credits are "
                       "earned only while enrolled and not suspended")]
    if state.status != "active":
        where = f" ({state.status} since {state.since})" if state.status != "not_enrolled" else ""
        return [_issue("not_enrolled", event, f"the student is not enrolled on that day{where}")]
    return NO_ISSUES


def check_own_student(event: Any, ctx: Ctx) -> Sequence[Issue]:
    """With ``acting_as``, an institution writes only for students enrolled with it, and enrols only students who
    are not studying at another school; a reversal, grade correction or revocation of what the institution itself
    recorded it writes whenever (the record is its own). The message names no other school: a refusal tells nothing
    of a record the institution may not read (``check_batch`` runs no further check on the event)."""
    if ctx.acting_as is None:
        return NO_ISSUES
    if event.kind in CORRECTION_KINDS and recorders_of_target(event, ctx) == {ctx.acting_as}:
        return NO_ISSUES  # a school corrects its own record, also after the student has left it
    if event.kind == "enrolled":
        state = ctx.state
        studying = state.enrolment if state.status in ("active", "suspended") else None
        if studying is not None and studying.institution != ctx.acting_as:
            return [_issue("not_own_student", event, f"{ctx.acting_as} may not enrol a student who is studying at "
                           "another school")]
        return NO_ISSUES
    enrolment = ctx.state.enrolment or ctx.timeline.current_enrolment()
    if enrolment is None or enrolment.institution != ctx.acting_as:
        return [_issue("not_own_student", event, f"{ctx.acting_as} may not record events of a student who is not "
                       f"enrolled at {ctx.acting_as}")]
    return NO_ISSUES


def check_recorded_by(event: Any, ctx: Ctx) -> Sequence[Issue]:
    """``recorded_by`` is set by the ledger; a caller may only repeat what the ledger would set."""
    if event.recorded_by is not None and event.recorded_by != ctx.owner:
        return [_issue("recorded_by_mismatch", event, f"recorded_by {event.recorded_by} is not the recording "
                       f"institution {ctx.owner}")]
    return NO_ISSUES


# -- per kind --------------------------------------------------------------------------------------------------------


def check_enrolled(event: Any, ctx: Ctx) -> Sequence[Issue]:
    """An enrolment names a known program of the institution, in a mode it offers, while not already enrolled."""
    issues: list[Issue] = []
    if ctx.acting_as is not None and event.institution != ctx.acting_as:
        issues.append(_issue("not_own_program", event, f"{ctx.acting_as} may not enrol students into "
                             f"{event.institution}'s program {event.program}"))
    if ctx.catalog.institution(event.institution) is None:
        return issues + [_issue("unknown_institution", event, f"institution {event.institution} is not in the "
                                "catalog")]
    program = ctx.catalog.program(event.institution, event.program, event.occurred_on)
    if program is None:
        return issues + [_issue("unknown_program", event, f"program {event.program} of {event.institution} is not "
                                f"in the catalog on {event.occurred_on}")]
    state = ctx.state
    if state.status in ("active", "suspended") and state.enrolment is not None:  # (a studying student's is set)
        issues.append(_issue("already_enrolled", event, f"the student is already enrolled in "
                             f"{state.enrolment.program} at {state.enrolment.institution}"))
    return issues + _admission(event, program, event.mode, event.entry_basis)


def _admission(event: Any, program: Any, mode: str, entry_basis: str | None) -> list[Issue]:
    """Whether a program admits a student of this mode and entry basis (enrolment and change of program alike)."""
    issues = []
    if mode not in program.modes:
        issues.append(_issue("mode_not_offered", event, f"program {program.code} admits {', '.join(program.modes)}"
                             f" students, not {mode}"))
    if program.kind == "technician_class" and entry_basis not in program.entry_bases:
        issues.append(_issue("entry_basis_required", event, f"the technician class {program.code} (两年制技师班) "
                             f"admits only with an entry basis ({', '.join(program.entry_bases)}); "
                             f"{entry_basis or 'none'} is stated"))
    return issues


def check_suspended(event: Any, ctx: Ctx) -> Sequence[Issue]:
    """A suspension starts while enrolled and not suspended, and only while suspension time is left."""
    state = ctx.state
    if state.status == "suspended":
        return [_issue("suspended", event, f"the student is already suspended since {state.since}")]
    if state.status != "active":
        return [_issue("not_enrolled", event, "the student is not enrolled on that day")]
    policy = policy_for(ctx.timeline, ctx.catalog, event.occurred_on)
    used = ctx.timeline.suspended_days()
    if used >= years_to_days(policy.max_suspension_years):
        return [_issue("suspension_limit", event, f"the student has used {used} days of suspension, the limit of "
                       f"{policy.max_suspension_years} years")]
    return NO_ISSUES


def check_resumed(event: Any, ctx: Ctx) -> Sequence[Issue]:
    """A resumption ends a suspension, which with the earlier ones stays within the policy's limit."""
    state = ctx.state
    if state.status != "suspended":
        if ctx.timeline.status_on(event.occurred_on).status == "suspended":
            return [_issue("not_suspended", event, "the suspension (休学) starts that day; within a day study comes "
                           "first and a suspension last, so it can end no earlier than the next day")]
        return [_issue("not_suspended", event, f"the student is not suspended on that day ({state.status})")]
    policy = policy_for(ctx.timeline, ctx.catalog, event.occurred_on)
    used = ctx.timeline.suspended_days(until=event.occurred_on)
    limit = years_to_days(policy.max_suspension_years)
    if used > limit:
        return [_issue("suspension_limit", event, f"suspensions would total {used} days, more than the limit of "
                       f"{policy.max_suspension_years} years ({limit} days); the student must withdraw instead")]
    return NO_ISSUES


def check_withdrawn(event: Any, ctx: Ctx) -> Sequence[Issue]:
    """Only an enrolled (or suspended) student withdraws."""
    state = ctx.state
    if state.status not in ("active", "suspended"):
        return [_issue("not_enrolled", event, f"the student is not enrolled on that day ({state.status})")]
    return NO_ISSUES


def check_program_changed(event: Any, ctx: Ctx) -> Sequence[Issue]:
    """A change of program (转专业) goes to a known program of the same institution, while studying."""
    issues = check_active(event, ctx)
    if issues:
        return issues
    enrolment = ctx.state.enrolment
    if enrolment is None:  # pragma: no cover - an active student has an enrolment
        return [_issue("not_enrolled", event, "the student is not enrolled on that day")]
    program = ctx.catalog.program(enrolment.institution, event.program, event.occurred_on)
    if program is None:
        return [_issue("unknown_program", event, f"program {event.program} of "
                       f"{enrolment.institution} is not in the catalog on {event.occurred_on}")]
    if program.code == enrolment.program:
        return [_issue("same_program", event, f"the student is already in program {program.code}")]
    return _admission(event, program, enrolment.mode, enrolment.entry_basis) or NO_ISSUES


def check_course_completed(event: Any, ctx: Ctx) -> Sequence[Issue]:
    """A completed course is the enrolling school's own, in the catalog on that day, within the make-up limit."""
    issues: list[Issue] = []
    if ctx.acting_as is not None and event.institution != ctx.acting_as:
        issues.append(_issue("not_own_course", event, f"{ctx.acting_as} may not record a course of "
                             f"{event.institution}"))
    if ctx.catalog.course(event.institution, event.course, event.occurred_on) is None:
        return issues + [_issue("unknown_course", event, f"course {event.course} of {event.institution} is not in "
                                f"the catalog on {event.occurred_on}")]
    active = check_active(event, ctx)
    if active:
        return issues + list(active)
    enrolment = ctx.state.enrolment
    if enrolment is not None and enrolment.institution != event.institution:
        issues.append(_issue("not_home_course", event, f"course {event.course} is {event.institution}'s, but the "
                             f"student studies at {enrolment.institution}; credit from elsewhere is recognised, "
                             "not completed"))
    if event.attempt == "makeup":
        policy = policy_for(ctx.timeline, ctx.catalog, event.occurred_on)
        key = (event.institution, event.course)
        done = (ctx.makeups or {}).get(key, 0)
        if done >= policy.max_makeups_per_course:
            issues.append(_issue("makeup_limit", event, f"course {event.course} already has "
                                 f"{done} make-up exam(s) (补考); at most "
                                 f"{policy.max_makeups_per_course} per course, then a retake (重修)"))
    return issues or NO_ISSUES


def _check_target(event: Any, ctx: Ctx) -> Sequence[Issue]:
    enrolment = ctx.state.enrolment
    if event.target.course is not None and enrolment is not None:
        if ctx.catalog.course(enrolment.institution, event.target.course, event.occurred_on) is None:
            return [_issue("unknown_course", event, f"target course {event.target.course} is not in "
                           f"{enrolment.institution}'s catalog on {event.occurred_on}")]
    return NO_ISSUES


def check_received_once(event: Any, ctx: Ctx) -> Sequence[Issue]:
    """A statement, and a student of the issuing school, are received for one student of the ledger: a second
    student would be granted the same results again. The message names no other student (the acting institution
    may have no reason to read that record)."""
    if ctx.receipts is None:
        return NO_ISSUES
    for key in receipt_keys(event):
        prior = ctx.receipts.get(key)
        if prior is not None and prior[0] != event.student_id:
            what, issuer, name = key
            told = (f"statement {name} of {issuer} was received for another student of this ledger; a statement "
                    "counts for one student only" if what == "statement" else
                    f"{issuer}'s student {name} was received as another student of this ledger; a student of the "
                    "issuing school is one student here")
            return [_issue("received_for_another_student", event, told)]
    return NO_ISSUES


def check_credit_recognized(event: Any, ctx: Ctx) -> Sequence[Issue]:
    """Recognised credit goes to a studying student, under a known agreement, toward a known target."""
    issues = list(check_active(event, ctx))
    if ctx.catalog.agreement(event.agreement_id) is None:
        issues.append(_issue("unknown_agreement", event, f"agreement {event.agreement_id} is not in the catalog"))
    if event.source_date > event.occurred_on:
        issues.append(_issue("source_after_recognition", event, f"the source record of {event.source_date} is "
                             "later than its recognition"))
    return issues + (list(_check_target(event, ctx)) if not issues else [])


def check_outcome_converted(event: Any, ctx: Ctx) -> Sequence[Issue]:
    """Converted credit goes to a studying student, under a known rule, toward a known target."""
    issues = list(check_active(event, ctx))
    if ctx.catalog.conversion_rule(event.rule_id) is None:
        issues.append(_issue("unknown_rule", event, f"conversion rule {event.rule_id} is not in the catalog"))
    return issues + (list(_check_target(event, ctx)) if not issues else [])


def check_outcome_revoked(event: Any, ctx: Ctx) -> Sequence[Issue]:
    """A revocation names an outcome converted for this student; with ``acting_as``, by the acting institution
    alone (another school's conversion of it is that school's record)."""
    if (event.outcome_type, event.outcome_id) not in ctx.outcomes:
        return [_issue("unknown_outcome", event, f"no {event.outcome_type} {event.outcome_id} was converted for "
                       "this student")]
    if ctx.acting_as is not None:
        others = sorted(r or "the operator" for r in recorders_of_target(event, ctx) or () if r != ctx.acting_as)
        if others:
            return [_issue("not_own_record", event, f"{event.outcome_type} {event.outcome_id} was converted by "
                           f"{', '.join(others)}; only the school that recorded a conversion revokes it "
                           f"({ctx.acting_as} may reverse its own conversions of it)")]
    return NO_ISSUES


def _check_target_event(event: Any, ctx: Ctx, kinds: frozenset[str], wrong_kind: str) -> Sequence[Issue]:
    target = ctx.find_event(event.target_event_id)
    if target is None or target.student_id != event.student_id:
        return [_issue("unknown_event", event, f"event {event.target_event_id} is not in this student's record")]
    if ctx.acting_as is not None:
        recorder = next(iter(recorders_of_target(event, ctx) or {None}))
        if recorder != ctx.acting_as:
            return [_issue("not_own_record", event, f"event {target.event_id} ({target.kind}) was recorded by "
                           f"{recorder or 'the operator'}; only the school that recorded an event reverses or "
                           "corrects it")]
    if target.kind not in kinds:
        return [_issue(wrong_kind, event,
                       f"event {target.event_id} is a {target.kind} event; this applies to "
                       f"{', '.join(sorted(kinds))} only")]
    if target.event_id in ctx.reversed_ids:
        return [_issue("already_reversed", event, f"event {target.event_id} is already reversed")]
    if event.occurred_on < target.occurred_on:
        return [_issue("before_target", event, f"it is dated before event {target.event_id} "
                       f"({target.occurred_on})")]
    return NO_ISSUES


def check_entry_reversed(event: Any, ctx: Ctx) -> Sequence[Issue]:
    """A reversal targets a reversible event of the same student, not yet reversed, dated no earlier; with
    ``acting_as``, one the acting institution recorded."""
    return _check_target_event(event, ctx, REVERSIBLE_KINDS, "not_reversible")


def check_grade_corrected(event: Any, ctx: Ctx) -> Sequence[Issue]:
    """A grade correction targets a course completion of the same student that still counts; with ``acting_as``,
    one the acting institution recorded."""
    return _check_target_event(event, ctx, _COURSE_KINDS, "not_a_course")


def check_exception_granted(event: Any, ctx: Ctx) -> Sequence[Issue]:
    """A registrar's exception names a requirement of the student's program, and a substitute course that exists."""
    state = ctx.state
    if state.enrolment is None or state.status not in ("active", "suspended"):
        return [_issue("not_enrolled", event, "the student is not enrolled on that day")]
    institution = state.enrolment.institution
    code = event.program or state.enrolment.program
    program = program_in_force(ctx.catalog, institution, code, event.occurred_on)
    if program is None:
        return [_issue("unknown_program", event, f"program {code} of {institution} is not in the catalog")]
    nodes = {node.id: node for _, node in walk_requirements(program.requirements)}
    node = nodes.get(event.requirement_id)
    if node is None:
        return [_issue("unknown_requirement", event, f"program {code} has no requirement {event.requirement_id}")]
    if event.action == "substitute":
        if ctx.catalog.course(institution, event.course) is None:
            return [_issue("unknown_course", event, f"substitute course {event.course} is not in "
                           f"{institution}'s catalog")]
        if not isinstance(node, CoursesRequirement) or event.replaces not in node.courses:
            return [_issue("not_in_requirement", event, f"requirement {event.requirement_id} does not list course "
                           f"{event.replaces}")]
    return NO_ISSUES


def check_graduated(event: Any, ctx: Ctx) -> Sequence[Issue]:
    """An award (毕业 / 结业 / 肄业) needs the graduation audit of that day to support it, in that program, with the
    part-time mark the enrolment gives."""
    if event.award == "graduation":
        issues = check_active(event, ctx)
        if issues:
            return issues
    elif ctx.state.status not in ("active", "suspended", "withdrawn"):
        return [_issue("not_enrolled", event, f"a {event.award} award needs a student who studied in a program; "
                       f"the student is {ctx.state.status.replace('_', ' ')} on that day")]
    report = (ctx.audits or {}).get(event.event_id)
    if report is None:
        return [_issue("audit_not_eligible", event, f"the award {event.award} needs a graduation audit of "
                       f"{event.occurred_on}, and none was made")]
    if event.program is not None and event.program != report.program:
        return [_issue("audit_not_eligible", event, f"the award names program {event.program}, but the student "
                       f"is in {report.program} on that day")]
    if not report.supports(event.award):
        missing = "; ".join(i.message.split(": ", 1)[-1] for i in report.issues
                            if i.code in ("requirement_unmet", "total_credits_short", "too_early", "deadline_passed",
                                          "entry_basis_missing"))
        return [_issue("audit_not_eligible", event, f"the audit of {event.occurred_on} in {report.program} does not "
                       f"support the award {event.award}: {report.status.value}, shortfall {report.shortfall}"
                       + (f" ({missing})" if missing else "")
                       + (f"; it supports {', '.join(report.awards)}" if report.awards else ""))]
    if event.award == "graduation" and event.part_time != report.part_time:
        mark = "part-time (非全日制)" if report.part_time else "full-time"
        return [_issue("audit_not_eligible", event, f"the graduation must be marked {mark}, as the enrolment is "
                       f"(part_time={report.part_time})")]
    return NO_ISSUES


CHECKS: dict[str, list[Callable[[Any, Ctx], Sequence[Issue]]]] = {
    "enrolled": [check_enrolled],
    "suspended": [check_suspended],
    "resumed": [check_resumed],
    "withdrawn": [check_withdrawn],
    "program_changed": [check_program_changed],
    "course_completed": [check_course_completed],
    "credit_recognized": [check_credit_recognized, check_received_once],
    "outcome_converted": [check_outcome_converted],
    "outcome_revoked": [check_outcome_revoked],
    "entry_reversed": [check_entry_reversed],
    "grade_corrected": [check_grade_corrected],
    "exception_granted": [check_exception_granted],
    "graduated": [check_graduated],
}
COMMON_CHECKS = [check_recorded_by, check_own_student, check_status_order]


def _plan(acting_as: str | None) -> dict[str, list[Callable[[Any, Ctx], Sequence[Issue]]]]:
    """The checks to run per kind: the common ones that can apply to it, then its own. (Leaving out checks that
    could only return nothing keeps the per-event cost of a bulk append down.)"""
    plan = {}
    for kind, own in CHECKS.items():
        common = [c for c in COMMON_CHECKS
                  if not (c is check_own_student and acting_as is None)
                  and not (c is check_status_order and kind not in STATUS_KINDS)]
        plan[kind] = common + own
    return plan


def check_batch(events: Iterable[Any], *, catalog: Catalog, contexts: Mapping[str, StudentContext],
                known_events: Mapping[str, Any], acting_as: str | None = None,
                last_dependent: Mapping[str, date] | None = None,
                makeups: Mapping[tuple[str, str, str], int] | None = None,
                owners: dict[str, str | None] | None = None,
                after: dict[str, tuple[StudentContext, date | None]] | None = None,
                audits: Mapping[str, Any] | None = None,
                outcome_recorders: Mapping[tuple[str, str, str], Iterable[str | None]] | None = None,
                receipts: Mapping[ReceiptKey, tuple[str, str]] | None = None) -> list[Issue]:
    """Check new events against the ledger's state; each event sees the events before it in replay order.

    ``contexts`` holds what the ledger knows of each student already recorded (missing: a new student);
    ``known_events`` the existing events that the batch's reversals and corrections refer to; ``last_dependent``
    the latest date of each student's status-dependent records; ``makeups`` the make-ups that count per (student,
    institution, course) for the courses the batch makes up. Nothing given is changed. When given, ``owners``
    receives per event id the institution that records it (``acting_as``, else the event's own institution, else
    the student's school on that day: the ledger's ``recorded_by``), and ``after`` receives each student's context
    with the batch folded in, and the latest dependent date. ``audits`` holds the graduation audit of each
    ``Graduated`` event of the batch, on its date, over the history before it (``graduation.audit_history``).
    ``outcome_recorders`` holds, per (student, outcome type, outcome id) the batch revokes, the institutions that
    recorded the stored conversions of it; ``receipts`` the stored receipts of the statements and issuing schools'
    students the batch's recognitions name (``receipt_keys``), as (student, event id). Without them, revocations
    are not checked for their recorder, and recognitions not for a second student.
    """
    by_student: dict[str, list[Any]] = {}
    refers = False
    for e in events:
        by_student.setdefault(e.student_id, []).append(e)
        refers = refers or e.kind in ("entry_reversed", "grade_corrected")
    last_dependent = last_dependent or {}
    makeups_of: dict[str, dict[tuple[str, str], int]] = {}
    for (student_id, institution, code), n in (makeups or {}).items():
        makeups_of.setdefault(student_id, {})[(institution, code)] = n
    plan = _plan(acting_as)
    batch_events: dict[str, Any] = {}
    stamps: dict[str, str | None] = owners if owners is not None else {}
    recorders_of: dict[str, dict[tuple[str, str], set[str | None]]] | None = None
    if outcome_recorders is not None:
        recorders_of = {}
        for (student_id, outcome_type, outcome_id), by in outcome_recorders.items():
            recorders_of.setdefault(student_id, {})[(outcome_type, outcome_id)] = set(by)
    received = dict(receipts) if receipts is not None else None
    issues: list[Issue] = []
    for student_id, new in by_student.items():
        student = contexts.get(student_id) or StudentContext(student_id)
        ctx = Ctx(catalog, acting_as, known_events, student, student.timeline, last_dependent.get(student_id),
                  makeups_of.get(student_id), student.reversed_ids, student.outcomes, student.status_events,
                  batch_events, refers, audits=audits, stamps=stamps, receipts=received,
                  outcome_recorders=None if recorders_of is None else recorders_of.setdefault(student_id, {}))
        reversals = [(i, e) for i, e in enumerate(new) if e.kind == "entry_reversed"] if len(new) > 1 else []
        position = {e.event_id: i for i, e in enumerate(new)} if reversals else {}
        for event in replay_order(new) if len(new) > 1 else new:
            if reversals:
                _release_makeups(ctx, reversals, position[event.event_id], position)
            ctx.state = state = ctx.timeline.status_at(event)
            enrolment = state.enrolment or ctx.timeline.current_enrolment()
            ctx.owner = acting_as or getattr(event, "institution", None) or _record_owner(event, ctx) or (
                enrolment.institution if enrolment else None)
            refused = False
            for check in plan[event.kind]:
                found = check(event, ctx)
                if found:
                    issues.extend(found)
                    refused = True
                    if check is check_own_student:
                        break  # the other checks would tell of a record the acting institution may not read
            stamps[event.event_id] = ctx.owner
            if not refused:  # later events of the batch see only what would be written
                _advance(ctx, event)
        if after is not None:
            after[student_id] = (ctx.folded(), ctx.last_dependent_date)
    return issues


def _advance(ctx: Ctx, event: Any) -> None:
    """Fold an accepted event into the context, so that later events of the batch see it."""
    if ctx.track_events:
        ctx.batch_events[event.event_id] = event
    kind = event.kind
    if kind in DEPENDENT_KINDS:
        if ctx.last_dependent_date is None or event.occurred_on > ctx.last_dependent_date:
            ctx.last_dependent_date = event.occurred_on
        if kind == "course_completed":
            if event.attempt == "makeup":
                _count_makeup(ctx, event, +1)
            return
    if kind in STATUS_KINDS:
        ctx.status_events = ctx.status_events + (event,)
        ctx.timeline = build_timeline(ctx.status_events)
    elif kind == "entry_reversed":
        target = ctx.find_event(event.target_event_id)
        if (target is not None and target.kind == "course_completed" and target.attempt == "makeup"
                and event.event_id not in ctx.released and target.event_id not in ctx.reversed_ids):
            _count_makeup(ctx, target, -1)
        ctx.reversed_ids = ctx.reversed_ids | {event.target_event_id}
    elif kind == "outcome_converted":
        ctx.outcomes = ctx.outcomes | {(event.outcome_type, event.outcome_id)}
        if ctx.outcome_recorders is not None:
            ctx.outcome_recorders.setdefault((event.outcome_type, event.outcome_id), set()).add(ctx.owner)
    elif kind == "credit_recognized" and ctx.receipts is not None:
        for key in receipt_keys(event):
            ctx.receipts.setdefault(key, (event.student_id, event.event_id))


def _release_makeups(ctx: Ctx, reversals: Sequence[tuple[int, Any]], at: int, position: Mapping[str, int]) -> None:
    """Within a batch, events are checked in replay order (date, then kind), but a reversal recorded before an event
    was already in force when that event was recorded: a make-up (补考) it reverses no longer counts against the
    make-up limit of a later-recorded make-up, just as if the events had been appended one by one. Only reversals
    of make-ups already counted are released early (``ctx.released`` keeps them from being released twice)."""
    for i, reversal in reversals:
        if i >= at or reversal.event_id in ctx.released:
            continue
        target = ctx.find_event(reversal.target_event_id)
        if target is None or target.kind != "course_completed" or target.attempt != "makeup":
            continue
        counted = target.event_id not in position or target.event_id in ctx.batch_events
        if counted and target.event_id not in ctx.reversed_ids:
            _count_makeup(ctx, target, -1)
            ctx.released = ctx.released | {reversal.event_id}


def _count_makeup(ctx: Ctx, course: Any, step: int) -> None:
    if ctx.makeups is None:
        ctx.makeups = {}
    key = (course.institution, course.course)
    ctx.makeups[key] = max(ctx.makeups.get(key, 0) + step, 0)
