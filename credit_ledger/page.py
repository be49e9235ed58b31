"""The printable audit (毕业资格审核表): one student's audit as a whole HTML page, for a registrar to print on A4, sign
and file.

The page says who (学号, 姓名 when the roster knows it), in what (the school, the program and its title), on which
day (截至), the verdict (状态, the award it supports: 毕业 graduation, 结业 completion, 肄业 partial study), the credits
by origin (本校, 互认, 转换), the requirement tree with ✓/✗, the study stages with their picture inline as SVG, and
what shaped the verdict (审核依据): the records not counted with their codes, the registrar's exceptions (applied or
not) and every issue; then a signature block (审核人, 日期) for the paper copy. It is self-contained: no script, no
file or address outside it (its Content-Security-Policy forbids both), UTF-8 (``<meta charset="utf-8">``), and
its print stylesheet sets an A4 page and keeps a row, a requirement and the signature block whole across pages.

>>> from credit_ledger.page import svg_element
>>> svg_element(b'<?xml version="1.0"?>\\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "x">\\n<svg x="1"></svg>\\n')
'<svg x="1"></svg>'

Presentation only, like ``render``: it reads a report's data by attribute and imports nothing of ``reports`` when it
runs; the picture comes from ``plots`` (matplotlib, the ``notebook`` extra), and without it the page says so where
the picture would be.
"""

from __future__ import annotations

import base64
import html
import io
from typing import TYPE_CHECKING

from .labels import DEFAULT_LANG, word
from .render import award_text, exception_text, projection_text, stages_table, status_text, tree_html

if TYPE_CHECKING:  # pragma: no cover
    from .reports import AuditReport

HTML_LANGS = {"zh": "zh-CN", "en": "en"}
"""The ``lang`` attribute of the page's ``<html>`` for each reader's language."""

STYLE = """
@page { size: A4; margin: 15mm 15mm 18mm 15mm; }
html { font-family: "CL CJK", "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "Microsoft YaHei",
       "PingFang SC", sans-serif; font-size: 10.5pt; color: #111; background: #fff; }
body { margin: 0 auto; max-width: 180mm; padding: 8mm 0; }
h1 { text-align: center; font-size: 18pt; margin: 0 0 4mm; }
html[lang="zh-CN"] h1 { letter-spacing: 0.3em; }
h2 { font-size: 12pt; border-bottom: 1px solid #444; margin: 5mm 0 2mm; padding-bottom: 1mm; }
table { border-collapse: collapse; width: 100%; margin: 1mm 0; }
th, td { border: 1px solid #888; padding: 1mm 2mm; text-align: left; vertical-align: top; }
th { background: #f0f0f0; font-weight: 600; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.verdict { font-size: 12pt; font-weight: 700; }
.verdict.pass { color: #1a7f37; } .verdict.fail { color: #b35900; }
.tree ul { list-style: none; margin: 0; padding-left: 5mm; }
.tree > ul { padding-left: 0; }
.tree li { margin: 0.5mm 0; }
.met > .mark { color: #1a7f37; font-weight: 700; } .unmet > .mark { color: #b31d28; font-weight: 700; }
figure { margin: 2mm 0; text-align: center; }
figure svg { max-width: 100%; height: auto; }
.note { color: #666; font-style: italic; }
.signature { display: flex; justify-content: space-between; margin-top: 12mm; gap: 10mm; }
.signature div { flex: 1; border-bottom: 1px solid #111; padding-bottom: 8mm; }
footer { margin-top: 6mm; font-size: 8pt; color: #666; }
@media print {
  body { padding: 0; max-width: none; }
  tr, li, figure, .signature, .keep { break-inside: avoid; page-break-inside: avoid; }
  h2 { break-after: avoid; page-break-after: avoid; }
  thead { display: table-header-group; }
}
"""
"""The page's stylesheet: on screen a sheet of paper, printed an A4 page whose rows and blocks are not broken."""

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:"

FONT_FAMILY = "CL CJK"
"""The family name of the CJK font the page carries (``embedded_font``)."""


