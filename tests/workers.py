"""Writer processes for the concurrency and crash tests, run as ``python tests/workers.py COMMAND ...``.

``write URL WORKER``: one of several concurrent writers. Appends its share of ``writer_events(WORKER)`` (single
appends and batches of varying size), and prints one JSON line per event written: ``[event_id, seq, hash]``.

``import URL``: the importer of the crash test. Appends ``import_batches()`` one ``append_many`` each, from the
first (batches already in the ledger are re-appended: a no-op), and prints ``batch N`` after each commit.

The events are made here, deterministically, so the test process can compute the same lists.
"""

from __future__ import annotations

import json
import random
import sys
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import credit_ledger as cl  # noqa: E402

WORKERS = 4
EVENTS_PER_WORKER = 2500
OWN_STUDENTS = 40
"""Students only one writer writes for."""
SHARED_STUDENTS = 20
"""Students every writer writes for."""
SHARED_IDENTICAL = 100
"""Events every writer appends, identical: written once, the same receipt for all."""
COURSES = ("PUB101", "PUB102", "PUB103", "MECH101", "MECH102", "ELEC101", "CNC201", "CNC202", "PRA301", "EL101")
ENROLLED_ON = date(2025, 9, 1)
PROGRAM = ("HNJX", "CNC-SR-2025")


def student_ids() -> list[str]:
    """Every student the writers write for (enrolled by the test first)."""
    own = [f"W{w}-S{i:03d}" for w in range(WORKERS) for i in range(OWN_STUDENTS)]
    return own + [f"SH-{i:03d}" for i in range(SHARED_STUDENTS)]


def enrolments(students: list[str]) -> list[cl.Enrolled]:
    return [cl.Enrolled(event_id=f"{s}-enrol", student_id=s, occurred_on=ENROLLED_ON, institution=PROGRAM[0],
                        program=PROGRAM[1]) for s in students]


def _course(event_id: str, student: str, rng: random.Random) -> cl.CourseCompleted:
    day = ENROLLED_ON + timedelta(days=rng.randrange(1, 600))
    return cl.CourseCompleted(event_id=event_id, student_id=student, occurred_on=day, institution=PROGRAM[0],
                              course=rng.choice(COURSES), grade=rng.randint(40, 100))


def shared_identical() -> list[cl.CourseCompleted]:
    rng = random.Random(7)
    return [_course(f"SHARED-{i:04d}", f"SH-{i % SHARED_STUDENTS:03d}", rng) for i in range(SHARED_IDENTICAL)]


def writer_events(worker: int) -> list[cl.CourseCompleted]:
    """The 2,500 events of one writer: its own, the shared students', and the identical shared ones."""
    rng = random.Random(1000 + worker)
    own = [f"W{worker}-S{i:03d}" for i in range(OWN_STUDENTS)]
    shared = [f"SH-{i:03d}" for i in range(SHARED_STUDENTS)]
    mine = [_course(f"W{worker}-E{i:05d}", rng.choice(own if rng.random() < 0.6 else shared), rng)
            for i in range(EVENTS_PER_WORKER - SHARED_IDENTICAL)]
    events = mine + shared_identical()
    rng.shuffle(events)
    return events


def write(url: str, worker: int) -> None:
    rng = random.Random(worker)
    events = writer_events(worker)
    with cl.Ledger.open(url) as ledger:
        i = 0
        while i < len(events):
            size = rng.choice((1, 1, 5, 20, 80))
            chunk = events[i:i + size]
            receipts = [ledger.append(chunk[0])] if size == 1 else list(ledger.append_many(chunk))
            for r in receipts:
                print(json.dumps([r.event_id, r.seq, r.event_hash]), flush=False)
            i += size
    sys.stdout.flush()


IMPORT_BATCHES = 40
IMPORT_BATCH_SIZE = 300
IMPORT_STUDENTS = 300


def import_batches() -> list[list[object]]:
    """The importer's batches: the enrolments first, then course completions."""
    rng = random.Random(42)
    students = [f"IMP-{i:04d}" for i in range(IMPORT_STUDENTS)]
    batches: list[list[object]] = [list(enrolments(students))]
    for b in range(1, IMPORT_BATCHES):
        batches.append([_course(f"IMP-B{b:02d}-{k:03d}", rng.choice(students), rng) for k in range(IMPORT_BATCH_SIZE)])
    return batches


def run_import(url: str) -> None:
    with cl.Ledger.open(url) as ledger:
        for n, batch in enumerate(import_batches()):
            ledger.append_many(batch)
            print(f"batch {n}", flush=True)


if __name__ == "__main__":
    command, url = sys.argv[1], sys.argv[2]
    if command == "write":
        write(url, int(sys.argv[3]))
    elif command == "import":
        run_import(url)
    else:
        sys.exit(f"unknown command {command}")
