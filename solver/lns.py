"""Large-neighbourhood search over close routes: small pieces of a day solved again by VROOM.

From given routes until a deadline, each step takes an anchor (a left-out node, picked with
odds in proportion to its penalty, or, as often, the middle of a route picked at random),
``LNS_ROUTES`` routes close to it (the one whose middle is nearest, and the others drawn at
random among the ``LNS_CLOSE_ROUTES`` nearest, so that one anchor gives many pieces), and the
``LNS_LEFT_OUT`` left-out nodes nearest those middles that one of their vehicles may serve;
VROOM solves that small instance (``Instance.restricted``, ``Instance.compacted``) at
``LNS_VROOM_LEVEL``, and its routes replace theirs when they cost less by the OR-Tools objective
(``solver.cost.route_cost``). So the routes never get dearer, and a visit left out of a crowded
area comes in when VROOM can reshuffle the routes around it. Taking answers that cost as much
too, or that serve as much for up to 600 s more travel (a threshold falling to nothing by the
deadline, the best routes seen kept), gained nothing on tight 2,500-visit days at 120 s: -43,
-35, +16, -54 and +21, -20, -13, -14 priority-weighted visits of about 39,600 (seeds 1-4). A
route's middle is its medoid: the node nearest, both ways, all the others of the route (the
vehicle's start for an empty route). A node allowed no vehicle is never an anchor nor offered:
``solve`` allows none a node that no route could ever take (``solver.insertion.within_reach``).

Other steps cut, instead of whole routes, stretches of several routes that pass near one place
at about one time, with the left-out nodes near it (``solver.segments``); VROOM solves them as
vehicles between each route's head and tail, and the spliced routes replace theirs when they
cost less and still hold (``solver.insertion.route_holds``). Which kind a step is follows each
kind's recent wins a second (``LNS_SEGMENT_ODDS``): on crowded days of appointments stretches
pay best, since a left-out visit at 14:00 can only go to a route that passes by then.

A search of at least ``LNS_PACK_EVERY_S`` keeps every route a step's answer holds, kept or
not, and packs them again every ``LNS_PACK_EVERY_S`` (when new ones came) and in its last
``LNS_PACK_S`` (steps take what that packing leaves): the best plan that takes each vehicle's
route from them (``solver.recombine``).

VROOM explores a piece of a few routes far more thoroughly than a whole day of hundreds,
where its search is cut by its timeout; OR-Tools' local search, guided or ruin and recreate,
gained no visit from VROOM's routes of 800-visit days in 5 s where this search gained
0.2-0.5 % (``solver.params.LNS_ROUTES``). Only instances VROOM can express come here.
"""

from __future__ import annotations

import random
import time as clock
from collections.abc import Callable, Sequence

import numpy as np

from solver.cost import route_cost
from solver.insertion import route_holds
from solver.instance import Instance
from solver.params import (
    LNS_CLOSE_ROUTES,
    LNS_LEFT_OUT,
    LNS_ODDS_MEMORY,
    LNS_PACK_EVERY_S,
    LNS_PACK_S,
    LNS_ROUTES,
    LNS_SEGMENT_ODDS,
    LNS_STEP_S,
    LNS_VROOM_LEVEL,
)
from solver.recombine import RoutePool
from solver.seeders import Routes, vroom_routes
from solver.segments import earliest_starts, segment_piece

__all__ = ["improve_close_routes", "split_close_routes", "time_for_a_step"]

#: Least time worth starting a step with.
_MIN_STEP_S = 0.05


def time_for_a_step(deadline: float) -> bool:
    """Whether a step of the close-routes search may still start before ``deadline``
    (``time.time()``-based): more than ``_MIN_STEP_S`` is left."""
    return deadline - clock.time() > _MIN_STEP_S


