"""The ``credit-ledger`` command.

Errors print one line on stderr and exit non-zero (4 for a student the ledger has no record of); they never show a
traceback. What a command checks before it works lives in ``cli_checks``, its human tables in ``cli_tables``.

Example::

    credit-ledger demo --db demo.db
    credit-ledger students --db demo.db
    credit-ledger events HNJX-2024-PT-0317 --db demo.db --as-of 2026/7/31
    credit-ledger transcript HNJX-2024-PT-0317 --db demo.db
    credit-ledger audit HNJX-2024-PT-0317 --db demo.db --as-of 2026-07-31
    credit-ledger verify --db demo.db
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Optional

import typer
from pydantic import ValidationError

from . import cli_plan
from .cli_checks import (LANG, as_of_date, bad_statement, fail, interrupted, known, language, outcome_problems,
                         private_key, read_json, read_text, session, validation_lines, writable)
from .cli_roster import roster_app
from .errors import BadSignature, CatalogError, CreditLedgerError

if TYPE_CHECKING:  # pragma: no cover
    from datetime import date

    from .ledger import Ledger
    from .reports import AuditReport
    from .transfer import RecognitionResult
    from .models import Catalog

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Keep and query an append-only ledger of students' credits.")

DB = typer.Option("records.db", "--db", help="A SQLite file path or an SQLAlchemy URL.")
AS_OF = typer.Option(None, "--as-of", help=(
    "Judge the record as it stood on this date: 2026-07-01, 2026/7/1, 2026.7.1 or 2026年7月1日."))
ACTING_AS = typer.Option(None, "--acting-as", help="Act as this institution (its rights to read and write).")
JSON_OUT = typer.Option(False, "--json", help="Print JSON instead of a table.")

def _print_version(value: bool) -> None:
    if value:
        from . import __version__

        typer.echo(f"credit-ledger {__version__}")
        raise typer.Exit()


@app.callback()
def _main(version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                       help="Print the package's version and exit.")) -> None:
    """Keep and query an append-only ledger of students' credits."""


@app.command()
def demo(db: str = typer.Option("demo.db", "--db", help="Where to keep the demo ledger.")) -> None:
    """Record a worker-student's part-time study in stages; print the transcript, balance and audits.

    Example: credit-ledger demo --db demo.db
    """
    from .demo import main

    try:
        main(db)
    except CatalogError as exc:  # a demo ledger of an earlier version: its sample catalog is not today's
        fail(f"{db} holds a catalog the demo's sample catalog does not match (a demo ledger made by an earlier "
             f"version?): remove {db}, or give another --db, to run the demo afresh ({exc.problems[0]})")
    except CreditLedgerError as exc:
        fail(str(exc))




@app.command()
def transcript(student: str, db: str = DB, as_of: Optional[str] = AS_OF, acting_as: Optional[str] = ACTING_AS,
               json_out: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
               every: bool = typer.Option(False, "--all", help=(
                   "Every attempt: failed ones, make-ups (补考) and retakes (重修), not only what counts.")),
               lang: str = LANG) -> None:
    """Print a student's effective credit records (--all: every attempt at a course), in Chinese (--lang en:
    English).

    Example: credit-ledger transcript HNJX-2024-PT-0317 --db demo.db --as-of 2025-12-31 --all
    """
    from .render import transcript_text

    language(lang)
    with session(db, acting_as) as ledger:
        known(ledger, student)
        day = as_of_date(as_of)
        if every:
            _attempts(ledger, student, day, json_out, lang)
        elif json_out:
            typer.echo(ledger.transcript(student, day).model_dump_json(indent=2))
        else:
            typer.echo(transcript_text(student, ledger.transcript(student, day), day, lang))


def _attempts(ledger: "Ledger", student: str, as_of: Optional["date"], json_out: bool, lang: str) -> None:
    """``transcript --all``: every attempt at a course, as a table or JSON."""
    from .attempts import course_attempts
    from .cli_tables import attempts_table

    found = course_attempts(ledger.events(student), catalog=ledger.catalog, as_of=as_of)
    if json_out:
        typer.echo(json.dumps([a.model_dump(mode="json") for a in found], ensure_ascii=False, indent=2))
    else:
        record = ledger.personal(student)
        typer.echo(attempts_table(student, found, name=record.name if record else None, as_of=as_of, lang=lang))


