"""Audit reports as a reader sees them: plain text for a terminal or a letter, HTML for a notebook; in Chinese
(the default) or in English (``lang="en"``), in the words of ``labels``.

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
✗ core 专业核心课  2/3 门 · 缺 CNC202
    · CNC201 数控编程 4 [互认]
>>> print("\\n".join(tree_lines(core, lang="en")))
✗ core 专业核心课  2/3 courses · missing CNC202
    · CNC201 数控编程 4 [recognized]

The whole printable page (毕业资格审核表) is ``page.audit_page``'s. Presentation only: every function reads a
report's data by attribute and imports nothing of ``reports`` when it runs (the report models call down into this
module, never the other way).
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING

from .labels import DEFAULT_LANG, award_label, status_label, word

if TYPE_CHECKING:  # pragma: no cover
    from .records import Transcript
    from .reports import AppliedException, AuditReport, Projection, RequirementResult


def mark(node: RequirementResult) -> str:
    """✓ for a requirement met (or waived), ✗ for one that is not."""
    return "✓" if node.satisfied else "✗"


def amount(node: RequirementResult, lang: str = DEFAULT_LANG) -> str:
    """What a requirement counted of what it needs, in its unit: ``2/3 门`` (``2/3 courses``), ``1/2 项已满足``
    (``1/2 met``), ``4.00/6.00 学分`` (``4.00/6.00 credits``)."""
    unit = word(f"unit_{node.unit}", lang)
    if node.unit in ("courses", "requirements"):
        return f"{int(node.counted)}/{int(node.needed)} {unit}"
    return f"{node.counted}/{node.needed} {unit}"


def _listed(items: Iterable[str], lang: str) -> str:
    """Items joined as a reader of ``lang`` lists them: ``a、b`` or ``a, b``."""
    return ("、" if lang == "zh" else ", ").join(items)


def _aside(text: str, lang: str) -> str:
    """A remark in brackets after a word: ``（休学）`` or `` (suspended)``."""
    return f"（{text}）" if lang == "zh" else f" ({text})"


def _heading(key: str, lang: str) -> str:
    """A section's heading with its colon: ``问题：`` or ``issues:``."""
    return word(key, lang) + ("：" if lang == "zh" else ":")


def _labelled(key: str, text: str, lang: str) -> str:
    """A word, its colon and a text: ``注：教务处批准`` or ``note: approved``."""
    return _heading(key, lang) + ("" if lang == "zh" else " ") + text


def tree_lines(node: RequirementResult, depth: int = 0, lines: list[str] | None = None, *,
               lang: str = DEFAULT_LANG) -> list[str]:
    """The requirement tree as indented text lines, the node first, then its notes, its records and its children
    (appended to ``lines`` when given); returns the lines."""
    if lines is None:
        lines = []
    pad = "  " * depth
    extra = _aside(word("waived", lang), lang) if node.waived else ""
    extra += _aside(word("shared", lang), lang) if node.shared else ""
    if node.missing:
        extra += f" · {word('missing', lang)} " + _listed(node.missing, lang)
    if node.chosen and node.kind == "pick":
        extra += f" · {word('counting', lang)} " + _listed(node.chosen, lang)
    lines.append(f"{pad}{mark(node)} {node.id} {node.title}  {amount(node, lang)}{extra}")
    for note in node.notes:
        lines.append(f"{pad}    {_labelled('note', note, lang)}")
    for r in node.records:
        sub = _aside(f"{word('counts_for', lang)} {r.counts_as}", lang) if r.counts_as else ""
        origin = "" if r.origin == "home" else f" [{r.origin if lang == 'en' else word(r.origin, lang)}]"
        lines.append(f"{pad}    · {r.course or '-'} {r.title} {r.credits}{origin}{sub}")
    for child in node.children:
        tree_lines(child, depth + 1, lines, lang=lang)
    return lines


def _placed(node: RequirementResult) -> set[str]:
    """The event ids of the records allocated anywhere in the tree."""
    found = {a.event_id for a in node.records}
    for child in node.children:
        found |= _placed(child)
    return found


