"""The set-up, catalog and import commands: exit codes, summaries, and errors as one line without a traceback."""

from __future__ import annotations

import csv
import json

import pytest
from cli_errors import one_line_error
from typer.testing import CliRunner

from credit_ledger.cli import app

runner = CliRunner()

SAMPLE_CATALOG = "credit_ledger/data/sample_catalog.yaml"
EVENTS = ("kind,event_id,student_id,occurred_on,institution,program,mode,course,grade\n"
          "enrolled,s1-enrol,S1,2024/9/1,HNJX,MECH-PT-2024,part_time,,\n"
          "course_completed,s1-c1,S1,2025/1/10,HNJX,,,PUB101,82\n"
          "course_completed,s1-c2,S1,2025/1/12,HNJX,,,MT101,良\n")
BAD_ROW = "course_completed,s1-c3,S1,2025/2/30,HNJX,,,MT102,80\n"




def _ledger(tmp_path) -> str:
    db = str(tmp_path / "records.db")
    result = runner.invoke(app, ["init", "--db", db, "--sample"])
    assert result.exit_code == 0, result.output
    assert "0 events" in result.stdout and "47 courses" in result.stdout
    return db


def test_init_with_a_catalog_file_or_the_sample(tmp_path, request):
    catalog = request.config.rootpath / SAMPLE_CATALOG
    db = str(tmp_path / "a.db")
    result = runner.invoke(app, ["init", "--db", db, "--catalog", str(catalog)])
    assert result.exit_code == 0 and "5 programs" in result.stdout
    empty = runner.invoke(app, ["init", "--db", str(tmp_path / "b.db")])
    assert empty.exit_code == 0 and "0 courses" in empty.stdout
    _ledger(tmp_path)


def test_catalog_load_show_and_check(tmp_path, request):
    catalog = str(request.config.rootpath / SAMPLE_CATALOG)
    db = str(tmp_path / "c.db")
    assert runner.invoke(app, ["init", "--db", db]).exit_code == 0
    loaded = runner.invoke(app, ["catalog", "load", catalog, "--db", db])
    assert loaded.exit_code == 0 and "47 courses" in loaded.stdout
    assert runner.invoke(app, ["catalog", "load", catalog, "--db", db]).exit_code == 0  # again: no change
    shown = runner.invoke(app, ["catalog", "show", "--db", db, "--format", "json"])
    assert shown.exit_code == 0 and {c["code"] for c in json.loads(shown.stdout)["institutions"]} >= {"HNJX"}
    as_yaml = runner.invoke(app, ["catalog", "show", "--db", db])
    assert as_yaml.exit_code == 0 and "湖南湘江技师学院" in as_yaml.stdout
    one_line_error(runner.invoke(app, ["catalog", "show", "--db", db, "--format", "xml"]))
    ok = runner.invoke(app, ["catalog", "check", catalog])
    assert ok.exit_code == 0 and "ok" in ok.stdout


def test_catalog_check_prints_each_problem_and_load_fails_in_one_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("courses:\n  - {institution: NOPE, code: X, title: t, hours: -1}\n", encoding="utf-8")
    checked = runner.invoke(app, ["catalog", "check", str(bad)])
    assert checked.exit_code == 1 and len(checked.stdout.strip().splitlines()) >= 2
    assert all(line.startswith(f"{bad}: ") for line in checked.stdout.strip().splitlines())
    db = _ledger(tmp_path)
    line = one_line_error(runner.invoke(app, ["catalog", "load", str(bad), "--db", db]))
    assert "bad.yaml" in line and "more" in line
    missing = runner.invoke(app, ["catalog", "check", str(tmp_path / "none.yaml")])
    assert missing.exit_code == 1 and "cannot read" in missing.stdout


def test_import_all_or_nothing_then_again(tmp_path):
    db = _ledger(tmp_path)
    events = tmp_path / "e.csv"
    events.write_text(EVENTS, encoding="utf-8-sig")
    result = runner.invoke(app, ["import", str(events), "--db", db])
    assert result.exit_code == 0, result.output
    assert "3 rows read, 3 events written, 0 already present, 0 rejected" in result.stdout
    again = runner.invoke(app, ["import", str(events), "--db", db])
    assert "0 events written, 3 already present" in again.stdout
    verified = runner.invoke(app, ["verify", "--db", db, "--json"])
    assert verified.exit_code == 0 and json.loads(verified.stdout)["checked"] == 3


