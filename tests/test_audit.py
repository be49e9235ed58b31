"""Graduation audits, by example (issue 3): each test is one scenario of a student, recorded in a real in-memory ledger
with the sample catalog loaded (and, where the sample has no fitting program, a small catalog of our own merged in),
then audited with ``Ledger.audit`` and, where an award is at stake, gated by appending ``Graduated``.

What a test expects is worked out here from the scenario (course credits are read from the catalog, the reference
data), never from the library's own rules.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Iterable

import pytest

import credit_ledger as cl
from html_tags import balanced

D = date
HNJX = "HNJX"
SAMPLE = cl.Catalog.sample()
ZERO = Decimal("0.00")


# -- helpers ---------------------------------------------------------------------------------------------------------


def enrol(sid: str, on: date, program: str = "CNC-SR-2025", **kw: Any) -> cl.Enrolled:
    return cl.Enrolled(event_id=f"{sid}-enrol", student_id=sid, occurred_on=on, institution=HNJX, program=program,
                       **kw)


def course(sid: str, code: str, on: date, grade: Any = 80, **kw: Any) -> cl.CourseCompleted:
    return cl.CourseCompleted(event_id=f"{sid}-{code}", student_id=sid, occurred_on=on, institution=HNJX,
                              course=code, grade=grade, **kw)


def courses(sid: str, codes: Iterable[str], start: date, every: int = 7) -> list[cl.CourseCompleted]:
    """One passed course every ``every`` days from ``start``."""
    return [course(sid, code, start + timedelta(days=every * i)) for i, code in enumerate(codes)]


def credits_of(codes: Iterable[str], on: date = D(2026, 1, 1)) -> Decimal:
    """The catalog credits of HNJX courses (reference data)."""
    return sum((SAMPLE.course(HNJX, c, on).credits for c in codes), ZERO)


def graduated(sid: str, on: date, award: str = "graduation", *, suffix: str = "", **kw: Any) -> cl.Graduated:
    return cl.Graduated(event_id=f"{sid}-{award}-{on}{suffix}", student_id=sid, occurred_on=on, award=award, **kw)


def refused_award(ledger: cl.Ledger, event: cl.Graduated) -> cl.RejectedEvent:
    """Appending the award is refused with ``audit_not_eligible``, naming the student, and nothing is written."""
    before = ledger.count()
    with pytest.raises(cl.RejectedEvent) as info:
        ledger.append(event)
    assert info.value.codes == ["audit_not_eligible"], info.value.codes
    issue = info.value.issues[0]
    assert issue.student_id == event.student_id and event.event_id in issue.message
    assert ledger.count() == before
    assert ledger.status(event.student_id, event.occurred_on) != "graduated"
    return info.value


def codes(report: cl.AuditReport) -> list[str]:
    return [i.code for i in report.issues]


def node(report: cl.AuditReport, ident: str) -> cl.RequirementResult:
    """A requirement of the report's tree by id."""
    stack = [report.requirements]
    while stack:
        n = stack.pop()
        if n.id == ident:
            return n
        stack.extend(n.children)
    raise KeyError(ident)


def tree_ids(result: cl.RequirementResult) -> set[str]:
    return {result.id} | {i for c in result.children for i in tree_ids(c)}


def hnjx_catalog(*programs: dict[str, Any]) -> cl.Catalog:
    """A catalog of our own: HNJX and its sample courses, with extra programs (merged into the ledger's)."""
    data = json.loads(SAMPLE.to_json())
    return cl.Catalog.from_data({
        "institutions": [i for i in data["institutions"] if i["code"] == HNJX],
        "courses": [c for c in data["courses"] if c["institution"] == HNJX],
        "programs": list(programs),
    })


def program(code: str, requirements: dict[str, Any], **kw: Any) -> dict[str, Any]:
    """A small HNJX full-time program: two standard years, early graduation after half a year, at most four."""
    return {"institution": HNJX, "code": code, "title": kw.pop("title", code), "level": "senior_worker",
            "modes": ["full_time"], "standard_years": 2, "min_years": 0.5, "max_years": 4,
            "total_credits": kw.pop("total_credits", 4), "requirements": requirements, **kw}


@pytest.fixture
def custom(ledger: cl.Ledger) -> cl.Ledger:
    """The sample ledger with the small programs of this module merged into its catalog."""
    ledger.load_catalog(CUSTOM)
    return ledger


