"""Canonical identifiers (issue 12, attack 3): a look-alike of a stored id is not a second student.

``S1`` is enrolled; ``S1`` + zero-width space, full-width ``Ｓ1``, Cyrillic ``Ѕ1``, ``S1`` + right-to-left override,
``S1`` + no-break space and `` S1`` are refused (each with the code of its rule, naming the character and the id it
imitates), on both engines, and leave the ledger as it was; ordinary ids (``李娜-2025``, ``HNJX-2024-0317``) are
accepted. The rules themselves (``identifiers``) are tested as properties; stored ids are kept, and ``verify``
reports those the rules would refuse; catalog codes are checked when a catalog is loaded.
"""

from __future__ import annotations

import json
import unicodedata
from datetime import date

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from pydantic import ValidationError

import credit_ledger as cl
from credit_ledger import id_checks
from credit_ledger.errors import ImportFileError
from credit_ledger.identifiers import FORBIDDEN_CATEGORIES, problems, skeleton, skeleton_key
from credit_ledger.imports import import_events

ENROLLED_ON = date(2025, 9, 1)


def enrol(student_id: str, event_id: str | None = None) -> cl.Enrolled:
    return cl.Enrolled(event_id=event_id or f"{student_id}-enrol", student_id=student_id, occurred_on=ENROLLED_ON,
                       institution="HNJX", program="CNC-SR-2025")


def course(student_id: str, event_id: str) -> cl.CourseCompleted:
    return cl.CourseCompleted(event_id=event_id, student_id=student_id, occurred_on=date(2026, 1, 5),
                              institution="HNJX", course="MECH101", grade=80)


def state(ledger: cl.Ledger) -> tuple:
    return ledger.count(), ledger.students(), ledger.head()


# -- the attack: look-alikes of S1 ---------------------------------------------------------------------------------

LOOKALIKES = [
    pytest.param("S1\u200b", "id_forbidden_character", "U+200B ZERO WIDTH SPACE", id="zero-width-space"),
    pytest.param("\uff331", "id_not_normalized", "U+FF33 FULLWIDTH LATIN CAPITAL LETTER S", id="full-width"),
    pytest.param("\u04051", "id_lookalike", "U+0405 CYRILLIC CAPITAL LETTER DZE", id="cyrillic-dze"),
    pytest.param("S1\u202e", "id_forbidden_character", "U+202E RIGHT-TO-LEFT OVERRIDE", id="rtl-override"),
]


@pytest.mark.parametrize("lookalike, code, character", LOOKALIKES)
def test_a_lookalike_of_a_stored_student_is_refused(ledger, lookalike, code, character):
    ledger.append(enrol("S1"))
    before = state(ledger)
    with pytest.raises(cl.RejectedEvent) as refused:
        ledger.append(enrol(lookalike, event_id="second-enrol"))
    assert refused.value.codes == [code]
    issue = refused.value.issues[0]
    assert issue.student_id == lookalike and issue.event_id == "second-enrol"
    assert character in issue.message and "'S1'" in issue.message and "already in the ledger" in issue.message
    assert "\u202e" not in issue.message and "\u200b" not in issue.message  # written as escapes
    assert state(ledger) == before
    assert ledger.students() == ["S1"]


@pytest.mark.parametrize("lookalike, where", [("S1\u00a0", "ends with U+00A0 NO-BREAK SPACE"),
                                              (" S1", "begins with U+0020 SPACE")])
def test_a_lookalike_with_a_surrounding_space_is_refused(ledger, lookalike, where):
    """A space around an id is refused when the event is read (the model's pattern), and at the door when an event
    is built without validation."""
    ledger.append(enrol("S1"))
    before = state(ledger)
    with pytest.raises(ValidationError):
        enrol(lookalike, event_id="second-enrol")
    with pytest.raises(ValidationError):
        ledger.append(enrol("S1", "second-enrol").model_dump(mode="json") | {"student_id": lookalike})
    unchecked = cl.Enrolled.model_construct(**(dict(enrol("S1", "second-enrol")) | {"student_id": lookalike}))
    with pytest.raises(cl.RejectedEvent) as refused:
        ledger.append(unchecked)
    assert refused.value.codes[0] == "id_surrounding_space"
    assert where in refused.value.issues[0].message and "'S1'" in refused.value.issues[0].message
    assert state(ledger) == before


@pytest.mark.parametrize("student_id", ["李娜-2025", "HNJX-2024-0317", "张三", "S-001"])
def test_ordinary_ids_are_accepted(ledger, student_id):
    ledger.append(enrol("S1"))
    ledger.append(enrol(student_id))
    ledger.append(course(student_id, f"{student_id}-MECH101"))
    assert student_id in ledger.students() and ledger.balance(student_id).total == 4
    assert ledger.verify().identifier_issues == ()


