"""The command explains itself (issue 14): --version, one line and exit 4 for an unknown student, --as-of in every
date form the imports read, errors that name the field, output paths checked before any work, plot formats by
suffix, the students and events commands, and human tables beside --json."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from cli_errors import one_line_error
from typer.testing import CliRunner

import credit_ledger as cl
from credit_ledger import demo
from credit_ledger.cli import app
from credit_ledger.cli_checks import NO_SUCH_STUDENT
from notebook_extra import needs_matplotlib

runner = CliRunner()


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> str:
    db = str(tmp_path_factory.mktemp("demo") / "demo.db")
    result = runner.invoke(app, ["demo", "--db", db])
    assert result.exit_code == 0, result.output
    return db




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


def _no_audit_runs(monkeypatch):
    """Any audit or export started fails the test: the refusal must come before the work."""
    def forbidden(*args, **kwargs):
        raise AssertionError("the work started before the output was checked")

    monkeypatch.setattr(cl.Ledger, "audit_all", forbidden)
    monkeypatch.setattr(cl.Ledger, "audit", forbidden)
    monkeypatch.setattr("credit_ledger.exports.analysis_rows", forbidden)


@pytest.mark.parametrize("command", [
    ["audit-all", "--out", "{out}"], ["export", "{out}"], ["plot", "--cohort", "--out", "{out}"],
    ["plot", demo.STUDENT, "--out", "{out}"], ["audit", demo.STUDENT, "--format", "html", "--out", "{out}"],
])
@pytest.mark.parametrize("case", ["missing folder", "file as folder", "bad suffix", "folder as file"])
def test_an_output_that_cannot_be_written_is_refused_before_any_work(demo_db, tmp_path, monkeypatch, command, case):
    good = {"audit-all": ".csv", "export": ".db", "plot": ".png", "audit": ".html"}[command[0]]
    (tmp_path / "plain").write_text("x", encoding="utf-8")
    (tmp_path / f"folder{good}").mkdir()
    out = {"missing folder": tmp_path / "no" / "such" / f"out{good}",
           "file as folder": tmp_path / "plain" / f"out{good}",
           "bad suffix": tmp_path / "out.jpg",
           "folder as file": tmp_path / f"folder{good}"}[case]
    _no_audit_runs(monkeypatch)
    args = [a.format(out=out) for a in command]
    line = one_line_error(runner.invoke(app, [*args, "--db", demo_db]))
    assert str(out) in line and "cannot write" in line
    if case == "bad suffix":
        assert ".jpg" in line and good in line
    assert not out.exists() or out.is_dir()
    assert not (tmp_path / "no").exists()


def test_an_unwritable_folder_is_refused_before_any_work(demo_db, tmp_path, monkeypatch):
    import os

    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("running as a user who may write anywhere (root)")
        _no_audit_runs(monkeypatch)
        line = one_line_error(runner.invoke(app, ["audit-all", "--out", str(locked / "a.csv"), "--db", demo_db]))
        assert "not writable" in line and str(locked) in line
    finally:
        locked.chmod(0o700)


def test_output_problem_reads_the_file_system_honestly(tmp_path):
    from credit_ledger.cli_checks import output_problem

    assert output_problem(tmp_path / "a.csv", [".csv"]) is None
    assert output_problem(tmp_path / "A.CSV", [".csv"]) is None  # a suffix in capitals is the same suffix
    assert output_problem(tmp_path / "a", [".csv"]) == f"{tmp_path / 'a'}: cannot write a file without a suffix; " \
                                                       "use .csv"
    assert output_problem(tmp_path / "anything.xyz", []) is None  # no suffix asked for: any is fine
    readonly = tmp_path / "r.csv"
    readonly.write_text("", encoding="utf-8")
    readonly.chmod(0o400)
    import os

    expected = None if os.access(readonly, os.W_OK) else f"cannot write {readonly}: the file is read-only"
    assert output_problem(readonly, [".csv"]) == expected


def test_rejects_and_statement_outputs_are_checked_before_the_work(demo_db, tmp_path):
    events = tmp_path / "events.csv"
    events.write_text("kind,event_id,student_id,occurred_on\n", encoding="utf-8")
    rejects = tmp_path / "no" / "rejects.csv"
    line = one_line_error(runner.invoke(app, ["import", str(events), "--db", demo_db, "--skip-bad",
                                              "--rejects", str(rejects)]))
    assert "cannot write" in line and str(rejects) in line
    key = tmp_path / "k.pem"
    assert runner.invoke(app, ["statement", "keygen", "--out", str(key)]).exit_code == 0
    out = tmp_path / "no" / "statement.json"
    line = one_line_error(runner.invoke(app, ["statement", "issue", demo.STUDENT, "--key", str(key), "--out",
                                              str(out), "--db", demo_db, "--acting-as", "HNJX"]))
    assert "cannot write" in line and str(out) in line
    line = one_line_error(runner.invoke(app, ["statement", "keygen", "--out", str(tmp_path / "no" / "k.pem")]))
    assert "cannot write" in line


@needs_matplotlib
@pytest.mark.parametrize("suffix, magic", [(".png", b"\x89PNG"), (".svg", b"<?xml"), (".pdf", b"%PDF"),
                                           (".SVG", b"<?xml")])
def test_plot_writes_the_format_its_suffix_names(demo_db, tmp_path, suffix, magic):
    for args in ([demo.STUDENT, "--as-of", "2028-07-10"], ["--cohort"]):
        out = tmp_path / f"picture{suffix}"
        result = runner.invoke(app, ["plot", *args, "--db", demo_db, "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert out.read_bytes().startswith(magic)
        if suffix.lower() == ".svg":
            assert b"<svg" in out.read_bytes()[:2000]
        out.unlink()


@needs_matplotlib
def test_the_library_writes_the_format_of_the_path_and_png_without_one(demo_db, tmp_path):
    from credit_ledger.plots import plot_cohort

    ledger = cl.Ledger.open(demo_db)
    report = ledger.audit(demo.STUDENT, as_of=demo.MIDWAY)
    svg = cl.plot_student(report, tmp_path / "s.svg")
    assert svg.startswith(b"<?xml") and (tmp_path / "s.svg").read_bytes() == svg
    assert cl.plot_student(report).startswith(b"\x89PNG")
    assert plot_cohort([report], tmp_path / "c.pdf").startswith(b"%PDF")


@pytest.fixture(scope="module")
def two_schools(tmp_path_factory) -> str:
    """A ledger with the demo's HNJX student and a student of XTJX (schools of one alliance)."""
    db = str(tmp_path_factory.mktemp("two") / "two.db")
    assert runner.invoke(app, ["demo", "--db", db]).exit_code == 0
    with cl.Ledger.open(db) as ledger:
        ledger.append(cl.Enrolled(event_id="XT-9-enrol", student_id="XT-9", occurred_on=date(2026, 9, 1),
                                  institution="XTJX", program="XT-CNC-2024"))
    return db


