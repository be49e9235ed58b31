"""The hash chain (哈希链): how the ledger makes its rows tamper-evident, and how it checks them, in one place.

Every event is one row. A row's hash covers the hash of the same student's previous row, the row's place in that
student's chain, when it was recorded and the event's JSON as written (never re-serialised), so each student's rows
form a chain from ``GENESIS``. Each append also writes a ledger-wide checkpoint whose hash covers the hashes of the
rows it added, the previous checkpoint and the catalog in force; each stored catalog is chained to the one before.
Change a row and its hash no longer matches; change its hash too and the student's next row, or the checkpoint over
it, no longer does.

Building the chained rows of a batch, and checking them again:

>>> import credit_ledger as cl
>>> from datetime import date
>>> enrolled = cl.Enrolled(event_id="S1-enrol", student_id="S1", occurred_on=date(2025, 9, 1), institution="HNJX",
...                        program="CNC-SR-2025")
>>> batch = chain_batch([enrolled], heads={}, recorded_by={"S1-enrol": "HNJX"}, first_seq=1,
...                     recorded_at="2026-01-01T00:00:00+00:00")
>>> row = batch.rows[0]
>>> row[:5], batch.heads["S1"] == (1, batch.hashes[0])
((1, 'S1-enrol', 'S1', 1, 'enrolled'), True)
>>> check_student_rows(batch.rows) is None
True
>>> altered = row[:9] + (row[9].replace("CNC-SR-2025", "CNC-XX-2025"),) + row[10:]
>>> check_student_rows([altered]).reason
'row 1 (event S1-enrol) does not match its hash: it was altered'

Hashes are SHA-256 over text the library wrote:

>>> row_hash(GENESIS, 1, "2026-01-01T00:00:00+00:00", '{"event_id":"e1"}')[:16]
'3cadb5377eb627a5'

Pure over rows and hashes: this module knows no SQL (``storage`` reads and writes the rows) and no rule (the
``checks`` decide what may be chained).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

GENESIS = "0" * 64
"""The ``prev_hash`` of a student's first row, of the first checkpoint and of the first stored catalog."""
NO_HEAD = (0, GENESIS)
"""The head ``(student_seq, event_hash)`` of the chain of a student with no rows yet."""

EVENT_COLUMNS = ("seq", "event_id", "student_id", "student_seq", "kind", "occurred_on", "subject", "recorded_by",
                 "recorded_at", "payload", "prev_hash", "event_hash")
"""The fields of an event row, in the order of the tuples this module builds and checks (and ``storage`` writes)."""

Row = tuple[Any, ...]
"""An event row: a tuple in ``EVENT_COLUMNS`` order (``occurred_on`` as ISO text, or a date as read back)."""
Checkpoint = tuple[int, int, int, str, str, str, str]
"""A stored checkpoint: ``(seq, first_seq, last_seq, recorded_at, catalog_hash, prev_hash, checkpoint_hash)``."""
StoredCatalogRow = tuple[int, str, str, str, str]
"""A stored catalog: ``(seq, loaded_at, content, prev_hash, content_hash)``."""
READ_COLUMNS = ("seq", "event_id", "student_seq", "recorded_at", "payload", "prev_hash", "event_hash", "covered")
"""The fields of a row as a read of one student's record gets it (``check_record``): what its hash and its link
need, its JSON, and ``covered``, the last ``seq`` a checkpoint covers (the same on every row: read in the same
statement, so it is the same snapshot)."""
ReadRow = tuple[int, str, int, str, str, str, str, int]
"""A row in ``READ_COLUMNS`` order."""


# -- hashes ------------------------------------------------------------------------------------------------------------


def row_hash(prev_hash: str, student_seq: int, recorded_at: str, payload: str) -> str:
    """The hash of an event row, chained to the previous row of the same student."""
    return hashlib.sha256(f"{prev_hash}\n{student_seq}\n{recorded_at}\n{payload}".encode()).hexdigest()


def checkpoint_hash(prev_hash: str, first_seq: int, last_seq: int, recorded_at: str, catalog_hash: str,
                    hashes: Iterable[str]) -> str:
    """The hash of a checkpoint over the row hashes of ``first_seq``..``last_seq`` and the catalog in force."""
    h = hashlib.sha256(f"{prev_hash}\n{first_seq}\n{last_seq}\n{recorded_at}\n{catalog_hash}\n".encode())
    for value in hashes:
        h.update(value.encode())
    return h.hexdigest()


def content_hash(prev_hash: str, loaded_at: str, content: str) -> str:
    """The hash of a stored catalog and when it was loaded, chained to the previous one."""
    return hashlib.sha256(f"{prev_hash}\n{loaded_at}\n{content}".encode()).hexdigest()


