"""The command's human tables: a student's events, a balance, a verification, the decisions of a conversion or a
received statement. Each is a function of the data (the models ``--json`` prints whole) to the text a registrar
reads; nothing here reads the ledger.

A student's events, one a row, in recording order::

    date        kind               event id         course / target   grade  recorded by
    2024-09-01  enrolled           s1-enrol         MECH-PT-2024             HNJX
    2025-01-10  course_completed   s1-c1            PUB101            82     HNJX

>>> from datetime import date
>>> from credit_ledger.models import CourseCompleted
>>> event_row(CourseCompleted(event_id="s1-c1", student_id="S1", occurred_on=date(2025, 1, 10),
...                           institution="HNJX", course="PUB101", grade="82", recorded_by="HNJX"))
('2025-01-10', 'course_completed', 's1-c1', 'PUB101', '82', 'HNJX')
"""

from __future__ import annotations

import io
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Iterable, Sequence

if TYPE_CHECKING:  # pragma: no cover
    from .models import Balance, VerifyReport
    from .transfer import RecognitionResult

__all__ = ["EVENT_COLUMNS", "attempts_table", "balance_table", "decisions_table", "event_row", "events_table",
           "personal_table", "verify_table"]

EVENT_COLUMNS = ("date", "kind", "event id", "course / target", "grade", "recorded by")
"""The columns of ``events_table``, in order."""


def _target(target: Any) -> str:
    if target is None:
        return ""
    return f"{target.course}" if target.course is not None else f"category {target.category}"


def event_row(event: Any) -> tuple[str, ...]:
    """An event as the cells of ``EVENT_COLUMNS``: what it is about (the course, program, target, outcome or the
    event it corrects) and the grade it records, when it has one."""
    what = ""
    kind = event.kind
    if kind == "course_completed":
        what = event.course + ("" if event.attempt == "regular" else f" ({event.attempt})")
    elif kind in ("credit_recognized", "outcome_converted"):
        source = event.source_course if kind == "credit_recognized" else event.outcome_id
        what = f"{source} -> {_target(event.target)}"
    elif kind in ("enrolled", "program_changed"):
        what = event.program
    elif kind in ("grade_corrected", "entry_reversed"):
        what = f"-> {event.target_event_id}"
    elif kind == "outcome_revoked":
        what = event.outcome_id
    elif kind == "exception_granted":
        what = f"{event.action} {event.requirement_id}" + (f" ({event.course})" if event.course else "")
    elif kind == "graduated":
        what = event.award
    grade = getattr(event, "grade", None)
    if kind == "credit_recognized":
        grade = event.source_grade
    return (event.occurred_on.isoformat(), kind, event.event_id, what, "" if grade is None else str(grade),
            event.recorded_by or "")


def _render(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[str]],
            right: Iterable[str] = ()) -> str:
    """A table as text, with rich (which measures Chinese characters as two columns wide)."""
    from rich.console import Console
    from rich.table import Table

    aligned = set(right)
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in columns:
        table.add_column(column, justify="right" if column in aligned else "left", overflow="fold")
    for row in rows:
        table.add_row(*row)
    buffer = io.StringIO()
    Console(file=buffer, width=160, no_color=True, highlight=False, emoji=False).print(table)
    lines = [line.rstrip() for line in buffer.getvalue().rstrip("\n").splitlines()]
    return "\n".join(([title] if title else []) + lines)


def events_table(student_id: str, events: Sequence[Any]) -> str:
    """A student's events, one a row (``EVENT_COLUMNS``), in recording order."""
    return _render(f"{student_id}: {len(events)} events", EVENT_COLUMNS, (event_row(e) for e in events))


def _credits(value: Decimal) -> str:
    return f"{value:.2f}"


def balance_table(balance: "Balance") -> str:
    """A student's credits: the total, then by origin and by category."""
    as_of = f" as of {balance.as_of}" if balance.as_of else ""
    rows = [("total", "", _credits(balance.total))]
    rows += [("origin", name, _credits(n)) for name, n in balance.by_origin.items()]
    rows += [("category", name, _credits(n)) for name, n in balance.by_category.items()]
    return _render(f"{balance.student_id}: {_credits(balance.total)} credits{as_of}", ("by", "", "credits"), rows,
                   right=("credits",))


