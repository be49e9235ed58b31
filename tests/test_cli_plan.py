"""``credit-ledger plan``: the demo student's plan as Chinese text (default), English, JSON and HTML; exit 3 when it
misses the deadline, 4 for no such student, 1 with one line for each bad option."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from credit_ledger import demo
from credit_ledger.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("plan") / "demo.db")
    assert runner.invoke(app, ["demo", "--db", path]).exit_code == 0
    return path


BASE = ["--start", "2026-09-01", "--hours-per-term", "120", "--as-of", "2026-07-31"]


def test_plan_text_is_chinese_by_default(db):
    result = runner.invoke(app, ["plan", demo.STUDENT, "--db", db, *BASE])
    assert result.exit_code == 0, result.output
    assert "学习计划" in result.stdout and "秋季 2026-09-01..2027-01-20" in result.stdout
    assert "预计毕业日期" in result.stdout


def test_plan_in_english_json_and_html(db):
    en = runner.invoke(app, ["plan", demo.STUDENT, "--db", db, *BASE, "--lang", "en"])
    assert en.exit_code == 0 and "autumn 2026-09-01" in en.stdout and "graduation date" in en.stdout
    data = json.loads(runner.invoke(app, ["plan", demo.STUDENT, "--db", db, *BASE, "--format", "json"]).stdout)
    assert data["feasible"] is True and data["terms"][0]["start"] == "2026-09-01"
    html = runner.invoke(app, ["plan", demo.STUDENT, "--db", db, *BASE, "--format", "html"]).stdout
    assert html.startswith('<div class="study-plan">') and "<table>" in html


def test_a_skipped_term_is_shown(db):
    result = runner.invoke(app, ["plan", demo.STUDENT, "--db", db, *BASE, "--skip", "2027-04-01", "--lang", "en"])
    assert result.exit_code == 0
    assert "spring 2027-03-01..2027-07-10  0 hours, 0 credits: skipped" in result.stdout


def test_a_plan_past_the_deadline_exits_3(db):
    result = runner.invoke(app, ["plan", demo.STUDENT, "--db", db, "--start", "2030-03-01", "--hours-per-term", "120",
                                 "--as-of", "2026-07-31"])
    assert result.exit_code == 3 and "deadline_unreachable" in result.stdout


def test_no_such_student_exits_4(db):
    assert runner.invoke(app, ["plan", "nobody", "--db", db, *BASE]).exit_code == 4


@pytest.mark.parametrize(("args", "needle"), [
    (["--start", "2026-09-01", "--hours-per-term", "many"], "--hours-per-term 'many'"),
    (["--start", "2026-09-01", "--hours-per-term", "-5"], "0 or more"),
    (["--start", "someday", "--hours-per-term", "120"], "--start"),
    (["--start", "2026-09-01", "--hours-per-term", "120", "--skip", "2027-02-10"], "2027-02-10"),
    (["--start", "2026-09-01", "--hours-per-term", "120", "--format", "pdf"], "--format 'pdf'"),
    (["--start", "2026-09-01", "--hours-per-term", "120", "--lang", "fr"], "--lang 'fr'"),
    (["--start", "2026-09-01", "--hours-per-term", "120", "--max-terms", "0"], "--max-terms 0"),
    (["--start", "2026-09-01", "--hours-per-term", "120", "--max-terms", "100000"], "at most 200"),
])
def test_bad_options_fail_in_one_line(db, args, needle):
    result = runner.invoke(app, ["plan", demo.STUDENT, "--db", db, *args])
    assert result.exit_code == 1 and needle in result.stderr and len(result.stderr.strip().splitlines()) == 1
