"""The printable audit (毕业资格审核表, issue 14): ``report.to_html()`` is a whole page, and a real browser shows it.

The page is checked as text first (a whole document, UTF-8, an A4 print stylesheet, the student, the verdict, the
credits by origin, the tree with ✓/✗, the stages picture inline as SVG or a note without matplotlib, what shaped the
verdict, a signature block; every catalog text escaped), then in headless Chromium (Debian's package): it loads
with no console error, its screenshot is not blank, its text holds the title and the student, and it prints to an
A4 PDF. Without Chromium the browser tests skip, unless ``CREDIT_LEDGER_TEST_BROWSER_REQUIRED=1`` (set by
``.ci/run``) makes its absence a failure. The check can fail: a page with a deliberate console error is caught.
"""

from __future__ import annotations

import html
import io
import os
import re
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import credit_ledger as cl
from credit_ledger import demo
from credit_ledger.labels import word
from credit_ledger.page import audit_page, svg_element
from credit_ledger.render import _aside, stages_table
from credit_ledger.records import CreditRecord, Excluded
from credit_ledger.reports import AppliedException, RequirementResult
import audit_strategies as ax
from browser import Chromium, chromium_path
from html_tags import balanced
from notebook_extra import needs_matplotlib

BROWSER_REQUIRED_ENV = "CREDIT_LEDGER_TEST_BROWSER_REQUIRED"


@pytest.fixture(scope="module")
def demo_ledger() -> Any:
    led = demo.run(None)
    yield led
    led.close()


@pytest.fixture(scope="module")
def midway(demo_ledger) -> cl.AuditReport:
    return demo_ledger.audit(demo.STUDENT, as_of=demo.MIDWAY)


@pytest.fixture(scope="module")
def final(demo_ledger) -> cl.AuditReport:
    return demo_ledger.audit(demo.STUDENT, as_of=demo.GRADUATION)


class Named:
    """A report with a student's name, as the roster will give one (read by attribute, like the report's own)."""

    def __init__(self, report: cl.AuditReport, name: str) -> None:
        self._report, self.student_name = report, name

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._report, attr)




def tree_ids(node: Any) -> set[str]:
    return {node.id, *(i for c in node.children for i in tree_ids(c))}


# -- the page as text ------------------------------------------------------------------------------------------------


def test_the_page_is_a_whole_chinese_document_for_a4(midway):
    page = midway.to_html(picture=False, font=False)
    assert page.startswith("<!DOCTYPE html>\n<html lang='zh-CN'>")
    assert "<meta charset='utf-8'>" in page and "<title>毕业资格审核表 · HNJX-2024-PT-0317</title>" in page
    assert re.search(r"@page\s*\{\s*size:\s*A4;\s*margin:", page)
    assert "break-inside: avoid" in page and "<script" not in page
    seen = balanced(page)
    assert seen[:3] == ["html", "head", "meta"] and "body" in seen
    for words in ("<h1>毕业资格审核表</h1>", "学号", demo.STUDENT, "MECH-PT-2024", midway.program_title, "HNJX",
                  "截至</th><td>2026-07-31", "截止日期</th><td>2030-09-01", "要求未满足", "学分构成",
                  "本校</th><td class='num'>44.00", "尚缺学分</th><td class='num'>46.00", "审核依据",
                  "审核人：", "日期：", "非全日制"):
        assert words in page, words
    for ident in tree_ids(midway.requirements):
        assert f"<b>{ident}</b>" in page
    assert "<li class='unmet'><span class='mark'>✗</span> <b>core-more</b>" in page
    assert "<li class='met'><span class='mark'>✓</span> <b>public</b>" in page
    assert "requirement_unmet" in page and "total_credits_short" in page  # the issues, with their codes


def test_the_page_in_english_keeps_the_english_words(final):
    page = final.to_html("en", picture=False, font=False)
    assert page.startswith("<!DOCTYPE html>\n<html lang='en'>") and "<h1>graduation audit</h1>" in page
    assert "graduation (毕业)" in page and "graduated" in page and "审核人" not in page
    balanced(page)
    with pytest.raises(ValueError, match="unknown language"):
        final.to_html("fr")


def test_the_page_names_the_student_when_the_roster_knows_them(midway):
    named = Named(midway, "李娜")
    page = audit_page(named, picture=False, font=False)
    assert "<th>姓名</th><td>李娜</td>" in page and "<title>毕业资格审核表 · HNJX-2024-PT-0317 李娜</title>" in page
    assert "姓名" not in midway.to_html(picture=False, font=False)
    from credit_ledger.render import report_html, report_text

    assert report_text(named).splitlines()[0].startswith(f"{demo.STUDENT} 李娜 · ")
    assert "李娜" in report_html(named)


