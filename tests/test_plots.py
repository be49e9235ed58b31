"""Pictures: a student's credits stage by stage and a cohort's standing, as PNG bytes and files. Drawing needs the
``notebook`` extra (matplotlib): those tests skip without it; grouping a cohort and the missing-extra error do not."""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
import sys
import warnings
import zlib
from collections import Counter
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal

import pytest
from typer.testing import CliRunner

import credit_ledger as cl
from credit_ledger import demo, plots
from credit_ledger.cli import app
from credit_ledger.reports import Projection
from credit_ledger.plots import COHORT_GROUPS, cohort_counts, cohort_group, plot_cohort, plot_student
from notebook_extra import needs_cjk_font, needs_matplotlib

PNG = b"\x89PNG"


@pytest.fixture(scope="module")
def demo_ledger() -> cl.Ledger:
    led = demo.run(None)
    yield led
    led.close()


@needs_matplotlib
@pytest.mark.parametrize("day", [demo.MIDWAY, demo.GRADUATION, date(2024, 9, 2)])
def test_plot_student_returns_a_png_and_writes_it(demo_ledger, tmp_path, day):
    report = demo_ledger.audit(demo.STUDENT, as_of=day)
    path = tmp_path / "student.png"
    png = plot_student(report, path)
    assert png[:4] == PNG and path.read_bytes() == png


