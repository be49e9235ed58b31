"""Graduation audits (毕业审核): may this student graduate, when, and if not, what exactly is missing?

The rule, in a school's words: every requirement of the program holds (each course of a course list, each credit
pool filled, each hour pool met), the program's credit total is reached counting every effective credit once, the
student is enrolled and not suspended, and the date lies between the early-graduation floor (提前毕业, enrolment +
``min_years``) and the flexible-schooling deadline (弹性学制, enrolment + ``max_years``, suspension time added when
the policy leaves it out). A worker-student who studies in stages (分阶段完成学业) sees each study period and the
date the credit rate so far would finish the program.

Records are allocated to requirements exactly: a record is never split, and counts toward at most one leaf that
is not ``shared``. When an allocation meeting every requirement exists the audit finds it, whatever the order of
the records; when none exists it reports one with the least total shortfall. How: records that only one leaf can
use, or could still help, go there (repeatedly, as leaves fill); for each choice of ``pick`` children (best bound
first, cut when no better than the best so far), the contested records split into independent groups (linked by
the leaves they could fill); each group is placed greedily, then by a second heuristic (fewest places first, moves
and swaps), and a placement is kept when it reaches a bound: what each record gives alone, or a max-flow bound
(the most the group could give if records could be split, each no more than it can give one leaf). Otherwise a
branch and bound searches under that bound. An integer program (``scipy.optimize.milp``) takes over past a node
budget, and whenever the program's caps on recognised, converted and online credits bind: they limit how many such
credits count, and the program chooses which (a ``shared`` pool counts them up to those caps).

>>> from datetime import date as d
>>> from credit_ledger.models import Catalog, CreditRecord
>>> cat = Catalog.sample()
>>> program = cat.program("HNJX", "CNC-TECH-2025")
>>> def rec(code, credits, category="core"):
...     return CreditRecord(course=code, institution="HNJX", title=code, category=category,
...                         credits=credits, origin="home", event_id=code, occurred_on=d(2026, 1, 1))
>>> report = audit(program, [rec("TEC401", 6), rec("TEC402", 4), rec("TEC403", 16, "practice")],
...                as_of=d(2026, 7, 1), catalog=cat)
>>> report.status.value, str(report.shortfall), [c.satisfied for c in report.requirements.children]
('requirements_missing', '14.00', [True, True, False])
"""

from __future__ import annotations

import calendar
import math
from itertools import combinations
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any, Iterable, Mapping, Sequence


from .errors import UnknownReference
from .history import Timeline, build_timeline, transcript_records
from .transfer import Excluded, apply_caps, is_external, is_online, ratio_limits
from .models import (
    AllRequirement,
    Catalog,
    CoursesRequirement,
    CreditRecord,
    CreditsRequirement,
    Filter,
    HoursRequirement,
    Issue,
    PickRequirement,
    Policy,
    Program,
)
from .render import amount
from .reports import (
    PASSING_STATUSES,
    ZERO,
    Allocated,
    AppliedException,
    AuditCredits,
    AuditReport,
    AuditStatus,
    Award,
    Projection,
    RequirementResult,
    Stage,
)

__all__ = [
    "PASSING_STATUSES", "ZERO", "Allocated", "AppliedException", "AuditCredits", "AuditReport", "AuditStatus",
    "Award", "Projection", "RequirementResult", "Stage", "StudyHistory", "add_years", "audit", "audit_history",
    "evaluate",
]

_CENT = Decimal("0.01")


# ---------------------------------------------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------------------------------------------


def add_years(day: date, years: Decimal | int | float) -> date:
    """``day`` plus a (possibly fractional) number of years, in whole months; the 31st becomes the month's last day.

    >>> add_years(date(2024, 2, 29), 1), add_years(date(2025, 9, 1), Decimal("2.5"))
    (datetime.date(2025, 2, 28), datetime.date(2028, 3, 1))
    """
    months = int((Decimal(str(years)) * 12).to_integral_value(ROUND_HALF_UP))
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


# ---------------------------------------------------------------------------------------------------------------
# The allocation problem
# ---------------------------------------------------------------------------------------------------------------


def _cents(value: Decimal) -> int:
    return int((value * 100).to_integral_value(ROUND_CEILING))


def _cents_down(value: Decimal) -> int:
    return int((value * 100).to_integral_value(ROUND_FLOOR))


def _matches(record: CreditRecord, flt: Filter, course: str | None) -> bool:
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


@dataclass
class _Leaf:
    """A leaf as the solver sees it: ``need`` in cents (credit pools) or a cost per course code (course lists)."""

    index: int
    node: Any
    kind: str  # "credits" | "courses"
    need: int = 0
    cap: int | None = None
    codes: tuple[str, ...] = ()
    cost: tuple[int, ...] = ()


class _Problem:
    """Records (credits in cents, external or not) and the leaves each can count toward, per (leaf, slot)."""

    def __init__(self, leaves: list[_Leaf], credits: list[int], external: list[bool],
                 options: list[list[tuple[int, int]]], root: Any, leaf_of_node: dict[int, _Leaf],
                 fixed_shortfall: dict[int, int]):
        self.leaves = leaves
        self.credits = credits
        self.external = external
        self.options = options
        """Per record: (leaf index, slot) pairs it may count toward; slot is the course code's index (course
        lists) or 0 (credit pools)."""
        self.root = root
        self.leaf_of_node = leaf_of_node
        self.fixed_shortfall = fixed_shortfall
        """Shortfall (cents) of nodes outside the allocation: shared leaves, hour pools (0 here), waived nodes."""
        self.limits: list[tuple[list[int], int]] = []
        """Program-wide caps that bind: (records, cents) - the records' credits counted in pools stay within."""
        self.credited: dict[int, int] = {}
        """Records a binding cap trims: the cents they give the pool they are allocated to."""

    # a state: per leaf, [home cents, external cents] (credit pools) or a list of counts per slot (course lists)
    def empty_state(self) -> list[list[int]]:
        return [[0, 0] if leaf.kind == "credits" else [0] * len(leaf.codes) for leaf in self.leaves]

    def add(self, state: list[list[int]], record: int, leaf: int, slot: int, sign: int = 1) -> None:
        if self.leaves[leaf].kind == "credits":
            state[leaf][1 if self.external[record] else 0] += sign * self.credits[record]
        else:
            state[leaf][slot] += sign

    def leaf_shortfall(self, leaf: _Leaf, st: list[int]) -> int:
        if leaf.kind == "credits":
            ext = st[1] if leaf.cap is None else min(st[1], leaf.cap)
            return max(0, leaf.need - st[0] - ext)
        return sum(c for c, n in zip(leaf.cost, st) if n == 0)


def _settled_picks(problem: _Problem, node: Any, state: list[list[int]]) -> dict[int, tuple[int, ...]]:
    """Pick nodes with enough children already met by the records that have one place to go: choosing those
    children is optimal (they need nothing more, and every other record stays free), so no other choice is tried."""
    out: dict[int, tuple[int, ...]] = {}
    _settle(problem, node, state, out)
    return out


def _settle(problem: _Problem, node: Any, state: list[list[int]], out: dict[int, tuple[int, ...]]) -> int:
    """``_settled_picks`` in one pass: the node's shortfall under ``state``, its settled picks into ``out``
    (none inside a node whose shortfall is fixed: the allocation does not choose there)."""
    fixed = problem.fixed_shortfall.get(id(node))
    if fixed is not None:
        return fixed
    leaf = problem.leaf_of_node.get(id(node))
    if leaf is not None:
        return problem.leaf_shortfall(leaf, state[leaf.index])
    if isinstance(node, AllRequirement):
        return sum([_settle(problem, c, state, out) for c in node.all])
    if isinstance(node, PickRequirement):
        short = [_settle(problem, c, state, out) for c in node.of]
        met = [i for i, s in enumerate(short) if s == 0]
        if len(met) >= node.pick:
            out[id(node)] = tuple(met[:node.pick])
        return sum(sorted(short)[:node.pick])
    return 0


def _combos(problem: _Problem, node: Any, limit: int, settled: Mapping[int, tuple[int, ...]] | None = None
            ) -> list[tuple[frozenset[int], int]] | None:
    """The ways the tree can count its leaves: (leaves that count, shortfall fixed outside the allocation), one per
    choice of children at each ``pick`` node (only the settled choice where there is one, see ``_settled_picks``);
    ``None`` when there are more than ``limit``."""
    settled = settled or {}
    fixed = problem.fixed_shortfall.get(id(node))
    if fixed is not None:
        return [(frozenset(), fixed)]
    leaf = problem.leaf_of_node.get(id(node))
    if leaf is not None:
        return [(frozenset({leaf.index}), 0)]

    def product(parts: list[list[tuple[frozenset[int], int]]]) -> list[tuple[frozenset[int], int]] | None:
        out = [(frozenset(), 0)]
        for part in parts:
            out = [(a | b, x + y) for a, x in out for b, y in part]
            if len(out) > limit:
                return None
        return out

    if isinstance(node, AllRequirement):
        parts = [_combos(problem, c, limit, settled) for c in node.all]
        return None if any(p is None for p in parts) else product(parts)  # type: ignore[arg-type]
    if isinstance(node, PickRequirement):
        kids = [_combos(problem, c, limit, settled) for c in node.of]
        if any(k is None for k in kids):
            return None
        out: list[tuple[frozenset[int], int]] = []
        choices = [settled[id(node)]] if id(node) in settled else combinations(range(len(kids)), node.pick)
        for chosen in choices:
            part = product([kids[i] for i in chosen])  # type: ignore[misc]
            if part is None:
                return None
            out.extend(part)
            if len(out) > limit:
                return None
        return out
    return [(frozenset(), 0)]


