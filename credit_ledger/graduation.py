"""Graduation audits (毕业审核): may this student graduate, when, and if not, what exactly is missing?

The rule, in a school's words: every requirement of the program holds (each course of a course list, each credit
pool filled, each hour pool met), the program's credit total is reached counting every effective credit once, the
student is enrolled and not suspended, and the date lies between the early-graduation floor (提前毕业, enrolment +
``min_years``) and the flexible-schooling deadline (弹性学制, enrolment + ``max_years``, suspension time added when
the policy leaves it out). A worker-student who studies in stages (分阶段完成学业) sees each study period and the
date the credit rate so far would finish the program.

Records are allocated to requirements exactly: a record is never split, and counts toward at most one leaf that
is not ``shared``. When an allocation meeting every requirement exists the audit finds it, whatever the order of
the records; when none exists it reports one with the least total shortfall (``credit_ledger.allocation``: exact
placements, heuristics proved by bounds, branch and bound, and an integer program past a node budget or whenever
the program's caps on recognised, converted and online credits bind: they limit how many such credits count, and
the program chooses which).

This module is the public face of the audit: ``audit`` (expiry, caps and registrar exceptions, then the
requirement tree evaluated by ``credit_ledger.requirements`` and the time window judged by
``credit_ledger.window``) and ``audit_history`` (a student's events replayed, a graduate audited as on the
graduation day). The report models live in ``credit_ledger.reports`` and are re-exported here.

>>> from datetime import date as d
>>> from credit_ledger.models import Catalog, CreditRecord
>>> cat = Catalog.sample()
>>> program = cat.program("HNJX", "CNC-TECH-2025")
>>> def rec(code, credits, category="core"):
...     return CreditRecord(course=code, institution="HNJX", title=code, category=category,
...                         credits=credits, origin="home", event_id=code, occurred_on=d(2026, 1, 1))
>>> report = audit(program, [rec("TEC401", 6), rec("TEC402", 4), rec("TEC403", 16, "practice")],
...                as_of=d(2026, 7, 1), catalog=cat)
>>> report.status.value, str(report.shortfall), [c.satisfied for c in report.requirements.children]
('requirements_missing', '14.00', [True, True, False])
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Iterable, Sequence

from .allocation import NoSolution
from .base import format_credits
from .dates import add_years
from .errors import UnknownReference
from .history import Timeline, build_timeline, transcript_records
from .models import (
    CENT,
    Catalog,
    CoursesRequirement,
    CreditRecord,
    CreditsRequirement,
    Issue,
    Policy,
    Program,
    program_in_force,
    walk_requirements,
)
from .render import amount
from .reports import (
    PASSING_STATUSES,
    ZERO,
    Allocated,
    AppliedException,
    AuditCredits,
    AuditReport,
    AuditStatus,
    AuditSummary,
    Award,
    Projection,
    RequirementResult,
    Stage,
)
from .requirements import evaluate, evaluate_figures
from .caps import caps_and_stand_ins, describe, is_external, is_online, ratio_limits
from .records import CapResult, Excluded
from .window import StudyHistory, verdict, window_change

__all__ = [
    "PASSING_STATUSES", "ZERO", "Allocated", "AppliedException", "AuditCredits", "AuditReport", "AuditStatus",
    "AuditSummary",
    "Award", "Projection", "RequirementResult", "Stage", "StudyHistory", "add_years", "audit", "audit_history",
    "evaluate", "split_expired", "within_caps",
]


def split_expired(records: Iterable[CreditRecord], *, policy: Policy, as_of: date
                  ) -> tuple[list[CreditRecord], list[Excluded]]:
    """The records that still count on ``as_of``, and those that expired (a certificate past its ``valid_until``, a
    credit older than the policy's ``credit_validity_years``), each with its reason: the audit's and the planner's
    one rule of expiry."""
    kept, gone = [], []
    for r in records:
        if r.valid_until is not None and r.valid_until < as_of:
            gone.append(Excluded(record=r, credits=r.credits, code="certificate_expired",
                                 message=f"{r.title} ({r.outcome_id or r.event_id}) was valid until {r.valid_until}; "
                                         f"its {r.credits} credits no longer count"))
        elif policy.credit_validity_years is not None and add_years(r.occurred_on,
                                                                    policy.credit_validity_years) <= as_of:
            gone.append(Excluded(record=r, credits=r.credits, code="credit_expired",
                                 message=f"{r.course or r.category} {r.title} ({r.event_id}, {r.occurred_on}) is "
                                         f"older than the program's {policy.credit_validity_years}-year credit "
                                         f"validity: it lapsed on "
                                         f"{add_years(r.occurred_on, policy.credit_validity_years)}"))
        else:
            kept.append(r)
    return kept, gone


_RATIO_CAPS = ("cap_external", "cap_online")


def within_caps(records: list[CreditRecord], *, program: Program, policy: Policy
                ) -> tuple[list[CreditRecord], list[Excluded], list[CreditRecord], list[tuple[list[str], Decimal]]]:
    """The program's caps (``caps.apply_caps``): what counts toward the total and what does not, and for the
    allocation the records with the credits the ratio caps trimmed given back, with the caps that bind as limits.

    The caps on recognised, converted and online credits limit how many such credits count, not which: the
    allocation chooses which of them fill requirements (within the cap). Which record stands for a course in the
    requirements is decided before those caps (``caps.caps_and_stand_ins``): where a cap leaves a recognised record
    no more than a home record of the same course, the home record counts toward the total and the recognised one
    still stands for the course in the requirements. So a further record never leaves a requirement worse off than
    before.
    """
    result, first = caps_and_stand_ins(records, total_credits=program.total_credits, policy=policy)
    trimmed: dict[str, Decimal] = {}
    for x in first.excluded:
        if x.code in _RATIO_CAPS:
            trimmed[x.record.event_id] = trimmed.get(x.record.event_id, ZERO) + x.credits
    excluded = list(result.excluded)
    if first is not result:
        excluded = _stand_ins_named(excluded, first, {r.event_id for r in first.counted} | set(trimmed), result)
    if not trimmed:
        return list(result.counted), excluded, list(first.counted), []
    counted = {r.event_id: r for r in first.counted}
    pool: list[CreditRecord] = []
    for r in records:
        c = counted.get(r.event_id)
        back = trimmed.get(r.event_id, ZERO)
        if c is None and not back:
            continue
        credits = (c.credits if c is not None else ZERO) + back
        pool.append(r if credits == r.credits else r.model_copy(update={"credits": credits}))
    external_limit, online_limit = ratio_limits(program.total_credits, policy=policy)
    external = [r for r in pool if is_external(r)]
    online_home = sum((r.credits for r in pool if not is_external(r) and is_online(r)), ZERO)
    online = [r for r in external if is_online(r)]
    limits: list[tuple[list[str], Decimal]] = []
    if sum((r.credits for r in external), ZERO) > external_limit:
        limits.append(([r.event_id for r in external], external_limit))
    if sum((r.credits for r in online), ZERO) > max(online_limit - online_home, ZERO):
        limits.append(([r.event_id for r in online], max(online_limit - online_home, ZERO)))
    return list(result.counted), excluded, pool, limits


def _stand_ins_named(excluded: list[Excluded], first: CapResult, stand_ins: set[str], result: CapResult
                     ) -> list[Excluded]:
    """The exclusions of the records that lost their course to a home record only because a cap left them no more
    (``stand_ins``: the records the allocation is given), each naming that cap (its code in ``first``, the pass that
    made them stand for their course) and saying that the record still stands for the course in the requirements."""
    home_of = {r.course: r for r in result.counted if not is_external(r) and r.course is not None}
    cut_by: dict[str, list[str]] = {}
    for x in first.excluded:
        if x.code.startswith("cap_") and x.code not in cut_by.get(x.record.event_id, []):
            cut_by.setdefault(x.record.event_id, []).append(x.code)
    named: list[Excluded] = []
    for x in excluded:
        home = home_of.get(x.record.course) if x.record.course is not None else None
        if x.code == "overlap_lower" and x.record.event_id in stand_ins and is_external(x.record) and home is not None:
            caps = ", ".join(cut_by.get(x.record.event_id, [])) or "the caps"
            x = x.model_copy(update={"message": (
                f"{describe(x.record)}: course {x.record.course} counts toward the total by the home record "
                f"(event {home.event_id}, {format_credits(home.credits)} credits): {caps} left this record no "
                "more; it still stands for the course in the requirements")})
        named.append(x)
    return named


def audit(program: Program, records: Iterable[CreditRecord], *, as_of: date, policy: Policy | None = None,
          catalog: Catalog | None = None, history: StudyHistory | None = None,
          exceptions: Iterable[Any] = (), student_id: str = "", method: str = "auto",
          detail: str = "full") -> Any:
    """Audit a student's effective credit records against a program on ``as_of``.

    Args:
        program: the program (its catalog version in force).
        records: the effective records (``Ledger.transcript(...).records``); expiry and caps are applied here.
        as_of: the audit's date.
        policy: overrides the program's policy.
        catalog: for the credits of listed courses (the shortfall of a missing course); without it a missing
            course counts as one credit.
        history: the student's enrolment and study periods; without it the audit judges requirements only.
        exceptions: ``ExceptionGranted`` events in force (waive a requirement, substitute a course).
        student_id: for the report.
        method: the allocation method (``auto``; ``search`` or ``milp`` for tests).
        detail: ``full`` (an ``AuditReport``) or ``summary`` (its ``AuditSummary``, computed without building the
            requirement tree's results and the sentences: the same allocation, the same figures).
    """
    summary = _detail(detail)
    records = list(records)
    policy = policy or program.policy
    issues: list[Issue] = []

    def issue(code: str, message: str) -> None:
        issues.append(Issue(code=code, message=f"student {student_id}, program {program.code}: {message}",
                            student_id=student_id or None))

    kept, excluded = split_expired(records, policy=policy, as_of=as_of)
    for x in excluded:
        issue(x.code, x.message)
    kept, capped, pool, limits = within_caps(kept, program=program, policy=policy)
    excluded += capped

    # exceptions in force for this program
    node_ids = {n.id: n for _path, n in walk_requirements(program.requirements)} if exceptions else {}
    waived: set[str] = set()
    substitutes: dict[str, dict[str, str]] = {}
    applied: list[AppliedException] = []
    for e in sorted(exceptions, key=lambda e: (e.occurred_on, e.event_id)):
        if e.occurred_on > as_of or (e.program is not None and e.program != program.code):
            continue
        node = node_ids.get(e.requirement_id)
        ok = node is not None and (e.action == "waive" or isinstance(node, (CoursesRequirement, CreditsRequirement)))
        if ok and e.action == "waive":
            waived.add(e.requirement_id)
        elif ok:
            substitutes.setdefault(e.requirement_id, {})[e.course] = e.replaces
        else:
            issue("exception_not_applied", f"exception {e.event_id} names requirement {e.requirement_id}, which "
                  f"this program does not have (or cannot take a substitution)")
        applied.append(AppliedException(event_id=e.event_id, requirement_id=e.requirement_id, action=e.action,
                                        course=e.course, replaces=e.replaces, applied=ok, reason=e.reason))

    changes = _expiry_days(records, policy=policy, as_of=as_of)
    if catalog is not None:
        changes.append(next_catalog_day(catalog, as_of))
    study = None
    if history is not None:
        study = [(s, e if e is not None else as_of + timedelta(days=1)) for s, e, _ in history.periods]
    judge: Any = evaluate_figures if summary else evaluate
    try:
        tree, how = judge(program, pool, as_of=as_of, policy=policy, catalog=catalog, waived=waived,
                          substitutes=substitutes, study=study, method=method, limits=limits)
    except NoSolution:  # pragma: no cover - HiGHS failing twice; the records as the caps cut them, in order
        tree, how = judge(program, kept, as_of=as_of, policy=policy, catalog=catalog, waived=waived,
                          substitutes=substitutes, study=study, method=method)
        issue("allocation_within_caps_failed", "the integer program could not choose which recognised or "
              "converted credits fill requirements within the caps; the credits counted are taken in date order")

    home = sum((r.credits for r in kept if r.origin == "home"), ZERO)
    recognized = sum((r.credits for r in kept if r.origin == "recognized"), ZERO)
    converted = sum((r.credits for r in kept if r.origin == "converted"), ZERO)
    total = home + recognized + converted
    credits = AuditCredits(total=total, home=home, recognized=recognized, converted=converted,
                           required=program.total_credits)
    total_short = max(ZERO, program.total_credits - total)
    shortfall = max(tree.shortfall, total_short).quantize(CENT)
    met = tree.satisfied and total_short == 0
    if total_short > 0:
        issue("total_credits_short", f"{total} of {program.total_credits} credits counted; {total_short} to go")
    if program.kind == "technician_class" and history is not None and history.entry_basis is None:
        met = False
        issue("entry_basis_missing", "a technician class (技师班) needs an entry basis (college graduate, veteran or "
              "titled technician), and this enrolment names none")

    # time and status
    found = verdict(program, history, as_of=as_of, policy=policy, met=met, earned=home, shortfall=shortfall,
                    records=kept)
    for code, message in found.issues:
        issue(code, message)
    changes.append(window_change(program, history, found, as_of=as_of, policy=policy))
    stable = _day_before(changes)
    if summary:
        codes = {i.code for i in issues}
        if not met and tree.unmet_leaf:
            codes.add("requirement_unmet")
        p = found.projection
        return AuditSummary.trusted(
            student_id=student_id, program=program.code, institution=program.institution, as_of=as_of,
            status=found.status, eligible=found.eligible, award=found.award, awards=found.awards,
            part_time=found.part_time, enrolled_on=found.enrolled_on, total=total, home=home, recognized=recognized,
            converted=converted, required=program.total_credits, shortfall=shortfall, earliest_date=found.earliest,
            deadline=found.deadline, stages=len(found.stages), rate_per_year=p.rate_per_year if p else None,
            finish_on=p.finish_on if p else None, graduate_on=p.graduate_on if p else None,
            at_risk=p.at_risk if p else None, issue_codes=tuple(sorted(codes)), solver=how, stable_until=stable)
    if not met:
        for leaf in _unmet_leaves(tree):
            issue("requirement_unmet", f"requirement {leaf.id} {leaf.title}: {amount(leaf, 'en')}"
                  + (f", missing {', '.join(leaf.missing)}" if leaf.missing else ""))
    return AuditReport(
        student_id=student_id, program=program.code, institution=program.institution, program_title=program.title,
        as_of=as_of, status=found.status, eligible=found.eligible, award=found.award, awards=found.awards,
        part_time=found.part_time, enrolled_on=found.enrolled_on, earliest_date=found.earliest,
        deadline=found.deadline, credits=credits, shortfall=shortfall, requirements=tree, stages=found.stages,
        projection=found.projection, excluded=tuple(excluded), exceptions=tuple(applied), issues=tuple(issues),
        solver=how, stable_until=stable,
    )


DETAILS = ("full", "summary")
"""What an audit returns: the whole report, or its one row (``AuditSummary``)."""


def _detail(detail: str) -> bool:
    if detail not in DETAILS:
        raise ValueError(f"detail {detail!r} is not one of {', '.join(DETAILS)}")
    return detail == "summary"


def _expiry_days(records: Sequence[CreditRecord], *, policy: Policy, as_of: date) -> list[date | None]:
    """The days after ``as_of`` on which a record stops counting (a certificate the day after its ``valid_until``,
    a credit when the policy's validity runs out: ``split_expired``'s rule, read forward)."""
    days: list[date | None] = []
    years = policy.credit_validity_years
    for r in records:
        if r.valid_until is not None:
            if r.valid_until < as_of:
                continue  # expired already, and stays so
            days.append(r.valid_until + timedelta(days=1))
        if years is not None:
            lapse = add_years(r.occurred_on, years)
            if lapse > as_of:
                days.append(lapse)
    return days


def next_catalog_day(catalog: Catalog, as_of: date) -> date | None:
    """The first ``valid_from`` after ``as_of`` of any catalog entry (a new version of a program or a course, of its
    policy or credits, may change an audit from that day), or ``None``."""
    days = catalog.derived("valid_from_days", lambda: sorted({
        e.valid_from for section in (catalog.programs, catalog.courses) for e in section
        if e.valid_from is not None}))
    k = bisect_right(days, as_of)
    return days[k] if k < len(days) else None


def _day_before(days: Iterable[date | None]) -> date | None:
    """The day before the earliest of ``days`` (``None`` ones left out), or ``None`` when there is none."""
    first = min((d for d in days if d is not None), default=None)
    return first - timedelta(days=1) if first is not None else None


def _unmet_leaves(node: RequirementResult) -> Iterable[RequirementResult]:
    if node.satisfied:
        return
    if not node.children:
        yield node
        return
    if node.kind == "pick":
        for child in node.children:
            if child.id in node.chosen:
                yield from _unmet_leaves(child)
        return
    for child in node.children:
        yield from _unmet_leaves(child)


# ---------------------------------------------------------------------------------------------------------------
# A student's history, audited
# ---------------------------------------------------------------------------------------------------------------

_RETROACTIVE = frozenset({"entry_reversed", "grade_corrected", "outcome_revoked"})
"""Kinds that change what an earlier record was worth: they weigh on a past graduation when recorded later."""


def audit_history(events: Sequence[Any], *, catalog: Catalog, as_of: date, program: Program | str | None = None,
                  student_id: str | None = None, method: str = "auto", detail: str = "full") -> Any:
    """Audit one student's events (in recording order) on ``as_of``: the pure function behind ``Ledger.audit``.

    ``program``: another program to audit against (a what-if), by code at the student's institution or as a
    ``Program``; by default the student's program on ``as_of``. A student who has graduated is audited as on the
    graduation day, with reversals, corrections and revocations recorded since applied: if they remove the award's
    support, the report raises ``graduation_unsupported``.

    ``detail``: ``full`` (an ``AuditReport``) or ``summary`` (an ``AuditSummary``: ``audit``'s ``detail``). Either
    knows ``stable_until``, which here also stops the day before the next event dated after ``as_of``.

    Raises:
        UnknownReference: the student has no enrolment and no program is named, or the program is unknown.
    """
    summary = _detail(detail)
    later = min((e.occurred_on for e in events if e.occurred_on > as_of), default=None)
    events = [e for e in events if e.occurred_on <= as_of]
    student_id = student_id or (events[0].student_id if events else "")
    reversed_ids = {e.target_event_id for e in events if e.kind == "entry_reversed"}
    timeline = build_timeline(events)
    state = timeline.status_on(as_of)
    enrolment = state.enrolment or timeline.current_enrolment()

    def unknown(message: str) -> UnknownReference:
        return UnknownReference([Issue(code="unknown_program", student_id=student_id,
                                       message=f"student {student_id}: {message}")])

    if isinstance(program, Program):
        chosen = program
    else:
        if program:
            code = program
        elif enrolment is not None:
            code = enrolment.program
        else:
            raise unknown("no enrolment on or before "
                          f"{as_of}; name a program to audit against")
        institution = enrolment.institution if enrolment else None
        found = [p for p in catalog.programs
                 if p.code == code and (institution is None or p.institution == institution)]
        in_force = program_in_force(catalog, found[0].institution, code, as_of) if found else None
        if in_force is None:
            raise unknown(f"program {code} is not in the catalog"
                          + (f" of {institution}" if institution else ""))
        chosen = in_force

    graduation = next((e for e in reversed(events) if e.kind == "graduated" and e.event_id not in reversed_ids), None)
    if state.status == "graduated" and graduation is not None:
        day = graduation.occurred_on
        support_events = [e for e in events if e.kind != "graduated"
                          and (e.occurred_on <= day or e.kind in _RETROACTIVE)]
        # the status history up to the award, without it (of the support events too: they add no status change)
        before = build_timeline([e for e in events if e.occurred_on <= day and e.kind != "graduated"])
        awarded_in = _program_on(before, catalog, day)
        what_if = awarded_in is None or chosen.code != awarded_in.code or chosen.institution != awarded_in.institution
        support = _audit_on(support_events, chosen, catalog=catalog, as_of=day, timeline=before,
                            student_id=student_id, reversed_ids=reversed_ids, method=method, detail=detail)
        # the support is audited on the graduation day: as ``as_of`` moves on, only a later event or catalog
        # version changes it
        stable = _day_before((later, next_catalog_day(catalog, as_of)))
        unsupported = not what_if and graduation.award not in support.awards
        awarded = () if what_if or unsupported else (graduation.award,)
        if summary:
            codes = set(support.issue_codes) | ({"graduation_unsupported"} if unsupported else set())
            return support.model_copy(update={
                "status": AuditStatus.GRADUATED, "eligible": False, "as_of": as_of,
                "award": None if what_if else graduation.award, "awards": awarded,
                "issue_codes": tuple(sorted(codes)), "rate_per_year": None, "finish_on": None, "graduate_on": None,
                "at_risk": None, "stable_until": stable})
        extra: list[Issue] = []
        if unsupported:
            extra.append(Issue(code="graduation_unsupported", student_id=student_id, event_id=graduation.event_id,
                               message=f"student {student_id}: the award {graduation.award} of {day} "
                                       f"({graduation.event_id}) is no longer supported by the ledger: the audit "
                                       f"on that day, with later reversals, corrections and revocations applied, "
                                       f"says {support.status.value} (shortfall {support.shortfall})"))
        stages = support.stages
        if stages and stages[-1].end is None:
            stages = stages[:-1] + (stages[-1].model_copy(update={"end": day, "ended_by": "graduated"}),)
        # a what-if audit of a graduate says what the other program would have made of the record on that day
        return support.model_copy(update={
            "stages": stages, "status": AuditStatus.GRADUATED, "eligible": False, "as_of": as_of,
            "award": None if what_if else graduation.award, "awards": awarded,
            "issues": support.issues + tuple(extra), "projection": None, "stable_until": stable})
    found = _audit_on(events, chosen, catalog=catalog, as_of=as_of, timeline=timeline,
                      student_id=student_id, reversed_ids=reversed_ids, method=method, detail=detail)
    if later is not None and (found.stable_until is None or later <= found.stable_until):
        found = found.model_copy(update={"stable_until": later - timedelta(days=1)})
    return found


def _program_code_on(timeline: Timeline, day: date) -> str | None:
    """The code of the program the student is in on ``day`` (``None`` when not enrolled)."""
    enrolment = timeline.status_on(day).enrolment
    return enrolment.program if enrolment is not None else None


def _program_on(timeline: Timeline, catalog: Catalog, day: date) -> Program | None:
    """The program the student is in on ``day`` (its catalog version then)."""
    enrolment = timeline.status_on(day).enrolment
    if enrolment is None:
        return None
    return program_in_force(catalog, enrolment.institution, enrolment.program, day)


def _audit_on(events: Sequence[Any], program: Program, *, catalog: Catalog, as_of: date,
              timeline: Timeline, student_id: str, reversed_ids: set[str], method: str, detail: str) -> Any:
    """``timeline``: ``build_timeline(events)`` (the status events of ``events``)."""
    records = transcript_records(events, catalog=catalog, policy=program.policy, timeline=timeline)
    history = StudyHistory.from_timeline(timeline, as_of)
    # an exception that names no program is for the program the student was in when it was granted
    exceptions = [e if e.program is not None else e.model_copy(update={
                      "program": _program_code_on(timeline, e.occurred_on)})
                  for e in events if e.kind == "exception_granted" and e.event_id not in reversed_ids]
    report = audit(program, records, as_of=as_of, catalog=catalog, history=history, exceptions=exceptions,
                   student_id=student_id, method=method, detail=detail)
    if history is None:
        report = report.model_copy(update={
            "status": AuditStatus.NOT_ENROLLED, "eligible": False, "award": None, "awards": ()})
    return report
