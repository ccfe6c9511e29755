"""Which visit may follow which: the arcs between visits that no feasible route can use.

The routing model (``solver.model``) removes these arcs from each visit's next-node variable,
so no search ever tries them and a large day's search space grows with the arcs that can be
used, not with the square of its visits. The rules are exact: an arc is removed only when no
route that keeps every rule of the model can use it, so no feasible solution is lost (a start
read from routes that hold, a re-plan's kept routes, is still accepted as it was).

A visit ``j`` cannot directly follow a visit ``i`` (``i != j``) when

- *eligibility*: no vehicle is allowed to serve both (``Instance.allowed``);
- *alternatives*: both belong to one group of ``Instance.node_group``, of which at most one
  node is served;
- *time*: even starting ``i`` at the earliest moment its window allows (the start of its first
  interval once its gaps are taken out), serving it and driving straight on, the service of
  ``j`` would start after the end of ``j``'s last interval. The model's time transit of
  ``i -> j`` is ``service_s[i] + travel_s[loc(i), loc(j)]`` for every vehicle (one travel
  matrix, one service time per node) and waiting only delays, so the bound holds whatever the
  vehicle, its breaks or its shift.

Only arcs between visit nodes are judged: arcs from a vehicle's start or into its end are the
model's business (``VehicleVar`` already keeps ineligible vehicles off a visit). Nothing here
builds a model; it is numpy over ``(N, N)`` arrays, no loop over pairs.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from solver.instance import Instance

__all__ = ["possible_arcs", "service_bounds"]


def service_bounds(instance: Instance) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """The earliest and the latest service start each node's window allows, gaps taken out.

    Returns
    -------
    tuple of two ``(N,)`` arrays
        The start of each node's first interval and the end of its last one. A node whose
        gaps cover its whole window keeps its window's bounds (the model never serves it
        anyway: its cumul has no value left).
    """
    earliest = instance.window_s[:, 0].copy()
    latest = instance.window_s[:, 1].copy()
    for node, gaps in enumerate(instance.gaps_s):
        if not gaps:
            continue
        intervals = instance.windows(node)
        if intervals:
            earliest[node], latest[node] = intervals[0][0], intervals[-1][1]
    return earliest, latest


def _eligibility(instance: Instance) -> NDArray[np.bool_]:
    """``(N, V)`` whether each vehicle may serve each node."""
    n, n_vehicles = instance.n_nodes, instance.n_vehicles
    may = np.ones((n, n_vehicles), dtype=np.bool_)
    for node, allowed in enumerate(instance.allowed):
        if allowed is not None:
            may[node] = False
            may[node, list(allowed)] = True
    return may


def possible_arcs(instance: Instance) -> NDArray[np.bool_]:
    """``(N, N)`` whether visit ``j`` may directly follow visit ``i`` in some feasible route.

    The rules are the module docstring's; the diagonal is ``False`` (a visit never follows
    itself; the model's own self-loop, a visit left out, is not an arc here).

    Parameters
    ----------
    instance
        The numbers; checked by the caller (``Instance.check``).

    Returns
    -------
    NDArray[np.bool_]
        ``possible[i, j]``: the arc ``i -> j`` is not ruled out.
    """
    n = instance.n_nodes
    locations = instance.node_location
    earliest, latest = service_bounds(instance)
    # Earliest start of j after i, built in place: one (N, N) int64 array at a time.
    arrival = instance.travel_s[np.ix_(locations, locations)]
    arrival += (earliest + instance.service_s)[:, None]
    possible = arrival <= latest[None, :]
    del arrival
    if instance.allowed and any(allowed is not None for allowed in instance.allowed):
        may = _eligibility(instance).astype(np.float32)  # float: BLAS, exact below 2**24
        possible &= (may @ may.T) > 0
    if instance.node_group.size:
        possible &= instance.node_group[:, None] != instance.node_group[None, :]
    possible[np.arange(n), np.arange(n)] = False
    return possible
