"""Grades: the three scales (百分制, 五级制, 合格制), pass marks, grade points, hours and weeks to credits, and the
attempt that counts for a course (补考 at 60 and flagged, 重修 at its score, the best valid attempt once)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from credit_ledger.grades import (
    FIVE_LEVEL_SCORES,
    Attempt,
    best_attempt,
    count_attempt,
    grade_points,
    hours_to_credits,
    is_passing,
    score_of,
    weeks_to_credits,
)
from credit_ledger.models import DEFAULT_POLICY as P
from credit_ledger.models import Grade, Policy, Scale

P70 = Policy(pass_mark=70)

# -- scales ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value, score", [
    (85, Decimal(85)), (0, Decimal(0)), (100, Decimal(100)), (72.5, Decimal("72.5")), ("59.5", Decimal("59.5")),
    (Decimal("60.00"), Decimal(60)), (" 88 ", Decimal(88)),
])
def test_percent_scores(value, score):
    g = Grade.parse(value)
    assert g.scale is Scale.PERCENT
    assert g.score == score
    assert g.level is None
    assert score_of(g) == score


@pytest.mark.parametrize("word, level", [
    ("优", "excellent"), ("优秀", "excellent"), ("良", "good"), ("良好", "good"), ("中", "average"),
    ("中等", "average"), ("及格", "pass"), ("不及格", "fail"),
    ("excellent", "excellent"), ("Excellent", "excellent"), ("good", "good"), ("average", "average"),
])
def test_five_level_words(word, level):
    g = Grade.parse(word)
    assert g.scale is Scale.FIVE_LEVEL
    assert g.level == level
    assert g.score is None


@pytest.mark.parametrize("level, score", [
    ("excellent", 95), ("good", 85), ("average", 75), ("pass", 65), ("fail", 50),
])
def test_five_level_scores(level, score):
    assert score_of(Grade.parse({"scale": "five_level", "level": level})) == Decimal(score)
    assert FIVE_LEVEL_SCORES[level] == Decimal(score)


def test_english_five_level_pass_must_say_its_scale():
    explicit = Grade.parse({"scale": "five_level", "level": "pass"})
    assert explicit.scale is Scale.FIVE_LEVEL and explicit.level == "pass"
    assert explicit == Grade.parse("及格")
    # the bare word "pass" is 合格制
    assert Grade.parse("pass").scale is Scale.PASS_FAIL


@pytest.mark.parametrize("word, level", [
    ("合格", "pass"), ("不合格", "fail"), ("pass", "pass"), ("fail", "fail"), ("PASS", "pass"), ("通过", "pass"),
    ("未通过", "fail"), ("passed", "pass"), ("failed", "fail"),
])
def test_pass_fail_words(word, level):
    g = Grade.parse(word)
    assert g.scale is Scale.PASS_FAIL
    assert g.level == level
    assert score_of(g) is None


@pytest.mark.parametrize("bad", [
    "A+", "", "very good", True, False, -1, 101, "100.5", None, [60], "NaN", "Infinity", float("nan"), "85.125",
    {"scale": "pass_fail", "level": "good"},
    {"scale": "percent", "level": "pass"},
    {"scale": "percent"},
    {"scale": "five_level", "score": 80},
    {"scale": "five_level", "level": "good", "score": 85},
    {"scale": "letter", "level": "A"},
])
def test_invalid_grades_are_refused(bad):
    with pytest.raises(ValidationError):
        Grade.parse(bad)


def test_grade_is_frozen():
    g = Grade.parse(80)
    with pytest.raises(ValidationError):
        g.score = Decimal(90)  # type: ignore[misc]


@pytest.mark.parametrize("value, text", [
    (85, "85"), (Decimal("72.50"), "72.5"), (100, "100"), (0, "0"), ("优", "优"), ("good", "良"), ("中", "中"),
    ({"scale": "five_level", "level": "pass"}, "及格"), ("不及格", "不及格"), ("pass", "合格"), ("不合格", "不合格"),
])
def test_str(value, text):
    assert str(Grade.parse(value)) == text


# -- pass mark ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value, passing", [
    (60, True), (59.99, False), (59.5, False), (0, False), (100, True), ("优", True), ("良", True), ("中", True),
    ("及格", True), ("不及格", False), ("合格", True), ("不合格", False),
])
def test_is_passing_default(value, passing):
    assert is_passing(Grade.parse(value), policy=P) is passing


@pytest.mark.parametrize("value, passing", [
    (70, True), (69.99, False), (65, False), (60, False), ("及格", False), ("中", True), ("良", True),
    ("合格", True), ("不合格", False),
])
def test_is_passing_with_pass_mark_70(value, passing):
    assert is_passing(Grade.parse(value), policy=P70) is passing


# -- grade points ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value, points", [
    (100, "5"), (95, "4.5"), (85, "3.5"), (60, "1"), (60.5, "1.05"), (59, "0"), (0, "0"),
    ("优", "4.5"), ("良", "3.5"), ("中", "2.5"), ("及格", "1.5"), ("不及格", "0"),
])
def test_grade_points_default(value, points):
    assert grade_points(Grade.parse(value), policy=P) == Decimal(points)


@pytest.mark.parametrize("value", ["合格", "不合格", "pass", "fail"])
def test_pass_fail_has_no_grade_points(value):
    assert grade_points(Grade.parse(value), policy=P) is None
    assert grade_points(Grade.parse(value), policy=P70) is None


@pytest.mark.parametrize("value, points", [(70, "2"), (69, "0"), (65, "0"), ("及格", "0"), ("中", "2.5"), (100, "5")])
def test_grade_points_with_pass_mark_70(value, points):
    assert grade_points(Grade.parse(value), policy=P70) == Decimal(points)


def test_grade_points_score_override():
    assert grade_points(Grade.parse(88), policy=P, score=Decimal(60)) == Decimal(1)


# -- hours and weeks to credits -------------------------------------------------------------------------------------


@pytest.mark.parametrize("hours, credits", [
    (16, "1.00"), (64, "4.00"), (72, "4.50"), (50, "3.13"), (8, "0.50"), (1, "0.06"), (0, "0.00"), ("24.5", "1.53"),
])
def test_hours_to_credits(hours, credits):
    result = hours_to_credits(Decimal(hours), policy=P)
    assert result == Decimal(credits)
    assert result.as_tuple().exponent == -2


def test_hours_to_credits_with_another_policy():
    assert hours_to_credits(Decimal(72), policy=Policy(hours_per_credit=18)) == Decimal("4.00")
    assert hours_to_credits(Decimal(10), policy=Policy(hours_per_credit=12)) == Decimal("0.83")


@pytest.mark.parametrize("weeks, credits", [(1, "1.00"), (8, "8.00"), ("2.5", "2.50"), (0, "0.00")])
def test_weeks_to_credits(weeks, credits):
    assert weeks_to_credits(Decimal(weeks), policy=P) == Decimal(credits)


def test_weeks_to_credits_with_another_policy():
    assert weeks_to_credits(Decimal(3), policy=Policy(weeks_per_credit=2)) == Decimal("1.50")


# -- counting one attempt -------------------------------------------------------------------------------------------


def test_regular_attempt_counts_as_graded():
    c = count_attempt(Attempt("e", "regular", Grade.parse(86)), policy=P)
    assert (c.event_id, c.attempt, c.passing, c.score, c.grade_points, c.flagged) == (
        "e", "regular", True, Decimal(86), Decimal("3.6"), False)


def test_passed_makeup_counts_as_60_and_is_flagged():
    c = count_attempt(Attempt("e", "makeup", Grade.parse(88)), policy=P)
    assert c.passing and c.flagged
    assert c.score == Decimal(60)
    assert c.grade_points == Decimal(1)
    assert c.grade == Grade.parse(88)  # the grade itself is kept


def test_passed_makeup_at_exactly_60():
    c = count_attempt(Attempt("e", "makeup", Grade.parse(60)), policy=P)
    assert c.passing and c.flagged and c.score == Decimal(60)


def test_passed_makeup_five_level_counts_as_60():
    c = count_attempt(Attempt("e", "makeup", Grade.parse("优")), policy=P)
    assert c.flagged and c.score == Decimal(60) and c.grade_points == Decimal(1)


def test_passed_makeup_pass_fail_is_flagged_without_score():
    c = count_attempt(Attempt("e", "makeup", Grade.parse("合格")), policy=P)
    assert c.passing and c.flagged
    assert c.score is None and c.grade_points is None


@pytest.mark.parametrize("value, score", [(45, Decimal(45)), (59.5, Decimal("59.5")), ("不及格", Decimal(50))])
def test_failed_makeup_counts_at_actual_score(value, score):
    c = count_attempt(Attempt("e", "makeup", Grade.parse(value)), policy=P)
    assert not c.passing and not c.flagged
    assert c.score == score
    assert c.grade_points == Decimal(0)


def test_failed_pass_fail_makeup():
    c = count_attempt(Attempt("e", "makeup", Grade.parse("不合格")), policy=P)
    assert not c.passing and not c.flagged and c.score is None and c.grade_points is None


@pytest.mark.parametrize("value, score, points", [(88, 88, "3.8"), (60, 60, "1"), (45, 45, "0"), ("良", 85, "3.5")])
def test_retake_counts_at_actual_score(value, score, points):
    c = count_attempt(Attempt("e", "retake", Grade.parse(value)), policy=P)
    assert not c.flagged
    assert c.score == Decimal(score)
    assert c.grade_points == Decimal(points)


def test_makeup_with_another_makeup_score():
    c = count_attempt(Attempt("e", "makeup", Grade.parse(90)), policy=Policy(pass_mark=70, makeup_score=70))
    assert c.flagged and c.score == Decimal(70) and c.grade_points == Decimal(2)


# -- the best attempt -----------------------------------------------------------------------------------------------


def _a(event_id: str, kind: str, grade, order: int) -> Attempt:
    return Attempt(event_id, kind, Grade.parse(grade), order)


def test_no_attempt_is_none():
    assert best_attempt([], policy=P) is None


def test_single_attempt():
    best = best_attempt([_a("e1", "regular", 72, 0)], policy=P)
    assert best.event_id == "e1" and best.score == Decimal(72)


def test_failed_then_passed_makeup():
    best = best_attempt([_a("e1", "regular", 45, 0), _a("e2", "makeup", 88, 1)], policy=P)
    assert (best.event_id, best.score, best.flagged) == ("e2", Decimal(60), True)


def test_retake_beats_makeup_at_60():
    attempts = [_a("e1", "regular", 45, 0), _a("e2", "makeup", 70, 1), _a("e3", "retake", 65, 2)]
    best = best_attempt(attempts, policy=P)
    assert (best.event_id, best.score, best.flagged) == ("e3", Decimal(65), False)


def test_passing_beats_a_higher_failing_score():
    best = best_attempt([_a("e1", "regular", 59, 0), _a("e2", "retake", 60, 1)], policy=P70)
    assert not best.passing  # both fail at pass mark 70
    assert best.event_id == "e2"
    best = best_attempt([_a("e1", "regular", 69, 0), _a("e2", "retake", 71, 1)], policy=P70)
    assert best.passing and best.event_id == "e2"


def test_passed_regular_beats_later_lower_retake():
    best = best_attempt([_a("e1", "regular", 80, 0), _a("e2", "retake", 75, 1)], policy=P)
    assert best.event_id == "e1"


def test_of_equal_attempts_the_earlier_counts():
    best = best_attempt([_a("e2", "retake", 75, 5), _a("e1", "regular", 75, 3)], policy=P)
    assert best.event_id == "e1"


def test_best_attempt_counts_once():
    attempts = [_a("e1", "regular", 50, 0), _a("e2", "makeup", 55, 1), _a("e3", "retake", 78, 2),
                _a("e4", "retake", 91, 3)]
    best = best_attempt(attempts, policy=P)
    assert best.event_id == "e4" and best.score == Decimal(91)


def test_second_makeup_beyond_policy_is_ignored():
    attempts = [_a("e1", "regular", 40, 0), _a("e2", "makeup", 50, 1), _a("e3", "makeup", 90, 2)]
    best = best_attempt(attempts, policy=P)
    assert P.max_makeups_per_course == 1
    assert best.event_id == "e2"
    assert not best.passing and best.score == Decimal(50)


def test_second_makeup_counts_when_policy_allows_two():
    attempts = [_a("e1", "regular", 40, 0), _a("e2", "makeup", 50, 1), _a("e3", "makeup", 90, 2)]
    best = best_attempt(attempts, policy=Policy(max_makeups_per_course=2))
    assert (best.event_id, best.score, best.flagged) == ("e3", Decimal(60), True)


def test_no_makeup_allowed():
    attempts = [_a("e1", "regular", 40, 0), _a("e2", "makeup", 90, 1)]
    assert best_attempt(attempts, policy=Policy(max_makeups_per_course=0)).event_id == "e1"
    assert best_attempt([_a("e2", "makeup", 90, 1)], policy=Policy(max_makeups_per_course=0)) is None


def test_the_first_makeup_by_order_is_the_valid_one():
    # listed out of order: the makeup with the lower order is the first, the other is beyond the limit
    attempts = [_a("e3", "makeup", 90, 2), _a("e1", "regular", 40, 0), _a("e2", "makeup", 50, 1)]
    assert best_attempt(attempts, policy=P).event_id == "e2"


def test_pass_fail_attempts():
    best = best_attempt([_a("e1", "regular", "不合格", 0), _a("e2", "retake", "合格", 1)], policy=P)
    assert best.event_id == "e2" and best.passing and best.score is None
    # a scored pass above the pass mark outranks a 合格
    best = best_attempt([_a("e1", "regular", "合格", 0), _a("e2", "retake", 75, 1)], policy=P)
    assert best.event_id == "e2"


# -- properties -----------------------------------------------------------------------------------------------------

percent_grades = st.decimals(min_value=0, max_value=100, places=2, allow_nan=False, allow_infinity=False).map(
    lambda d: Grade.parse(d))
five_level_grades = st.sampled_from(["excellent", "good", "average", "pass", "fail"]).map(
    lambda level: Grade.parse({"scale": "five_level", "level": level}))
pass_fail_grades = st.sampled_from(["pass", "fail"]).map(
    lambda level: Grade.parse({"scale": "pass_fail", "level": level}))
grades = st.one_of(percent_grades, five_level_grades, pass_fail_grades)

policies = st.builds(
    Policy,
    pass_mark=st.sampled_from([Decimal(50), Decimal(60), Decimal(70), Decimal("65.5")]),
    makeup_score=st.sampled_from([Decimal(60), Decimal(70)]),
    max_makeups_per_course=st.integers(min_value=0, max_value=3),
)


@st.composite
def attempt_lists(draw) -> list[Attempt]:
    n = draw(st.integers(min_value=0, max_value=8))
    orders = draw(st.lists(st.integers(min_value=0, max_value=1000), min_size=n, max_size=n, unique=True))
    kinds = draw(st.lists(st.sampled_from(["regular", "makeup", "retake"]), min_size=n, max_size=n))
    gs = draw(st.lists(grades, min_size=n, max_size=n))
    return [Attempt(f"e{i}", kinds[i], gs[i], orders[i]) for i in range(n)]


def _valid(attempts: list[Attempt], policy: Policy) -> list[Attempt]:
    """The attempts that count at all: every one but the make-ups beyond the policy's limit (by order)."""
    out, makeups = [], 0
    for a in sorted(attempts, key=lambda a: a.order):
        if a.attempt == "makeup":
            makeups += 1
            if makeups > policy.max_makeups_per_course:
                continue
        out.append(a)
    return out


