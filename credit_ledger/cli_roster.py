"""The command's ``roster`` group: a student's personal data beside the ledger (``Ledger.set_personal``,
``personal``, ``roster``, ``erase_personal``), outside the hash chain.

Example::

    credit-ledger roster set HNJX-2024-0317 --name 王小明 --field gender=男 --db records.db --acting-as HNJX
    credit-ledger roster show HNJX-2024-0317 --db records.db
    credit-ledger roster erase HNJX-2024-0317 --db records.db --acting-as HNJX
"""

from __future__ import annotations

import json
from typing import List, Optional

import typer

from .cli_checks import fail, known, session

roster_app = typer.Typer(no_args_is_help=True, help=(
    "Students' names and personal fields, beside the ledger (outside its hash chain): set, show, erase."))

DB = typer.Option("records.db", "--db", help="A SQLite file path or an SQLAlchemy URL.")
ACTING_AS = typer.Option(None, "--acting-as", help="Act as this institution (only a student's own school writes).")
FIELD = typer.Option([], "--field", help="Another field, key=value (repeat it).")
REMOVE = typer.Option([], "--remove", help="A field to remove (repeat it).")


def _fields(pairs: List[str], removed: List[str]) -> dict[str, Optional[str]]:
    """``--field key=value`` pairs and ``--remove key`` names as the changes of ``Ledger.set_personal``."""
    out: dict[str, Optional[str]] = {}
    for n, pair in enumerate(pairs, 1):
        key, sep, value = pair.partition("=")
        if not sep or not key:  # not echoed: what was typed may be the value, personal data (and errors reach logs)
            fail(f"--field number {n}: write it as key=value (phone=13800000000)")
        out[key] = value
    out.update({key: None for key in removed})
    return out


@roster_app.command("set")
def roster_set(student: str, name: Optional[str] = typer.Option(None, "--name", help="The student's name (姓名)."),
               field: List[str] = FIELD, remove: List[str] = REMOVE,
               db: str = DB, acting_as: Optional[str] = ACTING_AS) -> None:
    """Set or correct a student's name and fields (a field not named stays as it was).

    Example: credit-ledger roster set HNJX-2024-0317 --name 王小明 --field gender=男 --acting-as HNJX
    """
    changes = _fields(field, remove)
    if name is not None:
        changes["name"] = name
    if not changes:
        fail("nothing to set: give --name, --field key=value or --remove key")
    with session(db, acting_as) as ledger:  # (an unknown student: exit 4, as every command that names one)
        record = ledger.set_personal(known(ledger, student), **changes)
    typer.echo(f"{student}: {len(record.fields) + (record.name is not None)} personal fields kept")


@roster_app.command("show")
def roster_show(student: Optional[str] = typer.Argument(None, help="One student (default: every one)."),
                db: str = DB, acting_as: Optional[str] = ACTING_AS,
                json_out: bool = typer.Option(False, "--json", help="Print JSON instead of a table.")) -> None:
    """Print the personal data of one student, or of every student the ledger (or the school) may read.

    Example: credit-ledger roster show HNJX-2024-0317 --db records.db
    """
    from .cli_tables import personal_table

    with session(db, acting_as) as ledger:
        found = list(ledger.roster([known(ledger, student)] if student is not None else None).values())
    if json_out:
        typer.echo(json.dumps([r.model_dump(mode="json") for r in found], ensure_ascii=False, indent=2))
    elif found:
        typer.echo(personal_table(found))
    elif student is not None:
        typer.echo(f"{student}: no personal data kept")


@roster_app.command("erase")
def roster_erase(student: str, db: str = DB, acting_as: Optional[str] = ACTING_AS) -> None:
    """Erase a student's personal data (no copy kept; credit records and verify stay as they were).

    Example: credit-ledger roster erase HNJX-2024-0317 --db records.db --acting-as HNJX
    """
    with session(db, acting_as) as ledger:
        found = ledger.erase_personal(known(ledger, student))
    typer.echo(f"{student}: personal data erased" if found else f"{student}: no personal data kept")


__all__ = ["roster_app"]
