"""Pure types of credit_ledger: the catalog, grades, the events and the results.

Everything here is a frozen pydantic model: a change makes a new value. Credits are ``Decimal`` with two decimal
places, never float. The catalog (institutions, alliances 技工教育联盟, courses, programs with their requirement trees,
recognition agreements, conversion rules) is versioned by ``valid_from``: a record made on 2025-03-01 is judged by
the version of a course or program in force on that day.

>>> c = Course(institution="HNJX", code="MECH101", title="机械制图", hours=64, category="core")
>>> c.credits
Decimal('4.00')
>>> Grade.parse("良").level, Grade.parse(85).score
('good', Decimal('85'))
"""

from __future__ import annotations

import bisect
import json
from collections import defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Iterable, Literal, Sequence, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from .errors import CatalogError

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


_REQUIRED = object()

# what ``trusted`` sets on a new model: its ``__dict__`` and BaseModel's three slots (their setters, looked up once)
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
                raise ValueError(f"unknown grade {value!r}: expected a score 0-100, 优/良/中/及格/不及格 or 合格/不合格") from None
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
        if self.scale is Scale.PERCENT:
            return format(self.score.normalize(), "f")  # type: ignore[union-attr]
        if self.scale is Scale.FIVE_LEVEL:
            return FIVE_LEVEL_CHINESE[self.level]  # type: ignore[index]
        return "合格" if self.level == "pass" else "不合格"


# ---------------------------------------------------------------------------------------------------------------
# Policy
# ---------------------------------------------------------------------------------------------------------------


class Policy(Frozen):
    """The numbers a school sets per program; defaults are those of DESIGN.md."""

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


# ---------------------------------------------------------------------------------------------------------------
# Catalog entries
# ---------------------------------------------------------------------------------------------------------------


class _Versioned(Frozen):
    valid_from: date | None = None
    """The first day this version is in force; ``None`` means it always was."""


class Institution(_Versioned):
    """A school (技工院校) or another body that records or issues credits."""

    code: Code
    name: Text
    kind: Literal["technician_college", "senior_technical_school", "technical_school", "enterprise", "other"] = (
        "technical_school"
    )
    region: Text | None = None


class Membership(Frozen):
    """An institution's membership of an alliance, from ``joined`` to ``left`` (exclusive), if it left."""

    institution: Code
    joined: date
    left: date | None = None

    @model_validator(mode="after")
    def _order(self) -> "Membership":
        if self.left is not None and self.left <= self.joined:
            raise ValueError(f"{self.institution} left ({self.left}) on or before it joined ({self.joined})")
        return self

    def covers(self, on: date) -> bool:
        """True when the institution was a member on that day."""
        return self.joined <= on and (self.left is None or on < self.left)


class Alliance(_Versioned):
    """A technical-education alliance (技工教育联盟) whose members recognise each other's credits."""

    code: Code
    name: Text
    members: tuple[Membership, ...] = ()

    def is_member(self, institution: str, on: date) -> bool:
        """True when ``institution`` was a member on ``on``."""
        return any(m.institution == institution and m.covers(on) for m in self.members)


