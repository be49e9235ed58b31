"""The allocation problem (学分认定到毕业要求): which requirement each record counts toward.

A program's requirement tree, as the allocation sees it, is a set of leaves records can fill: credit pools (a need
in cents, maybe a cap on recognised and converted cents, ``max_external``) and course lists (a cost in cents per
listed course left uncovered). A record is never split: it counts toward one leaf, at one place (``Place``: the
leaf, and the course's slot in a course list or slot 0 in a pool), or nowhere. A leaf's shortfall is what it still
lacks; ``all`` nodes add their children's, ``pick n`` nodes take their n smallest. The best allocation has the
least shortfall at the root.

>>> pools = [Leaf(0, None, "credits", need=400), Leaf(1, None, "credits", need=200, cap=100)]
>>> problem = Problem(pools, credits=[300, 200], external=[False, True],
...                   options=[[Place(0, 0)], [Place(0, 0), Place(1, 0)]], root=None, leaf_of={}, fixed_shortfall={})
>>> state = problem.empty_state()
>>> problem.add(state, 0, *problem.options[0][0]); problem.add(state, 1, *problem.options[1][1])
>>> state, [problem.leaf_shortfall(leaf, state[leaf.index]) for leaf in pools]
([[300, 0], [0, 200]], [100, 100])

The second pool counts only 100 of the recognised record's 200 cents (its cap), so each pool is a credit short.

This module holds the problem and its state: the leaves, the records' places (``Problem``), the per-leaf state,
the ``pick`` choices already settled by the records with one place to go (``settled_picks``), the ways to choose
``pick`` children (``pick_combinations``), and for one such choice the flat problem the solvers work on
(``Targets``: every credit pool and course slot that counts, with its deficit). Maps are keyed by requirement id
(unique in a program: the catalog refuses duplicates).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations
from typing import Any, Mapping, NamedTuple

from ..models import AllRequirement, PickRequirement


class Place(NamedTuple):
    """Where a record counts: a leaf (its index among the problem's leaves) and a slot in it (the course's place
    in a course list, 0 in a credit pool)."""

    leaf: int
    slot: int


class Allocation(NamedTuple):
    """An answer to the problem: where each record counts, and how that was found."""

    places: list[Place | None]
    """Per record (in the problem's order), its place, or ``None``: it counts nowhere."""
    how: str
    """``greedy`` (every placement proved best by a bound), ``search`` (a branch and bound ran) or ``milp``."""
    credited: dict[int, int]
    """Records a program-wide cap trims (only the integer program trims): the cents each gives the pool it is
    placed in."""


@dataclass
class Leaf:
    """A leaf as the solver sees it: ``need`` in cents (credit pools) or a cost per course code (course lists)."""

    index: int
    node: Any
    kind: str  # "credits" | "courses"
    need: int = 0
    cap: int | None = None
    codes: tuple[str, ...] = ()
    cost: tuple[int, ...] = ()
    _places: tuple[Place, ...] = field(default=(), init=False, repr=False, compare=False)

    @property
    def places(self) -> tuple[Place, ...]:
        """The places records can take in this leaf (a pool's one, a course list's one per course), made once: a leaf
        of a kept tree serves a batch of audits, and each audit's targets are these places."""
        if not self._places:
            self._places = tuple(Place(self.index, k) for k in range(len(self.codes) if self.kind == "courses" else 1))
        return self._places


class Problem:
    """Records (credits in cents, external or not) and the places each can count at (``options``)."""

    def __init__(self, leaves: list[Leaf], credits: list[int], external: list[bool], options: list[list[Place]],
                 root: Any, leaf_of: dict[str, Leaf], fixed_shortfall: dict[str, int],
                 limits: list[tuple[list[int], int]] | None = None):
        self.leaves = leaves
        self.credits = credits
        self.external = external
        self.options = options
        """Per record: the places it may count at."""
        self.root = root
        """The requirement tree's root node."""
        self.leaf_of = leaf_of
        """Requirement id -> the leaf records are allocated to (leaves that are not shared)."""
        self.fixed_shortfall = fixed_shortfall
        """Requirement id -> shortfall (cents) of a node outside the allocation: shared leaves, hour pools (0
        here), waived nodes."""
        self.limits: list[tuple[list[int], int]] = limits if limits is not None else []
        """Program-wide caps that bind: (records, cents) - the records' credits counted in pools stay within."""

    # a state: per leaf, [home cents, external cents] (credit pools) or a list of counts per slot (course lists)
    def empty_state(self) -> list[list[int]]:
        """A state with nothing placed."""
        return [[0, 0] if leaf.kind == "credits" else [0] * len(leaf.codes) for leaf in self.leaves]

    def add(self, state: list[list[int]], record: int, leaf: int, slot: int, sign: int = 1) -> None:
        """Places a record at (leaf, slot) in ``state`` (``sign`` -1: takes it out)."""
        if self.leaves[leaf].kind == "credits":
            state[leaf][1 if self.external[record] else 0] += sign * self.credits[record]
        else:
            state[leaf][slot] += sign

    def leaf_shortfall(self, leaf: Leaf, st: list[int]) -> int:
        """A leaf's shortfall in cents, with ``st`` its state."""
        if leaf.kind == "credits":
            ext = st[1] if leaf.cap is None else min(st[1], leaf.cap)
            return max(0, leaf.need - st[0] - ext)
        return sum(c for c, n in zip(leaf.cost, st, strict=True) if n == 0)


def settled_picks(problem: Problem, node: Any, state: list[list[int]]) -> dict[str, tuple[int, ...]]:
    """Pick nodes (by requirement id) with enough children already met by the records that have one place to go,
    and those children's positions: choosing them is optimal (they need nothing more, and every other record stays
    free), so no other choice is tried."""
    out: dict[str, tuple[int, ...]] = {}
    _settle(problem, node, state, out)
    return out


def _settle(problem: Problem, node: Any, state: list[list[int]], out: dict[str, tuple[int, ...]]) -> int:
    """``settled_picks`` in one pass: the node's shortfall under ``state``, its settled picks into ``out``
    (none inside a node whose shortfall is fixed: the allocation does not choose there)."""
    node_id = node.id
    fixed = problem.fixed_shortfall.get(node_id)
    if fixed is not None:
        return fixed
    leaf = problem.leaf_of.get(node_id)
    if leaf is not None:
        return problem.leaf_shortfall(leaf, state[leaf.index])
    if isinstance(node, AllRequirement):
        return sum([_settle(problem, c, state, out) for c in node.all])
    if isinstance(node, PickRequirement):
        short = [_settle(problem, c, state, out) for c in node.of]
        met = [i for i, s in enumerate(short) if s == 0]
        if len(met) >= node.pick:
            out[node_id] = tuple(met[:node.pick])
        return sum(sorted(short)[:node.pick])
    return 0


Combination = tuple[frozenset[int], int]
"""One way the tree counts its leaves: the leaves that count (indices), and the shortfall fixed outside the
allocation (cents)."""


def pick_combinations(problem: Problem, node: Any, limit: int,
                      settled: Mapping[str, tuple[int, ...]] | None = None) -> list[Combination] | None:
    """The ways the tree can count its leaves, one per choice of children at each ``pick`` node (only the settled
    choice where there is one, see ``settled_picks``); ``None`` when there are more than ``limit``."""
    settled = settled or {}
    node_id = node.id
    fixed = problem.fixed_shortfall.get(node_id)
    if fixed is not None:
        return [(frozenset(), fixed)]
    leaf = problem.leaf_of.get(node_id)
    if leaf is not None:
        return [(frozenset({leaf.index}), 0)]

    def product(parts: list[list[Combination]]) -> list[Combination] | None:
        out: list[Combination] = [(frozenset(), 0)]
        for part in parts:
            out = [(a | b, x + y) for a, x in out for b, y in part]
            if len(out) > limit:
                return None
        return out

    if isinstance(node, AllRequirement):
        parts = [pick_combinations(problem, c, limit, settled) for c in node.all]
        whole = [p for p in parts if p is not None]
        return None if len(whole) < len(parts) else product(whole)
    if isinstance(node, PickRequirement):
        kids = [pick_combinations(problem, c, limit, settled) for c in node.of]
        known = [k for k in kids if k is not None]
        if len(known) < len(kids):
            return None
        out: list[Combination] = []
        choices = [settled[node_id]] if node_id in settled else combinations(range(len(known)), node.pick)
        for chosen in choices:
            part = product([known[i] for i in chosen])
            if part is None:
                return None
            out.extend(part)
            if len(out) > limit:
                return None
        return out
    return [(frozenset(), 0)]


class Targets:
    """The all-leaves-count problem for one choice of pick children: targets are credit pools (a need in cents, an
    optional cap on external cents) and course slots (filled whole by one record); each has a deficit."""

    def __init__(self, problem: Problem, active: frozenset[int], state: list[list[int]]):
        self.problem = problem
        # per target, in parallel lists: its kind, need (a pool's cents, a slot's cost), cap on external cents,
        # home and external cents (a slot: 1 when filled) so far
        self.index: dict[Place, int] = {}
        self.kind: list[int] = []  # 0 pool, 1 slot
        self.need: list[int] = []
        self.cap: list[int | None] = []
        self.home: list[int] = []
        self.ext: list[int] = []
        self.active = active
        index, kind, need, cap, home, ext = self.index, self.kind, self.need, self.cap, self.home, self.ext
        for leaf in problem.leaves:
            if leaf.index not in active:
                continue
            st = state[leaf.index]
            places = leaf.places
            if leaf.kind == "credits":
                index[places[0]] = len(kind)
                kind.append(0)
                need.append(leaf.need)
                cap.append(leaf.cap)
                home.append(st[0])
                ext.append(st[1])
            else:
                for k, cost in enumerate(leaf.cost):
                    index[places[k]] = len(kind)
                    kind.append(1)
                    need.append(cost)
                    cap.append(None)
                    home.append(1 if st[k] else 0)
                    ext.append(0)
        self.keys = list(self.index)
        """Per target, its place."""

    def counting(self, active: frozenset[int]) -> Targets:
        """A copy in the same state where only the leaves in ``active`` count (the others' targets are left out of
        ``targets``, and records are not placed there)."""
        copy = Targets.__new__(Targets)
        copy.problem, copy.index, copy.keys, copy.kind, copy.need, copy.cap = (
            self.problem, self.index, self.keys, self.kind, self.need, self.cap)
        copy.home, copy.ext = list(self.home), list(self.ext)
        copy.active = active
        return copy

    @property
    def targets(self) -> list[int]:
        """The targets that count."""
        return [t for (leaf, _slot), t in self.index.items() if leaf in self.active]

    def deficits(self) -> list[int]:
        """Every target's deficit, in order (``deficit`` of each)."""
        out = []
        for kind, need, cap, home, ext in zip(self.kind, self.need, self.cap, self.home, self.ext, strict=True):
            if kind:
                out.append(0 if home else need)
            else:
                d = need - home - (ext if cap is None or ext < cap else cap)
                out.append(d if d > 0 else 0)
        return out

    def deficit(self, t: int) -> int:
        """What target t still lacks: a slot's cost while it is empty, a pool's need less what counts in it."""
        if self.kind[t]:
            return 0 if self.home[t] else self.need[t]
        cap = self.cap[t]
        ext = self.ext[t] if cap is None else min(self.ext[t], cap)
        return max(0, self.need[t] - self.home[t] - ext)

    def still_open(self, t: int) -> bool:
        """Whether every record gains something in target t (it has a deficit, and room under its cap)."""
        if self.kind[t]:
            return not self.home[t]
        cap, ext = self.cap[t], self.ext[t]
        if cap is not None and ext >= cap:
            return False
        return self.need[t] - self.home[t] - ext > 0

    def gain(self, r: int, t: int) -> int:
        """How much the deficit of target t falls if record r is added to it."""
        if self.kind[t]:
            return 0 if self.home[t] else self.need[t]
        cap, ext = self.cap[t], self.ext[t]
        short = self.need[t] - self.home[t] - (ext if cap is None or ext < cap else cap)
        if short <= 0:
            return 0
        c = self.problem.credits[r]
        if cap is not None and self.problem.external[r] and cap - ext < c:
            c = max(0, cap - ext)  # only the room left under the cap counts
        return c if c < short else short

    def put(self, r: int, t: int, sign: int) -> None:
        """Places record r in target t (``sign`` -1: takes it out)."""
        if self.kind[t]:
            self.home[t] += sign
        elif self.problem.external[r]:
            self.ext[t] += sign * self.problem.credits[r]
        else:
            self.home[t] += sign * self.problem.credits[r]