GREEDY_TRAP = program("GREEDY-2025", {
    "id": "root", "title": "三个学分池", "all": [
        {"id": "digital", "title": "数字化学分", "credits": 4, "from": {"tag": "digital"}},
        {"id": "core", "title": "核心学分", "credits": 4, "from": {"category": "core"}},
        {"id": "public", "title": "公共学分", "credits": 4, "from": {"category": "public"}},
    ]}, total_credits=12)

PICK_2_OF_4 = program("PICK-2025", {
    "id": "electives", "title": "选修（四选二）", "pick": 2, "of": [
        {"id": "el-a", "title": "工业机器人", "courses": ["EL101"]},
        {"id": "el-b", "title": "3D打印", "courses": ["EL102"]},
        {"id": "el-c", "title": "数字化学分", "credits": 2, "from": {"tag": "digital"}},
        {"id": "el-d", "title": "质量管理", "courses": ["EL103"]},
    ]}, total_credits=4)


def _cnc_pair(code: str, shared: bool) -> dict[str, Any]:
    return program(code, {"id": "root", "all": [
        {"id": "cnc-courses", "title": "数控核心课", "courses": ["CNC201", "CNC202"]},
        {"id": "cnc-credits", "title": "数控学分", "credits": 12, "from": {"tag": "cnc"}, "shared": shared},
    ]}, total_credits=12)


SHARED = _cnc_pair("SHARED-2025", True)
NOT_SHARED = _cnc_pair("NOSHARE-2025", False)

EXPIRING = program("EXPIRE-2025", {"id": "root", "all": [
    {"id": "core", "title": "核心课", "courses": ["MECH101"]},
    {"id": "practice", "title": "实训学分", "credits": 8, "from": {"category": "practice"}},
]}, total_credits=12, standard_years=3, min_years=1, max_years=6, policy={"credit_validity_years": 2})

# a program that became a technician class (技师班) in its 2026 catalog year: an enrolment of 2025 needed no basis
TECH_BEFORE = program("TECH-X", {"id": "root", "all": [
    {"id": "core", "title": "技师核心课", "courses": ["TEC401", "TEC402"]}]}, total_credits=10, kind="regular",
    level="technician")
TECH_AFTER = {**TECH_BEFORE, "kind": "technician_class", "valid_from": "2026-01-01"}

HTML_TITLE = program("HTML-2025", {"id": "root", "title": "<script>alert('x')</script>", "all": [
    {"id": "core", "title": "核心 <b>课</b> & more", "courses": ["MECH101"]}]}, title="A<B>&C")

CUSTOM = hnjx_catalog(GREEDY_TRAP, PICK_2_OF_4, SHARED, NOT_SHARED, EXPIRING, TECH_BEFORE, TECH_AFTER, HTML_TITLE)


# -- early graduation (提前毕业) -------------------------------------------------------------------------------------

# every requirement of CNC-SR-2025 and its 150 credits: public 30 (+1 online), core 28, practice 44, electives 10,
# and the part-time program's courses for the rest
CNC_SR_ALL = ("PUB101", "PUB102", "PUB103", "PUB104", "PUB105", "PUB106", "PUB107", "PUB108", "PUB109", "ONL102",
              "MECH101", "MECH102", "ELEC101", "CNC201", "CNC202", "CNC203", "PRA301", "PRA302", "PRA303", "PRA304",
              "PRA305", "EL101", "EL102", "EL103", "ONL101", "MT101", "MT102", "MT103", "MT201", "MT202", "MT301")


def test_early_graduation_allowed_at_two_and_a_half_years_refused_at_one_and_a_half(ledger):
    sid = "S-early"
    start = D(2025, 9, 1)
    assert credits_of(CNC_SR_ALL) == 150  # the scenario covers the program's total (reference data)
    ledger.append_many([enrol(sid, start), *courses(sid, CNC_SR_ALL, D(2025, 9, 10), every=9)])

    at_1_5, at_2_5 = D(2027, 3, 1), D(2028, 3, 1)
    early = ledger.audit(sid, as_of=at_1_5)
    assert early.requirements.satisfied and early.shortfall == 0
    assert early.status is cl.AuditStatus.TOO_EARLY
    assert not early.eligible and not early.supports("graduation")
    assert early.earliest_date == D(2027, 9, 1)  # enrolment + min_years 2
    assert "too_early" in codes(early)
    refused_award(ledger, graduated(sid, at_1_5))

    # the floor itself: the day before is too early, the day is not
    assert ledger.audit(sid, as_of=D(2027, 8, 31)).status is cl.AuditStatus.TOO_EARLY
    assert ledger.audit(sid, as_of=D(2027, 9, 1)).status is cl.AuditStatus.ELIGIBLE

    later = ledger.audit(sid, as_of=at_2_5)
    assert later.status is cl.AuditStatus.ELIGIBLE and later.eligible
    assert later.award == "graduation" and not later.part_time
    ledger.append(graduated(sid, at_2_5))
    assert ledger.status(sid, at_2_5) == "graduated"
    after = ledger.audit(sid, as_of=D(2028, 6, 1))
    assert after.status is cl.AuditStatus.GRADUATED
    assert "graduation_unsupported" not in codes(after)


