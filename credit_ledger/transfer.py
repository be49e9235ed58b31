"""Recognition across an alliance (学分互认) and conversion of learning outcomes (学分认定), as pure rules: no session,
no engine, no clock. The public face of transfer: the caps (``caps``), the decisions (``decisions``) and the signed
statements (``statements``) are re-exported here.

**Conversion.** A certificate (职业技能等级证书), competition award, work experience, apprenticeship training or online
course converts under the first conversion rule of the student's school that fits it (type, title, level, rank, a
team award's place, post), into its target courses at their own credits or into a category. **Recognition.** A
result on another school's signed statement is recognised under an agreement in force: both schools alliance
members when it was earned (or named parties), in the agreement's direction, the grade at least the agreement's
minimum across scales, the source no older than it allows (a source of 2020-01-01 under a five-year limit is
recognised up to 2025-01-01, on the calendar). **Caps.** Either way, what is granted is what ``apply_caps`` counts
next to the student's records, and a refused item gets a stable code and a sentence naming the student, the item and
the rule. A worker in the part-time program (90 credits, 60% at home) with a 中级 电工 certificate, which the college
maps to two core courses worth 10 credits, is granted 8 (at most 8 per certificate):

>>> from datetime import date as d
>>> from credit_ledger.models import Catalog, Enrolled
>>> cat = Catalog.sample()
>>> events = [Enrolled(event_id="W1-enrol", student_id="W1", occurred_on=d(2025, 9, 1), institution="HNJX",
...                    program="MECH-PT-2024", mode="part_time", employer="湘江重工")]
>>> standing = standing_of("W1", events, catalog=cat, on=d(2026, 3, 1))
>>> cert = Outcome(type="certificate", outcome_id="ELEC-4-0001", title="电工", level="中级")
>>> result = convert([cert], standing=standing, catalog=cat, on=d(2026, 3, 1))
>>> [(x.credits, x.rule, x.code, [t.course for t in x.target]) for x in result.decisions]
[(Decimal('8.00'), 'CERT-ELEC-L4', 'cap_certificate', ['ELEC101', 'MT102'])]
>>> [(e.target.course, e.credits) for e in result.events]
[('ELEC101', Decimal('4.00')), ('MT102', Decimal('4.00'))]

**Statements.** ``TransferStatement`` is canonical JSON signed with Ed25519; any changed byte fails verification
(``BadSignature``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Iterable, Mapping, Sequence

from .base import (
    DEFAULT_POLICY,
    Grade,
    Policy,
    quantize_credits,
)
from .caps import ZERO, apply_caps, describe, is_external, is_online, ratio_limits, record_key
from .catalog import Agreement, Catalog, Target
from .conversion import LEVEL_WORDS, Outcome, all_decided, convert, normalize_level
from .dates import add_years
from .decisions import (
    Decision,
    Pending,
    RecognitionResult,
    Standing,
    decide_caps,
    not_studying,
    refused,
    stable_event_id,
    standing_of,
    target_text,
)
from .events import CreditRecognized
from .grades import is_passing, score_of
from .records import CapResult, Excluded
from .statements import (
    STATEMENT_FORMAT,
    ReceiptKey,
    StatementResult,
    TransferStatement,
    public_key_hex,
    statement_keys,
    statement_of,
)

__all__ = [
    "CapResult", "Decision", "Excluded", "LEVEL_WORDS", "Outcome", "RecognitionResult", "STATEMENT_FORMAT",
    "Standing", "StatementResult", "TransferStatement", "ZERO", "apply_caps", "convert", "describe", "is_external",
    "is_online", "meets_min_grade", "normalize_level", "public_key_hex", "ratio_limits", "received_elsewhere",
    "recognize", "record_key", "standing_of", "statement_keys", "statement_of",
]


# ---------------------------------------------------------------------------------------------------------------
# Recognition under agreements (学分互认)
# ---------------------------------------------------------------------------------------------------------------


def meets_min_grade(grade: Grade, minimum: Grade, *, policy: Policy) -> bool:
    """True when a source grade reaches an agreement's minimum, across scales: 五级制 levels read as scores
    (优 95, 良 85, 中 75, 及格 65); a 合格 meets a minimum of 合格 or of at most the pass mark, and nothing higher
    (it says only that the course was passed).

    >>> from credit_ledger.models import DEFAULT_POLICY as P
    >>> [meets_min_grade(Grade.parse(g), Grade.parse(70), policy=P) for g in ("中", "及格")]
    [True, False]
    >>> [meets_min_grade(Grade.parse("合格"), Grade.parse(m), policy=P) for m in (60, 75)]
    [True, False]
    """
    if not is_passing(grade, policy=policy):
        return False
    needed = score_of(minimum)
    if needed is None:  # a minimum of 合格: any pass meets it
        return True
    have = score_of(grade)
    if have is None:  # a 合格 passes at the pass mark
        return needed <= policy.pass_mark
    return have >= needed


@dataclass(frozen=True)
class _Side:
    institution: str
    courses: tuple[str, ...] | None
    category: str | None


def _directed(agreement: Agreement, source: str, home: str) -> list[tuple[_Side, _Side]]:
    """The agreement's equivalences from ``source`` to ``home``: as written, and reversed when it is mutual."""
    found = []
    for eq in agreement.equivalences:
        a = _Side(eq.from_.institution, eq.from_.courses, eq.from_.category)
        b = _Side(eq.to.institution, eq.to.courses, eq.to.category)
        if a.institution == source and b.institution == home:
            found.append((a, b))
        elif agreement.mutual and b.institution == source and a.institution == home:
            if b.category is not None and a.category is None:
                continue  # category credit here does not count toward courses there
            found.append((b, a))
    return found


