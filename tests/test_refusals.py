"""Refusals: one example per refusal code of README.md's table (and ``checks.py``), plus the write guarantees that
go with them (atomic batches, idempotent re-appends, checks in date order, reversals and corrections over time,
validation before anything is written).

Every refusal test asserts the error class, that ``issues[0].code`` is the code, that the message names the student
and the event, and that the ledger (row count and ``verify()``) is exactly as it was.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, Iterator

import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import credit_ledger as cl
from credit_ledger.checks import ERROR_OF_CODE

D = date
HNJX = "HNJX"


# -- helpers ---------------------------------------------------------------------------------------------------------


def enrol(sid: str = "S1", on: date = D(2025, 9, 1), *, program: str = "CNC-SR-2025", eid: str | None = None,
          **kw: Any) -> cl.Enrolled:
    return cl.Enrolled(event_id=eid or f"{sid}-enrol-{on}", student_id=sid, occurred_on=on, institution=kw.pop(
        "institution", HNJX), program=program, **kw)


def course(sid: str = "S1", code: str = "MECH101", on: date = D(2026, 1, 12), grade: Any = 80, *,
           eid: str | None = None, institution: str = HNJX, **kw: Any) -> cl.CourseCompleted:
    return cl.CourseCompleted(event_id=eid or f"{sid}-{code}-{on}", student_id=sid, occurred_on=on,
                              institution=institution, course=code, grade=grade, **kw)


@contextmanager
def refused(ledger: cl.Ledger, error: type[Exception], code: str, *, student: str | None, event: str,
            index: int = 0) -> Iterator[pytest.ExceptionInfo]:
    """The block raises ``error`` with ``code`` first among its issues, naming student and event; nothing changes."""
    before_count = ledger.count()
    before_verify = ledger.verify()
    with pytest.raises(error) as info:
        yield info
    exc = info.value
    assert isinstance(exc, cl.CreditLedgerError)
    assert type(exc) is error, f"{type(exc).__name__} raised, expected {error.__name__}: {exc}"
    assert exc.issues, "a refusal carries issues"
    issue = exc.issues[index]
    assert issue.code == code, exc.codes
    assert event in issue.message and event in str(exc)
    if student is not None:
        assert student in issue.message and student in str(exc)
        assert issue.student_id == student
    assert issue.event_id == event
    assert ledger.count() == before_count
    after = ledger.verify()
    assert after.ok and before_verify.ok
    assert after.checked == before_verify.checked


def balance(ledger: cl.Ledger, sid: str, as_of: date | None = None) -> Decimal:
    return ledger.balance(sid, as_of=as_of).total


@pytest.fixture
def enrolled(ledger: cl.Ledger) -> cl.Ledger:
    """The in-memory ledger with S1 enrolled in CNC-SR-2025 on 2025-09-01."""
    ledger.append(enrol())
    return ledger


# -- the error classes -----------------------------------------------------------------------------------------------


def test_error_classes_derive_from_the_common_base():
    for cls in (cl.RejectedEvent, cl.DuplicateEvent, cl.UnknownReference, cl.PermissionDenied):
        assert issubclass(cls, cl.CreditLedgerError)


def test_every_refusal_code_is_covered_here():
    """The refusal codes of ARCHITECTURE.md are the ones this module tests (a new code needs a test)."""
    import pathlib
    import re

    import credit_ledger.checks as checks_module

    doc = (pathlib.Path(__file__).parents[1] / "ARCHITECTURE.md").read_text(encoding="utf-8")
    table = doc.split("### Refusals")[1].split("### Decisions")[0]
    rows = [line.strip().split("|")[1] for line in table.splitlines() if line.strip().startswith("| `")]
    codes = {c for row in rows for c in re.findall(r"`([a-z_]+)`", row)}
    in_checks = set(re.findall(r'_issue\(\s*"([a-z_]+)"', pathlib.Path(checks_module.__file__).read_text("utf-8")))
    source = pathlib.Path(__file__).read_text(encoding="utf-8")
    assert in_checks <= codes, sorted(in_checks - codes)
    assert set(ERROR_OF_CODE) <= codes
    missing = sorted(c for c in codes | in_checks if f'"{c}"' not in source)
    assert not missing


# -- identifiers (canonical ids, look-alikes: more in test_identifiers.py) ------------------------------------------


@pytest.mark.parametrize("sid, code", [("S1\u200b", "id_forbidden_character"), ("\uff332", "id_not_normalized"),
                                       ("S\u04302", "id_mixed_script"), ("\u04051", "id_lookalike")])
def test_a_new_student_id_that_is_not_canonical(ledger, sid, code):
    ledger.append(enrol("S1"))
    with refused(ledger, cl.RejectedEvent, code, student=None, event="x-enrol"):
        ledger.append(enrol(sid, eid="x-enrol"))


def test_id_surrounding_space(ledger):
    unchecked = cl.Enrolled.model_construct(**(dict(enrol("S2", eid="x-enrol")) | {"student_id": "S2 "}))
    with refused(ledger, cl.RejectedEvent, "id_surrounding_space", student="S2 ", event="x-enrol"):
        ledger.append(unchecked)


# -- status ----------------------------------------------------------------------------------------------------------


def test_not_enrolled(ledger):
    ev = course("S9", eid="S9-c1")
    with refused(ledger, cl.RejectedEvent, "not_enrolled", student="S9", event="S9-c1"):
        ledger.append(ev)


def test_not_enrolled_before_enrolment_date(enrolled):
    ev = course(on=D(2025, 8, 31), eid="S1-early")
    with refused(enrolled, cl.RejectedEvent, "not_enrolled", student="S1", event="S1-early"):
        enrolled.append(ev)


def test_suspended_course_while_suspended(enrolled):
    enrolled.append(cl.Suspended(event_id="S1-susp", student_id="S1", occurred_on=D(2025, 11, 1)))
    ev = course(on=D(2025, 12, 1), eid="S1-during")
    with refused(enrolled, cl.RejectedEvent, "suspended", student="S1", event="S1-during"):
        enrolled.append(ev)


def test_suspended_twice(enrolled):
    enrolled.append(cl.Suspended(event_id="S1-susp", student_id="S1", occurred_on=D(2025, 11, 1)))
    ev = cl.Suspended(event_id="S1-susp2", student_id="S1", occurred_on=D(2025, 12, 1))
    with refused(enrolled, cl.RejectedEvent, "suspended", student="S1", event="S1-susp2"):
        enrolled.append(ev)


def test_suspension_limit_on_suspended_when_allowance_used(enrolled):
    # 2025-10-01 .. 2027-10-01 is exactly 730 days: the whole two-year allowance, allowed.
    enrolled.append_many([
        cl.Suspended(event_id="S1-s1", student_id="S1", occurred_on=D(2025, 10, 1)),
        cl.Resumed(event_id="S1-r1", student_id="S1", occurred_on=D(2027, 10, 1)),
    ])
    assert enrolled.status("S1", D(2027, 10, 1)) == "active"
    ev = cl.Suspended(event_id="S1-s2", student_id="S1", occurred_on=D(2027, 11, 1))
    with refused(enrolled, cl.RejectedEvent, "suspension_limit", student="S1", event="S1-s2"):
        enrolled.append(ev)


def test_suspension_limit_on_resumed_beyond_two_years(enrolled):
    enrolled.append(cl.Suspended(event_id="S1-s1", student_id="S1", occurred_on=D(2025, 10, 1)))
    ev = cl.Resumed(event_id="S1-r1", student_id="S1", occurred_on=D(2027, 10, 2))  # 731 days
    with refused(enrolled, cl.RejectedEvent, "suspension_limit", student="S1", event="S1-r1"):
        enrolled.append(ev)
    assert enrolled.status("S1", D(2027, 10, 2)) == "suspended"


def test_suspension_limit_on_resumed_counts_earlier_suspensions(enrolled):
    enrolled.append_many([
        cl.Suspended(event_id="S1-s1", student_id="S1", occurred_on=D(2025, 10, 1)),
        cl.Resumed(event_id="S1-r1", student_id="S1", occurred_on=D(2026, 10, 1)),  # 365 days
        cl.Suspended(event_id="S1-s2", student_id="S1", occurred_on=D(2026, 11, 1)),
    ])
    ev = cl.Resumed(event_id="S1-r2", student_id="S1", occurred_on=D(2027, 11, 2))  # 366 more: 731
    with refused(enrolled, cl.RejectedEvent, "suspension_limit", student="S1", event="S1-r2"):
        enrolled.append(ev)
    enrolled.append(cl.Resumed(event_id="S1-r2-ok", student_id="S1", occurred_on=D(2027, 11, 1)))  # 730


def test_not_suspended(enrolled):
    ev = cl.Resumed(event_id="S1-res", student_id="S1", occurred_on=D(2025, 10, 1))
    with refused(enrolled, cl.RejectedEvent, "not_suspended", student="S1", event="S1-res"):
        enrolled.append(ev)


def test_already_enrolled(enrolled):
    ev = enrol(on=D(2025, 10, 1), eid="S1-enrol-again")
    with refused(enrolled, cl.RejectedEvent, "already_enrolled", student="S1", event="S1-enrol-again"):
        enrolled.append(ev)


def test_already_enrolled_while_suspended(enrolled):
    enrolled.append(cl.Suspended(event_id="S1-susp", student_id="S1", occurred_on=D(2025, 11, 1)))
    ev = enrol(on=D(2025, 12, 1), eid="S1-enrol-again")
    with refused(enrolled, cl.RejectedEvent, "already_enrolled", student="S1", event="S1-enrol-again"):
        enrolled.append(ev)


def test_mode_not_offered(ledger):
    ev = enrol("S2", mode="part_time", employer="湘江重工", eid="S2-enrol")  # CNC-SR-2025 is full-time only
    with refused(ledger, cl.RejectedEvent, "mode_not_offered", student="S2", event="S2-enrol"):
        ledger.append(ev)


def test_entry_basis_required(ledger):
    ev = enrol("S3", program="CNC-TECH-2025", eid="S3-enrol")
    with refused(ledger, cl.RejectedEvent, "entry_basis_required", student="S3", event="S3-enrol"):
        ledger.append(ev)
    ledger.append(enrol("S3", program="CNC-TECH-2025", eid="S3-enrol-ok", entry_basis="veteran"))
    assert ledger.status("S3", D(2025, 9, 1)) == "active"


def test_out_of_order(enrolled):
    enrolled.append(course(on=D(2026, 1, 10), eid="S1-c1"))
    ev = cl.Suspended(event_id="S1-late-susp", student_id="S1", occurred_on=D(2025, 12, 1))
    with refused(enrolled, cl.RejectedEvent, "out_of_order", student="S1", event="S1-late-susp"):
        enrolled.append(ev)


def test_out_of_order_status_before_status(enrolled):
    enrolled.append(cl.Suspended(event_id="S1-s", student_id="S1", occurred_on=D(2026, 3, 1)))
    ev = cl.Withdrawn(event_id="S1-w", student_id="S1", occurred_on=D(2026, 2, 1))
    with refused(enrolled, cl.RejectedEvent, "out_of_order", student="S1", event="S1-w"):
        enrolled.append(ev)


def test_same_program(enrolled):
    ev = cl.ProgramChanged(event_id="S1-pc", student_id="S1", occurred_on=D(2026, 2, 1), program="CNC-SR-2025")
    with refused(enrolled, cl.RejectedEvent, "same_program", student="S1", event="S1-pc"):
        enrolled.append(ev)


# -- courses ---------------------------------------------------------------------------------------------------------


def test_makeup_limit_across_appends(enrolled):
    enrolled.append(course(grade=40, eid="S1-c-reg", on=D(2026, 1, 10)))
    enrolled.append(course(grade=45, eid="S1-c-mk1", on=D(2026, 3, 1), attempt="makeup"))
    ev = course(grade=70, eid="S1-c-mk2", on=D(2026, 4, 1), attempt="makeup")
    with refused(enrolled, cl.RejectedEvent, "makeup_limit", student="S1", event="S1-c-mk2"):
        enrolled.append(ev)
    enrolled.append(course(grade=70, eid="S1-c-retake", on=D(2026, 6, 1), attempt="retake"))
    assert balance(enrolled, "S1") == Decimal("4.00")


def test_makeup_limit_within_one_batch(enrolled):
    batch = [course(grade=40, eid="S1-c-reg", on=D(2026, 1, 10)),
             course(grade=45, eid="S1-c-mk1", on=D(2026, 3, 1), attempt="makeup"),
             course(grade=70, eid="S1-c-mk2", on=D(2026, 4, 1), attempt="makeup")]
    with refused(enrolled, cl.RejectedEvent, "makeup_limit", student="S1", event="S1-c-mk2"):
        enrolled.append_many(batch)


def test_not_home_course(enrolled):
    ev = course(code="XT-CNC1", institution="XTJX", eid="S1-xt")
    with refused(enrolled, cl.RejectedEvent, "not_home_course", student="S1", event="S1-xt"):
        enrolled.append(ev)


def test_unknown_course(enrolled):
    ev = course(code="CNC999", eid="S1-nope")
    with refused(enrolled, cl.UnknownReference, "unknown_course", student="S1", event="S1-nope"):
        enrolled.append(ev)


def test_unknown_course_not_yet_in_force(enrolled):
    """A course whose only version starts later is not in the catalog before that day."""
    extra = cl.Catalog.from_data({
        "institutions": [enrolled.catalog.institution(HNJX).model_dump(mode="json")],
        "courses": [{"institution": "HNJX", "code": "AI501", "title": "工业人工智能", "hours": 32,
                     "category": "elective", "valid_from": "2027-01-01"}],
    })
    enrolled.load_catalog(extra)
    ev = course(code="AI501", on=D(2026, 12, 31), eid="S1-ai-early")
    with refused(enrolled, cl.UnknownReference, "unknown_course", student="S1", event="S1-ai-early"):
        enrolled.append(ev)
    enrolled.append(course(code="AI501", on=D(2027, 1, 1), eid="S1-ai"))
    assert balance(enrolled, "S1") == Decimal("2.00")


def test_course_version_in_force_decides_credits(enrolled):
    """CNC203 earns 4.00 credits (64 h) before 2026-09-01 and 5.00 (80 h, the 2026 revision) from then."""
    enrolled.append_many([
        enrol("S5", eid="S5-enrol"),
        course("S1", "CNC203", D(2026, 8, 31), eid="S1-cnc203"),
        course("S5", "CNC203", D(2026, 9, 1), eid="S5-cnc203"),
    ])
    [r1] = enrolled.transcript("S1").records
    [r5] = enrolled.transcript("S5").records
    assert r1.credits == Decimal("4.00")
    assert r5.credits == Decimal("5.00")
    assert balance(enrolled, "S1") == Decimal("4.00")
    assert balance(enrolled, "S5") == Decimal("5.00")


# -- reversals and corrections ---------------------------------------------------------------------------------------


def test_not_reversible(enrolled):
    ev = cl.EntryReversed(event_id="S1-rev-enrol", student_id="S1", occurred_on=D(2025, 10, 1),
                          target_event_id="S1-enrol-2025-09-01")
    with refused(enrolled, cl.RejectedEvent, "not_reversible", student="S1", event="S1-rev-enrol"):
        enrolled.append(ev)


def test_not_reversible_via_reverse(enrolled):
    with refused(enrolled, cl.RejectedEvent, "not_reversible", student="S1",
                 event="S1-enrol-2025-09-01:reversed"):
        enrolled.reverse("S1-enrol-2025-09-01", reason="wrong", occurred_on=D(2025, 10, 1))


def test_already_reversed(enrolled):
    enrolled.append(course(eid="S1-c1"))
    enrolled.reverse("S1-c1", reason="entered twice", occurred_on=D(2026, 2, 1))
    with refused(enrolled, cl.RejectedEvent, "already_reversed", student="S1", event="S1-c1:again"):
        enrolled.reverse("S1-c1", reason="again", occurred_on=D(2026, 3, 1), reversal_id="S1-c1:again")


def test_already_reversed_within_batch(enrolled):
    enrolled.append(course(eid="S1-c1"))
    batch = [cl.EntryReversed(event_id="S1-rev1", student_id="S1", occurred_on=D(2026, 2, 1), target_event_id="S1-c1"),
             cl.EntryReversed(event_id="S1-rev2", student_id="S1", occurred_on=D(2026, 2, 2), target_event_id="S1-c1")]
    with refused(enrolled, cl.RejectedEvent, "already_reversed", student="S1", event="S1-rev2"):
        enrolled.append_many(batch)


def test_reverse_twice_with_default_id_is_harmless(enrolled):
    enrolled.append(course(eid="S1-c1"))
    first = enrolled.reverse("S1-c1", reason="oops", occurred_on=D(2026, 2, 1))
    n = enrolled.count()
    assert enrolled.reverse("S1-c1", reason="oops", occurred_on=D(2026, 2, 1)) == first
    assert enrolled.count() == n


def test_before_target(enrolled):
    enrolled.append(course(eid="S1-c1", on=D(2026, 1, 12)))
    with refused(enrolled, cl.RejectedEvent, "before_target", student="S1", event="S1-c1:reversed"):
        enrolled.reverse("S1-c1", reason="typo", occurred_on=D(2026, 1, 11))


def test_before_target_grade_correction(enrolled):
    enrolled.append(course(eid="S1-c1", on=D(2026, 1, 12)))
    ev = cl.GradeCorrected(event_id="S1-gc", student_id="S1", occurred_on=D(2026, 1, 1), target_event_id="S1-c1",
                           grade=90)
    with refused(enrolled, cl.RejectedEvent, "before_target", student="S1", event="S1-gc"):
        enrolled.append(ev)


def test_not_a_course(enrolled):
    ev = cl.GradeCorrected(event_id="S1-gc", student_id="S1", occurred_on=D(2025, 10, 1),
                           target_event_id="S1-enrol-2025-09-01", grade=90)
    with refused(enrolled, cl.RejectedEvent, "not_a_course", student="S1", event="S1-gc"):
        enrolled.append(ev)


def test_unknown_event(enrolled):
    ev = cl.EntryReversed(event_id="S1-rev", student_id="S1", occurred_on=D(2026, 2, 1), target_event_id="nope")
    with refused(enrolled, cl.UnknownReference, "unknown_event", student="S1", event="S1-rev"):
        enrolled.append(ev)


def test_unknown_event_of_another_student(enrolled):
    enrolled.append_many([enrol("S2", eid="S2-enrol"), course("S2", eid="S2-c1")])
    ev = cl.GradeCorrected(event_id="S1-gc", student_id="S1", occurred_on=D(2026, 2, 1), target_event_id="S2-c1",
                           grade=99)
    with refused(enrolled, cl.UnknownReference, "unknown_event", student="S1", event="S1-gc"):
        enrolled.append(ev)


def test_reverse_of_unknown_id_raises_unknown_reference(enrolled):
    n, ok = enrolled.count(), enrolled.verify()
    with pytest.raises(cl.UnknownReference) as info:
        enrolled.reverse("no-such-event", reason="x", occurred_on=D(2026, 1, 1))
    assert info.value.issues[0].code == "unknown_event"
    assert "no-such-event" in str(info.value)
    assert enrolled.count() == n and enrolled.verify() == ok


def test_reversal_stops_counting_from_its_date(enrolled):
    enrolled.append(course(eid="S1-c1", on=D(2026, 1, 12)))
    enrolled.reverse("S1-c1", reason="recorded for the wrong student", occurred_on=D(2026, 3, 1))
    assert balance(enrolled, "S1", D(2026, 1, 11)) == 0
    assert balance(enrolled, "S1", D(2026, 1, 12)) == Decimal("4.00")
    assert balance(enrolled, "S1", D(2026, 2, 28)) == Decimal("4.00")
    assert balance(enrolled, "S1", D(2026, 3, 1)) == 0
    assert balance(enrolled, "S1") == 0
    assert enrolled.transcript("S1").records == ()


def test_grade_correction_changes_counted_grade_from_its_date(enrolled):
    enrolled.append(course(eid="S1-c1", on=D(2026, 1, 12), grade=52))
    enrolled.append(cl.GradeCorrected(event_id="S1-gc", student_id="S1", occurred_on=D(2026, 2, 1),
                                      target_event_id="S1-c1", grade=78, reason="marking error"))
    assert balance(enrolled, "S1", D(2026, 1, 31)) == 0
    assert balance(enrolled, "S1", D(2026, 2, 1)) == Decimal("4.00")
    [record] = enrolled.transcript("S1").records
    assert record.score == Decimal(78)
    enrolled.append(cl.GradeCorrected(event_id="S1-gc2", student_id="S1", occurred_on=D(2026, 3, 1),
                                      target_event_id="S1-c1", grade=91))
    assert enrolled.transcript("S1", as_of=D(2026, 2, 15)).records[0].score == Decimal(78)
    assert enrolled.transcript("S1").records[0].score == Decimal(91)


def test_reversed_grade_correction_restores_grade(enrolled):
    enrolled.append(course(eid="S1-c1", on=D(2026, 1, 12), grade=70))
    enrolled.append(cl.GradeCorrected(event_id="S1-gc", student_id="S1", occurred_on=D(2026, 2, 1),
                                      target_event_id="S1-c1", grade=95))
    enrolled.reverse("S1-gc", reason="wrong correction", occurred_on=D(2026, 3, 1))
    assert enrolled.transcript("S1", as_of=D(2026, 2, 15)).records[0].score == Decimal(95)
    assert enrolled.transcript("S1").records[0].score == Decimal(70)


# -- exceptions, recognition, conversion, awards ---------------------------------------------------------------------


def test_not_in_requirement(enrolled):
    ev = cl.ExceptionGranted(event_id="S1-ex", student_id="S1", occurred_on=D(2026, 2, 1), requirement_id="core",
                             action="substitute", course="CNC203", replaces="EL101")
    with refused(enrolled, cl.RejectedEvent, "not_in_requirement", student="S1", event="S1-ex"):
        enrolled.append(ev)
    enrolled.append(ev.model_copy(update={"event_id": "S1-ex-ok", "replaces": "CNC202"}))


def test_unknown_requirement(enrolled):
    ev = cl.ExceptionGranted(event_id="S1-ex", student_id="S1", occurred_on=D(2026, 2, 1),
                             requirement_id="no-such-req", action="waive")
    with refused(enrolled, cl.UnknownReference, "unknown_requirement", student="S1", event="S1-ex"):
        enrolled.append(ev)


def recognized(sid: str = "S1", eid: str = "S1-rec", **kw: Any) -> cl.CreditRecognized:
    data = dict(event_id=eid, student_id=sid, occurred_on=D(2026, 3, 1), source_institution="XTJX",
                source_course="XT-CNC1", source_credits=Decimal(6), source_grade=82, source_date=D(2025, 6, 30),
                target={"course": "CNC201"}, credits=Decimal(6), agreement_id="AGR-HN-MFG-2024")
    data.update(kw)
    return cl.CreditRecognized(**data)


def test_source_after_recognition(enrolled):
    ev = recognized(source_date=D(2026, 3, 2))
    with refused(enrolled, cl.RejectedEvent, "source_after_recognition", student="S1", event="S1-rec"):
        enrolled.append(ev)
    enrolled.append(recognized(eid="S1-rec-ok"))
    assert enrolled.balance("S1").by_origin["recognized"] == Decimal("6.00")


def test_received_for_another_student(enrolled):
    """A statement, and the source school's student it names, are received for one student of the ledger."""
    enrolled.append(enrol("S2", eid="S2-enrol"))
    enrolled.append(recognized(statement_id="XTJX-1", source_student_id="X7"))
    for eid, kw in {"S2-rec": dict(statement_id="XTJX-1"), "S2-rec-x7": dict(source_student_id="X7")}.items():
        with refused(enrolled, cl.RejectedEvent, "received_for_another_student", student="S2", event=eid) as info:
            enrolled.append(recognized("S2", eid, **kw))
        assert "S1" not in str(info.value)  # the other student is not named
    with refused(enrolled, cl.RejectedEvent, "received_for_another_student", student="S1", event="S1-rec-b"):
        enrolled.append_many([recognized("S2", "S2-rec-b", statement_id="XTJX-2"),
                              recognized("S1", "S1-rec-b", statement_id="XTJX-2")])  # in one batch alike
    enrolled.append(recognized("S2", "S2-rec-ok", statement_id="XTJX-1", source_institution="ZZJX",
                               source_course="ZZ-ELEC", target={"course": "ELEC101"}))  # another issuer's id
    enrolled.append(recognized(eid="S1-rec-2", statement_id="XTJX-1", source_course="XT-DRAW",
                               target={"course": "MECH101"}))  # the same student: fine