# -- a worker-student in stages (分阶段完成学业) ----------------------------------------------------------------------

PT_START = D(2024, 9, 1)
PT_STAGES = (
    # (start, end, courses of the stage); a suspension (休学) follows each stage but the last
    (D(2024, 9, 1), D(2025, 7, 1), ("PUB101", "PUB102", "MT101", "ELEC101")),
    (D(2025, 9, 1), D(2026, 7, 1), ("PUB103", "MT102", "MECH101", "PRA301")),
    (D(2027, 7, 1), D(2028, 1, 20), ("MT201", "MT103", "PUB104", "PUB105", "MECH102")),  # after a year's suspension
    (D(2028, 3, 1), None, ("MT202", "MT301", "PUB106", "PUB107", "PUB108", "PUB109", "PRA305", "EL101")),
)
PT_DONE = D(2029, 7, 10)


def part_time_history(sid: str, *, leave_out: Iterable[str] = ()) -> list[Any]:
    """Enrolment in MECH-PT-2024, four study periods with three suspensions (one of a year), in date order."""
    left_out = set(leave_out)
    events: list[Any] = [enrol(sid, PT_START, "MECH-PT-2024", mode="part_time", employer="湘江重工装备有限公司")]
    for n, (start, end, codes_) in enumerate(PT_STAGES):
        if n:
            events.append(cl.Resumed(event_id=f"{sid}-resume-{n}", student_id=sid, occurred_on=start, reason="复学"))
        kept = [c for c in codes_ if c not in left_out]
        events += courses(sid, kept, start + timedelta(days=30), every=10)
        if end is not None:
            events.append(cl.Suspended(event_id=f"{sid}-suspend-{n + 1}", student_id=sid, occurred_on=end,
                                       reason="企业生产旺季"))
    return events


def test_part_time_worker_finishes_in_four_stages_over_five_years(ledger):
    sid = "S-worker"
    ledger.append_many(part_time_history(sid))
    all_codes = [c for _, _, cs in PT_STAGES for c in cs]
    assert credits_of(all_codes) == 90  # the program's total (reference data)

    report = ledger.audit(sid, as_of=PT_DONE)
    assert report.status is cl.AuditStatus.ELIGIBLE and report.eligible
    assert report.part_time
    assert report.shortfall == 0 and report.requirements.satisfied
    assert report.credits.total == 90
    assert report.enrolled_on == PT_START
    assert report.earliest_date == D(2027, 3, 1)  # enrolment + 2.5 years
    assert report.deadline == D(2030, 9, 1)  # enrolment + 6 years, suspensions included (the default)

    assert len(report.stages) == 4
    running = ZERO
    for stage, (start, end, codes_) in zip(report.stages, PT_STAGES):
        running += credits_of(codes_)
        assert (stage.start, stage.end) == (start, end)
        assert stage.credits == credits_of(codes_)
        assert stage.cumulative == running
    assert report.stages[-1].cumulative == 90
    assert [s.ended_by for s in report.stages] == ["suspended", "suspended", "suspended", None]
    assert (report.stages[2].start - report.stages[1].end).days == 365  # the year of suspension

    refused_award(ledger, graduated(sid, PT_DONE, part_time=False, suffix="-full-time"))
    ledger.append(graduated(sid, PT_DONE, part_time=True))
    assert ledger.status(sid, PT_DONE) == "graduated"


