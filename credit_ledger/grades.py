"""Grade scales, pass marks, grade points, hours to credits, and the best attempt of a course.

Three scales are in use in technical schools: 百分制 (a score of 0-100), 五级制 (优/良/中/及格/不及格, read as
95/85/75/65/50) and 合格制 (合格/不合格, which passes without grade points). With the default policy the pass mark is
60 and a passing score earns (score - 50) / 10 grade points:

>>> from credit_ledger.models import Grade, DEFAULT_POLICY as P
>>> grade_points(Grade.parse(85), policy=P), grade_points(Grade.parse("良"), policy=P)
(Decimal('3.5'), Decimal('3.5'))
>>> grade_points(Grade.parse("合格"), policy=P) is None
True

A passed make-up exam (补考) counts as 60 and is flagged; a retake (重修) counts at its actual score; a course counts
once, by its best valid attempt:

>>> best = best_attempt([Attempt("e1", "regular", Grade.parse(45)), Attempt("e2", "makeup", Grade.parse(88))],
...                     policy=P)
>>> best.event_id, best.score, best.flagged
('e2', Decimal('60'), True)
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Iterable, Sequence

from .base import Grade, Policy, Scale, quantize_credits

FIVE_LEVEL_SCORES = {
    "excellent": Decimal(95), "good": Decimal(85), "average": Decimal(75), "pass": Decimal(65), "fail": Decimal(50),
}
"""The score a 五级制 level stands for (不及格 is read as 50, below any usual pass mark)."""


def score_of(grade: Grade) -> Decimal | None:
    """The 百分制 score a grade stands for; ``None`` on the pass/fail scale, which has no score.

    >>> score_of(Grade.parse("优")), score_of(Grade.parse(72.5)), score_of(Grade.parse("不合格"))
    (Decimal('95'), Decimal('72.5'), None)
    """
    if grade.scale is Scale.PERCENT:
        return grade.score
    if grade.scale is Scale.FIVE_LEVEL and grade.level is not None:
        return FIVE_LEVEL_SCORES[grade.level]
    return None


def is_passing(grade: Grade, *, policy: Policy) -> bool:
    """True when the grade reaches the pass mark (合格 always passes, 不合格 never).

    >>> from credit_ledger.models import DEFAULT_POLICY as P
    >>> [is_passing(Grade.parse(g), policy=P) for g in (60, 59.5, "及格")]
    [True, False, True]
    """
    if grade.scale is Scale.PASS_FAIL:
        return grade.level == "pass"
    score = score_of(grade)
    return score is not None and score >= policy.pass_mark


def grade_points(grade: Grade, *, policy: Policy, score: Decimal | None = None) -> Decimal | None:
    """(score - 50) / 10 for a passing score, 0 for a failing one, ``None`` on the pass/fail scale.

    ``score`` overrides the grade's own score (a passed make-up counts at the make-up score).
    """
    if grade.scale is Scale.PASS_FAIL:
        return None
    value = score if score is not None else score_of(grade)
    if value is None or value < policy.pass_mark:
        return _NO_POINTS
    return (value - _FIFTY) / _TEN if value >= _FIFTY else _NO_POINTS  # max((value - 50) / 10, 0), without max


_NO_POINTS, _FIFTY, _TEN = Decimal(0), Decimal(50), Decimal(10)


def hours_to_credits(hours: Decimal, *, policy: Policy) -> Decimal:
    """Class hours to credits: 16 hours = 1 credit by default, rounded to 0.01.

    >>> from credit_ledger.models import DEFAULT_POLICY as P
    >>> hours_to_credits(Decimal(72), policy=P)
    Decimal('4.50')
    """
    return quantize_credits(Decimal(hours) / policy.hours_per_credit)


def weeks_to_credits(weeks: Decimal, *, policy: Policy) -> Decimal:
    """Practice weeks to credits: 1 week = 1 credit by default.

    >>> from credit_ledger.models import DEFAULT_POLICY as P
    >>> weeks_to_credits(Decimal(8), policy=P)
    Decimal('8.00')
    """
    return quantize_credits(Decimal(weeks) / policy.weeks_per_credit)


@dataclass(frozen=True, slots=True)
class Attempt:
    """One valid attempt at a course: the event, the kind of attempt and the (corrected) grade."""

    event_id: str
    attempt: str
    grade: Grade
    order: int = 0
    """Position in the student's history; of equal attempts the earlier counts."""


