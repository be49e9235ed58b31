"""Tenancy: a ledger opened ``acting_as`` a school reads and writes only what the school has a reason to.

One ledger holds S1 (a student of HNJX) and S2 (of XTJX); HNJX and XTJX share the sample catalog's alliance
agreement, SANY-HV (an enterprise in the catalog) shares none. Every read path and every write path is tried as
the wrong school; a refusal is ``PermissionDenied`` (or, for ``reverse``, "not a record you may read") and tells
nothing of the other school's record. Both engines.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any, Callable

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import credit_ledger as cl
from credit_ledger.access import partners, read_reason

D = date
OUTSIDER = "SANY-HV"
KEY = Ed25519PrivateKey.generate()
CERTIFICATE = cl.Outcome(type="certificate", outcome_id="NC-4-0001", title="数控车工", level="中级",
                         issued_on=D(2026, 3, 1), valid_until=D(2031, 3, 1))
"""In the catalog, in no alliance and no agreement."""

XT_PROGRAM = {
    "institution": "XTJX", "code": "XT-CNC-2025", "title": "数控加工（中级工）", "level": "intermediate_worker",
    "kind": "regular", "modes": ["full_time"], "standard_years": 3, "min_years": 2, "max_years": 6,
    "total_credits": 12, "requirements": {"id": "root", "title": "毕业要求", "courses": ["XT-CNC1", "XT-CNC2"]},
}


def school_catalog(*, agreements: bool = True) -> cl.Catalog:
    """The sample catalog with a program at XTJX (and, optionally, without any agreement)."""
    data = json.loads(cl.Catalog.sample().to_json())
    data["programs"].append(XT_PROGRAM)
    if not agreements:
        data["agreements"] = []
    return cl.Catalog.from_data(data)


def enrol(sid: str, school: str, program: str, on: date = D(2025, 9, 1)) -> cl.Enrolled:
    return cl.Enrolled(event_id=f"{sid}-enrol-{school}", student_id=sid, occurred_on=on, institution=school,
                       program=program)


def course(sid: str, school: str, code: str, eid: str, on: date = D(2026, 1, 10), grade: Any = 80
           ) -> cl.CourseCompleted:
    return cl.CourseCompleted(event_id=eid, student_id=sid, occurred_on=on, institution=school, course=code,
                              grade=grade)


def populate(url: str, *, agreements: bool = True) -> cl.Ledger:
    """The operator's ledger (no ``acting_as``): S1 at HNJX with one course, S2 at XTJX with one course."""
    operator = cl.Ledger.open(url, create=True)
    operator.load_catalog(school_catalog(agreements=agreements))
    operator.append_many([enrol("S1", "HNJX", "CNC-SR-2025"), course("S1", "HNJX", "MECH101", "S1-c1"),
                          enrol("S2", "XTJX", "XT-CNC-2025"), course("S2", "XTJX", "XT-CNC1", "S2-c1")])
    return operator


@pytest.fixture
def operator(ledger_url: str) -> cl.Ledger:
    led = populate(ledger_url)
    yield led
    led.close()


@pytest.fixture
def as_school(ledger_url: str, operator: cl.Ledger) -> Callable[[str], cl.Ledger]:
    """Open the same ledger acting as a school (closed after the test)."""
    opened: list[cl.Ledger] = []

    def open_as(school: str) -> cl.Ledger:
        opened.append(cl.Ledger.open(ledger_url, acting_as=school))
        return opened[-1]

    yield open_as
    for led in opened:
        led.close()


READS: dict[str, Callable[[cl.Ledger, str], Any]] = {
    "events": lambda led, s: led.events(s),
    "events_as_of": lambda led, s: led.events(s, as_of=D(2026, 1, 1)),
    "transcript": lambda led, s: led.transcript(s),
    "transcript_as_of": lambda led, s: led.transcript(s, as_of=D(2026, 6, 1)),
    "balance": lambda led, s: led.balance(s),
    "balance_as_of": lambda led, s: led.balance(s, as_of=D(2026, 6, 1)),
    "status": lambda led, s: led.status(s, D(2026, 1, 1)),
    "audit": lambda led, s: led.audit(s, as_of=D(2026, 6, 1)),
    "audit_what_if": lambda led, s: led.audit(s, program="CNC-TECH-2025", as_of=D(2026, 6, 1)),
    "audit_all": lambda led, s: list(led.audit_all([s], D(2026, 6, 1))),
    "issue_statement": lambda led, s: led.issue_statement(s, key=KEY),
    "convert_dry_run": lambda led, s: led.convert(s, [CERTIFICATE], as_of=D(2026, 6, 1), dry_run=True),
}
"""Every read of one student's record the Ledger offers (an audit, a statement and a conversion decision read the
whole record)."""


