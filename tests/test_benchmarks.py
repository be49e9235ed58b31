"""The benchmarks run (at a tiny size) and end with their figure line; no time is asserted."""

from __future__ import annotations

import re
from pathlib import Path

from scripts import load_script

BENCH = Path(__file__).parent.parent / "benchmarks"


def _load(name: str):
    return load_script(BENCH / f"{name}.py")


def test_ingest_benchmark_runs_and_prints_its_ratio_last(tmp_path, capsys):
    _load("ingest").main(["--events", "3000", "--students", "200", "--batch", "1000", "--dir", str(tmp_path)])
    lines = capsys.readouterr().out.strip().splitlines()
    assert re.fullmatch(r"ingest ratio: \d+\.\d\d", lines[-1])
    assert any(line.startswith("verify:") and "ok=True" in line for line in lines)


def test_audit_benchmark_runs_and_prints_its_rate_last(tmp_path, capsys):
    _load("audit").main(["--students", "40", "--workers", "2", "--chunk", "10", "--db", str(tmp_path / "province.db")])
    lines = capsys.readouterr().out.strip().splitlines()
    assert re.fullmatch(r"audit rate: \d+/s", lines[-1])
    assert any(line.startswith("batch: 40 audits") for line in lines)
    assert any(line.startswith("per audit, one process, audit:") for line in lines)
    assert any(line.startswith("single audit, 160 records:") for line in lines)
    assert any(re.fullmatch(r"summary rate: \d+/s", line) for line in lines)
    assert any(re.fullmatch(r"refresh ratio: \d+\.\d", line) for line in lines)
    assert any(line.startswith("summary batch: 40 summaries") for line in lines)


def test_statements_benchmark_runs_and_prints_its_look_up_last(capsys):
    _load("statements").main(["--students", "60", "--received", "20", "--courses", "3", "--repeat", "2"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert re.fullmatch(r"receipt look-up: \d+\.\d\d ms", lines[-1])
    assert any(line.startswith("plan of the search:") for line in lines)
