"""Text and HTML of a study plan (学习计划), in Chinese by default (``lang="en"``: English), over the plan's values.

>>> from datetime import date
>>> from decimal import Decimal
>>> from credit_ledger.plans import PlannedTerm, StudyPlan
>>> term = PlannedTerm(name="秋季", start=date(2026, 9, 1), end=date(2027, 1, 20), courses=("MT201",),
...                    hours=Decimal(96), credits=Decimal(6))
>>> plan = StudyPlan(student_id="W1", program="MECH-PT-2024", institution="HNJX", start=date(2026, 9, 1),
...                  hours_per_term=Decimal(120), feasible=True, terms=(term,), graduation_date=date(2027, 1, 20))
>>> print(plan_text(plan, lang="en").splitlines()[2])
  1. autumn 2026-09-01..2027-01-20  96 hours, 6 credits: MT201
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from .labels import word

if TYPE_CHECKING:  # pragma: no cover
    from .plans import StudyPlan


def _fmt(value: object) -> str:
    text = str(value)
    return text[:-2] if text.endswith(".0") else text


def plan_text(plan: "StudyPlan", lang: str = "zh") -> str:
    """The plan as lines of text: a heading, one line per term, the dates and the issues."""
    w = lambda key: word(key, lang)  # noqa: E731 - a short alias in a renderer
    state = w("feasible") if plan.feasible else w("not_feasible")
    lines = [f"{w('plan')} {plan.student_id} {plan.program} ({plan.institution}) — {state}",
             f"{w('start')} {plan.start}, {w('hours_per_term')} {_fmt(plan.hours_per_term)}"]
    for i, t in enumerate(plan.terms, start=1):
        what = f"{w('skipped')}" if t.skipped else (", ".join(t.courses) or "—")
        lines.append(f"  {i}. {w(t.name)} {t.start}..{t.end}  {_fmt(t.hours)} {w('hours')}, "
                     f"{_fmt(t.credits)} {w('credits')}: {what}")
    if not plan.terms:
        lines.append(f"  {w('nothing_to_plan') if plan.feasible else '—'}")
    lines.append(f"{w('graduation_date')}: {plan.graduation_date or '—'}; {w('earliest')}: "
                 f"{plan.earliest_date or '—'}; {w('deadline')}: {plan.deadline or '—'}")
    lines.append(f"{w('min_hours_per_term')}: "
                 f"{_fmt(plan.min_hours_per_term) if plan.min_hours_per_term is not None else '—'}")
    for issue in plan.issues:
        lines.append(f"! {issue.code}: {issue.message}")
    return "\n".join(lines)


def plan_html(plan: "StudyPlan", lang: str = "zh") -> str:
    """The plan as an HTML fragment: a table of terms, the dates and the issues (every value escaped)."""
    w = lambda key: escape(word(key, lang))  # noqa: E731 - a short alias in a renderer
    rows = "".join(
        f"<tr><td>{i}</td><td>{w(t.name)}</td><td>{t.start}</td><td>{t.end}</td>"
        f"<td>{w('skipped') if t.skipped else escape(', '.join(t.courses))}</td><td>{_fmt(t.hours)}</td>"
        f"<td>{_fmt(t.credits)}</td></tr>" for i, t in enumerate(plan.terms, start=1))
    issues = "".join(f"<li><code>{escape(i.code)}</code> {escape(i.message)}</li>" for i in plan.issues)
    state = w("feasible") if plan.feasible else w("not_feasible")
    least = _fmt(plan.min_hours_per_term) if plan.min_hours_per_term is not None else "—"
    return (f'<div class="study-plan"><h3>{w("plan")} {escape(plan.student_id)} {escape(plan.program)} — {state}</h3>'
            f"<table><thead><tr><th>#</th><th>{w('term')}</th><th>{w('start')}</th><th>{w('deadline')}</th>"
            f"<th>{w('course')}</th><th>{w('hours')}</th><th>{w('credits')}</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
            f"<p>{w('graduation_date')}: {plan.graduation_date or '—'}; {w('earliest')}: {plan.earliest_date or '—'}; "
            f"{w('deadline')}: {plan.deadline or '—'}; {w('min_hours_per_term')}: {least}</p>"
            + (f"<ul>{issues}</ul>" if issues else "") + "</div>")
