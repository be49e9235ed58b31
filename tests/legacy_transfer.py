"""The first-refusal rules of recognition and conversion as they were before a decision named every reason
(credit_ledger/transfer.py at b8d8355, docstrings dropped): the oracle that keeps ``Decision.code`` exactly as it was."""
from __future__ import annotations
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Annotated, Iterable, Mapping, Sequence
from pydantic import Field, model_validator
from credit_ledger.base import DEFAULT_POLICY, Code, Frozen, Grade, Hours, Identifier, Policy, Text, Years, format_credits, quantize_credits
from credit_ledger.caps import ZERO, apply_caps, describe, is_external, is_online, ratio_limits, record_key
from credit_ledger.catalog import Agreement, Catalog, ConversionRule, OutcomeType, Target
from credit_ledger.dates import add_years
from credit_ledger.decisions import Decision, Pending, RecognitionResult, Standing, decide_caps, not_studying, refused, stable_event_id, standing_of, target_text
from credit_ledger.events import CreditRecognized, OutcomeConverted, RecordDate
from credit_ledger.grades import is_passing, score_of
from credit_ledger.records import CapResult, Excluded
from credit_ledger.statements import STATEMENT_FORMAT, ReceiptKey, StatementResult, TransferStatement, public_key_hex, statement_keys, statement_of
__all__ = ['CapResult', 'Decision', 'Excluded', 'LEVEL_WORDS', 'Outcome', 'RecognitionResult', 'STATEMENT_FORMAT', 'Standing', 'StatementResult', 'TransferStatement', 'ZERO', 'apply_caps', 'convert', 'describe', 'is_external', 'is_online', 'meets_min_grade', 'normalize_level', 'public_key_hex', 'ratio_limits', 'received_elsewhere', 'recognize', 'record_key', 'standing_of', 'statement_keys', 'statement_of']
LEVEL_WORDS = {'初级': 'foundation', '五级': 'foundation', '初级工': 'foundation', '中级': 'intermediate', '四级': 'intermediate', '中级工': 'intermediate', '高级': 'advanced', '三级': 'advanced', '高级工': 'advanced', '技师': 'technician', '二级': 'technician', '高级技师': 'senior_technician', '一级': 'senior_technician', '国家级': 'national', '全国': 'national', '省级': 'provincial', '市级': 'city', '地市级': 'city'}
'Levels as schools write them (职业技能等级 初级/中级/高级, 国家级/省级/市级 competitions), read as the codes that\nconversion rules use.'

def normalize_level(level: str | None) -> str | None:
    if level is None:
        return None
    word = level.strip()
    return LEVEL_WORDS.get(word, word.lower())

class Outcome(Frozen):
    type: OutcomeType
    outcome_id: Identifier
    'The certificate number, award number, or another id that names this outcome for good.'
    title: Text
    level: Code | None = None
    'Certificate level (初级/中级/高级 or foundation/intermediate/advanced) or competition level\n    (国家级/省级/市级 or national/provincial/city).'
    rank: Annotated[int, Field(ge=1, le=100)] | None = None
    "A competition award's rank: 1 for a first prize (一等奖), 2 for a second prize, ..."
    team_position: Annotated[int, Field(ge=1, le=100)] | None = None
    "For a team award: the member's place in the team's list (only the top members count); ``None``: individual."
    post: Text | None = None
    'For work experience: the post held (it must be related to the program).'
    issued_on: RecordDate | None = None
    valid_until: RecordDate | None = None
    hours: Hours | None = None
    years: Years | None = None
    rule_id: Code | None = None
    'Ask for this conversion rule; by default the first rule of the school that fits is used.'
    issuer: Text | None = None

    @model_validator(mode='after')
    def _measure(self) -> 'Outcome':
        if self.type == 'competition' and self.rank is None:
            raise ValueError('a competition award states its rank (1 for a first prize)')
        if self.type == 'work_experience' and self.years is None:
            raise ValueError('work experience states its years')
        if self.type in ('apprenticeship', 'online_course') and self.hours is None:
            raise ValueError(f"{self.type.replace('_', ' ')} states its hours")
        if self.issued_on and self.valid_until and (self.valid_until < self.issued_on):
            raise ValueError(f'valid_until ({self.valid_until}) is before issued_on ({self.issued_on})')
        return self

    @property
    def item(self) -> str:
        return f'{self.type} {self.outcome_id} ({self.title})'