def tree_html(node: RequirementResult, lang: str = DEFAULT_LANG) -> str:
    """The requirement tree as nested HTML lists (text escaped), with what ``tree_lines`` shows: each item's class
    says whether it is met (``met`` or ``unmet``)."""
    e = html.escape
    recs = "".join(f"<li>{e(r.course or '-')} {e(r.title)} {r.credits}"
                   + ("" if r.origin == "home" else f" [{e(r.origin if lang == 'en' else word(r.origin, lang))}]")
                   + (e(_aside(f"{word('counts_for', lang)} {r.counts_as}", lang)) if r.counts_as else "")
                   + "</li>" for r in node.records)
    notes = "".join(f"<li class='note'>{e(_labelled('note', note, lang))}</li>" for note in node.notes)
    kids = "".join(tree_html(c, lang) for c in node.children)
    extra = e(_aside(word("waived", lang), lang)) if node.waived else ""
    extra += e(_aside(word("shared", lang), lang)) if node.shared else ""
    if node.missing:
        extra += f" · {e(word('missing', lang))} {e(_listed(node.missing, lang))}"
    if node.chosen and node.kind == "pick":
        extra += f" · {e(word('counting', lang))} {e(_listed(node.chosen, lang))}"
    inner = (f"<ul>{notes}{recs}</ul>" if recs or notes else "") + (f"<ul>{kids}</ul>" if kids else "")
    state = "met" if node.satisfied else "unmet"
    return (f"<ul><li class='{state}'><span class='mark'>{mark(node)}</span> <b>{e(node.id)}</b> {e(node.title)} "
            f"{e(amount(node, lang))}{extra}{inner}</li></ul>")


def award_text(award: str, lang: str = DEFAULT_LANG) -> str:
    """An award as a reader sees it: ``毕业`` in Chinese, glossed in English: ``graduation (毕业)``."""
    return award_label(award, lang) if lang == "zh" else f"{award} ({award_label(award, 'zh')})"


def status_text(status: object, lang: str = DEFAULT_LANG) -> str:
    """An audit status as a reader sees it: ``要求未满足`` in Chinese, the code in English
    (``requirements_missing``)."""
    value = str(getattr(status, "value", status))
    return value if lang == "en" else status_label(value, lang)


def student_line(report: AuditReport, lang: str = DEFAULT_LANG) -> str:
    """Who and what: the student (and their name when known), the school, the program and the audit's date."""
    r = report
    name = getattr(r, "student_name", None)
    who = f"{r.student_id} {name}" if name else r.student_id
    return f"{who} · {r.institution} {r.program} {r.program_title} · {word('as_of', lang)} {r.as_of}"


def _open_end(report: AuditReport, lang: str) -> str:
    """Where a stage still running on the audit's date ends in a report: 至今 (now) when the audit is of today, else
    the audit's date (a report of another day never says "now")."""
    return word("now", lang) if report.as_of == date.today() else str(report.as_of)


def report_text(report: AuditReport, lang: str = DEFAULT_LANG) -> str:
    """A plain-text audit report in ``lang`` (Chinese by default): the verdict, the requirement tree with ✓/✗,
    stages and issues."""
    r = report
    word("status", lang)  # an unknown language is refused before anything is written
    zh = lang == "zh"
    colon = "：" if zh else ": "
    others = [a for a in r.awards if a != r.award]
    verdict = f"{word('status', lang)}{colon}{status_text(r.status, lang)}"
    if r.award:
        verdict += f" · {word('award', lang)}{colon}{award_text(r.award, lang)}"
    if r.part_time:
        verdict += " · 非全日制" if zh else " (part-time 非全日制)"
    if others:
        verdict += f" · {word('could_leave_with', lang)}{colon}" + _listed((award_text(a, lang) for a in others), lang)
    c = r.credits
    if zh:
        credits = (f"学分：{c.total} / {c.required}（本校 {c.home}，互认 {c.recognized}，转换 {c.converted}）"
                   f" · 尚缺学分 {r.shortfall}")
    else:
        credits = (f"credits: {c.total} of {c.required} (home {c.home}, recognized {c.recognized}, converted "
                   f"{c.converted}) · shortfall {r.shortfall}")
    lines = [student_line(r, lang), verdict, credits]
    window = [f"{word(key, lang)} {day}" for key, day in
              (("enrolled", r.enrolled_on), ("earliest", r.earliest_date), ("deadline", r.deadline)) if day]
    if window:
        lines.append(" · ".join(window))
    lines.append("")
    tree_lines(r.requirements, 0, lines, lang=lang)
    if r.stages:
        lines += ["", _heading("stages", lang)]
        for i, s in enumerate(r.stages, 1):
            end = s.end.isoformat() if s.end else _open_end(r, lang)
            if zh:
                by = _aside(word(s.ended_by, lang), lang) if s.ended_by else ""
                lines.append(f"  {i}. {s.start} → {end}{by}：{s.credits} 学分，累计 {s.cumulative}")
            else:
                by = f" ({s.ended_by})" if s.ended_by else ""
                lines.append(f"  {i}. {s.start} → {end}{by}: {s.credits} credits, {s.cumulative} in all")
    if r.projection is not None:
        lines.append(projection_text(r.projection, lang))
    if r.excluded:
        lines += ["", _heading("not_counted", lang)]
        placed = _placed(r.requirements)  # a record the caps trim, or a course's stand-in, still fills a requirement
        for x in r.excluded:
            also = _aside(word("in_requirements", lang), lang) if x.record.event_id in placed else ""
            lines.append(f"  - {x.record.course or x.record.category} {x.record.title} {x.credits} [{x.code}]{also}")
    if r.exceptions:
        lines += ["", _heading("exceptions", lang)]
        for e in r.exceptions:
            lines.append(f"  - {e.requirement_id}: {exception_text(e, lang)} ({e.event_id})"
                         + ("" if e.applied else f" — {word('not_applied', lang)}"))
    if r.issues:
        lines += ["", _heading("issues", lang)]
        for issue in r.issues:
            lines.append(f"  - [{issue.code}] {issue.message}")
    return "\n".join(lines)


