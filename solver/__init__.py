"""The routing solver: an OR-Tools model over numbers only.

It knows matrices, windows, allowed vehicles, capacities, breaks and penalties, and nothing of
coordinates, clocks, ids or JSON. ``dispatch`` compiles a day into an ``Instance``; the
benchmarks build one straight from a Solomon file.
"""

from solver.errors import InstanceError, SolverError
from solver.instance import BreakRule, Instance, Vehicle
from solver.solve import Progress, RouteSolution, Solution, SolveParams, schedule, solve

__all__ = [
    "BreakRule",
    "Instance",
    "InstanceError",
    "Progress",
    "RouteSolution",
    "Solution",
    "SolveParams",
    "SolverError",
    "Vehicle",
    "schedule",
    "solve",
]
