"""Opening a ledger: a ledger is opened, never conjured.

A place either holds a ledger, or it is opened only to make one there (``create=True``); anything else is refused
before anything is written to it, with a ``LedgerNotFound`` whose ``code`` says what was there instead:

- ``ledger_missing``: no such file, or no such folder (a mistyped path; a file deleted or moved). With ``create`` the
  file is made, and its folders.
- ``ledger_empty``: an empty database (an empty SQLite file, a PostgreSQL database with no tables). With ``create``
  a ledger is made in it.
- ``not_a_ledger``: the database holds tables but no ledger (another application's file), or the file is not a
  SQLite database at all. Never opened, ``create`` or not, and left as it was: byte for byte for a SQLite file,
  which is looked at through a read-only connection before any connection that could write to it.

>>> no_ledger("day.db", ["orders", "users"], create=True).code
'not_a_ledger'
>>> no_ledger("day.db", [], create=False).code, no_ledger("day.db", [], create=True) is None
('ledger_empty', True)

And a file written beside an open ledger is never the ledger's own file (``same_file``: however the path is written,
relative, absolute, through a symlink or a hard link). This module knows files and what a database holds; SQL of
the ledger's own tables stays in ``storage``.
"""

from __future__ import annotations

import os
import sqlite3
from typing import Sequence
from urllib.parse import quote

from .errors import LedgerNotFound

META_TABLE = "ledger_meta"
"""The table where a ledger records its schema version (``storage.MetaRow``): a database without it holds no
ledger."""


def shown(path: str) -> str:
    """A path as a message names it: as written, and where that is when it was relative."""
    where = os.path.abspath(path)
    return path if where == path else f"{path} ({where})"


def no_ledger(where: str, objects: Sequence[str], *, create: bool) -> LedgerNotFound | None:
    """Why a database that holds ``objects`` (its tables and views) and no ledger schema version is not opened as a
    ledger; ``None`` when it is empty and ``create`` is given (a ledger is made in it)."""
    if not objects:
        return None if create else LedgerNotFound("ledger_empty", f"no ledger at {where}: the database is empty; "
                                                  "nothing was created (create=True makes a ledger in it)")
    names = ", ".join(objects[:5]) + (f" and {len(objects) - 5} more" if len(objects) > 5 else "")
    return LedgerNotFound("not_a_ledger", f"no ledger at {where}: the database holds tables ({names}) and no schema "
                                          "version of a ledger; it was not made by credit_ledger, and is not opened "
                                          "(it is left as it was)")


def look_before_opening(path: str, *, create: bool) -> None:
    """Refuse the SQLite file ``path`` unless it holds a ledger, or ``create`` is given and there is nothing there
    yet (no file: its folders are made; an empty file). Looks through a read-only connection, so a refused file is
    left byte for byte as it was (a connection that may write would turn on WAL mode, which rewrites the header)."""
    if not os.path.exists(path):
        folder = os.path.dirname(os.path.abspath(path))
        if create:
            os.makedirs(folder, exist_ok=True)
            return
        what = "no such file" if os.path.isdir(folder) else f"no such folder {folder}"
        raise LedgerNotFound("ledger_missing", f"no ledger at {shown(path)}: {what}; nothing was created "
                                               "(create=True makes a new ledger there)")
    if os.path.isdir(path):
        raise LedgerNotFound("not_a_ledger", f"no ledger at {shown(path)}: it is a folder")
    try:
        db = sqlite3.connect(f"file:{quote(os.path.abspath(path), safe='/')}?mode=ro", uri=True)
        try:
            names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') "
                                              "AND name NOT LIKE 'sqlite!_%' ESCAPE '!' ORDER BY name")]
            version = None
            if META_TABLE in names:
                version = db.execute(f"SELECT value FROM {META_TABLE} WHERE key = 'schema_version'").fetchone()
        finally:
            db.close()
    except sqlite3.OperationalError:
        return  # not readable here read-only (locked, or no access): the connection that opens it says why
    except sqlite3.DatabaseError:
        raise LedgerNotFound("not_a_ledger", f"no ledger at {shown(path)}: the file is not a SQLite database; it is "
                                             "not opened, and left as it was") from None
    if version is None:
        refusal = no_ledger(shown(path), names, create=create)
        if refusal is not None:
            raise refusal


def same_file(own: str, path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is the SQLite file ``own`` (or its WAL, shared-memory or journal file), however written:
    relative or absolute, through a symlink, or a hard link to it.

    >>> same_file("records.db", "./records.db"), same_file("records.db", "records.db-wal")
    (True, True)
    >>> same_file("records.db", "other.db")
    False
    """
    mine, target = os.path.realpath(own), os.path.realpath(path)
    if target in {mine, f"{mine}-wal", f"{mine}-shm", f"{mine}-journal"}:
        return True
    try:
        return os.path.samefile(own, path)
    except OSError:  # one of them does not exist (yet)
        return False


__all__ = ["META_TABLE", "look_before_opening", "no_ledger", "same_file", "shown"]
