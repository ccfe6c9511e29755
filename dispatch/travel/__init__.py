"""Travel-time providers behind one interface: ``matrix(sites) -> (durations_s, distances_m)``.

``geodesic`` is the embedded default (coordinates only, no network); ``explicit`` serves the
matrices given in a problem. ``provider_for`` picks the one a problem asks for.
"""

from __future__ import annotations

from dispatch.model import Problem
from dispatch.travel.base import Matrices, TravelTimeProvider
from dispatch.travel.explicit import ExplicitProvider
from dispatch.travel.geodesic import GeodesicProvider, haversine_km

__all__ = [
    "ExplicitProvider",
    "GeodesicProvider",
    "Matrices",
    "TravelTimeProvider",
    "haversine_km",
    "provider_for",
]


def provider_for(problem: Problem) -> TravelTimeProvider:
    """The explicit matrix when the problem has one, else the geodesic provider of its policy."""
    if problem.travel is not None:
        return ExplicitProvider(problem.travel)
    return GeodesicProvider(problem.policy.travel)