def _unchanged(operator: cl.Ledger, before: tuple) -> None:
    assert (operator.count(), operator.head()) == before
    assert operator.verify().ok


# -- reads ----------------------------------------------------------------------------------------------------------


def test_every_read_of_another_schools_student_is_refused(operator, as_school):
    outsider = as_school(OUTSIDER)
    for path, read in READS.items():
        with pytest.raises(cl.PermissionDenied) as refused:
            read(outsider, "S1")
        assert refused.value.codes == ["not_own_student"], path
        message = str(refused.value)
        assert OUTSIDER in message and "S1" in message
        assert "HNJX" not in message and "MECH101" not in message, path  # nothing of the record is told


def test_a_student_not_in_the_ledger_is_refused_alike(operator, as_school):
    """The refusal does not tell whether the student exists."""
    outsider = as_school(OUTSIDER)
    for path, read in READS.items():
        messages = []
        for student in ("S1", "S-nobody"):
            with pytest.raises(cl.PermissionDenied) as refused:
                read(outsider, student)
            messages.append(str(refused.value).replace(student, "<student>"))
        assert messages[0] == messages[1], path


def test_listings_show_only_readable_students(operator, as_school):
    outsider, hnjx, xtjx = as_school(OUTSIDER), as_school("HNJX"), as_school("XTJX")
    assert outsider.students() == [] and outsider.count() == 0
    assert hnjx.students() == ["S1", "S2"] == xtjx.students()  # the alliance agreement links the two schools
    assert hnjx.count() == operator.count() == 4
    assert outsider.verify().ok and outsider.verify().checked == 4  # integrity is ledger-wide


def test_an_agreement_gives_reason_to_read(operator, as_school):
    xtjx = as_school("XTJX")
    assert [e.event_id for e in xtjx.events("S1")] == ["S1-enrol-HNJX", "S1-c1"]
    assert xtjx.balance("S1").total == Decimal("4.00")
    assert xtjx.status("S1", D(2026, 1, 1)) == "active"
    assert as_school("HNJX").transcript("S2").records[0].course == "XT-CNC1"


def test_without_an_agreement_a_partner_school_reads_nothing(ledger_url):
    with populate(ledger_url, agreements=False) as operator, \
            cl.Ledger.open(ledger_url, acting_as="XTJX") as xtjx:
        for read in READS.values():
            with pytest.raises(cl.PermissionDenied):
                read(xtjx, "S1")
        assert [e.event_id for e in xtjx.events("S2")] == ["S2-enrol-XTJX", "S2-c1"]
        assert xtjx.students() == ["S2"] and xtjx.count() == 2
        assert operator.count() == 4


def test_own_students_are_read_and_written(operator, as_school):
    hnjx = as_school("HNJX")
    hnjx.append(course("S1", "HNJX", "MECH102", "S1-c2"))
    assert hnjx.balance("S1").total == Decimal("8.00")
    assert hnjx.events("S1")[-1].recorded_by == "HNJX"


# -- writes ---------------------------------------------------------------------------------------------------------

