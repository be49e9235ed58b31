"""A study plan shown: as a pandas frame (a row per planned course), as a picture term by term against the deadline
(PNG, SVG by the path's suffix), in the demo after the first audit, and in the worker's example."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

import credit_ledger as cl
from credit_ledger import demo
from notebook_extra import needs_cjk_font, needs_notebook
from scripts import load_script

START = date(2026, 9, 1)


@pytest.fixture(scope="module")
def plan() -> cl.StudyPlan:
    catalog = cl.Catalog.sample()
    return cl.plan(catalog.program("HNJX", "CNC-TECH-2025"), [], catalog, start=START, hours_per_term=160,
                   skip_terms=[date(2027, 4, 1)])


def test_a_skipped_term_is_listed_empty(plan):
    assert [t.skipped for t in plan.terms][:2] == [False, True] and plan.terms[1].courses == ()


@needs_notebook
def test_to_pandas_has_a_row_per_course_and_one_per_empty_term(plan):
    frame = plan.to_pandas()
    assert list(frame.columns) == ["term_no", "term", "start", "end", "skipped", "course", "term_hours",
                                   "term_credits"]
    assert list(frame["course"].dropna()) == list(plan.courses())
    assert len(frame) == len(plan.courses()) + sum(1 for t in plan.terms if not t.courses)
    assert frame.loc[frame["skipped"], "course"].isna().all()


@needs_notebook
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_plot_writes_a_png_and_an_svg(plan, tmp_path, lang):
    png = plan.plot(tmp_path / "plan.png", lang=lang)
    assert png.startswith(b"\x89PNG") and (tmp_path / "plan.png").read_bytes() == png
    svg = plan.plot(tmp_path / "plan.svg", lang=lang)
    assert b"<svg" in svg[:500]


@needs_cjk_font
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_plan_picture_has_no_missing_glyph(plan, lang):
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plan.model_copy(update={"student_id": "王芳"}).plot(lang=lang)
    trouble = [str(w.message) for w in caught if "glyph" in str(w.message).lower() or "font" in str(w.message).lower()]
    assert not trouble, trouble


@needs_notebook
def test_plot_refuses_an_unknown_language(plan):
    with pytest.raises(ValueError, match="fr"):
        plan.plot(lang="fr")


def test_text_and_html_escape_and_translate(plan):
    assert "不学习" in plan.to_text() and "skipped" in plan.to_text(lang="en")
    html = plan.to_html(lang="en")
    assert "<table>" in html and "autumn" in html
    odd = plan.model_copy(update={"student_id": "<b>x</b>"})
    assert "<b>x</b>" not in odd.to_html() and "&lt;b&gt;x&lt;/b&gt;" in odd.to_html()


def test_demo_prints_her_plan_after_the_first_audit(tmp_path):
    text = demo.render(demo.run(str(tmp_path / "demo.db")))
    first, plan_at, second = (text.index(f"Audit of {demo.MIDWAY}"), text.index("学习计划"),
                              text.index(f"Audit of {demo.GRADUATION}"))
    assert first < plan_at < second
    assert "秋季 2026-09-01..2027-01-20" in text and "可行" in text


def test_worker_example_saves_a_term_with_the_certificate():
    path = Path(__file__).parent.parent / "examples" / "worker_plan.py"
    before, after = load_script(path).main(None)
    assert before.feasible and after.feasible
    assert len(after.terms) == len(before.terms) - 1
    assert all(t.hours <= Decimal(100) for t in before.terms + after.terms)
    assert before.terms[1].skipped and before.terms[1].courses == ()
