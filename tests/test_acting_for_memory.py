"""A ledger handed to a school with ``acting_for`` on an in-memory ledger: every method works as on a file.

An in-memory SQLite ledger has one connection (``StaticPool``). A read check that opened a second transaction on it,
inside the first, failed with ``OperationalError: cannot start a transaction within a transaction`` (issue 12,
attack 4): ``reverse`` of the school's own record, ``students()``, ``count()`` and a redacted ``verify()`` all read
what the school may read inside a read transaction, and looked at the stored catalog in a transaction of its own.
Now the catalog is read in the transaction already open. Every public method of a ``Ledger`` that ``acting_for``
hands out is called here, on a ledger opened with ``Ledger.open()`` and nothing else.
"""

from __future__ import annotations

import inspect
import json
from datetime import date
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import credit_ledger as cl

D = date
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
TRUSTED = {"XTJX": cl.public_key_hex(KEY)}
ON = D(2026, 3, 1)


@pytest.fixture
def memory() -> cl.Ledger:
    """The operator's in-memory ledger: S1 at HNJX with two courses, X1 at XTJX with one."""
    led = cl.Ledger.open()
    led.load_catalog(cl.Catalog.sample())
    led.acting_for("HNJX").append_many([
        cl.Enrolled(event_id="S1-enrol", student_id="S1", occurred_on=D(2025, 9, 1), institution="HNJX",
                    program="CNC-SR-2025"),
        cl.CourseCompleted(event_id="S1-c1", student_id="S1", occurred_on=D(2026, 1, 12), institution="HNJX",
                           course="MECH101", grade=86),
        cl.CourseCompleted(event_id="S1-c2", student_id="S1", occurred_on=D(2026, 1, 12), institution="HNJX",
                           course="PUB101", grade=75),
    ])
    yield led
    led.close()


def test_the_ledger_is_in_memory(memory):
    assert memory.url == "sqlite://"


def test_reverse_of_its_own_record(memory):
    hnjx = memory.acting_for("HNJX")
    receipt = hnjx.reverse("S1-c1", reason="录入错误", occurred_on=D(2026, 2, 1))
    assert receipt.event_id == "S1-c1:reversed"
    assert hnjx.balance("S1").total == memory.balance("S1").total == Decimal("4.00")
    assert hnjx.events("S1")[-1].recorded_by == "HNJX"
    assert hnjx.reverse("S1-c1", reason="录入错误", occurred_on=D(2026, 2, 1)) == receipt  # idempotent


def test_reverse_by_a_school_that_may_not_read_is_an_unknown_event(memory):
    outsider = memory.acting_for("SANY-HV")
    before = (memory.count(), memory.head())
    messages = []
    for event_id in ("S1-c1", "no-such-event"):
        with pytest.raises(cl.UnknownReference) as refused:
            outsider.reverse(event_id, reason="x", occurred_on=D(2026, 2, 1))
        messages.append(str(refused.value).replace(event_id, "<id>"))
    assert messages[0] == messages[1]
    assert (memory.count(), memory.head()) == before


def test_reads(memory):
    hnjx = memory.acting_for("HNJX")
    assert [e.event_id for e in hnjx.events("S1")] == ["S1-enrol", "S1-c1", "S1-c2"]
    assert [e.event_id for e in hnjx.events("S1", as_of=D(2025, 12, 1))] == ["S1-enrol"]
    assert {r.course for r in hnjx.transcript("S1").records} == {"MECH101", "PUB101"}
    assert hnjx.balance("S1").total == Decimal("8.00")
    assert hnjx.status("S1", D(2026, 1, 1)) == "active"
    assert hnjx.catalog.institution("HNJX") is not None
    with pytest.raises(cl.PermissionDenied):
        memory.acting_for("SANY-HV").events("S1")


def test_students_and_count(memory):
    assert memory.acting_for("HNJX").students() == ["S1"]
    assert memory.acting_for("HNJX").count() == 3
    assert memory.acting_for("XTJX").students() == ["S1"]  # the alliance agreement gives a reason to read
    assert memory.acting_for("SANY-HV").students() == [] and memory.acting_for("SANY-HV").count() == 0


