"""Nodes a search left out that fit the routes as they stand: put in, the dearest first.

OR-Tools' insertion heuristics and its local search can leave out a node that fits a route as
it is: on a day whose one technician had two breaks filling a short shift, inserting the only
visit failed on the other, free technician too, and the plan served nobody (its visit listed
``no_room``). After the search, each node left out, the dearest to leave out first, goes where
the insertion check (``solver.insertion``) finds the cheapest place that holds, when that place
costs less than leaving it out; the routes so filled are timed by the model itself
(``schedule``) and kept only when it accepts them and their objective is lower. A filled node
can only lower the objective: the routes the search found are kept otherwise.

Instances with alternatives, commodities or stops on the way in (``Instance.has_alternatives``)
are left as they are: only OR-Tools' model states those rules whole. The check takes
``FILL_SHARE`` of the budget, between ``FILL_AT_LEAST_S`` and ``FILL_AT_MOST_S``, after it: on
large days the nodes left out are those no route has room for (none placed on 250- and
800-visit days, 0.02 and 0.12 s), and each costs a pass over its vehicles' routes.
"""

from __future__ import annotations

import logging
import time as clock
from dataclasses import replace

from solver.cost import vehicle_route_cost
from solver.errors import SolverError
from solver.insertion import Insertion, insertions
from solver.instance import Instance
from solver.result import Solution
from solver.search import schedule

__all__ = ["FILL_AT_LEAST_S", "FILL_AT_MOST_S", "FILL_SHARE", "fill_left_out"]

logger = logging.getLogger(__name__)

#: Share of the budget the fill may take after the search, and its least and most time.
FILL_SHARE = 0.02
FILL_AT_LEAST_S = 0.05
FILL_AT_MOST_S = 0.5


def fill_left_out(
    instance: Instance, solution: Solution, *, time_limit_s: float, reproducible: bool = False
) -> Solution:
    """``solution`` with the nodes it left out that fit a route as it stands put in, when the
    model accepts the routes so filled and they cost less; else ``solution`` itself. A
    ``reproducible`` run tries every node whatever the time (the search counted work, not
    time: a slower machine would have placed fewer)."""
    if not solution.dropped or instance.has_alternatives:
        return solution
    started = clock.monotonic()
    until = started + min(max(FILL_AT_LEAST_S, FILL_SHARE * time_limit_s), FILL_AT_MOST_S)
    routes: list[list[int]] = [[] for _ in range(instance.n_vehicles)]
    for route in solution.routes:
        routes[route.vehicle] = list(route.nodes)
    placed = 0
    for node in sorted(solution.dropped, key=lambda n: (-int(instance.penalty[n]), n)):
        if not reproducible and clock.monotonic() > until:
            break
        place = _cheapest_place(instance, routes, node)
        if place is not None:
            routes[place.vehicle].insert(place.position, node)
            placed += 1
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


def _cheapest_place(instance: Instance, routes: list[list[int]], node: int) -> Insertion | None:
    """Where ``node`` costs least to serve, if anywhere for less than its penalty."""
    best: tuple[int, Insertion] | None = None
    penalty = int(instance.penalty[node])
    for vehicle in instance.allowed_vehicles(node):
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