def subject_of(payload: dict[str, Any]) -> str | None:
    """The ``subject`` column of an event (its course, target event or outcome), from its JSON data or its model's
    fields (``vars(event)``).

    >>> subject_of({"kind": "course_completed", "institution": "HNJX", "course": "CNC201"})
    'HNJX/CNC201'
    """
    kind = payload.get("kind")
    if kind == "course_completed":
        return f"{payload['institution']}/{payload['course']}"
    if kind in ("entry_reversed", "grade_corrected"):
        return payload["target_event_id"]
    if kind in ("outcome_converted", "outcome_revoked"):
        return f"{payload['outcome_type']}/{payload['outcome_id']}"
    if kind == "credit_recognized":
        return f"{payload['source_institution']}/{payload['source_course']}"
    return None


# -- building --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChainedBatch:
    """A batch's rows chained onto the ledger, ready to be written (with one checkpoint over ``hashes``)."""

    rows: list[Row]
    """One row per event, in the batch's order (``EVENT_COLUMNS``)."""
    hashes: list[str]
    """Each row's hash, in the same order."""
    heads: dict[str, tuple[int, str]]
    """The chain heads given, with every student of the batch moved on to its last row."""
    first_seq: int
    last_seq: int

    @property
    def seqs(self) -> list[int]:
        """Each row's ledger-wide ``seq``, in the batch's order."""
        return list(range(self.first_seq, self.last_seq + 1))


def chain_batch(events: Sequence[Any], *, heads: Mapping[str, tuple[int, str]], recorded_by: Mapping[str, str | None],
                first_seq: int, recorded_at: str) -> ChainedBatch:
    """Chain checked events onto the ledger: ``seq`` from ``first_seq``, each student's rows after its head in
    ``heads`` (``(student_seq, event_hash)`` of its last stored row; a student not in it starts from ``GENESIS``).

    ``recorded_by`` names per event id the institution that records it (the ledger's stamp, decided by the checks);
    it is written into the row and, for an event that does not carry it, into the JSON. This loop is the write
    path's hot loop: one serialisation and one hash per event, nothing else.
    """
    heads = dict(heads)
    stamps: dict[str, str] = {}
    rows: list[Row] = []
    hashes: list[str] = []
    add_row, add_hash, make_hash, get_head = rows.append, hashes.append, row_hash, heads.get
    seq = first_seq - 1
    for e in events:
        payload = e.__pydantic_serializer__.to_json(e).decode()
        by = recorded_by[e.event_id]
        if e.recorded_by is None and by is not None:
            # stamp recorded_by in the JSON: the key is written as "recorded_by":null, and a quote inside any
            # string value is escaped, so the first unescaped occurrence is the field itself
            stamp = stamps.get(by)
            if stamp is None:
                stamp = stamps[by] = f'"recorded_by":{json.dumps(by, ensure_ascii=False)}'
            payload = payload.replace('"recorded_by":null', stamp, 1)
        n, prev = get_head(e.student_id, NO_HEAD)
        seq += 1
        n += 1
        h = make_hash(prev, n, recorded_at, payload)
        heads[e.student_id] = (n, h)
        add_row((seq, e.event_id, e.student_id, n, e.kind, e.occurred_on.isoformat(), subject_of(vars(e)),
                 by, recorded_at, payload, prev, h))
        add_hash(h)
    return ChainedBatch(rows, hashes, heads, first_seq, seq)


# -- checking --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Finding:
    """The first thing a check found wrong: the row it names (0 for a stored catalog) and why."""

    seq: int
    reason: str


def row_finding(row: Row, head: tuple[int, str]) -> Finding | None:
    """What is wrong with a row's own hash, or with its link to ``head`` (its student's chain before it)."""
    seq, event_id, student_id, student_seq, _kind, _on, _subject, _by, recorded_at, payload, prev_hash, stored = row
    if row_hash(prev_hash, student_seq, recorded_at, payload) != stored:
        return Finding(seq, f"row {seq} (event {event_id}) does not match its hash: it was altered")
    if student_seq != head[0] + 1 or prev_hash != head[1]:
        return Finding(seq, f"row {seq} (event {event_id}) breaks the chain of student {student_id}")
    return None


