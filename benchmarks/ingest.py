"""Ingest benchmark: ``append_many`` against a bare ``sqlite3.executemany`` baseline, in the same run.

1,000,000 ``CourseCompleted`` events (by default) for 50,000 students enrolled in HNJX's CNC-SR-2025 go into a fresh
ledger through ``Ledger.append_many`` in batches. The same rows also go, through raw ``sqlite3.executemany``, into a
bare table with the columns and types of the ledger's ``events`` table (primary key on ``seq``; no other index, no
trigger), in WAL mode with ``synchronous=FULL`` like the ledger, one transaction per batch like the ledger.

Batches are generated lazily (never all events at once) and alternate: the ledger appends a batch, then the raw
baseline inserts the same batch. Only ``append_many`` is timed for the ledger (building the models is the caller's
cost, reported separately as generation time); only ``executemany`` + ``commit`` are timed for the baseline
(building its row tuples is untimed). The last line is ``ingest ratio: X`` = ledger time / raw time. The machine is
shared and noisy: the ratio, measured against a baseline in the same process, is the figure that counts.

Then a file import: a CSV of ``--import-rows`` rows (500,000 by default: an enrolment per student, then course
completions) goes through ``import_events`` into a fresh SQLite ledger in a child process, and the line before the
ratio is ``import peak: N MiB``, that child's peak resident memory (``ru_maxrss`` of ``RUSAGE_CHILDREN``, read in a
fresh process that runs only the import as its child).

    python benchmarks/ingest.py [--events N] [--students N] [--batch N] [--import-rows N] [--dir DIR] [--url URL]
                                [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import os
import pstats
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from typing import Iterator

from sqlalchemy.dialects import sqlite as sqlite_dialect

import credit_ledger as cl
from credit_ledger.storage import EVENT_COLUMNS, EventRow

INSTITUTION = "HNJX"
PROGRAM = "CNC-SR-2025"
ENROL_DATE = date(2024, 9, 1)
FIRST_DAY = date(2024, 9, 2)
LAST_DAY = date(2027, 6, 30)
FIVE_LEVEL = ("优", "良", "中", "及格", "不及格", "excellent", "good")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--events", type=int, default=1_000_000, help="CourseCompleted events to ingest")
    p.add_argument("--students", type=int, default=50_000, help="students enrolled first")
    p.add_argument("--batch", type=int, default=10_000, help="events per append_many / executemany")
    p.add_argument("--dir", default=None, help="where to put the files (default: a temp dir, removed after)")
    p.add_argument("--url", default=None, help="SQLAlchemy URL for the ledger part instead of a fresh SQLite file "
                   "(must be an empty database; the raw baseline stays on SQLite)")
    p.add_argument("--seed", type=int, default=20240901, help="random seed")
    p.add_argument("--profile", action="store_true", help="cProfile the ledger appends; top functions to stderr")
    p.add_argument("--import-rows", type=int, default=500_000, help="rows of the CSV imported through import_events "
                   "in a child process, for its peak memory (0: no import)")
    args = p.parse_args(argv)
    if args.events < 0 or args.students < 1 or args.batch < 1 or args.import_rows < 0:
        p.error("--events and --import-rows must be >= 0, --students and --batch >= 1")
    return args


def student_id(i: int) -> str:
    return f"S{i:06d}"


def enrolments(students: int, batch: int) -> Iterator[list[cl.Enrolled]]:
    for start in range(0, students, batch):
        yield [cl.Enrolled(event_id=f"{student_id(i)}-enrol", student_id=student_id(i), occurred_on=ENROL_DATE,
                           institution=INSTITUTION, program=PROGRAM, mode="full_time")
               for i in range(start, min(start + batch, students))]


def home_courses(catalog: cl.Catalog) -> list[str]:
    """HNJX's courses (every one in the catalog from the first day of study)."""
    codes = sorted({c.code for c in catalog.courses if c.institution == INSTITUTION})
    return [c for c in codes if catalog.course(INSTITUTION, c, FIRST_DAY) is not None]


def term_of(day: date) -> str:
    """The school term of a day, e.g. ``2024-2025-1`` (autumn) or ``2024-2025-2`` (spring)."""
    if day.month >= 9:
        return f"{day.year}-{day.year + 1}-1"
    if day.month >= 2:
        return f"{day.year - 1}-{day.year}-2"
    return f"{day.year - 1}-{day.year}-1"


