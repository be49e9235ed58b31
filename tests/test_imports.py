"""Imports: CSV and JSON Lines readers (default layout, mapping files, date and grade forms, problems naming the
line and column) and imports that are all-or-nothing, or skip the bad rows into a rejects file."""

from __future__ import annotations

import csv
import json
from datetime import date
from decimal import Decimal

import pytest

import credit_ledger as cl
from credit_ledger.errors import ImportFileError
from credit_ledger.imports import ColumnMap, ImportResult, import_events, read_rows, read_text

HEADER = "kind,event_id,student_id,occurred_on,institution,program,mode,course,grade,attempt,term\n"
ENROL = "enrolled,s1-enrol,S1,2024-09-01,HNJX,MECH-PT-2024,part_time,,,,\n"
GOOD = [
    ENROL,
    "course_completed,s1-c1,S1,2025/1/10,HNJX,,,PUB101,82,,2024-2025-1\n",
    "course_completed,s1-c2,S1,2025.1.12,HNJX,,,MT101,良,,2024-2025-1\n",
    "course_completed,s1-c3,S1,2025-01-15,HNJX,,,PUB106,合格,,2024-2025-1\n",
]


def _write(tmp_path, name: str, text: str, encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_text(text, encoding=encoding)
    return path


def _events(rows):
    return [r.event for r in rows if r.event is not None]


def _errors(rows):
    return [r.error for r in rows if r.error is not None]


# -- reading ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig"])
def test_csv_default_layout_with_or_without_a_bom(tmp_path, encoding):
    path = _write(tmp_path, "grades.csv", HEADER + "".join(GOOD), encoding)
    rows = list(read_rows(path))
    assert [r.line for r in rows] == [2, 3, 4, 5] and not _errors(rows)
    enrol, c1, c2, c3 = _events(rows)
    assert isinstance(enrol, cl.Enrolled) and enrol.mode == "part_time"
    assert c1.occurred_on == date(2025, 1, 10) and c1.grade.score == Decimal("82")
    assert c2.occurred_on == date(2025, 1, 12) and c2.grade.level == "good"
    assert c3.grade.scale == "pass_fail" and c3.grade.level == "pass"


def test_chinese_and_english_grade_words(tmp_path):
    words = {"优": "excellent", "良": "good", "中": "average", "及格": "pass", "不及格": "fail",
             "不合格": "fail", "excellent": "excellent"}
    lines = [f"course_completed,e{i},S1,2025-01-10,HNJX,,,MT101,{w},,\n" for i, w in enumerate(words)]
    rows = list(read_rows(_write(tmp_path, "g.csv", HEADER + "".join(lines))))
    assert [e.grade.level for e in _events(rows)] == list(words.values())


def test_json_lines_by_suffix_or_given(tmp_path):
    lines = [
        {"kind": "enrolled", "event_id": "s1-enrol", "student_id": "S1", "occurred_on": "2024/9/1",
         "institution": "HNJX", "program": "MECH-PT-2024"},
        {"kind": "course_completed", "event_id": "s1-c1", "student_id": "S1", "occurred_on": "2025-01-10",
         "institution": "HNJX", "course": "MT101", "grade": "优", "credits": None},
        {"kind": "course_completed", "event_id": "s1-c2", "student_id": "S1", "occurred_on": "2025-01-10",
         "institution": "HNJX", "course": "MT102", "grade": 77.5},
    ]
    text = "\n".join(json.dumps(d, ensure_ascii=False) for d in lines) + "\n\n"
    for name, fmt in (("e.jsonl", None), ("e.ndjson", None), ("e.txt", "jsonl")):
        rows = list(read_rows(_write(tmp_path, name, text), format=fmt))
        assert [r.line for r in rows] == [1, 2, 3] and not _errors(rows)
        assert _events(rows)[0].occurred_on == date(2024, 9, 1) and _events(rows)[2].grade.score == Decimal("77.5")


def test_mapping_file_renames_columns_fills_constants_and_makes_event_ids(tmp_path):
    export = ("学号,姓名,课程代码,成绩,考试日期,学期\n"
              "S1,李娜,MT101,良好,2025/1/12,2024-2025-1\n"
              "S1,李娜,PUB101,85,2025/1/10,2024-2025-1\n")
    path = _write(tmp_path, "export.csv", export, "utf-8-sig")
    mapping = {"columns": {"学号": "student_id", "课程代码": "course", "成绩": "grade", "考试日期": "occurred_on",
                           "学期": "term"},
               "constants": {"kind": "course_completed", "institution": "HNJX"},
               "event_id": "{student_id}-{course}-{term}"}
    yaml_map = _write(tmp_path, "map.yaml", "columns:\n" + "".join(
        f"  {k}: {v}\n" for k, v in mapping["columns"].items())
        + "constants: {kind: course_completed, institution: HNJX}\n"
        + 'event_id: "{student_id}-{course}-{term}"\n')
    json_map = _write(tmp_path, "map.json", json.dumps(mapping, ensure_ascii=False))
    for m in (yaml_map, json_map, ColumnMap.model_validate(mapping)):
        rows = list(read_rows(path, mapping=m))
        assert not _errors(rows)
        first = _events(rows)[0]
        assert first.event_id == "S1-MT101-2024-2025-1" and first.institution == "HNJX"
        assert first.grade.level == "good" and first.occurred_on == date(2025, 1, 12)


def test_a_mapping_template_naming_an_empty_field_is_missing_field(tmp_path):
    path = _write(tmp_path, "e.csv", "学号,课程代码\nS1,\n")
    mapping = ColumnMap(columns={"学号": "student_id", "课程代码": "course"}, constants={"kind": "course_completed"},
                        event_id="{student_id}-{course}")
    (row,) = read_rows(path, mapping=mapping)
    assert (row.error.line, row.error.column, row.error.code) == (2, "course", "missing_field")


def test_a_bad_mapping_file_is_one_clear_error(tmp_path):
    bad = _write(tmp_path, "map.yaml", "columns: [not, a, mapping]\n")
    with pytest.raises(ImportFileError) as caught:
        list(read_rows(_write(tmp_path, "e.csv", HEADER), mapping=bad))
    assert caught.value.codes == ["bad_map"] and "map.yaml" in str(caught.value)


@pytest.mark.parametrize(("cell_line", "column", "code"), [
    ("course_completed,e1,S1,2025/13/40,HNJX,,,MT101,80,,", "occurred_on", "bad_date"),
    ("course_completed,e1,S1,next monday,HNJX,,,MT101,80,,", "occurred_on", "bad_date"),
    ("course_completed,e1,S1,1900-01-01,HNJX,,,MT101,80,,", "occurred_on", "bad_date"),
    ("course_completed,e1,S1,2025-01-10,HNJX,,,MT101,很好,,", "grade", "bad_grade"),
    ("course_completed,e1,S1,2025-01-10,HNJX,,,MT101,180,,", "grade", "bad_grade"),
    ("course_completed,e1,S1,2025-01-10,HNJX,,,MT101,80,twice,", "attempt", "bad_value"),
    ("course_completed,e1,S1,2025-01-10,HNJX,,,,80,,", "course", "missing_field"),
    (",e1,S1,2025-01-10,HNJX,,,MT101,80,,", "kind", "missing_field"),
    ("course_done,e1,S1,2025-01-10,HNJX,,,MT101,80,,", "kind", "unknown_kind"),
    ("course_completed,e1,S1,2025-01-10,HNJX,,full_time,MT101,80,,", "mode", "unexpected_field"),
])
def test_each_problem_names_its_line_column_and_code(tmp_path, cell_line, column, code):
    path = _write(tmp_path, "e.csv", HEADER + ENROL + cell_line + "\n")
    rows = list(read_rows(path))
    assert rows[0].event is not None
    problem = rows[1].error
    assert (problem.line, problem.column, problem.code) == (3, column, code)
    with pytest.raises(ImportFileError) as caught:
        import_events(cl.Ledger.open(None), path)
    assert str(caught.value).startswith(f"{path}: line 3, column {column!r}: [{code}]")


def test_jsonl_problems_name_their_line(tmp_path):
    text = ('{"kind": "suspended", "event_id": "x", "student_id": "S1", "occurred_on": "2025-01-01"}\n'
            "not json\n"
            "[1, 2]\n"
            '{"kind": "suspended", "event_id": "y", "student_id": "S1", "occurred_on": "2025/2/30"}\n')
    rows = list(read_rows(_write(tmp_path, "e.jsonl", text)))
    assert rows[0].event is not None
    assert [(p.line, p.code) for p in _errors(rows)] == [(2, "bad_json"), (3, "bad_json"), (4, "bad_date")]
    assert _errors(rows)[2].column == "occurred_on"


def test_unknown_columns_and_formats_are_reported(tmp_path):
    rows = list(read_rows(_write(tmp_path, "e.csv", "kind,班级\nsuspended,数控1班\n")))  # (姓名 is the roster's)
    assert (rows[0].line, rows[0].error.column, rows[0].error.code) == (1, "班级", "unknown_column")
    with pytest.raises(ImportFileError) as caught:
        list(read_rows(_write(tmp_path, "e.xlsx", "")))
    assert caught.value.codes == ["bad_format"]
    with pytest.raises(ImportFileError) as caught:
        list(read_rows(tmp_path / "missing.csv"))
    assert caught.value.codes == ["unreadable_file"]


def test_a_multiline_cell_keeps_the_next_rows_line_numbers(tmp_path):
    text = ("kind,event_id,student_id,occurred_on,reason\n"
            'suspended,s1-s,S1,2025-09-01,"busy\nseason"\n'
            "resumed,s1-r,S1,2025-13-01,back\n")
    rows = list(read_rows(_write(tmp_path, "e.csv", text)))
    assert rows[0].line == 2 and rows[0].event.reason == "busy\nseason"
    assert rows[1].error.line == 4


# -- importing ----------------------------------------------------------------------------------------------------


def test_all_or_nothing_writes_nothing_when_one_row_is_bad(ledger, tmp_path):
    ledger.append(cl.Enrolled(event_id="s0-enrol", student_id="S0", occurred_on=date(2024, 9, 1),
                              institution="HNJX", program="MECH-PT-2024", mode="part_time"))
    before, head = ledger.count(), ledger.head()
    bad_row = "course_completed,s1-c9,S1,2025-01-10,HNJX,,,MT101,80,,\n".replace("2025-01-10", "2025/2/30")
    path = _write(tmp_path, "e.csv", HEADER + "".join(GOOD) + bad_row)
    with pytest.raises(ImportFileError) as caught:
        import_events(ledger, path)
    assert caught.value.problems[0].line == 6 and caught.value.codes == ["bad_date"]
    refused = _write(tmp_path, "r.csv", HEADER + "".join(GOOD)
                     + "course_completed,s1-c9,S1,2025-01-10,HNJX,,,NOPE101,80,,\n")
    with pytest.raises(ImportFileError) as caught:
        import_events(ledger, refused)
    assert caught.value.problems[0].line == 6 and caught.value.codes == ["unknown_course"]
    assert ledger.count() == before and ledger.head() == head and ledger.verify().ok


def test_import_is_idempotent(ledger, tmp_path):
    path = _write(tmp_path, "e.csv", HEADER + "".join(GOOD))
    seen: list[tuple[int, int]] = []
    first = import_events(ledger, path, progress=lambda done, total: seen.append((done, total)))
    assert first == ImportResult(read=4, written=4, already_present=0, rejected=0)
    assert seen[0] == (0, 4) and seen[-1] == (4, 4)
    again = import_events(ledger, path)
    assert (again.written, again.already_present) == (0, 4)
    assert ledger.count() == 4 and ledger.verify().ok
    assert {r.course for r in ledger.transcript("S1").records} == {"PUB101", "MT101", "PUB106"}


@pytest.mark.parametrize("batch", [1, 2, 5000])
def test_skip_bad_writes_the_good_rows_and_lists_the_rejected(ledger, tmp_path, batch):
    text = (HEADER + GOOD[0] + GOOD[1]
            + "course_completed,s1-bad1,S1,2025-02-30,HNJX,,,MT101,80,,\n"        # line 4: unreadable
            + "course_completed,s1-bad2,S1,2025-01-11,HNJX,,,NOPE101,80,,\n"      # line 5: refused by the ledger
            + GOOD[2] + GOOD[3])
    path = _write(tmp_path, "e.csv", text)
    rejects = tmp_path / "rejects.csv"
    result = import_events(ledger, path, skip_bad=True, rejects=rejects, batch=batch)
    assert (result.read, result.written, result.already_present, result.rejected) == (6, 4, 0, 2)
    assert result.rejects_file == str(rejects)
    with open(rejects, encoding="utf-8-sig", newline="") as handle:
        listed = list(csv.DictReader(handle))
    assert [(r["line"], r["code"]) for r in listed] == [("4", "bad_date"), ("5", "unknown_course")]
    assert "NOPE101" in listed[1]["message"] and listed[1]["raw"].startswith("course_completed,s1-bad2")
    assert ledger.count() == 4 and ledger.verify().ok
    again = import_events(ledger, path, skip_bad=True, batch=batch)
    assert (again.written, again.already_present, again.rejected, again.rejects_file) == (0, 4, 2, None)


def test_skip_bad_drops_an_event_refused_for_a_row_it_depends_on(ledger, tmp_path):
    """A grade correction of a refused completion is refused in turn, and listed with its own line."""
    text = (HEADER.rstrip("\n") + ",target_event_id\n"
            + GOOD[0].rstrip("\n") + ",\n"
            + "course_completed,s1-x,S1,2025-01-11,HNJX,,,NOPE101,80,,,\n"
            + "grade_corrected,s1-fix,S1,2025-02-01,,,,,85,,,s1-x\n"
            + GOOD[1].rstrip("\n") + ",\n")
    result = import_events(ledger, _write(tmp_path, "e.csv", text), skip_bad=True, rejects=tmp_path / "r.csv",
                           batch=10)
    assert (result.written, result.rejected) == (2, 2)
    with open(tmp_path / "r.csv", encoding="utf-8-sig", newline="") as handle:
        assert [r["line"] for r in csv.DictReader(handle)] == ["3", "4"]


# -- bad files: typed problems naming the line and column, bounded reading, the ledger unchanged ----------------------

JSON_ENROL = {"kind": "enrolled", "event_id": "s1-enrol", "student_id": "S1", "occurred_on": "2024-09-01",
              "institution": "HNJX", "program": "MECH-PT-2024"}


def _jsonl(*rows) -> str:
    return "".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in rows)


