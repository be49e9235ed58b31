"""Pictures of audits (PNG, SVG or PDF), labelled in Chinese (``lang="en"``: English): one student's credits, how a
cohort stands, and the wall picture of a whole cohort.

A worker-student who studies in stages (分阶段完成学业) sees her cumulative credits step up on the day of each record
that counts, suspensions (休学) shaded, graduation (毕业) marked, the program's credit total as a horizontal line, the
flexible-schooling deadline (弹性学制, 截止日期) as a vertical one, and, dashed, where the pace so far would take her
(cut at the edge of the picture, with its date, when that is past the deadline: a slow pace no longer stretches the
axis to 2056). A registrar sees a cohort as bars (how many may graduate now, are early, on track, at risk of the
deadline, past it, suspended, ...), by status or by program or entry year, every bar labelled with its count; and
the picture an office pins on a wall: credits earned against the years of study used, one dot per student.

Titles carry the student's name when the report has one (``student_name``), the program's title and the as-of date.
Chinese needs a CJK font: the ``notebook`` extra installs ``mplfonts`` (Noto Sans CJK SC, SIL OFL, inside its wheel),
which is registered with matplotlib by path the first time a picture is drawn; without it a CJK font already on the
system is used (Noto Sans CJK, Source Han Sans, WenQuanYi, SimHei, ...). Nothing is ever downloaded; with no CJK
font at all a ``MissingCJKFont`` warning names the extra. PDFs embed the font as Type 3 (matplotlib's Type 42 would
put the CFF outlines of an ``.otf`` where a PDF reader expects TrueType ones) and SVGs draw text as paths.

Needs the ``notebook`` extra (matplotlib), imported only when a picture is drawn; each figure has its own ``Agg``
canvas (pyplot is not used), so no display is needed and a notebook's backend is left alone. The pictures read a
report's data by attribute only: this module imports nothing of the report models at run time (``AuditReport.plot``
calls down into it).

>>> cohort_counts([])
{}
>>> round(time_used(date(2024, 9, 1), date(2026, 9, 1)), 2)  # 730 days, at 365.25 a year
2.0
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import io
import threading
import warnings
from collections import Counter
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Mapping

from .dates import days_to_years
from .extras import NOTEBOOK_HINT, require
from .labels import DEFAULT_LANG, award_label, group_label, status_label, word

if TYPE_CHECKING:  # pragma: no cover
    from .reports import AuditReport, AuditSummary

COHORT_GROUPS = ("graduated", "eligible", "early", "on_track", "at_risk", "deadline_passed", "suspended",
                 "withdrawn", "not_enrolled")
"""The bars of ``plot_cohort``, in order."""
_COLOURS = {"graduated": "#1b7837", "eligible": "#5aae61", "early": "#a6dba0", "on_track": "#4393c3",
            "at_risk": "#f4a582", "deadline_passed": "#d6604d", "suspended": "#bababa", "withdrawn": "#878787",
            "not_enrolled": "#e0e0e0"}
COHORT_BY = ("status", "program", "entry_year")
"""What ``plot_cohort(..., by=)`` groups the students by: status alone (one bar a group), or each program or entry
year (grouped bars)."""
LOG_SCALE_SPREAD = 20
"""Bars are drawn on a log scale when the largest is this many times the smallest (3 students beside 2,497)."""

CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN", "WenQuanYi Zen Hei",
                "WenQuanYi Micro Hei", "Sarasa Gothic SC", "SimHei", "Microsoft YaHei", "PingFang SC",
                "Noto Sans CJK JP", "Noto Serif CJK SC")
"""CJK fonts looked for on the system (by family name, in this order) when ``mplfonts`` is not installed."""
FONT_PACKAGE = "mplfonts"
FONT_FILE = "fonts/NotoSansCJKsc-Regular.otf"
"""The font of the ``notebook`` extra: ``mplfonts``'s Noto Sans CJK SC, by path inside the installed package."""


class MissingCJKFont(UserWarning):
    """No CJK font was found: Chinese text draws as empty boxes (install the ``notebook`` extra)."""


def bundled_font_file() -> Path | None:
    """The Noto Sans CJK SC file that the ``notebook`` extra's ``mplfonts`` carries (found, not imported), if any."""
    spec = importlib.util.find_spec(FONT_PACKAGE)
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / FONT_FILE
    return path if path.is_file() else None