def test_part_time_worker_past_max_years_gets_completion_not_graduation(ledger):
    sid = "S-late"
    ledger.append_many(part_time_history(sid, leave_out=["MT301"]))  # the on-the-job practice never done
    day = D(2030, 10, 1)  # the deadline was 2030-09-01
    on_the_day = ledger.audit(sid, as_of=D(2030, 9, 1))
    assert on_the_day.status is cl.AuditStatus.REQUIREMENTS_MISSING and "deadline_passed" not in codes(on_the_day)
    assert ledger.audit(sid, as_of=D(2030, 9, 2)).status is cl.AuditStatus.DEADLINE_PASSED
    report = ledger.audit(sid, as_of=day)
    assert report.status is cl.AuditStatus.DEADLINE_PASSED
    assert not report.eligible
    assert report.deadline == D(2030, 9, 1) and day > report.deadline
    assert "deadline_passed" in codes(report)
    assert not report.supports("graduation")
    assert report.supports("completion") and report.award == "completion"
    refused_award(ledger, graduated(sid, day))
    ledger.append(graduated(sid, day, award="completion"))
    assert ledger.status(sid, day) == "graduated"


def test_projection_after_the_deadline_raises_at_risk_deadline(ledger):
    slow, on_pace = "S-slow", "S-pace"
    ledger.append_many([enrol(slow, PT_START, "MECH-PT-2024", mode="part_time", employer="长沙某机床厂"),
                        *courses(slow, ["PUB101", "MT101"], D(2025, 1, 10))])
    ledger.append_many(part_time_history(on_pace))
    day = D(2028, 6, 1)

    report = ledger.audit(slow, as_of=day)
    assert report.projection is not None and report.projection.at_risk
    assert report.projection.graduate_on is None or report.projection.graduate_on > report.deadline
    assert "at_risk_deadline" in codes(report)

    fine = ledger.audit(on_pace, as_of=day)
    assert fine.projection is not None and not fine.projection.at_risk
    assert fine.projection.graduate_on is not None and fine.projection.graduate_on <= fine.deadline
    assert "at_risk_deadline" not in codes(fine)


# -- expired credits ---------------------------------------------------------------------------------------------------


def test_expired_credits_and_an_expired_certificate_do_not_count(custom):
    sid = "S-expiry"
    certificate = cl.OutcomeConverted(
        event_id=f"{sid}-cert", student_id=sid, occurred_on=D(2026, 3, 1), outcome_type="certificate",
        outcome_id="CERT-2026-0001", title="数控车工（五级）", level="foundation", target={"course": "PRA305"},
        credits=4, rule_id="CERT-CNC-L5", valid_until=D(2027, 6, 30))
    custom.append_many([enrol(sid, D(2025, 9, 1), "EXPIRE-2025"), course(sid, "MECH101", D(2025, 10, 15)),
                        certificate, course(sid, "PRA301", D(2026, 6, 1))])

    before = custom.audit(sid, as_of=D(2027, 5, 1))
    assert before.requirements.satisfied and not before.excluded
    assert before.credits.total == 12

    # 2027-11-01: MECH101 (2025-10-15) is past the program's 2-year validity, the certificate past its valid_until
    report = custom.audit(sid, as_of=D(2027, 11, 1))
    expired = {x.record.event_id: x.code for x in report.expired}
    assert expired == {f"{sid}-MECH101": "credit_expired", f"{sid}-cert": "certificate_expired"}
    assert {x.record.event_id for x in report.excluded} == set(expired)
    assert report.credits.total == 4  # PRA301 only
    assert node(report, "core").missing == ("MECH101",)
    assert node(report, "practice").counted == 4
    counted = {a.event_id for n in (node(report, "core"), node(report, "practice")) for a in n.records}
    assert counted == {f"{sid}-PRA301"}
    assert {"credit_expired", "certificate_expired"} <= set(codes(report))
    assert not report.eligible


# -- exceptions (registrar's decisions) -----------------------------------------------------------------------------


