"""Hypothesis strategies shared by the tests: ids, grades on the three scales, courses, programs and dates.

The values are plain (strings, Decimals, dates) so that a test can compute what it expects without calling the
library's own rules. Course codes come from the sample catalog's HNJX courses (``Catalog.sample()``).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import strategies as st

# -- ids --------------------------------------------------------------------------------------------------------

STUDENT_POOL = ("S1", "S2", "学生-3")
"""A small pool of student ids, so that rules keep meeting the same students."""

GHOST_STUDENT = "S-ghost"
"""A student id that no rule ever enrols."""

_ID_ALPHABET = st.characters(min_codepoint=0x21, max_codepoint=0x7E) | st.sampled_from("学生张王李赵甲乙丙")


def student_ids() -> st.SearchStrategy[str]:
    """A student id from the small pool (use ``identifiers()`` for arbitrary ids)."""
    return st.sampled_from(STUDENT_POOL)


def identifiers(max_size: int = 40) -> st.SearchStrategy[str]:
    """Any valid event or student id: printable, no surrounding space (1-128 characters allowed)."""
    inner = st.text(_ID_ALPHABET | st.just(" "), max_size=max(0, max_size - 2))
    return st.builds(lambda a, mid, b: a + mid.strip() + b if mid.strip() else a + b,
                     st.text(_ID_ALPHABET, min_size=1, max_size=1), inner,
                     st.text(_ID_ALPHABET, max_size=1))


# -- grades -----------------------------------------------------------------------------------------------------

FIVE_LEVEL_WORDS = ("优", "良", "中", "及格", "不及格")
PASS_FAIL_WORDS = ("合格", "不合格")

# scores near the pass mark are the interesting ones; keep them likely
_NEAR_PASS = [Decimal(s) for s in ("59.9", "60", "60.0", "60.1", "59", "61", "0", "100")]


def percent_scores() -> st.SearchStrategy[Decimal]:
    """A 百分制 score 0-100 with at most one decimal place."""
    tenths = st.integers(min_value=0, max_value=1000).map(lambda n: Decimal(n) / 10)
    whole = st.integers(min_value=0, max_value=100).map(Decimal)
    return st.one_of(st.sampled_from(_NEAR_PASS), whole, tenths)


def five_level_words() -> st.SearchStrategy[str]:
    """A 五级制 word: 优/良/中/及格/不及格."""
    return st.sampled_from(FIVE_LEVEL_WORDS)


def pass_fail_words() -> st.SearchStrategy[str]:
    """A 合格制 word: 合格/不合格."""
    return st.sampled_from(PASS_FAIL_WORDS)


def grades() -> st.SearchStrategy[Decimal | str]:
    """A grade as a caller writes it: a score (Decimal) or a word, on any of the three scales (mostly percent)."""
    return st.one_of(percent_scores(), percent_scores(), five_level_words(), pass_fail_words())


# -- courses and programs ---------------------------------------------------------------------------------------

HOME = "HNJX"

CNC_COURSES = ("PUB101", "PUB107", "MECH101", "CNC201", "CNC203", "PRA301", "EL101", "EL103", "ONL102")
"""HNJX courses of the full-time CNC program's tree (CNC203 has a 2026-09-01 version with more credits)."""

MECH_PT_COURSES = ("PUB101", "MT101", "MT102", "ELEC101", "MT301")
"""HNJX courses of the part-time MECH program's tree."""

COURSES = tuple(dict.fromkeys(CNC_COURSES + MECH_PT_COURSES))
"""HNJX course codes a program of the sample catalog can use."""

UNKNOWN_COURSES = ("NOPE101", "MECH999", "XT-CNC1")
"""Codes that are not HNJX courses (XT-CNC1 is a partner school's)."""

PROGRAMS = (("CNC-SR-2025", "full_time"), ("MECH-PT-2024", "part_time"))
"""The sample catalog's HNJX programs with the one mode each admits."""

EMPLOYERS = ("湘江重工装备有限公司", "长沙某机床厂", "Acme Tooling Ltd.")


def course_codes() -> st.SearchStrategy[str]:
    """An HNJX course code of the sample catalog."""
    return st.sampled_from(COURSES)


FEW_COURSES = ("MECH101", "CNC203", "PRA301", "ONL102")
"""A handful of courses (core, practice, online; CNC203 changes credits on 2026-09-01), so attempts meet."""


def few_course_codes() -> st.SearchStrategy[str]:
    """Mostly one of a handful of courses (so that retakes, make-ups and best attempts meet), sometimes any."""
    return st.one_of(st.sampled_from(FEW_COURSES), st.sampled_from(FEW_COURSES), course_codes())


def unknown_course_codes() -> st.SearchStrategy[str]:
    """A course code HNJX does not have."""
    return st.sampled_from(UNKNOWN_COURSES)


