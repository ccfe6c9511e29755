"""The seeders by name: which exist, which are installed here, which can seed an instance.

``SEEDER_BY_NAME`` is where the engine looks a seeder up each time it runs one, so another
``Seeder`` can stand in for one under its name (a test's seeder that fails, say); a spawned
side process reads its own, unchanged copy.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence

from solver.instance import Instance
from solver.seeders.base import Seeder
from solver.seeders.pyvrp import PYVRP
from solver.seeders.vroom import VROOM

__all__ = ["SEEDERS", "SEEDER_BY_NAME", "installed_seeders", "seedable", "seeder_named"]

#: The seeders by name, in the order they are tried.
SEEDERS = ("pyvrp", "vroom")
#: Each seeder of ``SEEDERS`` under its name.
SEEDER_BY_NAME: dict[str, Seeder] = {"pyvrp": PYVRP, "vroom": VROOM}
#: The module each seeder's library imports as.
_LIBRARY = {"pyvrp": "pyvrp", "vroom": "vroom"}


def seeder_named(name: str) -> Seeder:
    """The seeder called ``name`` in ``SEEDER_BY_NAME``.

    Raises
    ------
    ValueError
        If there is no seeder of that name.
    """
    try:
        return SEEDER_BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown seeder {name!r}") from None


def installed_seeders(names: Sequence[str] = SEEDERS) -> tuple[str, ...]:
    """The seeders among ``names`` (default: all) whose library can be imported here."""
    return tuple(name for name in names if importlib.util.find_spec(_LIBRARY[name]) is not None)


def seedable(instance: Instance) -> tuple[str, ...]:
    """The seeders able to express ``instance``'s rules, in ``SEEDERS`` order (none when it has
    soft windows)."""
    return tuple(name for name in SEEDERS if seeder_named(name).can_seed(instance))
