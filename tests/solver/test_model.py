"""Tests of the OR-Tools model built from an instance, before any search."""

from __future__ import annotations

import numpy as np

from solver import BreakRule, Instance, Vehicle
from solver.model import build_routing_model

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
