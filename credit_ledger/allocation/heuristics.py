"""Heuristics of the allocation: placements found quickly, each exact or checked against a bound.

- **One useful place** (``place_single``): a record that could lower the deficit of one target only goes there.
  Adding a record never raises a deficit and it could help nowhere else, so some best placement has it there; as
  targets fill, others are left with one place, so this repeats. It is exact, and often leaves nothing to choose.
- **Greedy** (``place_greedily``): the records in order, each where it lowers a deficit most, or where a starting
  placement (the flow bound's rounding, say) puts it.
- **Moves and swaps** (``improve``): one record to another target, or two records trading targets, while that
  lowers the total deficit.

A placement of the greedy kinds is kept only when it reaches a bound (``credit_ledger.allocation.flow``);
otherwise the branch and bound (``credit_ledger.allocation.search``) starts from it.

>>> from credit_ledger.allocation.problem import Leaf, Place, Problem, Targets
>>> pools = [Leaf(0, None, "credits", need=400), Leaf(1, None, "credits", need=400)]
>>> problem = Problem(pools, [200, 400], [False, False], [[Place(0, 0), Place(1, 0)], [Place(0, 0)]], None, {}, {})
>>> tg = Targets(problem, frozenset({0, 1}), problem.empty_state())
>>> targets_of = {0: [0, 1], 1: [0]}
>>> gained, where = place_greedily(tg, [0, 1], targets_of)
>>> gained, where
(400, {0: 0, 1: 0})
>>> improve(tg, [0, 1], targets_of, where, gained, 800), where
(600, {0: 1, 1: 0})

In that order, the 2.00-credit record takes the first pool, where the 4.00-credit record alone can go and fills it;
moving the smaller one to the second pool lowers the total deficit by 2.00 more.
"""

from __future__ import annotations

from typing import Mapping, Sequence

from .problem import Targets


def place_single(tg: Targets, places: dict[int, list[int]], users: Mapping[int, Sequence[int]],
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


def place_greedily(tg: Targets, records: Sequence[int], targets_of: Mapping[int, Sequence[int]],
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


def unplace(tg: Targets, where: Mapping[int, int]) -> None:
    """Takes a placement back out of ``tg``."""
    for r, t in where.items():
        tg.put(r, t, -1)


def improve(tg: Targets, records: Sequence[int], targets_of: Mapping[int, Sequence[int]], where: dict[int, int],
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


