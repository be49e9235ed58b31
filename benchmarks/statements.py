"""Statement receipts benchmark: how long finding the earlier receipt of a statement takes on a big ledger.

A statement, and the issuing school's student it names, are received for one student of a ledger only (issue 12).
Before it decides, ``receive_statement`` looks for an earlier receipt (``contexts.statement_receipts``), and every
append of recognised credit looks again in its write transaction. This builds a ledger of ``--students`` HNJX
students (an enrolment and ``--courses`` courses each; ``--received`` of them with a statement of XTJX received,
two ``CreditRecognized`` rows each) and times, per look-up (the median of ``--repeat``):

- ``search``: the look-up as the ledger makes it for one statement: the index on ``events (kind, recorded_by)``
  narrows to the recognition rows, and the database searches their JSON for the statement's two ids;
- ``read every recognition row``: what the look-up for a bulk import of many statements does instead (every
  recognition row read once and matched);
- ``scan every row``: the same search without the index's narrowing (every row of the ledger), for comparison;
- ``receive_statement``: a statement already received for another student, received again for a new student
  (``dry_run``: every item is ``duplicate_outcome``), end to end (verify the signature, read the record, decide).

It prints the query plan of the search, and last ``receipt look-up: X ms`` (the search).

    python benchmarks/statements.py [--students N] [--courses N] [--received N] [--repeat N] [--db PATH | --url URL]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, Callable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import credit_ledger as cl
from credit_ledger.contexts import RECEIPT_SEARCH_LIMIT, statement_receipts
from credit_ledger.statements import StatementResult, statement_keys

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
COURSES = ("PUB101", "PUB102", "PUB103", "PUB107", "MECH102", "CNC202", "CNC203", "PRA301", "EL101", "EL103",
           "ONL102", "PRA305", "ELEC101", "MT101", "MT102")
"""HNJX courses each student completes (CNC201 and MECH101 are left for recognition)."""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--students", type=int, default=5000, help="students in the ledger")
    p.add_argument("--courses", type=int, default=15, help="courses completed per student (at most 15)")
    p.add_argument("--received", type=int, default=2000, help="students with a received statement (2 rows each)")
    p.add_argument("--repeat", type=int, default=30, help="look-ups timed per measure (the median is printed)")
    p.add_argument("--db", default=None, help="a SQLite file to build (default: one in a temp dir, removed after)")
    p.add_argument("--url", default=None, help="an SQLAlchemy URL of an empty database instead (PostgreSQL)")
    args = p.parse_args(argv)
    if not (1 <= args.received <= args.students) or not 0 <= args.courses <= len(COURSES) or args.repeat < 1:
        p.error("need 1 <= --received <= --students, 0 <= --courses <= 15 and --repeat >= 1")
    return args


def build(ledger: cl.Ledger, students: int, courses: int, received: int) -> None:
    """Enrol the students, record their courses, and receive a statement of XTJX for the first ``received``."""
    batch: list[Any] = []

    def flush(force: bool = False) -> None:
        if batch and (force or len(batch) >= 5000):
            ledger.append_many(batch)
            batch.clear()

    for i in range(students):
        sid = f"H{i:06d}"
        batch.append(cl.Enrolled(event_id=f"{sid}-enrol", student_id=sid, occurred_on=date(2025, 9, 1),
                                 institution="HNJX", program="CNC-SR-2025"))
        for k, code in enumerate(COURSES[:courses]):
            batch.append(cl.CourseCompleted(event_id=f"{sid}-{code}", student_id=sid, occurred_on=date(2026, 1, 12),
                                            institution="HNJX", course=code, grade=60 + (i + k) % 40))
        if i < received:
            for source, target, credits in (("XT-CNC1", "CNC201", 6), ("XT-DRAW", "MECH101", 4)):
                batch.append(cl.CreditRecognized(
                    event_id=f"{sid}/recognized/XTJX/{source}", student_id=sid, occurred_on=date(2026, 3, 1),
                    source_institution="XTJX", source_course=source, source_credits=Decimal(credits),
                    source_grade=82, source_date=date(2025, 6, 30), target={"course": target},
                    credits=Decimal(credits), agreement_id="AGR-HN-MFG-2024", statement_id=f"XTJX-{i:06d}",
                    source_student_id=f"X{i:06d}"))
        flush()
    flush(force=True)


def statement_of(i: int) -> cl.TransferStatement:
    """The statement received for student ``H<i>`` (as XTJX issued it for its student ``X<i>``)."""
    results = tuple(StatementResult(course=c, title=c, category="core", credits=Decimal(n), grade=82,
                                    occurred_on=date(2025, 6, 30)) for c, n in (("XT-CNC1", 6), ("XT-DRAW", 4)))
    return cl.TransferStatement(statement_id=f"XTJX-{i:06d}", issuer="XTJX", student_id=f"X{i:06d}",
                                results=results, issued_at=datetime(2025, 7, 1, tzinfo=timezone.utc)).sign(KEY)


def timed(what: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """The median time of ``what`` in milliseconds, and its last answer."""
    times, answer = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        answer = what()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), answer


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = None
    if args.url is None and args.db is None:
        workdir = tempfile.mkdtemp(prefix="credit_ledger_statements_")
    url = args.url or args.db or os.path.join(workdir or ".", "statements.db")
    try:
        ledger = cl.Ledger.open(url, create=True)
        ledger.load_catalog(cl.Catalog.sample())
        t = time.perf_counter()
        build(ledger, args.students, args.courses, args.received)
        store = ledger._store  # the benchmark times the storage look-up itself
        with store.read() as conn:
            rows = store.count(conn)
            recognitions = len(store.rows_of_kind(conn, "credit_recognized"))
        print(f"ledger: {ledger.url}, {args.students:,} students, {rows:,} rows, {recognitions:,} recognition rows "
              f"(built in {time.perf_counter() - t:.1f} s)")

        middle = args.received // 2
        keys = set(statement_keys(statement_of(middle)))
        fresh = {("statement", "XTJX", "XTJX-NEW"), ("student", "XTJX", "X-NEW")}

        def search(wanted: set = keys) -> Any:
            with store.read() as conn:
                return statement_receipts(store, conn, wanted)

        many = {("statement", "XTJX", f"XTJX-NEW-{n}") for n in range(RECEIPT_SEARCH_LIMIT)} | keys

        def read_all() -> Any:
            with store.read() as conn:
                return statement_receipts(store, conn, many)

        p = store._param
        contains = "instr(payload, {p}) > 0" if store.dialect == "sqlite" else "strpos(payload, {p}) > 0"
        contains = contains.format(p=p)
        needle = f'"statement_id":"XTJX-{middle:06d}"'

        def scan_every_row() -> Any:
            with store.read() as conn:
                return conn.exec_driver_sql(f"SELECT student_id FROM events WHERE {contains}", (needle,)).fetchall()

        with store.read() as conn:
            explain = "EXPLAIN QUERY PLAN " if store.dialect == "sqlite" else "EXPLAIN "
            plan = conn.exec_driver_sql(
                f"{explain}SELECT student_id, seq, recorded_by, payload FROM events WHERE kind = {p} AND "
                f"({contains} OR {contains})", ("credit_recognized", needle, needle)).fetchall()
        print("plan of the search: " + " | ".join(str(r[-1] if store.dialect == "sqlite" else r[0]) for r in plan))

        found_ms, found = timed(search, args.repeat)
        assert {student for student, _ in found.values()} == {f"H{middle:06d}"}, found
        fresh_ms, none = timed(lambda: search(fresh), args.repeat)
        assert none == {}
        all_ms, many_found = timed(read_all, max(3, args.repeat // 5))
        assert many_found == found, many_found
        scan_ms, hits = timed(scan_every_row, max(3, args.repeat // 5))
        assert len(hits) == 2
        newcomer = f"H{args.students - 1:06d}"  # enrolled, no statement received
        statement = statement_of(middle).to_json()
        receive_ms, result = timed(lambda: ledger.receive_statement(
            statement, trusted_keys={"XTJX": cl.public_key_hex(KEY)}, student_id=newcomer, as_of=date(2026, 3, 2),
            dry_run=True), max(3, args.repeat // 5))
        assert {d.code for d in result.decisions} == {"duplicate_outcome"}, result
        print(f"search, statement received before: {found_ms:.2f} ms")
        print(f"search, statement never received: {fresh_ms:.2f} ms")
        print(f"read every recognition row: {all_ms:.2f} ms")
        print(f"scan every row (no index): {scan_ms:.2f} ms")
        print(f"receive_statement, received before for another student (dry run): {receive_ms:.2f} ms")
        print(f"receipt look-up: {found_ms:.2f} ms")
        ledger.close()
    finally:
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
