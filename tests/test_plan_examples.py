"""The study planner's examples from issue 15, through ``Ledger.plan`` on the sample catalog (SQLite and
PostgreSQL): a worker at 120 hours a term finishing in five terms after a one-year suspension, and a term sooner
with a 中级 certificate converted first; a full-time student who can graduate a year early, and one who cannot
because a course runs only in autumn. Each plan, appended as passed courses, makes the audit eligible."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

import credit_ledger as cl

HNJX = "HNJX"
WORKER_DONE = ("PUB101", "PUB102", "PUB103", "PUB104", "MT101", "MT103", "MT202", "PRA301", "PRA305", "EL101",
               "EL102", "MECH101", "MECH102")
FULL_TIME_DONE = ("PUB101", "PUB102", "PUB103", "PUB104", "PUB105", "PUB106", "PUB107", "PUB108", "MECH101",
                  "MECH102", "ELEC101", "EL101", "EL102", "PRA301", "PRA305", "PRA302", "PRA303", "CNC203", "MT101",
                  "MT102")


def passed(sid, codes, first=date(2025, 1, 5)):
    return [cl.CourseCompleted(event_id=f"{sid}-{c}", student_id=sid, occurred_on=date.fromordinal(
        first.toordinal() + i), institution=HNJX, course=c, grade=80) for i, c in enumerate(codes)]


def worker(ledger, sid="W1"):
    ledger.append_many([
        cl.Enrolled(event_id=f"{sid}-enrol", student_id=sid, occurred_on=date(2024, 9, 1), institution=HNJX,
                    program="MECH-PT-2024", mode="part_time"),
        *passed(sid, WORKER_DONE),
        cl.Suspended(event_id=f"{sid}-suspend", student_id=sid, occurred_on=date(2025, 9, 1), reason="工作调动"),
        cl.Resumed(event_id=f"{sid}-resume", student_id=sid, occurred_on=date(2026, 8, 20), reason="复学")])
    return sid


def full_time(ledger, sid, done):
    ledger.append_many([cl.Enrolled(event_id=f"{sid}-enrol", student_id=sid, occurred_on=date(2024, 9, 1),
                                    institution=HNJX, program="CNC-SR-2025", mode="full_time"), *passed(sid, done)])
    return sid


def check_and_follow(ledger, sid, plan, hours):
    """Every term within its hours and offered, prerequisites earlier; then the plan appended as passed courses at
    each term's end makes the audit on its graduation date eligible."""
    catalog = ledger.catalog
    when = {c: i for i, t in enumerate(plan.terms) for c in t.courses}
    done = {r.course for r in ledger.transcript(sid).records}
    for i, term in enumerate(plan.terms):
        assert term.hours <= hours
        for code in term.courses:
            course = catalog.course(HNJX, code, term.start)
            assert not course.offered or term.name in course.offered
            assert all(p in done or when.get(p, i) < i for p in course.prerequisites)
    ledger.append_many([cl.CourseCompleted(event_id=f"{sid}-plan-{c}", student_id=sid, occurred_on=t.end,
                                           institution=HNJX, course=c, grade=75)
                        for t in plan.terms for c in t.courses])
    report = ledger.audit(sid, as_of=plan.graduation_date)
    assert report.eligible, report.issues


def test_worker_finishes_in_five_terms_after_a_suspension(ledger):
    sid = worker(ledger)
    plan = ledger.plan(sid, start=date(2026, 9, 1), hours_per_term=120)
    assert plan.feasible and len(plan.terms) == 5 and plan.issues == ()
    assert plan.terms[0].start == date(2026, 9, 1)
    assert plan.deadline == date(2030, 9, 1) and plan.graduation_date <= plan.deadline
    assert plan.min_hours_per_term is not None and plan.min_hours_per_term <= 120
    check_and_follow(ledger, sid, plan, 120)


def test_a_converted_intermediate_certificate_saves_a_term(ledger):
    sid = worker(ledger)
    before = ledger.plan(sid, start=date(2026, 9, 1), hours_per_term=120)
    ledger.convert(sid, [cl.Outcome(type="certificate", outcome_id="ELEC-2026-001", title="电工", level="intermediate",
                                    issued_on=date(2026, 6, 1))], as_of=date(2026, 8, 25))
    after = ledger.plan(sid, start=date(2026, 9, 1), hours_per_term=120)
    assert len(after.terms) == len(before.terms) - 1 == 4
    assert after.graduation_date < before.graduation_date
    assert not {"ELEC101", "MT102"} & set(after.courses())
    check_and_follow(ledger, sid, after, 120)