class Course(_Versioned):
    """A course or module of an institution. Credits default to class hours / 16 or practice weeks / 1."""

    institution: Code
    code: Code
    title: Text
    credits: Credits
    hours: Hours | None = None
    practice_weeks: Annotated[Decimal, Field(ge=0, le=520, decimal_places=1)] | None = None
    category: Code
    tags: tuple[Code, ...] = ()
    mode: Literal["classroom", "online", "enterprise"] = "classroom"
    level: Code | None = None

    @model_validator(mode="before")
    @classmethod
    def _derive_credits(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("credits") is None:
            hours, weeks = data.get("hours"), data.get("practice_weeks")
            if hours is not None:
                data = {**data, "credits": quantize_credits(Decimal(str(hours)) / DEFAULT_POLICY.hours_per_credit)}
            elif weeks is not None:
                data = {**data, "credits": quantize_credits(Decimal(str(weeks)) / DEFAULT_POLICY.weeks_per_credit)}
            else:
                raise ValueError("a course needs credits, hours or practice_weeks")
        return data


class Filter(Frozen):
    """Which credit records a credit pool takes; every given key must match, an empty filter takes all."""

    category: Code | None = None
    tag: Code | None = None
    courses: tuple[Code, ...] | None = None
    origin: Literal["home", "recognized", "converted"] | None = None
    level: Code | None = None
    mode: Literal["classroom", "online", "enterprise"] | None = None


class _Node(Frozen):
    id: Code
    title: Text = ""


class _Leaf(_Node):
    shared: bool = False
    """A shared leaf may count records that another leaf also counts."""
    max_external: Credits | None = None
    """At most this many recognised or converted credits count toward this leaf."""


class CoursesRequirement(_Leaf):
    """Each listed course, or its recognised or converted equivalent."""

    courses: Annotated[tuple[Code, ...], Field(min_length=1)]


class CreditsRequirement(_Leaf):
    """At least ``credits`` credits from the records that match ``from``."""

    credits: Annotated[Decimal, Field(gt=0, le=1000, decimal_places=2)]
    from_: Filter = Field(default_factory=Filter, alias="from")


class HoursRequirement(_Leaf):
    """At least ``hours`` hours (apprenticeships: classroom or on-the-job), in all or per year of study."""

    hours: Annotated[Decimal, Field(gt=0, le=100000, decimal_places=1)]
    from_: Filter = Field(default_factory=Filter, alias="from")
    per_year: bool = False


class AllRequirement(_Node):
    """Every child."""

    all: Annotated[tuple["Requirement", ...], Field(min_length=1)]


class PickRequirement(_Node):
    """Any ``pick`` of the children."""

    pick: Annotated[int, Field(ge=1)]
    of: Annotated[tuple["Requirement", ...], Field(min_length=1)]

    @model_validator(mode="after")
    def _enough(self) -> "PickRequirement":
        if self.pick > len(self.of):
            raise ValueError(f"requirement {self.id!r} picks {self.pick} of only {len(self.of)} children")
        return self


_NODE_KEYS = ("all", "pick", "courses", "credits", "hours")
_NODE_CLASSES = {
    AllRequirement: "node:all", PickRequirement: "node:pick", CoursesRequirement: "node:courses",
    CreditsRequirement: "node:credits", HoursRequirement: "node:hours",
}


def _node_kind(value: Any) -> str | None:
    if isinstance(value, dict):
        found = [key for key in _NODE_KEYS if key in value]
        return f"node:{found[0]}" if len(found) == 1 else None
    return _NODE_CLASSES.get(type(value))


Requirement = Annotated[
    Union[
        Annotated[AllRequirement, Tag("node:all")],
        Annotated[PickRequirement, Tag("node:pick")],
        Annotated[CoursesRequirement, Tag("node:courses")],
        Annotated[CreditsRequirement, Tag("node:credits")],
        Annotated[HoursRequirement, Tag("node:hours")],
    ],
    Discriminator(
        _node_kind,
        custom_error_type="requirement_kind",
        custom_error_message="a requirement has exactly one of the keys all, pick, courses, credits or hours",
    ),
]
AllRequirement.model_rebuild()
PickRequirement.model_rebuild()


def requirement_children(node: Any) -> tuple[Any, ...]:
    """The children of a requirement node, in order: an ``all`` node's, a ``pick`` node's ``of``; a leaf has none."""
    if isinstance(node, AllRequirement):
        return node.all
    if isinstance(node, PickRequirement):
        return node.of
    return ()


def walk_requirements(node: Any, path: str = "requirements") -> Iterable[tuple[str, Any]]:
    """Yield ``(key path, node)`` for a requirement tree, the root first (depth first, children in order): the one
    walk of a tree that the catalog checks, the audit and the exceptions use."""
    stack = [(path, node)]
    while stack:
        path, node = stack.pop()
        yield path, node
        key = "all" if isinstance(node, AllRequirement) else "of"
        kids = requirement_children(node)
        stack.extend((f"{path}.{key}[{i}]", kids[i]) for i in range(len(kids) - 1, -1, -1))


class Program(_Versioned):
    """A program of study (专业) at one institution, with its requirement tree and policy."""

    institution: Code
    code: Code
    title: Text
    level: Literal["intermediate_worker", "senior_worker", "preparatory_technician", "technician",
                   "senior_technician"]
    kind: Literal["regular", "apprenticeship", "technician_class"] = "regular"
    modes: tuple[Literal["full_time", "part_time", "apprentice"], ...] = ("full_time", "part_time", "apprentice")
    standard_years: Years
    min_years: Years | None = None
    """Earliest graduation (提前毕业 floor); default one year less than standard, at least half a year."""
    max_years: Years | None = None
    """Latest graduation under flexible schooling (弹性学制); default twice the standard length."""
    total_credits: Annotated[Decimal, Field(gt=0, le=1000, decimal_places=2)]
    policy: Policy = Field(default_factory=Policy)
    requirements: Requirement
    entry_bases: tuple[Literal["college_graduate", "veteran", "titled_technician"], ...] = (
        "college_graduate", "veteran", "titled_technician")

    @property
    def earliest_years(self) -> Decimal:
        """The years of study before early graduation is allowed."""
        if self.min_years is not None:
            return self.min_years
        return max(self.standard_years - 1, Decimal("0.5"))

    @property
    def latest_years(self) -> Decimal:
        """The years of study after which graduation is no longer allowed."""
        return self.max_years if self.max_years is not None else self.standard_years * 2

    @model_validator(mode="after")
    def _years(self) -> "Program":
        if self.min_years is not None and self.max_years is not None and self.min_years > self.max_years:
            raise ValueError(f"min_years ({self.min_years}) is more than max_years ({self.max_years})")
        if self.earliest_years > self.standard_years:
            raise ValueError(f"min_years ({self.earliest_years}) is more than standard_years ({self.standard_years})")
        if self.latest_years < self.standard_years:
            raise ValueError(f"max_years ({self.latest_years}) is less than standard_years ({self.standard_years})")
        if self.earliest_years > self.latest_years:
            raise ValueError(f"min_years ({self.earliest_years}) is more than max_years ({self.latest_years})")
        return self


class EquivalenceSide(Frozen):
    """One side of an equivalence: courses of an institution, or a category of its credits."""

    institution: Code
    courses: tuple[Code, ...] | None = None
    category: Code | None = None

    @model_validator(mode="after")
    def _one(self) -> "EquivalenceSide":
        if (self.courses is None) == (self.category is None):
            raise ValueError("an equivalence side names either courses or a category")
        if self.courses is not None and not self.courses:
            raise ValueError("an equivalence side names at least one course")
        return self


class Equivalence(Frozen):
    """Source courses (all needed) or category credit at one school, counted as target courses or category here."""

    from_: EquivalenceSide = Field(alias="from")
    to: EquivalenceSide

    @model_validator(mode="after")
    def _shape(self) -> "Equivalence":
        if (self.from_.category is None) != (self.to.category is None) and self.to.category is None:
            raise ValueError("category credit from elsewhere counts only toward a category here")
        return self


class Agreement(_Versioned):
    """A recognition agreement (学分互认协议) between an alliance's members or named parties, in a date window."""

    id: Code
    alliance: Code | None = None
    parties: tuple[Code, ...] = ()
    valid_until: date | None = None
    mutual: bool = True
    min_grade: Grade = Field(default_factory=lambda: Grade.parse(60))
    max_age_years: Annotated[Decimal, Field(gt=0, le=50)] | None = None
    equivalences: tuple[Equivalence, ...] = ()

    @model_validator(mode="after")
    def _who(self) -> "Agreement":
        if self.alliance is None and len(self.parties) < 2:
            raise ValueError("an agreement names an alliance or at least two parties")
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise ValueError(f"valid_until ({self.valid_until}) is before valid_from ({self.valid_from})")
        return self


class Target(Frozen):
    """Where recognised or converted credit counts: a course or a category of the home school."""

    course: Code | None = None
    category: Code | None = None

    @model_validator(mode="after")
    def _one(self) -> "Target":
        if (self.course is None) == (self.category is None):
            raise ValueError("a target is either a course or a category")
        return self


class RuleTarget(Frozen):
    """The courses a conversion replaces, or the category it credits."""

    courses: tuple[Code, ...] | None = None
    category: Code | None = None

    @model_validator(mode="after")
    def _one(self) -> "RuleTarget":
        if (self.courses is None) == (self.category is None):
            raise ValueError("a rule target is either courses or a category")
        return self


OutcomeType = Literal["certificate", "competition", "work_experience", "apprenticeship", "online_course"]


class ConversionRule(_Versioned):
    """How a learning outcome converts into credits at an institution (学分认定)."""

    id: Code
    institution: Code
    outcome_type: OutcomeType
    title: Text | None = None
    level: Code | None = None
    max_rank: Annotated[int, Field(ge=1, le=100)] | None = None
    team_top: Annotated[int, Field(ge=1, le=100)] | None = 3
    target: RuleTarget
    credits: Credits | None = None
    credits_per_year: Credits | None = None
    hours_per_credit: Annotated[Decimal, Field(gt=0, le=10000)] | None = None
    max_credits: Credits | None = None
    related_posts: tuple[Text, ...] = ()
    valid_until: date | None = None

    @model_validator(mode="after")
    def _one_measure(self) -> "ConversionRule":
        given = [n for n in ("credits", "credits_per_year", "hours_per_credit") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("a conversion rule states exactly one of credits, credits_per_year, hours_per_credit")
        return self


# ---------------------------------------------------------------------------------------------------------------
# The catalog
# ---------------------------------------------------------------------------------------------------------------

_ENTRY_KEYS: dict[str, Any] = {
    "institutions": lambda e: (e.code,),
    "alliances": lambda e: (e.code,),
    "courses": lambda e: (e.institution, e.code),
    "programs": lambda e: (e.institution, e.code),
    "agreements": lambda e: (e.id,),
    "conversion_rules": lambda e: (e.id,),
}


def _since(entry: _Versioned) -> date:
    return entry.valid_from or date.min


class Catalog(Frozen):
    """The reference data a ledger judges records by; load with ``Catalog.from_file(path)``.

    Every entry is versioned by ``valid_from``; ``catalog.course("HNJX", "CNC201", on=day)`` gives the version in
    force on that day, or ``None``.
    """

    institutions: tuple[Institution, ...] = ()
    alliances: tuple[Alliance, ...] = ()
    courses: tuple[Course, ...] = ()
    programs: tuple[Program, ...] = ()
    agreements: tuple[Agreement, ...] = ()
    conversion_rules: tuple[ConversionRule, ...] = ()

    @model_validator(mode="after")
    def _references(self) -> "Catalog":
        problems = catalog_problems(self)
        if problems:
            raise ValueError("\n".join(problems))
        return self

    # -- loading ------------------------------------------------------------------------------------------------

    @classmethod
    def from_file(cls, path: str | Path) -> "Catalog":
        """Read a catalog from a YAML (``.yaml``/``.yml``) or JSON file; a bad one raises ``CatalogError``."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise CatalogError([f"cannot read the catalog: {exc.strerror or exc}"], source=str(path)) from None
        return cls.from_text(text, source=str(path), format="json" if path.suffix.lower() == ".json" else "yaml")

    @classmethod
    def from_text(cls, text: str, *, source: str = "<catalog>", format: Literal["yaml", "json"] = "yaml") -> "Catalog":
        """Read a catalog from YAML or JSON text; ``source`` names it in errors."""
        try:
            if format == "json":
                data = json.loads(text)
            else:
                import yaml

                data = yaml.safe_load(text)
        except Exception as exc:  # the parsers raise many kinds; all mean "not readable"
            raise CatalogError([f"not valid {format.upper()}: {exc}"], source=source) from None
        return cls.from_data(data, source=source)

    @classmethod
    def from_data(cls, data: Any, *, source: str = "<catalog>") -> "Catalog":
        """Validate plain data (as read from YAML/JSON) into a catalog, with errors naming key paths."""
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise CatalogError(["the top level must be a mapping of institutions, courses, programs, ..."], source)
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise CatalogError(_validation_problems(exc), source=source) from None

    @classmethod
    def sample(cls) -> "Catalog":
        """The realistic sample catalog shipped in the package (used by the demo and the tests)."""
        return cls.from_file(Path(__file__).parent / "data" / "sample_catalog.yaml")

    def to_json(self) -> str:
        """Canonical JSON of the catalog (by alias, so that it reads back with ``from_text``). Nulls are kept: some
        mean something other than the default (a conversion rule's ``team_top: null`` is "no limit")."""
        return self.model_dump_json(by_alias=True)

    # -- merging ------------------------------------------------------------------------------------------------

    def merge(self, other: "Catalog") -> "Catalog":
        """A catalog with the entries of both; the same entry version with other content is a ``CatalogError``."""
        merged: dict[str, list[Any]] = {}
        problems: list[str] = []
        for name, key_of in _ENTRY_KEYS.items():
            seen: dict[tuple, Any] = {}
            for entry in getattr(self, name) + getattr(other, name):
                key = key_of(entry) + (_since(entry),)
                if key in seen:
                    if seen[key] != entry:
                        label = "/".join(key[:-1])
                        problems.append(
                            f"{name}: {label} valid from {entry.valid_from or 'the start'} is already loaded with "
                            "other content; add a new version with a later valid_from instead")
                    continue
                seen[key] = entry
            merged[name] = list(seen.values())
        if problems:
            raise CatalogError(problems)
        if all(len(merged[n]) == len(getattr(self, n)) for n in _ENTRY_KEYS):
            return self
        return Catalog(**{n: tuple(v) for n, v in merged.items()})

    # -- look-ups -----------------------------------------------------------------------------------------------

    @cached_property
    def _index(self) -> dict[str, dict[tuple, tuple[list[date], list[Any]]]]:
        index: dict[str, dict[tuple, tuple[list[date], list[Any]]]] = {}
        for name, key_of in _ENTRY_KEYS.items():
            groups: dict[tuple, list[Any]] = defaultdict(list)
            for entry in getattr(self, name):
                groups[key_of(entry)].append(entry)
            index[name] = {}
            for key, entries in groups.items():
                entries.sort(key=_since)
                index[name][key] = ([_since(e) for e in entries], entries)
        return index

    @cached_property
    def _memo(self) -> dict[Any, Any]:
        """Values derived from this (immutable) catalog by hot paths (the replay's record templates), kept with it
        so that a batch computes them once."""
        return {}

    def _lookup(self, name: str, key: tuple, on: date | None) -> Any:
        found = self._index[name].get(key)
        if found is None:
            return None
        starts, entries = found
        if on is None:
            return entries[-1]
        i = bisect.bisect_right(starts, on)
        return entries[i - 1] if i else None

    def institution(self, code: str, on: date | None = None) -> Institution | None:
        """The institution's version in force on ``on`` (the latest when ``on`` is None)."""
        return self._lookup("institutions", (code,), on)

    def alliance(self, code: str, on: date | None = None) -> Alliance | None:
        """The alliance's version in force on ``on``."""
        return self._lookup("alliances", (code,), on)

    def course(self, institution: str, code: str, on: date | None = None) -> Course | None:
        """The course's version in force on ``on``."""
        return self._lookup("courses", (institution, code), on)

    def course_or_latest(self, institution: str, code: str, on: date) -> Course | None:
        """``course(institution, code, on) or course(institution, code)``: the version in force on ``on``, else the
        latest (a record dated before the course's first version), in one look-up."""
        found = self._index["courses"].get((institution, code))
        if found is None:
            return None
        starts, entries = found
        i = bisect.bisect_right(starts, on)
        return entries[i - 1] if i else entries[-1]

    def program(self, institution: str, code: str, on: date | None = None) -> Program | None:
        """The program's version in force on ``on``."""
        return self._lookup("programs", (institution, code), on)

    def agreement(self, id: str, on: date | None = None) -> Agreement | None:
        """The agreement's version in force on ``on``."""
        return self._lookup("agreements", (id,), on)

    def conversion_rule(self, id: str, on: date | None = None) -> ConversionRule | None:
        """The conversion rule's version in force on ``on``."""
        return self._lookup("conversion_rules", (id,), on)


def program_in_force(catalog: Catalog, institution: str, code: str, day: date | None) -> Program | None:
    """The version of a program in force on ``day``, else its latest version (for a day before its first version,
    or with no day): the one rule for "which program applies" that checks, replay, recognition and audits share.

    >>> program_in_force(Catalog.sample(), "HNJX", "CNC-SR-2025", date(1990, 1, 1)).code
    'CNC-SR-2025'
    """
    found = catalog._index["programs"].get((institution, code))
    if found is None:
        return None
    starts, entries = found
    if day is None:
        return entries[-1]
    i = bisect.bisect_right(starts, day)
    return entries[i - 1] if i else entries[-1]


def _loc(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(part, str) and part.startswith("node:"):
            continue  # pydantic names the union member that failed; the reader wants the YAML key path only
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _validation_problems(exc: ValidationError) -> list[str]:
    problems = []
    for err in exc.errors(include_url=False):
        msg = err["msg"]
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        loc = _loc(tuple(err["loc"]))
        for line in msg.split("\n"):
            problems.append(line if (not err["loc"] and ": " in line) else f"{loc}: {line}")
    return problems



def catalog_problems(catalog: Catalog) -> list[str]:
    """Cross-reference checks of a catalog, each naming a key path: duplicates, unknown references, bad ids.

    Field-level checks (negative credits, min_years > max_years) are the models' own; these are what only the whole
    catalog can tell.
    """
    problems: list[str] = []
    for name, key_of in _ENTRY_KEYS.items():
        seen: dict[tuple, int] = {}
        for i, entry in enumerate(getattr(catalog, name)):
            key = key_of(entry) + (_since(entry),)
            if key in seen:
                problems.append(f"{name}[{i}]: duplicate {'/'.join(key[:-1])} valid from "
                                f"{entry.valid_from or 'the start'} (first at {name}[{seen[key]}])")
            else:
                seen[key] = i
    institutions = {e.code for e in catalog.institutions}
    alliances = {e.code for e in catalog.alliances}
    courses = {(e.institution, e.code) for e in catalog.courses}
    categories: dict[str, set[str]] = defaultdict(set)
    for c in catalog.courses:
        categories[c.institution].add(c.category)

    def need_institution(path: str, code: str) -> None:
        if code not in institutions:
            problems.append(f"{path}: unknown institution {code!r}")

    def need_course(path: str, institution: str, code: str) -> None:
        if (institution, code) not in courses:
            problems.append(f"{path}: unknown course {code!r} at {institution}")

    for i, a in enumerate(catalog.alliances):
        for j, m in enumerate(a.members):
            need_institution(f"alliances[{i}].members[{j}].institution", m.institution)
    for i, c in enumerate(catalog.courses):
        need_institution(f"courses[{i}].institution", c.institution)
    for i, p in enumerate(catalog.programs):
        need_institution(f"programs[{i}].institution", p.institution)
        ids: dict[str, str] = {}
        for path, node in walk_requirements(p.requirements, f"programs[{i}].requirements"):
            if node.id in ids:
                problems.append(f"{path}.id: duplicate requirement id {node.id!r} (first at {ids[node.id]})")
            else:
                ids[node.id] = path
            if isinstance(node, (CoursesRequirement, HoursRequirement)) and node.max_external is not None:
                problems.append(f"{path}.max_external: limits credit pools only (a `credits` requirement); a "
                                "course list or hour pool takes no max_external")
            if isinstance(node, CoursesRequirement):
                for j, code in enumerate(node.courses):
                    need_course(f"{path}.courses[{j}]", p.institution, code)
            elif isinstance(node, (CreditsRequirement, HoursRequirement)):
                for j, code in enumerate(node.from_.courses or ()):
                    need_course(f"{path}.from.courses[{j}]", p.institution, code)
                if node.from_.category is not None and node.from_.category not in categories[p.institution]:
                    problems.append(f"{path}.from.category: no course of {p.institution} is in category "
                                    f"{node.from_.category!r}")
    for i, ag in enumerate(catalog.agreements):
        if ag.alliance is not None and ag.alliance not in alliances:
            problems.append(f"agreements[{i}].alliance: unknown alliance {ag.alliance!r}")
        for j, party in enumerate(ag.parties):
            need_institution(f"agreements[{i}].parties[{j}]", party)
        for j, eq in enumerate(ag.equivalences):
            for side_name, side in (("from", eq.from_), ("to", eq.to)):
                path = f"agreements[{i}].equivalences[{j}].{side_name}"
                need_institution(f"{path}.institution", side.institution)
                for k, code in enumerate(side.courses or ()):
                    need_course(f"{path}.courses[{k}]", side.institution, code)
            if eq.from_.institution == eq.to.institution:
                problems.append(f"agreements[{i}].equivalences[{j}]: both sides are at {eq.to.institution}")
    for i, rule in enumerate(catalog.conversion_rules):
        need_institution(f"conversion_rules[{i}].institution", rule.institution)
        for k, code in enumerate(rule.target.courses or ()):
            need_course(f"conversion_rules[{i}].target.courses[{k}]", rule.institution, code)
    return problems


# ---------------------------------------------------------------------------------------------------------------
# Events
# ---------------------------------------------------------------------------------------------------------------


def _plausible(value: date) -> date:
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise ValueError(f"{value} is outside {EARLIEST_DATE} .. {LATEST_DATE}")
    return value


RecordDate = Annotated[date, AfterValidator(_plausible)]
"""A date in a record: 1950-01-01 .. 2199-12-31 (anything else is a typing error, not a fact)."""


class _EventBase(Frozen):
    event_id: Identifier
    """Caller-chosen and stable: re-appending the identical event is a no-op."""
    student_id: Identifier
    occurred_on: RecordDate
    recorded_by: Code | None = None
    """The recording institution; set by the ledger (``acting_as``, else the student's school)."""


class Enrolled(_EventBase):
    """入学: the student enrols in a program of an institution."""

    kind: Literal["enrolled"] = "enrolled"
    institution: Code
    program: Code
    mode: Literal["full_time", "part_time", "apprentice"] = "full_time"
    employer: Text | None = None
    entry_basis: Literal["college_graduate", "veteran", "titled_technician"] | None = None

    @model_validator(mode="after")
    def _employer(self) -> "Enrolled":
        if self.mode == "apprentice" and not (self.employer or "").strip():
            raise ValueError("an apprentice enrolment names the employer")
        return self


class Suspended(_EventBase):
    """休学: study pauses; no credits are earned until the student resumes."""

    kind: Literal["suspended"] = "suspended"
    reason: Text = ""


class Resumed(_EventBase):
    """复学: study resumes after a suspension."""

    kind: Literal["resumed"] = "resumed"
    reason: Text = ""


class Withdrawn(_EventBase):
    """退学: the student leaves the program."""

    kind: Literal["withdrawn"] = "withdrawn"
    reason: Text = ""


class ProgramChanged(_EventBase):
    """转专业: the student moves to another program of the same institution; credits stay."""

    kind: Literal["program_changed"] = "program_changed"
    program: Code
    reason: Text = ""


class CourseCompleted(_EventBase):
    """A course or module finished at the student's own school, with its grade."""

    kind: Literal["course_completed"] = "course_completed"
    institution: Code
    course: Code
    grade: Grade
    attempt: Literal["regular", "makeup", "retake"] = "regular"
    term: Text = ""
    credits: Credits | None = None
    """Default: the catalog's credits for the course version in force on ``occurred_on``."""


class CreditRecognized(_EventBase):
    """Credit earned elsewhere, recognised here under an agreement (学分互认)."""

    kind: Literal["credit_recognized"] = "credit_recognized"
    source_institution: Code
    source_course: Code
    source_credits: Credits
    source_grade: Grade
    source_date: RecordDate
    target: Target
    credits: Credits
    agreement_id: Code
    statement_id: Identifier | None = None


class OutcomeConverted(_EventBase):
    """A learning outcome (certificate, award, work, apprenticeship, online course) converted into credits."""

    kind: Literal["outcome_converted"] = "outcome_converted"
    outcome_type: OutcomeType
    outcome_id: Identifier
    title: Text
    level: Code | None = None
    target: Target
    credits: Credits
    rule_id: Code
    valid_until: RecordDate | None = None


class OutcomeRevoked(_EventBase):
    """An outcome found invalid: every conversion from it stops counting."""

    kind: Literal["outcome_revoked"] = "outcome_revoked"
    outcome_type: OutcomeType
    outcome_id: Identifier
    reason: Text = ""


class EntryReversed(_EventBase):
    """A compensating event: the target event stops counting from ``occurred_on``."""

    kind: Literal["entry_reversed"] = "entry_reversed"
    target_event_id: Identifier
    reason: Text = ""


class GradeCorrected(_EventBase):
    """The grade of a course completion is corrected from ``occurred_on``."""

    kind: Literal["grade_corrected"] = "grade_corrected"
    target_event_id: Identifier
    grade: Grade
    reason: Text = ""


class ExceptionGranted(_EventBase):
    """A registrar's decision, as data: waive a requirement, or substitute a course, by requirement id."""

    kind: Literal["exception_granted"] = "exception_granted"
    program: Code | None = None
    requirement_id: Code
    action: Literal["waive", "substitute"]
    course: Code | None = None
    """For ``substitute``: the course that counts instead."""
    replaces: Code | None = None
    """For ``substitute``: the required course it stands for."""
    reason: Text = ""

    @model_validator(mode="after")
    def _substitute(self) -> "ExceptionGranted":
        if self.action == "substitute" and (self.course is None or self.replaces is None):
            raise ValueError("a substitution names the course that counts and the course it replaces")
        if self.action == "waive" and (self.course is not None or self.replaces is not None):
            raise ValueError("a waiver names no course")
        return self


class Graduated(_EventBase):
    """The award at the end of study: 毕业 (graduation), 结业 (completion) or 肄业 (partial study)."""

    kind: Literal["graduated"] = "graduated"
    award: Literal["graduation", "completion", "partial_study"]
    program: Code | None = None
    part_time: bool = False


Event = Annotated[
    Union[
        Enrolled, Suspended, Resumed, Withdrawn, ProgramChanged, CourseCompleted, CreditRecognized,
        OutcomeConverted, OutcomeRevoked, EntryReversed, GradeCorrected, ExceptionGranted, Graduated,
    ],
    Field(discriminator="kind"),
]
"""Any event; ``EVENT_ADAPTER.validate_python(data)`` reads one from plain data."""

EVENT_ADAPTER: TypeAdapter[Any] = TypeAdapter(Event)

EVENT_CLASSES: dict[str, type[_EventBase]] = {
    cls.model_fields["kind"].default: cls
    for cls in (Enrolled, Suspended, Resumed, Withdrawn, ProgramChanged, CourseCompleted, CreditRecognized,
                OutcomeConverted, OutcomeRevoked, EntryReversed, GradeCorrected, ExceptionGranted, Graduated)
}

STATUS_KINDS = frozenset({"enrolled", "suspended", "resumed", "withdrawn", "program_changed", "graduated"})
"""Kinds that change a student's status; they are recorded in date order."""

KIND_RANK = {
    "enrolled": 0, "resumed": 1, "program_changed": 2, "course_completed": 3, "credit_recognized": 4,
    "outcome_converted": 5, "grade_corrected": 6, "outcome_revoked": 7, "entry_reversed": 8,
    "exception_granted": 9, "graduated": 10, "suspended": 11, "withdrawn": 12,
}
"""Replay order within a day: enrolment first, then study, corrections, and last what ends study that day."""


# ---------------------------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------------------------


class Issue(Frozen):
    """A refusal or a warning: a stable machine ``code`` and a sentence naming the student, the record and the rule."""

    code: str
    message: str
    event_id: str | None = None
    student_id: str | None = None


class Receipt(Frozen):
    """What an append wrote: the ledger-wide sequence number and the event's hash."""

    seq: int
    event_id: str
    event_hash: str


class Receipts(Sequence[Receipt]):
    """The receipts of one ``append_many``, one per event given, in the order given.

    A read-only sequence that makes each ``Receipt`` when it is read: a bulk load of a million events need not
    build a million objects nobody looks at. It compares equal to any sequence of the same receipts.
    """

    __slots__ = ("_seqs", "_ids", "_hashes")

    def __init__(self, seqs: Sequence[int], event_ids: Sequence[str], hashes: Sequence[str]):
        if not len(seqs) == len(event_ids) == len(hashes):
            raise ValueError("receipts need as many seqs, event ids and hashes")
        self._seqs, self._ids, self._hashes = seqs, event_ids, hashes

    def __len__(self) -> int:
        return len(self._seqs)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        return Receipt(seq=self._seqs[index], event_id=self._ids[index], event_hash=self._hashes[index])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, (str, bytes)):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other))

    def __repr__(self) -> str:
        return f"Receipts({list(self)!r})"

    def to_list(self) -> list[Receipt]:
        """The receipts as a plain list."""
        return list(self)


class CreditRecord(Frozen):
    """One counted course or outcome of a student's transcript."""

    course: str | None
    """The course code (home or target course); ``None`` for category credit."""
    institution: str
    title: str
    category: str
    tags: tuple[str, ...] = ()
    mode: str = "classroom"
    level: str | None = None
    credits: Decimal
    hours: Decimal | None = None
    """Class hours (from the catalog course), for hour pools; ``None``: credits × the policy's hours per credit."""
    grade: str | None = None
    score: Decimal | None = None
    grade_points: Decimal | None = None
    attempt: Literal["regular", "makeup", "retake"] | None = None
    flagged: bool = False
    """True for a make-up pass counted at the make-up score."""
    origin: Literal["home", "recognized", "converted"]
    event_id: str
    occurred_on: date
    valid_until: date | None = None
    outcome_id: str | None = None
    outcome_type: str | None = None
    """For a converted record: certificate, competition, work_experience, apprenticeship or online_course."""
    source_institution: str | None = None
    """For a recognised record: the school where the credit was earned."""
    statement_id: str | None = None
    """For a recognised record: the transfer statement it came from, if any."""
    rule: str | None = None
    """For an external record: the agreement (recognised) or conversion rule (converted) it was decided by."""


class Transcript(Frozen):
    """The effective credit records of a student: best attempt per course, reversals and corrections applied."""

    student_id: str
    as_of: date | None = None
    records: tuple[CreditRecord, ...] = ()

    @property
    def total(self) -> Decimal:
        """The sum of the records' credits."""
        return sum((r.credits for r in self.records), Decimal(0))


class Balance(Frozen):
    """Effective credits of a student: in total, by origin (home / recognized / converted) and by category."""

    student_id: str
    as_of: date | None = None
    total: Decimal
    by_origin: dict[str, Decimal]
    by_category: dict[str, Decimal]


class VerifyReport(Frozen):
    """The result of re-checking every stored row against its hash chain and the ledger-wide checkpoints."""

    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str | None = None
