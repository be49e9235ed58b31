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
import threading
from concurrent.futures import Executor, Future, wait
from datetime import date
from typing import Any, Iterator

from .errors import UnknownReference
from .fast import gc_paused, trusted_model_decoder
from .graduation import AuditReport, AuditSummary, audit_history
from . import summary_cache
from .reading import StoredCatalog, read_record, readable_students
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
                    acting_as: str | None, workers: int | None, chunk: int, detail: str = "full",
                    executor: Executor | None = None) -> Iterator[Any]:
    """The reports of ``students`` in order, ``chunk`` students at a time, in ``workers`` processes (this one and
    ``workers - 1`` others; ``None``: ``default_workers``) when the ledger is a file or a server (an in-memory one
    is audited here). ``detail``: ``full`` (``AuditReport``) or ``summary`` (``AuditSummary``, crossing between
    processes as compact rows). With an ``executor``, every chunk is its workers' (``audit_on``)."""
    chunks = [students[i:i + chunk] for i in range(0, len(students), chunk)]
    if executor is not None:
        yield from audit_on(executor, catalogs, chunks, day, program, acting_as, detail)
        return
    if workers is None:
        workers = default_workers(len(students))
    if workers > 1 and len(chunks) > 1 and catalogs.store.engine.url.database not in (None, "", ":memory:"):
        yield from _audit_in_processes(catalogs, chunks, day, program, acting_as, workers, detail)
        return
    for part in chunks:
        yield from audit_chunk(catalogs, part, day, program, acting_as=acting_as, detail=detail)


def audit_chunk(catalogs: StoredCatalog, students: list[str], day: date, program: Any, *,
                acting_as: str | None, detail: str = "full") -> Iterator[Any]:
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
                report = audit_history(events, catalog=catalog, as_of=day, program=program, student_id=sid,
                                       detail=detail)
            except UnknownReference:
                continue
        yield report


def audit_list(catalogs: StoredCatalog, students: list[str], day: date, program: Any, *,
               acting_as: str | None, detail: str = "full") -> list[Any]:
    """A chunk's reports, with the collector paused throughout: an audit leaves no reference cycle behind, and the
    reports kept so far need not be walked again between students."""
    with gc_paused():
        return list(audit_chunk(catalogs, students, day, program, acting_as=acting_as, detail=detail))


def _audit_in_processes(catalogs: StoredCatalog, chunks: list[list[str]], day: date, program: Any,
                        acting_as: str | None, workers: int, detail: str) -> Iterator[Any]:
    """Each of ``workers - 1`` processes always has a chunk to audit and the next one queued (so none waits
    for this one to hand out work). While the next chunk in order is not back, this process audits the next
    chunk nobody has taken (its reports wait their turn), so it waits only when no chunk is left. The
    processes send their reports as JSON (quicker to write and to read back than pickled models), summaries as
    rows (``AuditSummary.to_row``: a tuple of its values each, pickled)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    url = catalogs.store.engine.url.render_as_string(hide_password=False)
    done: dict[int, list[Any]] = {}
    sent: dict[int, Future[list[Any]]] = {}
    taken = 0  # chunks before this one are taken (by a process or here)

    def here(k: int) -> list[Any]:
        return audit_list(catalogs, chunks[k], day, program, acting_as=acting_as, detail=detail)

    read = _reader(detail)

    def collect(k: int) -> None:
        sent_back = sent.pop(k).result()
        with gc_paused():  # thousands of new objects, no cycle among them
            done[k] = [read(item) for item in sent_back]

    with ProcessPoolExecutor(max_workers=workers - 1, mp_context=multiprocessing.get_context("spawn")) as pool:
        try:
            for k in range(len(chunks)):
                while k not in done:
                    while taken < len(chunks) and sum(not f.done() for f in sent.values()) < 2 * (workers - 1):
                        sent[taken] = pool.submit(audit_in_worker, url, chunks[taken], day, program, acting_as,
                                                  detail)
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


def _reader(detail: str) -> Any:
    """How the asking process reads back what ``audit_in_worker`` sent: a report's JSON, or a summary's row."""
    return AuditSummary.from_row if detail == "summary" else AuditReport.model_validate_json


EXECUTOR_AHEAD = 32
"""How many chunks an executor is given ahead of the one whose reports are handed out next: enough to keep a
cluster's workers busy, few enough that the reports waiting their turn here stay bounded (``32 * chunk``)."""