def _refused_whole(ledger, path, **kw) -> ImportFileError:
    """Import ``path`` all-or-nothing and with ``skip_bad``; both refuse it, and the ledger is as it was."""
    before = (ledger.count(), ledger.head())
    with pytest.raises(ImportFileError) as caught:
        import_events(ledger, path, **kw)
    with pytest.raises(ImportFileError) as again:
        import_events(ledger, path, skip_bad=True, rejects=path.with_suffix(".rejects.csv"), **kw)
    assert again.value.codes == caught.value.codes
    assert (ledger.count(), ledger.head()) == before and ledger.verify().ok
    assert str(path) in str(caught.value)
    return caught.value


@pytest.mark.parametrize("depth", [33, 900, 50_000])
def test_deep_json_nesting_is_too_deep_not_a_recursion_error(ledger, tmp_path, depth):
    nested = "[" * depth + "]" * depth
    path = _write(tmp_path, "e.jsonl", _jsonl(JSON_ENROL, '{"kind": "suspended", "reason": ' + nested + "}"))
    rows = list(read_rows(path))
    assert rows[0].event is not None
    assert (rows[1].line, rows[1].error.code) == (2, "too_deep")
    with pytest.raises(ImportFileError) as caught:
        import_events(ledger, path)
    assert caught.value.codes == ["too_deep"] and ledger.count() == 0
    assert str(caught.value).startswith(f"{path}: line 2: [too_deep] the row nests deeper than 32 levels")


