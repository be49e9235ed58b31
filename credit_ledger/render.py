"""Audit reports as a reader sees them: plain text for a terminal or a letter, HTML for a notebook.

A requirement is shown as a line of the tree: a mark (✓ met, ✗ not), its id and title, what it counted of what it
needs in its own unit (credits, courses, hours, or children met), and what is missing; under it, the records that
count toward it (a recognised or converted one with its origin, a substitute with the course it stands for):

>>> from decimal import Decimal
>>> from credit_ledger.reports import Allocated, RequirementResult
>>> core = RequirementResult(id="core", title="专业核心课", kind="courses", satisfied=False, needed=Decimal(3),
...                          counted=Decimal(2), unit="courses", missing=("CNC202",),
...                          records=(Allocated(event_id="e1", course="CNC201", title="数控编程", credits=Decimal(4),
...                                             origin="recognized"),))
>>> print("\\n".join(tree_lines(core)))
✗ core 专业核心课  2/3 courses · missing CNC202
    · CNC201 数控编程 4 [recognized]

Presentation only: every function reads a report's data by attribute and imports nothing of ``reports`` when it
runs (the report models call down into this module, never the other way).
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Iterable
    from datetime import date

    from .records import Transcript
    from .reports import AuditReport, RequirementResult


def mark(node: RequirementResult) -> str:
    """✓ for a requirement met (or waived), ✗ for one that is not."""
    return "✓" if node.satisfied else "✗"


def amount(node: RequirementResult) -> str:
    """What a requirement counted of what it needs, in its unit: ``2/3 courses``, ``1/2 met``, ``4.00/6.00 credits``."""
    if node.unit == "courses":
        return f"{int(node.counted)}/{int(node.needed)} courses"
    if node.unit == "requirements":
        return f"{int(node.counted)}/{int(node.needed)} met"
    return f"{node.counted}/{node.needed} {node.unit}"


def tree_lines(node: RequirementResult, depth: int = 0, lines: list[str] | None = None) -> list[str]:
    """The requirement tree as indented text lines, the node first, then its notes, its records and its children
    (appended to ``lines`` when given); returns the lines."""
    if lines is None:
        lines = []
    pad = "  " * depth
    extra = " (waived)" if node.waived else ""
    extra += " (shared)" if node.shared else ""
    if node.missing:
        extra += " · missing " + ", ".join(node.missing)
    if node.chosen and node.kind == "pick":
        extra += " · counting " + ", ".join(node.chosen)
    lines.append(f"{pad}{mark(node)} {node.id} {node.title}  {amount(node)}{extra}")
    for note in node.notes:
        lines.append(f"{pad}    note: {note}")
    for r in node.records:
        sub = f" (for {r.counts_as})" if r.counts_as else ""
        origin = "" if r.origin == "home" else f" [{r.origin}]"
        lines.append(f"{pad}    · {r.course or '-'} {r.title} {r.credits}{origin}{sub}")
    for child in node.children:
        tree_lines(child, depth + 1, lines)
    return lines


def tree_html(node: RequirementResult) -> str:
    """The requirement tree as nested HTML lists (text escaped)."""
    e = html.escape
    recs = "".join(f"<li>{e(r.course or '-')} {e(r.title)} {r.credits}</li>" for r in node.records)
    kids = "".join(tree_html(c) for c in node.children)
    missing = f" · missing {e(', '.join(node.missing))}" if node.missing else ""
    inner = (f"<ul>{recs}</ul>" if recs else "") + (f"<ul>{kids}</ul>" if kids else "")
    return (f"<ul><li>{mark(node)} <b>{e(node.id)}</b> {e(node.title)} {e(amount(node))}{missing}"
            f"{inner}</li></ul>")


def report_text(report: AuditReport) -> str:
    """A plain-text audit report: the verdict, the requirement tree with ✓/✗, stages and issues."""
    r = report
    lines = [f"{r.student_id} · {r.institution} {r.program} {r.program_title} · as of {r.as_of}",
             f"status: {r.status.value}" + (f" · award: {r.award}" if r.award else "")
             + (" (part-time 非全日制)" if r.part_time else "")
             + (f" · could leave with: {', '.join(a for a in r.awards if a != r.award)}"
                if any(a != r.award for a in r.awards) else ""),
             f"credits: {r.credits.total} of {r.credits.required} (home {r.credits.home}, recognized "
             f"{r.credits.recognized}, converted {r.credits.converted}) · shortfall {r.shortfall}"]
    window = []
    if r.enrolled_on:
        window.append(f"enrolled {r.enrolled_on}")
    if r.earliest_date:
        window.append(f"earliest {r.earliest_date}")
    if r.deadline:
        window.append(f"deadline {r.deadline}")
    if window:
        lines.append(" · ".join(window))
    lines.append("")
    tree_lines(r.requirements, 0, lines)
    if r.stages:
        lines.append("")
        lines.append("stages:")
        for i, s in enumerate(r.stages, 1):
            end = s.end.isoformat() if s.end else "now"
            by = f" ({s.ended_by})" if s.ended_by else ""
            lines.append(f"  {i}. {s.start} → {end}{by}: {s.credits} credits, {s.cumulative} in all")
    if r.projection is not None:
        p = r.projection
        lines.append(f"projection: {p.rate_per_year} credits a year; {p.remaining} to go; finish "
                     f"{p.finish_on or 'unknown'}; graduate {p.graduate_on or 'unknown'}"
                     + (" — AT RISK of the deadline" if p.at_risk else ""))
    if r.excluded:
        lines.append("")
        lines.append("not counted:")
        for x in r.excluded:
            lines.append(f"  - {x.record.course or x.record.category} {x.record.title} {x.credits} [{x.code}]")
    if r.exceptions:
        lines.append("")
        lines.append("exceptions:")
        for e in r.exceptions:
            what = f"substitute {e.course} for {e.replaces}" if e.action == "substitute" else "waive"
            lines.append(f"  - {e.requirement_id}: {what} ({e.event_id})" + ("" if e.applied else " — not applied"))
    if r.issues:
        lines.append("")
        lines.append("issues:")
        for issue in r.issues:
            lines.append(f"  - [{issue.code}] {issue.message}")
    return "\n".join(lines)


def report_html(report: AuditReport) -> str:
    """An HTML audit report for notebooks: the verdict, the requirement tree as nested lists, stages and issues."""
    r = report
    e = html.escape
    colour = "#1a7f37" if r.eligible else "#b35900"
    parts = [f"<div class='credit-ledger-audit'><h4>{e(r.student_id)} — {e(r.program)} "
             f"{e(r.program_title)}</h4>",
             f"<p><b style='color:{colour}'>{e(r.status.value)}</b>"
             + (f" · award {e(r.award)}" if r.award else "")
             + f" · {r.credits.total} / {r.credits.required} credits · shortfall {r.shortfall}"
             + (f" · earliest {r.earliest_date}" if r.earliest_date else "")
             + (f" · deadline {r.deadline}" if r.deadline else "") + "</p>",
             tree_html(r.requirements)]
    if r.stages:
        rows = "".join(f"<tr><td>{s.start}</td><td>{s.end or 'now'}</td><td>{s.credits}</td>"
                       f"<td>{s.cumulative}</td></tr>" for s in r.stages)
        parts.append("<table><tr><th>start</th><th>end</th><th>credits</th><th>cumulative</th></tr>"
                     f"{rows}</table>")
    if r.issues:
        parts.append("<ul>" + "".join(f"<li><code>{e(i.code)}</code> {e(i.message)}</li>"
                                      for i in r.issues) + "</ul>")
    parts.append("</div>")
    return "".join(parts)


# -- a student's record as text (the demo and the command's transcript) ---------------------------------------------

_PERIOD_WORDS = {"enrolled": "enrolled", "suspended": "suspended (休学)", "resumed": "resumed (复学)",
                 "withdrawn": "withdrew (退学)", "program_changed": "changed program (转专业)",
                 "graduated": "graduated"}


def periods_text(student_id: str, events: Iterable[object]) -> str:
    """The student's status changes (enrolment, suspension 休学, resumption 复学, ...) as text, from their events."""
    lines = [f"Study periods of {student_id}"]
    for e in events:
        kind = getattr(e, "kind", "")
        if kind not in _PERIOD_WORDS:
            continue
        detail = ""
        if kind == "enrolled":
            mode = str(getattr(e, "mode", "")).replace("_", "-")
            detail = f" in {getattr(e, 'program', '')} at {getattr(e, 'institution', '')}, {mode}"
            employer = getattr(e, "employer", None)
            detail += f", employer {employer}" if employer else ""
        elif reason := getattr(e, "reason", ""):
            detail = f": {reason}"
        lines.append(f"  {getattr(e, 'occurred_on', '')}  {_PERIOD_WORDS[kind]}{detail}")
    return "\n".join(lines)