def _ordered(agreements: Sequence[Agreement], source: str, home: str) -> list[tuple[Agreement, _Side, _Side]]:
    """Every directed equivalence of the agreements: course equivalences first (those needing more source courses
    first), then category credit; agreements in the order given within each."""
    found = [(a, src, dst) for a in agreements for src, dst in _directed(a, source, home)]
    found.sort(key=lambda t: (t[1].courses is None, -len(t[1].courses or ())))
    return found


def _agreements(catalog: Catalog, on: date) -> tuple[list[Agreement], list[Agreement]]:
    """The agreements in force on ``on`` and those that are not (expired, or not yet in force), by id."""
    live, dead = [], []
    for agreement_id in sorted({a.id for a in catalog.agreements}):
        version = catalog.agreement(agreement_id, on)
        if version is not None and (version.valid_until is None or on <= version.valid_until):
            live.append(version)
            continue
        latest = version or catalog.agreement(agreement_id)
        if latest is not None:  # always: the id is one of the catalog's
            dead.append(latest)
    return live, dead


def _problems(agreement: Agreement, result: StatementResult, *, source: str, home: str, catalog: Catalog,
              on: date, policy: Policy) -> list[tuple[str, str]]:
    """Every reason a source result may not be recognised under this agreement, as (code, reason), in the order
    the rules are tried (membership or parties, grade, age): empty when it may."""
    found: list[tuple[str, str]] = []
    if agreement.alliance is not None:
        alliance = catalog.alliance(agreement.alliance, result.occurred_on) or catalog.alliance(agreement.alliance)
        for school in (source, home):
            if alliance is None or not alliance.is_member(school, result.occurred_on):
                found.append(("not_a_member", f"{school} was not a member of alliance {agreement.alliance} on "
                              f"{result.occurred_on}, when the source was earned (agreement {agreement.id})"))
                break
    elif source not in agreement.parties or home not in agreement.parties:
        found.append(("not_in_agreement", f"agreement {agreement.id} is between {', '.join(agreement.parties)}"))
    if not meets_min_grade(result.grade, agreement.min_grade, policy=policy):
        found.append(("below_min_grade", f"grade {result.grade} ({result.grade.scale.value}) is below the minimum "
                      f"{agreement.min_grade} of agreement {agreement.id}"))
    if agreement.max_age_years is not None and add_years(result.occurred_on, agreement.max_age_years) < on:
        found.append(("too_old", f"the source of {result.occurred_on} is older than the {agreement.max_age_years} "
                      f"years agreement {agreement.id} allows on {on}"))
    return found


