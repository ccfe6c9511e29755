"""The routing solver: an OR-Tools model over numbers only.

It knows matrices, windows, allowed vehicles, capacities, breaks and penalties, and nothing of
coordinates, clocks, ids or JSON. ``dispatch`` compiles a day into an ``Instance``; the
benchmarks build one straight from a Solomon file.

Modules, each with one job (arrows: who calls whom)::

    portfolio   solve(): the race of two seeding searches, then OR-Tools, then the fill
      -> fill         nodes left out that fit the routes as they stand, put in
      -> strategies   the four seeding searches (PyVRP, VROOM, then PyVRP or OR-Tools)
           -> seeders/    PyVRP and VROOM behind the Seeder protocol
      -> search       OR-Tools' search from nothing or from routes; schedule()
           -> model       the OR-Tools routing model of an Instance
                -> arcs         the arcs between visits no feasible route can use
    params      SolveParams, strategy tables, search parameters, budget constants
    result      Progress, RouteSolution, Solution
    cost        the OR-Tools objective of routes, without the model
    instance    Instance, Vehicle, BreakRule
    errors      SolverError, InstanceError, NoSolutionInTimeError
"""

from solver.errors import InstanceError, NoSolutionInTimeError, SolverError
from solver.instance import BreakRule, Instance, Vehicle
from solver.params import SolveParams
from solver.portfolio import solve
from solver.result import Progress, RouteSolution, Solution
from solver.search import schedule

__all__ = [
    "BreakRule",
    "Instance",
    "InstanceError",
    "NoSolutionInTimeError",
    "Progress",
    "RouteSolution",
    "Solution",
    "SolveParams",
    "SolverError",
    "Vehicle",
    "schedule",
    "solve",
]