S1_WRITES: dict[str, Any] = {
    "enrolled": cl.Enrolled(event_id="w-enrol", student_id="S1", occurred_on=D(2026, 2, 1), institution="XTJX",
                            program="XT-CNC-2025"),
    "suspended": cl.Suspended(event_id="w-susp", student_id="S1", occurred_on=D(2026, 2, 1)),
    "resumed": cl.Resumed(event_id="w-res", student_id="S1", occurred_on=D(2026, 2, 1)),
    "withdrawn": cl.Withdrawn(event_id="w-wd", student_id="S1", occurred_on=D(2026, 2, 1)),
    "program_changed": cl.ProgramChanged(event_id="w-pc", student_id="S1", occurred_on=D(2026, 2, 1),
                                         program="XT-CNC-2025"),
    "course_completed": course("S1", "XTJX", "XT-CNC1", "w-course"),
    "credit_recognized": cl.CreditRecognized(
        event_id="w-rec", student_id="S1", occurred_on=D(2026, 3, 1), source_institution="XTJX",
        source_course="XT-CNC1", source_credits=Decimal(6), source_grade=82, source_date=D(2025, 6, 30),
        target={"course": "CNC201"}, credits=Decimal(6), agreement_id="AGR-HN-MFG-2024", statement_id="ST-1"),
    "outcome_converted": cl.OutcomeConverted(
        event_id="w-conv", student_id="S1", occurred_on=D(2026, 3, 1), outcome_type="certificate",
        outcome_id="CERT-001", title="数控车工", level="foundation", target={"course": "PRA305"},
        credits=Decimal(4), rule_id="CERT-CNC-L5"),
    "outcome_revoked": cl.OutcomeRevoked(event_id="w-rev", student_id="S1", occurred_on=D(2026, 4, 1),
                                         outcome_type="certificate", outcome_id="CERT-001"),
    "entry_reversed": cl.EntryReversed(event_id="w-er", student_id="S1", occurred_on=D(2026, 2, 1),
                                       target_event_id="S1-c1", reason="wrong"),
    "grade_corrected": cl.GradeCorrected(event_id="w-gc", student_id="S1", occurred_on=D(2026, 2, 1),
                                         target_event_id="S1-c1", grade=99),
    "exception_granted": cl.ExceptionGranted(event_id="w-ex", student_id="S1", occurred_on=D(2026, 2, 1),
                                             requirement_id="core", action="waive"),
    "graduated": cl.Graduated(event_id="w-grad", student_id="S1", occurred_on=D(2028, 7, 1), award="graduation"),
}
"""One event of every kind, for S1 (HNJX's student), as another school would write it."""


def test_every_kind_is_covered():
    assert set(S1_WRITES) == set(cl.models.EVENT_CLASSES)


@pytest.mark.parametrize("school", ["XTJX", OUTSIDER])
def test_every_write_for_another_schools_student_is_refused(operator, as_school, school):
    before = (operator.count(), operator.head())
    led = as_school(school)
    for kind, event in S1_WRITES.items():
        with pytest.raises(cl.PermissionDenied) as refused:
            led.append(event)
        assert "not_own_student" in refused.value.codes or "not_own_program" in refused.value.codes, kind
        message = str(refused.value)
        assert "CNC-SR-2025" not in message and "active" not in message, kind  # nothing of S1's record is told
        with pytest.raises(cl.PermissionDenied):
            led.append_many([event])
    _unchanged(operator, before)


@pytest.mark.parametrize("school", ["XTJX", OUTSIDER])
def test_a_batch_with_one_foreign_event_writes_nothing(operator, as_school, school):
    before = (operator.count(), operator.head())
    led = as_school(school)
    own = [enrol("S9", "XTJX", "XT-CNC-2025")] if school == "XTJX" else []
    with pytest.raises(cl.PermissionDenied):
        led.append_many(own + [S1_WRITES["suspended"]])
    _unchanged(operator, before)


@pytest.mark.parametrize("school", ["XTJX", OUTSIDER])
def test_reverse_of_another_schools_event_is_refused(operator, as_school, school):
    before = (operator.count(), operator.head())
    led = as_school(school)
    with pytest.raises((cl.PermissionDenied, cl.UnknownReference)) as refused:
        led.reverse("S1-c1", reason="wrong", occurred_on=D(2026, 2, 1))
    assert "MECH101" not in str(refused.value)
    if school == OUTSIDER:  # it may not read S1: refused exactly as an unknown event
        with pytest.raises(cl.UnknownReference) as unknown:
            led.reverse("no-such-event", reason="wrong", occurred_on=D(2026, 2, 1))
        assert str(refused.value).replace("S1-c1", "<id>") == str(unknown.value).replace("no-such-event", "<id>")
    _unchanged(operator, before)


@pytest.mark.parametrize("school", ["XTJX", OUTSIDER])
@pytest.mark.parametrize("stamped", [False, True], ids=["as_sent", "with_stamp"])
def test_re_appending_another_schools_event_is_refused(operator, as_school, school, stamped):
    """An identical re-append would otherwise return a receipt, and tell that the event exists."""
    before = (operator.count(), operator.head())
    led = as_school(school)
    event = course("S1", "HNJX", "MECH101", "S1-c1")
    if stamped:
        event = event.model_copy(update={"recorded_by": "HNJX"})
    with pytest.raises(cl.PermissionDenied) as refused:
        led.append(event)
    assert refused.value.codes == ["recorded_by_mismatch"]
    with pytest.raises(cl.PermissionDenied):  # other content under a taken id: refused alike, not DuplicateEvent
        led.append(course("S1", "HNJX", "MECH101", "S1-c1", grade=10))
    _unchanged(operator, before)
    assert as_school("HNJX").append(event).event_id == "S1-c1"  # the recording school may


