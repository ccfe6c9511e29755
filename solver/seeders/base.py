"""The ``Seeder`` protocol each seeding library implements, and the rule every seeder shares.

A seeder translates an ``Instance`` into one library's terms and the library's answer back into
node lists, one per vehicle. OR-Tools stays the model that enforces every constraint: the
search reads each seed as an assignment of its own model, where a seed breaking any rule is
repaired or refused. Neither library sees the preferred-vehicle costs (OR-Tools weighs them in
choosing among seeds and in its search from the chosen one). The libraries live in
``solver.seeders.pyvrp`` and ``solver.seeders.vroom``, looked up by name in
``solver.seeders.registry``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from solver.instance import Instance

__all__ = ["Routes", "Seeder", "seeding_applies"]

#: One node list per vehicle, in visit order.
Routes = list[list[int]]


class Seeder(Protocol):
    """A library that finds starting routes for the instances it can express."""

    @property
    def name(self) -> str:
        """The seeder's name in ``SolveParams.seeders``."""
        ...

    def can_seed(self, instance: Instance) -> bool:
        """Whether the library can express every rule of ``instance`` that it must keep.

        Parameters
        ----------
        instance
            The numbers to route.

        Returns
        -------
        bool
            ``False`` for any instance that ``seeding_applies`` refuses.
        """
        ...

    def routes(
        self,
        instance: Instance,
        deadline: float,
        seed: int,
        work_s: float | None = None,
        on_best: Callable[[int], None] | None = None,
        stall_s: float | None = None,
    ) -> Routes:
        """The library's routes for ``instance`` from nothing, found by ``deadline``.

        Parameters
        ----------
        instance
            The numbers to route; ``can_seed(instance)`` holds.
        deadline
            Wall-clock end, ``time.time()``-based so it means the same in another process.
        seed
            Random seed, for the libraries that take one.
        work_s
            When given, the amount of work worth this many seconds on the reference machine
            (reproducible runs); ``deadline`` is then only a cap. Default ``None``: the clock.
        on_best
            Hears the cost of each better solution as the library finds it, for the libraries
            that tell (default none).
        stall_s
            When given, the libraries that search until told to stop stop once their best has
            not improved for this many seconds (``solver.params.seeder_stall_s``); the others end by
            themselves. Default ``None``: only ``deadline`` or ``work_s`` stops them.

        Returns
        -------
        Routes
            One node list per vehicle; nodes in no list are left out.
        """
        ...


def seeding_applies(instance: Instance) -> bool:
    """Whether any seeder may seed ``instance``: it has nodes, no soft windows, no
    alternatives and no commodities.

    Soft windows (re-planning) are priced by OR-Tools alone; alternatives and commodities
    (spare parts: ``Instance.has_alternatives``) are expressed by OR-Tools alone.
    """
    has_soft_windows = bool(instance.soft_window_cost and instance.soft_window_s.size)
    return instance.n_nodes != 0 and not has_soft_windows and not instance.has_alternatives