def test_unknown_agreement(enrolled):
    ev = recognized(agreement_id="AGR-NOPE")
    with refused(enrolled, cl.UnknownReference, "unknown_agreement", student="S1", event="S1-rec"):
        enrolled.append(ev)


def converted(sid: str = "S1", eid: str = "S1-conv", **kw: Any) -> cl.OutcomeConverted:
    data = dict(event_id=eid, student_id=sid, occurred_on=D(2026, 3, 1), outcome_type="certificate",
                outcome_id="CERT-001", title="数控车工", level="foundation", target={"course": "PRA305"},
                credits=Decimal(4), rule_id="CERT-CNC-L5")
    data.update(kw)
    return cl.OutcomeConverted(**data)


def test_unknown_rule(enrolled):
    ev = converted(rule_id="RULE-NOPE")
    with refused(enrolled, cl.UnknownReference, "unknown_rule", student="S1", event="S1-conv"):
        enrolled.append(ev)


def test_unknown_outcome(enrolled):
    enrolled.append(converted())
    ev = cl.OutcomeRevoked(event_id="S1-revoke", student_id="S1", occurred_on=D(2026, 4, 1),
                           outcome_type="certificate", outcome_id="CERT-999")
    with refused(enrolled, cl.UnknownReference, "unknown_outcome", student="S1", event="S1-revoke"):
        enrolled.append(ev)
    enrolled.append(ev.model_copy(update={"event_id": "S1-revoke-ok", "outcome_id": "CERT-001"}))
    assert balance(enrolled, "S1") == 0


