"""Shared fixtures and hypothesis profiles.

``HYPOTHESIS_PROFILE=fast`` (the default, for every ``make test``) and ``deep`` (``make test-deep``).

Every test that asks for ``engine`` (directly, or through ``ledger``, ``file_ledger`` or ``ledger_url``) runs twice:
on SQLite and on PostgreSQL, each PostgreSQL test in a database of its own. The PostgreSQL server is the one at
``$CREDIT_LEDGER_TEST_PG_URL`` (a superuser URL; ``.ci/run`` sets it), else a throwaway server this session starts
with ``scripts/pg_throwaway.py`` and stops at its end. Without PostgreSQL's driver (``psycopg``, the ``postgres``
extra), or with no server (no URL, and no ``initdb``/``pg_ctl`` here), the PostgreSQL runs are skipped, and the
summary says why; with ``CREDIT_LEDGER_TEST_PG_REQUIRED=1`` (CI) they fail instead.
A test that edits the SQLite file itself is marked ``sqlite_only`` (or asks for ``db_path``).
"""

from __future__ import annotations

import importlib.util
import itertools
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

import credit_ledger as cl

settings.register_profile("fast", max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("deep", max_examples=1000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "fast"))

DEEP = os.environ.get("HYPOTHESIS_PROFILE") == "deep"

PG_URL_ENV = "CREDIT_LEDGER_TEST_PG_URL"
PG_REQUIRED_ENV = "CREDIT_LEDGER_TEST_PG_REQUIRED"
ENGINES = ("sqlite", "postgresql")
SQLITE_ONLY_FIXTURES = frozenset({"db_path"})
"""Fixtures that hand a test the SQLite file itself: such a test runs on SQLite only."""

_SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "pg_throwaway.py"


def _load_throwaway():
    spec = importlib.util.spec_from_file_location("pg_throwaway", _SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


pg_throwaway = _load_throwaway()


_SKIPPED = pytest.StashKey[str | None]()
"""Why this session skips the PostgreSQL runs (``None``: it does not)."""


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only: the test edits the SQLite file itself; no PostgreSQL run")
    config.stash[_SKIPPED] = None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "engine" in metafunc.fixturenames:
        sqlite_only = (metafunc.definition.get_closest_marker("sqlite_only") is not None
                       or SQLITE_ONLY_FIXTURES & set(metafunc.fixturenames))
        metafunc.parametrize("engine", ENGINES[:1] if sqlite_only else ENGINES, scope="function")


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    reason = config.stash.get(_SKIPPED, None)
    if reason:
        terminalreporter.write_line(f"PostgreSQL tests SKIPPED: {reason}", yellow=True, bold=True)


class PgDatabases:
    """Creates a fresh database per test on one server, and drops it after."""

    def __init__(self, admin_url: str):
        self.admin_url = admin_url
        self._counter = itertools.count(1)

    def _admin(self):
        import psycopg
        from sqlalchemy.engine import make_url

        url = make_url(self.admin_url)
        return psycopg.connect(host=url.host, port=url.port, user=url.username, password=url.password,
                               dbname=url.database or "postgres", autocommit=True)

    def new(self) -> str:
        """The URL of a new, empty database."""
        from sqlalchemy.engine import make_url

        name = f"cl_test_{os.getpid()}_{next(self._counter)}"
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        return make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)

    def drop(self, url: str) -> None:
        """Drop a database made by ``new`` (connections still open to it are ended)."""
        from sqlalchemy.engine import make_url

        name = make_url(url).database
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def driver_missing() -> str | None:
    """Why PostgreSQL's driver cannot be used here (``None`` when ``psycopg`` imports)."""
    try:
        import psycopg  # noqa: F401
    except ImportError as exc:
        return f"PostgreSQL's driver psycopg cannot be imported ({exc}): pip install -e '.[postgres]'"
    return None


def _skip_postgres(request: pytest.FixtureRequest, message: str) -> None:
    """Skip this session's PostgreSQL runs, saying why (in each test and in the summary); with
    ``CREDIT_LEDGER_TEST_PG_REQUIRED=1`` fail them instead."""
    if os.environ.get(PG_REQUIRED_ENV) == "1":
        pytest.fail(f"PostgreSQL is required ({PG_REQUIRED_ENV}=1) but {message}", pytrace=False)
    request.config.stash[_SKIPPED] = message
    pytest.skip(f"PostgreSQL tests skipped: {message}")


@pytest.fixture(scope="session")
def pg_databases(request: pytest.FixtureRequest) -> PgDatabases:
    """A PostgreSQL server to make test databases on: ``$CREDIT_LEDGER_TEST_PG_URL``, else a throwaway one."""
    reason = driver_missing()
    if reason:
        _skip_postgres(request, reason)
    url = os.environ.get(PG_URL_ENV)
    if url:
        yield PgDatabases(url)
        return
    reason = pg_throwaway.missing()
    if reason:
        _skip_postgres(request, f"{reason}; set {PG_URL_ENV} to a PostgreSQL superuser URL, or install PostgreSQL, "
                                "to run them")
    folder = tempfile.mkdtemp(prefix="cl-test-pg-")
    try:
        url = pg_throwaway.start(folder)
    except Exception:
        pg_throwaway.stop(folder)
        raise
    try:
        yield PgDatabases(url)
    finally:
        pg_throwaway.stop(folder)


@pytest.fixture
def pg_url(pg_databases: PgDatabases) -> str:
    """The URL of a fresh, empty PostgreSQL database (dropped after the test)."""
    url = pg_databases.new()
    yield url
    pg_databases.drop(url)


@pytest.fixture
def ledger_url(engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """Where a fresh ledger of the test's engine lives: a SQLite file, or a fresh PostgreSQL database."""
    if engine == "postgresql":
        return request.getfixturevalue("pg_url")
    return str(tmp_path / "ledger.db")


@pytest.fixture(scope="session")
def catalog() -> cl.Catalog:
    """The sample catalog shipped in the package."""
    return cl.Catalog.sample()


@pytest.fixture
def ledger(engine: str, catalog: cl.Catalog, request: pytest.FixtureRequest) -> cl.Ledger:
    """A fresh ledger with the sample catalog loaded: in memory on SQLite, or a fresh PostgreSQL database."""
    led = cl.Ledger.open(request.getfixturevalue("ledger_url") if engine == "postgresql" else None, create=True)
    led.load_catalog(catalog)
    yield led
    led.close()


@pytest.fixture
def file_ledger(ledger_url: str, catalog: cl.Catalog) -> cl.Ledger:
    """A fresh ledger that outlives its handle (reopen it at ``ledger_url``), with the sample catalog loaded:
    the SQLite file ``tmp_path / "ledger.db"``, or a fresh PostgreSQL database."""
    led = cl.Ledger.open(ledger_url, create=True)
    led.load_catalog(catalog)
    yield led
    led.close()