def test_students_lists_every_student_or_those_the_school_may_read(two_schools):
    every = runner.invoke(app, ["students", "--db", two_schools])
    assert every.exit_code == 0 and every.stdout.splitlines() == sorted([demo.STUDENT, "XT-9"])
    ledger = cl.Ledger.open(two_schools)
    for school in ("HNJX", "XTJX", "SANY-HV"):  # an alliance's schools read each other's; the enterprise none
        listed = runner.invoke(app, ["students", "--db", two_schools, "--acting-as", school])
        assert listed.exit_code == 0 and listed.stdout.splitlines() == ledger.acting_for(school).students()
    nobody = runner.invoke(app, ["students", "--db", two_schools, "--acting-as", "SANY-HV", "--json"])
    assert nobody.exit_code == 0 and json.loads(nobody.stdout) == []
    as_json = runner.invoke(app, ["students", "--db", two_schools, "--json"])
    assert json.loads(as_json.stdout) == sorted([demo.STUDENT, "XT-9"])


def test_students_of_an_empty_ledger_is_empty_not_an_error(tmp_path):
    db = str(tmp_path / "empty.db")
    assert runner.invoke(app, ["init", "--db", db]).exit_code == 0
    listed = runner.invoke(app, ["students", "--db", db])
    assert listed.exit_code == 0 and listed.stdout == ""
    assert json.loads(runner.invoke(app, ["students", "--db", db, "--json"]).stdout) == []


