"""Search in the analysis file that finds two Chinese characters, with the tools a registrar uses (the
``sqlite-utils search`` command, Datasette's quoted ``MATCH``, plain SQL), and the Datasette metadata written beside
it: Chinese labels for every table and column that exists, and nothing that does not."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import date
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlite_utils
from hypothesis import given
from hypothesis import strategies as st

import credit_ledger as cl
from credit_ledger import demo
from credit_ledger.analysis_db import (
    COLUMN_LABELS,
    FACETS,
    FULL_TEXT,
    HAN_RUN,
    MAX_TERM_CHARS,
    SEARCH_COLUMN,
    TABLE_LABELS,
    datasette_metadata,
    search_terms,
)
from credit_ledger.errors import OutputIsLedger
from credit_ledger.exports import TABLES, export_sqlite, metadata_path

AS_OF = date(2026, 7, 31)
SQLITE_UTILS = Path(sys.executable).with_name("sqlite-utils")
CONTEST = "市职业技能大赛机电一体化项目"


@pytest.fixture(scope="module")
def ledger() -> cl.Ledger:
    """The demo ledger, and R1 who passed 语文, 数学, 英语, 数控车床编程与操作 and CAD/CAM 应用 and won a city
    contest in 机电一体化 (converted to practice credits)."""
    led = demo.run(None)
    events: list = [cl.Enrolled(event_id="R1-enrol", student_id="R1", occurred_on=date(2025, 9, 1),
                                institution="HNJX", program="CNC-SR-2025")]
    for course in ("PUB102", "PUB103", "PUB104", "CNC201", "CNC203"):
        events.append(cl.CourseCompleted(event_id=f"R1-{course}", student_id="R1", occurred_on=date(2026, 1, 9),
                                         institution="HNJX", course=course, grade=85))
    led.append_many(events)
    led.convert("R1", [cl.Outcome(type="competition", outcome_id="G-1", title=CONTEST, level="city", rank=1,
                                  issued_on=date(2026, 5, 1))], as_of=AS_OF)
    yield led
    led.close()


@pytest.fixture(scope="module")
def day_db(ledger: cl.Ledger, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("search") / "day.db"
    export_sqlite(ledger, path, as_of=AS_OF)
    return path


def cli_search(path: Path, table: str, query: str, *extra: str) -> list[dict]:
    """The rows ``sqlite-utils search PATH TABLE QUERY`` prints (the command itself, as a registrar runs it)."""
    done = subprocess.run([str(SQLITE_UTILS), "search", str(path), table, query, *extra],
                          capture_output=True, text=True, encoding="utf-8", check=True)
    return json.loads(done.stdout)


def match(path: Path, table: str, query: str) -> set[str]:
    """The event ids whose index row matches ``query`` in SQL, quoted word by word as Datasette's ``_search`` does
    (``"语文"``), so FTS5's operators in a title are words."""
    quoted = " ".join('"' + word.replace('"', '""') + '"' for word in query.split())
    with sqlite3.connect(path) as conn:
        rows = conn.execute(f"SELECT event_id FROM {table} WHERE rowid IN "
                            f"(SELECT rowid FROM {table}_fts WHERE {table}_fts MATCH ?)", [quoted]).fetchall()
    conn.close()
    return {r[0] for r in rows}


@pytest.mark.parametrize(("query", "expected"), [
    ("语文", {"R1-PUB102"}), ("数学", {"R1-PUB103"}), ("英语", {"R1-PUB104"}),
    ("数控", {"R1-CNC201"}), ("数控车床编程", {"R1-CNC201"}), ("编程 操作", {"R1-CNC201"}),
    ("语", {"R1-PUB102", "R1-PUB104"}), ("CAD", {"R1-CNC203"}), ("cam", {"R1-CNC203"}), ("CNC201", {"R1-CNC201"}),
    ("机电一体化", None), ("机电", None), ("一体", None), (CONTEST, None),
])
def test_the_search_command_and_datasette_find_one_two_and_more_characters(day_db, query, expected):
    """Each query finds R1's record through the ``sqlite-utils search`` command (raw and ``--quote``) and through
    Datasette's quoted MATCH; ``None`` is the converted contest record, whose id the ledger chose."""
    records = sqlite_utils.Database(str(day_db))["transcript_records"]
    r1 = {r["event_id"]: r["origin"] for r in records.rows_where("student_id = 'R1'")}
    want = {e for e, origin in r1.items() if origin == "converted"} if expected is None else expected
    assert want and want <= set(r1)
    for extra in ((), ("--quote",)):
        got = {r["event_id"] for r in cli_search(day_db, "transcript_records", query, *extra)
               if r["student_id"] == "R1"}
        assert got == want, (query, extra)
    assert match(day_db, "transcript_records", query) & set(r1) == want