def test_import_refuses_a_bad_file_whole_in_one_line(tmp_path):
    db = _ledger(tmp_path)
    events = tmp_path / "e.csv"
    events.write_text(EVENTS + BAD_ROW, encoding="utf-8")
    line = one_line_error(runner.invoke(app, ["import", str(events), "--db", db]))
    assert "line 5, column 'occurred_on': [bad_date]" in line
    assert json.loads(runner.invoke(app, ["verify", "--db", db, "--json"]).stdout)["checked"] == 0


def test_import_skip_bad_writes_a_rejects_file(tmp_path):
    db = _ledger(tmp_path)
    events = tmp_path / "e.csv"
    events.write_text(EVENTS + BAD_ROW, encoding="utf-8")
    result = runner.invoke(app, ["import", str(events), "--db", db, "--skip-bad"])
    assert result.exit_code == 0, result.output
    default = f"{events}.rejects.csv"
    assert "3 events written" in result.stdout and "1 rejected" in result.stdout and default in result.stdout
    chosen = tmp_path / "out.csv"
    runner.invoke(app, ["import", str(events), "--db", db, "--skip-bad", "--rejects", str(chosen)])
    for path in (default, chosen):
        with open(path, encoding="utf-8-sig", newline="") as handle:
            assert [(r["line"], r["code"]) for r in csv.DictReader(handle)] == [("5", "bad_date")]


def test_import_with_a_map_file_jsonl_and_acting_as(tmp_path):
    db = _ledger(tmp_path)
    enrol = tmp_path / "enrol.jsonl"
    enrol.write_text(json.dumps({"kind": "enrolled", "event_id": "s1-enrol", "student_id": "S1",
                                 "occurred_on": "2024-09-01", "institution": "HNJX", "program": "MECH-PT-2024",
                                 "mode": "part_time"}) + "\n", encoding="utf-8")
    assert runner.invoke(app, ["import", str(enrol), "--db", db, "--acting-as", "HNJX"]).exit_code == 0
    export = tmp_path / "成绩.txt"
    export.write_text("学号,课程代码,成绩,考试日期\nS1,MT101,优,2025/1/12\n", encoding="utf-8-sig")
    mapping = tmp_path / "map.json"
    mapping.write_text(json.dumps({"columns": {"学号": "student_id", "课程代码": "course", "成绩": "grade",
                                               "考试日期": "occurred_on"},
                                   "constants": {"kind": "course_completed", "institution": "HNJX"},
                                   "event_id": "{student_id}-{course}"}, ensure_ascii=False), encoding="utf-8")
    result = runner.invoke(app, ["import", str(export), "--db", db, "--format", "csv", "--map", str(mapping),
                                 "--acting-as", "HNJX"])
    assert result.exit_code == 0 and "1 events written" in result.stdout, result.output
    transcript = json.loads(runner.invoke(app, ["transcript", "S1", "--db", db, "--json"]).stdout)
    assert [r["course"] for r in transcript["records"]] == ["MT101"]
    refused = runner.invoke(app, ["import", str(export), "--db", db, "--format", "csv", "--map", str(mapping),
                                  "--acting-as", "XTJX"])
    assert "[" in one_line_error(refused)


@pytest.mark.parametrize("args", [
    ["import", "no-such.csv"],
    ["import", "{events}", "--format", "xlsx"],
    ["import", "{events}", "--map", "no-such-map.yaml"],
    ["import", "{txt}"],
    ["catalog", "load", "no-such.yaml"],
    ["init", "--catalog", "no-such.yaml"],
])
def test_command_errors_are_one_line(tmp_path, args):
    db = _ledger(tmp_path)
    (tmp_path / "e.csv").write_text(EVENTS, encoding="utf-8")
    (tmp_path / "e.txt").write_text(EVENTS, encoding="utf-8")
    args = [a.format(events=tmp_path / "e.csv", txt=tmp_path / "e.txt") for a in args]
    one_line_error(runner.invoke(app, args + ["--db", db]))


