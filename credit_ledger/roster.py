"""The roster (学籍名册): each student's name (姓名) and the personal fields a school chooses, kept beside the ledger
and outside its hash chain (table ``roster``).

A name is personal data: it must be correctable and erasable, so it cannot live in the append-only, hash-chained
events, whose student ids are pseudonymous keys. The roster is one row per student id: ``name`` (the one field every
report and export shows, in a column of its own so that it sorts and reads in SQL) and ``fields``, a JSON object of
whatever else a school keeps (``gender``, ``birth_date``, ``phone``, ``id_card``, ``性别``...): a school chooses its
fields without a schema change. A row is replaced when corrected and deleted when erased: no history table, no copy.
On SQLite every roster write runs with ``PRAGMA secure_delete`` (the bytes of a corrected or erased value are
overwritten with zeros, not left in free pages), and the facade checkpoints the write-ahead log after an erasure or a
correction (a corrected value is personal data a school asked to be rid of too).

The table is made when the roster is first written (``CREATE TABLE IF NOT EXISTS``, as ``summary_cache``): a ledger
without it is a ledger with an empty roster, so it needs no schema version, and an older library still opens a
ledger that has one. ``verify`` does not read it; nothing of it enters a hash.

What a roster keeps is text a person typed, checked here (``checked``): a name of 1 to ``MAX_NAME_CHARS`` characters,
a field's value of 1 to ``MAX_VALUE_CHARS``, at most ``MAX_FIELDS`` fields whose names follow the rules of ids
(``identifiers``; at most ``MAX_FIELD_NAME_CHARS``). A value is put in NFC and may hold any script, ``·``
(阿卜杜·买买提) and inner spaces, but no control, format (zero-width, bidi), private-use or unassigned
character, no other invisible character (``INVISIBLE``: a variation selector, a Hangul filler...), no combining mark
first, no other space and no space at either end. A value that breaks a rule is a ``PersonalDataError`` naming
the student, the field and the rule's code, and the character at fault by its position and code point, never the
value itself (a refused name is personal data too, and error messages end up in logs).

>>> checked("S1", {"name": "李娜", "gender": "女"})
{'name': '李娜', 'gender': '女'}
>>> try:
...     checked("S1", {"name": "李\\u202e娜"})
... except Exception as exc:
...     print(exc.code, exc.field, str(exc)[:81])
personal_forbidden_character name student S1, field name: character 2 of the value is U+202E RIGHT-TO-LEFT OVERRIDE
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any, Mapping, Sequence

from pydantic import ValidationError
from sqlalchemy.engine import Connection

from .base import Frozen
from .errors import IntegrityError, PersonalDataError
from .identifiers import FORBIDDEN_CATEGORIES, describe, problems, shown
from .storage import Store, sqlite_file, table_exists

TABLE = "roster"

MAX_NAME_CHARS = 100
"""The longest name kept, in characters (a Chinese name takes 2 to 4; a transliterated one, a few dozen)."""
MAX_VALUE_CHARS = 200
"""The longest value of any other personal field, in characters."""
MAX_FIELDS = 32
"""The most personal fields one student's row holds, the name included."""
MAX_FIELD_NAME_CHARS = 32
"""The longest name of a personal field."""

NAME = "name"
"""The field every display reads (``AuditReport.student_name``, the exports' ``name`` column)."""

NAME_COLUMNS = {"name": NAME, "姓名": NAME}
"""Columns of a file of events read as the student's name (``import``): the column, and the roster field it fills."""

CODES = ("personal_empty", "personal_too_long", "personal_surrounding_space", "personal_forbidden_character",
         "personal_bad_field", "personal_too_many_fields")
"""The codes of ``PersonalDataError``."""

INVISIBLE = ((0x034F, 0x034F), (0x115F, 0x1160), (0x17B4, 0x17B5), (0x180B, 0x180F), (0x2800, 0x2800),
             (0x3164, 0x3164), (0xFE00, 0xFE0F), (0xFFA0, 0xFFA0), (0xE0100, 0xE01EF))
"""Ranges of code points that show as nothing (or as a blank) though their general category is not one of
``FORBIDDEN_CATEGORIES``: Unicode's default-ignorable code points outside ``Cf`` (the combining grapheme joiner, the
Hangul fillers, the Khmer inherent vowels, the Mongolian and other variation selectors) and U+2800 BRAILLE PATTERN
BLANK. ``李\u034f娜`` would look like ``李娜`` and compare unequal to it: a name that passes for another."""


def _invisible(char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in INVISIBLE)


_CREATE = (f"CREATE TABLE IF NOT EXISTS {TABLE} (student_id TEXT NOT NULL PRIMARY KEY, name TEXT, "
           "fields TEXT NOT NULL, updated_at TEXT NOT NULL)")


