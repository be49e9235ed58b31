"""The allocation as an integer program (整数规划), solved by scipy's HiGHS (``scipy.optimize.milp``).

It takes over where the search would take too long (past its node budget, or with more ways to choose ``pick``
children than the search ranks), and it alone honours the program-wide caps on recognised, converted and online
credits when they bind: they limit how many such credits count, and the program chooses which.

The variables, all in cents: per record and place, a binary x (at most one place per record); per external record
in a pool, the credits y it gives there (all of them, or fewer under a program-wide cap); per credit pool a
shortfall s >= need - home - min(external, cap); per course slot a covered flag; per ``pick`` node binary choices
z, with the shortfall of an unchosen child switched off by a big-M (the most that child can lack). The objective
is the root's shortfall.

>>> from credit_ledger.allocation.problem import Leaf, Place, Problem
>>> from credit_ledger.models import Program
>>> program = Program.model_validate({"institution": "T", "code": "P", "title": "p", "level": "senior_worker",
...     "standard_years": 3, "total_credits": 8, "requirements": {"id": "root", "all": [
...         {"id": "A", "credits": 4, "from": {}}, {"id": "B", "credits": 4, "from": {}}]}})
>>> a, b = program.requirements.all
>>> leaves = [Leaf(0, a, "credits", need=400), Leaf(1, b, "credits", need=400)]
>>> problem = Problem(leaves, [600, 200], [False, False], [[Place(0, 0), Place(1, 0)], [Place(0, 0)]],
...                   program.requirements, {"A": leaves[0], "B": leaves[1]}, {})
>>> solve_milp(problem)
Allocation(places=[Place(leaf=1, slot=0), Place(leaf=0, slot=0)], how='milp', credited={})
"""

from __future__ import annotations

from typing import Any

from ..models import AllRequirement, PickRequirement
from .problem import Allocation, Place, Problem


class NoSolution(Exception):
    """The integer program failed on a problem with program-wide caps, which only it can honour."""


def solve_milp(problem: Problem) -> Allocation | None:
    """The best allocation by the integer program, or ``None`` when HiGHS fails (with and without presolve)."""
    import numpy as np
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import lil_matrix

    program = _IntegerProgram(problem, np.inf)
    index, rows, variables = program.index, program.rows, program.variables
    root = program.node_var(problem.root)
    for members, cap in problem.limits:
        # a cap limits the credits counted in pools; a course stands for its equivalent whatever its credits count
        coef: dict[int, float] = {index[("credit", r, leaf)]: 1 for r in members for leaf, _slot in problem.options[r]
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
    assign: list[Place | None] = [None] * len(problem.options)
    credited: dict[int, int] = {}
    for r, opts in enumerate(problem.options):
        for leaf, slot in opts:
            if result.x[index[("x", r, leaf, slot)]] > 0.5:
                assign[r] = Place(leaf, slot)
                y = index.get(("credit", r, leaf))
                if problem.limits and y is not None:
                    got = min(problem.credits[r], int(round(result.x[y])))
                    if got < problem.credits[r]:
                        credited[r] = got
    return Allocation(assign, "milp", credited)


class _IntegerProgram:
    """The program's variables and rows as they are built: the records' placements first, then the tree's nodes
    from the root down (``node_var``). A class rather than recursive closures, which would be reference cycles."""

    def __init__(self, problem: Problem, inf: float):
        self.problem = problem
        self.inf = inf
        self.variables: list[tuple[Any, tuple[float, float, bool]]] = []
        self.index: dict[Any, int] = {}
        self.rows: list[tuple[dict[int, float], float, float]] = []
        var, index, rows = self.var, self.index, self.rows
        for r, opts in enumerate(problem.options):
            for leaf, slot in opts:
                var(("x", r, leaf, slot), 0, 1, True)
                if problem.external[r] and problem.leaves[leaf].kind == "credits":
                    # the credits it gives the pool: all of them, or fewer under a program-wide cap
                    y = var(("credit", r, leaf), 0, problem.credits[r], True)
                    rows.append(({y: 1, index[("x", r, leaf, slot)]: -problem.credits[r]}, -inf, 0))
            if len(opts) > 1:
                rows.append(({index[("x", r, leaf, slot)]: 1 for leaf, slot in opts}, -inf, 1))

    def var(self, key: Any, lo: float = 0, hi: float | None = None, integer: bool = False) -> int:
        """The variable of ``key`` (made on first use, with bounds ``lo``..``hi``, no upper bound by default)."""
        index = self.index
        if key not in index:
            index[key] = len(self.variables)
            self.variables.append((key, (lo, self.inf if hi is None else hi, integer)))
        return index[key]

    def most(self, node: Any) -> int:
        """The largest shortfall a node can have (a tight big-M for the pick constraints)."""
        problem = self.problem
        fixed = problem.fixed_shortfall.get(node.id)
        if fixed is not None:
            return fixed
        leaf = problem.leaf_of.get(node.id)
        if leaf is not None:
            return leaf.need if leaf.kind == "credits" else sum(leaf.cost)
        if isinstance(node, AllRequirement):
            return sum(self.most(c) for c in node.all)
        if isinstance(node, PickRequirement):
            return sum(sorted((self.most(c) for c in node.of), reverse=True)[:node.pick])
        return 0

    def node_var(self, node: Any) -> int:
        """A variable equal to (at least) the node's shortfall, in cents."""
        problem, var, index, rows, inf = self.problem, self.var, self.index, self.rows, self.inf
        v = var(("s", node.id), 0)
        fixed = problem.fixed_shortfall.get(node.id)
        leaf = problem.leaf_of.get(node.id)
        coef: dict[int, float]
        if fixed is not None:
            rows.append(({v: 1}, fixed, fixed))
        elif leaf is not None and leaf.kind == "credits":
            # s + home + e >= need; e <= external; e <= cap
            e = var(("e", leaf.index), 0, None if leaf.cap is None else leaf.cap)
            coef = {v: 1, e: 1}
            ext: dict[int, float] = {e: 1}
            for r, opts in enumerate(problem.options):
                for lf, slot in opts:
                    if lf == leaf.index:
                        if problem.external[r]:
                            ext[index[("credit", r, lf)]] = -1
                        else:
                            coef[index[("x", r, lf, slot)]] = problem.credits[r]
            rows.append((coef, leaf.need, inf))
            rows.append((ext, -inf, 0))
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
                rows.append((cover, -inf, 0))
            rows.append((coef, total, inf))
        elif isinstance(node, AllRequirement):
            coef = {v: 1}
            for child in node.all:
                c = self.node_var(child)
                coef[c] = coef.get(c, 0) - 1
            rows.append((coef, 0, inf))
        elif isinstance(node, PickRequirement):
            # s >= sum w_c; w_c >= s_c - big (1 - z_c); sum z_c = pick
            coef = {v: 1}
            picks: dict[int, float] = {}
            for child in node.of:
                c = self.node_var(child)
                w = var(("w", node.id, child.id), 0)
                z = var(("z", node.id, child.id), 0, 1, True)
                coef[w] = -1
                picks[z] = 1
                big = self.most(child)
                rows.append(({w: 1, c: -1, z: -big}, -big, inf))
            rows.append((coef, 0, inf))
            rows.append((picks, node.pick, node.pick))
        else:
            rows.append(({v: 1}, 0, 0))
        return v
