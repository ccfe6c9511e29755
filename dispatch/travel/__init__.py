"""Travel-time providers behind one interface: ``matrix(sites) -> (durations_s, distances_m)``.

``geodesic`` is the embedded default (coordinates only, no network); ``explicit`` serves the
matrices given in a problem. ``provider_for`` picks the one a problem asks for.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from dispatch.model import LatLon, Problem, Site
from dispatch.travel.base import Matrices, TravelTimeProvider
from dispatch.travel.explicit import ExplicitProvider
from dispatch.travel.geodesic import GeodesicProvider, haversine_km
from dispatch.units import m_as_km, s_to_minutes

#: A point for single-leg look-ups: a matrix row, or ``(lat, lon)``.
PointRef = int | tuple[float, float]

__all__ = [
    "ExplicitProvider",
    "GeodesicProvider",
    "Matrices",
    "PointRef",
    "TravelTimeProvider",
    "haversine_km",
    "pair_lookup",
    "provider_for",
]


def provider_for(problem: Problem) -> TravelTimeProvider:
    """The explicit matrix when the problem has one, else the geodesic provider of its policy."""
    if problem.travel is not None:
        return ExplicitProvider(problem.travel)
    return GeodesicProvider(problem.policy.travel)


def pair_lookup(
    provider: TravelTimeProvider,
) -> Callable[[PointRef, PointRef], tuple[float, float]]:
    """Ask ``provider`` for single legs: ``(from, to) -> (minutes, km)``, cached.

    A point is a matrix row (``int``) or ``(lat, lon)``; this is the travel lookup the plan
    checker (``dispatch.verify``) takes, so it measures legs independently of the solver.
    """

    @functools.lru_cache(maxsize=65536)
    def leg(origin: PointRef, destination: PointRef) -> tuple[float, float]:
        durations_s, distances_m = provider.matrix([_site(origin), _site(destination)])
        return s_to_minutes(float(durations_s[0, 1])), m_as_km(float(distances_m[0, 1]))

    return leg


def _site(point: PointRef) -> Site:
    if isinstance(point, int):
        return Site(matrix_index=point)
    return Site(location=LatLon(point[0], point[1]))