def test_nesting_as_deep_as_allowed_and_brackets_in_strings_are_read(tmp_path):
    brackets = "[{" * 40
    shallow = '{"kind": "suspended", "x": ' + "[" * 31 + "]" * 31 + "}"
    path = _write(tmp_path, "e.jsonl", _jsonl({**JSON_ENROL, "employer": brackets}, shallow))
    rows = list(read_rows(path))
    assert rows[0].event.employer == brackets
    assert rows[1].error.code == "missing_field"  # read, then refused for what it lacks, not for its nesting


@pytest.mark.parametrize("size", [65_537, 131_000])
def test_a_csv_cell_over_the_cell_limit_is_a_problem_of_its_row_and_column(ledger, tmp_path, size):
    text = (HEADER.rstrip("\n") + ",reason\n" + ENROL.rstrip("\n") + ",\n"
            + "suspended,s1-s,S1,2025-01-10,,,,,,,," + "长" * size + "\n"
            + GOOD[1].rstrip("\n") + ",\n")
    path = _write(tmp_path, "e.csv", text)
    rows = list(read_rows(path))
    assert [(r.line, r.error.code if r.error else None) for r in rows] == [(2, None), (3, "cell_too_long"), (4, None)]
    assert rows[1].error.column == "reason" and len(rows[1].raw) < 1_100
    with pytest.raises(ImportFileError) as caught:
        import_events(ledger, path)
    assert str(caught.value).startswith(f"{path}: line 3, column 'reason': [cell_too_long]")
    assert ledger.count() == 0
    result = import_events(ledger, path, skip_bad=True, rejects=tmp_path / "r.csv")
    assert (result.written, result.rejected) == (2, 1)
    with open(tmp_path / "r.csv", encoding="utf-8-sig", newline="") as handle:
        (listed,) = csv.DictReader(handle)
    assert (listed["line"], listed["code"]) == ("3", "cell_too_long") and listed["raw"].endswith("…")


