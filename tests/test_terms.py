"""Terms, prerequisites and offered terms in the catalog (issue 15): the defaults, the sample's, and a
``CatalogError`` naming the key path for each way they can be wrong."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

import credit_ledger as cl
from credit_ledger.terms import DEFAULT_TERMS, Term, course_order_problems, term_calendar


def _catalog(courses, terms=None):
    school = {"code": "T", "name": "测试技工学校"}
    if terms is not None:
        school["terms"] = terms
    return {"institutions": [school], "courses": [
        {"institution": "T", "code": code, "title": code, "hours": 32, "category": "core", **extra}
        for code, extra in courses]}


def _problems(data) -> list[str]:
    with pytest.raises(cl.CatalogError) as err:
        cl.Catalog.from_data(data, source="t.yaml")
    return err.value.problems if hasattr(err.value, "problems") else str(err.value).splitlines()


def test_a_school_without_terms_has_autumn_and_spring():
    catalog = cl.Catalog.from_data(_catalog([("A", {})]))
    assert catalog.institution("T").terms == DEFAULT_TERMS
    assert [(t.name, t.start, t.end) for t in DEFAULT_TERMS] == [("秋季", "09-01", "01-20"), ("春季", "03-01", "07-10")]
    course = catalog.course("T", "A")
    assert course.prerequisites == () and course.offered == ()


def test_the_sample_has_a_summer_term_and_prerequisites(catalog):
    assert [t.name for t in catalog.institution("HNJX").terms] == ["秋季", "春季", "夏季"]
    assert catalog.course("HNJX", "CNC202").prerequisites == ("CNC201",)
    assert catalog.course("HNJX", "CNC202").offered == ("秋季",)


def test_a_catalog_with_terms_round_trips(catalog):
    again = cl.Catalog.from_text(catalog.to_json(), format="json")
    assert again == catalog


def test_unknown_prerequisite_names_the_path():
    text = str(pytest.raises(cl.CatalogError, cl.Catalog.from_data,
                             _catalog([("A", {"prerequisites": ["NOPE"]})])).value)
    assert "courses[0].prerequisites[0]" in text and "NOPE" in text


def test_a_prerequisite_of_another_school_is_unknown():
    data = _catalog([("A", {})])
    data["institutions"].append({"code": "U", "name": "别校"})
    data["courses"].append({"institution": "U", "code": "B", "title": "B", "hours": 32, "category": "core",
                            "prerequisites": ["A"]})
    text = str(pytest.raises(cl.CatalogError, cl.Catalog.from_data, data).value)
    assert "courses[1].prerequisites[0]" in text and "unknown course 'A' at U" in text


def test_a_course_requiring_itself_is_refused():
    text = str(pytest.raises(cl.CatalogError, cl.Catalog.from_data,
                             _catalog([("A", {"prerequisites": ["A"]})])).value)
    assert "courses[0].prerequisites[0]" in text and "T/A cannot require itself" in text


def test_a_cycle_is_named_by_its_path():
    data = _catalog([("CNC201", {"prerequisites": ["CNC301"]}), ("CNC301", {"prerequisites": ["CNC201"]})])
    text = str(pytest.raises(cl.CatalogError, cl.Catalog.from_data, data).value)
    assert "CNC201 → CNC301 → CNC201" in text


def test_a_longer_cycle_is_named_once():
    data = _catalog([("A", {"prerequisites": ["C"]}), ("B", {"prerequisites": ["A"]}), ("C", {"prerequisites": ["B"]}),
                     ("D", {"prerequisites": ["A"]})])
    text = str(pytest.raises(cl.CatalogError, cl.Catalog.from_data, data).value)
    assert text.count("prerequisite cycle") == 1 and "A → C → B → A" in text


def test_unknown_offered_term_names_the_path():
    text = str(pytest.raises(cl.CatalogError, cl.Catalog.from_data,
                             _catalog([("A", {"offered": ["冬季"]})])).value)
    assert "courses[0].offered[0]" in text and "冬季" in text


def test_a_summer_term_makes_summer_offerings_valid():
    terms = [{"name": "秋季", "start": "09-01", "end": "01-20"}, {"name": "夏季", "start": "07-15", "end": "08-25"}]
    catalog = cl.Catalog.from_data(_catalog([("A", {"offered": ["夏季"]})], terms=terms))
    assert catalog.course("T", "A").offered == ("夏季",)


@pytest.mark.parametrize(("terms", "needle"), [
    ([{"name": "秋季", "start": "09-01", "end": "01-20"}, {"name": "冬季", "start": "01-10", "end": "02-20"}],
     "terms[1]: term 冬季 (01-10 to 02-20) overlaps term 秋季"),
    ([{"name": "秋季", "start": "09-01", "end": "01-20"}, {"name": "秋季", "start": "03-01", "end": "07-10"}],
     "terms[1].name: duplicate term '秋季'"),
    ([{"name": "秋季", "start": "02-30", "end": "07-10"}], "'02-30' is not a day of every year"),
    ([{"name": "秋季", "start": "13-01", "end": "07-10"}], "institutions[0].terms[0].start"),
    ([{"name": "秋季", "start": "09-01", "end": "09-01"}], "starts and ends on the same day"),
    ([], "a school has at least one term"),
])
def test_bad_terms_are_refused(terms, needle):
    text = str(pytest.raises(cl.CatalogError, cl.Catalog.from_data, _catalog([("A", {})], terms=terms)).value)
    assert needle in text and "institutions[0]" in text


def test_calendar_begins_with_the_next_term_and_crosses_the_year():
    got = term_calendar(DEFAULT_TERMS, date(2026, 9, 1), 4)
    assert [(t.name, t.start, t.end) for t in got] == [
        ("秋季", date(2026, 9, 1), date(2027, 1, 20)), ("春季", date(2027, 3, 1), date(2027, 7, 10)),
        ("秋季", date(2027, 9, 1), date(2028, 1, 20)), ("春季", date(2028, 3, 1), date(2028, 7, 10))]
    assert term_calendar(DEFAULT_TERMS, date(2026, 9, 2), 1)[0].start == date(2027, 3, 1)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 1, 1)), st.integers(1, 12))
def test_calendar_terms_are_ordered_and_disjoint(start, count):
    terms = (*DEFAULT_TERMS, Term(name="夏季", start="07-15", end="08-25"))
    got = term_calendar(terms, start, count)
    assert len(got) == count and got[0].start >= start
    for a, b in zip(got, got[1:], strict=False):
        assert a.start <= a.end < b.start


@given(st.dictionaries(st.sampled_from("ABCDEF"), st.lists(st.sampled_from("ABCDEF"), max_size=3), max_size=6))
def test_cycles_are_found_exactly_when_there_is_no_order(graph):
    found = course_order_problems(graph, "T", path="courses")
    # brute force: a topological order exists iff repeatedly removing nodes with no pending prerequisite empties it
    pending = {k: set(v) for k, v in graph.items()}
    for v in {x for vs in graph.values() for x in vs}:
        pending.setdefault(v, set())
    changed = True
    while changed:
        ready = {k for k, v in pending.items() if not v}
        changed = bool(ready)
        pending = {k: v - ready for k, v in pending.items() if k not in ready}
    assert bool(found) == bool(pending)


SCHOOLS = [DEFAULT_TERMS, (*DEFAULT_TERMS, Term(name="夏季", start="07-15", end="08-25")),
           (Term(name="冬季", start="12-01", end="02-28"), Term(name="夏季", start="03-01", end="11-30"))]


@given(st.sampled_from(SCHOOLS), st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 1, 1)),
       st.integers(1, 6))
def test_calendar_is_every_term_starting_from_the_day_on(terms, start, count):
    # an oracle that walks the days one by one: a term begins on each day whose month-day is its start, and ends
    # on the first day after that whose month-day is its end (across the year, and past a 29 February)
    from datetime import timedelta

    want = []
    day = start
    while len(want) < count:
        for t in terms:
            if day.strftime("%m-%d") == t.start:
                end = day + timedelta(days=1)
                while end.strftime("%m-%d") != t.end:
                    end += timedelta(days=1)
                want.append((t.name, day, end))
        day += timedelta(days=1)
    assert [tuple(t) for t in term_calendar(terms, start, count)] == want