class _Targets:
    """The all-leaves-count problem for one choice of pick children: targets are credit pools (a need in cents, an
    optional cap on external cents) and course slots (filled whole by one record); each has a deficit."""

    def __init__(self, problem: _Problem, active: frozenset[int], state: list[list[int]]):
        self.problem = problem
        # per target, in parallel lists: its kind, need (a pool's cents, a slot's cost), cap on external cents,
        # home and external cents (a slot: 1 when filled) so far
        self.index: dict[tuple[int, int], int] = {}
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
            if leaf.kind == "credits":
                index[(leaf.index, 0)] = len(kind)
                kind.append(0)
                need.append(leaf.need)
                cap.append(leaf.cap)
                home.append(st[0])
                ext.append(st[1])
            else:
                for k, cost in enumerate(leaf.cost):
                    index[(leaf.index, k)] = len(kind)
                    kind.append(1)
                    need.append(cost)
                    cap.append(None)
                    home.append(1 if st[k] else 0)
                    ext.append(0)
        self.keys = list(self.index)
        """Per target, its (leaf, slot)."""

    def counting(self, active: frozenset[int]) -> _Targets:
        """A copy in the same state where only the leaves in ``active`` count (the others' targets are left out of
        ``targets``, and records are not placed there)."""
        copy = _Targets.__new__(_Targets)
        copy.problem, copy.index, copy.keys, copy.kind, copy.need, copy.cap = (
            self.problem, self.index, self.keys, self.kind, self.need, self.cap)
        copy.home, copy.ext = list(self.home), list(self.ext)
        copy.active = active
        return copy

    @property
    def targets(self) -> list[int]:
        return [t for (leaf, _slot), t in self.index.items() if leaf in self.active]

    def deficits(self) -> list[int]:
        """Every target's deficit, in order (``deficit`` of each)."""
        out = []
        for kind, need, cap, home, ext in zip(self.kind, self.need, self.cap, self.home, self.ext):
            if kind:
                out.append(0 if home else need)
            else:
                d = need - home - (ext if cap is None or ext < cap else cap)
                out.append(d if d > 0 else 0)
        return out

    def deficit(self, t: int) -> int:
        if self.kind[t]:
            return 0 if self.home[t] else self.need[t]
        ext = self.ext[t] if self.cap[t] is None else min(self.ext[t], self.cap[t])  # type: ignore[type-var]
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
        if self.kind[t]:
            self.home[t] += sign
        elif self.problem.external[r]:
            self.ext[t] += sign * self.problem.credits[r]
        else:
            self.home[t] += sign * self.problem.credits[r]


class _Flow:
    """Maximum flow source -> records -> (external gate) -> targets -> sink for one group of records, built once
    and re-run as the search places records (an edge list with paired reverse edges; a first pass over the direct
    paths, then augmenting paths by BFS)."""

    def __init__(self, tg: _Targets, records: Sequence[int], targets_of: Mapping[int, Sequence[int]]):
        self.tg = tg
        problem = tg.problem
        targets = sorted({t for r in records for t in targets_of[r]})
        n_rec = len(records)
        t_node = {t: 2 + n_rec + i for i, t in enumerate(targets)}
        gated = [t for t in targets if tg.cap[t] is not None and not tg.kind[t]]
        g_node = {t: 2 + n_rec + len(targets) + i for i, t in enumerate(gated)}
        self.size = 2 + n_rec + len(targets) + len(gated)
        self.to: list[int] = []
        self.base: list[int] = []
        self.adj: list[list[int]] = [[] for _ in range(self.size)]
        big = 1 << 40
        self.last: list[int] = []
        self.source_edge: list[int] = []
        self.supply: list[int] = []
        links: list[list[tuple[int, int, bool]]] = []
        for i, r in enumerate(records):
            supply = problem.credits[r]
            mine = []
            for t in targets_of[r]:
                if tg.kind[t]:
                    supply = max(supply, tg.need[t])
                    mine.append((self._edge(2 + i, t_node[t], big), t, False))
                elif problem.external[r] and t in g_node:
                    mine.append((self._edge(2 + i, g_node[t], big), t, True))
                else:
                    mine.append((self._edge(2 + i, t_node[t], big), t, False))
            links.append(mine)
            self.source_edge.append(self._edge(0, 2 + i, 0))
            self.supply.append(supply)
        self.sink_edge = [(t, self._edge(t_node[t], 1, 0)) for t in targets]
        self.gate_edge = [(t, self._edge(g_node[t], t_node[t], 0)) for t in gated]
        # direct paths per record, for a first greedy pass that leaves few augmenting paths to find:
        # (edge record -> target or gate, edge gate -> target or -1, edge target -> sink)
        sink_of = dict(self.sink_edge)
        gate_of = dict(self.gate_edge)
        self.paths: list[list[tuple[int, int, int]]] = [
            [(e, gate_of[t] if gated_path else -1, sink_of[t]) for e, t, gated_path in mine] for mine in links]

    def rounded(self, records: Sequence[int], targets_of: Mapping[int, Sequence[int]]) -> dict[int, int]:
        """Per record of the last ``value``, the target it sent most to (records that sent nothing left out): a
        placement near the flow, for a heuristic to start from."""
        cap = self.last
        out = {}
        for r, mine, ts in zip(records, self.paths, (targets_of[r] for r in records)):
            most, best = 0, -1
            for (e, _gate, _sink), t in zip(mine, ts):
                sent = cap[e ^ 1]  # the flow on an edge is its reverse edge's residual capacity
                if sent > most:
                    most, best = sent, t
            if best >= 0:
                out[r] = best
        return out

    def _edge(self, a: int, b: int, c: int) -> int:
        e = len(self.to)
        self.to += [b, a]
        self.base += [c, 0]
        self.adj[a].append(e)
        self.adj[b].append(e + 1)
        return e

    def value(self, start: int, supply: Sequence[int] | None = None, deficits: Sequence[int] | None = None,
              enough: int | None = None) -> int:
        """The maximum flow with only ``records[start:]`` supplying, against the targets' current deficits.
        ``supply``: what each of ``records[start:]`` may send at most, when tighter than its credits (see
        ``_best_gains``); ``deficits``: the targets' deficits in order, when the caller has them; ``enough``: the
        caller only asks whether the flow exceeds it, so any flow above it is returned as soon as it is found."""
        tg = self.tg
        self.last = cap = list(self.base)  # the residual capacities, kept for ``rounded``
        source_edge = self.source_edge
        for i in range(start):
            cap[source_edge[i]] = 0
        if supply is None:
            for i in range(start, len(source_edge)):
                cap[source_edge[i]] = self.supply[i]
        else:
            for i in range(start, len(source_edge)):
                cap[source_edge[i]] = supply[i - start]
        demand = 0
        if deficits is None:
            for t, e in self.sink_edge:
                cap[e] = d = tg.deficit(t)
                demand += d
        else:
            for (_t, e), d in zip(self.sink_edge, deficits):
                cap[e] = d
                demand += d
        if not demand:
            return 0
        if enough is None or enough >= demand:
            enough = demand - 1  # nothing above the demand: stop there
        for t, e in self.gate_edge:
            cap[e] = max(0, tg.cap[t] - tg.ext[t])  # type: ignore[operator]
        to, adj, paths = self.to, self.adj, self.paths
        flow = 0
        for i in range(start, len(paths)):  # direct paths first
            e_src = source_edge[i]
            left = cap[e_src]
            for e_rt, e_gate, e_sink in paths[i]:
                if not left:
                    break
                push = cap[e_sink]
                if left < push:
                    push = left
                if e_gate >= 0 and cap[e_gate] < push:
                    push = cap[e_gate]
                if push <= 0:
                    continue
                cap[e_src] -= push
                cap[e_src ^ 1] += push
                cap[e_rt] -= push
                cap[e_rt ^ 1] += push
                if e_gate >= 0:
                    cap[e_gate] -= push
                    cap[e_gate ^ 1] += push
                cap[e_sink] -= push
                cap[e_sink ^ 1] += push
                left -= push
                flow += push
        if flow > enough:
            return flow
        while True:
            via = [-1] * self.size
            via[0] = -2
            queue = [0]
            found = False
            for a in queue:
                for e in adj[a]:
                    b = to[e]
                    if via[b] == -1 and cap[e] > 0:
                        via[b] = e
                        if b == 1:
                            found = True
                            break
                        queue.append(b)
                if found:
                    break
            if not found:
                return flow
            push, b = 1 << 62, 1
            while b != 0:
                e = via[b]
                push = min(push, cap[e])
                b = to[e ^ 1]
            b = 1
            while b != 0:
                e = via[b]
                cap[e] -= push
                cap[e ^ 1] += push
                b = to[e ^ 1]
            flow += push
            if flow > enough:
                return flow


def _solve(problem: _Problem, *, method: str = "auto", node_budget: int = 50000
           ) -> tuple[list[tuple[int, int] | None], str]:
    """An allocation (per record: (leaf, slot) or None) with the least total shortfall, and how it was found.

    Records with one possible leaf go there (it can only help), and so do records with one leaf they could still
    help, repeatedly (it lowers no other shortfall). For each way of choosing the children of ``pick`` nodes (best
    bound first, cut when a bound cannot beat the best so far), the leaves that count make an additive problem; the
    same rule places records with one target left there, the others split into independent groups (records linked
    through the targets they could fill), and each group is placed greedily, then, unless a bound proves that
    optimal, by a second heuristic (fewest places first, moves and swaps), then, unless that reaches the flow
    bound, by branch and bound under that bound. "greedy" reports that no search ran (every placement proved by a
    bound), "search" that one did. ``method="milp"`` uses the integer program instead; past ``node_budget`` search
    nodes the integer program takes over.
    """
    if method == "milp":
        found = _solve_milp(problem)
        if found is not None:
            return found, "milp"
        if problem.limits:
            raise _NoSolution
        method, node_budget = "search", 1 << 62  # the integer program failed: search to the end
    assign: list[tuple[int, int] | None] = [None] * len(problem.options)
    state = problem.empty_state()
    contested: list[int] = []
    credits, external = problem.credits, problem.external
    pool = [leaf.kind == "credits" for leaf in problem.leaves]
    for r, opts in enumerate(problem.options):
        if len(opts) == 1:
            assign[r] = opts[0]
            leaf, slot = opts[0]  # problem.add, inline
            if pool[leaf]:
                state[leaf][1 if external[r] else 0] += credits[r]
            else:
                state[leaf][slot] += 1
        elif opts:
            contested.append(r)
    if not contested:
        return assign, "greedy"
    # per contested record, the places it could help in the starting state (the same for every choice)
    starting = _Targets(problem, frozenset(range(len(problem.leaves))), state)
    useful: dict[int, list[int]] = {}  # per contested record: the targets it could help
    users: dict[int, list[int]] = {}  # per target: the records that could help it
    single: list[int] = []
    # a record gains in a target when the target is short and, for an external record in a capped pool, has room
    # under its cap (and, in a pool, when it has credits): ``_Targets.gain`` > 0, found once per target here
    index, kind = starting.index, starting.kind
    open_home = [starting.deficit(t) > 0 for t in range(len(kind))]
    open_ext = [d and starting.still_open(t) for t, d in enumerate(open_home)]
    for r in contested:
        mine = []
        is_open = open_ext if external[r] else open_home
        some = credits[r] > 0
        opts = problem.options[r]
        if len(opts) != 2 or not opts[0] < opts[1]:  # the places in order, once each (two in order: as they are)
            opts = sorted(set(opts))
        for o in opts:
            t = index[o]
            if is_open[t] and (some or kind[t]):
                mine.append(t)
                if t in users:
                    users[t].append(r)
                else:
                    users[t] = [r]
        useful[r] = mine
        if len(mine) == 1:
            single.append(r)
    # a record that could help one place only goes there, whatever the choice of pick children
    for r, t in _place_single(starting, useful, users, single).items():
        assign[r] = starting.keys[t]
        problem.add(state, r, *starting.keys[t])
    contested = [r for r in contested if useful.get(r)]
    if not contested:
        return assign, "greedy"
    useful = {r: useful[r] for r in contested}
    settled = _settled_picks(problem, problem.root, state)
    combos = _combos(problem, problem.root, 256 if method == "auto" else 1 << 20, settled)
    if combos is None:
        return _solve(problem, method="milp")
    budget = [node_budget]
    memo: dict[tuple, tuple[int, dict[int, tuple[int, int]], str]] = {}
    best_value: int | None = None
    best_assign = assign
    how = "greedy"
    if len(combos) == 1:  # one way to count the leaves: nothing to rank
        ranked = [(0, combos[0][1], combos[0][0])]
    else:
        # cheap bound per choice (every contested record counted by every leaf that could use it), best first:
        # the relaxed shortfall of each leaf does not depend on the choice, so it is found once
        relaxed_state = [list(st) for st in state]
        for r in contested:
            for t in useful[r]:  # the places it could not help would stay as they are
                problem.add(relaxed_state, r, *starting.keys[t])
        relaxed = [problem.leaf_shortfall(leaf, relaxed_state[leaf.index]) for leaf in problem.leaves]
        # and a second: the contested records cannot lower the leaves' shortfalls by more than each record does
        # alone where it does most (a gain only falls as records are added)
        start = [problem.leaf_shortfall(leaf, state[leaf.index]) for leaf in problem.leaves]
        gains = [  # per contested record: (leaf, gain) where it could help, most first
            sorted(((starting.keys[t][0], starting.gain(r, t)) for t in useful[r]), key=lambda x: -x[1])
            for r in contested]

        def by_record(active: frozenset[int], const: int) -> int:
            most = 0
            for mine in gains:  # most gain first
                for leaf, g in mine:
                    if leaf in active:
                        most += g
                        break
            return const + sum(start[i] for i in active) - most

        ranked = sorted(((max(const + sum(relaxed[i] for i in active), by_record(active, const)), const, active)
                         for active, const in combos), key=lambda x: x[0])
    try:
        for cheap, const, active in ranked:
            if best_value is not None and cheap >= best_value:
                break
            tg = starting.counting(active)
            value, placed, used = _solve_targets(tg, useful, users, budget, best_value - const
                                                 if best_value is not None else None, memo)
            if placed is None:
                continue
            if best_value is None or const + value < best_value:
                best_value = const + value
                best_assign = list(assign)
                for r, key in placed.items():
                    best_assign[r] = key
                how = used
    except _BudgetExceeded:
        return _solve(problem, method="milp")
    return best_assign, how


