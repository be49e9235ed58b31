"""The time window of a graduation and where a student stands in it: status, awards, stages and a projection.

A student may graduate (毕业) from the early-graduation floor (提前毕业: enrolment + the program's ``min_years``)
to the flexible-schooling deadline (弹性学制: enrolment + ``max_years``, suspension time (休学) added when the
policy does not count it). A student whose study period ended without graduation leaves with completion (结业:
the standard length over with requirements unmet, or the deadline passed); one who studied at least
``partial_study_min_years`` and leaves without graduation, with partial study (肄业). A worker-student who studies
in stages (分阶段完成学业) sees each study period's credits, and the day the credit rate so far would finish.

>>> from datetime import date
>>> from decimal import Decimal
>>> from credit_ledger.models import Catalog, Policy
>>> program = Catalog.sample().program("HNJX", "CNC-SR-2025")
>>> history = StudyHistory(enrolled_on=date(2024, 9, 1), mode="full_time", status="active",
...                        periods=((date(2024, 9, 1), date(2025, 3, 1), "suspended"), (date(2025, 9, 1), None, None)),
...                        suspended_days=184)
>>> program.standard_years, program.earliest_years, program.latest_years
(Decimal('3'), Decimal('2'), Decimal('6'))
>>> time_window(program, history, policy=Policy(suspension_counts_toward_max=False))
Window(earliest=datetime.date(2026, 9, 1), deadline=datetime.date(2031, 3, 4), standard_end=datetime.date(2028, 3, 3))
>>> found = verdict(program, history, as_of=date(2027, 7, 1), policy=program.policy, met=False,
...                 earned=Decimal("60.00"), shortfall=Decimal("40.00"), records=())
>>> found.status.value, found.awards, found.projection.finish_on, found.projection.at_risk
('requirements_missing', ('partial_study',), datetime.date(2029, 1, 17), False)

Pure functions: the enrolment and study periods come in as a ``StudyHistory``, and every year is counted the one
way ``credit_ledger.dates`` counts them (a day N years on by the calendar; a length summed from pieces in days).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, NamedTuple, Sequence

from .dates import DAYS_PER_YEAR, add_years, days_to_years
from .models import CENT, CreditRecord, Policy, Program
from .reports import PASSING_STATUSES, ZERO, AuditStatus, Award, Projection, Stage

if TYPE_CHECKING:  # pragma: no cover
    from .history import Timeline


@dataclass(frozen=True)
class StudyHistory:
    """What the audit needs of a student's status history: the enrolment and the study periods."""

    enrolled_on: date
    mode: str
    status: str
    """On the audit date: active, suspended, withdrawn, graduated or not_enrolled."""
    periods: tuple[tuple[date, date | None, str | None], ...]
    """Study periods (start, end or None, what ended it), in order."""
    suspended_days: int
    entry_basis: str | None = None

    @classmethod
    def from_timeline(cls, timeline: Timeline, as_of: date) -> StudyHistory | None:
        """The current enrolment's history on ``as_of`` (``None`` when the student was never enrolled)."""
        state = timeline.status_on(as_of)
        enrolment = state.enrolment
        if enrolment is None:
            return None
        periods: list[tuple[date, date | None, str | None]] = []
        start: date | None = None
        for s in timeline.states:
            if s.since > as_of:
                break
            if s.since < enrolment.start or s.enrolment is None or s.enrolment.start != enrolment.start:
                continue
            if s.status == "active" and start is None:
                start = s.since
            elif s.status in ("suspended", "withdrawn", "graduated") and start is not None:
                periods.append((start, s.since, s.status))
                start = None
        if start is not None:
            periods.append((start, None, None))
        suspended = 0
        for a, b in timeline.suspensions():
            if a > as_of or a < enrolment.start:
                continue
            suspended += ((min(b, as_of) if b is not None else as_of) - a).days
        return cls(enrolled_on=enrolment.start, mode=enrolment.mode, status=state.status, periods=tuple(periods),
                   suspended_days=suspended, entry_basis=enrolment.entry_basis)


class Window(NamedTuple):
    """The days that bound a student's graduation."""

    earliest: date
    """The early-graduation floor (提前毕业): enrolment + the program's ``earliest_years``."""
    deadline: date
    """The flexible-schooling deadline (弹性学制): enrolment + ``latest_years``, suspended days added when the
    policy does not count suspension toward it."""
    standard_end: date
    """The end of the standard length (enrolment + ``standard_years``, suspended days added as for the
    deadline): from it, a student with requirements unmet may leave with completion (结业)."""


