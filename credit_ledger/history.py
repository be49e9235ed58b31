"""Replaying a student's events: status over time (enrolled, suspended 休学, resumed 复学, ...) and the effective
credit records (best attempt per course, reversals, grade corrections and revocations applied).

Pure functions over events and a catalog: no session, no engine, no clock. Events replay in a fixed order (date,
then kind rank, then recording order), so the same history always gives the same answer:

>>> from datetime import date as d
>>> from credit_ledger.models import Catalog, Enrolled, CourseCompleted
>>> cat = Catalog.sample()
>>> evs = [Enrolled(event_id="e1", student_id="S1", occurred_on=d(2025, 9, 1), institution="HNJX",
...                 program="CNC-SR-2025"),
...        CourseCompleted(event_id="c1", student_id="S1", occurred_on=d(2026, 1, 10), institution="HNJX",
...                        course="MECH101", grade=52),
...        CourseCompleted(event_id="c2", student_id="S1", occurred_on=d(2026, 3, 1), institution="HNJX",
...                        course="MECH101", grade=71, attempt="makeup")]
>>> [(r.course, r.credits, r.score, r.flagged) for r in transcript_records(evs, catalog=cat)]
[('MECH101', Decimal('4.00'), Decimal('60'), True)]
>>> build_timeline(evs).status_on(d(2025, 8, 31)).status, build_timeline(evs).status_on(d(2025, 9, 1)).status
('not_enrolled', 'active')
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any, Iterable, Literal, Sequence

from .base import DEFAULT_POLICY, Policy
from .catalog import Catalog, Course, Program, program_in_force
from .events import KIND_RANK, STATUS_KINDS, CourseCompleted, GradeCorrected
from .grades import choose_attempt, grade_points
from .records import Balance, CreditRecord

Status = Literal["not_enrolled", "active", "suspended", "withdrawn", "graduated"]


def replay_order(events: Iterable[Any]) -> list[Any]:
    """Events in replay order: by date, then kind rank, then the order given (recording order)."""
    indexed = list(enumerate(events))
    indexed.sort(key=lambda p: (p[1].occurred_on, KIND_RANK[p[1].kind], p[0]))
    return [e for _, e in indexed]


@dataclass(frozen=True, slots=True)
class Enrolment:
    """One enrolment: where, in what program and mode, from when."""

    institution: str
    program: str
    mode: str
    start: date
    employer: str | None = None
    entry_basis: str | None = None


@dataclass(frozen=True, slots=True)
class State:
    """A student's status from ``since`` on, with the enrolment it belongs to (if any). ``rank`` is the kind rank
    of the event that set it, which places it within its day."""

    since: date
    status: Status
    enrolment: Enrolment | None = None
    rank: int = 0


_NOBODY = State(since=date.min, status="not_enrolled")
_LAST_RANK = max(KIND_RANK.values())


@dataclass(frozen=True)
class Timeline:
    """A student's status changes in replay order; ``status_on(day)`` applies every change dated on or before it."""

    states: tuple[State, ...] = ()
    _keys: tuple[tuple[date, int], ...] = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_keys", tuple((s.since, s.rank) for s in self.states))

    def status_on(self, day: date) -> State:
        """The state at the end of ``day`` (every change dated that day applied)."""
        i = bisect_right(self._keys, (day, _LAST_RANK))
        return self.states[i - 1] if i else _NOBODY

    def status_at(self, event: Any) -> State:
        """The state an event meets in replay order: changes of its day that replay before it are applied, those
        that replay after it are not. A course dated the day a suspension (休学) starts was studied before it; a
        course dated the day of a resumption (复学) after it."""
        states = self.states
        if states and event.occurred_on > states[-1].since:
            return states[-1]  # the usual case: after the latest change
        i = bisect_right(self._keys, (event.occurred_on, KIND_RANK[event.kind]))
        return states[i - 1] if i else _NOBODY

    @property
    def last(self) -> State:
        """The latest state."""
        return self.states[-1] if self.states else State(since=date.min, status="not_enrolled")

    @property
    def last_change(self) -> date | None:
        """The date of the latest status change."""
        return self.states[-1].since if self.states else None

    def suspensions(self) -> list[tuple[date, date | None]]:
        """Suspension spans ``(start, end)``; ``end`` is the resumption (or withdrawal), ``None`` while open."""
        spans: list[tuple[date, date | None]] = []
        start: date | None = None
        for state in self.states:
            if state.status == "suspended" and start is None:
                start = state.since
            elif state.status != "suspended" and start is not None:
                spans.append((start, state.since))
                start = None
        if start is not None:
            spans.append((start, None))
        return spans

    def suspended_days(self, until: date | None = None) -> int:
        """Days spent suspended; an open suspension counts up to ``until`` (or not at all without it)."""
        total = 0
        for start, end in self.suspensions():
            stop = end if end is not None else until
            if stop is not None and stop > start:
                total += (stop - start).days
        return total

    def current_enrolment(self) -> Enrolment | None:
        """The enrolment of the latest state, or of the last enrolment if the student has left."""
        for state in reversed(self.states):
            if state.enrolment is not None:
                return state.enrolment
        return None