def completions(events: int, students: int, batch: int, courses: list[str], seed: int
                ) -> Iterator[list[cl.CourseCompleted]]:
    """Batches of CourseCompleted events for random students, built lazily (one batch alive at a time).

    Grades: ~65% percent scores, ~35% five-level words. Attempts: ~90% regular, ~10% retake; no make-ups (a
    make-up is limited to one per student and course, and is not what bulk ingest looks like).
    """
    rng = random.Random(seed)
    days = [FIRST_DAY + timedelta(days=n) for n in range((LAST_DAY - FIRST_DAY).days + 1)]
    terms = {d: term_of(d) for d in days}
    made = 0
    while made < events:
        n = min(batch, events - made)
        out = []
        for k in range(made, made + n):
            day = rng.choice(days)
            grade: int | str = rng.randint(40, 100) if rng.random() < 0.65 else rng.choice(FIVE_LEVEL)
            out.append(cl.CourseCompleted(
                event_id=f"cc-{k:08d}", student_id=student_id(rng.randrange(students)), occurred_on=day,
                institution=INSTITUTION, course=rng.choice(courses), grade=grade,
                attempt="retake" if rng.random() < 0.10 else "regular", term=terms[day]))
        made += n
        yield out


# -- the raw baseline --------------------------------------------------------------------------------------------------


def raw_ddl() -> str:
    """``CREATE TABLE`` for a bare table with the ledger's event columns and types, a primary key on seq only."""
    table = EventRow.__table__  # type: ignore[attr-defined]
    dialect = sqlite_dialect.dialect()
    cols = []
    for name in EVENT_COLUMNS:
        col = table.c[name]
        cols.append(f"{name} {col.type.compile(dialect=dialect)}{'' if col.nullable else ' NOT NULL'}")
    return f"CREATE TABLE raw_events ({', '.join(cols)}, PRIMARY KEY (seq))"


class RawBaseline:
    """The bare table, default sqlite3 settings except WAL and synchronous=FULL (as the ledger)."""

    def __init__(self, path: str):
        self.conn = sqlite3.connect(path)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.execute(raw_ddl())
        self.conn.commit()
        self.sql = f"INSERT INTO raw_events ({', '.join(EVENT_COLUMNS)}) VALUES ({', '.join('?' * len(EVENT_COLUMNS))})"
        self.seq = 0
        self.heads: dict[str, tuple[int, str]] = {}

    def rows(self, events: list, subject_of) -> list[tuple]:  # noqa: ANN001
        """Row tuples as the ledger writes them (untimed): the JSON payload with ``recorded_by`` stamped as the ledger
        stamps it, per-student seq, sha256 chain hashes."""
        recorded_at = datetime.now(timezone.utc).isoformat(timespec="microseconds")
        out = []
        for e in events:
            payload = e.model_copy(update={"recorded_by": INSTITUTION}).model_dump_json()
            n, prev = self.heads.get(e.student_id, (0, "0" * 64))
            h = hashlib.sha256(f"{prev}\n{n + 1}\n{recorded_at}\n{payload}".encode()).hexdigest()
            self.heads[e.student_id] = (n + 1, h)
            self.seq += 1
            out.append((self.seq, e.event_id, e.student_id, n + 1, e.kind, e.occurred_on.isoformat(), subject_of(e),
                        INSTITUTION, recorded_at, payload, prev, h))
        return out

    def insert(self, rows: list[tuple]) -> float:
        """executemany + commit, one transaction; returns the seconds taken."""
        t = time.perf_counter()
        self.conn.executemany(self.sql, rows)
        self.conn.commit()
        return time.perf_counter() - t

    def close(self) -> None:
        self.conn.close()


# -- the file import, in a child process ------------------------------------------------------------------------------


