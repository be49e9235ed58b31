"""Writers benchmark: 1, 2 and 4 concurrent writers (processes) appending to one ledger, on SQLite and PostgreSQL.

For each engine, each number of writers and each batch size, a fresh ledger gets the sample catalog and an enrolment
for every student (untimed); then the writers, each a process with its own ``Ledger`` and its own students, append
``--events`` ``CourseCompleted`` events between them (``events / writers`` each) through ``append_many`` in batches of
``--batch``, all starting together. The figure is events per second: all the events over the wall time from the
start to the last writer's end.

What limits it is the ledger-wide write lock: every append is one transaction that holds it (SQLite: ``BEGIN
IMMEDIATE``; PostgreSQL: a transaction-scoped advisory lock) from the reads its checks need through the checkpoint to
the commit, since each checkpoint chains to the one before and the seq is the ledger's next. Writers take turns; more
of them add waiting, not throughput. A batch amortises the lock, the commit (an fsync) and the checkpoint over its
events.

SQLite runs on a file in a temporary folder; PostgreSQL on a fresh database made on the server of ``--url`` (default:
``$CREDIT_LEDGER_TEST_PG_URL``; its user must be allowed to create databases) and dropped after. Without a URL, only
SQLite runs. The last line is ``writers: ...``, the events/s of every run.

    python benchmarks/writers.py [--writers 1,2,4] [--batch 1,100] [--events N] [--engines sqlite,postgresql]
                                 [--url URL]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from datetime import date, timedelta
from typing import Any

from sqlalchemy.engine import make_url

import credit_ledger as cl

INSTITUTION = "HNJX"
PROGRAM = "CNC-SR-2025"
ENROL_DATE = date(2024, 9, 1)
STUDENTS_PER_WRITER = 50


def courses() -> list[str]:
    """HNJX's courses in the sample catalog from the first day of study."""
    catalog = cl.Catalog.sample()
    first = ENROL_DATE + timedelta(days=30)
    return sorted({c.code for c in catalog.courses if c.institution == INSTITUTION
                   and catalog.course(INSTITUTION, c.code, first) is not None})


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--writers", default="1,2,4", help="numbers of concurrent writers, comma separated")
    p.add_argument("--batch", default="1,100", help="events per append_many, comma separated")
    p.add_argument("--events", type=int, default=2000, help="events appended per run, between all its writers")
    p.add_argument("--engines", default="sqlite,postgresql", help="engines to run, comma separated")
    p.add_argument("--url", default=os.environ.get("CREDIT_LEDGER_TEST_PG_URL"),
                   help="a PostgreSQL server (a URL whose user may create databases); default "
                        "$CREDIT_LEDGER_TEST_PG_URL")
    args = p.parse_args(argv)
    args.writers = [int(n) for n in args.writers.split(",")]
    args.batch = [int(n) for n in args.batch.split(",")]
    args.engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    if min(args.writers) < 1 or min(args.batch) < 1 or args.events < 1:
        p.error("--writers, --batch and --events are at least 1")
    if set(args.engines) - {"sqlite", "postgresql"}:
        p.error("--engines: sqlite, postgresql")
    return args


def student(writer: int, i: int) -> str:
    return f"W{writer}-S{i:04d}"


def events_of(writer: int, count: int) -> list[cl.CourseCompleted]:
    """The writer's events: course completions of its own students (no two writers touch one student)."""
    codes = courses()
    return [cl.CourseCompleted(event_id=f"W{writer}-e{k:07d}", student_id=student(writer, k % STUDENTS_PER_WRITER),
                               occurred_on=ENROL_DATE + timedelta(days=30 + k % 600), institution=INSTITUTION,
                               course=codes[k % len(codes)], grade=60 + k % 40)
            for k in range(count)]


def writer(url: str, number: int, count: int, batch: int, start: Any, done: Any) -> None:
    """One writer process: its events built first, then appended in batches once every writer is ready."""
    events = events_of(number, count)
    ledger = cl.Ledger.open(url)
    ledger.count()  # connected before the start
    start.wait()
    for i in range(0, len(events), batch):
        ledger.append_many(events[i:i + batch])
    ledger.close()
    done.put(number)


def prepare(url: str, writers: int) -> None:
    """A fresh ledger with the catalog and every writer's students enrolled."""
    with cl.Ledger.open(url, create=True) as ledger:
        ledger.load_catalog(cl.Catalog.sample())
        ledger.append_many(cl.Enrolled(event_id=f"{student(w, i)}-enrol", student_id=student(w, i),
                                       occurred_on=ENROL_DATE, institution=INSTITUTION, program=PROGRAM)
                           for w in range(writers) for i in range(STUDENTS_PER_WRITER))


def run(url: str, writers: int, events: int, batch: int) -> float:
    """Events per second of ``writers`` processes appending ``events`` between them to the ledger at ``url``."""
    prepare(url, writers)
    context = multiprocessing.get_context("fork")
    start, done = context.Event(), context.Queue()
    counts = [events // writers + (1 if w < events % writers else 0) for w in range(writers)]
    procs = [context.Process(target=writer, args=(url, w, counts[w], batch, start, done)) for w in range(writers)]
    for p in procs:
        p.start()
    time.sleep(0.5)  # every writer has built its events and connected
    t = time.perf_counter()
    start.set()
    for _ in procs:
        done.get(timeout=3600)
    seconds = time.perf_counter() - t
    for p in procs:
        p.join()
        if p.exitcode != 0:
            raise RuntimeError(f"a writer failed (exit code {p.exitcode})")
    with cl.Ledger.open(url) as ledger:
        report = ledger.verify()
        assert report.ok and ledger.count() == events + writers * STUDENTS_PER_WRITER, report
    return events / seconds


class PgServer:
    """Fresh databases on a PostgreSQL server, dropped after."""

    def __init__(self, url: str):
        self.url = make_url(url)
        self.made: list[str] = []

    def _admin(self) -> Any:
        import psycopg

        u = self.url
        return psycopg.connect(host=u.host, port=u.port, user=u.username, password=u.password,
                               dbname=u.database or "postgres", autocommit=True)

    def new(self, name: str) -> str:
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        self.made.append(name)
        return self.url.set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        with self._admin() as conn:
            for name in self.made:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    engines = [e for e in args.engines if e == "sqlite" or args.url]
    if "postgresql" in args.engines and not args.url:
        print("postgresql: skipped (no --url and no $CREDIT_LEDGER_TEST_PG_URL)")
    workdir = tempfile.mkdtemp(prefix="credit_ledger_writers_")
    server = PgServer(args.url) if "postgresql" in engines else None
    figures: list[str] = []
    print(f"{args.events:,} CourseCompleted events per run, {os.cpu_count()} cores; credit_ledger {cl.__version__}")
    try:
        n = 0
        for engine in engines:
            for batch in args.batch:
                for writers in args.writers:
                    n += 1
                    if engine == "sqlite":
                        url = os.path.join(workdir, f"writers_{n}.db")
                    else:
                        assert server is not None
                        url = server.new(f"cl_writers_{os.getpid()}_{n}")
                    rate = run(url, writers, args.events, batch)
                    print(f"{engine}, {writers} writer{'s' if writers > 1 else ''}, batches of {batch}: "
                          f"{rate:,.0f} events/s")
                    figures.append(f"{engine} {writers}w b{batch} {rate:.0f}/s")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if server is not None:
            server.drop_all()
    print("writers: " + ", ".join(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
