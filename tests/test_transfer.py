"""Recognition across the alliance, conversion of learning outcomes and signed transfer statements: the named
scenarios of issue 4, the shapes of agreements and conversion rules, and the properties (caps, idempotency,
each outcome once, the highest of overlapping outcomes, tamper-evident statements, revocations)."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

import credit_ledger as cl
from credit_ledger.transfer import StatementResult, apply_caps, public_key_hex, standing_of

D = date
ON = D(2026, 3, 1)
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
OTHER_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
TRUSTED = {"XTJX": public_key_hex(KEY), "ZZJX": public_key_hex(KEY)}
ISSUED = datetime(2025, 8, 1, 9, 30, tzinfo=timezone.utc)


# -- helpers ---------------------------------------------------------------------------------------------------------


def enrol(ledger: cl.Ledger, sid: str = "S1", program: str = "CNC-SR-2025", on: date = D(2025, 9, 1)) -> None:
    mode = {"MECH-PT-2024": "part_time"}.get(program, "full_time")
    ledger.append(cl.Enrolled(event_id=f"{sid}-enrol", student_id=sid, occurred_on=on, institution="HNJX",
                              program=program, mode=mode, employer="湘江重工" if mode == "part_time" else None))


CATALOG = cl.Catalog.sample()


def result(course: str, grade: Any = 80, on: date = D(2025, 6, 30), credits: Any = None, category: str | None = None,
           catalog: cl.Catalog | None = None) -> StatementResult:
    institution = {"XT": "XTJX", "ZZ": "ZZJX"}[course[:2]]
    found = (catalog or CATALOG).course(institution, course)
    return StatementResult(course=course, title=found.title if found else course,
                           category=category or (found.category if found else "core"),
                           credits=Decimal(credits) if credits is not None else found.credits, grade=grade,
                           occurred_on=on)


def statement(*results: StatementResult, issuer: str = "XTJX", sid: str = "S1",
              key: Ed25519PrivateKey | None = KEY) -> cl.TransferStatement:
    unsigned = cl.TransferStatement(statement_id=f"{issuer}-{sid}-1", issuer=issuer, student_id=sid,
                                    results=results, issued_at=ISSUED)
    return unsigned.sign(key) if key is not None else unsigned


def outcome(kind: str = "certificate", oid: str = "CERT-1", **kw: Any) -> cl.Outcome:
    defaults = {"certificate": dict(title="数控车工", level="中级"),
                "competition": dict(title="湖南省职业技能大赛 数控车", level="省级", rank=2),
                "work_experience": dict(title="数控车工岗位", post="数控车工", years=Decimal(2)),
                "apprenticeship": dict(title="企业学徒培训", hours=Decimal(160)),
                "online_course": dict(title="智能制造（慕课）", hours=Decimal(32))}[kind]
    defaults.update(kw)
    return cl.Outcome(type=kind, outcome_id=oid, **defaults)


def extended(catalog: cl.Catalog, **extra: list[dict]) -> cl.Catalog:
    """The sample with more entries (a test's own agreements, courses, programs)."""
    data = json.loads(catalog.to_json())
    for name, entries in extra.items():
        data[name] = data[name] + entries
    return cl.Catalog.from_data(data)


def codes(res: cl.RecognitionResult) -> list[str | None]:
    return [d.code for d in res.decisions]


@pytest.fixture
def school(ledger: cl.Ledger) -> cl.Ledger:
    """HNJX's ledger with S1 in the full-time CNC program and W1 (a worker) in the part-time program."""
    enrol(ledger, "S1")
    enrol(ledger, "W1", "MECH-PT-2024")
    return ledger


# -- the named scenarios ---------------------------------------------------------------------------------------------


def test_intermediate_certificate_for_two_core_courses_of_ten_credits_grants_eight(school):
    res = school.convert("W1", [outcome(oid="ELEC-4-0001", title="电工", level="中级")], as_of=ON)
    (d,) = res.decisions
    assert d.accepted and d.credits == Decimal(8) and d.rule == "CERT-ELEC-L4"
    assert d.code == "cap_certificate" and "ELEC-4-0001" in d.message and "max_certificate_credits" in d.message
    assert [t.course for t in d.target] == ["ELEC101", "MT102"]
    converted = {r.course: r.credits for r in school.transcript("W1").records}
    assert converted == {"ELEC101": Decimal(4), "MT102": Decimal(4)}
    assert school.balance("W1").by_origin["converted"] == Decimal(8)


def test_provincial_second_prize(school):
    res = school.convert("S1", [outcome("competition", "HN-2025-0217", level="省级", rank=2)], as_of=ON)
    (d,) = res.decisions
    assert (d.accepted, d.credits, d.rule, d.code) == (True, Decimal(6), "COMP-PROVINCIAL", None)
    assert d.target == (cl.Target(category="practice"),)
    assert school.balance("S1").by_category == {"practice": Decimal(6)}


def _home_share_catalog(catalog: cl.Catalog) -> cl.Catalog:
    """A 150-credit program that keeps 60% for the home school, and a partner whose module credit (category
    ``module``) counts as electives here."""
    courses = [dict(institution="XTJX", code=f"XT-M{i:02d}", title=f"模块{i}", credits=5, category="module")
               for i in range(1, 16)]
    program = dict(institution="HNJX", code="CNC-HS-2025", title="数控加工（本校学分不少于60%）",
                   level="senior_worker", modes=["full_time"], standard_years=3, total_credits=150,
                   policy=dict(max_external_ratio=0.5, min_home_ratio=0.6),
                   requirements=dict(id="root", credits=150, **{"from": {}}))
    agreement = dict(id="AGR-XT-MODULES", parties=["XTJX", "HNJX"], mutual=False, valid_from="2024-01-01",
                     equivalences=[{"from": {"institution": "XTJX", "category": "module"},
                                    "to": {"institution": "HNJX", "category": "elective"}}])
    return extended(catalog, courses=courses, programs=[program], agreements=[agreement])


def test_thirty_partner_credits_accepted_seventy_five_refused_by_the_home_share(ledger, catalog):
    ledger.load_catalog(_home_share_catalog(catalog))
    enrol(ledger, "A", "CNC-HS-2025")
    enrol(ledger, "B", "CNC-HS-2025")
    thirty = [result(f"XT-M{i:02d}", catalog=ledger.catalog) for i in range(1, 7)]
    res = ledger.receive_statement(statement(*thirty, sid="A"), trusted_keys=TRUSTED, as_of=ON)
    assert res.credits == Decimal(30) and all(d.accepted and d.code is None for d in res.decisions)

    seventy_five = [result(f"XT-M{i:02d}", catalog=ledger.catalog) for i in range(1, 16)]
    res = ledger.receive_statement(statement(*seventy_five, sid="B"), trusted_keys=TRUSTED, as_of=ON)
    assert res.credits == Decimal(60)  # (1 - 60%) x 150; the 50% cap alone would take all 75
    refused = [d for d in res.decisions if d.code == "cap_external"]
    assert len(refused) == 3 and all(not d.accepted and d.credits == 0 for d in refused)
    assert all("60%" in d.message and "min_home_ratio" in d.message and "student B" in d.message for d in refused)
    assert ledger.balance("B").by_origin["recognized"] == Decimal(60)


# -- conversion rules ------------------------------------------------------------------------------------------------


def test_certificate_levels_map_to_their_courses(school):
    res = school.convert("S1", [outcome(oid="L5", level="初级"), outcome(oid="L3", title="数控车工", level="高级")],
                         as_of=ON)
    low, high = res.decisions
    assert low.rule == "CERT-CNC-L5" and [t.course for t in low.target] == ["PRA305"]
    # 6 + 6 + 4 at most 8 per certificate: CNC201 and 2 credits of CNC202; PRA305 is left to the foundation one
    assert high.rule == "CERT-CNC-L3" and high.credits == Decimal(8) and high.code == "cap_certificate"
    assert [t.course for t in high.target] == ["CNC201", "CNC202"]


def test_team_awards_count_for_the_top_three_members_only(school):
    team = [outcome("competition", f"TEAM-7-{n}", rank=1, team_position=n) for n in (1, 2, 3, 4)]
    res = school.convert("S1", team, as_of=ON)
    assert [d.accepted for d in res.decisions] == [True, True, True, False]
    assert res.decisions[3].code == "no_rule" and "top 3 members" in res.decisions[3].message


def test_rank_beyond_the_rule_is_refused(school):
    res = school.convert("S1", [outcome("competition", "C-4", rank=4)], as_of=ON)
    assert codes(res) == ["no_rule"] and "ranks 1 to 3" in res.decisions[0].message


def test_work_experience_by_years_capped_by_the_rule(school):
    res = school.convert("S1", [outcome("work_experience", "WORK-1", years=Decimal(5))], as_of=ON)
    (d,) = res.decisions
    assert d.credits == Decimal(12) and "at most 12.00 by the rule" in d.message
    res = school.convert("S1", [outcome("work_experience", "WORK-2", post="厨师", years=Decimal(1))], as_of=ON)
    assert codes(res) == ["no_rule"] and "related post" in res.decisions[0].message


def test_apprenticeship_training_by_hours(school):
    res = school.convert("S1", [outcome("apprenticeship", "APP-2025-1", hours=Decimal(200))], as_of=ON)
    assert res.decisions[0].credits == Decimal("12.50") and res.decisions[0].rule == "APPRENTICE-HOURS"


def test_online_courses_count_up_to_the_online_cap(school):
    """The part-time program (90 credits) takes at most 25% online: 22.50; each MOOC gives at most 6."""
    moocs = [outcome("online_course", f"MOOC-{i}", hours=Decimal(96)) for i in range(5)]
    res = school.convert("W1", moocs, as_of=ON)
    assert res.credits == Decimal("22.50")
    assert [d.credits for d in res.decisions] == [Decimal(6)] * 3 + [Decimal("4.50"), Decimal(0)]
    assert codes(res)[3:] == ["cap_online", "cap_online"]
    assert all(r.mode == "online" for r in school.transcript("W1").records)


def test_each_outcome_converts_once(school):
    first = school.convert("S1", [outcome(oid="CERT-9")], as_of=ON)
    assert first.decisions[0].accepted
    again = school.convert("S1", [outcome(oid="CERT-9")], as_of=D(2026, 4, 1))
    assert codes(again) == ["duplicate_outcome"] and again.events == ()
    assert school.balance("S1").total == first.credits


def test_of_overlapping_outcomes_only_the_highest_counts(school):
    school.convert("S1", [outcome(oid="L4", level="中级")], as_of=ON)  # CNC201 + CNC202, 8 of 12
    res = school.convert("S1", [outcome(oid="L3", level="高级")], as_of=D(2026, 4, 1))  # CNC201 + CNC202 + PRA305
    assert res.decisions[0].code == "overlap_lower"
    counted = apply_caps(school.transcript("S1").records, total_credits=Decimal(150), policy=cl.Policy())
    per_course: dict[str, int] = {}
    for r in counted.counted:
        per_course[r.course] = per_course.get(r.course, 0) + 1
    assert all(n == 1 for n in per_course.values())


def test_dry_run_decides_and_writes_nothing(school):
    before = school.count()
    res = school.convert("S1", [outcome()], as_of=ON, dry_run=True)
    assert res.dry_run and res.decisions[0].accepted and res.events
    assert school.count() == before
    assert school.convert("S1", [outcome()], as_of=ON).decisions == res.decisions


def test_what_if_under_another_program(school):
    """The same certificate decided under the part-time program's caps (90 credits, 60% home): still 8."""
    res = school.convert("S1", [outcome(oid="ELEC-X", title="电工")], as_of=ON, program="MECH-PT-2024",
                         dry_run=True)
    assert res.decisions[0].credits == Decimal(8)


def test_revocation_removes_the_outcome_s_credits(school):
    school.convert("S1", [outcome(oid="C-REV"), outcome("competition", "AWARD-1")], as_of=ON)
    before = school.balance("S1").total
    school.append(cl.OutcomeRevoked(event_id="S1-revoke", student_id="S1", occurred_on=D(2026, 5, 1),
                                    outcome_type="certificate", outcome_id="C-REV", reason="证书核验不通过"))
    assert school.balance("S1").total == before - Decimal(8)
    assert {r.outcome_id for r in school.transcript("S1").records} == {"AWARD-1"}
    assert codes(school.convert("S1", [outcome(oid="C-REV")], as_of=D(2026, 6, 1))) == ["duplicate_outcome"]


# -- agreements ------------------------------------------------------------------------------------------------------


def test_one_to_one_and_category_credit(school):
    res = school.receive_statement(statement(result("XT-CNC1", 82), result("XT-PRA", "合格")), trusted_keys=TRUSTED,
                                   as_of=ON)
    one, category = res.decisions
    assert one.target == (cl.Target(course="CNC201"),) and one.credits == Decimal(6)
    assert category.target == (cl.Target(category="practice"),) and category.credits == Decimal(8)
    assert {r.statement_id for r in school.transcript("S1").records} == {"XTJX-S1-1"}


def test_many_to_one_needs_every_source_and_grants_the_target_once(school):
    both = statement(result("ZZ-ELEC", 75), result("ZZ-PLC", 90), issuer="ZZJX", sid="W1")
    res = school.receive_statement(both, trusted_keys=TRUSTED, as_of=ON)
    first, second = res.decisions
    assert first.credits == Decimal(6) and first.target == (cl.Target(course="MT102"),)
    assert second.accepted and second.credits == 0 and "together with" in second.message
    (event,) = res.events
    assert event.source_course == "ZZ-ELEC+ZZ-PLC" and event.source_credits == Decimal(9)


def test_many_to_one_with_one_source_falls_back_to_one_to_one(school):
    res = school.receive_statement(statement(result("ZZ-ELEC", 75), issuer="ZZJX", sid="W1"), trusted_keys=TRUSTED,
                                   as_of=ON)
    assert res.decisions[0].target == (cl.Target(course="ELEC101"),)


def test_one_to_many(ledger, catalog):
    agreement = dict(id="AGR-ONE-MANY", alliance="HN-MFG", valid_from="2024-01-01", equivalences=[
        {"from": {"institution": "XTJX", "courses": ["XT-PRA"]},
         "to": {"institution": "HNJX", "courses": ["PRA302", "PRA303"]}}])
    ledger.load_catalog(extended(catalog, agreements=[agreement]))
    enrol(ledger)
    res = ledger.receive_statement(statement(result("XT-PRA", 88)), trusted_keys=TRUSTED, as_of=ON)
    (d,) = res.decisions
    assert [t.course for t in d.target] == ["PRA302", "PRA303"] and d.credits == Decimal(16)
    assert "one-to-many" in d.message


@pytest.mark.parametrize("grade, accepted", [
    (59, False), (60, True), ("及格", True), ("不及格", False), ("合格", True), ("不合格", False), ("中", True)])
def test_min_grade_across_scales(school, grade, accepted):
    res = school.receive_statement(statement(result("XT-CNC1", grade)), trusted_keys=TRUSTED, as_of=ON)
    assert res.decisions[0].accepted is accepted
    if not accepted:
        assert res.decisions[0].code == "below_min_grade"


def test_a_pass_fail_grade_does_not_show_a_higher_minimum(ledger, catalog):
    agreement = dict(id="AGR-STRICT", parties=["XTJX", "HNJX"], valid_from="2024-01-01", min_grade=75,
                     equivalences=[{"from": {"institution": "XTJX", "courses": ["XT-DRAW"]},
                                    "to": {"institution": "HNJX", "courses": ["MECH101"]}}])
    ledger.load_catalog(extended(catalog, agreements=[agreement]))
    enrol(ledger)
    st_ = statement(result("XT-DRAW", "合格"))
    # AGR-HN-MFG-2024 (min 60) takes it first; under the strict agreement alone a 合格 would not do
    assert ledger.receive_statement(st_, trusted_keys=TRUSTED, as_of=ON, dry_run=True).decisions[0].rule == (
        "AGR-HN-MFG-2024")
    assert not cl.transfer.meets_min_grade(cl.Grade.parse("合格"), cl.Grade.parse(75), policy=cl.Policy())
    assert cl.transfer.meets_min_grade(cl.Grade.parse("良"), cl.Grade.parse(75), policy=cl.Policy())


def test_max_age_of_the_source(school):
    res = school.receive_statement(statement(result("XT-CNC1", on=D(2023, 6, 30))), trusted_keys=TRUSTED,
                                   as_of=D(2028, 9, 1))
    assert codes(res) == ["too_old"] and "5 years" in res.decisions[0].message


def test_max_age_is_counted_on_the_calendar(school):
    """AGR-HN-MFG-2024 allows sources up to 5 years old: a result of 2023-03-01 is recognised up to 2028-03-01, the
    same day five calendar years on (``dates.add_years``; counted as 5 x 365.25 = 1,826 days the last day would be
    2028-02-29), and is too old from 2028-03-02."""
    source = statement(result("XT-CNC1", on=D(2023, 3, 1)))
    last = school.receive_statement(source, trusted_keys=TRUSTED, as_of=D(2028, 3, 1), dry_run=True)
    assert [d.accepted for d in last.decisions] == [True] and codes(last) == [None]
    late = school.receive_statement(source, trusted_keys=TRUSTED, as_of=D(2028, 3, 2), dry_run=True)
    assert codes(late) == ["too_old"] and "5 years" in late.decisions[0].message


def test_dated_membership(school):
    """ZZJX joined the alliance on 2024-03-01: a course of January 2024 is not recognised under it."""
    res = school.receive_statement(statement(result("ZZ-ELEC", 80, on=D(2024, 1, 15)), issuer="ZZJX", sid="W1"),
                                   trusted_keys=TRUSTED, as_of=ON)
    assert codes(res) == ["not_a_member"] and "ZZJX" in res.decisions[0].message


def test_agreement_window(school):
    """AGR-HN-MFG-2024 is in force 2024-01-01 .. 2028-12-31."""
    res = school.receive_statement(statement(result("XT-CNC1", 80, on=D(2026, 6, 30))), trusted_keys=TRUSTED,
                                   as_of=D(2029, 3, 1))
    assert codes(res) == ["agreement_expired"] and "2028-12-31" in res.decisions[0].message


@pytest.mark.parametrize("mutual", [False, True])
def test_one_way_and_mutual_agreements(ledger, catalog, mutual):
    """An agreement written from HNJX's EL103 to ZZJX's ZZ-PLC recognises ZZ-PLC at HNJX only when mutual."""
    agreement = dict(id="AGR-HN-ZZ", parties=["HNJX", "ZZJX"], mutual=mutual, valid_from="2024-01-01",
                     equivalences=[{"from": {"institution": "HNJX", "courses": ["EL103"]},
                                    "to": {"institution": "ZZJX", "courses": ["ZZ-PLC"]}}])
    ledger.load_catalog(extended(catalog, agreements=[agreement]))
    enrol(ledger)
    res = ledger.receive_statement(statement(result("ZZ-PLC", 90), issuer="ZZJX"),
                                   trusted_keys=TRUSTED, as_of=ON)
    (d,) = res.decisions
    if mutual:
        assert d.accepted and d.rule == "AGR-HN-ZZ" and d.target == (cl.Target(course="EL103"),)
    else:
        assert d.code == "not_in_agreement" and "one-way" in d.message and d.rule == "AGR-HN-ZZ"


# -- statements ------------------------------------------------------------------------------------------------------


def test_statement_round_trip_and_verification():
    st_ = statement(result("XT-CNC1", "良"), result("XT-PRA", "合格"))
    text = st_.to_json()
    again = cl.TransferStatement.from_json(text)
    assert again == st_ and again.to_json() == text
    again.verify(TRUSTED)
    assert cl.TransferStatement.from_json(text.encode("utf-8") + b"\n") == st_


@pytest.mark.parametrize("trusted", [{}, {"XTJX": public_key_hex(OTHER_KEY)}, {"ZZJX": public_key_hex(KEY)}])
def test_untrusted_statement_is_refused_and_nothing_written(school, trusted):
    before = school.count()
    with pytest.raises(cl.BadSignature):
        school.receive_statement(statement(result("XT-CNC1")), trusted_keys=trusted, as_of=ON)
    assert school.count() == before


def test_unsigned_statement_is_refused(school):
    with pytest.raises(cl.BadSignature, match="unsigned"):
        school.receive_statement(statement(result("XT-CNC1"), key=None), trusted_keys=TRUSTED, as_of=ON)


def test_altered_statement_is_refused(school):
    st_ = statement(result("XT-CNC1", 55))
    forged = st_.model_copy(update={"results": (result("XT-CNC1", 95),)})
    with pytest.raises(cl.BadSignature, match="altered"):
        school.receive_statement(forged, trusted_keys=TRUSTED, as_of=ON)
    with pytest.raises(cl.BadSignature):
        cl.TransferStatement.from_json(json.dumps(json.loads(st_.to_json()), indent=2))
    with pytest.raises(cl.BadSignature):
        cl.TransferStatement.from_json("not json at all")


def test_a_rotated_key_list_is_accepted(school):
    res = school.receive_statement(statement(result("XT-CNC1")).to_json(), as_of=ON,
                                   trusted_keys={"XTJX": [public_key_hex(OTHER_KEY), KEY.public_key()]})
    assert res.decisions[0].accepted


@settings(max_examples=200)
@given(st.data())
def test_flipping_any_byte_of_a_signed_statement_fails_verification(data):
    raw = SIGNED_TEXT.encode("utf-8")
    position = data.draw(st.integers(min_value=0, max_value=len(raw) - 1), label="position")
    value = data.draw(st.integers(min_value=0, max_value=255).filter(lambda b: b != raw[position]), label="byte")
    flipped = raw[:position] + bytes([value]) + raw[position + 1:]
    with pytest.raises(cl.BadSignature):
        cl.TransferStatement.from_json(flipped).verify(TRUSTED)


SIGNED_TEXT = statement(result("XT-CNC1", "良"), result("XT-PRA", "合格"), result("XT-PUB1", Decimal("71.5"))).to_json()


def test_flipping_each_bit_of_every_byte_fails_verification():
    """Exhaustively: every single-bit change anywhere in the file."""
    raw = SIGNED_TEXT.encode("utf-8")
    for position in range(len(raw)):
        for bit in range(8):
            flipped = raw[:position] + bytes([raw[position] ^ (1 << bit)]) + raw[position + 1:]
            with pytest.raises(cl.BadSignature):
                cl.TransferStatement.from_json(flipped).verify(TRUSTED)


def test_receiving_the_same_statement_twice_grants_nothing_more(school):
    st_ = statement(result("XT-CNC1"), result("XT-PRA", "合格"))
    first = school.receive_statement(st_, trusted_keys=TRUSTED, as_of=ON)
    count, balance = school.count(), school.balance("S1")
    second = school.receive_statement(st_, trusted_keys=TRUSTED, as_of=D(2026, 3, 2))
    assert codes(second) == ["duplicate_outcome"] * 2 and second.credits == 0 and second.events == ()
    assert school.count() == count and school.balance("S1") == balance
    assert first.credits == balance.total


def test_issue_and_receive_between_two_ledgers(catalog, tmp_path):
    a = cl.Ledger.open(str(tmp_path / "xtjx.db"), create=True)
    a.load_catalog(catalog)  # the catalog is loaded unrestricted; then the school acts as itself
    a = a.acting_for("XTJX")
    a.append(cl.Enrolled(event_id="S1-xt", student_id="S1", occurred_on=D(2024, 9, 1), institution="XTJX",
                         program="XT-CNC-2024"))
    a.append_many([cl.CourseCompleted(event_id=f"S1-{c}", student_id="S1", occurred_on=D(2025, 1, 10),
                                      institution="XTJX", course=c, grade=g)
                   for c, g in (("XT-CNC1", 82), ("XT-DRAW", 52), ("XT-PRA", "合格"))])
    st_ = a.issue_statement("S1", key=KEY)
    assert [r.course for r in st_.results] == ["XT-CNC1", "XT-PRA"]  # the failed course is not a result
    b = cl.Ledger.open(str(tmp_path / "hnjx.db"), create=True)
    b.load_catalog(catalog)
    b = b.acting_for("HNJX")
    b.append(cl.Enrolled(event_id="S1-hn", student_id="HN-001", occurred_on=D(2025, 9, 1), institution="HNJX",
                         program="CNC-SR-2025"))
    res = b.receive_statement(st_.to_json(), trusted_keys={"XTJX": public_key_hex(KEY)}, as_of=ON,
                              student_id="HN-001")
    assert res.credits == Decimal(14) and b.balance("HN-001").by_origin["recognized"] == Decimal(14)
    assert all(e.recorded_by == "HNJX" for e in b.events("HN-001"))
    assert a.verify().ok and b.verify().ok
    a.close()
    b.close()


# -- properties ------------------------------------------------------------------------------------------------------

OUTCOME_POOL = (
    dict(type="certificate", title="数控车工", level="中级"), dict(type="certificate", title="数控车工", level="高级"),
    dict(type="certificate", title="数控车工", level="初级"), dict(type="certificate", title="电工", level="中级"),
    dict(type="competition", title="大赛", level="国家级", rank=1), dict(type="competition", title="大赛", level="市级", rank=3),
    dict(type="work_experience", title="岗位", post="电工", years=Decimal(4)),
    dict(type="apprenticeship", title="学徒", hours=Decimal(320)),
    dict(type="online_course", title="慕课", hours=Decimal(96)),
)


@st.composite
def submissions(draw: st.DrawFn) -> list[list[cl.Outcome]]:
    """Several rounds of outcomes, drawn from a pool; ids from a small pool so that outcomes meet again."""
    rounds = []
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        batch = draw(st.lists(st.tuples(st.sampled_from(OUTCOME_POOL), st.integers(0, 5)), max_size=6))
        rounds.append([cl.Outcome(outcome_id=f"O-{n}", **kind) for kind, n in batch])
    return rounds


def _program_caps(ledger: cl.Ledger, sid: str):
    standing = standing_of(sid, ledger.events(sid), catalog=ledger.catalog, on=D(2030, 1, 1))
    return apply_caps(ledger.transcript(sid).records, total_credits=standing.program.total_credits,
                      policy=standing.program.policy), standing.program


@given(submissions(), st.sampled_from(["CNC-SR-2025", "MECH-PT-2024"]))
def test_caps_are_never_exceeded_and_each_outcome_converts_once(rounds, program):
    ledger = cl.Ledger.open()
    ledger.load_catalog(CATALOG)
    enrol(ledger, "P", program)
    for n, batch in enumerate(rounds):
        ledger.convert("P", batch, as_of=D(2026, 1, 1 + n))
    records = ledger.transcript("P").records
    caps, prog = _program_caps(ledger, "P")
    # decisions write only what the caps count: nothing written is cut by a cap
    assert not [x for x in caps.excluded if x.code.startswith("cap_")]
    external = sum((r.credits for r in caps.counted if r.origin != "home"), Decimal(0))
    assert external <= prog.policy.max_external_ratio * prog.total_credits
    if prog.policy.min_home_ratio is not None:
        assert external <= (1 - prog.policy.min_home_ratio) * prog.total_credits
    online = sum((r.credits for r in caps.counted if r.outcome_type == "online_course"), Decimal(0))
    assert online <= prog.policy.max_online_ratio * prog.total_credits
    per_outcome: dict[tuple, set] = {}
    for r in records:
        per_outcome.setdefault((r.outcome_type, r.outcome_id), set()).add(r.occurred_on)
    assert all(len(days) == 1 for days in per_outcome.values()), "an outcome converted on two days"
    # the same submissions again add nothing: what was converted is a duplicate, what was refused still is
    converted = {(r.outcome_type, r.outcome_id) for r in records}
    count = ledger.count()
    for batch in rounds:
        again = ledger.convert("P", batch, as_of=D(2026, 2, 1))
        assert again.events == () and not again.accepted
        assert all(d.code == "duplicate_outcome" for o, d in zip(batch, again.decisions)
                   if (o.type, o.outcome_id) in converted)
    assert ledger.count() == count
    ledger.close()


@given(st.lists(st.sampled_from(["XT-CNC1", "XT-CNC2", "XT-DRAW", "XT-PRA", "XT-PUB1"]), min_size=1, max_size=5,
                unique=True), st.lists(st.sampled_from([55, 60, 75, "良", "合格", "不合格"]), min_size=5, max_size=5))
def test_receiving_a_statement_twice_adds_nothing(courses, grades):
    ledger = cl.Ledger.open()
    ledger.load_catalog(CATALOG)
    enrol(ledger)
    st_ = statement(*[result(c, g) for c, g in zip(courses, grades)])
    first = ledger.receive_statement(st_, trusted_keys=TRUSTED, as_of=ON)
    count, total = ledger.count(), ledger.balance("S1").total
    assert total == first.credits
    second = ledger.receive_statement(st_, trusted_keys=TRUSTED, as_of=ON)
    assert second.credits == 0 and ledger.count() == count and ledger.balance("S1").total == total
    ledger.close()


@given(submissions(), st.data())
def test_a_revocation_removes_exactly_the_credits_of_that_outcome(rounds, data):
    ledger = cl.Ledger.open()
    ledger.load_catalog(CATALOG)
    enrol(ledger, "P")
    for n, batch in enumerate(rounds):
        ledger.convert("P", batch, as_of=D(2026, 1, 1 + n))
    records = ledger.transcript("P").records
    if not records:
        return
    victim = data.draw(st.sampled_from(sorted({(r.outcome_type, r.outcome_id) for r in records})))
    ledger.append(cl.OutcomeRevoked(event_id="P-revoke", student_id="P", occurred_on=D(2026, 6, 1),
                                    outcome_type=victim[0], outcome_id=victim[1]))
    after = ledger.transcript("P").records
    assert sorted(after, key=lambda r: r.event_id) == sorted(
        (r for r in records if (r.outcome_type, r.outcome_id) != victim), key=lambda r: r.event_id)
    ledger.close()


# -- the facade's edges ----------------------------------------------------------------------------------------------


def test_issue_statement_needs_a_school(ledger):
    with pytest.raises(cl.UnknownReference):
        ledger.issue_statement("nobody", key=KEY)


def test_another_school_cannot_decide_for_a_student(catalog, school):
    xtjx = school.acting_for("XTJX")
    res = xtjx.convert("S1", [outcome()], as_of=ON)
    assert codes(res) == ["not_enrolled"] and "not enrolled at XTJX" in res.decisions[0].message


def test_receive_dry_run_writes_nothing(school):
    before = school.count()
    res = school.receive_statement(statement(result("XT-CNC1")), trusted_keys=TRUSTED, as_of=ON, dry_run=True)
    assert res.dry_run and res.credits == Decimal(6) and len(res.events) == 1
    assert school.count() == before


def test_suspended_student_is_not_granted_credits(school):
    school.append(cl.Suspended(event_id="S1-susp", student_id="S1", occurred_on=D(2026, 2, 1)))
    res = school.convert("S1", [outcome()], as_of=ON)
    assert codes(res) == ["not_enrolled"] and "suspended" in res.decisions[0].message


def test_decisions_and_results_serialise_to_json(school):
    res = school.convert("S1", [outcome(), outcome("competition", "C-1", rank=9)], as_of=ON, dry_run=True)
    again = cl.RecognitionResult.model_validate_json(res.model_dump_json())
    assert again == res and "no_rule" in str(res)
