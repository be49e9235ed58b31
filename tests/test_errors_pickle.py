"""Errors cross between processes whole (a batch audit's worker raises, the parent re-raises what it got).

A worker's ``PermissionDenied`` or ``RejectedEvent`` used to be unpicklable: the exception was rebuilt from its
message alone, which ``_WithIssues`` took for its issues. Each error class of the public API is sent through pickle
here, with what it carries, and comes back equal: its type, its message and its codes, problems or source.
"""

from __future__ import annotations

import pickle
from concurrent.futures import ProcessPoolExecutor

import pytest

import credit_ledger as cl

ISSUE = cl.Issue(code="not_own_record", message="S1-c1 was recorded by XTJX", student_id="S1", event_id="S1-c1")
PROBLEM = cl.ImportProblem(line=7, column="grade", code="cell_too_long", message="a cell of 70,000 characters")

EXAMPLES: dict[type, list[BaseException]] = {
    cl.CreditLedgerError: [cl.CreditLedgerError("plain")],
    cl.RejectedEvent: [cl.RejectedEvent([ISSUE]), cl.RejectedEvent([ISSUE, ISSUE], "two of them"), cl.RejectedEvent()],
    cl.DuplicateEvent: [cl.DuplicateEvent([ISSUE])],
    cl.UnknownReference: [cl.UnknownReference([ISSUE])],
    cl.PermissionDenied: [cl.PermissionDenied([ISSUE]), cl.PermissionDenied(message="only a message")],
    cl.IntegrityError: [cl.IntegrityError("row 3 (event e3) of student S1 was altered")],
    cl.BadSignature: [cl.BadSignature("altered")],
    cl.CatalogError: [cl.CatalogError(["courses.C1.credits: must be positive", "x"], source="cat.json"),
                      cl.CatalogError(["one"])],
    cl.ImportFileError: [cl.ImportFileError([PROBLEM, PROBLEM], source="day.csv"), cl.ImportFileError([])],
    cl.LedgerNotFound: [cl.LedgerNotFound("ledger_missing", "no ledger at x.db")],
    cl.OutputIsLedger: [cl.OutputIsLedger("output_is_ledger", "x.db is the ledger")],
    cl.PersonalDataError: [cl.PersonalDataError("personal_too_long", "student S1, field name: too long",
                                                student_id="S1", field="name"),
                           cl.PersonalDataError("personal_empty", "empty")],
}


def carried(error: BaseException) -> tuple:
    return (type(error), str(error), getattr(error, "issues", None), getattr(error, "codes", None),
            getattr(error, "problems", None), getattr(error, "source", None), getattr(error, "code", None),
            getattr(error, "student_id", None), getattr(error, "field", None))


def test_every_public_error_has_examples():
    public = {getattr(cl, n) for n in cl.__all__ if isinstance(getattr(cl, n), type)
              and issubclass(getattr(cl, n), cl.CreditLedgerError)}
    assert public == set(EXAMPLES)


@pytest.mark.parametrize("error", [e for es in EXAMPLES.values() for e in es], ids=lambda e: type(e).__name__)
def test_an_error_comes_back_from_pickle_as_it_went(error):
    again = pickle.loads(pickle.dumps(error))
    assert carried(again) == carried(error)


def _raise(error: BaseException) -> None:
    raise error


def test_an_error_raised_in_a_worker_process_arrives_whole():
    error = cl.PermissionDenied([ISSUE])
    with ProcessPoolExecutor(1) as pool:
        with pytest.raises(cl.PermissionDenied) as caught:
            pool.submit(_raise, error).result()
    assert caught.value.codes == ["not_own_record"] and caught.value.issues == [ISSUE]
