"""Travel-time providers behind one interface: ``matrix(sites) -> (durations_s, distances_m)``.

``geodesic`` is the embedded default (coordinates only, no network); ``explicit`` serves the
matrices given in a problem; ``osrm`` asks an OSRM server for road times (``Roads``: the server
a process was given, ``dispatch.travel.routed.road_server``). ``provider_for`` picks the one a
problem asks for.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

from dispatch.errors import TravelTimeError
from dispatch.model import LatLon, Problem, Site
from dispatch.travel.base import Matrices, TravelTimeProvider
from dispatch.travel.explicit import ExplicitProvider
from dispatch.travel.geodesic import GeodesicProvider, ellipsoidal_km, haversine_km
from dispatch.travel.osrm import NoRoadError, OsrmProvider, Roads, RoadServerDownError, SnapError
from dispatch.units import m_as_km, s_to_minutes

#: A point for single-leg look-ups: a matrix row, or ``(lat, lon)``.
PointRef = int | tuple[float, float]

__all__ = [
    "NO_ROADS",
    "ExplicitProvider",
    "GeodesicProvider",
    "Matrices",
    "NoRoadError",
    "OsrmProvider",
    "PointRef",
    "RoadServerDownError",
    "Roads",
    "RoadsNotGivenError",
    "SnapError",
    "TravelTimeProvider",
    "ellipsoidal_km",
    "haversine_km",
    "needs_roads",
    "pair_lookup",
    "provider_for",
]


def provider_for(problem: Problem, *, roads: Roads | None = None) -> TravelTimeProvider:
    """The explicit matrix when the problem has one; else the provider its policy names:
    ``geodesic``, or ``osrm`` on ``roads``.

    Raises
    ------
    TravelTimeError
        The day asks for roads and this process was given none.
    """
    if problem.travel is not None:
        return ExplicitProvider(problem.travel)
    settings = problem.policy.travel
    if needs_roads(problem):
        if roads is None:
            raise RoadsNotGivenError(NO_ROADS)
        return roads.provider(settings.snap_limit_m)
    return GeodesicProvider(settings)


def needs_roads(problem: Problem) -> bool:
    """Whether the day travels on roads (``osrm``, and no explicit matrix of its own)."""
    return problem.travel is None and problem.policy.travel.provider == "osrm"


class RoadsNotGivenError(TravelTimeError):
    """A day asks for road travel and this process was given no roads: the day's
    ``policy.travel.provider`` is what it cannot serve (the service answers 422 naming it, as
    ``POST /v1/problems`` does, not a 502 of a road server that is not there)."""

    field = "policy.travel.provider"


#: What a day that asks for road travel hears from a process that has no roads.
NO_ROADS = (
    "the day asks for road travel (policy.travel.provider 'osrm') but no roads were given: "
    "start with --roads (an OSRM server's URL or an .osm.pbf extract) or set FIELDROUTE_ROADS"
)


def pair_lookup(
    provider: TravelTimeProvider, known: Sequence[PointRef] = ()
) -> Callable[[PointRef, PointRef], tuple[float, float]]:
    """Ask ``provider`` for single legs: ``(from, to) -> (minutes, km)``, cached.

    A point is a matrix row (``int``) or ``(lat, lon)``; this is the travel lookup the plan
    checker (``dispatch.verify``) takes, so it measures legs independently of the solver.
    The ``known`` points (a day's sites) are asked in one matrix first, which a road server's
    cache usually holds already, and legs between them are read from it: one request for the
    day instead of one per leg. Any other leg is asked on its own.
    """
    row = {point: k for k, point in enumerate(known)}
    table = provider.matrix([_site(point) for point in known]) if known else None

    @functools.lru_cache(maxsize=65536)
    def leg(origin: PointRef, destination: PointRef) -> tuple[float, float]:
        if table is not None and origin in row and destination in row:
            i, j = row[origin], row[destination]
            return s_to_minutes(float(table[0][i, j])), m_as_km(float(table[1][i, j]))
        durations_s, distances_m = provider.matrix([_site(origin), _site(destination)])
        return s_to_minutes(float(durations_s[0, 1])), m_as_km(float(distances_m[0, 1]))

    return leg


def _site(point: PointRef) -> Site:
    if isinstance(point, int):
        return Site(matrix_index=point)
    return Site(location=LatLon(point[0], point[1]))
