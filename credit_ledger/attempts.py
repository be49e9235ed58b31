"""Every attempt at a course (修读记录): regular, make-up exam (补考) and retake (重修), failed ones too.

A transcript keeps one record per course, its best valid attempt (``history.transcript_records``); a registrar also
needs the attempts it does not show: who failed what and must sit the make-up, who is retaking. ``course_attempts``
lists each ``CourseCompleted`` of a student that was not reversed, with its grade as corrected (``GradeCorrected``),
whether it passes the program's pass mark, and whether it is the attempt the transcript counts.

>>> from datetime import date as d
>>> from credit_ledger.models import Catalog, CourseCompleted, Enrolled
>>> events = [Enrolled(event_id="e", student_id="S1", occurred_on=d(2025, 9, 1), institution="HNJX",
...                    program="CNC-SR-2025"),
...           CourseCompleted(event_id="c1", student_id="S1", occurred_on=d(2026, 1, 10), institution="HNJX",
...                           course="MECH101", grade=48),
...           CourseCompleted(event_id="c2", student_id="S1", occurred_on=d(2026, 3, 1), institution="HNJX",
...                           course="MECH101", grade=71, attempt="makeup")]
>>> [(a.event_id, a.attempt, a.passed, a.counted) for a in course_attempts(events, catalog=Catalog.sample())]
[('c1', 'regular', False, False), ('c2', 'makeup', True, True)]
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Sequence

from .base import Frozen
from .grades import is_passing, score_of
from .history import build_timeline, effective_events, policy_for, replay_order, transcript_records
from .models import Catalog, Grade


class Attempt(Frozen):
    """One attempt at a course (at whichever school recorded it: ``institution``, among those the reader may see): its
    grade (as corrected), whether it passes, and whether it is the attempt the transcript counts (``counted``)."""

    event_id: str
    student_id: str
    institution: str
    course: str
    title: str | None = None
    credits: Decimal | None = None
    occurred_on: date
    term: str | None = None
    attempt: str
    grade: str
    score: Decimal | None = None
    passed: bool
    counted: bool
    corrected: bool = False


def course_attempts(events: Sequence[Any], *, catalog: Catalog, as_of: date | None = None) -> list[Attempt]:
    """Every attempt at a course in one student's events (in recording order), dated on or before ``as_of``, in
    date order: reversed attempts left out, grade corrections applied, judged by the pass mark of the student's
    program (its policy)."""
    events = effective_events(events, as_of)
    timeline = build_timeline(events)
    policy = policy_for(timeline, catalog, as_of)
    counted = {r.event_id for r in transcript_records(events, catalog=catalog, as_of=as_of, timeline=timeline)}
    reversed_ids = {e.target_event_id for e in events if e.kind == "entry_reversed"}
    corrected: dict[str, Grade] = {}
    for e in replay_order(e for e in events if e.kind == "grade_corrected" and e.event_id not in reversed_ids):
        corrected[e.target_event_id] = e.grade
    out: list[Attempt] = []
    for e in events:
        if e.kind != "course_completed" or e.event_id in reversed_ids:
            continue
        grade = corrected.get(e.event_id, e.grade)
        course = catalog.course_or_latest(e.institution, e.course, e.occurred_on)
        out.append(Attempt(
            event_id=e.event_id, student_id=e.student_id, institution=e.institution, course=e.course,
            title=course.title if course is not None else None,
            credits=e.credits if e.credits is not None else (course.credits if course is not None else None),
            occurred_on=e.occurred_on, term=e.term or None, attempt=e.attempt, grade=str(grade), score=score_of(grade),
            passed=is_passing(grade, policy=policy), counted=e.event_id in counted,
            corrected=e.event_id in corrected))
    out.sort(key=lambda a: (a.occurred_on, a.course))
    return out


__all__ = ["Attempt", "course_attempts"]
