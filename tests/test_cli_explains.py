"""The command explains itself (issue 14): --version, one line and exit 4 for an unknown student, --as-of in every
date form the imports read, errors that name the field, output paths checked before any work, plot formats by
suffix, the students and events commands, and human tables beside --json."""

from __future__ import annotations

import json
from datetime import date

import pytest
from typer.testing import CliRunner

import credit_ledger as cl
from credit_ledger import demo
from credit_ledger.cli import NO_SUCH_STUDENT, app

runner = CliRunner()


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> str:
    db = str(tmp_path_factory.mktemp("demo") / "demo.db")
    result = runner.invoke(app, ["demo", "--db", db])
    assert result.exit_code == 0, result.output
    return db


def one_line_error(result, *, code: int = 1) -> str:
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_version_prints_the_package_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"credit-ledger {cl.__version__}"


@pytest.mark.parametrize("command", [
    ["transcript", "NOBODY"], ["transcript", "NOBODY", "--json"], ["balance", "NOBODY"], ["audit", "NOBODY"],
    ["audit", "NOBODY", "--format", "json"],
])
def test_an_unknown_student_is_one_line_and_exit_4(demo_db, command):
    result = runner.invoke(app, [*command, "--db", demo_db])
    line = one_line_error(result, code=NO_SUCH_STUDENT)
    assert NO_SUCH_STUDENT == 4 and "'NOBODY'" in line and "no student" in line
    assert result.stdout == ""  # no empty table


def test_an_unknown_student_converts_nothing(demo_db, tmp_path):
    outcomes = tmp_path / "outcomes.json"
    outcomes.write_text("[]", encoding="utf-8")
    before = cl.Ledger.open(demo_db).count()
    result = runner.invoke(app, ["convert", "NOBODY", str(outcomes), "--db", demo_db])
    one_line_error(result, code=NO_SUCH_STUDENT)
    assert cl.Ledger.open(demo_db).count() == before


def test_a_school_asking_for_a_student_it_may_not_read_is_told_so_not_that_none_exists(demo_db):
    """With --acting-as the ledger's tenancy answers first: one line, exit 1, whether or not the student exists
    (a school learns nothing of other schools' students)."""
    line = one_line_error(runner.invoke(app, ["balance", "NOBODY", "--db", demo_db, "--acting-as", "XTJX"]))
    assert "not_own_student" in line


def test_a_known_student_is_not_refused(demo_db):
    result = runner.invoke(app, ["balance", demo.STUDENT, "--db", demo_db])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("spelled", ["2025-06-30", "2025/6/30", "2025/06/30", "2025.6.30", "2025年6月30日",
                                     " 2025-06-30 "])
def test_as_of_reads_every_date_form_the_imports_read(demo_db, spelled):
    iso = runner.invoke(app, ["transcript", demo.STUDENT, "--db", demo_db, "--as-of", "2025-06-30", "--json"])
    other = runner.invoke(app, ["transcript", demo.STUDENT, "--db", demo_db, "--as-of", spelled, "--json"])
    assert other.exit_code == 0, other.output
    assert json.loads(other.stdout) == json.loads(iso.stdout)
    assert json.loads(other.stdout)["as_of"] == "2025-06-30"


@pytest.mark.parametrize("bad", ["2025/13/40", "2025-02-30", "yesterday", "30/6/2025", "2025年2月30日", ""])
def test_a_bad_as_of_is_one_line_naming_the_option(demo_db, bad):
    line = one_line_error(runner.invoke(app, ["balance", demo.STUDENT, "--db", demo_db, "--as-of", bad]))
    assert line.startswith("error: --as-of") and repr(bad) in line


def test_outcomes_that_do_not_validate_say_each_record_and_field(demo_db, tmp_path):
    outcomes = tmp_path / "outcomes.json"
    outcomes.write_text(json.dumps([
        {"type": "competition", "outcome_id": "A1", "title": "x", "level": "省级", "rank": 2, "issued_on": "2026-05-20"},
        {"type": "competition", "outcome_id": "A2", "title": "y", "level": "省级", "rank": "two",
         "issued_on": "2026-13-20"},
        {"type": "competition", "outcome_id": "A3", "title": "z", "level": "省级"},
    ]), encoding="utf-8")
    before = cl.Ledger.open(demo_db).count()
    result = runner.invoke(app, ["convert", demo.STUDENT, str(outcomes), "--db", demo_db, "--as-of", "2026-06-01"])
    assert result.exit_code == 1 and "Traceback" not in result.output and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert all(line.startswith(f"error: {outcomes}: outcome ") for line in lines), lines
    assert "validation error" not in result.stderr
    assert any("outcome 2 (A2): rank:" in line and "'two'" in line and "[int_parsing]" in line for line in lines)
    assert any("outcome 2 (A2): issued_on:" in line and "'2026-13-20'" in line for line in lines)
    assert any("outcome 3 (A3): (the whole record):" in line and "rank" in line for line in lines)
    assert not any("outcome 1 " in line for line in lines)
    assert len(lines) == 3
    assert cl.Ledger.open(demo_db).count() == before


def test_a_statement_file_that_is_no_statement_names_its_fields(tmp_path):
    statement = tmp_path / "statement.json"
    statement.write_text(json.dumps({"statement_id": "S-1", "issuer": 7}), encoding="utf-8")
    trusted = tmp_path / "keys.json"
    trusted.write_text("{}", encoding="utf-8")
    result = runner.invoke(app, ["statement", "verify", str(statement), "--trusted", str(trusted)])
    assert result.exit_code == 2 and "validation error" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines and all(line.startswith(f"error: {statement}: not a transfer statement: ") for line in lines)
    assert any(": issuer: " in line for line in lines)
    garbled = tmp_path / "garbled.json"
    garbled.write_text("not json", encoding="utf-8")
    result = runner.invoke(app, ["statement", "verify", str(garbled), "--trusted", str(trusted)])
    assert one_line_error(result, code=2)


def test_a_validation_error_anywhere_in_a_command_is_told_field_by_field(demo_db, monkeypatch):
    """The session's guard: any record the library refuses to build prints one line per problem, not pydantic's
    ``N validation errors for X``."""
    from pydantic import BaseModel

    class Thing(BaseModel):
        count: int
        when: date

    def broken(self, *args, **kwargs):
        Thing.model_validate({"count": "many", "when": "soon"})

    monkeypatch.setattr(cl.Ledger, "balance", broken)
    result = runner.invoke(app, ["balance", demo.STUDENT, "--db", demo_db])
    assert result.exit_code == 1 and "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("error: Thing: count: ") and "'many'" in lines[0]
    assert lines[1].startswith("error: Thing: when: ")
