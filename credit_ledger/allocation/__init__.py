"""Allocating records to requirements (学分分配): each record counts toward at most one leaf that is not shared,
never split, so that the root's shortfall is the least any allocation leaves.

One entry point chooses the method, the way ``networkx.algorithms.flow`` chooses its flow function:

- ``auto`` (the default): exact placements and bounds, the heuristics, then branch and bound
  (``credit_ledger.allocation.search``); the integer program (``credit_ledger.allocation.milp``) past the node
  budget or when there are more than 256 ways to choose ``pick`` children;
- ``search``: the same, ranking up to about a million ways to choose ``pick`` children;
- ``milp``: the integer program (the search, to the end, if HiGHS fails).

Whatever the method asked for, a problem with program-wide caps that bind (``Problem.limits``) is the integer
program's: only it can honour them.

>>> from credit_ledger.allocation.problem import Leaf
>>> from credit_ledger.models import Program
>>> program = Program.model_validate({"institution": "T", "code": "P", "title": "p", "level": "senior_worker",
...     "standard_years": 3, "total_credits": 8, "requirements": {"id": "root", "all": [
...         {"id": "A", "credits": 4, "from": {}}, {"id": "B", "credits": 4, "from": {}}]}})
>>> a, b = program.requirements.all
>>> leaves = [Leaf(0, a, "credits", need=400), Leaf(1, b, "credits", need=400)]
>>> problem = Problem(leaves, [600, 200], [False, False], [[Place(0, 0), Place(1, 0)], [Place(0, 0)]],
...                   program.requirements, {"A": leaves[0], "B": leaves[1]}, {})
>>> [solve(problem, method=method) for method in METHODS]  # doctest: +NORMALIZE_WHITESPACE
[Allocation(places=[Place(leaf=1, slot=0), Place(leaf=0, slot=0)], how='greedy', credited={}),
 Allocation(places=[Place(leaf=1, slot=0), Place(leaf=0, slot=0)], how='greedy', credited={}),
 Allocation(places=[Place(leaf=1, slot=0), Place(leaf=0, slot=0)], how='milp', credited={})]

The 2.00-credit record can only help the first pool, so it goes there; then the 6.00-credit record has one pool
it can still help. Nothing was left to search.
"""

from __future__ import annotations

from .milp import NoSolution, solve_milp
from .problem import Allocation, Leaf, Place, Problem
from .search import BudgetExceeded, search

__all__ = ["METHODS", "Allocation", "BudgetExceeded", "Leaf", "NoSolution", "Place", "Problem", "solve"]

METHODS = ("auto", "search", "milp")
"""The allocation methods ``solve`` knows (the tests run each against a brute-force oracle)."""

_CHOICES_RANKED = {"auto": 256, "search": 1 << 20}
"""Per method, the most ways to choose ``pick`` children the search ranks before the integer program takes over."""


def solve(problem: Problem, *, method: str = "auto", node_budget: int = 50000) -> Allocation:
    """An allocation of ``problem`` with the least total shortfall, by ``method`` (one of ``METHODS``); past
    ``node_budget`` search nodes the integer program takes over.

    Raises:
        ValueError: an unknown method.
        NoSolution: the integer program failed on a problem with program-wide caps (which only it can honour).
    """
    if method not in METHODS:
        raise ValueError(f"unknown allocation method {method!r}; one of {', '.join(METHODS)}")
    if method == "milp" or problem.limits:
        found = solve_milp(problem)
        if found is not None:
            return found
        if problem.limits:
            raise NoSolution
        # the integer program failed: search to the end
        found = search(problem, node_budget=1 << 62, choice_limit=_CHOICES_RANKED["search"])
        if found is None:
            raise NoSolution
        return found
    try:
        found = search(problem, node_budget=node_budget, choice_limit=_CHOICES_RANKED[method])
    except BudgetExceeded:
        found = None
    return found if found is not None else solve(problem, method="milp")
