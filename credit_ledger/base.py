"""The ground every value of credit_ledger stands on: immutable models, the scalars of a record, grades, the policy.

Every model is a ``Frozen`` pydantic model (a change makes a new value; unknown keys are refused). Credits (学分) are
``Decimal`` with two decimal places, never float, rounded half up; a grade is on one of three scales, 百分制
(percent), 五级制 (five levels) or 合格制 (pass/fail), read from a score or a word; a ``Policy`` holds the numbers a
school sets per program:

>>> quantize_credits(Decimal(64) / DEFAULT_POLICY.hours_per_credit), format_credits(Decimal("2.5"))
(Decimal('4.00'), '2.50')
>>> Grade.parse("良").level, Grade.parse(85).score, str(Grade.parse("不合格"))
('good', Decimal('85'), '不合格')

No rules live here, and nothing of the package is imported.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Annotated, Any, Iterable, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

# ---------------------------------------------------------------------------------------------------------------
# Scalars
# ---------------------------------------------------------------------------------------------------------------

_PRINTABLE = r"^[^\s\x00-\x1f\x7f](?:[^\x00-\x1f\x7f\u2028\u2029]*[^\s\x00-\x1f\x7f])?$"

Code = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=_PRINTABLE)]
"""A code of an institution, course, program, rule: 1-64 printable characters, no surrounding space."""

Identifier = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=_PRINTABLE)]
"""An event or student id: 1-128 printable characters, no surrounding space."""

Text = Annotated[str, StringConstraints(max_length=500, pattern=r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$")]
"""Free text (a title, a reason): at most 500 characters, no control characters but line breaks and tabs."""

Credits = Annotated[Decimal, Field(ge=0, le=1000, max_digits=7, decimal_places=2)]
"""A number of credits (学分): 0 to 1000, two decimal places."""

Hours = Annotated[Decimal, Field(ge=0, le=100000, max_digits=8, decimal_places=1)]
Years = Annotated[Decimal, Field(gt=0, le=20, max_digits=4, decimal_places=2)]
Ratio = Annotated[Decimal, Field(ge=0, le=1, max_digits=4, decimal_places=3)]

EARLIEST_DATE = date(1950, 1, 1)
LATEST_DATE = date(2199, 12, 31)

CENT = Decimal("0.01")


def quantize_credits(value: Decimal) -> Decimal:
    """Round a number of credits to two decimal places, half up.

    >>> quantize_credits(Decimal("3.125"))
    Decimal('3.13')
    """
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def format_credits(value: Decimal) -> str:
    """A number of credits as a sentence writes it: two decimal places, half up.

    >>> format_credits(Decimal(8)), format_credits(Decimal("3.125"))
    ('8.00', '3.13')
    """
    return format(quantize_credits(value), "f")


# ---------------------------------------------------------------------------------------------------------------
# Frozen models, and the one way to build them without validation
# ---------------------------------------------------------------------------------------------------------------

_REQUIRED = object()

# The speed trick of replay and audit: ``Frozen.trusted`` builds a model without pydantic's validation, which would be
# most of the cost of the credit records and results built for every audit. What keeps it safe: it is only given
# values taken from events and catalog entries that were validated when they were read, and it refuses unknown or
# missing fields. It sets a new model's ``__dict__`` and BaseModel's three slots (their setters, looked up once).
_new = object.__new__

_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__


class Frozen(BaseModel):
    """Base of every model: immutable, no unknown keys, fields by name or alias."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    @classmethod
    def trusted(cls, **values: Any) -> Any:
        """A model from values already of the right types (built by this library from validated data): what
        ``model_construct`` does, without its per-field work, for the hot paths of replay and audit. Fields left
        out take their (immutable) defaults."""
        spec = cls.__dict__.get("_trusted_spec")
        if spec is None:  # per field, in declaration order: its default, or a marker for a required one
            defaults = {name: f.default if not f.is_required() and f.default_factory is None else _REQUIRED
                        for name, f in cls.model_fields.items()}
            spec = (defaults, frozenset(n for n, d in defaults.items() if d is _REQUIRED))
            type.__setattr__(cls, "_trusted_spec", spec)
        defaults, required = spec
        fields = defaults.copy()
        fields.update(values)  # a given field keeps its declaration-order place; an unknown one goes last
        if len(fields) != len(defaults) or not required.issubset(values):
            raise TypeError(f"{cls.__name__}.trusted: unknown {sorted(set(values) - defaults.keys())} or missing "
                            f"{[n for n in defaults if n in required and n not in values]}")
        return cls.trusted_fields(fields, values.keys())

    @classmethod
    def trusted_fields(cls, fields: dict[str, Any], fields_set: Iterable[str]) -> Any:
        """``trusted``'s last step, for a hot path that builds ``fields`` itself: every field of the model, in
        declaration order, with values of the right types (e.g. a copy of a trusted model's ``__dict__`` with some
        values replaced). ``fields`` becomes the model's (do not keep it); nothing is checked."""
        obj = _new(cls)
        object.__setattr__(obj, "__dict__", fields)
        _set_fields_set(obj, set(fields_set))
        _set_extra(obj, None)
        _set_private(obj, None)
        return obj


# ---------------------------------------------------------------------------------------------------------------
# Grades
# ---------------------------------------------------------------------------------------------------------------