def test_enrolling_a_student_studying_elsewhere_is_refused_without_telling_where(operator, as_school):
    xtjx = as_school("XTJX")
    with pytest.raises(cl.PermissionDenied) as refused:
        xtjx.append(S1_WRITES["enrolled"])
    assert refused.value.codes == ["not_own_student"]
    assert "HNJX" not in str(refused.value) and "CNC-SR-2025" not in str(refused.value)
    # once S1 has left HNJX, XTJX may enrol S1, and then reads S1's whole record as its own student
    as_school("HNJX").append(cl.Withdrawn(event_id="S1-wd", student_id="S1", occurred_on=D(2026, 1, 20)))
    xtjx.append(S1_WRITES["enrolled"])
    assert [e.kind for e in xtjx.events("S1")] == ["enrolled", "course_completed", "withdrawn", "enrolled"]


@pytest.mark.parametrize("section", ["courses", "programs", "agreements", "alliances", "institutions"])
def test_a_school_loads_only_its_own_catalog_entries(operator, as_school, section):
    """An agreement loaded by a school would give it reason to read another school's students."""
    before = (operator.count(), operator.head())
    data = json.loads(school_catalog().to_json())
    extra = {
        "courses": {"institution": "HNJX", "code": "MECH999", "title": "x", "hours": 16, "category": "core"},
        "programs": dict(XT_PROGRAM, institution="HNJX", code="HN-NEW",
                         requirements={"id": "root", "courses": ["MECH101"]}),
        "agreements": {"id": "AGR-GRAB", "parties": [OUTSIDER, "HNJX"]},
        "alliances": {"code": "GRAB", "name": "x", "members": [{"institution": OUTSIDER, "joined": "2020-01-01"}]},
        "institutions": {"code": "NEWJX", "name": "x"},
    }[section]
    data[section].append(extra)
    with pytest.raises(cl.PermissionDenied) as refused:
        as_school(OUTSIDER).load_catalog(cl.Catalog.from_data(data))
    assert refused.value.codes == ["not_own_catalog_entry"]
    assert as_school(OUTSIDER).students() == []
    _unchanged(operator, before)


def test_a_school_loads_its_own_courses(operator, as_school):
    data = json.loads(school_catalog().to_json())
    data["courses"].append({"institution": "XTJX", "code": "XT-NEW", "title": "x", "hours": 32, "category": "core"})
    xtjx = as_school("XTJX")
    xtjx.load_catalog(cl.Catalog.from_data(data))
    assert xtjx.catalog.course("XTJX", "XT-NEW").credits == Decimal("2.00")
    xtjx.load_catalog(school_catalog())  # entries already loaded are no change, whoever's they are


# -- the rule itself ------------------------------------------------------------------------------------------------


def test_read_reasons():
    catalog = school_catalog()
    at_hnjx = enrol("S1", "HNJX", "CNC-SR-2025")
    statement = S1_WRITES["credit_recognized"].model_copy(update={"recorded_by": OUTSIDER})
    assert read_reason("HNJX", [at_hnjx], catalog=catalog) == "own_student"
    assert read_reason("XTJX", [at_hnjx], catalog=catalog) == "agreement"
    assert read_reason(OUTSIDER, [at_hnjx], catalog=catalog) is None
    assert read_reason(OUTSIDER, [at_hnjx, statement], catalog=catalog) == "received_statement"
    unsigned = statement.model_copy(update={"statement_id": None})
    assert read_reason(OUTSIDER, [at_hnjx, unsigned], catalog=catalog) is None
    assert read_reason("HNJX", [], catalog=catalog) is None
    assert partners(OUTSIDER, catalog) == frozenset()


@pytest.mark.sqlite_only
def test_verify_tells_a_school_nothing_of_a_record_it_may_not_read(operator, as_school, ledger_url):
    import sqlite3

    db = sqlite3.connect(ledger_url, isolation_level=None)
    db.execute("DROP TRIGGER events_no_update")
    db.execute("UPDATE events SET payload = replace(payload, '80', '81') WHERE event_id = 'S1-c1'")
    db.close()
    told = as_school("HNJX").verify()
    assert not told.ok and "S1-c1" in told.reason
    redacted = as_school(OUTSIDER).verify()
    assert not redacted.ok and redacted.first_bad_seq == told.first_bad_seq
    assert "S1" not in redacted.reason and OUTSIDER in redacted.reason
    with pytest.raises(cl.IntegrityError) as strict:
        as_school(OUTSIDER).verify(strict=True)
    assert "S1-c1" not in str(strict.value)