def test_events_prints_a_students_events_as_a_table_or_json(two_schools):
    ledger = cl.Ledger.open(two_schools)
    stored = ledger.events(demo.STUDENT)
    table = runner.invoke(app, ["events", demo.STUDENT, "--db", two_schools])
    assert table.exit_code == 0, table.output
    lines = table.stdout.splitlines()
    assert lines[0] == f"{demo.STUDENT}: {len(stored)} events"
    assert lines[1].split() == ["date", "kind", "event", "id", "course", "/", "target", "grade", "recorded", "by"]
    assert len(lines) == 2 + len(stored)
    for line, event in zip(lines[2:], stored):  # in recording order, one a row
        assert line.startswith(event.occurred_on.isoformat()) and event.event_id in line and event.kind in line
    assert "MT101 (makeup)" in table.stdout and "良" in table.stdout and all(not l.endswith(" ") for l in lines)
    as_json = json.loads(runner.invoke(app, ["events", demo.STUDENT, "--db", two_schools, "--json"]).stdout)
    assert as_json == [e.model_dump(mode="json") for e in stored]
    early = json.loads(runner.invoke(app, ["events", demo.STUDENT, "--db", two_schools, "--json",
                                           "--as-of", "2025年1月12日"]).stdout)
    assert [e["event_id"] for e in early] == [e.event_id for e in stored if e.occurred_on <= date(2025, 1, 12)]
    assert 0 < len(early) < len(stored)


def test_events_of_an_unknown_or_unreadable_student_is_one_line(two_schools):
    one_line_error(runner.invoke(app, ["events", "NOBODY", "--db", two_schools]), code=NO_SUCH_STUDENT)
    line = one_line_error(runner.invoke(app, ["events", demo.STUDENT, "--db", two_schools, "--acting-as",
                                              "SANY-HV"]))
    assert "not_own_student" in line


def test_every_kind_of_event_has_a_row():
    from credit_ledger.cli_tables import EVENT_COLUMNS, event_row
    from credit_ledger.models import EVENT_CLASSES

    samples = {
        "enrolled": dict(institution="HNJX", program="P1"),
        "suspended": {}, "resumed": {}, "withdrawn": {},
        "program_changed": dict(program="P2"),
        "course_completed": dict(institution="HNJX", course="C1", grade="85", attempt="retake"),
        "credit_recognized": dict(source_institution="XTJX", source_course="X1", source_credits="2",
                                  source_grade="90", source_date=date(2025, 1, 1), target={"category": "elective"},
                                  credits="2", agreement_id="A1"),
        "outcome_converted": dict(outcome_type="certificate", outcome_id="CERT-1", title="电工",
                                  target={"course": "C2"}, credits="4", rule_id="R1"),
        "outcome_revoked": dict(outcome_type="certificate", outcome_id="CERT-1"),
        "entry_reversed": dict(target_event_id="e-1", reason="typo"),
        "grade_corrected": dict(target_event_id="e-2", grade="70"),
        "exception_granted": dict(requirement_id="core", action="waive"),
        "graduated": dict(award="completion"),
    }
    assert set(samples) == set(EVENT_CLASSES)
    for kind, cls in EVENT_CLASSES.items():
        event = cls(event_id=f"e-{kind}", student_id="S1", occurred_on=date(2025, 6, 1), **samples[kind])
        row = event_row(event)
        assert len(row) == len(EVENT_COLUMNS) and row[:3] == ("2025-06-01", kind, f"e-{kind}")
    rows = {kind: event_row(cls(event_id="e", student_id="S1", occurred_on=date(2025, 6, 1), **samples[kind]))
            for kind, cls in EVENT_CLASSES.items()}
    assert rows["course_completed"][3:5] == ("C1 (retake)", "85")
    assert rows["credit_recognized"][3:5] == ("X1 -> category elective", "90")
    assert rows["outcome_converted"][3] == "CERT-1 -> C2"
    assert rows["grade_corrected"][3:5] == ("-> e-2", "70")
    assert rows["graduated"][3] == "completion"


# -- human tables, and --json exactly as before --------------------------------------------------------------------


