"""The one interface every travel-time provider implements."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from dispatch.model import LatLon, Site

__all__ = ["Matrices", "RoadLines", "TravelTimeProvider"]

#: ``(durations_s, distances_m)``: square int64 arrays over the sites asked for, in that order.
Matrices = tuple[NDArray[np.int64], NDArray[np.int64]]


class TravelTimeProvider(Protocol):
    """Driving durations and distances between sites."""

    def matrix(self, sites: Sequence[Site]) -> Matrices:
        """Return ``(durations_s, distances_m)``, int64, ``len(sites)`` square; row = from.

        Raises
        ------
        TravelTimeError
            When the provider cannot answer for these sites.
        """
        ...


@runtime_checkable
class RoadLines(Protocol):
    """A provider that can also draw the road line through points (OSRM)."""

    def route_geometry(self, points: Sequence[LatLon]) -> list[tuple[float, float]]:
        """The road line through ``points`` in order, as ``(lat, lon)`` pairs.

        Raises
        ------
        TravelTimeError
            When it cannot.
        """
        ...