def transcript_text(student_id: str, transcript: Transcript, as_of: date | None = None) -> str:
    """A transcript as a text table; CJK titles are fitted by display width."""
    lines = [f"Transcript of {student_id}" + (f" as of {as_of}" if as_of else ""), ""]
    lines.append(f"{'date':<11} {'course':<8} {'title':<16} {'credits':>7} {'grade':>6} {'GP':>4}  note")
    for r in transcript.records:
        note = {"retake": "retake (重修)"}.get(r.attempt or "", "")
        if r.flagged:
            note = f"make-up (补考), counted as {r.score}"
        gp = "" if r.grade_points is None else f"{r.grade_points:.1f}"
        lines.append(f"{r.occurred_on!s:<11} {r.course or '':<8} {fit(r.title, 16)} {r.credits:>7} "
                     f"{' ' * (6 - display_width(r.grade or ''))}{r.grade or ''} {gp:>4}  {note}")
    lines.append(f"{'':<11} {'':<8} {fit('total', 16)} {transcript.total:>7}")
    return "\n".join(lines)


def display_width(text: str) -> int:
    """Columns a terminal gives ``text``: two for each CJK character, one for others."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def fit(text: str, width: int) -> str:
    """Pad text to a display width, counting CJK characters as two columns; a longer one is cut and ends with "…",
    so that a reader knows the title goes on.

    >>> fit("机电设备安装与维修", 16) + "|", fit("语文", 6) + "|"
    ('机电设备安装与… |', '语文  |')
    """
    if display_width(text) <= width:
        return text + " " * (width - display_width(text))
    out, used = "", 0
    for ch in text:
        w = 2 if ord(ch) > 0x2E80 else 1
        if used + w > width - 1:
            break
        out, used = out + ch, used + w
    return out + "…" + " " * (width - used - 1)
