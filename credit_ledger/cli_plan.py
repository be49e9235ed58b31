"""The command's ``plan``: a student's fastest study plan (``Ledger.plan``), as text (Chinese by default), JSON or
HTML. Registered by ``cli`` (``app.command("plan")(plan)``).

Example::

    credit-ledger plan HNJX-2024-PT-0317 --db demo.db --start 2026-09-01 --hours-per-term 120 --skip 2027-04-01

Exits 0 when the plan meets the deadline, 3 when it does not (its issues say why), 4 for no such student.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import List, Optional

import typer

from .cli_checks import LANG, fail, known, language, session


def _day(value: str, option: str) -> date:
    from .eventfiles import parse_date

    try:
        return parse_date(value)
    except ValueError as exc:
        fail(f"{option}: {exc}")


SKIP = typer.Option(None, "--skip", help="A day inside a term the student will not study in (repeat for more).")


def plan(student: str, db: str = typer.Option("records.db", "--db", help="A SQLite file path or an SQLAlchemy URL."),
         start: str = typer.Option(..., "--start", help="The first day of study: the plan begins with the first "
                                   "term starting on or after it."),
         hours_per_term: str = typer.Option(..., "--hours-per-term", help="Class hours the student has each term."),
         skip: Optional[List[str]] = SKIP,
         program: Optional[str] = typer.Option(None, "--program", help="Plan for another program (what-if)."),
         as_of: Optional[str] = typer.Option(None, "--as-of", help="Read the record as on this day."),
         max_terms: int = typer.Option(12, "--max-terms", help="The most terms a plan may take."),
         acting_as: Optional[str] = typer.Option(None, "--acting-as", help="Act as this institution."),
         fmt: str = typer.Option("text", "--format", help="text, json or html."),
         lang: str = LANG) -> None:
    """The fastest plan, term by term, to the student's diploma within the hours a term.

    Example: credit-ledger plan HNJX-2024-PT-0317 --db demo.db --start 2026-09-01 --hours-per-term 120
    """
    if fmt not in ("text", "json", "html"):
        fail(f"--format {fmt!r} is not one of text, json, html")
    language(lang)
    try:
        hours = Decimal(hours_per_term)
    except InvalidOperation:
        fail(f"--hours-per-term {hours_per_term!r} is not a number of hours")
    if not hours.is_finite() or hours < 0:
        fail(f"--hours-per-term {hours_per_term!r} is not a number of hours (0 or more)")
    if max_terms < 1:
        fail(f"--max-terms {max_terms} is not 1 or more")
    first = _day(start, "--start")
    skips = [_day(s, "--skip") for s in skip or ()]
    day = _day(as_of, "--as-of") if as_of else None
    with session(db, acting_as) as ledger:
        try:
            found = ledger.plan(known(ledger, student), start=first, hours_per_term=hours, program=program,
                                as_of=day, skip_terms=skips, max_terms=max_terms)
        except ValueError as exc:
            fail(str(exc))
    typer.echo(found.to_json() if fmt == "json" else found.to_html(lang) if fmt == "html" else found.to_text(lang))
    if not found.feasible:
        raise typer.Exit(code=3)