def columns_finding(row: Row) -> Finding | None:
    """What is wrong with a row's columns: JSON that does not read, or columns that differ from their JSON."""
    seq, event_id, student_id, _n, kind, occurred_on, subject, recorded_by = row[:8]
    try:
        data = json.loads(row[9])
    except ValueError:
        return Finding(seq, f"row {seq} holds unreadable JSON")
    day = occurred_on if isinstance(occurred_on, str) else occurred_on.isoformat()
    if (data.get("event_id"), data.get("student_id"), data.get("kind"), data.get("occurred_on"),
            data.get("recorded_by"), subject_of(data)) != (event_id, student_id, kind, day, recorded_by, subject):
        return Finding(seq, f"row {seq} (event {event_id}): its columns differ from its JSON")
    return None


def check_student_rows(rows: Iterable[Row], head: tuple[int, str] = NO_HEAD) -> Finding | None:
    """The first of one student's rows (in chain order, after ``head``) that does not match its hash or does not
    link to the row before it; ``None`` when all do. What a read of a student's record can check of it alone."""
    for row in rows:
        finding = row_finding(row, head)
        if finding is not None:
            return finding
        head = (row[3], row[11])
    return None


def check_record(student_id: str, rows: Iterable[ReadRow]) -> Finding | None:
    """The first of a student's rows, as a read gets them (``READ_COLUMNS``, in chain order), that is not what the
    library wrote; ``None`` when every one is. A row is sound when its hash matches what it holds (else it was
    altered), it follows the row before it in the student's chain from the first (else a row before it was removed,
    or it was put there), and a checkpoint covers it (else it was appended outside the library). One SHA-256 per row
    over the text the row already holds, as ``verify`` computes it; no JSON is read.

    What a read cannot see alone: the student's last rows removed (what is left is a whole chain), or the chain
    re-hashed from an altered row on. The checkpoints name those rows' hashes, and ``verify`` reads them all.

    >>> row = (1, "S1-enrol", 1, "2026-01-01T00:00:00+00:00", "{}", GENESIS, "")
    >>> row = row[:6] + (row_hash(GENESIS, 1, row[3], "{}"), 1)
    >>> check_record("S1", [row]) is None
    True
    >>> check_record("S1", [row[:4] + ("{ }",) + row[5:]]).reason
    'row 1 (event S1-enrol) of student S1 does not match its hash: it was altered'
    >>> check_record("S1", [row[:7] + (0,)]).reason
    'row 1 (event S1-enrol) of student S1 is not covered by any checkpoint: it was not appended by credit_ledger'
    """
    n, prev = NO_HEAD
    for seq, event_id, student_seq, recorded_at, payload, prev_hash, stored, covered in rows:
        if row_hash(prev_hash, student_seq, recorded_at, payload) != stored:
            return Finding(seq, f"row {seq} (event {event_id}) of student {student_id} does not match its hash: it "
                                "was altered")
        n += 1
        if student_seq != n or prev_hash != prev:
            return Finding(seq, f"row {seq} (event {event_id}) breaks the chain of student {student_id}: a row "
                                "before it was removed, or it was put there")
        if seq > covered:
            return Finding(seq, f"row {seq} (event {event_id}) of student {student_id} is not covered by any "
                                "checkpoint: it was not appended by credit_ledger")
        prev = stored
    return None


def check_catalog_rows(catalogs: Iterable[StoredCatalogRow], after: tuple[int, str] = NO_HEAD) -> Finding | None:
    """The first of the stored catalogs read after ``after`` (the ``(seq, content_hash)`` of the last one checked
    before) that does not match its hash or does not follow the one before it; ``None`` when all are sound."""
    number, prev = after
    for seq, loaded_at, content, prev_hash, stored in catalogs:
        number += 1
        if content_hash(prev_hash, loaded_at, content) != stored:
            return Finding(0, f"stored catalog {seq} does not match its hash: it was altered")
        if seq != number or prev_hash != prev:
            return Finding(0, f"stored catalog {seq} does not follow stored catalog {number - 1}: a catalog was "
                              "removed or put there")
        prev = stored
    return None


def check_catalogs(catalogs: Iterable[StoredCatalogRow]) -> tuple[set[str], Finding | None]:
    """The hashes a checkpoint may name as its catalog (every stored catalog's, and ``GENESIS`` for checkpoints
    written before any), or the first stored catalog altered or removed."""
    prev = GENESIS
    catalog_hashes = {GENESIS}
    for i, (seq, loaded_at, content, prev_hash, stored) in enumerate(catalogs, start=1):
        if seq != i or prev_hash != prev or content_hash(prev_hash, loaded_at, content) != stored:
            return catalog_hashes, Finding(0, f"stored catalog {seq} was altered or removed")
        prev = stored
        catalog_hashes.add(stored)
    return catalog_hashes, None


