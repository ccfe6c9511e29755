"""The road benchmark's pieces at toy scale: the re-timing walk worked by hand, the day
generator, and (on a real ``osrm-routed`` over the Helsinki extract) points, matrices, ratios
and a 10-visit day planned both ways.

The tests that need OSRM prepare ``osm/helsinki.osm.pbf`` of the shared data into a temporary
cache with OSRM's own tools (found by ``find_tools`` or fetched once by ``install_tools``, as in
``tests/dispatch/test_osrm.py``); they are skipped, saying why, only when the tools cannot be
had or the extract is absent.
"""

from __future__ import annotations

import math
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from random import Random
from typing import Any

import numpy as np
import pytest

from benchmarks.roads import (
    APPOINTMENT_SHARE,
    HELSINKI,
    WINDOW_SHARE,
    build_day,
    connected_points,
    extract_path,
    matrix_lookup_over,
    plan_both,
    ratios,
    retime,
    road_server,
    time_matrices,
    time_prepare,
)
from benchmarks.vrptw import DATA_ENV
from dispatch.contract.serialize import plan_document
from dispatch.contract.validate import parse_problem
from dispatch.model import LatLon, Site, TravelSettings
from dispatch.planning import SolveParams, plan_day
from dispatch.travel.geodesic import GeodesicProvider
from dispatch.travel.osrm import OsrmProvider, matrix_cache_info
from dispatch.travel.osrm_tools import OsrmTools
from dispatch.travel.roads import Dataset, prepare
from dispatch.travel.routed import RoutedServer
from dispatch.verify import LocationRef

# -- the walk, worked by hand ----------------------------------------------------------------

BASE, A, C, D = (60.170, 24.940), (60.172, 24.942), (60.174, 24.944), (60.176, 24.946)

#: One technician; an appointment at 09:00 (A), a window 09:30-10:00 (C), a free visit (D).
PROBLEM: dict[str, Any] = {
    "date": "2026-11-23",
    "timezone": "Europe/Helsinki",
    "technicians": [
        {
            "id": "T1",
            "skills": [],
            "start": {"lat": BASE[0], "lon": BASE[1]},
            "end": {"lat": BASE[0], "lon": BASE[1]},
            "shift": {"start": "08:00", "end": "16:00"},
            "breaks": [{"start": "09:00", "end": "11:00", "duration_min": 15}],
        }
    ],
    "visits": [
        {"id": "V1", "location": {"lat": A[0], "lon": A[1]}, "duration_min": 30,
         "appointment": "09:00"},
        {"id": "V2", "location": {"lat": C[0], "lon": C[1]}, "duration_min": 20,
         "window": {"start": "09:30", "end": "10:00"}},
        {"id": "V3", "location": {"lat": D[0], "lon": D[1]}, "duration_min": 10},
    ],
}  # fmt: skip


def _at(clock: str) -> str:
    return f"2026-11-23T{clock}:00+02:00"


#: Its plan with legs of 12 (base-A), 4 (A-C), 5 (C-D) and 5 (D-base) minutes and a break of
#: 15 min on the way from A to C.
PLAN: dict[str, Any] = {
    "routes": [
        {
            "technician_id": "T1",
            "start_time": _at("08:40"),
            "end_time": _at("10:30"),
            "breaks": [{"start": _at("09:31"), "end": _at("09:46")}],
            "stops": [
                {"visit_id": "V1", "arrival": _at("08:52"), "service_start": _at("09:00"),
                 "departure": _at("09:30")},
                {"visit_id": "V2", "arrival": _at("09:50"), "service_start": _at("09:50"),
                 "departure": _at("10:10")},
                {"visit_id": "V3", "arrival": _at("10:15"), "service_start": _at("10:15"),
                 "departure": _at("10:25"),
                 "promised_window": {"start": _at("10:00"), "end": _at("10:30")}},
            ],
        }
    ]
}  # fmt: skip


def _legs(minutes: dict[tuple[tuple[float, float], tuple[float, float]], float]) -> Any:
    def leg(origin: LocationRef, destination: LocationRef) -> tuple[float, float]:
        assert isinstance(origin, tuple) and isinstance(destination, tuple)
        return minutes[(origin, destination)], 1.0

    return leg


AS_PLANNED = {(BASE, A): 12.0, (A, C): 4.0, (C, D): 5.0, (D, BASE): 5.0}


def test_the_walk_on_the_planned_legs_finds_nothing_late() -> None:
    walked = retime(PROBLEM, PLAN, _legs(AS_PLANNED))
    assert (walked.stops, walked.appointments, walked.windows, walked.promises) == (3, 1, 1, 1)
    assert (walked.appointments_late, walked.windows_missed, walked.promises_missed) == (0, 0, 0)
    assert (walked.routes, walked.routes_over_shift, walked.km) == (1, 0, 4.0)