def test_a_lookalike_event_id_is_refused(ledger):
    ledger.append(enrol("S1", "S1-enrol"))
    with pytest.raises(cl.RejectedEvent) as refused:
        ledger.append(course("S1", "S1-enroI"))  # capital I for l
    assert refused.value.codes == ["id_lookalike"]
    assert "the event id 'S1-enroI' looks like 'S1-enrol', an event already in the ledger" in str(refused.value)
    assert "U+0049 LATIN CAPITAL LETTER I imitates 'l'" in str(refused.value)


def test_two_lookalikes_in_one_batch_write_nothing(ledger):
    with pytest.raises(cl.RejectedEvent) as refused:
        ledger.append_many([enrol("S-001"), enrol("S-0O1")])
    assert "id_lookalike" in refused.value.codes
    assert "'S-001', a student earlier in this batch" in str(refused.value)
    assert ledger.count() == 0


def test_every_event_of_a_refused_student_is_named(ledger):
    ledger.append(enrol("S1"))
    with pytest.raises(cl.RejectedEvent) as refused:
        ledger.append_many([enrol("Ѕ1", "x-enrol"), course("Ѕ1", "x-c1"), course("Ѕ1", "x-c2")])
    assert [i.event_id for i in refused.value.issues if i.code == "id_lookalike"] == ["x-enrol", "x-c1", "x-c2"]


def test_a_stored_id_is_appended_again_and_its_student_goes_on(ledger):
    first = ledger.append(enrol("李娜-2025"))
    assert ledger.append(enrol("李娜-2025")) == first  # the identical event: the first receipt
    assert ledger.append_many([enrol("李娜-2025"), course("李娜-2025", "李娜-2025-c1")])[0] == first
    reopened = cl.Ledger(ledger._store)  # another handle on the same ledger: knows nothing in memory
    reopened.append(course("李娜-2025", "李娜-2025-c2"))
    assert ledger.balance("李娜-2025").total == 4  # the same course twice counts once


def test_the_import_path_names_the_line_of_the_refused_id(ledger, tmp_path):
    ledger.append(enrol("S1"))
    path = tmp_path / "events.jsonl"
    rows = [enrol("S2").model_dump(mode="json"), enrol("Ѕ1", "x-enrol").model_dump(mode="json")]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    with pytest.raises(ImportFileError) as refused:
        import_events(ledger, path)
    assert [(p.line, p.code) for p in refused.value.problems] == [(2, "id_lookalike")]
    assert "U+0405 CYRILLIC CAPITAL LETTER DZE" in refused.value.problems[0].message
    assert ledger.students() == ["S1"]
    rejects = tmp_path / "rejects.csv"
    result = import_events(ledger, path, skip_bad=True, rejects=rejects)
    assert (result.written, result.rejected) == (1, 1) and ledger.students() == ["S1", "S2"]
    assert "id_lookalike" in rejects.read_text(encoding="utf-8-sig")


# -- stored ids: kept, and reported by verify -----------------------------------------------------------------------


def _without_the_door(monkeypatch):
    """Append as a ledger before the rules did: every id accepted."""
    monkeypatch.setattr(id_checks, "problems", lambda value: [])
    monkeypatch.setattr(id_checks, "_existing", lambda *args: None)


def test_verify_reports_stored_ids_the_rules_would_refuse(ledger, monkeypatch):
    ledger.append(enrol("S1"))
    with monkeypatch.context() as m:
        _without_the_door(m)
        ledger.append_many([enrol("Ѕ1", "x-enrol"), enrol("S1\u200b", "y-enrol")])
    report = ledger.verify()
    assert report.ok and report.checked == 3
    codes = {(i.student_id, i.code) for i in report.identifier_issues}
    assert codes == {("Ѕ1", "id_lookalike"), ("S1\u200b", "id_forbidden_character"), ("S1\u200b", "id_lookalike")}
    assert any("row 2: the stored student id 'Ѕ1' looks like 'S1'" in i.message for i in report.identifier_issues)
    # kept as written: the stored look-alike's record goes on, a new look-alike of either is refused
    ledger.append(course("Ѕ1", "x-c1"))
    with pytest.raises(cl.RejectedEvent, match="id_lookalike"):
        ledger.append(enrol("Sl", "z-enrol"))


# -- catalog codes --------------------------------------------------------------------------------------------------


def _with_course(code: str) -> cl.Catalog:
    """A catalog of one more HNJX course (with HNJX as the sample catalog has it)."""
    hnjx = [i.model_dump(mode="json") for i in cl.Catalog.sample().institutions if i.code == "HNJX"]
    course = {"institution": "HNJX", "code": code, "title": "测试", "credits": 2, "category": "core"}
    return cl.Catalog.from_data({"institutions": hnjx, "courses": [course]})