def check_ledger(rows: Iterable[Row], checkpoints: Iterable[Checkpoint], catalogs: Iterable[StoredCatalogRow]
                 ) -> tuple[int, Finding | None]:
    """Recheck every stored catalog, then every row (in ``seq`` order), every student's chain and every checkpoint,
    and that the last checkpoint names the newest stored catalog (loading one writes a checkpoint);
    ``(rows checked, the first finding or None)``."""
    catalogs, checkpoints = list(catalogs), list(checkpoints)
    catalog_hashes, finding = check_catalogs(catalogs)
    if finding is not None:
        return 0, finding
    checked, finding = _check_rows(rows, checkpoints, catalog_hashes)
    if finding is None and catalogs and catalogs[-1][4] != _last_catalog(checkpoints):
        finding = Finding(0, f"stored catalog {catalogs[-1][0]} is named by no checkpoint: it was not loaded by "
                             "credit_ledger")
    return checked, finding


def _last_catalog(checkpoints: Sequence[Checkpoint]) -> str:
    """The catalog hash the last checkpoint names (``GENESIS`` when there is none)."""
    return checkpoints[-1][4] if checkpoints else GENESIS


def _check_rows(rows: Iterable[Row], checkpoints: Iterable[Checkpoint], catalog_hashes: set[str]
                ) -> tuple[int, Finding | None]:
    """Every row, student's chain and checkpoint, after the stored catalogs (``check_ledger``)."""
    heads: dict[str, tuple[int, str]] = {}
    checked = 0
    expected_seq = 1
    pending: list[str] = []
    prev_checkpoint = GENESIS
    number = 0
    cps = iter(checkpoints)
    cp = next(cps, None)

    def close(cp: Checkpoint) -> Finding | None:
        """Check a checkpoint over the pending row hashes, then move on."""
        nonlocal prev_checkpoint, number
        cp_seq, first, last, recorded_at, catalog, prev_hash, value = cp
        number += 1
        if cp_seq != number or prev_hash != prev_checkpoint:
            return Finding(first, f"checkpoint {number} is missing or out of place")
        if catalog not in catalog_hashes:
            return Finding(first, f"checkpoint {cp_seq} names a catalog that is no longer stored: a catalog was "
                                  "removed or altered")
        if checkpoint_hash(prev_hash, first, last, recorded_at, catalog, pending) != value:
            return Finding(first, f"checkpoint {cp_seq} over rows {first}..{last} does not match: a row in that "
                                  "range was altered, or the checkpoint was")
        prev_checkpoint = value
        pending.clear()
        return None

    for row in rows:
        seq, student_id, stored_hash = row[0], row[2], row[11]
        while cp is not None and cp[2] < cp[1] and cp[1] <= seq:  # checkpoints over no rows (catalog loads)
            if cp[1] != expected_seq:
                return checked, Finding(expected_seq, f"checkpoint {cp[0]} is out of place")
            finding = close(cp)
            if finding:
                return checked, finding
            cp = next(cps, None)
        if seq != expected_seq:
            return checked, Finding(expected_seq, f"row {expected_seq} is missing (next row is {seq})")
        expected_seq += 1
        checked += 1
        finding = row_finding(row, heads.get(student_id, NO_HEAD)) or columns_finding(row)
        if finding:
            return checked, finding
        heads[student_id] = (row[3], stored_hash)
        pending.append(stored_hash)
        if cp is None:
            return checked, Finding(seq, f"row {seq} is not covered by any checkpoint")
        if cp[1] != seq - len(pending) + 1:
            return checked, Finding(seq, f"checkpoint {cp[0]} is out of place")
        if seq == cp[2]:
            finding = close(cp)
            if finding:
                return checked, finding
            cp = next(cps, None)
    while cp is not None and cp[2] < cp[1] and cp[1] == expected_seq:
        finding = close(cp)
        if finding:
            return checked, finding
        cp = next(cps, None)
    if cp is not None:
        return checked, Finding(expected_seq, f"rows from {expected_seq} are named by checkpoint {cp[0]} but "
                                "missing: rows were removed from the end")
    if pending:
        return checked, Finding(expected_seq - len(pending), "the last rows are not covered by any checkpoint")
    return checked, None


__all__ = ["EVENT_COLUMNS", "GENESIS", "NO_HEAD", "READ_COLUMNS", "ChainedBatch", "Checkpoint", "Finding", "ReadRow",
           "Row", "StoredCatalogRow", "chain_batch", "check_catalog_rows", "check_catalogs", "check_ledger",
           "check_record", "check_student_rows", "checkpoint_hash", "columns_finding", "content_hash", "row_finding",
           "subject_of"]
