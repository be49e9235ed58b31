"""A program's requirement tree (毕业要求) evaluated over a student's records.

Every requirement of the tree holds or not: a course list (课程) when each listed course is covered, a credit pool
(学分) when the records counted toward it hold its credits (of them, recognised and converted ones up to the pool's
``max_external``), an hour pool (学时) when the records it matches hold its hours (per study year when
``per_year``), an ``all`` node when every child holds, a ``pick n`` node when n children hold. A record counts
toward at most one leaf that is not ``shared`` (``credit_ledger.allocation`` chooses which, for the least total
shortfall); a shared leaf counts every record it matches, beside the others.

>>> from datetime import date
>>> from credit_ledger.models import Catalog, CreditRecord
>>> cat = Catalog.sample()
>>> program = cat.program("HNJX", "CNC-TECH-2025")
>>> def rec(code, credits, category="core"):
...     return CreditRecord(course=code, institution="HNJX", title=code, category=category,
...                         credits=credits, origin="home", event_id=code, occurred_on=date(2026, 1, 1))
>>> tree, how = evaluate(program, [rec("TEC401", 6), rec("TEC402", 4), rec("TEC403", 16, "practice")],
...                      as_of=date(2026, 7, 1), catalog=cat)
>>> [(c.id, c.satisfied, str(c.shortfall)) for c in tree.children], how
([('core', True, '0.00'), ('practice', True, '0.00'), ('more', False, '14.00')], 'greedy')

Here the tree is what the allocation sees (``RequirementTree``: its leaves, shared leaves, hour pools, and where
each kind of record may count), the problem it is given (``build_plan``), and the results built from its answer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any, Iterable, Mapping, NamedTuple, Sequence

from .allocation import Allocation, Leaf, Place, Problem, solve
from .dates import DAYS_PER_YEAR, days_to_years
from .errors import CatalogError
from .models import (
    CENT,
    AllRequirement,
    Catalog,
    CoursesRequirement,
    CreditRecord,
    Filter,
    HoursRequirement,
    PickRequirement,
    Policy,
    Program,
    requirement_children,
    walk_requirements,
)
from .reports import ZERO, Allocated, RequirementResult


def cents(value: Decimal) -> int:
    """Credits in whole cents, rounded up (what a requirement needs).

    >>> cents(Decimal("2.5")), cents(Decimal("0.001"))
    (250, 1)
    """
    return int((value * 100).to_integral_value(ROUND_CEILING))


def cents_down(value: Decimal) -> int:
    """Credits in whole cents, rounded down (what a cap lets count)."""
    return int((value * 100).to_integral_value(ROUND_FLOOR))


def credits_of(value: int) -> Decimal:
    """Cents as credits, to the cent."""
    return (Decimal(value) / 100).quantize(CENT)


def matches(record: CreditRecord, flt: Filter, course: str | None) -> bool:
    """Whether a pool's filter takes a record (``course``: the record's course, or the course it stands for)."""
    if flt.category is not None and record.category != flt.category:
        return False
    if flt.tag is not None and flt.tag not in record.tags:
        return False
    if flt.courses is not None and course not in flt.courses:
        return False
    if flt.origin is not None and record.origin != flt.origin:
        return False
    if flt.level is not None and record.level != flt.level:
        return False
    if flt.mode is not None and record.mode != flt.mode:
        return False
    return True


# ---------------------------------------------------------------------------------------------------------------
# The tree as the allocation sees it
# ---------------------------------------------------------------------------------------------------------------


class RequirementTree:
    """A program's requirement tree as the allocation sees it, for one day's catalog, waivers and substitutions: the
    leaves records are allocated to, the shared leaves, the hour pools, and which leaves a record may count toward
    (decided once per kind of record: course, category, tags, origin, level and mode). Read-only once built, but
    for that memo of places (see ``requirement_tree``).

    Raises:
        CatalogError: two nodes of the tree share an id (a catalog refuses such a program; one built outside a
            catalog is refused here, as nodes are known by their ids).
    """

    def __init__(self, program: Program, catalog: Catalog | None, as_of: date, waived: set[str],
                 substitutes: Mapping[str, Mapping[str, str]]):
        self.leaves: list[Leaf] = []
        self.leaf_of: dict[str, Leaf] = {}
        """Requirement id -> its leaf (the leaves that are not shared)."""
        self.waived: dict[str, int] = {}
        """Requirement id -> 0 for waived nodes (and everything under them)."""
        self.shared: list[Leaf] = []
        self.hours: list[HoursRequirement] = []
        self.matchable: list[tuple[Leaf, Mapping[str, str], int]] = []
        """Leaves in tree order (shared ones too) with the substitutions of their requirement and, for a shared
        leaf, its position in ``shared`` (else -1)."""
        self._eligible: dict[tuple, tuple[tuple[Place, ...], tuple[tuple[int, int], ...]]] = {}

        def course_cost(code: str) -> int:
            course = catalog.course(program.institution, code, as_of) if catalog is not None else None
            return max(1, cents(course.credits)) if course is not None else 100

        under_waiver: set[str] = set()  # the walk is depth first, so a node's waiver is known before its children
        first_at: dict[str, str] = {}  # requirement id -> where it first appears
        for path, node in walk_requirements(program.requirements):
            if node.id in first_at:  # the maps here and in the allocation are keyed by requirement id
                raise CatalogError([f"{path}.id: duplicate requirement id {node.id!r} (first at {first_at[node.id]})"],
                                   source=f"program {program.institution}/{program.code}")
            first_at[node.id] = path
            kids = requirement_children(node)
            if node.id in under_waiver or node.id in waived:
                self.waived[node.id] = 0
                under_waiver.update(child.id for child in kids)
                continue
            if kids or isinstance(node, (AllRequirement, PickRequirement)):
                continue
            if isinstance(node, HoursRequirement):
                self.hours.append(node)
                continue
            cap = None if node.max_external is None else cents(node.max_external)
            if isinstance(node, CoursesRequirement):
                leaf = Leaf(-1, node, "courses", codes=node.courses, cost=tuple(course_cost(c) for c in node.courses),
                            cap=cap)
            else:
                leaf = Leaf(-1, node, "credits", need=cents(node.credits), cap=cap)
            position = -1
            if node.shared:
                position = len(self.shared)
                self.shared.append(leaf)
            else:
                leaf.index = len(self.leaves)
                self.leaves.append(leaf)
                self.leaf_of[node.id] = leaf
            self.matchable.append((leaf, substitutes.get(node.id, {}), position))

    def eligible(self, record: CreditRecord) -> tuple[tuple[Place, ...], tuple[tuple[int, int], ...]]:
        """Where a record may count: the places in leaves that are not shared, and (position in ``shared``, slot)
        in the shared ones; slot is the course's place in a course list, else 0."""
        key = (record.course, record.category, record.tags, record.origin, record.level, record.mode)
        found = self._eligible.get(key)
        if found is None:
            options: list[Place] = []
            shared: list[tuple[int, int]] = []
            for leaf, subs, position in self.matchable:
                code = subs.get(record.course or "", record.course)
                if leaf.kind == "courses":
                    if code is None or code not in leaf.codes:
                        continue
                    slot = leaf.codes.index(code)
                elif matches(record, leaf.node.from_, code):
                    slot = 0
                else:
                    continue
                if position < 0:
                    options.append(Place(leaf.index, slot))
                else:
                    shared.append((position, slot))
            found = self._eligible[key] = (tuple(options), tuple(shared))
        return found


