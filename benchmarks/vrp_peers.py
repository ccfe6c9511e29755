"""The solvers the VRPTW benchmark compares: ours, plain OR-Tools, PyVRP and VROOM.

One job: run one solver on a ``ScaledProblem`` (the same integer matrices, windows, service
times, demands and fleet for all) under a time limit and a seed, and hand back its routes as
customer numbers with the wall time it took. Judging the routes is ``benchmarks.vrptw_check``'s
job; no solver's own cost or feasibility flag is trusted.

- ``ours``: ``solver.solve`` on ``to_solver_instance(problem)`` with ``SolveParams(time_limit_s,
  seed)``, the engine's defaults otherwise: PyVRP, and VROOM then PyVRP, side by side on the two
  cores as seeders, OR-Tools searching on from the cheaper (``solver.seeders``).
- ``ortools``: the **baseline**, OR-Tools as a user writes it from its samples
  (``vrp_time_windows.py``, ``vrp_capacity.py``): a Python transit callback, one time dimension
  (transit = service + travel, slack up to the horizon), windows via ``CumulVar.SetRange``, a
  capacity dimension, PARALLEL_CHEAPEST_INSERTION then GUIDED_LOCAL_SEARCH, the time limit.
- ``pyvrp``: ``pyvrp.solve`` with ``MaxRuntime(time_limit)`` and the seed.
- ``vroom``: pyvroom's ``Input.solve`` at exploration level 5 on one thread, with the time
  limit as its timeout. VROOM's search is not an anytime search under a budget: it may stop
  before the timeout, and the timeout is approximate; the wall time it took is what is
  reported. It has no seed. One thread, as every other solver here uses one core.

PyVRP and VROOM are imported only when run (the engine installs both, and copes without them).
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from importlib import metadata
from typing import Any

from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from benchmarks.vrptw_convert import ScaledProblem, to_solver_instance
from solver import SolveParams, SolverError, solve

__all__ = [
    "BASELINE_FIRST_SOLUTION",
    "BASELINE_METAHEURISTIC",
    "PEERS",
    "VROOM_EXPLORATION_LEVEL",
    "VROOM_THREADS",
    "PeerRun",
    "installed",
    "versions",
]

#: The baseline's first-solution strategy and metaheuristic, as in OR-Tools' VRPTW samples.
BASELINE_FIRST_SOLUTION = routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
BASELINE_METAHEURISTIC = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH

#: VROOM's most thorough search (levels run 0-5), on one thread like every other solver here.
VROOM_EXPLORATION_LEVEL = 5
VROOM_THREADS = 1

#: Distribution names of each solver, for the versions line of the results.
_DISTRIBUTIONS = {"ours": "ortools", "ortools": "ortools", "pyvrp": "pyvrp", "vroom": "pyvroom"}
#: Import names of the optional solvers.
_MODULES = {"pyvrp": "pyvrp", "vroom": "vroom"}


@dataclass(frozen=True, slots=True)
class PeerRun:
    """What one solver returned: routes of customer numbers ``1..n`` and the wall time.

    ``note`` says why there are no routes (no solution found), empty otherwise.
    """

    routes: tuple[tuple[int, ...], ...]
    wall_s: float
    note: str = ""


def run_ours(problem: ScaledProblem, time_limit_s: float, seed: int) -> PeerRun:
    """Our engine's solver on the numbers-only instance."""
    started = time.perf_counter()
    try:
        solution = solve(
            to_solver_instance(problem), SolveParams(time_limit_s=time_limit_s, seed=seed)
        )
    except SolverError as error:
        return PeerRun((), time.perf_counter() - started, str(error))
    routes = tuple(tuple(node + 1 for node in route.nodes) for route in solution.routes)
    return PeerRun(routes, time.perf_counter() - started)


def run_ortools_baseline(problem: ScaledProblem, time_limit_s: float, seed: int) -> PeerRun:
    """The baseline: plain OR-Tools written as its VRPTW samples do (see the module notes).

    Every customer is mandatory, as in the samples: if the first solution cannot place them
    all, there is no solution. ``seed`` goes where OR-Tools takes one (its CP-SAT parameters).
    """
    started = time.perf_counter()
    arcs = problem.arcs.tolist()
    service = problem.service.tolist()
    demand = problem.demand.tolist()
    horizon = int(problem.due[0])
    manager = pywrapcp.RoutingIndexManager(len(arcs), problem.vehicles, 0)
    routing = pywrapcp.RoutingModel(manager)

    def distance_callback(from_index: int, to_index: int) -> int:
        return int(arcs[manager.IndexToNode(from_index)][manager.IndexToNode(to_index)])

    def time_callback(from_index: int, to_index: int) -> int:
        from_node = manager.IndexToNode(from_index)
        return int(service[from_node] + arcs[from_node][manager.IndexToNode(to_index)])

    def demand_callback(from_index: int) -> int:
        return int(demand[manager.IndexToNode(from_index)])

    routing.SetArcCostEvaluatorOfAllVehicles(routing.RegisterTransitCallback(distance_callback))
    if problem.fixed_cost:
        routing.SetFixedCostOfAllVehicles(problem.fixed_cost)
    routing.AddDimension(
        routing.RegisterTransitCallback(time_callback), horizon, horizon, False, "Time"
    )
    time_dimension = routing.GetDimensionOrDie("Time")
    for node in range(1, len(arcs)):
        index = manager.NodeToIndex(node)
        time_dimension.CumulVar(index).SetRange(int(problem.ready[node]), int(problem.due[node]))
    for vehicle in range(problem.vehicles):
        for index in (routing.Start(vehicle), routing.End(vehicle)):
            time_dimension.CumulVar(index).SetRange(int(problem.ready[0]), horizon)
            routing.AddVariableMinimizedByFinalizer(time_dimension.CumulVar(index))
    routing.AddDimensionWithVehicleCapacity(
        routing.RegisterUnaryTransitCallback(demand_callback),
        0,
        [problem.capacity] * problem.vehicles,
        True,
        "Capacity",
    )
    search = pywrapcp.DefaultRoutingSearchParameters()
    search.first_solution_strategy = BASELINE_FIRST_SOLUTION
    search.local_search_metaheuristic = BASELINE_METAHEURISTIC
    search.time_limit.FromMilliseconds(max(1, round(time_limit_s * 1000)))
    search.sat_parameters.random_seed = seed
    assignment = routing.SolveWithParameters(search)
    if assignment is None:
        return PeerRun(
            (), time.perf_counter() - started, f"no solution (status {routing.status()})"
        )
    routes = []
    for vehicle in range(problem.vehicles):
        route = []
        index = assignment.Value(routing.NextVar(routing.Start(vehicle)))
        while not routing.IsEnd(index):
            route.append(manager.IndexToNode(index))
            index = assignment.Value(routing.NextVar(index))
        routes.append(tuple(route))
    return PeerRun(tuple(routes), time.perf_counter() - started)


