"""Signed transfer statements (成绩证明): a school's statement of a student's results, for another school to recognise.

A statement lists the student's effective home results at the issuing school (``statement_of``: the course, its
credits, the grade that counts with its scale, the date), as canonical JSON (sorted keys, no spaces, UTF-8) signed
with the school's Ed25519 key. The receiving school verifies it against the keys it trusts for the issuer; any
changed byte fails (``BadSignature``), and only then does ``transfer.recognize`` decide what it is worth:

>>> from datetime import date, datetime, timezone
>>> from decimal import Decimal
>>> key = Ed25519PrivateKey.from_private_bytes(bytes(32))
>>> r = CreditRecord(course="MECH101", institution="XTJX", title="机械制图", category="core", credits=Decimal(4),
...                  grade="85", score=Decimal(85), origin="home", event_id="c1", occurred_on=date(2026, 1, 10))
>>> s = statement_of([r], issuer="XTJX", student_id="S1", issued_at=datetime(2026, 3, 1, tzinfo=timezone.utc))
>>> signed = s.sign(key)
>>> TransferStatement.from_json(signed.to_json()).verify({"XTJX": public_key_hex(key)})  # passes: returns None
>>> altered = signed.to_json().replace('"credits":"4"', '"credits":"5"')
>>> TransferStatement.from_json(altered).verify({"XTJX": public_key_hex(key)})  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
credit_ledger.errors.BadSignature: statement XTJX-... of XTJX does not verify with the keys trusted for XTJX: ...
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Annotated, Any, Final, Iterable, Literal, Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pydantic import StringConstraints, ValidationError

from .base import Code, Credits, Frozen, Grade, Identifier, Text
from .errors import BadSignature
from .events import RecordDate
from .records import CreditRecord

STATEMENT_FORMAT: Final = "credit_ledger/transfer_statement/1"
"""The ``format`` every statement file names (a later format would be another value)."""

_HEX_SIGNATURE = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{128}$")]
_HEX_KEY = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class StatementResult(Frozen):
    """One effective result at the issuing school: the course, its credits, the grade with its scale, the date."""

    course: Code
    title: Text
    category: Code
    credits: Credits
    grade: Grade
    """The grade that counts (a passed make-up exam at the make-up score)."""
    occurred_on: RecordDate
    attempt: Literal["regular", "makeup", "retake"] = "regular"

    @property
    def item(self) -> str:
        return f"course {self.course} ({self.title}, {self.occurred_on})"


def _canonical(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class TransferStatement(Frozen):
    """A school's signed statement of a student's results (成绩证明), for another school to recognise.

    ``to_json()`` is the plain file a school sends (canonical JSON: sorted keys, no spaces, UTF-8), and
    ``TransferStatement.from_json(text)`` reads it back. The Ed25519 signature covers every field but itself; the
    file is exactly what ``to_json`` wrote, so that any change of it, even reformatting, fails verification.
    """

    format: Literal["credit_ledger/transfer_statement/1"] = STATEMENT_FORMAT
    statement_id: Identifier
    issuer: Code
    student_id: Identifier
    program: Code | None = None
    results: tuple[StatementResult, ...] = ()
    issued_at: datetime
    public_key: _HEX_KEY | None = None
    """The signing key (raw Ed25519 public key, hex), so that a receiver can tell which trusted key to use."""
    signature: _HEX_SIGNATURE | None = None

    def signed_bytes(self) -> bytes:
        """What the signature covers: the canonical JSON of every field but the signature."""
        return _canonical(self.model_dump(mode="json", exclude={"signature"})).encode("utf-8")

    def to_json(self) -> str:
        """The statement as the plain file a school sends."""
        return _canonical(self.model_dump(mode="json"))

    @classmethod
    def from_json(cls, text: str | bytes) -> "TransferStatement":
        """Read a statement file; anything but what ``to_json`` writes raises ``BadSignature``."""
        try:
            if isinstance(text, bytes):
                text = text.decode("utf-8")
            statement = cls.model_validate(json.loads(text))
        except (UnicodeDecodeError, ValueError, ValidationError, TypeError) as exc:
            raise BadSignature(f"not a transfer statement: {str(exc).splitlines()[0]}") from None
        if statement.to_json() != text.rstrip("\r\n"):
            raise BadSignature(f"statement {statement.statement_id} of {statement.issuer} is not in the form it was "
                               "signed in (altered or reformatted)")
        return statement

    def sign(self, key: Ed25519PrivateKey) -> "TransferStatement":
        """The statement signed with the issuer's private key."""
        unsigned = self.model_copy(update={"public_key": public_key_hex(key), "signature": None})
        return unsigned.model_copy(update={"signature": key.sign(unsigned.signed_bytes()).hex()})

    def verify(self, trusted_keys: Mapping[str, Any]) -> None:
        """Check the signature against the keys trusted for the issuer; raise ``BadSignature`` if it fails.

        ``trusted_keys`` maps an institution code to a key or a list of keys: ``Ed25519PublicKey``, 32 raw bytes or
        their hex.
        """
        if self.signature is None:
            raise BadSignature(f"statement {self.statement_id} of {self.issuer} is unsigned")
        keys = trusted_keys.get(self.issuer)
        if keys is None:
            raise BadSignature(f"statement {self.statement_id}: no key is trusted for its issuer {self.issuer}")
        if isinstance(keys, (str, bytes, Ed25519PublicKey)):
            keys = [keys]
        data, signature = self.signed_bytes(), bytes.fromhex(self.signature)
        for key in keys:
            try:
                _public_key(key).verify(signature, data)
                return
            except InvalidSignature:
                continue
        raise BadSignature(f"statement {self.statement_id} of {self.issuer} does not verify with the keys trusted "
                           f"for {self.issuer}: it was altered or signed by another key")


