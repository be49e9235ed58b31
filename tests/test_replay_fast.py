"""The fast paths of reading and replaying a student's history give exactly what the plain ones gave.

``transcript_records`` and ``best_attempt`` were rewritten for speed (one pass over the events, the counted values of
an attempt computed inline, records built with ``trusted``); the reference implementations below are the earlier,
plainer code, kept here as the oracle: on any history both must give the same records, field for field.
"""

from __future__ import annotations

import gc
import sqlite3
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import credit_ledger as cl
from credit_ledger.chain import row_hash
from credit_ledger.grades import Attempt, best_attempt, count_attempt, grade_points
from credit_ledger.history import build_timeline, effective_events, policy_for, replay_order, transcript_records
from credit_ledger.models import (
    CourseCompleted,
    CreditRecognized,
    CreditRecord,
    EntryReversed,
    Grade,
    GradeCorrected,
    OutcomeConverted,
    OutcomeRevoked,
    Policy,
)

CATALOG = cl.Catalog.sample()
START = date(2024, 9, 1)


# -- the reference implementations (the code before the fast paths) ---------------------------------------------


def _reference_best(attempts: list[Attempt], policy: Policy) -> Any:
    best: tuple | None = None
    chosen = None
    makeups = 0
    for attempt in sorted(attempts, key=lambda a: a.order):
        if attempt.attempt == "makeup":
            makeups += 1
            if makeups > policy.max_makeups_per_course:
                continue
        counted = count_attempt(attempt, policy=policy)
        rank_score = counted.score if counted.score is not None else (policy.pass_mark if counted.passing else -1)
        key = (counted.passing, rank_score, -attempt.order)
        if best is None or key > best:
            best, chosen = key, counted
    return chosen


def _reference_external(e: Any, origin: str, catalog: cl.Catalog, home: str | None) -> CreditRecord:
    target_course = e.target.course
    course = None
    if target_course is not None and home is not None:
        course = catalog.course(home, target_course, e.occurred_on) or catalog.course(home, target_course)
    if origin == "recognized":
        title = course.title if course else e.source_course
        extra: dict[str, Any] = {"grade": str(e.source_grade), "source_institution": e.source_institution,
                                 "statement_id": e.statement_id, "rule": e.agreement_id}
    else:
        title = e.title
        extra = {"valid_until": e.valid_until, "outcome_id": e.outcome_id, "outcome_type": e.outcome_type,
                 "rule": e.rule_id}
    mode = "online" if getattr(e, "outcome_type", None) == "online_course" else (course.mode if course else "classroom")
    return CreditRecord(
        course=target_course, institution=home or "", title=title,
        category=e.target.category or (course.category if course else "unknown"),
        tags=course.tags if course else (), mode=mode, level=course.level if course else None, credits=e.credits,
        origin=origin, event_id=e.event_id, occurred_on=e.occurred_on, **extra,
    )


def _reference_records(events: list[Any], *, catalog: cl.Catalog, as_of: date | None = None,
                       policy: Policy | None = None) -> list[CreditRecord]:
    events = effective_events(events, as_of)
    timeline = build_timeline(events)
    if policy is None:
        policy = policy_for(timeline, catalog, as_of)
    reversed_ids = {e.target_event_id for e in events if isinstance(e, EntryReversed)}
    revoked = {(e.outcome_type, e.outcome_id) for e in events if isinstance(e, OutcomeRevoked)}
    corrected: dict[str, Any] = {}
    for e in replay_order(e for e in events if isinstance(e, GradeCorrected) and e.event_id not in reversed_ids):
        corrected[e.target_event_id] = e.grade
    order = {e.event_id: i for i, e in enumerate(events)}
    home = timeline.current_enrolment()
    home_institution = home.institution if home else None
    attempts: dict[tuple[str, str], list[tuple[Attempt, CourseCompleted]]] = defaultdict(list)
    records: list[CreditRecord] = []
    for e in events:
        if e.event_id in reversed_ids:
            continue
        if isinstance(e, CourseCompleted):
            grade = corrected.get(e.event_id, e.grade)
            attempts[(e.institution, e.course)].append((Attempt(e.event_id, e.attempt, grade, order[e.event_id]), e))
        elif isinstance(e, CreditRecognized):
            records.append(_reference_external(e, "recognized", catalog, home_institution or e.recorded_by))
        elif isinstance(e, OutcomeConverted) and (e.outcome_type, e.outcome_id) not in revoked:
            records.append(_reference_external(e, "converted", catalog, home_institution or e.recorded_by))
    for (institution, code), tries in attempts.items():
        by_id = {a.event_id: ev for a, ev in tries}
        best = _reference_best([a for a, _ in tries], policy)
        if best is None or not best.passing:
            continue
        ev = by_id[best.event_id]
        course = catalog.course(institution, code, ev.occurred_on) or catalog.course(institution, code)
        credits = ev.credits if ev.credits is not None else (course.credits if course else Decimal(0))
        records.append(CreditRecord(
            course=code, institution=institution, title=course.title if course else code,
            category=course.category if course else "unknown", tags=course.tags if course else (),
            mode=course.mode if course else "classroom", level=course.level if course else None,
            credits=credits, hours=course.hours if course else None, grade=str(best.grade),
            score=best.score, grade_points=best.grade_points, attempt=best.attempt, flagged=best.flagged,
            origin="home", event_id=ev.event_id, occurred_on=ev.occurred_on,
        ))
    records.sort(key=lambda r: (r.occurred_on, r.course or "", r.event_id))
    return records