def embedded_font(text: str) -> str:
    """An ``@font-face`` rule carrying the CJK font of the ``notebook`` extra (``mplfonts``'s Noto Sans CJK SC, SIL
    OFL) cut to the CJK characters of ``text`` (some kilobytes, as a ``data:`` URL), so that the page shows and
    prints its Chinese on a machine with no CJK font; ``""`` without the extra (or without CJK text): the reader's
    own fonts then draw it."""
    from .plots import bundled_font_file  # finds the font file; imports nothing of matplotlib

    chars = "".join(sorted({ch for ch in text if ord(ch) > 0x2E80}))
    path = bundled_font_file()
    if not chars or path is None:
        return ""
    try:
        from fontTools import subset  # matplotlib's own dependency
    except ImportError:
        return ""
    options = subset.Options()
    options.notdef_outline = True
    options.name_IDs = ["*"]  # the font's names and licence stay with it
    font = subset.load_font(str(path), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=chars)
    subsetter.subset(font)
    buffer = io.BytesIO()
    subset.save_font(font, buffer, options)
    font.close()  # the font file is read lazily: close it now, not when the collector comes
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f"@font-face {{ font-family: '{FONT_FAMILY}'; src: url(data:font/otf;base64,{data}) format('opentype'); }}"


def svg_element(svg: bytes) -> str:
    """An SVG file's ``<svg>`` element, to be inlined in a page: the XML prolog and doctype before it stripped."""
    text = svg.decode("utf-8")
    start = text.find("<svg")
    if start < 0:
        raise ValueError("not an SVG picture: no <svg> element")
    return text[start:].strip()


def stages_picture(report: AuditReport, lang: str = DEFAULT_LANG) -> str:
    """The stages picture (``plots.plot_student``) as an inline ``<figure>`` with an SVG; without matplotlib, a note
    where it would be."""
    from .plots import plot_student  # matplotlib is imported when the picture is drawn, never before

    try:
        svg = plot_student(report, fmt="svg", lang=lang)
    except ImportError:
        return f"<p class='note picture-missing'>{html.escape(word('picture_missing', lang))}</p>"
    return f"<figure class='stages-picture'>{svg_element(svg)}</figure>"


def _row(key: str, value: object, lang: str) -> str:
    return f"<tr><th>{html.escape(word(key, lang))}</th><td>{html.escape(str(value))}</td></tr>"


