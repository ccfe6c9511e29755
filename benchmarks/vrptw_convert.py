"""Turning a VRPTW benchmark instance into integers, and into the engine's ``solver.Instance``.

One job: scale an instance under the convention of the objective asked for, so that every solver
of the benchmark gets the same integer matrices, and build our solver's numbers-only instance
from them. Nothing here solves or checks.

Objectives and their conventions (``bks.csv``, see ``benchmarks.vrptw``):

- ``distance``: vehicles free, distance only, compared with the DIMACS rows. Every arc is
  ``floor(10 d)`` tenths, travel time equal to distance, windows and service times times ten:
  the integers *are* the convention, exactly, so an integer solver's distance is the DIMACS one.
- ``vehicles``: a fixed cost per vehicle that dominates distance, compared with the hierarchical
  rows (real-valued arcs). Arcs are ``ceil(1000 d)`` thousandths: rounding up keeps every route
  that is feasible in integers feasible with the real travel times too. The reported distance is
  always recomputed from the routes in the convention's arithmetic (``benchmarks.vrptw_check``).

Integer square roots are exact (``isqrt``-style correction of the float root), so no arc is off
by one from floating-point error.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray

from benchmarks.vrptw import Convention, VrptwInstance
from solver import Instance, Vehicle

__all__ = [
    "CONVENTION",
    "SCALE",
    "Objective",
    "ScaledProblem",
    "exact_isqrt",
    "scale_problem",
    "to_solver_instance",
]


class Objective(StrEnum):
    """What the benchmark asks the solvers to minimise."""

    #: Total distance; any number of vehicles up to the fleet.
    DISTANCE = "distance"
    #: Vehicles first (a dominating fixed cost per vehicle), then distance.
    VEHICLES = "vehicles"


#: The ``bks.csv`` convention each objective is compared with.
CONVENTION = {Objective.DISTANCE: Convention.DIMACS, Objective.VEHICLES: Convention.HIERARCHICAL}

#: Integer units per instance unit (of distance and of time) under each convention.
SCALE = {Convention.DIMACS: 10, Convention.HIERARCHICAL: 1000}


@dataclass(frozen=True, slots=True)
class ScaledProblem:
    """An instance in integers, as every solver of the benchmark receives it.

    Parameters
    ----------
    source
        The instance as published (for the checker and for names).
    objective, convention, scale
        What is minimised, the ``bks.csv`` convention it is compared with, and the integer
        units per instance unit.
    arcs
        ``(n + 1, n + 1)`` distance between nodes (depot 0), also the travel time.
    ready, due, service
        ``(n + 1,)`` scaled windows and service times, depot first.
    demand
        ``(n + 1,)`` demand, depot 0; ``capacity`` the capacity of each of ``vehicles``.
    fixed_cost
        Cost of using a vehicle: 0 for ``distance``; for ``vehicles`` more than the distance of
        any solution, so one vehicle fewer always pays.
    drop_penalty
        Cost of leaving a customer out (for solvers where every visit is optional): more than
        any complete solution costs.
    """

    source: VrptwInstance
    objective: Objective
    convention: Convention
    scale: int
    arcs: NDArray[np.int64]
    ready: NDArray[np.int64]
    due: NDArray[np.int64]
    service: NDArray[np.int64]
    demand: NDArray[np.int64]
    capacity: int
    vehicles: int
    fixed_cost: int
    drop_penalty: int

    @property
    def n_customers(self) -> int:
        """Number of customers."""
        return self.source.n_customers


def exact_isqrt(values: NDArray[np.int64]) -> NDArray[np.int64]:
    """``floor(sqrt(v))`` of each non-negative integer, exactly (float root, then corrected)."""
    root = np.floor(np.sqrt(values.astype(np.float64))).astype(np.int64)
    root -= root * root > values
    root += (root + 1) * (root + 1) <= values
    return root


def _scaled_arcs(instance: VrptwInstance, convention: Convention) -> NDArray[np.int64]:
    x = np.asarray(instance.x, dtype=np.int64)
    y = np.asarray(instance.y, dtype=np.int64)
    squared = (x[:, None] - x[None, :]) ** 2 + (y[:, None] - y[None, :]) ** 2
    scaled = squared * SCALE[convention] ** 2  # (scale * d)^2, still an exact integer
    root = exact_isqrt(scaled)
    if convention is Convention.DIMACS:
        return root  # floor(10 d): truncated to one decimal
    return root + (root * root < scaled)  # ceil(1000 d): never shorter than the real arc


def scale_problem(instance: VrptwInstance, objective: Objective) -> ScaledProblem:
    """Scale ``instance`` to the integers of ``objective``'s convention."""
    convention = CONVENTION[objective]
    scale = SCALE[convention]
    arcs = _scaled_arcs(instance, convention)
    n, fleet = instance.n_customers, instance.vehicles
    # A solution with k routes has n + k arcs, k <= fleet: its distance is below this bound.
    distance_bound = (n + fleet) * int(arcs.max()) + 1
    fixed_cost = distance_bound if objective is Objective.VEHICLES else 0
    return ScaledProblem(
        source=instance,
        objective=objective,
        convention=convention,
        scale=scale,
        arcs=arcs,
        ready=np.asarray(instance.ready, dtype=np.int64) * scale,
        due=np.asarray(instance.due, dtype=np.int64) * scale,
        service=np.asarray(instance.service, dtype=np.int64) * scale,
        demand=np.asarray(instance.demand, dtype=np.int64),
        capacity=instance.capacity,
        vehicles=fleet,
        fixed_cost=fixed_cost,
        drop_penalty=distance_bound + fleet * fixed_cost,
    )


def to_solver_instance(problem: ScaledProblem) -> Instance:
    """Our solver's instance: location 0 the depot, node ``i`` customer ``i + 1``.

    Arc cost is distance only (``time_weight`` 0); every vehicle leaves the depot no earlier
    than its ready time and is back by its due time; every customer is optional with
    ``drop_penalty``, so a customer left out shows as such instead of failing the solve.
    """
    n = problem.n_customers
    depot = Vehicle(
        start_location=0,
        end_location=0,
        shift_start_s=int(problem.ready[0]),
        shift_end_s=int(problem.due[0]),
        capacity=(problem.capacity,),
        fixed_cost=problem.fixed_cost,
    )
    return Instance(
        travel_s=problem.arcs,
        distance_m=problem.arcs,
        node_location=np.arange(1, n + 1, dtype=np.int64),
        service_s=problem.service[1:].copy(),
        window_s=np.stack([problem.ready[1:], problem.due[1:]], axis=1),
        demand=problem.demand[1:, None].copy(),
        penalty=np.full(n, problem.drop_penalty, dtype=np.int64),
        vehicles=(depot,) * problem.vehicles,
        time_weight=0,
        distance_weight=1,
    )
