"""What a search gives back: progress reports as it goes, and the solution as plain tuples.

Only values live here; nothing here searches or reads an OR-Tools assignment (that is
``solver.search``).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Progress", "RouteSolution", "Solution"]


@dataclass(frozen=True, slots=True)
class Progress:
    """A report from the search: time spent, best cost so far and nodes placed in it.

    ``placed`` is ``None`` while only a cost is known (PyVRP tells its best cost, not its
    routes); ``total`` is the instance's number of nodes. ``routes`` is a snapshot, one node
    list per vehicle (empty ones included), of the solution costing ``best_cost``; only when
    the caller asked for snapshots, at the first report of a search and then at most every
    ``SNAPSHOT_INTERVAL_S`` (``None`` otherwise). Routes from OR-Tools' own search hold in the
    model; a seeding search's routes (``solver.portfolio.race``) may, rarely, not:
    ``solver.search.schedule`` says so. ``timed`` is those routes timed by the model, when the
    search has them so (OR-Tools' snapshots, the race's chosen seed), sparing a listener the
    timing (0.3-0.4 s at 800 visits, 1.0-1.3 s at 2,250, holding the interpreter).
    """

    elapsed_s: float
    best_cost: int
    placed: int | None
    total: int
    routes: tuple[tuple[int, ...], ...] | None = None
    timed: Solution | None = None


@dataclass(frozen=True, slots=True)
class RouteSolution:
    """One vehicle's route as the solver fixed it.

    ``nodes`` in visit order; ``cumul_s`` the time dimension's value at each (service start);
    ``breaks`` as ``(start_s, duration_s)`` in the order of the vehicle's break rules.
    """

    vehicle: int
    nodes: tuple[int, ...]
    cumul_s: tuple[int, ...]
    start_s: int
    end_s: int
    breaks: tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class Solution:
    """Every vehicle's route (empty ones included), the nodes left out, the objective and the
    wall-clock seconds the search took."""

    routes: tuple[RouteSolution, ...]
    dropped: tuple[int, ...]
    objective: int
    elapsed_s: float

    def node_routes(self, n_vehicles: int) -> list[list[int]]:
        """Each of ``n_vehicles`` vehicles' nodes in visit order (a start for a search)."""
        routes: list[list[int]] = [[] for _ in range(n_vehicles)]
        for route in self.routes:
            routes[route.vehicle] = list(route.nodes)
        return routes
