"""Road lines on the maps: a route whose plan carries its road geometry (``RouteOut.geometry``,
travel from OSRM) is drawn along it on the desk map and on its driver's page; a route without
one is drawn in straight legs between its markers, as before roads existed."""

from __future__ import annotations

import itertools
import json
import logging
import re
from pathlib import Path
from typing import Any

import polyline
import pytest

from dispatch.contract.schema import PlanOut, ProblemIn, RouteOut
from dispatch.contract.serialize import POLYLINE_PRECISION
from dispatch.desk.driver import driver_route
from maps import Tiles, desk_page, driver_page
from maps.base import Places, Point, colour, road_line
from tests.maps.test_browser import Opened

BLANK = Tiles(None)

#: A folium polyline in a page's script: its points, then its options (one line each).
POLYLINE = re.compile(r"L\.polyline\(\s*(\[\[[^\n]*\]\]),\s*(\{[^\n]*\})\s*\)")

#: The view a page opens on.
FIT_BOUNDS = re.compile(r"fitBounds\(\n\s*(\[\[.*\]\]),\n")


def drawn(page: str) -> list[tuple[str, list[Point]]]:
    """Every line a page draws: its colour and its ``(lat, lon)`` points, in page order."""
    return [
        (json.loads(options)["color"], [(lat, lon) for lat, lon in json.loads(points)])
        for points, options in POLYLINE.findall(page)
    ]


def legs(route: RouteOut, places: Places) -> list[Point]:
    """The straight legs of ``route``: its base, each stop, its end."""
    start, end = places.start(route.technician_id), places.end(route.technician_id)
    stops = [places.visit(stop.visit_id) for stop in route.stops]
    points = [start, *stops, end]
    assert None not in points, "every site of the generated day has coordinates"
    return [p for p in points if p is not None]


def detour(points: list[Point], north: float) -> list[Point]:
    """A hand-made road through ``points``: each leg bends ``north`` degrees off the straight
    line at its middle (nothing a straight leg passes through)."""
    road = [points[0]]
    for origin, destination in itertools.pairwise(points):
        middle = ((origin[0] + destination[0]) / 2 + north, (origin[1] + destination[1]) / 2)
        road += [middle, destination]
    return road


def encoded(points: list[Point]) -> tuple[str, list[Point]]:
    """``points`` as a plan carries them, and the points that text stands for (precision 5)."""
    text = polyline.encode(points, POLYLINE_PRECISION)
    return text, polyline.decode(text, POLYLINE_PRECISION)


def with_roads(plan: PlanOut, roads: dict[str, str]) -> PlanOut:
    """``plan`` with ``roads[technician_id]`` as the geometry of those technicians' routes."""
    routes = [
        route.model_copy(update={"geometry": roads[route.technician_id]})
        if route.technician_id in roads
        else route
        for route in plan.routes
    ]
    return plan.model_copy(update={"routes": routes})


@pytest.fixture(scope="module")
def roads(
    day_plan: tuple[PlanOut, ProblemIn],
) -> tuple[PlanOut, ProblemIn, dict[str, list[Point]]]:
    """The 40-visit day with hand-made road lines on its first two routes (the others have
    none), and the points each line decodes to. The first bends half a degree north on every
    leg, out beyond every site of the day (a road round a river); the second barely bends."""
    plan, problem = day_plan
    places = Places(problem)
    worked = [route for route in plan.routes if route.stops]
    assert len(worked) >= 3
    texts, points = {}, {}
    for route, north in zip(worked[:2], (0.5, 0.004), strict=True):
        texts[route.technician_id], points[route.technician_id] = encoded(
            detour(legs(route, places), north=north)
        )
    return with_roads(plan, texts), problem, points


def test_road_line_decodes_the_plans_polyline(caplog: pytest.LogCaptureFixture) -> None:
    text, points = encoded([(42.50779, 1.52109), (42.51012, 1.53544), (42.46372, 1.49129)])
    assert points == [(42.50779, 1.52109), (42.51012, 1.53544), (42.46372, 1.49129)]
    assert road_line(text) == points
    assert road_line(None) is None and road_line("") is None
    assert road_line(polyline.encode([(42.5, 1.5)], POLYLINE_PRECISION)) is None, "one point"
    with caplog.at_level(logging.WARNING, logger="maps.base"):
        assert road_line(text[:-1], technician_id="T7") is None  # cut short: drawn straight
    [record] = caplog.records
    assert record.technician_id == "T7"  # type: ignore[attr-defined]  # from extra=


