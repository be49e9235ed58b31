"""Audit benchmark: a synthetic province's students audited from a SQLite ledger, against a raw SQL scan.

50,000 students (by default) of a provincial program with thirteen leaves (overlapping credit pools over category,
tag and mode, a course list, two shared leaves, a pick-2-of-4 of electives) each hold 20 to 80 course records,
with failed attempts, make-ups (补考) and retakes (重修) among them. The ledger is built once (``--db`` keeps it for
the next run). Then, in the same process:

- the whole batch is audited with ``Ledger.audit_all(workers=N)`` (default: every core of the machine);
- the same records are read by a raw SQL scan (``sqlite3``: every payload, ordered by student) as the baseline;
- single audits (``Ledger.audit``) of students with exactly 20, 40, 80 and 160 records are timed.

It prints audits per second, the batch time over the scan time, the per-audit times and their 160/20 ratio, how
the allocations were found (greedy proved optimal by the bound, branch and bound, integer program) and the solver's
own time per method (over 2,000 audits in this process), where one process's audit time goes (over 1,000 audits:
reading, checking the rows against their chain, parsing, the audit with its replay and allocation, a report's trip
between processes), the rate of a summary batch (``detail="summary"``, every core: ``summary rate: N/s``), the
time of a full summary batch over that of a refresh after 1% of the students each got one new event (``refresh
ratio: X``; on a copy of the ledger, which is left as it was), a portal's wait for one student (``portal ratio``:
the median ``Ledger.audit`` of one student from the file ledger over the median pure audit of the same student's
events already in memory, ``graduation.audit_history``, over 200 students), and last the line ``audit rate: N/s``
(full reports, all cores).

    python benchmarks/audit.py [--students N] [--workers N] [--chunk N] [--db PATH] [--seed N] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import date, timedelta
from typing import Any

import credit_ledger as cl

INSTITUTION = "HNJX"
PROGRAM = "PROV-MECH-2025"
ENROL = date(2024, 9, 1)
AS_OF = date(2027, 7, 1)
SIZES = (20, 40, 80, 160)
NAMED = [f"PV-C{i:03d}" for i in range(1, 7)] + ["PV-P001", "PV-E001", "PV-E002", "PV-E010"]


def catalog() -> cl.Catalog:
    """The sample catalog plus 200 provincial courses and the benchmark's program."""
    rng = random.Random(7)
    courses = []

    def add(prefix: str, n: int, category: str, **extra: Any) -> None:
        for i in range(1, n + 1):
            tags = []
            if rng.random() < 0.3:
                tags.append("cnc")
            if rng.random() < 0.25:
                tags.append("digital")
            if category == "practice" and rng.random() < 0.4:
                tags.append("lab")
            if category == "elective" and rng.random() < 0.4:
                tags.append("robotics")
            courses.append({"institution": INSTITUTION, "code": f"{prefix}{i:03d}", "title": f"{category} {i}",
                            "credits": rng.choice([2, 2, 3, 3, 4, 4, 5, 6]), "category": category,
                            "tags": tags, **extra})

    add("PV-P", 40, "public")
    add("PV-C", 50, "core")
    add("PV-R", 40, "practice")
    add("PV-E", 50, "elective")
    add("PV-O", 20, "elective", mode="online")
    program = {
        "institution": INSTITUTION, "code": PROGRAM, "title": "机电一体化（省级统一方案）", "level": "senior_worker",
        "standard_years": 3, "min_years": 2, "max_years": 6, "total_credits": 150,
        "requirements": {"id": "root", "title": "毕业要求", "all": [
            {"id": "public", "title": "公共基础课", "credits": 24, "from": {"category": "public"}},
            {"id": "core", "title": "专业核心课", "courses": [f"PV-C{i:03d}" for i in range(1, 7)]},
            {"id": "core-pool", "title": "专业课学分", "credits": 20, "from": {"category": "core"}},
            {"id": "cnc", "title": "数控方向", "credits": 8, "from": {"tag": "cnc"}},
            {"id": "digital", "title": "数字化", "credits": 6, "from": {"tag": "digital"}},
            {"id": "practice", "title": "实习实训", "credits": 24, "from": {"category": "practice"},
             "max_external": 6},
            {"id": "lab", "title": "实验", "credits": 6, "from": {"tag": "lab"}},
            {"id": "safety", "title": "安全教育", "courses": ["PV-P001"], "shared": True},
            {"id": "online", "title": "在线学习", "credits": 2, "from": {"mode": "online"}, "shared": True},
            {"id": "electives", "title": "选修（四选二）", "pick": 2, "of": [
                {"id": "el-a", "courses": ["PV-E001", "PV-E002"]},
                {"id": "el-b", "credits": 6, "from": {"tag": "robotics"}},
                {"id": "el-c", "courses": ["PV-E010"]},
                {"id": "el-d", "credits": 6, "from": {"category": "elective"}},
            ]},
        ]},
    }
    sample = cl.Catalog.sample()
    home = sample.institution(INSTITUTION).model_dump(mode="json")
    extra = cl.Catalog.from_data({"institutions": [home], "courses": courses, "programs": [program]},
                                 source="benchmark")
    return sample.merge(extra)


