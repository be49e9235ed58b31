"""The ledger's own mechanics: the recorded_by stamp, reversal ids, the check-context cache across writers."""

from __future__ import annotations

import json
import sqlite3
from datetime import date

import pytest

import credit_ledger as cl


def enrol(student="S1", day=date(2025, 9, 1), **kw):
    return cl.Enrolled(event_id=f"{student}-enrol", student_id=student, occurred_on=day, institution="HNJX",
                       program=kw.pop("program", "CNC-SR-2025"), **kw)


def course(eid, student="S1", day=date(2026, 1, 10), code="MECH101", grade=80, **kw):
    return cl.CourseCompleted(event_id=eid, student_id=student, occurred_on=day, institution="HNJX", course=code,
                              grade=grade, **kw)


@pytest.mark.sqlite_only
def test_recorded_by_is_stamped_even_when_ids_look_like_json(file_ledger, tmp_path):
    tricky = 'x","recorded_by":null,"y":"'
    file_ledger.append(enrol())
    file_ledger.append(course(tricky))
    stored = file_ledger.events("S1")[-1]
    assert stored.event_id == tricky and stored.recorded_by == "HNJX"
    row = sqlite3.connect(tmp_path / "ledger.db").execute(
        "SELECT payload, recorded_by FROM events WHERE seq = 2").fetchone()
    assert json.loads(row[0])["recorded_by"] == "HNJX" == row[1]
    assert file_ledger.verify().ok
    # the identical event again, with or without the stamp, is the same fact
    assert file_ledger.append(course(tricky)) == file_ledger.append(stored)


def test_reverse_again_with_other_details_is_already_reversed(ledger):
    ledger.append(enrol())
    ledger.append(course("c1"))
    first = ledger.reverse("c1", reason="wrong student", occurred_on=date(2026, 2, 1))
    assert ledger.reverse("c1", reason="wrong student", occurred_on=date(2026, 2, 1)) == first
    with pytest.raises(cl.RejectedEvent) as refused:
        ledger.reverse("c1", reason="again", occurred_on=date(2026, 3, 1))
    assert refused.value.codes == ["already_reversed"]
    assert not isinstance(refused.value, cl.DuplicateEvent)


def test_another_writer_invalidates_the_cached_context(ledger_url, catalog):
    """Ledger A has checked S1 before; ledger B (another process, same file) suspends S1; A must see it."""
    path = ledger_url
    a = cl.Ledger.open(path, create=True)
    a.load_catalog(catalog)
    b = cl.Ledger.open(path)
    a.append(enrol())
    a.append(course("c1"))
    b.append(cl.Suspended(event_id="S1-susp", student_id="S1", occurred_on=date(2026, 2, 1)))
    with pytest.raises(cl.RejectedEvent) as refused:
        a.append(course("c2", day=date(2026, 3, 1), code="MECH102"))
    assert refused.value.codes == ["suspended"]
    b.append(cl.Resumed(event_id="S1-res", student_id="S1", occurred_on=date(2026, 4, 1)))
    a.append(course("c3", day=date(2026, 4, 2), code="MECH102"))
    assert a.balance("S1").total == 8
    assert a.verify().ok
    a.close()
    b.close()


def test_a_refused_batch_leaves_the_cache_as_it_was(ledger):
    ledger.append(enrol())
    with pytest.raises(cl.RejectedEvent):
        ledger.append_many([cl.Suspended(event_id="s", student_id="S1", occurred_on=date(2026, 1, 1)),
                            course("bad", code="NOPE")])
    # had the refused suspension leaked into the cached context, this course would be refused as suspended
    ledger.append(course("c1", day=date(2026, 2, 1)))
    assert ledger.balance("S1").total == 4


def test_makeups_are_counted_from_the_ledger_not_from_the_cache(ledger):
    ledger.append(enrol())
    ledger.append(course("c1", grade=40))
    ledger.append(course("c2", grade=65, attempt="makeup", day=date(2026, 2, 1)))
    ledger.append(course("c3", code="MECH102"))  # another batch: the student's context is now cached
    with pytest.raises(cl.RejectedEvent) as refused:
        ledger.append(course("c4", grade=90, attempt="makeup", day=date(2026, 3, 1)))
    assert refused.value.codes == ["makeup_limit"]
    ledger.reverse("c2", reason="recorded for the wrong course", occurred_on=date(2026, 3, 2))
    ledger.append(course("c5", grade=90, attempt="makeup", day=date(2026, 3, 3)))


def test_catalog_reloaded_from_another_writer(ledger_url, catalog):
    path = ledger_url
    a = cl.Ledger.open(path, create=True)
    b = cl.Ledger.open(path)
    a.load_catalog(catalog)
    b.append(enrol())  # b has not seen the catalog yet; it must pick it up from the store
    assert b.count() == 1
    a.close()
    b.close()


def _big_batch(n, first=0):
    return [course(f"g{i}", code=("MECH101", "MECH102", "ELEC101")[i % 3], grade=70 + i % 30)
            for i in range(first, first + n)]


def test_bulk_append_restores_the_garbage_collector(ledger):
    import gc

    ledger.append(enrol())
    assert gc.isenabled()
    ledger.append_many(_big_batch(1200))
    assert gc.isenabled()
    with pytest.raises(cl.RejectedEvent):
        ledger.append_many(_big_batch(1200, 5000) + [course("bad", code="NOPE")])
    assert gc.isenabled()
    gc.disable()
    try:
        ledger.append_many(_big_batch(1200, 9000))
        assert not gc.isenabled()  # the caller's choice is kept
    finally:
        gc.enable()


