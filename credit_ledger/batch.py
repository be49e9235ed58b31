"""Batch audits (批量毕业审核): many students' graduation audits, chunk by chunk, in this process or in several.

``Ledger.audit_all`` is the public entry point; this module does the work. The students are cut into chunks; each
chunk's rows are read with one query per 900 students, and each student is audited with the collector paused
(``fast.gc_paused``). With ``workers`` > 1 on a file or server ledger, ``workers - 1`` other processes read the
ledger themselves and audit chunks too, while this one audits whatever chunk nobody has taken yet; the reports
come back in the order of the students given either way. ``workers=None`` chooses (``default_workers``): a process
is started only for a batch big enough to pay for starting it (``WORKER_BREAK_EVEN`` students per process).

>>> import credit_ledger as cl
>>> from datetime import date
>>> ledger = cl.Ledger.open()
>>> ledger.load_catalog(cl.Catalog.sample())
>>> _ = ledger.append(cl.Enrolled(event_id="S1-enrol", student_id="S1", occurred_on=date(2025, 9, 1),
...                               institution="HNJX", program="CNC-SR-2025"))
>>> [r.student_id for r in ledger.audit_all(["S1", "NOBODY"], date(2026, 6, 1))]  # no enrolment: skipped
['S1']
"""

from __future__ import annotations

import os
from datetime import date
from typing import Any, Iterator

from .errors import UnknownReference
from .fast import gc_paused
from .graduation import AuditReport, audit_history
from .reading import StoredCatalog, read_record
from .storage import Store


WORKER_BREAK_EVEN = 2000
"""How many students a process must have to audit for starting it to pay. A worker process costs its start (a new
interpreter importing the library, opening the ledger and reading its catalog) and each report's trip back as JSON
(about 0.25 ms); it saves half of each audit it takes (reading, checking, decoding and auditing a student: 2.5 to
4 ms in one process). Measured on the 2-core machine with ``audit_all`` of the audit benchmark's province: the start
costs about 2 s (200 students: 0.8-1.0 s in one process, 2.4-3.3 s in two), so a second process pays from about
2 s / (1 to 1.7 ms saved per student) = 1,200 to 2,000 students when a core is free for it; on that machine, shared
with other work at the time, two processes were still slower at 3,000 students (11-13 s against 15 s). Hence one
process per 2,000 students, up to the machine's cores: a province gets every core, a school's class gets one."""