_TREES_KEPT = 64
"""Trees kept per catalog (programs times audit days) before the memo starts over."""


def requirement_tree(program: Program, catalog: Catalog | None, as_of: date, waived: set[str],
                     substitutes: Mapping[str, Mapping[str, str]]) -> RequirementTree:
    """The program's ``RequirementTree`` on ``as_of``, kept between audits when nothing is waived or substituted.

    What it saves: a batch of audits of one program builds the tree once per day, and decides once per kind of
    record where it may count (``RequirementTree.eligible``), instead of walking the tree and matching every record
    against every leaf in each audit.

    What keeps it safe: the tree is read-only once built but for that memo of places, which depends on the tree
    alone; it is kept on the immutable values it derives from, never in a global. With a catalog (whose course
    credits on ``as_of`` price a course list's missing courses), in the catalog's memo (``Catalog._memo``), under
    the program's identity and the day, holding the program so that its identity is not reused while kept; without
    one (the tree then depends on the requirements alone), on the program itself, as ``cached_property`` keeps a
    value, with the requirement tree it was built from (a copy of the program with other requirements rebuilds).
    """
    if waived or substitutes:
        return RequirementTree(program, catalog, as_of, waived, substitutes)
    if catalog is None:
        kept_here = program.__dict__.get(_TREE_ON_PROGRAM)
        if kept_here is not None and kept_here[0] is program.requirements:
            return kept_here[1]
        tree = RequirementTree(program, None, as_of, waived, substitutes)
        program.__dict__[_TREE_ON_PROGRAM] = (program.requirements, tree)
        return tree
    trees = catalog._memo.get(_TREES_IN_CATALOG)
    if trees is None:
        trees = catalog._memo[_TREES_IN_CATALOG] = {}
    key = (id(program), as_of)
    kept = trees.get(key)
    if kept is not None and kept[0] is program:
        return kept[1]
    tree = RequirementTree(program, catalog, as_of, waived, substitutes)
    if len(trees) >= _TREES_KEPT:
        trees.clear()
    trees[key] = (program, tree)
    return tree


