"""The study planner (学习计划): the fastest path to a diploma within the hours a worker has each term.

The rule, in a school's words: take courses of the student's own school, never one already passed, so that the
audit's shortfall closes exactly as the audit counts it (each requirement leaf, each ``pick``, the credit total, a
record counting toward one leaf, the online cap); a course only in a term that offers it, after its prerequisites
(先修课程) are finished in an earlier term, and never more class hours in a term than ``hours_per_term`` (a practice
week at the school's ``practice_week_hours``); a term the worker skips (``skip_terms``) has no course. Of the plans
that finish in the fewest terms, the one with the fewest hours.

It is solved exactly, as an integer program (``scipy.optimize.milp``) over the allocation problem the audit solves
(``credit_ledger.allocation.problem``: the leaves, and the places each record, passed or planned, may count at):
per course and term a binary "taken then", per record and place a binary "counts there", per requirement node a
binary "met" (the root must be). Feasibility only grows with the number of terms, so the fewest terms is found by
bisection, each solve minimising hours; ``min_hours_per_term`` is one more solve that minimises the largest term
over the terms that end by the deadline.

>>> from datetime import date
>>> from credit_ledger.models import Catalog
>>> catalog = Catalog.sample()
>>> program = catalog.program("HNJX", "CNC-TECH-2025")
>>> p = plan(program, [], catalog, start=date(2026, 9, 1), hours_per_term=160)
>>> [(t.name, t.courses, str(t.hours)) for t in p.terms]  # doctest: +NORMALIZE_WHITESPACE
[('秋季', ('MT301', 'PUB107'), '152.0'), ('春季', ('TEC401', 'TEC402'), '160.0'),
 ('夏季', ('TEC403',), '160.0')]

The technician practice (技师综合实训: 16 weeks at the college's 10 hours a week) needs the advanced CNC course
(TEC401) first, and each fills a term of 160 hours, so the plan takes three terms, the fewest; of those plans, the
one with the fewest hours (14 credits more of any course: a 12-week practice at 120 hours and a 32-hour course).
At fewer than 160 hours a term no plan holds the practice (``hours_too_few``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, Decimal
from typing import Any, Iterable, Sequence

from .caps import is_external, is_online, ratio_limits
from .graduation import audit, split_expired, within_caps
from .models import AllRequirement, Catalog, Course, CreditRecord, HoursRequirement, Issue, PickRequirement, Program
from .plans import PlannedTerm, StudyPlan
from .requirements import cents, matches, requirement_tree
from .terms import TermDates, term_calendar

__all__ = ["course_hours", "plan", "plan_history"]

_TENTH = Decimal("0.1")
_STATUS_WORDS = {"suspended": "suspended (休学)", "withdrawn": "withdrawn (退学)", "graduated": "graduated (已毕业)",
                 "not_enrolled": "not enrolled (未在籍)"}
_CALENDAR_LIMIT = 200
"""The most terms a calendar is drawn for (a deadline decades ahead is not planned term by term)."""


def course_hours(course: Course, *, practice_week_hours: Decimal, hours_per_credit: Decimal) -> Decimal:
    """A course's study hours in a term: its class hours, else its practice weeks at the school's hours a week,
    else its credits at the policy's hours per credit.

    >>> from credit_ledger.models import Catalog
    >>> c = Catalog.sample().course("HNJX", "PRA301")
    >>> str(course_hours(c, practice_week_hours=Decimal(30), hours_per_credit=Decimal(16)))
    '120.0'
    """
    if course.hours is not None:
        value = course.hours
    elif course.practice_weeks is not None:
        value = course.practice_weeks * practice_week_hours
    else:
        value = course.credits * hours_per_credit
    return value.quantize(_TENTH, ROUND_CEILING)


@dataclass
class _Caps:
    """The program's caps on what counts (``caps.apply_caps``), in cents, over the counted records: recognised plus
    converted credits up to ``external``; online credits up to ``online``, home online courses first and never
    trimmed, so a planned online course takes room from recognised online credits."""

    total: int
    external: int
    online: int
    home: int
    home_online: int
    external_plain: int
    external_online: int
    external_members: list[int]
    online_members: list[int]


@dataclass
class _Model:
    """The planning problem for one start: the candidate courses, the calendar, the allocation's tree."""

    program: Program
    candidates: list[Course]
    hours: list[int]  # tenths of an hour
    credit_cents: list[int]
    records: list[CreditRecord]  # the counted records, then one per candidate (as if passed)
    n_existing: int
    passed: set[str]
    calendar: list[TermDates]
    skipped: set[int]
    tree: Any
    caps: "_Caps"


