"""The audit's report (毕业审核报告): data a school keeps, sends and shows, with its presentation one call away.

An ``AuditReport`` says where a student stands on a day (``status``), the awards the audit supports (毕业
graduation, 结业 completion, 肄业 partial study), the credits counted, the requirement tree evaluated
(``RequirementResult``: each node counted against needed, with the records allocated to it), the study stages and
a projection, what does not count and why, and every issue. It is plain data: JSON out and back, and as text,
HTML or a picture through ``credit_ledger.render`` and ``credit_ledger.plots`` (which read it by attribute).

>>> from decimal import Decimal
>>> pool = RequirementResult(id="public", title="公共基础课", kind="credits", satisfied=False,
...                          needed=Decimal("24.00"), counted=Decimal("20.00"), unit="credits",
...                          shortfall=Decimal("4.00"))
>>> pool.shortfall, AuditStatus.ELIGIBLE in PASSING_STATUSES, AuditStatus.TOO_EARLY in PASSING_STATUSES
(Decimal('4.00'), True, False)
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal, Sequence

from .models import Frozen, Issue
from .render import report_html, report_text
from .records import Excluded

if TYPE_CHECKING:  # pragma: no cover
    from .models import CreditRecord

ZERO = Decimal("0.00")
"""No credits, to the cent."""


class AuditStatus(StrEnum):
    """Where a student stands on the audit's date."""

    ELIGIBLE = "eligible"
    """Every requirement holds, inside the time window, enrolled: may graduate now."""
    TOO_EARLY = "too_early"
    """Every requirement holds, but the early-graduation floor (enrolment + min_years) is still ahead."""
    REQUIREMENTS_MISSING = "requirements_missing"
    DEADLINE_PASSED = "deadline_passed"
    """The flexible-schooling deadline (enrolment + max_years) has passed with no graduation."""
    NOT_ENROLLED = "not_enrolled"
    SUSPENDED = "suspended"
    WITHDRAWN = "withdrawn"
    GRADUATED = "graduated"


PASSING_STATUSES = frozenset({AuditStatus.ELIGIBLE})
"""The statuses in which a graduation (毕业) award is supported."""

Award = Literal["graduation", "completion", "partial_study"]


class Allocated(Frozen):
    """A record counted toward a requirement."""

    event_id: str
    course: str | None
    title: str
    credits: Decimal
    origin: str
    hours: Decimal | None = None
    counts_as: str | None = None
    """For a substituted course: the required course it stands for."""
    occurred_on: date | None = None
    """The record's date (the student's picture steps at it); ``None`` in reports made before it was kept."""

    @classmethod
    def of_record(cls, record: CreditRecord, counts_as: str | None = None) -> Allocated:
        """The record as counted toward a requirement (``counts_as``: the course a substitute stands for; the
        record's own course or none leaves it unset). Built straight into its fields: a record's values are
        already checked, and an audit makes one of these per record counted."""
        return cls.trusted_fields({  # every field, in declaration order
            "event_id": record.event_id, "course": record.course, "title": record.title, "credits": record.credits,
            "origin": record.origin, "hours": record.hours,
            "counts_as": counts_as if counts_as and counts_as != record.course else None,
            "occurred_on": record.occurred_on}, _ALLOCATED_FIELDS)


_ALLOCATED_FIELDS = frozenset(Allocated.model_fields)


class RequirementResult(Frozen):
    """One node of the requirement tree, evaluated: counted against needed, and the records allocated to it."""

    id: str
    title: str = ""
    kind: Literal["all", "pick", "courses", "credits", "hours"]
    satisfied: bool
    needed: Decimal
    """Credits (credit pools), courses (course lists), hours (hour pools), children (all / pick)."""
    counted: Decimal
    unit: Literal["credits", "courses", "hours", "requirements"]
    shortfall: Decimal = ZERO
    """Credits still missing here under the chosen allocation (hours for an hour pool)."""
    records: tuple[Allocated, ...] = ()
    missing: tuple[str, ...] = ()
    """Course lists: the courses not yet covered."""
    children: tuple["RequirementResult", ...] = ()
    chosen: tuple[str, ...] = ()
    """Pick nodes: the children chosen to count."""
    shared: bool = False
    waived: bool = False
    notes: tuple[str, ...] = ()


class AuditCredits(Frozen):
    """Credits counted toward the program's total, after expiry and caps."""

    total: Decimal
    home: Decimal
    recognized: Decimal
    converted: Decimal
    required: Decimal


