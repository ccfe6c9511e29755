"""Nodes a search left out that fit the routes as they stand: put in, the dearest first.

OR-Tools' insertion heuristics and its local search can leave out a node that fits a route as
it is: on a day whose one technician had two breaks filling a short shift, inserting the only
visit failed on the other, free technician too, and the plan served nobody (its visit listed
``no_room``). After the search, each node left out, the dearest to leave out first, goes where
the insertion check (``solver.insertion``) finds the cheapest place that holds, when that place
costs less than leaving it out; the routes so filled are timed by the model itself
(``schedule``) and kept only when it accepts them and their objective is lower. A filled node
can only lower the objective: the routes the search found are kept otherwise. On a small day
planned afresh, a left-out node is also tried in place of a served one, with what then fits
(``_ejected``), the one taken out in place of a cheaper one if it must be: a seeded search
stalled on four-visit days keeping one high visit where two fitted without it, or a low one
where the urgent one could make room for a high one. On a bigger day a left-out node is tried
only in place of one of the served nodes nearest to it of a lower penalty (``swap_in_dearer``):
what VROOM cut short by its time leaves, high visits out and low ones served near them.

Instances with alternatives, commodities or stops on the way in (``Instance.has_alternatives``)
are left as they are: only OR-Tools' model states those rules whole. The check takes
``FILL_SHARE`` of the budget, between ``FILL_AT_LEAST_S`` and ``FILL_AT_MOST_S`` (``fill_s``),
after the search, and no more than the budget has left (but ``FILL_AT_LEAST_S``): on
large days the nodes left out are those no route has room for (none placed on 250- and
800-visit days, 0.02 and 0.12 s), and each costs a pass over its vehicles' routes.
"""

from __future__ import annotations

import logging
import time as clock
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from solver.cost import route_cost, vehicle_route_cost
from solver.errors import SolverError
from solver.insertion import Insertion, insertions
from solver.instance import Instance
from solver.result import Solution
from solver.search import schedule

__all__ = [
    "EJECT_TRIES",
    "EJECT_UP_TO_NODES",
    "FILL_AT_LEAST_S",
    "FILL_AT_MOST_S",
    "FILL_SHARE",
    "SWAP_NEAREST",
    "fill_left_out",
    "fill_s",
    "swap_in_dearer",
]

logger = logging.getLogger(__name__)

#: Share of the budget the fill may take after the search, and its least and most time.
FILL_SHARE = 0.02
FILL_AT_LEAST_S = 0.05
FILL_AT_MOST_S = 0.5
#: Days of at most this many nodes also try a left-out node in place of a served one, at most
#: ``EJECT_TRIES`` times a fill (each try a few insertion checks of one route).
EJECT_UP_TO_NODES = 40
EJECT_TRIES = 2_000
#: A left-out node of a bigger day is tried in place of this many served nodes of a lower
#: penalty, the nearest to it first (``swap_in_dearer``). VROOM's routes of a tight 793-visit
#: day (90 technicians, half the visits left out), cut short at 0.5 s on a busy machine: 8 put
#: the priority-weighted penalties served from 251,000 to 328,000 (VROOM run to its end:
#: 374,000) in 0.3 s, 4 to 303,000 in 0.2 s; on field days of 767-800 visits, 0-9 swaps in
#: 0.02-0.06 s.
SWAP_NEAREST = 8


def fill_s(time_limit_s: float) -> float:
    """The most time a fill after a search of ``time_limit_s`` takes (unless reproducible):
    ``FILL_SHARE`` of it, between ``FILL_AT_LEAST_S`` and ``FILL_AT_MOST_S``."""
    return min(max(FILL_AT_LEAST_S, FILL_SHARE * time_limit_s), FILL_AT_MOST_S)


