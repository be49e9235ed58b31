"""Errors of credit_ledger: tiny classes, one-line docstrings, one common base.

Every refusal of a write carries ``issues`` (each with a stable ``code`` and a sentence naming the student, the record
and the rule), and a refused write leaves the ledger exactly as it was.
"""

from __future__ import annotations

from typing import Any, Protocol, Sequence


class IssueLike(Protocol):
    """An issue as an error carries it (``models.Issue`` is one): a stable code, a sentence, and the event and
    student it is about. The errors are the bottom of the package and import nothing of it, so they name issues by
    their shape."""

    @property
    def code(self) -> str: ...

    @property
    def message(self) -> str: ...

    @property
    def event_id(self) -> str | None: ...

    @property
    def student_id(self) -> str | None: ...


class CreditLedgerError(Exception):
    """Base class of every error credit_ledger raises on purpose."""


class _WithIssues(CreditLedgerError):
    def __init__(self, issues: Sequence[IssueLike] = (), message: str | None = None):
        self.issues = list(issues)
        if message is None:
            message = "; ".join(f"[{i.code}] {i.message}" for i in self.issues) or self.__class__.__doc__ or ""
        super().__init__(message)

    @property
    def codes(self) -> list[str]:
        """The stable codes of the issues, in order."""
        return [i.code for i in self.issues]

    def __reduce__(self) -> tuple[Any, ...]:  # rebuilt with its issues when sent from a worker process
        return (type(self), (self.issues, str(self)))


class RejectedEvent(_WithIssues):
    """An event broke a rule of the ledger; nothing of its batch was written."""


class DuplicateEvent(RejectedEvent):
    """An event id is already in the ledger with other content."""


class UnknownReference(RejectedEvent):
    """An event names a course, program, institution or event that is not known."""


class PermissionDenied(_WithIssues):
    """The acting institution may not write or read this record."""


class IntegrityError(CreditLedgerError):
    """The stored ledger is not what the library wrote (hash chain or guards broken)."""


class _WithCode(CreditLedgerError):
    def __init__(self, code: str, message: str):
        self.code = code
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:  # rebuilt with its code when sent from a worker process
        return (type(self), (self.code, str(self)))


class LedgerNotFound(_WithCode):
    """No ledger where one was to be opened (no such file or folder, an empty database, or another application's
    database); nothing was created or changed."""


class OutputIsLedger(_WithCode):
    """An output named is the ledger's own file; nothing was written."""


class BadSignature(CreditLedgerError):
    """A signed document is altered, unsigned or signed by an untrusted key."""


class CatalogError(CreditLedgerError, ValueError):
    """A catalog is invalid; each problem names the file, the key path and what is wrong."""

    def __init__(self, problems: Sequence[str], source: str | None = None):
        self.problems = list(problems)
        self.source = source
        prefix = f"{source}: " if source else ""
        super().__init__("\n".join(prefix + p for p in self.problems))

    def __reduce__(self) -> tuple[Any, ...]:  # rebuilt with its problems when sent from a worker process
        return (type(self), (self.problems, self.source))


class ImportFileError(CreditLedgerError, ValueError):
    """A file of events could not be imported whole; nothing of it was written."""

    def __init__(self, problems: Sequence[Any], source: str | None = None):
        self.problems = list(problems)
        self.source = source
        prefix = f"{source}: " if source else ""
        first = self.problems[0] if self.problems else None
        text = _describe(first) if first is not None else "nothing could be imported"
        more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        super().__init__(prefix + text + more)

    def __reduce__(self) -> tuple[Any, ...]:  # rebuilt with its problems when sent from a worker process
        return (type(self), (self.problems, self.source))

    @property
    def codes(self) -> list[str]:
        """The stable codes of the problems, in order."""
        return [p.code for p in self.problems]


def _describe(problem: Any) -> str:
    column = f", column {problem.column!r}" if getattr(problem, "column", None) else ""
    return f"line {problem.line}{column}: [{problem.code}] {problem.message}"


class PersonalDataError(CreditLedgerError, ValueError):
    """A personal field (a name, or a field of the roster a school chose) is not text a roster keeps; nothing was
    written. ``code``, ``student_id`` and ``field`` name the rule, the student and the field."""

    def __init__(self, code: str, message: str, *, student_id: str | None = None, field: str | None = None):
        self.code = code
        self.student_id = student_id
        self.field = field
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:  # rebuilt with its code when sent from a worker process
        return (_personal_data_error, (self.code, str(self), self.student_id, self.field))


def _personal_data_error(code: str, message: str, student_id: str | None, field: str | None) -> PersonalDataError:
    return PersonalDataError(code, message, student_id=student_id, field=field)