@pytest.mark.parametrize("quoted", [False, True])
def test_a_csv_row_over_the_line_limit_stops_the_file_naming_its_line_and_column(ledger, tmp_path, quoted):
    """A cell beyond the csv module's own limit (128 Ki) was a bare ``_csv.Error``; an unclosed quote swallows
    the rest of the file into one cell. Either way the row's end can't be found: the file is refused whole."""
    huge = '"unclosed\n' + "more\n" * 30_000 if quoted else "x" * 200_000 + "\n"
    path = _write(tmp_path, "e.csv", "kind,event_id,student_id,occurred_on,reason\n"
                  "suspended,s1-s,S1,2025-01-10,fine\n" "suspended,s1-t,S1,2025-01-11," + huge)
    problem = _refused_whole(ledger, path).problems[0]
    assert (problem.line, problem.column, problem.code) == (3, "reason", "line_too_long")


def test_a_json_line_over_the_line_limit_is_a_problem_of_that_line_only(ledger, tmp_path):
    long_line = json.dumps({"kind": "suspended", "reason": "x" * 200_000})
    path = _write(tmp_path, "e.jsonl", _jsonl(JSON_ENROL, long_line, {**JSON_ENROL, "event_id": "s2-enrol",
                                                                      "student_id": "S2"}))
    rows = list(read_rows(path))
    assert [(r.line, r.error.code if r.error else None) for r in rows] == [(1, None), (2, "line_too_long"), (3, None)]
    assert len(rows[1].raw) < 1_100
    string = json.dumps({"kind": "suspended", "reason": "x" * 70_000})
    (row,) = read_rows(_write(tmp_path, "s.jsonl", string + "\n"))
    assert (row.error.column, row.error.code) == ("reason", "cell_too_long")