@functools.cache
def cjk_font() -> str | None:
    """The family name of the CJK font pictures draw with: ``mplfonts``'s (registered with matplotlib's font manager
    the first time), else the first of ``CJK_FAMILIES`` installed on the system; ``None`` when there is none."""
    from matplotlib import font_manager

    bundled = bundled_font_file()
    if bundled is not None:
        font_manager.fontManager.addfont(str(bundled))
        return str(font_manager.FontProperties(fname=str(bundled)).get_name())
    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((family for family in CJK_FAMILIES if family in installed), None)


def _needs_cjk(text: str) -> bool:
    """True when ``text`` holds a character of the CJK blocks (and the like) that Latin fonts lack.

    >>> _needs_cjk("HNJX-2024 → 2056"), _needs_cjk("机电一体化")
    (False, True)
    """
    return any(ord(c) >= 0x2E80 for c in text)


_DRAWING = threading.Lock()
"""Held while a picture is made and saved: matplotlib's settings (``rc_context``) are the process's, so two threads
drawing at once would restore each other's settings mid-picture."""


@contextmanager
def _style(lang: str) -> Iterator[None]:
    """matplotlib's settings for one picture, made and saved inside the block (one picture at a time in the
    process): the CJK font first, Type 3 fonts in PDFs, text as paths in SVGs, an ASCII minus."""
    word("credits", lang)  # an unknown language is refused before anything is drawn
    require("matplotlib")
    import matplotlib

    family = cjk_font()
    settings: Any = {"font.family": "sans-serif", "font.sans-serif": ([family] if family else []) + ["DejaVu Sans"],
                "axes.unicode_minus": False, "pdf.fonttype": 3, "ps.fonttype": 3, "svg.fonttype": "path"}
    with _DRAWING, matplotlib.rc_context(settings):
        yield


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


def _finish(fig: Any, path: str | Path | None, fmt: str | None = None, lang: str = DEFAULT_LANG) -> bytes:
    """The picture's bytes in ``fmt`` (``png``, ``svg`` or ``pdf``), else the format its path's suffix names
    (``PICTURE_FORMATS``), else PNG; written to ``path`` when given. Warns (``MissingCJKFont``) when there is no CJK
    font and the picture is in Chinese or holds a CJK character."""
    from matplotlib.text import Text

    if cjk_font() is None and (lang == "zh" or any(_needs_cjk(t.get_text()) for t in fig.findobj(Text))):
        warnings.warn(f"no CJK font found: Chinese text will draw as empty boxes; {NOTEBOOK_HINT} installs one "
                      "(mplfonts: Noto Sans CJK SC)", MissingCJKFont, stacklevel=3)
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


def _as_of_text(days: Iterable[date], lang: str) -> str:
    """截至 2027-07-01 (or a span of days, when the reports are of several)."""
    days = sorted(set(days))
    if not days:
        return ""
    span = str(days[0]) if len(days) == 1 else f"{days[0]}–{days[-1]}"
    return f"{word('as_of', lang)} {span}"


def _bracket(text: str, inner: str, lang: str) -> str:
    """``text（inner）`` in Chinese, ``text (inner)`` in English; ``inner`` alone when ``text`` is empty or it."""
    if not text or text == inner:
        return inner
    return f"{text}（{inner}）" if lang == "zh" else f"{text} ({inner})"


def student_title(report: "AuditReport", lang: str = DEFAULT_LANG) -> str:
    """The title of a student's picture: her name (when the report has one) and id, then the program's title and
    code, the status (the award for a graduate) and the as-of date."""
    name = getattr(report, "student_name", None)
    who = _bracket(str(name) if name else "", report.student_id, lang)
    program = _bracket(getattr(report, "program_title", "") or "", report.program, lang)
    standing = status_label(report.status, lang)
    if str(report.status) == "graduated" and report.award:
        standing = award_label(report.award, lang)
    return f"{who}\n{program} · {standing} · {word('as_of', lang)} {report.as_of}"


