"""Bounds of the allocation: how much the records could lower the deficits at most, so that a placement that
reaches a bound is proved the best, and a choice or branch that cannot beat the best so far is cut.

- **The cheap bounds** (``cheap_bound``): the records together give no more than each gives alone where it gives
  most, and no target more than its deficit or than its records give it one at a time (a record's gain only falls
  as others are added). ``rank_choices`` ranks the choices of ``pick`` children by such bounds, best first.
- **The max-flow bound** (``Flow``): source -> records -> (a gate per capped pool, for external records) -> targets
  -> sink, as if records could be split; each record's supply is its credits, or tighter, the most it gives one
  target now (``best_gains``).

A worked example: two pools each 4.00 credits short; a 6.00-credit record may go to either, a 2.00-credit record
only to the first. Split, the records could fill both (8.00); whole, the big record fills one pool, so at most
6.00, and the bounds with each record's best single gain say so:

>>> from credit_ledger.allocation.problem import Leaf, Place, Problem, Targets
>>> pools = [Leaf(0, None, "credits", need=400), Leaf(1, None, "credits", need=400)]
>>> problem = Problem(pools, [600, 200], [False, False], [[Place(0, 0), Place(1, 0)], [Place(0, 0)]], None, {}, {})
>>> tg = Targets(problem, frozenset({0, 1}), problem.empty_state())
>>> targets_of = {0: [0, 1], 1: [0]}
>>> flow = Flow(tg, [0, 1], targets_of)
>>> flow.value(0), flow.value(0, best_gains(tg, [0, 1], targets_of)), cheap_bound(tg, [0, 1], targets_of)
(800, 600, 600)
"""

from __future__ import annotations

from typing import Mapping, Sequence

from .problem import Combination, Problem, Targets


def rank_choices(problem: Problem, state: list[list[int]], starting: Targets, contested: Sequence[int],
                 useful: Mapping[int, Sequence[int]], combos: list[Combination]
                 ) -> list[tuple[int, int, frozenset[int]]]:
    """The choices of ``pick`` children as (bound on the root's shortfall, shortfall fixed outside the allocation,
    leaves that count), best bound first. ``state``: the leaves with the records that have one place; ``starting``:
    its targets, every leaf counting; ``useful``: per contested record, the targets it could help there."""
    if len(combos) == 1:  # one way to count the leaves: nothing to rank
        return [(0, combos[0][1], combos[0][0])]
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

    return sorted(((max(const + sum(relaxed[i] for i in active), by_record(active, const)), const, active)
                   for active, const in combos), key=lambda x: x[0])


class Flow:
    """Maximum flow source -> records -> (external gate) -> targets -> sink for one group of records, built once
    and re-run as the search places records (an edge list with paired reverse edges; a first pass over the direct
    paths, then augmenting paths by BFS)."""

    def __init__(self, tg: Targets, records: Sequence[int], targets_of: Mapping[int, Sequence[int]]):
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
        self.gate_cap = [c for c in (tg.cap[t] for t in gated) if c is not None]
        """Per gate, its pool's cap on external cents (the gated pools are the capped ones)."""
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
        for r, mine, ts in zip(records, self.paths, (targets_of[r] for r in records), strict=True):
            most, best = 0, -1
            for (e, _gate, _sink), t in zip(mine, ts, strict=True):
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
        ``best_gains``); ``deficits``: the targets' deficits in order, when the caller has them; ``enough``: the
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
            for (_t, e), d in zip(self.sink_edge, deficits, strict=True):
                cap[e] = d
                demand += d
        if not demand:
            return 0
        if enough is None or enough >= demand:
            enough = demand - 1  # nothing above the demand: stop there
        for (t, e), most in zip(self.gate_edge, self.gate_cap, strict=True):
            cap[e] = max(0, most - tg.ext[t])
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


def best_gains(tg: Targets, records: Sequence[int], targets_of: Mapping[int, Sequence[int]]) -> list[int]:
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


def cheap_bound(tg: Targets, records: Sequence[int], targets_of: Mapping[int, Sequence[int]]) -> int:
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
                if outside:
                    most_t = cap[t]
                    if most_t is not None and most_t - ext[t] < c:
                        room = max(0, most_t - ext[t])
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