@pytest.mark.parametrize(("data", "line", "column", "code", "says"), [
    (b"kind,reason\nsuspended,ab\x00cd\n", 2, "reason", "binary_content", "a NUL at character 13 of line 2"),
    (b"PK\x03\x04\x14\x00\x08\x00", 1, None, "binary_content", "the file is binary"),
    ("kind,reason\nsuspended,ok\n".encode("utf-16"), 1, None, "bad_encoding", "the file is UTF-16"),
    ("kind,reason\nsuspended,ok\n".encode("utf-16-le"), 1, None, "binary_content", "UTF-16"),
    ("kind,reason\nsuspended,病假\n".encode("gbk"), 2, "reason", "bad_encoding", "GBK"),
    (b"kind,event_id,reason\nsuspended,e1,\"two\nlines \xff\"\n", 3, "reason", "bad_encoding",
     "byte 0xFF at character 7 of line 3 is not UTF-8"),
    (b"kind,re\xc0\x80son\n", 1, None, "bad_encoding", "byte 0xC0 at character 8 of line 1"),
])
def test_binary_content_and_wrong_encodings_name_line_column_and_character(ledger, tmp_path, data, line, column,
                                                                           code, says):
    path = tmp_path / "e.csv"
    path.write_bytes(data)
    problem = _refused_whole(ledger, path).problems[0]
    assert (problem.line, problem.column, problem.code) == (line, column, code)
    assert says in problem.message and "UTF-8" in problem.message


