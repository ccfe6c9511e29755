"""Starting routes from PyVRP and VROOM, for the instances they can express.

Each library is a ``Seeder`` (``solver.seeders.base``) in a module of its own
(``solver.seeders.pyvrp``, ``solver.seeders.vroom``); ``solver.seeders.registry`` names them
and says which are installed and which can seed an instance. Nothing here searches with
OR-Tools or races searches: the seeding searches that combine seeders are
``solver.strategies``.
"""

from solver.seeders.base import Routes, Seeder, seeding_applies
from solver.seeders.pyvrp import (
    MAX_PROFILES,
    PYVRP,
    PYVRP_NODE_ITERATIONS_PER_S,
    pyvrp_iterations,
    pyvrp_routes,
)
from solver.seeders.registry import (
    SEEDER_BY_NAME,
    SEEDERS,
    installed_seeders,
    seedable,
    seeder_named,
)
from solver.seeders.vroom import (
    VROOM,
    VROOM_SECONDS_AT_250,
    vroom_level,
    vroom_routes,
    vroom_seconds,
)

__all__ = [
    "MAX_PROFILES",
    "PYVRP",
    "PYVRP_NODE_ITERATIONS_PER_S",
    "SEEDERS",
    "SEEDER_BY_NAME",
    "VROOM",
    "VROOM_SECONDS_AT_250",
    "Routes",
    "Seeder",
    "installed_seeders",
    "pyvrp_iterations",
    "pyvrp_routes",
    "seedable",
    "seeder_named",
    "seeding_applies",
    "vroom_level",
    "vroom_routes",
    "vroom_seconds",
]
