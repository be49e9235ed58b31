"""Storage: SQLModel tables, engines for SQLite and PostgreSQL, append-only guards, rows in and rows out.

Every event is one row of ``events``; rows are never updated or deleted. The database itself refuses it: triggers
abort any UPDATE or DELETE on ``events``, ``checkpoints`` and ``catalogs``. And should someone drop the triggers and
edit the file, the hash chain tells (``chain``: each row's hash covers the previous row of its student, each append
writes a ledger-wide checkpoint over its rows, the previous checkpoint and the catalog in force, and loading a catalog
writes a checkpoint too, over no rows). ``verify_store`` reads every row, checkpoint and catalog and hands them to
``chain.check_ledger``, which names the first row that is not what the library wrote.

>>> store = Store.open()
>>> with store.read() as conn:
...     store.max_seq(conn), store.last_checkpoint(conn) == (0, GENESIS)
(0, True)
>>> verify_store(store)
(0, None)

Only this module talks SQL; it knows rows, not rules, and hashes nothing itself: where it writes a checkpoint or a
stored catalog it asks ``chain`` for the hash, over the previous hash it reads in the same write transaction.
The hash names (``GENESIS``, ``row_hash``, ``checkpoint_hash``, ``content_hash``, ``subject_of``, ``Finding``,
``EVENT_COLUMNS``) live in ``chain`` and are re-exported here; the schema versions and their upgrades
(``SCHEMA_VERSION``, ``MIGRATIONS``) live in ``migrations``, and are re-exported here too.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any, Iterable, Iterator, Sequence

from sqlalchemy import BigInteger, Index, Integer, Text, UniqueConstraint, event, inspect, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import StaticPool
from sqlmodel import Field, SQLModel, create_engine

from .chain import (
    EVENT_COLUMNS,
    GENESIS,
    Checkpoint,
    Finding,
    ReadRow,
    StoredCatalogRow,
    check_ledger,
    checkpoint_hash,
    content_hash,
    row_hash,
    subject_of,
)
from .errors import CreditLedgerError
from .identifiers import KEY_CHARS
from .migrations import (
    MIGRATIONS,
    SCHEMA_VERSION,
    identifier_rules,
    rebuild_identifiers,
    upgrade_1_to_2,
    upgrade_2_to_3,
    upgrade_3_to_4,
)
from .opening import look_before_opening, no_ledger, same_file

SEQ = BigInteger().with_variant(Integer(), "sqlite")
"""The type of a column holding a seq (``migrations.SEQ_COLUMNS``): ``BIGINT`` on PostgreSQL, and on SQLite the
``INTEGER`` that makes ``seq`` the rowid (64-bit there already)."""

_CHUNK = 900
"""Bound parameters per IN list (SQLite's older limit is 999)."""


class EventRow(SQLModel, table=True):
    """One appended event: its JSON as written, where it sits in its student's chain, and its hash."""

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("student_id", "student_seq", name="uq_events_student_chain"),
        Index("ix_events_kind_recorded_by", "kind", "recorded_by"),
    )

    seq: int = Field(primary_key=True, sa_type=SEQ, sa_column_kwargs={"autoincrement": False})
    event_id: str = Field(max_length=128, unique=True)
    student_id: str = Field(max_length=128)
    student_seq: int = Field(sa_type=SEQ)
    kind: str = Field(max_length=32)
    occurred_on: date
    subject: str | None = Field(default=None, max_length=300)
    recorded_by: str | None = Field(default=None, max_length=64)
    recorded_at: str = Field(max_length=40)
    payload: str = Field(sa_type=Text)
    prev_hash: str = Field(max_length=64)
    event_hash: str = Field(max_length=64)


class CheckpointRow(SQLModel, table=True):
    """A ledger-wide checkpoint: the hash of the rows ``first_seq``..``last_seq`` chained to the previous one."""

    __tablename__ = "checkpoints"

    seq: int = Field(primary_key=True, sa_type=SEQ, sa_column_kwargs={"autoincrement": False})
    first_seq: int = Field(sa_type=SEQ)
    last_seq: int = Field(sa_type=SEQ)
    recorded_at: str = Field(max_length=40)
    catalog_hash: str = Field(max_length=64)
    prev_hash: str = Field(max_length=64)
    checkpoint_hash: str = Field(max_length=64)