@pytest.mark.parametrize("award, day", [
    ("graduation", D(2028, 7, 1)),      # no credits at all after three years
    ("completion", D(2027, 7, 1)),      # the three-year study period has not ended
    ("partial_study", D(2026, 6, 1)),   # less than one year of study
])
def test_audit_not_eligible(enrolled, award, day):
    ev = cl.Graduated(event_id=f"S1-{award}", student_id="S1", occurred_on=day, award=award)
    with refused(enrolled, cl.RejectedEvent, "audit_not_eligible", student="S1", event=f"S1-{award}"):
        enrolled.append(ev)


def test_exit_awards_are_supported_once_their_time_has_come(enrolled):
    enrolled.append(cl.Graduated(event_id="S1-exit", student_id="S1", occurred_on=D(2028, 9, 2),
                                 award="completion"))
    assert enrolled.status("S1", D(2028, 9, 2)) == "graduated"


# -- duplicates and unknown references -------------------------------------------------------------------------------


def test_duplicate_event_against_the_ledger(enrolled):
    enrolled.append(course(eid="S1-c1", grade=80))
    ev = course(eid="S1-c1", grade=81)
    with refused(enrolled, cl.DuplicateEvent, "duplicate_event", student="S1", event="S1-c1"):
        enrolled.append(ev)


