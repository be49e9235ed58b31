"""The search of the allocation: every placement checked, or proved needless by a bound.

``search`` places the records with one possible place, then those with one place they could help (exact, see
``credit_ledger.allocation.heuristics``), then tries the choices of ``pick`` children best bound first, cutting
when a choice's bound cannot beat the best so far (``credit_ledger.allocation.flow``). For one choice the leaves
that count make an additive problem (``Targets``), whose records split into independent groups (records linked
through the targets they could fill, ``solve_targets``); a group solved for one choice is kept for the others.
Each group (``solve_group``) is placed greedily, then, unless a bound proves that best, by the other heuristics,
then, unless one reaches the flow bound, by branch and bound under it (``Search``): records in order, each in one
of its targets (most gain first) or nowhere, cut by the cheap bounds, then the flow; identical records placed in
order, and states seen before with as much gain skipped. Every search node spends one of a budget shared by the
whole allocation; past it ``BudgetExceeded`` hands the problem to the integer program.

>>> from credit_ledger.allocation.problem import Leaf, Place, Problem, Targets
>>> pools = [Leaf(0, None, "credits", need=500), Leaf(1, None, "credits", need=300),
...          Leaf(2, None, "credits", need=150)]
>>> problem = Problem(pools, [500, 300, 100], [False] * 3,
...                   [[Place(0, 0), Place(1, 0)], [Place(0, 0), Place(2, 0)], [Place(2, 0)]], None, {}, {})
>>> tg = Targets(problem, frozenset({0, 1, 2}), problem.empty_state())
>>> solve_group(tg, [0, 1, 2], {0: [0, 1], 1: [0, 2], 2: [2]}, [1000])
(700, {0: 1, 1: 0, 2: 2}, 'search')

Greedily, the 5.00-credit record fills the first pool, the 3.00 goes to the third and the 1.00 has nowhere left
to help (a fall of 6.50 of the 9.50 missing); no heuristic reaches the flow bound, and the search finds the 5.00
record in the second pool, the 3.00 in the first and the 1.00 in the third (7.00).
"""

from __future__ import annotations

from typing import Mapping, Sequence

from .flow import Flow, best_gains, cheap_bound, rank_choices
from .heuristics import improve, place_greedily, place_single, unplace
from .problem import Allocation, Place, Problem, Targets, pick_combinations, settled_picks


def search(problem: Problem, *, node_budget: int, choice_limit: int) -> Allocation | None:
    """An allocation with the least total shortfall, found by the heuristics and bounds, and by branch and bound
    where they prove nothing: ``how`` is ``greedy`` when no search ran (every placement proved by a bound),
    ``search`` when one did. ``None`` when there are more than ``choice_limit`` ways to choose ``pick`` children.

    Raises:
        BudgetExceeded: the branch and bound used ``node_budget`` nodes.
    """
    assign: list[Place | None] = [None] * len(problem.options)
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
        return Allocation(assign, "greedy", {})
    # per contested record, the places it could help in the starting state (the same for every choice)
    starting = Targets(problem, frozenset(range(len(problem.leaves))), state)
    useful: dict[int, list[int]] = {}  # per contested record: the targets it could help
    users: dict[int, list[int]] = {}  # per target: the records that could help it
    single: list[int] = []
    # a record gains in a target when the target is short and, for an external record in a capped pool, has room
    # under its cap (and, in a pool, when it has credits): ``Targets.gain`` > 0, found once per target here
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
    for r, t in place_single(starting, useful, users, single).items():
        assign[r] = starting.keys[t]
        problem.add(state, r, *starting.keys[t])
    contested = [r for r in contested if useful.get(r)]
    if not contested:
        return Allocation(assign, "greedy", {})
    useful = {r: useful[r] for r in contested}
    settled = settled_picks(problem, problem.root, state)
    combos = pick_combinations(problem, problem.root, choice_limit, settled)
    if combos is None:
        return None
    budget = [node_budget]
    memo: dict[tuple, tuple[int, dict[int, Place], str]] = {}
    best_value: int | None = None
    best_assign = assign
    how = "greedy"
    for cheap, const, active in rank_choices(problem, state, starting, contested, useful, combos):
        if best_value is not None and cheap >= best_value:
            break
        tg = starting.counting(active)
        value, placed, used = solve_targets(tg, useful, users, budget, best_value - const
                                            if best_value is not None else None, memo)
        if placed is None:
            continue
        if best_value is None or const + value < best_value:
            best_value = const + value
            best_assign = list(assign)
            for r, key in placed.items():
                best_assign[r] = key
            how = used
    return Allocation(best_assign, how, {})