_TREES_IN_CATALOG = "requirement_trees"
_TREE_ON_PROGRAM = "_requirement_tree"


# ---------------------------------------------------------------------------------------------------------------
# Hour pools
# ---------------------------------------------------------------------------------------------------------------


class HourPool(NamedTuple):
    """An hour pool over a student's records: hours needed and counted, the records it takes, and notes."""

    needed: Decimal
    counted: Decimal
    records: list[int]
    notes: tuple[str, ...]


def _hours_of(record: CreditRecord, policy: Policy) -> Decimal:
    return record.hours if record.hours is not None else record.credits * policy.hours_per_credit


def hour_pool(node: HoursRequirement, records: Sequence[CreditRecord], policy: Policy,
              study: Sequence[tuple[date, date]] | None, standard_years: Decimal) -> HourPool:
    """An hour pool evaluated. ``per_year``: every year of study (from enrolment, suspended time left out) needs the
    hours, the current part-year in proportion, up to the program's standard length (a student who stays on after
    it owes no more hours)."""
    chosen = [i for i, r in enumerate(records) if matches(r, node.from_, r.course)]
    if not node.per_year or not study:
        counted = sum((_hours_of(records[i], policy) for i in chosen), Decimal(0))
        return HourPool(node.hours, counted, chosen, ())
    # study years: consecutive stretches of DAYS_PER_YEAR days of study time
    total_days = sum((end - start).days for start, end in study)
    years = max(1, math.ceil(days_to_years(total_days))) if total_days > 0 else 1
    years = min(years, max(1, math.ceil(standard_years)))
    got = [Decimal(0)] * years
    for i in chosen:
        day = records[i].occurred_on
        offset = 0
        for start, end in study:
            if day < start:
                break
            offset += (min(day, end) - start).days
            if day < end:
                break
        got[min(years - 1, int(days_to_years(offset)))] += _hours_of(records[i], policy)
    needed = Decimal(0)
    counted = Decimal(0)
    notes = []
    for y in range(years):
        share = min(Decimal(1), (Decimal(total_days) - y * DAYS_PER_YEAR) / DAYS_PER_YEAR) if total_days else Decimal(1)
        share = max(share, Decimal(0))
        need_y = (node.hours * share).quantize(Decimal("0.1"), ROUND_CEILING)
        needed += need_y
        counted += min(got[y], need_y)
        notes.append(f"study year {y + 1}: {got[y]} of {need_y} hours")
    return HourPool(needed, counted, chosen, tuple(notes))


# ---------------------------------------------------------------------------------------------------------------
# The problem, and the results of its answer
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class Plan:
    """What the tree needs to know to build results once the allocation is chosen. Maps are keyed by requirement
    id."""

    problem: Problem
    records: list[CreditRecord]
    substitutes: dict[str, dict[str, str]]
    shared_records: dict[str, list[int]]
    shared_leaves: dict[str, Leaf]
    hours: dict[str, HourPool]
    shared_external: dict[str, int]
    """Per shared credit pool: the recognised or converted cents it counts (within its ``max_external`` and the
    program's caps that bind)."""
    members: dict[int, list[int]] | None = None
    """Once the allocation is chosen: per leaf index, its records in date order (then event id)."""
    rank: list[int] | None = None
    """Per record, its place in date order (then event id)."""