ReceiptKey = tuple[str, str, str]
"""What one student of a ledger receives: ``("statement", issuer, statement id)`` or ``("student", issuer, the
student's id at the issuer)``."""


def statement_keys(statement: "TransferStatement") -> list[ReceiptKey]:
    """What receiving a statement takes for one student of the ledger: the statement itself, and the issuing
    school's student it names (``receipt_keys`` of the recognitions it writes)."""
    return [("statement", statement.issuer, statement.statement_id),
            ("student", statement.issuer, statement.student_id)]


def receipt_keys(event: Any) -> list[ReceiptKey]:
    """What a ``CreditRecognized`` received, each for one student of the ledger only: its statement and the
    issuing school's student (either may be missing from a recognition recorded by hand).

    >>> from datetime import date as d
    >>> from credit_ledger.models import CreditRecognized
    >>> e = CreditRecognized(event_id="r", student_id="H1", occurred_on=d(2026, 3, 1), source_institution="XTJX",
    ...                      source_course="XT-CNC1", source_credits=6, source_grade=82, source_date=d(2025, 6, 30),
    ...                      target={"course": "CNC201"}, credits=6, agreement_id="A", statement_id="XTJX-1",
    ...                      source_student_id="S2")
    >>> receipt_keys(e)
    [('statement', 'XTJX', 'XTJX-1'), ('student', 'XTJX', 'S2')]
    """
    keys = []
    if event.statement_id is not None:
        keys.append(("statement", event.source_institution, event.statement_id))
    if event.source_student_id is not None:
        keys.append(("student", event.source_institution, event.source_student_id))
    return keys


def public_key_hex(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """The raw public key, hex: what a school publishes for others to trust its statements.

    >>> key = Ed25519PrivateKey.from_private_bytes(bytes(32))
    >>> public_key_hex(key)[:16]
    '3b6a27bcceb6a42d'
    """
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def _public_key(key: Any) -> Ed25519PublicKey:
    if isinstance(key, Ed25519PublicKey):
        return key
    if isinstance(key, Ed25519PrivateKey):
        return key.public_key()
    try:
        raw = bytes.fromhex(key) if isinstance(key, str) else bytes(key)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (ValueError, TypeError):
        raise BadSignature("a trusted key is not an Ed25519 public key (raw 32 bytes or their hex)") from None


def statement_of(records: Iterable[CreditRecord], *, issuer: str, student_id: str, issued_at: datetime,
                 program: str | None = None) -> TransferStatement:
    """An unsigned statement of the student's home results at ``issuer`` (other records are left out). Its id is
    derived from its content, so the same results issued at the same moment make the same statement."""
    results = []
    for r in sorted(records, key=lambda r: (r.occurred_on, r.course or "", r.event_id)):
        if r.origin != "home" or r.institution != issuer or r.course is None or r.grade is None:
            continue
        grade = Grade.parse(r.score) if r.flagged and r.score is not None else Grade.parse(r.grade)
        results.append(StatementResult(course=r.course, title=r.title, category=r.category, credits=r.credits,
                                       grade=grade, occurred_on=r.occurred_on, attempt=r.attempt or "regular"))
    draft = TransferStatement(statement_id="pending", issuer=issuer, student_id=student_id, program=program,
                              results=tuple(results), issued_at=issued_at)
    digest = hashlib.sha256(draft.signed_bytes()).hexdigest()[:20]
    return draft.model_copy(update={"statement_id": f"{issuer}-{digest}"})
