"""What the ``credit-ledger`` command checks before it works, and how it says what is wrong: the ledger it opens
(a session whose refusals become one line), the student it names (exit ``NO_SUCH_STUDENT``, 4, for one the ledger
has no record of), the dates it reads (every form the imports read), the files it reads and will write (refused
before any audit runs when they could not be written), and the problems of a record that does not validate, one
line each with the field's path.

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

import json
import os
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable, Iterator, NoReturn, Optional

import typer
from pydantic import ValidationError

from .errors import BadSignature, CreditLedgerError, LedgerNotFound
from .ledger import Ledger

__all__ = ["NO_SUCH_STUDENT", "as_of_date", "bad_statement", "fail", "invalid", "known", "open_ledger",
           "outcome_problems", "output_problem", "private_key", "read_json", "read_text", "session",
           "validation_lines", "writable"]


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


NO_SUCH_STUDENT = 4
"""The exit status of a command naming a student the ledger (or the acting school) has no record of."""


def fail(message: str) -> NoReturn:
    """Say what went wrong on one line of stderr (a message of several lines is joined) and exit 1."""
    typer.echo(f"error: {' '.join(message.splitlines())}", err=True)
    raise typer.Exit(code=1)


LANG = typer.Option("zh", "--lang", help="The language of text, HTML and pictures: zh (中文, the default) or en.")
"""Every command's ``--lang``, checked by ``language``."""


def language(lang: str) -> str:
    """``lang`` when it is one of ``labels.LANGS``; else one line and exit 1."""
    from .labels import LANGS

    if lang not in LANGS:
        fail(f"--lang {lang!r} is not one of {', '.join(LANGS)}")
    return lang


def open_ledger(db: str, acting_as: Optional[str] = None, *, create: bool = False) -> Ledger:
    """The ledger at ``db``; only ``init`` (and ``demo``) create one. A missing ledger is one line naming the path."""
    try:
        return Ledger.open(db, acting_as=acting_as, create=create)
    except LedgerNotFound as exc:
        if exc.code in ("ledger_missing", "ledger_empty"):  # say how to make one, in the command's words
            fail(f"{str(exc).split('; nothing was created')[0]}; `credit-ledger init --db {db}` makes a new one")
        fail(str(exc))
    except CreditLedgerError as exc:
        fail(str(exc))
    except Exception as exc:  # a driver's error when the database can't be opened: one line, no traceback
        first_line = (str(exc).splitlines() or [""])[0]
        fail(f"cannot open {db}: {exc.__class__.__name__}: {first_line}")


def invalid(exc: ValidationError, record: str, *, code: int = 1) -> NoReturn:
    """Say each problem of a record that does not validate on a line of its own, naming the record and the field's
    path (``cli_checks.validation_lines``), and exit ``code``."""
    for line in validation_lines(exc, record):
        typer.echo(f"error: {line}", err=True)
    raise typer.Exit(code=code)


@contextmanager
def session(db: str, acting_as: Optional[str] = None, *, create: bool = False) -> Iterator[Ledger]:
    """The ledger at ``db`` for one command (acting as ``acting_as``; made where there is none only with ``create``):
    a ledger's refusal becomes the command's one-line error; closed after."""
    ledger = open_ledger(db, acting_as, create=create)
    try:
        yield ledger
    except KeyboardInterrupt:
        interrupted(ledger)
    except CreditLedgerError as exc:
        fail(str(exc))
    except ValidationError as exc:  # a record the library built from what it was given, and refused
        invalid(exc, exc.title)
    finally:
        ledger.close()


INTERRUPTED = 130
"""The exit status of a command stopped by Ctrl-C (128 + SIGINT, as shells report it)."""


def interrupted(ledger: Ledger, hint: str = "") -> NoReturn:
    """Ctrl-C: one line on stderr of what the command had committed to the ledger when it stopped (a write
    transaction it was in is rolled back, so nothing of it is counted), and exit ``INTERRUPTED`` (130)."""
    n = ledger.committed
    done = (f"{n} event{'s' if n != 1 else ''} had been committed to the ledger; nothing after that was written"
            if n else "nothing was written to the ledger")
    typer.echo(f"interrupted: {done}{hint}", err=True)
    raise typer.Exit(code=INTERRUPTED)


def writable(path: Path | str, suffixes: Iterable[str] = (), *, what: str = "file") -> None:
    """Fail in one line, before any work, when the command could not write ``path`` (``cli_checks.output_problem``:
    a suffix it cannot write, a folder that is missing or not writable)."""
    problem = output_problem(path, suffixes, what=what)
    if problem is not None:
        fail(problem)


def known(ledger: Ledger, student: str) -> str:
    """``student``, when the ledger holds a record of them (that the acting school may read); else one line on
    stderr and exit ``NO_SUCH_STUDENT`` (4), so that a script can tell "no such student" from other errors."""
    if not ledger.events(student):
        reader = f" that {ledger.acting_as} may read" if ledger.acting_as else ""
        typer.echo(f"error: no student {student!r} in the ledger at {ledger.url}{reader}", err=True)
        raise typer.Exit(code=NO_SUCH_STUDENT)
    return student


def as_of_date(value: Optional[str]) -> Optional[date]:
    if value is None:
        return None
    from .eventfiles import parse_date  # the imports' one reader of dates: 2026-07-01, 2026/7/1, 2026年7月1日

    try:
        return parse_date(value)
    except ValueError as exc:
        fail(f"--as-of: {exc}")


def outcome_problems(item: Any, number: int, file: Path) -> list[str]:
    """Why the ``number``-th item of an outcomes file is not an outcome, one line a problem (none when it is)."""
    from .transfer import Outcome

    named = f" ({item['outcome_id']})" if isinstance(item, dict) and isinstance(item.get("outcome_id"), str) else ""
    try:
        Outcome.model_validate(item)
    except ValidationError as exc:
        return validation_lines(exc, f"{file}: outcome {number}{named}")
    return []


def bad_statement(exc: BadSignature, text: str, path: Path) -> NoReturn:
    """A statement refused: exit 2 with one line, or, for a file that is no statement, a line for each field."""
    from .transfer import TransferStatement

    try:
        TransferStatement.model_validate_json(text)
    except ValidationError as problems:
        invalid(problems, f"{path}: not a transfer statement", code=2)
    except ValueError:  # not JSON at all: the statement's own words say so
        pass
    typer.echo(f"error: {exc}", err=True)
    raise typer.Exit(code=2) from None


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror}")


def read_json(path: Path) -> Any:
    try:
        return json.loads(read_text(path))
    except ValueError as exc:
        fail(f"{path} is not JSON: {exc}")


def private_key(path: Path) -> Any:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        fail(f"cannot read a private key from {path}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
    if not isinstance(key, Ed25519PrivateKey):
        fail(f"{path} holds a {type(key).__name__}, not an Ed25519 key")
    return key
