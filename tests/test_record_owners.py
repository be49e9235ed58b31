"""A record belongs to the school that recorded it: only that school reverses it, corrects its grade or revokes the
outcome it converted (issue 12, attack 1), also after the student has left it.

The scene of the issue: XTJX records a course (and converts a certificate) for S2; S2 withdraws and enrols at HNJX.
HNJX may read S2's whole record now (S2 is its student), but taking back or regrading what XTJX recorded is
``PermissionDenied`` (``not_own_record``), and S2's XTJX credits stay. XTJX still corrects its own records. A ledger
opened without ``acting_as`` (the operator's) may write any correction, stamped with the school that recorded the
target. Both engines.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

import credit_ledger as cl

D = date
OUTSIDER = "SANY-HV"
XT_RULE = {"id": "XT-CERT-CNC", "institution": "XTJX", "outcome_type": "certificate", "title": "数控车工",
           "level": "intermediate", "target": {"category": "practice"}, "credits": 4}
CERT = cl.Outcome(type="certificate", outcome_id="NC-4-0001", title="数控车工", level="中级")


def school_catalog() -> cl.Catalog:
    """The sample catalog with a conversion rule of XTJX."""
    data = json.loads(cl.Catalog.sample().to_json())
    data["conversion_rules"].append(XT_RULE)
    return cl.Catalog.from_data(data)


@pytest.fixture
def scene(ledger_url: str) -> dict[str, cl.Ledger]:
    """The operator's ledger and each school's, after S2 moved from XTJX to HNJX."""
    operator = cl.Ledger.open(ledger_url, create=True)
    operator.load_catalog(school_catalog())
    xtjx, hnjx, outsider = (operator.acting_for(s) for s in ("XTJX", "HNJX", OUTSIDER))
    xtjx.append_many([
        cl.Enrolled(event_id="S2-enrol-xt", student_id="S2", occurred_on=D(2024, 9, 1), institution="XTJX",
                    program="XT-CNC-2024"),
        cl.CourseCompleted(event_id="S2-xt1", student_id="S2", occurred_on=D(2025, 1, 10), institution="XTJX",
                           course="XT-CNC1", grade=82),
    ])
    assert xtjx.convert("S2", [CERT], as_of=D(2025, 3, 1)).credits == Decimal(4)
    xtjx.append(cl.Withdrawn(event_id="S2-wd", student_id="S2", occurred_on=D(2025, 7, 1)))
    hnjx.append_many([
        cl.Enrolled(event_id="S2-enrol-hn", student_id="S2", occurred_on=D(2025, 9, 1), institution="HNJX",
                    program="CNC-SR-2025"),
        cl.CourseCompleted(event_id="S2-hn1", student_id="S2", occurred_on=D(2026, 1, 12), institution="HNJX",
                           course="MECH101", grade=75),
    ])
    yield {"operator": operator, "XTJX": xtjx, "HNJX": hnjx, OUTSIDER: outsider}
    operator.close()


def xtjx_part(led: cl.Ledger) -> dict[str, Any]:
    """What XTJX recorded for S2 that counts: its course's grade and credits, and the converted credits."""
    records = led.transcript("S2").records
    return {(r.origin, r.course or r.category): (r.grade, r.credits) for r in records if r.origin != "home"
            or r.institution == "XTJX"}


def regrade(eid: str = "S2-fix", target: str = "S2-xt1", grade: Any = 30) -> cl.GradeCorrected:
    return cl.GradeCorrected(event_id=eid, student_id="S2", occurred_on=D(2026, 2, 1), target_event_id=target,
                             grade=grade, reason="成绩复核")


def revocation(eid: str = "S2-revoke") -> cl.OutcomeRevoked:
    return cl.OutcomeRevoked(event_id=eid, student_id="S2", occurred_on=D(2026, 2, 1), outcome_type="certificate",
                             outcome_id="NC-4-0001", reason="证书作废")


def test_the_scene(scene):
    part = xtjx_part(scene["operator"])
    assert part == {("home", "XT-CNC1"): ("82", Decimal(6)), ("converted", "practice"): (None, Decimal(4))}
    assert scene["HNJX"].status("S2", D(2026, 1, 1)) == "active"


