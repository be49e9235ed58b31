"""The command and names (issue 14): ``roster set|show|erase``, names in ``students``, ``transcript --all`` (every
attempt: failed, 补考, 重修), ``import`` of a name column, end to end through typer's runner."""

from __future__ import annotations

import json

from typer.testing import CliRunner

import credit_ledger as cl
from credit_ledger import demo
from credit_ledger.cli import app

runner = CliRunner()
S = demo.STUDENT


def _demo_db(tmp_path) -> str:
    db = str(tmp_path / "demo.db")
    assert runner.invoke(app, ["demo", "--db", db]).exit_code == 0
    return db


def test_set_show_correct_erase(tmp_path):
    db = _demo_db(tmp_path)
    result = runner.invoke(app, ["roster", "set", S, "--name", "王小明", "--field", "gender=男", "--field",
                                 "phone=13800000000", "--db", db, "--acting-as", "HNJX"])
    assert result.exit_code == 0, result.output
    shown = runner.invoke(app, ["roster", "show", S, "--db", db])
    assert "王小明" in shown.stdout and "13800000000" in shown.stdout and "姓名" in shown.stdout
    assert runner.invoke(app, ["roster", "set", S, "--remove", "phone", "--db", db]).exit_code == 0
    (record,) = json.loads(runner.invoke(app, ["roster", "show", "--db", db, "--json"]).stdout)
    assert record == {"student_id": S, "name": "王小明", "fields": {"gender": "男"}}
    assert runner.invoke(app, ["students", "--db", db]).stdout.splitlines() == [f"{S}\t王小明"]
    assert runner.invoke(app, ["students", "--db", db, "--json"]).stdout.strip() == json.dumps([S])
    erased = runner.invoke(app, ["roster", "erase", S, "--db", db, "--acting-as", "HNJX"])
    assert erased.exit_code == 0 and "erased" in erased.stdout
    assert runner.invoke(app, ["students", "--db", db]).stdout.splitlines() == [S]
    assert "no personal data" in runner.invoke(app, ["roster", "show", S, "--db", db]).stdout
    assert "ok" in runner.invoke(app, ["verify", "--db", db]).stdout


def test_refusals_are_one_line(tmp_path):
    db = _demo_db(tmp_path)
    bad = runner.invoke(app, ["roster", "set", S, "--name", "王\x1b[31m", "--db", db])
    assert bad.exit_code == 1 and "field name" in bad.stderr and "\x1b" not in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
    other = runner.invoke(app, ["roster", "set", S, "--name", "王", "--db", db, "--acting-as", "XTJX"])
    assert other.exit_code == 1 and "not_own_student" in other.stderr
    for command in (["set", "NOBODY", "--name", "王"], ["show", "NOBODY"], ["erase", "NOBODY"]):
        nobody = runner.invoke(app, ["roster", *command, "--db", db])  # exit 4, as every command naming a student
        assert nobody.exit_code == 4 and "NOBODY" in nobody.stderr, command
        assert len(nobody.stderr.strip().splitlines()) == 1
    assert runner.invoke(app, ["roster", "set", S, "--db", db]).exit_code == 1  # nothing to set
    assert runner.invoke(app, ["roster", "set", S, "--field", "gender", "--db", db]).exit_code == 1
    for typo in ("13912345678", "phone:13912345678", "=13912345678"):  # a value typed without its key=
        wrong = runner.invoke(app, ["roster", "set", S, "--field", "gender=男", "--field", typo, "--db", db])
        assert wrong.exit_code == 1 and "--field number 2" in wrong.stderr
        assert "13912345678" not in wrong.output  # personal data is never echoed in an error (errors reach logs)
    assert cl.Ledger.open(db).roster() == {}


def test_transcript_all_shows_every_attempt(tmp_path):
    db = _demo_db(tmp_path)
    runner.invoke(app, ["roster", "set", S, "--name", "王小明", "--db", db])
    counted = runner.invoke(app, ["transcript", S, "--db", db]).stdout
    every = runner.invoke(app, ["transcript", S, "--all", "--db", db])
    assert every.exit_code == 0, every.output
    assert "王小明" in every.stdout and "不及格" in every.stdout and "补考" in every.stdout and "重修" in every.stdout
    assert "不及格" not in counted
    attempts = json.loads(runner.invoke(app, ["transcript", S, "--all", "--json", "--db", db]).stdout)
    failed = [a for a in attempts if not a["passed"]]
    assert failed and all(not a["counted"] for a in failed)
    assert {a["attempt"] for a in attempts} == {"regular", "makeup", "retake"}
    early = json.loads(runner.invoke(app, ["transcript", S, "--all", "--json", "--db", db,
                                           "--as-of", "2025/3/1"]).stdout)
    assert early and all(a["occurred_on"] <= "2025-03-01" for a in early)
    assert runner.invoke(app, ["transcript", "NOBODY", "--all", "--db", db]).exit_code == 4


def test_import_reads_a_name_column(tmp_path):
    db = str(tmp_path / "records.db")
    assert runner.invoke(app, ["init", "--db", db, "--sample"]).exit_code == 0
    path = tmp_path / "enrol.csv"
    path.write_text("kind,event_id,student_id,occurred_on,institution,program,姓名\n"
                    "enrolled,S1-enrol,S1,2025/9/1,HNJX,CNC-SR-2025,王小明\n", encoding="utf-8")
    result = runner.invoke(app, ["import", str(path), "--db", db])
    assert result.exit_code == 0, result.output
    assert runner.invoke(app, ["students", "--db", db]).stdout.splitlines() == ["S1\t王小明"]
