"""Pieces of route segments (``solver.segments``) and the close-routes search's steps on them."""

from __future__ import annotations

import random
import time
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from solver import BreakRule, Instance, Vehicle
from solver.cost import route_cost
from solver.insertion import route_holds
from solver.lns import improve_close_routes
from solver.params import LNS_SEGMENT_LENGTH, LNS_SEGMENT_ROUTES
from solver.seeders import Routes, installed_seeders, vroom_routes
from solver.segments import SegmentPiece, _stretch_vehicle, earliest_starts, segment_piece
from tests.solver.instances import HOUR, assert_routes_fit, grid_instance

needs_vroom = pytest.mark.skipif(
    "vroom" not in installed_seeders(), reason="VROOM is an engine dependency"
)


def tight_day() -> tuple[Instance, Routes]:
    """More visits than six vehicles with a lunch serve, some allowed to one vehicle only, and
    VROOM's quick routes of it."""
    instance = grid_instance(90, 6, seed=4, allowed=True, breaks=True)
    instance = replace(instance, penalty=np.where(np.arange(90) % 4 == 0, 10**7, 10**6))
    return instance, vroom_routes(instance, 0.3, level=0)


def pieces(instance: Instance, routes: Routes, n: int, **kwargs: Any) -> list[SegmentPiece]:
    served = {node for route in routes for node in route}
    left_out = np.asarray([k for k in range(instance.n_nodes) if k not in served], np.int64)
    starts = [earliest_starts(instance, v, route) for v, route in enumerate(routes)]
    found = [
        segment_piece(instance, routes, starts, left_out, random.Random(k), **kwargs)
        for k in range(n)
    ]
    return [piece for piece in found if piece is not None]


@needs_vroom
def test_each_stretch_holds_as_it_stands_for_its_own_vehicle() -> None:
    instance, routes = tight_day()
    found = pieces(instance, routes, 40)
    assert len(found) > 30
    served = {node for route in routes for node in route}
    for piece in found:
        assert 0 < len(piece.vehicles) <= LNS_SEGMENT_ROUTES
        assert piece.instance.n_vehicles == len(piece.vehicles)
        k = 0
        stretches = []
        for first, last in piece.cuts:
            assert 0 <= first <= last and last - first < LNS_SEGMENT_LENGTH
            stretches.append(list(range(k, k + last - first + 1)))
            k += last - first + 1
        for vehicle, stretch in enumerate(stretches):
            assert route_holds(piece.instance, vehicle, stretch)
        # Splicing the stretches back as they were gives the routes back.
        assert piece.spliced(routes, stretches) == [list(routes[v]) for v in piece.vehicles]
        # Offered: left-out nodes one of the piece's vehicles may serve.
        for node in piece.offered:
            assert node not in served
            allowed = instance.allowed[node]
            assert allowed is None or set(allowed) & set(piece.vehicles)


@needs_vroom
def test_a_piece_cuts_only_the_vehicles_it_is_given() -> None:
    instance, routes = tight_day()
    for piece in pieces(instance, routes, 20, vehicles=[1, 4]):
        assert set(piece.vehicles) <= {1, 4}


@needs_vroom
def test_vroom_s_answers_spliced_back_hold_in_the_whole_day() -> None:
    instance, routes = tight_day()
    spliced = 0
    for piece in pieces(instance, routes, 30):
        answer = vroom_routes(piece.instance, 0.2, level=3)
        for v, route in zip(piece.vehicles, piece.spliced(routes, answer), strict=True):
            assert route_holds(instance, v, route), (v, route)
            spliced += 1
    assert spliced > 30


@needs_vroom
def test_segment_steps_alone_improve_routes_and_keep_them_valid(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    instance, start = tight_day()
    cut: list[int] = []

    def heard(*args: Any, **kwargs: Any) -> SegmentPiece | None:
        piece = segment_piece(*args, **kwargs)
        cut.append(piece is not None)
        return piece

    monkeypatch.setattr("solver.lns.segment_piece", heard)
    monkeypatch.setattr("solver.lns.LNS_SEGMENT_ODDS", (1.0, 1.0))
    routes = improve_close_routes(instance, start, time.time() + 1.0, seed=3)
    assert sum(cut) > 5
    assert_routes_fit(instance, routes)
    assert route_cost(instance, routes) < route_cost(instance, start)


@needs_vroom
def test_a_route_that_does_not_hold_is_not_cut_and_does_not_stop_the_piece() -> None:
    """A seeder's routes may, rarely, break a rule of the model: a stretch of such a route
    whose head cannot be timed is left out of the piece instead of failing the step."""
    instance, routes = tight_day()
    broken = [list(route) for route in routes]
    longest = max(range(len(broken)), key=lambda v: len(broken[v]))
    broken[longest].reverse()
    assert not route_holds(instance, longest, broken[longest])
    found = pieces(instance, broken, 40)
    assert len(found) > 20


@needs_vroom
def test_a_stretch_ending_before_its_break_can_end_takes_no_break_vroom_cannot_place() -> None:
    """A tea break from 12:00 (10 minutes, started by 12:10) and a lunch after it; a stop
    fixed at 11:10 (40 minutes) with the next stop 14 minutes away. Cut after the first stop,
    the stretch arrives at 12:04: its vehicle ends when the next stop must start, 12:05 with
    tea taken before it, and tea cannot end by then. The solver's timing let the stretch take
    tea once there; VROOM refused the piece ("Inconsistent breaks"), which failed the whole
    search it was a step of. The stretch takes both breaks or none."""
    minute = 60
    travel = np.array([[0, 5, 10], [5, 0, 14], [10, 14, 0]], dtype=np.int64) * minute
    tea = BreakRule(12 * HOUR, 12 * HOUR + 10 * minute, 10 * minute)
    lunch = BreakRule(11 * HOUR + 30 * minute, 12 * HOUR + 45 * minute, 45 * minute)
    instance = Instance(
        travel_s=travel,
        distance_m=travel * 8,
        node_location=np.array([1, 2], dtype=np.int64),
        service_s=np.array([40, 40], dtype=np.int64) * minute,
        window_s=np.array([[11 * HOUR + 10 * minute] * 2, [0, 18 * HOUR]], dtype=np.int64),
        demand=np.zeros((2, 0), dtype=np.int64),
        penalty=np.full(2, 10**6, dtype=np.int64),
        vehicles=(Vehicle(0, 0, 8 * HOUR, 18 * HOUR, breaks=(tea, lunch)),),
    )
    assert route_holds(instance, 0, [0, 1])
    cut = _stretch_vehicle(instance, 0, [0, 1], 0, 0)
    assert cut is not None and len(cut.breaks) == 2
    piece = replace(instance.restricted([0], [0]), vehicles=(cut,))
    vroom_routes(piece, 0.2, level=0)  # VROOM takes it
