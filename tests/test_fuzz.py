"""Bad input, nothing lost: malformed events thrown at ``append`` and ``append_many``, on both engines.

Each event is made malformed on purpose (wrong types, unknown students and courses, dates out of order or out of
range, credits negative or absurd, oversized strings, unicode oddities, a taken id with other content, an unknown
kind, not a mapping at all), sometimes among good events in one batch. Every attempt must raise a
``CreditLedgerError`` subclass or pydantic's ``ValidationError``, and leave the row count, the head and ``verify()``
as they were. A last test writes ids full of SQL and placeholder characters, and reads them back intact.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pydantic
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import credit_ledger as cl

import strategies as sx

ENROLLED = date(2025, 9, 1)
COURSE_DAY = date(2026, 1, 10)
TAKEN = {"S1-enrol": "enrolled", "S1-c1": "course_completed"}
"""Ids already in the fuzzed ledger, and their kinds."""

ODD_TEXT = st.sampled_from([
    "\u202eevil", "e\u0301", "\ufeffbom", "😀", "a\u200bb", "Ω≈ç√", "'; DROP TABLE events; --", "%s %(x)s %% ?",
    "学生\u3000甲", "\\x00", "null", '"recorded_by":null',
])
"""Strings that are valid but odd: they may ride along in any field of a malformed event."""

BAD_STRINGS = st.one_of(
    st.sampled_from(["", " ", " lead", "trail ", "nul\x00", "tab\there", "line\nbreak", "\ud800", "x\udfff",
                     "\x7f", "bell\x07", "\u2028"]),
    st.text(min_size=129, max_size=600),
    st.text(st.characters(codec="utf-8"), min_size=1, max_size=5).map(lambda t: "\x1b" + t),
)
"""Strings no id accepts: empty, surrounding space, control characters, lone surrogates, over 128 characters."""

NOT_STRINGS = st.one_of(st.integers(), st.floats(allow_nan=True), st.booleans(), st.none(),
                        st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(),
                                                                             max_size=2))
BAD_CREDITS = st.one_of(
    st.decimals(max_value=Decimal("-0.01"), allow_nan=False, allow_infinity=False, places=2),
    st.decimals(min_value=Decimal("1000.01"), allow_nan=False, allow_infinity=False),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", "0.001", "abc", "", [], "1,5"]),  # None: the default
)
STRING_FIELDS = ("event_id", "student_id", "institution", "course")


def good_course(event_id: str, day: date = COURSE_DAY, course: str = "MECH102", grade: Any = 75) -> dict:
    return {"kind": "course_completed", "event_id": event_id, "student_id": "S1", "occurred_on": day.isoformat(),
            "institution": "HNJX", "course": course, "grade": grade}


def base_events(event_id: str) -> st.SearchStrategy[dict]:
    """Good events for S1 (enrolled 2025-09-01, a course on 2026-01-10), to be broken."""
    day = (COURSE_DAY + timedelta(days=5)).isoformat()
    return st.sampled_from([
        good_course(event_id),
        {"kind": "suspended", "event_id": event_id, "student_id": "S1", "occurred_on": day, "reason": "ill"},
        {"kind": "outcome_converted", "event_id": event_id, "student_id": "S1", "occurred_on": day,
         "outcome_type": "certificate", "outcome_id": "C-1", "title": "数控车工", "level": "foundation",
         "target": {"course": "PRA305"}, "credits": "4", "rule_id": "CERT-CNC-L5"},
        {"kind": "credit_recognized", "event_id": event_id, "student_id": "S1", "occurred_on": day,
         "source_institution": "XTJX", "source_course": "XT-CNC1", "source_credits": "6", "source_grade": 82,
         "source_date": "2025-06-30", "target": {"course": "CNC201"}, "credits": "6",
         "agreement_id": "AGR-HN-MFG-2024"},
    ])


@st.composite
def malformed(draw: st.DrawFn) -> tuple[str, Any]:
    """``(what is wrong, the event as plain data)``; the data never makes a valid event for the fuzzed ledger."""
    event_id = "F-" + draw(sx.identifiers(max_size=30))
    event = dict(draw(base_events(event_id)))
    for key in ("reason", "title"):
        if key in event and draw(st.booleans()):
            event[key] = draw(ODD_TEXT)
    what = draw(st.sampled_from(["wrong_type", "unknown_student", "unknown_course", "before_enrolment",
                                 "out_of_order", "date_out_of_range", "bad_credits", "oversized", "bad_string",
                                 "taken_id", "unknown_kind", "missing_field", "extra_field", "not_a_mapping"]))
    if what == "wrong_type":
        event[draw(st.sampled_from([f for f in STRING_FIELDS if f in event]))] = draw(NOT_STRINGS)
    elif what == "unknown_student":
        event["student_id"] = "GHOST-" + draw(st.one_of(sx.identifiers(max_size=20), ODD_TEXT))
    elif what == "unknown_course":
        event = good_course(event_id, course="NO-" + draw(st.text("ABCXYZ0123-", min_size=1, max_size=8)))
    elif what == "before_enrolment":
        event["occurred_on"] = draw(st.dates(date(1950, 1, 1), ENROLLED - timedelta(days=1))).isoformat()
        if "source_date" in event:
            event["source_date"] = "1950-01-01"
    elif what == "out_of_order":  # a status change dated before the student's latest record
        event = {"kind": draw(st.sampled_from(["suspended", "withdrawn"])), "event_id": event_id, "student_id": "S1",
                 "occurred_on": draw(st.dates(ENROLLED, COURSE_DAY - timedelta(days=1))).isoformat()}
    elif what == "date_out_of_range":
        event["occurred_on"] = draw(st.one_of(st.dates(max_value=date(1949, 12, 31)),
                                              st.dates(min_value=date(2200, 1, 1)),
                                              st.sampled_from(["2026-02-30", "2026-13-01", "yesterday", ""])))
        if not isinstance(event["occurred_on"], str):
            event["occurred_on"] = event["occurred_on"].isoformat()
    elif what == "bad_credits":
        if "credits" not in event:
            event = good_course(event_id)
        event["credits"] = draw(BAD_CREDITS)
    elif what == "oversized":
        field = draw(st.sampled_from(["event_id", "student_id", "reason" if "reason" in event else "event_id"]))
        event[field] = draw(st.text(min_size=1, max_size=3)) * 600
        if not event[field].strip():
            event[field] = "x" * 600
    elif what == "bad_string":
        event[draw(st.sampled_from([f for f in STRING_FIELDS if f in event]))] = draw(BAD_STRINGS)
    elif what == "taken_id":  # an id in the ledger, with other content
        taken = draw(st.sampled_from(sorted(TAKEN)))
        event = good_course(taken, grade=draw(st.integers(0, 59)))
    elif what == "unknown_kind":
        event["kind"] = draw(st.one_of(st.text(max_size=20).filter(lambda k: k not in cl.models.EVENT_CLASSES),
                                       NOT_STRINGS))
    elif what == "missing_field":
        event.pop(draw(st.sampled_from(["event_id", "student_id", "occurred_on", "kind"])))
    elif what == "extra_field":
        event[draw(st.sampled_from(["seq", "event_hash", "recorded_at", "prev_hash", "zz"]))] = draw(ODD_TEXT)
    else:
        return what, draw(st.one_of(NOT_STRINGS, st.text(max_size=10), st.lists(ODD_TEXT, max_size=2)))
    return what, event


@pytest.fixture
def fuzzed(ledger: cl.Ledger) -> cl.Ledger:
    ledger.append_many([cl.Enrolled(event_id="S1-enrol", student_id="S1", occurred_on=ENROLLED, institution="HNJX",
                                    program="CNC-SR-2025"),
                        cl.EVENT_ADAPTER.validate_python(good_course("S1-c1", course="MECH101", grade=80))])
    return ledger


def _state(ledger: cl.Ledger) -> tuple:
    report = ledger.verify()
    assert report.ok, report
    return ledger.count(), ledger.head(), report.checked


def _refused(call) -> BaseException:
    with pytest.raises((cl.CreditLedgerError, pydantic.ValidationError)) as info:
        call()
    return info.value


FUZZ = settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.filter_too_much])


@FUZZ
@given(bad=malformed())
def test_append_refuses_malformed_events_and_changes_nothing(fuzzed, bad):
    before = _state(fuzzed)
    _refused(lambda: fuzzed.append(bad[1]))
    assert _state(fuzzed) == before


@FUZZ
@given(bad=st.lists(malformed(), min_size=1, max_size=3), good=st.integers(0, 3), data=st.data())
def test_append_many_refuses_a_batch_with_any_malformed_event_and_changes_nothing(fuzzed, bad, good, data):
    before = _state(fuzzed)
    fresh = [good_course(f"G-{data.draw(sx.identifiers(max_size=20))}-{i}") for i in range(good)]
    batch = fresh + [event for _, event in bad]
    batch = data.draw(st.permutations(batch))
    _refused(lambda: fuzzed.append_many(batch))
    assert _state(fuzzed) == before


@pytest.mark.parametrize("odd", ["'; DROP TABLE events; --", "%s", "%(x)s", "%%", "?", ":name", "$1", "\\'",
                                 'a"b', "学生'乙", "\u202eevil"])
def test_ids_full_of_sql_are_data(ledger, odd):
    """SQL is parameterised: quotes, placeholders and percent signs in ids are stored and read back as written."""
    student = f"S{odd}"
    ledger.append(cl.Enrolled(event_id=f"{odd}-enrol", student_id=student, occurred_on=ENROLLED, institution="HNJX",
                              program="CNC-SR-2025"))
    ledger.append(cl.CourseCompleted(event_id=f"{odd}-c", student_id=student, occurred_on=COURSE_DAY,
                                     institution="HNJX", course="MECH101", grade=80, term=odd))
    assert [e.event_id for e in ledger.events(student)] == [f"{odd}-enrol", f"{odd}-c"]
    assert ledger.events(student)[-1].term == odd
    assert ledger.students() == [student] and ledger.count() == 2 and ledger.verify().ok
    ledger.reverse(f"{odd}-c", reason=odd, occurred_on=COURSE_DAY)
    assert ledger.balance(student).total == 0