def audit_on(executor: Executor, catalogs: StoredCatalog, chunks: list[list[str]], day: date, program: Any,
             acting_as: str | None, detail: str) -> Iterator[Any]:
    """The reports of ``chunks`` in order, each chunk audited by ``executor`` (any ``concurrent.futures.Executor``:
    a process pool, a thread pool, a ``dask.distributed`` client's ``get_executor()``). Its workers run
    ``audit_in_worker``: each opens the ledger at its URL itself (so the ledger must be a file every worker sees, or
    a server; an in-memory one is refused with ``ValueError``), checks each student's rows against their chain and
    the stored catalogs against their hashes as any read does, audits with the rights of the asking ledger, and
    sends reports back as JSON (summaries as rows). At most ``EXECUTOR_AHEAD`` chunks are out at a time; a worker's
    error (``PermissionDenied``, ``IntegrityError``) is raised here when its chunk's turn comes, and the chunks not
    yet begun are cancelled."""
    url = catalogs.store.engine.url
    if url.database in (None, "", ":memory:"):
        raise ValueError("an executor's workers open the ledger themselves, and this ledger is in memory: audit it "
                         "here (no executor) or open a file or server ledger")
    where = url.render_as_string(hide_password=False)
    read = _reader(detail)
    sent: dict[int, Future[list[Any]]] = {}
    opened_here = where not in _WORKER_STORES  # a thread pool's workers open the ledger in this process
    try:
        for k in range(len(chunks)):
            for j in range(k, min(k + EXECUTOR_AHEAD, len(chunks))):
                if j not in sent:
                    sent[j] = executor.submit(audit_in_worker, where, chunks[j], day, program, acting_as, detail)
            sent_back = sent.pop(k).result()
            with gc_paused():  # thousands of new objects, no cycle among them
                found = [read(item) for item in sent_back]
            yield from found
    finally:
        for future in sent.values():
            future.cancel()
        wait(sent.values())
        if opened_here:
            _close_worker_store(where)


REFRESH_IN_PROCESSES = 2000
"""A refresh re-audits fewer students than this in this process: a worker process costs about a second to start
(a fresh interpreter importing the library and opening the ledger; on the loaded 2-core machine 500 summaries of
the benchmark's province took 6.1 s with a second process against 3.8 s without), more than it saves on a
refresh's usual handful of students."""


def refreshed(catalogs: StoredCatalog, students: list[str], day: date, program: Any, *, acting_as: str | None,
              workers: int | None, chunk: int, executor: Executor | None = None) -> Iterator[AuditSummary]:
    """The summaries of a full summary batch of ``students`` on ``day``, in order, re-auditing only the students whose
    kept summary (``summary_cache``) does not hold: the chain head or the catalog changed, ``day`` lies before its
    ``as_of`` or after its ``stable_until``, the acting school may not read the student (the batch raises as a full
    one would), or the row does not read back as that student's summary. What was audited again is kept for the
    next refresh, once every summary has been handed out; a summary is kept only if the student's chain head and
    the catalog were the same before and after it was computed (an append meanwhile: not kept).

    A kept summary is trusted as far as its key: the student's last row hash (``storage.Store.heads``) stands for
    the rows the summary was computed from, which passed the read check then. The rows are not read again, so an
    edit of an older row that leaves the last row's hash as it was is not seen here (a full batch raises
    ``IntegrityError`` there; ``verify`` finds it either way)."""
    store = catalogs.store
    key = program if isinstance(program, str) else "" if program is None else None
    if key is None:  # a Program given as a value: no key to keep it under
        yield from audit_in_chunks(catalogs, students, day, program, acting_as=acting_as, workers=workers,
                                   chunk=chunk, detail="summary", executor=executor)
        return
    with store.read() as conn:  # no write when nothing is audited again (it would wait for the ledger's write lock)
        catalogs.sync(conn)  # the stored catalogs checked, as a full batch checks them
        catalog_hash = store.catalog_head(conn)
        kept = summary_cache.rows(store, conn, key, students, heads=True) if summary_cache.exists(conn) else {}
        readable = None if acting_as is None else readable_students(conn, acting_as=acting_as, catalogs=catalogs)
        held = _held(students, kept, catalog_hash, day, readable)
        again = [sid for sid in students if sid not in held]
        heads = store.heads(conn, again)  # the keys of what is audited again
    iso = day.isoformat()
    fresh = audit_in_chunks(catalogs, again, day, program, acting_as=acting_as,
                            workers=workers if len(again) >= REFRESH_IN_PROCESSES else 1, chunk=chunk,
                            detail="summary", executor=executor if len(again) >= REFRESH_IN_PROCESSES else None)
    made: dict[str, AuditSummary | None] = {}
    pending: AuditSummary | None = None
    for sid in students:
        if sid in held:
            found = held[sid]
        else:
            if pending is None:
                pending = next(fresh, None)
            found = None
            if pending is not None and pending.student_id == sid:
                found, pending = pending, None
            made[sid] = found
        if found is not None:
            yield found
    made = {sid: found for sid, found in made.items() if sid in heads}  # a student with no rows has no key
    if not made:
        return
    with store.write() as conn:
        summary_cache.ensure(conn)
        after = store.heads(conn, list(made))
        if store.catalog_head(conn) != catalog_hash:
            return
        summary_cache.put(store, conn, key, [
            (sid, heads[sid][1], catalog_hash, iso,
             found.stable_until.isoformat() if found is not None and found.stable_until is not None else None,
             found.model_dump_json() if found is not None else None)
            for sid, found in made.items() if after.get(sid) == heads[sid]])