def _place_single(tg: _Targets, places: dict[int, list[int]], users: Mapping[int, Sequence[int]],
                  single: list[int]) -> dict[int, int]:
    """Records with one target they could help go there, and ``tg`` takes them: adding a record never raises a
    deficit and it could help nowhere else, so some optimal placement has it there. That can leave others with
    one target, so repeat. ``places``: per record, the targets it could help, in order (trimmed here as targets
    fill: a record placed, or left with none, is taken out); ``users``: per target, the records that could help
    it; ``single``: the records with one place. Returns record -> target."""
    placed: dict[int, int] = {}
    while single:
        changed = set()
        for r in single:
            ts = places.pop(r, None)
            if not ts:
                continue  # its one target filled up before its turn
            t = ts[0]
            if tg.gain(r, t) > 0:
                tg.put(r, t, 1)
                placed[r] = t
                changed.add(t)
        single = []
        for t in changed:
            if tg.still_open(t):
                continue  # every record that could help it still can
            for r in users[t]:
                ts = places.get(r)
                if ts is None or t not in ts or tg.gain(r, t) > 0:
                    continue
                ts.remove(t)
                if len(ts) == 1:
                    single.append(r)
                elif not ts:
                    del places[r]
    return placed


def _solve_targets(tg: _Targets, contested: Mapping[int, Sequence[int]],
                   users: Mapping[int, Sequence[int]], budget: list[int], ceiling: int | None,
                   memo: dict[tuple, tuple[int, dict[int, tuple[int, int]], str]]
                   ) -> tuple[int, dict[int, tuple[int, int]] | None, str]:
    """The least total deficit of the targets once the contested records are placed, and where they go; ``None``
    placements when it cannot beat ``ceiling``. ``contested``: per record, the targets it could help
    in the starting state, in order; ``users``: per target, the records that could help it. ``memo`` keeps
    groups solved for another choice of pick children (the same records over the same targets in the same state
    have the same answer)."""
    problem = tg.problem
    keys = tg.keys
    active = tg.active
    # per record, the targets it would lower a deficit of now (a gain only falls as records are added, so a
    # target it cannot help now it never can)
    targets_of: dict[int, list[int]] = {}
    single: list[int] = []
    for r, opts in contested.items():
        ts = [t for t in opts if keys[t][0] in active]
        if ts:
            targets_of[r] = ts
            if len(ts) == 1:
                single.append(r)
    # a record with one such target goes there
    placed: dict[int, tuple[int, int]] = {r: keys[t] for r, t in _place_single(tg, targets_of, users, single).items()}
    deficits = tg.deficits()
    base = sum([deficits[t] for t in tg.targets])
    if ceiling is not None:  # no better than the incumbent even by what the records give one at a time: skip
        cheap = _cheap_bound(tg, list(targets_of), targets_of)
        if base - cheap >= ceiling:
            return base - cheap, None, "greedy"
    # independent groups: records linked through shared targets (union-find over targets)
    parent = list(range(len(keys)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for ts in targets_of.values():
        for t in ts[1:]:
            parent[find(t)] = find(ts[0])
    groups: dict[int, list[int]] = {}
    for r, ts in targets_of.items():
        groups.setdefault(find(ts[0]), []).append(r)
    total_gain = 0
    how = "greedy"
    ordered = []
    for root in sorted(groups):
        # biggest first (they decide most); identical records side by side, for the search's symmetry rule
        records = sorted(groups[root], key=lambda r: (-problem.credits[r], problem.external[r], targets_of[r], r))
        # the answer depends on the records and the state of their targets (which the placed records changed)
        group_targets = sorted({t for r in records for t in targets_of[r]})
        ordered.append((records, (tuple(records), tuple((keys[t], tg.home[t], tg.ext[t]) for t in group_targets))))
    bounds: dict[tuple, int] = {}
    flows: dict[tuple, _Flow] = {}  # the flows behind those bounds, for the search
    if ceiling is not None:  # no better than the incumbent even by a bound on what the records could give: skip
        known = [memo[k][0] if k in memo else None for _rs, k in ordered]
        cheap = sum(b if b is not None else _cheap_bound(tg, rs, targets_of) for b, (rs, _k) in zip(known, ordered))
        if base - cheap >= ceiling:
            return base - cheap, None, how
        # the flow bound (records split), kept for the group's own proof
        for i, (rs, k) in enumerate(ordered):
            if known[i] is None:
                if len(rs) > 1:
                    flows[k] = flow = _Flow(tg, rs, targets_of)
                    known[i] = bounds[k] = flow.value(0, _best_gains(tg, rs, targets_of))
                else:
                    known[i] = bounds[k] = max((tg.gain(rs[0], t) for t in targets_of[rs[0]]), default=0)
        left = sum(known)  # type: ignore[arg-type]
        if base - left >= ceiling:
            return base - left, None, how
    for i, (records, key) in enumerate(ordered):
        found = memo.get(key)
        if found is None:
            got, where, used = _solve_group(tg, records, targets_of, budget, bounds.get(key), flows.get(key))
            found = memo[key] = (got, {r: keys[t] for r, t in where.items()}, used)
        got, where_keys, used = found
        total_gain += got
        if used != "greedy":
            how = "search"
        placed.update(where_keys)
        if ceiling is not None:
            left -= known[i]  # type: ignore[operator]
            if base - total_gain - left >= ceiling:  # the groups left cannot make up for this one
                return base - total_gain - left, None, how
    value = base - total_gain
    if ceiling is not None and value >= ceiling:
        return value, None, how
    return value, placed, how


def _best_gains(tg: _Targets, records: Sequence[int], targets_of: Mapping[int, Sequence[int]]) -> list[int]:
    """Per record, the most it lowers one deficit now: placed whole in one target, a record never gives more (a
    gain only falls as records are added), so it is a valid supply for the flow and tighter than its credits once
    its targets are nearly full."""
    gain = tg.gain
    out = []
    for r in records:
        most = 0
        for t in targets_of[r]:
            g = gain(r, t)
            if g > most:
                most = g
        out.append(most)
    return out


def _cheap_bound(tg: _Targets, records: Sequence[int], targets_of: Mapping[int, Sequence[int]]) -> int:
    """A bound on the fall in deficit the records can give: no more than each gives alone where it gives most, and
    no target more than its deficit or than what its records give it one at a time (a gain only falls as records
    are added, so together they give no more than apart)."""
    deficits = tg.deficits()
    kind, cap, ext = tg.kind, tg.cap, tg.ext
    credits, external = tg.problem.credits, tg.problem.external
    into: dict[int, int] = {}
    by_record = 0
    for r in records:
        most = 0
        c, outside = credits[r], external[r]
        for t in targets_of[r]:
            d = deficits[t]  # the gain (tg.gain, inline): the deficit in a slot, the credits up to it in a pool
            if kind[t]:
                g = d
            else:
                room = c
                if outside and cap[t] is not None and cap[t] - ext[t] < c:  # type: ignore[operator]
                    room = max(0, cap[t] - ext[t])  # type: ignore[operator]
                g = room if room < d else d
            into[t] = into.get(t, 0) + g
            if g > most:
                most = g
        by_record += most
    by_target = 0
    for t, g in into.items():
        d = deficits[t]
        by_target += g if g < d else d
    return by_record if by_record < by_target else by_target


def _place_greedily(tg: _Targets, records: Sequence[int], targets_of: Mapping[int, Sequence[int]],
                    start: Mapping[int, int] | None = None) -> tuple[int, dict[int, int]]:
    """Places the records in order, each where it lowers a deficit most (the first such target on a tie), or, with
    ``start``, where ``start`` has it; the fall in deficit and the placement, which stays put in ``tg``."""
    where: dict[int, int] = {}
    gained = 0
    for r in records:
        best_t, best_gain = -1, 0
        if start is not None:
            if r in start:
                best_t, best_gain = start[r], tg.gain(r, start[r])
        else:
            for t in targets_of[r]:
                g = tg.gain(r, t)
                if g > best_gain:
                    best_t, best_gain = t, g
        if best_t >= 0:
            where[r] = best_t
            tg.put(r, best_t, 1)
            gained += best_gain
    return gained, where


def _unplace(tg: _Targets, where: Mapping[int, int]) -> None:
    for r, t in where.items():
        tg.put(r, t, -1)


def _improve(tg: _Targets, records: Sequence[int], targets_of: Mapping[int, Sequence[int]], where: dict[int, int],
             gained: int, goal: int) -> int:
    """Local improvement of a placement held in ``tg``: moves one record to another target, or swaps two records'
    targets, while that lowers the total deficit, until no such step is left or ``goal`` is reached; returns the
    new fall in deficit (``where`` and ``tg`` are updated)."""
    deficit, put = tg.deficit, tg.put
    improved = True
    while improved and gained < goal:
        improved = False
        for r in records:
            cur = where.get(r, -1)
            for t in targets_of[r]:
                if t == cur:
                    continue
                before = deficit(t) + (deficit(cur) if cur >= 0 else 0)
                if not before:
                    continue
                if cur >= 0:
                    put(r, cur, -1)
                put(r, t, 1)
                after = deficit(t) + (deficit(cur) if cur >= 0 else 0)
                if after < before:
                    where[r] = cur = t
                    gained += before - after
                    improved = True
                else:
                    put(r, t, -1)
                    if cur >= 0:
                        put(r, cur, 1)
        if improved or gained >= goal:
            continue
        placed = [r for r in records if r in where]
        for i, a in enumerate(placed):
            for b in placed[i + 1:]:
                ta, tb = where[a], where[b]
                if ta == tb or tb not in targets_of[a] or ta not in targets_of[b]:
                    continue
                before = deficit(ta) + deficit(tb)
                put(a, ta, -1)
                put(b, tb, -1)
                put(a, tb, 1)
                put(b, ta, 1)
                after = deficit(ta) + deficit(tb)
                if after < before:
                    where[a], where[b] = tb, ta
                    gained += before - after
                    improved = True
                    break
                put(a, tb, -1)
                put(b, ta, -1)
                put(a, ta, 1)
                put(b, tb, 1)
            if improved:
                break
    return gained


def _solve_group(tg: _Targets, records: list[int], targets_of: Mapping[int, Sequence[int]], budget: list[int],
                 bound_gain: int | None = None, flow: _Flow | None = None) -> tuple[int, dict[int, int], str]:
    """The largest fall in deficit one group of records can give, and where each goes (records that cannot help
    anywhere are left out). ``bound_gain``: the group's flow bound, and ``flow`` the flow it came from, when the
    caller has them."""
    # greedy: biggest first, each where it lowers a deficit most (the first such target on a tie)
    gained, greedy = _place_greedily(tg, records, targets_of)
    _unplace(tg, greedy)
    if len(records) == 1 or gained >= _cheap_bound(tg, records, targets_of):
        return gained, greedy, "greedy"  # one record, or as much as the records could give at most
    if flow is None:
        flow = _Flow(tg, records, targets_of)
    if bound_gain is None:
        bound_gain = flow.value(0, _best_gains(tg, records, targets_of))
    if gained < bound_gain:
        # a second try before the search: the records with fewest places first, then moves and swaps of single
        # records while they lower the total deficit; still "greedy" when it reaches the bound (proved optimal)
        order = sorted(records, key=lambda r: len(targets_of[r]))
        for start in (greedy, None):
            got, where = _place_greedily(tg, order, targets_of, start)
            got = _improve(tg, records, targets_of, where, got, bound_gain)
            _unplace(tg, where)
            if got > gained:
                gained, greedy = got, where
            if gained >= bound_gain:
                break
    if gained < bound_gain:
        # a third: each record where the flow of the bound sends most of it, then moves and swaps
        flow.value(0, _best_gains(tg, records, targets_of))
        got, where = _place_greedily(tg, records, targets_of, flow.rounded(records, targets_of))
        got = _improve(tg, records, targets_of, where, got, bound_gain)
        _unplace(tg, where)
        if got > gained:
            gained, greedy = got, where
    if gained >= bound_gain:
        return gained, greedy, "greedy"
    search = _Search(tg, records, targets_of, budget, bound_gain, flow, gained, greedy)
    search.run(0, 0)
    return search.best, search.best_where, "search"


class _Search:
    """Branch and bound over one group's records under the flow bound: records in order, each in one of its targets
    (most gain first) or, when it gains nowhere, nowhere. A class rather than a recursive closure: a closure that
    calls itself is a reference cycle, left for the garbage collector after every search."""

    def __init__(self, tg: _Targets, records: list[int], targets_of: Mapping[int, Sequence[int]], budget: list[int],
                 bound_gain: int, flow: _Flow, gained: int, where: Mapping[int, int]):
        self.tg, self.records, self.budget, self.bound, self.flow = tg, records, budget, bound_gain, flow
        self.best, self.best_where = gained, dict(where)
        self.current: dict[int, int] = {}
        problem = tg.problem
        credits, external = problem.credits, problem.external
        self.group_targets = group_targets = sorted({t for r in records for t in targets_of[r]})
        pos = {t: j for j, t in enumerate(group_targets)}
        self.capped = [t for t in group_targets if tg.cap[t] is not None and not tg.kind[t]]
        # per record, its places as (target, position among the group's targets, how its gain is found): 0 a
        # course slot (the slot's deficit), 1 a pool (its credits, up to the deficit), 2 a capped pool for an
        # external record (its credits up to the room left under the cap, up to the deficit)
        self.places = [[(t, pos[t], 0 if tg.kind[t] else 2 if external[r] and tg.cap[t] is not None else 1)
                        for t in targets_of[r]] for r in records]
        self.credits = [credits[r] for r in records]
        # identical records (same credits, origin and targets) are interchangeable: the search places each no lower
        # than the identical record before it, which skips the orderings that only swap them
        self.same_as_previous = [
            i > 0 and credits[r] == credits[records[i - 1]] and external[r] == external[records[i - 1]]
            and targets_of[r] == targets_of[records[i - 1]] for i, r in enumerate(records)]
        held = [0] * (len(records) + 1)  # what records[i:] could give at most (the flow's supplies)
        for i in range(len(records) - 1, -1, -1):
            held[i] = held[i + 1] + flow.supply[i]
        self.held = held
        self.seen: dict[tuple, int] = {}
        """Transpositions: the gain still to come depends only on the next record and the targets' state, so a
        state reached before with as much gain needs no second look."""

    def run(self, i: int, got: int) -> None:
        budget = self.budget
        budget[0] -= 1
        if budget[0] < 0:
            raise _BudgetExceeded
        if got > self.best:
            self.best, self.best_where = got, dict(self.current)
        records = self.records
        if i == len(records) or self.best >= self.bound:
            return
        tg = self.tg
        kind, need, cap, home, ext = tg.kind, tg.need, tg.cap, tg.home, tg.ext
        deficits = []
        for t in self.group_targets:  # tg.deficit, inline
            if kind[t]:
                deficits.append(0 if home[t] else need[t])
            else:
                c, e = cap[t], ext[t]
                d = need[t] - home[t] - (e if c is None or e < c else c)
                deficits.append(d if d > 0 else 0)
        current = self.current
        floor = current.get(records[i - 1], -1) if self.same_as_previous[i] else -1
        key = (i, tuple(deficits), tuple([ext[t] for t in self.capped]), floor)
        seen = self.seen
        if seen.get(key, -1) >= got:
            return
        seen[key] = got
        # cheap bounds first (the records left cannot give more than is missing, nor more than they hold, nor
        # more than each gives alone), the flow (with those supplies) only when they do not prune
        missing = sum(deficits)
        held = self.held[i]
        best = self.best
        if got + (missing if missing < held else held) <= best:
            return
        left = []  # per record left, the most it gives one target now (_best_gains, inline)
        into = [0] * len(deficits)  # per target, what the records left give it one at a time (as _cheap_bound)
        options: list[tuple[int, int]] = []
        credits, places = self.credits, self.places
        for k in range(i, len(records)):
            c = credits[k]
            most = 0
            first = k == i
            for t, j, how in places[k]:
                d = deficits[j]
                if how == 0:
                    g = d
                else:
                    cc = c
                    if how == 2:
                        room = cap[t] - ext[t]  # type: ignore[operator]
                        if room < cc:
                            cc = room if room > 0 else 0
                    g = cc if cc < d else d
                into[j] += g
                if g > most:
                    most = g
                if first and g > 0 and t >= floor:
                    options.append((-g, t))
            left.append(most)
        if got + sum(left) <= best:
            return
        by_target = 0
        for g, d in zip(into, deficits):
            by_target += g if g < d else d
        if got + by_target <= best or got + self.flow.value(i, left, deficits, best - got) <= best:
            return
        r = records[i]
        if not options:
            self.run(i + 1, got)
            return
        options.sort()
        put = tg.put
        for g, t in options:
            current[r] = t
            put(r, t, 1)
            self.run(i + 1, got - g)
            put(r, t, -1)
            del current[r]
            if self.best >= self.bound:
                return


class _NoSolution(Exception):
    """The integer program failed on a problem with program-wide caps, which only it can honour."""


class _BudgetExceeded(Exception):
    """The branch and bound used its node budget; the integer program takes over."""


def _solve_milp(problem: _Problem) -> list[tuple[int, int] | None] | None:
    """The allocation as an integer program (scipy's HiGHS): binary x[record, leaf, slot], at most one per record;
    per credit pool a shortfall s >= need - home - min(external, cap); per course slot a covered flag; per pick node
    binary choices with the shortfall of unchosen children switched off by a big-M; minimise the root's shortfall."""
    import numpy as np
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import lil_matrix

    variables: list[tuple[str, Any]] = []
    index: dict[Any, int] = {}

    def var(key: Any, lo: float = 0, hi: float = np.inf, integer: bool = False) -> int:
        if key not in index:
            index[key] = len(variables)
            variables.append((key, (lo, hi, integer)))
        return index[key]

    rows: list[tuple[dict[int, float], float, float]] = []
    for r, opts in enumerate(problem.options):
        for leaf, slot in opts:
            var(("x", r, leaf, slot), 0, 1, True)
            if problem.external[r] and problem.leaves[leaf].kind == "credits":
                # the credits it gives the pool: all of them, or fewer under a program-wide cap
                y = var(("credit", r, leaf), 0, problem.credits[r], True)
                rows.append(({y: 1, index[("x", r, leaf, slot)]: -problem.credits[r]}, -np.inf, 0))
        if len(opts) > 1:
            rows.append(({index[("x", r, leaf, slot)]: 1 for leaf, slot in opts}, -np.inf, 1))

    def most(node: Any) -> int:
        """The largest shortfall a node can have (a tight big-M for the pick constraints)."""
        fixed = problem.fixed_shortfall.get(id(node))
        if fixed is not None:
            return fixed
        leaf = problem.leaf_of_node.get(id(node))
        if leaf is not None:
            return leaf.need if leaf.kind == "credits" else sum(leaf.cost)
        if isinstance(node, AllRequirement):
            return sum(most(c) for c in node.all)
        if isinstance(node, PickRequirement):
            return sum(sorted((most(c) for c in node.of), reverse=True)[:node.pick])
        return 0

    def node_var(node: Any) -> int:
        """A variable equal to (at least) the node's shortfall, in cents."""
        v = var(("s", id(node)), 0, np.inf)
        fixed = problem.fixed_shortfall.get(id(node))
        leaf = problem.leaf_of_node.get(id(node))
        if fixed is not None:
            rows.append(({v: 1}, fixed, fixed))
        elif leaf is not None and leaf.kind == "credits":
            # s + home + e >= need; e <= external; e <= cap
            e = var(("e", leaf.index), 0, np.inf if leaf.cap is None else leaf.cap)
            coef: dict[int, float] = {v: 1, e: 1}
            ext: dict[int, float] = {e: 1}
            for r, opts in enumerate(problem.options):
                for lf, slot in opts:
                    if lf == leaf.index:
                        if problem.external[r]:
                            ext[index[("credit", r, lf)]] = -1
                        else:
                            coef[index[("x", r, lf, slot)]] = problem.credits[r]
            rows.append((coef, leaf.need, np.inf))
            rows.append((ext, -np.inf, 0))
        elif leaf is not None:
            # s >= sum cost_k (1 - y_k); y_k <= sum x over records in slot k; y_k <= 1
            coef = {v: 1}
            total = 0
            for k, cost in enumerate(leaf.cost):
                y = var(("y", leaf.index, k), 0, 1)
                coef[y] = cost
                total += cost
                cover: dict[int, float] = {y: 1}
                for r, opts in enumerate(problem.options):
                    if (leaf.index, k) in opts:
                        cover[index[("x", r, leaf.index, k)]] = -1
                rows.append((cover, -np.inf, 0))
            rows.append((coef, total, np.inf))
        elif isinstance(node, AllRequirement):
            coef = {v: 1}
            for child in node.all:
                c = node_var(child)
                coef[c] = coef.get(c, 0) - 1
            rows.append((coef, 0, np.inf))
        elif isinstance(node, PickRequirement):
            # s >= sum w_c; w_c >= s_c - big (1 - z_c); sum z_c = pick
            coef = {v: 1}
            picks: dict[int, float] = {}
            for child in node.of:
                c = node_var(child)
                w = var(("w", id(node), id(child)), 0, np.inf)
                z = var(("z", id(node), id(child)), 0, 1, True)
                coef[w] = -1
                picks[z] = 1
                big = most(child)
                rows.append(({w: 1, c: -1, z: -big}, -big, np.inf))
            rows.append((coef, 0, np.inf))
            rows.append((picks, node.pick, node.pick))
        else:
            rows.append(({v: 1}, 0, 0))
        return v

    root = node_var(problem.root)
    for members, cap in problem.limits:
        # a cap limits the credits counted in pools; a course stands for its equivalent whatever its credits count
        coef = {index[("credit", r, leaf)]: 1 for r in members for leaf, _slot in problem.options[r]
                if problem.leaves[leaf].kind == "credits"}
        if coef:
            rows.append((coef, -np.inf, cap))
    size = len(variables)
    a = lil_matrix((len(rows), size))
    lo = np.empty(len(rows))
    hi = np.empty(len(rows))
    for i, (coef, low, high) in enumerate(rows):
        for j, value in coef.items():
            a[i, j] = value
        lo[i], hi[i] = low, high
    c = np.zeros(size)
    c[root] = 1.0
    bounds = Bounds([v[1][0] for v in variables], [v[1][1] for v in variables])
    integrality = np.array([1 if v[1][2] else 0 for v in variables])
    constraints = LinearConstraint(a.tocsr(), lo, hi)
    # the objective is whole cents, so a zero gap is exact; HiGHS's presolve has failed on a few small programs
    # (scipy 1.17), so a failed solve is retried without it, and the caller searches when both fail
    for options in ({"mip_rel_gap": 0}, {"mip_rel_gap": 0, "presolve": False}):
        result = milp(c, constraints=constraints, bounds=bounds, integrality=integrality, options=options)
        if result.status == 0 and result.x is not None:
            break
    else:
        return None
    assign: list[tuple[int, int] | None] = [None] * len(problem.options)
    problem.credited = {}
    for r, opts in enumerate(problem.options):
        for leaf, slot in opts:
            if result.x[index[("x", r, leaf, slot)]] > 0.5:
                assign[r] = (leaf, slot)
                y = index.get(("credit", r, leaf))
                if problem.limits and y is not None:
                    got = min(problem.credits[r], int(round(result.x[y])))
                    if got < problem.credits[r]:
                        problem.credited[r] = got
    return assign


# ---------------------------------------------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------------------------------------------


def _credits_of(value: int) -> Decimal:
    return (Decimal(value) / 100).quantize(_CENT)


@dataclass
class _Plan:
    """What the tree needs to know to build results once the allocation is chosen."""

    problem: _Problem
    records: list[CreditRecord]
    substitutes: dict[str, dict[str, str]]
    shared_records: dict[int, list[int]]
    shared_leaves: dict[int, _Leaf]
    hours: dict[int, tuple[Decimal, Decimal, list[int], tuple[str, ...]]]
    shared_external: dict[int, int]
    """Per shared credit pool: the recognised or converted cents it counts (within its ``max_external`` and the
    program's caps that bind)."""
    members: dict[int, list[int]] | None = None
    """Once the allocation is chosen: per leaf index, its records in date order (then event id)."""
    rank: list[int] | None = None
    """Per record, its place in date order (then event id)."""


def _hours_of(record: CreditRecord, policy: Policy) -> Decimal:
    return record.hours if record.hours is not None else record.credits * policy.hours_per_credit


def _hour_pool(node: HoursRequirement, records: Sequence[CreditRecord], policy: Policy,
               study: Sequence[tuple[date, date]] | None, standard_years: Decimal
               ) -> tuple[Decimal, Decimal, list[int], tuple[str, ...]]:
    """(needed, counted, record indices, notes) of an hour pool. ``per_year``: every year of study (from enrolment,
    suspended time left out) needs the hours, the current part-year in proportion, up to the program's standard
    length (a student who stays on after it owes no more hours)."""
    chosen = [i for i, r in enumerate(records) if _matches(r, node.from_, r.course)]
    if not node.per_year or not study:
        counted = sum((_hours_of(records[i], policy) for i in chosen), Decimal(0))
        return node.hours, counted, chosen, ()
    # study years: consecutive 365.25-day stretches of study time
    year_days = Decimal("365.25")
    total_days = sum((end - start).days for start, end in study)
    years = max(1, math.ceil(Decimal(total_days) / year_days)) if total_days > 0 else 1
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
        got[min(years - 1, int(Decimal(offset) / year_days))] += _hours_of(records[i], policy)
    needed = Decimal(0)
    counted = Decimal(0)
    notes = []
    for y in range(years):
        share = min(Decimal(1), (Decimal(total_days) - y * year_days) / year_days) if total_days else Decimal(1)
        share = max(share, Decimal(0))
        need_y = (node.hours * share).quantize(Decimal("0.1"), ROUND_CEILING)
        needed += need_y
        counted += min(got[y], need_y)
        notes.append(f"study year {y + 1}: {got[y]} of {need_y} hours")
    return needed, counted, chosen, tuple(notes)


class _Tree:
    """A program's requirement tree as the allocation sees it, for one day's catalog, waivers and substitutions: the
    leaves records are allocated to, the shared leaves, the hour pools, and which leaves a record may count toward
    (decided once per kind of record: course, category, tags, origin, level and mode). Built once and kept (see
    ``_tree_of``) for audits with neither waivers nor substitutions; read-only once built, but for that memo."""

    def __init__(self, program: Program, catalog: Catalog | None, as_of: date, waived: set[str],
                 substitutes: dict[str, dict[str, str]]):
        self.leaves: list[_Leaf] = []
        self.leaf_of_node: dict[int, _Leaf] = {}
        self.waived: dict[int, int] = {}
        """id(node) -> 0 for waived nodes (and everything under them)."""
        self.shared: list[_Leaf] = []
        self.hours: list[HoursRequirement] = []
        self.matchable: list[tuple[_Leaf, dict[str, str], int]] = []
        """Leaves in tree order (shared ones too) with the substitutions of their requirement and, for a shared
        leaf, its position in ``shared`` (else -1)."""
        self._eligible: dict[tuple, tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]] = {}

        def course_cost(code: str) -> int:
            course = catalog.course(program.institution, code, as_of) if catalog is not None else None
            return max(1, _cents(course.credits)) if course is not None else 100

        stack: list[tuple[Any, bool]] = [(program.requirements, False)]  # depth first, children in order
        while stack:
            node, under_waiver = stack.pop()
            kids = node.all if isinstance(node, AllRequirement) else node.of if isinstance(node, PickRequirement) \
                else ()
            if under_waiver or node.id in waived:
                self.waived[id(node)] = 0
                stack.extend((child, True) for child in reversed(kids))
                continue
            if kids or isinstance(node, (AllRequirement, PickRequirement)):
                stack.extend((child, False) for child in reversed(kids))
                continue
            if isinstance(node, HoursRequirement):
                self.hours.append(node)
                continue
            cap = None if node.max_external is None else _cents(node.max_external)
            if isinstance(node, CoursesRequirement):
                leaf = _Leaf(-1, node, "courses", codes=node.courses, cost=tuple(course_cost(c) for c in node.courses),
                             cap=cap)
            else:
                leaf = _Leaf(-1, node, "credits", need=_cents(node.credits), cap=cap)
            position = -1
            if node.shared:
                position = len(self.shared)
                self.shared.append(leaf)
            else:
                leaf.index = len(self.leaves)
                self.leaves.append(leaf)
                self.leaf_of_node[id(node)] = leaf
            self.matchable.append((leaf, substitutes.get(node.id, {}), position))

    def eligible(self, record: CreditRecord) -> tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]:
        """Where a record may count: ((leaf index, slot) of the leaves that are not shared, (position in
        ``shared``, slot) of the shared ones); slot is the course's place in a course list, else 0."""
        key = (record.course, record.category, record.tags, record.origin, record.level, record.mode)
        found = self._eligible.get(key)
        if found is None:
            options: list[tuple[int, int]] = []
            shared: list[tuple[int, int]] = []
            for leaf, subs, position in self.matchable:
                code = subs.get(record.course or "", record.course)
                if leaf.kind == "courses":
                    if code not in leaf.codes:
                        continue
                    slot = leaf.codes.index(code)  # type: ignore[arg-type]
                elif _matches(record, leaf.node.from_, code):
                    slot = 0
                else:
                    continue
                if position < 0:
                    options.append((leaf.index, slot))
                else:
                    shared.append((position, slot))
            found = self._eligible[key] = (tuple(options), tuple(shared))
        return found


