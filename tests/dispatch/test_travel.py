"""Travel-time providers: the geodesic default, explicit matrices, site deduplication."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from geopy.distance import geodesic

from dispatch.contract.validate import parse_problem
from dispatch.errors import TravelTimeError
from dispatch.model import LatLon, Site, TravelMatrix, TravelSettings
from dispatch.planning.compile import build_sites
from dispatch.travel import (
    ExplicitProvider,
    GeodesicProvider,
    Matrices,
    ellipsoidal_km,
    haversine_km,
    pair_lookup,
)
from tests.conftest import line_day

CHANGAN = LatLon(22.816, 113.806)
HUMEN = LatLon(22.814, 113.673)


@pytest.mark.parametrize("latitude", [-70.0, -35.0, 0.0, 23.0, 48.0, 65.0, 84.0])
def test_ellipsoidal_km_agrees_with_the_exact_geodesic(latitude: float) -> None:
    rng = np.random.default_rng(int(latitude) + 100)
    starts = np.column_stack(
        [rng.uniform(latitude - 3, latitude + 3, 300), rng.uniform(-180, 180, 300)]
    )
    metres = rng.uniform(1.0, 1_500_000.0, 300)
    ends = np.array(
        [
            (end.latitude, end.longitude)
            for start, bearing, length in zip(starts, rng.uniform(0, 360, 300), metres, strict=True)
            for end in [geodesic(meters=length).destination(tuple(start), bearing=bearing)]
        ]
    )
    km = np.array(
        [
            ellipsoidal_km(start[None, :], end[None, :])[0, 0]
            for start, end in zip(starts, ends, strict=True)
        ]
    )
    assert (np.abs(km * 1000 - metres) <= 1.5e-6 * metres).all()
    assert ellipsoidal_km(starts[:1], starts[:1])[0, 0] == 0.0


def test_haversine_matches_a_known_distance() -> None:
    # Paris (48.8566, 2.3522) to London (51.5074, -0.1278): 343.5 km on the sphere.
    km = haversine_km(np.array([[48.8566, 2.3522]]), np.array([[51.5074, -0.1278]]))
    assert km[0, 0] == pytest.approx(343.5, abs=0.5)


def test_geodesic_matrix_is_int64_symmetric_and_zero_on_the_diagonal() -> None:
    provider = GeodesicProvider()
    durations, distances = provider.matrix([Site(CHANGAN), Site(HUMEN)])
    assert durations.dtype == np.int64 and distances.dtype == np.int64
    assert durations[0, 0] == 0 and distances[1, 1] == 0
    assert durations[0, 1] == durations[1, 0]
    straight = haversine_km(
        np.array([[CHANGAN.lat, CHANGAN.lon]]), np.array([[HUMEN.lat, HUMEN.lon]])
    )
    assert distances[0, 1] == round(straight[0, 0] * 1.35 * 1000)


@pytest.mark.parametrize("pole", [90.0, -90.0])
def test_one_place_at_a_pole_is_no_drive_whatever_its_longitude(pole: float) -> None:
    # Every longitude names the pole; haversine leaves 7e-13 km between two of them, which
    # rounded up to a second, then a minute, of driving on every leg between its visits.
    durations, distances = GeodesicProvider().matrix(
        [Site(LatLon(pole, 0.0)), Site(LatLon(pole, 45.0)), Site(LatLon(pole, -120.0))]
    )
    assert durations.tolist() == [[0, 0, 0]] * 3
    assert distances.tolist() == [[0, 0, 0]] * 3
    near, _ = GeodesicProvider().matrix([Site(LatLon(pole, 0.0)), Site(LatLon(pole * 0.9999, 0))])
    assert near[0, 1] > 0  # 1.1 km from the pole is still a drive


def test_speed_profile_and_circuity_are_settable() -> None:
    slow = GeodesicProvider(TravelSettings(circuity=1.0, speed_kmh=((0.0, 30.0),)))
    durations, distances = slow.matrix([Site(CHANGAN), Site(HUMEN)])
    km = distances[0, 1] / 1000
    assert durations[0, 1] == pytest.approx(km / 30 * 3600, abs=1)


def test_longer_trips_are_faster_on_average() -> None:
    provider = GeodesicProvider()
    far = LatLon(CHANGAN.lat + 0.3, CHANGAN.lon)
    near = LatLon(CHANGAN.lat + 0.01, CHANGAN.lon)
    durations, distances = provider.matrix([Site(CHANGAN), Site(near), Site(far)])
    speed_near = distances[0, 1] / durations[0, 1]
    speed_far = distances[0, 2] / durations[0, 2]
    assert speed_far > 2 * speed_near


def test_geodesic_needs_coordinates() -> None:
    with pytest.raises(TravelTimeError, match="coordinates"):
        GeodesicProvider().matrix([Site(CHANGAN), Site(matrix_index=3)])


def test_explicit_matrix_is_picked_by_index() -> None:
    provider = ExplicitProvider(
        TravelMatrix(((0, 1.5, 3), (2, 0, 4), (5, 6, 0)), ((0, 1, 2), (1, 0, 3), (2, 3, 0)))
    )
    durations, distances = provider.matrix([Site(matrix_index=2), Site(matrix_index=0)])
    assert durations.tolist() == [[0, 300], [180, 0]]
    assert distances.tolist() == [[0, 2000], [2000, 0]]


def test_identical_sites_are_deduplicated_and_travel_rounds_up_to_minutes() -> None:
    day = line_day()
    day["visits"].append({"id": "V4", "location_index": 2, "duration_min": 10})
    day["travel"]["durations_min"][0][1] = 9.2
    problem = parse_problem(day)
    sites = build_sites(problem, ExplicitProvider(problem.travel))  # type: ignore[arg-type]
    assert len(sites.sites) == 4  # base + 3 visit sites; V2 and V4 share one
    assert sites.visit_row[1] == sites.visit_row[3]
    assert sites.travel_s[sites.start_row[0], sites.visit_row[0]] == 600  # 9.2 min -> 10 min


def test_pair_lookup_answers_single_legs_in_minutes_and_km() -> None:
    provider = ExplicitProvider(TravelMatrix(((0, 12.0), (7.5, 0)), ((0, 4.0), (3.0, 0))))
    leg = pair_lookup(provider)
    assert leg(0, 1) == (12.0, 4.0)
    assert leg(1, 0) == (7.5, 3.0)


def test_pair_lookup_reads_the_days_legs_from_one_matrix() -> None:
    # The checker once asked a road server one 2-point table per leg of the plan.
    asked: list[int] = []

    class Counting(GeodesicProvider):
        def matrix(self, sites: Sequence[Site]) -> Matrices:
            asked.append(len(sites))
            return super().matrix(sites)

    provider = Counting(TravelSettings())
    places = [(22.80, 113.80), (22.82, 113.83), (22.85, 113.86)]
    leg = pair_lookup(provider, known=places)
    alone = pair_lookup(GeodesicProvider(TravelSettings()))
    for origin in places:
        for destination in places:
            assert leg(origin, destination) == alone(origin, destination)
    assert asked == [3]  # one matrix for the day's places
    leg(places[0], (22.90, 113.90))  # a place not known: asked on its own
    assert asked == [3, 2]