class Scale(StrEnum):
    """Grading scales: 百分制 (percent), 五级制 (five levels), 合格制 (pass/fail)."""

    PERCENT = "percent"
    FIVE_LEVEL = "five_level"
    PASS_FAIL = "pass_fail"


FIVE_LEVELS = ("excellent", "good", "average", "pass", "fail")
FIVE_LEVEL_WORDS = {
    "优": "excellent", "优秀": "excellent", "excellent": "excellent",
    "良": "good", "良好": "good", "good": "good",
    "中": "average", "中等": "average", "average": "average", "fair": "average", "medium": "average",
    "及格": "pass",
    "不及格": "fail",
}
FIVE_LEVEL_CHINESE = {"excellent": "优", "good": "良", "average": "中", "pass": "及格", "fail": "不及格"}
PASS_FAIL_WORDS = {"合格": "pass", "通过": "pass", "pass": "pass", "passed": "pass",
                   "不合格": "fail", "未通过": "fail", "fail": "fail", "failed": "fail"}


class Grade(Frozen):
    """A grade on one of three scales.

    A bare number is a 百分制 score; 优/良/中/及格/不及格 (or excellent/good/average) are 五级制 levels; 合格/不合格
    (or pass/fail) are 合格制. An English five-level "pass" must say its scale: ``{"scale": "five_level",
    "level": "pass"}``.
    """

    scale: Scale
    score: Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2)] | None = None
    level: Literal["excellent", "good", "average", "pass", "fail"] | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, Grade) or isinstance(value, dict):
            return value
        if isinstance(value, bool):
            raise ValueError("a grade is a score, a five-level word or pass/fail, not a boolean")
        if isinstance(value, (int, Decimal)):
            return {"scale": Scale.PERCENT, "score": value}
        if isinstance(value, float):
            return {"scale": Scale.PERCENT, "score": Decimal(str(value))}
        if isinstance(value, str):
            word = value.strip()
            lowered = word.lower()
            if lowered in PASS_FAIL_WORDS:
                return {"scale": Scale.PASS_FAIL, "level": PASS_FAIL_WORDS[lowered]}
            if lowered in FIVE_LEVEL_WORDS:
                return {"scale": Scale.FIVE_LEVEL, "level": FIVE_LEVEL_WORDS[lowered]}
            try:
                return {"scale": Scale.PERCENT, "score": Decimal(word)}
            except ArithmeticError:
                raise ValueError(f"unknown grade {value!r}: expected a score 0-100, 优/良/中/及格/不及格 or "
                                 "合格/不合格") from None
        return value

    @model_validator(mode="after")
    def _consistent(self) -> "Grade":
        if self.scale is Scale.PERCENT:
            if self.score is None or self.level is not None:
                raise ValueError("a percent (百分制) grade has a score and no level")
        else:
            if self.level is None or self.score is not None:
                raise ValueError(f"a {self.scale.value} grade has a level and no score")
            if self.scale is Scale.PASS_FAIL and self.level not in ("pass", "fail"):
                raise ValueError(f"a pass/fail (合格制) grade is 'pass' or 'fail', not {self.level!r}")
        return self

    @field_validator("score")
    @classmethod
    def _unsigned_zero(cls, value: Decimal | None) -> Decimal | None:
        return abs(value) if value is not None and value.is_zero() else value

    @classmethod
    def parse(cls, value: Any) -> "Grade":
        """Read a grade from a score, a word or a mapping."""
        return cls.model_validate(value)

    def __str__(self) -> str:
        if self.score is not None:  # a percent (百分制) grade, the only one with a score
            return format(self.score.normalize(), "f")
        if self.scale is Scale.FIVE_LEVEL and self.level is not None:
            return FIVE_LEVEL_CHINESE[self.level]
        return "合格" if self.level == "pass" else "不合格"


# ---------------------------------------------------------------------------------------------------------------
# Policy
# ---------------------------------------------------------------------------------------------------------------


class Policy(Frozen):
    """The numbers a school sets per program (the rule defaults of ARCHITECTURE.md)."""

    pass_mark: Annotated[Decimal, Field(ge=0, le=100)] = Decimal(60)
    makeup_score: Annotated[Decimal, Field(ge=0, le=100)] | None = None
    """The score a passed make-up exam (补考) counts at; ``None``: the pass mark."""
    max_makeups_per_course: Annotated[int, Field(ge=0, le=10)] = 1
    hours_per_credit: Annotated[Decimal, Field(gt=0, le=1000)] = Decimal(16)
    weeks_per_credit: Annotated[Decimal, Field(gt=0, le=52)] = Decimal(1)
    max_external_ratio: Ratio = Decimal("0.5")
    max_online_ratio: Ratio = Decimal("0.25")
    min_home_ratio: Ratio | None = None
    max_certificate_credits: Credits = Decimal(8)
    credit_validity_years: Annotated[int, Field(gt=0, le=50)] | None = None
    max_suspension_years: Annotated[Decimal, Field(ge=0, le=10)] = Decimal(2)
    suspension_counts_toward_max: bool = True
    partial_study_min_years: Annotated[Decimal, Field(ge=0, le=10)] = Decimal(1)


DEFAULT_POLICY = Policy()


class Versioned(Frozen):
    """A catalog entry in force from ``valid_from``: a record is judged by the version in force on its day."""

    valid_from: date | None = None
    """The first day this version is in force; ``None`` means it always was."""