def fill_left_out(
    instance: Instance,
    solution: Solution,
    *,
    time_limit_s: float,
    reproducible: bool = False,
    ejecting: bool = False,
    left_s: float | None = None,
) -> Solution:
    """``solution`` with the nodes it left out that fit a route as it stands put in, when the
    model accepts the routes so filled and they cost less; else ``solution`` itself. A
    ``reproducible`` run tries every node whatever the time (the search counted work, not
    time: a slower machine would have placed fewer). ``ejecting`` (a day planned afresh:
    no stop of it is under way) also tries, on small days, a left-out node in place of a
    served one (``_ejected``). ``left_s``: what is left of the budget of ``time_limit_s``;
    the fill takes no more (but ``FILL_AT_LEAST_S``), so that a search that used its whole
    budget is not followed by up to ``fill_s`` more (a 2 s solve of an 800-visit day in two
    parts took 2.3 s, a fill after each)."""
    if not solution.dropped or instance.has_alternatives:
        return solution
    started = clock.monotonic()
    most_s = fill_s(time_limit_s)
    if left_s is not None:
        most_s = max(FILL_AT_LEAST_S, min(most_s, left_s))
    until = started + most_s
    routes = solution.node_routes(instance.n_vehicles)
    placed = 0
    for node in sorted(solution.dropped, key=lambda n: (-int(instance.penalty[n]), n)):
        if not reproducible and clock.monotonic() > until:
            break
        place = _cheapest_place(instance, routes, node)
        if place is not None:
            routes[place.vehicle].insert(place.position, node)
            placed += 1
    if ejecting and instance.n_nodes <= EJECT_UP_TO_NODES:
        tries = [EJECT_TRIES]
        while better := _ejected(instance, routes, tries, None if reproducible else until):
            routes, placed = better, placed + 1
    elif ejecting:
        placed += swap_in_dearer(instance, routes, None if reproducible else until)
    if not placed:
        return solution
    try:
        filled = schedule(instance, routes)
    except SolverError as error:  # the check and the model disagree: the search's answer holds
        logger.warning("%d node(s) left out fit by the insertion check, not the model: %s",
                       placed, error)  # fmt: skip
        return solution
    if filled.objective >= solution.objective:
        return solution
    return replace(filled, elapsed_s=solution.elapsed_s + clock.monotonic() - started)


def swap_in_dearer(instance: Instance, routes: list[list[int]], until: float | None) -> int:
    """How many left-out nodes of ``routes`` (one per vehicle, changed in place) went in, each
    in place of a served node of a lower penalty: the dearest left-out node first, each tried
    in place of the ``SWAP_NEAREST`` nearest (by travel from it) such nodes that a vehicle
    allowed to serve it serves, at the cheapest place where the route holds without that node
    and with it (``solver.insertion``), where that lowers the objective (the penalties' gap
    more than what the route's cost rises). The node taken out is left out. Until ``until``
    (a ``time.monotonic()``; ``None``: every left-out node is tried).
    """
    penalty = instance.penalty
    owner = np.full(instance.n_nodes, -1, dtype=np.int64)
    for vehicle, route in enumerate(routes):
        owner[route] = vehicle
    left = sorted(np.flatnonzero(owner < 0).tolist(), key=lambda n: (-int(penalty[n]), n))
    location = instance.node_location
    swapped = 0
    for node in left:
        if until is not None and clock.monotonic() > until:
            break
        allowed = np.zeros(instance.n_vehicles, dtype=np.bool_)
        allowed[list(instance.allowed_vehicles(node))] = True
        cheaper = np.flatnonzero((owner >= 0) & (penalty < penalty[node]))
        cheaper = cheaper[allowed[owner[cheaper]]]
        travel = instance.travel_s[location[node], location[cheaper]]
        for out in cheaper[np.argsort(travel, kind="stable")[:SWAP_NEAREST]].tolist():
            vehicle = int(owner[out])
            trial = [served for served in routes[vehicle] if served != out]
            gap = int(penalty[node] - penalty[out])
            without = [*routes[:vehicle], trial, *routes[vehicle + 1 :]]
            place = _cheapest_place(instance, without, node, (vehicle,), penalty=gap)
            if place is None:
                continue
            trial.insert(place.position, node)
            rises = vehicle_route_cost(instance, vehicle, trial) - vehicle_route_cost(
                instance, vehicle, routes[vehicle]
            )
            if rises < gap:
                routes[vehicle] = trial
                owner[out], owner[node] = -1, vehicle
                swapped += 1
                break
    return swapped