def improve_close_routes(
    instance: Instance,
    routes: Sequence[Sequence[int]],
    deadline: float,
    seed: int,
    own: Sequence[int] | None = None,
    stop_when_stalled: bool = False,
    tell: Callable[[Routes], None] | None = None,
) -> Routes:
    """``routes`` improved by re-solving close routes with VROOM until ``deadline``.

    Parameters
    ----------
    instance
        The numbers to route; VROOM can express it.
    routes
        One node list per vehicle to start from; they hold in the model.
    deadline
        ``time.time()``-based; the last step starts at least ``_MIN_STEP_S`` before it and
        VROOM's timeout on it ends there.
    seed
        Seed of the anchors' random choice.
    own
        The vehicles whose routes this search may change (default: all). It then brings in
        only the nodes left out of ``routes`` whose nearest route middle is one of theirs, so
        searches given the halves of ``split_close_routes`` never serve a node twice and
        their routes join into one plan.
    stop_when_stalled
        Stop before ``deadline`` once a round of steps in a row (one step per ``LNS_ROUTES``
        routes, at least one) has made the routes no cheaper: a day of a few routes is one
        piece, which VROOM, having just solved it whole, does not improve.
    tell
        Hears the routes each time a step or a packing makes them cheaper (all of them, the
        others' as given when ``own`` is set); it decides itself which to pass on, and keeps
        no reference to the list, which the search goes on changing.

    Returns
    -------
    Routes
        One node list per vehicle, costing no more than ``routes``.
    """
    rng = random.Random(seed)
    current = [list(route) for route in routes]
    if not time_for_a_step(deadline):
        return current
    middles = [_middle(instance, v, route) for v, route in enumerate(current)]
    starts = [earliest_starts(instance, v, route) for v, route in enumerate(current)]
    mine = np.ones(instance.n_nodes, dtype=bool)
    if own is not None:
        mine = _nearest_is_own(instance, current, middles, own)
    mine &= _allowed_somewhere(instance)
    round_of_steps = -(-instance.n_vehicles // LNS_ROUTES)
    idle_steps = 0
    odds = _Odds()
    pool = RoutePool(instance)
    searched = list(range(instance.n_vehicles)) if own is None else list(own)
    for v in searched:
        pool.add(v, current[v])
    # A search long enough to pack the pool packs it every LNS_PACK_EVERY_S, and at its end
    # in the last LNS_PACK_S, which its steps leave for it; steps take what that leaves.
    packs = deadline - clock.time() >= LNS_PACK_EVERY_S
    steps_until = deadline - LNS_PACK_S if packs else deadline
    packed_at = clock.time()
    while True:
        stalled = stop_when_stalled and idle_steps >= round_of_steps
        ending = stalled or not time_for_a_step(steps_until)
        if packs and (ending or clock.time() - packed_at >= LNS_PACK_EVERY_S):
            repacked = _packed(pool, current, searched, deadline)
            for v in repacked:
                middles[v] = _middle(instance, v, current[v])
                starts[v] = earliest_starts(instance, v, current[v])
            if repacked and tell is not None:
                tell(current)
            packed_at = clock.time()
        if ending and not stalled and packs and time_for_a_step(deadline):
            packs, steps_until = False, deadline
        elif ending:
            break
        served = np.zeros(instance.n_nodes, dtype=bool)
        for route in current:
            served[route] = True
        left_out = np.flatnonzero(~served & mine)
        cut = rng.random() < odds.of_segments()
        step_started = clock.time()
        changed = None
        if cut:  # None when no stretch can be cut (no route yet): whole routes then
            changed = _segment_step(
                instance, current, starts, left_out, rng, own, steps_until, pool
            )
        if changed is None:
            cut = False
            vehicles = _close_vehicles(instance, current, middles, left_out, rng, own)
            if not vehicles:
                break
            changed = _route_step(instance, current, vehicles, left_out, middles, steps_until, pool)
        odds.record(cut, bool(changed), clock.time() - step_started)
        idle_steps = 0 if changed else idle_steps + 1
        for v in changed:
            middles[v] = _middle(instance, v, current[v])
            starts[v] = earliest_starts(instance, v, current[v])
        if changed and tell is not None:
            tell(current)
    return current


def _packed(
    pool: RoutePool, current: list[list[int]], vehicles: Sequence[int], deadline: float
) -> list[int]:
    """``current`` with ``vehicles``' routes packed again from ``pool`` when that is worth
    more (``RoutePool.best_packing``, given at most ``LNS_PACK_S``); the vehicles changed."""
    if not pool.added_since_packing:
        return []
    seconds = min(LNS_PACK_S, deadline - clock.time() - _MIN_STEP_S)
    packed = pool.best_packing(current, vehicles, seconds) if seconds > 0 else None
    if packed is None:
        return []
    changed = [v for v in vehicles if packed[v] != current[v]]
    for v in changed:
        current[v] = packed[v]
    return changed


def _allowed_somewhere(instance: Instance) -> np.ndarray:
    """Per node, whether some vehicle may serve it. On rural days most of the few left-out
    visits are appointments no technician could take for their lunch, allowed none
    (``solver.insertion.within_reach``): anchoring on them, or offering them, gains nothing."""
    return np.array(
        [len(instance.allowed_vehicles(node)) > 0 for node in range(instance.n_nodes)], dtype=bool
    )


class _Odds:
    """The odds that a step cuts stretches (``solver.segments``) rather than takes whole routes:
    each kind's wins a second, smoothed over its recent steps, shared in proportion, within
    ``LNS_SEGMENT_ODDS``. A day where trading stretches pays (a crowded day of appointments)
    leans to it; one where whole routes pay leans the other way."""

    def __init__(self) -> None:
        self._rate = {True: 1.0, False: 1.0}

    def of_segments(self) -> float:
        """The odds of a segment step now."""
        low, high = LNS_SEGMENT_ODDS
        share = self._rate[True] / (self._rate[True] + self._rate[False])
        return min(high, max(low, share))

    def record(self, cut: bool, won: bool, seconds: float) -> None:
        """A step of the kind ``cut`` took ``seconds`` and ``won`` or not."""
        rate = (1.0 if won else 0.0) / max(seconds, 1e-3)
        self._rate[cut] = LNS_ODDS_MEMORY * self._rate[cut] + (1 - LNS_ODDS_MEMORY) * rate


def _route_step(
    instance: Instance,
    current: list[list[int]],
    vehicles: list[int],
    left_out: np.ndarray,
    middles: Sequence[int],
    deadline: float,
    pool: RoutePool,
) -> list[int]:
    """VROOM on the routes of ``vehicles`` and the left-out nodes nearest them; ``current``
    takes its routes when they cost less, ``pool`` keeps them either way. The vehicles
    changed (none, or all of them)."""
    nodes = [node for v in vehicles for node in current[v]]
    nodes += _nearest_left_out(instance, left_out, middles, vehicles)
    piece = instance.restricted(nodes, vehicles).compacted()
    index = {node: k for k, node in enumerate(nodes)}
    before = [[index[node] for node in current[v]] for v in vehicles]
    after = vroom_routes(piece, min(deadline - clock.time(), LNS_STEP_S), level=LNS_VROOM_LEVEL)
    for v, route in zip(vehicles, after, strict=True):
        pool.add(v, [nodes[k] for k in route])
    if route_cost(piece, after) >= route_cost(piece, before):
        return []
    for v, route in zip(vehicles, after, strict=True):
        current[v] = [nodes[k] for k in route]
    return vehicles


def _segment_step(
    instance: Instance,
    current: list[list[int]],
    starts: Sequence[Sequence[int]],
    left_out: np.ndarray,
    rng: random.Random,
    own: Sequence[int] | None,
    deadline: float,
    pool: RoutePool,
) -> list[int] | None:
    """VROOM on a piece of stretches (``solver.segments``); ``current`` takes the spliced
    routes when they cost less and each still holds, ``pool`` keeps each that holds either
    way. The vehicles changed, or ``None`` when no piece could be cut."""
    piece = segment_piece(instance, current, starts, left_out, rng, own)
    if piece is None:
        return None
    answer = vroom_routes(
        piece.instance, min(deadline - clock.time(), LNS_STEP_S), level=LNS_VROOM_LEVEL
    )
    spliced = piece.spliced(current, answer)
    holds = [
        route == current[v] or route_holds(instance, v, route)
        for v, route in zip(piece.vehicles, spliced, strict=True)
    ]
    for v, route, held in zip(piece.vehicles, spliced, holds, strict=True):
        if held:
            pool.add(v, route)
    # Whole routes priced (the heads and tails are the same on both sides), on their own
    # locations: the whole day's cost matrices, built twice a step, took a fifth of its time.
    nodes = sorted({node for v in piece.vehicles for node in current[v]} | set(piece.offered))
    index = {node: k for k, node in enumerate(nodes)}
    priced = instance.restricted(nodes, piece.vehicles).compacted()
    before = [[index[node] for node in current[v]] for v in piece.vehicles]
    after = [[index[node] for node in route] for route in spliced]
    if route_cost(priced, after) >= route_cost(priced, before):
        return []
    if not all(holds):
        return []
    for v, route in zip(piece.vehicles, spliced, strict=True):
        current[v] = route
    return list(piece.vehicles)


def split_close_routes(
    instance: Instance, routes: Sequence[Sequence[int]], across: bool = False
) -> tuple[list[int], list[int]]:
    """The vehicles in two halves of routes close to each other, for two searches side by side
    (``improve_close_routes``'s ``own``): ordered by how much nearer their route's middle is
    to one of two far-apart middles than to the other, and cut in the middle of that order.
    ``across``: the middle half of that order and its two ends instead, so that the routes on
    either side of the first cut are searched together."""
    middles = np.asarray(
        [_middle(instance, v, route) for v, route in enumerate(routes)], dtype=np.int64
    )
    both_ways = instance.travel_s[np.ix_(middles, middles)]
    both_ways = both_ways + both_ways.T
    one_end = int(np.argmax(both_ways[0]))
    other_end = int(np.argmax(both_ways[one_end]))
    order = np.argsort(both_ways[one_end] - both_ways[other_end], kind="stable")
    if across:
        quarter = len(order) // 4
        middle = order[quarter : quarter + len(order) // 2]
        ends = np.concatenate([order[:quarter], order[quarter + len(order) // 2 :]])
        return sorted(int(v) for v in middle), sorted(int(v) for v in ends)
    half = len(order) // 2
    return sorted(int(v) for v in order[:half]), sorted(int(v) for v in order[half:])


def _nearest_is_own(
    instance: Instance,
    routes: Sequence[Sequence[int]],
    middles: Sequence[int],
    own: Sequence[int],
) -> np.ndarray:
    """Per node, whether a search owning the vehicles ``own`` may serve it: the nodes of their
    routes, and the left-out nodes whose nearest route middle is one of theirs."""
    mine = np.zeros(instance.n_nodes, dtype=bool)
    owned = np.zeros(instance.n_vehicles, dtype=bool)
    owned[list(own)] = True
    served = np.zeros(instance.n_nodes, dtype=bool)
    for v, route in enumerate(routes):
        served[route] = True
        mine[route] = owned[v]
    left_out = np.flatnonzero(~served)
    if left_out.size:
        where = np.asarray(middles, dtype=np.int64)
        nearest = np.argmin(instance.travel_s[np.ix_(instance.node_location[left_out], where)], 1)
        mine[left_out] = owned[nearest]
    return mine


def _close_vehicles(
    instance: Instance,
    routes: Sequence[Sequence[int]],
    middles: Sequence[int],
    left_out: np.ndarray,
    rng: random.Random,
    own: Sequence[int] | None,
) -> list[int]:
    """``LNS_ROUTES`` vehicles (of ``own``, when given) whose routes' middles are close to a
    random anchor: the nearest, and the others drawn among the ``LNS_CLOSE_ROUTES`` nearest."""
    candidates = list(range(len(routes))) if own is None else list(own)
    used = [v for v in candidates if routes[v]]
    if left_out.size and (not used or rng.random() < 0.5):
        weights = instance.penalty[left_out].astype(float).tolist()
        anchor = int(instance.node_location[rng.choices(left_out.tolist(), weights)[0]])
    elif used:
        anchor = middles[rng.choice(used)]
    else:
        return []
    where = np.asarray([middles[v] for v in candidates], dtype=np.int64)
    both_ways = instance.travel_s[anchor, where] + instance.travel_s[where, anchor]
    nearest, *close = np.argsort(both_ways, kind="stable")[:LNS_CLOSE_ROUTES].tolist()
    drawn = rng.sample(close, min(LNS_ROUTES - 1, len(close)))
    return [candidates[k] for k in [nearest, *drawn]]


def _nearest_left_out(
    instance: Instance, left_out: np.ndarray, middles: Sequence[int], vehicles: Sequence[int]
) -> list[int]:
    """The ``LNS_LEFT_OUT`` left-out nodes nearest the middles of ``vehicles``' routes that one
    of those vehicles may serve."""
    if not left_out.size:
        return []
    if instance.allowed:
        chosen = set(vehicles)
        left_out = np.asarray(
            [
                node
                for node in left_out.tolist()
                if instance.allowed[node] is None or chosen.intersection(instance.allowed[node])
            ],
            dtype=np.int64,
        )
        if not left_out.size:
            return []
    where = np.asarray([middles[v] for v in vehicles], dtype=np.int64)
    distance = instance.travel_s[np.ix_(instance.node_location[left_out], where)].min(axis=1)
    return [int(node) for node in left_out[np.argsort(distance, kind="stable")[:LNS_LEFT_OUT]]]


def _middle(instance: Instance, vehicle: int, route: Sequence[int]) -> int:
    """The location of ``route``'s medoid (the vehicle's start when it is empty)."""
    if not route:
        return instance.vehicles[vehicle].start_location
    locations = instance.node_location[list(route)]
    travel = instance.travel_s[np.ix_(locations, locations)]
    return int(locations[int(np.argmin(travel.sum(axis=0) + travel.sum(axis=1)))])