def time_window(program: Program, history: StudyHistory, *, policy: Policy) -> Window:
    """The window of a student's graduation in a program, under a policy."""
    enrolled_on = history.enrolled_on
    earliest = add_years(enrolled_on, program.earliest_years)
    deadline = add_years(enrolled_on, program.latest_years)
    standard_end = add_years(enrolled_on, program.standard_years)
    if not policy.suspension_counts_toward_max:
        deadline += timedelta(days=history.suspended_days)
        standard_end += timedelta(days=history.suspended_days)
    return Window(earliest, deadline, standard_end)


class Verdict(NamedTuple):
    """Where a student stands in time on the audit's date: the status, the awards supported, the window, the
    stages and the projection, with the issues found (code, sentence)."""

    status: AuditStatus
    eligible: bool
    award: Award | None
    """The award to show: graduation when eligible; an exit award when study has ended."""
    awards: tuple[Award, ...]
    """Every award the audit would support if recorded now."""
    part_time: bool
    enrolled_on: date | None
    earliest: date | None
    deadline: date | None
    stages: tuple[Stage, ...]
    projection: Projection | None
    issues: tuple[tuple[str, str], ...]


def verdict(program: Program, history: StudyHistory | None, *, as_of: date, policy: Policy, met: bool,
            earned: Decimal, shortfall: Decimal, records: Sequence[CreditRecord]) -> Verdict:
    """Where a student stands on ``as_of``, once the requirements are judged: ``met`` (every requirement and the
    credit total), ``earned`` (home credits, the pace of study), ``shortfall`` (credits still missing), ``records``
    (the records that count, for the stages). Without a history the audit judges requirements only."""
    issues: list[tuple[str, str]] = []
    enrolled_on = earliest = deadline = None
    part_time = False
    stages: tuple[Stage, ...] = ()
    projection = None
    awards: list[Award] = []
    if history is None:
        status = AuditStatus.ELIGIBLE if met else AuditStatus.REQUIREMENTS_MISSING
        if met:
            awards.append("graduation")
    else:
        enrolled_on = history.enrolled_on
        part_time = history.mode == "part_time"
        earliest, deadline, standard_end = time_window(program, history, policy=policy)
        if days_to_years(history.suspended_days) > policy.max_suspension_years:
            issues.append(("suspension_too_long", f"{history.suspended_days} days suspended (休学), more than the "
                           f"{policy.max_suspension_years} years the policy allows"))
        study_days = sum(((e or as_of) - s).days for s, e, _ in history.periods)
        study_years = days_to_years(study_days)
        stages = study_stages(history, records)
        if history.status == "graduated":
            status = AuditStatus.GRADUATED
        elif history.status == "withdrawn":
            status = AuditStatus.WITHDRAWN
        elif history.status == "not_enrolled":
            status = AuditStatus.NOT_ENROLLED
        elif as_of > deadline:
            status = AuditStatus.DEADLINE_PASSED
            issues.append(("deadline_passed", f"the flexible-schooling deadline (弹性学制) was {deadline}; graduation "
                           "is no longer possible in this program"))
        elif history.status == "suspended":
            status = AuditStatus.SUSPENDED
        elif not met:
            status = AuditStatus.REQUIREMENTS_MISSING
        elif as_of < earliest:
            status = AuditStatus.TOO_EARLY
            issues.append(("too_early", f"requirements are met, but graduation is possible from {earliest} "
                           f"(enrolment {enrolled_on} + {program.earliest_years} years)"))
        else:
            status = AuditStatus.ELIGIBLE
        if status == AuditStatus.ELIGIBLE:
            awards.append("graduation")
        if status not in (AuditStatus.ELIGIBLE, AuditStatus.GRADUATED, AuditStatus.NOT_ENROLLED):
            # 结业: the study period ended without graduation (requirements unmet, or the deadline passed);
            # 肄业: at least a year of study, leaving without graduation
            if (not met and as_of >= standard_end) or as_of > deadline:
                awards.append("completion")
            if study_years >= policy.partial_study_min_years and (not met or as_of > deadline):
                awards.append("partial_study")
        if status not in (AuditStatus.GRADUATED, AuditStatus.WITHDRAWN, AuditStatus.NOT_ENROLLED):
            projection = project(earned, shortfall, study_days, as_of, earliest, deadline)
            if projection is not None and projection.at_risk:
                when = projection.graduate_on or "never, at the rate so far"
                issues.append(("at_risk_deadline", f"at {projection.rate_per_year} credits a year the student would "
                               f"graduate {when}, after the deadline {deadline}"))
    # the award to show: graduation when eligible; an exit award when study has ended (结业 at the end of the study
    # period, 肄业 on leaving early); ``awards`` keeps every award the audit would support if recorded now
    ended = status in (AuditStatus.WITHDRAWN, AuditStatus.DEADLINE_PASSED) or "completion" in awards
    shown = awards[0] if awards and (awards[0] == "graduation" or ended) else None
    return Verdict(status=status, eligible=status in PASSING_STATUSES, award=shown, awards=tuple(awards),
                   part_time=part_time, enrolled_on=enrolled_on, earliest=earliest, deadline=deadline, stages=stages,
                   projection=projection, issues=tuple(issues))


