"""The audit-all, convert, export, plot, schema and statement commands, end to end through typer's runner. Drawing
needs the ``notebook`` extra (matplotlib): that test skips without it."""

from __future__ import annotations

import csv
import json
import sys

from typer.testing import CliRunner

import credit_ledger as cl
from credit_ledger import demo
from credit_ledger.cli import app
from credit_ledger.exports import TABLES, audit_row
from notebook_extra import needs_matplotlib

runner = CliRunner()


def _demo_db(tmp_path) -> str:
    db = str(tmp_path / "demo.db")
    assert runner.invoke(app, ["demo", "--db", db]).exit_code == 0
    return db


def test_audit_all_writes_csv_and_jsonl_and_a_summary(tmp_path):
    db = _demo_db(tmp_path)
    out = tmp_path / "audits.csv"
    result = runner.invoke(app, ["audit-all", "--db", db, "--as-of", "2026-07-31", "--out", str(out),
                                 "--workers", "1"])
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["student_id"], r["status"]) for r in rows] == [(demo.STUDENT, "requirements_missing")]
    assert rows[0]["shortfall"] == "46.00" and "total_credits_short" in rows[0]["issues"]
    assert "requirements_missing" in result.stdout and "1 students audited" in result.stdout
    lines = tmp_path / "audits.jsonl"
    assert runner.invoke(app, ["audit-all", "--db", db, "--as-of", "2028-07-10", "--out", str(lines)]).exit_code == 0
    (report,) = [json.loads(line) for line in lines.read_text(encoding="utf-8").splitlines()]
    assert report["status"] == "graduated" and report["student_id"] == demo.STUDENT
    bad = runner.invoke(app, ["audit-all", "--db", db, "--out", str(tmp_path / "audits.txt")])
    assert bad.exit_code == 1 and ".csv or .jsonl" in bad.stderr


def test_audit_all_writes_the_one_audit_csv_format_and_lines_that_flatten_to_it(tmp_path):
    """The command's CSV is ``audits_csv``'s (the export's audits table: 1/0, comma-separated issue codes), and
    each JSON line is the whole report, which ``audit_row`` flattens to that same row."""
    db = _demo_db(tmp_path)
    written = {}
    for suffix in ("csv", "jsonl"):
        out = tmp_path / f"audits.{suffix}"
        result = runner.invoke(app, ["audit-all", "--db", db, "--as-of", "2026-07-31", "--out", str(out),
                                     "--workers", "1"])
        assert result.exit_code == 0, result.output
        written[suffix] = out
    with written["csv"].open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == list(TABLES["audits"][0])
        [row] = list(reader)
    assert row["eligible"] == "0" and row["part_time"] == "1" and row["award"] == ""
    assert row["issues"] == "requirement_unmet,total_credits_short"
    [line] = written["jsonl"].read_text(encoding="utf-8").splitlines()
    report = cl.AuditReport.model_validate_json(line)
    flat = audit_row(report)
    assert list(flat) == list(row)
    assert {k: "" if v is None else str(int(v)) if isinstance(v, bool) else str(v) for k, v in flat.items()} == row


def test_convert_decides_and_dry_run_writes_nothing(tmp_path):
    db = _demo_db(tmp_path)
    outcomes = tmp_path / "outcomes.json"
    outcomes.write_text(json.dumps([{"type": "competition", "outcome_id": "HN-JNDS-2026-0001",
                                     "title": "湖南省职业技能大赛 数控车", "level": "省级", "rank": 2,
                                     "issued_on": "2026-05-20"}]), encoding="utf-8")
    before = cl.Ledger.open(db).count()
    dry = runner.invoke(app, ["convert", demo.STUDENT, str(outcomes), "--db", db, "--as-of", "2026-06-01",
                              "--dry-run", "--json"])
    assert dry.exit_code == 0, dry.output
    decided = json.loads(dry.stdout)
    assert decided["dry_run"] is True and len(decided["decisions"]) == 1
    assert cl.Ledger.open(db).count() == before
    wrong = tmp_path / "wrong.json"
    wrong.write_text('{"type": "certificate"}', encoding="utf-8")
    refused = runner.invoke(app, ["convert", demo.STUDENT, str(wrong), "--db", db])
    assert refused.exit_code == 1 and "expected a JSON list" in refused.stderr and "Traceback" not in refused.output