@needs_matplotlib
def test_plot_student_without_a_path_writes_nothing(demo_ledger, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert plot_student(demo_ledger.audit(demo.STUDENT, as_of=demo.MIDWAY))[:4] == PNG
    assert list(tmp_path.iterdir()) == []


@needs_matplotlib
def test_plot_cohort_returns_a_png_and_writes_it(demo_ledger, tmp_path):
    reports = [demo_ledger.audit(demo.STUDENT, as_of=day) for day in (demo.MIDWAY, demo.GRADUATION)]
    path = tmp_path / "cohort.png"
    png = plot_cohort(reports, path)
    assert png[:4] == PNG and path.read_bytes() == png
    assert plot_cohort([])[:4] == PNG


def test_cohort_groups(demo_ledger):
    midway = demo_ledger.audit(demo.STUDENT, as_of=demo.MIDWAY)
    final = demo_ledger.audit(demo.STUDENT, as_of=demo.GRADUATION)
    suspended = demo_ledger.audit(demo.STUDENT, as_of=date(2025, 12, 1))
    assert cohort_group(midway) == "on_track" and cohort_group(final) == "graduated"
    assert cohort_group(suspended) == "suspended"
    at_risk = midway.model_copy(update={"issues": (cl.Issue(code="at_risk_deadline", message="late"),)})
    assert cohort_group(at_risk) == "at_risk"
    early = midway.model_copy(update={"status": cl.AuditStatus.TOO_EARLY})
    assert cohort_group(early) == "early"
    counts = cohort_counts([midway, final, suspended, at_risk, early, final])
    assert counts == {"graduated": 2, "early": 1, "on_track": 1, "at_risk": 1, "suspended": 1}
    assert list(counts) == [g for g in COHORT_GROUPS if g in counts]


def test_plots_without_matplotlib_name_the_extra(demo_ledger, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"credit-ledger\[notebook\]"):
        plot_cohort([])


@needs_matplotlib
def test_a_report_draws_itself_for_a_notebook(tmp_path):
    from credit_ledger import demo

    ledger = demo.run()
    report = ledger.audit(demo.STUDENT, as_of=demo.GRADUATION)
    png = report.plot(tmp_path / "report.png")
    assert png.startswith(b"\x89PNG") and (tmp_path / "report.png").read_bytes() == png


# --- issue 14: Chinese first, better pictures, the wall picture ------------------------------------------------------


CN_STUDENT = "李娜-2025"
GLYPH_TROUBLE = re.compile(r"glyph|missing from font|findfont|CJK", re.IGNORECASE)


@pytest.fixture(scope="module")
def cn_ledger() -> cl.Ledger:
    """The demo's student under a Chinese id (the program's title is 机电一体化（高级工，非全日制）)."""
    led = cl.Ledger.open(None)
    led.load_catalog(cl.Catalog.sample())
    led.append_many([e.model_copy(update={"student_id": CN_STUDENT,
                                          "event_id": e.event_id.replace(demo.STUDENT, CN_STUDENT)})
                     for e in demo.demo_events()])
    yield led
    led.close()


def _named(report, name="李娜"):
    """The report as the roster helper's reports carry a name (read by attribute, whether the field exists or not)."""
    return report.model_copy(update={"student_name": name})


def _slow(report):
    """The report with a pace that would finish in 2056, far past the 2030 deadline."""
    return report.model_copy(update={"projection": Projection(
        rate_per_year=Decimal("1.50"), remaining=report.credits.required - report.credits.total,
        finish_on=date(2056, 7, 1), graduate_on=date(2056, 7, 1), at_risk=True)})


def _cohort(base, n=2500, *, small=3):
    """``n`` summaries of two programs and three intakes: mostly on track, ``small`` past the deadline."""
    rows = []
    for i in range(n):
        status = "deadline_passed" if i < small else ("graduated" if i % 50 == 0 else "requirements_missing")
        year = 2022 + i % 3
        program = "MECH-PT-2024" if i % 2 else "数控-2023"
        rows.append(base.model_copy(update={
            "student_id": f"学生{i:04d}", "status": cl.AuditStatus(status), "program": program,
            "enrolled_on": date(year, 9, 1), "total": Decimal(20 + i % 70), "required": Decimal(90 if i % 2 else 120),
            "issue_codes": ("at_risk_deadline",) if i % 9 == 0 else ()}))
    return rows


@contextmanager
def no_missing_glyphs(caplog):
    """Fail on any missing-glyph (or missing-font) warning, whether matplotlib says it by ``warnings`` or logging."""
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.DEBUG, logger="matplotlib"):
        warnings.simplefilter("always")
        yield
    said = [str(w.message) for w in caught] + [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    trouble = [m for m in said if GLYPH_TROUBLE.search(m)]
    assert not trouble, trouble


def _every_picture(cn_ledger, lang, fmt):
    """Every picture the module draws, of the Chinese-named student and a cohort of Chinese ids and titles."""
    midway, final = (cn_ledger.audit(CN_STUDENT, as_of=d) for d in (demo.MIDWAY, demo.GRADUATION))
    suspended = cn_ledger.audit(CN_STUDENT, as_of=date(2025, 12, 1))
    cohort = _cohort(midway.summary(), 40) + [midway, final]
    yield plots.plot_student(_named(midway), fmt=fmt, lang=lang)
    yield plots.plot_student(_slow(_named(midway)), fmt=fmt, lang=lang)
    yield plots.plot_student(final, fmt=fmt, lang=lang)
    yield plots.plot_student(suspended, fmt=fmt, lang=lang)
    for by in plots.COHORT_BY:
        yield plots.plot_cohort(cohort, fmt=fmt, lang=lang, by=by)
    yield plots.plot_wall(cohort, fmt=fmt, lang=lang)
    yield final.plot(fmt=fmt, lang=lang)


@needs_cjk_font
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_picture_draws_chinese_without_a_missing_glyph(cn_ledger, caplog, lang):
    with no_missing_glyphs(caplog):
        pictures = list(_every_picture(cn_ledger, lang, "png"))
    assert all(p[:4] == PNG for p in pictures) and len(pictures) == 9


@needs_matplotlib
def test_the_glyph_check_fails_without_a_cjk_font(cn_ledger, caplog, monkeypatch):
    # the check above can fail: with no CJK font, Chinese text is missing glyphs, and the library says which extra
    monkeypatch.setattr(plots, "cjk_font", lambda: None)
    report = cn_ledger.audit(CN_STUDENT, as_of=demo.MIDWAY)
    with pytest.raises(AssertionError, match="(?i)glyph"), no_missing_glyphs(caplog):
        plots.plot_student(report)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plots.plot_student(report, lang="en")  # English labels, but the student's id and program are Chinese
    said = [str(w.message) for w in caught if w.category is plots.MissingCJKFont]
    assert len(said) == 1 and "pip install 'credit-ledger[notebook]'" in said[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error", plots.MissingCJKFont)
        plots.plot_cohort([], lang="en")  # nothing Chinese to draw: no warning


@needs_matplotlib
def test_the_cjk_font_is_the_extras_by_path_else_one_on_the_system(monkeypatch):
    from matplotlib import font_manager

    bundled = plots.bundled_font_file()
    if bundled is not None:
        assert bundled.name == "NotoSansCJKsc-Regular.otf" and plots.cjk_font() == "Noto Sans CJK SC"
    fake = [font_manager.FontEntry(fname="/nowhere/wqy.ttc", name="WenQuanYi Zen Hei")]
    monkeypatch.setattr(plots, "bundled_font_file", lambda: None)
    try:
        plots.cjk_font.cache_clear()
        monkeypatch.setattr(font_manager.fontManager, "ttflist", fake)
        assert plots.cjk_font() == "WenQuanYi Zen Hei"
        plots.cjk_font.cache_clear()
        monkeypatch.setattr(font_manager.fontManager, "ttflist", [])
        assert plots.cjk_font() is None
    finally:
        monkeypatch.undo()
        plots.cjk_font.cache_clear()


@needs_cjk_font
def test_pictures_drawn_in_threads_keep_their_font(cn_ledger, caplog):
    from concurrent.futures import ThreadPoolExecutor

    report = cn_ledger.audit(CN_STUDENT, as_of=demo.MIDWAY)
    with no_missing_glyphs(caplog), ThreadPoolExecutor(4) as pool:
        pictures = list(pool.map(lambda lang: plots.plot_student(report, lang=lang), ["zh", "en"] * 4))
    assert all(p[:4] == PNG for p in pictures) and pictures[0] == pictures[2]


def _pdf_fonts(pdf: bytes) -> tuple[set[bytes], list[bytes]]:
    """The font subtypes of a PDF, and the first bytes of each embedded TrueType font file (FontFile2)."""
    subtypes = set(re.findall(rb"/Subtype\s*/(Type3|Type0|TrueType|Type1|CIDFontType[02])", pdf))
    heads = []
    for m in re.finditer(rb"/Length1 \d+ /Length (\d+) /Filter /FlateDecode >>\nstream\n", pdf):
        heads.append(zlib.decompress(pdf[m.end():m.end() + int(m.group(1))])[:4])
    return subtypes, heads


@needs_cjk_font
@pytest.mark.parametrize("fmt", ["png", "svg", "pdf"])
def test_every_picture_in_every_format_with_the_cff_font(cn_ledger, caplog, tmp_path, fmt):
    with no_missing_glyphs(caplog):
        pictures = list(_every_picture(cn_ledger, "zh", fmt))
    magic = {"png": PNG, "svg": b"<?xml", "pdf": b"%PDF"}[fmt]
    assert all(p.startswith(magic) for p in pictures)
    if fmt == "svg":  # text drawn as paths: it shows without the font on the reader's machine
        assert all(b"<text" not in p and b"<path" in p for p in pictures)
    if fmt == "pdf":  # Type 3: a CFF (.otf) font is never embedded where a reader expects TrueType outlines
        for p in pictures:
            subtypes, heads = _pdf_fonts(p)
            assert subtypes == {b"Type3"} and b"OTTO" not in heads
        if shutil.which("pdftotext") and shutil.which("pdffonts"):  # poppler reads it as written, and finds the text
            path = tmp_path / "student.pdf"
            path.write_bytes(pictures[0])
            fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True)
            text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True)
            assert "Type 3" in fonts.stdout and not fonts.stderr and not text.stderr
            assert "李娜" in text.stdout and "机电一体化" in text.stdout and "学分" in text.stdout