def study_stages(history: StudyHistory, records: Sequence[CreditRecord]) -> tuple[Stage, ...]:
    """Credits per study period; a record dated outside every period goes to the latest one begun before it."""
    periods = history.periods
    if not periods:
        return ()
    sums = [ZERO] * len(periods)
    for r in records:
        k = 0
        for i, (start, _end, _by) in enumerate(periods):
            if r.occurred_on >= start:
                k = i
        sums[k] += r.credits
    out = []
    running = ZERO
    for (start, end, by), credits in zip(periods, sums, strict=True):
        running += credits
        out.append(Stage.trusted(start=start, end=end, credits=credits, cumulative=running, ended_by=by))
    return tuple(out)


PROJECTION_MIN_DAYS = 90
"""Study time needed before a credit rate means anything (a term, about)."""


def project(earned: Decimal, remaining: Decimal, study_days: int, as_of: date, earliest: date,
            deadline: date) -> Projection | None:
    """The finish date at the rate of credits earned by study (home credits per study day; recognised and converted
    credits come in at once and say nothing of the pace). ``None`` before a term of study, unless nothing remains.

    >>> p = project(Decimal("30.00"), Decimal("30.00"), 365, date(2025, 9, 1), date(2026, 7, 1), date(2027, 7, 1))
    >>> p.rate_per_year, p.finish_on, p.at_risk
    (Decimal('30.02'), datetime.date(2026, 9, 1), False)
    """
    if remaining > 0 and study_days < PROJECTION_MIN_DAYS:
        return None
    rate = (earned / Decimal(study_days) * DAYS_PER_YEAR).quantize(CENT) if study_days > 0 else ZERO
    if remaining <= 0:
        finish: date | None = as_of
    elif earned > 0:
        days = math.ceil(remaining * Decimal(study_days) / earned)
        finish = as_of + timedelta(days=days) if days < 100 * 366 else None
    else:
        finish = None
    graduate = max(finish, earliest) if finish is not None else None
    at_risk = graduate is None or graduate > deadline
    return Projection.trusted(rate_per_year=rate, remaining=remaining, finish_on=finish, graduate_on=graduate,
                              at_risk=at_risk)


def window_change(program: Program, history: StudyHistory | None, found: Verdict, *, as_of: date,
                  policy: Policy) -> date | None:
    """The first day after ``as_of`` on which the passing of time alone may change the verdict, or ``None``.

    While the student studies (a period still open) or is suspended, days of study or of suspension add up: the
    study years (肄业), the hour pools per year, the projection's rate, the suspended time and (when suspension does
    not count toward it) the deadline move with the day, so the next day may differ. So does a projection's date
    (``finish_on`` is reckoned from the audit's day). Otherwise the verdict turns on fixed days: the
    early-graduation floor, the end of the standard length, the day after the deadline.
    """
    if history is None:
        return None
    if history.status == "suspended" or any(end is None for _s, end, _by in history.periods):
        return as_of + timedelta(days=1)
    if found.projection is not None and found.projection.finish_on is not None:
        return as_of + timedelta(days=1)
    earliest, deadline, standard_end = time_window(program, history, policy=policy)
    ahead = [d for d in (earliest, standard_end, deadline + timedelta(days=1)) if d > as_of]
    return min(ahead, default=None)