def default_workers(students: int, *, cores: int | None = None) -> int:
    """How many processes ``audit_all(workers=None)`` uses for a batch of ``students``: one per
    ``WORKER_BREAK_EVEN`` students, at least one, at most ``cores`` (default: this machine's).

    >>> default_workers(200, cores=2), default_workers(3999, cores=2), default_workers(4000, cores=2)
    (1, 1, 2)
    >>> default_workers(1_000_000, cores=8)
    8
    """
    return max(1, min(cores or os.cpu_count() or 1, students // WORKER_BREAK_EVEN))


def audit_in_chunks(catalogs: StoredCatalog, students: list[str], day: date, program: Any, *,
                    acting_as: str | None, workers: int | None, chunk: int) -> Iterator[AuditReport]:
    """The reports of ``students`` in order, ``chunk`` students at a time, in ``workers`` processes (this one and
    ``workers - 1`` others; ``None``: ``default_workers``) when the ledger is a file or a server (an in-memory one
    is audited here)."""
    if workers is None:
        workers = default_workers(len(students))
    chunks = [students[i:i + chunk] for i in range(0, len(students), chunk)]
    if workers > 1 and len(chunks) > 1 and catalogs.store.engine.url.database not in (None, "", ":memory:"):
        yield from _audit_in_processes(catalogs, chunks, day, program, acting_as, workers)
        return
    for part in chunks:
        yield from audit_chunk(catalogs, part, day, program, acting_as=acting_as)


def audit_chunk(catalogs: StoredCatalog, students: list[str], day: date, program: Any, *,
                acting_as: str | None) -> Iterator[AuditReport]:
    """The reports of one chunk of students, in order (a student with no enrolment on ``day`` is skipped, one
    ``acting_as`` may not read raises ``PermissionDenied``, a record whose rows are not what the library wrote raises
    ``IntegrityError``: each student's rows are checked as they are read, ``reading.read_record``). The collector
    is paused while a student is read and audited, never while the caller holds a report."""
    catalog = catalogs.current()
    store = catalogs.store
    with store.read() as conn:
        rows = store.rows_of_students(conn, students)
    for sid in students:
        with gc_paused():  # not across the yield: the caller's code runs with the collector as it was
            events = read_record(sid, rows.get(sid, []), acting_as=acting_as, catalogs=catalogs)
            try:
                report = audit_history(events, catalog=catalog, as_of=day, program=program, student_id=sid)
            except UnknownReference:
                continue
        yield report


def audit_list(catalogs: StoredCatalog, students: list[str], day: date, program: Any, *,
               acting_as: str | None) -> list[AuditReport]:
    """A chunk's reports, with the collector paused throughout: an audit leaves no reference cycle behind, and the
    reports kept so far need not be walked again between students."""
    with gc_paused():
        return list(audit_chunk(catalogs, students, day, program, acting_as=acting_as))


def _audit_in_processes(catalogs: StoredCatalog, chunks: list[list[str]], day: date, program: Any,
                        acting_as: str | None, workers: int) -> Iterator[AuditReport]:
    """Each of ``workers - 1`` processes always has a chunk to audit and the next one queued (so none waits
    for this one to hand out work). While the next chunk in order is not back, this process audits the next
    chunk nobody has taken (its reports wait their turn), so it waits only when no chunk is left. The
    processes send their reports as JSON: quicker to write and to read back than pickled models."""
    import multiprocessing
    from concurrent.futures import Future, ProcessPoolExecutor

    url = catalogs.store.engine.url.render_as_string(hide_password=False)
    done: dict[int, list[AuditReport]] = {}
    sent: dict[int, Future[list[str]]] = {}
    taken = 0  # chunks before this one are taken (by a process or here)

    def here(k: int) -> list[AuditReport]:
        return audit_list(catalogs, chunks[k], day, program, acting_as=acting_as)

    def collect(k: int) -> None:
        texts = sent.pop(k).result()
        with gc_paused():  # thousands of new objects, no cycle among them
            done[k] = [AuditReport.model_validate_json(text) for text in texts]

    with ProcessPoolExecutor(max_workers=workers - 1, mp_context=multiprocessing.get_context("spawn")) as pool:
        try:
            for k in range(len(chunks)):
                while k not in done:
                    while taken < len(chunks) and sum(not f.done() for f in sent.values()) < 2 * (workers - 1):
                        sent[taken] = pool.submit(audit_in_worker, url, chunks[taken], day, program, acting_as)
                        taken += 1
                    if k in sent and not sent[k].done() and taken < len(chunks):
                        done[taken] = here(taken)
                        taken += 1
                    elif k in sent:
                        collect(k)
                    else:  # nobody has it: k == taken
                        done[k] = here(k)
                        taken += 1
                yield from done.pop(k)
        finally:
            for future in sent.values():
                future.cancel()


_WORKER_STORES: dict[str, StoredCatalog] = {}
"""In a worker process of a batch audit: the ledger it opened (its store and catalog) for its first chunk, kept for
the next ones. A worker process's own state, never the asking process's."""


def audit_in_worker(url: str, students: list[str], as_of: date, program: Any, acting_as: str | None) -> list[str]:
    """A worker process's share of a batch audit (with the same rights as the ledger that asked), as JSON."""
    catalogs = _WORKER_STORES.get(url)
    if catalogs is None:
        from multiprocessing.util import Finalize

        store = Store.open(url)
        catalogs = _WORKER_STORES[url] = StoredCatalog(store)
        Finalize(store, store.close, exitpriority=10)  # closed when the worker process ends (atexit is not run)
    return [report.model_dump_json()
            for report in audit_list(catalogs, students, as_of, program, acting_as=acting_as)]


__all__ = ["WORKER_BREAK_EVEN", "audit_chunk", "audit_in_chunks", "audit_in_worker", "audit_list", "default_workers"]
