"""What recognition and conversion decide, and from what: a student's ``Standing`` on a day, a ``Decision`` per
submitted item, the ``RecognitionResult``, and the caps applied at decision time.

Both rules of ``transfer`` work the same way: an item that passes its own rules (an agreement, a conversion rule)
becomes candidate events (``Pending``), and ``decide_caps`` grants of them what ``caps.apply_caps`` counts next to
the student's records; anything refused gets a stable code and a sentence naming the student, the item and the rule.
A student not studying on the day is granted nothing:

>>> from datetime import date as d
>>> from credit_ledger.models import Catalog
>>> standing = standing_of("S9", [], catalog=Catalog.sample(), on=d(2026, 3, 1))
>>> standing.status, not_studying(standing, d(2026, 3, 1))  # doctest: +ELLIPSIS
('not_enrolled', 'the student is not enrolled and studying at any school on 2026-03-01 (not_enrolled); ...')

Pure functions over events and a catalog: no session, no engine, no clock.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal, Sequence

from pydantic import Field, model_validator

from .base import Frozen
from .base import format_credits as _fmt
from .caps import apply_caps
from .catalog import Catalog, Program, Target, program_in_force
from .events import CreditRecognized, EntryReversed, Event, OutcomeConverted
from .history import build_timeline, external_record, transcript_records
from .records import CreditRecord, Excluded, Issue


class Decision(Frozen):
    """What was decided for one submitted item: the credits granted, where they count, the rule or agreement used,
    and when anything was refused, the stable ``code`` and a sentence naming the student, the item and the rule.

    ``reasons`` names *every* rule that refuses (or trims) the item, each an ``Issue`` (code and sentence), in a
    stable order: the order the rules are tried in, so the first is always ``code`` (the one reason given before
    every reason was listed). ``codes`` is their codes. An item granted in full has neither:

    >>> d = Decision(item="r1", accepted=False, code="not_a_member", message="not a member",
    ...              reasons=(Issue(code="not_a_member", message="not a member"), Issue(code="too_old", message="old")))
    >>> d.codes
    ('not_a_member', 'too_old')
    >>> Decision(item="r2", accepted=False, code="no_rule", message="no rule fits").codes  # one reason, filled in
    ('no_rule',)
    """

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
    codes: tuple[str, ...] = Field(default=(), description=(
        "Every code that applies, each once, in the order the rules are tried: the first is `code`; empty exactly "
        "when `code` is null (an item granted in full)."))
    """Every code that applies, each once, ``code`` first; ``()`` exactly when ``code`` is ``None``."""
    reasons: tuple[Issue, ...] = Field(default=(), description=(
        "One reason per code of `codes`, in its order: the stable code and its sentence."))
    """Every reason that applies, one per code of ``codes`` and in its order: the stable code and its sentence."""

    @model_validator(mode="before")
    @classmethod
    def _one_reason(cls, data: Any) -> Any:
        """A decision given only ``code`` and ``message`` has that one reason."""
        if isinstance(data, dict) and data.get("code") is not None and not data.get("reasons"):
            data = {**data, "reasons": (Issue(code=data["code"], message=data.get("message", "")),)}
        if isinstance(data, dict) and data.get("reasons") and not data.get("codes"):
            data = {**data, "codes": tuple(r["code"] if isinstance(r, dict) else r.code for r in data["reasons"])}
        return data

    @model_validator(mode="after")
    def _codes_agree(self) -> "Decision":
        if self.codes != tuple(r.code for r in self.reasons):
            raise ValueError(f"codes {self.codes} are not the codes of the reasons")
        if len(set(self.codes)) != len(self.codes):
            raise ValueError(f"codes {self.codes} name a code twice")
        if (self.codes[0] if self.codes else None) != self.code:
            raise ValueError(f"the first of codes {self.codes} is not code {self.code!r}")
        return self


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
            code = f" [{', '.join(d.codes)}]" if d.codes else ""
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
    status: str = state.status
    school = enrolment.institution if enrolment is not None else None
    if institution is not None and institution != school:
        status = f"not enrolled at {institution}" + (f" (a student of {school})" if school else "")
        school = institution
    code = program or (enrolment.program if enrolment is not None else None)
    found = None
    if school is not None and code is not None:
        found = program_in_force(catalog, school, code, on)
    reversed_ids = {e.target_event_id for e in events if isinstance(e, EntryReversed)}
    converted = {(e.outcome_type, e.outcome_id) for e in events
                 if isinstance(e, OutcomeConverted) and e.event_id not in reversed_ids}
    recognized = {(e.source_institution, course) for e in events
                  if isinstance(e, CreditRecognized) and e.event_id not in reversed_ids
                  for course in e.source_course.split("+")}
    records = transcript_records(events, catalog=catalog, policy=found.policy if found else None)
    return Standing(student_id, school, status, found, tuple(records), frozenset(converted), frozenset(recognized))


def not_studying(standing: Standing, on: date) -> str | None:
    """Why the student cannot be granted credits on ``on``, or ``None``."""
    if standing.status != "active":
        return (f"the student is not enrolled and studying at {standing.institution or 'any school'} on {on} "
                f"({standing.status}); credits are granted only while enrolled and not suspended")
    if standing.program is None:
        return f"the student's program at {standing.institution} is not in the catalog on {on}"
    return None


def stable_event_id(*parts: object) -> str:
    """A stable event id from its parts (deciding the same item again gives the same id); long ids are hashed."""
    text = "/".join(str(p) for p in parts)
    if len(text) <= 128:
        return text
    return f"{str(parts[0])[:60]}/{hashlib.sha256(text.encode()).hexdigest()[:40]}"


def target_text(target: Target) -> str:
    """Where credit counts, for a sentence: ``course CNC201`` or ``category core``."""
    return f"course {target.course}" if target.course is not None else f"category {target.category}"


# ---------------------------------------------------------------------------------------------------------------
# Caps at decision time: the candidates next to what the student already has
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class Pending:
    """An item that passed its own rules and awaits the caps: its index, decision text and candidate events."""

    index: int
    item: str
    rule: str
    events: list[Any]
    note: str
    members: tuple[tuple[int, str], ...] = ()
    """Other items (index, name) decided together with this one: the other sources of a many-to-one equivalence."""


def decide_caps(pending: list[Pending], decisions: list[Decision | None], standing: Standing, *, catalog: Catalog,
                on: date, prefix: str) -> list[Any]:
    """Apply the program's caps to the candidates together with the student's records; fill in the decisions and
    return the events to write.

    What is written is what ``apply_caps`` counts of it next to the records: a candidate that counts nothing is
    dropped and one that counts less is cut down, and the caps are applied again to what is left (a dropped
    candidate must not displace a record, nor free room for another candidate), until every candidate counts
    whole. Each round only drops or lowers candidates, so this ends.
    """
    program = standing.program
    if program is None:  # pragma: no cover - not_studying refuses every item first
        raise ValueError("caps need the student's program")
    origin_of: dict[str, Literal["recognized", "converted"]] = {"credit_recognized": "recognized",
                                                                "outcome_converted": "converted"}
    existing = [r for r in standing.records if r.valid_until is None or r.valid_until >= on]
    current = {e.event_id: e for p in pending for e in p.events}
    excluded: dict[str, list[Excluded]] = defaultdict(list)
    while current:
        candidates = [external_record(e, origin_of[e.kind], catalog, standing.institution)
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
        reasons = reasons_of([(x.code, f"{prefix}{p.item}: {x.message}") for x in why]) if credits < asked else ()
        decisions[p.index] = Decision(
            item=p.item, accepted=credits > 0, credits=credits, target=tuple(e.target for e in kept),
            rule=p.rule, code=code if credits < asked else None, message=message,
            event_ids=tuple(e.event_id for e in kept), reasons=reasons)
        for m, name in p.members:
            decisions[m] = Decision(
                item=name, accepted=credits > 0, rule=p.rule, code=code if credits < asked else None,
                message=f"{prefix}{name}: decided together with {p.item} (every source of the equivalence is "
                        "needed, and the target's credits are granted once, on the first)", reasons=reasons)
    return writes


def refused(item: str, code: str, message: str, rule: str | None = None,
            more: Sequence[tuple[str, str]] = ()) -> Decision:
    """The decision that grants nothing for ``item``, with the stable ``code`` and sentence of why, and ``more``
    reasons that apply too, as (code, sentence), in order (a code already given is not repeated).

    >>> refused("r1", "not_a_member", "m", more=[("too_old", "o"), ("not_a_member", "again")]).codes
    ('not_a_member', 'too_old')
    """
    return Decision(item=item, accepted=False, code=code, message=message, rule=rule,
                    reasons=reasons_of([(code, message), *more]))


def reasons_of(pairs: Sequence[tuple[str, str]]) -> tuple[Issue, ...]:
    """The reasons from (code, sentence) pairs, in order, each code once (its first sentence)."""
    seen: dict[str, Issue] = {}
    for code, message in pairs:
        seen.setdefault(code, Issue(code=code, message=message))
    return tuple(seen.values())
