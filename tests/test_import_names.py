"""An import's name column (issue 14): ``name`` or ``姓名`` (or a column mapped to ``name``) on rows that carry a
student id goes to the roster, all or nothing with the rest of the import; a bad name is a problem of its line."""

from __future__ import annotations

import json

import pytest

import credit_ledger as cl
from credit_ledger.errors import ImportFileError
from credit_ledger.imports import ColumnMap, import_events, read_text

HEADER = "kind,event_id,student_id,occurred_on,institution,program,course,grade,{name}\n"


def enrol(sid: str, name: str = "") -> str:
    return f"enrolled,{sid}-enrol,{sid},2025-09-01,HNJX,CNC-SR-2025,,,{name}\n"


def course(sid: str, n: int, name: str = "") -> str:
    return f"course_completed,{sid}-c{n},{sid},2026-01-10,HNJX,,MECH101,80,{name}\n"


def write(tmp_path, text: str, suffix: str = ".csv"):
    path = tmp_path / f"in{suffix}"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("column", ["姓名", "name"])
def test_a_name_column_fills_the_roster(tmp_path, ledger, column):
    path = write(tmp_path, HEADER.format(name=column) + enrol("S1", "王小明") + course("S1", 1, "王小明")
                 + enrol("S2", "") + enrol("S3", "李娜"))
    result = import_events(ledger, path)
    assert result.written == 4
    assert {s: r.name for s, r in ledger.roster().items()} == {"S1": "王小明", "S3": "李娜"}


def test_the_reader_keeps_the_name_out_of_the_event():
    rows = list(read_text(HEADER.format(name="姓名") + enrol("S1", "王小明"), format="csv"))
    assert rows[0].personal == {"name": "王小明"} and rows[0].event.student_id == "S1"
    assert "王小明" not in rows[0].event.model_dump_json()


def test_a_mapped_name_column_and_json_lines(tmp_path, ledger):
    text = "学号,学生姓名,入学日期\nS1,王小明,2025/9/1\n"
    mapping = ColumnMap(columns={"学号": "student_id", "学生姓名": "name", "入学日期": "occurred_on"},
                        constants={"kind": "enrolled", "institution": "HNJX", "program": "CNC-SR-2025"},
                        event_id="{student_id}-enrol")
    import_events(ledger, write(tmp_path, text), mapping=mapping)
    line = json.dumps({"kind": "enrolled", "event_id": "S2-enrol", "student_id": "S2", "occurred_on": "2025-09-01",
                       "institution": "HNJX", "program": "CNC-SR-2025", "姓名": "李娜"}, ensure_ascii=False)
    import_events(ledger, write(tmp_path, line + "\n", ".jsonl"))
    assert {s: r.name for s, r in ledger.roster().items()} == {"S1": "王小明", "S2": "李娜"}


def test_a_bad_name_writes_nothing_and_names_its_line(tmp_path, ledger):
    path = write(tmp_path, HEADER.format(name="姓名") + enrol("S1", "王小明") + enrol("S2", "李\u202e娜"))
    with pytest.raises(ImportFileError) as refused:
        import_events(ledger, path)
    problem = refused.value.problems[0]
    assert (problem.line, problem.column, problem.code) == (3, "name", "personal_forbidden_character")
    assert "S2" in problem.message
    assert ledger.students() == [] and ledger.roster() == {}


def test_two_names_for_one_student_are_refused(tmp_path, ledger):
    path = write(tmp_path, HEADER.format(name="姓名") + enrol("S1", "王小明") + course("S1", 1, "王晓明"))
    with pytest.raises(ImportFileError) as refused:
        import_events(ledger, path, batch=1)
    assert [(p.line, p.code) for p in refused.value.problems] == [(3, "bad_value")]
    assert ledger.students() == [] and ledger.roster() == {}


def test_a_refused_event_rolls_the_names_back(tmp_path, ledger):
    bad = "course_completed,S1-x,S1,2026-01-10,HNJX,,NO-SUCH,80,王小明\n"
    path = write(tmp_path, HEADER.format(name="姓名") + enrol("S1", "王小明") + enrol("S2", "李娜") + bad)
    with pytest.raises(ImportFileError):
        import_events(ledger, path, batch=2)  # the first batch (and its names) is written, then rolled back
    assert ledger.students() == [] and ledger.roster() == {}


def test_a_name_the_school_may_not_set_writes_nothing(tmp_path, ledger):
    ledger.append(cl.Enrolled(event_id="S1-enrol", student_id="S1", occurred_on=cl.Enrolled.model_fields[
        "occurred_on"].annotation(2025, 9, 1), institution="HNJX", program="CNC-SR-2025"))
    xt = ledger.acting_for("XTJX")
    path = write(tmp_path, HEADER.format(name="姓名") + enrol("S1", "王小明").replace("HNJX", "XTJX"))
    with pytest.raises(ImportFileError) as refused:
        import_events(xt, path)
    # (the ledger refuses the event first: the roster's own refusal of a name is tried below)
    assert refused.value.problems[0].code in ("recorded_by_mismatch", "not_own_student", "already_enrolled")
    assert ledger.roster() == {} and len(ledger.events("S1")) == 1


