"""Cohort analysis, notebook style: a synthetic cohort, exported for Datasette, analysed with pandas, drawn as PNG.

Each ``# %%`` cell is what an analyst would run in a notebook (Jupyter, or VS Code's cells). The cohort is 60
invented students of the sample catalog's college (湖南湘江技师学院): 40 full-time in 数控加工 and 20 employees
studying 机电一体化 part-time (非全日制), each at their own pace, a few failing a course, a few suspending (休学)
and resuming (复学). Everything is seeded, so every run draws the same cohort.

Needs the ``notebook`` extra: ``pip install 'credit-ledger[notebook]'``. Run it with
``python examples/cohort_analysis.py`` (an in-memory ledger, outputs in a temporary directory) or call
``main("sqlite:///cohort.db")``: the analysis file (``cohort-analysis.db``, open it with ``datasette``) and the
pictures are written beside the ledger file.
"""

from __future__ import annotations

import random
import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import credit_ledger as cl
from credit_ledger.exports import export_sqlite, to_pandas
from credit_ledger.plots import cohort_counts, plot_cohort, plot_student

AS_OF = date(2026, 7, 31)
"""The day of the analysis (fixed, so the example decides the same on any day)."""
STUDENTS = 60

FULL_TIME = ("CNC-SR-2025", ["PUB101", "MECH101", "PUB102", "PRA301", "MECH102", "PUB103", "CNC201", "ELEC101",
                             "PUB104", "CNC202", "PRA302", "PUB105", "EL101", "PUB106", "PRA303", "EL102"])
PART_TIME = ("MECH-PT-2024", ["PUB101", "MT101", "ELEC101", "MT102", "PUB106", "MT201", "PUB102", "MT301", "MT103",
                              "PUB103", "MT202", "PUB107"])


def cohort_events(seed: int = 2026) -> list[Any]:
    """The events of the synthetic cohort: enrolment, two to four courses a term, some failures and suspensions."""
    rng = random.Random(seed)
    events: list[Any] = []
    for n in range(STUDENTS):
        part_time = n >= 40
        program, courses = PART_TIME if part_time else FULL_TIME
        sid = f"HNJX-{'PT' if part_time else 'FT'}-{n:03d}"
        start = date(2024, 9, 1) if part_time or n % 2 else date(2025, 9, 1)
        events.append(cl.Enrolled(event_id=f"{sid}-enrol", student_id=sid, occurred_on=start, institution="HNJX",
                                  program=program, mode="part_time" if part_time else "full_time",
                                  employer="湘江重工装备有限公司" if part_time else None))
        pace = rng.choice((2, 3, 4)) if not part_time else rng.choice((1, 2, 3))
        suspended = n % 13 == 5  # a few students suspend for their second year's first term
        term, taken = 0, 0
        while taken < len(courses):
            term_end = _term_end(start, term)
            if term_end > AS_OF:
                break
            if suspended and term == 2:
                events.append(cl.Suspended(event_id=f"{sid}-suspend", student_id=sid,
                                           occurred_on=term_end - timedelta(days=120), reason="休学一学期"))
                events.append(cl.Resumed(event_id=f"{sid}-resume", student_id=sid,
                                         occurred_on=term_end + timedelta(days=20), reason="复学"))
                term += 1
                continue
            for i, code in enumerate(courses[taken:taken + pace]):
                score = rng.randint(45, 59) if rng.random() < 0.1 else rng.randint(60, 98)  # one in ten fails
                events.append(cl.CourseCompleted(event_id=f"{sid}-{code}", student_id=sid, institution="HNJX",
                                                 occurred_on=term_end - timedelta(days=i), course=code, grade=score,
                                                 term=f"term-{term + 1}"))
            taken += pace
            term += 1
        if n in (7, 29):  # one leaves (退学), one suspends for the coming year
            cls, reason = (cl.Withdrawn, "外出务工") if n == 7 else (cl.Suspended, "病休")
            events.append(cls(event_id=f"{sid}-leave", student_id=sid, occurred_on=date(2026, 7, 10),
                              reason=reason))
    return events