def codes(cat: cl.Catalog) -> list[str]:
    return [c.code for c in cat.courses if c.code.startswith("PV-")]


def student_events(sid: str, n_records: int, rng: random.Random, pool: list[str]) -> list[Any]:
    """An enrolment and ``n_records`` course records (some failed first, then made up or retaken)."""
    out: list[Any] = [cl.Enrolled(event_id=f"{sid}-e", student_id=sid, occurred_on=ENROL, institution=INSTITUTION,
                                  program=PROGRAM)]
    # the program's named courses are taken by most students (a registrar's usual cohort: most finish the core)
    named = [c for c in NAMED if rng.random() < 0.85][:n_records]
    chosen = named + rng.sample([c for c in pool if c not in named], n_records - len(named))
    span = (AS_OF - ENROL).days - 10
    for i, code in enumerate(chosen):
        day = ENROL + timedelta(days=1 + (span * i) // n_records)
        if rng.random() < 0.08:
            out.append(cl.CourseCompleted(event_id=f"{sid}-{i}-f", student_id=sid, occurred_on=day,
                                          institution=INSTITUTION, course=code, grade=rng.randint(30, 59)))
            attempt = "makeup" if rng.random() < 0.5 else "retake"
            out.append(cl.CourseCompleted(event_id=f"{sid}-{i}", student_id=sid, occurred_on=day + timedelta(days=5),
                                          institution=INSTITUTION, course=code, grade=rng.randint(60, 95),
                                          attempt=attempt))
        else:
            out.append(cl.CourseCompleted(event_id=f"{sid}-{i}", student_id=sid, occurred_on=day,
                                          institution=INSTITUTION, course=code, grade=rng.randint(60, 99)))
    return out


def build(ledger: cl.Ledger, students: int, seed: int) -> None:
    cat = ledger.catalog
    pool = codes(cat)
    rng = random.Random(seed)
    batch: list[Any] = []
    for s in range(students):
        batch += student_events(f"PV{s:06d}", rng.randint(20, 80), rng, pool)
        if len(batch) >= 20000:
            ledger.append_many(batch)
            batch = []
    for n in SIZES:
        for k in range(10):
            batch += student_events(f"SIZE{n:03d}-{k}", n, rng, pool)
    ledger.append_many(batch)


def raw_scan(path: str) -> tuple[float, int]:
    """Read every payload ordered by student with plain sqlite3; (seconds, rows)."""
    con = sqlite3.connect(path)
    t = time.perf_counter()
    cur = con.execute("SELECT student_id, seq, payload FROM events ORDER BY student_id, student_seq")
    rows = 0
    while True:
        chunk = cur.fetchmany(10000)
        if not chunk:
            break
        rows += len(chunk)
    elapsed = time.perf_counter() - t
    con.close()
    return elapsed, rows


def stage_times(path: str, ledger: cl.Ledger, ids: list[str]) -> dict[str, float]:
    """Where one process's audit time goes, in seconds per audit over ``ids``, with the garbage collector paused as
    ``audit_all`` pauses it: reading the rows (with the chain columns), checking them against their chain
    (``chain.check_record``, as every read does), parsing the events, the audit (``audit_history``; of it, the
    transcript replay and the allocation), and a report's trip between processes (``audit_all`` with workers sends
    reports as JSON)."""
    from credit_ledger.fast import gc_paused

    with gc_paused():
        return _stage_times(path, ledger, ids)


def _stage_times(path: str, ledger: cl.Ledger, ids: list[str]) -> dict[str, float]:
    from credit_ledger import graduation, history, requirements
    from credit_ledger.chain import check_record
    from credit_ledger.reading import read_checked_event
    from credit_ledger.storage import Store

    out: dict[str, float] = {}
    store = Store.open(path)  # the ledger's file, read as audit_all reads it
    try:
        with store.read() as conn:  # warm this connection's page cache, as the ledger's is after audit_all
            store.rows_of_students(conn, ids)
        t = time.perf_counter()
        with store.read() as conn:
            rows = store.rows_of_students(conn, ids)
        out["read rows"] = time.perf_counter() - t
    finally:
        store.close()
    t = time.perf_counter()
    if any(check_record(sid, rows[sid]) is not None for sid in ids):
        raise SystemExit("the benchmark's ledger does not check: rebuild it")
    out["check rows"] = time.perf_counter() - t
    t = time.perf_counter()
    events = {sid: [read_checked_event(r[4], r[0]) for r in rows[sid]] for sid in ids}
    out["parse events"] = time.perf_counter() - t
    catalog = ledger.catalog
    replay, solve = history.transcript_records, requirements.solve
    spent = {"replay": 0.0, "allocation": 0.0}

    def timer(f: Any, key: str) -> Any:
        def run(*a: Any, **kw: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return f(*a, **kw)
            finally:
                spent[key] += time.perf_counter() - t0
        return run

    graduation.transcript_records, requirements.solve = timer(replay, "replay"), timer(solve, "allocation")
    try:
        t = time.perf_counter()
        reports = [graduation.audit_history(events[sid], catalog=catalog, as_of=AS_OF, student_id=sid) for sid in ids]
        out["audit"] = time.perf_counter() - t
    finally:
        graduation.transcript_records, requirements.solve = replay, solve
    out["  of it: replay"] = spent["replay"]
    out["  of it: allocation"] = spent["allocation"]
    t = time.perf_counter()
    texts = [r.model_dump_json() for r in reports]
    out["report to JSON (worker)"] = time.perf_counter() - t
    t = time.perf_counter()
    for text in texts:
        graduation.AuditReport.model_validate_json(text)
    out["report from JSON (parent)"] = time.perf_counter() - t
    return {k: v / len(ids) for k, v in out.items()}


def portal_times(ledger: cl.Ledger, ids: list[str]) -> tuple[float, float]:
    """The median time of ``Ledger.audit`` of one student (what a portal asks: read, check, decode, access, audit)
    and of the pure audit of the same student's events already in memory (``audit_history``), in seconds, over
    ``ids``: each student once warm, then each timed the two ways in turn, three times."""
    from credit_ledger.graduation import audit_history

    catalog = ledger.catalog
    events = {sid: ledger.events(sid) for sid in ids}
    for sid in ids:
        ledger.audit(sid, as_of=AS_OF)
        audit_history(events[sid], catalog=catalog, as_of=AS_OF, student_id=sid)
    facade, pure = [], []
    for _ in range(3):
        for sid in ids:
            t = time.perf_counter()
            ledger.audit(sid, as_of=AS_OF)
            facade.append(time.perf_counter() - t)
            t = time.perf_counter()
            audit_history(events[sid], catalog=catalog, as_of=AS_OF, student_id=sid)
            pure.append(time.perf_counter() - t)
    return statistics.median(facade), statistics.median(pure)


def refresh_times(path: str, ids: list[str], args: argparse.Namespace) -> dict[str, float]:
    """Refreshes of a summary batch, on a copy of the province's ledger (the ledger kept for the next run stays as
    it was): the first refresh (which audits everyone and keeps the batch), then one after 1% of the students each
    got one new event (a course passed on the audit day), and one with nothing changed; seconds, and how many
    students changed."""
    rng = random.Random(11)
    with tempfile.TemporaryDirectory(prefix="audit-bench-refresh-") as folder:
        copy = os.path.join(folder, "copy.db")
        source, target = sqlite3.connect(path), sqlite3.connect(copy)
        try:
            source.backup(target)
        finally:
            source.close()
            target.close()
        ledger = cl.Ledger.open(copy)
        try:
            def timed_refresh() -> float:
                t = time.perf_counter()
                for _ in ledger.audit_all(ids, AS_OF, workers=args.workers, chunk=args.chunk, detail="summary",
                                          refresh=True):
                    pass
                return time.perf_counter() - t

            first = timed_refresh()
            changed = rng.sample(ids, max(1, len(ids) // 100))
            pool = codes(ledger.catalog)
            ledger.append_many([cl.CourseCompleted(event_id=f"{sid}-refresh", student_id=sid, occurred_on=AS_OF,
                                                   institution=INSTITUTION, course=rng.choice(pool), grade=88)
                                for sid in changed])
            after = timed_refresh()
            again = timed_refresh()
        finally:
            ledger.close()
    return {"first": first, "after": after, "again": again, "changed": len(changed)}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--students", type=int, default=50_000)
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    p.add_argument("--db", default=None, help="ledger file (kept; reused when it already holds the students)")
    p.add_argument("--seed", type=int, default=20250901)
    p.add_argument("--chunk", type=int, default=100, help="students per chunk handed to a worker process")
    p.add_argument("--profile", action="store_true", help="cProfile single-process audits; top functions to stderr")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> float:
    args = parse_args(argv)
    tmp = None
    path = args.db
    if path is None:
        tmp = tempfile.TemporaryDirectory(prefix="audit-bench-")
        path = os.path.join(tmp.name, "province.db")
    ledger = cl.Ledger.open(path, create=True)
    try:
        cat = catalog()
        ledger.load_catalog(cat)
        if ledger.count() == 0:
            t = time.perf_counter()
            build(ledger, args.students, args.seed)
            print(f"built: {ledger.count():,} events in {time.perf_counter() - t:.1f} s")
        batch_ids = [s for s in ledger.students() if s.startswith("PV")]
        print(f"students: {len(batch_ids):,}; workers: {args.workers}")

        if args.profile:
            prof = cProfile.Profile()
            prof.enable()
            list(ledger.audit_all(batch_ids[:2000], AS_OF))
            prof.disable()
            out = io.StringIO()
            pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(35)
            print(out.getvalue(), file=sys.stderr)

        t = time.perf_counter()
        statuses: Counter[str] = Counter()
        solvers: Counter[str] = Counter()
        audited = 0
        for report in ledger.audit_all(batch_ids, AS_OF, workers=args.workers, chunk=args.chunk):
            audited += 1
            statuses[report.status.value] += 1
            solvers[report.solver] += 1
        batch_time = time.perf_counter() - t
        t = time.perf_counter()
        summaries = sum(1 for _ in ledger.audit_all(batch_ids, AS_OF, workers=args.workers, chunk=args.chunk,
                                                    detail="summary"))
        summary_time = time.perf_counter() - t
        scan_time, rows = raw_scan(path)
        refresh = refresh_times(path, batch_ids, args)

        # solver time alone, by the method that answered, over a sample audited in this process
        from credit_ledger import requirements

        solve, spent = requirements.solve, {}

        def timed(problem: Any, **kw: Any) -> Any:
            t0 = time.perf_counter()
            out = solve(problem, **kw)
            spent.setdefault(out[1], []).append(time.perf_counter() - t0)
            return out

        requirements.solve = timed
        try:
            list(ledger.audit_all(batch_ids[:2000], AS_OF))
        finally:
            requirements.solve = solve
        stages = stage_times(path, ledger, batch_ids[:1000])
        portal = portal_times(ledger, batch_ids[:200])

        per_size = {}
        for n in SIZES:
            sids = [f"SIZE{n:03d}-{k}" for k in range(10)]
            for sid in sids:  # warm
                ledger.audit(sid, as_of=AS_OF)
            times = []
            for _ in range(3):
                for sid in sids:
                    t = time.perf_counter()
                    ledger.audit(sid, as_of=AS_OF)
                    times.append(time.perf_counter() - t)
            per_size[n] = statistics.median(times)
    finally:
        ledger.close()
        if tmp is not None:
            tmp.cleanup()

    rate = audited / batch_time if batch_time else float("inf")
    print(f"batch: {audited:,} audits in {batch_time:.2f} s ({rate:,.0f} audits/s, {args.workers} workers)")
    summary_rate = summaries / summary_time if summary_time else float("inf")
    print(f"summary batch: {summaries:,} summaries in {summary_time:.2f} s ({args.workers} workers)")
    print(f"refresh: first (fills the kept batch) {refresh['first']:.2f} s; after {refresh['changed']:,} students "
          f"got one new event each {refresh['after']:.3f} s; with nothing changed {refresh['again']:.3f} s")
    print(f"raw scan: {rows:,} rows in {scan_time:.2f} s; batch / scan = {batch_time / scan_time:.1f}; "
          f"summary batch / scan = {summary_time / scan_time:.1f}")
    print("statuses: " + ", ".join(f"{k} {v:,}" for k, v in sorted(statuses.items())))
    print("allocations: " + ", ".join(f"{k} {v:,}" for k, v in sorted(solvers.items())))
    for how, times in sorted(spent.items()):
        print(f"solver time, {how}: median {statistics.median(times) * 1000:.3f} ms, "
              f"mean {statistics.fmean(times) * 1000:.3f} ms over {len(times):,} audits")
    one = stages["read rows"] + stages["check rows"] + stages["parse events"] + stages["audit"]
    for name, secs in stages.items():
        print(f"per audit, one process, {name}: {secs * 1000:.3f} ms")
    print(f"one process: {1 / one:,.0f} audits/s (read, check, parse and audit)")
    for n in SIZES:
        print(f"single audit, {n:>3} records: {per_size[n] * 1000:.2f} ms")
    print(f"160 / 20 records: {per_size[160] / per_size[20]:.1f}")
    print(f"portal, one student: Ledger.audit median {portal[0] * 1000:.2f} ms, audit of the events in memory "
          f"median {portal[1] * 1000:.2f} ms")
    print(f"portal ratio: {portal[0] / portal[1]:.2f}")
    print(f"summary rate: {summary_rate:.0f}/s")
    print(f"refresh ratio: {summary_time / refresh['after']:.1f}")
    print(f"audit rate: {rate:.0f}/s")
    return rate


if __name__ == "__main__":
    main()