_TREES: dict[tuple[int, int, date], tuple[Program, Catalog | None, _Tree]] = {}
_TREES_KEPT = 64


def _tree_of(program: Program, catalog: Catalog | None, as_of: date, waived: set[str],
             substitutes: dict[str, dict[str, str]]) -> _Tree:
    """The program's ``_Tree`` (kept for the programs audited lately when nothing is waived or substituted: a batch
    of audits of one program builds it once)."""
    if waived or substitutes:
        return _Tree(program, catalog, as_of, waived, substitutes)
    key = (id(program), id(catalog), as_of)
    kept = _TREES.get(key)
    if kept is not None and kept[0] is program and kept[1] is catalog:
        return kept[2]
    tree = _Tree(program, catalog, as_of, waived, substitutes)
    if len(_TREES) >= _TREES_KEPT:
        _TREES.clear()
    _TREES[key] = (program, catalog, tree)
    return tree


def _build_plan(program: Program, records: list[CreditRecord], *, policy: Policy, catalog: Catalog | None,
                as_of: date, waived: set[str], substitutes: dict[str, dict[str, str]],
                study: Sequence[tuple[date, date]] | None, limits: list[tuple[list[int], int]] | None = None
                ) -> _Plan:
    tree = _tree_of(program, catalog, as_of, waived, substitutes)
    limits = limits or []
    credits = [_cents(r.credits) for r in records]
    external = [r.origin != "home" for r in records]
    options: list[list[tuple[int, int]]] = []
    shared_members: list[list[tuple[int, int]]] = [[] for _ in tree.shared]
    for i, r in enumerate(records):
        opts, shared = tree.eligible(r)
        options.append(list(opts))
        for k, slot in shared:
            shared_members[k].append((i, slot))
    fixed = dict(tree.waived)
    shared_records: dict[int, list[int]] = {}
    shared_leaves: dict[int, _Leaf] = {}
    shared_external: dict[int, int] = {}
    for leaf, members in zip(tree.shared, shared_members):
        # a shared leaf counts every record it can use, beside whatever else counts them; of the recognised and
        # converted ones, no more than its own cap and the program's caps let count
        if leaf.kind == "credits":
            home = sum(credits[i] for i, _ in members if not external[i])
            ext = _within_limits({i: credits[i] for i, _ in members if external[i]}, limits)
            if leaf.cap is not None:
                ext = min(ext, leaf.cap)
            shared_external[id(leaf.node)] = ext
            fixed[id(leaf.node)] = max(0, leaf.need - home - ext)
        else:
            filled = {slot for _, slot in members}
            fixed[id(leaf.node)] = sum(c for k, c in enumerate(leaf.cost) if k not in filled)
        shared_records[id(leaf.node)] = [i for i, _ in members]
        shared_leaves[id(leaf.node)] = leaf
    hours: dict[int, tuple[Decimal, Decimal, list[int], tuple[str, ...]]] = {}
    for node in tree.hours:
        hours[id(node)] = _hour_pool(node, records, policy, study, program.standard_years)
        fixed[id(node)] = 0  # hours are not credits: an hour pool never adds to the credit shortfall
    problem = _Problem(tree.leaves, credits, external, options, program.requirements, tree.leaf_of_node, fixed)
    problem.limits = limits
    return _Plan(problem, records, substitutes, shared_records, shared_leaves, hours, shared_external)


