"""Pictures of audits as PNG: one student's credits stage by stage, and how a cohort stands.

A worker-student who studies in stages (分阶段完成学业) sees each study period as a rising line of cumulative credits,
a gap where study was suspended (休学), the program's credit total as a horizontal line, the flexible-schooling
deadline (弹性学制) as a vertical one, and, dashed, where the pace so far would take them. A registrar sees a cohort as
bars: how many may graduate now, are early (all met, before the early-graduation floor), on track, at risk of the
deadline, past it, suspended, and so on.

Needs the ``notebook`` extra (matplotlib), imported only when a picture is drawn; each figure has its own ``Agg``
canvas (pyplot is not used), so no display is needed and a notebook's backend is left alone. Labels are ASCII (codes
and statuses), so no CJK font is needed either. The pictures read a report's data by attribute only: this module
imports nothing of the report models at run time (``AuditReport.plot`` calls down into it).

>>> cohort_counts([])
{}
"""

from __future__ import annotations

import io
from collections import Counter
from datetime import timedelta
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from .extras import require

if TYPE_CHECKING:  # pragma: no cover
    from .reports import AuditReport, AuditSummary

COHORT_GROUPS = ("graduated", "eligible", "early", "on_track", "at_risk", "deadline_passed", "suspended",
                 "withdrawn", "not_enrolled")
"""The bars of ``plot_cohort``, in order."""
_COLOURS = {"graduated": "#1b7837", "eligible": "#5aae61", "early": "#a6dba0", "on_track": "#4393c3",
            "at_risk": "#f4a582", "deadline_passed": "#d6604d", "suspended": "#bababa", "withdrawn": "#878787",
            "not_enrolled": "#e0e0e0"}


def cohort_group(report: "AuditReport | AuditSummary") -> str:
    """Where a report (or its summary) puts its student among ``COHORT_GROUPS``: ``early`` for every requirement met
    before the early-graduation floor (too_early), ``at_risk`` for requirements missing with an ``at_risk_deadline``
    issue, ``on_track`` for requirements missing without one; otherwise the audit status."""
    status = str(report.status)
    if status == "too_early":
        return "early"
    if status == "requirements_missing":
        codes = getattr(report, "issue_codes", None)  # an AuditSummary's (read by attribute, as reports are)
        if codes is not None:
            risky = "at_risk_deadline" in codes or bool(getattr(report, "at_risk", False))
        else:
            full: Any = report
            risky = any(i.code == "at_risk_deadline" for i in full.issues) or (
                full.projection is not None and full.projection.at_risk)
        return "at_risk" if risky else "on_track"
    return status


def cohort_counts(reports: Iterable["AuditReport | AuditSummary"]) -> dict[str, int]:
    """How many reports fall in each group of ``COHORT_GROUPS`` (groups with none left out), in that order."""
    counts = Counter(cohort_group(r) for r in reports)
    return {g: counts[g] for g in COHORT_GROUPS if counts[g]}


def _figure(width: float, height: float) -> Any:
    """A matplotlib figure on its own Agg canvas: no pyplot, so no global figure list and no change to the
    backend a notebook uses."""
    require("matplotlib")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


PICTURE_FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
"""The formats a picture is written in, by the suffix of the path it is written to (PNG for any other, and
without a path)."""


def _finish(fig: Any, path: str | Path | None, fmt: str | None = None) -> bytes:
    """The picture's bytes in ``fmt`` (``png``, ``svg`` or ``pdf``), else the format its path's suffix names
    (``PICTURE_FORMATS``), else PNG; written to ``path`` when given."""
    if fmt is None:
        fmt = PICTURE_FORMATS.get(Path(path).suffix.lower(), "png") if path is not None else "png"
    elif fmt not in PICTURE_FORMATS.values():
        raise ValueError(f"unknown picture format {fmt!r}: use one of {', '.join(PICTURE_FORMATS.values())}")
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, dpi=100, bbox_inches="tight")
    picture = buffer.getvalue()
    if path is not None:
        Path(path).write_bytes(picture)
    return picture


def plot_student(report: "AuditReport", path: str | Path | None = None, *, fmt: str | None = None) -> bytes:
    """A PNG of the student's cumulative credits, stage by stage, against the program's credit total, the
    deadline and the projection at the pace so far; written to ``path`` when given (an SVG or PDF for a ``.svg`` or
    ``.pdf`` path), and returned."""
    fig = _figure(8, 4.5)
    ax = fig.subplots()
    required = float(report.credits.required)
    for n, stage in enumerate(report.stages):
        end = stage.end or report.as_of
        ax.plot([stage.start, end], [float(stage.cumulative - stage.credits), float(stage.cumulative)],
                color="#2166ac", linewidth=2, marker="o", markersize=3,
                label="credits earned (study periods)" if n == 0 else None)
    for before, after in pairwise(report.stages):  # a suspension: the gap between two periods
        if before.end is not None and after.start > before.end:
            ax.axvspan(before.end, after.start, color="#bababa", alpha=0.3,
                       label="suspended" if before is report.stages[0] else None)
    ax.axhline(required, color="#1b7837", linestyle="-", linewidth=1, label=f"program total {required:g}")
    if report.deadline is not None:
        ax.axvline(report.deadline, color="#b2182b", linewidth=1, label=f"deadline {report.deadline}")
    if report.earliest_date is not None:
        ax.axvline(report.earliest_date, color="#999999", linestyle=":", linewidth=1,
                   label=f"earliest {report.earliest_date}")
    p = report.projection
    if p is not None and p.finish_on is not None:
        ax.plot([report.as_of, p.finish_on], [float(report.credits.total), required], color="#2166ac",
                linestyle="--", linewidth=1.5, label=f"projection {p.finish_on}" + (" (at risk)" if p.at_risk else ""))
    if not report.stages:  # nothing to draw a line from: show where the student stands
        ax.plot([report.as_of], [float(report.credits.total)], marker="o", color="#2166ac", label="credits")
    left = report.enrolled_on or (report.stages[0].start if report.stages else report.as_of)
    ax.set_xlim(left=left - timedelta(days=30))
    ax.set_ylim(bottom=0, top=max(required, float(report.credits.total)) * 1.1)
    ax.set_ylabel("credits")
    ax.set_title(f"{report.student_id} - {report.program} - {report.status} (as of {report.as_of})")
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(True, alpha=0.3)
    fig.autofmt_xdate()
    return _finish(fig, path, fmt)


def plot_cohort(reports: Iterable["AuditReport | AuditSummary"], path: str | Path | None = None, *,
                fmt: str | None = None) -> bytes:
    """A PNG bar chart (of reports, or of summaries: ``audit_all(..., detail="summary")``) of how many students are
    graduated, eligible, early, on track, at risk, past the deadline, suspended, ...; written to ``path`` when given
    (an SVG or PDF for a ``.svg`` or ``.pdf`` path), and returned."""
    reports = list(reports)
    counts = cohort_counts(reports)
    fig = _figure(8, 4)
    ax = fig.subplots()
    groups = list(counts) or ["none"]
    values = [counts.get(g, 0) for g in groups]
    bars = ax.bar(groups, values, color=[_COLOURS.get(g, "#cccccc") for g in groups])
    ax.bar_label(bars)
    ax.set_ylabel("students")
    ax.set_title(f"Cohort of {len(reports)} audited students")
    ax.tick_params(axis="x", labelrotation=20)
    return _finish(fig, path, fmt)
