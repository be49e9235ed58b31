"""Conversion of learning outcomes (学分认定) as a pure rule: a certificate (职业技能等级证书), competition award, work
experience, apprenticeship training or online course converts under the first conversion rule of the student's
school that fits it (type, title, level, rank, a team award's place, post), into its target courses at their own
credits or into a category; what is granted is what the caps (``caps.apply_caps``) count next to the student's
records. ``transfer`` is the public face: it re-exports ``Outcome``, ``convert`` and ``normalize_level``, and its
docstring has the worked example.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Sequence

from pydantic import Field, model_validator

from .base import (
    Code,
    Frozen,
    Hours,
    Identifier,
    Text,
    Years,
    format_credits,
    quantize_credits,
)
from .catalog import Catalog, ConversionRule, OutcomeType, Target
from .decisions import (
    Decision,
    Pending,
    RecognitionResult,
    Standing,
    decide_caps,
    not_studying,
    refused,
    stable_event_id,
    target_text,
)
from .events import OutcomeConverted, RecordDate

__all__ = ["LEVEL_WORDS", "Outcome", "all_decided", "convert", "normalize_level"]


# ---------------------------------------------------------------------------------------------------------------
# Outcomes submitted for conversion
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
        amount, how = rule.credits, f"{format_credits(rule.credits)} credits"
    elif rule.credits_per_year is not None:
        amount = quantize_credits(rule.credits_per_year * (outcome.years or 0))
        how = f"{outcome.years} years x {format_credits(rule.credits_per_year)}"
    elif rule.hours_per_credit is not None:
        amount = quantize_credits((outcome.hours or 0) / rule.hours_per_credit)
        how = f"{outcome.hours} hours / {rule.hours_per_credit}"
    else:  # pragma: no cover - a conversion rule states exactly one measure (its own validator says so)
        raise ValueError(f"conversion rule {rule.id} states no credits, credits_per_year or hours_per_credit")
    if rule.max_credits is not None and amount > rule.max_credits:
        amount, how = rule.max_credits, f"{how}, at most {format_credits(rule.max_credits)} by the rule"
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
    blocked = not_studying(standing, on)
    rules = _rules_of(catalog, standing.institution, on) if standing.institution else []
    pending: list[Pending] = []
    seen: dict[tuple[str, str], int] = {}
    first: dict[tuple[str, str], int] = {}
    for i, outcome in enumerate(outcomes):
        first.setdefault((outcome.type, outcome.outcome_id), i)

    def every_reason(i: int, outcome: Outcome) -> list[tuple[str, str]]:
        """Every reason that applies to outcome ``i`` before the caps, in the order the rules are tried."""
        item, key = outcome.item, (outcome.type, outcome.outcome_id)
        found = [("not_enrolled", blocked)] if blocked else []
        if key in standing.converted or first[key] < i:
            when = "was already converted for the student" if key in standing.converted else (
                f"is submitted twice (first as item {first[key] + 1})")
            found.append(("duplicate_outcome", f"{outcome.type.replace('_', ' ')} {outcome.outcome_id} {when}; "
                          "each outcome converts once"))
        if outcome.type == "certificate" and outcome.valid_until is not None and outcome.valid_until < on:
            found.append(("certificate_expired", f"the certificate was valid until {outcome.valid_until}; a "
                          "certificate's credits count only while it is valid"))
        if standing.institution is not None:
            rule, why = _find_rule(outcome, rules)
            if rule is None:
                found.append(("no_rule", f"no conversion rule of {standing.institution} fits it ({why})"))
            else:
                amount, how = _rule_credits(rule, outcome)
                if not _conversion_events(outcome, rule, amount, standing=standing, catalog=catalog, on=on):
                    found.append(("no_rule", f"rule {rule.id} gives no credits for it ({how})"))
        return [(code, f"{prefix}{item}: {why}") for code, why in found]

    for i, outcome in enumerate(outcomes):
        item, key = outcome.item, (outcome.type, outcome.outcome_id)
        if blocked:
            decisions[i] = refused(item, "not_enrolled", f"{prefix}{item}: {blocked}", more=every_reason(i, outcome))
            continue
        if key in standing.converted or key in seen:
            when = "was already converted for the student" if key in standing.converted else (
                f"is submitted twice (first as item {seen[key] + 1})")
            decisions[i] = refused(item, "duplicate_outcome", f"{prefix}{item}: {outcome.type.replace('_', ' ')} "
                                   f"{outcome.outcome_id} {when}; each outcome converts once",
                                   more=every_reason(i, outcome))
            continue
        seen[key] = i
        if outcome.type == "certificate" and outcome.valid_until is not None and outcome.valid_until < on:
            decisions[i] = refused(item, "certificate_expired", f"{prefix}{item}: the certificate was valid until "
                                   f"{outcome.valid_until}; a certificate's credits count only while it is valid",
                                   more=every_reason(i, outcome))
            continue
        rule, why = _find_rule(outcome, rules)
        if rule is None:
            decisions[i] = refused(item, "no_rule", f"{prefix}{item}: no conversion rule of "
                                   f"{standing.institution} fits it ({why})", more=every_reason(i, outcome))
            continue
        amount, how = _rule_credits(rule, outcome)
        events = _conversion_events(outcome, rule, amount, standing=standing, catalog=catalog, on=on)
        if not events:
            decisions[i] = refused(item, "no_rule", f"{prefix}{item}: rule {rule.id} gives no credits for it "
                                   f"({how})", rule.id, more=every_reason(i, outcome))
            continue
        toward = ", ".join(target_text(e.target) for e in events)
        pending.append(Pending(i, item, rule.id, events, f"converted under rule {rule.id} ({how}) toward {toward}"))
    writes = decide_caps(pending, decisions, standing, catalog=catalog, on=on, prefix=prefix) if pending else []
    return RecognitionResult(student_id=standing.student_id, decisions=tuple(all_decided(decisions)),
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
        return [OutcomeConverted(event_id=stable_event_id(*base, f"category:{target.category}"), target=target,
                                 credits=amount, **common)]
    events, left = [], amount
    for code in rule.target.courses or ():
        course = catalog.course_or_latest(rule.institution, code, on)  # the rule is of the student's school
        credits = min(quantize_credits(course.credits) if course else Decimal("0.00"), left)
        if credits <= 0:
            continue
        left -= credits
        events.append(OutcomeConverted(event_id=stable_event_id(*base, code), target=Target(course=code),
                                       credits=credits, **common))
    return events


def all_decided(decisions: list[Decision | None]) -> list[Decision]:
    """The decisions of every item submitted (each rule decides every item it is given)."""
    done = [d for d in decisions if d is not None]
    if len(done) != len(decisions):  # pragma: no cover - a rule left an item undecided
        raise ValueError("an item was left undecided")
    return done
