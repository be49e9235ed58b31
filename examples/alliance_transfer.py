"""Alliance transfer: a student moves from a partner school (XTJX) to the college (HNJX), each with its own ledger.

XTJX records the student's courses and issues a signed transfer statement, a plain JSON file. HNJX trusts XTJX's
public key, refuses a tampered copy of the file, receives the real one under the alliance's agreement, decides the
student's 中级 certificate (its courses are recognised already) and provincial second prize, and prints the
decisions, the student's balance and her graduation audit at HNJX (what still stands between her and the
diploma, with the recognised and converted credits counted under the program's caps).

Run it with ``python examples/alliance_transfer.py`` (throwaway in-memory ledgers) or call
``main("sqlite:///hnjx.db")``: HNJX's ledger is that file, XTJX's a file beside it (``hnjx-xtjx.db``).
"""

from __future__ import annotations

from datetime import date

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import credit_ledger as cl


def partner_url(db_url: str | None) -> str | None:
    """XTJX's ledger beside HNJX's: ``sqlite:///x/hnjx.db`` -> ``sqlite:///x/hnjx-xtjx.db``; in memory otherwise."""
    if db_url and db_url.startswith("sqlite:///") and db_url.endswith(".db"):
        return db_url[:-3] + "-xtjx.db"
    return None


def main(db_url: str | None = None) -> tuple[cl.RecognitionResult, cl.Balance]:
    catalog = cl.Catalog.sample()
    xtjx_key = Ed25519PrivateKey.generate()          # XTJX keeps this; it publishes public_key_hex(xtjx_key)

    # -- school A: XTJX records the student's study and issues a signed statement -------------------------------
    # the province's catalog is loaded by an unrestricted handle; each school then acts only as itself
    setup_a = cl.Ledger.open(partner_url(db_url), create=True)  # made on the first run, opened on the next
    setup_a.load_catalog(catalog)
    school_a = setup_a.acting_for("XTJX")
    school_a.append(cl.Enrolled(event_id="XT-2024-017-enrol", student_id="XT-2024-017", occurred_on=date(2024, 9, 1),
                                institution="XTJX", program="XT-CNC-2024"))
    school_a.append_many([
        cl.CourseCompleted(event_id=f"XT-2024-017-{course}", student_id="XT-2024-017", occurred_on=day,
                           institution="XTJX", course=course, grade=grade)
        for course, grade, day in (("XT-DRAW", 78, date(2025, 1, 10)), ("XT-CNC1", "良", date(2025, 1, 12)),
                                   ("XT-PUB1", 52, date(2025, 1, 14)), ("XT-CNC2", 83, date(2025, 6, 28)),
                                   ("XT-PRA", "合格", date(2025, 7, 4)))
    ])
    school_a.append(cl.Withdrawn(event_id="XT-2024-017-leave", student_id="XT-2024-017",
                                 occurred_on=date(2025, 7, 15), reason="转学至湖南湘江技师学院"))
    statement_file = school_a.issue_statement("XT-2024-017", key=xtjx_key).to_json()
    print(f"XTJX issued statement ({len(statement_file.encode())} bytes): "
          f"{[r.course for r in cl.TransferStatement.from_json(statement_file).results]}")
    school_a.close()

    # -- school B: HNJX enrols the student and receives the statement ------------------------------------------
    setup_b = cl.Ledger.open(db_url, create=True)
    setup_b.load_catalog(catalog)
    school_b = setup_b.acting_for("HNJX")
    student = "HN-2025-0301"
    school_b.append(cl.Enrolled(event_id=f"{student}-enrol", student_id=student, occurred_on=date(2025, 9, 1),
                                institution="HNJX", program="CNC-SR-2025"))
    trusted = {"XTJX": cl.public_key_hex(xtjx_key)}

    tampered = statement_file.replace('"credits":"6.00"', '"credits":"9.00"', 1)
    try:
        school_b.receive_statement(tampered, trusted_keys=trusted, student_id=student, as_of=date(2025, 9, 10))
    except cl.BadSignature as refused:
        print("refused a tampered copy:", refused)

    result = school_b.receive_statement(statement_file, trusted_keys=trusted, student_id=student,
                                        as_of=date(2025, 9, 10))
    print(result)
    certificate = cl.Outcome(type="certificate", outcome_id="NC-4-2025-08812", title="数控车工", level="中级",
                             issued_on=date(2025, 8, 20), valid_until=date(2030, 8, 19))
    award = cl.Outcome(type="competition", outcome_id="HN-JNDS-2025-0457", title="湖南省职业技能大赛 数控车",
                       level="省级", rank=2, issued_on=date(2025, 8, 30))
    print(school_b.convert(student, [certificate, award], as_of=date(2025, 9, 12)))

    for record in school_b.transcript(student).records:
        source = record.source_institution or record.outcome_id
        print(f"  {record.origin:<10} {record.course or record.category:<8} {record.credits:>6}  {record.title} "
              f"(from {source}, {record.rule})")
    balance = school_b.balance(student)
    print("balance:", balance.total, dict(balance.by_origin))
    print(school_b.audit(student, as_of=date(2025, 9, 12)).to_text())
    print("verified:", school_b.verify().ok)
    school_b.close()
    return result, balance


if __name__ == "__main__":
    main()