def _rules_of(catalog: Catalog, institution: str, on: date) -> list[ConversionRule]:
    rules = []
    for rule_id in dict.fromkeys((r.id for r in catalog.conversion_rules)):
        rule = catalog.conversion_rule(rule_id, on)
        if rule is not None and rule.institution == institution and (rule.valid_until is None or on <= rule.valid_until):
            rules.append(rule)
    return rules

def _rule_misfit(rule: ConversionRule, outcome: Outcome) -> str | None:
    if rule.outcome_type != outcome.type:
        return f"rule {rule.id} converts {rule.outcome_type.replace('_', ' ')}, not {outcome.type.replace('_', ' ')}"
    if rule.title is not None and rule.title != outcome.title.strip():
        return f'rule {rule.id} converts {rule.title}, not {outcome.title}'
    if rule.level is not None and rule.level != normalize_level(outcome.level):
        return f"rule {rule.id} converts level {rule.level}, not {outcome.level or 'no level'}"
    if rule.max_rank is not None and outcome.rank is not None and (outcome.rank > rule.max_rank):
        return f'rule {rule.id} converts ranks 1 to {rule.max_rank}, not rank {outcome.rank}'
    if rule.team_top is not None and outcome.team_position is not None and (outcome.team_position > rule.team_top):
        return f'rule {rule.id} converts a team award for the top {rule.team_top} members only, not member {outcome.team_position}'
    if rule.related_posts and (outcome.post or '').strip() not in rule.related_posts:
        return f"rule {rule.id} converts work in a related post ({', '.join(rule.related_posts)}), not {outcome.post or 'no post stated'}"
    return None

def _find_rule(outcome: Outcome, rules: Sequence[ConversionRule]) -> tuple[ConversionRule | None, str]:
    wanted = [r for r in rules if outcome.rule_id is None or r.id == outcome.rule_id]
    if not wanted:
        return (None, f'rule {outcome.rule_id} is not a conversion rule of this school in force that day')
    reasons = []
    for rule in wanted:
        misfit = _rule_misfit(rule, outcome)
        if misfit is None:
            return (rule, '')
        if rule.outcome_type == outcome.type:
            reasons.append(misfit)
    return (None, '; '.join(reasons[:3]) or f"the school has no conversion rule for {outcome.type.replace('_', ' ')}")

def _rule_credits(rule: ConversionRule, outcome: Outcome) -> tuple[Decimal, str]:
    if rule.credits is not None:
        amount, how = (rule.credits, f'{format_credits(rule.credits)} credits')
    elif rule.credits_per_year is not None:
        amount = quantize_credits(rule.credits_per_year * (outcome.years or 0))
        how = f'{outcome.years} years x {format_credits(rule.credits_per_year)}'
    elif rule.hours_per_credit is not None:
        amount = quantize_credits((outcome.hours or 0) / rule.hours_per_credit)
        how = f'{outcome.hours} hours / {rule.hours_per_credit}'
    else:
        raise ValueError(f'conversion rule {rule.id} states no credits, credits_per_year or hours_per_credit')
    if rule.max_credits is not None and amount > rule.max_credits:
        amount, how = (rule.max_credits, f'{how}, at most {format_credits(rule.max_credits)} by the rule')
    return (quantize_credits(amount), how)