def test_the_page_lists_what_shaped_the_verdict(final):
    record = CreditRecord(institution="HNJX", category="专业拓展", course="CERT-1", title="<i>电工</i>证书",
                          credits=Decimal("4.00"), origin="converted", event_id="cert-1", occurred_on=date(2020, 1, 1))
    shaped = final.model_copy(update={
        "excluded": (Excluded(record=record, credits=Decimal("4.00"), code="certificate_expired",
                              message="the certificate expired on 2024-01-01"),),
        "exceptions": (AppliedException(event_id="ex-1", requirement_id="core", action="substitute", course="MT202",
                                        replaces="MT201", applied=False, reason="教务处批准"),
                       AppliedException(event_id="ex-2", requirement_id="practice", action="waive"))})
    page = shaped.to_html(picture=False, font=False)
    balanced(page)
    assert "<code>certificate_expired</code>" in page and "the certificate expired on 2024-01-01" in page
    assert "&lt;i&gt;电工&lt;/i&gt;证书" in page and "<i>" not in page
    assert "以 MT202 替代 MT201" in page and "未应用" in page and "教务处批准" in page
    assert "免修" in page and "已应用" in page
    text = shaped.to_text()
    assert "未计入：" in text and "[certificate_expired]" in text and "以 MT202 替代 MT201 (ex-1) — 未应用" in text
    english = shaped.to_text(lang="en")
    assert "not counted:" in english and "substitute MT202 for MT201 (ex-1) — not applied" in english
    nothing = final.to_html(picture=False, font=False)
    assert nothing.count("<p>无</p>") == 3  # a graduate's audit: no record left out, no exception, no issue
    assert "<p>无</p>" not in page.split("<h3>问题</h3>")[0]


def test_the_page_escapes_catalog_text(midway):
    hostile = RequirementResult(id="<x>", title="<script>alert(1)</script> & 课", kind="credits", satisfied=False,
                                needed=Decimal(1), counted=Decimal(0), unit="credits")
    report = midway.model_copy(update={"requirements": hostile, "program_title": "A<B>&C",
                                       "institution": "<b>学校</b>"})
    page = report.to_html(picture=False, font=False)
    assert "<script>" not in page and "<b>学校</b>" not in page and "A<B>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; 课" in page and "A&lt;B&gt;&amp;C" in page
    assert "script" not in balanced(page)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(title=st.text(max_size=30), ident=st.text(min_size=1, max_size=12), lang=st.sampled_from(["zh", "en"]))
def test_any_text_in_a_requirement_shows_escaped_and_whole(midway, title, ident, lang):
    node = RequirementResult(id=ident, title=title, kind="courses", satisfied=True, needed=Decimal(1),
                             counted=Decimal(1), unit="courses")
    page = midway.model_copy(update={"requirements": node}).to_html(lang, picture=False, font=False)
    balanced(page)
    assert html.escape(title) in page and html.escape(ident) in page
    text = midway.model_copy(update={"requirements": node}).to_text(lang)
    assert f"✓ {ident} {title}  1/1 {'门' if lang == 'zh' else 'courses'}" in text


@needs_matplotlib
def test_the_stages_picture_is_inline_svg(midway):
    page = midway.to_html()
    assert page.count("<svg") == 1 and "<?xml" not in page and "<!DOCTYPE svg" not in page
    assert "<figure class='stages-picture'><svg" in page
    balanced(page)


