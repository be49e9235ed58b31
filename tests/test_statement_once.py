"""A statement counts once per ledger (issue 12, attack 2).

XTJX's signed statement of its student S2 is received here for H1; received again for H2, it used to grant the same
results twice. Now a statement, and the issuing school's student it names, are received for one student of the
ledger: for any other student every item is ``duplicate_outcome`` and nothing is written, whichever school received
it first, whichever statement of that student comes next. A recognition appended by hand (or imported, or by a
second writer that decided at the same time) that would do the same is refused (``received_for_another_student``).
Both engines.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import credit_ledger as cl
from credit_ledger.contexts import RECEIPT_SEARCH_LIMIT, statement_receipts
from credit_ledger.transfer import StatementResult, public_key_hex

D = date
ON = D(2026, 3, 1)
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
TRUSTED = {"XTJX": public_key_hex(KEY), "ZZJX": public_key_hex(KEY)}


def result(course: str, credits: int) -> StatementResult:
    return StatementResult(course=course, title=course, category="core", credits=Decimal(credits), grade=82,
                           occurred_on=D(2025, 6, 30))


def statement(sid: str = "S2", *, statement_id: str | None = None, issuer: str = "XTJX",
              issued: datetime = datetime(2025, 7, 1, tzinfo=timezone.utc),
              courses: tuple[tuple[str, int], ...] = (("XT-CNC1", 6), ("XT-DRAW", 4))) -> cl.TransferStatement:
    return cl.TransferStatement(statement_id=statement_id or f"{issuer}-{sid}-{issued:%Y%m%d}", issuer=issuer,
                                student_id=sid, results=tuple(result(c, n) for c, n in courses),
                                issued_at=issued).sign(KEY)


def enrol(ledger: cl.Ledger, *students: str) -> None:
    ledger.append_many([cl.Enrolled(event_id=f"{s}-enrol", student_id=s, occurred_on=D(2025, 9, 1),
                                    institution="HNJX", program="CNC-SR-2025") for s in students])


@pytest.fixture
def here(ledger: cl.Ledger) -> cl.Ledger:
    """HNJX's students H1, H2 and H3; XTJX's statement of S2 received for H1."""
    enrol(ledger, "H1", "H2", "H3")
    first = ledger.receive_statement(statement(), trusted_keys=TRUSTED, as_of=ON, student_id="H1")
    assert first.credits == Decimal(10) and all(d.accepted for d in first.decisions)
    return ledger


def nothing_granted(res: cl.RecognitionResult, n: int = 2, other: str = "H1") -> None:
    assert [d.code for d in res.decisions] == ["duplicate_outcome"] * n, res
    assert res.credits == 0 and res.events == ()
    assert all(other not in d.message for d in res.decisions)  # the other student is not named


def test_the_same_statement_for_a_second_student_grants_nothing(here):
    before = (here.count(), here.head())
    res = here.receive_statement(statement(), trusted_keys=TRUSTED, as_of=ON, student_id="H2")
    nothing_granted(res)
    assert "statement XTJX-S2-20250701 of XTJX was received for another student" in res.decisions[0].message
    assert (here.count(), here.head()) == before
    assert here.balance("H2").total == 0 and here.balance("H1").total == Decimal(10)
    nothing_granted(here.receive_statement(statement(), trusted_keys=TRUSTED, as_of=ON, student_id="H2",
                                           dry_run=True))


def test_the_default_student_is_the_one_the_statement_names(here):
    """Without ``student_id`` the statement's own id is the student here (S2, not yet in this ledger): that is a
    second student too."""
    enrol(here, "S2")
    nothing_granted(here.receive_statement(statement(), trusted_keys=TRUSTED, as_of=ON))


def test_a_later_statement_of_the_same_student_grants_nothing_to_another(here):
    later = statement(issued=datetime(2026, 1, 5, tzinfo=timezone.utc),
                      courses=(("XT-CNC1", 6), ("XT-DRAW", 4), ("XT-PUB1", 4)))
    res = here.receive_statement(later, trusted_keys=TRUSTED, as_of=ON, student_id="H2")
    nothing_granted(res, 3)
    assert "XTJX's student S2 was received as another student" in res.decisions[0].message
    # for the same student, the later statement grants only what it adds
    res = here.receive_statement(later, trusted_keys=TRUSTED, as_of=ON, student_id="H1")
    assert [d.code for d in res.decisions] == ["duplicate_outcome", "duplicate_outcome", None]
    assert here.balance("H1").total == Decimal(14)


def test_the_same_statement_again_for_the_same_student_grants_nothing_more(here):
    before = here.count()
    res = here.receive_statement(statement(), trusted_keys=TRUSTED, as_of=ON, student_id="H1")
    assert [d.code for d in res.decisions] == ["duplicate_outcome"] * 2 and here.count() == before


def test_another_student_of_the_issuer_is_another_student_here(here):
    res = here.receive_statement(statement("S7"), trusted_keys=TRUSTED, as_of=ON, student_id="H2")
    assert res.credits == Decimal(10)
    res = here.receive_statement(statement("S2", issuer="ZZJX", courses=(("ZZ-ELEC", 4),)), trusted_keys=TRUSTED,
                                 as_of=ON, student_id="H3")  # the same id at another school: another student
    assert res.credits == Decimal(4)


def test_whichever_school_received_it_first(here):
    """Received by the operator's ledger for H1; HNJX acting for itself cannot receive it for H2 (and is not told
    who H1 is)."""
    hnjx = here.acting_for("HNJX")
    nothing_granted(hnjx.receive_statement(statement(), trusted_keys=TRUSTED, as_of=ON, student_id="H2"))


def test_a_statement_received_for_the_wrong_student_is_undone_by_reversing_it(here):
    """H1 was the wrong student: once every recognition of the statement for H1 is reversed, H2 may receive it; while
    one still counts for H1, not."""
    first, second = [e.event_id for e in here.events("H1") if e.kind == "credit_recognized"]
    here.reverse(first, reason="收错学生", occurred_on=D(2026, 3, 2))
    nothing_granted(here.receive_statement(statement(), trusted_keys=TRUSTED, as_of=D(2026, 3, 2), student_id="H2"))
    here.reverse(second, reason="收错学生", occurred_on=D(2026, 3, 2))
    res = here.receive_statement(statement(), trusted_keys=TRUSTED, as_of=D(2026, 3, 2), student_id="H2")
    assert res.credits == Decimal(10)
    assert here.balance("H1").total == 0 and here.balance("H2").total == Decimal(10)
    nothing_granted(here.receive_statement(statement(), trusted_keys=TRUSTED, as_of=D(2026, 3, 3), student_id="H1"),
                    other="H2")


def test_an_append_by_hand_is_refused(here):
    decided = here.receive_statement(statement("S9"), trusted_keys=TRUSTED, as_of=ON, student_id="H2",
                                     dry_run=True)
    here.append_many(decided.events)
    copied = [e.model_copy(update={"event_id": e.event_id.replace("H2", "H3"), "student_id": "H3"})
              for e in decided.events]
    before = (here.count(), here.head())
    with pytest.raises(cl.RejectedEvent) as refused:
        here.append_many(copied)
    assert set(refused.value.codes) == {"received_for_another_student"}
    assert all("H2" not in i.message and "H3" in i.message for i in refused.value.issues)
    assert (here.count(), here.head()) == before


def test_two_writers_deciding_at_once_write_it_once(here, ledger_url, engine):
    """Two schools' systems decide for H2 and H3 at the same moment (both see no earlier receipt); the append that
    comes second is refused in its write transaction."""
    if engine == "sqlite":
        pytest.skip("the in-memory ledger has one handle; the file ledger is tried below")
    other = cl.Ledger.open(ledger_url)
    try:
        mine = here.receive_statement(statement("S9"), trusted_keys=TRUSTED, as_of=ON, student_id="H2",
                                      dry_run=True)
        theirs = other.receive_statement(statement("S9"), trusted_keys=TRUSTED, as_of=ON, student_id="H3",
                                         dry_run=True)
        assert mine.credits == theirs.credits == Decimal(10)
        here.append_many(mine.events)
        with pytest.raises(cl.RejectedEvent) as refused:
            other.append_many(theirs.events)
        assert set(refused.value.codes) == {"received_for_another_student"}
        assert other.balance("H3").total == 0
    finally:
        other.close()


@pytest.mark.sqlite_only
def test_two_writers_on_one_file(file_ledger, ledger_url):
    enrol(file_ledger, "H2", "H3")
    other = cl.Ledger.open(ledger_url)
    try:
        mine = file_ledger.receive_statement(statement("S9"), trusted_keys=TRUSTED, as_of=ON, student_id="H2",
                                             dry_run=True)
        theirs = other.receive_statement(statement("S9"), trusted_keys=TRUSTED, as_of=ON, student_id="H3",
                                         dry_run=True)
        file_ledger.append_many(mine.events)
        with pytest.raises(cl.RejectedEvent):
            other.append_many(theirs.events)
    finally:
        other.close()


@pytest.mark.parametrize("statement_id", ['XTJX-"quoted"', "XTJX-100%_done", "湘机-2025-李娜", "xtjx-s2-20250701"])
def test_ids_as_written_in_json(here, statement_id):
    """Ids with JSON escapes, LIKE's wildcards, Han characters, and an id differing only in case from one received
    (SQLite's LIKE would match it; the search is exact) are found exactly."""
    st = statement("S8", statement_id=statement_id)
    assert here.receive_statement(st, trusted_keys=TRUSTED, as_of=ON, student_id="H2").credits == Decimal(10)
    nothing_granted(here.receive_statement(st, trusted_keys=TRUSTED, as_of=ON, student_id="H3"))


def test_a_bulk_look_up_reads_every_recognition_row_and_finds_the_same(here):
    """Past ``RECEIPT_SEARCH_LIMIT`` ids the look-up reads every recognition row once instead of searching."""
    store = here._store  # the look-up itself
    wanted = {("statement", "XTJX", "XTJX-S2-20250701"), ("student", "XTJX", "S2"), ("student", "XTJX", "S9")}
    extra = {("statement", "XTJX", f"none-{i}") for i in range(RECEIPT_SEARCH_LIMIT)}
    with store.read() as conn:
        few = statement_receipts(store, conn, wanted)
        many = statement_receipts(store, conn, wanted | extra)
    assert few == many and {k: v[0] for k, v in few.items()} == {("statement", "XTJX", "XTJX-S2-20250701"): "H1",
                                                                  ("student", "XTJX", "S2"): "H1"}
    # and an import of many recognitions at once is checked alike
    batch = []
    for i in range(RECEIPT_SEARCH_LIMIT):
        sid = f"B{i}"
        enrol(here, sid)
        decided = here.receive_statement(statement(f"X{i}"), trusted_keys=TRUSTED, as_of=ON, student_id=sid,
                                         dry_run=True)
        batch.extend(decided.events)
    stolen = here.receive_statement(statement(f"X{i}"), trusted_keys=TRUSTED, as_of=ON, student_id="H3",
                                    dry_run=True)
    with pytest.raises(cl.RejectedEvent) as refused:
        here.append_many(batch + list(stolen.events))
    assert {i.student_id for i in refused.value.issues} == {"H3"}
    here.append_many(batch)
    assert here.balance("B0").total == Decimal(10)