def run_pyvrp(problem: ScaledProblem, time_limit_s: float, seed: int) -> PeerRun:
    """PyVRP's iterated local search on the same matrices, every customer required."""
    import pyvrp
    from pyvrp.stop import MaxRuntime

    started = time.perf_counter()
    source = problem.source
    locations = [pyvrp.Location(x=x, y=y) for x, y in zip(source.x, source.y, strict=True)]
    clients = [
        pyvrp.Client(
            location=node,
            delivery=[int(problem.demand[node])],
            service_duration=int(problem.service[node]),
            tw_early=int(problem.ready[node]),
            tw_late=int(problem.due[node]),
        )
        for node in range(1, problem.n_customers + 1)
    ]
    depot = pyvrp.Depot(location=0, tw_early=int(problem.ready[0]), tw_late=int(problem.due[0]))
    fleet = pyvrp.VehicleType(
        num_available=problem.vehicles,
        capacity=[problem.capacity],
        fixed_cost=problem.fixed_cost,
        tw_early=int(problem.ready[0]),
        tw_late=int(problem.due[0]),
    )
    matrices: list[Any] = [problem.arcs]  # pyvrp's stub says ndarray[int], an int64 array is meant
    data = pyvrp.ProblemData(locations, clients, [depot], [fleet], matrices, matrices)
    result = pyvrp.solve(data, MaxRuntime(time_limit_s), seed=seed, display=False)
    routes = tuple(
        tuple(activity.idx + 1 for activity in route if activity.type == pyvrp.ActivityType.CLIENT)
        for route in result.best.routes()
    )
    return PeerRun(routes, time.perf_counter() - started)


def run_vroom(problem: ScaledProblem, time_limit_s: float, seed: int) -> PeerRun:
    """VROOM (pyvroom) with the distance matrix as its cost matrix; no seed to give."""
    import vroom

    del seed  # VROOM's search takes none
    started = time.perf_counter()
    model = vroom.Input()
    model.set_durations_matrix("car", problem.arcs)
    model.set_costs_matrix("car", problem.arcs)
    window = vroom.TimeWindow(int(problem.ready[0]), int(problem.due[0]))
    model.add_vehicle(
        [
            vroom.Vehicle(
                k,
                start=0,
                end=0,
                capacity=[problem.capacity],
                time_window=window,
                costs=vroom.VehicleCosts(fixed=problem.fixed_cost),
            )
            for k in range(problem.vehicles)
        ]
    )
    model.add_job(
        [
            vroom.Job(
                node,
                location=node,
                default_service=int(problem.service[node]),
                delivery=[int(problem.demand[node])],
                time_windows=[vroom.TimeWindow(int(problem.ready[node]), int(problem.due[node]))],
            )
            for node in range(1, problem.n_customers + 1)
        ]
    )
    solution = model.solve(
        exploration_level=VROOM_EXPLORATION_LEVEL,
        nb_threads=VROOM_THREADS,
        timeout=timedelta(seconds=time_limit_s),
    )
    steps = solution.routes
    jobs = steps[steps["type"] == "job"]
    routes = tuple(
        tuple(int(job) for job in group["id"]) for _, group in jobs.groupby("vehicle_id", sort=True)
    )
    return PeerRun(routes, time.perf_counter() - started)


#: Every solver the benchmark knows, by the name ``--peers`` uses.
PEERS: dict[str, Callable[[ScaledProblem, float, int], PeerRun]] = {
    "ours": run_ours,
    "pyvrp": run_pyvrp,
    "vroom": run_vroom,
    "ortools": run_ortools_baseline,
}


def installed() -> list[str]:
    """The solvers of ``PEERS`` whose packages are importable here, in ``PEERS`` order."""
    return [
        name
        for name in PEERS
        if name not in _MODULES or importlib.util.find_spec(_MODULES[name]) is not None
    ]


def versions(names: list[str]) -> dict[str, str]:
    """Installed version of the package behind each solver named (OR-Tools for ours)."""
    found: dict[str, str] = {}
    for name in names:
        distribution = _DISTRIBUTIONS[name]
        try:
            found[distribution] = metadata.version(distribution)
        except metadata.PackageNotFoundError:
            found[distribution] = "not installed"
    return found
