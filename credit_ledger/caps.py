"""The caps (学分上限): what of a student's credits counts toward a program, the one rule that both recognition and
conversion (``transfer``) and the graduation audit apply.

Recognised (学分互认) and converted (学分认定) credit count up to the program's shares (``max_external_ratio``,
``min_home_ratio``), online credit up to ``max_online_ratio``, a certificate up to ``max_certificate_credits``; an
outcome converts once and a course counts once. What a cap trims is kept and reported, with a stable code and a
sentence naming the record and the rule. A 150-credit program with a 50% cap and 80 credits from a partner school
counts 75 of them:

>>> from datetime import date as d
>>> from decimal import Decimal as D
>>> def rec(eid, credits, origin="recognized"):
...     return CreditRecord(course=None, institution="HNJX", title=eid, category="core", credits=D(credits),
...                         origin=origin, event_id=eid, occurred_on=d(2026, 3, 1))
>>> caps = apply_caps([rec("home", 60, "home"), rec("xt-1", 50), rec("xt-2", 30)], total_credits=D(150),
...                   policy=Policy())
>>> [(r.event_id, r.credits) for r in caps.counted]
[('home', Decimal('60')), ('xt-1', Decimal('50')), ('xt-2', Decimal('25.00'))]
>>> [(x.record.event_id, x.credits, x.code) for x in caps.excluded]
[('xt-2', Decimal('5.00'), 'cap_external')]

A pure function over credit records and a policy: no session, no engine, no clock.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import ROUND_DOWN, Decimal
from typing import Any, Sequence

from .base import CENT, Policy
from .base import format_credits as _fmt
from .records import CapResult, CreditRecord, Excluded

ZERO = Decimal("0.00")


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
    return caps_and_stand_ins(records, total_credits=total_credits, policy=policy)[0]


def caps_and_stand_ins(records: Sequence[CreditRecord], *, total_credits: Decimal, policy: Policy
                       ) -> tuple[CapResult, CapResult]:
    """``apply_caps``'s result, and the result of its first pass: there, the record that stands for each course is
    the one that keeps the most under the certificate cap, whatever the program-wide ratio caps then trim. The two
    differ only where those caps leave a recognised or converted record no more than a home record of the same
    course, which then counts toward the total instead.

    The audit allocates requirements from the first pass (``graduation.within_caps``): which record stands for a
    course does not depend on how full the ratio caps are, so a further record of another course, which may fill
    them, never takes a record out of a requirement."""
    courses = [r.course for r in records if r.course is not None]
    if len(set(courses)) == len(courses) and not any(is_external(r) for r in records):
        # home records only, one per course: no rule above touches them (the usual transcript)
        plain = CapResult.trusted(counted=tuple(sorted(records, key=record_key)), excluded=())
        return plain, plain
    home_first: set[str] = set()
    first: CapResult | None = None
    while True:
        result, beaten = apply_caps_once(records, total_credits=total_credits, policy=policy, home_first=home_first)
        if first is None:
            first = result
        if not beaten - home_first:
            return result, first
        home_first |= beaten


def apply_caps_once(records: Sequence[CreditRecord], *, total_credits: Decimal, policy: Policy,
                    home_first: set[str]) -> tuple[CapResult, set[str]]:
    """One pass of ``apply_caps``'s rules (the general path, whatever the records), with a home record winning its
    course outright for the courses in ``home_first``; also returns the courses where a home record lost to a record
    that kept no more than it. ``apply_caps`` repeats it until no such course is left, and skips it for the usual
    transcript (home records of distinct courses), where it would count every record whole."""
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
