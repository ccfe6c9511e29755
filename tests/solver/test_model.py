"""Tests of the OR-Tools model built from an instance, before any search."""

from __future__ import annotations

import numpy as np
import pytest

from solver import BreakRule, Instance, SolverError, Vehicle, schedule
from solver.insertion import route_holds
from solver.instance import in_turn, turn_order
from solver.model import build_routing_model
from tests.solver.instances import one_node_after_a_stop

HOUR = 3600


def test_time_transit_is_service_then_travel_on_every_arc_of_every_vehicle() -> None:
    # Asymmetric travel, a different service per visit and vehicles based at different places,
    # so a mix-up of OR-Tools indices and nodes, or of rows and columns, changes some value.
    rng = np.random.default_rng(7)
    travel = rng.integers(60, 3600, size=(6, 6)).astype(np.int64)
    np.fill_diagonal(travel, 0)
    service = np.array([300, 600, 900, 1200], dtype=np.int64)
    node_location = np.array([2, 5, 1, 4], dtype=np.int64)
    instance = Instance(
        travel_s=travel,
        distance_m=travel * 10,
        node_location=node_location,
        service_s=service,
        window_s=np.array([(0, 24 * HOUR)] * 4, dtype=np.int64),
        demand=np.zeros((4, 0), dtype=np.int64),
        penalty=np.full(4, 10**6, dtype=np.int64),
        vehicles=(
            Vehicle(0, 3, 0, 24 * HOUR),
            Vehicle(3, 0, 0, 24 * HOUR, breaks=(BreakRule(4 * HOUR, 5 * HOUR, 1800),)),
        ),
    )
    handles = build_routing_model(instance)
    manager = handles.manager
    locations = [*node_location.tolist(), 0, 3, 3, 0]  # visits, starts, ends
    services = [*service.tolist(), 0, 0, 0, 0]
    size = manager.GetNumberOfIndices()
    for vehicle in range(2):
        for from_index in range(size):
            if handles.routing.IsEnd(from_index):
                continue
            for to_index in range(size):
                a = manager.IndexToNode(from_index)
                b = manager.IndexToNode(to_index)
                expected = services[a] + int(travel[locations[a], locations[b]])
                assert handles.time.GetTransitValue(from_index, to_index, vehicle) == expected


def _two_breaks_in_a_gap(gap_s: int) -> Instance:
    """Two visits a ``gap_s`` apart (no travel), the shift over as the second ends, and two
    breaks (30 and 10 minutes) whose windows lie wholly in the gap."""
    first_end, second_start = HOUR, HOUR + gap_s
    return Instance(
        travel_s=np.zeros((3, 3), dtype=np.int64),
        distance_m=np.zeros((3, 3), dtype=np.int64),
        node_location=np.array([1, 2], dtype=np.int64),
        service_s=np.array([HOUR, HOUR], dtype=np.int64),
        window_s=np.array([(0, 0), (second_start, second_start)], dtype=np.int64),
        demand=np.zeros((2, 0), dtype=np.int64),
        penalty=np.full(2, 10**6, dtype=np.int64),
        vehicles=(
            Vehicle(
                0,
                0,
                0,
                second_start + HOUR,
                breaks=(
                    BreakRule(first_end, second_start - 1800, 1800),
                    BreakRule(first_end, second_start - 600, 600),
                ),
            ),
        ),
    )


def test_a_vehicles_breaks_are_taken_one_after_another_never_overlapping() -> None:
    # 40 minutes hold the 30- and 10-minute breaks only one after the other; 35 would hold
    # them overlapping (OR-Tools keeps a break off travel and services, not off other breaks).
    timed = schedule(_two_breaks_in_a_gap(40 * 60), [[0, 1]])
    (start_a, length_a), (start_b, _) = sorted(timed.routes[0].breaks)
    assert start_a + length_a <= start_b
    with pytest.raises(SolverError):
        schedule(_two_breaks_in_a_gap(35 * 60), [[0, 1]])
    assert not route_holds(_two_breaks_in_a_gap(35 * 60), 0, [0, 1])


def test_in_turn_orders_breaks_by_their_bounds_and_narrows_each_to_its_turn() -> None:
    lunch = BreakRule(4 * HOUR, 6 * HOUR, 1800)
    tea = BreakRule(2 * HOUR, 5 * HOUR, 900)
    late = BreakRule(4 * HOUR, 4 * HOUR + 600, 600)
    # tea first (it opens first), then the late one before lunch (they open together; it
    # must start sooner); each no sooner than the one before ends, no later than the next allows.
    assert in_turn([lunch, tea, late]) == (
        BreakRule(2 * HOUR, 4 * HOUR + 600 - 900, 900),
        BreakRule(4 * HOUR, 4 * HOUR + 600, 600),
        BreakRule(4 * HOUR + 600, 6 * HOUR, 1800),
    )
    assert in_turn([]) == ()


def test_a_break_whose_turn_by_opening_leaves_it_no_room_is_taken_sooner() -> None:
    lunch = BreakRule(12 * HOUR, 13 * HOUR, HOUR)  # an hour, from 12:00 to 14:00
    tea = BreakRule(12 * HOUR + 1800, 12 * HOUR + 2100, 600)  # 10 minutes, 12:30 to 12:45
    assert turn_order([lunch, tea]) == [1, 0]
    assert in_turn([lunch, tea]) == (tea, BreakRule(12 * HOUR + 2400, 13 * HOUR, HOUR))
    # No order fits two one-hour breaks both due at 0: by their bounds, the second has no room.
    squeezed = in_turn([BreakRule(0, 0, HOUR), BreakRule(0, 0, HOUR)])
    assert squeezed[1].latest_start_s < squeezed[1].earliest_start_s


@pytest.mark.parametrize(
    ("break_s", "stop_s", "counted_in_the_wait", "taken"),
    [
        # 00:40-01:10: the wait holds 20 of its minutes, the stop waits for the rest: 01:40.
        (2400, 0, 5400, 6000),
        # 01:06:40 falls on the drive on (01:00-01:06:40, break, 23:20 more): 02:00.
        (4000, 0, 5800, 2 * HOUR),
        # 01:05 falls in a 10 min stop, which waits for it (01:35-01:45): 02:15.
        (3900, 600, 6000, 2 * HOUR + 900),
    ],
)
def test_a_break_is_never_taken_in_the_wait_for_a_stop_to_open(
    break_s: int, stop_s: int, counted_in_the_wait: int, taken: int
) -> None:
    without = schedule(one_node_after_a_stop(break_s, stop_s, stopover=False), [[0]])
    assert without.routes[0].cumul_s == (counted_in_the_wait,)
    timed = schedule(one_node_after_a_stop(break_s, stop_s, stopover=True), [[0]])
    assert timed.routes[0].cumul_s == (taken,)