def test_waiver_and_substitution_apply_by_requirement_id(ledger):
    sid = "S-exc"
    ledger.append_many([enrol(sid, D(2025, 9, 1)),
                        *courses(sid, ["MECH102", "CNC201", "CNC202"], D(2025, 10, 1))])
    before = ledger.audit(sid, as_of=D(2026, 1, 1))
    assert not node(before, "public").satisfied and not node(before, "public").waived
    assert node(before, "core").missing == ("MECH101",)

    ledger.append_many([
        cl.ExceptionGranted(event_id=f"{sid}-waive", student_id=sid, occurred_on=D(2026, 2, 1), requirement_id="public",
                            action="waive", reason="退役士兵免修公共基础课"),
        cl.ExceptionGranted(event_id=f"{sid}-sub", student_id=sid, occurred_on=D(2026, 2, 1), requirement_id="core",
                            action="substitute", course="MECH102", replaces="MECH101", reason="课程替代"),
    ])
    report = ledger.audit(sid, as_of=D(2026, 3, 1))
    public, core = node(report, "public"), node(report, "core")
    assert public.waived and public.satisfied and public.shortfall == 0
    assert core.satisfied and core.missing == ()
    sub = [a for a in core.records if a.course == "MECH102"]
    assert len(sub) == 1 and sub[0].counts_as == "MECH101"
    applied = {(e.event_id, e.requirement_id, e.action, e.course, e.replaces, e.applied) for e in report.exceptions}
    assert applied == {(f"{sid}-waive", "public", "waive", None, None, True),
                       (f"{sid}-sub", "core", "substitute", "MECH102", "MECH101", True)}
    # the exceptions were not in force before their date
    assert ledger.audit(sid, as_of=D(2026, 1, 31)).exceptions == ()

    # a reversed waiver stops applying
    ledger.reverse(f"{sid}-waive", reason="误录", occurred_on=D(2026, 4, 1))
    again = ledger.audit(sid, as_of=D(2026, 5, 1))
    assert not node(again, "public").waived and not node(again, "public").satisfied
    assert {e.event_id for e in again.exceptions} == {f"{sid}-sub"}


# -- exact allocation ----------------------------------------------------------------------------------------------


def first_fit(records: list[cl.CreditRecord], pools: list[tuple[str, dict[str, str], Decimal]]) -> dict[str, Decimal]:
    """A greedy audit: each record, in date order, to the first pool that matches it and still needs credits."""
    got = {name: ZERO for name, _, _ in pools}
    for r in sorted(records, key=lambda r: (r.occurred_on, r.event_id)):
        for name, flt, need in pools:
            matches = all((r.category == v) if k == "category" else (v in r.tags) for k, v in flt.items())
            if matches and got[name] < need:
                got[name] += r.credits
                break
    return {name: max(ZERO, need - got[name]) for name, _, need in pools}


def test_exact_allocation_succeeds_where_greedy_fails(custom):
    sid = "S-greedy"
    # CNC203 (core, digital), PUB106 (public, digital), PUB101 (public): only CNC203 can fill the core pool
    custom.append_many([enrol(sid, D(2025, 9, 1), "GREEDY-2025"), course(sid, "CNC203", D(2025, 10, 1)),
                        course(sid, "PUB106", D(2025, 11, 1)), course(sid, "PUB101", D(2025, 12, 1))])
    records = list(custom.transcript(sid).records)
    pools = [(n["id"], n["from"], Decimal(n["credits"])) for n in GREEDY_TRAP["requirements"]["all"]]
    assert first_fit(records, pools)["core"] > 0  # the trap works: greedy in canonical order leaves core short

    for method in ("auto", "search", "milp"):
        report = custom.audit(sid, as_of=D(2026, 6, 1), method=method)
        assert report.eligible, (method, report.to_text())
        assert report.shortfall == 0
        assert [a.course for a in node(report, "core").records] == ["CNC203"]
        assert [a.course for a in node(report, "digital").records] == ["PUB106"]
        assert [a.course for a in node(report, "public").records] == ["PUB101"]


@pytest.mark.parametrize("done, satisfied, shortfall", [
    (["EL101", "EL102"], True, ZERO),
    (["EL103", "ONL101"], True, ZERO),   # a course list and the digital pool
    (["EL101"], False, Decimal("2.00")),  # one met; the cheapest other is EL103 (2 credits) or the 2-credit pool
    ([], False, Decimal("4.00")),         # the two cheapest: EL103 and the digital pool, 2 credits each
])
def test_pick_two_of_four_electives(custom, done, satisfied, shortfall):
    sid = "S-pick"
    custom.append_many([enrol(sid, D(2025, 9, 1), "PICK-2025"), *courses(sid, done, D(2025, 10, 1))])
    report = custom.audit(sid, as_of=D(2026, 6, 1))
    electives = report.requirements
    assert electives.kind == "pick" and electives.needed == 2
    assert electives.satisfied is satisfied
    assert electives.shortfall == shortfall
    assert len(electives.chosen) == 2
    if satisfied:
        assert all(node(report, c).satisfied for c in electives.chosen)
    used = [a.event_id for c in electives.children for a in c.records]
    assert len(used) == len(set(used)), "a record counts toward one elective only"


