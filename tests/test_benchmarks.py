"""The benchmarks run (at a tiny size) and end with their figure line; no time is asserted."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from scripts import load_script

BENCH = Path(__file__).parent.parent / "benchmarks"


def _load(name: str):
    return load_script(BENCH / f"{name}.py")


def test_ingest_benchmark_runs_and_prints_its_ratio_last(tmp_path, capsys):
    _load("ingest").main(["--events", "3000", "--students", "200", "--batch", "1000", "--import-rows", "2000",
                          "--dir", str(tmp_path)])
    lines = capsys.readouterr().out.strip().splitlines()
    assert re.fullmatch(r"ingest ratio: \d+\.\d\d", lines[-1])
    assert re.fullmatch(r"import peak: [\d,]+ MiB", lines[-2])
    assert any(line.startswith("import: 2,000 CSV rows") and "2,000 events written" in line for line in lines)
    assert any(line.startswith("verify:") and "ok=True" in line for line in lines)


def test_audit_benchmark_runs_and_prints_its_rate_last(tmp_path, capsys):
    _load("audit").main(["--students", "40", "--workers", "2", "--chunk", "10", "--db", str(tmp_path / "province.db")])
    lines = capsys.readouterr().out.strip().splitlines()
    assert re.fullmatch(r"audit rate: \d+/s", lines[-1])
    assert any(line.startswith("batch: 40 audits") for line in lines)
    assert any(line.startswith("per audit, one process, audit:") for line in lines)
    assert any(line.startswith("single audit, 160 records:") for line in lines)
    assert any(re.fullmatch(r"portal ratio: \d+\.\d\d", line) for line in lines)
    assert any(re.fullmatch(r"summary rate: \d+/s", line) for line in lines)
    assert any(re.fullmatch(r"refresh ratio: \d+\.\d", line) for line in lines)
    assert any(line.startswith("summary batch: 40 summaries") for line in lines)


def test_statements_benchmark_runs_and_prints_its_look_up_last(capsys):
    _load("statements").main(["--students", "60", "--received", "20", "--courses", "3", "--repeat", "2"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert re.fullmatch(r"receipt look-up: \d+\.\d\d ms", lines[-1])
    assert any(line.startswith("plan of the search:") for line in lines)


def test_writers_benchmark_runs_and_prints_every_figure_last(capsys):
    _load("writers").main(["--events", "12", "--writers", "1,2", "--batch", "3"])
    lines = capsys.readouterr().out.strip().splitlines()
    engines = ["sqlite"] + (["postgresql"] if os.environ.get("CREDIT_LEDGER_TEST_PG_URL") else [])
    assert re.fullmatch(r"writers: " + ", ".join(rf"{e} {w}w b3 \d+/s" for e in engines for w in (1, 2)), lines[-1])
    assert any(re.fullmatch(r"sqlite, 2 writers, batches of 3: [\d,]+ events/s", line) for line in lines)


def test_instructions_benchmark_audits_in_its_child_and_reads_callgrinds_count(tmp_path):
    """The run under callgrind takes minutes, so its two parts are tried here: the audits the counted child makes
    (on the audit benchmark's province, built small), and reading callgrind's count."""
    _load("audit").main(["--students", "30", "--workers", "1", "--db", str(tmp_path / "province.db")])
    instructions = _load("instructions")
    assert instructions.audit_first(str(tmp_path / "province.db"), 12) == 12
    assert instructions.audit_first(str(tmp_path / "province.db"), 0) == 0
    assert instructions.collected("==1== Events    : Ir\n==1== Collected : 4,446,308,912\n") == 4446308912
    with pytest.raises(RuntimeError):
        instructions.collected("valgrind: no such tool")