def plan(program: Program, records: Iterable[CreditRecord], catalog: Catalog, *, start: date,
         hours_per_term: Decimal | int | str, history: Any = None, as_of: date | None = None,
         skip_terms: Sequence[date] = (), max_terms: int = 12, exceptions: Iterable[Any] = (),
         student_id: str = "") -> StudyPlan:
    """The fastest plan to finish ``program`` from the student's effective ``records``, studying from ``start``.

    Args:
        program: the program (its catalog version in force).
        records: the student's effective records (``Ledger.transcript(...).records``).
        catalog: for the school's courses, terms, prerequisites and offerings.
        start: the first day the student may study; the plan begins with the first term starting on or after it.
        hours_per_term: the class hours the student has each term.
        history: the student's ``StudyHistory`` (for the deadline and the early-graduation floor); without it the
            plan has neither.
        as_of: the day of the audit that says what is missing (default ``start``).
        skip_terms: days, each inside a term the student will not study in.
        max_terms: the most terms a plan may take (skipped terms count).
        exceptions: ``ExceptionGranted`` events in force (as for ``audit``).
        student_id: for the plan and its issues.

    Raises:
        ValueError: ``hours_per_term`` not a finite number 0 or more, ``max_terms`` below 1 or above 200, or a
            skip day inside none of the school's terms from ``start`` on.
    """
    try:
        hours_cap = Decimal(str(hours_per_term))
    except ArithmeticError:  # decimal.InvalidOperation: not a number at all
        hours_cap = Decimal("NaN")
    if not hours_cap.is_finite() or hours_cap < 0:
        raise ValueError(f"hours_per_term is {hours_per_term!r}; it is a number of hours, 0 or more")
    if not 1 <= max_terms <= _CALENDAR_LIMIT:
        raise ValueError(f"max_terms is {max_terms}; a plan has at least one term and at most {_CALENDAR_LIMIT}")
    records = list(records)
    day = as_of or start
    exceptions = list(exceptions)
    report = audit(program, records, as_of=day, catalog=catalog, history=history, exceptions=exceptions,
                   student_id=student_id)
    issues: list[Issue] = []

    def issue(code: str, message: str) -> None:
        issues.append(Issue(code=code, message=f"student {student_id}, program {program.code}: {message}",
                            student_id=student_id or None))

    school = catalog.institution(program.institution, start) or catalog.institution(program.institution)
    if school is None:
        raise ValueError(f"program {program.code}: its school {program.institution} is not in the catalog")
    deadline, earliest = report.deadline, report.earliest_date
    count = max(max_terms, len(_calendar_to(school.terms, start, deadline)) if deadline else 0)
    calendar = term_calendar(school.terms, start, count)
    skipped: set[int] = set()
    for d in skip_terms:
        reach = term_calendar(school.terms, start, max(0, d.year - start.year + 2) * len(school.terms))
        hit = [i for i, t in enumerate(reach) if t.start <= d <= t.end and i < len(calendar)]
        if not any(t.start <= d <= t.end for t in reach):
            raise ValueError(f"skip day {d} is inside none of {program.institution}'s terms from {start} on "
                             f"(its terms: {', '.join(f'{t.name} {t.start}..{t.end}' for t in school.terms)})")
        skipped.update(hit)
    if getattr(history, "status", None) == "active":  # a return from suspension recorded ahead (复学 in March): the
        # ledger refuses a course passed before it, so a term ending outside every study period is one not studied in
        skipped.update(i for i, t in enumerate(calendar)
                       if not any(a <= t.end and (b is None or t.end < b) for a, b, _why in history.periods))
    base = dict(student_id=student_id, program=program.code, institution=program.institution, start=start,
                hours_per_term=hours_cap, earliest_date=earliest, deadline=deadline, shortfall=report.shortfall)
    if report.shortfall == 0 and report.requirements.satisfied:
        issue("nothing_missing", "every requirement and the credit total are met already; nothing to plan")
        graduation = max(day, earliest) if earliest else day
        return StudyPlan(feasible=deadline is None or graduation <= deadline, terms=(), graduation_date=graduation,
                         issues=tuple(issues), min_hours_per_term=Decimal(0), **base)

    within = [r for r in records if r.occurred_on >= calendar[0].start] if calendar else []
    if within:  # read as on a day after the plan's first term began: those records count as passed before it
        issue("records_after_start", f"{len(within)} record(s) dated from {calendar[0].start} on (the last "
              f"{max(r.occurred_on for r in within)}) count as passed before the plan, and their hours are not taken "
              "from their terms': plan from a start after them for terms that fit around them")
    status = getattr(history, "status", "active")
    if status != "active":  # the ledger refuses a course passed while suspended, withdrawn, graduated, not enrolled
        issue("not_studying", f"the student is {_STATUS_WORDS.get(status, status)} on {day}: no course of a plan "
              "counts until the student is enrolled and studying again (the terms below are what would follow)")
    most = min(max_terms, len(calendar))
    # a credit still valid on the start day may lapse (credit_validity_years, a certificate's valid_until) before the
    # plan ends: the records that count depend on the graduation day, so the term counts 1..most fall into groups
    # that keep the same records, each solved over its own model (one group when nothing lapses)
    groups = [(a, b, _model(program, records, catalog, start=start, as_of=day, valid_on=valid_on, calendar=calendar,
                            skipped=skipped, practice_week_hours=school.practice_week_hours, exceptions=exceptions))
              for a, b, valid_on in _validity_groups(records, program, calendar, most, earliest, day)]
    model = groups[0][2]
    # hours beyond every candidate's together bind nothing: kept there, a huge number (1e400) stays a float for milp
    cap_tenths = min(int((hours_cap / _TENTH).to_integral_value(rounding="ROUND_FLOOR")), sum(model.hours))

    def fewest(cap: int | None) -> tuple[int, dict[int, int]] | None:
        for a, b, group_model in groups:
            found = _fewest_terms(group_model, b, cap, least=a)
            if found is not None:
                return found
        return None

    best = fewest(cap_tenths)
    # within max_terms too: the hours suggested are the least with which this very call (deadline and max_terms)
    # finds a feasible plan, never fewer than hours it found too few
    by_deadline = min(max_terms, len(_calendar_to(school.terms, start, deadline)) if deadline else len(calendar))
    leasts = [found for a, b, group_model in groups if a <= by_deadline
              for found in [_least_hours(group_model, min(b, by_deadline))] if found is not None]
    least = min(leasts) if leasts else None
    min_hours = None if least is None else Decimal(least) * _TENTH
    if best is None:
        anyhow = fewest(None)
        if anyhow is not None:
            issue("hours_too_few", f"no plan within {max_terms} terms at {hours_cap} hours a term"
                  + ("" if min_hours is None else f"; {min_hours} hours a term meet "
                     + (f"the deadline {deadline} within {max_terms} terms" if deadline else f"{max_terms} terms")))
        elif _fewest_terms(model, 1, None, relaxed=True) is not None:
            issue("not_offered_in_time", f"the courses still missing are not offered, in the order their "
                  f"prerequisites need, in the terms not skipped within {max_terms} terms from {start}")
        else:
            issue("no_course_left", "no choice of the school's courses not yet passed closes the shortfall "
                  f"({report.shortfall} credits)")
        return StudyPlan(feasible=False, terms=(), graduation_date=None, issues=tuple(issues),
                         min_hours_per_term=min_hours, **base)
    last, taken = best
    if last == 0:  # what the audit finds missing is nothing a course closes (an hour pool per study year): no term
        issue("plan_not_verified", "the audit finds a requirement unmet that no planned course closes (a rule the "
              "plan cannot model, such as hours per study year)")
        return StudyPlan(feasible=False, terms=(), graduation_date=None, issues=tuple(issues),
                         min_hours_per_term=None, **base)
    terms = []
    for i in range(last):
        t = calendar[i]
        ks = [k for k, when in taken.items() if when == i]
        terms.append(PlannedTerm(
            name=t.name, start=t.start, end=t.end, courses=tuple(model.candidates[k].code for k in ks),
            hours=sum((Decimal(model.hours[k]) * _TENTH for k in ks), Decimal(0)).quantize(_TENTH),
            credits=sum((model.candidates[k].credits for k in ks), Decimal(0)), skipped=i in skipped))
    graduation = terms[-1].end if earliest is None else max(terms[-1].end, earliest)
    late = deadline is not None and graduation > deadline
    feasible = not late and status == "active"
    if not _closes(model, terms, records, catalog, graduation, exceptions):
        feasible = False
        issue("plan_not_verified", f"with the planned courses passed, the audit on {graduation} still finds a "
              "requirement unmet (a rule the plan cannot model, such as hours per study year)")
    if late:
        issue("deadline_unreachable", f"the fastest plan at {hours_cap} hours a term ends on {graduation}, after "
              f"the deadline {deadline}" + (f"; {min_hours} hours a term would meet it" if min_hours is not None
                                           else "; no number of hours a term meets it"))
    return StudyPlan(feasible=feasible, terms=tuple(terms), graduation_date=graduation, issues=tuple(issues),
                     min_hours_per_term=min_hours, **base)