def test_shared_leaf_counts_records_another_leaf_counts(custom):
    sid = "S-shared"
    custom.append_many([enrol(sid, D(2025, 9, 1), "SHARED-2025"),
                        *courses(sid, ["CNC201", "CNC202"], D(2025, 10, 1))])
    shared = custom.audit(sid, as_of=D(2026, 6, 1))
    assert shared.eligible
    pool = node(shared, "cnc-credits")
    assert pool.shared and pool.counted == 12
    assert {a.course for a in pool.records} == {a.course for a in node(shared, "cnc-courses").records} == {
        "CNC201", "CNC202"}

    # the same records against the program whose pool is not shared: each record counts once, so one leaf is short
    apart = custom.audit(sid, program="NOSHARE-2025", as_of=D(2026, 6, 1))
    assert not apart.eligible and not apart.requirements.satisfied
    assert apart.shortfall == 12


def test_apprenticeship_hour_pools_per_year(ledger):
    def history(sid: str, days: list[date]) -> list[Any]:
        return [enrol(sid, D(2025, 9, 1), "CNC-APP-2025", mode="apprentice", employer="湘江重工装备有限公司"),
                *(course(sid, code, day) for code, day in zip(("APP101", "APP201", "APP102", "APP202"), days))]

    # each study year has its theory (112 classroom hours) and on-the-job training (320 hours)
    ledger.append_many(history("S-app", [D(2025, 12, 20), D(2026, 6, 20), D(2026, 12, 20), D(2027, 6, 20)]))
    # everything in the first year, nothing in the second
    ledger.append_many(history("S-app-rush", [D(2025, 10, 20), D(2025, 11, 20), D(2026, 3, 20), D(2026, 6, 20)]))
    day = D(2027, 7, 15)

    steady = ledger.audit("S-app", as_of=day)
    assert steady.status is cl.AuditStatus.ELIGIBLE, steady.to_text()
    for ident in ("classroom-hours", "job-hours"):
        pool = node(steady, ident)
        assert pool.unit == "hours" and pool.shared and pool.satisfied
        assert pool.counted >= pool.needed
    assert node(steady, "classroom-hours").needed > 100  # more than one year's worth: the second year counts too

    rushed = ledger.audit("S-app-rush", as_of=day)
    assert not node(rushed, "classroom-hours").satisfied and not node(rushed, "job-hours").satisfied
    assert node(rushed, "theory").satisfied and node(rushed, "job").satisfied
    assert not rushed.eligible and rushed.status is cl.AuditStatus.REQUIREMENTS_MISSING
    refused_award(ledger, graduated("S-app-rush", day))


# -- after graduation ------------------------------------------------------------------------------------------------


def test_reversal_of_a_supporting_course_makes_graduation_unsupported(custom):
    sid = "S-grad"
    custom.append_many([enrol(sid, D(2025, 9, 1), "GREEDY-2025"), course(sid, "CNC203", D(2025, 10, 1)),
                        course(sid, "PUB106", D(2025, 11, 1)), course(sid, "PUB101", D(2025, 12, 1))])
    award = graduated(sid, D(2026, 6, 1))
    custom.append(award)
    fine = custom.audit(sid, as_of=D(2026, 6, 15))
    assert fine.status is cl.AuditStatus.GRADUATED and "graduation_unsupported" not in codes(fine)

    custom.reverse(f"{sid}-CNC203", reason="成绩录入错误", occurred_on=D(2026, 7, 1))
    report = custom.audit(sid, as_of=D(2026, 8, 1))
    assert report.status is cl.AuditStatus.GRADUATED
    unsupported = [i for i in report.issues if i.code == "graduation_unsupported"]
    assert len(unsupported) == 1 and unsupported[0].event_id == award.event_id
    assert sid in unsupported[0].message
    # the audit as of a day before the reversal still stands
    assert "graduation_unsupported" not in codes(custom.audit(sid, as_of=D(2026, 6, 30)))