def _within_limits(cents: Mapping[int, int], limits: Sequence[tuple[Sequence[int], int]]) -> int:
    """The most of these records' cents that can count together when each limit (records, cents) caps what its
    records count. The program's limits nest (online recognised or converted credits are among the recognised
    or converted ones), so each is applied, smallest first, to what the smaller ones inside it left."""
    units: list[tuple[frozenset[int], int]] = [(frozenset({i}), c) for i, c in cents.items()]
    for members, cap in sorted(limits, key=lambda limit: len(limit[0])):
        inside = frozenset(members)
        within = [u for u in units if u[0] <= inside]
        if within:
            units = [u for u in units if not u[0] <= inside]
            units.append((frozenset().union(*(u[0] for u in within)), min(cap, sum(u[1] for u in within))))
    return sum(c for _, c in units)


_allocated = Allocated.of_record  # looked up once: a result makes one per record counted


def _result(plan: _Plan, node: Any, assign: list[tuple[int, int] | None], waived_ids: set[str],
            under_waiver: bool = False) -> RequirementResult:
    problem = plan.problem
    waived = under_waiver or node.id in waived_ids
    title = node.title
    if isinstance(node, (AllRequirement, PickRequirement)):
        kids = node.all if isinstance(node, AllRequirement) else node.of
        children = tuple(_result(plan, c, assign, waived_ids, waived) for c in kids)
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
            id=node.id, title=title, kind="all" if isinstance(node, AllRequirement) else "pick", satisfied=satisfied,
            needed=Decimal(needed), counted=Decimal(min(met, needed)), unit="requirements", shortfall=shortfall,
            children=children, chosen=chosen, waived=waived)
    if isinstance(node, HoursRequirement):
        needed_h, counted_h, idx, notes = plan.hours.get(id(node), (node.hours, Decimal(0), [], ()))
        recs = tuple(_allocated(plan.records[i]) for i in idx)
        satisfied = waived or counted_h >= needed_h
        return RequirementResult.trusted(
            id=node.id, title=title, kind="hours", satisfied=satisfied, needed=needed_h, counted=counted_h,
            unit="hours", shortfall=ZERO if satisfied else needed_h - counted_h, records=recs, shared=node.shared,
            waived=waived, notes=notes)
    subs = plan.substitutes.get(node.id, {})
    shared = node.shared
    leaf = problem.leaf_of_node.get(id(node)) or plan.shared_leaves.get(id(node))
    # the leaf's records in date order (then event id)
    records = plan.records
    by_date: Any = plan.rank.__getitem__ if plan.rank is not None else (
        lambda i: (records[i].occurred_on, records[i].event_id))
    if shared or leaf is None:
        members = sorted(plan.shared_records.get(id(node), []), key=by_date)
    elif plan.members is not None:
        members = plan.members.get(leaf.index, [])
    else:
        members = sorted((i for i, a in enumerate(assign) if a is not None and a[0] == leaf.index), key=by_date)
    if isinstance(node, CoursesRequirement):
        by_code: dict[str, int] = {}
        for i in sorted(members, key=lambda i: (plan.records[i].origin != "home", -problem.credits[i],
                                                 plan.records[i].event_id)):
            by_code.setdefault(subs.get(plan.records[i].course or "", plan.records[i].course) or "", i)
        missing = tuple(c for c in node.courses if c not in by_code)
        cost = {c: k for k, c in enumerate(node.courses)}
        leaf_cost = leaf.cost if leaf is not None else tuple(100 for _ in node.courses)
        short = ZERO if waived else _credits_of(sum(leaf_cost[cost[c]] for c in missing))
        recs = tuple(_allocated(records[i], subs.get(records[i].course or "")) for i in members)
        return RequirementResult.trusted(
            id=node.id, title=title, kind="courses", satisfied=waived or not missing,
            needed=Decimal(len(node.courses)), counted=Decimal(len(node.courses) - len(missing)), unit="courses",
            shortfall=short, records=recs, missing=() if waived else missing, shared=shared, waived=waived)
    home = sum((plan.records[i].credits for i in members if not problem.external[i]), ZERO)
    notes: tuple[str, ...] = ()
    if shared:
        ext = sum((plan.records[i].credits for i in members if problem.external[i]), ZERO)
        counts = _credits_of(plan.shared_external.get(id(node), 0))
        if counts < ext:
            notes = (f"{ext} recognised or converted credits here; {counts} count (this requirement's "
                     "max_external, or the program's cap on recognised, converted or online credits)",)
        counted = (home + counts).quantize(_CENT)
        short = ZERO if waived else max(ZERO, node.credits - counted).quantize(_CENT)
        recs = tuple(_allocated(records[i], subs.get(records[i].course or "")) for i in members)
        return RequirementResult.trusted(
            id=node.id, title=title, kind="credits", satisfied=waived or short == 0, needed=node.credits,
            counted=counted, unit="credits", shortfall=short, records=recs, shared=shared, waived=waived,
            notes=notes)
    ext = sum((_credits_of(problem.credited[i]) if i in problem.credited else plan.records[i].credits
               for i in members if problem.external[i]), ZERO)
    trimmed = [i for i in members if i in problem.credited]
    if trimmed:
        notes += tuple(f"{plan.records[i].event_id}: {_credits_of(problem.credited[i])} of its "
                       f"{plan.records[i].credits} credits count here (the program's cap on recognised, converted "
                       "or online credits)" for i in trimmed)
    if node.max_external is not None and ext > node.max_external:
        notes = (f"{ext} recognised or converted credits here; {node.max_external} count",)
        ext = node.max_external
    counted = (home + ext).quantize(_CENT)
    short = ZERO if waived else max(ZERO, node.credits - counted).quantize(_CENT)
    recs = tuple(_allocated(records[i], subs.get(records[i].course or "")) for i in members)
    return RequirementResult.trusted(
        id=node.id, title=title, kind="credits", satisfied=waived or short == 0, needed=node.credits,
        counted=counted, unit="credits", shortfall=short, records=recs, shared=shared, waived=waived, notes=notes)


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
    policy = policy or program.policy
    ordered = sorted(records, key=_record_key)
    subs = {k: dict(v) for k, v in (substitutes or {}).items()}
    waived_ids = set(waived)
    where = {r.event_id: i for i, r in enumerate(ordered)}
    plan = _build_plan(program, ordered, policy=policy, catalog=catalog, as_of=as_of, waived=waived_ids,
                       substitutes=subs, study=study,
                       limits=[([where[e] for e in ids if e in where], _cents_down(cap)) for ids, cap in limits])
    assign, how = _solve(plan.problem, method="milp" if plan.problem.limits else method)
    plan.members = {}
    plan.rank = [0] * len(ordered)
    by_date = sorted(range(len(ordered)), key=lambda i: (ordered[i].occurred_on, ordered[i].event_id))
    for place, i in enumerate(by_date):
        plan.rank[i] = place
        if assign[i] is not None:
            plan.members.setdefault(assign[i][0], []).append(i)  # type: ignore[index]
    return _result(plan, program.requirements, assign, waived_ids), how