# -- histories ---------------------------------------------------------------------------------------------------

grades = st.one_of(
    st.decimals(min_value=0, max_value=100, places=1).map(Grade.parse),
    st.sampled_from(["优", "良", "中", "及格", "不及格", "合格", "不合格"]).map(Grade.parse),
    st.just(Grade.parse("-0")),
    st.just(Grade.parse("60.00")),
)
days = st.integers(min_value=-30, max_value=4 * 365).map(lambda n: START + timedelta(days=n))
courses = st.sampled_from([("HNJX", "MECH101"), ("HNJX", "CNC203"), ("HNJX", "PRA302"), ("HNJX", "ONL101"),
                           ("HNJX", "NOPE9"), ("XTJX", "MECH101")])
outcomes = st.sampled_from([("certificate", "O1"), ("online_course", "O2"), ("competition", "O3")])
targets = st.one_of(st.sampled_from(["MECH101", "CNC203", "ONL101", "NOPE9"]).map(lambda c: {"course": c}),
                    st.just({"category": "elective"}))


@st.composite
def histories(draw: Any) -> list[Any]:
    """An enrolment (or none) and up to 25 other events of one student: attempts, corrections, reversals,
    recognised and converted credits, revocations; an event id is now and then given twice."""
    sid = "S1"
    events: list[Any] = []
    if draw(st.integers(min_value=0, max_value=9)) > 0:  # now and then no enrolment (recorded_by is home)
        events.append(cl.Enrolled(event_id="enrol", student_id=sid, occurred_on=START, institution="HNJX",
                                  program="CNC-SR-2025"))
    for i in range(draw(st.integers(min_value=0, max_value=25))):
        ids = [e.event_id for e in events]
        eid = draw(st.sampled_from(ids)) if ids and draw(st.integers(0, 15)) == 0 else f"e{i}"
        day = draw(days)
        kind = draw(st.sampled_from(["course"] * 6 + ["correct", "reverse", "recognize", "convert", "revoke"]))
        if kind == "course":
            institution, course = draw(courses)
            events.append(CourseCompleted(
                event_id=eid, student_id=sid, occurred_on=day, institution=institution, course=course,
                grade=draw(grades), attempt=draw(st.sampled_from(["regular", "makeup", "retake"])),
                credits=draw(st.one_of(st.none(), st.sampled_from([Decimal("2.5"), Decimal(0)])))))
        elif kind == "correct" and ids:
            events.append(GradeCorrected(event_id=eid, student_id=sid, occurred_on=day,
                                         target_event_id=draw(st.sampled_from(ids)), grade=draw(grades)))
        elif kind == "reverse" and ids:
            events.append(EntryReversed(event_id=eid, student_id=sid, occurred_on=day,
                                        target_event_id=draw(st.sampled_from(ids))))
        elif kind == "recognize":
            events.append(CreditRecognized(
                event_id=eid, student_id=sid, occurred_on=day, recorded_by=draw(st.sampled_from([None, "HNJX"])),
                source_institution="XTJX", source_course="MECH101", source_credits=Decimal(4),
                source_grade=draw(grades), source_date=day, target=draw(targets), credits=Decimal("3.5"),
                agreement_id="AG1", statement_id=draw(st.sampled_from([None, "ST1"]))))
        elif kind == "convert":
            outcome_type, outcome_id = draw(outcomes)
            events.append(OutcomeConverted(
                event_id=eid, student_id=sid, occurred_on=day, outcome_type=outcome_type, outcome_id=outcome_id,
                title="an outcome", target=draw(targets), credits=Decimal(2), rule_id="R1",
                valid_until=draw(st.sampled_from([None, date(2030, 1, 1)]))))
        elif kind == "revoke":
            outcome_type, outcome_id = draw(outcomes)
            events.append(OutcomeRevoked(event_id=eid, student_id=sid, occurred_on=day, outcome_type=outcome_type,
                                         outcome_id=outcome_id))
    return draw(st.permutations(events)) if draw(st.booleans()) else events