def test_what_if_audit_of_a_graduated_student_does_not_call_the_graduation_unsupported(custom):
    sid = "S-grad-whatif"
    custom.append_many([enrol(sid, D(2025, 9, 1), "GREEDY-2025"), course(sid, "CNC203", D(2025, 10, 1)),
                        course(sid, "PUB106", D(2025, 11, 1)), course(sid, "PUB101", D(2025, 12, 1))])
    custom.append(graduated(sid, D(2026, 6, 1)))
    assert "graduation_unsupported" not in codes(custom.audit(sid, as_of=D(2026, 7, 1)))
    # nothing changed in the ledger: a what-if against another program cannot make the award unsupported
    what_if = custom.audit(sid, program="PICK-2025", as_of=D(2026, 7, 1))
    assert what_if.program == "PICK-2025"
    assert "graduation_unsupported" not in codes(what_if), what_if.to_text()


# -- the gate and the program ------------------------------------------------------------------------------------


def test_graduation_in_a_program_the_student_is_not_in_is_refused(custom):
    sid = "S-other-program"
    # enrolled in PICK-2025 (electives not done); the records happen to meet GREEDY-2025
    custom.append_many([enrol(sid, D(2025, 9, 1), "PICK-2025"), course(sid, "CNC203", D(2025, 10, 1)),
                        course(sid, "PUB106", D(2025, 11, 1)), course(sid, "PUB101", D(2025, 12, 1))])
    day = D(2026, 6, 1)
    assert not custom.audit(sid, as_of=day).eligible
    assert custom.audit(sid, program="GREEDY-2025", as_of=day).requirements.satisfied
    refused_award(custom, graduated(sid, day, program="GREEDY-2025"))
    refused_award(custom, graduated(sid, day, program="PICK-2025"))


def test_exception_of_one_program_does_not_carry_over_a_change_of_program(custom):
    sid = "S-changed"
    custom.append_many([
        enrol(sid, D(2025, 9, 1), "EXPIRE-2025"),
        # waives EXPIRE-2025's "core" (the course MECH101); the program is the student's on that day
        cl.ExceptionGranted(event_id=f"{sid}-waive", student_id=sid, occurred_on=D(2025, 10, 1),
                            requirement_id="core", action="waive", reason="免修"),
        cl.ProgramChanged(event_id=f"{sid}-change", student_id=sid, occurred_on=D(2025, 11, 1),
                          program="GREEDY-2025", reason="转专业"),
    ])
    before = custom.audit(sid, as_of=D(2025, 10, 15))
    assert before.program == "EXPIRE-2025" and node(before, "core").waived

    # GREEDY-2025 also has a requirement "core" (4 credits of core courses), which no registrar waived
    after = custom.audit(sid, as_of=D(2026, 6, 1))
    assert after.program == "GREEDY-2025"
    assert not node(after, "core").waived and not node(after, "core").satisfied
    assert not any(e.applied for e in after.exceptions)


# -- what-if, rendering, errors ------------------------------------------------------------------------------------


def test_what_if_audit_against_another_program(ledger):
    sid = "S-whatif"
    done = ["PUB101", "PUB102", "MT101", "MT102", "MT201", "ELEC101", "MECH101"]
    ledger.append_many([enrol(sid, D(2025, 9, 1)), *courses(sid, done, D(2025, 10, 1))])
    own = ledger.audit(sid, as_of=D(2026, 6, 1))
    other = ledger.audit(sid, program="MECH-PT-2024", as_of=D(2026, 6, 1))
    assert own.program == "CNC-SR-2025" and other.program == "MECH-PT-2024"
    assert tree_ids(other.requirements) == {"root", "public", "core", "core-more", "practice"}
    assert other.credits.total == own.credits.total == credits_of(done)
    assert node(other, "core").satisfied  # MT101, MT102, MT201, ELEC101 are the part-time program's core
    assert not node(own, "core").satisfied  # CNC201 and CNC202 are missing in the student's own program
    assert node(own, "core").missing == ("CNC201", "CNC202")
    # the ledger is unchanged: the student is still in the own program
    assert ledger.audit(sid, as_of=D(2026, 6, 1)).program == "CNC-SR-2025"
    with pytest.raises(cl.UnknownReference):
        ledger.audit(sid, program="NO-SUCH-PROGRAM", as_of=D(2026, 6, 1))


