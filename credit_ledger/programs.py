"""Programs of study (专业) and their requirement trees (毕业要求): the catalog entry an audit judges a student by.

A requirement is a tree: ``all`` of its children, any ``pick`` of them, or a leaf (listed ``courses``, at least so many
``credits`` or ``hours`` from the records a ``Filter`` takes). In YAML a node says which it is by its one key, and
``walk_requirements`` is the one walk of a tree (the catalog's checks, the append checks, the audit and the registrar's
exceptions all use it), each node with its key path:

>>> root = AllRequirement.model_validate({"id": "root", "all": [
...     {"id": "core", "courses": ["MECH101", "CNC201"]},
...     {"id": "electives", "pick": 1, "of": [{"id": "el-a", "courses": ["EL101"]},
...                                           {"id": "el-b", "credits": 4, "from": {"tag": "digital"}}]}]})
>>> [(path, node.id) for path, node in walk_requirements(root)]  # doctest: +NORMALIZE_WHITESPACE
[('requirements', 'root'), ('requirements.all[0]', 'core'), ('requirements.all[1]', 'electives'),
 ('requirements.all[1].of[0]', 'el-a'), ('requirements.all[1].of[1]', 'el-b')]
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Iterable, Literal, Union

from pydantic import Discriminator, Field, Tag, model_validator

from .base import Code, Credits, Frozen, Policy, Text, Versioned, Years

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
_NODE_CLASSES: dict[type, str] = {
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


class Program(Versioned):
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