@pytest.mark.parametrize("code, rule", [("MECH101\u200b", "id_forbidden_character"),
                                        ("\u041c\u0415\u0421\u041d101", "id_lookalike"),  # Cyrillic МЕСН
                                        ("MЕCH900", "id_mixed_script"),
                                        ("ＭECH900", "id_not_normalized")])
def test_a_catalog_code_is_checked_when_loaded(ledger, code, rule):
    before = ledger.catalog
    with pytest.raises(cl.CatalogError) as refused:
        ledger.load_catalog(_with_course(code))
    assert f"[{rule}]" in str(refused.value) and "courses[0].code" in str(refused.value)
    assert ledger.catalog == before
    ledger.load_catalog(_with_course("MECH900"))
    assert ledger.catalog.course("HNJX", "MECH900") is not None


def test_a_stored_catalog_is_read_again_as_it_was(ledger):
    """The sample catalog, loaded again, is not checked again (nothing of it is new)."""
    ledger.load_catalog(cl.Catalog.sample())


# -- the rules, as properties ---------------------------------------------------------------------------------------

ODD = "S1lI0O-_ 李娜张三\u200b\u202e\u00a0\uff33\u0405\u0430\u0435\u3000\u0301e学ｱ한かカㄅ"
ANY_TEXT = (st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=12)
            | st.text(st.sampled_from(ODD), min_size=1, max_size=10)
            | st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E) | st.sampled_from("李娜张三学かカ한ㄅ"),
                      min_size=1, max_size=10))


@given(ANY_TEXT)
def test_an_accepted_id_is_canonical(value):
    if problems(value):
        return
    assert unicodedata.is_normalized("NFC", value) and unicodedata.is_normalized("NFKC", value)
    assert value == value.strip() and not value[0].isspace() and not value[-1].isspace()
    assert not any(c != " " and unicodedata.category(c) in FORBIDDEN_CATEGORIES for c in value)
    assert skeleton(skeleton(value)) == skeleton(value)


@given(ANY_TEXT)
def test_a_skeleton_is_a_fixed_point(value):
    once = skeleton(value)
    assert skeleton(once) == once
    assert skeleton_key(value) == skeleton_key(once)


CONFUSIONS = {"0": "O", "O": "0", "1": "l", "l": "I", "I": "1", "S": "\u0405", "a": "\u0430", "e": "\u0435",
              "o": "\u043e", "m": "rn"}
CANONICAL = st.text(st.sampled_from("S01lIOaemo-x张李"), min_size=1, max_size=8)


@given(CANONICAL, st.data())
def test_two_ids_with_one_skeleton_are_not_both_appended(value, data):
    assume(not problems(value))
    swap = data.draw(st.lists(st.sampled_from(sorted(CONFUSIONS)), min_size=1, max_size=3))
    insert = data.draw(st.sampled_from(["", "\u200b", "\u202e"]))
    variant = value
    for char in swap:
        variant = variant.replace(char, CONFUSIONS[char])
    variant += insert
    assume(variant != value and skeleton(variant) == skeleton(value))
    with cl.Ledger.open() as ledger:
        ledger.load_catalog(cl.Catalog.sample())
        ledger.append(enrol(value, "first"))
        before = state(ledger)
        with pytest.raises(cl.RejectedEvent) as refused:
            ledger.append(enrol(variant, "second"))
        assert set(refused.value.codes) <= {"id_lookalike", "id_forbidden_character", "id_mixed_script",
                                            "id_not_normalized"}
        assert state(ledger) == before


@given(CANONICAL)
def test_an_accepted_id_stays_accepted_when_appended_again(value):
    assume(not problems(value))
    with cl.Ledger.open() as ledger:
        ledger.load_catalog(cl.Catalog.sample())
        first = ledger.append(enrol(value, f"{value}#1"))
        assert ledger.append(enrol(value, f"{value}#1")) == first
        ledger.append(course(value, f"{value}#2"))
        assert ledger.count() == 2 and ledger.verify().identifier_issues == ()


def test_the_command_checks_catalog_codes(tmp_path):
    from typer.testing import CliRunner

    from credit_ledger.cli import app

    path = tmp_path / "extra.json"
    path.write_text(_with_course("MECH101\u200b").to_json(), encoding="utf-8")
    result = CliRunner().invoke(app, ["catalog", "check", str(path)])
    assert result.exit_code == 1
    assert "courses[0].code: the course code 'MECH101\\u200b' holds U+200B ZERO WIDTH SPACE" in result.stdout
    assert "[id_forbidden_character]" in result.stdout
