"""The words a reader sees, in Chinese (the default) and English: statuses, awards, cohort groups and the terms of
pictures and reports.

A registrar at a Chinese technical school reads 毕业, 结业, 肄业 and 截止日期; an analyst abroad asks for ``lang="en"``.
Codes stay codes (``requirements_missing`` is what a program matches on); these are only their labels.

>>> word("credits"), word("credits", "en")
('学分', 'credits')
>>> status_label("too_early"), award_label("partial_study", "en")
('可提前毕业', 'partial study')
>>> word("no-such-term")
'no-such-term'
"""

from __future__ import annotations

from typing import Literal, get_args

Lang = Literal["zh", "en"]
"""A reader's language: ``"zh"`` (简体中文, the default) or ``"en"``."""
LANGS: tuple[str, ...] = get_args(Lang)
DEFAULT_LANG: Lang = "zh"

STATUS_LABELS: dict[str, tuple[str, str]] = {
    "eligible": ("可毕业", "eligible"),
    "too_early": ("可提前毕业", "early (all met, floor ahead)"),
    "requirements_missing": ("要求未满足", "requirements missing"),
    "deadline_passed": ("已过最长学习年限", "deadline passed"),
    "not_enrolled": ("未注册", "not enrolled"),
    "suspended": ("休学", "suspended"),
    "withdrawn": ("退学", "withdrawn"),
    "graduated": ("已毕业", "graduated"),
}
"""An audit status's label, (Chinese, English)."""

AWARD_LABELS: dict[str, tuple[str, str]] = {
    "graduation": ("毕业", "graduation"),
    "completion": ("结业", "completion"),
    "partial_study": ("肄业", "partial study"),
}
"""An award's label (毕业 graduation, 结业 completion, 肄业 partial study), (Chinese, English)."""

GROUP_LABELS: dict[str, tuple[str, str]] = {
    "graduated": ("已毕业", "graduated"),
    "eligible": ("可毕业", "eligible"),
    "early": ("可提前毕业", "early"),
    "on_track": ("进度正常", "on track"),
    "at_risk": ("有超期风险", "at risk"),
    "deadline_passed": ("已超期", "deadline passed"),
    "suspended": ("休学", "suspended"),
    "withdrawn": ("退学", "withdrawn"),
    "not_enrolled": ("未注册", "not enrolled"),
}
"""A cohort group's label (``plots.COHORT_GROUPS``), (Chinese, English)."""