def received_elsewhere(statement: TransferStatement, student_id: str, received: Mapping[ReceiptKey, str]
                       ) -> str | None:
    """Why ``statement`` may not be received for ``student_id``: the statement, or the issuing school's student it
    names, was received for another student of the ledger (``received``: the student each ``statement_keys`` key
    was received for). The sentence names no other student.

    >>> from datetime import datetime
    >>> st = TransferStatement(statement_id="XTJX-1", issuer="XTJX", student_id="S2", issued_at=datetime(2026, 1, 1))
    >>> received_elsewhere(st, "H1", {}) is None, received_elsewhere(st, "H1", {("statement", "XTJX", "XTJX-1"): "H1"})
    (True, None)
    >>> received_elsewhere(st, "H2", {("statement", "XTJX", "XTJX-1"): "H1"})
    'statement XTJX-1 of XTJX was received for another student of this ledger; a statement counts for one student only'
    """
    for key in statement_keys(statement):
        prior = received.get(key)
        if prior is not None and prior != student_id:
            if key[0] == "statement":
                return (f"statement {statement.statement_id} of {statement.issuer} was received for another student "
                        "of this ledger; a statement counts for one student only")
            return (f"{statement.issuer}'s student {statement.student_id} was received as another student of this "
                    "ledger; a student of the issuing school is one student here")
    return None


def recognize(statement: TransferStatement, *, standing: Standing, catalog: Catalog, on: date,
              received: Mapping[ReceiptKey, str] | None = None) -> RecognitionResult:
    """Decide the recognition of a (verified) statement's results at the student's school on ``on``.

    A result is refused when the student is not studying there (``not_enrolled``), when it was recognised before
    or is listed twice (``duplicate_outcome``), and when no agreement in force recognises it: none names that
    course or its category from that school in this direction (``not_in_agreement``; a one-way agreement works in
    its own direction only), the only one is out of its date window (``agreement_expired``), a school was not an
    alliance member when the source was earned (``not_a_member``), the grade is below the agreement's minimum
    (``below_min_grade``) or the source is older than it allows (``too_old``). Course equivalences come before
    category credit; a many-to-one equivalence needs all of its sources and grants the target once; a source is
    used once. The caps of ``apply_caps`` then decide what of it counts next to the student's records.

    ``received`` maps what the ledger already received (``statement_keys``) to the student it was received for: a
    statement received for another student, or naming an issuing school's student received as another student,
    is refused whole (``duplicate_outcome``, see ``received_elsewhere``).
    """
    source, home = statement.issuer, standing.institution or ""
    policy = standing.program.policy if standing.program else DEFAULT_POLICY
    prefix = f"student {standing.student_id}, {source} "
    results = statement.results
    decisions: list[Decision | None] = [None] * len(results)
    blocked = not_studying(standing, on)
    elsewhere = received_elsewhere(statement, standing.student_id, received or {})
    live, dead = _agreements(catalog, on)

    def every_reason(i: int) -> list[tuple[str, str]]:
        """Every reason that applies to result ``i``, whatever refused it first, in the order the rules are tried."""
        result = results[i]
        found = [(code, f"{prefix}{result.item}: {why}")
                 for code, why in _checks(i, results, source=source, standing=standing, on=on, blocked=blocked,
                                                  elsewhere=elsewhere)]
        found += [(code, f"{prefix}{result.item}: {why}") for code, why, _ in _agreement_problems(
            i, results, live, dead, source=source, home=home, catalog=catalog, on=on, policy=policy)]
        return found

    open_items: list[int] = []
    seen: dict[str, int] = {}
    for i, result in enumerate(results):
        if blocked:
            decisions[i] = refused(result.item, "not_enrolled", f"{prefix}{result.item}: {blocked}",
                                   more=every_reason(i))
        elif elsewhere:
            decisions[i] = refused(result.item, "duplicate_outcome", f"{prefix}{result.item}: {elsewhere}",
                                   more=every_reason(i))
        elif (source, result.course) in standing.recognized or result.course in seen:
            when = ("was already recognised for the student" if (source, result.course) in standing.recognized
                    else f"is listed twice (first as item {seen[result.course] + 1})")
            decisions[i] = refused(result.item, "duplicate_outcome", f"{prefix}{result.item}: the result {when}; "
                                   "each result is recognised once", more=every_reason(i))
        elif result.occurred_on > on:
            decisions[i] = refused(result.item, "source_after_recognition", f"{prefix}{result.item}: the source of "
                                   f"{result.occurred_on} is later than its recognition on {on}", more=every_reason(i))
        else:
            seen[result.course] = i
            open_items.append(i)

    failures: dict[int, tuple[str, str, str]] = {}
    pending: list[Pending] = []
    claimed: set[int] = set()
    for agreement, src, dst in _ordered(live, source, home):
        for group in _groups(src, results, [i for i in open_items if i not in claimed]):
            problems = [(i, _problems(agreement, results[i], source=source, home=home, catalog=catalog, on=on,
                                      policy=policy)) for i in group]
            bad = [(i, p[0]) for i, p in problems if p]
            for i, (code, why) in bad:
                failures.setdefault(i, (code, why, agreement.id))
            if bad:
                continue
            claimed.update(group)
            pending.append(_recognition(group, results, dst, agreement, statement=statement, standing=standing,
                                        catalog=catalog, on=on))
    for i in open_items:
        if i in claimed:
            continue
        result = results[i]
        if i in failures:
            code, why, named = failures[i]
            decisions[i] = refused(result.item, code, f"{prefix}{result.item}: {why}", named,
                                   more=every_reason(i))
            continue
        code, why, one = _uncovered(i, results, live, dead, source=source, home=home, on=on)
        decisions[i] = refused(result.item, code, f"{prefix}{result.item}: {why}", one, more=every_reason(i))
    writes = decide_caps(pending, decisions, standing, catalog=catalog, on=on, prefix=prefix) if pending else []
    return RecognitionResult(student_id=standing.student_id, decisions=tuple(all_decided(decisions)),
                             events=tuple(writes), statement_id=statement.statement_id)


