"""Batch audits on any ``concurrent.futures.Executor`` (issue 13): a thread pool, and a ``dask.distributed``
``LocalCluster`` whose worker processes read a PostgreSQL ledger themselves.

Each batch is compared with the same batch audited in this process (``workers=1``): the same reports (or
summaries), in the students' order. The dask tests need the ``distributed`` extra; they are skipped without it,
and ``CREDIT_LEDGER_TEST_DISTRIBUTED_REQUIRED=1`` (set by ``.ci/run``) makes its absence a failure.
"""

from __future__ import annotations

import importlib.util
import os
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest

import credit_ledger as cl

COURSES = ("PUB101", "PUB102", "PUB103", "PUB104", "PUB105", "MECH101", "MECH102", "ELEC101", "CNC201", "CNC202")
STUDENTS = [f"K{n:03d}" for n in range(60)]
ON = date(2027, 7, 1)

_missing = importlib.util.find_spec("distributed") is None
needs_distributed = pytest.mark.skipif(
    _missing and os.environ.get("CREDIT_LEDGER_TEST_DISTRIBUTED_REQUIRED") != "1",
    reason="dask.distributed not installed (the distributed extra: pip install 'credit_ledger[distributed]')")


def populate(ledger: cl.Ledger) -> None:
    events: list = []
    for n, sid in enumerate(STUDENTS):
        start = date(2024, 9, 1)
        events.append(cl.Enrolled(event_id=f"{sid}-enrol", student_id=sid, occurred_on=start, institution="HNJX",
                                  program="CNC-SR-2025"))
        for k, course in enumerate(COURSES[: 3 + n % len(COURSES)]):
            events.append(cl.CourseCompleted(event_id=f"{sid}-{course}", student_id=sid, institution="HNJX",
                                             occurred_on=start + timedelta(days=120 * (k + 1) % 900),
                                             course=course, grade=55 + (n * 7 + k * 13) % 45))
    ledger.append_many(events)


@pytest.fixture
def province(file_ledger: cl.Ledger) -> cl.Ledger:
    populate(file_ledger)
    return file_ledger


def dumps(items) -> list[str]:
    return [item.model_dump_json() for item in items]


@pytest.mark.parametrize("detail", ["full", "summary"])
def test_a_thread_pool_gives_the_batch_of_one_process(province, detail):
    here = dumps(province.audit_all(STUDENTS, ON, workers=1, detail=detail))
    with ThreadPoolExecutor(3) as pool:
        there = dumps(province.audit_all(STUDENTS, ON, executor=pool, chunk=7, detail=detail))
    assert there == here and len(here) == len(STUDENTS)


def test_a_process_pool_of_the_standard_library_gives_the_same_batch(province):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    here = dumps(province.audit_all(STUDENTS, ON, workers=1, detail="summary"))
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        assert dumps(province.audit_all(STUDENTS, ON, executor=pool, chunk=16, detail="summary")) == here


def test_an_in_memory_ledger_cannot_be_read_by_an_executors_workers(catalog):
    ledger = cl.Ledger.open()
    ledger.load_catalog(catalog)
    populate(ledger)
    with ThreadPoolExecutor(1) as pool, pytest.raises(ValueError, match="in memory"):
        list(ledger.audit_all(STUDENTS, ON, executor=pool))


def test_workers_and_an_executor_are_not_both_given(province):
    with ThreadPoolExecutor(1) as pool, pytest.raises(ValueError, match="workers"):
        list(province.audit_all(STUDENTS, ON, executor=pool, workers=2))


def test_a_school_acting_through_an_executor_keeps_its_rights(province):
    """SANY-HV (an employer's training centre outside the alliance) may not read HNJX's students: its workers
    refuse as it would, and the refusal arrives here whole; an alliance member reads them as here."""
    outsider = province.acting_for("SANY-HV")
    with ThreadPoolExecutor(2) as pool, pytest.raises(cl.PermissionDenied) as refused:
        list(outsider.audit_all(STUDENTS[:3], ON, executor=pool))
    assert refused.value.codes
    member = province.acting_for("XTJX")
    with ThreadPoolExecutor(2) as pool:
        assert dumps(member.audit_all(STUDENTS[:5], ON, executor=pool, chunk=2)) == \
            dumps(member.audit_all(STUDENTS[:5], ON, workers=1))


@needs_distributed
@pytest.mark.parametrize("detail", ["full", "summary"])
def test_a_dask_cluster_audits_a_postgresql_ledger(pg_url, catalog, detail):
    from distributed import Client, LocalCluster

    ledger = cl.Ledger.open(pg_url, create=True)
    try:
        ledger.load_catalog(catalog)
        populate(ledger)
        here = dumps(ledger.audit_all(STUDENTS, ON, workers=1, detail=detail))
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
                Client(cluster) as client:
            there = dumps(ledger.audit_all(STUDENTS, ON, executor=client.get_executor(), chunk=10, detail=detail))
        assert there == here and len(here) == len(STUDENTS)
    finally:
        ledger.close()