def projection_text(projection: Projection, lang: str = DEFAULT_LANG) -> str:
    """Where the pace so far leads: ``按当前进度预计：每年 12.00 学分；尚缺 30.00；...`` (``projection: 12.00 credits a
    year; 30.00 to go; ...``), with the risk of the deadline when there is one."""
    p = projection
    unknown = word("unknown", lang)
    if lang == "zh":
        return (f"按当前进度预计：每年 {p.rate_per_year} 学分；尚缺 {p.remaining}；预计修满 {p.finish_on or unknown}；"
                f"预计毕业 {p.graduate_on or unknown}" + ("——有超期风险" if p.at_risk else ""))
    return (f"projection: {p.rate_per_year} credits a year; {p.remaining} to go; finish {p.finish_on or unknown}; "
            f"graduate {p.graduate_on or unknown}" + (" — AT RISK of the deadline" if p.at_risk else ""))


def exception_text(exception: AppliedException, lang: str = DEFAULT_LANG) -> str:
    """What a registrar's exception does: ``免修`` (``waive``) or ``以 CNC210 替代 CNC202`` (``substitute CNC210 for
    CNC202``)."""
    e = exception
    if e.action != "substitute":
        return word("waive", lang)
    return f"以 {e.course} 替代 {e.replaces}" if lang == "zh" else f"substitute {e.course} for {e.replaces}"


def report_html(report: AuditReport, lang: str = DEFAULT_LANG) -> str:
    """An HTML audit report for notebooks (a fragment; ``page.audit_page`` makes the whole printable page): the
    verdict, the requirement tree as nested lists, stages and issues."""
    r = report
    e = html.escape
    colour = "#1a7f37" if r.eligible else "#b35900"
    name = getattr(r, "student_name", None)
    parts = [f"<div class='credit-ledger-audit'><h4>{e(r.student_id)}" + (f" {e(name)}" if name else "")
             + f" — {e(r.program)} {e(r.program_title)}</h4>",
             f"<p><b style='color:{colour}'>{e(status_text(r.status, lang))}</b>"
             + (f" · {e(word('award', lang))} {e(award_text(r.award, lang))}" if r.award else "")
             + f" · {r.credits.total} / {r.credits.required} {e(word('credits', lang))}"
             + f" · {e(word('shortfall', lang))} {r.shortfall}"
             + (f" · {e(word('earliest', lang))} {r.earliest_date}" if r.earliest_date else "")
             + (f" · {e(word('deadline', lang))} {r.deadline}" if r.deadline else "") + "</p>",
             tree_html(r.requirements, lang)]
    if r.stages:
        parts.append(stages_table(r, lang))
    if r.issues:
        parts.append("<ul>" + "".join(f"<li><code>{e(i.code)}</code> {e(i.message)}</li>"
                                      for i in r.issues) + "</ul>")
    parts.append("</div>")
    return "".join(parts)