def test_duplicate_event_id_for_another_student(enrolled):
    enrolled.append(course(eid="S1-c1"))
    enrolled.append(enrol("S2", eid="S2-enrol"))
    ev = course("S2", eid="S1-c1")
    with refused(enrolled, cl.DuplicateEvent, "duplicate_event", student="S2", event="S1-c1"):
        enrolled.append(ev)


def test_duplicate_event_within_one_batch(enrolled):
    batch = [course(eid="S1-c1", grade=80), course(eid="S1-c1", grade=90)]
    with refused(enrolled, cl.DuplicateEvent, "duplicate_event", student="S1", event="S1-c1"):
        enrolled.append_many(batch)


def test_identical_event_twice_in_one_batch_is_written_once(enrolled):
    n = enrolled.count()
    ev = course(eid="S1-c1")
    r1, r2 = enrolled.append_many([ev, ev])
    assert r1 == r2
    assert enrolled.count() == n + 1


def test_unknown_institution(ledger):
    ev = enrol("S4", institution="NOPE", eid="S4-enrol")
    with refused(ledger, cl.UnknownReference, "unknown_institution", student="S4", event="S4-enrol"):
        ledger.append(ev)


def test_unknown_program(ledger):
    ev = enrol("S4", program="NOPE-2025", eid="S4-enrol")
    with refused(ledger, cl.UnknownReference, "unknown_program", student="S4", event="S4-enrol"):
        ledger.append(ev)


