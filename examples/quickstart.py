"""Quickstart: open a ledger, load the sample catalog, record a student's first term, read it back.

Run it with ``python examples/quickstart.py`` (a throwaway in-memory ledger) or call ``main("sqlite:///x.db")``.
"""

from __future__ import annotations

from datetime import date

import credit_ledger as cl


def main(db_url: str | None = None) -> cl.Balance:
    ledger = cl.Ledger.open(db_url, create=True)
    ledger.load_catalog(cl.Catalog.sample())
    ledger.append(cl.Enrolled(event_id="S001-enrol", student_id="S001", occurred_on=date(2025, 9, 1),
                              institution="HNJX", program="CNC-SR-2025", mode="full_time"))
    ledger.append_many([
        cl.CourseCompleted(event_id="S001-MECH101", student_id="S001", occurred_on=date(2026, 1, 12),
                           institution="HNJX", course="MECH101", grade=86, term="2025-2026-1"),
        cl.CourseCompleted(event_id="S001-PUB101", student_id="S001", occurred_on=date(2026, 1, 14),
                           institution="HNJX", course="PUB101", grade="良", term="2025-2026-1"),
        cl.CourseCompleted(event_id="S001-PRA301", student_id="S001", occurred_on=date(2026, 1, 20),
                           institution="HNJX", course="PRA301", grade="合格", term="2025-2026-1"),
    ])
    try:
        ledger.append(cl.CourseCompleted(event_id="S001-CNC201", student_id="S001", occurred_on=date(2025, 8, 1),
                                         institution="HNJX", course="CNC201", grade=90))
    except cl.RejectedEvent as refused:
        print("refused:", refused.issues[0].code, "-", refused.issues[0].message)
    for record in ledger.transcript("S001").records:
        print(record.occurred_on, record.course, record.title, record.credits, record.grade)
    balance = ledger.balance("S001")
    print("total", balance.total, "by category", balance.by_category)
    print("verified:", ledger.verify().ok)
    ledger.close()
    return balance


if __name__ == "__main__":
    main()
