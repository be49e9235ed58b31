"""Recognition across an alliance (学分互认) and conversion of learning outcomes (学分认定), as pure rules.

What counts toward graduation of the credits earned elsewhere is decided by ``apply_caps``: recognised plus converted
credits count up to the program's ``max_external_ratio`` of its total credits (and, with ``min_home_ratio``, up to
the share not reserved for the home school), online credits up to ``max_online_ratio``, a certificate's credits up
to ``max_certificate_credits``, each outcome converts once, and of outcomes converted toward the same course only
the highest counts. A 150-credit program with a 50% cap and 80 credits from a partner school counts 75 of them:

>>> from datetime import date as d
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
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import ROUND_DOWN, Decimal
from typing import Sequence

from .models import CENT, CreditRecord, Frozen, Policy, quantize_credits

ZERO = Decimal("0.00")


# ---------------------------------------------------------------------------------------------------------------
# Caps: what of the external credits counts
# ---------------------------------------------------------------------------------------------------------------


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


def _pct(ratio: Decimal) -> str:
    """A ratio as a percentage: ``_pct(Decimal("0.25"))`` is ``'25%'``."""
    return f"{format((ratio * 100).normalize(), 'f')}%"


def apply_caps(records: Sequence[CreditRecord], *, total_credits: Decimal, policy: Policy) -> CapResult:
    """The records that count toward a program of ``total_credits`` under ``policy``'s caps, and those that do not.

    Applied in this order, each to what the previous ones left (records claim room in ``record_key`` order):

    1. ``duplicate_outcome``: an outcome converts once; a later conversion of the same outcome (another rule or
       date), or the same target twice, does not count.
    2. ``overlap_lower``: of converted records toward the same course, only the one with the most credits counts
       (the earliest of equals).
    3. ``cap_certificate``: a certificate's credits, summed over its records, up to ``max_certificate_credits``.
    4. ``cap_online``: online credits up to ``max_online_ratio`` x total; home online courses use the room first
       and are never trimmed.
    5. ``cap_external``: recognised plus converted credits up to ``max_external_ratio`` x total, and with
       ``min_home_ratio`` also up to (1 - ``min_home_ratio``) x total.

    Home records always count. Expiry (``credit_validity_years``, a certificate's ``valid_until``) is not applied
    here: leave expired records out before calling. The result does not depend on the order of ``records``, and no
    record counts more than its own credits.
    """
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

    # 2. of overlapping outcomes (the same course) only the highest counts
    by_course: dict[str, list[int]] = defaultdict(list)
    for i in converted:
        if ordered[i].course is not None and not out[i]:
            by_course[ordered[i].course].append(i)  # type: ignore[index]
    for course, members in by_course.items():
        best = max(members, key=lambda i: (left[i], -i))
        for i in members:
            if i != best:
                winner = ordered[best]
                cut(i, left[i], "overlap_lower",
                    f"{describe(ordered[i])}: course {course} is already replaced by {describe(winner)} with "
                    f"{_fmt(left[best])} credits; of overlapping outcomes only the highest counts")

    # 3. at most max_certificate_credits per certificate
    per_certificate: dict[str, Decimal] = defaultdict(Decimal)
    for i in converted:
        r = ordered[i]
        if r.outcome_type != "certificate" or r.outcome_id is None or out[i]:
            continue
        room = max(policy.max_certificate_credits - per_certificate[r.outcome_id], ZERO)
        if left[i] > room:
            cut(i, left[i] - room, "cap_certificate",
                f"{describe(r)}: {_fmt(left[i] - room)} of its credits do not count; a certificate counts at most "
                f"{_fmt(policy.max_certificate_credits)} credits (max_certificate_credits)")
        per_certificate[r.outcome_id] += left[i]

    # 4. online credits up to max_online_ratio of the total
    online_limit = _limit(policy.max_online_ratio, total_credits)
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
    external_limit = _limit(policy.max_external_ratio, total_credits)
    why = f"{_pct(policy.max_external_ratio)} of the program's {_fmt(total_credits)}, max_external_ratio"
    if policy.min_home_ratio is not None:
        home_limit = _limit(1 - policy.min_home_ratio, total_credits)
        if home_limit < external_limit:
            external_limit = home_limit
            why = (f"at least {_pct(policy.min_home_ratio)} of the program's {_fmt(total_credits)} is earned at "
                   "the home school, min_home_ratio")
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

    counted = []
    for i, r in enumerate(ordered):
        if out[i]:
            continue
        counted.append(r if left[i] == r.credits else r.model_copy(update={"credits": left[i]}))
    return CapResult(counted=tuple(counted), excluded=tuple(excluded))