def test_unknown_program_on_change(enrolled):
    ev = cl.ProgramChanged(event_id="S1-pc", student_id="S1", occurred_on=D(2026, 2, 1), program="NOPE-2025")
    with refused(enrolled, cl.UnknownReference, "unknown_program", student="S1", event="S1-pc"):
        enrolled.append(ev)


# -- permissions -----------------------------------------------------------------------------------------------------


@pytest.fixture
def shared_db(ledger_url, file_ledger):
    """The file ledger with S1 enrolled at HNJX, and its URL (for other ledgers on the same file or database)."""
    file_ledger.append(enrol())
    return ledger_url


def test_not_own_student(shared_db, file_ledger):
    with cl.Ledger.open(shared_db, acting_as="XTJX") as xtjx:
        ev = cl.Suspended(event_id="S1-susp-by-xt", student_id="S1", occurred_on=D(2025, 11, 1))
        with refused(xtjx, cl.PermissionDenied, "not_own_student", student="S1", event="S1-susp-by-xt"):
            xtjx.append(ev)
    assert file_ledger.count() == 1 and file_ledger.verify().ok


def test_not_own_student_for_course(shared_db):
    with cl.Ledger.open(shared_db, acting_as="XTJX") as xtjx:
        ev = course(code="XT-CNC1", institution="XTJX", eid="S1-xt")
        with refused(xtjx, cl.PermissionDenied, "not_own_student", student="S1", event="S1-xt"):
            xtjx.append(ev)


def test_not_own_course(shared_db):
    with cl.Ledger.open(shared_db, acting_as=HNJX) as hnjx:
        ev = course(code="XT-CNC1", institution="XTJX", eid="S1-xt")
        with refused(hnjx, cl.PermissionDenied, "not_own_course", student="S1", event="S1-xt"):
            hnjx.append(ev)


def test_not_own_program(shared_db):
    with cl.Ledger.open(shared_db, acting_as="XTJX") as xtjx:
        ev = enrol("S7", eid="S7-enrol")
        with refused(xtjx, cl.PermissionDenied, "not_own_program", student="S7", event="S7-enrol"):
            xtjx.append(ev)


def test_recorded_by_mismatch(shared_db):
    with cl.Ledger.open(shared_db, acting_as=HNJX) as hnjx:
        ev = course(eid="S1-c1", recorded_by="XTJX")
        with refused(hnjx, cl.PermissionDenied, "recorded_by_mismatch", student="S1", event="S1-c1"):
            hnjx.append(ev)
        receipt = hnjx.append(course(eid="S1-c1", recorded_by=HNJX))  # repeating the acting institution is fine
        assert receipt.event_id == "S1-c1"


def test_permission_denied_outranks_other_refusals_in_a_batch(shared_db):
    with cl.Ledger.open(shared_db, acting_as=HNJX) as hnjx:
        batch = [course(code="CNC999", eid="S1-unknown"), course(code="XT-CNC1", institution="XTJX", eid="S1-xt")]
        n = hnjx.count()
        with pytest.raises(cl.PermissionDenied) as info:
            hnjx.append_many(batch)
        assert {"unknown_course", "not_own_course"} <= set(info.value.codes)
        assert hnjx.count() == n and hnjx.verify().ok


def test_not_own_catalog_entry(shared_db, catalog):
    other = cl.Course(institution="XTJX", code="XT-NEW", title="x", hours=32, category="core")
    xt = catalog.institution("XTJX")
    with cl.Ledger.open(shared_db, acting_as=HNJX) as hnjx:
        with pytest.raises(cl.PermissionDenied) as info:
            hnjx.load_catalog(cl.Catalog(institutions=(xt,), courses=(other,)))
        assert info.value.codes == ["not_own_catalog_entry"] and "XT-NEW" in str(info.value)
        assert hnjx.catalog.course("XTJX", "XT-NEW") is None


def test_not_own_record(shared_db):
    """After a transfer, the new school may not correct what the old one recorded (issue 12); the old one may."""
    with cl.Ledger.open(shared_db, acting_as="XTJX") as xtjx, cl.Ledger.open(shared_db, acting_as=HNJX) as hnjx:
        xtjx.append_many([enrol("S2", D(2024, 9, 1), program="XT-CNC-2024", institution="XTJX", eid="S2-enrol-xt"),
                          course("S2", "XT-CNC1", D(2025, 1, 10), institution="XTJX", eid="S2-xt1"),
                          cl.Withdrawn(event_id="S2-wd", student_id="S2", occurred_on=D(2025, 7, 1))])
        hnjx.append(enrol("S2", D(2025, 9, 1), eid="S2-enrol-hn"))
        fix = cl.GradeCorrected(event_id="S2-fix", student_id="S2", occurred_on=D(2025, 10, 1),
                                target_event_id="S2-xt1", grade=30)
        with refused(hnjx, cl.PermissionDenied, "not_own_record", student="S2", event="S2-fix") as info:
            hnjx.append(fix)
        assert "XTJX" in str(info.value) and "S2-xt1" in str(info.value)
        xtjx.append(fix)  # the school that recorded the course corrects it, after the student has left
        assert [e.recorded_by for e in xtjx.events("S2")][-1] == "XTJX"


def test_acting_institution_writes_its_own(shared_db):
    with cl.Ledger.open(shared_db, acting_as=HNJX) as hnjx:
        hnjx.append(course(eid="S1-c1"))
        [_, stored] = hnjx.events("S1")
        assert stored.recorded_by == HNJX
        assert hnjx.verify().ok


# -- atomicity and idempotence ---------------------------------------------------------------------------------------