def _ejected(
    instance: Instance, routes: list[list[int]], tries: list[int], until: float | None
) -> list[list[int]] | None:
    """Routes that cost less than ``routes`` with a left-out node served in place of a served
    one: the left-out node where the other was taken out of its route, the one taken out put
    wherever it fits, or in place of a cheaper one on another route (``_in_place_of_a_cheaper``),
    or left out when it weighs no more than the node it made room for, and the other left-out
    nodes that then fit into that route; ``None`` when no such try pays (or ``tries``, one
    count shared by the calls, or the time ``until`` ran out).

    A seeded 1-second search stalled where the seeds left it on a hunt's four-visit day of one
    technician: one high visit kept, two high ones left out that fitted together without it.
    On another's of two technicians, a high visit was left out for a low one: it fitted where
    the urgent one was, which fitted on the other route in place of the low one."""
    best_cost = route_cost(instance, routes)
    served = {node for route in routes for node in route}
    left = sorted(
        (n for n in range(instance.n_nodes) if n not in served),
        key=lambda n: (-int(instance.penalty[n]), n),
    )
    for node in left:
        for vehicle in instance.allowed_vehicles(node):
            for k, out in enumerate(routes[vehicle]):
                tries[0] -= 1
                if tries[0] < 0 or (until is not None and clock.monotonic() > until):
                    return None
                trial = [list(route) for route in routes]
                del trial[vehicle][k]
                place = _cheapest_place(instance, trial, node, (vehicle,))
                if place is None:
                    continue
                trial[vehicle].insert(place.position, node)
                again = _cheapest_place(instance, trial, out)
                if again is not None:
                    trial[again.vehicle].insert(again.position, out)
                elif instance.penalty[out] > instance.penalty[node] and not _in_place_of_a_cheaper(
                    instance, trial, out, vehicle, tries
                ):  # dearer than the node it made room for: worth it only placed again
                    continue
                for other in left:
                    if other != node and vehicle in instance.allowed_vehicles(other):
                        more = _cheapest_place(instance, trial, other, (vehicle,))
                        if more is not None:
                            trial[vehicle].insert(more.position, other)
                if route_cost(instance, trial) < best_cost:
                    return trial
    return None


def _in_place_of_a_cheaper(
    instance: Instance, routes: list[list[int]], node: int, not_on: int, tries: list[int]
) -> bool:
    """Whether ``node`` went into ``routes`` (changed in place) in place of a served node of a
    lower penalty on another vehicle than ``not_on``, which is then left out: the first such
    place found, each look one of ``tries``."""
    for vehicle in instance.allowed_vehicles(node):
        if vehicle == not_on:
            continue
        for k, out in enumerate(routes[vehicle]):
            if instance.penalty[out] >= instance.penalty[node]:
                continue
            tries[0] -= 1
            if tries[0] < 0:
                return False
            trial = [*routes[vehicle][:k], *routes[vehicle][k + 1 :]]
            place = _cheapest_place(instance, [*routes[:vehicle], trial, *routes[vehicle + 1 :]],
                                    node, (vehicle,))  # fmt: skip
            if place is not None:
                trial.insert(place.position, node)
                routes[vehicle] = trial
                return True
    return False


def _cheapest_place(
    instance: Instance,
    routes: list[list[int]],
    node: int,
    vehicles: Sequence[int] | None = None,
    *,
    penalty: int | None = None,
) -> Insertion | None:
    """Where ``node`` costs least to serve (on one of ``vehicles``, default those allowed),
    if anywhere for less than its penalty (or ``penalty``, when given)."""
    best: tuple[int, Insertion] | None = None
    penalty = int(instance.penalty[node]) if penalty is None else penalty
    for vehicle in instance.allowed_vehicles(node) if vehicles is None else vehicles:
        route = routes[vehicle]
        [found] = insertions(instance, vehicle, route, node, [instance.windows(node)])
        if not found:
            continue
        before = vehicle_route_cost(instance, vehicle, route)
        for place in found:
            with_node = [*route[: place.position], node, *route[place.position :]]
            added = vehicle_route_cost(instance, vehicle, with_node) - before
            if added < penalty and (best is None or added < best[0]):
                best = (added, place)
    return None if best is None else best[1]
