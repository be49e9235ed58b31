"""Instructions per audit, counted by valgrind's callgrind: the figure a busy, shared machine does not move.

Timed rates on a shared machine wander by more than the differences worth judging (two runs of one tree differed
by 11%). The instructions the CPU executes for an audit do not depend on the load, so two trees are compared by
counting them: this runs the same script twice under ``valgrind --tool=callgrind``, once auditing the first
``--students`` students of a ledger (one process, ``workers=1``) and once auditing none, and divides the difference
by the students audited. Start-up (imports, opening the ledger, listing its students) cancels out.

Compare two trees on one ledger (each tree's ``credit_ledger`` first on ``PYTHONPATH``)::

    python benchmarks/audit.py --db province.db --students 50000     # build the province once
    PYTHONPATH=/path/to/tree-a python benchmarks/instructions.py --db province.db --students 300
    PYTHONPATH=/path/to/tree-b python benchmarks/instructions.py --db province.db --students 300

It prints last ``instructions per audit: N M``. Under callgrind Python runs about 50 times slower: 300 students of
the benchmark's province take some minutes.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from datetime import date

AS_OF = date(2027, 7, 1)
_COLLECTED = re.compile(r"Collected\s*:\s*([\d,]+)")


def audit_first(db: str, students: int, as_of: date = AS_OF) -> int:
    """Audit the first ``students`` students (in id order) of the ledger at ``db`` in this process; how many
    reports came back (a student with no enrolment on ``as_of`` has none)."""
    import credit_ledger as cl

    ledger = cl.Ledger.open(db)
    try:
        chosen = sorted(ledger.students())[:students]
        return sum(1 for _ in ledger.audit_all(chosen, as_of, workers=1))
    finally:
        ledger.close()


def collected(valgrind_output: str) -> int:
    """The instruction count callgrind reports at the end of a run (``==pid== Collected : 4,446,308,912``)."""
    found = _COLLECTED.findall(valgrind_output)
    if not found:
        raise RuntimeError("callgrind reported no instruction count:\n" + valgrind_output[-2000:])
    return int(found[-1].replace(",", ""))


def count(db: str, students: int, as_of: date) -> tuple[int, int]:
    """(instructions, reports) of a run of ``audit_first`` under callgrind."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    run = subprocess.run([valgrind, "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
                          os.path.abspath(__file__), "--child", "--db", db, "--students", str(students),
                          "--as-of", as_of.isoformat()], capture_output=True, text=True, check=False)
    if run.returncode != 0:
        raise SystemExit(f"the counted run failed:\n{run.stderr[-2000:]}")
    reports = int(run.stdout.strip().splitlines()[-1])
    return collected(run.stderr), reports


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, help="a ledger, e.g. the province benchmarks/audit.py --db keeps")
    parser.add_argument("--students", type=int, default=300)
    parser.add_argument("--as-of", type=date.fromisoformat, default=AS_OF)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(audit_first(args.db, args.students, args.as_of))
        return 0
    import credit_ledger

    print(f"credit_ledger from {os.path.dirname(credit_ledger.__file__)}")
    started = time.perf_counter()
    idle, _ = count(args.db, 0, args.as_of)
    busy, reports = count(args.db, args.students, args.as_of)
    print(f"start-up: {idle / 1e6:,.0f} M instructions; with {reports} audits: {busy / 1e6:,.0f} M "
          f"({time.perf_counter() - started:.0f} s under callgrind)")
    if reports == 0:
        raise SystemExit("no student of the ledger was enrolled on the day: nothing was audited")
    print(f"instructions per audit: {(busy - idle) / reports / 1e6:.2f} M")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
