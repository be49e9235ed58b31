"""The credit-ledger command: each command runs, errors are one line on stderr with a non-zero exit."""

from __future__ import annotations

import json
import sqlite3

from typer.testing import CliRunner

from credit_ledger import demo
from credit_ledger.cli import app

runner = CliRunner()


def _demo_db(tmp_path) -> str:
    db = str(tmp_path / "demo.db")
    result = runner.invoke(app, ["demo", "--db", db])
    assert result.exit_code == 0, result.output
    assert "补考，按 60 计" in result.stdout
    return db


def test_transcript_balance_and_verify(tmp_path):
    db = _demo_db(tmp_path)
    table = runner.invoke(app, ["transcript", demo.STUDENT, "--db", db, "--as-of", "2025-06-30"])
    assert table.exit_code == 0 and "截至 2025-06-30" in table.stdout and "MT201" not in table.stdout
    english = runner.invoke(app, ["transcript", demo.STUDENT, "--db", db, "--as-of", "2025-06-30", "--lang", "en"])
    assert english.exit_code == 0 and "Transcript of" in english.stdout and "as of 2025-06-30" in english.stdout
    assert "make-up (补考), counted as 60" in english.stdout and "成绩单" not in english.stdout
    every = runner.invoke(app, ["transcript", demo.STUDENT, "--db", db, "--all", "--lang", "en"])
    assert every.exit_code == 0 and "attempts" in every.stdout and "修读记录" not in every.stdout
    assert "修读记录" in runner.invoke(app, ["transcript", demo.STUDENT, "--db", db, "--all"]).stdout
    data = json.loads(runner.invoke(app, ["transcript", demo.STUDENT, "--db", db, "--json"]).stdout)
    assert {r["course"] for r in data["records"]} >= {"MT101", "MT102", "MT201"}
    balance = json.loads(runner.invoke(app, ["balance", demo.STUDENT, "--db", db, "--json"]).stdout)
    assert balance["total"] == "93.00"
    verified = runner.invoke(app, ["verify", "--db", db, "--json"])
    assert verified.exit_code == 0 and json.loads(verified.stdout)["ok"] is True


def test_verify_exits_2_on_a_tampered_ledger(tmp_path):
    db = _demo_db(tmp_path)
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("DROP TRIGGER events_no_update")
    con.execute("UPDATE events SET payload = replace(payload, '\"grade\"', '\"grade\" ') WHERE seq = 3")
    con.close()
    result = runner.invoke(app, ["verify", "--db", db, "--json"])
    assert result.exit_code == 2
    assert json.loads(result.stdout)["first_bad_seq"] == 3


def test_errors_are_one_line_without_a_traceback(tmp_path):
    db = _demo_db(tmp_path)
    bad_date = runner.invoke(app, ["balance", demo.STUDENT, "--db", db, "--as-of", "2025/13/40"])
    assert bad_date.exit_code == 1
    assert bad_date.stderr.strip().startswith("error: --as-of") and len(bad_date.stderr.strip().splitlines()) == 1
    missing = runner.invoke(app, ["verify", "--db", str(tmp_path / "no" / "such" / "dir.db")])
    assert missing.exit_code == 1
    assert missing.stderr.startswith(f"error: no ledger at {tmp_path / 'no' / 'such' / 'dir.db'}: no such folder")
    assert "Traceback" not in missing.output and len(missing.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "no").exists()


def test_audit_command_prints_the_tree_and_exits_by_the_verdict(tmp_path):
    db = _demo_db(tmp_path)
    midway = runner.invoke(app, ["audit", demo.STUDENT, "--db", db, "--as-of", "2026-07-31"])
    assert midway.exit_code == 3 and "✗ core-more" in midway.stdout and "学习阶段：" in midway.stdout
    assert "状态：要求未满足" in midway.stdout  # Chinese by default, English on request
    english = runner.invoke(app, ["audit", demo.STUDENT, "--db", db, "--as-of", "2026-07-31", "--lang", "en"])
    assert english.exit_code == 3 and "stages:" in english.stdout and "status: requirements_missing" in english.stdout
    final = runner.invoke(app, ["audit", demo.STUDENT, "--db", db, "--as-of", "2028-07-10", "--format", "json"])
    assert final.exit_code == 0 and json.loads(final.stdout)["status"] == "graduated"
    html = runner.invoke(app, ["audit", demo.STUDENT, "--db", db, "--as-of", "2028-07-10", "--format", "html"])
    assert html.stdout.startswith("<!DOCTYPE html>") and "<meta charset='utf-8'>" in html.stdout
    assert "毕业资格审核表" in html.stdout and demo.STUDENT in html.stdout
    unknown = runner.invoke(app, ["audit", "NOBODY", "--db", db])
    assert unknown.exit_code == 4 and "NOBODY" in unknown.stderr and "Traceback" not in unknown.output
    bad = runner.invoke(app, ["audit", demo.STUDENT, "--db", db, "--format", "pdf"])
    assert bad.exit_code == 1 and "--format" in bad.stderr
    lang = runner.invoke(app, ["audit", demo.STUDENT, "--db", db, "--lang", "fr"])
    assert lang.exit_code == 1 and "--lang 'fr'" in lang.stderr and "Traceback" not in lang.output


def test_a_demo_ledger_of_an_earlier_version_is_named_in_one_line(tmp_path):
    """A demo ledger whose sample catalog is not today's (made by an earlier version): one line saying to remove it,
    exit 1, and the file as it was."""
    import credit_ledger as cl

    db = str(tmp_path / "old-demo.db")
    data = cl.Catalog.sample().model_dump(mode="json", by_alias=True)
    data["institutions"][0]["name"] = data["institutions"][0]["name"] + "（旧）"
    with cl.Ledger.open(db, create=True) as ledger:
        ledger.load_catalog(cl.Catalog.model_validate(data))
    before = (tmp_path / "old-demo.db").read_bytes()
    result = runner.invoke(app, ["demo", "--db", db])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"remove {db}" in lines[0] and "earlier version" in lines[0]
    assert (tmp_path / "old-demo.db").read_bytes() == before