def test_a_second_handle_never_leaves_stale_chain_heads(ledger_url, catalog):
    """Found by the stateful machine: A's cache must forget students B wrote for, not only the batch's."""
    path = ledger_url
    a = cl.Ledger.open(path, create=True)
    a.load_catalog(catalog)
    b = cl.Ledger.open(path)
    for s in ("S1", "S2"):
        a.append(enrol(s))
    b.append(course("S2-MECH101", student="S2", day=date(2025, 10, 1)))
    a.append(course("S1-MECH101", student="S1", day=date(2025, 10, 2)))
    a.append(course("S2-CNC201", student="S2", code="CNC201", day=date(2025, 10, 3)))
    b.append(cl.Suspended(event_id="S1-susp", student_id="S1", occurred_on=date(2025, 11, 1)))
    a.append(course("S2-MECH102", student="S2", code="MECH102", day=date(2025, 11, 2)))
    with pytest.raises(cl.RejectedEvent) as refused:  # A must know S1 is suspended, though it was B that wrote it
        a.append(course("S1-MECH102", student="S1", code="MECH102", day=date(2025, 11, 3)))
    assert refused.value.codes == ["suspended"]
    assert a.verify().ok and a.count() == 7
    a.close()
    b.close()


def test_a_suspension_ends_its_day(ledger):
    ledger.append(enrol())
    ledger.append(cl.Suspended(event_id="s", student_id="S1", occurred_on=date(2026, 1, 10)))
    # a course dated the day the suspension starts was studied before it
    ledger.append(course("c1", day=date(2026, 1, 10)))
    with pytest.raises(cl.RejectedEvent) as refused:
        ledger.append(cl.Resumed(event_id="r", student_id="S1", occurred_on=date(2026, 1, 10)))
    assert refused.value.codes == ["not_suspended"] and "next day" in refused.value.issues[0].message
    assert ledger.status("S1", date(2026, 1, 10)) == "suspended"


def test_append_many_receipts_are_a_sequence_in_the_order_given(ledger):
    ledger.append(enrol())
    first = ledger.append(course("c1"))
    receipts = ledger.append_many([course("c2", code="MECH102"), course("c1"), course("c2", code="MECH102"),
                                   course("c3", code="ELEC101")])
    assert len(receipts) == 4
    assert [r.event_id for r in receipts] == ["c2", "c1", "c2", "c3"]
    assert receipts[1] == first and receipts[0] == receipts[2]
    assert receipts[-1].seq == receipts[0].seq + 1
    assert receipts[1:3] == [first, receipts[0]]
    assert receipts == receipts.to_list() and receipts.to_list() == list(receipts)
    assert receipts != receipts[:3] and receipts != "c1"
    assert "Receipt(" in repr(receipts)
    assert ledger.append_many([]) == []
    with pytest.raises(ValueError):
        cl.Receipts([1], ["a", "b"], ["h"])


def test_receipts_say_how_many_events_the_call_wrote(ledger):
    assert ledger.append_many([enrol(), course("c1")]).written == 2
    assert ledger.append_many([enrol(), course("c1")]).written == 0  # the same facts again: nothing written
    mixed = ledger.append_many([course("c1"), course("c2", code="MECH102"), course("c2", code="MECH102")])
    assert (len(mixed), mixed.written) == (3, 1)  # an event given twice in one call is written once
    assert ledger.append_many([]).written == 0
    with pytest.raises(ValueError):
        cl.Receipts([1], ["a"], ["h"], written=2)


def test_the_context_cache_is_bounded():
    from credit_ledger.contexts import StudentContexts
    from credit_ledger.history import StudentContext
    from credit_ledger.storage import Store

    store = Store.open()
    kept = StudentContexts(store, limit=8)
    students = [f"B{i:02d}" for i in range(20)]
    kept.keep({s: (StudentContext.of(s), None) for s in students}, {s: (1, "0" * 64) for s in students}, seq=20)
    assert 0 < len(kept) <= 8
    store.close()


def test_students_evicted_from_the_context_cache_are_read_back(ledger_url, catalog, monkeypatch):
    from credit_ledger import contexts

    monkeypatch.setattr(contexts, "CACHE_STUDENTS", 8)  # a ledger opened now keeps at most 8 students' contexts
    with cl.Ledger.open(ledger_url, create=True) as ledger:
        ledger.load_catalog(catalog)
        students = [f"B{i:02d}" for i in range(20)]
        ledger.append_many([enrol(s) for s in students])
        # evicted students are read back from the ledger, and their checks still hold
        ledger.append_many([course(f"{s}-c", student=s) for s in students])
        with pytest.raises(cl.RejectedEvent) as refused:
            ledger.append_many([
                cl.Enrolled(event_id="again", student_id=students[0], occurred_on=date(2026, 2, 1),
                            institution="HNJX", program="CNC-SR-2025")])
        assert refused.value.codes == ["already_enrolled"]
        assert all(ledger.balance(s).total == 4 for s in students)


def test_a_model_that_is_not_an_event_is_refused(ledger):
    with pytest.raises(TypeError):
        ledger.append(cl.Receipt(seq=1, event_id="e", event_hash="h"))
    assert ledger.count() == 0


def test_plain_data_is_read_as_an_event(ledger):
    ledger.append({"kind": "enrolled", "event_id": "S1-enrol", "student_id": "S1", "occurred_on": "2025-09-01",
                   "institution": "HNJX", "program": "CNC-SR-2025"})
    assert ledger.status("S1", date(2025, 9, 1)) == "active"
