"""Routes a search has seen, recombined: the best plan taking each vehicle's route from them.

Each step of the close-routes search (``solver.lns``) has VROOM solve a few routes again and
keeps the answer only when the answer as a whole costs less. A refused answer may still hold a
route better than its vehicle's own, spoiled by the other routes of that answer, and two steps'
answers may each fit where the other does not. ``RoutePool`` keeps every route a step offers
(each holds on its own) and ``RoutePool.best_packing`` picks at most one per vehicle, no node
twice, for the most worth: the penalties of the nodes served less the routes' costs
(``solver.cost.vehicle_route_cost``), so that the packing with the most worth is the one
``solver.cost.route_cost`` prices lowest. It is a set packing, solved by CP-SAT from the
current routes as a hint; it answers only routes worth more than those.
"""

from __future__ import annotations

from collections.abc import Sequence

from ortools.sat.python import cp_model

from solver.cost import vehicle_route_cost
from solver.instance import Instance

__all__ = ["RoutePool"]

#: CP-SAT's linear relaxation level: 2 adds the at-most-one constraints' cuts, which closed a
#: tight 2,500-visit day's pool of 2,700 routes in 2 s where level 1 took 2.8 s.
_LINEARIZATION_LEVEL = 2


class RoutePool:
    """The distinct routes of some vehicles of ``instance``, each with its worth: the penalties
    of its nodes less its arcs' cost, its vehicle's fixed cost and its preference misses."""

    def __init__(self, instance: Instance) -> None:
        self._instance = instance
        self._worth: dict[tuple[int, tuple[int, ...]], int] = {}
        self.added_since_packing = 0

    def __len__(self) -> int:
        return len(self._worth)

    def add(self, vehicle: int, route: Sequence[int]) -> None:
        """Keep ``vehicle``'s ``route`` (it holds in the instance), unless empty or kept."""
        key = (vehicle, tuple(route))
        if key[1] and key not in self._worth:
            self._worth[key] = self.worth(vehicle, key[1])
            self.added_since_packing += 1

    def worth(self, vehicle: int, route: Sequence[int]) -> int:
        """The penalties of ``route``'s nodes less what ``vehicle`` serving them costs."""
        penalties = int(self._instance.penalty[list(route)].sum())
        return penalties - vehicle_route_cost(self._instance, vehicle, route)

    def best_packing(
        self, routes: Sequence[Sequence[int]], vehicles: Sequence[int], seconds: float
    ) -> list[list[int]] | None:
        """``routes`` with the routes of ``vehicles`` packed again from the pool (at most one
        each, no node twice), when CP-SAT finds within ``seconds`` a packing worth more than
        theirs; ``None`` otherwise. Their routes must be in the pool, and no node of another
        vehicle's route in any of its routes."""
        self.added_since_packing = 0
        own = set(vehicles)
        columns = [(v, route, w) for (v, route), w in self._worth.items() if v in own]
        standing = {(v, tuple(routes[v])) for v in own if routes[v]}
        model = cp_model.CpModel()
        chosen = [model.new_bool_var(f"route{k}") for k in range(len(columns))]
        by_vehicle: dict[int, list[cp_model.IntVar]] = {}
        by_node: dict[int, list[cp_model.IntVar]] = {}
        for (v, route, _), var in zip(columns, chosen, strict=True):
            by_vehicle.setdefault(v, []).append(var)
            for node in route:
                by_node.setdefault(node, []).append(var)
            model.add_hint(var, (v, route) in standing)
        for group in (*by_vehicle.values(), *by_node.values()):
            if len(group) > 1:
                model.add_at_most_one(group)
        model.maximize(sum(w * var for (_, _, w), var in zip(columns, chosen, strict=True)))
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = max(seconds, 0.01)
        solver.parameters.num_workers = 1
        solver.parameters.linearization_level = _LINEARIZATION_LEVEL
        status = solver.solve(model)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return None
        if solver.objective_value <= sum(self._worth[key] for key in standing):
            return None
        packed = [[] if v in own else list(route) for v, route in enumerate(routes)]
        for (v, route, _), var in zip(columns, chosen, strict=True):
            if solver.boolean_value(var):
                packed[v] = list(route)
        return packed