def test_slower_legs_make_the_appointment_the_window_and_the_promise_late() -> None:
    # Base-A 21 min: at A 09:01, one minute late; service 09:01-09:31. A-C 20 min and the
    # break (not before 09:31): at C 10:06, after its window closes at 10:00. Service until
    # 10:26, C-D 5 min: 10:31, past the promise (10:30).
    slower = AS_PLANNED | {(BASE, A): 21.0, (A, C): 20.0}
    walked = retime(PROBLEM, PLAN, _legs(slower))
    assert (walked.appointments_late, walked.late_min) == (1, (1.0,))
    assert (walked.windows_missed, walked.promises_missed, walked.routes_over_shift) == (1, 1, 0)
    # The way home after 16:00: the route overruns its shift.
    walked = retime(PROBLEM, PLAN, _legs(slower | {(D, BASE): 400.0}))
    assert walked.routes_over_shift == 1


def test_a_break_is_not_taken_before_its_planned_time() -> None:
    # V2's window closes at 09:45. Leaving A at 09:30 with no drive at all, the break planned
    # 09:31-09:46 makes V2 start at 09:46: missed. Taken at once, it would end at 09:45.
    tight = dict(PROBLEM, visits=[*PROBLEM["visits"]])
    tight["visits"][1] = dict(tight["visits"][1], window={"start": "09:30", "end": "09:45"})
    assert retime(tight, PLAN, _legs(AS_PLANNED | {(A, C): 0.0})).windows_missed == 1
    assert retime(PROBLEM, PLAN, _legs(AS_PLANNED | {(A, C): 0.0})).windows_missed == 0


# -- the day generator -----------------------------------------------------------------------


