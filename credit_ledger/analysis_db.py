"""The analysis file as a registrar meets it in Datasette: search that finds two Chinese characters, and Chinese labels.

**Search terms (检索词).** SQLite's full-text tokenizers see no words in Chinese: ``unicode61`` reads a whole run of
Chinese characters as one token (``数控车床编程`` finds only ``数控车床编程``) and ``trigram`` matches three characters
or more (``语文``, ``数学``, ``数控`` find nothing). Both ``sqlite-utils search`` and Datasette's ``_search`` hand
the words typed to the index's ``MATCH`` as they are (Datasette quotes each word, ``"语文"``), so the index must
hold the word typed as one token. ``search_terms`` writes, for each run of Chinese characters (汉字) in a text,
every piece of it up to ``MAX_TERM_CHARS`` characters (each character, each two, each three, ...) and the whole
run, separated by spaces; the text between the runs (Latin words, codes, digits) is kept as it is. An index over
these terms with the ``unicode61`` tokenizer finds a title by any one word of Chinese that the title contains, of
one to ``MAX_TERM_CHARS`` characters or the whole run, and by its Latin words and codes, whole (case and accents
aside); words typed apart (``数控 编程``) must all be in it.

>>> search_terms("数控车床")
'数 控 车 床 数控 控车 车床 数控车 控车床 数控车床'
>>> search_terms("CAD/CAM 应用"), search_terms("英语2")
('CAD/CAM 应 用 应用', '2 英 语 英语')

**Datasette metadata.** ``datasette_metadata`` is the ``metadata.json`` Datasette reads beside the file
(``datasette analysis.db -m analysis.metadata.json``): each table titled in Chinese (学生, 入学记录, 成绩与学分记录,
毕业审核, 学分认定与转换, 课程目录), each column described by its Chinese name, the facets a registrar filters by
(status, program, institution, origin, ...) and the full-text index each searchable table uses.
"""

from __future__ import annotations

import re
from typing import Any

MAX_TERM_CHARS = 12
"""The longest piece of a run of Chinese characters that is a search term of its own (a longer run is a term whole)."""

HAN_RUN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]+")
"""A run of Chinese characters (CJK unified ideographs, their extensions and compatibility ideographs)."""

SEARCH_COLUMN = "search_terms"
"""The column, in each searchable table, that holds ``search_terms`` of the columns in ``FULL_TEXT``."""

FULL_TEXT: dict[str, tuple[str, ...]] = {
    "transcript_records": ("course", "title"),
    "decisions": ("source", "title", "target_course"),
    "courses": ("code", "title"),
}
"""The tables with full-text search (``<table>_fts``) and the columns it reads, with ``SEARCH_COLUMN``."""


def search_terms(*texts: str | None) -> str:
    """The search terms of ``texts`` (see the module): every piece of each run of Chinese characters, of one to
    ``MAX_TERM_CHARS`` characters, and the whole run, each once, with the text between the runs kept; separated by
    spaces. A text that is ``None`` adds nothing.

    >>> search_terms("机电一体化", None).split()[-3:]
    ['机电一体', '电一体化', '机电一体化']
    >>> search_terms("HNJX:CNC201")
    'HNJX:CNC201'
    """
    terms: dict[str, None] = {}
    kept: list[str] = []
    for text in texts:
        if not text:
            continue
        kept.append(HAN_RUN.sub(" ", text).strip())
        for run in HAN_RUN.findall(text):
            for size in range(1, min(len(run), MAX_TERM_CHARS) + 1):
                for start in range(len(run) - size + 1):
                    terms.setdefault(run[start:start + size])
            terms.setdefault(run)
    return " ".join([k for k in kept if k] + list(terms))


TABLE_LABELS: dict[str, str] = {
    "students": "学生",
    "enrolments": "入学记录",
    "transcript_records": "成绩与学分记录",
    "audits": "毕业审核",
    "decisions": "学分认定与转换",
    "courses": "课程目录",
    "attempts": "修读记录",
}
"""Each analysis table's Chinese title."""

TABLE_DESCRIPTIONS: dict[str, str] = {
    "students": "每名学生一行：最近一次入学的学校、专业和学习形式，导出日的学籍状态。",
    "enrolments": "每次入学（Enrolled 事件）一行。",
    "transcript_records": ("每条有效的学分记录一行（取最好的一次成绩，已撤销的不计）。"
                           "检索课程名称：一两个字即可，如 语文、数控。"),
    "audits": "每名在籍学生的毕业资格审核一行：状态、学分、差额、最早毕业日、截止日期、预计完成日。",
    "decisions": "每次学分认定（CreditRecognized）或学分转换（OutcomeConverted）一行；counted 表示仍计入成绩单。",
    "courses": "目录中的每门课程（每个版本）一行。检索课程名称：一两个字即可，如 语文、数学。",
    "attempts": ("每次修读（初修、补考、重修，含不及格）一行；passed 表示及格，counted 表示计入成绩单。"
                 "补考名单：未及格且此后未通过的课程。"),
}
"""Each analysis table's description, in Chinese."""