def _held(students: list[str], kept: dict[str, tuple[Any, ...]], catalog_hash: str | None, day: date,
          readable: set[str] | None) -> dict[str, AuditSummary | None]:
    """The kept summaries that hold on ``day`` (``refreshed``; ``kept``: ``summary_cache.rows`` with the heads now),
    read back with the collector paused: tens of thousands of new models and no cycle among them, which would
    otherwise trigger collections that walk every one kept so far."""
    iso = day.isoformat()
    held: dict[str, AuditSummary | None] = {}
    with gc_paused():
        for sid in students:
            row = kept.get(sid)
            if row is None or row[5] is None or row[0] != row[5] or row[1] != catalog_hash or iso < row[2]:
                continue
            if (row[4] is None and iso != row[2]) or (row[3] is not None and iso > row[3]):
                continue  # past stable_until (a student the batch skipped is kept for that day only)
            if readable is not None and sid not in readable:
                continue
            try:
                held[sid] = _kept_summary(sid, row, day)
            except _NotKept:
                continue
    return held


def _kept_summary(sid: str, row: tuple[Any, ...], day: date) -> AuditSummary | None:
    """A kept row's summary as of ``day`` (``None``: the batch skipped the student); ``_NotKept`` when the row does
    not read back as the summary of ``sid`` on the row's ``as_of`` with the row's ``stable_until``."""
    if row[4] is None:
        return None  # the batch skipped the student (no enrolment on that day)
    summary = _decode_summary(row[4])  # every field typed and checked, bounds aside (AuditSummary declares none)
    if summary is None:  # not JSON as the library writes a summary: validated in full, or not a summary at all
        try:
            summary = AuditSummary.model_validate_json(row[4])
        except ValueError:
            raise _NotKept from None
    ok = (summary.student_id == sid and summary.as_of.isoformat() == row[2]
          and (summary.stable_until.isoformat() if summary.stable_until else None) == row[3])
    if not ok:
        raise _NotKept
    if summary.as_of == day:
        return summary
    fields = dict(summary.__dict__)
    fields["as_of"] = day
    return AuditSummary.trusted_fields(fields, summary.model_fields_set)


_decode_summary = trusted_model_decoder(AuditSummary)
"""A kept summary's JSON as an ``AuditSummary`` (``fast.trusted_model_decoder``), ``None`` for JSON it does not take."""


class _NotKept(Exception):
    """A kept row that does not read back as what its key says."""


_WORKER_STORES: dict[str, StoredCatalog] = {}
"""In a worker process of a batch audit: the ledger it opened (its store and catalog) for its first chunk, kept for
the next ones. A worker process's own state; in the asking process only while a thread pool's batch runs
(``audit_on`` closes it after)."""
_WORKER_STORES_LOCK = threading.Lock()


def _close_worker_store(url: str) -> None:
    with _WORKER_STORES_LOCK:
        catalogs = _WORKER_STORES.pop(url, None)
    if catalogs is not None:
        catalogs.store.close()


def audit_in_worker(url: str, students: list[str], as_of: date, program: Any, acting_as: str | None,
                    detail: str = "full") -> list[Any]:
    """A worker process's share of a batch audit (with the same rights as the ledger that asked): reports as JSON,
    summaries as rows."""
    with _WORKER_STORES_LOCK:  # a thread pool's workers share this process's stores
        catalogs = _WORKER_STORES.get(url)
        if catalogs is None:
            from multiprocessing.util import Finalize

            store = Store.open(url)
            catalogs = _WORKER_STORES[url] = StoredCatalog(store)
            Finalize(store, store.close, exitpriority=10)  # closed when the worker process ends (atexit is not run)
    found = audit_list(catalogs, students, as_of, program, acting_as=acting_as, detail=detail)
    if detail == "summary":
        return [summary.to_row() for summary in found]
    return [report.model_dump_json() for report in found]


__all__ = ["EXECUTOR_AHEAD", "WORKER_BREAK_EVEN", "audit_chunk", "audit_in_chunks", "audit_in_worker", "audit_list",
           "audit_on", "default_workers", "refreshed"]