def _grid(count: int) -> list[LatLon]:
    side = math.ceil(math.sqrt(count))
    return [
        LatLon(*HELSINKI.at((0.5 + i // side) / side, (0.5 + i % side) / side))
        for i in range(count)
    ]


def test_build_day_is_a_valid_day_in_exact_shares() -> None:
    points = [LatLon(round(p.lat, 6), round(p.lon, 6)) for p in _grid(42)]
    bases, customers = points[:2], points[2:]
    raw = build_day(customers, bases)
    assert raw == build_day(customers, bases)  # deterministic for a seed
    problem = parse_problem(raw)
    assert len(problem.visits) == 40 and len(problem.technicians) == 5  # 40 / 8
    booked = [v for v in raw["visits"] if "appointment" in v]
    timed = [v for v in raw["visits"] if "appointment" in v or "window" in v]
    # Appointments the desk could not book become windows: the timed share stays exact.
    assert len(timed) == round(40 * APPOINTMENT_SHARE) + round(40 * WINDOW_SHARE)
    assert 0 < len(booked) <= round(40 * APPOINTMENT_SHARE)
    for visit in booked:
        hours, minutes = map(int, visit["appointment"].split(":"))
        assert minutes % 15 == 0 and 8 <= hours < 17
    starts = {(t["start"]["lat"], t["start"]["lon"]) for t in raw["technicians"]}
    assert starts == {(b.lat, b.lon) for b in bases}
    held = {skill for t in raw["technicians"] for skill in t["skills"]}
    assert {skill for v in raw["visits"] for skill in v["required_skills"]} <= held


@pytest.mark.slow
def test_a_plan_walked_on_its_own_travel_times_is_never_late() -> None:
    # The walk agrees with the planner: the geodesic plan, walked on the geodesic matrix.
    points = [LatLon(round(p.lat, 6), round(p.lon, 6)) for p in _grid(14)]
    raw = build_day(points[2:], points[:2])
    problem = parse_problem(raw)
    geodesic = GeodesicProvider(TravelSettings())
    plan = plan_day(problem, provider=geodesic, params=SolveParams(time_limit_s=2))
    document = plan_document(
        problem, plan, plan_id="pl_t", version=1, created_at=datetime.now(UTC)
    ).model_dump(mode="json")
    lookup = matrix_lookup_over(points, *geodesic.matrix([Site(location=p) for p in points]))
    walked = retime(raw, document, lookup)
    assert walked.stops == document["kpis"]["assigned"] > 0
    assert walked.appointments == sum(1 for r in document["routes"] for s in r["stops"]
                                      if s.get("appointment"))  # fmt: skip
    assert (walked.appointments_late, walked.windows_missed, walked.promises_missed) == (0, 0, 0)
    assert walked.routes_over_shift == 0
    assert walked.km == pytest.approx(
        document["kpis"]["distance_km"], abs=0.1 * (1 + walked.routes)
    )


# -- on a real osrm-routed -------------------------------------------------------------------


@pytest.fixture(scope="module")
def helsinki_extract() -> Path:
    extract = extract_path(HELSINKI)
    if not extract.is_file():
        pytest.skip(
            f"{extract} not found: put shared/ beside the repository or set {DATA_ENV} "
            "to the folder holding osm/helsinki.osm.pbf"
        )
    return extract


@pytest.fixture(scope="module")
def helsinki(
    tools: OsrmTools, helsinki_extract: Path, tmp_path_factory: pytest.TempPathFactory
) -> Dataset:
    return prepare(helsinki_extract, cache_dir=tmp_path_factory.mktemp("roads"), tools=tools)


@pytest.fixture(scope="module")
def served(helsinki: Dataset, tools: OsrmTools) -> Iterator[tuple[RoutedServer, OsrmProvider]]:
    with road_server(helsinki, tools) as running:
        yield running


def test_time_prepare_builds_then_finds_the_dataset(
    tools: OsrmTools, helsinki_extract: Path, helsinki: Dataset, tmp_path: Path
) -> None:
    dataset, cold_s, cached_s = time_prepare(helsinki_extract, tools, tmp_path / "fresh")
    assert dataset.key == helsinki.key and dataset.folder.parent == tmp_path / "fresh"
    assert (dataset.folder / "complete.json").is_file()
    assert 0 < cached_s < cold_s


def test_connected_points_have_a_road_between_every_pair(
    served: tuple[RoutedServer, OsrmProvider],
) -> None:
    server, provider = served
    points = connected_points(server.base_url, HELSINKI, 20, Random(1), block=7)
    assert len(points) == len(set(points)) == 20
    assert points == connected_points(server.base_url, HELSINKI, 20, Random(1), block=7)
    for point in points:
        assert HELSINKI.south <= point.lat <= HELSINKI.north
        assert HELSINKI.west <= point.lon <= HELSINKI.east
    durations, _ = provider.matrix([Site(location=p) for p in points])  # raises if one is cut off
    assert durations.shape == (20, 20) and (durations >= 0).all()
    assert np.count_nonzero(durations) > 0.9 * 20 * 19


def test_time_matrices_and_ratios(served: tuple[RoutedServer, OsrmProvider]) -> None:
    server, provider = served
    points = connected_points(server.base_url, HELSINKI, 20, Random(2))
    timings, largest = time_matrices(provider, points, (10, 20), repeats=2)
    assert [(t.size, len(t.seconds), t.requests, t.failed) for t in timings] == [
        (10, 2, 1, None),
        (20, 2, 1, None),
    ]
    assert all(0 < t.median_s <= t.max_s for t in timings)
    assert largest is not None
    assert matrix_cache_info().entries == 0  # each timing was a real fetch; nothing kept
    sites = [Site(location=p) for p in points]
    fetched = provider.matrix(sites)
    np.testing.assert_array_equal(largest[0], fetched[0])
    geodesic = GeodesicProvider(TravelSettings()).matrix(sites)
    found = ratios(largest, geodesic)
    assert found.pairs + found.same_spot == 20 * 19
    kept = ~np.eye(20, dtype=bool) & (largest[0] > 0)
    assert found.duration_mean == pytest.approx(
        float(np.mean(largest[0][kept] / geodesic[0][kept]))
    )
    assert 0 < found.duration_p5 <= found.duration_p95


def test_a_size_that_fails_is_a_row_saying_why() -> None:
    with socket.socket() as probe:  # a port where nothing answers
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    dead = OsrmProvider(url, retries=0, max_table_size=2)
    timings, largest = time_matrices(dead, _grid(5), (3, 5), repeats=2)
    assert largest is None
    assert [(t.size, t.block, t.requests, t.seconds) for t in timings] == [
        (3, 2, 4, ()),
        (5, 2, 9, ()),
    ]
    for timing in timings:
        assert timing.failed is not None and math.isnan(timing.max_s)
        assert timing.failed.startswith("cannot be reached for the table block 1/")
        assert url not in timing.failed and "/table/v1" not in timing.failed


@pytest.mark.slow
def test_a_day_planned_on_roads_is_never_late_on_roads(
    served: tuple[RoutedServer, OsrmProvider],
) -> None:
    server, provider = served
    points = connected_points(server.base_url, HELSINKI, 12, Random(3))
    raw = build_day(points[2:], points[:2])
    geodesic_day, road_day = plan_both(raw, provider, 2.0)
    assert (geodesic_day.model, road_day.model) == ("geodesic", "road")
    assert road_day.visits == 10 and road_day.assigned > 0
    assert not road_day.violations  # the checker, over the road matrix
    walked = road_day.on_roads
    assert walked.stops == road_day.assigned
    assert (walked.appointments_late, walked.windows_missed, walked.promises_missed) == (0, 0, 0)
    assert walked.routes_over_shift == 0
    # The walk drives the km the road plan reports.
    assert walked.km == pytest.approx(road_day.km_planned, abs=0.1 * (1 + walked.routes))
    assert geodesic_day.on_roads.stops == geodesic_day.assigned