def good_batch() -> list[Any]:
    return [enrol("S8", eid="S8-enrol"),
            course("S8", "MECH101", D(2026, 1, 10), eid="S8-c1"),
            course("S8", "MECH102", D(2026, 1, 11), eid="S8-c2"),
            course("S8", "ELEC101", D(2026, 1, 12), eid="S8-c3"),
            course("S8", "PUB101", D(2026, 1, 13), eid="S8-c4")]


def test_append_many_is_atomic(ledger):
    bad = course("S8", "CNC999", D(2026, 1, 14), eid="S8-bad")
    with refused(ledger, cl.UnknownReference, "unknown_course", student="S8", event="S8-bad"):
        ledger.append_many(good_batch() + [bad])
    assert ledger.count() == 0
    assert ledger.events("S8") == []
    assert ledger.students() == []


def test_append_many_atomic_with_plain_rejection_names_only_the_bad_event(ledger):
    bad = course("S8", "XT-CNC1", D(2026, 1, 14), institution="XTJX", eid="S8-bad")
    with refused(ledger, cl.RejectedEvent, "not_home_course", student="S8", event="S8-bad") as info:
        ledger.append_many(good_batch()[:3] + [bad] + good_batch()[3:])
    assert [i.event_id for i in info.value.issues] == ["S8-bad"]
    assert ledger.count() == 0


def test_append_many_names_every_refused_event(ledger):
    batch = good_batch() + [course("S8", "CNC999", D(2026, 1, 14), eid="S8-bad1"),
                            course("S8", "CNC998", D(2026, 1, 15), eid="S8-bad2")]
    with pytest.raises(cl.UnknownReference) as info:
        ledger.append_many(batch)
    assert {i.event_id for i in info.value.issues} == {"S8-bad1", "S8-bad2"}
    assert ledger.count() == 0


def test_reappending_identical_event_returns_first_receipt(enrolled):
    ev = course(eid="S1-c1")
    first = enrolled.append(ev)
    n, head = enrolled.count(), enrolled.head()
    again = enrolled.append(ev)
    assert again == first
    assert enrolled.count() == n and enrolled.head() == head
    assert enrolled.append_many([ev, course(eid="S1-c2", code="MECH102")])[0] == first
    assert enrolled.count() == n + 1


def test_reappending_from_plain_data_is_identical(enrolled):
    ev = course(eid="S1-c1")
    first = enrolled.append(ev)
    n = enrolled.count()
    assert enrolled.append(ev.model_dump(mode="json")) == first
    assert enrolled.count() == n


def test_recorded_by_stamp_does_not_change_identity(enrolled):
    ev = course(eid="S1-c1")
    assert ev.recorded_by is None
    first = enrolled.append(ev)
    n = enrolled.count()
    stored = next(e for e in enrolled.events("S1") if e.event_id == "S1-c1")
    assert stored.recorded_by == HNJX
    assert enrolled.append(stored) == first            # re-appended with the stamp
    assert enrolled.append(ev) == first                # re-appended without it
    assert enrolled.count() == n


def test_batch_out_of_date_order_is_checked_in_date_order(ledger):
    batch = list(reversed(good_batch()))
    receipts = ledger.append_many(batch)
    assert [r.event_id for r in receipts] == [e.event_id for e in batch]
    assert ledger.count() == 5 and ledger.verify().ok
    assert balance(ledger, "S8") == Decimal("16.00")


def test_batch_with_suspension_and_resumption_in_reverse_order(ledger):
    batch = [course("S8", on=D(2026, 4, 1), eid="S8-after"),
             cl.Resumed(event_id="S8-res", student_id="S8", occurred_on=D(2026, 3, 1)),
             cl.Suspended(event_id="S8-sus", student_id="S8", occurred_on=D(2025, 11, 1)),
             enrol("S8", eid="S8-enrol")]
    ledger.append_many(batch)
    assert balance(ledger, "S8") == Decimal("4.00")


@settings(max_examples=25)
@given(st.permutations(range(5)))
def test_any_order_of_a_good_batch_is_accepted(catalog, order):
    with cl.Ledger.open() as led:
        led.load_catalog(catalog)
        batch = good_batch()
        led.append_many([batch[i] for i in order])
        assert led.count() == 5
        assert balance(led, "S8") == Decimal("16.00")
        assert led.verify().ok


# -- status over time ------------------------------------------------------------------------------------------------


def test_program_change_keeps_credits(ledger):
    ledger.append(enrol(entry_basis="veteran"))
    ledger.append(course(eid="S1-c1", on=D(2026, 1, 12)))
    ledger.append(cl.ProgramChanged(event_id="S1-pc", student_id="S1", occurred_on=D(2026, 2, 1),
                                    program="CNC-TECH-2025"))
    assert balance(ledger, "S1") == Decimal("4.00")
    ledger.append(course(eid="S1-c2", code="TEC401", on=D(2026, 6, 1)))
    assert balance(ledger, "S1") == Decimal("10.00")
    assert ledger.status("S1", D(2026, 6, 1)) == "active"


def test_program_change_into_a_technician_class_needs_an_entry_basis(enrolled):
    ev = cl.ProgramChanged(event_id="S1-pc", student_id="S1", occurred_on=D(2026, 2, 1), program="CNC-TECH-2025")
    with refused(enrolled, cl.RejectedEvent, "entry_basis_required", student="S1", event="S1-pc"):
        enrolled.append(ev)


def test_program_change_into_a_program_without_the_mode(enrolled):
    ev = cl.ProgramChanged(event_id="S1-pc", student_id="S1", occurred_on=D(2026, 2, 1), program="MECH-PT-2024")
    with refused(enrolled, cl.RejectedEvent, "mode_not_offered", student="S1", event="S1-pc"):
        enrolled.append(ev)


def test_withdrawn_student_cannot_record_courses(enrolled):
    enrolled.append(cl.Withdrawn(event_id="S1-w", student_id="S1", occurred_on=D(2026, 2, 1)))
    ev = course(eid="S1-after", on=D(2026, 3, 1))
    with refused(enrolled, cl.RejectedEvent, "not_enrolled", student="S1", event="S1-after"):
        enrolled.append(ev)
    ev = cl.Withdrawn(event_id="S1-w2", student_id="S1", occurred_on=D(2026, 3, 1))
    with refused(enrolled, cl.RejectedEvent, "not_enrolled", student="S1", event="S1-w2"):
        enrolled.append(ev)


def test_re_enrolment_after_withdrawal(enrolled):
    enrolled.append(course(eid="S1-c1", on=D(2026, 1, 12)))
    enrolled.append(cl.Withdrawn(event_id="S1-w", student_id="S1", occurred_on=D(2026, 2, 1)))
    enrolled.append(enrol(on=D(2026, 9, 1), eid="S1-re-enrol"))
    assert enrolled.status("S1", D(2026, 5, 1)) == "withdrawn"
    assert enrolled.status("S1", D(2026, 9, 1)) == "active"
    enrolled.append(course(eid="S1-c2", code="MECH102", on=D(2027, 1, 12)))
    assert balance(enrolled, "S1") == Decimal("8.00")
    assert enrolled.verify().ok


# -- validation before writing ---------------------------------------------------------------------------------------