def test_audit_and_audit_all(memory):
    hnjx = memory.acting_for("HNJX")
    report = hnjx.audit("S1", as_of=D(2026, 6, 1))
    assert report.student_id == "S1" and not report.eligible
    assert [r.student_id for r in hnjx.audit_all(as_of=D(2026, 6, 1))] == ["S1"]
    assert [r.student_id for r in hnjx.audit_all(["S1"], D(2026, 6, 1), workers=2)] == ["S1"]
    with pytest.raises(cl.PermissionDenied):
        list(memory.acting_for("SANY-HV").audit_all(["S1"], D(2026, 6, 1)))


def test_convert(memory):
    hnjx = memory.acting_for("HNJX")
    outcome = cl.Outcome(type="competition", outcome_id="HN-2025-0217", title="湖南省职业技能大赛 数控车",
                         level="省级", rank=2)
    assert hnjx.convert("S1", [outcome], as_of=ON, dry_run=True).credits == Decimal(6)
    result = hnjx.convert("S1", [outcome], as_of=ON)
    assert result.credits == Decimal(6) and hnjx.balance("S1").by_origin["converted"] == Decimal(6)


def test_issue_and_receive_statement(memory):
    xtjx = memory.acting_for("XTJX")
    xtjx.append_many([
        cl.Enrolled(event_id="X1-enrol", student_id="X1", occurred_on=D(2024, 9, 1), institution="XTJX",
                    program="XT-CNC-2024"),
        cl.CourseCompleted(event_id="X1-c1", student_id="X1", occurred_on=D(2025, 6, 30), institution="XTJX",
                           course="XT-CNC1", grade=82),
        cl.Withdrawn(event_id="X1-wd", student_id="X1", occurred_on=D(2025, 7, 10)),
    ])
    statement = xtjx.issue_statement("X1", key=KEY, as_of=D(2025, 7, 10))
    hnjx = memory.acting_for("HNJX")
    hnjx.append(cl.Enrolled(event_id="X1-enrol-HNJX", student_id="X1", occurred_on=D(2025, 9, 1),
                            institution="HNJX", program="CNC-SR-2025"))
    result = hnjx.receive_statement(statement.to_json(), trusted_keys=TRUSTED, as_of=ON)
    assert result.credits > 0 and all(d.accepted for d in result.decisions)
    assert hnjx.balance("X1").by_origin["recognized"] == result.credits


def test_verify_and_head(memory):
    for school in ("HNJX", "SANY-HV"):
        led = memory.acting_for(school)
        assert led.verify().ok and led.verify().checked == 3
        assert led.head() == memory.head()


@pytest.mark.sqlite_only
def test_a_redacted_verify_reads_in_one_transaction(memory):
    """A tampered row (the in-memory database edited directly) is reported to a school that may not read it, with
    nothing of the record named: the read check runs inside the verify's read transaction."""
    with memory._store.engine.connect() as conn:  # the test plays the one who edits the database
        conn.exec_driver_sql("DROP TRIGGER events_no_update")
        conn.exec_driver_sql("UPDATE events SET payload = replace(payload, '86', '96') WHERE event_id = 'S1-c1'")
        conn.commit()
    told = memory.acting_for("HNJX").verify()
    assert not told.ok and "S1-c1" in told.reason
    redacted = memory.acting_for("SANY-HV").verify()
    assert not redacted.ok and "S1" not in redacted.reason and "SANY-HV" in redacted.reason


def test_load_catalog(memory):
    data = json.loads(cl.Catalog.sample().to_json())
    data["courses"].append({"institution": "HNJX", "code": "HN-NEW", "title": "x", "hours": 32, "category": "core"})
    hnjx = memory.acting_for("HNJX")
    hnjx.load_catalog(cl.Catalog.from_data(data))
    assert hnjx.catalog.course("HNJX", "HN-NEW").credits == Decimal("2.00")