def convert(outcomes: Sequence[Outcome], *, standing: Standing, catalog: Catalog, on: date) -> RecognitionResult:
    decisions: list[Decision | None] = [None] * len(outcomes)
    prefix = f'student {standing.student_id}, '
    blocked = not_studying(standing, on)
    rules = _rules_of(catalog, standing.institution, on) if standing.institution else []
    pending: list[Pending] = []
    seen: dict[tuple[str, str], int] = {}
    for i, outcome in enumerate(outcomes):
        item, key = (outcome.item, (outcome.type, outcome.outcome_id))
        if blocked:
            decisions[i] = refused(item, 'not_enrolled', f'{prefix}{item}: {blocked}')
            continue
        if key in standing.converted or key in seen:
            when = 'was already converted for the student' if key in standing.converted else f'is submitted twice (first as item {seen[key] + 1})'
            decisions[i] = refused(item, 'duplicate_outcome', f"{prefix}{item}: {outcome.type.replace('_', ' ')} {outcome.outcome_id} {when}; each outcome converts once")
            continue
        seen[key] = i
        if outcome.type == 'certificate' and outcome.valid_until is not None and (outcome.valid_until < on):
            decisions[i] = refused(item, 'certificate_expired', f"{prefix}{item}: the certificate was valid until {outcome.valid_until}; a certificate's credits count only while it is valid")
            continue
        rule, why = _find_rule(outcome, rules)
        if rule is None:
            decisions[i] = refused(item, 'no_rule', f'{prefix}{item}: no conversion rule of {standing.institution} fits it ({why})')
            continue
        amount, how = _rule_credits(rule, outcome)
        events = _conversion_events(outcome, rule, amount, standing=standing, catalog=catalog, on=on)
        if not events:
            decisions[i] = refused(item, 'no_rule', f'{prefix}{item}: rule {rule.id} gives no credits for it ({how})', rule.id)
            continue
        toward = ', '.join((target_text(e.target) for e in events))
        pending.append(Pending(i, item, rule.id, events, f'converted under rule {rule.id} ({how}) toward {toward}'))
    writes = decide_caps(pending, decisions, standing, catalog=catalog, on=on, prefix=prefix) if pending else []
    return RecognitionResult(student_id=standing.student_id, decisions=tuple(_decided(decisions)), events=tuple(writes))

def _conversion_events(outcome: Outcome, rule: ConversionRule, amount: Decimal, *, standing: Standing, catalog: Catalog, on: date) -> list[OutcomeConverted]:
    common = dict(student_id=standing.student_id, occurred_on=on, outcome_type=outcome.type, outcome_id=outcome.outcome_id, title=outcome.title, level=outcome.level, rule_id=rule.id, valid_until=outcome.valid_until)
    base = (standing.student_id, 'converted', outcome.type, outcome.outcome_id)
    if rule.target.category is not None:
        if amount <= 0:
            return []
        target = Target(category=rule.target.category)
        return [OutcomeConverted(event_id=stable_event_id(*base, f'category:{target.category}'), target=target, credits=amount, **common)]
    events, left = ([], amount)
    for code in rule.target.courses or ():
        course = catalog.course_or_latest(rule.institution, code, on)
        credits = min(quantize_credits(course.credits) if course else Decimal('0.00'), left)
        if credits <= 0:
            continue
        left -= credits
        events.append(OutcomeConverted(event_id=stable_event_id(*base, code), target=Target(course=code), credits=credits, **common))
    return events

def meets_min_grade(grade: Grade, minimum: Grade, *, policy: Policy) -> bool:
    if not is_passing(grade, policy=policy):
        return False
    needed = score_of(minimum)
    if needed is None:
        return True
    have = score_of(grade)
    if have is None:
        return needed <= policy.pass_mark
    return have >= needed

@dataclass(frozen=True)
class _Side:
    institution: str
    courses: tuple[str, ...] | None
    category: str | None

def _directed(agreement: Agreement, source: str, home: str) -> list[tuple[_Side, _Side]]:
    found = []
    for eq in agreement.equivalences:
        a = _Side(eq.from_.institution, eq.from_.courses, eq.from_.category)
        b = _Side(eq.to.institution, eq.to.courses, eq.to.category)
        if a.institution == source and b.institution == home:
            found.append((a, b))
        elif agreement.mutual and b.institution == source and (a.institution == home):
            if b.category is not None and a.category is None:
                continue
            found.append((b, a))
    return found

def _ordered(agreements: Sequence[Agreement], source: str, home: str) -> list[tuple[Agreement, _Side, _Side]]:
    found = [(a, src, dst) for a in agreements for src, dst in _directed(a, source, home)]
    found.sort(key=lambda t: (t[1].courses is None, -len(t[1].courses or ())))
    return found

