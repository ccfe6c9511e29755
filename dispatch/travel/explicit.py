"""Travel from the matrices a user gave in the problem's ``travel`` (their own routing, tests)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dispatch.errors import TravelTimeError
from dispatch.model import Site, TravelMatrix
from dispatch.travel.base import Matrices
from dispatch.units import METRES_PER_KM, SECONDS_PER_MINUTE

__all__ = ["ExplicitProvider"]


class ExplicitProvider:
    """Serves sub-matrices of an explicit ``TravelMatrix`` by the sites' ``matrix_index``.

    Minutes become whole seconds (rounded to the nearest second: the matrix is the user's word)
    and kilometres whole metres. Without ``distances_km`` the distance is taken as zero.
    """

    def __init__(self, travel: TravelMatrix) -> None:
        self._durations_s = np.rint(
            np.array(travel.durations_min, dtype=np.float64) * SECONDS_PER_MINUTE
        ).astype(np.int64)
        if travel.distances_km is None:
            self._distances_m = np.zeros_like(self._durations_s)
        else:
            self._distances_m = np.rint(
                np.array(travel.distances_km, dtype=np.float64) * METRES_PER_KM
            ).astype(np.int64)

    def matrix(self, sites: Sequence[Site]) -> Matrices:
        """Rows and columns of the explicit matrix picked by each site's ``matrix_index``."""
        if any(site.matrix_index is None for site in sites):
            raise TravelTimeError("every site needs a location_index into the travel matrix")
        rows = np.array([site.matrix_index for site in sites], dtype=np.int64)
        pick = np.ix_(rows, rows)
        return self._durations_s[pick], self._distances_m[pick]