def test_a_skipped_term_has_no_course_and_still_passes(ledger):
    sid = worker(ledger)
    plan = ledger.plan(sid, start=date(2026, 9, 1), hours_per_term=120, skip_terms=[date(2027, 4, 1)])
    spring = [t for t in plan.terms if t.start == date(2027, 3, 1)]
    assert spring and spring[0].skipped and spring[0].courses == ()
    assert len(plan.terms) == 6
    check_and_follow(ledger, sid, plan, 120)


def test_full_time_student_graduates_a_year_early(ledger):
    sid = full_time(ledger, "F1", (*FULL_TIME_DONE, "CNC201"))
    plan = ledger.plan(sid, start=date(2025, 9, 1), hours_per_term=500)
    assert plan.feasible and plan.graduation_date == plan.earliest_date == date(2026, 9, 1)
    assert len(plan.terms) == 2  # autumn and spring; the standard length ends on 2027-09-01
    check_and_follow(ledger, sid, plan, 500)


def test_an_autumn_only_course_keeps_a_full_time_student_from_graduating_early(ledger):
    sid = full_time(ledger, "F2", FULL_TIME_DONE)
    plan = ledger.plan(sid, start=date(2025, 9, 1), hours_per_term=500)
    assert plan.feasible and plan.graduation_date > plan.earliest_date
    last = plan.terms[-1]
    assert last.name == "秋季" and "CNC202" in last.courses and plan.graduation_date == date(2027, 1, 20)
    assert [t.name for t in plan.terms if "CNC201" in t.courses] == ["秋季"]
    check_and_follow(ledger, sid, plan, 500)


def test_a_deadline_too_near_is_unreachable_with_the_hours_that_would_meet_it(ledger):
    sid = worker(ledger)
    plan = ledger.plan(sid, start=date(2026, 9, 1), hours_per_term=120, program="MECH-PT-2024",
                       max_terms=12, as_of=date(2026, 8, 25))
    assert plan.feasible
    # the same worker, planning from a start so late that only two terms remain before the deadline
    late = ledger.plan(sid, start=date(2029, 9, 1), hours_per_term=120)
    assert not late.feasible and [i.code for i in late.issues] == ["deadline_unreachable"]
    assert late.min_hours_per_term is not None and late.min_hours_per_term > 120
    again = ledger.plan(sid, start=date(2029, 9, 1), hours_per_term=late.min_hours_per_term)
    assert again.feasible and again.graduation_date <= again.deadline
    fewer = ledger.plan(sid, start=date(2029, 9, 1), hours_per_term=late.min_hours_per_term - Decimal("0.1"))
    assert not fewer.feasible


def test_a_student_without_enrolment_is_unknown(ledger):
    with pytest.raises(cl.UnknownReference) as err:
        ledger.plan("nobody", start=date(2026, 9, 1), hours_per_term=120)
    assert err.value.issues[0].code == "unknown_program"


def test_a_waived_requirement_is_not_planned(ledger):
    # the autumn-only CNC202 kept F2 from graduating early; with the core course list waived by the registrar, the
    # plan no longer waits for it
    sid = full_time(ledger, "F3", FULL_TIME_DONE)
    ledger.append(cl.ExceptionGranted(event_id="F3-waive-core", student_id=sid, occurred_on=date(2025, 8, 1),
                                      requirement_id="core", action="waive", reason="企业岗位经历替代"))
    plan = ledger.plan(sid, start=date(2025, 9, 1), hours_per_term=500)
    assert plan.feasible and plan.graduation_date == plan.earliest_date == date(2026, 9, 1)
    check_and_follow(ledger, sid, plan, 500)


@pytest.mark.parametrize(("event", "words"), [
    (cl.Suspended, "suspended (休学)"), (cl.Withdrawn, "withdrawn (退学)")])
