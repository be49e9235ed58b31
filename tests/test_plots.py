"""Pictures: a student's credits stage by stage and a cohort's standing, as PNG bytes and files. Drawing needs the
``notebook`` extra (matplotlib): those tests skip without it; grouping a cohort and the missing-extra error do not."""

from __future__ import annotations

import sys
from datetime import date

import pytest

import credit_ledger as cl
from credit_ledger import demo
from credit_ledger.plots import COHORT_GROUPS, cohort_counts, cohort_group, plot_cohort, plot_student
from notebook_extra import needs_matplotlib

PNG = b"\x89PNG"


@pytest.fixture(scope="module")
def demo_ledger() -> cl.Ledger:
    led = demo.run(None)
    yield led
    led.close()


@needs_matplotlib
@pytest.mark.parametrize("day", [demo.MIDWAY, demo.GRADUATION, date(2024, 9, 2)])
def test_plot_student_returns_a_png_and_writes_it(demo_ledger, tmp_path, day):
    report = demo_ledger.audit(demo.STUDENT, as_of=day)
    path = tmp_path / "student.png"
    png = plot_student(report, path)
    assert png[:4] == PNG and path.read_bytes() == png


@needs_matplotlib
def test_plot_student_without_a_path_writes_nothing(demo_ledger, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert plot_student(demo_ledger.audit(demo.STUDENT, as_of=demo.MIDWAY))[:4] == PNG
    assert list(tmp_path.iterdir()) == []


@needs_matplotlib
def test_plot_cohort_returns_a_png_and_writes_it(demo_ledger, tmp_path):
    reports = [demo_ledger.audit(demo.STUDENT, as_of=day) for day in (demo.MIDWAY, demo.GRADUATION)]
    path = tmp_path / "cohort.png"
    png = plot_cohort(reports, path)
    assert png[:4] == PNG and path.read_bytes() == png
    assert plot_cohort([])[:4] == PNG


def test_cohort_groups(demo_ledger):
    midway = demo_ledger.audit(demo.STUDENT, as_of=demo.MIDWAY)
    final = demo_ledger.audit(demo.STUDENT, as_of=demo.GRADUATION)
    suspended = demo_ledger.audit(demo.STUDENT, as_of=date(2025, 12, 1))
    assert cohort_group(midway) == "on_track" and cohort_group(final) == "graduated"
    assert cohort_group(suspended) == "suspended"
    at_risk = midway.model_copy(update={"issues": (cl.Issue(code="at_risk_deadline", message="late"),)})
    assert cohort_group(at_risk) == "at_risk"
    early = midway.model_copy(update={"status": cl.AuditStatus.TOO_EARLY})
    assert cohort_group(early) == "early"
    counts = cohort_counts([midway, final, suspended, at_risk, early, final])
    assert counts == {"graduated": 2, "early": 1, "on_track": 1, "at_risk": 1, "suspended": 1}
    assert list(counts) == [g for g in COHORT_GROUPS if g in counts]


def test_plots_without_matplotlib_name_the_extra(demo_ledger, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"credit-ledger\[notebook\]"):
        plot_cohort([])


@needs_matplotlib
def test_a_report_draws_itself_for_a_notebook(tmp_path):
    from credit_ledger import demo

    ledger = demo.run()
    report = ledger.audit(demo.STUDENT, as_of=demo.GRADUATION)
    png = report.plot(tmp_path / "report.png")
    assert png.startswith(b"\x89PNG") and (tmp_path / "report.png").read_bytes() == png
