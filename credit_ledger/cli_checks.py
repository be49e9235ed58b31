"""What the ``credit-ledger`` command checks before it works, and how it says what is wrong: the problems of a
record that does not validate, one line each with the field's path, and the files a command will write, refused
before any audit runs when they could not be written.

A pydantic ``ValidationError`` says ``2 validation errors for Outcome`` and puts each field on a line of its own;
the command says instead, one line a problem::

    outcomes.json: outcome 2 (A2): rank: Input should be a valid integer ... (given 'two') [int_parsing]

>>> from pydantic import BaseModel, ValidationError
>>> class Point(BaseModel):
...     x: int
>>> try:
...     Point.model_validate({"y": 1})
... except ValidationError as exc:
...     validation_lines(exc, "points.json: point 1")
['points.json: point 1: x: Field required [missing]']
"""

from __future__ import annotations

import os
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Iterable

from pydantic import ValidationError

__all__ = ["output_problem", "validation_lines"]


def validation_lines(exc: ValidationError, record: str) -> list[str]:
    """One line per problem of ``exc``: the record, the field's path (``results.0.grade``), what is wrong, the value
    given when it is short, and pydantic's code for the problem."""
    lines = []
    for error in exc.errors():
        path = ".".join(str(part) for part in error.get("loc", ())) or "(the whole record)"
        given = error.get("input")
        shown = f" (given {given!r})" if isinstance(given, (str, int, float, Decimal, date)) and \
            len(repr(given)) <= 60 else ""
        message = " ".join(str(error.get("msg", "")).splitlines())
        lines.append(f"{record}: {path}: {message}{shown} [{error.get('type', 'invalid')}]")
    return lines or [f"{record}: {' '.join(str(exc).splitlines())}"]


def output_problem(path: Path | str, suffixes: Iterable[str], *, what: str = "file") -> str | None:
    """Why ``path`` cannot be written by a command that writes ``suffixes`` (``.csv``, ``.png``, ...), or ``None``:
    a suffix it cannot write, a folder that does not exist, a folder (or an existing file) it may not write to,
    or a folder where the file should be. Checked before the work starts, so that a batch never fails at its end.

    >>> output_problem("audits.txt", [".csv", ".jsonl"])
    'audits.txt: cannot write a .txt file; use .csv or .jsonl'
    >>> output_problem("/no/such/folder/audits.csv", [".csv"])
    'cannot write /no/such/folder/audits.csv: no folder /no/such/folder'
    """
    path = Path(path)
    allowed = list(suffixes)
    if allowed and path.suffix.lower() not in allowed:
        suffix = f"a {path.suffix} file" if path.suffix else "a file without a suffix"
        return f"{path}: cannot write {suffix}; use {' or '.join(allowed)}"
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        return f"cannot write {path}: it is a folder; name the {what} to write"
    if not folder.exists():
        return f"cannot write {path}: no folder {folder}"
    if not folder.is_dir():
        return f"cannot write {path}: {folder} is not a folder"
    if path.exists() and not os.access(path, os.W_OK):
        return f"cannot write {path}: the file is read-only"
    if not path.exists() and not os.access(folder, os.W_OK | os.X_OK):
        return f"cannot write {path}: the folder {folder} is not writable"
    return None