def build_plan(program: Program, records: list[CreditRecord], *, policy: Policy, catalog: Catalog | None,
               as_of: date, waived: set[str], substitutes: dict[str, dict[str, str]],
               study: Sequence[tuple[date, date]] | None, limits: list[tuple[list[int], int]] | None = None
               ) -> Plan:
    """The allocation problem of ``records`` (in that order) under the program's tree, with what the results need:
    the shared leaves' records and shortfalls, the hour pools. ``limits``: program-wide caps that bind, as (record
    indices, cents)."""
    tree = requirement_tree(program, catalog, as_of, waived, substitutes)
    limits = limits or []
    credits = [cents(r.credits) for r in records]
    external = [r.origin != "home" for r in records]
    options: list[list[Place]] = []
    shared_members: list[list[tuple[int, int]]] = [[] for _ in tree.shared]
    for i, r in enumerate(records):
        opts, shared = tree.eligible(r)
        options.append(list(opts))
        for k, slot in shared:
            shared_members[k].append((i, slot))
    fixed = dict(tree.waived)
    shared_records: dict[str, list[int]] = {}
    shared_leaves: dict[str, Leaf] = {}
    shared_external: dict[str, int] = {}
    for leaf, members in zip(tree.shared, shared_members, strict=True):
        # a shared leaf counts every record it can use, beside whatever else counts them; of the recognised and
        # converted ones, no more than its own cap and the program's caps let count
        node_id = leaf.node.id
        if leaf.kind == "credits":
            home = sum(credits[i] for i, _ in members if not external[i])
            ext = within_limits({i: credits[i] for i, _ in members if external[i]}, limits)
            if leaf.cap is not None:
                ext = min(ext, leaf.cap)
            shared_external[node_id] = ext
            fixed[node_id] = max(0, leaf.need - home - ext)
        else:
            filled = {slot for _, slot in members}
            fixed[node_id] = sum(c for k, c in enumerate(leaf.cost) if k not in filled)
        shared_records[node_id] = [i for i, _ in members]
        shared_leaves[node_id] = leaf
    hours: dict[str, HourPool] = {}
    for node in tree.hours:
        hours[node.id] = hour_pool(node, records, policy, study, program.standard_years)
        fixed[node.id] = 0  # hours are not credits: an hour pool never adds to the credit shortfall
    problem = Problem(tree.leaves, credits, external, options, program.requirements, tree.leaf_of, fixed, limits)
    return Plan(problem, records, substitutes, shared_records, shared_leaves, hours, shared_external)


def within_limits(given: Mapping[int, int], limits: Sequence[tuple[Sequence[int], int]]) -> int:
    """The most of the records' cents ``given`` (record -> cents) that can count together when each limit (records,
    cents) caps what its records count. The program's limits nest (online recognised or converted credits are
    among the recognised or converted ones), so each is applied, smallest first, to what the smaller ones inside it
    left.

    >>> within_limits({0: 300, 1: 200, 2: 100}, [([0, 1, 2], 400), ([1, 2], 150)])
    400
    """
    units: list[tuple[frozenset[int], int]] = [(frozenset({i}), c) for i, c in given.items()]
    for members, cap in sorted(limits, key=lambda limit: len(limit[0])):
        inside = frozenset(members)
        within = [u for u in units if u[0] <= inside]
        if within:
            units = [u for u in units if not u[0] <= inside]
            units.append((frozenset().union(*(u[0] for u in within)), min(cap, sum(u[1] for u in within))))
    return sum(c for _, c in units)


_allocated = Allocated.of_record  # looked up once: a result makes one per record counted