def test_balance_is_a_table_and_json_keeps_the_model(demo_db):
    ledger = cl.Ledger.open(demo_db)
    expected = ledger.balance(demo.STUDENT, date(2026, 7, 31))
    as_json = runner.invoke(app, ["balance", demo.STUDENT, "--db", demo_db, "--as-of", "2026/7/31", "--json"])
    assert as_json.stdout == expected.model_dump_json(indent=2) + "\n"
    table = runner.invoke(app, ["balance", demo.STUDENT, "--db", demo_db, "--as-of", "2026/7/31"])
    assert table.exit_code == 0
    lines = table.stdout.splitlines()
    assert lines[0] == f"{demo.STUDENT}: {expected.total:.2f} credits as of 2026-07-31"
    assert lines[2].split() == ["total", f"{expected.total:.2f}"]
    for origin, n in expected.by_origin.items():
        assert ["origin", origin, f"{n:.2f}"] in [line.split() for line in lines]
    for category, n in expected.by_category.items():
        assert ["category", category, f"{n:.2f}"] in [line.split() for line in lines]
    assert len(lines) == 3 + len(expected.by_origin) + len(expected.by_category)
    with pytest.raises(json.JSONDecodeError):
        json.loads(table.stdout)


def test_verify_is_a_table_and_json_keeps_the_line(demo_db, tmp_path):
    import shutil
    import sqlite3

    ok_json = runner.invoke(app, ["verify", "--db", demo_db, "--json"])
    report = cl.Ledger.open(demo_db).verify()
    assert ok_json.stdout == json.dumps(report.model_dump(), ensure_ascii=False) + "\n"
    ok = runner.invoke(app, ["verify", "--db", demo_db])
    assert ok.exit_code == 0 and "ok: every row is what the library wrote" in ok.stdout
    assert ["rows", "checked", str(report.checked)] in [line.split() for line in ok.stdout.splitlines()]
    altered = str(tmp_path / "altered.db")
    shutil.copy(demo_db, altered)
    con = sqlite3.connect(altered, isolation_level=None)
    con.execute("DROP TRIGGER events_no_update")
    con.execute("UPDATE events SET payload = replace(payload, '\"grade\"', '\"grade\" ') WHERE seq = 3")
    con.close()
    bad = runner.invoke(app, ["verify", "--db", altered])
    assert bad.exit_code == 2 and "ALTERED: row 3 is not what the library wrote" in bad.stdout
    assert ["first", "bad", "row", "3"] in [line.split() for line in bad.stdout.splitlines()]
    assert runner.invoke(app, ["verify", "--db", altered, "--json"]).exit_code == 2


OUTCOMES = [{"type": "competition", "outcome_id": "HN-JNDS-2026-0001", "title": "湖南省职业技能大赛 数控车",
             "level": "省级", "rank": 2, "issued_on": "2026-05-20"},
            {"type": "certificate", "outcome_id": "X-1", "title": "电工", "level": "中级", "issued_on": "2026-05-20"}]


def test_convert_is_a_table_of_decisions_and_json_keeps_the_result(demo_db, tmp_path):
    outcomes = tmp_path / "outcomes.json"
    outcomes.write_text(json.dumps(OUTCOMES, ensure_ascii=False), encoding="utf-8")
    args = ["convert", demo.STUDENT, str(outcomes), "--db", demo_db, "--as-of", "2026-06-01", "--dry-run"]
    expected = cl.Ledger.open(demo_db).convert(demo.STUDENT, OUTCOMES, as_of=date(2026, 6, 1), dry_run=True)
    as_json = runner.invoke(app, [*args, "--json"])
    assert as_json.stdout == expected.model_dump_json(indent=2, exclude={"events"}) + "\n"
    table = runner.invoke(app, args)
    assert table.exit_code == 0, table.output
    accepted = sum(d.accepted for d in expected.decisions)
    assert table.stdout.splitlines()[0] == (f"{demo.STUDENT}: {accepted} of {len(expected.decisions)} accepted, "
                                            f"{expected.credits:.2f} credits; nothing written (dry run)")
    for decision in expected.decisions:
        row = next(line for line in table.stdout.splitlines() if decision.item in line and not line.startswith("-"))
        assert row.split()[:2] == ["yes" if decision.accepted else "no", f"{decision.credits:.2f}"]
        if decision.code:
            assert decision.code in row and f"- {decision.item}: [{decision.code}]" in table.stdout
    assert any(d.code for d in expected.decisions) and "why:" in table.stdout


