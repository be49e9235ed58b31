"""The catalog (目录): institutions, alliances (技工教育联盟), courses, programs, recognition agreements and conversion
rules, each versioned by ``valid_from``, with the look-ups every rule uses.

A record is judged by the version of an entry in force on its day: a record made on 2025-03-01 by the version of its
course or program in force then. ``program_in_force`` is the one rule for "which program applies": the version in
force on the day, else (a day before its first version, or no day) the latest:

>>> catalog = Catalog.sample()
>>> c = catalog.course("HNJX", "MECH101", date(2025, 9, 1))
>>> c.title, c.credits
('机械制图', Decimal('4.00'))
>>> program_in_force(catalog, "HNJX", "CNC-SR-2025", date(1990, 1, 1)).code
'CNC-SR-2025'

Loading a catalog (``Catalog.from_file``) checks every entry, and what only the whole catalog can tell
(``catalog_problems``: duplicates, unknown references, bad requirement ids); a bad one raises ``CatalogError`` with one
line per problem naming its key path. Programs and their requirement trees are defined in ``programs``.
"""

from __future__ import annotations

import bisect
import json
from collections import defaultdict
from datetime import date
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Callable, Literal

from pydantic import Field, ValidationError, model_validator

from .base import DEFAULT_POLICY, Code, Credits, Frozen, Grade, Hours, Text, Versioned, quantize_credits
from .errors import CatalogError
from .programs import (
    AllRequirement,
    CoursesRequirement,
    CreditsRequirement,
    Filter,
    HoursRequirement,
    PickRequirement,
    Program,
    Requirement,
    requirement_children,
    walk_requirements,
)
from .terms import DEFAULT_TERMS, Term, course_order_problems, term_problems

__all__ = [
    "ENTRY_KEYS", "Agreement", "AllRequirement", "Alliance", "Catalog", "ConversionRule", "Course",
    "CoursesRequirement", "CreditsRequirement", "Equivalence", "EquivalenceSide", "Filter", "HoursRequirement",
    "Institution", "Membership", "OutcomeType", "PickRequirement", "Program", "Requirement", "RuleTarget", "Target",
    "catalog_problems", "in_force_from", "program_in_force", "requirement_children", "walk_requirements",
]

# ---------------------------------------------------------------------------------------------------------------
# Catalog entries
# ---------------------------------------------------------------------------------------------------------------


class Institution(Versioned):
    """A school (技工院校) or another body that records or issues credits."""

    code: Code
    name: Text
    kind: Literal["technician_college", "senior_technical_school", "technical_school", "enterprise", "other"] = (
        "technical_school"
    )
    region: Text | None = None
    terms: tuple[Term, ...] = DEFAULT_TERMS
    """The school's terms (学期), by default 秋季 09-01..01-20 and 春季 03-01..07-10 (``credit_ledger.terms``)."""
    practice_week_hours: Annotated[Decimal, Field(gt=0, le=168, decimal_places=1)] = Decimal(30)
    """The class hours a week of practice (实习实训周) takes from a term's study hours, for planning."""

    @model_validator(mode="after")
    def _terms(self) -> "Institution":
        problems = term_problems(self.terms, "terms")
        if problems:
            raise ValueError("\n".join(problems))
        return self


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


class Alliance(Versioned):
    """A technical-education alliance (技工教育联盟) whose members recognise each other's credits."""

    code: Code
    name: Text
    members: tuple[Membership, ...] = ()

    def is_member(self, institution: str, on: date) -> bool:
        """True when ``institution`` was a member on ``on``."""
        return any(m.institution == institution and m.covers(on) for m in self.members)


class Course(Versioned):
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
    prerequisites: tuple[Code, ...] = ()
    """Courses of the same school finished in an earlier term (先修课程)."""
    offered: tuple[Text, ...] = ()
    """The names of the terms the course runs in; empty: every term of its school."""

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


class Agreement(Versioned):
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


class ConversionRule(Versioned):
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