def build_timeline(events: Iterable[Any]) -> Timeline:
    """The status timeline of one student's events (other kinds are ignored)."""
    states: list[State] = []
    current = State(since=date.min, status="not_enrolled")
    for event in replay_order(e for e in events if e.kind in STATUS_KINDS):
        day, rank = event.occurred_on, KIND_RANK[event.kind]
        if event.kind != "enrolled" and current.enrolment is None:
            continue  # a status change with no enrolment to change (refused on append) changes nothing
        if event.kind == "enrolled":
            enrolment = Enrolment(event.institution, event.program, event.mode, day, event.employer,
                                  event.entry_basis)
            current = State(day, "active", enrolment, rank)
        elif event.kind == "suspended":
            current = State(day, "suspended", current.enrolment, rank)
        elif event.kind == "resumed":
            current = State(day, "active", current.enrolment, rank)
        elif event.kind == "withdrawn":
            current = State(day, "withdrawn", current.enrolment, rank)
        elif event.kind == "graduated":
            current = State(day, "graduated", current.enrolment, rank)
        elif event.kind == "program_changed" and current.enrolment is not None:
            current = State(day, current.status, replace(current.enrolment, program=event.program), rank)
        states.append(current)
    return Timeline(tuple(states))


def policy_for(timeline: Timeline, catalog: Catalog, on: date | None = None) -> Policy:
    """The policy of the student's program (on ``on``, else the latest), or the default policy."""
    program = program_for(timeline, catalog, on)
    return program.policy if program is not None else DEFAULT_POLICY


def program_for(timeline: Timeline, catalog: Catalog, on: date | None = None) -> Program | None:
    """The catalog version of the student's program on ``on`` (or the latest program's version in force now)."""
    state = timeline.status_on(on) if on is not None else timeline.last
    enrolment = state.enrolment or timeline.current_enrolment()
    if enrolment is None:
        return None
    return program_in_force(catalog, enrolment.institution, enrolment.program, on)


def effective_events(events: Sequence[Any], as_of: date | None = None) -> list[Any]:
    """Events dated on or before ``as_of`` (all when ``None``), in recording order."""
    if as_of is None:
        return list(events)
    return [e for e in events if e.occurred_on <= as_of]