def test_the_desk_map_follows_the_roads_of_routes_that_have_them(
    roads: tuple[PlanOut, ProblemIn, dict[str, list[Point]]],
) -> None:
    plan, problem, points = roads
    places = Places(problem)
    colours = {t.id: colour(i) for i, t in enumerate(problem.technicians)}
    page = desk_page(plan, problem, tiles=BLANK)
    expected = [
        (colours[route.technician_id], points.get(route.technician_id) or legs(route, places))
        for route in plan.routes
        if route.stops
    ]
    assert drawn(page) == expected  # one line a route: its road, or its straight legs
    # The view opens on the whole of each line, its bends beyond every marker too.
    every = [p for _, line in expected for p in line]
    sites = {p for route in plan.routes if route.stops for p in legs(route, places)}
    assert max(lat for lat, _ in every) > max(lat for lat, _ in sites)
    [view] = FIT_BOUNDS.findall(page)
    [[south, west], [north, east]] = json.loads(view)
    assert north == max(lat for lat, _ in every) and south == min(lat for lat, _ in every)
    assert (west, east) == (min(lon for _, lon in every), max(lon for _, lon in every))


def test_the_driver_page_draws_its_own_road_only(
    roads: tuple[PlanOut, ProblemIn, dict[str, list[Point]]],
) -> None:
    plan, problem, points = roads
    places = Places(problem)
    index = {t.id: i for i, t in enumerate(problem.technicians)}
    sites = {p for route in plan.routes if route.stops for p in legs(route, places)}
    for route in plan.routes:
        if not route.stops:
            continue
        page = driver_page(plan, problem, route.technician_id, tiles=BLANK)
        own = points.get(route.technician_id) or legs(route, places)
        assert drawn(page) == [(colour(index[route.technician_id]), own)]
        [view] = FIT_BOUNDS.findall(page)
        if route.technician_id in points:  # opens on the whole road, the first one's bends too
            [[south, _], [north, _]] = json.loads(view)
            assert (south, north) == (min(lat for lat, _ in own), max(lat for lat, _ in own))
        # Another route's bends are nowhere on the page (not in the view's bounds either).
        bends = {p for who, road in points.items() if who != route.technician_id for p in road}
        bends -= sites
        assert bends and not any(f"[{lat}, {lon}]" in page for lat, lon in bends)


def test_the_driver_view_carries_its_routes_geometry_only_when_it_has_one(
    roads: tuple[PlanOut, ProblemIn, dict[str, list[Point]]],
    day_plan: tuple[PlanOut, ProblemIn],
) -> None:
    plan, problem, points = roads
    day = problem.model_dump(mode="json")
    for route in plan.routes:
        view = driver_route(plan.model_dump(mode="json"), day, route.technician_id)
        assert view.geometry == route.geometry
        assert ("geometry" in view.model_dump(mode="json")) == (route.technician_id in points)
    straight, _ = day_plan
    view = driver_route(straight.model_dump(mode="json"), day, straight.routes[0].technician_id)
    assert '"geometry"' not in view.model_dump_json()  # the view reads as it did before roads


def test_a_plan_without_roads_draws_straight_legs(day_plan: tuple[PlanOut, ProblemIn]) -> None:
    plan, problem = day_plan
    places = Places(problem)
    assert all(route.geometry is None for route in plan.routes)
    page = desk_page(plan, problem, tiles=BLANK)
    assert [line for _, line in drawn(page)] == [
        legs(route, places) for route in plan.routes if route.stops
    ]
    route = next(route for route in plan.routes if route.stops)
    driver = driver_page(plan, problem, route.technician_id, tiles=BLANK)
    assert [line for _, line in drawn(driver)] == [legs(route, places)]


def test_a_road_line_that_does_not_decode_is_drawn_straight(
    day_plan: tuple[PlanOut, ProblemIn],
) -> None:
    plan, problem = day_plan
    route = next(route for route in plan.routes if route.stops)
    broken = with_roads(plan, {route.technician_id: "zzzz"})
    page = driver_page(broken, problem, route.technician_id, tiles=BLANK)
    assert [line for _, line in drawn(page)] == [legs(route, Places(problem))]


def test_road_lines_in_a_browser(
    browser: Any, roads: tuple[PlanOut, ProblemIn, dict[str, list[Point]]], output_dir: Path
) -> None:
    plan, problem, points = roads
    technician_id, road = next(iter(points.items()))
    pages = {
        "desk-roads": desk_page(plan, problem, tiles=BLANK),
        "driver-roads": driver_page(plan, problem, technician_id, tiles=BLANK),
    }
    lines = """() => {
      const map = window[document.querySelector(".folium-map").id];
      const lines = [];
      map.eachLayer((layer) => {
        if (layer instanceof L.Polyline) {
          lines.push(layer.getLatLngs().map((p) => [p.lat, p.lng]));
        }
      });
      return lines;
    }"""
    for name, page in pages.items():
        opened = Opened(browser, 1280, 800).show(page, output_dir, name)
        try:
            assert opened.errors == [] and opened.failed == []
            shown = [[tuple(p) for p in line] for line in opened.page.evaluate(lines)]
            assert road in shown
            assert opened.count("path.fr-route") == len(shown)
            opened.shoot(output_dir, name)
        finally:
            opened.close()