def solve_targets(tg: Targets, contested: Mapping[int, Sequence[int]],
                  users: Mapping[int, Sequence[int]], budget: list[int], ceiling: int | None,
                  memo: dict[tuple, tuple[int, dict[int, Place], str]]
                  ) -> tuple[int, dict[int, Place] | None, str]:
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
    placed: dict[int, Place] = {r: keys[t] for r, t in place_single(tg, targets_of, users, single).items()}
    deficits = tg.deficits()
    base = sum([deficits[t] for t in tg.targets])
    if ceiling is not None:  # no better than the incumbent even by what the records give one at a time: skip
        cheap = cheap_bound(tg, list(targets_of), targets_of)
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
    most: list[int] = []  # per group, the most it could give (a bound)
    flows: dict[tuple, Flow] = {}  # the flows behind those bounds, for the search
    if ceiling is not None:  # no better than the incumbent even by a bound on what the records could give: skip
        known = [memo[k][0] if k in memo else None for _rs, k in ordered]
        cheap = sum(b if b is not None else cheap_bound(tg, rs, targets_of)
                    for b, (rs, _k) in zip(known, ordered, strict=True))
        if base - cheap >= ceiling:
            return base - cheap, None, how
        # the flow bound (records split), kept for the group's own proof
        for (rs, k), b in zip(ordered, known, strict=True):
            if b is None:
                if len(rs) > 1:
                    flows[k] = flow = Flow(tg, rs, targets_of)
                    b = bounds[k] = flow.value(0, best_gains(tg, rs, targets_of))
                else:
                    b = bounds[k] = max((tg.gain(rs[0], t) for t in targets_of[rs[0]]), default=0)
            most.append(b)
        left = sum(most)
        if base - left >= ceiling:
            return base - left, None, how
    for i, (records, key) in enumerate(ordered):
        found = memo.get(key)
        if found is None:
            got, where, used = solve_group(tg, records, targets_of, budget, bounds.get(key), flows.get(key))
            found = memo[key] = (got, {r: keys[t] for r, t in where.items()}, used)
        got, where_keys, used = found
        total_gain += got
        if used != "greedy":
            how = "search"
        placed.update(where_keys)
        if ceiling is not None:
            left -= most[i]
            if base - total_gain - left >= ceiling:  # the groups left cannot make up for this one
                return base - total_gain - left, None, how
    value = base - total_gain
    if ceiling is not None and value >= ceiling:
        return value, None, how
    return value, placed, how


def solve_group(tg: Targets, records: list[int], targets_of: Mapping[int, Sequence[int]], budget: list[int],
                bound_gain: int | None = None, flow: Flow | None = None) -> tuple[int, dict[int, int], str]:
    """The largest fall in deficit one group of records can give, and where each goes (records that cannot help
    anywhere are left out). ``bound_gain``: the group's flow bound, and ``flow`` the flow it came from, when the
    caller has them."""
    # greedy: biggest first, each where it lowers a deficit most (the first such target on a tie)
    gained, greedy = place_greedily(tg, records, targets_of)
    unplace(tg, greedy)
    if len(records) == 1 or gained >= cheap_bound(tg, records, targets_of):
        return gained, greedy, "greedy"  # one record, or as much as the records could give at most
    if flow is None:
        flow = Flow(tg, records, targets_of)
    if bound_gain is None:
        bound_gain = flow.value(0, best_gains(tg, records, targets_of))
    if gained < bound_gain:
        # a second try before the search: the records with fewest places first, then moves and swaps of single
        # records while they lower the total deficit; still "greedy" when it reaches the bound (proved optimal)
        order = sorted(records, key=lambda r: len(targets_of[r]))
        for start in (greedy, None):
            got, where = place_greedily(tg, order, targets_of, start)
            got = improve(tg, records, targets_of, where, got, bound_gain)
            unplace(tg, where)
            if got > gained:
                gained, greedy = got, where
            if gained >= bound_gain:
                break
    if gained < bound_gain:
        # a third: each record where the flow of the bound sends most of it, then moves and swaps
        flow.value(0, best_gains(tg, records, targets_of))
        got, where = place_greedily(tg, records, targets_of, flow.rounded(records, targets_of))
        got = improve(tg, records, targets_of, where, got, bound_gain)
        unplace(tg, where)
        if got > gained:
            gained, greedy = got, where
    if gained >= bound_gain:
        return gained, greedy, "greedy"
    search = Search(tg, records, targets_of, budget, bound_gain, flow, gained, greedy)
    search.run(0, 0)
    return search.best, search.best_where, "search"


class Search:
    """Branch and bound over one group's records under the flow bound: records in order, each in one of its targets
    (most gain first) or, when it gains nowhere, nowhere. A class rather than a recursive closure: a closure that
    calls itself is a reference cycle, left for the garbage collector after every search."""

    def __init__(self, tg: Targets, records: list[int], targets_of: Mapping[int, Sequence[int]], budget: list[int],
                 bound_gain: int, flow: Flow, gained: int, where: Mapping[int, int]):
        self.tg, self.records, self.budget, self.bound, self.flow = tg, records, budget, bound_gain, flow
        self.best, self.best_where = gained, dict(where)
        self.current: dict[int, int] = {}
        problem = tg.problem
        credits, external = problem.credits, problem.external
        self.group_targets = group_targets = sorted({t for r in records for t in targets_of[r]})
        pos = {t: j for j, t in enumerate(group_targets)}
        self.capped = [t for t in group_targets if tg.cap[t] is not None and not tg.kind[t]]
        self.room_cap = [c if c is not None else 0 for c in tg.cap]
        """Per target, its cap on external cents (0 for none: read only for the capped pools)."""
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
            raise BudgetExceeded
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
        left = []  # per record left, the most it gives one target now (best_gains, inline)
        into = [0] * len(deficits)  # per target, what the records left give it one at a time (as cheap_bound)
        options: list[tuple[int, int]] = []
        credits, places, room_cap = self.credits, self.places, self.room_cap
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
                        room = room_cap[t] - ext[t]
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
        for g, d in zip(into, deficits, strict=True):
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


class BudgetExceeded(Exception):
    """The branch and bound used its node budget; the integer program takes over."""