@pytest.mark.parametrize("command", [["init"], ["catalog", "load"], ["catalog", "show"], ["catalog", "check"],
                                     ["import"]])
def test_each_new_command_has_help_with_an_example(command):
    result = runner.invoke(app, command + ["--help"])
    assert result.exit_code == 0 and "Example: credit-ledger " + " ".join(command) in result.stdout


@pytest.mark.parametrize(("name", "content", "says"), [
    ("deep.jsonl", "[" * 50_000 + "]" * 50_000 + "\n", "line 1: [too_deep] the row nests deeper than 32 levels"),
    ("huge.csv", EVENTS + "suspended,s1-s,S1,2025/3/1,HNJX,,,," + "x" * 140_000 + "\n",
     "line 5, column 'grade': [line_too_long]"),
    ("nul.csv", EVENTS.replace("良", "良\x00"), "line 4, column 'grade': [binary_content]"),
    ("utf16.csv", "utf-16", "line 1: [bad_encoding] the file is UTF-16"),
])
def test_import_of_a_bad_file_names_the_file_and_line_in_one_line_and_writes_nothing(tmp_path, name, content, says):
    db = _ledger(tmp_path)
    path = tmp_path / name
    if content == "utf-16":
        path.write_text(EVENTS, encoding="utf-16")
    else:
        path.write_text(content, encoding="utf-8")
    line = one_line_error(runner.invoke(app, ["import", str(path), "--db", db]))
    assert line.startswith(f"error: {path}: {says}"), line
    skipping = runner.invoke(app, ["import", str(path), "--db", db, "--skip-bad"])
    if name == "deep.jsonl":  # a problem of its row: set aside
        assert skipping.exit_code == 0 and "1 rejected" in skipping.stdout
    else:  # a problem of the whole file: refused, even row by row
        assert one_line_error(skipping) == line
    assert json.loads(runner.invoke(app, ["verify", "--db", db, "--json"]).stdout)["checked"] == 0


def test_import_skip_bad_rejects_file_holds_no_formula(tmp_path):
    db = _ledger(tmp_path)
    events = tmp_path / "e.csv"
    events.write_text(EVENTS + "course_completed,=cmd|calc!A1,@SUM(1),2025/1/10,HNJX,,,MT101,+1+1\n",
                      encoding="utf-8")
    result = runner.invoke(app, ["import", str(events), "--db", db, "--skip-bad"])
    assert result.exit_code == 0 and "1 rejected" in result.stdout, result.output
    with open(f"{events}.rejects.csv", encoding="utf-8-sig", newline="") as handle:
        (row,) = csv.reader(handle.readlines()[1:])
    assert row[3] == "'course_completed,=cmd|calc!A1,@SUM(1),2025/1/10,HNJX,,,MT101,+1+1"[1:]
    assert all(not cell.startswith(("=", "+", "-", "@")) for cell in row)


def test_audit_all_csv_writes_formula_ids_as_text(tmp_path):
    db = _ledger(tmp_path)
    ids = ["=cmd|calc!A1", "@SUM(1)", "+1+1", "-2+3", "-3.5", "+7"]
    events = tmp_path / "e.csv"
    events.write_text("kind,event_id,student_id,occurred_on,institution,program,mode\n" + "".join(
        f"enrolled,e{i},{sid},2024/9/1,HNJX,MECH-PT-2024,part_time\n" for i, sid in enumerate(ids)),
        encoding="utf-8")
    assert runner.invoke(app, ["import", str(events), "--db", db]).exit_code == 0
    out = tmp_path / "audits.csv"
    result = runner.invoke(app, ["audit-all", "--db", db, "--as-of", "2025-07-01", "--out", str(out),
                                 "--workers", "1"])
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8", newline="") as f:
        written = sorted(r["student_id"] for r in csv.DictReader(f))
    assert written == sorted(["'=cmd|calc!A1", "'@SUM(1)", "'+1+1", "'-2+3", "-3.5", "+7"])