def verify_table(report: "VerifyReport") -> str:
    """What ``verify`` found: whether every row is what the library wrote, the first that is not, and the stored
    ids that the rules for new ids would refuse."""
    verdict = "ok: every row is what the library wrote" if report.ok else \
        f"ALTERED: row {report.first_bad_seq} is not what the library wrote"
    rows = [("verdict", verdict), ("rows checked", str(report.checked))]
    if not report.ok:
        rows.append(("first bad row", str(report.first_bad_seq)))
        rows.append(("reason", report.reason or ""))
    rows.append(("ids the rules would refuse", str(len(report.identifier_issues))))
    table = _render(None, ("check", "result"), rows)
    issues = [(i.code, i.message) for i in report.identifier_issues]
    if issues:
        table += "\n\n" + _render("stored ids kept as written (not a failure of the chain)", ("code", "id"),
                                  issues)
    return table


def decisions_table(result: "RecognitionResult") -> str:
    """One row per submitted item: accepted or refused, credits granted, where they count, the rule or agreement,
    and the codes of the rules that refused or trimmed it (every code, where a decision lists several); the total
    and whether anything was written above; below, for each refused or trimmed item, the sentence that says why."""
    rows, reasons = [], []
    for d in result.decisions:
        codes = getattr(d, "codes", None) or ([d.code] if d.code else [])
        rows.append(("yes" if d.accepted else "no", _credits(d.credits), ", ".join(_target(t) for t in d.target),
                     d.item, d.rule or "", ", ".join(codes)))
        if codes:  # refused, or trimmed by a cap: the sentence that says why
            reasons.append(f"- {d.item}: [{', '.join(codes)}] {d.message}")
    source = f" from statement {result.statement_id}" if result.statement_id else ""
    written = "nothing written (dry run)" if result.dry_run else (
        f"{len(result.events)} events written" if result.events else "nothing written")
    title = (f"{result.student_id}{source}: {len(result.accepted)} of {len(result.decisions)} accepted, "
             f"{_credits(result.credits)} credits; {written}")
    table = _render(title, ("accepted", "credits", "counts toward", "item", "rule", "codes"), rows,
                    right=("credits",))
    return table + ("\n\nwhy:\n" + "\n".join(reasons) if reasons else "")


def attempts_table(student_id: str, attempts: Sequence[Any], *, name: str | None = None, as_of: Any = None,
                   lang: str = "zh") -> str:
    """Every attempt at a course (``attempts.course_attempts``: failed ones, 补考 make-ups and 重修 retakes too), one
    a row in date order, with whether it passed and whether the transcript counts it (``transcript --all``)."""
    from .labels import word

    who = f"{name}（{student_id}）" if name and lang == "zh" else (f"{name} ({student_id})" if name else student_id)
    title = f"{who} {word('attempts', lang)}" + (f"，{word('as_of', lang)} {as_of}" if as_of and lang == "zh" else
                                                  (f", {word('as_of', lang)} {as_of}" if as_of else ""))
    columns = [word(k, lang) for k in ("date", "course", "title", "credits", "grade", "attempt", "result",
                                       "counted")]
    rows = [(a.occurred_on.isoformat(), a.course, a.title or "", "" if a.credits is None else _credits(a.credits),
             a.grade + (f" ({word('corrected', lang)})" if a.corrected else ""), word(a.attempt, lang),
             word("passed" if a.passed else "failed", lang), "✓" if a.counted else "") for a in attempts]
    return _render(title, columns, rows, right=(word("credits", lang),))


def personal_table(records: Sequence[Any], *, lang: str = "zh") -> str:
    """Students' personal data (``PersonalRecord``s): one row per student and field, the name first."""
    from .labels import word

    rows = []
    for r in records:
        fields = ([("name", r.name)] if r.name is not None else []) + sorted(r.fields.items())
        rows += [(r.student_id, word(k, lang) if k == "name" else k, v) for k, v in fields]
    return _render(None, (word("student", lang), word("field", lang), word("value", lang)), rows)