def _course_data(**kw: Any) -> dict[str, Any]:
    data = {"kind": "course_completed", "event_id": "S1-cx", "student_id": "S1", "occurred_on": "2026-01-12",
            "institution": HNJX, "course": "MECH101", "grade": 80}
    data.update(kw)
    return data


MALFORMED = {
    "negative credits": _course_data(credits="-1"),
    "empty event_id": _course_data(event_id=""),
    "date before 1950": _course_data(occurred_on="1949-12-31"),
    "date after 2199": _course_data(occurred_on="2200-01-01"),
    "unknown grade word": _course_data(grade="superb"),
    "apprentice without employer": {"kind": "enrolled", "event_id": "S1-ax", "student_id": "S1",
                                    "occurred_on": "2025-09-01", "institution": HNJX, "program": "CNC-APP-2025",
                                    "mode": "apprentice"},
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_event_is_a_validation_error(enrolled, name):
    data = MALFORMED[name]
    cls = cl.CourseCompleted if data["kind"] == "course_completed" else cl.Enrolled
    with pytest.raises(pydantic.ValidationError):
        cls(**{k: v for k, v in data.items() if k != "kind"})
    n = enrolled.count()
    with pytest.raises(pydantic.ValidationError):
        enrolled.append(data)
    with pytest.raises(pydantic.ValidationError):
        enrolled.append_many([_course_data(event_id="S1-good"), data])
    assert enrolled.count() == n
    assert enrolled.verify().ok


def test_boundary_dates_are_valid():
    course(on=D(1950, 1, 1))
    course(on=D(2199, 12, 31))


@given(st.one_of(st.dates(max_value=D(1949, 12, 31)), st.dates(min_value=D(2200, 1, 1))))
def test_any_date_outside_range_is_refused(day):
    with pytest.raises(pydantic.ValidationError):
        course(on=day)


@given(st.decimals(max_value=Decimal("-0.01"), allow_nan=False, allow_infinity=False, places=2))
def test_any_negative_credits_are_refused(credits):
    with pytest.raises(pydantic.ValidationError):
        course(credits=credits)


def test_apprentice_with_employer_is_valid(ledger):
    ledger.append(enrol("S6", program="CNC-APP-2025", mode="apprentice", employer="湘江重工装备有限公司",
                        eid="S6-enrol"))
    assert ledger.status("S6", D(2025, 9, 1)) == "active"



# -- recording order does not change a verdict -----------------------------------------------------------------------


@pytest.mark.parametrize("ender", [cl.Suspended, cl.Withdrawn])
def test_same_day_course_and_end_of_study_verdict_does_not_depend_on_recording_order(catalog, ender):
    """Within a day, study replays before what ends study (KIND_RANK), so a course dated the day of a suspension or
    withdrawal is accepted in one batch, and when recorded before it; recorded after it, the same history must get
    the same verdict."""
    day = D(2026, 1, 12)
    end = ender(event_id="S1-end", student_id="S1", occurred_on=day)
    done = course(on=day, eid="S1-same-day")
    verdicts = {}
    for name, steps in {"one batch": [[enrol(), end, done]], "course first": [[enrol()], [done], [end]],
                        "end first": [[enrol()], [end], [done]]}.items():
        with cl.Ledger.open() as led:
            led.load_catalog(catalog)
            try:
                for step in steps:
                    led.append_many(step)
                verdicts[name] = ("accepted", balance(led, "S1"))
            except cl.RejectedEvent as exc:
                verdicts[name] = ("refused", tuple(exc.codes))
    assert verdicts["one batch"] == verdicts["course first"] == ("accepted", Decimal("4.00"))
    assert verdicts["end first"] == verdicts["one batch"], verdicts


def test_reversed_makeup_does_not_use_up_the_allowance(enrolled):
    enrolled.append(course(grade=40, eid="S1-c-reg", on=D(2026, 1, 10)))
    enrolled.append(course(grade=45, eid="S1-c-mk1", on=D(2026, 3, 1), attempt="makeup"))
    enrolled.reverse("S1-c-mk1", reason="recorded in error", occurred_on=D(2026, 3, 2))
    enrolled.append(course(grade=70, eid="S1-c-mk2", on=D(2026, 4, 1), attempt="makeup"))
    [record] = enrolled.transcript("S1").records
    assert record.flagged and record.score == Decimal(60)


def test_grade_correction_of_a_reversed_course_is_already_reversed(enrolled):
    enrolled.append(course(eid="S1-c1"))
    enrolled.reverse("S1-c1", reason="wrong student", occurred_on=D(2026, 2, 1))
    ev = cl.GradeCorrected(event_id="S1-gc", student_id="S1", occurred_on=D(2026, 3, 1), target_event_id="S1-c1",
                           grade=90)
    with refused(enrolled, cl.RejectedEvent, "already_reversed", student="S1", event="S1-gc"):
        enrolled.append(ev)


def test_resending_a_batch_with_one_new_event_writes_only_the_new_one(ledger):
    first = ledger.append_many(good_batch()[:3])
    again = ledger.append_many(good_batch())
    assert again[:3] == first
    assert ledger.count() == 5 and ledger.verify().ok


# -- recognition and conversion decisions (transfer.py) --------------------------------------------------------------
# A refused item is not an error: the decision carries the code and a sentence naming the student, the item and the
# rule, and nothing is written for it.

_KEY = Ed25519PrivateKey.from_private_bytes(bytes(32))
_TRUSTED = {"XTJX": cl.public_key_hex(_KEY), "ZZJX": cl.public_key_hex(_KEY)}
_ON = D(2026, 3, 1)


def _statement(*results: tuple[str, Any, date], issuer: str = "XTJX", sid: str = "S1") -> cl.TransferStatement:
    catalog = cl.Catalog.sample()
    items = []
    for code, grade, on in results:
        found = catalog.course(issuer, code)
        items.append(cl.StatementResult(course=code, title=found.title, category=found.category,
                                        credits=found.credits, grade=grade, occurred_on=on))
    return cl.TransferStatement(statement_id=f"{issuer}-{sid}-t", issuer=issuer, student_id=sid,
                                results=tuple(items), issued_at=datetime(2025, 8, 1, tzinfo=timezone.utc)).sign(_KEY)


def _outcome(kind: str = "certificate", oid: str = "CERT-1", **kw: Any) -> cl.Outcome:
    data = {"certificate": dict(title="数控车工", level="中级"),
            "competition": dict(title="技能大赛", level="省级", rank=1),
            "online_course": dict(title="慕课", hours=Decimal(96))}[kind]
    data.update(kw)
    return cl.Outcome(type=kind, outcome_id=oid, **data)


def decided(ledger: cl.Ledger, result: cl.RecognitionResult, code: str, *, student: str, item: str,
            index: int = -1, written: int | None = None) -> cl.Decision:
    """The decision at ``index`` carries ``code`` and names the student and the item; ``written`` events (default:
    none for a refused item) went into the ledger, which still verifies."""
    decision = result.decisions[index]
    assert decision.code == code, [d.code for d in result.decisions]
    assert f"student {student}" in decision.message and item in decision.message and item in decision.item
    if not decision.accepted:
        assert decision.credits == 0 and decision.event_ids == ()
    if written is not None:
        assert len(result.events) == written
    assert ledger.verify().ok
    return decision


def test_below_min_grade(enrolled):
    res = enrolled.receive_statement(_statement(("XT-CNC1", 58, D(2025, 6, 30))), trusted_keys=_TRUSTED, as_of=_ON)
    d = decided(enrolled, res, "below_min_grade", student="S1", item="XT-CNC1", written=0)
    assert "AGR-HN-MFG-2024" in d.message and "58" in d.message


def test_too_old(enrolled):
    res = enrolled.receive_statement(_statement(("XT-CNC1", 80, D(2023, 1, 10))), trusted_keys=_TRUSTED,
                                     as_of=D(2028, 6, 1))
    decided(enrolled, res, "too_old", student="S1", item="XT-CNC1", written=0)


def test_not_in_agreement(enrolled):
    """ZZ-PLC is recognised only together with ZZ-ELEC (many-to-one); alone no agreement names it."""
    res = enrolled.receive_statement(_statement(("ZZ-PLC", 80, D(2025, 6, 30)), issuer="ZZJX"),
                                     trusted_keys=_TRUSTED, as_of=_ON)
    decided(enrolled, res, "not_in_agreement", student="S1", item="ZZ-PLC", written=0)


def test_agreement_expired(enrolled):
    res = enrolled.receive_statement(_statement(("XT-CNC1", 80, D(2027, 6, 30))), trusted_keys=_TRUSTED,
                                     as_of=D(2029, 1, 2))
    d = decided(enrolled, res, "agreement_expired", student="S1", item="XT-CNC1", written=0)
    assert d.rule == "AGR-HN-MFG-2024"


def test_not_a_member(enrolled):
    res = enrolled.receive_statement(_statement(("ZZ-ELEC", 80, D(2024, 2, 1)), issuer="ZZJX"),
                                     trusted_keys=_TRUSTED, as_of=_ON)
    d = decided(enrolled, res, "not_a_member", student="S1", item="ZZ-ELEC", written=0)
    assert "HN-MFG" in d.message


def test_cap_external(enrolled):
    """CNC-SR-2025: 150 credits, at most 50% (75) recognised and converted."""
    enrolled.convert("S1", [_outcome("competition", f"AWARD-{n}", level="国家级") for n in range(7)], as_of=_ON)
    res = enrolled.receive_statement(_statement(("XT-CNC1", 80, D(2025, 6, 30)), ("XT-CNC2", 80, D(2025, 6, 30))),
                                     trusted_keys=_TRUSTED, as_of=D(2026, 3, 2))
    d = decided(enrolled, res, "cap_external", student="S1", item="XT-CNC1", index=0, written=1)
    assert d.accepted and d.credits == Decimal(5) and "max_external_ratio" in d.message
    decided(enrolled, res, "cap_external", student="S1", item="XT-CNC2", index=1)
    assert enrolled.balance("S1").total == Decimal(75)


def test_cap_online(enrolled):
    """CNC-SR-2025 takes at most 25% of 150 online (37.50); each MOOC gives at most 6."""
    res = enrolled.convert("S1", [_outcome("online_course", f"MOOC-{n}") for n in range(8)], as_of=_ON)
    d = decided(enrolled, res, "cap_online", student="S1", item="MOOC-6", index=6)
    assert d.accepted and d.credits == Decimal("1.50")
    decided(enrolled, res, "cap_online", student="S1", item="MOOC-7", index=7, written=7)


def test_cap_certificate(enrolled):
    res = enrolled.convert("S1", [_outcome(oid="NC-4-0042")], as_of=_ON)
    d = decided(enrolled, res, "cap_certificate", student="S1", item="NC-4-0042", written=2)
    assert d.accepted and d.credits == Decimal(8) and "max_certificate_credits" in d.message


def test_duplicate_outcome(enrolled):
    enrolled.convert("S1", [_outcome(oid="NC-4-0042")], as_of=_ON)
    before = enrolled.count()
    res = enrolled.convert("S1", [_outcome(oid="NC-4-0042")], as_of=D(2026, 3, 5))
    decided(enrolled, res, "duplicate_outcome", student="S1", item="NC-4-0042", written=0)
    assert enrolled.count() == before


def test_overlap_lower(enrolled):
    enrolled.convert("S1", [_outcome(oid="NC-3-0001", level="高级")], as_of=_ON)  # CNC201 6 + CNC202 2 (8 at most)
    before = enrolled.count()
    res = enrolled.convert("S1", [_outcome(oid="NC-4-0002", level="中级")], as_of=D(2026, 3, 5))  # the same, no more
    d = decided(enrolled, res, "overlap_lower", student="S1", item="NC-4-0002", written=0)
    assert "NC-3-0001" in d.message and enrolled.count() == before


def test_certificate_expired(enrolled):
    res = enrolled.convert("S1", [_outcome(oid="NC-4-0009", valid_until=D(2026, 2, 28))], as_of=_ON)
    d = decided(enrolled, res, "certificate_expired", student="S1", item="NC-4-0009", written=0)
    assert "2026-02-28" in d.message


def test_not_enrolled_for_a_decision(ledger):
    res = ledger.convert("S9", [_outcome()], as_of=_ON)
    decided(ledger, res, "not_enrolled", student="S9", item="CERT-1", written=0)
    res = ledger.receive_statement(_statement(("XT-CNC1", 80, D(2025, 6, 30)), sid="S9"), trusted_keys=_TRUSTED,
                                   as_of=_ON)
    decided(ledger, res, "not_enrolled", student="S9", item="XT-CNC1", written=0)
    assert ledger.count() == 0


def test_no_rule(enrolled):
    res = enrolled.convert("S1", [_outcome(oid="CHEF-1", title="中式烹调师")], as_of=_ON)
    d = decided(enrolled, res, "no_rule", student="S1", item="CHEF-1", written=0)
    assert "CERT-CNC-L4" in d.message


def test_source_after_recognition_in_a_statement(enrolled):
    res = enrolled.receive_statement(_statement(("XT-CNC1", 80, D(2026, 7, 1))), trusted_keys=_TRUSTED, as_of=_ON)
    decided(enrolled, res, "source_after_recognition", student="S1", item="XT-CNC1", written=0)


# -- personal data (the roster, outside the chain: more in test_roster.py) ------------------------------------------


def test_personal_data_of_a_student_the_ledger_does_not_know_is_refused(enrolled):
    before = (enrolled.count(), enrolled.head())
    with pytest.raises(cl.UnknownReference) as refused:
        enrolled.set_personal("S9", name="王小明")
    assert refused.value.issues[0].code == "unknown_student" and "S9" in str(refused.value)
    with pytest.raises(cl.UnknownReference):
        enrolled.erase_personal("S9")
    assert (enrolled.count(), enrolled.head()) == before and enrolled.roster() == {}
