"""Road lines (``dispatch.planning.lines``): the provider is asked for the line through the
technician's start, each stop and each depot call in its place, and their end, the way the
plan's legs go."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace

import pytest

from dispatch.contract.validate import parse_problem
from dispatch.errors import TravelTimeError
from dispatch.model import LatLon, Plan, Problem
from dispatch.planning import SolveParams, plan_day
from dispatch.planning.lines import with_road_lines
from dispatch.travel import RoadServerDownError
from dispatch.travel.geodesic import GeodesicProvider
from tests.parts_days import DEPOT, parts_day


class Drawing(GeodesicProvider):
    """Straight-line travel that also "draws roads": the line through the very points it is
    asked for, each request kept."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[list[tuple[float, float]]] = []

    def route_geometry(self, points: Sequence[LatLon]) -> list[tuple[float, float]]:
        asked = [(point.lat, point.lon) for point in points]
        self.asked.append(asked)
        return asked


def planned() -> tuple[Problem, Plan]:
    problem = parse_problem(parts_day())
    return problem, plan_day(problem, params=SolveParams(time_limit_s=2))


def test_the_road_line_passes_through_the_depot_a_route_calls_at() -> None:
    problem, plan = planned()
    routes = {str(route.technician_id): route for route in plan.routes}
    assert [stop.visit_id for stop in routes["T1"].stops] == ["V1", "V2"]
    assert [(call.depot_id, call.before) for call in routes["T1"].depot_stops] == [("D1", 1)]
    drawing = Drawing()
    drawn = with_road_lines(plan, problem, drawing)
    asked = {
        str(route.technician_id): line
        for route, line in zip(plan.routes, drawing.asked, strict=True)
    }
    base, v1, v2 = (22.80, 113.80), (22.81, 113.80), (22.86, 113.80)
    depot = (DEPOT["lat"], DEPOT["lon"])
    # T1: base, V1, the call at D1 made for V2, V2, home; the line is what the provider drew.
    assert asked["T1"] == [base, v1, depot, v2, base]
    (t1,) = [route for route in drawn.routes if route.technician_id == "T1"]
    assert t1.geometry == tuple(LatLon(*point) for point in asked["T1"])
    # T2 loads at D1, their base, before leaving: the line starts there, through the load.
    assert asked["T2"][:2] == [depot, depot]


def test_a_call_after_the_last_stop_comes_before_the_way_home() -> None:
    problem, plan = planned()
    (t1,) = [route for route in plan.routes if route.technician_id == "T1"]
    (call,) = t1.depot_stops
    last = replace(t1, depot_stops=(replace(call, before=len(t1.stops)),))
    drawing = Drawing()
    with_road_lines(replace(plan, routes=(last,)), problem, drawing)
    depot = (DEPOT["lat"], DEPOT["lon"])
    assert drawing.asked == [
        [(22.80, 113.80), (22.81, 113.80), (22.86, 113.80), depot, (22.80, 113.80)]
    ]


class Failing(Drawing):
    """Its server stopped answering once the matrix was given: no line can be drawn."""

    def route_geometry(self, points: Sequence[LatLon]) -> list[tuple[float, float]]:
        raise TravelTimeError("OSRM server http://127.0.0.1:9 cannot be reached")


def test_a_plan_whose_lines_cannot_be_drawn_is_kept_without_them(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The road server stopped after the search: the solve (its plan timed on the matrix) was
    # lost for its drawing.
    problem, plan = planned()
    with caplog.at_level(logging.WARNING, logger="dispatch.planning.lines"):
        kept = with_road_lines(plan, problem, Failing())
    assert kept == plan and all(route.geometry is None for route in kept.routes)
    assert "the road line of T1 is left out: OSRM server" in caplog.text


class Hung(Drawing):
    """Its server answers no more: each line would wait out the timeout."""

    def route_geometry(self, points: Sequence[LatLon]) -> list[tuple[float, float]]:
        self.asked.append([(point.lat, point.lon) for point in points])
        raise RoadServerDownError("OSRM server http://127.0.0.1:9 did not answer within 30 s")


def test_once_the_road_server_is_down_no_other_line_is_asked_for() -> None:
    # Each route's line waited out the 30 s timeout in turn: a 14-route day was stored 7
    # minutes after its search (a hunt, the server paused after the matrix).
    problem, plan = planned()
    assert len([route for route in plan.routes if route.stops]) >= 2
    hung = Hung()
    kept = with_road_lines(plan, problem, hung)
    assert kept == plan
    assert len(hung.asked) == 1