def attempts() -> st.SearchStrategy[str]:
    """The kind of a course attempt."""
    return st.sampled_from(("regular", "regular", "retake", "makeup"))


def enrolments() -> st.SearchStrategy[dict]:
    """Keyword arguments of an HNJX enrolment: a program, its mode and (part-time) an employer."""
    full = st.fixed_dictionaries({"program": st.just("CNC-SR-2025"), "mode": st.just("full_time")})
    part = st.fixed_dictionaries({"program": st.just("MECH-PT-2024"), "mode": st.just("part_time"),
                                  "employer": st.sampled_from(EMPLOYERS)})
    return st.one_of(full, part)


def reasons() -> st.SearchStrategy[str]:
    """A short free-text reason."""
    return st.sampled_from(("录入错误", "成绩复核", "entered twice", "", "病假"))


# -- dates ------------------------------------------------------------------------------------------------------

START = date(2025, 8, 20)
"""Where the stateful machine's clock starts (the CNC203 revision of 2026-09-01 is a year later)."""


def day_steps(max_days: int = 45) -> st.SearchStrategy[int]:
    """How many days a clock moves on: often 0 (same day), mostly a few days or weeks."""
    return st.one_of(st.just(0), st.integers(min_value=1, max_value=max_days))


def dates(start: date = date(2023, 1, 1), end: date = date(2029, 12, 31)) -> st.SearchStrategy[date]:
    """A date between ``start`` and ``end``."""
    return st.integers(min_value=0, max_value=(end - start).days).map(lambda n: start + timedelta(days=n))


# -- credit records (for the caps of transfer.apply_caps) ---------------------------------------------------------

OUTCOME_TYPES = ("certificate", "competition", "work_experience", "apprenticeship", "online_course")
CAP_COURSES = ("CNC201", "CNC202", "MECH101", "PRA305", None)
"""Target courses of external records (``None``: category credit), few so that overlaps meet."""


def credit_amounts(max_value: int = 40) -> st.SearchStrategy[Decimal]:
    """A number of credits, 0-``max_value`` in halves (0 included: it must not break the caps)."""
    return st.integers(min_value=0, max_value=2 * max_value).map(lambda n: Decimal(n) / 2)


@st.composite
def credit_records(draw: st.DrawFn, index: int) -> dict:
    """Keyword arguments of a ``CreditRecord``: home, recognised or converted (of any outcome type, with outcome
    ids drawn from a small pool so that the same outcome meets itself), on a few dates. ``index`` makes the
    event id unique."""
    origin = draw(st.sampled_from(("home", "recognized", "converted", "converted")))
    course = draw(st.sampled_from(CAP_COURSES))
    data = dict(course=course, institution=HOME, title=f"r{index}", category=draw(st.sampled_from(
        ("core", "practice", "elective"))), credits=draw(credit_amounts()), origin=origin,
        event_id=f"ev-{index:03d}", occurred_on=draw(dates(date(2025, 9, 1), date(2025, 9, 20))),
        mode=draw(st.sampled_from(("classroom", "classroom", "online"))))
    if origin == "converted":
        data.update(outcome_type=draw(st.sampled_from(OUTCOME_TYPES)),
                    outcome_id=draw(st.sampled_from(("O-1", "O-2", "O-3", "O-4"))),
                    rule=draw(st.sampled_from(("R-1", "R-2"))))
    elif origin == "recognized":
        data.update(source_institution="XTJX", rule="AGR-1")
    return data


def record_lists(max_size: int = 12) -> st.SearchStrategy[list[dict]]:
    """A list of ``credit_records`` keyword arguments with unique event ids."""
    return st.integers(min_value=0, max_value=max_size).flatmap(
        lambda n: st.tuples(*[credit_records(i) for i in range(n)]).map(list))


def cap_policies() -> st.SearchStrategy[dict]:
    """Keyword arguments of a ``Policy``'s caps: ratios, an optional home share and the certificate cap."""
    ratio = st.integers(min_value=0, max_value=20).map(lambda n: Decimal(n) / 20)
    return st.fixed_dictionaries({
        "max_external_ratio": ratio, "max_online_ratio": ratio,
        "min_home_ratio": st.none() | ratio, "max_certificate_credits": credit_amounts(12)})


# -- events of every kind (any valid event, for round trips of the stored JSON) ---------------------------------

_CODES = st.sampled_from(("HNJX", "XTJX", "CNC201", "MECH101", "AGR-1", "R-1", "李-7", "a" * 64))
_TEXTS = st.one_of(st.sampled_from(("", "录入错误", "line\nbreak\ttab", "x" * 500)),
                   st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=20))


