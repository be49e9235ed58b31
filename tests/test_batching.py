"""The same events give the same ledger however they are batched.

A random history is appended one event at a time (keeping what the ledger accepts); the accepted events are then
appended to a fresh ledger in random contiguous batches. Both ledgers must agree on every student's events,
transcript and balance, and both must verify. This pins the bulk path (checks folded through a batch, the context
cache kept between batches) to the one-by-one path.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

import credit_ledger as cl

import strategies as sx

CATALOG = cl.Catalog.sample()
STUDENTS = ("S1", "S2", "S3")


@st.composite
def histories(draw):
    """Candidate events in date order: enrolments, courses (regular, retake, make-up), suspensions, resumptions,
    reversals and grade corrections aimed at earlier events. Some will be refused; that is part of the test."""
    day = date(2025, 9, 1)
    events: list = []
    ids: list[tuple[str, str]] = []
    for student in STUDENTS:
        kw = draw(sx.enrolments())
        events.append(cl.Enrolled(event_id=f"{student}-enrol", student_id=student, occurred_on=day,
                                  institution=sx.HOME, **kw))
    for n in range(draw(st.integers(min_value=1, max_value=40))):
        day += timedelta(days=draw(sx.day_steps(60)))
        student = draw(st.sampled_from(STUDENTS))
        kind = draw(st.sampled_from(("course", "course", "course", "suspend", "resume", "reverse", "correct")))
        eid = f"{student}-{n}"
        if kind == "course":
            ev = cl.CourseCompleted(event_id=eid, student_id=student, occurred_on=day, institution=sx.HOME,
                                    course=draw(sx.few_course_codes()), grade=draw(sx.grades()),
                                    attempt=draw(sx.attempts()))
            ids.append((student, eid))
        elif kind == "suspend":
            ev = cl.Suspended(event_id=eid, student_id=student, occurred_on=day)
        elif kind == "resume":
            ev = cl.Resumed(event_id=eid, student_id=student, occurred_on=day)
        elif not ids:
            continue
        else:
            owner, target = draw(st.sampled_from(ids))
            if kind == "reverse":
                ev = cl.EntryReversed(event_id=eid, student_id=owner, occurred_on=day, target_event_id=target)
            else:
                ev = cl.GradeCorrected(event_id=eid, student_id=owner, occurred_on=day, target_event_id=target,
                                       grade=draw(sx.grades()))
        events.append(ev)
    return events


def _state(ledger: cl.Ledger) -> dict:
    return {s: (ledger.events(s), ledger.transcript(s), ledger.balance(s)) for s in STUDENTS}


@given(history=histories(), cuts=st.lists(st.integers(min_value=1, max_value=60), max_size=12))
def test_batching_does_not_change_the_ledger(history, cuts):
    with cl.Ledger.open() as one_by_one:
        one_by_one.load_catalog(CATALOG)
        accepted = []
        for event in history:
            try:
                one_by_one.append(event)
            except cl.RejectedEvent:
                continue
            accepted.append(event)
        with cl.Ledger.open() as batched:
            batched.load_catalog(CATALOG)
            bounds = sorted({c % (len(accepted) + 1) for c in cuts} | {0, len(accepted)})
            for start, stop in zip(bounds, bounds[1:]):
                batched.append_many(accepted[start:stop])
            assert batched.count() == one_by_one.count() == len(accepted)
            assert _state(batched) == _state(one_by_one)
            assert batched.verify().ok and one_by_one.verify().ok


@given(history=histories())
def test_a_refused_event_is_refused_in_a_batch_too(history):
    """An event refused after one-by-one appends is refused, with the same codes, after the same accepted events
    were appended in one batch (the state a batch leaves behind is the state appends one by one leave)."""
    with cl.Ledger.open() as ledger:
        ledger.load_catalog(CATALOG)
        accepted, refused = [], []
        for event in history:
            try:
                ledger.append(event)
                accepted.append(event)
            except cl.RejectedEvent as exc:
                refused.append((len(accepted), event, exc.codes))
        for position, event, codes in refused[:3]:
            with cl.Ledger.open() as fresh:
                fresh.load_catalog(CATALOG)
                fresh.append_many(accepted[:position])
                try:
                    fresh.append_many([event])
                except cl.RejectedEvent as exc:
                    assert exc.codes == codes
                else:
                    raise AssertionError(f"{event.event_id} was refused alone ({codes}) but accepted here")
                assert fresh.count() == position


def test_a_make_up_reversed_earlier_in_the_batch_frees_the_limit():
    """Found by the property above: a make-up, its reversal, then another make-up of the course, all on one day.
    One by one, the second make-up is recorded after the reversal and is accepted; in one batch, events are checked
    in replay order (courses before reversals within a day), yet the reversal recorded before it must count."""
    day = date(2025, 9, 1)
    enrol = cl.Enrolled(event_id="S1-enrol", student_id="S1", occurred_on=day, institution="HNJX",
                        program="CNC-SR-2025")
    first = cl.CourseCompleted(event_id="S1-m1", student_id="S1", occurred_on=day, institution="HNJX",
                               course="MECH101", grade=52, attempt="makeup")
    undo = cl.EntryReversed(event_id="S1-undo", student_id="S1", occurred_on=day, target_event_id="S1-m1")
    second = first.model_copy(update={"event_id": "S1-m2", "grade": cl.Grade.parse(71)})
    one_by_one, batched = cl.Ledger.open(), cl.Ledger.open()
    for led in (one_by_one, batched):
        led.load_catalog(CATALOG)
    for e in (enrol, first, undo, second):
        one_by_one.append(e)
    batched.append_many([enrol, first, undo, second])
    assert batched.transcript("S1") == one_by_one.transcript("S1")
    assert [r.event_id for r in batched.transcript("S1").records] == ["S1-m2"]
    # a make-up recorded before the reversal still meets the limit, in a batch as one by one
    third = first.model_copy(update={"event_id": "S1-m3"})
    fresh = cl.Ledger.open()
    fresh.load_catalog(CATALOG)
    with pytest.raises(cl.RejectedEvent) as refused:
        fresh.append_many([enrol, first, third, undo])
    assert refused.value.codes == ["makeup_limit"]