def _refuse_names(monkeypatch):
    """The roster refuses every name once its event is written (as for a school that may record the student's
    events but not set the name): the path the rights above never reach, tried by itself."""
    from credit_ledger.records import Issue

    def refuse(self, student_id, **fields):
        raise cl.PermissionDenied([Issue(code="not_own_student", student_id=student_id,
                                         message=f"student {student_id}: not the school's own")])

    monkeypatch.setattr(cl.Ledger, "set_personal", refuse)
    monkeypatch.setattr("credit_ledger.ledger.WriteSession.set_personal", refuse)


def test_a_name_refused_after_its_events_were_written_writes_nothing(tmp_path, ledger, monkeypatch):
    _refuse_names(monkeypatch)
    path = write(tmp_path, HEADER.format(name="姓名") + enrol("S2") + enrol("S3") + enrol("S1", "王小明"))
    with pytest.raises(ImportFileError) as refused:
        import_events(ledger, path, batch=2)  # the first batch committed to the session, then the name refused
    assert [(p.line, p.column, p.code) for p in refused.value.problems] == [(4, "name", "not_own_student")]
    assert ledger.students() == [] and ledger.count() == 0


def test_skip_bad_counts_a_row_whose_name_was_refused_after_its_event(tmp_path, ledger, monkeypatch):
    _refuse_names(monkeypatch)
    rejects = tmp_path / "rejects.csv"
    path = write(tmp_path, HEADER.format(name="姓名") + enrol("S1", "王小明") + enrol("S2"))
    result = import_events(ledger, path, skip_bad=True, rejects=rejects)
    assert ledger.students() == ["S1", "S2"]  # the events were written; S1's name was not
    assert (result.written, result.already_present, result.rejected) == (2, 0, 1)  # already_present was -1
    assert "not_own_student" in rejects.read_text(encoding="utf-8-sig")


def test_skip_bad_sets_aside_a_row_with_a_bad_name(tmp_path, ledger):
    rejects = tmp_path / "rejects.csv"
    path = write(tmp_path, HEADER.format(name="姓名") + enrol("S1", "王小明") + enrol("S2", "李\u200b娜"))
    result = import_events(ledger, path, skip_bad=True, rejects=rejects)
    assert (result.written, result.rejected) == (1, 1)
    assert ledger.students() == ["S1"] and {s: r.name for s, r in ledger.roster().items()} == {"S1": "王小明"}
    assert "personal_forbidden_character" in rejects.read_text(encoding="utf-8-sig")


@pytest.mark.parametrize("value", [["王", "小明"], 42, True, {"姓": "王"}])
def test_a_name_that_is_not_text_in_json_lines_is_refused(tmp_path, ledger, value):
    """A JSON name that is not a string was kept as its Python repr ("['王', '小明']", "42", "True")."""
    line = json.dumps({"kind": "enrolled", "event_id": "S1-enrol", "student_id": "S1", "occurred_on": "2025-09-01",
                       "institution": "HNJX", "program": "CNC-SR-2025", "姓名": value}, ensure_ascii=False)
    with pytest.raises(ImportFileError) as refused:
        import_events(ledger, write(tmp_path, line + "\n", ".jsonl"))
    assert [(p.line, p.column, p.code) for p in refused.value.problems] == [(1, "name", "personal_bad_field")]
    assert "S1" in refused.value.problems[0].message
    assert ledger.students() == [] and ledger.roster() == {}


def test_skip_bad_writes_a_batchs_names_in_one_transaction(tmp_path, ledger, monkeypatch):
    """A correction checkpoints the write-ahead log (its old value leaves the files): once per batch of names, not
    once per row (a 50,000-row import would checkpoint 50,000 times)."""
    import credit_ledger.ledger as ledger_module

    calls = []
    real = ledger_module.forget_freed_pages
    monkeypatch.setattr(ledger_module, "forget_freed_pages", lambda store: (calls.append(1), real(store)))
    rows = "".join(enrol(f"S{i}", f"学生{i}") for i in range(30))
    result = import_events(ledger, write(tmp_path, HEADER.format(name="姓名") + rows), skip_bad=True, batch=10)
    assert (result.written, result.rejected) == (30, 0) and len(ledger.roster()) == 30
    assert calls == []  # new names: nothing old to forget
    corrected = "".join(enrol(f"S{i}", f"学生{i}号") for i in range(30))
    result = import_events(ledger, write(tmp_path, HEADER.format(name="姓名") + corrected), skip_bad=True, batch=10)
    assert result.already_present == 30 and ledger.personal("S7").name == "学生7号"
    assert len(calls) == 3