def _closes(model: _Model, terms: list[PlannedTerm], records: list[CreditRecord], catalog: Catalog, day: date,
            exceptions: list[Any]) -> bool:
    """Whether the audit (requirements and total only) of the records with each planned course passed at its term's
    end finds nothing missing."""
    by_code = {c.code: c for c in model.candidates}
    planned = []
    for term in terms:
        for code in term.courses:
            c = by_code[code]
            planned.append(CreditRecord(course=c.code, institution=c.institution, title=c.title, category=c.category,
                                        tags=c.tags, mode=c.mode, level=c.level, credits=c.credits, hours=c.hours,
                                        origin="home", event_id=f"plan:{c.code}", occurred_on=term.end))
    report = audit(model.program, [*records, *planned], as_of=max(day, *(t.end for t in terms)), catalog=catalog,
                   exceptions=exceptions, detail="summary")
    return bool(report.shortfall == 0 and "requirement_unmet" not in report.issue_codes)


def _calendar_to(terms: Sequence[Any], start: date, deadline: date | None) -> list[TermDates]:
    """The dated terms from ``start`` that end on or before ``deadline``."""
    if deadline is None or deadline < start:
        return []
    years = deadline.year - start.year + 2
    found = term_calendar(terms, start, min(_CALENDAR_LIMIT, years * max(1, len(terms))))
    return [t for t in found if t.end <= deadline]


