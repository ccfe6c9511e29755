"""Checking a VRPTW solution against the published instance, in the convention's own arithmetic.

One job: given routes (customer numbers, depot left out), say whether they are a solution of
the instance as published — every customer served exactly once, no more routes than vehicles,
capacity on every route, service starting inside every window, back at the depot by its due
time — and what their distance is. It trusts nothing a solver reports: not its cost, not its
times, not the scaled matrices it was given; it recomputes from the file's coordinates.

Arithmetic (see ``benchmarks.vrptw``):

- ``Convention.DIMACS``: every arc is ``floor(10 d)`` tenths (``math.isqrt``, exact), and times
  run in tenths, so the check and the distance are exact integers.
- ``Convention.HIERARCHICAL``: real-valued arcs in floating point; a time may overrun a bound by
  at most ``TIME_TOLERANCE`` (rounding error of the sums, not a real overrun). The distance is
  the ``math.fsum`` of the arcs, unrounded: the caller rounds it as the best-known value is.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from benchmarks.vrptw import Convention, VrptwInstance

__all__ = ["TIME_TOLERANCE", "Checked", "check_routes"]

#: Largest overrun of a time bound put down to floating-point error (hierarchical convention).
TIME_TOLERANCE = 1e-6

#: Tenths per unit under the DIMACS convention.
_TENTHS = 10


@dataclass(frozen=True, slots=True)
class Checked:
    """The verdict on one solution.

    ``complete``: every customer is on a route. ``feasible``: complete and no violation at all.
    ``distance``: the routes' total in the convention's arithmetic. ``vehicles``: routes that
    serve at least one customer.
    """

    feasible: bool
    complete: bool
    violations: tuple[str, ...]
    distance: Decimal
    vehicles: int


def _arc(instance: VrptwInstance, i: int, j: int, convention: Convention) -> int | float:
    squared = (instance.x[i] - instance.x[j]) ** 2 + (instance.y[i] - instance.y[j]) ** 2
    if convention is Convention.DIMACS:
        return math.isqrt(squared * _TENTHS**2)
    return math.sqrt(squared)


def _route(
    instance: VrptwInstance, route: Sequence[int], convention: Convention, number: int
) -> tuple[list[str], list[int | float]]:
    """Violations and arcs of one route, depot to depot."""
    unit = _TENTHS if convention is Convention.DIMACS else 1
    tolerance = 0.0 if convention is Convention.DIMACS else TIME_TOLERANCE
    problems: list[str] = []
    arcs: list[int | float] = []
    load = sum(instance.demand[c] for c in route)
    if load > instance.capacity:
        problems.append(f"route {number}: load {load} over capacity {instance.capacity}")
    clock: int | float = instance.ready[0] * unit
    previous = 0
    for customer in (*route, 0):
        arc = _arc(instance, previous, customer, convention)
        arcs.append(arc)
        arrival = clock + arc
        if customer == 0:
            if arrival > instance.due[0] * unit + tolerance:
                problems.append(
                    f"route {number}: back at the depot at {arrival / unit:g}, "
                    f"after its due time {instance.due[0]}"
                )
            break
        start = max(arrival, instance.ready[customer] * unit)
        if start > instance.due[customer] * unit + tolerance:
            problems.append(
                f"route {number}: customer {customer} served at {start / unit:g}, "
                f"after its due time {instance.due[customer]}"
            )
        clock = start + instance.service[customer] * unit
        previous = customer
    return problems, arcs


def check_routes(
    instance: VrptwInstance, routes: Sequence[Sequence[int]], convention: Convention
) -> Checked:
    """Check ``routes`` (customer numbers ``1..n``, one list per vehicle) against ``instance``.

    Empty routes are ignored. Every problem is listed, not only the first.
    """
    used = [list(route) for route in routes if route]
    problems: list[str] = []
    counts = Counter(customer for route in used for customer in route)
    strangers = sorted(c for c in counts if not 1 <= c <= instance.n_customers)
    if strangers:
        problems.append(f"not customers of the instance: {strangers}")
    twice = sorted(c for c, k in counts.items() if k > 1)
    if twice:
        problems.append(f"served more than once: {twice}")
    missing = [c for c in range(1, instance.n_customers + 1) if c not in counts]
    if missing:
        problems.append(f"{len(missing)} customers not served: {missing[:10]}")
    if len(used) > instance.vehicles:
        problems.append(f"{len(used)} routes for {instance.vehicles} vehicles")
    arcs: list[int | float] = []
    if not strangers:
        for number, route in enumerate(used):
            route_problems, route_arcs = _route(instance, route, convention, number)
            problems.extend(route_problems)
            arcs.extend(route_arcs)
    if convention is Convention.DIMACS:
        distance = Decimal(int(sum(arcs))).scaleb(-1)  # tenths, one decimal always shown
    else:
        distance = Decimal(repr(math.fsum(arcs)))
    return Checked(
        feasible=not problems,
        complete=not missing and not strangers,
        violations=tuple(problems),
        distance=distance,
        vehicles=len(used),
    )