def audit_page(report: AuditReport, lang: str = DEFAULT_LANG, *, picture: bool = True, font: bool = True) -> str:
    """The whole printable page (毕业资格审核表) of an audit in ``lang`` (Chinese by default): see the module.
    ``picture=False`` leaves the stages picture out (the stages table stays); ``font=False`` leaves out the CJK font
    the page otherwise carries (``embedded_font``), for a reader whose own fonts will do."""
    e = html.escape
    r = report
    def w(key: str) -> str:
        return e(word(key, lang))

    colon = "：" if lang == "zh" else ": "
    name = getattr(r, "student_name", None)
    title = f"{word('page_title', lang)} · {r.student_id}" + (f" {name}" if name else "")
    facts: list[tuple[str, object]] = [("student_id", r.student_id)]
    if name:
        facts.append(("name", name))
    facts += [("institution", r.institution), ("program", f"{r.program} {r.program_title}".strip()),
              ("study_mode", word("part_time" if r.part_time else "full_time", lang)), ("as_of", r.as_of)]
    facts += [(key, day) for key, day in (("enrolled", r.enrolled_on), ("earliest", r.earliest_date),
                                          ("deadline", r.deadline)) if day]
    passed = r.eligible or (str(r.status) == "graduated" and bool(r.awards))  # as the command's exit status says
    verdict = f"<span class='verdict {'pass' if passed else 'fail'}'>{e(status_text(r.status, lang))}</span>"
    if r.award:
        verdict += f" · {w('award')}{colon}{e(award_text(r.award, lang))}"
    others = [award_text(a, lang) for a in r.awards if a != r.award]
    if others:
        verdict += f" · {w('could_leave_with')}{colon}{e(('、' if lang == 'zh' else ', ').join(others))}"
    c = r.credits
    credit_rows = "".join(f"<tr><th>{w(key)}</th><td class='num'>{value}</td></tr>" for key, value in (
        ("home", c.home), ("recognized", c.recognized), ("converted", c.converted), ("total", c.total),
        ("required", c.required), ("shortfall", r.shortfall)))
    parts = [
        f"<h1>{w('page_title')}</h1>",
        "<table class='facts keep'>" + "".join(_row(k, v, lang) for k, v in facts) + "</table>",
        f"<h2>{w('verdict')}</h2><p class='keep'>{verdict}</p>",
        f"<h2>{w('credits_by_origin')}</h2><table class='credits keep'>{credit_rows}</table>",
        f"<h2>{w('requirements')}</h2><div class='tree'>"
        + tree_html(r.requirements, lang) + "</div>",
    ]
    if r.stages or picture:
        parts.append(f"<h2>{w('stages')}</h2>")
        if r.stages:
            parts.append(stages_table(r, lang))
        if r.projection is not None:
            parts.append(f"<p class='keep'>{e(projection_text(r.projection, lang))}</p>")
        if picture:
            parts.append(stages_picture(r, lang))
    parts.append(f"<h2>{w('decisions')}</h2>")
    parts.append(_decisions(r, lang))
    parts.append("<div class='signature'>" + "".join(f"<div>{w(key)}{colon}</div>"
                                                     for key in ("reviewer", "date", "seal")) + "</div>")
    parts.append(f"<footer>{w('solver')}{colon}{e(r.solver)}"
                 + (f" · {w('stable_until')} {r.stable_until}" if r.stable_until else "") + "</footer>")
    body = "\n".join(parts)
    face = embedded_font(title + body) if font else ""
    return "\n".join([
        "<!DOCTYPE html>",
        f"<html lang='{HTML_LANGS.get(lang, lang)}'><head><meta charset='utf-8'>",
        f"<meta http-equiv='Content-Security-Policy' content=\"{_CSP}\">",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{e(title)}</title><style>{face}{STYLE}</style></head><body>",
        body, "</body></html>"])


def _decisions(report: AuditReport, lang: str) -> str:
    """What shaped the verdict: the records not counted (with their codes), the exceptions and the issues."""
    e = html.escape

    def w(key: str) -> str:
        return e(word(key, lang))

    r = report
    parts = [f"<h3>{w('not_counted')}</h3>"]
    if r.excluded:
        head = "".join(f"<th>{w(k)}</th>" for k in ("course", "title", "credits", "code", "reason"))
        rows = "".join(f"<tr><td>{e(x.record.course or x.record.category or '-')}</td><td>{e(x.record.title)}</td>"
                       f"<td class='num'>{x.credits}</td><td><code>{e(x.code)}</code></td><td>{e(x.message)}</td></tr>"
                       for x in r.excluded)
        parts.append(f"<table class='excluded'><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
    else:
        parts.append(f"<p>{w('none')}</p>")
    parts.append(f"<h3>{w('exceptions')}</h3>")
    if r.exceptions:
        rows = "".join(f"<tr><td>{e(x.requirement_id)}</td><td>{e(exception_text(x, lang))}</td>"
                       f"<td>{w('applied' if x.applied else 'not_applied')}</td><td>{e(x.reason)}</td>"
                       f"<td><code>{e(x.event_id)}</code></td></tr>" for x in r.exceptions)
        parts.append(f"<table class='exceptions'><tbody>{rows}</tbody></table>")
    else:
        parts.append(f"<p>{w('none')}</p>")
    parts.append(f"<h3>{w('issues')}</h3>")
    if r.issues:
        parts.append("<ul class='issues'>" + "".join(f"<li><code>{e(i.code)}</code> {e(i.message)}</li>"
                                                     for i in r.issues) + "</ul>")
    else:
        parts.append(f"<p>{w('none')}</p>")
    return "\n".join(parts)