def _graduation_after(calendar: list[TermDates], terms: int, earliest: date | None) -> date:
    """The graduation day of a plan that ends with its ``terms``-th term."""
    end = calendar[terms - 1].end
    return end if earliest is None else max(end, earliest)


def _validity_groups(records: list[CreditRecord], program: Program, calendar: list[TermDates], most: int,
                     earliest: date | None, day: date) -> list[tuple[int, int, date]]:
    """The term counts 1..``most`` in runs that keep the same records valid on the plan's graduation day: (first,
    last, the graduation day of the last) each; a plan within a run's last count ends by that day, so every record
    still valid then counts for it."""
    groups: list[tuple[int, int, date]] = []
    seen: tuple[str, ...] | None = None
    for terms in range(1, most + 1):
        on = max(day, _graduation_after(calendar, terms, earliest))
        kept = tuple(r.event_id for r in split_expired(records, policy=program.policy, as_of=on)[0])
        if groups and kept == seen:
            groups[-1] = (groups[-1][0], terms, on)
        else:
            groups.append((terms, terms, on))
        seen = kept
    return groups or [(1, 0, day)]


def _model(program: Program, records: list[CreditRecord], catalog: Catalog, *, start: date, as_of: date,
           valid_on: date, calendar: list[TermDates], skipped: set[int], practice_week_hours: Decimal,
           exceptions: list[Any]) -> _Model:
    policy = program.policy
    kept, _gone = split_expired(records, policy=policy, as_of=valid_on)
    _counted, _excluded, pool, _limits = within_caps(kept, program=program, policy=policy)
    passed = {r.course for r in records if r.course is not None}
    candidates: list[Course] = []
    codes = sorted({c.code for c in catalog.courses if c.institution == program.institution})
    for code in codes:
        if code in passed:
            continue
        course = catalog.course_or_latest(program.institution, code, start)
        if course is None:
            continue
        candidates.append(course)
    hours = [int(course_hours(c, practice_week_hours=practice_week_hours,
                              hours_per_credit=policy.hours_per_credit) / _TENTH) for c in candidates]
    planned = [CreditRecord(course=c.code, institution=c.institution, title=c.title, category=c.category,
                            tags=c.tags, mode=c.mode, level=c.level, credits=c.credits, hours=c.hours,
                            origin="home", event_id=f"plan:{c.code}", occurred_on=start) for c in candidates]
    waived = {e.requirement_id for e in exceptions if e.action == "waive" and e.occurred_on <= as_of
              and (e.program is None or e.program == program.code)}
    substitutes: dict[str, dict[str, str]] = {}
    for e in exceptions:
        if e.action != "waive" and e.occurred_on <= as_of and (e.program is None or e.program == program.code):
            substitutes.setdefault(e.requirement_id, {})[e.course] = e.replaces
    tree = requirement_tree(program, catalog, as_of, waived, substitutes)
    external_limit, online_limit = ratio_limits(program.total_credits, policy=policy)
    outside = [i for i, r in enumerate(pool) if is_external(r)]
    online = [i for i in outside if is_online(pool[i])]
    caps = _Caps(total=cents(program.total_credits), external=cents(external_limit), online=cents(online_limit),
                 home=sum(cents(r.credits) for r in pool if not is_external(r)),
                 home_online=sum(cents(r.credits) for r in pool if not is_external(r) and is_online(r)),
                 external_plain=sum(cents(pool[i].credits) for i in outside if i not in online),
                 external_online=sum(cents(pool[i].credits) for i in online), external_members=outside,
                 online_members=online)
    return _Model(program, candidates, hours, [cents(c.credits) for c in candidates], pool + planned, len(pool),
                  passed, calendar, skipped, tree, caps)