def _checks(i: int, results: Sequence[StatementResult], *, source: str, standing: Standing, on: date,
            blocked: str | None, elsewhere: str | None) -> list[tuple[str, str]]:
    """Every check of result ``i`` before the agreements, as (code, reason), in the order they are tried: the
    student studying, the statement not received for another student, the result not recognised before nor listed
    before, its date not after the day of recognition."""
    result = results[i]
    found: list[tuple[str, str]] = []
    if blocked:
        found.append(("not_enrolled", blocked))
    if elsewhere:
        found.append(("duplicate_outcome", elsewhere))
    if (source, result.course) in standing.recognized:
        found.append(("duplicate_outcome", "the result was already recognised for the student; each result is "
                      "recognised once"))
    earlier = next((j for j in range(i) if results[j].course == result.course), None)
    if earlier is not None:
        found.append(("duplicate_outcome", f"the result is listed twice (first as item {earlier + 1}); each result "
                      "is recognised once"))
    if result.occurred_on > on:
        found.append(("source_after_recognition", f"the source of {result.occurred_on} is later than its "
                      f"recognition on {on}"))
    return found


def _uncovered(i: int, results: Sequence[StatementResult], live: Sequence[Agreement], dead: Sequence[Agreement], *,
               source: str, home: str, on: date) -> tuple[str, str, str | None]:
    """Why no agreement in force takes result ``i`` when none names it: one that covers it is out of its date
    window (``agreement_expired``), or none in force covers it in this direction (``not_in_agreement``); as
    (code, reason, agreement id)."""
    expired = [a for a in dead if any(list(_groups(s, results, [i])) for s, _ in _directed(a, source, home))]
    if expired:
        a = expired[0]
        window = f"{a.valid_from or 'the start'} to {a.valid_until or 'open end'}"
        return "agreement_expired", f"agreement {a.id} covers it but is in force from {window}, not on {on}", a.id
    one_way = [a for a in live if not a.mutual and any(
        list(_groups(s, results, [i])) for s, _ in _directed(a.model_copy(update={"mutual": True}), source, home))]
    result = results[i]
    why = (f"agreement {one_way[0].id} is one-way, recognising credit from {home} at {source} only" if one_way
           else f"no agreement in force recognises {source}'s {result.course} ({result.category}) at {home}")
    return "not_in_agreement", why, one_way[0].id if one_way else None