def write_import_file(path: str, rows: int, students: int, courses: list[str], seed: int) -> None:
    """A CSV of ``rows`` rows in the default layout: an enrolment per student (at most ``rows``), then course
    completions of random students, written line by line (never all in memory)."""
    rng = random.Random(seed)
    students = min(students, rows)
    days = [FIRST_DAY + timedelta(days=n) for n in range((LAST_DAY - FIRST_DAY).days + 1)]
    dated = [(d.isoformat(), term_of(d)) for d in days]
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write("kind,event_id,student_id,occurred_on,institution,program,mode,course,grade,attempt,term\n")
        for i in range(students):
            out.write(f"enrolled,{student_id(i)}-enrol,{student_id(i)},{ENROL_DATE.isoformat()},{INSTITUTION},"
                      f"{PROGRAM},full_time,,,,\n")
        for k in range(rows - students):
            day, term = rng.choice(dated)
            grade = rng.randint(40, 100) if rng.random() < 0.65 else rng.choice(FIVE_LEVEL)
            attempt = "retake" if rng.random() < 0.10 else "regular"
            out.write(f"course_completed,imp-{k:08d},{student_id(rng.randrange(students))},{day},{INSTITUTION},,,"
                      f"{rng.choice(courses)},{grade},{attempt},{term}\n")


def import_child(csv_path: str, db_path: str) -> None:
    """The import itself (the child process): a fresh ledger, the sample catalog, ``import_events`` of the file."""
    ledger = cl.Ledger.open(db_path, create=True)
    ledger.load_catalog(cl.Catalog.sample())
    t = time.perf_counter()
    result = cl.import_events(ledger, csv_path)
    seconds = time.perf_counter() - t
    print(f"{result.read} {result.written} {seconds:.3f}")
    ledger.close()


def import_peak(csv_path: str, db_path: str) -> None:
    """Run ``import_child`` as this (fresh) process's only child; print its output and its peak RSS in KiB."""
    child = subprocess.run([sys.executable, __file__, "--import-child", csv_path, db_path], check=True,
                           capture_output=True, text=True)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(child.stdout.strip(), peak // 1024 if sys.platform == "darwin" else peak)


def measure_import(workdir: str, rows: int, students: int, courses: list[str], seed: int) -> tuple[float, float, int]:
    """``(peak MiB, seconds, rows written)`` of importing a ``rows``-row CSV through ``import_events``."""
    csv_path = os.path.join(workdir, "import.csv")
    db_path = os.path.join(workdir, "import_ledger.db")
    write_import_file(csv_path, rows, students, courses, seed)
    root = os.path.dirname(os.path.dirname(os.path.abspath(cl.__file__)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])))
    out = subprocess.run([sys.executable, __file__, "--import-peak", csv_path, db_path], check=True,
                         capture_output=True, text=True, env=env).stdout.split()
    read, written, seconds, peak_kib = int(out[0]), int(out[1]), float(out[2]), int(out[3])
    assert read == rows, (read, rows)
    return peak_kib / 1024, seconds, written


# -- the run -----------------------------------------------------------------------------------------------------------


def source_fingerprint() -> str:
    """A short sha256 over credit_ledger's .py sources, to tell which version of the code a run measured."""
    root = os.path.dirname(cl.__file__)
    h = hashlib.sha256()
    for name in sorted(os.listdir(root)):
        if name.endswith(".py"):
            with open(os.path.join(root, name), "rb") as f:
                h.update(name.encode() + b"\0" + f.read())
    return h.hexdigest()[:12]