def _agreements(catalog: Catalog, on: date) -> tuple[list[Agreement], list[Agreement]]:
    live, dead = ([], [])
    for agreement_id in sorted({a.id for a in catalog.agreements}):
        version = catalog.agreement(agreement_id, on)
        if version is not None and (version.valid_until is None or on <= version.valid_until):
            live.append(version)
            continue
        latest = version or catalog.agreement(agreement_id)
        if latest is not None:
            dead.append(latest)
    return (live, dead)

def _problem(agreement: Agreement, result: StatementResult, *, source: str, home: str, catalog: Catalog, on: date, policy: Policy) -> tuple[str, str] | None:
    if agreement.alliance is not None:
        alliance = catalog.alliance(agreement.alliance, result.occurred_on) or catalog.alliance(agreement.alliance)
        for school in (source, home):
            if alliance is None or not alliance.is_member(school, result.occurred_on):
                return ('not_a_member', f'{school} was not a member of alliance {agreement.alliance} on {result.occurred_on}, when the source was earned (agreement {agreement.id})')
    elif source not in agreement.parties or home not in agreement.parties:
        return ('not_in_agreement', f"agreement {agreement.id} is between {', '.join(agreement.parties)}")
    if not meets_min_grade(result.grade, agreement.min_grade, policy=policy):
        return ('below_min_grade', f'grade {result.grade} ({result.grade.scale.value}) is below the minimum {agreement.min_grade} of agreement {agreement.id}')
    if agreement.max_age_years is not None and add_years(result.occurred_on, agreement.max_age_years) < on:
        return ('too_old', f'the source of {result.occurred_on} is older than the {agreement.max_age_years} years agreement {agreement.id} allows on {on}')
    return None

def received_elsewhere(statement: TransferStatement, student_id: str, received: Mapping[ReceiptKey, str]) -> str | None:
    for key in statement_keys(statement):
        prior = received.get(key)
        if prior is not None and prior != student_id:
            if key[0] == 'statement':
                return f'statement {statement.statement_id} of {statement.issuer} was received for another student of this ledger; a statement counts for one student only'
            return f"{statement.issuer}'s student {statement.student_id} was received as another student of this ledger; a student of the issuing school is one student here"
    return None

def recognize(statement: TransferStatement, *, standing: Standing, catalog: Catalog, on: date, received: Mapping[ReceiptKey, str] | None=None) -> RecognitionResult:
    source, home = (statement.issuer, standing.institution or '')
    policy = standing.program.policy if standing.program else DEFAULT_POLICY
    prefix = f'student {standing.student_id}, {source} '
    results = statement.results
    decisions: list[Decision | None] = [None] * len(results)
    blocked = not_studying(standing, on)
    elsewhere = received_elsewhere(statement, standing.student_id, received or {})
    open_items: list[int] = []
    seen: dict[str, int] = {}
    for i, result in enumerate(results):
        if blocked:
            decisions[i] = refused(result.item, 'not_enrolled', f'{prefix}{result.item}: {blocked}')
        elif elsewhere:
            decisions[i] = refused(result.item, 'duplicate_outcome', f'{prefix}{result.item}: {elsewhere}')
        elif (source, result.course) in standing.recognized or result.course in seen:
            when = 'was already recognised for the student' if (source, result.course) in standing.recognized else f'is listed twice (first as item {seen[result.course] + 1})'
            decisions[i] = refused(result.item, 'duplicate_outcome', f'{prefix}{result.item}: the result {when}; each result is recognised once')
        elif result.occurred_on > on:
            decisions[i] = refused(result.item, 'source_after_recognition', f'{prefix}{result.item}: the source of {result.occurred_on} is later than its recognition on {on}')
        else:
            seen[result.course] = i
            open_items.append(i)
    live, dead = _agreements(catalog, on)
    failures: dict[int, tuple[str, str, str]] = {}
    pending: list[Pending] = []
    claimed: set[int] = set()
    for agreement, src, dst in _ordered(live, source, home):
        for group in _groups(src, results, [i for i in open_items if i not in claimed]):
            problems = [(i, _problem(agreement, results[i], source=source, home=home, catalog=catalog, on=on, policy=policy)) for i in group]
            bad = [(i, p) for i, p in problems if p is not None]
            for i, (code, why) in bad:
                failures.setdefault(i, (code, why, agreement.id))
            if bad:
                continue
            claimed.update(group)
            pending.append(_recognition(group, results, dst, agreement, statement=statement, standing=standing, catalog=catalog, on=on))
    for i in open_items:
        if i in claimed:
            continue
        result = results[i]
        if i in failures:
            code, why, agreement_id = failures[i]
            decisions[i] = refused(result.item, code, f'{prefix}{result.item}: {why}', agreement_id)
            continue
        expired = [a for a in dead if any((list(_groups(s, results, [i])) for s, _ in _directed(a, source, home)))]
        if expired:
            a = expired[0]
            window = f"{a.valid_from or 'the start'} to {a.valid_until or 'open end'}"
            decisions[i] = refused(result.item, 'agreement_expired', f'{prefix}{result.item}: agreement {a.id} covers it but is in force from {window}, not on {on}', a.id)
            continue
        one_way = [a for a in live if not a.mutual and any((list(_groups(s, results, [i])) for s, _ in _directed(a.model_copy(update={'mutual': True}), source, home)))]
        why = f'agreement {one_way[0].id} is one-way, recognising credit from {home} at {source} only' if one_way else f"no agreement in force recognises {source}'s {result.course} ({result.category}) at {home}"
        decisions[i] = refused(result.item, 'not_in_agreement', f'{prefix}{result.item}: {why}', one_way[0].id if one_way else None)
    writes = decide_caps(pending, decisions, standing, catalog=catalog, on=on, prefix=prefix) if pending else []
    return RecognitionResult(student_id=standing.student_id, decisions=tuple(_decided(decisions)), events=tuple(writes), statement_id=statement.statement_id)

