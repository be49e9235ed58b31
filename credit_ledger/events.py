"""The events of a student's record: past-tense facts, appended and never changed (a correction is a new event).

Every event names the student and the day it happened (``occurred_on``, a ``RecordDate``); its ``kind`` says what
happened, and ``EVENT_ADAPTER`` reads any of them from plain data. Status changes (``STATUS_KINDS``: enrolled 入学,
suspended 休学, resumed 复学, program_changed 转专业, withdrawn 退学, graduated 毕业) are recorded in date order, and
within a day events replay by ``KIND_RANK``: enrolment first, then study, corrections, and last what ends study:

>>> e = EVENT_ADAPTER.validate_python({"kind": "course_completed", "event_id": "c1", "student_id": "S1",
...     "occurred_on": "2026-01-10", "institution": "HNJX", "course": "MECH101", "grade": "良"})
>>> type(e).__name__, e.grade.level, KIND_RANK["enrolled"] < KIND_RANK[e.kind] < KIND_RANK["withdrawn"]
('CourseCompleted', 'good', True)
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal, Union

from pydantic import AfterValidator, Field, TypeAdapter, model_validator

from .base import EARLIEST_DATE, LATEST_DATE, Code, Credits, Frozen, Grade, Identifier, Text
from .catalog import OutcomeType, Target

def _plausible(value: date) -> date:
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise ValueError(f"{value} is outside {EARLIEST_DATE} .. {LATEST_DATE}")
    return value


RecordDate = Annotated[date, AfterValidator(_plausible)]
"""A date in a record: 1950-01-01 .. 2199-12-31 (anything else is a typing error, not a fact)."""


class _EventBase(Frozen):
    event_id: Identifier
    """Caller-chosen and stable: re-appending the identical event is a no-op."""
    student_id: Identifier
    occurred_on: RecordDate
    recorded_by: Code | None = None
    """The recording institution; set by the ledger (``acting_as``, else the student's school)."""


class Enrolled(_EventBase):
    """入学: the student enrols in a program of an institution."""

    kind: Literal["enrolled"] = "enrolled"
    institution: Code
    program: Code
    mode: Literal["full_time", "part_time", "apprentice"] = "full_time"
    employer: Text | None = None
    entry_basis: Literal["college_graduate", "veteran", "titled_technician"] | None = None

    @model_validator(mode="after")
    def _employer(self) -> "Enrolled":
        if self.mode == "apprentice" and not (self.employer or "").strip():
            raise ValueError("an apprentice enrolment names the employer")
        return self


class Suspended(_EventBase):
    """休学: study pauses; no credits are earned until the student resumes."""

    kind: Literal["suspended"] = "suspended"
    reason: Text = ""


class Resumed(_EventBase):
    """复学: study resumes after a suspension."""

    kind: Literal["resumed"] = "resumed"
    reason: Text = ""


class Withdrawn(_EventBase):
    """退学: the student leaves the program."""

    kind: Literal["withdrawn"] = "withdrawn"
    reason: Text = ""


class ProgramChanged(_EventBase):
    """转专业: the student moves to another program of the same institution; credits stay."""

    kind: Literal["program_changed"] = "program_changed"
    program: Code
    reason: Text = ""


class CourseCompleted(_EventBase):
    """A course or module finished at the student's own school, with its grade."""

    kind: Literal["course_completed"] = "course_completed"
    institution: Code
    course: Code
    grade: Grade
    attempt: Literal["regular", "makeup", "retake"] = "regular"
    term: Text = ""
    credits: Credits | None = None
    """Default: the catalog's credits for the course version in force on ``occurred_on``."""


class CreditRecognized(_EventBase):
    """Credit earned elsewhere, recognised here under an agreement (学分互认)."""

    kind: Literal["credit_recognized"] = "credit_recognized"
    source_institution: Code
    source_course: Code
    source_credits: Credits
    source_grade: Grade
    source_date: RecordDate
    target: Target
    credits: Credits
    agreement_id: Code
    statement_id: Identifier | None = None
    source_student_id: Identifier | None = None
    """The student's id at the source school, as its statement names them (a statement, and a student of the source
    school, are received for one student of the ledger only)."""


class OutcomeConverted(_EventBase):
    """A learning outcome (certificate, award, work, apprenticeship, online course) converted into credits."""

    kind: Literal["outcome_converted"] = "outcome_converted"
    outcome_type: OutcomeType
    outcome_id: Identifier
    title: Text
    level: Code | None = None
    target: Target
    credits: Credits
    rule_id: Code
    valid_until: RecordDate | None = None


class OutcomeRevoked(_EventBase):
    """An outcome found invalid: every conversion from it stops counting."""

    kind: Literal["outcome_revoked"] = "outcome_revoked"
    outcome_type: OutcomeType
    outcome_id: Identifier
    reason: Text = ""


class EntryReversed(_EventBase):
    """A compensating event: the target event stops counting from ``occurred_on``."""

    kind: Literal["entry_reversed"] = "entry_reversed"
    target_event_id: Identifier
    reason: Text = ""


class GradeCorrected(_EventBase):
    """The grade of a course completion is corrected from ``occurred_on``."""

    kind: Literal["grade_corrected"] = "grade_corrected"
    target_event_id: Identifier
    grade: Grade
    reason: Text = ""


class ExceptionGranted(_EventBase):
    """A registrar's decision, as data: waive a requirement, or substitute a course, by requirement id."""

    kind: Literal["exception_granted"] = "exception_granted"
    program: Code | None = None
    requirement_id: Code
    action: Literal["waive", "substitute"]
    course: Code | None = None
    """For ``substitute``: the course that counts instead."""
    replaces: Code | None = None
    """For ``substitute``: the required course it stands for."""
    reason: Text = ""

    @model_validator(mode="after")
    def _substitute(self) -> "ExceptionGranted":
        if self.action == "substitute" and (self.course is None or self.replaces is None):
            raise ValueError("a substitution names the course that counts and the course it replaces")
        if self.action == "waive" and (self.course is not None or self.replaces is not None):
            raise ValueError("a waiver names no course")
        return self


class Graduated(_EventBase):
    """The award at the end of study: 毕业 (graduation), 结业 (completion) or 肄业 (partial study)."""

    kind: Literal["graduated"] = "graduated"
    award: Literal["graduation", "completion", "partial_study"]
    program: Code | None = None
    part_time: bool = False


Event = Annotated[
    Union[
        Enrolled, Suspended, Resumed, Withdrawn, ProgramChanged, CourseCompleted, CreditRecognized,
        OutcomeConverted, OutcomeRevoked, EntryReversed, GradeCorrected, ExceptionGranted, Graduated,
    ],
    Field(discriminator="kind"),
]
"""Any event; ``EVENT_ADAPTER.validate_python(data)`` reads one from plain data."""

EVENT_ADAPTER: TypeAdapter[Any] = TypeAdapter(Event)

EVENT_CLASSES: dict[str, type[_EventBase]] = {
    cls.model_fields["kind"].default: cls
    for cls in (Enrolled, Suspended, Resumed, Withdrawn, ProgramChanged, CourseCompleted, CreditRecognized,
                OutcomeConverted, OutcomeRevoked, EntryReversed, GradeCorrected, ExceptionGranted, Graduated)
}

STATUS_KINDS = frozenset({"enrolled", "suspended", "resumed", "withdrawn", "program_changed", "graduated"})
"""Kinds that change a student's status; they are recorded in date order."""

KIND_RANK = {
    "enrolled": 0, "resumed": 1, "program_changed": 2, "course_completed": 3, "credit_recognized": 4,
    "outcome_converted": 5, "grade_corrected": 6, "outcome_revoked": 7, "entry_reversed": 8,
    "exception_granted": 9, "graduated": 10, "suspended": 11, "withdrawn": 12,
}
"""Replay order within a day: enrolment first, then study, corrections, and last what ends study that day."""
