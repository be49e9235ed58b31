"""Concurrent writers and crash safety, on both engines, with real processes (``tests/workers.py``).

Concurrent writers: 4 processes x 2,500 events into one ledger at once, a third of them for students every process
writes for, and 100 identical events every process appends. Afterwards the ledger holds exactly the events the
processes reported written (each once, at the seq and hash reported), every identical event once with the same
receipt for all, and ``verify()`` passes (every student's chain is linear).

Crash safety: an importer appending batches is killed with SIGKILL at random moments (3 times per engine in
``make test``, 10 in ``make test-deep``). After each kill the ledger verifies and holds only whole batches; in the
end, one more run finishes the import with every event present exactly once.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path


import credit_ledger as cl
import workers as w
from conftest import DEEP

WORKER_SCRIPT = Path(__file__).with_name("workers.py")
KILLS = 10 if DEEP else 3


def _spawn(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(WORKER_SCRIPT), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_concurrent_writers_lose_nothing_and_write_nothing_twice(ledger_url, catalog, engine):
    students = w.student_ids()
    with cl.Ledger.open(ledger_url, create=True) as ledger:
        ledger.load_catalog(catalog)
        ledger.append_many(w.enrolments(students))
        base = ledger.count()
    procs = [_spawn("write", ledger_url, str(k)) for k in range(w.WORKERS)]
    reported: dict[str, set[tuple[int, str]]] = {}
    for k, proc in enumerate(procs):
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, f"writer {k} failed:\n{err[-3000:]}"
        lines = out.splitlines()
        assert len(lines) == w.EVENTS_PER_WORKER, (k, len(lines))
        for line in lines:
            event_id, seq, event_hash = json.loads(line)
            reported.setdefault(event_id, set()).add((seq, event_hash))

    expected_ids = {e.event_id for k in range(w.WORKERS) for e in w.writer_events(k)}
    assert set(reported) == expected_ids
    assert all(len(receipts) == 1 for receipts in reported.values()), "an event has two receipts"
    with cl.Ledger.open(ledger_url) as ledger:
        report = ledger.verify()
        assert report.ok, report
        written = ledger.count() - base
        assert written == len(expected_ids) == w.WORKERS * (w.EVENTS_PER_WORKER - w.SHARED_IDENTICAL) + \
            w.SHARED_IDENTICAL
        stored = {}
        for student in students:
            for e in ledger.events(student):
                assert e.event_id not in stored, f"{e.event_id} is stored twice"
                stored[e.event_id] = e
        assert set(stored) - {e.event_id for e in w.enrolments(students)} == expected_ids
        seqs = {seq for receipts in reported.values() for seq, _ in receipts}
        assert len(seqs) == len(expected_ids)  # no two events were given one seq
        # the receipts match the rows: re-appending returns them again
        sample = [stored[i] for i in sorted(expected_ids)[::97]]
        again = ledger.append_many(sample)
        assert [(r.seq, r.event_hash) for r in again] == [next(iter(reported[e.event_id])) for e in sample]
    print(f"\nconcurrency [{engine}]: {w.WORKERS} writers, {written} events written, verify ok")


def _present(ledger: cl.Ledger, batches: list[list[object]]) -> list[int]:
    """How many events of each batch the ledger holds."""
    students = sorted({e.student_id for batch in batches for e in batch})
    stored = {e.event_id for s in students for e in ledger.events(s)}
    return [sum(e.event_id in stored for e in batch) for batch in batches]


def test_an_importer_killed_at_random_moments_leaves_whole_batches(ledger_url, catalog, engine):
    batches = w.import_batches()
    with cl.Ledger.open(ledger_url, create=True) as ledger:
        ledger.load_catalog(catalog)
    rng = random.Random(f"kills-{engine}")
    kills = attempts = mid_import = whole_batches = 0
    while kills < KILLS and attempts < 3 * KILLS:  # an importer that finished before its kill does not count
        attempts += 1
        proc = _spawn("import", ledger_url)
        # kill it while it writes new batches: a moment after it reports one of the first batches not yet stored
        target = min(len(batches) - 2, whole_batches + rng.randrange(2))
        done = -1
        while done < target:  # wait for the importer to report batch `target`, then kill it a moment later
            line = proc.stdout.readline()
            if not line:
                break
            done = int(line.split()[1])
        time.sleep(rng.uniform(0, 0.01))
        finished = proc.poll() is not None
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
        assert finished or proc.returncode == -signal.SIGKILL
        kills += not finished
        with cl.Ledger.open(ledger_url) as ledger:
            report = ledger.verify()
            assert report.ok, report
            present = _present(ledger, batches)
            assert all(n in (0, len(b)) for n, b in zip(present, batches)), present  # whole batches only
            whole = [n == len(b) for n, b in zip(present, batches)]
            assert whole == sorted(whole, reverse=True), whole  # and they are the first ones, in order
            whole_batches = sum(whole)
            mid_import += 0 < whole_batches < len(batches)
            assert ledger.count() == sum(present)
    proc = _spawn("import", ledger_url)
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err[-3000:]
    with cl.Ledger.open(ledger_url) as ledger:
        assert ledger.verify().ok
        assert _present(ledger, batches) == [len(b) for b in batches]
        assert ledger.count() == sum(len(b) for b in batches)  # every event exactly once
    assert kills == KILLS
    print(f"\ncrash [{engine}]: {kills} kills survived ({mid_import} left the import part-done), then the import "
          "finished with every event once")