def _agreement_problems(i: int, results: Sequence[StatementResult], live: Sequence[Agreement],
                        dead: Sequence[Agreement], *, source: str, home: str, catalog: Catalog, on: date,
                        policy: Policy) -> list[tuple[str, str, str | None]]:
    """Every reason the agreements refuse result ``i``, as (code, reason, agreement id), judged as if it were the
    only claim on them: each problem under each agreement in force that covers it (in ``_ordered`` order), then
    ``agreement_expired`` when an agreement out of its window covers it (and what else that agreement refuses), or
    ``not_in_agreement`` when nothing covers it. Empty when an agreement in force would take it, or when the student
    has no school to recognise it at."""
    if not home:
        return []
    others = [i] + [j for j in range(len(results)) if j != i]
    found: list[tuple[str, str, str | None]] = []
    covered = False
    for agreement, src, _ in _ordered(live, source, home):
        if not any(i in group for group in _groups(src, results, others)):
            continue
        covered = True
        problems = _problems(agreement, results[i], source=source, home=home, catalog=catalog, on=on, policy=policy)
        if not problems:
            return []
        found += [(code, why, agreement.id) for code, why in problems]
    code, why, agreement_id = _uncovered(i, results, live, dead, source=source, home=home, on=on)
    if code == "agreement_expired" or not covered:
        found.append((code, why, agreement_id))
    expired = next((a for a in dead if a.id == agreement_id), None) if code == "agreement_expired" else None
    if expired is not None:  # what else it would refuse, were it in force
        found += [(c, w, expired.id) for c, w in _problems(expired, results[i], source=source, home=home,
                                                              catalog=catalog, on=on, policy=policy)]
    return found


def _groups(side: _Side, results: Sequence[StatementResult], open_items: Sequence[int]) -> Iterable[list[int]]:
    """The groups of open results an equivalence's source side takes: all of its courses (once), or each result of
    its category on its own."""
    if side.courses is not None:
        where = {results[i].course: i for i in reversed(open_items)}
        if all(code in where for code in side.courses):
            yield [where[code] for code in side.courses]
        return
    for i in open_items:
        if results[i].category == side.category:
            yield [i]


def _recognition(group: list[int], results: Sequence[StatementResult], dst: _Side, agreement: Agreement, *,
                 statement: TransferStatement, standing: Standing, catalog: Catalog, on: date) -> Pending:
    """The candidate ``CreditRecognized`` events for a group of source results: one per target course (at the
    course's own credits), or one for the target category (at the source credits)."""
    sources = [results[i] for i in group]
    codes = "+".join(r.course for r in sources)
    source_credits = sum((r.credits for r in sources), Decimal("0.00"))
    pass_mark = standing.program.policy.pass_mark if standing.program else DEFAULT_POLICY.pass_mark
    lowest = min(sources, key=lambda r: _score_or(r.grade, pass_mark))
    common = dict(student_id=standing.student_id, occurred_on=on, source_institution=statement.issuer,
                  source_course=codes, source_credits=source_credits, source_grade=lowest.grade,
                  source_date=max(r.occurred_on for r in sources), agreement_id=agreement.id,
                  statement_id=statement.statement_id, source_student_id=statement.student_id)
    base = (standing.student_id, "recognized", statement.issuer, codes)
    events = []
    if dst.category is not None:
        events.append(CreditRecognized(event_id=stable_event_id(*base, f"category:{dst.category}"),
                                       target=Target(category=dst.category), credits=source_credits, **common))
    else:
        for code in dst.courses or ():
            course = catalog.course_or_latest(dst.institution, code, on)
            credits = quantize_credits(course.credits) if course is not None else Decimal("0.00")
            events.append(CreditRecognized(event_id=stable_event_id(*base, code), target=Target(course=code),
                                           credits=credits, **common))
    toward = ", ".join(target_text(e.target) for e in events)
    kind = "many-to-one" if len(group) > 1 else ("one-to-many" if len(events) > 1 else "equivalence")
    note = f"recognised under agreement {agreement.id} ({kind} {codes} -> {toward})"
    return Pending(group[0], sources[0].item, agreement.id, events, note,
                   tuple((i, results[i].item) for i in group[1:]))


def _score_or(grade: Grade, default: Decimal) -> Decimal:
    """The score a grade stands for, or ``default`` for a pass/fail grade (which has none)."""
    score = score_of(grade)
    return score if score is not None else default