def test_a_bad_byte_in_a_json_line_stops_the_file_with_the_rows_before_it_read(tmp_path):
    path = tmp_path / "e.jsonl"
    path.write_bytes(_jsonl(JSON_ENROL).encode() + b'{"kind": "suspended", "reason": "\xe4\xb8"}\n')
    rows = read_rows(path)
    assert next(rows).event is not None
    with pytest.raises(ImportFileError) as caught:
        next(rows)
    problem = caught.value.problems[0]
    assert (problem.line, problem.code) == (2, "bad_encoding") and "character 34 of line 2" in problem.message


def test_json_keys_given_twice_and_lone_surrogates_are_bad_json(tmp_path):
    text = ('{"kind": "suspended", "kind": "withdrawn"}\n'
            '{"kind": "suspended", "reason": "\\ud800 half"}\n'
            '{"kind": "course_completed", "grade": ' + "9" * 50 + "}\n")
    rows = list(read_rows(_write(tmp_path, "e.jsonl", text)))
    assert [(p.line, p.column, p.code) for p in _errors(rows)] == [
        (1, "kind", "bad_json"), (2, "reason", "bad_json"), (3, None, "bad_json")]
    assert "given twice" in rows[0].error.message and "50 digits" in rows[2].error.message


def test_messages_show_odd_characters_as_escapes(tmp_path):
    """A message quotes what the cell holds, with controls escaped: it can't drive a terminal or break a file."""
    path = _write(tmp_path, "e.csv", "kind,event_id,student_id,occurred_on\nsuspended,e1,S1\x1b[31m,2025-01-10\n")
    (row,) = read_rows(path)
    assert row.error.column == "student_id" and "\x1b" not in row.error.message
    assert "S1\\x1b[31m" in row.error.message


@pytest.mark.parametrize("template", ["{", "{student_id!r}", "{student_id:>9999999999}", "{}", "{0}",
                                      "{student_id[0]}"])