def test_the_new_school_may_not_take_back_or_regrade_the_old_schools_records(scene):
    hnjx, operator = scene["HNJX"], scene["operator"]
    before = (operator.count(), operator.head(), xtjx_part(operator))
    attempts = {
        "reverse": lambda: hnjx.reverse("S2-xt1", reason="x", occurred_on=D(2026, 2, 1)),
        "append_reversal": lambda: hnjx.append(cl.EntryReversed(event_id="S2-rev", student_id="S2",
                                                                occurred_on=D(2026, 2, 1), target_event_id="S2-xt1")),
        "reverse_conversion": lambda: hnjx.reverse(xtjx_conversion(operator), reason="x", occurred_on=D(2026, 2, 1)),
        "grade_corrected": lambda: hnjx.append(regrade()),
        "outcome_revoked": lambda: hnjx.append(revocation()),
        "in_a_batch": lambda: hnjx.append_many([
            cl.CourseCompleted(event_id="S2-hn2", student_id="S2", occurred_on=D(2026, 1, 20), institution="HNJX",
                               course="PUB101", grade=90), regrade()]),
    }
    for path, attempt in attempts.items():
        with pytest.raises(cl.PermissionDenied) as refused:
            attempt()
        assert "not_own_record" in refused.value.codes, path
        issue = next(i for i in refused.value.issues if i.code == "not_own_record")
        assert "XTJX" in issue.message and "S2" in issue.message and issue.student_id == "S2", path
        assert (operator.count(), operator.head(), xtjx_part(operator)) == before, path
    assert operator.verify().ok


def xtjx_conversion(led: cl.Ledger) -> str:
    return next(e.event_id for e in led.events("S2") if e.kind == "outcome_converted")


def test_the_school_that_recorded_it_corrects_its_own_records_after_the_student_left(scene):
    xtjx, operator = scene["XTJX"], scene["operator"]
    assert operator.status("S2", D(2026, 2, 1)) == "active"  # at HNJX now
    xtjx.append(regrade(grade=91))
    assert xtjx_part(operator)[("home", "XT-CNC1")] == ("91", Decimal(6))
    xtjx.reverse("S2-fix", reason="复核有误", occurred_on=D(2026, 2, 2))  # its own correction, too
    assert xtjx_part(operator)[("home", "XT-CNC1")] == ("82", Decimal(6))
    xtjx.append(revocation())
    xtjx.reverse("S2-xt1", reason="录入错误", occurred_on=D(2026, 2, 3))
    assert xtjx_part(operator) == {}
    assert {e.recorded_by for e in operator.events("S2")[-4:]} == {"XTJX"}
    assert operator.balance("S2").total == Decimal(4)  # HNJX's own course stays
    # but XTJX writes nothing else for a student who left it
    with pytest.raises(cl.PermissionDenied) as refused:
        xtjx.append(cl.CourseCompleted(event_id="S2-xt2", student_id="S2", occurred_on=D(2026, 2, 1),
                                       institution="XTJX", course="XT-CNC2", grade=90))
    assert refused.value.codes == ["not_own_student"]


def test_the_old_school_may_not_correct_the_new_schools_records(scene):
    """Refused as any write for a student who is not the school's (``not_own_student``): the record is not its own,
    and neither is the student any more."""
    with pytest.raises(cl.PermissionDenied) as refused:
        scene["XTJX"].append(regrade(target="S2-hn1"))
    assert refused.value.codes == ["not_own_student"]
    assert scene["HNJX"].reverse("S2-hn1", reason="x", occurred_on=D(2026, 2, 1)).event_id == "S2-hn1:reversed"


def test_the_operator_corrects_any_record_and_the_correction_belongs_to_its_school(scene):
    operator, hnjx, xtjx = scene["operator"], scene["HNJX"], scene["XTJX"]
    operator.append(regrade(grade=50))
    stamped = operator.events("S2")[-1]
    assert stamped.event_id == "S2-fix" and stamped.recorded_by == "XTJX"  # not HNJX, the student's school now
    with pytest.raises(cl.PermissionDenied) as refused:  # so HNJX cannot undo it
        hnjx.reverse("S2-fix", reason="x", occurred_on=D(2026, 2, 2))
    assert refused.value.codes == ["not_own_record"]
    xtjx.reverse("S2-fix", reason="x", occurred_on=D(2026, 2, 2))
    operator.append(revocation())
    assert operator.events("S2")[-1].recorded_by == "XTJX"
    assert xtjx_part(operator) == {("home", "XT-CNC1"): ("82", Decimal(6))}


