"""Ctrl-C: the command says in one line what it had committed, exits 130, and the ledger holds exactly that.

An import that is all or nothing has committed nothing when it is stopped; with ``--skip-bad`` each batch before the
interruption is committed (and importing the file again writes only the rest). The interruption is made where a
real one lands: inside a write transaction, the second batch's.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from credit_ledger import Ledger
from credit_ledger.cli import app
from credit_ledger.ledger import WriteSession

runner = CliRunner()

ROWS = 7
HEADER = "kind,event_id,student_id,occurred_on,institution,program,mode,course,grade\n"
COURSES = ("PUB101", "MT101", "MT102", "PUB102", "PUB103", "MT103")


def _file(tmp_path) -> str:
    lines = [HEADER, "enrolled,s1-enrol,S1,2024/9/1,HNJX,MECH-PT-2024,part_time,,\n"]
    lines += [f"course_completed,s1-c{i},S1,2025/1/{10 + i},HNJX,,,{c},80\n" for i, c in enumerate(COURSES)]
    path = tmp_path / "grades.csv"
    path.write_text("".join(lines), encoding="utf-8")
    return str(path)


def _ledger(tmp_path) -> str:
    db = str(tmp_path / "records.db")
    assert runner.invoke(app, ["init", "--db", db, "--sample"]).exit_code == 0
    return db


def _interrupt_at_batch(monkeypatch, n: int) -> None:
    """Ctrl-C arrives while the ``n``-th batch is being written."""
    original = WriteSession.append_many
    calls = {"n": 0}

    def append_many(self, events):
        calls["n"] += 1
        if calls["n"] == n:
            raise KeyboardInterrupt
        return original(self, events)

    monkeypatch.setattr(WriteSession, "append_many", append_many)


def _events(db: str) -> int:
    with Ledger.open(db) as ledger:
        return ledger.count()


@pytest.mark.parametrize("skip_bad", [False, True])
def test_an_interrupted_import_says_what_it_committed(tmp_path, monkeypatch, skip_bad):
    db, file = _ledger(tmp_path), _file(tmp_path)
    _interrupt_at_batch(monkeypatch, 2)
    result = runner.invoke(app, ["import", file, "--db", db, "--batch", "3"] + (["--skip-bad"] if skip_bad else []))
    assert result.exit_code == 130, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("interrupted: "), result.stderr
    if skip_bad:  # the first batch was committed on its own
        assert "3 events had been committed" in lines[0] and "writes only what is missing" in lines[0]
        assert _events(db) == 3
    else:  # one transaction: rolled back
        assert "nothing was written" in lines[0] and "all or nothing" in lines[0]
        assert _events(db) == 0
    monkeypatch.undo()
    again = runner.invoke(app, ["import", file, "--db", db])
    assert again.exit_code == 0, again.output
    assert f"{ROWS - (3 if skip_bad else 0)} events written" in again.stdout
    assert _events(db) == ROWS


def test_an_interrupted_read_says_nothing_was_written(tmp_path, monkeypatch):
    db = _ledger(tmp_path)
    assert runner.invoke(app, ["import", _file(tmp_path), "--db", db]).exit_code == 0

    def stopped(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(Ledger, "transcript", stopped)
    result = runner.invoke(app, ["transcript", "S1", "--db", db])
    assert result.exit_code == 130
    assert result.stderr.strip() == "interrupted: nothing was written to the ledger"


def test_a_real_sigint_inside_the_write(tmp_path, request):
    """A real SIGINT, delivered while the second batch is in its transaction, through the console script's
    ``main``: one line, exit 130, and the first batch (committed with --skip-bad) is all the ledger holds."""
    db, file = _ledger(tmp_path), _file(tmp_path)
    script = (
        "import os, signal, sys\n"
        "from credit_ledger.ledger import WriteSession\n"
        "from credit_ledger import cli\n"
        "original = WriteSession.append_many\n"
        "calls = []\n"
        "def append_many(self, events):\n"
        "    calls.append(1)\n"
        "    if len(calls) == 2:\n"
        "        os.kill(os.getpid(), signal.SIGINT)\n"
        "    return original(self, events)\n"
        "WriteSession.append_many = append_many\n"
        f"sys.argv = ['credit-ledger', 'import', {file!r}, '--db', {db!r}, '--batch', '3', '--skip-bad']\n"
        "cli.main()\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(request.config.rootpath)})
    assert done.returncode == 130, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("interrupted: 3 events had been committed"), done.stderr
    assert _events(db) == 3
