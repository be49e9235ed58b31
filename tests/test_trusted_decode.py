"""Reading a stored row decodes its JSON as trusted (``fast.trusted_decoder``, after the chain check): the event it
gives is the event full validation gives, field for field and type for type, for every event kind; JSON that is not
as the library writes it is validated in full, so what is not an event is refused as before (``IntegrityError``)
and never comes back as half an event.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel
from strategies import EVENT_KINDS, events_of_kind

import credit_ledger as cl
from credit_ledger.chain import row_hash
from credit_ledger.fast import trusted_decoder
from credit_ledger.models import EVENT_ADAPTER, EVENT_CLASSES
from credit_ledger.reading import decode_trusted, read_checked_event


def _same(a: Any, b: Any, where: str = "event") -> None:
    """``a`` is ``b``'s equal, type for type, down to each Decimal's digits and exponent."""
    assert type(a) is type(b), f"{where}: {type(a).__name__} vs {type(b).__name__}"
    if isinstance(a, BaseModel):
        assert list(a.__dict__) == list(b.__dict__), where
        assert a.model_fields_set == b.model_fields_set, where
        for name in a.__dict__:
            _same(a.__dict__[name], b.__dict__[name], f"{where}.{name}")
    elif isinstance(a, Decimal):
        assert a.as_tuple() == b.as_tuple(), where
    elif isinstance(a, tuple):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{where}[{i}]")
    else:
        assert a == b, where


def test_the_strategies_make_every_event_kind():
    assert set(EVENT_KINDS) == set(EVENT_CLASSES)


@pytest.mark.parametrize("kind", sorted(EVENT_CLASSES))
@given(data=st.data())
def test_the_trusted_decode_is_full_validation_for_every_kind(kind, data):
    event = EVENT_ADAPTER.validate_python(data.draw(events_of_kind(kind)))
    text = event.model_dump_json()
    fast, full = decode_trusted(text), EVENT_ADAPTER.validate_json(text)
    assert fast is not None, text
    _same(fast, full)
    assert fast == event
    assert fast == full and hash(fast) == hash(full)
    assert fast.model_dump_json() == text
    assert read_checked_event(text, 1) == full


def _canonical(**extra: Any) -> dict:
    event = cl.CourseCompleted(event_id="e1", student_id="S1", occurred_on=date(2026, 1, 10), institution="HNJX",
                               course="MECH101", grade=86)
    return {**json.loads(event.model_dump_json()), **extra}


@pytest.mark.parametrize(("what", "data"), [
    ("an unknown kind", _canonical(kind="course_passed")),
    ("a field missing", {k: v for k, v in _canonical().items() if k != "course"}),
    ("an unknown field", _canonical(colour="red")),
    ("a number for text", _canonical(course=101)),
    ("a literal not among its choices", _canonical(attempt="third")),
    ("a date that is not one", _canonical(occurred_on="2026-02-30")),
    ("a date outside the plausible years", _canonical(occurred_on="1900-01-01")),
    ("a grade its model refuses", _canonical(grade={"scale": "percent", "score": None, "level": "good"})),
    ("a grade of no scale", _canonical(grade={"scale": "letters", "score": "86", "level": None})),
    ("a grade with an unknown field", _canonical(grade={"scale": "percent", "score": "86", "level": None, "x": 1})),
    ("credits that are not a number", _canonical(credits="lots")),
    ("an apprentice with no employer", {"kind": "enrolled", "event_id": "e", "student_id": "S1",
                                        "occurred_on": "2025-09-01", "recorded_by": None, "institution": "HNJX",
                                        "program": "P", "mode": "apprentice", "employer": None,
                                        "entry_basis": None}),
    ("a list", [1, 2]),
])
def test_what_is_not_an_event_is_no_event(what, data):
    text = json.dumps(data, ensure_ascii=False)
    assert decode_trusted(text) is None, what
    with pytest.raises(cl.IntegrityError, match="row 7 does not hold a valid event"):
        read_checked_event(text, 7)


@pytest.mark.parametrize("text", ["", "{", "null", '"kind":"enrolled"', '{"kind":"enrolled"}', "\ud800"])
def test_text_that_is_no_json_object_is_no_event(text):
    assert decode_trusted(text) is None
    with pytest.raises(cl.IntegrityError):
        read_checked_event(text, 1)


@pytest.mark.parametrize("first", ["enrolled", "course_completed", "nothing"])
def test_the_kind_marker_only_chooses_what_to_try(first):
    """The decoder finds the first ``"kind":"`` to choose a struct; the struct's own literal decides. JSON whose first
    marker names another kind than the event (a key given twice, a value that holds the marker as escaped text) is
    never read as that kind: the fast decode refuses it or gives what full validation gives."""
    body = json.dumps(_canonical(event_id='x","kind":"enrolled'), separators=(",", ":"), ensure_ascii=False)[1:]
    text = '{"kind":"' + first + '",' + body
    full: Any
    try:
        full = EVENT_ADAPTER.validate_json(text)
    except ValueError:
        full = None
    fast = decode_trusted(text)
    assert fast is None or (full is not None and fast == full and type(fast) is type(full))
    if full is None:
        with pytest.raises(cl.IntegrityError):
            read_checked_event(text, 1)
    else:
        assert read_checked_event(text, 1) == full


def test_json_of_an_older_version_is_validated_in_full_and_read():
    """A row written before ``source_student_id`` was added has no such key: not canonical, so fully validated."""
    event = cl.CreditRecognized(event_id="r1", student_id="S1", occurred_on=date(2026, 3, 1),
                                source_institution="XTJX", source_course="CNC1", source_credits=Decimal(3),
                                source_grade=80, source_date=date(2025, 12, 1), target={"course": "CNC201"},
                                credits=Decimal(3), agreement_id="AGR-1")
    data = json.loads(event.model_dump_json())
    del data["source_student_id"]
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    assert decode_trusted(text) is None
    assert read_checked_event(text, 1) == event


def test_a_model_the_plan_cannot_follow_is_refused_when_the_decoder_is_made():
    from pydantic import field_validator

    class Loose(BaseModel):
        kind: str = "loose"
        value: dict[str, int]

    class Before(BaseModel):
        kind: str = "before"
        value: str

        @field_validator("value", mode="before")
        @classmethod
        def _strip(cls, v: Any) -> Any:
            return v.strip()

    for model in (Loose, Before):
        with pytest.raises(TypeError, match="cannot be planned|can be planned"):
            trusted_decoder({"x": model})


@pytest.mark.sqlite_only
@pytest.mark.parametrize(("change", "readable"), [
    (lambda d: {**d, "kind": "course_passed"}, False),        # an unknown kind
    (lambda d: {k: v for k, v in d.items() if k != "grade"}, False),   # a field missing
    (lambda d: {**d, "credits": "-5.00"}, True),               # a bound broken: not checked again; verify() sees it
])
def test_a_row_rewritten_by_hand_with_its_hash_recomputed(file_ledger, tmp_path, change, readable):
    """The read's chain check passes (the row is the student's last, its hash recomputed), so the JSON decides: what
    is no event raises ``IntegrityError``; an event with a bound broken is read as written (a forgery only
    ``verify()`` finds, by the checkpoint over the row) — never half an event."""
    file_ledger.append_many([
        cl.Enrolled(event_id="A-enrol", student_id="A", occurred_on=date(2025, 9, 1), institution="HNJX",
                    program="CNC-SR-2025"),
        cl.CourseCompleted(event_id="A-MECH101", student_id="A", occurred_on=date(2026, 1, 9), institution="HNJX",
                           course="MECH101", grade=80),
    ])
    db = sqlite3.connect(tmp_path / "ledger.db", isolation_level=None)
    db.execute("DROP TRIGGER events_no_update")
    seq, n, at, payload, prev = db.execute("SELECT seq, student_seq, recorded_at, payload, prev_hash FROM events "
                                           "WHERE event_id = 'A-MECH101'").fetchone()
    payload = json.dumps(change(json.loads(payload)), separators=(",", ":"), ensure_ascii=False)
    db.execute("UPDATE events SET payload = ?, event_hash = ? WHERE event_id = 'A-MECH101'",
               (payload, row_hash(prev, n, at, payload)))
    db.close()
    if readable:
        event = file_ledger.events("A")[-1]
        assert event.credits == Decimal("-5.00") and type(event) is cl.CourseCompleted
        assert not file_ledger.verify().ok
    else:
        with pytest.raises(cl.IntegrityError, match=f"row {seq} does not hold a valid event"):
            file_ledger.events("A")


# -- a refresh's kept summaries (fast.trusted_model_decoder) ----------------------------------------------------------

_DAYS = st.dates(date(2000, 1, 1), date(2060, 12, 31))
_CREDITS = st.decimals(min_value=0, max_value=1000, places=2)
_SUMMARIES = st.builds(
    cl.AuditSummary, student_id=st.text(min_size=1, max_size=12), program=st.text(max_size=8),
    institution=st.text(max_size=8), as_of=_DAYS, status=st.sampled_from(list(cl.AuditStatus)), eligible=st.booleans(),
    award=st.none() | st.sampled_from(["graduation", "completion", "partial_study"]),
    awards=st.lists(st.sampled_from(["graduation", "completion", "partial_study"]), max_size=3).map(tuple),
    part_time=st.booleans(), enrolled_on=st.none() | _DAYS, total=_CREDITS, home=_CREDITS, recognized=_CREDITS,
    converted=_CREDITS, required=_CREDITS, shortfall=_CREDITS, earliest_date=st.none() | _DAYS,
    deadline=st.none() | _DAYS, stages=st.integers(0, 20), rate_per_year=st.none() | _CREDITS,
    finish_on=st.none() | _DAYS, graduate_on=st.none() | _DAYS, at_risk=st.none() | st.booleans(),
    issue_codes=st.lists(st.sampled_from(["at_risk_deadline", "total_credits_short"]), max_size=2).map(tuple),
    solver=st.sampled_from(["greedy", "flow", "milp"]), stable_until=st.none() | _DAYS)


@given(_SUMMARIES)
def test_a_kept_summary_decodes_as_validation_reads_it(summary):
    from credit_ledger.batch import _decode_summary

    text = summary.model_dump_json()
    _same(_decode_summary(text), cl.AuditSummary.model_validate_json(text), "summary")


@given(_SUMMARIES, st.sampled_from(["status", "as_of", "total", "awards", "eligible", "stages"]),
       st.sampled_from([None, "", "x", 3.5, -1, [], {}, "2027-02-30", "1e3", True]))
def test_a_kept_summary_edited_decodes_only_as_validation_would(summary, field, value):
    """A row edited in the table: the decode takes it only where validation takes it, and then reads the same
    (``None`` sends the refresh to validation, which refuses what is no summary)."""
    from pydantic import ValidationError

    from credit_ledger.batch import _decode_summary

    data = json.loads(summary.model_dump_json())
    data[field] = value
    text = json.dumps(data, ensure_ascii=False)
    fast = _decode_summary(text)
    try:
        full = cl.AuditSummary.model_validate_json(text)
    except ValidationError:
        full = None
    if fast is not None:
        assert full is not None, (field, value)
        _same(fast, full, "summary")