def _result(plan: Plan, node: Any, allocation: Allocation, waived_ids: set[str], under_waiver: bool = False
            ) -> RequirementResult:
    """A node of the tree evaluated under the allocation chosen (its children too)."""
    problem = plan.problem
    node_id = node.id
    waived = under_waiver or node_id in waived_ids
    title = node.title
    if isinstance(node, (AllRequirement, PickRequirement)):
        kids = node.all if isinstance(node, AllRequirement) else node.of
        children = tuple(_result(plan, c, allocation, waived_ids, waived) for c in kids)
        if isinstance(node, AllRequirement):
            needed = len(children)
            shortfall = sum((c.shortfall for c in children if c.unit != "hours"), ZERO)
            chosen: tuple[str, ...] = ()
            met = sum(1 for c in children if c.satisfied)
            satisfied = waived or met == needed
        else:
            needed = node.pick
            order = sorted(range(len(children)),
                           key=lambda i: (not children[i].satisfied,
                                          children[i].shortfall if children[i].unit != "hours" else ZERO, i))
            picked = sorted(order[:node.pick])
            chosen = tuple(children[i].id for i in picked)
            shortfall = sum((children[i].shortfall for i in picked if children[i].unit != "hours"), ZERO)
            met = sum(1 for c in children if c.satisfied)
            satisfied = waived or met >= needed
        if waived:
            shortfall = ZERO
        return RequirementResult.trusted(
            id=node_id, title=title, kind="all" if isinstance(node, AllRequirement) else "pick", satisfied=satisfied,
            needed=Decimal(needed), counted=Decimal(min(met, needed)), unit="requirements", shortfall=shortfall,
            children=children, chosen=chosen, waived=waived)
    if isinstance(node, HoursRequirement):
        pool = plan.hours.get(node_id) or HourPool(node.hours, Decimal(0), [], ())
        recs = tuple(_allocated(plan.records[i]) for i in pool.records)
        satisfied = waived or pool.counted >= pool.needed
        return RequirementResult.trusted(
            id=node_id, title=title, kind="hours", satisfied=satisfied, needed=pool.needed, counted=pool.counted,
            unit="hours", shortfall=ZERO if satisfied else pool.needed - pool.counted, records=recs,
            shared=node.shared, waived=waived, notes=pool.notes)
    subs = plan.substitutes.get(node_id, {})
    shared = node.shared
    leaf = problem.leaf_of.get(node_id) or plan.shared_leaves.get(node_id)
    # the leaf's records in date order (then event id)
    records = plan.records
    by_date: Any = plan.rank.__getitem__ if plan.rank is not None else (
        lambda i: (records[i].occurred_on, records[i].event_id))
    if shared or leaf is None:
        members = sorted(plan.shared_records.get(node_id, []), key=by_date)
    elif plan.members is not None:
        members = plan.members.get(leaf.index, [])
    else:
        members = sorted((i for i, a in enumerate(allocation.places) if a is not None and a[0] == leaf.index),
                         key=by_date)
    if isinstance(node, CoursesRequirement):
        by_code: dict[str, int] = {}
        for i in sorted(members, key=lambda i: (plan.records[i].origin != "home", -problem.credits[i],
                                                 plan.records[i].event_id)):
            by_code.setdefault(subs.get(plan.records[i].course or "", plan.records[i].course) or "", i)
        missing = tuple(c for c in node.courses if c not in by_code)
        cost = {c: k for k, c in enumerate(node.courses)}
        leaf_cost = leaf.cost if leaf is not None else tuple(100 for _ in node.courses)
        short = ZERO if waived else credits_of(sum(leaf_cost[cost[c]] for c in missing))
        recs = tuple(_allocated(records[i], subs.get(records[i].course or "")) for i in members)
        return RequirementResult.trusted(
            id=node_id, title=title, kind="courses", satisfied=waived or not missing,
            needed=Decimal(len(node.courses)), counted=Decimal(len(node.courses) - len(missing)), unit="courses",
            shortfall=short, records=recs, missing=() if waived else missing, shared=shared, waived=waived)
    home = sum((plan.records[i].credits for i in members if not problem.external[i]), ZERO)
    notes: tuple[str, ...] = ()
    if shared:
        ext = sum((plan.records[i].credits for i in members if problem.external[i]), ZERO)
        counts = credits_of(plan.shared_external.get(node_id, 0))
        if counts < ext:
            notes = (f"{ext} recognised or converted credits here; {counts} count (this requirement's "
                     "max_external, or the program's cap on recognised, converted or online credits)",)
        counted = (home + counts).quantize(CENT)
        short = ZERO if waived else max(ZERO, node.credits - counted).quantize(CENT)
        recs = tuple(_allocated(records[i], subs.get(records[i].course or "")) for i in members)
        return RequirementResult.trusted(
            id=node_id, title=title, kind="credits", satisfied=waived or short == 0, needed=node.credits,
            counted=counted, unit="credits", shortfall=short, records=recs, shared=shared, waived=waived,
            notes=notes)
    credited = allocation.credited
    ext = sum((credits_of(credited[i]) if i in credited else plan.records[i].credits
               for i in members if problem.external[i]), ZERO)
    trimmed = [i for i in members if i in credited]
    if trimmed:
        notes += tuple(f"{plan.records[i].event_id}: {credits_of(credited[i])} of its "
                       f"{plan.records[i].credits} credits count here (the program's cap on recognised, converted "
                       "or online credits)" for i in trimmed)
    if node.max_external is not None and ext > node.max_external:
        notes = (f"{ext} recognised or converted credits here; {node.max_external} count",)
        ext = node.max_external
    counted = (home + ext).quantize(CENT)
    short = ZERO if waived else max(ZERO, node.credits - counted).quantize(CENT)
    recs = tuple(_allocated(records[i], subs.get(records[i].course or "")) for i in members)
    return RequirementResult.trusted(
        id=node_id, title=title, kind="credits", satisfied=waived or short == 0, needed=node.credits,
        counted=counted, unit="credits", shortfall=short, records=recs, shared=shared, waived=waived, notes=notes)