def peak_mb() -> float:
    """The process's peak resident set (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def file_size(path: str) -> str:
    """The database file's size, and its WAL's (not yet checkpointed into it)."""
    db, wal = (os.path.getsize(p) if os.path.exists(p) else 0 for p in (path, path + "-wal"))
    return f"{(db + wal) / 1e6:,.1f} MB (file {db / 1e6:,.1f} MB + WAL {wal / 1e6:,.1f} MB)"


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:,.0f}" if seconds > 0 else "inf"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    fingerprint = source_fingerprint()
    workdir = args.dir or tempfile.mkdtemp(prefix="credit_ledger_bench_")
    os.makedirs(workdir, exist_ok=True)
    ledger_path = os.path.join(workdir, "ingest_ledger.db")
    raw_path = os.path.join(workdir, "ingest_raw.db")
    for p in (ledger_path, raw_path):
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(p + suffix):
                os.remove(p + suffix)
    profiler = cProfile.Profile() if args.profile else None
    try:
        ledger = cl.Ledger.open(args.url or ledger_path, create=True)
        ledger.load_catalog(cl.Catalog.sample())
        raw = RawBaseline(raw_path)
        courses = home_courses(ledger.catalog)
        print(f"ledger: {ledger.url} (credit_ledger {cl.__version__}, sources sha256 {fingerprint})")
        print(f"raw baseline: sqlite3 {raw_path} (sqlite {sqlite3.sqlite_version})")
        print(f"events: {args.events:,} CourseCompleted for {args.students:,} students, batches of {args.batch:,}, "
              f"{len(courses)} {INSTITUTION} courses")

        def subject(e) -> str:  # noqa: ANN001
            return f"{e.institution}/{e.course}" if e.kind == "course_completed" else None

        # (1) enrolments: timed on their own; the raw table gets the same rows untimed, so both start level.
        enrol_time = 0.0
        for chunk in enrolments(args.students, args.batch):
            t = time.perf_counter()
            ledger.append_many(chunk)
            enrol_time += time.perf_counter() - t
            raw.insert(raw.rows(chunk, lambda e: None))
        print(f"enrol: {args.students:,} Enrolled in {enrol_time:.2f} s ({rate(args.students, enrol_time)} events/s)")

        # (2)+(3) the completions, batch by batch: ledger append, then raw insert of the same batch.
        gen_time = ledger_time = raw_time = raw_build_time = 0.0
        batches = completions(args.events, args.students, args.batch, courses, args.seed)
        done = batch_no = 0
        report_every = max(1, (args.events // args.batch) // 10)
        while True:
            t = time.perf_counter()
            chunk = next(batches, None)
            gen_time += time.perf_counter() - t
            if chunk is None:
                break
            batch_no += 1
            if profiler is not None:
                profiler.enable()
            t = time.perf_counter()
            ledger.append_many(chunk)
            ledger_time += time.perf_counter() - t
            if profiler is not None:
                profiler.disable()
            t = time.perf_counter()
            rows = raw.rows(chunk, subject)
            raw_build_time += time.perf_counter() - t
            raw_time += raw.insert(rows)
            done += len(chunk)
            del chunk, rows  # one batch alive at a time
            if batch_no % report_every == 0:
                print(f"  ... {done:,} events: ledger {ledger_time:.1f} s, raw {raw_time:.1f} s", file=sys.stderr)
        raw.close()

        print(f"generation (models, untimed in the ledger figure): {gen_time:.2f} s; raw row tuples: "
              f"{raw_build_time:.2f} s")
        print(f"ledger: {done:,} events in {ledger_time:.2f} s ({rate(done, ledger_time)} events/s)")
        print(f"raw:    {done:,} rows in {raw_time:.2f} s ({rate(done, raw_time)} rows/s)")
        print(f"peak memory (process peak RSS, whole run): {peak_mb():,.0f} MB")
        if args.url:
            print("ledger file size: n/a (--url)")
        else:
            print(f"ledger file size: {file_size(ledger_path)}; raw: {file_size(raw_path)}")

        t = time.perf_counter()
        report = ledger.verify()
        verify_time = time.perf_counter() - t
        print(f"verify: {verify_time:.2f} s, ok={report.ok}, checked={report.checked:,}"
              + ("" if report.ok else f", first_bad_seq={report.first_bad_seq}: {report.reason}"))
        ledger.close()

        if profiler is not None:
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out)
            stats.sort_stats("cumulative").print_stats(25)
            out.write("\n--- credit_ledger functions only (cumulative) ---\n")
            stats.print_stats(r"credit_ledger", 25)
            out.write("\n--- top 25 by own time (tottime) ---\n")
            stats.sort_stats("tottime").print_stats(25)
            print(out.getvalue(), file=sys.stderr)

        if args.import_rows:
            peak, seconds, written = measure_import(workdir, args.import_rows, args.students, courses, args.seed)
            print(f"import: {args.import_rows:,} CSV rows through import_events in {seconds:.2f} s "
                  f"({rate(args.import_rows, seconds)} rows/s), {written:,} events written")
            print(f"import peak: {peak:,.0f} MiB")

        ratio = ledger_time / raw_time if raw_time > 0 else float("inf")
        print(f"ingest ratio: {ratio:.2f}")
        return 0 if report.ok else 1
    finally:
        if args.dir is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--import-child"]:
        import_child(*sys.argv[2:4])
    elif sys.argv[1:2] == ["--import-peak"]:
        import_peak(*sys.argv[2:4])
    else:
        sys.exit(main())
