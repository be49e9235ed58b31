"""What the rules and the ledger give back: issues, receipts, credit records, transcripts, balances, verify reports,
and what the caps count.

A ``CreditRecord`` is one counted course or outcome of a student's transcript (学分记录): home, recognised
(学分互认) or converted (学分认定). ``CapResult`` is what of them counts toward a program after its caps, and
``Excluded`` a record's credits that do not, with the stable code of the rule:

>>> from datetime import date
>>> r = CreditRecord(course="CNC201", institution="HNJX", title="数控车工", category="core", credits=Decimal(6),
...                  origin="converted", event_id="e1", occurred_on=date(2026, 3, 1))
>>> x = Excluded(record=r, credits=Decimal(2), code="cap_certificate", message="...")
>>> CapResult(counted=(r.model_copy(update={"credits": Decimal(4)}),), excluded=(x,)).total
Decimal('4.00')

Values only: the rules that make them are elsewhere (``history``, ``caps``, ``transfer``).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Literal, Sequence

from .base import Frozen

ZERO = Decimal("0.00")

class Issue(Frozen):
    """A refusal or a warning: a stable machine ``code`` and a sentence naming the student, the record and the rule."""

    code: str
    message: str
    event_id: str | None = None
    student_id: str | None = None


class Receipt(Frozen):
    """What an append wrote: the ledger-wide sequence number and the event's hash."""

    seq: int
    event_id: str
    event_hash: str


class Receipts(Sequence[Receipt]):
    """The receipts of one ``append_many``, one per event given, in the order given.

    A read-only sequence that makes each ``Receipt`` when it is read: a bulk load of a million events need not
    build a million objects nobody looks at. It compares equal to any sequence of the same receipts. ``written``
    says how many of the events this call wrote (the others were in the ledger already, identical).
    """

    __slots__ = ("_seqs", "_ids", "_hashes", "_written")

    def __init__(self, seqs: Sequence[int], event_ids: Sequence[str], hashes: Sequence[str],
                 written: int | None = None):
        if not len(seqs) == len(event_ids) == len(hashes):
            raise ValueError("receipts need as many seqs, event ids and hashes")
        if written is not None and not 0 <= written <= len(seqs):
            raise ValueError("receipts name at most as many written events as they hold")
        self._seqs, self._ids, self._hashes = seqs, event_ids, hashes
        self._written = len(seqs) if written is None else written

    @property
    def written(self) -> int:
        """How many of these events the call wrote; the rest were in the ledger already (the same facts)."""
        return self._written

    def __len__(self) -> int:
        return len(self._seqs)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        return Receipt(seq=self._seqs[index], event_id=self._ids[index], event_hash=self._hashes[index])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, (str, bytes)):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    def __repr__(self) -> str:
        return f"Receipts({list(self)!r})"

    def to_list(self) -> list[Receipt]:
        """The receipts as a plain list."""
        return list(self)


class CreditRecord(Frozen):
    """One counted course or outcome of a student's transcript."""

    course: str | None
    """The course code (home or target course); ``None`` for category credit."""
    institution: str
    title: str
    category: str
    tags: tuple[str, ...] = ()
    mode: str = "classroom"
    level: str | None = None
    credits: Decimal
    hours: Decimal | None = None
    """Class hours (from the catalog course), for hour pools; ``None``: credits × the policy's hours per credit."""
    grade: str | None = None
    score: Decimal | None = None
    grade_points: Decimal | None = None
    attempt: Literal["regular", "makeup", "retake"] | None = None
    flagged: bool = False
    """True for a make-up pass counted at the make-up score."""
    origin: Literal["home", "recognized", "converted"]
    event_id: str
    occurred_on: date
    valid_until: date | None = None
    outcome_id: str | None = None
    outcome_type: str | None = None
    """For a converted record: certificate, competition, work_experience, apprenticeship or online_course."""
    source_institution: str | None = None
    """For a recognised record: the school where the credit was earned."""
    statement_id: str | None = None
    """For a recognised record: the transfer statement it came from, if any."""
    rule: str | None = None
    """For an external record: the agreement (recognised) or conversion rule (converted) it was decided by."""


class Transcript(Frozen):
    """The effective credit records of a student: best attempt per course, reversals and corrections applied."""

    student_id: str
    as_of: date | None = None
    records: tuple[CreditRecord, ...] = ()

    @property
    def total(self) -> Decimal:
        """The sum of the records' credits."""
        return sum((r.credits for r in self.records), Decimal(0))


class Balance(Frozen):
    """Effective credits of a student: in total, by origin (home / recognized / converted) and by category."""

    student_id: str
    as_of: date | None = None
    total: Decimal
    by_origin: dict[str, Decimal]
    by_category: dict[str, Decimal]


class VerifyReport(Frozen):
    """The result of re-checking every stored row against its hash chain and the ledger-wide checkpoints."""

    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str | None = None
    identifier_issues: tuple[Issue, ...] = ()
    """Stored student and event ids that the rules for new ids would refuse (a character that may not appear, a
    mixed script, a look-alike of an id stored before): kept as written, and not a failure of the chain (``ok``)."""


class Excluded(Frozen):
    """Credits of a record that do not count, with the stable code of the rule that excludes them."""

    record: CreditRecord
    """The record as given to ``apply_caps``."""
    credits: Decimal
    """How many of its credits do not count (all of them, or the part a cap trims; 0 for a record of 0 credits
    that does not count, such as a second conversion of the same outcome)."""
    code: str
    message: str


class CapResult(Frozen):
    """What counts toward graduation after the program's caps, and what does not and why.

    For every record given, its counted credits plus its excluded credits are its own credits.
    """

    counted: tuple[CreditRecord, ...] = ()
    """Home records untouched; an external record trimmed to fit a cap with its reduced credits; in the order of
    ``record_key``."""
    excluded: tuple[Excluded, ...] = ()

    @property
    def total(self) -> Decimal:
        """The counted credits."""
        return sum((r.credits for r in self.counted), ZERO)