def test_statement_keygen_issue_verify_and_receive(tmp_path):
    db = _demo_db(tmp_path)
    key = tmp_path / "hnjx.pem"
    made = runner.invoke(app, ["statement", "keygen", "--out", str(key)])
    assert made.exit_code == 0 and len(made.stdout.strip()) == 64
    assert runner.invoke(app, ["statement", "keygen", "--out", str(key)]).exit_code == 1  # never overwritten
    trusted = tmp_path / "keys.json"
    trusted.write_text(json.dumps({"HNJX": made.stdout.strip()}), encoding="utf-8")
    statement = tmp_path / "statement.json"
    issued = runner.invoke(app, ["statement", "issue", demo.STUDENT, "--key", str(key), "--out", str(statement),
                                 "--db", db, "--acting-as", "HNJX"])
    assert issued.exit_code == 0, issued.output
    verified = runner.invoke(app, ["statement", "verify", str(statement), "--trusted", str(trusted)])
    assert verified.exit_code == 0 and verified.stdout.startswith("ok:")
    tampered = tmp_path / "tampered.json"
    tampered.write_text(statement.read_text(encoding="utf-8").replace('"4.00"', '"9.00"', 1), encoding="utf-8")
    failed = runner.invoke(app, ["statement", "verify", str(tampered), "--trusted", str(trusted)])
    assert failed.exit_code == 2 and "error:" in failed.stderr
    # a partner school receives it (dry run: decisions, nothing written); a tampered copy writes nothing at all
    partner = str(tmp_path / "xtjx.db")
    setup = cl.Ledger.open(partner, create=True)
    setup.load_catalog(cl.Catalog.sample())
    setup.append(cl.Enrolled(event_id="XT-9-enrol", student_id="XT-9", occurred_on=demo.date(2026, 9, 1),
                             institution="XTJX", program="XT-CNC-2024"))
    before = setup.count()
    setup.close()
    received = runner.invoke(app, ["statement", "receive", str(statement), "--trusted", str(trusted), "--db", partner,
                                   "--acting-as", "XTJX", "--student-id", "XT-9", "--as-of", "2026-09-10",
                                   "--dry-run", "--json"])
    assert received.exit_code == 0, received.output
    assert json.loads(received.stdout)["decisions"]
    refused = runner.invoke(app, ["statement", "receive", str(tampered), "--trusted", str(trusted), "--db", partner,
                                  "--acting-as", "XTJX", "--student-id", "XT-9"])
    assert refused.exit_code == 2
    assert cl.Ledger.open(partner).count() == before


def _command_lines() -> list[str]:
    """Every command the app offers, as typed: ``credit-ledger NAME`` or ``credit-ledger GROUP NAME``."""
    import typer.main

    click_app = typer.main.get_command(app)
    out = []
    for name, command in click_app.commands.items():
        subcommands = getattr(command, "commands", None)
        if subcommands:
            out += [f"credit-ledger {name} {sub}" for sub in subcommands]
        else:
            out.append(f"credit-ledger {name}")
    return out


def test_every_command_is_in_the_readme():
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    missing = [c for c in _command_lines() if f"`{c}" not in readme]
    assert not missing, f"commands missing from README.md's command table: {missing}"


def test_every_command_has_help_with_an_example():
    import typer.main

    click_app = typer.main.get_command(app)
    for line in _command_lines():
        words = line.split()[1:]
        result = runner.invoke(app, [*words, "--help"])
        assert result.exit_code == 0, line
        command = click_app
        for word in words:
            command = command.commands[word]
        assert "Example:" in (command.help or ""), f"{line} --help gives no example"


def test_export_and_schema_commands(tmp_path):
    import sqlite3

    db = _demo_db(tmp_path)
    analysis = tmp_path / "analysis.db"
    exported = runner.invoke(app, ["export", str(analysis), "--db", db, "--as-of", "2028-07-10"])
    assert exported.exit_code == 0, exported.output
    con = sqlite3.connect(analysis)
    assert con.execute("SELECT status FROM audits WHERE student_id = ?", (demo.STUDENT,)).fetchone() == ("graduated",)
    assert con.execute("SELECT COUNT(*) FROM transcript_records").fetchone()[0] == 22
    con.close()
    labels = tmp_path / "analysis.metadata.json"
    assert f"{labels}: labels and facets for datasette" in exported.stdout
    assert json.loads(labels.read_text(encoding="utf-8"))["databases"]["analysis"]["tables"]["courses"]
    one = runner.invoke(app, ["schema", "AuditReport"])
    assert one.exit_code == 0 and "status" in json.loads(one.stdout)["properties"]
    folder = tmp_path / "schemas"
    assert runner.invoke(app, ["schema", "--out", str(folder)]).exit_code == 0
    assert (folder / "TransferStatement.schema.json").exists()
    unknown = runner.invoke(app, ["schema", "Nope"])
    assert unknown.exit_code == 1 and "AuditReport" in unknown.stderr


@needs_matplotlib
def test_plot_command_draws_a_student_or_the_cohort(tmp_path):
    db = _demo_db(tmp_path)
    picture = tmp_path / "li-na.png"
    drawn = runner.invoke(app, ["plot", demo.STUDENT, "--db", db, "--as-of", "2028-07-10", "--out", str(picture)])
    assert drawn.exit_code == 0, drawn.output
    assert picture.read_bytes().startswith(b"\x89PNG")
    cohort = tmp_path / "cohort.png"
    assert runner.invoke(app, ["plot", "--cohort", "--db", db, "--out", str(cohort)]).exit_code == 0
    assert cohort.read_bytes().startswith(b"\x89PNG")


def test_plot_command_without_matplotlib_names_the_extra(tmp_path, monkeypatch):
    db = _demo_db(tmp_path)
    picture = tmp_path / "li-na.png"
    both = runner.invoke(app, ["plot", demo.STUDENT, "--cohort", "--db", db, "--out", str(picture)])
    assert both.exit_code == 1 and "not both" in both.stderr
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    refused = runner.invoke(app, ["plot", demo.STUDENT, "--db", db, "--out", str(picture)])
    assert refused.exit_code == 1 and "credit-ledger[notebook]" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1 and not picture.exists()


def test_an_unforeseen_error_is_one_line_not_a_traceback(tmp_path, monkeypatch, capsys):
    import pytest

    from credit_ledger import cli

    db = _demo_db(tmp_path)
    monkeypatch.setattr("sys.argv", ["credit-ledger", "export", str(tmp_path / "no" / "such" / "dir.db"), "--db", db])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1 and "Traceback" not in err