class CatalogRow(SQLModel, table=True):
    """A catalog as loaded into the ledger; the ledger's catalog is all of them merged in order."""

    __tablename__ = "catalogs"

    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    loaded_at: str = Field(max_length=40)
    content: str = Field(sa_type=Text)
    prev_hash: str = Field(max_length=64)
    content_hash: str = Field(max_length=64)


class MetaRow(SQLModel, table=True):
    """Facts about the ledger itself, e.g. ``schema_version``."""

    __tablename__ = "ledger_meta"

    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(max_length=200)


class IdentifierRow(SQLModel, table=True):
    """The skeleton keys (``identifiers.skeleton_key``) of the ids an event row brought into the ledger: its event
    id, and its student's id when it is the student's first row. The index the look-alike check of a new id reads
    (the ids themselves are read from ``events``, by ``seq``).

    Derived from the events, and made again from them whenever the rules that make skeletons change
    (``identifiers.RULES_VERSION``, kept in ``ledger_meta``), so it is not guarded: ``verify`` checks the ids from the
    events themselves."""

    __tablename__ = "identifiers"
    __table_args__ = (
        Index("ix_identifiers_event_key", "event_key"),
        Index("ix_identifiers_student_key", "student_key", sqlite_where=text("student_key IS NOT NULL"),
              postgresql_where=text("student_key IS NOT NULL")),
    )

    seq: int = Field(primary_key=True, sa_type=SEQ, sa_column_kwargs={"autoincrement": False})
    event_key: str = Field(max_length=KEY_CHARS)
    student_key: str | None = Field(default=None, max_length=KEY_CHARS)
    """Only on the student's first row."""


GUARDED_TABLES = ("events", "checkpoints", "catalogs")
LEDGER_TABLES = (*GUARDED_TABLES, "ledger_meta", "identifiers")
"""Every table of a ledger (``EventRow``, ``CheckpointRow``, ``CatalogRow``, ``MetaRow``, ``IdentifierRow``)."""


# -- engines -----------------------------------------------------------------------------------------------------------


def normalise_url(url: str | None) -> str:
    """``None`` is in-memory SQLite; a bare path is a SQLite file; anything with ``://`` is an SQLAlchemy URL.

    >>> normalise_url(None), normalise_url("records.db"), normalise_url("postgresql+psycopg://h/db")
    ('sqlite://', 'sqlite:///records.db', 'postgresql+psycopg://h/db')
    """
    if url is None or url in ("", ":memory:"):
        return "sqlite://"
    if "://" not in url:
        return f"sqlite:///{url}"
    return url


def sqlite_file(url: str | None) -> str | None:
    """The file a SQLite URL names, as written (``None`` in memory, or for another database).

    >>> sqlite_file("records.db"), sqlite_file("sqlite:////srv/ledger.db"), sqlite_file(None)
    ('records.db', '/srv/ledger.db', None)
    >>> sqlite_file("postgresql+psycopg://h/db"), sqlite_file("sqlite:///file:x?mode=memory&uri=true")
    (None, None)
    """
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:") or "uri" in parsed.query:
        return None
    return parsed.database


def make_engine(url: str | None) -> Engine:
    """An engine with the ledger's connection settings (WAL and a busy timeout on SQLite files)."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        memory = url in ("sqlite://", "sqlite:///:memory:")
        kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 30}}
        if memory:
            kwargs["poolclass"] = StaticPool
        engine = create_engine(url, **kwargs)
        _sqlite_transactions(engine, wal=not memory)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_transactions(engine: Engine, *, wal: bool) -> None:
    """Take transaction control from pysqlite: BEGIN (or BEGIN IMMEDIATE for writes) is ours to emit."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if wal:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA cache_size=-65536")  # 64 MiB of page cache: the indexes of a big ledger stay hot
        cursor.execute("PRAGMA wal_autocheckpoint=10000")  # checkpoint every ~40 MiB of WAL, not 4 MiB
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")  # through SQLAlchemy: "database is locked" is its OperationalError


# -- opening: a ledger is opened, never conjured (``opening``) --------------------------------------------------------


