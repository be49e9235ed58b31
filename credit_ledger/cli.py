"""The ``credit-ledger`` command.

Errors print one line on stderr and exit non-zero; they never show a traceback.

Example::

    credit-ledger demo --db demo.db
    credit-ledger transcript HNJX-2024-PT-0317 --db demo.db
    credit-ledger audit HNJX-2024-PT-0317 --db demo.db --as-of 2026-07-31
    credit-ledger verify --db demo.db
"""

from __future__ import annotations

import json
from datetime import date
from typing import NoReturn, Optional

import typer

from .errors import CreditLedgerError
from .ledger import Ledger

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Keep and query an append-only ledger of students' credits.")

DB = typer.Option("records.db", "--db", help="A SQLite file path or an SQLAlchemy URL.")
AS_OF = typer.Option(None, "--as-of", help="Judge the record as it stood on this date (YYYY-MM-DD).")


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=1)


def _open(db: str) -> Ledger:
    try:
        return Ledger.open(db)
    except CreditLedgerError as exc:
        _fail(str(exc))
    except Exception as exc:  # a driver's error when the database can't be opened: one line, no traceback
        first_line = (str(exc).splitlines() or [""])[0]
        _fail(f"cannot open {db}: {exc.__class__.__name__}: {first_line}")


def _date(value: Optional[str]) -> Optional[date]:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        _fail(f"--as-of {value!r} is not a date like 2026-07-01")


@app.command()
def demo(db: str = typer.Option("demo.db", "--db", help="Where to keep the demo ledger.")) -> None:
    """Record a worker-student's part-time study in stages; print the transcript, balance and audits.

    Example: credit-ledger demo --db demo.db
    """
    from .demo import main

    try:
        main(db)
    except CreditLedgerError as exc:
        _fail(str(exc))


@app.command()
def transcript(student: str, db: str = DB, as_of: Optional[str] = AS_OF,
               json_out: bool = typer.Option(False, "--json", help="Print JSON instead of a table.")) -> None:
    """Print a student's effective credit records.

    Example: credit-ledger transcript HNJX-2024-PT-0317 --db demo.db --as-of 2025-12-31
    """
    ledger = _open(db)
    try:
        result = ledger.transcript(student, _date(as_of))
        if json_out:
            typer.echo(result.model_dump_json(indent=2))
            return
        from .demo import render_transcript

        typer.echo(render_transcript(ledger, student, _date(as_of)))
    finally:
        ledger.close()


@app.command()
def balance(student: str, db: str = DB, as_of: Optional[str] = AS_OF) -> None:
    """Print a student's credits by origin and category, as JSON.

    Example: credit-ledger balance HNJX-2024-PT-0317 --db demo.db
    """
    ledger = _open(db)
    try:
        typer.echo(ledger.balance(student, _date(as_of)).model_dump_json(indent=2))
    finally:
        ledger.close()


@app.command()
def audit(student: str, db: str = DB, as_of: Optional[str] = AS_OF,
          program: Optional[str] = typer.Option(None, "--program", help="Audit against another program (what-if)."),
          fmt: str = typer.Option("text", "--format", help="text, json or html.")) -> None:
    """May the student graduate? The requirement tree with ✓/✗, stages, projection and issues.

    Exits 0 when the student is eligible (or graduated with support), 3 otherwise.

    Example: credit-ledger audit HNJX-2024-PT-0317 --db demo.db --as-of 2026-07-31 --format text
    """
    if fmt not in ("text", "json", "html"):
        _fail(f"--format {fmt!r} is not one of text, json, html")
    ledger = _open(db)
    try:
        report = ledger.audit(student, program=program, as_of=_date(as_of))
    except CreditLedgerError as exc:
        _fail(str(exc))
    finally:
        ledger.close()
    typer.echo({"text": report.to_text, "json": report.to_json, "html": report._repr_html_}[fmt]())
    if not (report.eligible or (report.status == "graduated" and report.awards)):
        raise typer.Exit(code=3)


@app.command()
def verify(db: str = DB) -> None:
    """Recheck every row's hash chain and checkpoint; exit 2 when the ledger was altered.

    Example: credit-ledger verify --db records.db
    """
    ledger = _open(db)
    try:
        report = ledger.verify()
    finally:
        ledger.close()
    typer.echo(json.dumps(report.model_dump(), ensure_ascii=False))
    if not report.ok:
        raise typer.Exit(code=2)


if __name__ == "__main__":  # pragma: no cover
    app()