def _stored_grades() -> st.SearchStrategy[dict]:
    """A grade as a model reads it (any scale; scores with up to two decimal places, zero signed or not)."""
    score = st.one_of(percent_scores(), st.integers(min_value=0, max_value=10000).map(lambda n: Decimal(n) / 100),
                      st.just(Decimal("-0")), st.just(Decimal("1E+1")))
    return st.one_of(st.builds(lambda s: {"scale": "percent", "score": s}, score),
                     st.builds(lambda w: {"scale": "five_level", "level": w},
                               st.sampled_from(("excellent", "good", "average", "pass", "fail"))),
                     st.builds(lambda w: {"scale": "pass_fail", "level": w}, st.sampled_from(("pass", "fail"))))


def _stored_credits() -> st.SearchStrategy[Decimal]:
    return st.one_of(credit_amounts(), st.integers(min_value=0, max_value=100000).map(lambda n: Decimal(n) / 100))


def _targets() -> st.SearchStrategy[dict]:
    return st.one_of(st.builds(lambda c: {"course": c}, _CODES), st.builds(lambda c: {"category": c}, _CODES))


_EVENT_FIELDS: dict[str, dict[str, st.SearchStrategy]] = {
    "enrolled": {"institution": _CODES, "program": _CODES, "mode": st.sampled_from(("full_time", "part_time")),
                 "employer": st.none() | st.sampled_from(EMPLOYERS),
                 "entry_basis": st.none() | st.sampled_from(("college_graduate", "veteran", "titled_technician"))},
    "suspended": {"reason": _TEXTS},
    "resumed": {"reason": _TEXTS},
    "withdrawn": {"reason": _TEXTS},
    "program_changed": {"program": _CODES, "reason": _TEXTS},
    "course_completed": {"institution": _CODES, "course": _CODES, "grade": _stored_grades(),
                         "attempt": attempts(), "term": _TEXTS, "credits": st.none() | _stored_credits()},
    "credit_recognized": {"source_institution": _CODES, "source_course": _CODES, "source_credits": _stored_credits(),
                          "source_grade": _stored_grades(), "source_date": dates(), "target": _targets(),
                          "credits": _stored_credits(), "agreement_id": _CODES,
                          "statement_id": st.none() | identifiers(), "source_student_id": st.none() | identifiers()},
    "outcome_converted": {"outcome_type": st.sampled_from(OUTCOME_TYPES), "outcome_id": identifiers(),
                          "title": _TEXTS, "level": st.none() | _CODES, "target": _targets(),
                          "credits": _stored_credits(), "rule_id": _CODES, "valid_until": st.none() | dates()},
    "outcome_revoked": {"outcome_type": st.sampled_from(OUTCOME_TYPES), "outcome_id": identifiers(),
                        "reason": _TEXTS},
    "entry_reversed": {"target_event_id": identifiers(), "reason": _TEXTS},
    "grade_corrected": {"target_event_id": identifiers(), "grade": _stored_grades(), "reason": _TEXTS},
    "exception_granted": {"program": st.none() | _CODES, "requirement_id": _CODES, "reason": _TEXTS},
    "graduated": {"award": st.sampled_from(("graduation", "completion", "partial_study")),
                  "program": st.none() | _CODES, "part_time": st.booleans()},
}


_DEFAULTED = {
    "enrolled": {"mode", "employer", "entry_basis"}, "suspended": {"reason"}, "resumed": {"reason"},
    "withdrawn": {"reason"}, "program_changed": {"reason"}, "course_completed": {"attempt", "term", "credits"},
    "credit_recognized": {"statement_id", "source_student_id"}, "outcome_converted": {"level", "valid_until"},
    "outcome_revoked": {"reason"}, "entry_reversed": {"reason"}, "grade_corrected": {"reason"},
    "exception_granted": {"program", "reason"}, "graduated": {"program", "part_time"},
}
"""The fields of each kind that have a default (left out now and then)."""


@st.composite
def events_of_kind(draw: st.DrawFn, kind: str) -> dict:
    """An event of ``kind`` as plain data (validate it with ``EVENT_ADAPTER``): its common fields (``recorded_by``
    set or not) and its own, optional ones given or left to their defaults."""
    data = {"kind": kind, "event_id": draw(identifiers()), "student_id": draw(identifiers()),
            "occurred_on": draw(dates(date(1950, 1, 1), date(2199, 12, 31)))}
    if draw(st.booleans()):
        data["recorded_by"] = draw(_CODES)
    for name, strategy in _EVENT_FIELDS[kind].items():
        if name not in _DEFAULTED.get(kind, ()) or draw(st.integers(0, 3)):  # an optional one mostly given
            data[name] = draw(strategy)
    if kind == "enrolled" and draw(st.booleans()):
        data.update(mode="apprentice", employer=draw(st.sampled_from(EMPLOYERS)))
    if kind == "exception_granted":
        data.update(draw(st.one_of(st.just({"action": "waive"}),
                                   st.builds(lambda c, r: {"action": "substitute", "course": c, "replaces": r},
                                             _CODES, _CODES))))
    return data


EVENT_KINDS = tuple(_EVENT_FIELDS)
"""Every event kind the strategies make (a test checks it against the library's kinds)."""
