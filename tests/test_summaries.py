"""Summary audits (``detail="summary"``) and ``stable_until``, as properties over random students.

- A summary computed directly (without the requirement tree's results and the sentences) equals the one derived
  from the full report (``AuditReport.summary()``), field for field: for random requirement trees and records
  (the pure ``audit``), and for random students' event histories (``audit_history``, graduates included).
- ``stable_until``: for any day from ``as_of`` to ``stable_until``, the audit of the same events is the same report
  but for ``as_of``.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import credit_ledger as cl
from credit_ledger.graduation import audit, audit_history
from tests import audit_strategies as A
from tests.strategies import few_course_codes, grades

CATALOG = cl.Catalog.sample()
TEST_CATALOG = A.allocation_catalog()


@given(tree=A.requirement_trees(hours=True), records=A.record_lists(), total=st.sampled_from(A.NEEDS),
       validity=st.sampled_from((None, 1, 2)), method=st.sampled_from(("auto", "search", "milp")))
def test_a_direct_summary_equals_the_full_reports_summary(tree, records, total, validity, method):
    program = A.program_of(tree, total)
    policy = program.policy.model_copy(update={"credit_validity_years": validity})
    full = audit(program, records, as_of=A.AS_OF, catalog=TEST_CATALOG, policy=policy, student_id="S", method=method)
    direct = audit(program, records, as_of=A.AS_OF, catalog=TEST_CATALOG, policy=policy, student_id="S",
                   method=method, detail="summary")
    assert direct == full.summary()
    assert cl.AuditSummary.from_row(direct.to_row()) == direct


# -- random students ---------------------------------------------------------------------------------------------


@st.composite
def students(draw: Any) -> list[Any]:
    """A student's events in recording order: an enrolment, then courses, conversions (certificates that expire),
    suspensions and resumptions, corrections and reversals, maybe a withdrawal or a graduation, and now and then an
    event dated after the others (recorded later, or for a day ahead)."""
    sid = "S1"
    start = date(2023, 9, 1) + timedelta(days=draw(st.integers(0, 700)))
    program, mode = draw(st.sampled_from((("CNC-SR-2025", "full_time"), ("MECH-PT-2024", "part_time"),
                                          ("CNC-TECH-2025", "full_time"))))
    extra = {"employer": "SANY-HV"} if mode == "part_time" else {}
    if program == "CNC-TECH-2025" and draw(st.booleans()):
        extra["entry_basis"] = "college_graduate"
    events: list[Any] = [cl.Enrolled(event_id="e0", student_id=sid, occurred_on=start, institution="HNJX",
                                     program=program, mode=mode, **extra)]
    day = start
    suspended = False
    courses: list[str] = []
    for k in range(draw(st.integers(0, 14))):
        day += timedelta(days=draw(st.integers(0, 200)))
        what = draw(st.sampled_from(("course", "course", "course", "cert", "pause", "correct", "reverse")))
        eid = f"e{k + 1}"
        if what == "pause":
            kind = cl.Resumed if suspended else cl.Suspended
            events.append(kind(event_id=eid, student_id=sid, occurred_on=day))
            suspended = not suspended
        elif suspended:
            continue
        elif what == "course":
            events.append(cl.CourseCompleted(event_id=eid, student_id=sid, occurred_on=day, institution="HNJX",
                                             course=draw(few_course_codes()), grade=draw(grades())))
            courses.append(eid)
        elif what == "cert":
            events.append(cl.OutcomeConverted(
                event_id=eid, student_id=sid, occurred_on=day, outcome_type="certificate", outcome_id=f"CERT-{k}",
                title="数控车工", level="senior", target=cl.Target(category="elective"),
                credits=draw(st.sampled_from((Decimal("2.00"), Decimal("4.00")))), rule_id="HNJX-CERT-CNC",
                valid_until=day + timedelta(days=draw(st.integers(30, 1500)))))
        elif what == "correct" and courses:
            events.append(cl.GradeCorrected(event_id=eid, student_id=sid, occurred_on=day,
                                            target_event_id=draw(st.sampled_from(courses)), grade=draw(grades()),
                                            reason="re-marked"))
        elif what == "reverse" and courses:
            target = draw(st.sampled_from(courses))
            courses.remove(target)
            events.append(cl.EntryReversed(event_id=eid, student_id=sid, occurred_on=day, target_event_id=target,
                                           reason="recorded in error"))
    end = draw(st.sampled_from((None, None, "withdrawn", "graduated")))
    day += timedelta(days=draw(st.integers(0, 400)))
    if end == "withdrawn":
        events.append(cl.Withdrawn(event_id="end", student_id=sid, occurred_on=day))
    elif end == "graduated" and not suspended:
        events.append(cl.Graduated(event_id="end", student_id=sid, occurred_on=day, award="graduation"))
    if courses and draw(st.booleans()):  # a correction recorded after the rest
        events.append(cl.GradeCorrected(event_id="late", student_id=sid,
                                        occurred_on=day + timedelta(days=draw(st.integers(0, 300))),
                                        target_event_id=courses[0], grade=draw(grades()), reason="appeal"))
    return events


audit_days = st.builds(lambda n: date(2024, 1, 1) + timedelta(days=n), st.integers(0, 365 * 9))


def _audit(events: list[Any], day: date, detail: str = "full") -> Any:
    try:
        return audit_history(events, catalog=CATALOG, as_of=day, detail=detail)
    except cl.UnknownReference:
        return None


@given(events=students(), day=audit_days)
def test_a_students_direct_summary_equals_the_full_reports_summary(events, day):
    full = _audit(events, day)
    direct = _audit(events, day, "summary")
    if full is None:
        assert direct is None
        return
    assert direct == full.summary()


def _but_as_of(report: cl.AuditReport) -> dict[str, Any]:
    return report.model_dump(exclude={"as_of"})


@given(events=students(), day=audit_days, ahead=st.integers(0, 4000), data=st.data())
def test_the_audit_is_the_same_on_every_day_up_to_stable_until(events, day, ahead, data):
    report = _audit(events, day)
    assume(report is not None)
    until = report.stable_until
    assert until is None or until >= day
    later = day + timedelta(days=ahead if until is None else data.draw(st.integers(0, (until - day).days)))
    again = _audit(events, later)
    assert again is not None
    assert _but_as_of(again) == _but_as_of(report)
    assert again.stable_until == report.stable_until


def test_stable_until_of_a_graduate_stops_before_a_later_event():
    events = [cl.Enrolled(event_id="e", student_id="S", occurred_on=date(2023, 9, 1), institution="HNJX",
                          program="CNC-SR-2025"),
              cl.Graduated(event_id="g", student_id="S", occurred_on=date(2026, 7, 1), award="completion")]
    report = _audit(events, date(2027, 1, 1))
    assert report.status == "graduated" and report.stable_until is None
    late = events + [cl.EntryReversed(event_id="r", student_id="S", occurred_on=date(2027, 3, 1),
                                      target_event_id="g", reason="error")]
    assert _audit(late, date(2027, 1, 1)).stable_until == date(2027, 2, 28)


def test_an_unknown_detail_is_refused():
    with pytest.raises(ValueError, match="detail"):
        audit_history([], catalog=CATALOG, as_of=date(2027, 1, 1), program="CNC-SR-2025", detail="tree")