class Figures(NamedTuple):
    """A node of the tree evaluated for its figures only (``evaluate_figures``): what ``RequirementResult`` says
    of it, without its records, notes and children."""

    satisfied: bool
    shortfall: Decimal
    hours: bool
    """An hour pool (its shortfall is in hours, and never adds to a parent's)."""
    unmet_leaf: bool
    """A leaf that ``requirement_unmet`` would name lies here (the node is not satisfied)."""


def _figures(plan: Plan, node: Any, allocation: Allocation, members: Mapping[int, list[int]], waived_ids: set[str],
             under_waiver: bool = False) -> Figures:
    """``_result``'s figures for a node, computed the same way (any change there is made here too: the property test
    ``tests/test_summaries.py`` holds them equal)."""
    problem = plan.problem
    node_id = node.id
    waived = under_waiver or node_id in waived_ids
    if isinstance(node, (AllRequirement, PickRequirement)):
        kids = node.all if isinstance(node, AllRequirement) else node.of
        children = [_figures(plan, c, allocation, members, waived_ids, waived) for c in kids]
        met = sum(1 for c in children if c.satisfied)
        if isinstance(node, AllRequirement):
            counted = children
            satisfied = waived or met == len(children)
        else:
            order = sorted(range(len(children)), key=lambda i: (not children[i].satisfied,
                                                                children[i].shortfall if not children[i].hours
                                                                else ZERO, i))
            counted = [children[i] for i in sorted(order[:node.pick])]
            satisfied = waived or met >= node.pick
        shortfall = ZERO if waived else sum((c.shortfall for c in counted if not c.hours), ZERO)
        return Figures(satisfied, shortfall, False, not satisfied and any(c.unmet_leaf for c in counted))
    if isinstance(node, HoursRequirement):
        pool = plan.hours.get(node_id) or HourPool(node.hours, Decimal(0), [], ())
        satisfied = waived or pool.counted >= pool.needed
        return Figures(satisfied, ZERO if satisfied else pool.needed - pool.counted, True, not satisfied)
    records = plan.records
    leaf = problem.leaf_of.get(node_id) or plan.shared_leaves.get(node_id)
    if node.shared or leaf is None:
        mine = plan.shared_records.get(node_id, [])
    else:
        mine = members.get(leaf.index, [])
    if isinstance(node, CoursesRequirement):
        subs = plan.substitutes.get(node_id, {})
        covered = {subs.get(records[i].course or "", records[i].course) or "" for i in mine}
        missing = [k for k, c in enumerate(node.courses) if c not in covered]
        leaf_cost = leaf.cost if leaf is not None else tuple(100 for _ in node.courses)
        short = ZERO if waived else credits_of(sum(leaf_cost[k] for k in missing))
        satisfied = waived or not missing
        return Figures(satisfied, short, False, not satisfied)
    home = sum((records[i].credits for i in mine if not problem.external[i]), ZERO)
    if node.shared:
        ext = credits_of(plan.shared_external.get(node_id, 0))
    else:
        credited = allocation.credited
        ext = sum((credits_of(credited[i]) if i in credited else records[i].credits
                   for i in mine if problem.external[i]), ZERO)
        if node.max_external is not None and ext > node.max_external:
            ext = node.max_external
    in_pool = (home + ext).quantize(CENT)
    short = ZERO if waived else max(ZERO, node.credits - in_pool).quantize(CENT)
    satisfied = waived or short == 0
    return Figures(satisfied, short, False, not satisfied)