def test_an_event_id_template_names_plain_fields_only(tmp_path, template):
    with pytest.raises(ValueError):
        ColumnMap(event_id=template)
    bad = _write(tmp_path, "map.json", json.dumps({"event_id": template}))
    with pytest.raises(ImportFileError) as caught:
        list(read_rows(_write(tmp_path, "e.csv", HEADER), mapping=bad))
    assert caught.value.codes == ["bad_map"]


def test_a_template_may_name_a_dotted_field(tmp_path):
    mapping = ColumnMap(columns={"学号": "student_id"}, event_id="{student_id}-{target.course}")
    (row,) = read_rows(_write(tmp_path, "e.csv", "学号,target.course,kind\nS1,MT101,suspended\n"), mapping=mapping)
    assert row.error.code == "missing_field" and row.error.column == "occurred_on"


def test_a_bad_mapping_file_names_its_line(tmp_path):
    bad = _write(tmp_path, "map.yaml", "columns:\n  学号: student_id\n  - 课程\n")
    with pytest.raises(ImportFileError) as caught:
        list(read_rows(_write(tmp_path, "e.csv", HEADER), mapping=bad))
    assert caught.value.problems[0].line == 3 and "column 3" in str(caught.value)


@pytest.mark.parametrize("name", ["folder", "nul\x00.csv"])
def test_a_path_that_is_no_file_is_unreadable(tmp_path, name):
    (tmp_path / "folder").mkdir()
    with pytest.raises(ImportFileError) as caught:
        list(read_rows(str(tmp_path / name), format="csv"))
    assert caught.value.codes == ["unreadable_file"]


def test_read_text_refuses_a_lone_surrogate_and_a_nul(tmp_path):
    for text, code in (("kind\nsuspended\ud800\n", "bad_encoding"), ("kind\nsus\x00pended\n", "binary_content")):
        with pytest.raises(ImportFileError) as caught:
            list(read_text(text, format="csv"))
        assert caught.value.codes == [code] and caught.value.problems[0].line == 2


def test_the_limits_are_documented_in_the_readme():
    from pathlib import Path

    from credit_ledger import imports

    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Imports")[1].split("\n## ")[0]
    for value in (imports.MAX_LINE_CHARS, imports.MAX_CELL_CHARS):
        assert f"{value:,}" in section
    assert f"{imports.MAX_DEPTH} levels" in section
    for code in ("too_deep", "cell_too_long", "line_too_long", "binary_content", "bad_encoding"):
        assert f"`{code}`" in section


def test_the_rejects_file_writes_formulas_as_text(ledger, tmp_path):
    """A rejected row's cells (its raw text, a message that quotes a value) reach a spreadsheet as text."""
    text = ("学号,课程代码,成绩,考试日期\n"
            "=cmd|calc!A1,MT101,80,2025/1/12\n"
            "@SUM(1),MT101,80,2025/1/12\n"
            "-2+3,MT101,-3.5,2025/1/12\n")
    mapping = ColumnMap(columns={"学号": "student_id", "课程代码": "course", "成绩": "grade",
                                 "考试日期": "occurred_on"},
                        constants={"kind": "course_completed", "institution": "HNJX"},
                        event_id="{student_id}-{course}")
    result = import_events(ledger, _write(tmp_path, "e.csv", text), mapping=mapping, skip_bad=True,
                           rejects=tmp_path / "r.csv")
    assert (result.written, result.rejected) == (0, 3)
    with open(tmp_path / "r.csv", encoding="utf-8-sig", newline="") as handle:
        listed = list(csv.DictReader(handle))
    assert [r["raw"] for r in listed] == ["'=cmd|calc!A1,MT101,80,2025/1/12", "'@SUM(1),MT101,80,2025/1/12",
                                          "'-2+3,MT101,-3.5,2025/1/12"]
    assert listed[2]["code"] == "bad_grade" and listed[2]["message"].startswith("'-3.5")