# the student's picture


def test_the_credit_line_steps_at_each_records_date(cn_ledger):
    report = cn_ledger.audit(CN_STUDENT, as_of=demo.MIDWAY)
    dated = {r.event_id: r.occurred_on for r in cn_ledger.transcript(CN_STUDENT, as_of=demo.MIDWAY).records}
    steps = plots.record_steps(report)
    assert [d for d, _ in steps] == sorted({d for d, _ in steps})
    assert {d for d, _ in steps} <= set(dated.values())
    xs, ys = plots.credit_line(report)
    assert ys[0] == 0 and xs[0] == report.enrolled_on
    assert xs == sorted(xs) and ys == sorted(ys)
    assert ys[-1] == float(report.credits.total)
    # she earned her last credits on 2026-07-20, not on the audit's day: the line is flat from there on
    last_record = max(dated.values())
    assert xs[ys.index(ys[-1])] == last_record < report.as_of and xs[-1] == report.as_of


def test_the_credit_line_counts_a_record_once_and_never_above_the_total(cn_ledger):
    report = cn_ledger.audit(CN_STUDENT, as_of=demo.MIDWAY)
    tree = report.requirements
    twice = report.model_copy(update={"requirements": tree.model_copy(update={"children": tree.children * 2})})
    assert plots.record_steps(twice) == plots.record_steps(report)
    capped = report.model_copy(update={"credits": report.credits.model_copy(update={"total": Decimal("30.00")})})
    assert max(plots.credit_line(capped)[1]) == 30.0
    more = report.model_copy(update={"credits": report.credits.model_copy(update={"total": Decimal("50.00")})})
    xs, ys = plots.credit_line(more)  # credits the tree does not date come in at the line's end
    assert ys[-1] == 50.0 and xs[-1] == report.as_of