def _solved(program: Program, records: Iterable[CreditRecord], *, as_of: date, policy: Policy | None,
            catalog: Catalog | None, waived: Iterable[str], substitutes: Mapping[str, Mapping[str, str]] | None,
            study: Sequence[tuple[date, date]] | None, method: str, limits: Sequence[tuple[Sequence[str], Decimal]]
            ) -> tuple[list[CreditRecord], set[str], Any, Any]:
    """What ``evaluate`` and ``evaluate_figures`` share: the records in canonical order, the waived ids, the plan
    built from the tree and its best allocation."""
    policy = policy or program.policy
    ordered = sorted(records, key=_record_key)
    subs = {k: dict(v) for k, v in (substitutes or {}).items()}
    waived_ids = set(waived)
    where = {r.event_id: i for i, r in enumerate(ordered)}
    plan = build_plan(program, ordered, policy=policy, catalog=catalog, as_of=as_of, waived=waived_ids,
                      substitutes=subs, study=study,
                      limits=[([where[e] for e in ids if e in where], cents_down(cap)) for ids, cap in limits])
    allocation = solve(plan.problem, method=method)
    return ordered, waived_ids, plan, allocation


def evaluate_figures(program: Program, records: Iterable[CreditRecord], *, as_of: date, policy: Policy | None = None,
                     catalog: Catalog | None = None, waived: Iterable[str] = (),
                     substitutes: Mapping[str, Mapping[str, str]] | None = None,
                     study: Sequence[tuple[date, date]] | None = None, method: str = "auto",
                     limits: Sequence[tuple[Sequence[str], Decimal]] = ()) -> tuple[Figures, str]:
    """``evaluate`` for the figures only: the same allocation (the same problem, solved the same way), and the
    root's satisfied, shortfall and whether an unmet leaf lies under it, without building the results of the tree
    (``RequirementResult``, the records counted, their notes): what a summary audit needs."""
    ordered, waived_ids, plan, allocation = _solved(program, records, as_of=as_of, policy=policy, catalog=catalog,
                                                    waived=waived, substitutes=substitutes, study=study,
                                                    method=method, limits=limits)
    members: dict[int, list[int]] = {}
    for i, placed in enumerate(allocation.places):
        if placed is not None:
            members.setdefault(placed[0], []).append(i)
    return _figures(plan, program.requirements, allocation, members, waived_ids), allocation.how


def evaluate(program: Program, records: Iterable[CreditRecord], *, as_of: date, policy: Policy | None = None,
             catalog: Catalog | None = None, waived: Iterable[str] = (),
             substitutes: Mapping[str, Mapping[str, str]] | None = None,
             study: Sequence[tuple[date, date]] | None = None, method: str = "auto",
             limits: Sequence[tuple[Sequence[str], Decimal]] = ()) -> tuple[RequirementResult, str]:
    """The requirement tree evaluated over records under the best allocation, and the method that found it.

    ``waived``: requirement ids that hold whatever the records; ``substitutes``: per requirement id, a map from the
    course that counts to the course it stands for; ``study``: the study periods (for hour pools per year).
    ``method``: ``auto`` (greedy when provably optimal, else branch and bound, else integer program), ``search``
    or ``milp`` (for tests). Records are put in a canonical order first, so the order given does not matter.
    ``limits``: program-wide caps that bind, as (event ids, credits): the credits of those records allocated to
    requirements stay within (the caps on recognised, converted and online credits); with any, the allocation is
    the integer program's.
    """
    ordered, waived_ids, plan, allocation = _solved(program, records, as_of=as_of, policy=policy, catalog=catalog,
                                                    waived=waived, substitutes=substitutes, study=study,
                                                    method=method, limits=limits)
    assign = allocation.places
    plan.members = {}
    plan.rank = [0] * len(ordered)
    by_date = sorted(range(len(ordered)), key=lambda i: (ordered[i].occurred_on, ordered[i].event_id))
    for place, i in enumerate(by_date):
        plan.rank[i] = place
        placed = assign[i]
        if placed is not None:
            plan.members.setdefault(placed[0], []).append(i)
    return _result(plan, program.requirements, allocation, waived_ids), allocation.how


def _record_key(r: CreditRecord) -> tuple:
    """The canonical order of records (so that the order given does not matter)."""
    return (r.occurred_on, r.course or "", r.category, r.origin, r.event_id, r.credits)