def _fewest_terms(model: _Model, most: int, cap: int | None, *, relaxed: bool = False, least: int = 1
                  ) -> tuple[int, dict[int, int]] | None:
    """The fewest terms (counted from the first) a plan needs, at most ``most``, and that plan's courses (candidate
    -> term index) with the fewest hours; ``None`` when none fits. ``cap`` ``None``: any hours; ``relaxed``: every
    course offered every term, no prerequisite, no term skipped (is the shortfall closable at all?)."""
    if most < 1:
        return None
    found = _solve(model, most, cap, relaxed=relaxed)
    if found is None:
        return None
    lo, hi, best = min(least, found[0]), found[0], found
    while lo < hi:  # feasibility grows with the number of terms
        mid = (lo + hi) // 2
        got = _solve(model, mid, cap, relaxed=relaxed)
        if got is None:
            lo = mid + 1
        else:
            hi, best = got[0], got
    return best


def _least_hours(model: _Model, terms: int) -> int | None:
    """The least largest term (tenths of an hour) of any plan within ``terms`` terms, or ``None``."""
    found = _solve(model, terms, None, least_cap=True)
    return None if found is None else found[0]


def _solve(model: _Model, terms: int, cap: int | None, *, relaxed: bool = False, least_cap: bool = False
           ) -> tuple[int, dict[int, int]] | None:
    """One integer program over the first ``terms`` terms. Returns (the last term used + 1, courses -> term) with
    the fewest hours, or with ``least_cap`` (the least largest term in tenths of an hour, courses -> term)."""
    import numpy as np
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import lil_matrix

    lows: list[float] = []
    highs: list[float] = []
    integer: list[int] = []
    rows: list[tuple[dict[int, float], float, float]] = []

    def var(lo: float = 0, hi: float = 1, whole: bool = True) -> int:
        lows.append(lo)
        highs.append(hi)
        integer.append(1 if whole else 0)
        return len(lows) - 1

    k_count = len(model.candidates)
    n0 = model.n_existing
    offered_in = [set(c.offered) for c in model.candidates]
    x: dict[tuple[int, int], int] = {}
    for k in range(k_count):
        for t in range(terms):
            if not relaxed and (t in model.skipped or (offered_in[k] and model.calendar[t].name not in offered_in[k])):
                continue
            x[k, t] = var()
    taken: list[dict[int, float]] = [{x[k, t]: 1.0 for t in range(terms) if (k, t) in x} for k in range(k_count)]
    for k in range(k_count):
        if taken[k]:
            rows.append((taken[k], -np.inf, 1))
    # prerequisites finished in an earlier term
    position = {c.code: k for k, c in enumerate(model.candidates)}
    if not relaxed:
        for k, course in enumerate(model.candidates):
            for pre in course.prerequisites:
                if pre in model.passed:
                    continue
                j = position.get(pre)
                for t in range(terms):
                    if (k, t) not in x:
                        continue
                    coef = {x[k, t]: 1.0}
                    if j is not None:
                        for s in range(t):
                            if (j, s) in x:
                                coef[x[j, s]] = coef.get(x[j, s], 0) - 1.0
                    rows.append((coef, -np.inf, 0))
    # hours a term
    hmax = None
    if least_cap:
        hmax = var(0, np.inf, True)
    for t in range(terms):
        coef = {x[k, t]: float(model.hours[k]) for k in range(k_count) if (k, t) in x}
        if not coef:
            continue
        if hmax is not None:
            rows.append(({**coef, hmax: -1.0}, -np.inf, 0))
        elif cap is not None:
            rows.append((coef, -np.inf, cap))

    def selected(r: int) -> dict[int, float]:
        """The variables whose sum is 1 when record r counts (an existing record: always)."""
        return {} if r < n0 else taken[r - n0]

    credits = [cents(r.credits) for r in model.records]
    tree = model.tree
    place_vars: dict[tuple[int, int, int], int] = {}
    by_leaf: dict[int, list[tuple[int, int, int]]] = {}
    shared_members: list[list[tuple[int, int]]] = [[] for _ in tree.shared]
    for r, rec in enumerate(model.records):
        if r >= n0 and not taken[r - n0]:
            continue
        options, shared = tree.eligible(rec)
        row: dict[int, float] = {}
        for leaf, slot in options:
            v = place_vars[r, leaf, slot] = var()
            by_leaf.setdefault(leaf, []).append((r, slot, v))
            row[v] = 1.0
        for k_shared, slot in shared:
            shared_members[k_shared].append((r, slot))
        if row:
            if r < n0:
                rows.append((row, -np.inf, 1))
            else:
                rows.append(({**row, **{v: -1.0 for v in selected(r)}}, -np.inf, 0))
    is_external = [rec.origin != "home" for rec in model.records]
    # a recognised or converted record placed in a credit pool gives it y cents, up to all of its credits: fewer
    # when a program-wide cap binds (the allocation's integer program counts them the same way)
    given: dict[tuple[int, int, int], int] = {}
    for (r, leaf, slot), v in place_vars.items():
        if is_external[r] and tree.leaves[leaf].kind == "credits":
            y = given[r, leaf, slot] = var(0, credits[r], False)
            rows.append(({y: 1.0, v: -float(credits[r])}, -np.inf, 0))
    caps = model.caps
    online_new = {v: float(model.credit_cents[k]) for k, c in enumerate(model.candidates) if c.mode == "online"
                  for v in taken[k]}
    room_base = caps.online - caps.home_online  # the online room recognised credits have before any plan

    def within_online_room(coef: dict[int, float]) -> None:
        """coef . x <= max(0, the online room left by the home online courses, passed and planned): a binary b
        chooses which of the two bounds holds (b=1: none is left)."""
        big = float(caps.external_online + sum(online_new.values()) + abs(room_base) + 1)
        b = var()
        rows.append(({**coef, **online_new, b: -big}, -np.inf, room_base))
        rows.append(({**coef, b: big}, -np.inf, big))

    pooled = {given[r, leaf, slot]: 1.0 for r in caps.external_members
              for leaf, slot in tree.eligible(model.records[r])[0] if (r, leaf, slot) in given}
    if pooled:
        rows.append((pooled, -np.inf, caps.external))
    if caps.external_online:
        online_pooled = {given[r, leaf, slot]: 1.0 for r in caps.online_members
                         for leaf, slot in tree.eligible(model.records[r])[0] if (r, leaf, slot) in given}
        if online_pooled:
            within_online_room(online_pooled)
    shared_index = {leaf.node.id: i for i, leaf in enumerate(tree.shared)}

    def member_sum(r: int) -> tuple[dict[int, float], float]:
        """(coefficients, constant): 1 when record r counts at all."""
        return (dict(selected(r)), 0.0) if r >= n0 else ({}, 1.0)

    def node_var(node: Any) -> int | None:
        """A binary "met" for the node, or ``None`` when it is met whatever is chosen."""
        if node.id in tree.waived:
            return None
        leaf = tree.leaf_of.get(node.id)
        if leaf is not None:
            m = var()
            placed = by_leaf.get(leaf.index, [])
            if leaf.kind == "credits":
                home = {v: float(credits[r]) for r, _s, v in placed if not is_external[r]}
                ext_coef = {given[r, leaf.index, slot]: 1.0 for r, slot, _v in placed if is_external[r]}
                coef: dict[int, float] = dict(home)
                if ext_coef:
                    e = var(0, np.inf if leaf.cap is None else leaf.cap, False)
                    rows.append(({**{v: -c for v, c in ext_coef.items()}, e: 1.0}, -np.inf, 0))
                    coef[e] = 1.0
                rows.append(({**coef, m: -float(leaf.need)}, 0, np.inf))
            else:
                for slot in range(len(leaf.codes)):
                    rows.append(({**{v: 1.0 for _r, s, v in placed if s == slot}, m: -1.0}, 0, np.inf))
            return m
        position_shared = shared_index.get(node.id)
        if position_shared is not None:
            sleaf = tree.shared[position_shared]
            m = var()
            members = shared_members[position_shared]
            if sleaf.kind == "credits":
                coef = {m: -float(sleaf.need)}
                const = 0.0
                for r, _slot in members:  # external credits in a shared pool: counted, within its cap, loosely
                    c_coef, c_const = member_sum(r)
                    for v, w in c_coef.items():
                        coef[v] = coef.get(v, 0) + w * credits[r]
                    const += c_const * credits[r]
                rows.append((coef, -const, np.inf))
            else:
                for slot in range(len(sleaf.codes)):
                    coef = {m: -1.0}
                    const = 0.0
                    for r, s in members:
                        if s == slot:
                            c_coef, c_const = member_sum(r)
                            for v, w in c_coef.items():
                                coef[v] = coef.get(v, 0) + w
                            const += c_const
                    rows.append((coef, -const, np.inf))
            return m
        if isinstance(node, HoursRequirement):
            if node.per_year:
                return None  # judged over study years by the audit, not by a plan's courses
            m = var()
            coef = {m: -float(node.hours)}
            const = 0.0
            for r, rec in enumerate(model.records):
                if not matches(rec, node.from_, rec.course):
                    continue
                h = float(rec.hours if rec.hours is not None else rec.credits * model.program.policy.hours_per_credit)
                if r >= n0:
                    h = model.hours[r - n0] / 10
                c_coef, c_const = member_sum(r)
                for v, w in c_coef.items():
                    coef[v] = coef.get(v, 0) + w * h
                const += c_const * h
            rows.append((coef, -const, np.inf))
            return m
        if isinstance(node, AllRequirement):
            m = var()
            for child in node.all:
                c = node_var(child)
                if c is not None:
                    rows.append(({m: 1.0, c: -1.0}, -np.inf, 0))
            return m
        if isinstance(node, PickRequirement):
            m = var()
            kids = [node_var(child) for child in node.of]
            always = sum(1 for c in kids if c is None)
            coef = {c: 1.0 for c in kids if c is not None}
            coef[m] = coef.get(m, 0) - float(node.pick)
            rows.append((coef, -float(always), np.inf))
            return m
        return None

    root = node_var(model.program.requirements)
    if root is not None:
        lows[root] = 1
    # the credit total: home credits, passed and planned, and the recognised and converted credits the caps leave
    counted_outside = var(0, min(caps.external, caps.external_plain + caps.external_online), False)
    if caps.external_online:
        counted_online = var(0, caps.external_online, False)
        within_online_room({counted_online: 1.0})
        rows.append(({counted_outside: 1.0, counted_online: -1.0}, -np.inf, caps.external_plain))
    total_row = {counted_outside: 1.0}
    for k in range(k_count):
        for v in taken[k]:
            total_row[v] = float(model.credit_cents[k])
    rows.append((total_row, caps.total - caps.home, np.inf))
    size = len(lows)
    if size == 0:
        return (0, {})
    objective = np.zeros(size)
    if hmax is not None:
        objective[hmax] = 1.0
    else:
        for (k, _t), v in x.items():
            objective[v] = float(model.hours[k])
    a = lil_matrix((max(1, len(rows)), size))
    lo = np.full(max(1, len(rows)), -np.inf)
    hi = np.full(max(1, len(rows)), np.inf)
    for i, (coef, low, high) in enumerate(rows):
        for j, value in coef.items():
            a[i, j] = value
        lo[i], hi[i] = low, high
    for options in ({"mip_rel_gap": 0}, {"mip_rel_gap": 0, "presolve": False}):
        result = milp(objective, constraints=LinearConstraint(a.tocsr(), lo, hi), bounds=Bounds(lows, highs),
                      integrality=np.array(integer), options=options)
        if result.status == 0 and result.x is not None:
            break
        if result.status == 2:  # infeasible: proved, no retry
            return None
    else:
        return None
    chosen = {k: t for (k, t), v in x.items() if result.x[v] > 0.5}
    if hmax is not None:
        return int(math.ceil(result.x[hmax] - 1e-6)), chosen
    last = max(chosen.values(), default=-1) + 1
    return last, chosen