def _facts(records: list[CreditRecord]) -> list[tuple]:
    return [(type(r), r.model_dump(), list(r.__dict__), r.model_fields_set) for r in records]


policies = st.one_of(st.none(), st.builds(
    Policy, pass_mark=st.sampled_from([Decimal(60), Decimal(70)]),
    makeup_score=st.sampled_from([None, Decimal(65)]), max_makeups_per_course=st.integers(0, 2)))


@given(events=histories(), policy=policies,
       as_of=st.one_of(st.none(), days))
def test_transcript_records_are_the_reference_records(events, policy, as_of):
    got = transcript_records(events, catalog=CATALOG, as_of=as_of, policy=policy)
    assert _facts(got) == _facts(_reference_records(events, catalog=CATALOG, as_of=as_of, policy=policy))


@given(events=histories(), policy=policies, as_of=st.one_of(st.none(), days))
def test_transcript_records_with_the_callers_timeline_are_the_same(events, policy, as_of):
    """The audit passes the timeline it has built; the records are those of a timeline built here."""
    timeline = build_timeline(effective_events(events, as_of))
    got = transcript_records(events, catalog=CATALOG, as_of=as_of, policy=policy, timeline=timeline)
    assert _facts(got) == _facts(transcript_records(events, catalog=CATALOG, as_of=as_of, policy=policy))


def test_records_of_a_course_take_the_catalog_version_of_their_day():
    """The catalog's facts are kept per course version (with the catalog): each day gets its own version's."""
    catalog = cl.Catalog.sample()
    enrol = cl.Enrolled(event_id="enrol", student_id="S1", occurred_on=START, institution="HNJX",
                        program="CNC-SR-2025")
    titles = {}
    for _ in range(2):  # the second time from the kept templates
        for i, day in enumerate([date(2025, 1, 9), date(2026, 9, 1), date(2023, 1, 1), date(2026, 8, 31)]):
            events = [enrol] + [CourseCompleted(event_id=f"c{i}{code}", student_id="S1", occurred_on=day,
                                                institution=institution, course=code, grade=70 + i)
                                for institution, code in [("HNJX", "CNC203"), ("XTJX", f"NOPE{i}")]]
            got = transcript_records(events, catalog=catalog)
            assert _facts(got) == _facts(_reference_records(events, catalog=catalog)) and len(got) == 2
            titles[day] = got[0].title if got[0].course == "CNC203" else got[1].title
    assert titles[date(2026, 9, 1)] != titles[date(2026, 8, 31)] == titles[date(2023, 1, 1)]


def _reference_grade_points(grade: Grade, policy: Policy, score: Decimal | None) -> Decimal | None:
    if grade.scale == "pass_fail":
        return None
    value = score if score is not None else count_attempt(Attempt("e", "regular", grade), policy=policy).score
    if value is None or value < policy.pass_mark:
        return Decimal(0)
    return max((value - 50) / 10, Decimal(0))


@given(grade=grades, policy=st.builds(Policy, pass_mark=st.decimals(min_value=0, max_value=100, places=1)),
       score=st.one_of(st.none(), st.decimals(min_value=0, max_value=100, places=2)))
def test_grade_points_are_the_reference_points(grade, policy, score):
    got, want = grade_points(grade, policy=policy, score=score), _reference_grade_points(grade, policy, score)
    assert (got, str(got)) == (want, str(want))


attempt_lists = st.lists(st.builds(
    Attempt, st.sampled_from(["a", "b", "c", "d"]), st.sampled_from(["regular", "makeup", "retake"]), grades,
    st.integers(min_value=0, max_value=5)), max_size=6)