def test_nothing_is_found_that_is_not_there(day_db):
    """A word no title holds finds nothing: characters of a title out of order, a piece spanning two runs, a
    code's prefix (Latin words and codes match whole)."""
    for query in ("文语", "学数", "操作编程", "CAD应用", "CNC20", "体化机电"):
        assert cli_search(day_db, "transcript_records", query, "--quote") == [], query
        assert match(day_db, "transcript_records", query) == set(), query


@pytest.mark.parametrize(("query", "expected"), [
    ("语文", {"HNJX:PUB102"}), ("数学", {"HNJX:PUB103"}), ("英语", {"HNJX:PUB104"}),
    ("数控车床", {"HNJX:CNC201"}), ("PUB102", {"HNJX:PUB102"}),
    ("CAD", {"HNJX:CNC203", "HNJX:CNC203@2026-09-01"}), ("2026版", {"HNJX:CNC203@2026-09-01"}),
    ("PLC 编程", {"HNJX:MT102"}), ("PLC编程与应用", {"HNJX:MT102"}), ("PLC编程", set()),
])
def test_the_catalog_courses_are_searchable(day_db, query, expected):
    """``sqlite-utils search day.db courses 语文``: the course a registrar looks for, whoever took it."""
    for extra in ((), ("--quote",)):
        got = {r["course_key"] for r in cli_search(day_db, "courses", query, *extra) if r["institution"] == "HNJX"}
        assert got == expected, (query, extra)


def test_every_version_of_every_catalog_course_is_a_row(ledger, day_db):
    db = sqlite_utils.Database(str(day_db))
    assert db["courses"].count == len(ledger.catalog.courses)
    assert len({(c.institution, c.code, c.valid_from) for c in ledger.catalog.courses}) == db["courses"].count
    row = db["courses"].get("HNJX:PUB102")
    assert (row["title"], row["credits"], row["category"]) == ("语文", 4.0, "public")
    assert db["courses"].foreign_keys == []


def test_a_code_prefix_matches_in_raw_mode(day_db):
    got = {r["event_id"] for r in cli_search(day_db, "transcript_records", "CNC*") if r["student_id"] == "R1"}
    assert got == {"R1-CNC201", "R1-CNC203"}


def test_the_decisions_are_searchable_too(day_db):
    [row] = cli_search(day_db, "decisions", "机电一体化")
    assert row["title"] == CONTEST and row["student_id"] == "R1"
    assert match(day_db, "decisions", "一体化 项目") == {row["event_id"]}


def test_the_search_terms_column_holds_the_terms(day_db):
    db = sqlite_utils.Database(str(day_db))
    row = db["transcript_records"].get("R1-PUB102")
    assert row[SEARCH_COLUMN] == search_terms("PUB102", "语文") == "PUB102 语 文 语文"
    for name in FULL_TEXT:
        assert db[name].detect_fts() == f"{name}_fts"
        assert db[f"{name}_fts"].columns_dict == dict.fromkeys([*FULL_TEXT[name], SEARCH_COLUMN], str)
        assert "unicode61" in db[f"{name}_fts"].schema


# The rule, for any title: a word of Chinese characters finds the title exactly when it is a piece of one of the
# title's runs of at most MAX_TERM_CHARS characters, or a whole run.
HAN = st.text(alphabet="语文数学控车床机电一体化", min_size=1, max_size=MAX_TERM_CHARS + 4)


@given(title=st.lists(HAN, min_size=1, max_size=3).map(" A1 ".join), query=HAN)
def test_a_word_finds_a_title_exactly_when_the_title_holds_it(title, query):
    runs = title.split(" A1 ")
    expected = any(query in run for run in runs) if len(query) <= MAX_TERM_CHARS else query in runs
    with sqlite3.connect(":memory:") as conn:
        conn.execute("CREATE VIRTUAL TABLE t USING fts5(terms, tokenize='unicode61')")
        conn.execute("INSERT INTO t VALUES (?)", [search_terms(title)])
        found = conn.execute("SELECT count(*) FROM t WHERE t MATCH ?", [f'"{query}"']).fetchone()[0] == 1
        raw = conn.execute("SELECT count(*) FROM t WHERE t MATCH ?", [query]).fetchone()[0] == 1
    conn.close()
    assert found == raw == expected


@given(st.text(max_size=60))
def test_the_terms_keep_every_character_that_is_not_chinese(text):
    terms = search_terms(text).split()
    assert set(HAN_RUN.sub(" ", text).split()) <= set(terms)
    assert {c for c in text if HAN_RUN.fullmatch(c)} <= set(terms)  # and every Chinese character is a term


# -- Datasette itself, where it is installed -------------------------------------------------------------------------
# Datasette is a test dependency (the dev extra), no dependency of the library: found beside this Python, on PATH, or
# named by CREDIT_LEDGER_TEST_DATASETTE.