ENTRY_KEYS: dict[str, Callable[[Any], tuple]] = {
    "institutions": lambda e: (e.code,),
    "alliances": lambda e: (e.code,),
    "courses": lambda e: (e.institution, e.code),
    "programs": lambda e: (e.institution, e.code),
    "agreements": lambda e: (e.id,),
    "conversion_rules": lambda e: (e.id,),
}
"""Per catalog section, what names an entry (its versions share it): ``ENTRY_KEYS["courses"](course)`` is
``(institution, code)``. With ``in_force_from`` it names one version."""


def in_force_from(entry: Versioned) -> date:
    """The first day a catalog entry's version is in force (``date.min`` when it always was)."""
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
        for name, key_of in ENTRY_KEYS.items():
            seen: dict[tuple, Any] = {}
            for entry in getattr(self, name) + getattr(other, name):
                key = key_of(entry) + (in_force_from(entry),)
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
        if all(len(merged[n]) == len(getattr(self, n)) for n in ENTRY_KEYS):
            return self
        return Catalog(**{n: tuple(v) for n, v in merged.items()})

    # -- look-ups -----------------------------------------------------------------------------------------------

    @cached_property
    def _index(self) -> dict[str, dict[tuple, tuple[list[date], list[Any]]]]:
        index: dict[str, dict[tuple, tuple[list[date], list[Any]]]] = {}
        for name, key_of in ENTRY_KEYS.items():
            groups: dict[tuple, list[Any]] = defaultdict(list)
            for entry in getattr(self, name):
                groups[key_of(entry)].append(entry)
            index[name] = {}
            for key, entries in groups.items():
                entries.sort(key=in_force_from)
                index[name][key] = ([in_force_from(e) for e in entries], entries)
        return index

    @cached_property
    def _memo(self) -> dict[Any, Any]:
        """Values derived from this (immutable) catalog by hot paths (the replay's record templates), kept with it
        so that a batch computes them once."""
        return {}

    def derived(self, name: str, build: Callable[[], Any]) -> Any:
        """A value derived from this catalog, built by ``build()`` the first time it is asked for and kept with the
        catalog (which never changes) for the next: a cache that lives on the value it derives from, so that a
        portal's many ledgers share nothing mutable."""
        memo = self._memo
        found = memo.get(name)
        if found is None:
            found = memo[name] = build()
        return found

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

    def course_versions(self, institution: str, code: str) -> tuple[list[date], list[Course]]:
        """Every version of a course, oldest first, with the first day each is in force (``in_force_from``); two
        empty lists for a course not in the catalog. Do not change them (they are the catalog's index)."""
        return self._index["courses"].get((institution, code)) or ([], [])

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
    for name, key_of in ENTRY_KEYS.items():
        seen: dict[tuple, int] = {}
        for i, entry in enumerate(getattr(catalog, name)):
            key = key_of(entry) + (in_force_from(entry),)
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
    problems += _course_order_problems(catalog, courses)
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



def _course_order_problems(catalog: Catalog, courses: set[tuple[str, str]]) -> list[str]:
    """Prerequisites and offered terms: each prerequisite a known course of the same school (not the course itself),
    each offered term one of the school's terms, and no prerequisite cycle (``credit_ledger.terms``)."""
    problems: list[str] = []
    term_names: dict[str, set[str]] = defaultdict(set)
    for school in catalog.institutions:
        term_names[school.code].update(t.name for t in school.terms)
    graphs: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for i, c in enumerate(catalog.courses):
        for j, code in enumerate(c.prerequisites):
            where = f"courses[{i}].prerequisites[{j}]"
            if code == c.code:
                problems.append(f"{where}: {c.institution}/{c.code} cannot require itself")
            elif (c.institution, code) not in courses:
                problems.append(f"{where}: unknown course {code!r} at {c.institution} (a prerequisite is a course "
                                "of the same school)")
            else:
                graphs[c.institution][c.code].add(code)
        known = term_names.get(c.institution)
        for j, name in enumerate(c.offered):
            if known is not None and name not in known:
                problems.append(f"courses[{i}].offered[{j}]: {c.institution} has no term {name!r} (its terms: "
                                f"{', '.join(sorted(known))})")
    for code in sorted(graphs):
        problems += course_order_problems(graphs[code], code, path="courses")
    return problems