def _undated(report):
    def strip(node):
        return node.model_copy(update={"records": tuple(r.model_copy(update={"occurred_on": None})
                                                        for r in node.records),
                                       "children": tuple(strip(c) for c in node.children)})
    return report.model_copy(update={"requirements": strip(report.requirements)})


@needs_matplotlib
def test_a_report_without_record_dates_still_draws_its_stages(cn_ledger):
    old = _undated(cn_ledger.audit(CN_STUDENT, as_of=demo.MIDWAY))
    assert plots.credit_line(old) is None and plots.plot_student(old)[:4] == PNG
    # and a report read back from JSON written before records kept their dates
    back = cl.AuditReport.model_validate_json(old.to_json())
    assert back == old and plots.plot_student(back)[:4] == PNG


def _student_axes(report, lang="zh"):
    with plots._style(lang):
        fig = plots._student_figure(report, lang)
        fig.canvas.draw()
    return fig, fig.axes[0]


def _legend_texts(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


@needs_matplotlib
def test_the_title_names_the_student_the_program_and_the_day(cn_ledger):
    report = cn_ledger.audit(CN_STUDENT, as_of=demo.MIDWAY)
    title = plots.student_title(_named(report))
    assert title.startswith("李娜（李娜-2025）") and "机电一体化" in title and "MECH-PT-2024" in title
    assert "截至 2026-07-31" in title and "要求未满足" in title
    assert plots.student_title(report).startswith(CN_STUDENT + "\n")  # no name known: the id alone
    english = plots.student_title(_named(report), "en")
    assert english.startswith("李娜 (李娜-2025)") and "as of 2026-07-31" in english
    final = cn_ledger.audit(CN_STUDENT, as_of=demo.GRADUATION)
    assert "· 毕业 ·" in plots.student_title(final) and "· graduation ·" in plots.student_title(final, "en")
    _fig, ax = _student_axes(_named(report))
    assert ax.get_title() == title


@needs_matplotlib
def test_graduation_and_suspensions_are_marked(cn_ledger):
    final = cn_ledger.audit(CN_STUDENT, as_of=demo.GRADUATION)
    assert plots._suspensions(final) == [(date(2025, 9, 1), date(2026, 2, 24)), (date(2027, 3, 1), date(2027, 9, 1))]
    _fig, ax = _student_axes(final)
    legend = _legend_texts(ax)
    assert f"毕业 {demo.GRADUATION}" in legend and "休学" in legend and "截止日期 2030-09-01" in legend
    assert [t.get_text() for t in ax.texts].count("休学") == 2  # each span says what it is
    suspended = cn_ledger.audit(CN_STUDENT, as_of=date(2025, 12, 1))
    assert plots._suspensions(suspended) == [(date(2025, 9, 1), date(2025, 12, 1))]  # still suspended: to today
    _fig, ax = _student_axes(final, "en")
    assert f"graduation {demo.GRADUATION}" in _legend_texts(ax) and "suspended" in _legend_texts(ax)


@needs_matplotlib
def test_the_legend_stays_off_the_data(cn_ledger):
    fig, ax = _student_axes(cn_ledger.audit(CN_STUDENT, as_of=demo.GRADUATION))
    renderer = fig.canvas.get_renderer()
    assert ax.get_legend().get_window_extent(renderer).x0 >= ax.get_window_extent(renderer).x1


@needs_matplotlib
def test_a_projection_past_the_deadline_is_cut_at_the_edge_and_says_so(cn_ledger):
    report = _slow(cn_ledger.audit(CN_STUDENT, as_of=demo.MIDWAY))
    from matplotlib import dates as mdates

    _fig, ax = _student_axes(report)
    left, right = (mdates.num2date(x).date() for x in ax.get_xlim())
    assert report.deadline < right < date(2032, 1, 1)  # within sight of the 2030 deadline, not stretched to 2056
    notes = [t.get_text() for t in ax.texts]
    assert any(n.startswith("超过截止日期") and "2056-07-01" in n for n in notes)
    assert any("2056-07-01" in t and "有超期风险" in t for t in _legend_texts(ax))
    _fig, ax = _student_axes(report, "en")
    assert any(t.get_text().startswith("past the deadline") for t in ax.texts)
    # a pace that finishes in sight draws to its day, with no note
    on_time = cn_ledger.audit(CN_STUDENT, as_of=demo.MIDWAY)
    _fig, ax = _student_axes(on_time)
    assert not any("截止日期" in t.get_text() for t in ax.texts)


# the cohort pictures


def _cohort_axes(rows, lang="zh", by="status"):
    with plots._style(lang):
        fig = plots._cohort_figure(rows, lang, by)
        fig.canvas.draw()
    return fig.axes[0]


def _bar_labels(ax):
    return [t.get_text() for t in ax.texts]


@needs_matplotlib
def test_the_cohort_has_whole_students_labels_on_every_bar_and_its_day(cn_ledger):
    base = cn_ledger.audit(CN_STUDENT, as_of=demo.MIDWAY).summary()
    ax = _cohort_axes(_cohort(base, 2500))
    assert ax.get_yscale() == "log"  # 3 beside 2,497 on one axis
    labels = _bar_labels(ax)
    assert "3" in labels and len(labels) == len(ax.patches) == len(plots.cohort_counts(_cohort(base, 2500)))
    assert "截至 2026-07-31" in ax.get_title() and "2,500 名学生" in ax.get_title()
    assert {t.get_text() for t in ax.get_xticklabels()} >= {"已超期", "进度正常", "已毕业"}
    few = _cohort_axes(_cohort(base, 12, small=1), "en")
    assert few.get_yscale() == "linear" and "as of 2026-07-31" in few.get_title()
    ticks = few.get_yticks()
    assert all(float(t).is_integer() for t in ticks) and len(ticks) >= 3  # no half students
    ax = _cohort_axes([])
    assert "0 名学生" in ax.get_title()


@needs_matplotlib
@pytest.mark.parametrize("by", ["program", "entry_year"])
def test_the_cohort_by_program_and_by_entry_year(cn_ledger, by):
    base = cn_ledger.audit(CN_STUDENT, as_of=demo.MIDWAY).summary()
    rows = _cohort(base, 300)
    ax = _cohort_axes(rows, by=by)
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert ticks == (["MECH-PT-2024", "数控-2023"] if by == "program" else ["2022", "2023", "2024"])
    heights = sorted(int(p.get_height()) for p in ax.patches)
    expected = Counter((r.program if by == "program" else r.enrolled_on.year, plots.cohort_group(r)) for r in rows)
    assert heights == sorted(expected.values()) and sum(heights) == 300
    assert len(_bar_labels(ax)) == len(ax.patches)  # every bar, the small ones too
    report = cn_ledger.audit(CN_STUDENT, as_of=demo.MIDWAY)  # a report knows its program's title
    ticks = [t.get_text() for t in _cohort_axes([report], by="program").get_xticklabels()]
    assert ticks == ["机电一体化（高级工，非全日制）（MECH-PT-2024）"]
    with plots._style("en"):  # a summary has the code only: titles name it
        fig = plots._cohort_figure([report.summary()], "en", "program", {"MECH-PT-2024": "机电一体化"})
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["机电一体化 (MECH-PT-2024)"]


def test_the_cohort_refuses_an_unknown_grouping_or_language():
    with pytest.raises(ValueError, match="school"):
        plot_cohort([], by="school")
    with pytest.raises(ValueError, match="fr"):
        plot_cohort([], lang="fr")


# the wall picture


@needs_matplotlib
def test_the_wall_has_one_dot_per_student_at_its_time_used(cn_ledger):
    midway = cn_ledger.audit(CN_STUDENT, as_of=demo.MIDWAY)
    rows = _cohort(midway.summary(), 500) + [midway]
    rows.append(rows[0].model_copy(update={"student_id": "未入学", "enrolled_on": None, "status": "not_enrolled"}))
    with plots._style("zh"):
        fig = plots._wall_figure(rows, "zh")
        fig.canvas.draw()
    ax = fig.axes[0]
    dots = [c.get_offsets() for c in ax.collections]
    assert sum(len(d) for d in dots) == 501  # the one never enrolled is counted in the title, not drawn
    assert "502 名学生" in ax.get_title() and "未显示 1" in ax.get_title() and "截至 2026-07-31" in ax.get_title()
    for r in rows[:-1]:
        assert abs(plots.wall_jitter(r.student_id)) <= plots.WALL_JITTER_YEARS
    xs = sorted({round(float(x)) for d in dots for x, _y in d})
    assert xs == [2, 3, 4]  # intakes of 2022-2024, two to four years used by 2026-07-31
    ys = sorted(float(y) for d in dots for _x, y in d)
    expected = sorted([float(r.total) for r in rows[:-2]] + [float(midway.credits.total)])
    assert ys == expected
    totals = sorted(line.get_ydata()[0] for line in ax.lines)
    assert totals == [90.0, 120.0]
    assert any(t.startswith("进度正常 (") for t in _legend_texts(ax))
    assert plot_wall_png(rows)[:4] == PNG


def plot_wall_png(rows):
    return cl.plot_wall(rows, lang="en")


# the command


@needs_matplotlib
def test_the_plot_command_draws_the_wall_and_the_cohort_by_program(tmp_path):
    runner = CliRunner()
    db = str(tmp_path / "demo.db")
    assert runner.invoke(app, ["demo", "--db", db]).exit_code == 0
    for args, name in ((["--cohort", "--wall"], "wall.svg"), (["--cohort", "--by", "entry_year"], "years.pdf"),
                       (["--cohort", "--by", "program", "--lang", "en"], "programs.png"),
                       ([demo.STUDENT, "--lang", "en"], "student.png")):
        out = tmp_path / name
        result = runner.invoke(app, ["plot", *args, "--db", db, "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert out.read_bytes()[:4] in (PNG, b"<?xm", b"%PDF")
    for args, said in ((["--cohort", "--by", "school"], "--by school"), (["--cohort", "--lang", "fr"], "--lang 'fr'"),
                       ([demo.STUDENT, "--wall"], "--cohort"), (["--cohort", "--wall", "--by", "program"], "one")):
        out = tmp_path / "refused.png"
        result = runner.invoke(app, ["plot", *args, "--db", db, "--out", str(out)])
        assert result.exit_code == 1 and said in result.output and not out.exists()


@needs_matplotlib
def test_the_students_picture_draws_on_every_day_of_her_study(cn_ledger):
    # before enrolment, in each period and suspension, at graduation and long after: a picture, and a line that
    # ends at the credits counted
    day = date(2024, 6, 1)
    while day < date(2031, 1, 1):
        report = cn_ledger.audit(CN_STUDENT, as_of=day, program="MECH-PT-2024")
        line = plots.credit_line(report)
        assert line is None or line[1][-1] == float(report.credits.total)
        assert plots.plot_student(report, lang="zh" if day.month < 7 else "en")[:4] == PNG, day
        _fig, ax = _student_axes(report)
        ticks = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
        assert len(ticks) >= 3 and len(set(ticks)) == len(ticks), (day, ticks)  # no tick named twice
        day += timedelta(days=173)