def test_without_matplotlib_the_page_says_where_the_picture_would_be(midway, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    page = midway.to_html()
    assert "<svg" not in page and "class='note picture-missing'" in page and "matplotlib" in page
    assert "学习阶段" in page and "2026-02-24" in page  # the stages table stays
    balanced(page)


def test_svg_element_strips_the_prolog_and_refuses_what_is_no_svg():
    assert svg_element(b"<?xml version='1.0'?>\n<svg a='1'/>\n") == "<svg a='1'/>"
    with pytest.raises(ValueError, match="no <svg>"):
        svg_element(b"<?xml version='1.0'?><html></html>")


def test_the_notebook_fragment_stays_a_fragment(midway):
    fragment = midway._repr_html_()
    assert fragment.startswith("<div class='credit-ledger-audit'>") and "<html" not in fragment
    assert "要求未满足" in fragment
    balanced(fragment)


# -- in a real browser -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Any:
    executable = chromium_path()
    if executable is None or not Path(executable).exists():
        message = "Chromium is not installed (apt-get install chromium)"
        if os.environ.get(BROWSER_REQUIRED_ENV) == "1":
            pytest.fail(f"a browser is required ({BROWSER_REQUIRED_ENV}=1) but {message}", pytrace=False)
        pytest.skip(message)
    with Chromium.open(executable) as chromium:
        yield chromium


def loaded(browser: Chromium, path: Path) -> Chromium:
    browser.events.clear()
    browser.load(path)
    return browser


def colours(png: bytes) -> tuple[int, float]:
    """How many distinct colours a PNG has, and the share of its pixels that are not white."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    counts = image.getcolors(maxcolors=image.width * image.height) or []
    inked = sum(n for n, colour in counts if min(colour) < 240)
    return len(counts), inked / (image.width * image.height)


def media_boxes(pdf: bytes) -> list[tuple[float, float]]:
    """Each page's MediaBox (width, height) in points."""
    boxes = re.findall(rb"/MediaBox\s*\[\s*([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s*\]", pdf)
    return [(float(x1) - float(x0), float(y1) - float(y0)) for x0, y0, x1, y1 in boxes]


@needs_matplotlib
def test_the_page_renders_in_chromium_without_a_console_error(browser, midway, tmp_path):
    path = tmp_path / "audit.html"
    path.write_text(midway.to_html(), encoding="utf-8")
    chromium = loaded(browser, path)
    assert chromium.console_errors() == []
    text = chromium.text()
    assert "毕业资格审核表" in text and demo.STUDENT in text and "要求未满足" in text
    from credit_ledger.plots import bundled_font_file

    if bundled_font_file() is not None:  # the title is drawn with the font the page carries, never as boxes
        fonts = chromium.fonts_of("h1")
        assert [(f["isCustomFont"], f["glyphCount"]) for f in fonts] == [(True, len("毕业资格审核表"))], fonts
        assert fonts[0]["familyName"].startswith("Noto Sans CJK")
    shot = chromium.screenshot()
    assert shot[:8] == b"\x89PNG\r\n\x1a\n"
    distinct, inked = colours(shot)
    assert distinct > 16 and inked > 0.02, f"a blank-looking screenshot: {distinct} colours, {inked:.1%} inked"


@needs_matplotlib
def test_the_page_prints_to_a4(browser, final, tmp_path):
    path = tmp_path / "final.html"
    path.write_text(final.to_html(), encoding="utf-8")
    pdf = loaded(browser, path).pdf()
    assert pdf.startswith(b"%PDF-")
    boxes = media_boxes(pdf)
    assert boxes, "no page in the PDF"
    for width, height in boxes:  # A4 is 595.28 x 841.89 pt; Chromium rounds to its pixel grid
        assert round(width) in (595, 596) and round(height) in (842, 843), (width, height)


@pytest.mark.parametrize("script", ["console.error('deliberate')", "throw new Error('deliberate')",
                                    "console.assert(false, 'deliberate')"])
def test_the_check_catches_a_console_error(browser, tmp_path, script):
    path = tmp_path / "broken.html"
    path.write_text(f"<!DOCTYPE html><html><head><meta charset='utf-8'></head><body><p>页</p>"
                    f"<script>{script}</script></body></html>", encoding="utf-8")
    errors = loaded(browser, path).console_errors()
    assert errors and "deliberate" in " ".join(errors)


def test_the_check_catches_what_the_page_policy_blocks(browser, midway, tmp_path):
    """The page forbids scripts and outside files (its Content-Security-Policy): one slipped in is an error."""
    page = midway.to_html(picture=False, font=False).replace("</body>", "<script>document.title = 'x'</script></body>")
    path = tmp_path / "blocked.html"
    path.write_text(page, encoding="utf-8")
    errors = loaded(browser, path).console_errors()
    assert errors and any("Content Security Policy" in e for e in errors), errors


def test_a_blank_page_is_seen_as_blank(browser, tmp_path):
    path = tmp_path / "blank.html"
    path.write_text("<!DOCTYPE html><html><head><meta charset='utf-8'></head><body></body></html>", encoding="utf-8")
    pytest.importorskip("PIL")
    distinct, inked = colours(loaded(browser, path).screenshot())
    assert distinct <= 2 and inked < 0.001


def test_the_command_writes_the_page(tmp_path):
    from typer.testing import CliRunner

    from credit_ledger.cli import app

    runner = CliRunner()
    db = str(tmp_path / "demo.db")
    assert runner.invoke(app, ["demo", "--db", db]).exit_code == 0
    out = tmp_path / "li-na.html"
    result = runner.invoke(app, ["audit", demo.STUDENT, "--db", db, "--as-of", "2026-07-31", "--format", "html",
                                 "--out", str(out)])
    assert result.exit_code == 3 and result.stdout.strip() == str(out)
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "毕业资格审核表" in page and demo.STUDENT in page
    english = tmp_path / "en.html"
    result = runner.invoke(app, ["audit", demo.STUDENT, "--db", db, "--as-of", "2028-07-10", "--format", "html",
                                 "--out", str(english), "--lang", "en"])
    assert result.exit_code == 0 and "<html lang='en'>" in english.read_text(encoding="utf-8")
    text = tmp_path / "a.txt"
    result = runner.invoke(app, ["audit", demo.STUDENT, "--db", db, "--as-of", "2028-07-10", "--out", str(text)])
    assert result.exit_code == 0
    assert "状态：已毕业" in text.read_text(encoding="utf-8")
    wrong = runner.invoke(app, ["audit", demo.STUDENT, "--db", db, "--format", "html", "--out",
                                str(tmp_path / "x.txt")])
    assert wrong.exit_code == 1 and "use .html or .htm" in wrong.stderr and not (tmp_path / "x.txt").exists()


def test_the_verdict_reads_as_passed_for_an_eligible_or_supported_graduate(midway, final):
    assert "class='verdict pass'>已毕业" in final.to_html(picture=False, font=False)
    assert "class='verdict fail'>要求未满足" in midway.to_html(picture=False, font=False)


def test_the_tree_on_the_page_shows_what_the_text_shows(midway):
    from credit_ledger.reports import Allocated

    record = Allocated(event_id="e1", course="MT202", title="数控", credits=Decimal("4.00"), origin="recognized",
                       counts_as="MT201")
    leaf = RequirementResult(id="core", title="核心", kind="courses", satisfied=True, needed=Decimal(1),
                             counted=Decimal(1), unit="courses", records=(record,), notes=("教务处批准替代",),
                             shared=True)
    root = RequirementResult(id="root", title="毕业要求", kind="pick", satisfied=True, needed=Decimal(1),
                             counted=Decimal(1), unit="requirements", children=(leaf,), chosen=("core",))
    report = midway.model_copy(update={"requirements": root})
    page, text = report.to_html(picture=False, font=False), report.to_text()
    for shown in ("MT202 数控 4.00 [互认]（替代 MT201）", "注：教务处批准替代", "（共用）", "· 计入 core",
                  "1/1 项已满足"):
        assert shown in page and shown in text, shown
    english = report.to_text(lang="en")
    for shown in ("MT202 数控 4.00 [recognized] (for MT201)", "note: 教务处批准替代", " (shared)", "· counting core",
                  "1/1 met"):
        assert shown in english and shown in report.to_html("en", picture=False, font=False), shown


def test_a_name_is_escaped_like_any_text(midway):
    named = Named(midway, "<script>x</script>李")
    page = audit_page(named, picture=False, font=False)
    assert "<script>" not in page and "&lt;script&gt;x&lt;/script&gt;李" in page
    assert "script" not in balanced(page)
    from credit_ledger.render import report_html

    assert "<script>" not in report_html(named)


CATALOG = ax.allocation_catalog()


def nodes(node: Any) -> list[Any]:
    return [node, *(n for c in node.children for n in nodes(c))]


@settings(max_examples=30, deadline=None)
@given(tree=ax.requirement_trees(), records=ax.record_lists(), lang=st.sampled_from(["zh", "en"]))
def test_every_requirement_shows_once_with_its_mark_in_text_and_page(tree, records, lang):
    """For any tree and records: the text has one line per requirement, marked as the audit judged it, and the page
    one list item per requirement with the same mark; the page is a well-formed whole."""
    report = cl.audit(ax.program_of(tree), records, as_of=ax.AS_OF, catalog=CATALOG)
    every = nodes(report.requirements)
    text_marks = [line.strip()[0] for line in report.to_text(lang).splitlines()
                  if line.strip()[:1] in ("✓", "✗")]
    assert text_marks == ["✓" if n.satisfied else "✗" for n in every]
    page = report.to_html(lang, picture=False, font=False)
    balanced(page)
    marks = re.findall(r"<li class='(met|unmet)'><span class='mark'>(.)</span> <b>([^<]*)</b>", page)
    assert [(state, mark, ident) for state, mark, ident in marks] == [
        ("met" if n.satisfied else "unmet", "✓" if n.satisfied else "✗", html.escape(n.id)) for n in every]


def test_now_is_said_only_of_an_audit_of_today(midway):
    assert midway.stages[-1].end is None
    past = midway.to_text()
    assert "2026-02-24 → 2026-07-31：" in past and "至今" not in past
    assert "至今" not in midway.to_html(picture=False, font=False)
    assert "2026-02-24 → 2026-07-31: " in midway.to_text(lang="en") and "now" not in midway.to_text(lang="en")
    today = midway.model_copy(update={"as_of": date.today()})
    assert "2026-02-24 → 至今：" in today.to_text() and "<td>至今</td>" in today.to_html(picture=False, font=False)
    assert "2026-02-24 → now: " in today.to_text(lang="en")


def test_the_stages_table_says_what_ended_a_stage_in_either_language(midway):
    ended = [s for s in midway.stages if s.ended_by]
    assert ended  # the midway student was suspended once
    for lang in ("zh", "en"):
        table = stages_table(midway, lang)
        assert html.escape(_aside(word(ended[0].ended_by, lang), lang)) in table, lang


def test_periods_and_transcript_in_chinese_and_english(demo_ledger):
    from credit_ledger.render import fit, periods_text, transcript_text

    events = demo_ledger.events(demo.STUDENT)
    zh, en = periods_text(demo.STUDENT, events), periods_text(demo.STUDENT, events, "en")
    assert zh.splitlines()[0] == f"{demo.STUDENT} 学籍变动" and en.splitlines()[0] == f"Study periods of {demo.STUDENT}"
    assert "入学 MECH-PT-2024（HNJX），非全日制" in zh and "in MECH-PT-2024 at HNJX, part-time" in en
    assert "2028-07-10  毕业" in zh and "2028-07-10  graduated" in en and "休学：" in zh and "suspended (休学): " in en
    record = demo_ledger.transcript(demo.STUDENT)
    table, english = transcript_text(demo.STUDENT, record), transcript_text(demo.STUDENT, record, lang="en")
    assert "补考，按 60 计" in table and "重修" in table and "合计" in table
    assert "make-up (补考), counted as 60" in english and "retake (重修)" in english and "total" in english
    assert "机电设备安装与…" in table  # a cut title says so
    for line in table.splitlines()[3:]:  # each row's credits in display columns 38 to 45 (a CJK character is two)
        columns = "".join(c + ("\0" if ord(c) > 0x2E80 else "") for c in line)
        assert re.fullmatch(r" *\d+\.\d\d", columns[37:45]), f"credits not aligned: {line!r}"
    assert fit("语文", 6) == "语文  " and fit("自动化生产线运行与维护", 8) == "自动化… " and len(fit("", 3)) == 3
    with pytest.raises(ValueError, match="unknown language"):
        transcript_text(demo.STUDENT, record, lang="de")


def test_the_roster_name_reaches_the_page_and_leaves_it_when_erased():
    ledger = demo.run(None)
    try:
        ledger.set_personal(demo.STUDENT, name="李娜")
        named = ledger.audit(demo.STUDENT, as_of=demo.MIDWAY)
        page = named.to_html(picture=False, font=False)
        assert "<th>姓名</th><td>李娜</td>" in page and f"{demo.STUDENT} 李娜 · " in named.to_text()
        assert "李娜" in named._repr_html_()
        ledger.erase_personal(demo.STUDENT)
        erased = ledger.audit(demo.STUDENT, as_of=demo.MIDWAY)
        assert "李娜" not in erased.to_html(picture=False, font=False) and "李娜" not in erased.to_text()
    finally:
        ledger.close()


@needs_matplotlib
def test_the_page_carries_the_cjk_characters_it_uses(midway):
    """With the notebook extra, the page carries its CJK characters of the extra's font (a small data: URL), so that
    it prints Chinese on a machine with no CJK font; font=False leaves it out."""
    from credit_ledger.page import embedded_font
    from credit_ledger.plots import bundled_font_file

    if bundled_font_file() is None:
        pytest.skip("the notebook extra's font (mplfonts) is not installed")
    page = midway.to_html(picture=False)
    assert "@font-face { font-family: 'CL CJK'; src: url(data:font/otf;base64," in page
    assert "font-src data:" in page and "@font-face" not in midway.to_html(picture=False, font=False)
    assert embedded_font("ASCII only") == ""
    small, large = embedded_font("毕业"), embedded_font("毕业资格审核表学号姓名专业机电一体化")
    assert 0 < len(small) < len(large) < 200_000
