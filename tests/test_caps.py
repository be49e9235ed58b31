"""The caps on external credits (``transfer.apply_caps``): what of the recognised and converted credits counts toward
a program, for any mix of records, in any order; and the named examples."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from credit_ledger.models import CreditRecord, Policy
from credit_ledger.transfer import apply_caps

from strategies import cap_policies, credit_amounts, record_lists

D = date


def rec(eid: str, credits: int | str, origin: str = "recognized", *, on: date = D(2026, 3, 1), **kw) -> CreditRecord:
    data = dict(course=None, institution="HNJX", title=eid, category="core", credits=Decimal(credits),
                origin=origin, event_id=eid, occurred_on=on)
    data.update(kw)
    return CreditRecord(**data)


def cert(eid: str, credits: int | str, outcome_id: str, course: str | None, **kw) -> CreditRecord:
    return rec(eid, credits, "converted", course=course, outcome_type="certificate", outcome_id=outcome_id,
               rule=kw.pop("rule", "CERT-ELEC-L4"), **kw)


def counted_of(result, event_id: str) -> Decimal:
    return sum((r.credits for r in result.counted if r.event_id == event_id), Decimal(0))


# -- properties ------------------------------------------------------------------------------------------------------


@given(record_lists(), cap_policies(), credit_amounts(200).filter(lambda c: c > 0), st.randoms())
def test_caps_hold_for_any_mix(raw, policy_kw, total, random):
    records = [CreditRecord(**r) for r in raw]
    policy = Policy(**policy_kw)
    result = apply_caps(records, total_credits=total, policy=policy)

    # every record's counted plus excluded credits are its own, and none counts more than it has
    for r in records:
        gone = sum((x.credits for x in result.excluded if x.record.event_id == r.event_id), Decimal(0))
        assert counted_of(result, r.event_id) + gone == r.credits
        assert counted_of(result, r.event_id) <= r.credits
    assert all(x.credits > 0 or x.record.credits == 0 for x in result.excluded)
    assert not {x.record.event_id for x in result.excluded if x.credits == x.record.credits} & {
        r.event_id for r in result.counted}, "a record excluded whole does not count"
    # home records count untouched, unless another record toward the same course counts: a recognised or converted
    # one that keeps more credits, or another home one (a course counts once, by the record that keeps the most)
    home = [r for r in records if r.origin == "home"]
    for r in home:
        if r.event_id not in {c.event_id for c in result.counted}:
            assert [x.code for x in result.excluded if x.record.event_id == r.event_id] == ["overlap_lower"]
            assert any(c.course == r.course and (c.credits > r.credits or c.origin == "home")
                       for c in result.counted)
        else:
            assert counted_of(result, r.event_id) == r.credits

    external = [r for r in result.counted if r.origin != "home"]
    limit = policy.max_external_ratio * total
    if policy.min_home_ratio is not None:
        limit = min(limit, (1 - policy.min_home_ratio) * total)
    assert sum((r.credits for r in external), Decimal(0)) <= limit
    online_ext = sum((r.credits for r in external if r.mode == "online" or r.outcome_type == "online_course"),
                     Decimal(0))
    counted_home = [r for r in result.counted if r.origin == "home"]
    online_home = sum((r.credits for r in counted_home if r.mode == "online"), Decimal(0))
    assert online_ext == 0 or online_ext + online_home <= policy.max_online_ratio * total

    per_certificate: dict[str, Decimal] = defaultdict(Decimal)
    per_course: dict[str, int] = defaultdict(int)
    conversions: dict[tuple, set] = defaultdict(set)
    home_courses = {r.course for r in counted_home}
    for r in external:
        if r.course is not None:
            per_course[r.course] += 1
        if r.origin != "converted":
            continue
        if r.outcome_type == "certificate":
            per_certificate[r.outcome_id] += r.credits
        conversions[(r.outcome_type, r.outcome_id)].add((r.rule, r.occurred_on))
    assert all(v <= policy.max_certificate_credits for v in per_certificate.values())
    assert all(n == 1 for n in per_course.values()), "a course is replaced by at most one external record"
    assert not set(per_course) & home_courses, "a course counted from home is not also counted from elsewhere"
    assert all(len(v) == 1 for v in conversions.values()), "each outcome converts once"

    # the order records are given in does not matter
    shuffled = list(records)
    random.shuffle(shuffled)
    assert apply_caps(shuffled, total_credits=total, policy=policy) == result


@given(record_lists())
def test_of_overlapping_outcomes_the_highest_counts(raw):
    """With no other cap binding, the record counted for a course has the most credits of those toward it (once
    each outcome converts once), a home record first among equals."""
    records = [CreditRecord(**r) for r in raw]
    policy = Policy(max_external_ratio=1, max_online_ratio=1, max_certificate_credits=1000)
    result = apply_caps(records, total_credits=Decimal(100000), policy=policy)
    duplicates = {x.record.event_id for x in result.excluded if x.code == "duplicate_outcome"}
    home_credits = {r.course: r.credits for r in records if r.origin == "home"}
    for r in result.counted:
        if r.origin != "home" and r.course is not None:
            assert r.credits > home_credits.get(r.course, Decimal(-1))
            rivals = [o for o in records if o.origin != "home" and o.course == r.course
                      and o.event_id not in duplicates]
            assert r.credits == max(o.credits for o in rivals)
    assert {x.code for x in result.excluded} <= {"duplicate_outcome", "overlap_lower"}


# -- examples --------------------------------------------------------------------------------------------------------


def test_certificate_of_ten_credits_counts_eight():
    records = [cert("c-elec", 4, "ELEC-2024-001", "ELEC101"), cert("c-plc", 6, "ELEC-2024-001", "MT102")]
    result = apply_caps(records, total_credits=Decimal(90), policy=Policy())
    assert result.total == Decimal(8)
    assert counted_of(result, "c-elec") == 4 and counted_of(result, "c-plc") == 4
    (x,) = result.excluded
    assert (x.code, x.credits, x.record.event_id) == ("cap_certificate", Decimal(2), "c-plc")
    assert "ELEC-2024-001" in x.message and "max_certificate_credits" in x.message


def test_home_share_rule_limits_external_credits():
    """150 credits, external up to 50% but 60% must be home: 60 external credits count at most."""
    policy = Policy(min_home_ratio=Decimal("0.6"))
    thirty = [rec(f"xt-{i}", 6) for i in range(5)]
    assert apply_caps(thirty, total_credits=Decimal(150), policy=policy).excluded == ()
    seventy_five = [rec(f"xt-{i:02d}", 5) for i in range(15)]
    result = apply_caps(seventy_five, total_credits=Decimal(150), policy=policy)
    assert result.total == Decimal(60)
    assert {x.code for x in result.excluded} == {"cap_external"}
    assert sum(x.credits for x in result.excluded) == Decimal(15)
    assert "min_home_ratio" in result.excluded[0].message and "60%" in result.excluded[0].message
    # without the home-share rule the 50% cap (75 of 150) takes all 75
    assert apply_caps(seventy_five, total_credits=Decimal(150), policy=Policy()).total == Decimal(75)


def test_later_records_are_trimmed_first():
    early, late = rec("b-early", 50, on=D(2026, 1, 1)), rec("a-late", 50, on=D(2026, 5, 1))
    result = apply_caps([late, early], total_credits=Decimal(150), policy=Policy())
    assert counted_of(result, "b-early") == 50 and counted_of(result, "a-late") == 25


def test_home_online_courses_use_the_online_room_first():
    home_online = rec("onl-home", 20, "home", mode="online")
    mooc = rec("mooc", 10, "converted", outcome_type="online_course", outcome_id="MOOC-1", rule="ONLINE-MOOC")
    result = apply_caps([mooc, home_online], total_credits=Decimal(100), policy=Policy())
    assert counted_of(result, "onl-home") == 20 and counted_of(result, "mooc") == 5
    assert result.excluded[0].code == "cap_online" and "max_online_ratio" in result.excluded[0].message


def test_overlap_counts_the_highest_and_duplicates_once():
    low = cert("l4", 6, "CNC-L4-1", "CNC201", rule="CERT-CNC-L4", on=D(2026, 1, 1))
    high = rec("comp", 8, "converted", course="CNC201", outcome_type="competition", outcome_id="COMP-9",
               rule="COMP-PROVINCIAL", on=D(2026, 4, 1))
    again = cert("l4-again", 6, "CNC-L4-1", "CNC202", rule="CERT-CNC-L4", on=D(2026, 6, 1))
    result = apply_caps([low, high, again], total_credits=Decimal(150), policy=Policy())
    assert [r.event_id for r in result.counted] == ["comp"]
    assert {(x.record.event_id, x.code) for x in result.excluded} == {
        ("l4", "overlap_lower"), ("l4-again", "duplicate_outcome")}


def test_a_program_change_re_applies_the_caps():
    records = [rec("home", 30, "home"), rec("xt", 30)]
    assert apply_caps(records, total_credits=Decimal(150), policy=Policy()).total == Decimal(60)
    small = apply_caps(records, total_credits=Decimal(40), policy=Policy(max_external_ratio=Decimal("0.3")))
    assert small.total == Decimal(42) and small.excluded[0].credits == Decimal(18)


def test_a_certificate_that_loses_a_course_keeps_its_cap_for_the_others():
    """CNC201 is already recognised; the certificate's 8 go to CNC202 (6 of them) instead of 6 + 2."""
    recognised = rec("xt-cnc1", 6, course="CNC201", on=D(2025, 9, 10))
    on_201, on_202 = cert("c-201", 6, "NC-4-1", "CNC201"), cert("c-202", 6, "NC-4-1", "CNC202")
    result = apply_caps([on_202, recognised, on_201], total_credits=Decimal(150), policy=Policy())
    assert counted_of(result, "c-202") == 6 and counted_of(result, "c-201") == 0
    assert [(x.record.event_id, x.code) for x in result.excluded] == [("c-201", "overlap_lower")]


def test_a_course_earned_at_home_is_not_counted_again_from_elsewhere():
    home = rec("cnc201-home", 6, "home", course="CNC201", on=D(2026, 6, 1))
    result = apply_caps([cert("c-201", 6, "NC-4-1", "CNC201"), home], total_credits=Decimal(150), policy=Policy())
    assert [r.event_id for r in result.counted] == ["cnc201-home"]
    assert "earned at the home school" in result.excluded[0].message