WORDS: dict[str, tuple[str, str]] = {
    "credits": ("学分", "credits"),
    "students": ("学生人数", "students"),
    "student": ("学生", "student"),
    "name": ("姓名", "name"),
    "program": ("专业", "program"),
    "status": ("状态", "status"),
    "award": ("结论", "award"),
    "as_of": ("截至", "as of"),
    "deadline": ("截止日期", "deadline"),
    "earliest": ("最早毕业日期", "earliest"),
    "enrolled": ("入学", "enrolled"),
    "suspended": ("休学", "suspended"),
    "resumed": ("复学", "resumed"),
    "withdrawn": ("退学", "withdrew"),
    "program_changed": ("转专业", "changed program"),
    "graduated": ("毕业", "graduated"),
    "program_total": ("专业总学分", "program total"),
    "credits_earned": ("已获学分", "credits earned"),
    "projection": ("按当前进度预计", "projection"),
    "at_risk": ("有超期风险", "at risk"),
    "past_deadline": ("超过截止日期", "past the deadline"),
    "shortfall": ("尚缺学分", "shortfall"),
    "home": ("本校", "home"),
    "recognized": ("互认", "recognized"),
    "converted": ("转换", "converted"),
    "stages": ("学习阶段", "stages"),
    "now": ("至今", "now"),
    "issues": ("问题", "issues"),
    "exceptions": ("例外", "exceptions"),
    # the audit's text and printable page (render, page)
    "page_title": ("毕业资格审核表", "graduation audit"),
    "student_id": ("学号", "student id"),
    "institution": ("学校", "institution"),
    "verdict": ("审核结论", "verdict"),
    "could_leave_with": ("亦可", "could leave with"),
    "part_time": ("非全日制", "part-time 非全日制"),
    "full_time": ("全日制", "full-time"),
    "study_mode": ("学习形式", "mode of study"),
    "credits_by_origin": ("学分构成", "credits by origin"),
    "required": ("应修", "required"),
    "requirements": ("课程要求", "requirements"),
    "unit_credits": ("学分", "credits"),
    "unit_courses": ("门", "courses"),
    "unit_hours": ("学时", "hours"),
    "unit_requirements": ("项已满足", "met"),
    "waived": ("已免修", "waived"),
    "shared": ("共用", "shared"),
    "counting": ("计入", "counting"),
    "note": ("注", "note"),
    "counts_for": ("替代", "for"),
    "end": ("结束", "end"),
    "cumulative": ("累计", "cumulative"),
    "unknown": ("未知", "unknown"),
    "waive": ("免修", "waive"),
    "not_applied": ("未应用", "not applied"),
    "applied": ("已应用", "applied"),
    "decisions": ("审核依据", "decisions that shaped it"),
    "code": ("代码", "code"),
    "reason": ("原因", "reason"),
    "picture_missing": ("未安装绘图组件（matplotlib），此处不显示学习阶段图",
                        "matplotlib is not installed: no picture of the stages"),
    "reviewer": ("审核人", "reviewer"),
    "seal": ("学校（盖章）", "school seal"),
    "none": ("无", "none"),
    "solver": ("分配方法", "allocation method"),
    "stable_until": ("结论有效至", "stable until"),
    "study_periods": ("学籍变动", "study periods"),
    "transcript": ("成绩单", "transcript"),
    "mode_full_time": ("全日制", "full-time"),
    "mode_part_time": ("非全日制", "part-time"),
    "mode_apprentice": ("学徒制", "apprentice"),
    "employer": ("合作企业", "employer"),
    "not_counted": ("未计入", "not counted"),
    "in_requirements": ("仍用于课程要求", "still counts in the requirements"),
    "missing": ("缺", "missing"),
    "time_used": ("已用学习时间（年）", "time used (years)"),
    "entry_year": ("入学年份", "entry year"),
    "total": ("合计", "total"),
    "expected": ("预计", "expected"),
    "log_scale": ("对数刻度", "log scale"),
    "cohort": ("学生情况", "Cohort"),
    "cohort_by_program": ("各专业学生情况", "Cohort by program"),
    "cohort_by_entry_year": ("各入学年份学生情况", "Cohort by entry year"),
    "wall": ("已获学分与已用学习时间", "Credits earned against time used"),
    "students_count": ("{n} 名学生", "{n} students"),
    "not_shown": ("未入学、未显示", "not enrolled, not shown"),
    "attempts": ("修读记录", "attempts"),
    "date": ("日期", "date"),
    "course": ("课程", "course"),
    "title": ("课程名称", "title"),
    "grade": ("成绩", "grade"),
    "attempt": ("修读方式", "attempt"),
    "regular": ("初修", "regular"),
    "makeup": ("补考", "make-up"),
    "retake": ("重修", "retake"),
    "result": ("结果", "result"),
    "passed": ("及格", "passed"),
    "failed": ("不及格", "failed"),
    "counted": ("计入成绩单", "counted"),
    "corrected": ("成绩已更正", "grade corrected"),
    "personal_data": ("个人信息", "personal data"),
    "field": ("项目", "field"),
    "value": ("内容", "value"),
    "plan": ("学习计划", "study plan"),
    "term": ("学期", "term"),
    "hours": ("学时", "hours"),
    "hours_per_term": ("每学期学时", "hours a term"),
    "courses": ("门课程", "courses"),
    "graduation_date": ("预计毕业日期", "graduation date"),
    "skipped": ("不学习", "skipped"),
    "min_hours_per_term": ("赶上截止日期每学期至少需要学时", "least hours a term to meet the deadline"),
    "feasible": ("可行", "feasible"),
    "not_feasible": ("不可行", "not feasible"),
    "nothing_to_plan": ("无需计划", "nothing to plan"),
    "start": ("开始", "start"),
    "秋季": ("秋季", "autumn"),
    "春季": ("春季", "spring"),
    "夏季": ("夏季", "summer"),
}
"""Terms of pictures and reports, (Chinese, English)."""


def _pick(table: dict[str, tuple[str, str]], key: str, lang: str) -> str:
    """The label of ``key`` in ``lang`` from a (Chinese, English) table; the key itself when it has none."""
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}: use one of {', '.join(LANGS)}")
    pair = table.get(key)
    if pair is None:
        return key
    return pair[0] if lang == "zh" else pair[1]


def word(key: str, lang: str = DEFAULT_LANG) -> str:
    """A term of pictures and reports (``WORDS``) in ``lang``; the key itself when there is no label for it."""
    return _pick(WORDS, key, lang)


def status_label(status: str, lang: str = DEFAULT_LANG) -> str:
    """An audit status's label (``STATUS_LABELS``)."""
    return _pick(STATUS_LABELS, str(status), lang)


def award_label(award: str, lang: str = DEFAULT_LANG) -> str:
    """An award's label: 毕业, 结业, 肄业 (``AWARD_LABELS``)."""
    return _pick(AWARD_LABELS, str(award), lang)


def group_label(group: str, lang: str = DEFAULT_LANG) -> str:
    """A cohort group's label (``GROUP_LABELS``)."""
    return _pick(GROUP_LABELS, group, lang)