def _record_key(r: CreditRecord) -> tuple:
    return (r.occurred_on, r.course or "", r.category, r.origin, r.event_id, r.credits)


# ---------------------------------------------------------------------------------------------------------------
# The audit
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StudyHistory:
    """What the audit needs of a student's status history: the enrolment and the study periods."""

    enrolled_on: date
    mode: str
    status: str
    """On the audit date: active, suspended, withdrawn, graduated or not_enrolled."""
    periods: tuple[tuple[date, date | None, str | None], ...]
    """Study periods (start, end or None, what ended it), in order."""
    suspended_days: int
    entry_basis: str | None = None

    @classmethod
    def from_timeline(cls, timeline: Timeline, as_of: date) -> "StudyHistory | None":
        """The current enrolment's history on ``as_of`` (``None`` when the student was never enrolled)."""
        state = timeline.status_on(as_of)
        enrolment = state.enrolment
        if enrolment is None:
            return None
        periods: list[tuple[date, date | None, str | None]] = []
        start: date | None = None
        for s in timeline.states:
            if s.since > as_of:
                break
            if s.since < enrolment.start or s.enrolment is None or s.enrolment.start != enrolment.start:
                continue
            if s.status == "active" and start is None:
                start = s.since
            elif s.status in ("suspended", "withdrawn", "graduated") and start is not None:
                periods.append((start, s.since, s.status))
                start = None
        if start is not None:
            periods.append((start, None, None))
        suspended = 0
        for a, b in timeline.suspensions():
            if a > as_of or a < enrolment.start:
                continue
            suspended += ((min(b, as_of) if b is not None else as_of) - a).days
        return cls(enrolled_on=enrolment.start, mode=enrolment.mode, status=state.status, periods=tuple(periods),
                   suspended_days=suspended, entry_basis=enrolment.entry_basis)