_EXISTS = {"sqlite": "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?",
           "postgresql": "SELECT COUNT(*) WHERE to_regclass(?) IS NOT NULL"}
"""Per engine, a query of one count: 1 when the database has the table named by its one parameter, else 0."""


def table_exists(conn: Connection, table: str) -> bool:
    """Whether the ledger's database has ``table`` (a table made on first use, outside the schema: ``roster``,
    ``audit_summaries``), in one cheap query, since a portal's every audit asks."""
    sql = _EXISTS.get(conn.dialect.name)
    if sql is None:  # pragma: no cover - the two engines above are the ones a ledger runs on
        return table in inspect(conn).get_table_names()
    return bool(conn.exec_driver_sql(sql if conn.dialect.name == "sqlite" else sql.replace("?", "%s"), (table,))
                .scalar())


def _in_memory(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite" and sqlite_file(engine.url.render_as_string(hide_password=False)) is None


def is_ledger_file(url: str | None, path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is the SQLite file of the ledger at ``url`` (or its journal), however written: relative or
    absolute, through a symlink, or a hard link to it. Never for a ledger in memory or on a server.

    >>> is_ledger_file("records.db", "./records.db"), is_ledger_file("records.db", "other.db")
    (True, False)
    """
    own = sqlite_file(url)
    return own is not None and same_file(own, path)


# -- the store ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event row as read back: ledger-wide ``seq``, the chain hash and the JSON written."""

    seq: int
    event_id: str
    student_id: str
    kind: str
    event_hash: str
    payload: str
    recorded_by: str | None = None


class Store:
    """The ledger's tables on one engine. Rows in, rows out; no rules."""

    def __init__(self, engine: Engine, *, create: bool = False):
        self.engine = engine
        self.dialect = engine.dialect.name
        self._param = "?" if engine.dialect.paramstyle == "qmark" else "%s"
        self._analyzed_seq = 0
        """PostgreSQL: the highest seq when this store last refreshed the planner's statistics of ``events``."""
        self.committed = 0
        """Events committed through this store (by every ledger handle on it) since it was opened."""
        self._init_schema(create=create or _in_memory(engine))

    @classmethod
    def open(cls, url: str | None = None, *, create: bool = False) -> "Store":
        """Open (and upgrade) the ledger at ``url``. Where there is none (no such file, or an empty database) it is
        made only with ``create=True`` (a file's missing folders too); in memory, always. A database that holds
        anything but a ledger is refused and left as it was. Each refusal is a ``LedgerNotFound``."""
        path = sqlite_file(url)
        if path is not None:
            look_before_opening(path, create=create)
        return cls(make_engine(url), create=create)

    def close(self) -> None:
        """Release the engine's connections."""
        self.engine.dispose()

    # -- schema --------------------------------------------------------------------------------------------------

    def _init_schema(self, *, create: bool) -> None:
        """Create the tables of a new ledger (with ``create``), or upgrade an older one, in one write transaction (all
        or nothing: a failed upgrade leaves the ledger at its old version). A database without a ledger is refused
        before anything is written to it."""
        with self.write() as conn:
            inspector = inspect(conn)
            tables = set(inspector.get_table_names())
            found = None
            if MetaRow.__tablename__ in tables:
                found = conn.exec_driver_sql("SELECT value FROM ledger_meta WHERE key = 'schema_version'").scalar()
            if found is None:
                refusal = no_ledger(self.engine.url.render_as_string(hide_password=True),
                                    sorted(tables | set(inspector.get_view_names())), create=create)
                if refusal is not None:
                    raise refusal
            version = SCHEMA_VERSION if found is None else self._version(found)
            SQLModel.metadata.create_all(conn, tables=[SQLModel.metadata.tables[name] for name in LEDGER_TABLES])
            if found is None:
                conn.exec_driver_sql(f"INSERT INTO ledger_meta (key, value) VALUES ('schema_version', "
                                     f"'{SCHEMA_VERSION}')")
            elif version < SCHEMA_VERSION:
                for step in range(version, SCHEMA_VERSION):
                    MIGRATIONS[step](conn)
                conn.exec_driver_sql(f"UPDATE ledger_meta SET value = '{SCHEMA_VERSION}' "
                                     "WHERE key = 'schema_version'")
            self._install_guards(conn)
            self._analyzed_seq = self.max_seq(conn)

    def _where(self) -> str:
        return f"ledger {self.engine.url.render_as_string(hide_password=True)}"

    def _version(self, found: Any) -> int:
        """The stored schema version, if this library can open (or upgrade) it."""
        try:
            version = int(found)
        except (TypeError, ValueError):
            version = -1
        oldest = min(MIGRATIONS, default=SCHEMA_VERSION)
        if version > SCHEMA_VERSION:
            raise CreditLedgerError(f"{self._where()} has schema version {version}; this credit_ledger knows versions "
                                    f"{oldest} to {SCHEMA_VERSION}: upgrade credit_ledger to open it")
        if version < oldest:
            raise CreditLedgerError(f"{self._where()} has schema version {found!r}; this credit_ledger opens versions "
                                    f"{oldest} to {SCHEMA_VERSION} only")
        return version

    def schema_version(self) -> int:
        """The schema version recorded in the ledger."""
        with self.read() as conn:
            return int(conn.exec_driver_sql("SELECT value FROM ledger_meta WHERE key = 'schema_version'").scalar_one())

    def _install_guards(self, conn: Connection) -> None:
        if self.dialect == "sqlite":
            for table in GUARDED_TABLES:
                for op in ("UPDATE", "DELETE"):
                    conn.exec_driver_sql(
                        f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
                        f"BEGIN SELECT RAISE(ABORT, 'credit_ledger: {table} are append-only ({op} refused)'); END")
        elif self.dialect == "postgresql":
            conn.exec_driver_sql(
                "CREATE OR REPLACE FUNCTION credit_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
                "BEGIN RAISE EXCEPTION 'credit_ledger: %% are append-only (%% refused)', TG_TABLE_NAME, TG_OP; END $$")
            for table in GUARDED_TABLES:
                conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
                conn.exec_driver_sql(
                    f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                    "FOR EACH ROW EXECUTE FUNCTION credit_ledger_append_only()")
                conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
                conn.exec_driver_sql(
                    f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                    "FOR EACH STATEMENT EXECUTE FUNCTION credit_ledger_append_only()")

    # -- transactions --------------------------------------------------------------------------------------------

    @contextmanager
    def write(self, retries: int = 8) -> Iterator[Connection]:
        """A write transaction that holds the ledger's write lock (SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory
        lock), so that reads for validation and the append see the same ledger. Retries taking the lock with backoff.
        """
        delay = 0.05
        for attempt in range(retries + 1):
            conn = self.engine.connect()
            if self.dialect == "sqlite":
                conn = conn.execution_options(sqlite_begin="IMMEDIATE")
            try:
                tx = conn.begin()
                if self.dialect == "postgresql":
                    conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7413201)")
            except OperationalError:
                conn.close()
                if attempt == retries:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            try:
                yield conn
            except BaseException:
                tx.rollback()
                conn.close()
                raise
            tx.commit()
            conn.close()
            return

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction (one consistent snapshot)."""
        with self.engine.connect() as conn:
            with conn.begin():
                yield conn

    # -- reads ---------------------------------------------------------------------------------------------------

    def _in(self, conn: Connection, sql: str, values: Sequence[Any], extra: Sequence[Any] = ()) -> list[Any]:
        """Run ``sql`` (with ``{in}`` for the placeholder list) over ``values`` in chunks."""
        out: list[Any] = []
        values = list(values)
        for i in range(0, len(values), _CHUNK):
            chunk = values[i:i + _CHUNK]
            marks = ", ".join([self._param] * len(chunk))
            out.extend(conn.exec_driver_sql(sql.format(in_=marks), tuple(chunk) + tuple(extra)).fetchall())
        return out

    def find_events(self, conn: Connection, event_ids: Iterable[str]) -> dict[str, StoredEvent]:
        """Stored rows by event id, for the ids that exist."""
        rows = self._in(conn, "SELECT seq, event_id, student_id, kind, event_hash, payload, recorded_by FROM events "
                              "WHERE event_id IN ({in_})", sorted(set(event_ids)))
        return {r[1]: StoredEvent(*r) for r in rows}

    def rows_of_kinds(self, conn: Connection, student_ids: Iterable[str], kinds: Iterable[str]
                      ) -> list[tuple[str, int, str, str | None, str]]:
        """``(student_id, seq, kind, subject, payload)`` of the students' rows of the given kinds, by seq."""
        kinds = sorted(kinds)
        marks = ", ".join([self._param] * len(kinds))
        rows = self._in(conn, "SELECT student_id, seq, kind, subject, payload FROM events "
                              f"WHERE student_id IN ({{in_}}) AND kind IN ({marks})", sorted(set(student_ids)), kinds)
        rows.sort(key=lambda r: r[1])
        return [tuple(r) for r in rows]

    def rows_of_kind(self, conn: Connection, kind: str, containing: Iterable[str] | None = None
                     ) -> list[tuple[str, int, str | None, str]]:
        """``(student_id, seq, recorded_by, payload)`` of the rows of ``kind`` (the index on ``events (kind,
        recorded_by)`` narrows to them: no other row is read), by seq; with ``containing``, only those whose JSON
        contains one of these texts, exactly (searched by the database: ``instr``, ``strpos``)."""
        p = self._param
        if containing is None:
            return [(r[0], r[1], r[2], r[3]) for r in conn.exec_driver_sql(
                f"SELECT student_id, seq, recorded_by, payload FROM events WHERE kind = {p} ORDER BY seq", (kind,))]
        texts = sorted(set(containing))
        where = f"instr(payload, {p}) > 0" if self.dialect == "sqlite" else f"strpos(payload, {p}) > 0"
        found: dict[int, tuple[str, int, str | None, str]] = {}
        for i in range(0, len(texts), _CHUNK // 2):
            chunk = texts[i:i + _CHUNK // 2]
            for r in conn.exec_driver_sql(
                    f"SELECT student_id, seq, recorded_by, payload FROM events WHERE kind = {p} AND "
                    f"({' OR '.join([where] * len(chunk))})", (kind, *chunk)):
                found[r[1]] = (r[0], r[1], r[2], r[3])
        return [found[seq] for seq in sorted(found)]

    def payloads_of_kinds(self, conn: Connection, kinds: Iterable[str]) -> list[tuple[str, str]]:
        """``(student_id, payload)`` of every row of the given kinds, by seq."""
        kinds = sorted(kinds)
        marks = ", ".join([self._param] * len(kinds))
        return [(r[0], r[1]) for r in conn.exec_driver_sql(
            f"SELECT student_id, payload FROM events WHERE kind IN ({marks}) ORDER BY seq", tuple(kinds))]

    def counts_by_student(self, conn: Connection) -> list[tuple[str, int]]:
        """``(student_id, rows)`` per student."""
        return [(r[0], r[1]) for r in conn.exec_driver_sql(
            "SELECT student_id, COUNT(*) FROM events GROUP BY student_id")]

    def student_of_seq(self, conn: Connection, seq: int) -> str | None:
        """The student of the row ``seq`` (``None`` when there is no such row)."""
        return conn.exec_driver_sql(f"SELECT student_id FROM events WHERE seq = {self._param}", (seq,)).scalar()

    def latest_dates(self, conn: Connection, student_ids: Iterable[str], kinds: Iterable[str]) -> dict[str, date]:
        """The latest ``occurred_on`` per student among rows of the given kinds."""
        kinds = sorted(kinds)
        marks = ", ".join([self._param] * len(kinds))
        rows = self._in(conn, "SELECT student_id, MAX(occurred_on) FROM events WHERE student_id IN ({in_}) "
                              f"AND kind IN ({marks}) GROUP BY student_id", sorted(set(student_ids)), kinds)
        return {r[0]: (r[1] if isinstance(r[1], date) else date.fromisoformat(r[1])) for r in rows
                if r[1] is not None}

    def heads(self, conn: Connection, student_ids: Iterable[str]) -> dict[str, tuple[int, str]]:
        """The last ``(student_seq, event_hash)`` of each student's chain: one index seek per student."""
        out: dict[str, tuple[int, str]] = {}
        values = sorted(set(student_ids))
        for i in range(0, len(values), _CHUNK):
            chunk = values[i:i + _CHUNK]
            ids = ", ".join([f"({self._param})"] * len(chunk))
            rows = conn.exec_driver_sql(
                f"WITH ids(id) AS (VALUES {ids}) SELECT e.student_id, e.student_seq, e.event_hash FROM ids "
                "JOIN events e ON e.student_id = ids.id AND e.student_seq = "
                "(SELECT MAX(m.student_seq) FROM events m WHERE m.student_id = ids.id)", tuple(chunk)).fetchall()
            out.update((r[0], (r[1], r[2])) for r in rows)
        return out

    def student_payloads(self, conn: Connection, student_id: str) -> list[tuple[int, str]]:
        """``(seq, payload)`` of one student's rows in recording order."""
        p = self._param
        return [tuple(r) for r in conn.exec_driver_sql(
            f"SELECT seq, payload FROM events WHERE student_id = {p} ORDER BY student_seq", (student_id,))]

    def payloads_of_students(self, conn: Connection, student_ids: Sequence[str]) -> dict[str, list[tuple[int, str]]]:
        """``(seq, payload)`` of several students' rows, per student in recording order (one query per 900)."""
        out: dict[str, list[tuple[int, str]]] = {sid: [] for sid in student_ids}
        for sid, seq, payload in self._in(
                conn, "SELECT student_id, seq, payload FROM events WHERE student_id IN ({in_}) "
                      "ORDER BY student_id, student_seq", list(student_ids)):
            out[sid].append((seq, payload))
        return out

    _READ = ("SELECT {who}seq, event_id, student_seq, recorded_at, payload, prev_hash, event_hash, "
             "COALESCE((SELECT last_seq FROM checkpoints ORDER BY seq DESC LIMIT 1), 0){extra} FROM events ")
    """The rows a read checks (``chain.READ_COLUMNS``): the chain columns come with the JSON, and the last seq a
    checkpoint covers with them (one statement: one snapshot, on either engine)."""

    def student_rows(self, conn: Connection, student_id: str) -> list[ReadRow]:
        """One student's rows as a read checks them (``chain.READ_COLUMNS``), in chain order: one query."""
        return [tuple(r) for r in conn.exec_driver_sql(self._READ.format(who="", extra="")
                                                       + f"WHERE student_id = {self._param} ORDER BY student_seq",
                                                       (student_id,))]

    def student_read(self, conn: Connection, student_id: str, table: str
                     ) -> tuple[list[ReadRow], int | None, bool | None]:
        """A portal's one student in one statement: ``student_rows``, the newest stored catalog's seq and whether
        the ledger has ``table`` (made on first use); for a student with no rows, no rows and ``None`` twice."""
        exists = _EXISTS[self.dialect].replace("?", self._param)
        found = conn.exec_driver_sql(
            self._READ.format(who="", extra=f", (SELECT COALESCE(MAX(seq), 0) FROM catalogs), ({exists})")
            + f"WHERE student_id = {self._param} ORDER BY student_seq", (table, student_id)).fetchall()
        return ([tuple(r[:-2]) for r in found], found[0][-2], bool(found[0][-1])) if found else ([], None, None)

    def rows_of_students(self, conn: Connection, student_ids: Sequence[str]) -> dict[str, list[ReadRow]]:
        """Several students' rows as a read checks them (``chain.READ_COLUMNS``), per student in chain order (one
        query per 900 students)."""
        out: dict[str, list[ReadRow]] = {sid: [] for sid in student_ids}
        for row in self._in(conn, self._READ.format(who="student_id, ", extra="") + "WHERE student_id IN ({in_}) "
                                  "ORDER BY student_id, student_seq", list(student_ids)):
            out[row[0]].append(tuple(row[1:]))
        return out

    def student_ids(self, conn: Connection) -> list[str]:
        """Every student id in the ledger, sorted."""
        return [r[0] for r in
                conn.exec_driver_sql("SELECT DISTINCT student_id FROM events ORDER BY student_id").fetchall()]

    def students_since(self, conn: Connection, seq: int) -> set[str]:
        """The students with rows after ``seq``."""
        return {r[0] for r in conn.exec_driver_sql(
            f"SELECT DISTINCT student_id FROM events WHERE seq > {self._param}", (seq,))}

    def find_identifiers(self, conn: Connection, kind: str, keys: Iterable[str]) -> list[tuple[str, str]]:
        """``(skeleton_key, id)`` of the stored ids of a kind (``student``, ``event``) with these skeleton keys."""
        column, key = ("student_id", "student_key") if kind == "student" else ("event_id", "event_key")
        sql = (f"SELECT i.{key}, e.{column} FROM identifiers i JOIN events e ON e.seq = i.seq "
               f"WHERE i.{key} IN ({{in_}})")
        return [(r[0], r[1]) for r in self._in(conn, sql, sorted(set(keys)))]

    def insert_identifiers(self, conn: Connection, rows: Sequence[tuple[int, str, str | None]]) -> None:
        """Insert ``(seq, event_key, student_key)`` rows of new event rows with one executemany."""
        if rows:
            p = self._param
            conn.exec_driver_sql(f"INSERT INTO identifiers (seq, event_key, student_key) VALUES ({p}, {p}, {p})",
                                 list(rows))

    def id_pages(self, conn: Connection, size: int = 50000) -> Iterator[list[tuple[int, str, str]]]:
        """``(seq, event_id, student_id)`` of every event row in ``seq`` order, a page of ``size`` rows at a time."""
        last = 0
        while True:
            rows = conn.exec_driver_sql(
                f"SELECT seq, event_id, student_id FROM events WHERE seq > {self._param} ORDER BY seq "
                f"LIMIT {int(size)}", (last,)).fetchall()
            if not rows:
                return
            yield [(r[0], r[1], r[2]) for r in rows]
            last = rows[-1][0]

    def max_seq(self, conn: Connection) -> int:
        """The highest event ``seq`` (0 when empty)."""
        return conn.exec_driver_sql("SELECT COALESCE(MAX(seq), 0) FROM events").scalar() or 0

    def count(self, conn: Connection) -> int:
        """The number of event rows."""
        return conn.exec_driver_sql("SELECT COUNT(*) FROM events").scalar() or 0

    def last_checkpoint(self, conn: Connection) -> tuple[int, str]:
        """``(seq, checkpoint_hash)`` of the last checkpoint, ``(0, GENESIS)`` when there is none."""
        row = conn.exec_driver_sql("SELECT seq, checkpoint_hash FROM checkpoints ORDER BY seq DESC LIMIT 1").first()
        return (row[0], row[1]) if row else (0, GENESIS)

    def catalog_heads(self, conn: Connection) -> tuple[str, str]:
        """``(the newest stored catalog's hash, the catalog hash the last checkpoint names)``, read in one statement
        (``GENESIS`` for none): in a ledger the library wrote they are the same, since loading a catalog writes a
        checkpoint."""
        row = conn.exec_driver_sql(
            "SELECT (SELECT content_hash FROM catalogs ORDER BY seq DESC LIMIT 1), "
            "(SELECT catalog_hash FROM checkpoints ORDER BY seq DESC LIMIT 1)").one()
        return (row[0] or GENESIS, row[1] or GENESIS)

    def catalog_head(self, conn: Connection) -> str:
        """The hash of the last stored catalog (``GENESIS`` when none)."""
        row = conn.exec_driver_sql("SELECT content_hash FROM catalogs ORDER BY seq DESC LIMIT 1").first()
        return row[0] if row else GENESIS

    def iter_event_rows(self, conn: Connection, batch: int = 20000) -> Iterator[tuple]:
        """Every event row (``EVENT_COLUMNS``) in ``seq`` order, fetched in pages."""
        cols = ", ".join(EVENT_COLUMNS)
        last = 0
        while True:
            rows = conn.exec_driver_sql(
                f"SELECT {cols} FROM events WHERE seq > {self._param} ORDER BY seq LIMIT {int(batch)}",
                (last,)).fetchall()
            if not rows:
                return
            yield from rows
            last = rows[-1][0]

    def checkpoints(self, conn: Connection) -> list[Checkpoint]:
        """Every checkpoint ``(seq, first_seq, last_seq, recorded_at, catalog_hash, prev_hash, checkpoint_hash)``."""
        return [tuple(r) for r in conn.exec_driver_sql(
            "SELECT seq, first_seq, last_seq, recorded_at, catalog_hash, prev_hash, checkpoint_hash FROM checkpoints "
            "ORDER BY seq")]

    def catalogs(self, conn: Connection, after: int = 0) -> list[StoredCatalogRow]:
        """Stored catalogs ``(seq, loaded_at, content, prev_hash, content_hash)`` with ``seq > after``, in order."""
        return [tuple(r) for r in conn.exec_driver_sql(
            "SELECT seq, loaded_at, content, prev_hash, content_hash FROM catalogs WHERE seq > "
            f"{self._param} ORDER BY seq", (after,))]

    # -- writes --------------------------------------------------------------------------------------------------

    def insert_events(self, conn: Connection, rows: Sequence[tuple]) -> None:
        """Insert event rows (tuples in ``EVENT_COLUMNS`` order) with one executemany."""
        if not rows:
            return
        if self.dialect != "sqlite":
            rows = [r[:5] + (date.fromisoformat(r[5]),) + r[6:] for r in rows]
        marks = ", ".join([self._param] * len(EVENT_COLUMNS))
        conn.exec_driver_sql(f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) VALUES ({marks})", list(rows))
        if self.dialect == "postgresql" and rows[-1][0] >= 2 * self._analyzed_seq + 1000:
            # A bulk load doubles a young table faster than autovacuum re-analyses it; on stale statistics the
            # planner takes the per-student look-ups (``heads``) for seq scans, and an import slows tenfold. So
            # refresh them whenever this store has doubled the table: a few times per import, then rarely.
            conn.exec_driver_sql("ANALYZE events")
            self._analyzed_seq = rows[-1][0]

    def write_checkpoint(self, conn: Connection, first_seq: int, last_seq: int, recorded_at: str,
                         hashes: Iterable[str]) -> str:
        """Write the checkpoint over rows ``first_seq``..``last_seq`` (none when ``last_seq < first_seq``), chained
        to the previous checkpoint and bound to the catalog in force; returns its hash."""
        cp_seq, prev = self.last_checkpoint(conn)
        catalog = self.catalog_head(conn)
        value = checkpoint_hash(prev, first_seq, last_seq, recorded_at, catalog, hashes)
        p = self._param
        conn.exec_driver_sql("INSERT INTO checkpoints (seq, first_seq, last_seq, recorded_at, catalog_hash, prev_hash, "
                             f"checkpoint_hash) VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p})",
                             (cp_seq + 1, first_seq, last_seq, recorded_at, catalog, prev, value))
        return value

    def insert_catalog(self, conn: Connection, loaded_at: str, content: str) -> None:
        """Store a loaded catalog, chained to the previous one."""
        last = conn.exec_driver_sql("SELECT seq, content_hash FROM catalogs ORDER BY seq DESC LIMIT 1").first()
        seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
        p = self._param
        conn.exec_driver_sql(f"INSERT INTO catalogs (seq, loaded_at, content, prev_hash, content_hash) VALUES "
                             f"({p}, {p}, {p}, {p}, {p})", (seq, loaded_at, content, prev,
                                                            content_hash(prev, loaded_at, content)))
        top = self.max_seq(conn)
        self.write_checkpoint(conn, top + 1, top, loaded_at, ())


# -- verification --------------------------------------------------------------------------------------------------


def verify_store(store: Store) -> tuple[int, Finding | None]:
    """Recheck every row, chain and checkpoint (``chain.check_ledger``); ``(rows checked, first finding or None)``."""
    with store.read() as conn:
        checkpoints = store.checkpoints(conn)
        catalogs = store.catalogs(conn)
        rows = store.iter_event_rows(conn)
        return check_ledger(rows, checkpoints, catalogs)


__all__ = ["CatalogRow", "CheckpointRow", "EVENT_COLUMNS", "EventRow", "Finding", "GENESIS", "GUARDED_TABLES",
           "IdentifierRow", "MIGRATIONS", "MetaRow", "SCHEMA_VERSION", "Store", "StoredEvent", "checkpoint_hash",
           "content_hash", "identifier_rules", "is_ledger_file", "make_engine", "normalise_url", "rebuild_identifiers",
           "row_hash", "sqlite_file", "subject_of", "upgrade_1_to_2", "upgrade_2_to_3", "upgrade_3_to_4",
           "verify_store"]
