"""Every script in examples/ runs with main(db_url=...) and reports no errors; so does the demo. An example that
makes frames or pictures needs the ``notebook`` extra, and skips without it."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

import credit_ledger as cl
from credit_ledger import demo
from notebook_extra import needs_notebook
from scripts import load_script

EXAMPLES = sorted((Path(__file__).parent.parent / "examples").glob("*.py"))
NOTEBOOK_EXAMPLES = frozenset({"cohort_analysis"})
"""The examples that make pandas frames or draw pictures."""


def test_there_are_examples():
    assert EXAMPLES, "examples/ is empty"


@pytest.mark.parametrize("path", [
    pytest.param(p, id=p.stem, marks=[needs_notebook] if p.stem in NOTEBOOK_EXAMPLES else []) for p in EXAMPLES])
def test_example_runs_on_a_file(path, tmp_path):
    module = load_script(path)
    module.main(f"sqlite:///{tmp_path / 'example.db'}")
    ledger = cl.Ledger.open(str(tmp_path / "example.db"))
    assert ledger.verify().ok
    ledger.close()


def test_quickstart_balance():
    balance = load_script(EXAMPLES[[p.stem for p in EXAMPLES].index("quickstart")]).main(None)
    assert balance.total == Decimal("12.00")
    assert balance.by_origin["home"] == Decimal("12.00")


def test_alliance_transfer_uses_two_ledger_files(tmp_path, capsys):
    module = load_script(EXAMPLES[[p.stem for p in EXAMPLES].index("alliance_transfer")])
    result, balance = module.main(f"sqlite:///{tmp_path / 'hnjx.db'}")
    out = capsys.readouterr().out
    assert "refused a tampered copy" in out and "verified: True" in out
    assert "状态：要求未满足" in out and "互认 24.00" in out  # the audit (in Chinese) counts them
    assert (tmp_path / "hnjx.db").exists() and (tmp_path / "hnjx-xtjx.db").exists()
    assert result.credits == Decimal("24.00") and all(d.accepted for d in result.decisions)
    assert balance.by_origin["recognized"] == Decimal("24.00")
    # the certificate's courses are recognised already: it adds nothing; the provincial second prize adds 6
    assert balance.by_origin["converted"] == Decimal("6.00") and "overlap_lower" in out
    # run again on the same files: nothing more is granted
    again, same = module.main(f"sqlite:///{tmp_path / 'hnjx.db'}")
    assert again.credits == 0 and same == balance


def test_demo_prints_transcript_balance_and_audits(tmp_path, capsys):
    text = demo.main(str(tmp_path / "demo.db"))
    assert "补考，按 60 计" in text  # the demo speaks Chinese (render's default)
    assert "重修" in text
    assert "休学：" in text and "复学" in text and "非全日制" in text
    # MT101 failed (54) then make-up 71 counted as 60; MT102 63 then retake 88 counts once at 88
    ledger = cl.Ledger.open(str(tmp_path / "demo.db"))
    records = {r.course: r for r in ledger.transcript(demo.STUDENT).records}
    assert records["MT101"].score == Decimal(60) and records["MT101"].flagged
    assert records["MT102"].score == Decimal(88) and records["MT102"].attempt == "retake"
    assert ledger.balance(demo.STUDENT, as_of=demo.MIDWAY).total == Decimal("44.00")
    assert ledger.status(demo.STUDENT, demo.date(2025, 12, 1)) == "suspended"
    # midway: requirements missing, two study periods, a projection; at the end: graduated part-time in 3 stages
    midway = ledger.audit(demo.STUDENT, as_of=demo.MIDWAY)
    assert midway.status == cl.AuditStatus.REQUIREMENTS_MISSING and len(midway.stages) == 2
    assert midway.projection is not None and midway.projection.finish_on is not None
    final = ledger.audit(demo.STUDENT, as_of=demo.GRADUATION)
    assert final.status == cl.AuditStatus.GRADUATED and final.award == "graduation" and final.part_time
    assert [s.ended_by for s in final.stages] == ["suspended", "suspended", "graduated"]
    assert final.stages[-1].cumulative == ledger.balance(demo.STUDENT).total
    assert "状态：已毕业" in text and "结论：毕业" in text and "学习阶段：" in text
    ledger.close()


def test_demo_twice_is_idempotent(tmp_path):
    db = str(tmp_path / "demo.db")
    demo.run(db).close()
    ledger = demo.run(db)
    assert ledger.count() == len(demo.demo_events())
    ledger.close()