def record_steps(report: "AuditReport") -> list[tuple[date, Decimal]]:
    """The credits of the records the requirement tree counts, summed by date, in date order: each record once (a
    record under a shared requirement is listed there again), records without a date left out."""
    seen: dict[str, tuple[date, Decimal]] = {}
    nodes = [report.requirements]
    while nodes:
        node = nodes.pop()
        nodes.extend(node.children)
        for r in node.records:
            on = getattr(r, "occurred_on", None)
            if on is not None and (r.event_id not in seen or r.credits > seen[r.event_id][1]):
                seen[r.event_id] = (on, r.credits)
    by_day: dict[date, Decimal] = {}
    for on, credits in seen.values():
        by_day[on] = by_day.get(on, Decimal(0)) + credits
    return sorted(by_day.items())


def credit_line(report: "AuditReport") -> tuple[list[date], list[float]] | None:
    """The student's cumulative credits as a step line (x, y; drawn ``steps-post``): from 0 at enrolment, up by each
    day's records (``record_steps``) and never above the credits counted (caps trim), to the end of study (the last
    stage's end) or the audit date; credits the tree does not place by date come in at that end. ``None`` when no
    record has a date (a report from before records kept theirs)."""
    steps = record_steps(report)
    if not steps:
        return None
    total = report.credits.total
    last = report.stages[-1] if report.stages else None
    end = last.end if last is not None and last.end is not None and last.end <= report.as_of else report.as_of
    start = min(report.enrolled_on or steps[0][0], steps[0][0])
    xs, ys, running = [start], [0.0], Decimal(0)
    for on, credits in steps:
        running = min(running + credits, total)
        xs.append(on)
        ys.append(float(running))
    end = max(end, xs[-1])
    if running < total:
        xs.append(end)
        ys.append(float(total))
    xs.append(end)
    ys.append(ys[-1])
    return xs, ys


def _suspensions(report: "AuditReport") -> list[tuple[date, date]]:
    """The spans of suspension (休学): from a stage ended by a suspension to the next stage, or to the audit date."""
    spans = [(a.end, b.start) for a, b in pairwise(report.stages)
             if a.end is not None and a.ended_by == "suspended" and b.start > a.end]
    last = report.stages[-1] if report.stages else None
    if last is not None and last.ended_by == "suspended" and last.end is not None and last.end < report.as_of:
        spans.append((last.end, report.as_of))
    return spans


def plot_student(report: "AuditReport", path: str | Path | None = None, *, fmt: str | None = None,
                 lang: str = DEFAULT_LANG) -> bytes:
    """A picture of the student's cumulative credits, stepping at each record's date, against the program's credit
    total, with suspensions (休学) shaded, graduation marked, the earliest graduation date and the deadline, and the
    projection at the pace so far (cut at the picture's edge, with its date, past the deadline); labelled in Chinese
    (``lang="en"``: English). PNG bytes (an SVG or PDF for a ``.svg`` or ``.pdf`` path, or ``fmt``), written to
    ``path`` when given, and returned."""
    with _style(lang):
        return _finish(_student_figure(report, lang), path, fmt, lang)


def _student_figure(report: "AuditReport", lang: str) -> Any:
    """The figure of ``plot_student``."""
    from matplotlib import dates as mdates

    fig = _figure(9, 4.8)
    ax = fig.subplots()
    _draw_student(ax, report, lang)
    ax.set_title(student_title(report, lang), fontsize=11)
    low, high = ax.get_xlim()  # in days: months name the ticks of a long span, days those of a short one
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=3, maxticks=9))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m" if high - low > 400 else "%Y-%m-%d"))
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0, fontsize=8, frameon=False)
    ax.grid(True, alpha=0.3)
    fig.autofmt_xdate()
    return fig