def plan_history(events: Sequence[Any], *, catalog: Catalog, start: date, hours_per_term: Decimal | int | str,
                 program: Program | str | None = None, as_of: date | None = None, skip_terms: Sequence[date] = (),
                 max_terms: int = 12, student_id: str | None = None) -> StudyPlan:
    """``plan`` over one student's events (in recording order): the pure function behind ``Ledger.plan``. The record
    is read as on ``as_of`` (default: ``start``, or the last event's day when that is later); ``program``: another
    program to plan for (its code at the student's school, or a ``Program``), by default the student's program.

    Raises:
        UnknownReference: the student has no enrolment and no program is named, or the program is unknown.
    """
    from .errors import UnknownReference
    from .history import build_timeline, transcript_records
    from .models import program_in_force
    from .window import StudyHistory

    day = as_of or max([start, *(e.occurred_on for e in events)])
    events = [e for e in events if e.occurred_on <= day]
    student_id = student_id or (events[0].student_id if events else "")
    reversed_ids = {e.target_event_id for e in events if e.kind == "entry_reversed"}
    timeline = build_timeline(events)
    enrolment = timeline.status_on(day).enrolment or timeline.current_enrolment()
    chosen: Program
    if isinstance(program, Program):
        chosen = program
    else:
        code = program or (enrolment.program if enrolment is not None else None)
        school = enrolment.institution if enrolment is not None else None
        found = [p for p in catalog.programs if p.code == code and (school is None or p.institution == school)]
        in_force = program_in_force(catalog, found[0].institution, found[0].code, day) if found else None
        if in_force is None:
            raise UnknownReference([Issue(code="unknown_program", student_id=student_id, message=(
                f"student {student_id}: " + (f"program {code} is not in the catalog" if code else
                                             f"no enrolment on or before {day}; name a program to plan for")))])
        chosen = in_force
    records = transcript_records(events, catalog=catalog, policy=chosen.policy, timeline=timeline)
    history = StudyHistory.from_timeline(timeline, day)
    exceptions = [e for e in events if e.kind == "exception_granted" and e.event_id not in reversed_ids]
    return plan(chosen, records, catalog, start=start, hours_per_term=hours_per_term, history=history, as_of=day,
                skip_terms=skip_terms, max_terms=max_terms, exceptions=exceptions, student_id=student_id)