class PersonalRecord(Frozen):
    """One student's row of the roster: the name (``None``: none kept) and the other personal fields a school keeps
    (field -> text)."""

    student_id: str
    name: str | None = None
    fields: dict[str, str] = {}


# -- the rules of what a roster keeps ---------------------------------------------------------------------------------


def _refuse(code: str, student_id: str, field: str, what: str) -> PersonalDataError:
    return PersonalDataError(code, f"student {student_id}, field {field}: {what}", student_id=student_id, field=field)


def checked_value(student_id: str, field: str, value: Any) -> str:
    """``value`` as the roster keeps it (NFC), or ``PersonalDataError`` naming the student, the field and the rule.

    >>> checked_value("S1", "name", "Jose\\u0301")
    'José'
    """
    if not isinstance(value, str):
        raise _refuse("personal_bad_field", student_id, field,
                      f"a personal field holds text, not {type(value).__name__}")
    text = unicodedata.normalize("NFC", value)
    limit = MAX_NAME_CHARS if field == NAME else MAX_VALUE_CHARS
    if not text:
        raise _refuse("personal_empty", student_id, field, "the value is empty (give None to remove the field)")
    if len(text) > limit:
        raise _refuse("personal_too_long", student_id, field,
                      f"the value has {len(text):,} characters; at most {limit} are kept")
    for char, where in ((text[0], "begins"), (text[-1], "ends")):
        if char.isspace() or unicodedata.category(char) in ("Zs", "Zl", "Zp"):
            raise _refuse("personal_surrounding_space", student_id, field, f"the value {where} with {describe(char)}")
    for at, char in enumerate(text, 1):
        category = unicodedata.category(char)
        if char != " " and category in FORBIDDEN_CATEGORIES:
            raise _refuse("personal_forbidden_character", student_id, field,
                          f"character {at} of the value is {describe(char)}, {FORBIDDEN_CATEGORIES[category]}")
        if _invisible(char):
            raise _refuse("personal_forbidden_character", student_id, field,
                          f"character {at} of the value is {describe(char)}, an invisible character (it shows as "
                          "nothing, so the value would pass for another)")
    if unicodedata.category(text[0]).startswith("M"):
        raise _refuse("personal_forbidden_character", student_id, field,
                      f"character 1 of the value is {describe(text[0])}, a combining mark with no character before "
                      "it to mark")
    return text


def checked_field_name(student_id: str, field: str) -> str:
    """A personal field's name, if it follows the rules of ids (``identifiers.problems``) and is short enough."""
    if not isinstance(field, str) or not field or len(field) > MAX_FIELD_NAME_CHARS:
        raise _refuse("personal_bad_field", student_id, str(field)[:MAX_FIELD_NAME_CHARS],
                      f"a field's name has 1 to {MAX_FIELD_NAME_CHARS} characters")
    found = problems(field)
    if found:
        raise _refuse("personal_bad_field", student_id, shown(field), f"not a field's name: {found[0].message}")
    hidden = next((c for c in field if _invisible(c)), None)
    if hidden is not None:  # (phon\u034fe would be a second phone field beside phone)
        raise _refuse("personal_bad_field", student_id, field.replace(hidden, f"\\u{ord(hidden):04x}"),
                      f"not a field's name: it holds {describe(hidden)}, an invisible character")
    return field


def checked(student_id: str, changes: Mapping[str, Any]) -> dict[str, str | None]:
    """The changes to a student's row (field -> new text, or ``None`` to remove the field) as the roster keeps them,
    each field's name and value checked; the first that breaks a rule raises ``PersonalDataError``."""
    out: dict[str, str | None] = {}
    for field, value in changes.items():
        name = checked_field_name(student_id, field)
        out[name] = None if value is None else checked_value(student_id, name, value)
    return out


def merged(student_id: str, before: PersonalRecord | None, changes: Mapping[str, str | None]) -> PersonalRecord:
    """The row after ``changes`` (checked): each field given is set, or removed when ``None``; the others stay."""
    values: dict[str, str] = {} if before is None else {**({NAME: before.name} if before.name else {}), **before.fields}
    for field, value in changes.items():
        if value is None:
            values.pop(field, None)
        else:
            values[field] = value
    if len(values) > MAX_FIELDS:
        raise _refuse("personal_too_many_fields", student_id, next(reversed(values)),
                      f"the row would hold {len(values)} fields; at most {MAX_FIELDS} are kept")
    name = values.pop(NAME, None)
    return PersonalRecord(student_id=student_id, name=name, fields=values)


# -- SQL ------------------------------------------------------------------------------------------------------------