def _expiry(records: Iterable[CreditRecord], *, policy: Policy, as_of: date) -> tuple[list[CreditRecord],
                                                                                       list[Excluded]]:
    kept, gone = [], []
    for r in records:
        if r.valid_until is not None and r.valid_until < as_of:
            gone.append(Excluded(record=r, credits=r.credits, code="certificate_expired",
                                 message=f"{r.title} ({r.outcome_id or r.event_id}) was valid until {r.valid_until}; "
                                         f"its {r.credits} credits no longer count on {as_of}"))
        elif policy.credit_validity_years is not None and add_years(r.occurred_on,
                                                                    policy.credit_validity_years) <= as_of:
            gone.append(Excluded(record=r, credits=r.credits, code="credit_expired",
                                 message=f"{r.course or r.category} {r.title} ({r.event_id}, {r.occurred_on}) is "
                                         f"older than the program's {policy.credit_validity_years}-year credit "
                                         f"validity on {as_of}"))
        else:
            kept.append(r)
    return kept, gone


_RATIO_CAPS = ("cap_external", "cap_online")


def _caps(records: list[CreditRecord], *, program: Program, policy: Policy
          ) -> tuple[list[CreditRecord], list[Excluded], list[CreditRecord], list[tuple[list[str], Decimal]]]:
    """The program's caps (``transfer.apply_caps``): what counts toward the total and what does not, and for the
    allocation the records with the credits the ratio caps trimmed given back, with the caps that bind as limits.

    The caps on recognised, converted and online credits limit how many such credits count, not which: the
    allocation chooses which of them fill requirements (within the cap), so a further record never leaves a
    requirement worse off than before.
    """
    result = apply_caps(records, total_credits=program.total_credits, policy=policy)
    trimmed: dict[str, Decimal] = {}
    for x in result.excluded:
        if x.code in _RATIO_CAPS:
            trimmed[x.record.event_id] = trimmed.get(x.record.event_id, ZERO) + x.credits
    if not trimmed:
        return list(result.counted), list(result.excluded), list(result.counted), []
    counted = {r.event_id: r for r in result.counted}
    pool: list[CreditRecord] = []
    for r in records:
        c = counted.get(r.event_id)
        back = trimmed.get(r.event_id, ZERO)
        if c is None and not back:
            continue
        credits = (c.credits if c is not None else ZERO) + back
        pool.append(r if credits == r.credits else r.model_copy(update={"credits": credits}))
    external_limit, online_limit = ratio_limits(program.total_credits, policy=policy)
    external = [r for r in pool if is_external(r)]
    online_home = sum((r.credits for r in pool if not is_external(r) and is_online(r)), ZERO)
    online = [r for r in external if is_online(r)]
    limits: list[tuple[list[str], Decimal]] = []
    if sum((r.credits for r in external), ZERO) > external_limit:
        limits.append(([r.event_id for r in external], external_limit))
    if sum((r.credits for r in online), ZERO) > max(online_limit - online_home, ZERO):
        limits.append(([r.event_id for r in online], max(online_limit - online_home, ZERO)))
    return list(result.counted), list(result.excluded), pool, limits


def audit(program: Program, records: Iterable[CreditRecord], *, as_of: date, policy: Policy | None = None,
          catalog: Catalog | None = None, history: StudyHistory | None = None,
          exceptions: Iterable[Any] = (), student_id: str = "", method: str = "auto") -> AuditReport:
    """Audit a student's effective credit records against a program on ``as_of``.

    Args:
        program: the program (its catalog version in force).
        records: the effective records (``Ledger.transcript(...).records``); expiry and caps are applied here.
        as_of: the audit's date.
        policy: overrides the program's policy.
        catalog: for the credits of listed courses (the shortfall of a missing course); without it a missing
            course counts as one credit.
        history: the student's enrolment and study periods; without it the audit judges requirements only.
        exceptions: ``ExceptionGranted`` events in force (waive a requirement, substitute a course).
        student_id: for the report.
        method: the allocation method (``auto``; ``search`` or ``milp`` for tests).
    """
    policy = policy or program.policy
    issues: list[Issue] = []

    def issue(code: str, message: str) -> None:
        issues.append(Issue(code=code, message=f"student {student_id}, program {program.code}: {message}",
                            student_id=student_id or None))

    kept, excluded = _expiry(records, policy=policy, as_of=as_of)
    for x in excluded:
        issue(x.code, x.message)
    kept, capped, pool, limits = _caps(kept, program=program, policy=policy)
    excluded += capped

    # exceptions in force for this program
    node_ids = {n.id: n for n in _nodes(program.requirements)} if exceptions else {}
    waived: set[str] = set()
    substitutes: dict[str, dict[str, str]] = {}
    applied: list[AppliedException] = []
    for e in sorted(exceptions, key=lambda e: (e.occurred_on, e.event_id)):
        if e.occurred_on > as_of or (e.program is not None and e.program != program.code):
            continue
        node = node_ids.get(e.requirement_id)
        ok = node is not None and (e.action == "waive" or isinstance(node, (CoursesRequirement, CreditsRequirement)))
        if ok and e.action == "waive":
            waived.add(e.requirement_id)
        elif ok:
            substitutes.setdefault(e.requirement_id, {})[e.course] = e.replaces
        else:
            issue("exception_not_applied", f"exception {e.event_id} names requirement {e.requirement_id}, which "
                  f"this program does not have (or cannot take a substitution)")
        applied.append(AppliedException(event_id=e.event_id, requirement_id=e.requirement_id, action=e.action,
                                        course=e.course, replaces=e.replaces, applied=ok, reason=e.reason))

    study = None
    if history is not None:
        study = [(s, e if e is not None else as_of + timedelta(days=1)) for s, e, _ in history.periods]
    try:
        tree, how = evaluate(program, pool, as_of=as_of, policy=policy, catalog=catalog, waived=waived,
                             substitutes=substitutes, study=study, method=method, limits=limits)
    except _NoSolution:  # pragma: no cover - HiGHS failing twice; the records as the caps cut them, in order
        tree, how = evaluate(program, kept, as_of=as_of, policy=policy, catalog=catalog, waived=waived,
                             substitutes=substitutes, study=study, method=method)
        issue("allocation_within_caps_failed", "the integer program could not choose which recognised or "
              "converted credits fill requirements within the caps; the credits counted are taken in date order")

    home = sum((r.credits for r in kept if r.origin == "home"), ZERO)
    recognized = sum((r.credits for r in kept if r.origin == "recognized"), ZERO)
    converted = sum((r.credits for r in kept if r.origin == "converted"), ZERO)
    total = home + recognized + converted
    credits = AuditCredits(total=total, home=home, recognized=recognized, converted=converted,
                           required=program.total_credits)
    total_short = max(ZERO, program.total_credits - total)
    shortfall = max(tree.shortfall, total_short).quantize(_CENT)
    met = tree.satisfied and total_short == 0
    if total_short > 0:
        issue("total_credits_short", f"{total} of {program.total_credits} credits counted; {total_short} to go")
    if program.kind == "technician_class" and history is not None and history.entry_basis is None:
        met = False
        issue("entry_basis_missing", "a technician class (技师班) needs an entry basis (college graduate, veteran or "
              "titled technician), and this enrolment names none")

    # time and status
    enrolled_on = earliest = deadline = None
    part_time = False
    stages: tuple[Stage, ...] = ()
    projection = None
    awards: list[Award] = []
    if history is None:
        status = AuditStatus.ELIGIBLE if met else AuditStatus.REQUIREMENTS_MISSING
        if met:
            awards.append("graduation")
    else:
        enrolled_on = history.enrolled_on
        part_time = history.mode == "part_time"
        earliest = add_years(enrolled_on, program.earliest_years)
        deadline = add_years(enrolled_on, program.latest_years)
        if not policy.suspension_counts_toward_max:
            deadline += timedelta(days=history.suspended_days)
        if Decimal(history.suspended_days) / Decimal("365.25") > policy.max_suspension_years:
            issue("suspension_too_long", f"{history.suspended_days} days suspended (休学), more than the "
                  f"{policy.max_suspension_years} years the policy allows")
        study_days = sum(((e or as_of) - s).days for s, e, _ in history.periods)
        study_years = Decimal(study_days) / Decimal("365.25")
        standard_end = add_years(enrolled_on, program.standard_years)
        if not policy.suspension_counts_toward_max:
            standard_end += timedelta(days=history.suspended_days)
        stages = _stages(history, kept, as_of)
        if history.status == "graduated":
            status = AuditStatus.GRADUATED
        elif history.status == "withdrawn":
            status = AuditStatus.WITHDRAWN
        elif history.status == "not_enrolled":
            status = AuditStatus.NOT_ENROLLED
        elif as_of > deadline:
            status = AuditStatus.DEADLINE_PASSED
            issue("deadline_passed", f"the flexible-schooling deadline (弹性学制) was {deadline}; graduation is no "
                  "longer possible in this program")
        elif history.status == "suspended":
            status = AuditStatus.SUSPENDED
        elif not met:
            status = AuditStatus.REQUIREMENTS_MISSING
        elif as_of < earliest:
            status = AuditStatus.TOO_EARLY
            issue("too_early", f"requirements are met, but graduation is possible from {earliest} (enrolment "
                  f"{enrolled_on} + {program.earliest_years} years)")
        else:
            status = AuditStatus.ELIGIBLE
        if status == AuditStatus.ELIGIBLE:
            awards.append("graduation")
        if status not in (AuditStatus.ELIGIBLE, AuditStatus.GRADUATED, AuditStatus.NOT_ENROLLED):
            # 结业: the study period ended without graduation (requirements unmet, or the deadline passed);
            # 肄业: at least a year of study, leaving without graduation
            if (not met and as_of >= standard_end) or as_of > deadline:
                awards.append("completion")
            if study_years >= policy.partial_study_min_years and (not met or as_of > deadline):
                awards.append("partial_study")
        if status not in (AuditStatus.GRADUATED, AuditStatus.WITHDRAWN, AuditStatus.NOT_ENROLLED):
            projection = _projection(home, shortfall, study_days, as_of, earliest, deadline)
            if projection is not None and projection.at_risk:
                when = projection.graduate_on or "never, at the rate so far"
                issue("at_risk_deadline", f"at {projection.rate_per_year} credits a year the student would graduate "
                      f"{when}, after the deadline {deadline}")
    eligible = status in PASSING_STATUSES
    if not met:
        for leaf in _unmet_leaves(tree):
            issue("requirement_unmet", f"requirement {leaf.id} {leaf.title}: {amount(leaf)}"
                  + (f", missing {', '.join(leaf.missing)}" if leaf.missing else ""))
    # the award to show: graduation when eligible; an exit award when study has ended (结业 at the end of the study
    # period, 肄业 on leaving early); ``awards`` keeps every award the audit would support if recorded now
    ended = status in (AuditStatus.WITHDRAWN, AuditStatus.DEADLINE_PASSED) or "completion" in awards
    shown = awards[0] if awards and (awards[0] == "graduation" or ended) else None
    return AuditReport(
        student_id=student_id, program=program.code, institution=program.institution, program_title=program.title,
        as_of=as_of, status=status, eligible=eligible, award=shown, awards=tuple(awards),
        part_time=part_time, enrolled_on=enrolled_on, earliest_date=earliest, deadline=deadline, credits=credits,
        shortfall=shortfall, requirements=tree, stages=stages, projection=projection, excluded=tuple(excluded),
        exceptions=tuple(applied), issues=tuple(issues), solver=how,
    )


