"""Imports stream a file in batches: all or nothing still holds over the whole file (one write transaction), the
duplicate and look-alike checks still see the whole file, every problem names the lines it named when the file was
appended as one batch, and the progress counts rows as they are read. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

import credit_ledger as cl
from credit_ledger.errors import ImportFileError, RejectedEvent
from credit_ledger.imports import import_events

HEADER = "kind,event_id,student_id,occurred_on,institution,program,mode,course,grade,attempt,term\n"
COURSES = ("PUB101", "MT101", "PUB106")


def enrol(sid: str, eid: str | None = None) -> str:
    return f"enrolled,{eid or sid + '-enrol'},{sid},2024-09-01,HNJX,MECH-PT-2024,part_time,,,,\n"


def course(sid: str, eid: str, code: str = "PUB101", grade: str = "80", day: str = "2025-01-10") -> str:
    return f"course_completed,{eid},{sid},{day},HNJX,,,{code},{grade},,2024-2025-1\n"


def good_file(students: int, per_student: int) -> list[str]:
    rows = [enrol(f"S{i}") for i in range(students)]
    for k in range(per_student):
        rows += [course(f"S{i}", f"S{i}-c{k}", COURSES[k % 3], str(60 + k)) for i in range(students)]
    return rows


def write(tmp_path, rows: list[str], name: str = "events.csv"):
    path = tmp_path / name
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    return path


def state(ledger: cl.Ledger) -> tuple[int, str]:
    return ledger.count(), ledger.head()


def import_problems(ledger, path, **kw) -> list[tuple[int, str | None, str]]:
    with pytest.raises(ImportFileError) as caught:
        import_events(ledger, path, **kw)
    return [(p.line, p.column, p.code) for p in caught.value.problems]


# -- all or nothing over many batches ------------------------------------------------------------------------------


def test_a_bad_row_in_a_late_batch_leaves_the_ledger_as_it_was(ledger, tmp_path):
    ledger.append(cl.Enrolled(event_id="T-enrol", student_id="T", occurred_on=date(2024, 9, 1), institution="HNJX",
                              program="MECH-PT-2024", mode="part_time"))
    before = state(ledger)
    rows = good_file(30, 4)
    unreadable = rows + [course("S1", "late-bad-date", day="2025-02-30")]
    refused = rows + [course("S1", "late-refused", code="NOPE101")]
    line = len(rows) + 2  # the header is line 1
    assert import_problems(ledger, write(tmp_path, unreadable), batch=7) == [(line, "occurred_on", "bad_date")]
    assert state(ledger) == before and ledger.verify().ok
    assert import_problems(ledger, write(tmp_path, refused), batch=7) == [(line, None, "unknown_course")]
    assert state(ledger) == before and ledger.verify().ok
    assert ledger.students() == ["T"]
    # and the same file without the bad row goes in whole, batch after batch, in one transaction
    result = import_events(ledger, write(tmp_path, rows), batch=7)
    assert (result.read, result.written, result.already_present) == (len(rows), len(rows), 0)
    assert ledger.count() == before[0] + len(rows) and ledger.verify().ok


def test_read_problems_anywhere_in_the_file_come_before_a_refusal(ledger, tmp_path):
    """As when the file was read whole first: every problem of reading, and no refusal, when there are both."""
    rows = good_file(10, 2)
    rows.insert(5, course("S1", "early-refused", code="NOPE101"))
    rows.append(course("S2", "late-bad-grade", grade="maybe"))
    before = state(ledger)
    assert import_problems(ledger, write(tmp_path, rows), batch=3) == [(len(rows) + 1, "grade", "bad_grade")]
    assert state(ledger) == before


def test_an_event_id_repeated_batches_apart_is_caught_naming_both_lines(ledger, tmp_path):
    rows = good_file(20, 3)
    again = course("S7", "S3-c0", "MT101", "99")  # S3-c0 is on an early line, for another student
    path = write(tmp_path, rows + [again])
    first = rows.index(course("S3", "S3-c0", "PUB101", "60")) + 2
    before = state(ledger)
    one_batch = import_problems(ledger, path, batch=10 ** 6)
    assert one_batch == [(first, None, "duplicate_event"), (len(rows) + 2, None, "duplicate_event")]
    assert import_problems(ledger, path, batch=5) == one_batch
    assert state(ledger) == before


def test_the_same_event_repeated_batches_apart_is_written_once(ledger, tmp_path):
    rows = good_file(12, 2)
    path = write(tmp_path, rows + [rows[3]])
    result = import_events(ledger, path, batch=4)
    assert (result.read, result.written, result.already_present) == (len(rows) + 1, len(rows), 1)
    assert ledger.count() == len(rows)


def test_a_lookalike_of_a_student_of_an_earlier_batch_is_refused(ledger, tmp_path):
    rows = good_file(10, 1) + [enrol("\u04051", "dze-enrol")]  # a Cyrillic Dze: a look-alike of S1
    path = write(tmp_path, rows)
    before = state(ledger)
    problems = import_problems(ledger, path, batch=3)
    assert (len(rows) + 1, None, "id_lookalike") in problems
    assert problems == import_problems(ledger, path, batch=10 ** 6)
    assert state(ledger) == before and ledger.students() == []


def test_progress_counts_rows_as_they_are_read(ledger, tmp_path):
    rows = good_file(500, 4)  # 2,500 rows
    seen: list[tuple[int, int, int]] = []
    path = write(tmp_path, rows)
    import_events(ledger, path, batch=400,
                  progress=lambda done, total: seen.append((done, total, len(seen))))
    assert [(d, t) for d, t, _ in seen] == [(0, 2500), (1000, 2500), (2000, 2500), (2500, 2500)]


def test_skip_bad_still_commits_batch_by_batch(ledger, tmp_path):
    rows = good_file(10, 2)
    rows.insert(12, course("S1", "refused", code="NOPE101"))
    result = import_events(ledger, write(tmp_path, rows), batch=4, skip_bad=True,
                           rejects=tmp_path / "rejects.csv")
    assert (result.written, result.rejected) == (len(rows) - 1, 1)
    assert ledger.count() == len(rows) - 1 and ledger.verify().ok


# -- the write session -----------------------------------------------------------------------------------------------


def test_a_write_session_is_one_transaction(file_ledger, ledger_url):
    events = [cl.Enrolled(event_id=f"E{i}-enrol", student_id=f"E{i}", occurred_on=date(2024, 9, 1),
                          institution="HNJX", program="MECH-PT-2024", mode="part_time") for i in range(6)]
    other = cl.Ledger.open(ledger_url)
    try:
        before = state(file_ledger)
        with pytest.raises(ZeroDivisionError), file_ledger.writing() as session:
            assert session.append_many(events[:3]).written == 3
            assert session.append_many(events[:3]).written == 0  # already written, in this transaction
            with pytest.raises(RejectedEvent):
                session.append_many([events[3].model_copy(update={"program": "NOPE"})])
            assert session.append_many(events[3:]).written == 3
            raise ZeroDivisionError("the block fails: nothing of it is written")
        assert state(file_ledger) == before == state(other)
        # what the caches learnt of the rolled-back batches is forgotten: the same students go in again
        assert file_ledger.append_many(events).written == 6
        assert other.count() == 6 and file_ledger.verify().ok
        with file_ledger.writing() as session:
            pass
        with pytest.raises(RuntimeError):
            session.append_many(events)
    finally:
        other.close()


# -- streaming equals one batch ------------------------------------------------------------------------------------

ROW_KINDS = st.sampled_from(["good", "good", "good", "repeat", "clash", "bad_date", "unknown_course",
                             "lookalike"])


@given(kinds=st.lists(ROW_KINDS, min_size=1, max_size=25), batch=st.integers(1, 6))
def test_streaming_succeeds_and_writes_exactly_when_one_batch_does(tmp_path_factory, kinds, batch):
    rows = [enrol(f"S{i}") for i in range(3)]
    for n, kind in enumerate(kinds):
        sid = f"S{n % 3}"
        if kind == "good":
            rows.append(course(sid, f"x{n}", COURSES[n % 3], str(60 + n % 40)))
        elif kind == "repeat":
            rows.append(rows[n % len(rows)])
        elif kind == "clash":
            rows.append(course(sid, f"S{(n + 1) % 3}-enrol"))
        elif kind == "bad_date":
            rows.append(course(sid, f"x{n}", day="2025-13-01"))
        elif kind == "unknown_course":
            rows.append(course(sid, f"x{n}", code="NOPE101"))
        else:
            rows.append(enrol("\u0405" + str(n % 3), f"dze{n}"))
    path = write(tmp_path_factory.mktemp("stream"), rows)
    outcomes = []
    for size in (10 ** 6, batch):
        ledger = cl.Ledger.open()
        ledger.load_catalog(cl.Catalog.sample())
        try:
            result = import_events(ledger, path, batch=size)
            outcomes.append(("ok", result, sorted(e.event_id for s in ledger.students() for e in ledger.events(s))))
        except ImportFileError as exc:
            assert ledger.count() == 0
            unread = [p for p in exc.problems if p.code in ("bad_date",)]
            outcomes.append(("refused", unread or None, None))
        ledger.close()
    whole, streamed = outcomes
    assert whole[0] == streamed[0]
    if whole[0] == "ok":
        assert whole == streamed
    elif whole[1] is not None:  # problems of reading: named alike
        assert whole[1] == streamed[1]
