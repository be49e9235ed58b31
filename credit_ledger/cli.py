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
import os
import sys
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING, Callable, Iterator, NoReturn, Optional

import typer

from .errors import CatalogError, CreditLedgerError
from .ledger import Ledger

if TYPE_CHECKING:  # pragma: no cover
    from .models import Catalog

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


# -- set-up, catalog and imports ---------------------------------------------------------------------------------

catalog_app = typer.Typer(add_completion=False, no_args_is_help=True,
                          help="Load, show and check the catalog (institutions, courses, programs, agreements).")
app.add_typer(catalog_app, name="catalog")


def _catalog_file(path: str) -> "Catalog":
    """Read a catalog file, or fail with its first problem on one line."""
    from .models import Catalog

    try:
        return Catalog.from_file(path)
    except CatalogError as exc:
        first = exc.problems[0] if exc.problems else "invalid catalog"
        more = f" (and {len(exc.problems) - 1} more; see: credit-ledger catalog check {path})" \
            if len(exc.problems) > 1 else ""
        _fail(f"{path}: {first}{more}")


def _load(ledger: Ledger, catalog: "Catalog") -> None:
    try:
        ledger.load_catalog(catalog)
    except CreditLedgerError as exc:
        _fail(" ".join(str(exc).split("\n")))


def _summary(catalog: "Catalog") -> str:
    return ", ".join(f"{len(getattr(catalog, name))} {name.replace('_', ' ')}"
                     for name in ("institutions", "courses", "programs", "agreements", "conversion_rules"))


@app.command()
def init(db: str = DB,
         catalog: Optional[str] = typer.Option(None, "--catalog", help="A catalog file (YAML or JSON) to load."),
         sample: bool = typer.Option(False, "--sample", help="Load the sample catalog shipped with the library.")
         ) -> None:
    """Create an empty ledger (or open an existing one), and load a catalog into it.

    Example: credit-ledger init --db records.db --catalog catalog.yaml
    """
    from .models import Catalog

    loaded = _catalog_file(catalog) if catalog else None
    ledger = _open(db)
    try:
        if sample:
            _load(ledger, Catalog.sample())
        if loaded is not None:
            _load(ledger, loaded)
        typer.echo(f"ledger {ledger.url}: {ledger.count()} events; catalog: {_summary(ledger.catalog)}")
    finally:
        ledger.close()


@catalog_app.command("load")
def catalog_load(file: str, db: str = DB,
                 acting_as: Optional[str] = typer.Option(None, "--acting-as",
                                                         help="Load as this institution (its own entries only).")
                 ) -> None:
    """Add a catalog file's entries to the ledger's catalog; loading the same file again changes nothing.

    Example: credit-ledger catalog load catalog-2026.yaml --db records.db
    """
    loaded = _catalog_file(file)
    ledger = _open(db)
    try:
        _load(ledger.acting_for(acting_as) if acting_as else ledger, loaded)
        typer.echo(f"loaded {file}; catalog: {_summary(ledger.catalog)}")
    finally:
        ledger.close()


@catalog_app.command("show")
def catalog_show(db: str = DB, fmt: str = typer.Option("yaml", "--format", help="yaml or json.")) -> None:
    """Print the ledger's catalog (every version of every entry).

    Example: credit-ledger catalog show --db records.db --format json
    """
    if fmt not in ("yaml", "json"):
        _fail(f"--format {fmt!r} is not one of yaml, json")
    ledger = _open(db)
    try:
        data = json.loads(ledger.catalog.to_json())
    finally:
        ledger.close()
    if fmt == "json":
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        import yaml

        typer.echo(yaml.safe_dump(data, allow_unicode=True, sort_keys=False).rstrip())


@catalog_app.command("check")
def catalog_check(file: str) -> None:
    """Check a catalog file: print each problem on a line of its own, and exit 1 when there is any.

    Example: credit-ledger catalog check catalog.yaml
    """
    from .models import Catalog

    try:
        catalog = Catalog.from_file(file)
    except CatalogError as exc:
        for problem in exc.problems:
            typer.echo(f"{file}: {problem}")
        raise typer.Exit(code=1)
    typer.echo(f"{file}: ok ({_summary(catalog)})")


@app.command("import")
def import_(file: str, db: str = DB,
            fmt: Optional[str] = typer.Option(None, "--format", help="csv or jsonl (default: from the suffix)."),
            map_file: Optional[str] = typer.Option(None, "--map", help="A mapping file (YAML or JSON) for another "
                                                   "school system's columns."),
            skip_bad: bool = typer.Option(False, "--skip-bad", help="Write the good rows; put the rejected ones "
                                          "in the rejects file."),
            rejects: Optional[str] = typer.Option(None, "--rejects", help="Where --skip-bad lists rejected rows "
                                                  "(default: FILE.rejects.csv)."),
            acting_as: Optional[str] = typer.Option(None, "--acting-as", help="Record as this institution."),
            batch: int = typer.Option(5000, "--batch", min=1, help="Events per write with --skip-bad.")) -> None:
    """Import events from a CSV or JSON Lines file: all or nothing, unless --skip-bad.

    Example: credit-ledger import grades-2025-1.csv --db records.db --map school-x.yaml --skip-bad
    """
    from .imports import import_events

    if fmt is not None and fmt not in ("csv", "jsonl"):
        _fail(f"--format {fmt!r} is not one of csv, jsonl")
    if not os.path.isfile(file):
        _fail(f"cannot read {file}: no such file")
    if rejects is None and skip_bad:
        rejects = f"{file}.rejects.csv"
    ledger = _open(db)
    try:
        target = ledger.acting_for(acting_as) if acting_as else ledger
        with _progress_bar(f"importing {file}") as progress:
            result = import_events(target, file, format=fmt, mapping=map_file, skip_bad=skip_bad,
                                   rejects=rejects, batch=batch, progress=progress)
    except CreditLedgerError as exc:
        _fail(" ".join(str(exc).split("\n")))
    except OSError as exc:
        _fail(f"cannot write {rejects}: {exc.strerror or exc}")
    finally:
        ledger.close()
    line = (f"{file}: {result.read} rows read, {result.written} events written, "
            f"{result.already_present} already present, {result.rejected} rejected")
    if result.rejected:
        line += f" (see {result.rejects_file})"
    typer.echo(line)


@contextmanager
def _progress_bar(label: str) -> Iterator[Optional[Callable[[int, int], None]]]:
    """A rich progress bar on stderr when it is a terminal; no callback otherwise."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


if __name__ == "__main__":  # pragma: no cover
    app()