def test_a_student_not_studying_gets_no_feasible_plan(ledger, event, words):
    # the ledger refuses a course passed while suspended or withdrawn, so a plan that counts on its courses being
    # recorded cannot be followed: it was "feasible" with no issue before
    sid = f"N-{event.__name__}"
    ledger.append_many([
        cl.Enrolled(event_id=f"{sid}-enrol", student_id=sid, occurred_on=date(2024, 9, 1), institution=HNJX,
                    program="MECH-PT-2024", mode="part_time"),
        *passed(sid, WORKER_DONE),
        event(event_id=f"{sid}-stop", student_id=sid, occurred_on=date(2025, 9, 1), reason="工作调动")])
    plan = ledger.plan(sid, start=date(2026, 9, 1), hours_per_term=120)
    assert not plan.feasible and [i.code for i in plan.issues] == ["not_studying"]
    assert words in plan.issues[0].message and plan.terms  # what would follow a return to study
    first = plan.terms[0].courses[0]
    with pytest.raises(cl.RejectedEvent):
        ledger.append(cl.CourseCompleted(event_id=f"{sid}-c", student_id=sid, occurred_on=plan.terms[0].end,
                                         institution=HNJX, course=first, grade=80))
    ledger.append(cl.Resumed(event_id=f"{sid}-back", student_id=sid, occurred_on=date(2026, 8, 20)) if
                  event is cl.Suspended else cl.Enrolled(event_id=f"{sid}-again", student_id=sid,
                                                         occurred_on=date(2026, 8, 20), institution=HNJX,
                                                         program="MECH-PT-2024", mode="part_time"))
    again = ledger.plan(sid, start=date(2026, 9, 1), hours_per_term=120)
    assert "not_studying" not in [i.code for i in again.issues]


def test_the_hours_suggested_hold_within_max_terms(ledger):
    # with max_terms below the terms left to the deadline, the least hours used to be counted over every term to the
    # deadline: "no plan within 2 terms at 120 hours; 96.0 hours a term meet the deadline", fewer than refused
    sid = worker(ledger)
    plan = ledger.plan(sid, start=date(2026, 9, 1), hours_per_term=120, max_terms=2)
    assert not plan.feasible and [i.code for i in plan.issues] == ["hours_too_few"]
    assert plan.min_hours_per_term is not None and plan.min_hours_per_term > 120
    assert f"{plan.min_hours_per_term} hours a term meet the deadline" in plan.issues[0].message
    enough = ledger.plan(sid, start=date(2026, 9, 1), hours_per_term=plan.min_hours_per_term, max_terms=2)
    assert enough.feasible and len(enough.terms) <= 2
    assert max(t.hours for t in enough.terms) == plan.min_hours_per_term == enough.min_hours_per_term
    fewer = ledger.plan(sid, start=date(2026, 9, 1), hours_per_term=plan.min_hours_per_term - Decimal("0.1"),
                        max_terms=2)
    assert not fewer.feasible


def test_a_term_before_a_return_recorded_ahead_is_not_studied_in(ledger):
    # the worker's return (复学) is recorded ahead for 2027-03-01: the autumn before it used to get a course the
    # ledger then refused (credits are earned only while not suspended)
    sid = "W-ahead"
    ledger.append_many([
        cl.Enrolled(event_id=f"{sid}-enrol", student_id=sid, occurred_on=date(2024, 9, 1), institution=HNJX,
                    program="MECH-PT-2024", mode="part_time"),
        *passed(sid, WORKER_DONE),
        cl.Suspended(event_id=f"{sid}-suspend", student_id=sid, occurred_on=date(2025, 9, 1), reason="工作调动"),
        cl.Resumed(event_id=f"{sid}-resume", student_id=sid, occurred_on=date(2027, 3, 1), reason="复学")])
    plan = ledger.plan(sid, start=date(2026, 9, 1), hours_per_term=120)
    assert plan.feasible and plan.terms[0].start == date(2026, 9, 1)
    assert plan.terms[0].skipped and plan.terms[0].courses == ()
    assert all(not t.skipped for t in plan.terms[1:]) and len(plan.terms) == 6
    check_and_follow(ledger, sid, plan, 120)


def test_records_dated_in_the_planned_terms_are_said(ledger):
    """A plan read as on a day after its first term began: the courses recorded since count as passed before it, and
    the plan says so (records_after_start), naming how many and the last; a plan from a later start does not."""
    sid = worker(ledger)
    ledger.append(cl.CourseCompleted(event_id=f"{sid}-oct", student_id=sid, occurred_on=date(2026, 10, 15),
                                     institution=HNJX, course="PUB105", grade=80))
    plan = ledger.plan(sid, start=date(2026, 9, 1), hours_per_term=120)
    codes = [i.code for i in plan.issues]
    assert codes == ["records_after_start"] and "1 record(s)" in plan.issues[0].message
    assert "2026-10-15" in plan.issues[0].message and plan.feasible
    later = ledger.plan(sid, start=date(2027, 2, 1), hours_per_term=120)
    assert "records_after_start" not in [i.code for i in later.issues]