def transcript_records(events: Sequence[Any], *, catalog: Catalog, as_of: date | None = None,
                       policy: Policy | None = None, timeline: Timeline | None = None) -> list[CreditRecord]:
    """The counted credit records of one student's events (given in recording order).

    A course counts once, by its best valid attempt with grade corrections applied; reversed events and
    conversions of revoked outcomes do not count. Caps, expiry and requirements are the audit's business.
    ``timeline``: ``build_timeline`` of the events dated on or before ``as_of``, when the caller has it.
    """
    events = effective_events(events, as_of)
    if timeline is None:
        timeline = build_timeline(events)
    if policy is None:
        policy = policy_for(timeline, catalog, as_of)
    reversed_ids: set[str] = set()
    revoked: set[tuple[str, str]] = set()
    corrections: list[GradeCorrected] = []
    for e in events:  # the kinds that change what other events are worth (rare), in one pass
        kind = e.kind
        if kind == "entry_reversed":
            reversed_ids.add(e.target_event_id)
        elif kind == "outcome_revoked":
            revoked.add((e.outcome_type, e.outcome_id))
        elif kind == "grade_corrected":
            corrections.append(e)
    corrected: dict[str, Any] = {}
    for e in replay_order(c for c in corrections if c.event_id not in reversed_ids):
        corrected[e.target_event_id] = e.grade  # the latest correction wins
    # an attempt's order is the last place its event id is given: with unique ids (the ledger's), its index
    unique_ids = len({e.event_id for e in events}) == len(events)
    order = None if unique_ids else {e.event_id: i for i, e in enumerate(events)}
    home = timeline.current_enrolment()
    home_institution = home.institution if home else None

    # per course: (order, attempt, grade) and the event of each attempt, in recording order
    attempts: dict[tuple[str, str], tuple[list[tuple[int, str, Any]], list[CourseCompleted]]] = {}
    records: list[CreditRecord] = []
    for n, e in enumerate(events):
        kind = e.kind
        if kind == "course_completed":
            if e.event_id in reversed_ids:
                continue
            key = (e.institution, e.course)
            course_attempts = attempts.get(key)
            if course_attempts is None:
                course_attempts = attempts[key] = ([], [])
            course_attempts[0].append((n if order is None else order[e.event_id], e.attempt,
                                       corrected.get(e.event_id, e.grade) if corrected else e.grade))
            course_attempts[1].append(e)
        elif kind == "credit_recognized":
            if e.event_id not in reversed_ids:
                records.append(external_record(e, "recognized", catalog, home_institution or e.recorded_by))
        elif kind == "outcome_converted":
            if e.event_id not in reversed_ids and (e.outcome_type, e.outcome_id) not in revoked:
                records.append(external_record(e, "converted", catalog, home_institution or e.recorded_by))
    templates = _home_templates(catalog)
    trusted = CreditRecord.trusted_fields
    for key, (tries, evs) in attempts.items():
        if order is not None and len(tries) > 1:  # with unique ids, the attempts are in order already
            ranked = sorted(range(len(tries)), key=lambda i: tries[i][0])  # by order (stable)
            tries, evs = [tries[i] for i in ranked], [evs[i] for i in ranked]
        chosen = choose_attempt(tries, policy=policy)
        if chosen is None or not chosen[1]:
            continue
        i, _, score, flagged = chosen
        ev = evs[i]
        if order is not None:  # an id given twice: the event of that id is the last one given (the sort is stable)
            ev = [x for x in evs if x.event_id == ev.event_id][-1]
        grade = tries[i][2]
        day = ev.occurred_on
        versions = templates.get(key)
        if versions is None:
            versions = templates[key] = _course_templates(catalog, *key)
        starts, facts = versions
        j = bisect_right(starts, day)  # the course's version in force that day, else its latest (else unknown)
        fields = (facts[j - 1] if j else facts[-1]).copy()  # a validated record's fields in declaration order
        if ev.credits is not None:
            fields["credits"] = ev.credits
        fields["grade"] = str(grade)
        fields["score"] = score
        fields["grade_points"] = grade_points(grade, policy=policy, score=score)
        fields["attempt"] = tries[i][1]
        fields["flagged"] = flagged
        fields["event_id"] = ev.event_id
        fields["occurred_on"] = day
        records.append(trusted(fields, HOME_RECORD_FIELDS))  # from validated events and catalog: no re-validation
    records.sort(key=_record_order)
    return records


_ZERO = Decimal(0)
HOME_RECORD_FIELDS = frozenset({
    "course", "institution", "title", "category", "tags", "mode", "level", "credits", "hours", "grade", "score",
    "grade_points", "attempt", "flagged", "origin", "event_id", "occurred_on"})
"""The fields a home record is given (its ``model_fields_set``)."""


def _home_templates(catalog: Catalog) -> dict[tuple[str, str], tuple[list[date], list[dict[str, Any]]]]:
    """Per (institution, course): ``_course_templates``, kept with the (immutable) catalog for the next audit."""
    templates: dict[tuple[str, str], tuple[list[date], list[dict[str, Any]]]] = catalog.derived(
        "home_record_templates", dict)
    return templates


def _course_templates(catalog: Catalog, institution: str, code: str) -> tuple[list[date], list[dict[str, Any]]]:
    """The start days of a course's catalog versions and, per version, the fields of a home record of it (what the
    catalog says; the attempt's values are placeholders). A course not in the catalog: no starts, one template."""
    starts, entries = catalog.course_versions(institution, code)
    if not entries:
        return [], [home_record_template(course=code, institution=institution, title=code, category="unknown",
                                         tags=(), mode="classroom", level=None, credits=_ZERO, hours=None)]
    return list(starts), [home_record_template(course=code, institution=institution, title=c.title,
                                               category=c.category, tags=c.tags, mode=c.mode, level=c.level,
                                               credits=c.credits, hours=c.hours)
                          for c in entries]


