"""Recognition across an alliance (学分互认), conversion of learning outcomes (学分认定), and signed transfer
statements, as pure rules: no session, no engine, no clock.

**Conversion.** A certificate (职业技能等级证书), competition award, work experience, apprenticeship training or online
course converts under the first conversion rule of the student's school that fits it (type, title, level, rank, a
team award's place, post), into its target courses at their own credits or into a category. **Recognition.** A
result on another school's signed statement is recognised under an agreement in force: both schools alliance
members when it was earned (or named parties), in the agreement's direction, the grade at least the agreement's
minimum across scales, the source no older than it allows. **Caps.** Either way, what is granted is what
``apply_caps`` counts next to the student's records, and a refused item gets a stable code and a sentence naming
the student, the item and the rule. A worker in the part-time program (90 credits, 60% at home) with a 中级 电工
certificate, which the college maps to two core courses worth 10 credits, is granted 8 (at most 8 per certificate):

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

The caps alone: a 150-credit program with a 50% cap and 80 credits from a partner school counts 75 of them.

>>> from decimal import Decimal as D
>>> from credit_ledger.models import CreditRecord, Policy
>>> def rec(eid, credits, origin="recognized"):
...     return CreditRecord(course=None, institution="HNJX", title=eid, category="core", credits=D(credits),
...                         origin=origin, event_id=eid, occurred_on=d(2026, 3, 1))
>>> caps = apply_caps([rec("home", 60, "home"), rec("xt-1", 50), rec("xt-2", 30)], total_credits=D(150),
...                   policy=Policy())
>>> [(r.event_id, r.credits) for r in caps.counted]
[('home', Decimal('60')), ('xt-1', Decimal('50')), ('xt-2', Decimal('25.00'))]
>>> [(x.record.event_id, x.credits, x.code) for x in caps.excluded]
[('xt-2', Decimal('5.00'), 'cap_external')]

**Statements.** ``TransferStatement`` is canonical JSON signed with Ed25519; any changed byte fails verification
(``BadSignature``).
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_DOWN, Decimal
from typing import Annotated, Any, Iterable, Literal, Mapping, Sequence

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pydantic import Field, StringConstraints, ValidationError, model_validator

from .errors import BadSignature
from .grades import is_passing, score_of
from .history import build_timeline, external_record, transcript_records
from .models import (
    CENT,
    DEFAULT_POLICY,
    Agreement,
    Catalog,
    Code,
    ConversionRule,
    CreditRecognized,
    CreditRecord,
    Credits,
    EntryReversed,
    Event,
    Frozen,
    Grade,
    Hours,
    Identifier,
    OutcomeConverted,
    OutcomeType,
    Policy,
    Program,
    RecordDate,
    Scale,
    Target,
    Text,
    Years,
    quantize_credits,
)
from .records import CapResult, Excluded

ZERO = Decimal("0.00")


# ---------------------------------------------------------------------------------------------------------------
# Caps: what of the external credits counts
# ---------------------------------------------------------------------------------------------------------------


def record_key(record: CreditRecord) -> tuple:
    """The fixed order in which records claim room under a cap: by date, then event id (then the rest of the
    record, so that the order never depends on how records were given). Earlier records keep their credits."""
    return (record.occurred_on, record.event_id, record.course or "", record.category, record.credits,
            record.origin, record.outcome_type or "", record.outcome_id or "", record.title)


def is_external(record: CreditRecord) -> bool:
    """True for recognised or converted credit."""
    return record.origin != "home"


def is_online(record: CreditRecord) -> bool:
    """True for credit of an online course (a home online course, or a converted online-course certificate)."""
    return record.mode == "online" or record.outcome_type == "online_course"


def describe(record: CreditRecord) -> str:
    """A record named for a sentence: what it is, where it counts, and its event.

    >>> from datetime import date as d
    >>> describe(CreditRecord(course="CNC201", institution="HNJX", title="数控车工", category="core",
    ...          credits=Decimal(6), origin="converted", outcome_type="certificate", outcome_id="C-1",
    ...          event_id="e1", occurred_on=d(2026, 3, 1)))
    'certificate C-1 (数控车工) toward course CNC201, event e1'
    """
    toward = f"course {record.course}" if record.course is not None else f"category {record.category}"
    if record.origin == "converted":
        what = f"{record.outcome_type or 'outcome'} {record.outcome_id} ({record.title})"
    elif record.origin == "recognized":
        source = f" of {record.source_institution}" if record.source_institution else ""
        what = f"recognised credit{source} ({record.title})"
    else:
        what = f"course {record.course} ({record.title})"
        return f"{what}, event {record.event_id}"
    return f"{what} toward {toward}, event {record.event_id}"


def _fmt(value: Decimal) -> str:
    return format(quantize_credits(value), "f")


def _limit(ratio: Decimal, total: Decimal) -> Decimal:
    """A cap of ``ratio`` x ``total`` credits, rounded down to 0.01 (a cap is never exceeded by rounding)."""
    return (ratio * total).quantize(CENT, rounding=ROUND_DOWN)


def ratio_limits(total_credits: Decimal, *, policy: Policy) -> tuple[Decimal, Decimal]:
    """The caps on (recognised plus converted, online) credits toward a program of ``total_credits``: the external
    cap is ``max_external_ratio`` x total, or (1 - ``min_home_ratio``) x total when that is less.

    >>> ratio_limits(Decimal(150), policy=Policy(min_home_ratio=Decimal("0.6")))
    (Decimal('60.00'), Decimal('37.50'))
    """
    external, online, _ = _ratio_limits(total_credits, policy)
    return external, online


def _ratio_limits(total_credits: Decimal, policy: Policy) -> tuple[Decimal, Decimal, str]:
    external = _limit(policy.max_external_ratio, total_credits)
    why = f"{_pct(policy.max_external_ratio)} of the program's {_fmt(total_credits)}, max_external_ratio"
    if policy.min_home_ratio is not None:
        home_limit = _limit(1 - policy.min_home_ratio, total_credits)
        if home_limit < external:
            external = home_limit
            why = (f"at least {_pct(policy.min_home_ratio)} of the program's {_fmt(total_credits)} is earned at "
                   "the home school, min_home_ratio")
    return external, _limit(policy.max_online_ratio, total_credits), why


def _pct(ratio: Decimal) -> str:
    """A ratio as a percentage: ``_pct(Decimal("0.25"))`` is ``'25%'``."""
    return f"{format((ratio * 100).normalize(), 'f')}%"


def apply_caps(records: Sequence[CreditRecord], *, total_credits: Decimal, policy: Policy) -> CapResult:
    """The records that count toward a program of ``total_credits`` under ``policy``'s caps, and those that do not.

    Applied in this order, each to what the previous ones left (records claim room in ``record_key`` order):

    1. ``duplicate_outcome``: an outcome converts once; a later conversion of the same outcome (another rule or
       date), or the same target twice, does not count.
    2. ``overlap_lower``: a course counts once. Of the records toward the same course (home, recognised or
       converted) only the one that keeps the most credits counts (for a certificate: under the certificate cap),
       a home record first among equals, then the earliest; a course for which no certificate keeps anything yet
       is decided after the others, once certificates that lost a course have room again.
    3. ``cap_certificate``: a certificate's credits, summed over its records, up to ``max_certificate_credits``.
    4. ``cap_online``: online credits up to ``max_online_ratio`` x total; home online courses use the room first
       and are never trimmed.
    5. ``cap_external``: recognised plus converted credits up to ``max_external_ratio`` x total, and with
       ``min_home_ratio`` also up to (1 - ``min_home_ratio``) x total.

    A home record counts unless a record toward the same course keeps more credits after every cap (if the caps
    cut the external record to no more than the home record, the home record counts instead: the rule is applied
    again with the home record first for that course). So a further record never lowers what counts. Expiry
    (``credit_validity_years``, a certificate's ``valid_until``) is not applied here: leave expired records out
    before calling. The result does not depend on the order of ``records``, and no record counts more than its own
    credits.
    """
    courses = [r.course for r in records if r.course is not None]
    if len(set(courses)) == len(courses) and not any(is_external(r) for r in records):
        # home records only, one per course: no rule above touches them (the usual transcript)
        return CapResult.trusted(counted=tuple(sorted(records, key=record_key)), excluded=())
    home_first: set[str] = set()
    while True:
        result, beaten = _caps_once(records, total_credits=total_credits, policy=policy, home_first=home_first)
        if not beaten - home_first:
            return result
        home_first |= beaten


def _caps_once(records: Sequence[CreditRecord], *, total_credits: Decimal, policy: Policy,
               home_first: set[str]) -> tuple[CapResult, set[str]]:
    """One pass of ``apply_caps``, with a home record winning its course outright for the courses in
    ``home_first``; also returns the courses where a home record lost to a record that kept no more than it."""
    ordered = sorted(records, key=record_key)
    left = [r.credits for r in ordered]
    excluded: list[Excluded] = []

    out = [False] * len(ordered)

    def cut(i: int, amount: Decimal, code: str, message: str) -> None:
        """Exclude ``amount`` of record i's credits; a record left with none stops counting (even one of 0)."""
        amount = min(amount, left[i])
        left[i] -= amount
        out[i] = left[i] <= 0
        excluded.append(Excluded(record=ordered[i], credits=amount, code=code, message=message))

    converted = [i for i, r in enumerate(ordered) if r.origin == "converted"]

    # 1. each outcome converts once
    conversions: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i in converted:
        r = ordered[i]
        if r.outcome_id is not None:
            conversions[(r.outcome_type or "", r.outcome_id)].append(i)
    for (outcome_type, outcome_id), members in conversions.items():
        first = ordered[members[0]]
        seen_targets: set[tuple[str | None, str]] = set()
        for i in members:
            r = ordered[i]
            target = (r.course, r.category if r.course is None else "")
            if (r.rule, r.occurred_on) != (first.rule, first.occurred_on):
                cut(i, left[i], "duplicate_outcome",
                    f"{describe(r)}: {outcome_type} {outcome_id} was already converted on {first.occurred_on} "
                    f"(rule {first.rule}, event {first.event_id}); each outcome converts once")
            elif target in seen_targets:
                cut(i, left[i], "duplicate_outcome",
                    f"{describe(r)}: {outcome_type} {outcome_id} already counts toward that target; each outcome "
                    "converts once")
            else:
                seen_targets.add(target)

    # 2. a course counts once: a home record, else of overlapping outcomes (the same course) only the highest, judged
    #    by what each keeps under the certificate cap once the records that lost are set aside
    def certificate_room(set_aside: set[int] | dict[int, Any]) -> dict[int, Decimal]:
        kept: dict[int, Decimal] = {}
        per_certificate: dict[str, Decimal] = defaultdict(Decimal)
        for i in converted:
            r = ordered[i]
            if out[i] or i in set_aside or r.outcome_type != "certificate" or r.outcome_id is None:
                continue
            kept[i] = min(left[i], max(policy.max_certificate_credits - per_certificate[r.outcome_id], ZERO))
            per_certificate[r.outcome_id] += kept[i]
        return kept

    # every record toward a course contends, home ones too: the one that keeps the most credits counts, a home
    # record first among equals (so a further passing record can only add to what counts)
    by_course: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(ordered):
        if r.course is not None and not out[i]:
            by_course[r.course].append(i)
    losers: dict[int, tuple[str, int]] = {}
    while True:  # each round only adds losers; a course nobody keeps credits for waits for the others to settle
        kept = certificate_room(losers)
        changed = False
        for course, members in by_course.items():
            contenders = [i for i in members if i not in losers]
            if len(contenders) < 2:
                continue
            best = max(contenders, key=lambda i: (
                course in home_first and not is_external(ordered[i]), kept.get(i, left[i]),
                not is_external(ordered[i]), -i))
            if kept.get(best, left[best]) > 0 or not is_external(ordered[best]):
                losers.update((i, (course, best)) for i in contenders if i != best)
                changed = True
        if not changed:
            break
    for course, members in by_course.items():  # what is still contested keeps nothing: the earliest stays
        contenders = [i for i in members if i not in losers]
        losers.update((i, (course, contenders[0])) for i in contenders[1:])
    kept = certificate_room(losers)
    for i in sorted(losers):
        course, winner = losers[i]
        w = ordered[winner]
        if not is_external(w):
            why = f"course {course} is already earned at the home school (event {w.event_id}); a course counts once"
        else:
            why = (f"course {course} already counts by {describe(w)} with {_fmt(kept.get(winner, left[winner]))} "
                   "credits; of overlapping outcomes only the highest counts")
        cut(i, left[i], "overlap_lower", f"{describe(ordered[i])}: {why}")

    # 3. at most max_certificate_credits per certificate
    for i, keep in certificate_room(set()).items():
        if left[i] > keep:
            cut(i, left[i] - keep, "cap_certificate",
                f"{describe(ordered[i])}: {_fmt(left[i] - keep)} of its credits do not count; a certificate counts "
                f"at most {_fmt(policy.max_certificate_credits)} credits (max_certificate_credits)")

    external_limit, online_limit, why = _ratio_limits(total_credits, policy)

    # 4. online credits up to max_online_ratio of the total
    used = sum((left[i] for i, r in enumerate(ordered) if not is_external(r) and is_online(r)), ZERO)
    for i, r in enumerate(ordered):
        if not is_external(r) or not is_online(r) or out[i]:
            continue
        room = max(online_limit - used, ZERO)
        if left[i] > room:
            cut(i, left[i] - room, "cap_online",
                f"{describe(r)}: {_fmt(left[i] - room)} of its credits do not count; online credits count up to "
                f"{_fmt(online_limit)} ({_pct(policy.max_online_ratio)} of the program's {_fmt(total_credits)}, "
                "max_online_ratio)")
        used += left[i]

    # 5. recognised plus converted credits up to max_external_ratio (and the home share) of the total
    used = ZERO
    for i, r in enumerate(ordered):
        if not is_external(r) or out[i]:
            continue
        room = max(external_limit - used, ZERO)
        if left[i] > room:
            cut(i, left[i] - room, "cap_external",
                f"{describe(r)}: {_fmt(left[i] - room)} of its credits do not count; recognised and converted "
                f"credits count up to {_fmt(external_limit)} ({why})")
        used += left[i]

    beaten = {course for i, (course, winner) in losers.items()
              if not is_external(ordered[i]) and is_external(ordered[winner])
              and (0 if out[winner] else left[winner]) <= ordered[i].credits}
    counted = []
    for i, r in enumerate(ordered):
        if out[i]:
            continue
        counted.append(r if left[i] == r.credits else r.model_copy(update={"credits": left[i]}))
    return CapResult(counted=tuple(counted), excluded=tuple(excluded)), beaten


# ---------------------------------------------------------------------------------------------------------------
# Submitted items and decisions
# ---------------------------------------------------------------------------------------------------------------

LEVEL_WORDS = {
    "初级": "foundation", "五级": "foundation", "初级工": "foundation",
    "中级": "intermediate", "四级": "intermediate", "中级工": "intermediate",
    "高级": "advanced", "三级": "advanced", "高级工": "advanced",
    "技师": "technician", "二级": "technician",
    "高级技师": "senior_technician", "一级": "senior_technician",
    "国家级": "national", "全国": "national", "省级": "provincial", "市级": "city", "地市级": "city",
}
"""Levels as schools write them (职业技能等级 初级/中级/高级, 国家级/省级/市级 competitions), read as the codes that
conversion rules use."""


def normalize_level(level: str | None) -> str | None:
    """A level as conversion rules name it.

    >>> normalize_level("中级"), normalize_level("Provincial"), normalize_level(None)
    ('intermediate', 'provincial', None)
    """
    if level is None:
        return None
    word = level.strip()
    return LEVEL_WORDS.get(word, word.lower())


class Outcome(Frozen):
    """A learning outcome submitted for conversion into credits: a vocational skill level certificate (职业技能等级
    证书, 1+X), a competition award, work experience, apprenticeship training or an online course."""

    type: OutcomeType
    outcome_id: Identifier
    """The certificate number, award number, or another id that names this outcome for good."""
    title: Text
    level: Code | None = None
    """Certificate level (初级/中级/高级 or foundation/intermediate/advanced) or competition level
    (国家级/省级/市级 or national/provincial/city)."""
    rank: Annotated[int, Field(ge=1, le=100)] | None = None
    """A competition award's rank: 1 for a first prize (一等奖), 2 for a second prize, ..."""
    team_position: Annotated[int, Field(ge=1, le=100)] | None = None
    """For a team award: the member's place in the team's list (only the top members count); ``None``: individual."""
    post: Text | None = None
    """For work experience: the post held (it must be related to the program)."""
    issued_on: RecordDate | None = None
    valid_until: RecordDate | None = None
    hours: Hours | None = None
    years: Years | None = None
    rule_id: Code | None = None
    """Ask for this conversion rule; by default the first rule of the school that fits is used."""
    issuer: Text | None = None

    @model_validator(mode="after")
    def _measure(self) -> "Outcome":
        if self.type == "competition" and self.rank is None:
            raise ValueError("a competition award states its rank (1 for a first prize)")
        if self.type == "work_experience" and self.years is None:
            raise ValueError("work experience states its years")
        if self.type in ("apprenticeship", "online_course") and self.hours is None:
            raise ValueError(f"{self.type.replace('_', ' ')} states its hours")
        if self.issued_on and self.valid_until and self.valid_until < self.issued_on:
            raise ValueError(f"valid_until ({self.valid_until}) is before issued_on ({self.issued_on})")
        return self

    @property
    def item(self) -> str:
        """How a decision names this outcome."""
        return f"{self.type} {self.outcome_id} ({self.title})"


class Decision(Frozen):
    """What was decided for one submitted item: the credits granted, where they count, the rule or agreement used,
    and when anything was refused, the stable ``code`` and a sentence naming the student, the item and the rule."""

    item: str
    accepted: bool
    """True when any credits were granted (a cap may have trimmed them: then ``code`` says which)."""
    credits: Decimal = Decimal("0.00")
    target: tuple[Target, ...] = ()
    """The courses or category the credits count toward (a certificate or a one-to-many equivalence has several)."""
    rule: str | None = None
    """The conversion rule or recognition agreement applied."""
    code: str | None = None
    message: str
    event_ids: tuple[str, ...] = ()
    """The events that write the granted credits."""


class RecognitionResult(Frozen):
    """One decision per submitted item, in the order submitted, and the events that were (or, in a dry run, would
    be) appended for the accepted ones."""

    student_id: str
    decisions: tuple[Decision, ...] = ()
    events: tuple[Event, ...] = ()
    statement_id: str | None = None
    dry_run: bool = False

    @property
    def credits(self) -> Decimal:
        """The credits granted in all."""
        return sum((d.credits for d in self.decisions), Decimal("0.00"))

    @property
    def accepted(self) -> tuple[Decision, ...]:
        """The decisions that granted credits."""
        return tuple(d for d in self.decisions if d.accepted)

    @property
    def refused(self) -> tuple[Decision, ...]:
        """The decisions that granted nothing."""
        return tuple(d for d in self.decisions if not d.accepted)

    def __str__(self) -> str:
        lines = [f"student {self.student_id}: {self.credits} credits granted"
                 + (" (dry run, nothing written)" if self.dry_run else "")]
        for d in self.decisions:
            mark = "accepted" if d.accepted else "refused "
            code = f" [{d.code}]" if d.code else ""
            lines.append(f"  {mark} {d.credits:>6} {d.item}{code}: {d.message}")
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------------------
# What the rules need to know of a student
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Standing:
    """A student as the recognition and conversion rules see them on a day: where and in what program they study,
    their status, their effective credit records, and what was already recognised or converted for them."""

    student_id: str
    institution: str | None
    """The school deciding: the acting institution, else the school the student is enrolled at on the day."""
    status: str
    """``active`` when the student studies at ``institution`` on the day; otherwise why not."""
    program: Program | None
    records: tuple[CreditRecord, ...] = ()
    converted: frozenset[tuple[str, str]] = frozenset()
    """Outcomes converted for the student, as (type, id), revoked ones included (they may not convert again)."""
    recognized: frozenset[tuple[str, str]] = frozenset()
    """Source records recognised for the student, as (source institution, source course)."""


def standing_of(student_id: str, events: Sequence[Any], *, catalog: Catalog, on: date,
                institution: str | None = None, program: str | None = None) -> Standing:
    """The standing of a student on ``on`` from their events (in recording order).

    ``institution`` is the deciding school (default: the student's school on that day); ``program`` a program code
    of that school to decide under instead of the student's own (what-if).
    """
    timeline = build_timeline(events)
    state = timeline.status_on(on)
    enrolment = state.enrolment
    status = state.status
    school = enrolment.institution if enrolment is not None else None
    if institution is not None and institution != school:
        status = f"not enrolled at {institution}" + (f" (a student of {school})" if school else "")
        school = institution
    code = program or (enrolment.program if enrolment is not None else None)
    found = None
    if school is not None and code is not None:
        found = catalog.program(school, code, on) or catalog.program(school, code)
    reversed_ids = {e.target_event_id for e in events if isinstance(e, EntryReversed)}
    converted = {(e.outcome_type, e.outcome_id) for e in events
                 if isinstance(e, OutcomeConverted) and e.event_id not in reversed_ids}
    recognized = {(e.source_institution, course) for e in events
                  if isinstance(e, CreditRecognized) and e.event_id not in reversed_ids
                  for course in e.source_course.split("+")}
    records = transcript_records(events, catalog=catalog, policy=found.policy if found else None)
    return Standing(student_id, school, status, found, tuple(records), frozenset(converted), frozenset(recognized))


def _not_studying(standing: Standing, on: date) -> str | None:
    """Why the student cannot be granted credits on ``on``, or ``None``."""
    if standing.status != "active":
        return (f"the student is not enrolled and studying at {standing.institution or 'any school'} on {on} "
                f"({standing.status}); credits are granted only while enrolled and not suspended")
    if standing.program is None:
        return f"the student's program at {standing.institution} is not in the catalog on {on}"
    return None


def _event_id(*parts: object) -> str:
    """A stable event id from its parts (deciding the same item again gives the same id); long ids are hashed."""
    text = "/".join(str(p) for p in parts)
    if len(text) <= 128:
        return text
    return f"{str(parts[0])[:60]}/{hashlib.sha256(text.encode()).hexdigest()[:40]}"


def _target_text(target: Target) -> str:
    return f"course {target.course}" if target.course is not None else f"category {target.category}"


# ---------------------------------------------------------------------------------------------------------------
# Caps at decision time: the candidates next to what the student already has
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class _Pending:
    """An item that passed its own rules and awaits the caps: its index, decision text and candidate events."""

    index: int
    item: str
    rule: str
    events: list[Any]
    note: str
    members: tuple[tuple[int, str], ...] = ()
    """Other items (index, name) decided together with this one: the other sources of a many-to-one equivalence."""


def _decide_caps(pending: list[_Pending], decisions: list[Decision | None], standing: Standing, *, catalog: Catalog,
                 on: date, prefix: str) -> list[Any]:
    """Apply the program's caps to the candidates together with the student's records; fill in the decisions and
    return the events to write.

    What is written is what ``apply_caps`` counts of it next to the records: a candidate that counts nothing is
    dropped and one that counts less is cut down, and the caps are applied again to what is left (a dropped
    candidate must not displace a record, nor free room for another candidate), until every candidate counts
    whole. Each round only drops or lowers candidates, so this ends.
    """
    program = standing.program
    if program is None:  # pragma: no cover - _not_studying refuses every item first
        raise ValueError("caps need the student's program")
    origin_of = {"credit_recognized": "recognized", "outcome_converted": "converted"}
    existing = [r for r in standing.records if r.valid_until is None or r.valid_until >= on]
    current = {e.event_id: e for p in pending for e in p.events}
    excluded: dict[str, list[Excluded]] = defaultdict(list)
    while current:
        candidates = [external_record(e, origin_of[e.kind], catalog, standing.institution)  # type: ignore[arg-type]
                      for e in current.values()]
        caps = apply_caps(existing + candidates, total_credits=program.total_credits, policy=program.policy)
        counted = {r.event_id: r.credits for r in caps.counted if r.event_id in current}
        if all(counted.get(eid) == e.credits for eid, e in current.items()):
            break
        cut = {eid for eid, e in current.items() if counted.get(eid) != e.credits}
        for eid in cut:  # why a candidate is cut: the reasons of the round that cut it last
            excluded[eid] = [x for x in caps.excluded if x.record.event_id == eid]
        current = {eid: e if counted[eid] == e.credits else e.model_copy(update={"credits": counted[eid]})
                   for eid, e in current.items() if counted.get(eid, 0) > 0}
    writes: list[Any] = []
    for p in pending:
        kept = [current[e.event_id] for e in p.events if e.event_id in current]
        writes.extend(kept)
        asked = sum((e.credits for e in p.events), Decimal("0.00"))
        credits = sum((e.credits for e in kept), Decimal("0.00"))
        why = [x for e in p.events for x in excluded.get(e.event_id, ())]
        code = why[0].code if why else None
        if credits == asked:
            message = f"{prefix}{p.item}: {p.note}"
        elif credits > 0:
            message = (f"{prefix}{p.item}: {p.note}; {_fmt(credits)} of {_fmt(asked)} credits granted: "
                       + "; ".join(x.message for x in why))
        else:
            message = f"{prefix}{p.item}: refused, nothing counts: " + "; ".join(x.message for x in why)
        decisions[p.index] = Decision(
            item=p.item, accepted=credits > 0, credits=credits, target=tuple(e.target for e in kept),
            rule=p.rule, code=code if credits < asked else None, message=message,
            event_ids=tuple(e.event_id for e in kept))
        for m, name in p.members:
            decisions[m] = Decision(
                item=name, accepted=credits > 0, rule=p.rule, code=code if credits < asked else None,
                message=f"{prefix}{name}: decided together with {p.item} (every source of the equivalence is "
                        "needed, and the target's credits are granted once, on the first)")
    return writes


def _refuse(item: str, code: str, message: str, rule: str | None = None) -> Decision:
    return Decision(item=item, accepted=False, code=code, message=message, rule=rule)


# ---------------------------------------------------------------------------------------------------------------
# Conversion of learning outcomes (学分认定)
# ---------------------------------------------------------------------------------------------------------------


def _rules_of(catalog: Catalog, institution: str, on: date) -> list[ConversionRule]:
    """The school's conversion rules in force on ``on``, in catalog order."""
    rules = []
    for rule_id in dict.fromkeys(r.id for r in catalog.conversion_rules):
        rule = catalog.conversion_rule(rule_id, on)
        if rule is not None and rule.institution == institution and (rule.valid_until is None
                                                                      or on <= rule.valid_until):
            rules.append(rule)
    return rules


def _rule_misfit(rule: ConversionRule, outcome: Outcome) -> str | None:
    """Why ``rule`` does not convert ``outcome``, or ``None`` when it does."""
    if rule.outcome_type != outcome.type:
        return f"rule {rule.id} converts {rule.outcome_type.replace('_', ' ')}, not {outcome.type.replace('_', ' ')}"
    if rule.title is not None and rule.title != outcome.title.strip():
        return f"rule {rule.id} converts {rule.title}, not {outcome.title}"
    if rule.level is not None and rule.level != normalize_level(outcome.level):
        return f"rule {rule.id} converts level {rule.level}, not {outcome.level or 'no level'}"
    if rule.max_rank is not None and outcome.rank is not None and outcome.rank > rule.max_rank:
        return f"rule {rule.id} converts ranks 1 to {rule.max_rank}, not rank {outcome.rank}"
    if rule.team_top is not None and outcome.team_position is not None and outcome.team_position > rule.team_top:
        return (f"rule {rule.id} converts a team award for the top {rule.team_top} members only, not member "
                f"{outcome.team_position}")
    if rule.related_posts and (outcome.post or "").strip() not in rule.related_posts:
        return (f"rule {rule.id} converts work in a related post ({', '.join(rule.related_posts)}), not "
                f"{outcome.post or 'no post stated'}")
    return None


def _find_rule(outcome: Outcome, rules: Sequence[ConversionRule]) -> tuple[ConversionRule | None, str]:
    """The first rule that converts the outcome, or ``None`` and the reason of the closest rule."""
    wanted = [r for r in rules if outcome.rule_id is None or r.id == outcome.rule_id]
    if not wanted:
        return None, f"rule {outcome.rule_id} is not a conversion rule of this school in force that day"
    reasons = []
    for rule in wanted:
        misfit = _rule_misfit(rule, outcome)
        if misfit is None:
            return rule, ""
        if rule.outcome_type == outcome.type:
            reasons.append(misfit)
    return None, "; ".join(reasons[:3]) or f"the school has no conversion rule for {outcome.type.replace('_', ' ')}"


def _rule_credits(rule: ConversionRule, outcome: Outcome) -> tuple[Decimal, str]:
    """The credits a rule gives an outcome, with how they were reckoned."""
    if rule.credits is not None:
        amount, how = rule.credits, f"{_fmt(rule.credits)} credits"
    elif rule.credits_per_year is not None:
        amount = quantize_credits(rule.credits_per_year * (outcome.years or 0))
        how = f"{outcome.years} years x {_fmt(rule.credits_per_year)}"
    else:
        amount = quantize_credits((outcome.hours or 0) / rule.hours_per_credit)  # type: ignore[operator]
        how = f"{outcome.hours} hours / {rule.hours_per_credit}"
    if rule.max_credits is not None and amount > rule.max_credits:
        amount, how = rule.max_credits, f"{how}, at most {_fmt(rule.max_credits)} by the rule"
    return quantize_credits(amount), how


def convert(outcomes: Sequence[Outcome], *, standing: Standing, catalog: Catalog, on: date) -> RecognitionResult:
    """Decide the conversion of learning outcomes into credits of the student's school on ``on``.

    Each outcome is refused when the student is not studying (``not_enrolled``), when it was converted before or is
    submitted twice (``duplicate_outcome``), when it is a certificate no longer valid (``certificate_expired``), or
    when no conversion rule of the school fits it (``no_rule``: title, level, rank, team place or post). The rule
    gives its credits (fixed, per year of work, per hours), spread over its target courses at their own credits;
    then the caps of ``apply_caps`` decide what of it counts next to the student's records: what does not count is
    not granted (``cap_certificate``, ``cap_online``, ``cap_external``, ``overlap_lower``).
    """
    decisions: list[Decision | None] = [None] * len(outcomes)
    prefix = f"student {standing.student_id}, "
    blocked = _not_studying(standing, on)
    rules = _rules_of(catalog, standing.institution, on) if standing.institution else []
    pending: list[_Pending] = []
    seen: dict[tuple[str, str], int] = {}
    for i, outcome in enumerate(outcomes):
        item, key = outcome.item, (outcome.type, outcome.outcome_id)
        if blocked:
            decisions[i] = _refuse(item, "not_enrolled", f"{prefix}{item}: {blocked}")
            continue
        if key in standing.converted or key in seen:
            when = "was already converted for the student" if key in standing.converted else (
                f"is submitted twice (first as item {seen[key] + 1})")
            decisions[i] = _refuse(item, "duplicate_outcome", f"{prefix}{item}: {outcome.type.replace('_', ' ')} "
                                   f"{outcome.outcome_id} {when}; each outcome converts once")
            continue
        seen[key] = i
        if outcome.type == "certificate" and outcome.valid_until is not None and outcome.valid_until < on:
            decisions[i] = _refuse(item, "certificate_expired", f"{prefix}{item}: the certificate was valid until "
                                   f"{outcome.valid_until}; a certificate's credits count only while it is valid")
            continue
        rule, why = _find_rule(outcome, rules)
        if rule is None:
            decisions[i] = _refuse(item, "no_rule", f"{prefix}{item}: no conversion rule of "
                                   f"{standing.institution} fits it ({why})")
            continue
        amount, how = _rule_credits(rule, outcome)
        events = _conversion_events(outcome, rule, amount, standing=standing, catalog=catalog, on=on)
        if not events:
            decisions[i] = _refuse(item, "no_rule", f"{prefix}{item}: rule {rule.id} gives no credits for it "
                                   f"({how})", rule.id)
            continue
        toward = ", ".join(_target_text(e.target) for e in events)
        pending.append(_Pending(i, item, rule.id, events, f"converted under rule {rule.id} ({how}) toward {toward}"))
    writes = _decide_caps(pending, decisions, standing, catalog=catalog, on=on, prefix=prefix) if pending else []
    return RecognitionResult(student_id=standing.student_id, decisions=tuple(decisions),  # type: ignore[arg-type]
                             events=tuple(writes))


def _conversion_events(outcome: Outcome, rule: ConversionRule, amount: Decimal, *, standing: Standing,
                       catalog: Catalog, on: date) -> list[OutcomeConverted]:
    """One ``OutcomeConverted`` per target course (each at most its own credits, until the rule's credits are
    spread), or one for the target category."""
    common = dict(student_id=standing.student_id, occurred_on=on, outcome_type=outcome.type,
                  outcome_id=outcome.outcome_id, title=outcome.title, level=outcome.level, rule_id=rule.id,
                  valid_until=outcome.valid_until)
    base = (standing.student_id, "converted", outcome.type, outcome.outcome_id)
    if rule.target.category is not None:
        if amount <= 0:
            return []
        target = Target(category=rule.target.category)
        return [OutcomeConverted(event_id=_event_id(*base, f"category:{target.category}"), target=target,
                                 credits=amount, **common)]
    events, left = [], amount
    for code in rule.target.courses or ():
        course = catalog.course(standing.institution, code, on) or catalog.course(standing.institution, code)
        credits = min(quantize_credits(course.credits) if course else Decimal("0.00"), left)
        if credits <= 0:
            continue
        left -= credits
        events.append(OutcomeConverted(event_id=_event_id(*base, code), target=Target(course=code), credits=credits,
                                       **common))
    return events


# ---------------------------------------------------------------------------------------------------------------
# Signed transfer statements
# ---------------------------------------------------------------------------------------------------------------

STATEMENT_FORMAT = "credit_ledger/transfer_statement/1"

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


# ---------------------------------------------------------------------------------------------------------------
# Recognition under agreements (学分互认)
# ---------------------------------------------------------------------------------------------------------------


def meets_min_grade(grade: Grade, minimum: Grade, *, policy: Policy) -> bool:
    """True when a source grade reaches an agreement's minimum, across scales: 五级制 levels read as scores
    (优 95, 良 85, 中 75, 及格 65); a 合格 meets a minimum of 合格 or of at most the pass mark, and nothing higher
    (it says only that the course was passed).

    >>> from credit_ledger.models import DEFAULT_POLICY as P
    >>> meets_min_grade(Grade.parse("中"), Grade.parse(70), policy=P), meets_min_grade(Grade.parse("及格"), Grade.parse(70), policy=P)
    (True, False)
    >>> meets_min_grade(Grade.parse("合格"), Grade.parse(60), policy=P), meets_min_grade(Grade.parse("合格"), Grade.parse(75), policy=P)
    (True, False)
    """
    if not is_passing(grade, policy=policy):
        return False
    if minimum.scale is Scale.PASS_FAIL:
        return True
    needed = score_of(minimum)
    have = score_of(grade)
    if have is None:  # a 合格 passes at the pass mark
        return needed <= policy.pass_mark  # type: ignore[operator]
    return have >= needed  # type: ignore[operator]


def _years_after(day: date, years: Decimal) -> date:
    """The day ``years`` after ``day`` (x 365.25 days, rounded); a far future day past the calendar's end."""
    try:
        return date.fromordinal(day.toordinal() + int((years * Decimal("365.25")).to_integral_value()))
    except (OverflowError, ValueError):
        return date.max


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
        else:
            dead.append(version or catalog.agreement(agreement_id))  # type: ignore[arg-type]
    return live, dead


def _problem(agreement: Agreement, result: StatementResult, *, source: str, home: str, catalog: Catalog,
             on: date, policy: Policy) -> tuple[str, str] | None:
    """Why a source result may not be recognised under this agreement, as (code, reason), or ``None``."""
    if agreement.alliance is not None:
        alliance = catalog.alliance(agreement.alliance, result.occurred_on) or catalog.alliance(agreement.alliance)
        for school in (source, home):
            if alliance is None or not alliance.is_member(school, result.occurred_on):
                return ("not_a_member", f"{school} was not a member of alliance {agreement.alliance} on "
                        f"{result.occurred_on}, when the source was earned (agreement {agreement.id})")
    elif source not in agreement.parties or home not in agreement.parties:
        return ("not_in_agreement", f"agreement {agreement.id} is between {', '.join(agreement.parties)}")
    if not meets_min_grade(result.grade, agreement.min_grade, policy=policy):
        return ("below_min_grade", f"grade {result.grade} ({result.grade.scale.value}) is below the minimum "
                f"{agreement.min_grade} of agreement {agreement.id}")
    if agreement.max_age_years is not None and _years_after(result.occurred_on, agreement.max_age_years) < on:
        return ("too_old", f"the source of {result.occurred_on} is older than the {agreement.max_age_years} years "
                f"agreement {agreement.id} allows on {on}")
    return None


def recognize(statement: TransferStatement, *, standing: Standing, catalog: Catalog, on: date) -> RecognitionResult:
    """Decide the recognition of a (verified) statement's results at the student's school on ``on``.

    A result is refused when the student is not studying there (``not_enrolled``), when it was recognised before
    or is listed twice (``duplicate_outcome``), and when no agreement in force recognises it: none names that
    course or its category from that school in this direction (``not_in_agreement``; a one-way agreement works in
    its own direction only), the only one is out of its date window (``agreement_expired``), a school was not an
    alliance member when the source was earned (``not_a_member``), the grade is below the agreement's minimum
    (``below_min_grade``) or the source is older than it allows (``too_old``). Course equivalences come before
    category credit; a many-to-one equivalence needs all of its sources and grants the target once; a source is
    used once. The caps of ``apply_caps`` then decide what of it counts next to the student's records.
    """
    source, home = statement.issuer, standing.institution or ""
    policy = standing.program.policy if standing.program else DEFAULT_POLICY
    prefix = f"student {standing.student_id}, {source} "
    results = statement.results
    decisions: list[Decision | None] = [None] * len(results)
    blocked = _not_studying(standing, on)
    open_items: list[int] = []
    seen: dict[str, int] = {}
    for i, result in enumerate(results):
        if blocked:
            decisions[i] = _refuse(result.item, "not_enrolled", f"{prefix}{result.item}: {blocked}")
        elif (source, result.course) in standing.recognized or result.course in seen:
            when = ("was already recognised for the student" if (source, result.course) in standing.recognized
                    else f"is listed twice (first as item {seen[result.course] + 1})")
            decisions[i] = _refuse(result.item, "duplicate_outcome", f"{prefix}{result.item}: the result {when}; "
                                   "each result is recognised once")
        elif result.occurred_on > on:
            decisions[i] = _refuse(result.item, "source_after_recognition", f"{prefix}{result.item}: the source of "
                                   f"{result.occurred_on} is later than its recognition on {on}")
        else:
            seen[result.course] = i
            open_items.append(i)

    live, dead = _agreements(catalog, on)
    failures: dict[int, tuple[str, str, str]] = {}
    pending: list[_Pending] = []
    claimed: set[int] = set()
    for agreement, src, dst in _ordered(live, source, home):
        for group in _groups(src, results, [i for i in open_items if i not in claimed]):
            problems = [(i, _problem(agreement, results[i], source=source, home=home, catalog=catalog, on=on,
                                     policy=policy)) for i in group]
            bad = [(i, p) for i, p in problems if p is not None]
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
            code, why, agreement_id = failures[i]
            decisions[i] = _refuse(result.item, code, f"{prefix}{result.item}: {why}", agreement_id)
            continue
        expired = [a for a in dead if any(list(_groups(s, results, [i])) for s, _ in _directed(a, source, home))]
        if expired:
            a = expired[0]
            window = f"{a.valid_from or 'the start'} to {a.valid_until or 'open end'}"
            decisions[i] = _refuse(result.item, "agreement_expired", f"{prefix}{result.item}: agreement {a.id} "
                                   f"covers it but is in force from {window}, not on {on}", a.id)
            continue
        one_way = [a for a in live if not a.mutual and any(
            list(_groups(s, results, [i])) for s, _ in _directed(a.model_copy(update={"mutual": True}), source, home))]
        why = (f"agreement {one_way[0].id} is one-way, recognising credit from {home} at {source} only" if one_way
               else f"no agreement in force recognises {source}'s {result.course} ({result.category}) at {home}")
        decisions[i] = _refuse(result.item, "not_in_agreement", f"{prefix}{result.item}: {why}",
                               one_way[0].id if one_way else None)
    writes = _decide_caps(pending, decisions, standing, catalog=catalog, on=on, prefix=prefix) if pending else []
    return RecognitionResult(student_id=standing.student_id, decisions=tuple(decisions),  # type: ignore[arg-type]
                             events=tuple(writes), statement_id=statement.statement_id)


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
                 statement: TransferStatement, standing: Standing, catalog: Catalog, on: date) -> _Pending:
    """The candidate ``CreditRecognized`` events for a group of source results: one per target course (at the
    course's own credits), or one for the target category (at the source credits)."""
    sources = [results[i] for i in group]
    codes = "+".join(r.course for r in sources)
    source_credits = sum((r.credits for r in sources), Decimal("0.00"))
    pass_mark = standing.program.policy.pass_mark if standing.program else DEFAULT_POLICY.pass_mark
    lowest = min(sources, key=lambda r: score_of(r.grade) if score_of(r.grade) is not None else pass_mark)
    common = dict(student_id=standing.student_id, occurred_on=on, source_institution=statement.issuer,
                  source_course=codes, source_credits=source_credits, source_grade=lowest.grade,
                  source_date=max(r.occurred_on for r in sources), agreement_id=agreement.id,
                  statement_id=statement.statement_id)
    base = (standing.student_id, "recognized", statement.issuer, codes)
    events = []
    if dst.category is not None:
        events.append(CreditRecognized(event_id=_event_id(*base, f"category:{dst.category}"),
                                       target=Target(category=dst.category), credits=source_credits, **common))
    else:
        for code in dst.courses or ():
            course = catalog.course(dst.institution, code, on) or catalog.course(dst.institution, code)
            credits = quantize_credits(course.credits) if course is not None else Decimal("0.00")
            events.append(CreditRecognized(event_id=_event_id(*base, code), target=Target(course=code),
                                           credits=credits, **common))
    toward = ", ".join(_target_text(e.target) for e in events)
    kind = "many-to-one" if len(group) > 1 else ("one-to-many" if len(events) > 1 else "equivalence")
    note = f"recognised under agreement {agreement.id} ({kind} {codes} -> {toward})"
    return _Pending(group[0], sources[0].item, agreement.id, events, note,
                    tuple((i, results[i].item) for i in group[1:]))