def test_a_conversion_that_writes_says_so(tmp_path):
    db = str(tmp_path / "w.db")
    assert runner.invoke(app, ["demo", "--db", db]).exit_code == 0
    outcomes = tmp_path / "outcomes.json"
    outcomes.write_text(json.dumps(OUTCOMES[:1], ensure_ascii=False), encoding="utf-8")
    before = cl.Ledger.open(db).count()
    written = runner.invoke(app, ["convert", demo.STUDENT, str(outcomes), "--db", db, "--as-of", "2026-06-01"])
    assert written.exit_code == 0, written.output
    added = cl.Ledger.open(db).count() - before
    assert added > 0 and f"; {added} events written" in written.stdout.splitlines()[0]


def test_decisions_table_lists_every_code_of_a_decision():
    """A decision that several rules refuse shows every code (``codes``, where decisions carry them); one with only
    ``code`` shows that."""
    from credit_ledger.cli_tables import decisions_table
    from credit_ledger.transfer import Decision, RecognitionResult

    one = Decision(item="certificate C-1 (电工)", accepted=False, code="not_a_member", message="too late")
    result = RecognitionResult(student_id="S1", decisions=(one,), dry_run=True)
    assert "- certificate C-1 (电工): [not_a_member] too late" in decisions_table(result)

    class Several:
        item, accepted, credits, target, rule = "course X1", False, Decimal("0"), (), "AG-1"
        code, codes, message = "not_a_member", ["not_a_member", "too_old"], "refused"

    class Result:
        student_id, statement_id, dry_run, events = "S1", "ST-1", False, ()
        decisions = (Several(),)
        accepted, credits = (), Decimal("0")

    text = decisions_table(Result())
    assert "not_a_member, too_old" in text and "[not_a_member, too_old] refused" in text
    assert text.splitlines()[0] == "S1 from statement ST-1: 0 of 1 accepted, 0.00 credits; nothing written"


def test_statement_receive_is_a_table_and_json_keeps_the_result(demo_db, tmp_path):
    key = tmp_path / "hnjx.pem"
    made = runner.invoke(app, ["statement", "keygen", "--out", str(key)])
    trusted = tmp_path / "keys.json"
    trusted.write_text(json.dumps({"HNJX": made.stdout.strip()}), encoding="utf-8")
    statement = tmp_path / "statement.json"
    assert runner.invoke(app, ["statement", "issue", demo.STUDENT, "--key", str(key), "--out", str(statement),
                               "--db", demo_db, "--acting-as", "HNJX"]).exit_code == 0
    partner = str(tmp_path / "xtjx.db")
    with cl.Ledger.open(partner, create=True) as setup:
        setup.load_catalog(cl.Catalog.sample())
        setup.append(cl.Enrolled(event_id="XT-9-enrol", student_id="XT-9", occurred_on=date(2026, 9, 1),
                                 institution="XTJX", program="XT-CNC-2024"))
    args = ["statement", "receive", str(statement), "--trusted", str(trusted), "--db", partner, "--acting-as", "XTJX",
            "--student-id", "XT-9", "--as-of", "2026-09-10", "--dry-run"]
    as_json = runner.invoke(app, [*args, "--json"])
    assert as_json.exit_code == 0, as_json.output
    result = cl.RecognitionResult.model_validate_json(as_json.stdout)
    table = runner.invoke(app, args)
    assert table.exit_code == 0, table.output
    head = table.stdout.splitlines()[0]
    assert head.startswith(f"XT-9 from statement {result.statement_id}: {len(result.accepted)} of "
                           f"{len(result.decisions)} accepted") and head.endswith("nothing written (dry run)")
    for decision in result.decisions:
        assert decision.item in table.stdout


def test_plot_of_an_unknown_student_is_exit_4_and_draws_nothing(demo_db, tmp_path):
    out = tmp_path / "nobody.png"
    one_line_error(runner.invoke(app, ["plot", "NOBODY", "--db", demo_db, "--out", str(out)]), code=NO_SUCH_STUDENT)
    assert not out.exists()