def test_writing(memory):
    """A school's write session on the in-memory ledger: its batches in one transaction, another school's student
    refused inside it (the session goes on), and nothing of it left when the block raises."""
    hnjx = memory.acting_for("HNJX")
    before = memory.count()
    with hnjx.writing() as session:
        assert session.append_many([cl.CourseCompleted(event_id="S1-c3", student_id="S1", occurred_on=D(2026, 1, 13),
                                                       institution="HNJX", course="PUB106", grade=70)]).written == 1
        with pytest.raises(cl.PermissionDenied):
            session.append_many([cl.CourseCompleted(event_id="X9-c1", student_id="X1", occurred_on=D(2026, 1, 13),
                                                    institution="XTJX", course="XT-CNC1", grade=70)])
    assert memory.count() == before + 1
    with pytest.raises(KeyError), hnjx.writing() as session:
        session.append_many([cl.CourseCompleted(event_id="S1-c4", student_id="S1", occurred_on=D(2026, 1, 14),
                                                institution="HNJX", course="MT101", grade=70)])
        raise KeyError("rolled back")
    assert memory.count() == before + 1 and memory.verify().ok


def test_every_public_method_is_tried_here():
    """A new public method of the Ledger needs a test of its own here (on an in-memory ledger, via acting_for)."""
    source = inspect.getsource(inspect.getmodule(test_every_public_method_is_tried_here))
    public = {name for name, _ in inspect.getmembers(cl.Ledger) if not name.startswith("_")}
    untried = sorted(name for name in public - {"open", "acting_for", "close", "acting_as"}
                     if f".{name}(" not in source and f".{name} " not in source and f".{name}." not in source)
    assert not untried


def test_personal_data(memory):
    """The roster on the in-memory ledger: the student's own school sets, corrects, reads and erases; another school
    is refused; the operator lists; the chain is untouched."""
    hnjx = memory.acting_for("HNJX")
    head = memory.head()
    assert hnjx.set_personal("S1", name="李娜").name == "李娜"
    assert hnjx.set_personal("S1", name="李 娜", phone="13800000000").fields == {"phone": "13800000000"}
    assert hnjx.personal("S1").name == "李 娜"
    with pytest.raises(cl.PermissionDenied):
        memory.acting_for("XTJX").set_personal("S1", name="王五")
    assert list(memory.roster()) == ["S1"] and list(hnjx.roster(["S1"])) == ["S1"]
    assert hnjx.audit("S1", as_of=ON).student_name == "李 娜"
    assert hnjx.erase_personal("S1") is True and hnjx.personal("S1") is None
    assert memory.head() == head and memory.verify().ok


def test_plan(memory):
    hnjx = memory.acting_for("HNJX")
    plan = hnjx.plan("S1", start=D(2026, 3, 1), hours_per_term=400, as_of=ON)
    assert plan.terms and plan.terms[0].start >= D(2026, 3, 1)
    assert all(t.hours <= 400 for t in plan.terms)
    with pytest.raises(cl.PermissionDenied):
        memory.acting_for("SANY-HV").plan("S1", start=D(2026, 3, 1), hours_per_term=400, as_of=ON)


def test_committed(memory):
    """What a handle committed, counted across its acting_for views; a rolled back session counts nothing."""
    hnjx = memory.acting_for("HNJX")
    before = memory.committed
    hnjx.append(cl.CourseCompleted(event_id="S1-c5", student_id="S1", occurred_on=D(2026, 1, 15),
                                   institution="HNJX", course="PUB106", grade=70))
    assert hnjx.committed == memory.committed == before + 1
    with pytest.raises(KeyError), hnjx.writing() as session:
        session.append_many([cl.CourseCompleted(event_id="S1-c6", student_id="S1", occurred_on=D(2026, 1, 16),
                                                institution="HNJX", course="MT101", grade=70)])
        raise KeyError("rolled back")
    assert memory.committed == before + 1