_BESIDE = Path(sys.executable).parent / "datasette"
DATASETTE = (os.environ.get("CREDIT_LEDGER_TEST_DATASETTE") or (str(_BESIDE) if _BESIDE.exists() else None)
             or shutil.which("datasette"))
needs_datasette = pytest.mark.skipif(DATASETTE is None, reason="datasette is not installed "
                                     "(CREDIT_LEDGER_TEST_DATASETTE names its command)")


def datasette_get(path: Path, url: str) -> str:
    done = subprocess.run([str(DATASETTE), str(path), "-m", str(metadata_path(path)), "--get", url],
                          capture_output=True, text=True, encoding="utf-8", check=True)
    return done.stdout


@needs_datasette
@pytest.mark.parametrize(("table", "query", "titles"), [
    ("courses", "语文", {"语文"}), ("courses", "数学", {"数学"}), ("courses", "机电", {"机电设备安装与维修"}),
    ("courses", "数控车床", {"数控车床编程与操作"}), ("transcript_records", "英语", {"英语"}),
    ("transcript_records", "一体化", {CONTEST}), ("decisions", "机电一体化", {CONTEST}),
])
def test_datasette_search_box_finds_the_word(day_db, table, query, titles):
    rows = json.loads(datasette_get(day_db, f"/day/{table}.json?_search={quote(query)}&_shape=array&_size=max"))
    assert {r["title"] for r in rows} == titles


@needs_datasette
def test_datasette_shows_the_chinese_titles_and_the_facets(day_db):
    page = datasette_get(day_db, "/day/students")
    assert "<h1>学生</h1>" in page and "学籍状态" in page
    got = json.loads(datasette_get(day_db, "/day/students.json?_extra=facet_results&_size=0"))
    facets = got["facet_results"]
    facets = facets.get("results", facets)  # Datasette 1.0 nests them
    assert {"status", "program", "institution"} <= set(facets)


# -- metadata.json ---------------------------------------------------------------------------------------------------


def test_the_metadata_is_written_beside_the_file_and_names_only_what_exists(day_db):
    path = metadata_path(day_db)
    assert path == day_db.parent / "day.metadata.json"
    meta = json.loads(path.read_text(encoding="utf-8"))
    assert meta == datasette_metadata("day")
    db = sqlite_utils.Database(str(day_db))
    tables = meta["databases"]["day"]["tables"]
    assert set(tables) == set(TABLES) and set(tables) <= set(db.table_names())
    for name, table in tables.items():
        columns = set(db[name].columns_dict)
        assert table["title"] == TABLE_LABELS[name] and table["description"]
        assert set(table["columns"]) == columns, name  # every column labelled, no other
        assert all(_is_chinese(label) for label in table["columns"].values()), name
        assert table["facets"] and set(table["facets"]) <= columns, name
        if name in FULL_TEXT:
            assert table["fts_table"] in db.table_names() and table["fts_pk"] == "rowid"
    assert tables["students"]["title"] == "学生" and tables["transcript_records"]["columns"]["credits"] == "学分"
    assert {"status", "program", "institution"} <= set(tables["students"]["facets"])
    assert "origin" in tables["transcript_records"]["facets"]


def test_the_label_tables_cover_the_export_tables():
    for name, (columns, _pk) in TABLES.items():
        extra = {SEARCH_COLUMN} if name in FULL_TEXT else set()
        assert set(COLUMN_LABELS[name]) == set(columns) | extra, name
        assert set(FACETS[name]) <= set(columns), name
    assert set(TABLE_LABELS) == set(COLUMN_LABELS) == set(FACETS) == set(TABLES)
    assert set(FULL_TEXT) <= set(TABLES)
    assert all(set(sources) <= set(TABLES[name][0]) for name, sources in FULL_TEXT.items())


def test_no_metadata_when_asked_not_to(ledger, tmp_path):
    export_sqlite(ledger, tmp_path / "bare.db", as_of=AS_OF, metadata=False)
    assert not metadata_path(tmp_path / "bare.db").exists()


def test_the_metadata_never_lands_on_the_ledger(tmp_path):
    """The metadata file is checked as the export is: a ledger at ``x.metadata.json`` is refused before anything
    is written, the SQLite file included."""
    url = f"sqlite:///{tmp_path / 'x.metadata.json'}"
    led = cl.Ledger.open(url, create=True)
    try:
        led.load_catalog(cl.Catalog.sample())
        before = (tmp_path / "x.metadata.json").read_bytes()
        with pytest.raises(OutputIsLedger):
            export_sqlite(led, tmp_path / "x.db", as_of=AS_OF)
        assert not (tmp_path / "x.db").exists()
        assert (tmp_path / "x.metadata.json").read_bytes() == before
    finally:
        led.close()


def _is_chinese(label: str) -> bool:
    return any("\u4e00" <= c <= "\u9fff" for c in label)
