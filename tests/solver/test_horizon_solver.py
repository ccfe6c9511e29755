"""What a horizon asks of the solver: vehicle groups, windows with gaps, a busy-time limit,
and parts of an instance solved on their own."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np

from solver import SolveParams, Vehicle, solve
from solver.cost import route_cost
from solver.model import build_routing_model
from tests.solver.instances import HOUR, grid_instance, line_instance

DAY = 24 * HOUR


def test_a_restricted_instance_keeps_its_nodes_vehicles_and_eligibility_renumbered() -> None:
    whole = grid_instance(12, 4, allowed=True, preferences=True)
    part = whole.restricted([3, 0, 7], [2, 0])
    part.check()
    assert part.n_nodes == 3 and part.n_vehicles == 2
    assert part.window_s.tolist() == whole.window_s[[3, 0, 7]].tolist()
    # Node 3 was allowed on vehicle 3 only (not kept): nowhere now; node 0 on vehicle 0 only.
    assert part.allowed[0] == () and part.allowed[1] == (1,)
    assert part.groups.tolist() == [2, 0]  # groups keep their numbers: preferences still hold


def test_a_preference_holds_on_every_vehicle_of_the_preferred_group() -> None:
    # Two vehicles are one person on two days (group 0); a third is someone else (group 1).
    vehicles = (Vehicle(0, 0, 0, DAY), Vehicle(0, 0, DAY, 2 * DAY), Vehicle(0, 0, 0, DAY))
    instance = line_instance(
        [100], vehicles=vehicles, windows=[(DAY, 2 * DAY)], preferred=[0], preference_cost=10**5
    )
    instance = replace(instance, vehicle_group=np.array([0, 0, 1], dtype=np.int64))
    solution = solve(instance, SolveParams(time_limit_s=1, seeders=()))
    assert [r.vehicle for r in solution.routes if r.nodes] == [1]  # the group's second day
    assert route_cost(instance, [[], [0], []]) == 200


def test_a_window_with_gaps_is_served_outside_them() -> None:
    instance = line_instance([100], windows=[(0, 3 * HOUR)], vehicles=(Vehicle(0, 0, 0, DAY),))
    gapped = replace(instance, gaps_s=(((0, 2 * HOUR - 1),),))
    assert gapped.windows(0) == [(2 * HOUR, 3 * HOUR)]
    solution = solve(gapped, SolveParams(time_limit_s=1, seeders=()))
    [route] = [r for r in solution.routes if r.nodes]
    assert route.cumul_s[0] >= 2 * HOUR


def test_a_node_s_gaps_are_taken_out_of_its_cumul_only_where_someone_works() -> None:
    # Served 09:00-11:00 on any of three days, by vehicles working 08:00-16:00 on days 0 and
    # 2. OR-Tools removes a gap value by value: the nights (and the day nobody works) were
    # removed whole, 3 ms each; only 08:00-09:00 and 11:00-16:00 of a working day can matter.
    daily = ((9 * HOUR, 11 * HOUR), (DAY + 9 * HOUR, DAY + 11 * HOUR),
             (2 * DAY + 9 * HOUR, 2 * DAY + 11 * HOUR))  # fmt: skip
    gaps = tuple((high + 1, low - 1) for (_, high), (low, _) in itertools.pairwise(daily))
    working = (
        Vehicle(0, 0, 8 * HOUR, 16 * HOUR),
        Vehicle(0, 0, 2 * DAY + 8 * HOUR, 2 * DAY + 16 * HOUR),
    )
    instance = line_instance([100], windows=[(9 * HOUR, 2 * DAY + 11 * HOUR)], vehicles=working)
    instance = replace(instance, gaps_s=(gaps,))
    model = build_routing_model(instance)  # kept: its variables die with it
    cumul = model.time.CumulVar(0)
    assert (cumul.Min(), cumul.Max()) == (9 * HOUR, 2 * DAY + 11 * HOUR)
    for t in range(cumul.Min(), cumul.Max() + 1, 60):
        in_hours = any(low <= t <= high for low, high in daily)
        off = 16 * HOUR < t < 2 * DAY + 8 * HOUR  # nobody works: left to the routes
        assert cumul.Contains(t) == (in_hours or off), t
    # One day alone: a range, no hole.
    day = replace(instance, vehicles=working[1:])
    alone = build_routing_model(day)
    single = alone.time.CumulVar(0)
    assert (single.Min(), single.Max()) == daily[2]
    assert single.Size() == daily[2][1] - daily[2][0] + 1


def test_a_busy_time_limit_spreads_work_over_vehicles() -> None:
    vehicles = (Vehicle(0, 0, 0, DAY), Vehicle(0, 0, 0, DAY))
    instance = line_instance([10, 10, 10, 10], service=HOUR, vehicles=vehicles)
    alone = solve(instance, SolveParams(time_limit_s=1, seeders=()))
    assert sorted(len(r.nodes) for r in alone.routes) == [0, 4]  # cheapest: one vehicle
    balanced = replace(
        instance, busy_target_s=np.array([2 * HOUR + 60, 2 * HOUR + 60]), busy_cost=10
    )
    spread = solve(balanced, SolveParams(time_limit_s=1, seeders=()))
    assert sorted(len(r.nodes) for r in spread.routes) == [2, 2]