def ensure(conn: Connection) -> None:
    """Make the table if the ledger has none yet (idempotent), and on SQLite have this connection overwrite what it
    deletes (``PRAGMA secure_delete``)."""
    conn.exec_driver_sql(_CREATE)
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA secure_delete = ON")


def exists(conn: Connection) -> bool:
    """Whether the ledger has the table (``storage.table_exists``: one cheap query, as every audit asks)."""
    return table_exists(conn, TABLE)


def record(row: Sequence[Any]) -> PersonalRecord:
    """A row as the roster keeps it; a row edited by hand into something else (a number for a phone) is an
    ``IntegrityError`` naming the student and the field, never the value (pydantic's message quotes the input, and
    error messages end up in logs)."""
    try:
        fields = json.loads(row[2]) if row[2] else {}
        return PersonalRecord(student_id=row[0], name=row[1], fields=fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = f"{'.'.join(str(part) for part in first['loc'])}: {first['msg']}"
    except ValueError:
        where = "fields: not JSON"
    raise IntegrityError(f"student {row[0]}: the roster's row is not what the library writes ({where}); erase it "
                         "(erase_personal) and set it again") from None


def raw_rows(store: Store, conn: Connection, students: Sequence[str] | None = None, *, table: bool | None = None
             ) -> dict[str, tuple[Any, ...]]:
    """The roster rows of ``students`` (all, for ``None``) as stored, keyed by student id, not yet read as records
    (``record``), so that a reader checks its right to a student before a row of that student can raise; none when
    there is no table (``table``: whether there is one, when the caller has just read it in that transaction)."""
    if not (exists(conn) if table is None else table):
        return {}
    if students is None:
        return {r[0]: tuple(r) for r in conn.exec_driver_sql(
            f"SELECT student_id, name, fields FROM {TABLE} ORDER BY student_id")}
    p = store._param
    out: dict[str, tuple[Any, ...]] = {}
    values = sorted(set(students))
    for i in range(0, len(values), 900):
        chunk = values[i:i + 900]
        marks = ", ".join([p] * len(chunk))
        for r in conn.exec_driver_sql(f"SELECT student_id, name, fields FROM {TABLE} WHERE student_id IN ({marks})",
                                      tuple(chunk)):
            out[r[0]] = tuple(r)
    return out


def rows(store: Store, conn: Connection, students: Sequence[str] | None = None, *, table: bool | None = None
         ) -> dict[str, PersonalRecord]:
    """``raw_rows`` read as records (a row not as the library writes it: ``IntegrityError``)."""
    return {s: record(r) for s, r in raw_rows(store, conn, students, table=table).items()}


def put(store: Store, conn: Connection, record: PersonalRecord, updated_at: str) -> None:
    """Keep ``record`` as the student's row, replacing the row before (an empty record deletes it)."""
    ensure(conn)
    p = store._param
    conn.exec_driver_sql(f"DELETE FROM {TABLE} WHERE student_id = {p}", (record.student_id,))
    if record.name is not None or record.fields:
        conn.exec_driver_sql(f"INSERT INTO {TABLE} (student_id, name, fields, updated_at) VALUES ({p}, {p}, {p}, {p})",
                             (record.student_id, record.name, json.dumps(record.fields, ensure_ascii=False,
                                                                         sort_keys=True), updated_at))


def delete(store: Store, conn: Connection, student_id: str) -> bool:
    """Delete the student's row; whether there was one."""
    if not exists(conn):
        return False
    ensure(conn)
    result = conn.exec_driver_sql(f"DELETE FROM {TABLE} WHERE student_id = {store._param}", (student_id,))
    return bool(result.rowcount)


def forget_freed_pages(store: Store) -> None:
    """After an erasure on SQLite: checkpoint the write-ahead log and truncate it, so that the pages that held the
    erased row are no longer in the log (a reader still open may keep it from truncating; the next checkpoint does).
    Nothing to do elsewhere (PostgreSQL keeps a deleted row's bytes until ``VACUUM``: see the README)."""
    if store.dialect != "sqlite" or sqlite_file(store.engine.url.render_as_string(hide_password=False)) is None:
        return  # PostgreSQL, or SQLite in memory (no log)
    raw = store.engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cursor.close()
    finally:
        raw.close()


__all__ = ["CODES", "INVISIBLE", "MAX_FIELDS", "MAX_FIELD_NAME_CHARS", "MAX_NAME_CHARS", "MAX_VALUE_CHARS", "NAME",
           "NAME_COLUMNS", "PersonalRecord", "TABLE", "checked", "checked_field_name", "checked_value", "delete",
           "ensure", "exists", "forget_freed_pages", "merged", "put", "raw_rows", "record", "rows"]