def certificates() -> dict[str, cl.Outcome]:
    """Every tenth full-time student holds a 数控车工 (foundation level) certificate, converted into credits."""
    return {f"HNJX-FT-{n:03d}": cl.Outcome(type="certificate", outcome_id=f"CERT-2026-{n:04d}", title="数控车工",
                                          level="foundation", issued_on=date(2026, 6, 1))
            for n in range(1, 40, 10)}


def _term_end(start: date, term: int) -> date:
    """The last exam day of a term: mid-January and late June of each school year."""
    year = start.year + 1 + term // 2
    return date(year, 1, 15) if term % 2 == 0 else date(year, 6, 28)


def main(db_url: str | None = None) -> dict[str, Any]:
    # %% the cohort, recorded in a ledger
    ledger = cl.Ledger.open(db_url, create=True)
    ledger.load_catalog(cl.Catalog.sample())
    ledger.append_many(cohort_events())
    for sid, certificate in certificates().items():  # 1+X certificates -> credits (学分转换)
        ledger.convert(sid, [certificate], as_of=AS_OF)
    with tempfile.TemporaryDirectory(prefix="cohort-") as scratch:
        out = Path(scratch)
        if db_url and db_url.startswith("sqlite:///") and db_url.endswith(".db"):
            out = Path(db_url.removeprefix("sqlite:///")).parent  # beside the ledger file
            stem = Path(db_url).stem
        else:
            stem = "cohort"

        # %% export for Datasette, labels beside it: `datasette cohort-analysis.db -m cohort-analysis.metadata.json`
        analysis = out / f"{stem}-analysis.db"
        counts = export_sqlite(ledger, analysis, as_of=AS_OF)
        print("exported", ", ".join(f"{k} {v}" for k, v in counts.items()), "->", analysis.name)

        # %% pandas: credits by category and origin, eligible share, at-risk students
        frames = to_pandas(ledger, as_of=AS_OF)
        records, audits = frames["transcript_records"], frames["audits"]
        by_category = records.groupby("category")["credits"].sum().sort_values(ascending=False)
        by_program = audits.groupby("program")["total"].mean().round(1)
        eligible_share = float(audits["eligible"].mean()) if len(audits) else 0.0
        print("credits by category:", ", ".join(f"{k} {v:g}" for k, v in by_category.items()))
        print("mean credits by program:", ", ".join(f"{k} {v:g}" for k, v in by_program.items()))
        print(f"eligible share: {eligible_share:.0%}; at risk of the deadline: {int(audits['at_risk'].sum())}")

        # %% pictures: the cohort, and the student furthest along
        reports = list(ledger.audit_all(as_of=AS_OF))
        groups = cohort_counts(reports)
        print("cohort:", ", ".join(f"{k} {v}" for k, v in groups.items()))
        leader = max(reports, key=lambda r: (r.credits.total, r.student_id))
        pictures = {"cohort": out / f"{stem}-cohort.png", "student": out / f"{stem}-{leader.student_id}.png"}
        sizes = {"cohort": len(plot_cohort(reports, pictures["cohort"])),
                 "student": len(plot_student(leader, pictures["student"]))}
        print("pictures:", ", ".join(f"{p.name} ({sizes[k]} bytes)" for k, p in pictures.items()))
        result = {
            "exported": counts, "students": len(frames["students"]), "audited": len(reports),
            "credits_by_category": {k: float(v) for k, v in by_category.items()},
            "eligible_share": eligible_share, "cohort": groups, "png_sizes": sizes,
            "pictures": {k: str(p) for k, p in pictures.items()}, "analysis_db": str(analysis),
            "ledger_credits": sum(ledger.balance(s, as_of=AS_OF).total for s in ledger.students()),
        }
    ledger.close()
    return result


if __name__ == "__main__":
    main()