@given(attempts=attempt_lists, policy=policies.filter(lambda p: p is not None))
def test_best_attempt_is_the_reference_choice(attempts, policy):
    """Also with equal orders and ids (which the ledger never gives): the same attempt, counted the same."""
    assert best_attempt(attempts, policy=policy) == _reference_best(attempts, policy)


def test_trusted_is_the_validated_model():
    values = dict(course="MECH101", institution="HNJX", title="机械制图", category="core", credits=Decimal("4.00"),
                  origin="home", event_id="e1", occurred_on=date(2025, 1, 10), score=Decimal(71))
    trusted, validated = CreditRecord.trusted(**values), CreditRecord(**values)
    assert trusted == validated and list(trusted.__dict__) == list(validated.__dict__)
    assert trusted.model_fields_set == validated.model_fields_set
    for bad in ({**values, "nope": 1}, {k: v for k, v in values.items() if k != "origin"}):
        try:
            CreditRecord.trusted(**bad)
        except TypeError as exc:
            assert "nope" in str(exc) or "origin" in str(exc)
        else:
            raise AssertionError("trusted took unknown or missing fields")


# -- the batch audit's read ----------------------------------------------------------------------------------------


def _two_students(led: cl.Ledger) -> None:
    for sid in ("A1", "A2"):
        led.append_many([
            cl.Enrolled(event_id=f"{sid}-enrol", student_id=sid, occurred_on=date(2025, 9, 1), institution="HNJX",
                        program="CNC-SR-2025"),
            cl.CourseCompleted(event_id=f"{sid}-MECH101", student_id=sid, occurred_on=date(2026, 1, 9),
                               institution="HNJX", course="MECH101", grade=80),
        ])


@pytest.mark.parametrize("enabled", [True, False])
def test_audit_all_hands_each_report_over_with_the_collector_as_it_was(ledger, enabled):
    """audit_all pauses cyclic GC while it reads and audits a student, never while the caller holds a report."""
    _two_students(ledger)
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        seen = []
        for report in ledger.audit_all(["A1", "A2"], date(2026, 6, 1)):
            seen.append((report.student_id, gc.isenabled()))
        assert seen == [("A1", enabled), ("A2", enabled)]
        assert gc.isenabled() == enabled
        assert list(ledger.audit_all(["NOBODY"], date(2026, 6, 1))) == []  # skipped inside the pause
        assert gc.isenabled() == enabled
        with pytest.raises(cl.PermissionDenied):  # a refusal inside the pause restores the collector too
            next(ledger.acting_for("SANY-HV").audit_all(["A1"], date(2026, 6, 1)))
        assert gc.isenabled() == enabled
    finally:
        gc.enable() if was else gc.disable()


@pytest.mark.sqlite_only
def test_audit_all_of_a_row_that_holds_no_event_raises_integrity_error(file_ledger, tmp_path):
    _two_students(file_ledger)
    db = sqlite3.connect(tmp_path / "ledger.db", isolation_level=None)
    db.execute("DROP TRIGGER events_no_update")
    seq, n, at, payload, prev = db.execute("SELECT seq, student_seq, recorded_at, payload, prev_hash FROM events "
                                           "WHERE event_id = 'A2-MECH101'").fetchone()
    payload = payload.replace('"grade":{', '"grade":"not a grade","x":{')
    # re-hashed, so that the read's chain check passes (it is A2's last row) and the JSON itself is what fails
    db.execute("UPDATE events SET payload = ?, event_hash = ? WHERE event_id = 'A2-MECH101'",
               (payload, row_hash(prev, n, at, payload)))
    db.close()
    was = gc.isenabled()
    reports = file_ledger.audit_all(["A1", "A2"], date(2026, 6, 1))
    assert next(reports).student_id == "A1"
    with pytest.raises(cl.IntegrityError, match=f"row {seq} does not hold a valid event"):
        next(reports)
    assert gc.isenabled() == was


def test_a_home_record_template_is_given_the_fields_a_home_record_is_given():
    from credit_ledger import history

    template = history.home_record_template(course="C1", institution="HNJX", title="t", category="core", tags=(),
                                            mode="classroom", level=None, credits=Decimal("2.00"), hours=None)
    assert set(template) == set(cl.CreditRecord.model_fields)
    assert history.HOME_RECORD_FIELDS <= set(template)
    record = cl.CreditRecord.trusted(**{k: template[k] for k in history.HOME_RECORD_FIELDS})
    assert record.model_fields_set == history.HOME_RECORD_FIELDS
