"""Pure types of credit_ledger: the catalog, grades, the events and the results.

Everything here is a frozen pydantic model: a change makes a new value. Credits are ``Decimal`` with two decimal
places, never float. The catalog (institutions, alliances 技工教育联盟, courses, programs with their requirement trees,
recognition agreements, conversion rules) is versioned by ``valid_from``: a record made on 2025-03-01 is judged by
the version of a course or program in force on that day.

>>> c = Course(institution="HNJX", code="MECH101", title="机械制图", hours=64, category="core")
>>> c.credits
Decimal('4.00')
>>> Grade.parse("良").level, Grade.parse(85).score
('good', Decimal('85'))

The public face of the types (schools' code imports this module): each lives in the module of its concern, and is
re-exported here.

- ``base``: ``Frozen`` (with ``trusted``), the scalars (``Code``, ``Credits``, ...), ``Grade`` and ``Scale``,
  ``Policy``;
- ``programs`` and ``catalog``: the catalog's entries, the requirement tree and its one walk, ``Catalog``,
  ``catalog_problems``, ``program_in_force``;
- ``events``: the event classes, ``Event``, ``EVENT_ADAPTER``, ``STATUS_KINDS``, ``KIND_RANK``;
- ``records``: ``Issue``, ``Receipt(s)``, ``CreditRecord``, ``Transcript``, ``Balance``, ``VerifyReport``,
  ``Excluded``, ``CapResult``.
"""

from __future__ import annotations

from .base import (
    CENT,
    DEFAULT_POLICY,
    EARLIEST_DATE,
    FIVE_LEVEL_CHINESE,
    FIVE_LEVEL_WORDS,
    FIVE_LEVELS,
    LATEST_DATE,
    PASS_FAIL_WORDS,
    Code,
    Credits,
    Frozen,
    Grade,
    Hours,
    Identifier,
    Policy,
    Ratio,
    Scale,
    Text,
    Versioned,
    Years,
    quantize_credits,
)
from .catalog import (
    ENTRY_KEYS,
    Agreement,
    Alliance,
    Catalog,
    ConversionRule,
    Course,
    Equivalence,
    EquivalenceSide,
    Institution,
    Membership,
    OutcomeType,
    RuleTarget,
    Target,
    catalog_problems,
    in_force_from,
    program_in_force,
)
from .events import (
    EVENT_ADAPTER,
    EVENT_CLASSES,
    KIND_RANK,
    STATUS_KINDS,
    CourseCompleted,
    CreditRecognized,
    Enrolled,
    EntryReversed,
    Event,
    ExceptionGranted,
    GradeCorrected,
    Graduated,
    OutcomeConverted,
    OutcomeRevoked,
    ProgramChanged,
    RecordDate,
    Resumed,
    Suspended,
    Withdrawn,
)
from .programs import (
    AllRequirement,
    CoursesRequirement,
    CreditsRequirement,
    Filter,
    HoursRequirement,
    PickRequirement,
    Program,
    Requirement,
    requirement_children,
    walk_requirements,
)
from .records import (
    Balance,
    CapResult,
    CreditRecord,
    Excluded,
    Issue,
    Receipt,
    Receipts,
    Transcript,
    VerifyReport,
)

__all__ = [
    # base
    "CENT", "DEFAULT_POLICY", "EARLIEST_DATE", "FIVE_LEVELS", "FIVE_LEVEL_CHINESE", "FIVE_LEVEL_WORDS", "LATEST_DATE",
    "PASS_FAIL_WORDS", "Code", "Credits", "Frozen", "Grade", "Hours", "Identifier", "Policy", "Ratio", "Scale", "Text",
    "Versioned", "Years", "quantize_credits",
    # programs and catalog
    "ENTRY_KEYS", "Agreement", "AllRequirement", "Alliance", "Catalog", "ConversionRule", "Course",
    "CoursesRequirement", "CreditsRequirement", "Equivalence", "EquivalenceSide", "Filter", "HoursRequirement",
    "Institution", "Membership", "OutcomeType", "PickRequirement", "Program", "Requirement", "RuleTarget", "Target",
    "catalog_problems", "in_force_from", "program_in_force", "requirement_children", "walk_requirements",
    # events
    "EVENT_ADAPTER", "EVENT_CLASSES", "KIND_RANK", "STATUS_KINDS", "CourseCompleted", "CreditRecognized", "Enrolled",
    "EntryReversed", "Event", "ExceptionGranted", "GradeCorrected", "Graduated", "OutcomeConverted", "OutcomeRevoked",
    "ProgramChanged", "RecordDate", "Resumed", "Suspended", "Withdrawn",
    # records
    "Balance", "CapResult", "CreditRecord", "Excluded", "Issue", "Receipt", "Receipts", "Transcript", "VerifyReport",
]