@app.command()
def students(db: str = DB, acting_as: Optional[str] = ACTING_AS,
             json_out: bool = typer.Option(False, "--json", help="Print a JSON list.")) -> None:
    """List the students in the ledger (with --acting-as, those the school may read), one id a line (and a tab and
    the name, where the roster keeps one).

    Example: credit-ledger students --db records.db --acting-as HNJX
    """
    with session(db, acting_as) as ledger:
        ids = ledger.students()
        names = {s: r.name for s, r in ledger.roster(ids).items() if r.name} if ids else {}
    if json_out:
        typer.echo(json.dumps(ids, ensure_ascii=False))
    elif ids:
        typer.echo("\n".join(f"{s}\t{names[s]}" if s in names else s for s in ids))


@app.command()
def events(student: str, db: str = DB, as_of: Optional[str] = AS_OF, acting_as: Optional[str] = ACTING_AS,
           json_out: bool = typer.Option(False, "--json", help="Print the events as a JSON list.")) -> None:
    """Print a student's events in recording order: date, kind, event id, course or target, grade, recorded by.

    Example: credit-ledger events HNJX-2024-PT-0317 --db demo.db --as-of 2026/7/31
    """
    from .cli_tables import events_table

    with session(db, acting_as) as ledger:
        history = ledger.events(known(ledger, student), as_of_date(as_of))
    if json_out:
        typer.echo(json.dumps([e.model_dump(mode="json") for e in history], ensure_ascii=False, indent=2))
    else:
        typer.echo(events_table(student, history))


@app.command()
def balance(student: str, db: str = DB, as_of: Optional[str] = AS_OF, acting_as: Optional[str] = ACTING_AS,
            json_out: bool = JSON_OUT) -> None:
    """Print a student's credits: the total, by origin and by category (--json: the Balance as JSON).

    Example: credit-ledger balance HNJX-2024-PT-0317 --db demo.db
    """
    from .cli_tables import balance_table

    with session(db, acting_as) as ledger:
        result = ledger.balance(known(ledger, student), as_of_date(as_of))
    typer.echo(result.model_dump_json(indent=2) if json_out else balance_table(result))


AUDIT_OUTPUTS = {"text": (".txt",), "json": (".json",), "html": (".html", ".htm")}
"""What ``audit --out`` may be, by ``--format``."""


@app.command()
def audit(student: str, db: str = DB, as_of: Optional[str] = AS_OF, acting_as: Optional[str] = ACTING_AS,
          program: Optional[str] = typer.Option(None, "--program", help="Audit against another program (what-if)."),
          fmt: str = typer.Option("text", "--format", help=(
              "text, json or html (html: the printable 毕业资格审核表, a whole page).")),
          out: Optional[Path] = typer.Option(None, "--out", help=(
              "Write the report to this file (.txt, .json, .html by --format) instead of printing it.")),
          lang: str = LANG) -> None:
    """May the student graduate? The requirement tree with ✓/✗, stages, projection and issues.

    Exits 0 when the student is eligible (or graduated with support), 3 otherwise.

    Example: credit-ledger audit HNJX-2024-PT-0317 --db demo.db --as-of 2026-07-31 --format html --out li-na.html
    """
    if fmt not in AUDIT_OUTPUTS:
        fail(f"--format {fmt!r} is not one of text, json, html")
    language(lang)
    if out is not None:
        writable(out, AUDIT_OUTPUTS[fmt], what=f"{fmt} file")
    with session(db, acting_as) as ledger:
        if out is not None:
            from .exports import refuse_ledger_file

            refuse_ledger_file(ledger, out)
        report = ledger.audit(known(ledger, student), program=program, as_of=as_of_date(as_of))
    shown = {"text": lambda: report.to_text(lang), "json": report.to_json,
             "html": lambda: report.to_html(lang)}[fmt]()
    if out is None:
        typer.echo(shown)
    else:
        out.write_text(shown + "\n", encoding="utf-8")
        typer.echo(str(out))
    if not (report.eligible or (report.status == "graduated" and report.awards)):
        raise typer.Exit(code=3)