@given(attempts=attempt_lists(), policy=policies, data=st.data())
def test_best_attempt_independent_of_input_order(attempts, policy, data):
    shuffled = data.draw(st.permutations(attempts))
    assert best_attempt(shuffled, policy=policy) == best_attempt(attempts, policy=policy)


@given(attempts=attempt_lists(), policy=policies)
def test_best_attempt_is_the_best_valid_one(attempts, policy):
    best = best_attempt(attempts, policy=policy)
    valid = _valid(attempts, policy)
    if not valid:
        assert best is None
        return
    assert best is not None
    assert best.event_id in {a.event_id for a in valid}
    counted = [count_attempt(a, policy=policy) for a in valid]
    if any(c.passing for c in counted):
        assert best.passing

    def rank(c):  # pass/fail grades rank as the pass mark (a pass) or below anything (a fail)
        return c.score if c.score is not None else (policy.pass_mark if c.passing else Decimal(-1))

    for c in counted:
        if c.passing:
            assert rank(best) >= rank(c)
            if best.score is not None and c.score is not None:
                assert best.score >= c.score


@given(attempts=attempt_lists(), policy=policies)
def test_best_attempt_is_one_of_its_counted_attempts(attempts, policy):
    best = best_attempt(attempts, policy=policy)
    if best is not None:
        source = next(a for a in attempts if a.event_id == best.event_id)
        assert best == count_attempt(source, policy=policy)