def test_report_renders_as_text_json_and_html(ledger):
    sid = "S-render"
    ledger.append_many([enrol(sid, D(2025, 9, 1)), *courses(sid, ["MECH101", "CNC201", "CNC202", "EL101"],
                                                               D(2025, 10, 1))])
    report = ledger.audit(sid, as_of=D(2026, 6, 1))
    ids = tree_ids(report.requirements)
    assert ids == {"root", "public", "core", "practice", "electives", "el-a", "el-b", "el-c"}

    text = report.to_text()
    assert text == str(report)  # Chinese by default
    assert "✓" in text and "✗" in text
    for ident in ids:
        assert ident in text
    assert sid in text and "状态：要求未满足" in text and "学分：" in text and "截至 2026-06-01" in text
    english = report.to_text(lang="en")
    assert sid in english and f"status: {report.status.value}" in english and "as of 2026-06-01" in english
    assert "状态" not in english and "courses" in english
    for ident in ids:
        assert ident in english
    with pytest.raises(ValueError, match="unknown language"):
        report.to_text(lang="fr")

    loaded = json.loads(report.to_json())
    assert loaded["student_id"] == sid and loaded["status"] == report.status.value
    assert loaded["requirements"]["id"] == "root"
    assert Decimal(loaded["shortfall"]) == report.shortfall
    assert cl.AuditReport.model_validate_json(report.to_json()) == report

    page = report._repr_html_()
    seen = balanced(page)
    assert seen and seen[0] == "div" and "li" in seen
    for ident in ids:
        assert ident in page


def test_report_html_escapes_catalog_text(custom):
    sid = "S-html"
    custom.append_many([enrol(sid, D(2025, 9, 1), "HTML-2025")])
    page = custom.audit(sid, as_of=D(2026, 6, 1))._repr_html_()
    assert "<script>" not in page and "<b>课</b>" not in page and "A<B>" not in page
    assert "script" not in balanced(page)


def test_audit_of_an_unknown_student_raises_unknown_reference(ledger):
    with pytest.raises(cl.UnknownReference):
        ledger.audit("S-nobody", as_of=D(2026, 6, 1))


# -- technician classes (技师班) --------------------------------------------------------------------------------------


def test_technician_class_without_entry_basis_is_not_eligible(custom):
    sid = "S-tech"
    # enrolled in 2025, when TECH-X was a regular program; in its 2026 version it is a technician class
    custom.append_many([enrol(sid, D(2025, 9, 1), "TECH-X"), *courses(sid, ["TEC401", "TEC402"], D(2025, 10, 1))])
    day = D(2026, 6, 1)
    report = custom.audit(sid, as_of=day)
    assert report.requirements.satisfied and report.shortfall == 0
    assert not report.eligible
    assert "entry_basis_missing" in codes(report)
    refused_award(custom, graduated(sid, day))

    # the same courses with an entry basis: eligible
    vet = "S-tech-vet"
    custom.append_many([enrol(vet, D(2025, 9, 1), "TECH-X", entry_basis="veteran"),
                        *courses(vet, ["TEC401", "TEC402"], D(2025, 10, 1))])
    assert custom.audit(vet, as_of=day).eligible


def test_what_if_technician_class_for_a_student_without_entry_basis(ledger):
    sid = "S-tech-whatif"
    done = ["TEC401", "TEC402", "TEC403", "PUB101", "PUB102", "PUB103", "PUB104"]
    ledger.append_many([enrol(sid, D(2025, 9, 1)), *courses(sid, done, D(2025, 10, 1))])
    report = ledger.audit(sid, program="CNC-TECH-2025", as_of=D(2027, 6, 1))
    assert report.requirements.satisfied and report.shortfall == 0
    assert "entry_basis_missing" in codes(report)
    assert not report.eligible


def test_a_program_whose_requirements_share_an_id_is_refused_not_misjudged():
    # a catalog refuses such a program; one built outside a catalog is refused by the audit, which knows the
    # requirements by their ids (waivers, substitutions, the allocation's leaves)
    program = cl.Program.model_validate({
        "institution": "HNJX", "code": "TWIN", "title": "twin ids", "level": "senior_worker", "standard_years": 3,
        "total_credits": 4, "requirements": {"id": "root", "all": [
            {"id": "pool", "credits": 2, "from": {"category": "core"}},
            {"id": "pool", "credits": 2, "from": {"category": "practice"}}]}})
    with pytest.raises(cl.CatalogError, match=r"requirements\.all\[1\]\.id: duplicate requirement id 'pool'"):
        cl.audit(program, [], as_of=date(2026, 7, 1))