@app.command("audit-all")
def audit_all(db: str = DB, as_of: Optional[str] = AS_OF,
              out: Path = typer.Option(..., "--out", help="Where to write: .csv or .jsonl (one report a line)."),
              program: Optional[str] = typer.Option(None, "--program", help="Audit against another program."),
              workers: Optional[int] = typer.Option(None, "--workers", help=(
                  "Processes (default: every core when the batch is big enough to pay for them).")),
              acting_as: Optional[str] = ACTING_AS) -> None:
    """Audit every student in the ledger (those a school may read, with --acting-as), on every core.

    The CSV has the columns of the export's audits table (exports.audits_csv); JSON Lines hold whole reports.
    A progress bar shows on a terminal; a summary table by status follows.

    Example: credit-ledger audit-all --db records.db --as-of 2027-07-01 --out audits.csv
    """
    writable(out, (".csv", ".jsonl"), what="--out file")
    from rich.console import Console
    from rich.table import Table

    from .exports import audits_csv, audits_jsonl, refuse_ledger_file

    write = audits_csv if out.suffix.lower() == ".csv" else audits_jsonl
    statuses: Counter[str] = Counter()
    with session(db, acting_as) as ledger, _progress_bar("auditing") as progress:
        refuse_ledger_file(ledger, out)
        students = ledger.students()
        reports = ledger.audit_all(students, as_of_date(as_of), program=program, workers=workers,
                                   detail="summary" if out.suffix.lower() == ".csv" else "full")
        write(_counted(reports, statuses, progress, len(students)), out)
    table = Table(title=f"{statuses.total()} students audited")
    table.add_column("status")
    table.add_column("students", justify="right")
    for status, n in sorted(statuses.items()):
        table.add_row(status, str(n))
    Console().print(table)


def _counted(reports: Iterable["AuditReport"], statuses: Counter[str],
             progress: Optional[Callable[[int, int], None]], total: int) -> Iterator["AuditReport"]:
    """The reports as they come, each counted in ``statuses`` by its status and shown on the progress bar."""
    for report in reports:
        statuses[report.status.value] += 1
        if progress is not None:
            progress(statuses.total(), total)
        yield report


@app.command()
def convert(student: str, outcomes: Path = typer.Argument(..., help="A JSON file: a list of outcomes."),
            db: str = DB, as_of: Optional[str] = AS_OF, acting_as: Optional[str] = ACTING_AS,
            dry_run: bool = typer.Option(False, "--dry-run", help="Decide, write nothing."),
            json_out: bool = JSON_OUT) -> None:
    """Convert learning outcomes (certificates, awards, work, apprenticeship, online courses) into credits.

    Prints one decision per outcome (a table, or JSON with --json); accepted ones are appended (unless --dry-run).

    Example: credit-ledger convert HN-2025-0301 outcomes.json --db records.db --as-of 2025-09-12 --dry-run
    """
    items = read_json(outcomes)
    if not isinstance(items, list):
        fail(f"{outcomes}: expected a JSON list of outcomes")
    problems = [line for number, item in enumerate(items, 1) for line in outcome_problems(item, number, outcomes)]
    if problems:  # every outcome that is not one, each problem on a line naming the outcome and the field
        for line in problems:
            typer.echo(f"error: {line}", err=True)
        raise typer.Exit(code=1)
    with session(db, acting_as) as ledger:
        result = ledger.convert(known(ledger, student), items, as_of=as_of_date(as_of), dry_run=dry_run)
    _decisions(result, json_out)


@app.command()
def export(out: Path = typer.Argument(..., help="The SQLite file to write (for datasette, pandas, SQL)."),
           db: str = DB, as_of: Optional[str] = AS_OF, acting_as: Optional[str] = ACTING_AS) -> None:
    """Export analysis tables (students, enrolments, transcripts, audits, decisions, courses, attempts) to SQLite.

    Foreign keys, indexes and full-text search that finds two-character course names (语文, 数控), and OUT.metadata.json
    beside it (Chinese labels and facets): ready for `datasette OUT.db -m OUT.metadata.json`.

    Example: credit-ledger export analysis.db --db records.db --as-of 2027-07-01
    """
    from .exports import export_sqlite, metadata_path

    writable(out, (".db", ".sqlite", ".sqlite3"), what="SQLite file")
    with session(db, acting_as) as ledger:
        counts = export_sqlite(ledger, out, as_of=as_of_date(as_of))
    typer.echo(f"{out}: " + ", ".join(f"{table} {n}" for table, n in counts.items()))
    typer.echo(f"{metadata_path(out)}: labels and facets for datasette")


