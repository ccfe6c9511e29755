"""Small instances the solver tests build, and the check that routes fit one."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from solver import BreakRule, Instance, Vehicle, schedule

__all__ = [
    "DAY",
    "HOUR",
    "assert_routes_fit",
    "grid_instance",
    "line_instance",
    "one_node_after_a_stop",
]

HOUR = 3600
#: The working day of ``grid_instance``'s vehicles.
DAY = 10 * HOUR


def line_instance(
    positions: list[int],
    *,
    windows: list[tuple[int, int]] | None = None,
    service: int = 0,
    vehicles: tuple[Vehicle, ...] | None = None,
    demand: list[list[int]] | None = None,
    allowed: tuple[tuple[int, ...] | None, ...] = (),
    penalty: int = 10**6,
    preferred: list[int] | None = None,
    preference_cost: int = 0,
) -> Instance:
    """Locations on a line at ``positions`` (seconds apart); location 0 is the depot."""
    points = np.array([0, *positions], dtype=np.int64)
    travel = np.abs(points[:, None] - points[None, :]).astype(np.int64)
    n = len(positions)
    return Instance(
        travel_s=travel,
        distance_m=travel * 10,
        node_location=np.arange(1, n + 1, dtype=np.int64),
        service_s=np.full(n, service, dtype=np.int64),
        window_s=np.array(windows or [(0, 24 * HOUR)] * n, dtype=np.int64),
        demand=np.array(demand, dtype=np.int64) if demand else np.zeros((n, 0), dtype=np.int64),
        penalty=np.full(n, penalty, dtype=np.int64),
        vehicles=vehicles or (Vehicle(0, 0, 0, 24 * HOUR),),
        allowed=allowed,
        preferred=np.array(preferred, dtype=np.int64) if preferred else np.zeros(0, np.int64),
        preference_cost=preference_cost,
    )


def grid_instance(
    n: int = 30,
    n_vehicles: int = 4,
    *,
    seed: int = 7,
    allowed: bool = False,
    breaks: bool = False,
    preferences: bool = False,
    fixed_cost: int = 0,
) -> Instance:
    """``n`` random points around a depot, windows of two hours, capacity for about ``n / 2``."""
    rng = np.random.default_rng(seed)
    points = np.vstack([[50, 50], rng.integers(0, 100, size=(n, 2))])
    travel = np.rint(np.hypot(*(points[:, None, :] - points[None, :, :]).transpose(2, 0, 1)) * 60)
    travel = travel.astype(np.int64)
    starts = rng.integers(0, DAY - 3 * HOUR, size=n)
    lunch = (BreakRule(4 * HOUR, 5 * HOUR, 1800),) if breaks else ()
    vehicles = tuple(
        Vehicle(0, 0, 0, DAY, capacity=(n // 2,), breaks=lunch, fixed_cost=fixed_cost)
        for _ in range(n_vehicles)
    )
    return Instance(
        travel_s=travel,
        distance_m=travel * 8,
        node_location=np.arange(1, n + 1, dtype=np.int64),
        service_s=np.full(n, 900, dtype=np.int64),
        window_s=np.column_stack([starts, starts + 2 * HOUR]).astype(np.int64),
        demand=np.ones((n, 1), dtype=np.int64),
        penalty=np.full(n, 10**6, dtype=np.int64),
        vehicles=vehicles,
        allowed=tuple((k % n_vehicles,) if k % 3 == 0 else None for k in range(n))
        if allowed
        else (),
        preferred=np.array([k % n_vehicles if k % 5 == 0 else -1 for k in range(n)])
        if preferences
        else np.zeros(0, dtype=np.int64),
        preference_cost=5000 if preferences else 0,
    )


#: How far past its deadline a search may answer on a loaded machine (CI runs two test processes
#: on two cores beside VROOM's): its last step's process ending, its answer copied. A search
#: that ignored its deadline overruns by a step's budget (``LNS_STEP_S``, 1 s) or more; what
#: each step is given is checked exactly where a test records it.
DEADLINE_SLACK_S = 0.5


def assert_routes_fit(instance: Instance, routes: Sequence[Sequence[int]]) -> None:
    """One list per vehicle, each node at most once, every node where it is allowed, and the
    whole accepted by the OR-Tools model."""
    assert len(routes) == instance.n_vehicles
    served = [node for route in routes for node in route]
    assert len(served) == len(set(served))
    for v, route in enumerate(routes):
        for node in route:
            allowed = instance.allowed[node] if instance.allowed else None
            assert allowed is None or v in allowed, (node, v)
    schedule(instance, routes)


def one_node_after_a_stop(break_s: int, stop_s: int, stopover: bool) -> Instance:
    """A node an hour away, through a stop (``stop_s`` long) that opens at 01:00 and ends the
    way in with a 30 min drive on; the vehicle's 30 min break starts at ``break_s`` sharp."""
    return Instance(
        travel_s=np.array([[0, HOUR], [HOUR, 0]], dtype=np.int64),
        distance_m=np.zeros((2, 2), dtype=np.int64),
        node_location=np.array([1], dtype=np.int64),
        service_s=np.array([HOUR], dtype=np.int64),
        window_s=np.array([(HOUR + stop_s + 1800, 10 * HOUR)], dtype=np.int64),
        demand=np.zeros((1, 0), dtype=np.int64),
        penalty=np.full(1, 10**6, dtype=np.int64),
        vehicles=(Vehicle(0, 0, 0, 10 * HOUR, breaks=(BreakRule(break_s, break_s, 1800),)),),
        stopover_s=np.array(
            [(HOUR, stop_s, 1800)] if stopover else np.zeros((0, 3)), dtype=np.int64
        ),
    )