class Stage(Frozen):
    """A study period (enrolment or resumption to suspension, withdrawal, graduation or the audit date)."""

    start: date
    end: date | None
    """The day the period ended (``None``: still studying on the audit date)."""
    credits: Decimal
    cumulative: Decimal
    ended_by: str | None = None


class Projection(Frozen):
    """When the student would finish at the credit rate seen so far."""

    rate_per_year: Decimal
    """Credits earned by study (home credits) per year of study, suspensions left out."""
    remaining: Decimal
    finish_on: date | None
    """The day the remaining credits would be in, at that rate (``None``: no credits yet, no rate)."""
    graduate_on: date | None
    """``finish_on``, or the early-graduation floor if later."""
    at_risk: bool


class AppliedException(Frozen):
    """A registrar's exception (ExceptionGranted) as the audit applied it."""

    event_id: str
    requirement_id: str
    action: Literal["waive", "substitute"]
    course: str | None = None
    replaces: str | None = None
    applied: bool = True
    reason: str = ""


class AuditReport(Frozen):
    """The answer to "may this student graduate?", with every reason. Renders as text, JSON and HTML."""

    student_id: str
    program: str
    institution: str
    program_title: str = ""
    as_of: date
    status: AuditStatus
    eligible: bool
    award: Award | None = None
    """The highest award the audit supports on ``as_of`` (``None``: none)."""
    awards: tuple[Award, ...] = ()
    """Every award supported on ``as_of``."""
    part_time: bool = False
    enrolled_on: date | None = None
    earliest_date: date | None = None
    deadline: date | None = None
    credits: AuditCredits
    shortfall: Decimal
    requirements: RequirementResult
    stages: tuple[Stage, ...] = ()
    projection: Projection | None = None
    """When the student would finish at the pace so far (``None`` for a graduate, a leaver, or before a term)."""
    excluded: tuple[Excluded, ...] = ()
    """Credits that do not count: expired, over a cap, or overlapped by a higher outcome."""
    exceptions: tuple[AppliedException, ...] = ()
    issues: tuple[Issue, ...] = ()
    solver: str = "greedy"
    """How the allocation was found: ``greedy`` (proved optimal by the bound), ``search`` or ``milp``."""
    stable_until: date | None = None
    """A day up to which the passing of time alone cannot change this report: for every day ``d`` from ``as_of`` to
    ``stable_until``, the audit of the same events and catalog on ``d`` is this report but for ``as_of``. It is the
    day before the earliest day that may change it (the early-graduation floor, the end of the standard length, the
    day after the deadline, a certificate's or credit's expiry, a suspension growing past the policy's limit, an
    event or a catalog version dated later, a projection whose date moves with the day); ``None``: nothing ahead
    can change it. Never later than the last such day, it may be earlier (see ``graduation.stable_until``)."""
    student_name: str | None = None
    """The student's name from the roster (``Ledger.audit`` and ``audit_all`` fill it when one is kept; ``None``:
    none). Personal data: the summary (``AuditSummary``) and the summary cache never hold it."""

    def summary(self) -> AuditSummary:
        """The report's one row (``AuditSummary``): every figure of the audit, without the tree and the texts."""
        p = self.projection
        return AuditSummary.trusted(
            student_id=self.student_id, program=self.program, institution=self.institution, as_of=self.as_of,
            status=self.status, eligible=self.eligible, award=self.award, awards=self.awards,
            part_time=self.part_time, enrolled_on=self.enrolled_on, total=self.credits.total,
            home=self.credits.home, recognized=self.credits.recognized, converted=self.credits.converted,
            required=self.credits.required, shortfall=self.shortfall, earliest_date=self.earliest_date,
            deadline=self.deadline, stages=len(self.stages),
            rate_per_year=p.rate_per_year if p else None, finish_on=p.finish_on if p else None,
            graduate_on=p.graduate_on if p else None, at_risk=p.at_risk if p else None,
            issue_codes=tuple(sorted({i.code for i in self.issues})), solver=self.solver,
            stable_until=self.stable_until)

    @property
    def expired(self) -> tuple[Excluded, ...]:
        """The records that no longer count because they expired."""
        return tuple(x for x in self.excluded if x.code in ("credit_expired", "certificate_expired"))

    def supports(self, award: str) -> bool:
        """True when the audit supports ``award`` on its date."""
        return award in self.awards

    def to_json(self, *, indent: int | None = 2) -> str:
        """The report as JSON (dates ISO, credits as strings)."""
        return self.model_dump_json(indent=indent)


    def to_text(self, lang: str = "zh") -> str:
        """A plain-text report in ``lang`` (Chinese by default, ``"en"`` for English): the verdict, the requirement
        tree with ✓/✗, stages and issues."""
        return report_text(self, lang)

    def __str__(self) -> str:
        return self.to_text()

    def to_html(self, lang: str = "zh", *, picture: bool = True, font: bool = True) -> str:
        """The printable audit (毕业资格审核表) as a whole HTML page in ``lang``: the student, the verdict, the credits
        by origin, the requirement tree with ✓/✗, the stages (with their picture inline as SVG when ``picture`` and
        matplotlib is installed), what was not counted and why, the exceptions, the issues and a signature block;
        A4 when printed; it carries the CJK characters it uses of the ``notebook`` extra's font unless ``font`` is
        false (``page.audit_page``)."""
        from .page import audit_page  # the page draws the stages picture: plots sits above the reports

        return audit_page(self, lang, picture=picture, font=font)

    def plot(self, path: Any = None, *, fmt: str | None = None, lang: str = "zh") -> bytes:
        """The student's credits, stepping at each record's date, against the program's total, deadline and
        projection, labelled in Chinese (``lang="en"``: English), as PNG bytes (SVG or PDF by ``path``'s suffix or
        ``fmt``; written to ``path`` when given); needs the ``notebook`` extra (matplotlib and a CJK font). In a
        notebook: ``IPython.display.Image(report.plot())``."""
        from .plots import plot_student  # imported when a picture is drawn: plots sits above the reports

        return plot_student(self, path, fmt=fmt, lang=lang)

    def _repr_html_(self) -> str:
        """An HTML report for notebooks (a fragment, in Chinese): the verdict, then the requirement tree as nested
        lists."""
        return report_html(self)


