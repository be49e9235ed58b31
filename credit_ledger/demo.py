"""The demo: a worker-student's part-time study (非全日制) in stages, recorded in an embedded SQLite ledger.

Li Na works as a maintenance electrician at 湘江重工 and studies 机电一体化 part-time at 湖南湘江技师学院. In her
first two years she fails a course and passes the make-up exam (补考), retakes another (重修) for a better grade,
suspends her study (休学) for a busy season at work, resumes (复学), and keeps earning credits; the audit of that
summer says what is missing and when, at her pace, she would finish. She finishes in stages (分阶段完成学业) and
graduates, marked part-time, once the audit supports it. ``run`` records all of it and returns the ledger; ``main``
prints her transcript, balance, both audits and, after the first, her study plan (``Ledger.plan``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from .ledger import Ledger
from .models import Catalog, CourseCompleted, Enrolled, Graduated, Resumed, Suspended
from .render import periods_text, transcript_text

STUDENT = "HNJX-2024-PT-0317"
MIDWAY = date(2026, 7, 31)
"""The day of the first audit shown: after two years, one of them with a suspension."""
GRADUATION = date(2028, 7, 10)
PLAN_START = date(2026, 9, 1)
PLAN_HOURS = 120
"""Her study plan after the first audit: from the next autumn, with the class hours a term her shifts leave."""


def demo_events() -> list[Any]:
    """The events of the demo student, in the order a registrar would record them."""
    s, hnjx = STUDENT, "HNJX"

    def course(n: int, day: date, code: str, grade: Any, attempt: str = "regular", term: str = "") -> Any:
        return CourseCompleted(event_id=f"{s}-c{n:02d}", student_id=s, occurred_on=day, institution=hnjx,
                               course=code, grade=grade, attempt=attempt, term=term)

    return [
        Enrolled(event_id=f"{s}-enrol", student_id=s, occurred_on=date(2024, 9, 1), institution=hnjx,
                 program="MECH-PT-2024", mode="part_time", employer="湘江重工装备有限公司"),
        course(1, date(2025, 1, 10), "PUB101", 82, term="2024-2025-1"),
        course(2, date(2025, 1, 12), "MT101", 54, term="2024-2025-1"),
        course(3, date(2025, 1, 15), "ELEC101", "良", term="2024-2025-1"),
        course(4, date(2025, 3, 5), "MT101", 71, attempt="makeup", term="2024-2025-2"),
        course(5, date(2025, 6, 28), "MT102", 63, term="2024-2025-2"),
        course(6, date(2025, 6, 30), "PUB106", "合格", term="2024-2025-2"),
        Suspended(event_id=f"{s}-suspend", student_id=s, occurred_on=date(2025, 9, 1),
                  reason="企业生产旺季，申请休学一学期"),
        Resumed(event_id=f"{s}-resume", student_id=s, occurred_on=date(2026, 2, 24), reason="复学"),
        course(7, date(2026, 6, 26), "MT102", 88, attempt="retake", term="2025-2026-2"),
        course(8, date(2026, 6, 29), "MT201", 77, term="2025-2026-2"),
        course(9, date(2026, 7, 3), "PUB102", "中", term="2025-2026-2"),
        course(10, date(2026, 7, 20), "MT301", "优", term="2025-2026-2"),
        course(11, date(2027, 1, 8), "MT103", 79, term="2026-2027-1"),
        course(12, date(2027, 1, 10), "PUB103", 70, term="2026-2027-1"),
        course(13, date(2027, 1, 12), "MECH102", "良", term="2026-2027-1"),
        course(14, date(2027, 1, 14), "PUB107", "合格", term="2026-2027-1"),
        Suspended(event_id=f"{s}-suspend-2", student_id=s, occurred_on=date(2027, 3, 1),
                  reason="外派设备安装项目，申请休学"),
        Resumed(event_id=f"{s}-resume-2", student_id=s, occurred_on=date(2027, 9, 1), reason="复学"),
        course(15, date(2028, 1, 6), "MT202", 84, term="2027-2028-1"),
        course(16, date(2028, 1, 8), "PUB104", 66, term="2027-2028-1"),
        course(17, date(2028, 1, 9), "CNC203", 90, term="2027-2028-1"),
        course(18, date(2028, 1, 10), "PRA305", "优", term="2027-2028-1"),
        course(19, date(2028, 1, 11), "EL101", 75, term="2027-2028-1"),
        course(20, date(2028, 6, 20), "PRA301", "良", term="2027-2028-2"),
        course(21, date(2028, 6, 24), "MECH101", 81, term="2027-2028-2"),
        course(22, date(2028, 6, 26), "PUB108", "合格", term="2027-2028-2"),
        course(23, date(2028, 6, 27), "PUB109", "合格", term="2027-2028-2"),
        course(24, date(2028, 6, 28), "EL103", 72, term="2027-2028-2"),
        Graduated(event_id=f"{s}-graduated", student_id=s, occurred_on=GRADUATION, award="graduation",
                  program="MECH-PT-2024", part_time=True),
    ]


def run(db_url: str | None = None) -> Ledger:
    """Record the demo in a ledger at ``db_url`` (in memory when ``None``; made when there is none) and return it.
    Safe to run twice: re-appending identical events is a no-op."""
    ledger = Ledger.open(db_url, create=True)
    ledger.load_catalog(Catalog.sample())
    ledger.append_many(demo_events())
    return ledger


def render(ledger: Ledger, student_id: str = STUDENT) -> str:
    """The student's study periods, transcript and balance as text."""
    lines = [render_periods(ledger, student_id), "", render_transcript(ledger, student_id), ""]
    balance = ledger.balance(student_id)
    origins = {"home": "本校", "recognized": "互认", "converted": "转换"}
    lines.append(f"学分合计 {balance.total}")
    lines.append("  按来源：" + "，".join(f"{origins.get(k, k)} {v}" for k, v in balance.by_origin.items()))
    lines.append("  按类别：" + "，".join(f"{k} {v}" for k, v in balance.by_category.items()))
    lines += ["", f"== {MIDWAY} 毕业资格审核（入学两年后，Audit of {MIDWAY}） ==",
              ledger.audit(student_id, as_of=MIDWAY).to_text()]
    plan = ledger.plan(student_id, start=PLAN_START, hours_per_term=PLAN_HOURS, as_of=MIDWAY)
    lines += ["", f"== 她的学习计划：{PLAN_START} 起，每学期 {PLAN_HOURS} 学时（her study plan） ==", plan.to_text()]
    lines += ["", f"== {GRADUATION} 毕业资格审核（毕业当天，Audit of {GRADUATION}） ==",
              ledger.audit(student_id, as_of=GRADUATION).to_text()]
    report = ledger.verify()
    lines.append("")
    lines.append(f"账本校验（verify）：{'通过' if report.ok else '未通过'}，核对 {report.checked} 行")
    return "\n".join(lines)


def render_periods(ledger: Ledger, student_id: str) -> str:
    """The student's status changes (enrolment, suspension 休学, resumption 复学, ...) as text."""
    return periods_text(student_id, ledger.events(student_id))


def render_transcript(ledger: Ledger, student_id: str, as_of: date | None = None) -> str:
    """The student's transcript as a text table."""
    return transcript_text(student_id, ledger.transcript(student_id, as_of), as_of)


def main(db_url: str | None = None) -> str:
    """Run the demo and print (and return) what it decided."""
    ledger = run(db_url)
    try:
        text = render(ledger)
    finally:
        ledger.close()
    print(text)
    return text