@given(grade=grades, policy=policies)
def test_grade_points_in_range_and_none_only_for_pass_fail(grade, policy):
    points = grade_points(grade, policy=policy)
    if grade.scale is Scale.PASS_FAIL:
        assert points is None
    else:
        assert points is not None
        assert Decimal(0) <= points <= Decimal(5)
        if not is_passing(grade, policy=policy):
            assert points == 0


@given(attempt=st.builds(Attempt, st.just("e"), st.sampled_from(["regular", "makeup", "retake"]), grades),
       policy=policies)
def test_counted_grade_points_in_range(attempt, policy):
    c = count_attempt(attempt, policy=policy)
    assert (c.grade_points is None) == (attempt.grade.scale is Scale.PASS_FAIL)
    if c.grade_points is not None:
        assert Decimal(0) <= c.grade_points <= Decimal(5)
    assert c.flagged == (attempt.attempt == "makeup" and c.passing)


@given(grade=st.one_of(five_level_grades, pass_fail_grades))
def test_str_round_trip_five_level_and_pass_fail(grade):
    assert Grade.parse(str(grade)) == grade


@given(grade=percent_grades)
def test_str_round_trip_percent(grade):
    again = Grade.parse(str(grade))
    assert again.scale is Scale.PERCENT and again.score == grade.score


@given(grade=grades)
def test_json_round_trip(grade):
    assert Grade.model_validate_json(grade.model_dump_json()) == grade


@given(grade=grades)
def test_python_dump_round_trip(grade):
    assert Grade.parse(grade.model_dump()) == grade


def test_makeup_counts_at_the_pass_mark_by_default():
    # a school with pass mark 70 counts a passed make-up at 70, not at the national default of 60
    c = count_attempt(Attempt("e", "makeup", Grade.parse(90)), policy=Policy(pass_mark=70))
    assert c.passing and c.flagged and c.score == Decimal(70) and c.grade_points == Decimal(2)


def test_negative_zero_reads_as_zero():
    assert str(Grade.parse("-0")) == "0"