@dataclass(frozen=True, slots=True)
class CountedAttempt:
    """The attempt that counts for a course, with the score and grade points it counts at."""

    event_id: str
    attempt: str
    grade: Grade
    passing: bool
    score: Decimal | None
    grade_points: Decimal | None
    flagged: bool


def count_attempt(attempt: Attempt, *, policy: Policy) -> CountedAttempt:
    """How one attempt counts: a passed make-up at the make-up score (flagged), anything else as graded.

    >>> from credit_ledger.models import DEFAULT_POLICY as P
    >>> c = count_attempt(Attempt("e", "makeup", Grade.parse("良")), policy=P)
    >>> c.score, c.grade_points, c.flagged
    (Decimal('60'), Decimal('1'), True)
    """
    makeup = attempt.attempt == "makeup"
    passing, score = _counted(attempt.grade, makeup, policy)
    return CountedAttempt(
        event_id=attempt.event_id,
        attempt=attempt.attempt,
        grade=attempt.grade,
        passing=passing,
        score=score,
        grade_points=grade_points(attempt.grade, policy=policy, score=score),
        flagged=makeup and passing,
    )


def _counted(grade: Grade, makeup: bool, policy: Policy) -> tuple[bool, Decimal | None]:
    """Whether one attempt passes, and the score it counts at: a passed make-up at most at the make-up score."""
    score = score_of(grade)
    if score is None:  # the pass/fail scale
        return grade.level == "pass", None
    passing = score >= policy.pass_mark
    if makeup and passing:
        score = min(score, policy.makeup_score if policy.makeup_score is not None else policy.pass_mark)
    return passing, score


def best_attempt(attempts: Iterable[Attempt], *, policy: Policy) -> CountedAttempt | None:
    """The attempt that counts for a course: passing before failing, then the highest counted score, then the
    earliest. Make-ups beyond ``policy.max_makeups_per_course`` are not valid attempts and are ignored. ``None`` when
    there is no attempt.
    """
    ordered = sorted(attempts, key=lambda a: a.order)
    chosen = choose_attempt([(a.order, a.attempt, a.grade) for a in ordered], policy=policy)
    if chosen is None:
        return None
    i, passing, score, flagged = chosen
    attempt = ordered[i]
    return CountedAttempt(
        event_id=attempt.event_id, attempt=attempt.attempt, grade=attempt.grade, passing=passing, score=score,
        grade_points=grade_points(attempt.grade, policy=policy, score=score), flagged=flagged,
    )


def choose_attempt(attempts: Sequence[tuple[int, str, Grade]], *,
                   policy: Policy) -> tuple[int, bool, Decimal | None, bool] | None:
    """``best_attempt`` over ``(order, attempt, grade)`` given in ``order``: the index of the attempt that counts,
    with whether it passes, the score it counts at and whether it is flagged (``count_attempt``'s values, without
    a model per attempt: this runs once per course of every audit). ``None`` when no attempt is valid."""
    pass_mark = policy.pass_mark
    max_makeups = policy.max_makeups_per_course
    best: tuple | None = None
    chosen: tuple[int, bool, Decimal | None, bool] | None = None
    makeups = 0
    for i, (order, kind, grade) in enumerate(attempts):
        makeup = kind == "makeup"
        if makeup:
            makeups += 1
            if makeups > max_makeups:
                continue
        passing, score = _counted(grade, makeup, policy)
        # no score (pass/fail): ranks as the pass mark, or below anything
        rank_score = score if score is not None else (pass_mark if passing else -1)
        key = (passing, rank_score, -order)
        if best is None or key > best:
            best, chosen = key, (i, passing, score, makeup and passing)
    return chosen