def _draw_student(ax: Any, report: "AuditReport", lang: str) -> None:
    """The student's picture on ``ax`` (see ``plot_student``)."""
    required, total = float(report.credits.required), float(report.credits.total)
    top = max(required, total, 1.0) * 1.12
    blue = "#2166ac"
    line = credit_line(report)
    if line is not None:
        ax.plot(line[0], line[1], drawstyle="steps-post", color=blue, linewidth=2, label=word("credits_earned", lang))
    else:  # no dated records: the stages' end-points
        for n, stage in enumerate(report.stages):
            ax.plot([stage.start, stage.end or report.as_of],
                    [float(stage.cumulative - stage.credits), float(stage.cumulative)], color=blue, linewidth=2,
                    marker="o", markersize=3, label=word("credits_earned", lang) if n == 0 else None)
        if not report.stages:
            ax.plot([report.as_of], [total], marker="o", color=blue, label=word("credits_earned", lang))
    for n, (since, until) in enumerate(_suspensions(report)):
        ax.axvspan(since, until, color="#bababa", alpha=0.35, label=word("suspended", lang) if n == 0 else None)
        ax.text(since + (until - since) / 2, top * 0.97, word("suspended", lang), ha="center", va="top", fontsize=8,
                color="#555555")
    ax.axhline(required, color="#1b7837", linewidth=1, label=f"{word('program_total', lang)} {required:g}")
    if report.earliest_date is not None:
        ax.axvline(report.earliest_date, color="#999999", linestyle=":", linewidth=1,
                   label=f"{word('earliest', lang)} {report.earliest_date}")
    if report.deadline is not None:
        ax.axvline(report.deadline, color="#b2182b", linewidth=1,
                   label=f"{word('deadline', lang)} {report.deadline}")
    graduated_on = next((s.end for s in report.stages if s.ended_by == "graduated" and s.end is not None), None)
    if graduated_on is not None:
        award = award_label(report.award or "graduation", lang)
        ax.plot([graduated_on], [total], marker="*", markersize=14, color="#1b7837", linestyle="none",
                label=f"{award} {graduated_on}")
    left = min([report.enrolled_on or report.as_of] + [s.start for s in report.stages]
               + ([line[0][0]] if line else []))
    right = max(d for d in (report.as_of, report.deadline, report.earliest_date, graduated_on) if d is not None)
    pad = max(timedelta(days=45), (right - left) / 25)
    right += pad
    _draw_projection(ax, report, lang, right=right, top=top)
    ax.set_xlim(left=left - pad, right=right)
    ax.set_ylim(bottom=0, top=top)
    ax.set_ylabel(word("credits", lang))


def _draw_projection(ax: Any, report: "AuditReport", lang: str, *, right: date, top: float) -> None:
    """The dashed line of the pace so far, from today's credits to the day the total would be in; cut at ``right``
    (the picture's edge) with an arrow and that day's label when it lies beyond."""
    p = report.projection
    if p is None or p.finish_on is None or p.finish_on <= report.as_of:
        return
    required, total = float(report.credits.required), float(report.credits.total)
    label = f"{word('projection', lang)} {p.finish_on}" + (f"（{word('at_risk', lang)}）" if lang == "zh" and p.at_risk
                                                          else f" ({word('at_risk', lang)})" if p.at_risk else "")
    if p.finish_on <= right:
        ax.plot([report.as_of, p.finish_on], [total, required], color="#2166ac", linestyle="--", linewidth=1.5,
                label=label)
        return
    share = (right - report.as_of) / (p.finish_on - report.as_of)
    cut = total + (required - total) * share
    ax.plot([report.as_of, right], [total, cut], color="#2166ac", linestyle="--", linewidth=1.5, label=label)
    past = report.deadline is not None and p.finish_on > report.deadline
    note = (f"{word('past_deadline', lang)}：" if lang == "zh" else f"{word('past_deadline', lang)}: ") if past else ""
    ax.annotate(f"{note}{word('expected', lang)} {p.finish_on}", xy=(right, cut), xytext=(-6, 10),
                textcoords="offset points", ha="right", va="bottom", fontsize=8, color="#b2182b",
                arrowprops={"arrowstyle": "-|>", "color": "#b2182b"})


def _student_count(n: int, lang: str) -> str:
    return word("students_count", lang).format(n=f"{n:,}")


def _count_axis(ax: Any, values: list[int], lang: str) -> None:
    """Integer ticks of students: a log scale (ticks 1, 10, 100, ...) when the bars' spread is ``LOG_SCALE_SPREAD``
    or more, so a bar of 3 beside one of 2,497 is seen; else a linear axis with whole-number ticks."""
    from matplotlib import ticker

    positive = [v for v in values if v > 0]
    label = word("students", lang)
    if positive and max(positive) >= LOG_SCALE_SPREAD * min(positive):
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(ticker.LogLocator(base=10))
        ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _pos: f"{v:,.0f}" if v >= 1 else ""))
        ax.yaxis.set_minor_formatter(ticker.NullFormatter())
        ax.set_ylim(bottom=0.7, top=max(positive) * 3)
        label += f"（{word('log_scale', lang)}）" if lang == "zh" else f" ({word('log_scale', lang)})"
    else:
        ax.yaxis.set_major_locator(ticker.MaxNLocator(integer=True))
        ax.set_ylim(bottom=0, top=max(positive or [1]) * 1.15)
    ax.set_ylabel(label)


