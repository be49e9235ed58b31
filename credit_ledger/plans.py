"""A study plan (学习计划): what a student takes, term by term, to finish a program, and when that will be.

``credit_ledger.planner.plan`` makes one; this module holds what it returns. A ``StudyPlan`` lists its terms from the
first planned term to the last (a term the worker skips, or waits through for a course that runs only in autumn, is
listed with no course), says whether the plan meets the flexible-schooling deadline (``feasible``), the day the
student may graduate (the end of the last term, or the early-graduation floor when that is later), and the least
hours a term with which the deadline is met (``min_hours_per_term``), whether or not this plan meets it.

>>> from datetime import date
>>> term = PlannedTerm(name="秋季", start=date(2026, 9, 1), end=date(2027, 1, 20), courses=("MT101",),
...                    hours=Decimal(64), credits=Decimal(4))
>>> plan = StudyPlan(student_id="S1", program="MECH-PT-2024", institution="HNJX", start=date(2026, 9, 1),
...                  hours_per_term=Decimal(120), feasible=True, terms=(term,), graduation_date=date(2027, 1, 20))
>>> plan.courses(), str(plan.total_hours)
(('MT101',), '64')
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from .base import Frozen
from .records import Issue

__all__ = ["PLAN_ISSUES", "PlannedTerm", "StudyPlan"]

PLAN_ISSUES = ("nothing_missing", "deadline_unreachable", "not_offered_in_time", "hours_too_few", "no_course_left",
               "plan_not_verified", "not_studying", "records_after_start")
"""The codes a plan's issues carry (ARCHITECTURE.md, "Plan issues")."""


class PlannedTerm(Frozen):
    """One term of a plan: its name and days, the courses planned in it (codes of the student's school), their class
    hours (practice weeks at the school's hours a week) and credits. ``skipped``: a term the student will not study
    in (it still passes toward the deadline)."""

    name: str
    start: date
    end: date
    courses: tuple[str, ...] = ()
    hours: Decimal = Decimal(0)
    credits: Decimal = Decimal(0)
    skipped: bool = False


class StudyPlan(Frozen):
    """The fastest plan to a program's diploma under a worker's hours (``credit_ledger.planner.plan``): among plans
    that finish in the fewest terms, the fewest total hours."""

    student_id: str = ""
    program: str
    institution: str
    start: date
    hours_per_term: Decimal
    feasible: bool
    """A plan exists within ``max_terms`` and graduates on or before the deadline (or there is nothing missing)."""
    terms: tuple[PlannedTerm, ...] = ()
    graduation_date: date | None = None
    """The end of the last planned term, or the early-graduation floor when that is later; ``None`` without a plan."""
    earliest_date: date | None = None
    """The early-graduation floor (提前毕业), when the student's enrolment is known."""
    deadline: date | None = None
    """The flexible-schooling deadline (弹性学制), when the student's enrolment is known."""
    issues: tuple[Issue, ...] = ()
    min_hours_per_term: Decimal | None = None
    """The least class hours a term with which the deadline is met within ``max_terms`` terms (within
    ``max_terms`` alone when there is no deadline): a plan asked for with these hours is feasible, with fewer it is
    not; ``None`` when no number of hours does."""
    shortfall: Decimal = Decimal(0)
    """The credits the audit on the start day says are missing."""
    solver: str = "milp"

    def courses(self) -> tuple[str, ...]:
        """Every planned course, term by term."""
        return tuple(code for term in self.terms for code in term.courses)

    @property
    def total_hours(self) -> Decimal:
        """The class hours of every planned course."""
        return sum((t.hours for t in self.terms), Decimal(0))

    @property
    def total_credits(self) -> Decimal:
        """The credits of every planned course."""
        return sum((t.credits for t in self.terms), Decimal(0))

    def to_pandas(self) -> Any:
        """The plan as a pandas DataFrame, one row per planned course (a term without one: a row with no course).

        Needs the ``notebook`` extra (pandas)."""
        from .extras import require

        pd = require("pandas")
        rows = []
        for i, term in enumerate(self.terms, start=1):
            base = {"term_no": i, "term": term.name, "start": term.start, "end": term.end, "skipped": term.skipped,
                    "term_hours": term.hours, "term_credits": term.credits}
            if not term.courses:
                rows.append({**base, "course": None})
            rows.extend({**base, "course": code} for code in term.courses)
        return pd.DataFrame(rows, columns=["term_no", "term", "start", "end", "skipped", "course", "term_hours",
                                           "term_credits"])

    def to_text(self, lang: str = "zh") -> str:
        """The plan as text (``credit_ledger.plan_render``), in Chinese by default."""
        from .plan_render import plan_text

        return plan_text(self, lang)

    def to_html(self, lang: str = "zh") -> str:
        """The plan as an HTML fragment, in Chinese by default."""
        from .plan_render import plan_html

        return plan_html(self, lang)

    def _repr_html_(self) -> str:
        return self.to_html()

    def to_json(self) -> str:
        """The plan as JSON (its schema: ``json_schemas()["StudyPlan"]``)."""
        return self.model_dump_json(indent=2)

    def plot(self, path: Any = None, *, lang: str = "zh", fmt: str | None = None) -> Any:
        """A picture of the plan term by term (hours planned against the hours a term, the deadline marked); see
        ``credit_ledger.plan_plots.plot_plan``."""
        from .plan_plots import plot_plan

        return plot_plan(self, path, lang=lang, fmt=fmt)