def _nodes(node: Any) -> Iterable[Any]:
    yield node
    for child in getattr(node, "all", None) or getattr(node, "of", None) or ():
        yield from _nodes(child)


def _unmet_leaves(node: RequirementResult) -> Iterable[RequirementResult]:
    if node.satisfied:
        return
    if not node.children:
        yield node
        return
    if node.kind == "pick":
        for child in node.children:
            if child.id in node.chosen:
                yield from _unmet_leaves(child)
        return
    for child in node.children:
        yield from _unmet_leaves(child)


def _stages(history: StudyHistory, records: Sequence[CreditRecord], as_of: date) -> tuple[Stage, ...]:
    """Credits per study period; a record dated outside every period goes to the latest one begun before it."""
    periods = history.periods
    if not periods:
        return ()
    sums = [ZERO] * len(periods)
    for r in records:
        k = 0
        for i, (start, _end, _by) in enumerate(periods):
            if r.occurred_on >= start:
                k = i
        sums[k] += r.credits
    out = []
    running = ZERO
    for (start, end, by), credits in zip(periods, sums):
        running += credits
        out.append(Stage(start=start, end=end, credits=credits, cumulative=running, ended_by=by))
    return tuple(out)


_PROJECTION_MIN_DAYS = 90
"""Study time needed before a credit rate means anything (a term, about)."""


def _projection(earned: Decimal, remaining: Decimal, study_days: int, as_of: date, earliest: date,
                deadline: date) -> Projection | None:
    """The finish date at the rate of credits earned by study (home credits per study day; recognised and converted
    credits come in at once and say nothing of the pace). ``None`` before a term of study, unless nothing remains."""
    if remaining > 0 and study_days < _PROJECTION_MIN_DAYS:
        return None
    rate = (earned / Decimal(study_days) * Decimal("365.25")).quantize(_CENT) if study_days > 0 else ZERO
    if remaining <= 0:
        finish: date | None = as_of
    elif earned > 0:
        days = math.ceil(remaining * Decimal(study_days) / earned)
        finish = as_of + timedelta(days=days) if days < 100 * 366 else None
    else:
        finish = None
    graduate = max(finish, earliest) if finish is not None else None
    at_risk = graduate is None or graduate > deadline
    return Projection(rate_per_year=rate, remaining=remaining, finish_on=finish, graduate_on=graduate,
                      at_risk=at_risk)


# ---------------------------------------------------------------------------------------------------------------
# A student's history, audited
# ---------------------------------------------------------------------------------------------------------------

_RETROACTIVE = frozenset({"entry_reversed", "grade_corrected", "outcome_revoked"})
"""Kinds that change what an earlier record was worth: they weigh on a past graduation when recorded later."""


def audit_history(events: Sequence[Any], *, catalog: Catalog, as_of: date, program: Program | str | None = None,
                  student_id: str | None = None, method: str = "auto") -> AuditReport:
    """Audit one student's events (in recording order) on ``as_of``: the pure function behind ``Ledger.audit``.

    ``program``: another program to audit against (a what-if), by code at the student's institution or as a
    ``Program``; by default the student's program on ``as_of``. A student who has graduated is audited as on the
    graduation day, with reversals, corrections and revocations recorded since applied: if they remove the award's
    support, the report raises ``graduation_unsupported``.

    Raises:
        UnknownReference: the student has no enrolment and no program is named, or the program is unknown.
    """
    events = [e for e in events if e.occurred_on <= as_of]
    student_id = student_id or (events[0].student_id if events else "")
    reversed_ids = {e.target_event_id for e in events if e.kind == "entry_reversed"}
    timeline = build_timeline(events)
    state = timeline.status_on(as_of)
    enrolment = state.enrolment or timeline.current_enrolment()

    def unknown(message: str) -> UnknownReference:
        return UnknownReference([Issue(code="unknown_program", student_id=student_id,
                                       message=f"student {student_id}: {message}")])

    if isinstance(program, Program):
        chosen = program
    else:
        if enrolment is None and program is None:
            raise unknown("no enrolment on or before "
                          f"{as_of}; name a program to audit against")
        institution = enrolment.institution if enrolment else None
        code = program or enrolment.program  # type: ignore[union-attr]
        found = [p for p in catalog.programs if p.code == code and (institution is None or p.institution == institution)]
        if not found:
            raise unknown(f"program {code} is not in the catalog"
                          + (f" of {institution}" if institution else ""))
        chosen = (catalog.program(found[0].institution, code, as_of) or catalog.program(found[0].institution, code))

    graduation = next((e for e in reversed(events) if e.kind == "graduated" and e.event_id not in reversed_ids), None)
    if state.status == "graduated" and graduation is not None:
        day = graduation.occurred_on
        support_events = [e for e in events if e.kind != "graduated"
                          and (e.occurred_on <= day or e.kind in _RETROACTIVE)]
        # the status history up to the award, without it (of the support events too: they add no status change)
        before = build_timeline([e for e in events if e.occurred_on <= day and e.kind != "graduated"])
        awarded_in = _program_on(before, catalog, day)
        what_if = awarded_in is None or chosen.code != awarded_in.code or chosen.institution != awarded_in.institution
        support = _audit_on(support_events, chosen, catalog=catalog, as_of=day, timeline=before,
                            student_id=student_id, reversed_ids=reversed_ids, method=method)
        extra: list[Issue] = []
        if not what_if and not support.supports(graduation.award):
            extra.append(Issue(code="graduation_unsupported", student_id=student_id, event_id=graduation.event_id,
                               message=f"student {student_id}: the award {graduation.award} of {day} "
                                       f"({graduation.event_id}) is no longer supported by the ledger: the audit "
                                       f"on that day, with later reversals, corrections and revocations applied, "
                                       f"says {support.status.value} (shortfall {support.shortfall})"))
        stages = support.stages
        if stages and stages[-1].end is None:
            stages = stages[:-1] + (stages[-1].model_copy(update={"end": day, "ended_by": "graduated"}),)
        # a what-if audit of a graduate says what the other program would have made of the record on that day
        awarded = () if what_if or extra else (graduation.award,)
        return support.model_copy(update={
            "stages": stages, "status": AuditStatus.GRADUATED, "eligible": False, "as_of": as_of,
            "award": None if what_if else graduation.award, "awards": awarded,
            "issues": support.issues + tuple(extra), "projection": None})
    return _audit_on(events, chosen, catalog=catalog, as_of=as_of, timeline=timeline,
                     student_id=student_id, reversed_ids=reversed_ids, method=method)


def _program_code_on(timeline: Timeline, day: date) -> str | None:
    """The code of the program the student is in on ``day`` (``None`` when not enrolled)."""
    enrolment = timeline.status_on(day).enrolment
    return enrolment.program if enrolment is not None else None


def _program_on(timeline: Timeline, catalog: Catalog, day: date) -> Program | None:
    """The program the student is in on ``day`` (its catalog version then)."""
    enrolment = timeline.status_on(day).enrolment
    if enrolment is None:
        return None
    return catalog.program(enrolment.institution, enrolment.program, day) or catalog.program(
        enrolment.institution, enrolment.program)


def _audit_on(events: Sequence[Any], program: Program, *, catalog: Catalog, as_of: date,
              timeline: Timeline, student_id: str, reversed_ids: set[str], method: str) -> AuditReport:
    """``timeline``: ``build_timeline(events)`` (the status events of ``events``)."""
    records = transcript_records(events, catalog=catalog, policy=program.policy, timeline=timeline)
    history = StudyHistory.from_timeline(timeline, as_of)
    # an exception that names no program is for the program the student was in when it was granted
    exceptions = [e if e.program is not None else e.model_copy(update={
                      "program": _program_code_on(timeline, e.occurred_on)})
                  for e in events if e.kind == "exception_granted" and e.event_id not in reversed_ids]
    report = audit(program, records, as_of=as_of, catalog=catalog, history=history, exceptions=exceptions,
                   student_id=student_id, method=method)
    if history is None:
        report = report.model_copy(update={
            "status": AuditStatus.NOT_ENROLLED, "eligible": False, "award": None, "awards": ()})
    return report