def _groups(side: _Side, results: Sequence[StatementResult], open_items: Sequence[int]) -> Iterable[list[int]]:
    if side.courses is not None:
        where = {results[i].course: i for i in reversed(open_items)}
        if all((code in where for code in side.courses)):
            yield [where[code] for code in side.courses]
        return
    for i in open_items:
        if results[i].category == side.category:
            yield [i]

def _recognition(group: list[int], results: Sequence[StatementResult], dst: _Side, agreement: Agreement, *, statement: TransferStatement, standing: Standing, catalog: Catalog, on: date) -> Pending:
    sources = [results[i] for i in group]
    codes = '+'.join((r.course for r in sources))
    source_credits = sum((r.credits for r in sources), Decimal('0.00'))
    pass_mark = standing.program.policy.pass_mark if standing.program else DEFAULT_POLICY.pass_mark
    lowest = min(sources, key=lambda r: _score_or(r.grade, pass_mark))
    common = dict(student_id=standing.student_id, occurred_on=on, source_institution=statement.issuer, source_course=codes, source_credits=source_credits, source_grade=lowest.grade, source_date=max((r.occurred_on for r in sources)), agreement_id=agreement.id, statement_id=statement.statement_id, source_student_id=statement.student_id)
    base = (standing.student_id, 'recognized', statement.issuer, codes)
    events = []
    if dst.category is not None:
        events.append(CreditRecognized(event_id=stable_event_id(*base, f'category:{dst.category}'), target=Target(category=dst.category), credits=source_credits, **common))
    else:
        for code in dst.courses or ():
            course = catalog.course_or_latest(dst.institution, code, on)
            credits = quantize_credits(course.credits) if course is not None else Decimal('0.00')
            events.append(CreditRecognized(event_id=stable_event_id(*base, code), target=Target(course=code), credits=credits, **common))
    toward = ', '.join((target_text(e.target) for e in events))
    kind = 'many-to-one' if len(group) > 1 else 'one-to-many' if len(events) > 1 else 'equivalence'
    note = f'recognised under agreement {agreement.id} ({kind} {codes} -> {toward})'
    return Pending(group[0], sources[0].item, agreement.id, events, note, tuple(((i, results[i].item) for i in group[1:])))

def _score_or(grade: Grade, default: Decimal) -> Decimal:
    score = score_of(grade)
    return score if score is not None else default

def _decided(decisions: list[Decision | None]) -> list[Decision]:
    done = [d for d in decisions if d is not None]
    if len(done) != len(decisions):
        raise ValueError('an item was left undecided')
    return done
