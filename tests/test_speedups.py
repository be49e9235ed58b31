"""The audit's fast paths give what the general paths give.

- ``Frozen.trusted`` builds the same model as validation (equal, same JSON, same fields set) and refuses unknown or
  missing fields;
- ``apply_caps`` on home records of distinct courses (the usual transcript) returns what the capping passes return;
- the requirement tree kept between audits (``requirements.requirement_tree``) decides as a fresh one does, and is
  rebuilt when the program, catalog or day differ (without a catalog, when the program's requirements differ).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

import credit_ledger as cl
from credit_ledger import caps, requirements, transfer
from credit_ledger.graduation import Allocated, RequirementResult
from credit_ledger.models import CreditRecord

CATALOG = cl.Catalog.sample()


def _record(i: int, credits: str, *, course: str | None = None, origin: str = "home", mode: str = "classroom",
            day: int = 0, category: str = "core") -> CreditRecord:
    return CreditRecord(course=course if course is not None else f"C{i:03d}", institution="HNJX", title=f"t{i}",
                        category=category, mode=mode, credits=Decimal(credits), origin=origin, event_id=f"e{i:03d}",
                        occurred_on=date(2025, 1, 1) + timedelta(days=day))


@pytest.mark.parametrize("values", [
    {"event_id": "e1", "course": "C1", "title": "t", "credits": Decimal("3.00"), "origin": "home"},
    {"event_id": "e1", "course": None, "title": "t", "credits": Decimal("0.50"), "origin": "converted",
     "hours": Decimal("16.0"), "counts_as": "C9"},
])
def test_trusted_builds_what_validation_builds(values):
    made, checked = Allocated.trusted(**values), Allocated(**values)
    assert made == checked
    assert made.model_dump_json() == checked.model_dump_json()
    assert made.model_fields_set == checked.model_fields_set
    assert hash(made) == hash(checked)


def test_trusted_keeps_declared_field_order_whatever_the_call_order():
    values = {"origin": "home", "credits": Decimal("2.00"), "title": "t", "course": "C1", "event_id": "e1"}
    assert list(Allocated.trusted(**values).model_dump()) == list(Allocated.model_fields)


def test_trusted_refuses_unknown_and_missing_fields():
    with pytest.raises(TypeError, match="unknown \\['colour'\\]"):
        Allocated.trusted(event_id="e", course="C", title="t", credits=Decimal(1), origin="home", colour="red")
    with pytest.raises(TypeError, match="missing \\['satisfied', 'needed'\\]"):
        RequirementResult.trusted(id="r", title="t", kind="all", counted=Decimal(0), unit="credits",
                                  shortfall=Decimal(0))


_credits = st.sampled_from(["0", "0.5", "1", "2", "3.5", "4", "6", "12"])


@given(st.lists(st.tuples(_credits, st.sampled_from(["classroom", "online"]), st.integers(0, 900)), max_size=25),
       st.sampled_from(["0.10", "0.25", "0.60"]))
def test_caps_on_distinct_home_courses_take_the_general_path_s_answer(rows, ratio):
    records = [_record(i, c, mode=mode, day=day) for i, (c, mode, day) in enumerate(rows)]
    policy = cl.Policy(max_online_ratio=Decimal(ratio), max_external_ratio=Decimal(ratio))
    fast = transfer.apply_caps(records, total_credits=Decimal(60), policy=policy)
    general, _beaten = caps.apply_caps_once(records, total_credits=Decimal(60), policy=policy, home_first=set())
    assert fast == general
    assert not fast.excluded


def test_caps_with_an_external_or_a_repeated_course_take_the_general_path():
    policy = cl.Policy(max_external_ratio=Decimal("0.10"))
    external = [_record(1, "4"), _record(2, "10", origin="recognized")]
    assert transfer.apply_caps(external, total_credits=Decimal(60), policy=policy).excluded  # 6 of 10 count
    repeated = [_record(1, "4", course="C1"), _record(2, "4", course="C1")]
    assert [x.code for x in transfer.apply_caps(repeated, total_credits=Decimal(60), policy=policy).excluded] == [
        "overlap_lower"]


def test_the_kept_tree_is_the_program_s_own_for_that_catalog_and_day():
    program = CATALOG.program("HNJX", "CNC-TECH-2025")
    day = date(2026, 7, 1)
    tree_of = requirements.requirement_tree
    kept = tree_of(program, CATALOG, day, set(), {})
    assert tree_of(program, CATALOG, day, set(), {}) is kept
    assert tree_of(program, CATALOG, day + timedelta(days=1), set(), {}) is not kept
    assert tree_of(program, None, day, set(), {}) is not kept
    copy = program.model_copy()
    assert tree_of(copy, CATALOG, day, set(), {}) is not kept
    # a waiver or a substitution gets a tree of its own, never kept
    waived = tree_of(program, CATALOG, day, {program.requirements.id}, {})
    assert waived is not tree_of(program, CATALOG, day, {program.requirements.id}, {})


def test_without_a_catalog_the_kept_tree_is_the_program_s_requirements_own():
    program = CATALOG.program("HNJX", "CNC-TECH-2025").model_copy()
    day = date(2026, 7, 1)
    tree_of = requirements.requirement_tree
    kept = tree_of(program, None, day, set(), {})
    assert tree_of(program, None, day + timedelta(days=1), set(), {}) is kept  # no catalog: no prices by day
    other = CATALOG.program("HNJX", "CNC-SR-2025")
    changed = program.model_copy(update={"requirements": other.requirements})
    assert tree_of(changed, None, day, set(), {}) is not kept
    assert [leaf.node.id for leaf in tree_of(changed, None, day, set(), {}).leaves] == [
        leaf.node.id for leaf in requirements.RequirementTree(other, None, day, set(), {}).leaves]
    # kept on the program, the tree leaves the program's value alone
    assert program == CATALOG.program("HNJX", "CNC-TECH-2025")
    assert program.model_dump_json() == CATALOG.program("HNJX", "CNC-TECH-2025").model_dump_json()
    assert hash(program) == hash(CATALOG.program("HNJX", "CNC-TECH-2025"))


def test_the_kept_tree_decides_as_a_fresh_one():
    program = CATALOG.program("HNJX", "CNC-TECH-2025")
    day = date(2026, 7, 1)
    kept = requirements.requirement_tree(program, CATALOG, day, set(), {})
    codes = [c.code for c in CATALOG.courses if c.institution == "HNJX"]
    records = [_record(i, "3", course=code, category=cat) for i, code in enumerate(codes)
               for cat in ("core", "practice", "public")]
    records += [_record(900, "2", course=codes[0], origin="recognized"), _record(901, "2", course=None)]
    for r in records:  # twice: the second answer comes from the memo
        fresh = requirements.RequirementTree(program, CATALOG, day, set(), {})
        assert kept.eligible(r) == fresh.eligible(r) == kept.eligible(r)


# -- audit_all in several processes ---------------------------------------------------------------------------------

_CODES = ["PUB101", "PUB102", "PUB103", "MECH101", "MECH102", "ELEC101", "CNC201", "CNC202", "PRA301", "PRA302"]


def _students(n: int) -> list:
    events: list = []
    for s in range(n):
        sid = f"S{s:02d}"
        if s == 3:  # S03 enrols after the audit's day: audit_all skips it
            events.append(cl.Enrolled(event_id=f"{sid}-enrol", student_id=sid, occurred_on=date(2028, 9, 1),
                                      institution="HNJX", program="CNC-SR-2025"))
            continue
        events.append(cl.Enrolled(event_id=f"{sid}-enrol", student_id=sid, occurred_on=date(2024, 9, 1),
                                  institution="HNJX", program="CNC-SR-2025"))
        for k, code in enumerate(_CODES[: 2 + s % len(_CODES)]):
            events.append(cl.CourseCompleted(event_id=f"{sid}-{code}", student_id=sid, institution="HNJX",
                                             occurred_on=date(2024, 10, 1) + timedelta(days=30 * k), course=code,
                                             grade=55 + 7 * ((s + k) % 6)))
    return events


def test_audit_all_in_processes_gives_the_reports_of_one_process_in_order(file_ledger):
    file_ledger.append_many(_students(11))
    day = date(2027, 7, 1)
    alone = list(file_ledger.audit_all(as_of=day))
    assert [r.student_id for r in alone] == [f"S{s:02d}" for s in range(11) if s != 3]
    for workers, chunk in ((2, 2), (3, 1), (2, 50)):
        spread = list(file_ledger.audit_all(as_of=day, workers=workers, chunk=chunk))
        assert spread == alone
        assert [r.to_json() for r in spread] == [r.to_json() for r in alone]


def test_audit_all_in_processes_refuses_a_student_the_school_may_not_read(file_ledger):
    file_ledger.append_many(_students(6))
    outsider = file_ledger.acting_for("SANY-HV")
    with pytest.raises(cl.PermissionDenied):
        outsider.audit("S05", as_of=date(2027, 7, 1))
    with pytest.raises(cl.PermissionDenied):
        list(outsider.audit_all([f"S{s:02d}" for s in range(6)], date(2027, 7, 1), workers=2, chunk=1))


def test_an_allocated_record_is_what_validation_makes_of_its_record():
    record = _record(7, "3.5", course="C7").model_copy(update={"hours": Decimal("56.0")})
    for counts_as in (None, "C7", "C9"):
        made = Allocated.of_record(record, counts_as)
        checked = Allocated(event_id=record.event_id, course=record.course, title=record.title,
                            credits=record.credits, origin=record.origin, hours=record.hours,
                            counts_as=None if counts_as in (None, "C7") else counts_as,
                            occurred_on=record.occurred_on)
        assert made == checked and made.model_dump_json() == checked.model_dump_json()
        assert made.model_fields_set == set(Allocated.model_fields)


def test_an_audit_leaves_no_reference_cycle_behind(tmp_path, catalog):
    # audit_all pauses the collector for a whole chunk of audits: fine only while an audit's garbage goes with
    # reference counting alone
    import gc

    with cl.Ledger.open(str(tmp_path / "cycles.db"), create=True) as ledger:
        ledger.load_catalog(catalog)
        ledger.append_many(_students(8))
        list(ledger.audit_all(as_of=date(2027, 7, 1)))  # warm: catalogs, kept trees, caches
        gc.collect()
        gc.disable()
        try:
            reports = list(ledger.audit_all(as_of=date(2027, 7, 1)))
            reports += [ledger.audit("S05", program="CNC-TECH-2025", as_of=date(2027, 7, 1))]
            left = gc.collect()
        finally:
            gc.enable()
    assert len(reports) == 8 and left == 0


def test_audit_all_by_default_starts_no_process_for_a_small_batch(file_ledger, monkeypatch):
    """``workers=None`` (the default) audits a batch under ``WORKER_BREAK_EVEN`` students per process here; a batch
    big enough (the break-even lowered to 2 students) goes to other processes; the reports are the same."""
    import concurrent.futures

    from credit_ledger import batch

    file_ledger.append_many(_students(11))
    day = date(2027, 7, 1)
    started: list[int] = []
    real_pool = concurrent.futures.ProcessPoolExecutor

    def pool(*args, **kwargs):
        started.append(kwargs.get("max_workers", args[0] if args else None))
        return real_pool(*args, **kwargs)

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", pool)
    monkeypatch.setattr(batch.os, "cpu_count", lambda: 2)
    alone = list(file_ledger.audit_all(as_of=day, chunk=2))
    assert started == []
    assert batch.default_workers(10) == 1
    assert list(file_ledger.audit_all(as_of=day, workers=2, chunk=2)) == alone
    assert started == [1]  # explicit workers=2 means two: this process and one other
    monkeypatch.setattr(batch, "WORKER_BREAK_EVEN", 2)
    assert batch.default_workers(10) == 2
    by_default = list(file_ledger.audit_all(as_of=day, chunk=2))
    assert started == [1, 1]
    assert by_default == alone
    assert [r.to_json() for r in by_default] == [r.to_json() for r in alone]


@given(students=st.integers(min_value=0, max_value=10**6), cores=st.integers(min_value=1, max_value=64))
def test_the_default_workers_are_one_per_break_even_within_the_cores(students, cores):
    from credit_ledger.batch import WORKER_BREAK_EVEN, default_workers

    workers = default_workers(students, cores=cores)
    assert 1 <= workers <= cores
    assert workers == 1 or students >= workers * WORKER_BREAK_EVEN  # every process has its break-even's students
    assert workers == cores or students < (workers + 1) * WORKER_BREAK_EVEN  # and no more would