def test_a_revocation_needs_every_conversion_of_the_outcome_to_be_the_schools(scene):
    """HNJX converts the same certificate again (by hand): now neither school revokes it alone; each reverses its
    own conversions."""
    hnjx, xtjx, operator = scene["HNJX"], scene["XTJX"], scene["operator"]
    hnjx.append(cl.OutcomeConverted(event_id="S2-hn-cert", student_id="S2", occurred_on=D(2026, 3, 1),
                                    outcome_type="certificate", outcome_id="NC-4-0001", title="数控车工", level="中级",
                                    target={"course": "CNC201"}, credits=Decimal(6), rule_id="CERT-CNC-L4"))
    with pytest.raises(cl.PermissionDenied) as refused:
        hnjx.append(revocation("S2-revoke-HNJX"))
    assert refused.value.codes == ["not_own_record"] and "XTJX" in str(refused.value)
    with pytest.raises(cl.PermissionDenied) as refused:
        xtjx.append(revocation("S2-revoke-XTJX"))
    assert refused.value.codes == ["not_own_student"]  # S2 is no longer XTJX's student, nor all of it XTJX's
    hnjx.reverse("S2-hn-cert", reason="重复认定", occurred_on=D(2026, 3, 2))
    xtjx.reverse(xtjx_conversion(operator), reason="证书作废", occurred_on=D(2026, 3, 2))
    assert operator.balance("S2").by_origin["converted"] == 0


def test_a_school_reverses_what_it_records_in_the_same_batch(scene):
    hnjx = scene["HNJX"]
    course = cl.CourseCompleted(event_id="S2-hn3", student_id="S2", occurred_on=D(2026, 1, 20), institution="HNJX",
                                course="PUB101", grade=90)
    hnjx.append_many([course, cl.EntryReversed(event_id="S2-hn3-rev", student_id="S2", occurred_on=D(2026, 1, 21),
                                               target_event_id="S2-hn3")])
    assert [e.recorded_by for e in hnjx.events("S2")[-2:]] == ["HNJX", "HNJX"]


def test_reverse_tells_a_school_that_may_not_read_nothing(scene):
    outsider, operator = scene[OUTSIDER], scene["operator"]
    before = (operator.count(), operator.head())
    told = []
    for event_id in ("S2-xt1", "S2-no-such-event"):
        with pytest.raises(cl.UnknownReference) as refused:
            outsider.reverse(event_id, reason="x", occurred_on=D(2026, 2, 1))
        told.append(str(refused.value).replace(event_id, "<id>"))
    assert told[0] == told[1] and "XTJX" not in told[0] and "S2" not in told[0]
    for event in (regrade(), regrade(target="S2-no-such-event"), revocation()):  # appended: as if not there
        with pytest.raises(cl.PermissionDenied) as refused:
            outsider.append(event)
        assert refused.value.codes == ["not_own_student"] and "XTJX" not in str(refused.value)
    assert (operator.count(), operator.head()) == before


def test_the_operators_revocation_voids_the_outcome_at_every_school_that_converted_it(scene):
    """Both schools converted the certificate: no school revokes it alone, but the operator (a 证书作废 found by the
    authority) does, and every conversion of it stops counting, the two schools', and nothing else changes."""
    hnjx, operator = scene["HNJX"], scene["operator"]
    hnjx.append(cl.OutcomeConverted(event_id="S2-hn-cert", student_id="S2", occurred_on=D(2026, 3, 1),
                                    outcome_type="certificate", outcome_id="NC-4-0001", title="数控车工", level="中级",
                                    target={"course": "CNC201"}, credits=Decimal(6), rule_id="CERT-CNC-L4"))
    assert operator.balance("S2").by_origin["converted"] > 0
    home_before = [r for r in operator.transcript("S2").records if r.origin == "home"]
    operator.append(revocation("S2-revoke-operator").model_copy(update={"occurred_on": D(2026, 3, 5)}))
    assert operator.balance("S2").by_origin["converted"] == 0
    assert [r for r in operator.transcript("S2").records if r.origin == "home"] == home_before