class AuditSummary(Frozen):
    """One student's audit as one row (``audit_all(..., detail="summary")``, ``AuditReport.summary()``): every figure
    of the report that a cohort table, the audit CSV or a cohort picture uses (status, awards, credits by origin,
    shortfall, the window, the projection, the issue codes, the solver and ``stable_until``), without the
    requirement tree, the records and the sentences. Computed directly, it equals ``report.summary()`` field for
    field. ``to_row`` and ``from_row`` carry it between processes as a compact row (its values in field order);
    as JSON it is a small object (``model_dump_json``).

    >>> s = AuditSummary(student_id="S1", program="P", institution="T", as_of="2027-07-01", status="eligible",
    ...                  eligible=True, award="graduation", awards=("graduation",), total="60.00", home="60.00",
    ...                  recognized="0.00", converted="0.00", required="60.00", shortfall="0.00")
    >>> AuditSummary.from_row(s.to_row()) == s, s.to_row()[:4]
    (True, ('S1', 'P', 'T', datetime.date(2027, 7, 1)))
    """

    student_id: str
    program: str
    institution: str
    as_of: date
    status: AuditStatus
    eligible: bool
    award: Award | None = None
    awards: tuple[Award, ...] = ()
    part_time: bool = False
    enrolled_on: date | None = None
    total: Decimal
    """``credits.total`` of the report; ``home``, ``recognized``, ``converted`` and ``required`` likewise."""
    home: Decimal
    recognized: Decimal
    converted: Decimal
    required: Decimal
    shortfall: Decimal
    earliest_date: date | None = None
    deadline: date | None = None
    stages: int = 0
    """How many study stages the report has."""
    rate_per_year: Decimal | None = None
    """The projection's (``None``, with ``finish_on``, ``graduate_on`` and ``at_risk``: no projection)."""
    finish_on: date | None = None
    graduate_on: date | None = None
    at_risk: bool | None = None
    issue_codes: tuple[str, ...] = ()
    """The distinct codes of the report's issues, sorted."""
    solver: str = "greedy"
    stable_until: date | None = None
    """As the report's ``stable_until``."""

    def to_row(self) -> tuple[Any, ...]:
        """The summary as a compact row: its values in field order (what a worker process sends back, pickled)."""
        return tuple(self.__dict__.values())

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> AuditSummary:
        """A summary from ``to_row``'s row (made by this library: read back without validation)."""
        return cls.trusted_fields(dict(zip(_SUMMARY_NAMES, row, strict=True)), _SUMMARY_FIELDS)


_SUMMARY_NAMES = tuple(AuditSummary.model_fields)
_SUMMARY_FIELDS = frozenset(AuditSummary.model_fields)