def _category(report: "AuditReport | AuditSummary", by: str, lang: str,
              titles: Mapping[str, str] | None = None) -> str:
    """The program (its title when the report has one, or ``titles`` names it) or the entry year of a report, for
    ``plot_cohort(by=)``."""
    if by == "program":
        title = getattr(report, "program_title", "") or (titles or {}).get(report.program, "")
        return _bracket(title, report.program, lang)
    return str(report.enrolled_on.year) if report.enrolled_on is not None else "—"


def plot_cohort(reports: Iterable["AuditReport | AuditSummary"], path: str | Path | None = None, *,
                fmt: str | None = None, lang: str = DEFAULT_LANG, by: str = "status",
                titles: Mapping[str, str] | None = None) -> bytes:
    """A bar chart (of reports, or of summaries: ``audit_all(..., detail="summary")``) of how many students are
    graduated, eligible, early, on track, at risk, past the deadline, suspended, ...: one bar a group (``by="status"``),
    or grouped bars for each program or entry year (``by="program"``, ``by="entry_year"``, from ``enrolled_on``).
    Every bar is labelled with its count, the ticks are whole students (a log scale when 3 stand beside 2,497), the
    title says how many and the as-of date; in Chinese (``lang="en"``: English). PNG bytes (SVG or PDF by the
    path's suffix or ``fmt``), written to ``path`` when given, and returned. ``titles`` (program code → title) names
    the programs of summaries, which carry only the code (``{p.code: p.title for p in catalog.programs}``)."""
    if by not in COHORT_BY:
        raise ValueError(f"unknown cohort grouping {by!r}: use one of {', '.join(COHORT_BY)}")
    reports = list(reports)
    with _style(lang):
        return _finish(_cohort_figure(reports, lang, by, titles), path, fmt, lang)


def _cohort_figure(reports: list["AuditReport | AuditSummary"], lang: str, by: str,
                   titles: Mapping[str, str] | None = None) -> Any:
    """The figure of ``plot_cohort``."""
    key = {"status": "cohort", "program": "cohort_by_program", "entry_year": "cohort_by_entry_year"}[by]
    title = " · ".join(t for t in (word(key, lang), _student_count(len(reports), lang),
                                    _as_of_text((r.as_of for r in reports), lang)) if t)
    counts = cohort_counts(reports)
    groups = list(counts)
    if by == "status":
        fig = _figure(8, 4.2)
        ax = fig.subplots()
        labels = [group_label(g, lang) for g in groups] or [word("total", lang)]
        values = [counts[g] for g in groups] or [0]
        bars = ax.bar(labels, values, color=[_COLOURS.get(g, "#cccccc") for g in groups] or ["#cccccc"])
        ax.bar_label(bars, labels=[f"{v:,}" for v in values], fontsize=9)
        ax.tick_params(axis="x", labelrotation=20)
        _count_axis(ax, values, lang)
    else:
        categories = sorted({_category(r, by, lang, titles) for r in reports})
        table = Counter((_category(r, by, lang, titles), cohort_group(r)) for r in reports)
        fig = _figure(min(16.0, max(8.0, 0.45 * len(categories) * max(len(groups), 1) + 3)), 4.6)
        ax = fig.subplots()
        width = 0.8 / max(len(groups), 1)
        values = []
        for i, g in enumerate(groups):
            xs = [n + (i - (len(groups) - 1) / 2) * width for n, c in enumerate(categories) if table[c, g]]
            heights = [table[c, g] for c in categories if table[c, g]]
            values += heights
            bars = ax.bar(xs, heights, width=width, color=_COLOURS.get(g, "#cccccc"), label=group_label(g, lang))
            ax.bar_label(bars, labels=[f"{v:,}" for v in heights], fontsize=7)
        ax.set_xticks(range(len(categories)), categories)
        ax.set_xlabel(word("program" if by == "program" else "entry_year", lang))
        ax.tick_params(axis="x", labelrotation=20 if by == "program" else 0)
        _count_axis(ax, values, lang)
        if groups:
            ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0, fontsize=8, frameon=False)
    ax.set_title(title, fontsize=11)
    return fig