@app.command()
def plot(student: Optional[str] = typer.Argument(None, help="The student (omit with --cohort)."),
         out: Path = typer.Option(..., "--out", help="The picture to write: .png, .svg or .pdf."),
         cohort: bool = typer.Option(False, "--cohort", help="Every student: on track, early, at risk, late."),
         by: str = typer.Option("status", "--by",
                                help="With --cohort: bars by status, or for each program or entry_year."),
         wall: bool = typer.Option(False, "--wall", help="With --cohort: credits against time used, a dot each."),
         lang: str = LANG,
         db: str = DB, as_of: Optional[str] = AS_OF, acting_as: Optional[str] = ACTING_AS) -> None:
    """Draw a student's credits against the program's total and deadline (or the cohort's standing).

    The format is the one --out's suffix names: PNG, SVG or PDF. Labels are in Chinese unless --lang en.

    Example: credit-ledger plot HNJX-2024-PT-0317 --db demo.db --as-of 2028-07-10 --out li-na.svg
    """
    from .plots import COHORT_BY

    if (student is None) != cohort:
        fail("name a student, or give --cohort (not both)")
    if (wall or by != "status") and not cohort:
        fail("--wall and --by draw the cohort: give --cohort")
    if wall and by != "status":
        fail("--wall or --by: one picture at a time")
    if by not in COHORT_BY:
        fail(f"--by {by}: use one of {', '.join(COHORT_BY)}")
    language(lang)
    from .exports import refuse_ledger_file
    from .plots import PICTURE_FORMATS, plot_cohort, plot_student, plot_wall

    with session(db, acting_as) as ledger:
        refuse_ledger_file(ledger, out)  # the ledger's own file first, then whether the picture can be written
        writable(out, PICTURE_FORMATS, what="picture")
        try:
            if cohort:
                rows = list(ledger.audit_all(as_of=as_of_date(as_of), detail="summary"))
                if wall:
                    plot_wall(rows, out, lang=lang)
                else:
                    titles = {p.code: p.title for p in ledger.catalog.programs}  # a summary has the code only
                    plot_cohort(rows, out, lang=lang, by=by, titles=titles)
            else:
                plot_student(ledger.audit(known(ledger, str(student)), as_of=as_of_date(as_of)), out, lang=lang)
        except ImportError as exc:  # the notebook extra is not installed
            fail(str(exc))
    typer.echo(str(out))


@app.command()
def schema(name: Optional[str] = typer.Argument(None, help="One model (default: every public model)."),
           out: Optional[Path] = typer.Option(None, "--out", help="A folder: one NAME.schema.json file each.")) -> None:
    """Print the JSON Schema of the public models, so portals in other languages can read our JSON.

    Example: credit-ledger schema AuditReport
    """
    from .schemas import json_schemas

    schemas = json_schemas()
    if name is not None:
        if name not in schemas:
            fail(f"no model {name!r}; one of: {', '.join(sorted(schemas))}")
        schemas = {name: schemas[name]}
    if out is None:
        typer.echo(json.dumps(schemas if name is None else schemas[name], ensure_ascii=False, indent=2))
        return
    out.mkdir(parents=True, exist_ok=True)
    for model, body in schemas.items():
        (out / f"{model}.schema.json").write_text(json.dumps(body, ensure_ascii=False, indent=2), encoding="utf-8")
    typer.echo(f"{out}: {len(schemas)} schemas")


statement_app = typer.Typer(no_args_is_help=True, help="Signed transfer statements between schools.")
app.add_typer(statement_app, name="statement")
app.add_typer(roster_app, name="roster")  # names beside the ledger (``cli_roster``)


