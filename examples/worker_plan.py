"""A worker plans her study around her shifts (企业职工利用业余时间分阶段完成学业).

Wang Fang runs a CNC lathe on rotating shifts at 湘江重工 and studies 机电一体化 part-time at 湖南湘江技师学院. After a
first year of study she suspended (休学) for a year of overtime; she resumes this autumn. Her shifts leave her about
100 class hours a term, and next spring, the plant's busy season, none. What does she take, term by term, and when
does she graduate? And if she converts her 中级 electrician certificate (电工) first?

Run it with ``python examples/worker_plan.py`` (a throwaway in-memory ledger) or call ``main("sqlite:///x.db")``.
"""

from __future__ import annotations

from datetime import date

import credit_ledger as cl

STUDENT = "HNJX-2024-PT-0588"
DONE = ("PUB101", "PUB102", "PUB103", "PUB104", "MT101", "MT103", "MT202", "PRA301", "PRA305", "EL101", "EL102",
        "MECH101", "MECH102")
START = date(2026, 9, 1)
BUSY_SEASON = date(2027, 4, 1)  # a day inside the spring term she will not study in
HOURS = 100


def main(db_url: str | None = None) -> tuple[cl.StudyPlan, cl.StudyPlan]:
    ledger = cl.Ledger.open(db_url, create=True)
    ledger.load_catalog(cl.Catalog.sample())
    s = STUDENT
    ledger.append_many([
        cl.Enrolled(event_id=f"{s}-enrol", student_id=s, occurred_on=date(2024, 9, 1), institution="HNJX",
                    program="MECH-PT-2024", mode="part_time", employer="湘江重工装备有限公司"),
        *[cl.CourseCompleted(event_id=f"{s}-{code}", student_id=s, occurred_on=date(2025, 6, 20 + i % 10),
                             institution="HNJX", course=code, grade=78) for i, code in enumerate(DONE)],
        cl.Suspended(event_id=f"{s}-suspend", student_id=s, occurred_on=date(2025, 9, 1),
                     reason="生产任务重，休学一年"),
        cl.Resumed(event_id=f"{s}-resume", student_id=s, occurred_on=date(2026, 8, 25), reason="复学"),
    ])
    before = ledger.plan(s, start=START, hours_per_term=HOURS, skip_terms=[BUSY_SEASON])
    print(before.to_text())
    ledger.convert(s, [cl.Outcome(type="certificate", outcome_id="ELEC-L4-2026-0588", title="电工",
                                  level="intermediate", issued_on=date(2026, 6, 1))], as_of=date(2026, 8, 28))
    after = ledger.plan(s, start=START, hours_per_term=HOURS, skip_terms=[BUSY_SEASON])
    print()
    print("After converting the 中级 electrician certificate:")
    print(after.to_text())
    saved = len(before.terms) - len(after.terms)
    print(f"\n{saved} term(s) sooner: graduation {before.graduation_date} -> {after.graduation_date}")
    ledger.close()
    return before, after


if __name__ == "__main__":
    main()