def home_record_template(**facts: Any) -> dict[str, Any]:
    """The fields of a home record (every field of ``CreditRecord``, in declaration order) with the catalog's
    ``facts`` of its course (course, institution, title, category, tags, mode, level, credits, hours) and
    placeholders for the attempt's values: what replay copies and fills in for each counted course, then hands to
    ``CreditRecord.trusted_fields`` with ``HOME_RECORD_FIELDS`` as the fields set.

    >>> t = home_record_template(course="C1", institution="HNJX", title="t", category="core", tags=(),
    ...                          mode="classroom", level=None, credits=Decimal("2.00"), hours=None)
    >>> list(t) == list(CreditRecord.model_fields), HOME_RECORD_FIELDS <= set(t), t["origin"]
    (True, True, 'home')
    """
    record = CreditRecord.trusted(**facts, grade=None, score=None, grade_points=None, attempt=None, flagged=False,
                                  origin="home", event_id="", occurred_on=date.min)
    return dict(record.__dict__)


def _record_order(r: CreditRecord) -> tuple[date, str, str]:
    return (r.occurred_on, r.course or "", r.event_id)


def external_record(e: Any, origin: Literal["recognized", "converted"], catalog: Catalog,
                    home_institution: str | None) -> CreditRecord:
    """The credit record of a ``CreditRecognized`` (``origin="recognized"``) or ``OutcomeConverted``
    (``"converted"``) event at the student's home school: its target course's catalog facts (the version in force
    on the event's day, else the latest), the event's credits and where they came from."""
    target_course = e.target.course
    course = None
    if target_course is not None and home_institution is not None:
        course = catalog.course_or_latest(home_institution, target_course, e.occurred_on)
    if origin == "recognized":
        title = course.title if course else e.source_course
        extra: dict[str, Any] = {"grade": str(e.source_grade), "source_institution": e.source_institution,
                                 "statement_id": e.statement_id, "rule": e.agreement_id}
    else:
        title = e.title
        extra = {"valid_until": e.valid_until, "outcome_id": e.outcome_id, "outcome_type": e.outcome_type,
                 "rule": e.rule_id}
    return CreditRecord.trusted(  # every value is a validated event's or the catalog's: no re-validation
        course=target_course, institution=home_institution or "", title=title,
        category=e.target.category or (course.category if course else "unknown"),
        tags=course.tags if course else (), mode=_mode_of(e, course),
        level=course.level if course else None, credits=e.credits, origin=origin, event_id=e.event_id,
        occurred_on=e.occurred_on, **extra,
    )


def _mode_of(e: Any, course: Course | None) -> str:
    """An online course's conversion is online whatever it targets; anything else takes its target course's mode."""
    if getattr(e, "outcome_type", None) == "online_course":
        return "online"
    return course.mode if course else "classroom"


def balance_of(student_id: str, records: Iterable[CreditRecord], as_of: date | None = None) -> Balance:
    """Totals of credit records by origin (home / recognized / converted) and by category."""
    zero = Decimal("0.00")
    by_origin = {"home": zero, "recognized": zero, "converted": zero}
    by_category: dict[str, Decimal] = defaultdict(Decimal)
    for r in records:
        by_origin[r.origin] += r.credits
        by_category[r.category] += r.credits
    return Balance(student_id=student_id, as_of=as_of, total=sum(by_origin.values(), zero),
                   by_origin=by_origin, by_category=dict(sorted(by_category.items())))


@dataclass(frozen=True, slots=True)
class StudentContext:
    """What the append checks need to know of a student already in the ledger (loaded in bulk by the ledger, and
    kept between appends while the student's chain head is unchanged). Immutable: checks fold a batch into a new
    one, so a refused batch leaves nothing behind."""

    student_id: str
    status_events: tuple[Any, ...] = ()
    reversed_ids: frozenset[str] = frozenset()
    """Events of this student that are reversed."""
    outcomes: frozenset[tuple[str, str]] = frozenset()
    """Outcomes converted for this student, as (type, id)."""
    timeline: Timeline = field(default_factory=Timeline)
    """``build_timeline(status_events)``."""

    @classmethod
    def of(cls, student_id: str, status_events: Iterable[Any] = (), reversed_ids: Iterable[str] = (),
           outcomes: Iterable[tuple[str, str]] = ()) -> "StudentContext":
        """A context with its timeline built."""
        status_events = tuple(status_events)
        return cls(student_id, status_events, frozenset(reversed_ids), frozenset(outcomes),
                   build_timeline(status_events))