COLUMN_LABELS: dict[str, dict[str, str]] = {
    "students": {
        "student_id": "学号", "institution": "学校", "program": "专业（培养方案）", "mode": "学习形式",
        "status": "学籍状态", "enrolled_on": "入学日期", "employer": "工作单位", "name": "姓名（个人信息）",
    },
    "enrolments": {
        "event_id": "事件编号", "student_id": "学号", "institution": "学校", "program": "专业（培养方案）",
        "mode": "学习形式", "employer": "工作单位", "entry_basis": "入学依据", "occurred_on": "入学日期",
    },
    "transcript_records": {
        "event_id": "事件编号", "student_id": "学号", "course": "课程代码", "institution": "学校",
        "title": "课程名称", "category": "课程类别", "tags": "标签", "mode": "学习形式", "level": "层次",
        "credits": "学分", "hours": "学时", "grade": "成绩", "score": "分数", "grade_points": "绩点",
        "attempt": "修读方式（初修、补考、重修）", "flagged": "需复核", "origin": "来源（本校、认定、转换）",
        "occurred_on": "日期", "valid_until": "有效期至", "outcome_type": "成果类型", "outcome_id": "成果编号",
        "source_institution": "来源学校", "statement_id": "成绩证明编号", "rule": "依据（协议或转换规则）",
        "search_terms": "检索词（由课程代码和名称生成，供全文检索）",
    },
    "audits": {
        "student_id": "学号", "as_of": "审核日期", "program": "专业（培养方案）", "institution": "学校",
        "status": "审核结论", "eligible": "符合毕业条件", "award": "证书（毕业、结业、肄业）",
        "part_time": "非全日制", "enrolled_on": "入学日期", "total": "总学分", "home": "本校学分",
        "recognized": "认定学分", "converted": "转换学分", "required": "应修学分", "shortfall": "学分差额",
        "earliest_date": "最早毕业日期", "deadline": "截止日期", "stages": "学习阶段数", "rate_per_year": "年均学分",
        "projection_finish_on": "预计修满日期", "projection_graduate_on": "预计毕业日期", "at_risk": "有超期风险",
        "issues": "问题代码",
    },
    "decisions": {
        "event_id": "事件编号", "student_id": "学号", "kind": "类别（认定、转换）", "occurred_on": "日期",
        "source": "来源", "source_institution": "来源学校", "source_course": "来源课程",
        "source_credits": "来源学分", "source_grade": "来源成绩", "outcome_type": "成果类型",
        "outcome_id": "成果编号", "title": "名称", "level": "层次", "target_course": "计入课程",
        "target_category": "计入类别", "credits": "学分", "rule": "依据（协议或转换规则）",
        "statement_id": "成绩证明编号", "valid_until": "有效期至", "counted": "仍计入成绩单",
        "search_terms": "检索词（由来源、名称和计入课程生成，供全文检索）",
    },
    "courses": {
        "course_key": "课程版本编号", "institution": "学校", "code": "课程代码", "title": "课程名称", "credits": "学分",
        "hours": "学时", "practice_weeks": "实训周数", "category": "课程类别", "tags": "标签", "mode": "学习形式",
        "level": "层次", "valid_from": "生效日期", "search_terms": "检索词（由课程代码和名称生成，供全文检索）",
    },
    "attempts": {
        "event_id": "事件编号", "student_id": "学号", "course": "课程代码", "institution": "学校", "title": "课程名称",
        "credits": "学分", "occurred_on": "日期", "term": "学期", "attempt": "修读方式（初修、补考、重修）",
        "grade": "成绩", "score": "分数", "passed": "及格", "counted": "计入成绩单", "corrected": "成绩已更正",
    },
}
"""Each column's Chinese name (Datasette shows it as the column's description)."""

FACETS: dict[str, tuple[str, ...]] = {
    "students": ("status", "program", "institution", "mode"),
    "enrolments": ("program", "institution", "entry_basis"),
    "transcript_records": ("origin", "category", "institution", "attempt"),
    "audits": ("status", "program", "institution", "award"),
    "decisions": ("kind", "source_institution", "counted"),
    "courses": ("institution", "category", "mode", "level"),
    "attempts": ("attempt", "passed", "course", "institution"),
}
"""The columns a registrar filters each table by (Datasette's facets, shown when the table opens)."""


def datasette_metadata(database: str, *, title: str = "学分银行分析库") -> dict[str, Any]:
    """The Datasette ``metadata.json`` of an analysis file that Datasette calls ``database`` (its file name without
    ``.db``): every table's Chinese title and description, every column's Chinese name, facets, and the full-text
    index of each searchable table (``<table>_fts``; Datasette quotes each word typed).

    >>> meta = datasette_metadata("analysis")
    >>> tables = meta["databases"]["analysis"]["tables"]
    >>> tables["transcript_records"]["title"], tables["transcript_records"]["fts_table"]
    ('成绩与学分记录', 'transcript_records_fts')
    """
    tables: dict[str, Any] = {}
    for name, label in TABLE_LABELS.items():
        table: dict[str, Any] = {
            "title": label, "description": TABLE_DESCRIPTIONS[name],
            "columns": dict(COLUMN_LABELS[name]), "facets": list(FACETS[name]),
        }
        if name in FULL_TEXT:
            table.update(fts_table=f"{name}_fts", fts_pk="rowid", searchmode="escaped")
        tables[name] = table
    return {"title": title, "databases": {database: {"title": title, "tables": tables}}}
