"""A ledger is opened, never conjured (issue 12, attack 5): a mistyped path, a deleted ledger file, an empty database
or another application's database is refused with ``LedgerNotFound`` (``create=True`` makes a ledger where there is
none; another application's database is never touched, not a byte of it), and no file the command writes beside an
open ledger is the ledger's own (``OutputIsLedger``). Both engines where a database is involved."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from typer.testing import CliRunner

import credit_ledger as cl
from credit_ledger.cli import app
from credit_ledger.opening import META_TABLE
from credit_ledger.storage import MetaRow, normalise_url

runner = CliRunner()
SAMPLE = str(Path(cl.__file__).parent / "data" / "sample_catalog.yaml")


def _listing(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` and the SHA-256 of its bytes."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _objects(url: str) -> list[tuple]:
    """Every table, view, index, trigger and function of a database (PostgreSQL: of its public schema), with the
    rows of each table: what a refusal must leave exactly as it was."""
    engine = create_engine(normalise_url(url))
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                found = [tuple(r) for r in conn.exec_driver_sql(
                    "SELECT type, name, sql FROM sqlite_master ORDER BY type, name")]
                tables = [r[1] for r in found if r[0] == "table"]
            else:
                found = [tuple(r) for r in conn.exec_driver_sql(
                    "SELECT 'table', tablename, '' FROM pg_tables WHERE schemaname = 'public' UNION ALL "
                    "SELECT 'view', viewname, '' FROM pg_views WHERE schemaname = 'public' UNION ALL "
                    "SELECT 'index', indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' UNION ALL "
                    "SELECT 'trigger', tgname, '' FROM pg_trigger WHERE NOT tgisinternal UNION ALL "
                    "SELECT 'function', p.proname, '' FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                    "WHERE n.nspname = 'public' ORDER BY 1, 2")]
                tables = [r[1] for r in found if r[0] == "table"]
            for table in tables:
                found += [(table, *r) for r in conn.exec_driver_sql(f"SELECT * FROM {table} ORDER BY 1")]
    finally:
        engine.dispose()
    return found


def _another_application(url: str) -> None:
    """A database of another application: a table with rows, an index, a trigger and a view."""
    engine = create_engine(normalise_url(url))
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
            conn.exec_driver_sql("CREATE INDEX ix_users_name ON users (name)")
            conn.exec_driver_sql("INSERT INTO users (id, name) VALUES (1, 'Li Na'), (2, 'Wang Wei')")
            conn.exec_driver_sql("CREATE VIEW names AS SELECT name FROM users")
            if engine.dialect.name == "sqlite":
                conn.exec_driver_sql("CREATE TRIGGER users_touch AFTER UPDATE ON users BEGIN SELECT 1; END")
            else:
                conn.exec_driver_sql("CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS "
                                     "$$ BEGIN RETURN NEW; END $$")
                conn.exec_driver_sql("CREATE TRIGGER users_touch BEFORE UPDATE ON users FOR EACH ROW "
                                     "EXECUTE FUNCTION touch()")
    finally:
        engine.dispose()


def _enrol(ledger: cl.Ledger, *students: str) -> None:
    ledger.append_many(cl.Enrolled(event_id=f"{s}-enrol", student_id=s, occurred_on=date(2025, 9, 1),
                                   institution="HNJX", program="CNC-SR-2025") for s in students)


# -- the library --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["typo.db", "no/such/folder/typo.db"])
def test_a_missing_file_is_refused_and_nothing_is_made(tmp_path, where):
    path = tmp_path / where
    for spelled in (str(path), f"sqlite:///{path}"):
        with pytest.raises(cl.LedgerNotFound) as caught:
            cl.Ledger.open(spelled)
        assert caught.value.code == "ledger_missing"
        assert str(path) in str(caught.value) and "create=True" in str(caught.value)
        assert ("no such folder" in str(caught.value)) == ("/" in where)
    assert list(tmp_path.iterdir()) == []  # no file, no folder


def test_create_makes_the_ledger_and_its_folders(tmp_path):
    path = tmp_path / "ledgers" / "2026" / "records.db"
    with cl.Ledger.open(str(path), create=True) as ledger:
        ledger.load_catalog(cl.Catalog.sample())
        _enrol(ledger, "S1")
    assert path.is_file()
    with cl.Ledger.open(str(path)) as again:  # a ledger now: opened without create
        assert again.count() == 1 and again.verify().ok
    with cl.Ledger.open(str(path), create=True) as again:  # create on an existing ledger just opens it
        assert again.count() == 1


@pytest.mark.parametrize("url", [None, "", ":memory:", "sqlite://"])
def test_a_ledger_in_memory_is_always_new(url):
    with cl.Ledger.open(url) as ledger:
        assert ledger.count() == 0 and ledger.verify().ok


def test_a_missing_ledger_is_refused_on_either_engine(ledger_url, engine):
    """A SQLite path with no file, or an empty PostgreSQL database: refused, and nothing is made there, unless
    ``create=True``."""
    expected = "ledger_missing" if engine == "sqlite" else "ledger_empty"
    with pytest.raises(cl.LedgerNotFound) as caught:
        cl.Ledger.open(ledger_url)
    assert caught.value.code == expected
    if engine == "sqlite":
        assert not os.path.exists(ledger_url)
    else:
        assert _objects(ledger_url) == []
        assert "the database is empty" in str(caught.value) and "create=True" in str(caught.value)
    with cl.Ledger.open(ledger_url, create=True) as ledger:
        ledger.load_catalog(cl.Catalog.sample())
        _enrol(ledger, "S1")
    with cl.Ledger.open(ledger_url) as again:
        assert again.students() == ["S1"] and again.verify().ok


@pytest.mark.parametrize("create", [False, True])
def test_another_applications_database_is_refused_and_left_as_it_was(ledger_url, engine, tmp_path, create):
    _another_application(ledger_url)
    before, files = _objects(ledger_url), _listing(tmp_path)
    with pytest.raises(cl.LedgerNotFound) as caught:
        cl.Ledger.open(ledger_url, create=create)
    assert caught.value.code == "not_a_ledger"
    assert "names, users" in str(caught.value) and "left as it was" in str(caught.value)
    assert _objects(ledger_url) == before  # no table, index, trigger or function added; no row changed
    assert _listing(tmp_path) == files  # SQLite: the file byte for byte, and no -wal or -shm beside it


def test_ledger_tables_without_a_version_are_another_applications(ledger_url):
    engine = create_engine(normalise_url(ledger_url))
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE events (seq INTEGER PRIMARY KEY, payload TEXT)")
    engine.dispose()
    before = _objects(ledger_url)
    with pytest.raises(cl.LedgerNotFound, match="no schema version") as caught:
        cl.Ledger.open(ledger_url, create=True)
    assert caught.value.code == "not_a_ledger" and _objects(ledger_url) == before


def test_an_empty_sqlite_file_is_made_a_ledger_only_with_create(tmp_path):
    path = tmp_path / "empty.db"
    path.touch()
    with pytest.raises(cl.LedgerNotFound) as caught:
        cl.Ledger.open(str(path))
    assert caught.value.code == "ledger_empty" and path.stat().st_size == 0
    assert _listing(tmp_path) == {"empty.db": hashlib.sha256(b"").hexdigest()}
    with cl.Ledger.open(str(path), create=True) as ledger:
        assert ledger.count() == 0
    with cl.Ledger.open(str(path)) as again:
        assert again.verify().ok


@pytest.mark.parametrize("content", [b"student_id,grade\nS1,86\n", b"\x00" * 4096, "学分".encode() * 100])
def test_a_file_that_is_not_a_database_is_refused_untouched(tmp_path, content):
    path = tmp_path / "day.db"
    path.write_bytes(content)
    for create in (False, True):
        with pytest.raises(cl.LedgerNotFound) as caught:
            cl.Ledger.open(str(path), create=create)
        assert caught.value.code == "not_a_ledger", str(caught.value)
    assert _listing(tmp_path) == {"day.db": hashlib.sha256(content).hexdigest()}


def test_a_folder_is_not_a_ledger(tmp_path):
    with pytest.raises(cl.LedgerNotFound, match="it is a folder") as caught:
        cl.Ledger.open(str(tmp_path), create=True)
    assert caught.value.code == "not_a_ledger"


def test_the_meta_table_is_storages():
    assert META_TABLE == MetaRow.__tablename__


@pytest.mark.parametrize("error", [cl.LedgerNotFound("ledger_missing", "no ledger at x.db: no such file"),
                                   cl.OutputIsLedger("output_is_ledger", "x.db is the ledger's own file")])
def test_the_refusals_keep_their_code_between_processes(error):
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is type(error) and again.code == error.code and str(again) == str(error)
    assert isinstance(again, cl.CreditLedgerError)


def test_a_worker_process_refuses_a_ledger_file_that_is_gone(tmp_path):
    """``audit_all``'s worker processes open the ledger by its URL: a file deleted meanwhile is refused there too,
    and not made again."""
    path = tmp_path / "gone.db"
    with cl.Ledger.open(str(path), create=True) as ledger:
        ledger.load_catalog(cl.Catalog.sample())
        _enrol(ledger, "S1", "S2", "S3", "S4")
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(f"{path}{suffix}"):
                os.remove(f"{path}{suffix}")
        with pytest.raises(cl.LedgerNotFound, match="no such file") as caught:
            list(ledger.audit_all(as_of=date(2026, 6, 1), workers=2, chunk=1))
        assert caught.value.code == "ledger_missing"
    assert not path.exists()


def test_an_export_is_never_written_into_the_ledger(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with cl.Ledger.open("day.db", create=True) as ledger:
        ledger.load_catalog(cl.Catalog.sample())
        _enrol(ledger, "S1")
        os.symlink("day.db", "link.db")
        os.link("day.db", "hard.db")
        for out in ("day.db", "./day.db", str(tmp_path / "day.db"), "link.db", "hard.db", Path("day.db"),
                    "day.db-wal"):
            with pytest.raises(cl.OutputIsLedger) as caught:
                cl.export_sqlite(ledger, out)
            assert caught.value.code == "output_is_ledger" and str(out) in str(caught.value)
        assert ledger.verify().ok
        counts = cl.export_sqlite(ledger, "analysis.db")  # any other file is written as before
        assert counts["students"] == 1
    with cl.Ledger.open("day.db") as again:
        assert again.verify().ok and again.count() == 1


# -- the command ----------------------------------------------------------------------------------------------------


def _command_files(tmp_path: Path) -> dict[str, str]:
    """The files the commands read before they open the ledger (a key, a catalog, an events file, outcomes)."""
    key = tmp_path / "key.pem"
    assert runner.invoke(app, ["statement", "keygen", "--out", str(key)]).exit_code == 0
    events = tmp_path / "events.csv"
    events.write_text("kind,event_id,student_id,occurred_on,institution,program\n"
                      "enrolled,S1-enrol,S1,2025-09-01,HNJX,CNC-SR-2025\n", encoding="utf-8")
    outcomes = tmp_path / "outcomes.json"
    outcomes.write_text("[]", encoding="utf-8")
    return {"key": str(key), "events": str(events), "outcomes": str(outcomes), "catalog": SAMPLE}


COMMANDS = {
    "transcript": ["transcript", "S1"],
    "balance": ["balance", "S1"],
    "audit": ["audit", "S1"],
    "audit-all": ["audit-all", "--out", "{tmp}/audits.csv", "--workers", "1"],
    "convert": ["convert", "S1", "{outcomes}"],
    "export": ["export", "{tmp}/analysis.db"],
    "plot": ["plot", "S1", "--out", "{tmp}/s1.png"],
    "statement issue": ["statement", "issue", "S1", "--key", "{key}", "--out", "{tmp}/s1.json"],
    "statement receive": ["statement", "receive", "{tmp}/s1.json", "--trusted", "{tmp}/keys.json"],
    "verify": ["verify"],
    "catalog load": ["catalog", "load", "{catalog}"],
    "catalog show": ["catalog", "show"],
    "import": ["import", "{events}"],
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_but_init_and_demo_refuses_a_missing_ledger(tmp_path, command):
    files = _command_files(tmp_path)
    before = _listing(tmp_path)
    db = str(tmp_path / "typo.db")
    args = [a.format(tmp=tmp_path, **files) for a in COMMANDS[command]]
    result = runner.invoke(app, [*args, "--db", db])
    assert result.exit_code == 1, result.output
    [line] = result.stderr.strip().splitlines()
    assert line == f"error: no ledger at {db}: no such file; `credit-ledger init --db {db}` makes a new one"
    assert "Traceback" not in result.output
    assert _listing(tmp_path) == before  # nothing made: no ledger, no output


def test_init_makes_a_ledger_and_the_others_then_open_it(tmp_path):
    db = str(tmp_path / "new" / "records.db")
    made = runner.invoke(app, ["init", "--db", db, "--sample"])
    assert made.exit_code == 0, made.output
    verified = runner.invoke(app, ["verify", "--db", db, "--json"])
    assert verified.exit_code == 0 and json.loads(verified.stdout) == {
        "ok": True, "checked": 0, "identifier_issues": [], "first_bad_seq": None, "reason": None}
    assert runner.invoke(app, ["init", "--db", db]).exit_code == 0  # init of an existing ledger opens it


def test_the_command_refuses_an_empty_postgresql_database(pg_url):
    result = runner.invoke(app, ["verify", "--db", pg_url])
    assert result.exit_code == 1
    [line] = result.stderr.strip().splitlines()
    assert "the database is empty" in line and "credit-ledger init --db" in line
    assert _objects(pg_url) == []
    assert runner.invoke(app, ["init", "--db", pg_url]).exit_code == 0
    assert runner.invoke(app, ["verify", "--db", pg_url]).exit_code == 0


@pytest.mark.parametrize("command", [["init", "--sample"], ["demo"], ["verify"], ["import", "{events}"]])
def test_the_command_never_writes_into_another_applications_file(tmp_path, command):
    files = _command_files(tmp_path)
    db = tmp_path / "app.db"
    _another_application(str(db))
    before = _listing(tmp_path)
    result = runner.invoke(app, [*(a.format(**files) for a in command), "--db", str(db)])
    assert result.exit_code == 1, result.output
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"error: no ledger at {db}: the database holds tables (names, users)")
    assert _listing(tmp_path) == before


@pytest.mark.parametrize("spelled", ["day.db", "./day.db", "{tmp}/day.db", "link.db", "hard.db"])
@pytest.mark.parametrize("db", ["day.db", "{tmp}/day.db", "sqlite:///day.db", "sqlite:///{tmp}/day.db"])
def test_export_into_the_ledgers_own_file_is_refused(tmp_path, monkeypatch, spelled, db):
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(app, ["demo", "--db", "day.db"]).exit_code == 0
    os.symlink("day.db", "link.db")
    os.link("day.db", "hard.db")
    ledger_tables = {r[1] for r in _objects("day.db") if r[0] == "table"}
    result = runner.invoke(app, ["export", spelled.format(tmp=tmp_path), "--db", db.format(tmp=tmp_path)])
    assert result.exit_code == 1, result.output
    [line] = result.stderr.strip().splitlines()
    assert "is the ledger's own file" in line and "nothing was written" in line
    assert {r[1] for r in _objects("day.db") if r[0] == "table"} == ledger_tables  # no analysis table in it
    assert json.loads(runner.invoke(app, ["verify", "--db", "day.db", "--json"]).stdout)["ok"] is True


def test_no_output_of_the_command_lands_in_the_ledger(tmp_path):
    """``--out`` and ``--rejects`` name files the command writes beside an open ledger: never the ledger's own."""
    files = _command_files(tmp_path)
    for db, args in [("led.csv", ["audit-all", "--out", "{db}", "--workers", "1"]),
                     ("led.jsonl", ["audit-all", "--out", "{db}", "--workers", "1"]),
                     ("led.db", ["statement", "issue", "S1", "--key", files["key"], "--out", "{db}"]),
                     ("led.db", ["plot", "S1", "--out", "{db}"]),
                     ("led.html", ["audit", "S1", "--format", "html", "--out", "{db}"]),
                     ("led.db", ["import", files["events"], "--skip-bad", "--rejects", "{db}"])]:
        path = str(tmp_path / db)
        assert runner.invoke(app, ["init", "--db", path, "--sample"]).exit_code == 0
        before = _listing(tmp_path)[db]
        result = runner.invoke(app, [*(a.format(db=path) for a in args), "--db", path])
        assert result.exit_code == 1, (args, result.output)
        assert "is the ledger's own file" in result.stderr and len(result.stderr.strip().splitlines()) == 1
        assert _listing(tmp_path)[db] == before, args


def test_a_write_waits_out_a_busy_lock_by_retrying(tmp_path):
    # another connection holds SQLite's write lock; with no busy timeout the first BEGIN IMMEDIATE fails at once, and
    # Store.write must see SQLAlchemy's OperationalError to back off and retry (a BEGIN sent to sqlite3 itself raised
    # sqlite3's own error past the retry)
    import sqlite3
    import threading

    from sqlalchemy import event

    from credit_ledger.storage import Store

    path = tmp_path / "busy.db"
    cl.Ledger.open(str(path), create=True).close()
    store = Store.open(str(path))
    event.listen(store.engine, "connect", lambda dbapi, _record: dbapi.execute("PRAGMA busy_timeout = 0"))
    store.engine.dispose()
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.3, holder.rollback)
    release.start()
    try:
        with store.write() as conn:  # retried with backoff until the holder lets go
            assert conn.exec_driver_sql("SELECT COUNT(*) FROM events").scalar() == 0
    finally:
        release.join()
        holder.close()
        store.close()