def time_used(enrolled_on: date, as_of: date) -> float:
    """Years of study used from enrolment to ``as_of`` (365.25 days a year, as ``dates`` counts them)."""
    return float(days_to_years((as_of - enrolled_on).days))


WALL_JITTER_YEARS = 0.04
"""How far (in years, either way) a dot of the wall picture is moved sideways, by its student's id: the dots of
one intake audited on one day would otherwise stand on one vertical line and hide each other."""


def wall_jitter(student_id: str) -> float:
    """A dot's sideways move on the wall picture: the same for the same student on every run (from a hash of the
    id), within ``WALL_JITTER_YEARS`` either way.

    >>> wall_jitter("李娜-2025") == wall_jitter("李娜-2025"), abs(wall_jitter("S1")) <= WALL_JITTER_YEARS
    (True, True)
    """
    digest = hashlib.blake2b(student_id.encode("utf-8"), digest_size=4).digest()
    return (int.from_bytes(digest, "big") / 0xFFFFFFFF * 2 - 1) * WALL_JITTER_YEARS


def _credit_figures(report: "AuditReport | AuditSummary") -> tuple[float, float]:
    """Credits counted and the program's total, of a report (``credits``) or a summary (``total``, ``required``)."""
    credits = getattr(report, "credits", None)
    if credits is not None:
        return float(credits.total), float(credits.required)
    summary: Any = report
    return float(summary.total), float(summary.required)


def plot_wall(reports: Iterable["AuditReport | AuditSummary"], path: str | Path | None = None, *,
              fmt: str | None = None, lang: str = DEFAULT_LANG) -> bytes:
    """The picture an office pins on a wall: credits earned (y) against the years of study used (x, from
    enrolment to each audit's date), one dot per student, coloured by cohort group (``COHORT_GROUPS``), with each
    program total as a horizontal line; of reports or of summaries (``audit_all(..., detail="summary")``). Students
    with no enrolment are counted in the title, not drawn. In Chinese (``lang="en"``: English); PNG bytes (SVG or
    PDF by the path's suffix or ``fmt``), written to ``path`` when given, and returned."""
    reports = list(reports)
    with _style(lang):
        return _finish(_wall_figure(reports, lang), path, fmt, lang)


def _wall_figure(reports: list["AuditReport | AuditSummary"], lang: str) -> Any:
    """The figure of ``plot_wall``."""
    shown = [(r, r.enrolled_on) for r in reports if r.enrolled_on is not None]
    hidden = len(reports) - len(shown)
    parts = [word("wall", lang), _student_count(len(reports), lang), _as_of_text((r.as_of for r in reports), lang)]
    if hidden:
        parts.append(f"{word('not_shown', lang)} {hidden}")
    fig = _figure(9, 5)
    ax = fig.subplots()
    points: dict[str, list[tuple[float, float]]] = {}
    totals: dict[float, set[str]] = {}
    for r, enrolled_on in shown:
        earned, required = _credit_figures(r)
        totals.setdefault(required, set()).add(r.program)
        x = time_used(enrolled_on, r.as_of) + wall_jitter(r.student_id)
        points.setdefault(cohort_group(r), []).append((max(x, 0.0), earned))
    size = 36 if len(shown) <= 200 else 12
    for g in COHORT_GROUPS:
        if g in points:
            xs, ys = zip(*points[g], strict=True)
            ax.scatter(xs, ys, s=size, alpha=0.75, color=_COLOURS[g], edgecolors="none",
                       label=f"{group_label(g, lang)} ({len(points[g]):,})")
    for n, required in enumerate(sorted(totals)):
        programs = "、".join(sorted(totals[required])) if len(totals) > 1 else ""
        total_label = f"{word('program_total', lang)} {required:g}"
        ax.axhline(required, color="#1b7837", linewidth=1, linestyle="-" if n % 2 == 0 else "--",
                   label=_bracket(total_label, programs, lang) if programs else total_label)
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0, top=max([*totals, *(y for pts in points.values() for _x, y in pts), 1.0]) * 1.1)
    ax.set_xlabel(word("time_used", lang))
    ax.set_ylabel(word("credits", lang))
    ax.set_title(" · ".join(p for p in parts if p), fontsize=11)
    ax.grid(True, alpha=0.3)
    if points or totals:
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0, fontsize=8, frameon=False)
    return fig
