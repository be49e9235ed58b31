"""The study planner (issue 15) against a brute-force oracle on small catalogs: a plan's every term within its hours,
prerequisites earlier, each course in a term that offers it, no course in a skipped term; never more terms than the
fewest any plan needs, and of those the fewest hours; an infeasible answer confirmed by brute force, and
``min_hours_per_term`` the least that works; the audit with the planned courses passed at their terms' ends finds
nothing missing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from itertools import combinations, product

import pytest
from hypothesis import given
from hypothesis import strategies as st

import credit_ledger as cl
from credit_ledger.models import CreditRecord

START = date(2026, 9, 1)


@st.composite
def problems(draw):
    n = draw(st.integers(2, 5))
    courses = []
    for i in range(n):
        code = f"C{i}"
        pre = draw(st.lists(st.sampled_from([f"C{j}" for j in range(i)]), max_size=2, unique=True)) if i else []
        offered = draw(st.sampled_from([[], ["秋季"], ["春季"]]))
        courses.append({"institution": "T", "code": code, "title": f"课程{i}", "category": draw(st.sampled_from(
            ["core", "gen"])), "hours": draw(st.sampled_from([16, 32, 48, 64])), "prerequisites": pre,
            "offered": offered, "mode": draw(st.sampled_from(["classroom", "classroom", "online"]))})
    codes = [c["code"] for c in courses]
    listed = draw(st.lists(st.sampled_from(codes), max_size=2, unique=True))
    children = [{"id": "pool", "credits": draw(st.integers(1, 6)), "from": {}}]
    if listed:
        children.append({"id": "list", "courses": listed})
    if draw(st.booleans()):
        a, b = draw(st.lists(st.sampled_from(codes), min_size=2, max_size=2, unique=True))
        children.append({"id": "either", "pick": 1, "of": [{"id": "ea", "courses": [a]}, {"id": "eb", "courses": [b]}]})
    total = draw(st.integers(1, 12))
    # credits valid two years: a course passed on PASSED_ON[1] lapses after a one-term plan, on PASSED_ON[2] after
    # a two-term one, so how long the plan runs decides what it must replace
    validity = draw(st.sampled_from([None, 2]))
    program = {"institution": "T", "code": "P", "title": "测试专业", "level": "senior_worker", "standard_years": 2,
               "total_credits": total, "requirements": {"id": "root", "all": children},
               "policy": {"credit_validity_years": validity}}
    catalog = cl.Catalog.from_data({"institutions": [{"code": "T", "name": "测试学校"}], "courses": courses,
                                    "programs": [program]})
    passed = draw(st.lists(st.sampled_from(codes), max_size=2, unique=True))
    origins = tuple(draw(st.sampled_from(["home", "recognized"])) for _ in passed)
    hours = draw(st.sampled_from([32, 48, 64, 96]))
    max_terms = draw(st.integers(1, 4))
    skip = draw(st.sampled_from([(), (date(2027, 4, 1),)]))
    return catalog, passed, origins, hours, max_terms, skip, draw(st.sampled_from(PASSED_ON))


PASSED_ON = (date(2026, 1, 1), date(2025, 2, 1), date(2025, 9, 1), date(2025, 1, 10))


def default_calendar(count):
    """The dated default terms from START, written out here rather than drawn by ``terms.term_calendar`` (the
    planner's own calendar): 秋季 09-01 to 01-20 of the next year, 春季 03-01 to 07-10."""
    out = []
    for year in range(START.year, START.year + count):
        out += [("秋季", date(year, 9, 1), date(year + 1, 1, 20)),
                ("春季", date(year + 1, 3, 1), date(year + 1, 7, 10))]
    return out[:count]


def record(course, on, origin="home"):
    """A passed course (``recognized``: its credits recognised from a partner school, within the external cap)."""
    return CreditRecord(course=course.code, institution=course.institution, title=course.title,
                        category=course.category, tags=course.tags, mode=course.mode, level=course.level,
                        credits=course.credits, hours=course.hours, origin=origin, event_id=f"r-{course.code}",
                        occurred_on=on, source_institution="U" if origin == "recognized" else None)


def met(program, records, catalog, on):
    report = cl.audit(program, records, as_of=on, catalog=catalog)
    return report.shortfall == 0 and report.requirements.satisfied


def brute(catalog, passed, origins, hours, max_terms, skip, passed_on):
    """(fewest terms, fewest hours then) or None; and the least largest term of any plan within max_terms; the
    audit of each plan on its own last day (what was passed before may have lapsed by then)."""
    program = catalog.programs[0]
    courses = {c.code: c for c in catalog.courses}
    have = [record(courses[c], passed_on, o) for c, o in zip(passed, origins, strict=True)]
    calendar = default_calendar(max_terms)
    skipped = {i for i, (_n, first, last) in enumerate(calendar) for d in skip if first <= d <= last}
    left = [c for c in courses if c not in passed]
    best = None
    least = None
    for size in range(len(left) + 1):
        for subset in combinations(left, size):
            closes = {}
            allowed = [[t for t in range(len(calendar)) if t not in skipped and (
                not courses[c].offered or calendar[t][0] in courses[c].offered)] for c in subset]
            for assign in product(*allowed):
                when = dict(zip(subset, assign, strict=True))
                if any(p not in passed and (p not in when or when[p] >= when[c])
                       for c in subset for p in courses[c].prerequisites):
                    continue
                load = [sum(courses[c].hours for c in subset if when[c] == t) for t in range(len(calendar))]
                last = max(assign, default=-1) + 1
                if last not in closes:
                    closes[last] = met(program, have + [record(courses[c], START) for c in subset], catalog,
                                       calendar[last - 1][2] if last else START)
                if not closes[last]:
                    continue
                biggest = max(load, default=0)
                least = biggest if least is None else min(least, biggest)
                if biggest <= hours:
                    key = (max(assign, default=-1) + 1, sum(load))
                    best = key if best is None else min(best, key)
    return best, least


@given(problems())
def test_plan_matches_brute_force(case):
    catalog, passed, origins, hours, max_terms, skip, passed_on = case
    program = catalog.programs[0]
    courses = {c.code: c for c in catalog.courses}
    have = [record(courses[c], passed_on, o) for c, o in zip(passed, origins, strict=True)]
    got = cl.plan(program, have, catalog, start=START, hours_per_term=hours, max_terms=max_terms, skip_terms=skip)
    best, least = brute(catalog, passed, origins, hours, max_terms, skip, passed_on)
    assert got.feasible == (best is not None), (got, best)
    assert got.min_hours_per_term == (None if least is None else Decimal(least)), (got, least)
    if best is None:
        assert got.terms == () and got.issues and got.issues[0].code in (
            "hours_too_few", "not_offered_in_time", "no_course_left")
        assert (got.issues[0].code == "hours_too_few") == (least is not None)
        return
    assert (len(got.terms), got.total_hours) == best
    assert [(t.name, t.start, t.end) for t in got.terms] == default_calendar(len(got.terms))
    when = {code: i for i, t in enumerate(got.terms) for code in t.courses}
    for i, term in enumerate(got.terms):
        assert term.hours <= hours
        assert term.hours == sum((courses[c].hours for c in term.courses), Decimal(0))
        assert not (term.skipped and term.courses)
        for code in term.courses:
            c = courses[code]
            assert code not in passed
            assert not c.offered or term.name in c.offered
            assert all(p in passed or when.get(p, i) < i for p in c.prerequisites)
    planned = [record(courses[c], t.end) for t in got.terms for c in t.courses]
    assert met(program, have + planned, catalog, got.graduation_date or START)
    if got.terms:
        assert got.graduation_date == got.terms[-1].end


def test_nothing_missing_plans_nothing(catalog):
    program = catalog.program("HNJX", "CNC-TECH-2025")
    have = [record(catalog.course("HNJX", c), date(2026, 1, 1))
            for c in ("TEC401", "TEC402", "TEC403", "MECH101", "MECH102", "ELEC101", "PUB101")]
    got = cl.plan(program, have, catalog, start=START, hours_per_term=100)
    assert got.feasible and got.terms == () and [i.code for i in got.issues] == ["nothing_missing"]
    assert got.min_hours_per_term == 0


def test_a_course_bigger_than_a_term_is_hours_too_few(catalog):
    program = catalog.program("HNJX", "CNC-TECH-2025")
    got = cl.plan(program, [], catalog, start=START, hours_per_term=159)  # TEC403: 16 practice weeks of 10 hours
    assert not got.feasible and [i.code for i in got.issues] == ["hours_too_few"]
    assert got.min_hours_per_term == Decimal(160)
    assert "159" in got.issues[0].message
    assert cl.plan(program, [], catalog, start=START, hours_per_term=160).feasible


def test_what_only_another_school_teaches_is_no_course_left():
    catalog = cl.Catalog.from_data({
        "institutions": [{"code": "T", "name": "甲校"}, {"code": "U", "name": "乙校"}],
        "courses": [{"institution": "T", "code": "A", "title": "A", "hours": 32, "category": "core"},
                    {"institution": "U", "code": "B", "title": "B", "hours": 32, "category": "rare"}],
        "programs": [{"institution": "T", "code": "P", "title": "P", "level": "senior_worker", "standard_years": 2,
                      "total_credits": 2, "requirements": {"id": "root", "all": [
                          {"id": "x", "credits": 2, "from": {"category": "core", "origin": "recognized"}}]}}]})
    got = cl.plan(catalog.programs[0], [], catalog, start=START, hours_per_term=100)
    assert not got.feasible and [i.code for i in got.issues] == ["no_course_left"]


def test_an_autumn_course_after_its_prerequisite_is_not_offered_in_time():
    catalog = cl.Catalog.from_data({
        "institutions": [{"code": "T", "name": "甲校"}],
        "courses": [{"institution": "T", "code": "A", "title": "A", "hours": 32, "category": "core",
                     "offered": ["秋季"]},
                    {"institution": "T", "code": "B", "title": "B", "hours": 32, "category": "core",
                     "offered": ["秋季"], "prerequisites": ["A"]}],
        "programs": [{"institution": "T", "code": "P", "title": "P", "level": "senior_worker", "standard_years": 2,
                      "total_credits": 4, "requirements": {"id": "root", "courses": ["A", "B"]}}]})
    got = cl.plan(catalog.programs[0], [], catalog, start=START, hours_per_term=100, max_terms=2)
    assert not got.feasible and [i.code for i in got.issues] == ["not_offered_in_time"]
    got = cl.plan(catalog.programs[0], [], catalog, start=START, hours_per_term=100, max_terms=3)
    assert got.feasible and [t.courses for t in got.terms] == [("A",), (), ("B",)]


def test_skipping_the_only_term_is_not_offered_in_time(catalog):
    program = catalog.program("HNJX", "CNC-TECH-2025")
    got = cl.plan(program, [], catalog, start=START, hours_per_term=1000, max_terms=1, skip_terms=[date(2026, 10, 1)])
    assert not got.feasible and [i.code for i in got.issues] == ["not_offered_in_time"]
    assert got.min_hours_per_term is None


@pytest.mark.parametrize(("hours", "terms"), [(-1, 3), (100, 0), (100, 201), (100, 10**9)])
def test_bad_arguments_are_refused(catalog, hours, terms):
    with pytest.raises(ValueError, match="hours_per_term|max_terms"):
        cl.plan(catalog.program("HNJX", "CNC-TECH-2025"), [], catalog, start=START, hours_per_term=hours,
                max_terms=terms)


@pytest.mark.parametrize("hours", ["NaN", "Infinity", "-Infinity", "many", "", Decimal("sNaN")])
def test_hours_that_are_no_number_are_a_value_error(catalog, hours):
    # Decimal's own InvalidOperation or OverflowError escaped here before: a caller catching ValueError (as the
    # command does) got a traceback
    with pytest.raises(ValueError, match="hours_per_term"):
        cl.plan(catalog.program("HNJX", "CNC-TECH-2025"), [], catalog, start=START, hours_per_term=hours)


@pytest.mark.parametrize("hours", ["1e400", 10**30, "99999999999999999999999.95"])
def test_huge_hours_are_as_good_as_enough(catalog, hours):
    # 1e400 hours a term overflowed milp's float bounds (OverflowError) before
    program = catalog.program("HNJX", "CNC-TECH-2025")
    got = cl.plan(program, [], catalog, start=START, hours_per_term=hours)
    enough = cl.plan(program, [], catalog, start=START, hours_per_term=1000)
    assert got.feasible and (len(got.terms), got.total_hours) == (len(enough.terms), enough.total_hours)
    assert got.hours_per_term == Decimal(str(hours))


def test_a_skip_day_outside_every_term_is_refused(catalog):
    with pytest.raises(ValueError, match="2027-02-10"):
        cl.plan(catalog.program("HNJX", "CNC-TECH-2025"), [], catalog, start=START, hours_per_term=500,
                skip_terms=[date(2027, 2, 10)])


def test_the_plan_has_a_schema_and_round_trips(catalog):
    got = cl.plan(catalog.program("HNJX", "CNC-TECH-2025"), [], catalog, start=START, hours_per_term=160)
    assert cl.StudyPlan.model_validate_json(got.model_dump_json()) == got
    schema = cl.json_schemas()["StudyPlan"]
    assert {"feasible", "terms", "graduation_date", "deadline", "issues", "min_hours_per_term"} <= set(
        schema["properties"])


def test_a_credit_that_lapses_before_the_plan_ends_is_replaced():
    # A (passed 2025-10-01, credits valid a year) still counts on the start day but has lapsed by any term's end: the
    # plan used to count it, plan D alone, and fail its own check (plan_not_verified, "not feasible")
    catalog = cl.Catalog.from_data({
        "institutions": [{"code": "T", "name": "甲校"}],
        "courses": [{"institution": "T", "code": c, "title": c, "hours": 32, "category": "core"} for c in "ABCD"],
        "programs": [{"institution": "T", "code": "P", "title": "P", "level": "senior_worker", "standard_years": 2,
                      "total_credits": 4, "policy": {"credit_validity_years": 1},
                      "requirements": {"id": "root", "credits": 4, "from": {"category": "core"}}}]})
    program = catalog.programs[0]
    have = [record(catalog.course("T", "A"), date(2025, 10, 1))]
    got = cl.plan(program, have, catalog, start=START, hours_per_term=32)
    assert got.feasible and got.issues == () and len(got.terms) == 2 and len(got.courses()) == 2
    assert "A" not in got.courses() and got.min_hours_per_term == 32
    planned = [record(catalog.course("T", c), t.end) for t in got.terms for c in t.courses]
    assert met(program, have + planned, catalog, got.graduation_date)
    # a credit that lapses only after a one-term plan still counts for it
    have = [record(catalog.course("T", "A"), date(2026, 2, 1))]
    got = cl.plan(program, have, catalog, start=START, hours_per_term=32)
    assert got.feasible and len(got.terms) == 1 and len(got.courses()) == 1


def test_an_unmet_hour_pool_per_year_alone_is_not_verified_and_no_crash():
    # the credits are all there; only the hours of a study year are short, which no planned course closes (the
    # solver ignores per-year pools): the plan had no course and plan() raised IndexError on its last term
    from credit_ledger.window import StudyHistory

    catalog = cl.Catalog.from_data({
        "institutions": [{"code": "T", "name": "甲校"}],
        "courses": [{"institution": "T", "code": c, "title": c, "hours": 32, "category": "core"} for c in "AB"],
        "programs": [{"institution": "T", "code": "P", "title": "P", "level": "senior_worker", "standard_years": 2,
                      "total_credits": 2, "modes": ["part_time"], "requirements": {"id": "root", "all": [
                          {"id": "x", "credits": 2, "from": {"category": "core"}},
                          {"id": "h", "hours": 100, "per_year": True, "from": {}}]}}]})
    history = StudyHistory(enrolled_on=date(2025, 9, 1), mode="part_time", status="active",
                           periods=((date(2025, 9, 1), None, None),), suspended_days=0)
    have = [record(catalog.course("T", "A"), date(2026, 3, 1))]
    program = catalog.programs[0]
    assert not cl.audit(program, have, as_of=START, catalog=catalog, history=history).requirements.satisfied
    got = cl.plan(program, have, catalog, start=START, hours_per_term=100, history=history)
    assert not got.feasible and [i.code for i in got.issues] == ["plan_not_verified"]
    assert got.terms == () and got.graduation_date is None and got.min_hours_per_term is None