@statement_app.command("keygen")
def statement_keygen(out: Path = typer.Option(..., "--out", help="Where to write the private key (PEM).")) -> None:
    """Make a school's Ed25519 signing key; prints the public key (hex) that other schools trust.

    Example: credit-ledger statement keygen --out xtjx.pem
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from .transfer import public_key_hex

    if out.exists():
        fail(f"{out} exists; a signing key is never overwritten")
    writable(out, what="key file")
    key = Ed25519PrivateKey.generate()
    out.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
    out.chmod(0o600)
    typer.echo(public_key_hex(key))


@statement_app.command("issue")
def statement_issue(student: str, key: Path = typer.Option(..., "--key", help="The school's private key (PEM)."),
                    out: Path = typer.Option(..., "--out", help="Where to write the statement (JSON)."),
                    db: str = DB, as_of: Optional[str] = AS_OF, acting_as: Optional[str] = ACTING_AS) -> None:
    """Issue a signed statement of a student's results at the acting school: a plain file to send.

    Example: credit-ledger statement issue XT-2024-017 --key xtjx.pem --out XT-2024-017.json --acting-as XTJX
    """
    from .exports import refuse_ledger_file

    writable(out, what="statement")
    private = private_key(key)
    with session(db, acting_as) as ledger:
        refuse_ledger_file(ledger, out)
        statement = ledger.issue_statement(known(ledger, student), key=private, as_of=as_of_date(as_of))
    out.write_text(statement.to_json(), encoding="utf-8")
    typer.echo(f"{out}: statement {statement.statement_id} of {statement.issuer}, {len(statement.results)} results")


@statement_app.command("verify")
def statement_verify(statement: Path, trusted: Path = typer.Option(..., "--trusted", help=(
        "A JSON file mapping institution codes to trusted public keys (hex)."))) -> None:
    """Check a statement's signature against the trusted keys; exit 2 when it fails.

    Example: credit-ledger statement verify XT-2024-017.json --trusted keys.json
    """
    from .transfer import TransferStatement

    text = read_text(statement)
    try:
        parsed = TransferStatement.from_json(text)
        parsed.verify(read_json(trusted))
    except BadSignature as exc:
        bad_statement(exc, text, statement)
    typer.echo(f"ok: statement {parsed.statement_id} of {parsed.issuer} for {parsed.student_id}, "
               f"{len(parsed.results)} results")


@statement_app.command("receive")
def statement_receive(statement: Path, trusted: Path = typer.Option(..., "--trusted", help=(
        "A JSON file mapping institution codes to trusted public keys (hex).")),
        db: str = DB, as_of: Optional[str] = AS_OF, acting_as: Optional[str] = ACTING_AS,
        student_id: Optional[str] = typer.Option(None, "--student-id", help="The student's id here, if other."),
        dry_run: bool = typer.Option(False, "--dry-run", help="Decide, write nothing."),
        json_out: bool = JSON_OUT) -> None:
    """Verify a statement and recognise its results under the agreements; prints the decisions (--json: as JSON).

    An altered, unsigned or untrusted statement exits 2 and writes nothing.

    Example: credit-ledger statement receive XT-2024-017.json --trusted keys.json --acting-as HNJX --student-id HN-1
    """
    with session(db, acting_as) as ledger:
        text = read_text(statement)
        try:
            result = ledger.receive_statement(text, trusted_keys=read_json(trusted),
                                              as_of=as_of_date(as_of), student_id=student_id, dry_run=dry_run)
        except BadSignature as exc:
            bad_statement(exc, text, statement)
    _decisions(result, json_out)


def _decisions(result: "RecognitionResult", json_out: bool) -> None:
    """The decisions of a conversion or a received statement: a table, or the JSON of before (without events)."""
    from .cli_tables import decisions_table

    typer.echo(result.model_dump_json(indent=2, exclude={"events"}) if json_out else decisions_table(result))


@app.command()
def verify(db: str = DB, json_out: bool = JSON_OUT) -> None:
    """Recheck every row's hash chain and checkpoint; exit 2 when the ledger was altered.

    Example: credit-ledger verify --db records.db
    """
    from .cli_tables import verify_table

    with session(db) as ledger:
        report = ledger.verify()
    typer.echo(json.dumps(report.model_dump(), ensure_ascii=False) if json_out else verify_table(report))
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
        fail(f"{path}: {first}{more}")


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
    with session(db, create=True) as ledger:
        if sample:
            ledger.load_catalog(Catalog.sample())
        if loaded is not None:
            ledger.load_catalog(loaded)
        typer.echo(f"ledger {ledger.url}: {ledger.count()} events; catalog: {_summary(ledger.catalog)}")


@catalog_app.command("load")
def catalog_load(file: str, db: str = DB,
                 acting_as: Optional[str] = typer.Option(None, "--acting-as",
                                                         help="Load as this institution (its own entries only).")
                 ) -> None:
    """Add a catalog file's entries to the ledger's catalog; loading the same file again changes nothing.

    Example: credit-ledger catalog load catalog-2026.yaml --db records.db
    """
    loaded = _catalog_file(file)
    with session(db) as ledger:
        (ledger.acting_for(acting_as) if acting_as else ledger).load_catalog(loaded)
        typer.echo(f"loaded {file}; catalog: {_summary(ledger.catalog)}")


@catalog_app.command("show")
def catalog_show(db: str = DB, fmt: str = typer.Option("yaml", "--format", help="yaml or json.")) -> None:
    """Print the ledger's catalog (every version of every entry).

    Example: credit-ledger catalog show --db records.db --format json
    """
    if fmt not in ("yaml", "json"):
        fail(f"--format {fmt!r} is not one of yaml, json")
    with session(db) as ledger:
        data = json.loads(ledger.catalog.to_json())
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

    from .id_checks import catalog_code_problems

    try:
        catalog = Catalog.from_file(file)
    except CatalogError as exc:
        for problem in exc.problems:
            typer.echo(f"{file}: {problem}")
        raise typer.Exit(code=1) from None
    problems = catalog_code_problems(catalog, loaded=Catalog())  # the codes, as a ledger would check them
    for problem in problems:
        typer.echo(f"{file}: {problem}")
    if problems:
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
            batch: int = typer.Option(5000, "--batch", min=1,
                                      help="Rows read and written at a time (each a commit with --skip-bad)."),
            encoding: str = typer.Option("utf-8", "--encoding", help="The file's encoding: utf-8 (with or without "
                                         "a BOM) or gb18030 (also reads GBK and GB2312, older school systems')."),
            ) -> None:
    """Import events from a CSV or JSON Lines file: all or nothing, unless --skip-bad.

    Example: credit-ledger import grades-2025-1.csv --db records.db --map school-x.yaml --skip-bad
    """
    from .exports import refuse_ledger_file
    from .imports import import_events

    if fmt is not None and fmt not in ("csv", "jsonl"):
        fail(f"--format {fmt!r} is not one of csv, jsonl")
    if not os.path.isfile(file):
        fail(f"cannot read {file}: no such file")
    if rejects is None and skip_bad:
        rejects = f"{file}.rejects.csv"
    if rejects is not None:
        writable(rejects, what="rejects file")
    with session(db) as ledger, _progress_bar(f"importing {file}") as progress:
        target = ledger.acting_for(acting_as) if acting_as else ledger
        if rejects is not None:
            refuse_ledger_file(ledger, rejects)
        try:
            result = import_events(target, file, format=fmt, mapping=map_file, skip_bad=skip_bad,
                                   rejects=rejects, batch=batch, progress=progress, encoding=encoding)
        except OSError as exc:
            fail(f"cannot write {rejects}: {exc.strerror or exc}")
        except KeyboardInterrupt:
            interrupted(ledger, f" (batches of {batch} rows, each committed with --skip-bad; importing {file} again "
                        "writes only what is missing)" if skip_bad else " (an import is all or nothing: run it again)")
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


app.command("plan")(cli_plan.plan)  # issue 15: the study planner's command lives in cli_plan


def main() -> None:
    """The console script: the app, with any error nobody foresaw still told in one line (never a traceback)."""
    try:
        app()
    except ValidationError as exc:  # a record refused outside any session: each problem on a line with its field
        for line in validation_lines(exc, exc.title):
            typer.echo(f"error: {line}", err=True)
        raise SystemExit(1) from None
    except Exception as exc:  # noqa: BLE001 - the last guard of a command line tool
        first_line = (str(exc).splitlines() or [""])[0]
        typer.echo(f"error: {type(exc).__name__}: {first_line}", err=True)
        raise SystemExit(1) from None


if __name__ == "__main__":  # pragma: no cover
    main()