def stages_table(report: AuditReport, lang: str = DEFAULT_LANG) -> str:
    """The study stages as an HTML table: start, end (至今 / now), credits, cumulative."""
    e = html.escape
    rows = "".join(f"<tr><td>{s.start}</td><td>{s.end or e(_open_end(report, lang))}"
                   + (e(_aside(word(s.ended_by, lang), lang)) if s.ended_by else "")
                   + f"</td><td>{s.credits}</td><td>{s.cumulative}</td></tr>" for s in report.stages)
    head = "".join(f"<th>{e(word(k, lang))}</th>" for k in ("start", "end", "credits", "cumulative"))
    return f"<table class='stages'><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


# -- a student's record as text (the demo and the command's transcript) ---------------------------------------------

_PERIOD_WORDS = {"enrolled": "enrolled", "suspended": "suspended (休学)", "resumed": "resumed (复学)",
                 "withdrawn": "withdrew (退学)", "program_changed": "changed program (转专业)",
                 "graduated": "graduated"}


def periods_text(student_id: str, events: Iterable[object], lang: str = DEFAULT_LANG) -> str:
    """The student's status changes (enrolment, suspension 休学, resumption 复学, ...) as text, from their events."""
    word("enrolled", lang)  # an unknown language is refused first
    zh = lang == "zh"
    lines = [f"{student_id} {word('study_periods', lang)}" if zh else f"Study periods of {student_id}"]
    for e in events:
        kind = getattr(e, "kind", "")
        if kind not in _PERIOD_WORDS:
            continue
        detail = ""
        if kind == "enrolled":
            mode = str(getattr(e, "mode", ""))
            employer = getattr(e, "employer", None)
            program, school = getattr(e, "program", ""), getattr(e, "institution", "")
            if zh:
                detail = (f" {program}（{school}），{word(f'mode_{mode}', lang)}"
                          + (f"，{word('employer', lang)} {employer}" if employer else ""))
            else:
                detail = (f" in {program} at {school}, {mode.replace('_', '-')}"
                          + (f", employer {employer}" if employer else ""))
        elif reason := getattr(e, "reason", ""):
            detail = f"：{reason}" if zh else f": {reason}"
        what = word(kind, lang) if zh else _PERIOD_WORDS[kind]
        lines.append(f"  {getattr(e, 'occurred_on', '')}  {what}{detail}")
    return "\n".join(lines)


def transcript_text(student_id: str, transcript: Transcript, as_of: date | None = None,
                    lang: str = DEFAULT_LANG) -> str:
    """A transcript as a text table; CJK titles are fitted by display width."""
    word("transcript", lang)  # an unknown language is refused first
    if lang == "zh":
        lines = [f"{student_id} {word('transcript', lang)}" + (f"（截至 {as_of}）" if as_of else ""), ""]
        lines.append(f"{fit('日期', 12)}{fit('课程', 9)}{fit('名称', 17)}{right('学分', 7)} {right('成绩', 6)} "
                     f"{right('绩点', 4)}  备注")
    else:
        lines = [f"Transcript of {student_id}" + (f" as of {as_of}" if as_of else ""), ""]
        lines.append(f"{'date':<11} {'course':<8} {'title':<16} {'credits':>7} {'grade':>6} {'GP':>4}  note")
    for r in transcript.records:
        note = {"retake": "重修" if lang == "zh" else "retake (重修)"}.get(r.attempt or "", "")
        if r.flagged:
            note = f"补考，按 {r.score} 计" if lang == "zh" else f"make-up (补考), counted as {r.score}"
        gp = "" if r.grade_points is None else f"{r.grade_points:.1f}"
        lines.append(f"{r.occurred_on!s:<11} {r.course or '':<8} {fit(r.title, 16)} {r.credits:>7} "
                     f"{right(r.grade or '', 6)} {gp:>4}  {note}")
    lines.append(f"{'':<11} {'':<8} {fit(word('total', lang), 16)} {transcript.total:>7}")
    return "\n".join(lines)


def display_width(text: str) -> int:
    """Columns a terminal gives ``text``: two for each CJK character, one for others."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def right(text: str, width: int) -> str:
    """Text padded on the left to a display width (a column of numbers, or its heading): ``right("学分", 7)``."""
    return " " * (width - display_width(text)) + text


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
