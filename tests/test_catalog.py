"""The catalog: the sample loads, round-trips through YAML and JSON, is versioned by valid_from, refuses a bad file
with one line per problem (file, key path, what is wrong), merges, and is stored with the ledger."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

import credit_ledger as cl
from credit_ledger.models import catalog_problems

# -- the sample -----------------------------------------------------------------------------------------------------


def test_sample_loads(catalog):
    assert isinstance(catalog, cl.Catalog)
    assert catalog_problems(catalog) == []
    assert catalog.institutions and catalog.courses and catalog.programs
    assert catalog.agreements and catalog.conversion_rules


def test_sample_has_one_technician_college(catalog):
    colleges = [i for i in catalog.institutions if i.kind == "technician_college"]
    assert [c.code for c in colleges] == ["HNJX"]


def test_sample_has_two_partner_schools_in_one_alliance(catalog):
    assert len(catalog.alliances) == 1
    alliance = catalog.alliances[0]
    members = {m.institution for m in alliance.members}
    assert "HNJX" in members
    partners = members - {"HNJX"}
    assert len(partners) == 2
    for code in partners:
        school = catalog.institution(code)
        assert school is not None and school.kind in ("senior_technical_school", "technical_school")
    # every member is a member today
    assert all(alliance.is_member(code, date(2025, 1, 1)) for code in members)


def test_sample_has_full_time_part_time_and_apprenticeship_programs(catalog):
    modes = {mode for p in catalog.programs for mode in p.modes}
    assert {"full_time", "part_time", "apprentice"} <= modes
    assert any(p.modes == ("part_time",) for p in catalog.programs)
    assert any(p.kind == "apprenticeship" and "apprentice" in p.modes for p in catalog.programs)
    assert any(p.kind == "regular" and "full_time" in p.modes for p in catalog.programs)
    assert len([p for p in catalog.programs if p.institution == "HNJX"]) == 4
    assert [p.code for p in catalog.programs if p.institution != "HNJX"] == ["XT-CNC-2024"]


# -- round trips ----------------------------------------------------------------------------------------------------


def test_json_round_trip(catalog):
    again = cl.Catalog.from_text(catalog.to_json(), format="json")
    assert again == catalog
    assert again.to_json() == catalog.to_json()


def test_json_file_round_trip(catalog, tmp_path):
    path = tmp_path / "catalog.json"
    path.write_text(catalog.to_json(), encoding="utf-8")
    assert cl.Catalog.from_file(path) == catalog


def test_yaml_file_round_trip(catalog, tmp_path):
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(json.loads(catalog.to_json()), allow_unicode=True, sort_keys=False),
                    encoding="utf-8")
    again = cl.Catalog.from_file(path)
    assert again == catalog
    assert again.course("HNJX", "CNC203", on=date(2026, 9, 1)).credits == Decimal("5.00")


def test_yaml_text_round_trip(catalog):
    text = yaml.safe_dump(json.loads(catalog.to_json()), allow_unicode=True)
    assert cl.Catalog.from_text(text, format="yaml") == catalog


def test_empty_yaml_is_an_empty_catalog():
    assert cl.Catalog.from_text("") == cl.Catalog()


# -- versioning -----------------------------------------------------------------------------------------------------


def test_course_versions_by_date(catalog):
    assert catalog.course("HNJX", "CNC203", on=date(2026, 8, 31)).credits == Decimal("4.00")
    assert catalog.course("HNJX", "CNC203", on=date(2026, 9, 1)).credits == Decimal("5.00")
    assert catalog.course("HNJX", "CNC203", on=date(2030, 1, 1)).credits == Decimal("5.00")
    assert catalog.course("HNJX", "CNC203", on=date(1990, 1, 1)).credits == Decimal("4.00")  # no valid_from: always
    assert catalog.course("HNJX", "CNC203").credits == Decimal("5.00")  # no date: the latest


def test_unknown_course_is_none(catalog):
    assert catalog.course("HNJX", "NOPE", on=date(2026, 1, 1)) is None
    assert catalog.course("XTJX", "CNC203", on=date(2026, 1, 1)) is None


def test_entry_before_its_first_valid_from_is_none(catalog):
    assert catalog.agreement("AGR-HN-MFG-2024", on=date(2023, 12, 31)) is None
    assert catalog.agreement("AGR-HN-MFG-2024", on=date(2024, 1, 1)) is not None
    dated = cl.Catalog.from_data({
        "institutions": [{"code": "A", "name": "School A"}],
        "courses": [{"institution": "A", "code": "C1", "title": "c1", "credits": 2, "category": "core",
                     "valid_from": "2025-09-01"}],
    })
    assert dated.course("A", "C1", on=date(2025, 8, 31)) is None
    assert dated.course("A", "C1", on=date(2025, 9, 1)).credits == Decimal("2.00")


# -- bad catalogs ---------------------------------------------------------------------------------------------------


def _good() -> dict:
    """A small valid catalog as plain data, to break one thing at a time."""
    return {
        "institutions": [{"code": "A", "name": "School A", "kind": "technician_college"},
                         {"code": "B", "name": "School B"}],
        "alliances": [{"code": "AL", "name": "Alliance",
                       "members": [{"institution": "A", "joined": "2024-01-01"},
                                   {"institution": "B", "joined": "2024-01-01"}]}],
        "courses": [
            {"institution": "A", "code": "C1", "title": "one", "credits": 2, "category": "core"},
            {"institution": "A", "code": "C2", "title": "two", "hours": 32, "category": "core"},
            {"institution": "A", "code": "C3", "title": "three", "practice_weeks": 2, "category": "practice"},
            {"institution": "B", "code": "B1", "title": "b one", "credits": 2, "category": "core"},
        ],
        "programs": [{
            "institution": "A", "code": "P", "title": "program", "level": "senior_worker",
            "standard_years": 3, "min_years": 2, "max_years": 6, "total_credits": 6,
            "requirements": {"id": "root", "all": [
                {"id": "r1", "credits": 2, "from": {"category": "core"}},
                {"id": "r2", "courses": ["C1", "C2", "C3"]},
                {"id": "r3", "pick": 1, "of": [{"id": "r3a", "courses": ["C1"]},
                                               {"id": "r3b", "courses": ["C2"]}]},
            ]},
        }],
        "agreements": [{"id": "AG", "alliance": "AL", "equivalences": [
            {"from": {"institution": "B", "courses": ["B1"]}, "to": {"institution": "A", "courses": ["C1"]}},
        ]}],
    }


def _write(tmp_path: Path, data: dict, name: str = "bad.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _fails(tmp_path: Path, data: dict) -> tuple[cl.CatalogError, Path]:
    path = _write(tmp_path, data)
    with pytest.raises(cl.CatalogError) as info:
        cl.Catalog.from_file(path)
    return info.value, path


def _assert_names(exc: cl.CatalogError, path: Path, key_path: str, *words: str) -> None:
    """The error names the file, the key path and the problem, in its message and in exactly one problem line."""
    message = str(exc)
    assert str(path) in message
    assert exc.source == str(path)
    lines = [p for p in exc.problems if p.startswith(key_path + ":")]
    assert lines, f"no problem at {key_path!r} in {exc.problems!r}"
    for word in words:
        assert any(word in line for line in lines), f"{word!r} not in {lines!r}"
    for line in lines:
        assert f"{path}: {line}" in message


def test_good_base_catalog_loads(tmp_path):
    catalog = cl.Catalog.from_file(_write(tmp_path, _good(), "good.yaml"))
    assert catalog.course("A", "C2").credits == Decimal("2.00")
    assert catalog.course("A", "C3").credits == Decimal("2.00")


def test_unknown_course_in_requirement(tmp_path):
    data = _good()
    data["programs"][0]["requirements"]["all"][1]["courses"][2] = "NOPE"
    exc, path = _fails(tmp_path, data)
    _assert_names(exc, path, "programs[0].requirements.all[1].courses[2]", "unknown course", "NOPE")
    assert len(exc.problems) == 1


def test_unknown_course_in_credit_pool(tmp_path):
    data = _good()
    data["programs"][0]["requirements"]["all"][0]["from"] = {"courses": ["C1", "GHOST"]}
    exc, path = _fails(tmp_path, data)
    _assert_names(exc, path, "programs[0].requirements.all[0].from.courses[1]", "unknown course", "GHOST")


def test_duplicate_course_code(tmp_path):
    data = _good()
    data["courses"].append({"institution": "A", "code": "C1", "title": "again", "credits": 3, "category": "core"})
    exc, path = _fails(tmp_path, data)
    _assert_names(exc, path, "courses[4]", "duplicate", "C1", "courses[0]")
    assert len(exc.problems) == 1


def test_same_course_code_with_another_valid_from_is_a_version_not_a_duplicate(tmp_path):
    data = _good()
    data["courses"].append({"institution": "A", "code": "C1", "title": "again", "credits": 3, "category": "core",
                            "valid_from": "2026-09-01"})
    catalog = cl.Catalog.from_file(_write(tmp_path, data))
    assert catalog.course("A", "C1", on=date(2026, 9, 1)).credits == Decimal("3.00")


def test_duplicate_course_with_same_valid_from(tmp_path):
    data = _good()
    data["courses"][0]["valid_from"] = "2025-01-01"
    data["courses"].append({**data["courses"][0], "title": "again"})
    exc, path = _fails(tmp_path, data)
    _assert_names(exc, path, "courses[4]", "duplicate", "2025-01-01")


def test_duplicate_requirement_id(tmp_path):
    data = _good()
    data["programs"][0]["requirements"]["all"][2]["of"][1]["id"] = "r1"
    exc, path = _fails(tmp_path, data)
    _assert_names(exc, path, "programs[0].requirements.all[2].of[1].id", "duplicate requirement id", "r1",
                  "programs[0].requirements.all[0]")
    assert len(exc.problems) == 1


def test_negative_credits(tmp_path):
    data = _good()
    data["courses"][0]["credits"] = -1
    exc, path = _fails(tmp_path, data)
    _assert_names(exc, path, "courses[0].credits", "greater than or equal to 0")
    assert len(exc.problems) == 1


def test_min_years_more_than_max_years(tmp_path):
    data = _good()
    data["programs"][0].update(standard_years=2.5, min_years=3, max_years=2)
    exc, path = _fails(tmp_path, data)
    _assert_names(exc, path, "programs[0]", "min_years")
    assert len(exc.problems) == 1


def test_pick_more_than_children(tmp_path):
    data = _good()
    data["programs"][0]["requirements"]["all"][2]["pick"] = 3
    exc, path = _fails(tmp_path, data)
    _assert_names(exc, path, "programs[0].requirements.all[2]", "picks 3", "r3")
    assert len(exc.problems) == 1


def test_unknown_institution(tmp_path):
    data = _good()
    data["courses"].append({"institution": "Z", "code": "Z1", "title": "zed", "credits": 1, "category": "core"})
    exc, path = _fails(tmp_path, data)
    _assert_names(exc, path, "courses[4].institution", "unknown institution", "'Z'")
    assert len(exc.problems) == 1


def test_unknown_institution_in_alliance(tmp_path):
    data = _good()
    data["alliances"][0]["members"].append({"institution": "Q", "joined": "2024-01-01"})
    exc, path = _fails(tmp_path, data)
    _assert_names(exc, path, "alliances[0].members[2].institution", "unknown institution", "'Q'")


def test_unknown_alliance_in_agreement(tmp_path):
    data = _good()
    data["agreements"][0]["alliance"] = "NO-SUCH"
    exc, path = _fails(tmp_path, data)
    _assert_names(exc, path, "agreements[0].alliance", "unknown alliance", "NO-SUCH")
    assert len(exc.problems) == 1


def test_equivalence_naming_an_unknown_course(tmp_path):
    data = _good()
    data["agreements"][0]["equivalences"][0]["from"]["courses"] = ["B1", "B-GHOST"]
    exc, path = _fails(tmp_path, data)
    _assert_names(exc, path, "agreements[0].equivalences[0].from.courses[1]", "unknown course", "B-GHOST", "B")
    assert len(exc.problems) == 1


def test_equivalence_target_naming_an_unknown_course(tmp_path):
    data = _good()
    data["agreements"][0]["equivalences"][0]["to"]["courses"] = ["C404"]
    exc, path = _fails(tmp_path, data)
    _assert_names(exc, path, "agreements[0].equivalences[0].to.courses[0]", "unknown course", "C404")


def test_requirement_of_no_known_kind(tmp_path):
    data = _good()
    data["programs"][0]["requirements"]["all"][1] = {"id": "r2", "title": "what am I"}
    exc, path = _fails(tmp_path, data)
    _assert_names(exc, path, "programs[0].requirements.all[1]", "all, pick, courses, credits or hours")
    assert len(exc.problems) == 1


def test_invalid_yaml(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("institutions:\n  - {code: A, name: [unclosed\n", encoding="utf-8")
    with pytest.raises(cl.CatalogError) as info:
        cl.Catalog.from_file(path)
    exc = info.value
    assert str(path) in str(exc)
    assert len(exc.problems) == 1
    assert "not valid YAML" in exc.problems[0]
    assert "line" in exc.problems[0]  # the parser's position, so the reader can find it


def test_invalid_json(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"institutions": [', encoding="utf-8")
    with pytest.raises(cl.CatalogError) as info:
        cl.Catalog.from_file(path)
    assert str(path) in str(info.value)
    assert "not valid JSON" in info.value.problems[0]


def test_top_level_not_a_mapping(tmp_path):
    path = tmp_path / "list.yaml"
    path.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(cl.CatalogError) as info:
        cl.Catalog.from_file(path)
    assert str(path) in str(info.value)
    assert "mapping" in info.value.problems[0]


def test_missing_file(tmp_path):
    path = tmp_path / "nowhere" / "catalog.yaml"
    with pytest.raises(cl.CatalogError) as info:
        cl.Catalog.from_file(path)
    exc = info.value
    assert str(path) in str(exc)
    assert exc.source == str(path)
    assert len(exc.problems) == 1
    assert "cannot read" in exc.problems[0]


def test_catalog_error_is_a_credit_ledger_error_and_a_value_error(tmp_path):
    with pytest.raises(cl.CreditLedgerError):
        cl.Catalog.from_file(tmp_path / "missing.yaml")
    with pytest.raises(ValueError):
        cl.Catalog.from_file(tmp_path / "missing.yaml")


def test_problems_lists_each_problem(tmp_path):
    data = _good()
    data["programs"][0]["requirements"]["all"][1]["courses"][2] = "NOPE"
    data["courses"].append({"institution": "A", "code": "C1", "title": "again", "credits": 3, "category": "core"})
    data["agreements"][0]["alliance"] = "NO-SUCH"
    data["programs"][0]["requirements"]["all"][2]["of"][1]["id"] = "r1"
    exc, path = _fails(tmp_path, data)
    assert len(exc.problems) == 4, exc.problems
    keys = sorted(p.split(":")[0] for p in exc.problems)
    assert keys == sorted([
        "courses[4]",
        "programs[0].requirements.all[1].courses[2]",
        "programs[0].requirements.all[2].of[1].id",
        "agreements[0].alliance",
    ])
    assert str(exc).count(str(path)) == 4
    assert len(str(exc).splitlines()) == 4


def test_field_problems_are_each_listed(tmp_path):
    data = _good()
    data["courses"][0]["credits"] = -1
    data["courses"][1]["credits"] = -2
    exc, _ = _fails(tmp_path, data)
    assert sorted(p.split(":")[0] for p in exc.problems) == ["courses[0].credits", "courses[1].credits"]


# -- merging --------------------------------------------------------------------------------------------------------


def test_merge_same_catalog_is_a_no_op(catalog):
    assert catalog.merge(catalog) is catalog
    assert catalog.merge(cl.Catalog.sample()) is catalog
    assert catalog.merge(cl.Catalog()) is catalog


def test_merge_adds_a_new_version(catalog):
    hnjx = catalog.institution("HNJX")
    newer = cl.Course(institution="HNJX", code="CNC203", title="CAD/CAM 应用（2027版）", hours=96, category="core",
                      valid_from=date(2027, 9, 1))
    merged = catalog.merge(cl.Catalog(institutions=(hnjx,), courses=(newer,)))
    assert merged is not catalog
    assert len(merged.courses) == len(catalog.courses) + 1
    assert len(merged.institutions) == len(catalog.institutions)
    assert merged.course("HNJX", "CNC203", on=date(2026, 8, 31)).credits == Decimal("4.00")
    assert merged.course("HNJX", "CNC203", on=date(2027, 8, 31)).credits == Decimal("5.00")
    assert merged.course("HNJX", "CNC203", on=date(2027, 9, 1)).credits == Decimal("6.00")
    # the original is unchanged
    assert catalog.course("HNJX", "CNC203", on=date(2027, 9, 1)).credits == Decimal("5.00")


def test_merge_changing_an_existing_version_is_refused(catalog):
    hnjx = catalog.institution("HNJX")
    changed = cl.Course(institution="HNJX", code="CNC203", title="CAD/CAM 应用（2026版）", hours=96, category="core",
                        valid_from=date(2026, 9, 1))
    with pytest.raises(cl.CatalogError) as info:
        catalog.merge(cl.Catalog(institutions=(hnjx,), courses=(changed,)))
    assert len(info.value.problems) == 1
    assert "HNJX/CNC203" in info.value.problems[0]
    assert "2026-09-01" in info.value.problems[0]
    assert catalog.course("HNJX", "CNC203", on=date(2026, 9, 1)).credits == Decimal("5.00")


def test_merge_changing_an_unversioned_institution_is_refused(catalog):
    renamed = catalog.institution("XTJX").model_copy(update={"name": "另一个名字"})
    with pytest.raises(cl.CatalogError):
        catalog.merge(cl.Catalog(institutions=(renamed,)))


# -- stored with the ledger -----------------------------------------------------------------------------------------


def _conflicting(catalog: cl.Catalog) -> cl.Catalog:
    data = json.loads(catalog.to_json())
    for course in data["courses"]:
        if course["code"] == "CNC203" and course.get("valid_from") == "2026-09-01":
            course["hours"] = "96.0"
            course["credits"] = "6.00"
    return cl.Catalog.from_data(data)


def test_load_catalog_persists(ledger_url, catalog):
    path = ledger_url
    with cl.Ledger.open(path, create=True) as ledger:
        ledger.load_catalog(catalog)
        assert ledger.catalog == catalog
    with cl.Ledger.open(path) as again:
        assert again.catalog == catalog
        assert again.catalog.course("HNJX", "CNC203", on=date(2026, 9, 1)).credits == Decimal("5.00")
        assert again.verify().ok


def test_file_ledger_catalog_survives_reopen(file_ledger, ledger_url, catalog):
    file_ledger.close()
    with cl.Ledger.open(ledger_url) as again:
        assert again.catalog == catalog


@pytest.mark.sqlite_only
def test_loading_the_same_catalog_again_stores_nothing(file_ledger, tmp_path, catalog):
    file_ledger.load_catalog(catalog)
    file_ledger.load_catalog(cl.Catalog.sample())
    import sqlite3

    with sqlite3.connect(tmp_path / "ledger.db") as db:
        assert db.execute("SELECT COUNT(*) FROM catalogs").fetchone()[0] == 1


def test_loading_a_new_version_persists(file_ledger, ledger_url, catalog):
    hnjx = catalog.institution("HNJX")
    newer = cl.Course(institution="HNJX", code="CNC203", title="CAD/CAM 应用（2027版）", hours=96, category="core",
                      valid_from=date(2027, 9, 1))
    file_ledger.load_catalog(cl.Catalog(institutions=(hnjx,), courses=(newer,)))
    assert file_ledger.catalog.course("HNJX", "CNC203", on=date(2027, 9, 1)).credits == Decimal("6.00")
    file_ledger.close()
    with cl.Ledger.open(ledger_url) as again:
        assert again.catalog.course("HNJX", "CNC203", on=date(2027, 9, 1)).credits == Decimal("6.00")
        assert again.catalog.course("HNJX", "CNC203", on=date(2026, 9, 1)).credits == Decimal("5.00")
        assert again.verify().ok


@pytest.mark.sqlite_only
def test_loading_a_conflicting_version_changes_nothing(file_ledger, tmp_path, catalog):
    import sqlite3

    before_head = file_ledger.head()
    with pytest.raises(cl.CatalogError):
        file_ledger.load_catalog(_conflicting(catalog))
    assert file_ledger.catalog == catalog
    assert file_ledger.catalog.course("HNJX", "CNC203", on=date(2026, 9, 1)).credits == Decimal("5.00")
    assert file_ledger.head() == before_head
    assert file_ledger.verify().ok
    with sqlite3.connect(tmp_path / "ledger.db") as db:
        assert db.execute("SELECT COUNT(*) FROM catalogs").fetchone()[0] == 1
    file_ledger.close()
    with cl.Ledger.open(str(tmp_path / "ledger.db")) as again:
        assert again.catalog == catalog


def test_conflicting_catalog_refused_in_memory_too(ledger, catalog):
    with pytest.raises(cl.CatalogError):
        ledger.load_catalog(_conflicting(catalog))
    assert ledger.catalog == catalog


def test_a_null_that_is_not_the_default_survives_the_ledger(ledger_url, catalog):
    """team_top defaults to 3; null means no limit, and must not come back as 3 from the stored catalog."""
    data = json.loads(catalog.to_json())
    data["conversion_rules"][0]["team_top"] = None
    changed = cl.Catalog.from_data(data)
    assert changed.conversion_rules[0].team_top is None
    path = ledger_url
    with cl.Ledger.open(path, create=True) as ledger:
        ledger.load_catalog(changed)
    with cl.Ledger.open(path) as again:
        assert again.catalog.conversion_rules[0].team_top is None
