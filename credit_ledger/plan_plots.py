"""A picture of a study plan (学习计划): the class hours planned term by term against the hours a term, and the
terms against the flexible-schooling deadline (弹性学制).

Each planned term is a bar of its hours (a skipped term is a grey mark at zero), the worker's hours a term a
horizontal line; the title says when the plan graduates and the deadline, and a term that ends after the deadline
is red. Drawn with the helpers of ``plots`` (its own Agg canvas, the CJK font, PNG, SVG or PDF by the path's
suffix); the words come from ``labels`` (Chinese by default, ``lang="en"``). Reads the plan by attribute only.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .labels import word
from .plots import _figure, _finish, _style

if TYPE_CHECKING:  # pragma: no cover
    from .plans import StudyPlan


def plot_plan(plan: "StudyPlan", path: str | Path | None = None, *, lang: str = "zh", fmt: str | None = None) -> bytes:
    """The plan as a picture: hours per term (bars) against ``hours_per_term`` (a line), terms past the deadline in
    red; written to ``path`` when given, and returned."""
    with _style(lang):  # the CJK font, one picture at a time (``plots``)
        return _finish(_plan_figure(plan, lang), path, fmt, lang)


def _plan_figure(plan: "StudyPlan", lang: str) -> Any:
    """The figure of ``plot_plan``."""
    fig = _figure(8, 4)
    ax = fig.subplots()
    names = [f"{word(t.name, lang)}\n{t.start:%Y-%m}" for t in plan.terms] or [word("nothing_to_plan", lang)]
    hours = [float(t.hours) for t in plan.terms] or [0.0]
    colours: list[Any] = []
    for t in plan.terms:
        late = plan.deadline is not None and t.end > plan.deadline
        colours.append("#d6604d" if late else "#bababa" if t.skipped else "#4393c3")
    bars = ax.bar(range(len(names)), hours, color=colours or ["#e0e0e0"])
    many = word("courses", lang)
    ax.bar_label(bars, labels=[" ".join(t.courses) if len(t.courses) <= 2 else f"{len(t.courses)} {many}"
                               for t in plan.terms] or [""], fontsize=7)
    ax.axhline(float(plan.hours_per_term), color="#1b7837", linewidth=1,
               label=f"{word('hours_per_term', lang)} {plan.hours_per_term}")
    ax.set_xticks(range(len(names)), names, fontsize=8)
    ax.set_ylabel(word("hours", lang))
    end = plan.graduation_date.isoformat() if plan.graduation_date else "-"
    title = f"{plan.student_id} {plan.program}: {word('graduation_date', lang)} {end}"
    if plan.deadline is not None:
        title += f", {word('deadline', lang)} {plan.deadline}"
    ax.set_title(title)
    ax.legend(loc="upper right", fontsize=8)
    ax.grid(True, axis="y", alpha=0.3)
    return fig
