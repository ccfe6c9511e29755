"""The embedded default provider: straight lines, bent by a circuity factor, at urban speeds.

Distance is the haversine great-circle distance times ``circuity`` (roads are longer than
straight lines: 1.3-1.4 in most cities). Duration is that road distance at the average speed of
a trip of that length, interpolated linearly between the ``speed_kmh`` points: short hops crawl
through streets and car parks, long trips reach the expressway. Fully vectorised, so a
2,500-site matrix takes well under a second and no network.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from dispatch.errors import TravelTimeError
from dispatch.model import LatLon, Site, TravelSettings
from dispatch.travel.base import Matrices
from dispatch.units import METRES_PER_KM

__all__ = ["EARTH_RADIUS_KM", "GeodesicProvider", "ellipsoidal_km", "haversine_km"]

#: Mean Earth radius (IUGG), the usual choice for the haversine formula.
EARTH_RADIUS_KM = 6371.0088
#: The WGS84 ellipsoid: equatorial radius and flattening.
WGS84_A_KM = 6378.137
WGS84_F = 1 / 298.257223563


def haversine_km(
    origins: NDArray[np.float64], destinations: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Great-circle km between every origin and every destination.

    Parameters
    ----------
    origins, destinations
        ``(n, 2)`` and ``(m, 2)`` arrays of ``(lat, lon)`` in degrees.

    Returns
    -------
    ``(n, m)`` array of kilometres.
    """
    lat1, lat2 = np.radians(origins[:, 0])[:, None], np.radians(destinations[:, 0])[None, :]
    result: NDArray[np.float64] = EARTH_RADIUS_KM * _central_angle(
        lat1, lat2, _lon_gaps(origins, destinations)
    )
    return result


def ellipsoidal_km(
    origins: NDArray[np.float64], destinations: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Km on the WGS84 ellipsoid between every origin and every destination, by Lambert's
    formula for long lines: the great circle between the reduced latitudes, corrected for the
    flattening. Against the exact geodesic (geographiclib) it errs by at most 1.5e-6 of the
    distance (2 m at 1,500 km) at any latitude; not for nearly antipodal points.

    Parameters
    ----------
    origins, destinations
        ``(n, 2)`` and ``(m, 2)`` arrays of ``(lat, lon)`` in degrees.

    Returns
    -------
    ``(n, m)`` array of kilometres.
    """
    shrink = 1 - WGS84_F
    beta1 = np.arctan(shrink * np.tan(np.radians(origins[:, 0])))[:, None]
    beta2 = np.arctan(shrink * np.tan(np.radians(destinations[:, 0])))[None, :]
    sigma = _central_angle(beta1, beta2, _lon_gaps(origins, destinations))
    p, q = (beta1 + beta2) / 2, (beta2 - beta1) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        x = (sigma - np.sin(sigma)) * np.sin(p) ** 2 * np.cos(q) ** 2 / np.cos(sigma / 2) ** 2
        y = (sigma + np.sin(sigma)) * np.cos(p) ** 2 * np.sin(q) ** 2 / np.sin(sigma / 2) ** 2
    correction = np.where(sigma > 0, x + y, 0.0)
    result: NDArray[np.float64] = WGS84_A_KM * (sigma - WGS84_F / 2 * correction)
    return result


def _lon_gaps(
    origins: NDArray[np.float64], destinations: NDArray[np.float64]
) -> NDArray[np.float64]:
    """``(n, m)`` radians of longitude from each origin to each destination."""
    gaps: NDArray[np.float64] = (
        np.radians(destinations[:, 1])[None, :] - np.radians(origins[:, 1])[:, None]
    )
    return gaps


def _central_angle(
    lat1: NDArray[np.float64], lat2: NDArray[np.float64], dlon: NDArray[np.float64]
) -> NDArray[np.float64]:
    """The great-circle angle (radians) between latitudes ``lat1`` (a column) and ``lat2`` (a
    row) ``dlon`` apart, by the haversine formula."""
    half = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin(dlon / 2) ** 2
    angle: NDArray[np.float64] = 2 * np.arcsin(np.sqrt(np.clip(half, 0, 1)))
    return angle


class GeodesicProvider:
    """Travel times from coordinates alone (see the module docstring).

    Parameters
    ----------
    settings
        Circuity factor and the speed profile.
    """

    def __init__(self, settings: TravelSettings | None = None) -> None:
        self.settings = settings = settings or TravelSettings()
        points = np.array(settings.speed_kmh, dtype=np.float64)
        self._profile_km, self._profile_kmh = points[:, 0], points[:, 1]

    def road_km(
        self, origins: Sequence[LatLon], destinations: Sequence[LatLon]
    ) -> NDArray[np.float64]:
        """Estimated road kilometres between every origin and destination."""
        return (
            haversine_km(_coordinates(origins), _coordinates(destinations)) * self.settings.circuity
        )

    def matrix(self, sites: Sequence[Site]) -> Matrices:
        """Durations (s) and distances (m) between ``sites``; every site needs coordinates."""
        missing = [i for i, site in enumerate(sites) if site.location is None]
        if missing:
            raise TravelTimeError(
                f"the geodesic provider needs coordinates; sites {missing[:5]} have none"
            )
        points = [site.location for site in sites if site.location is not None]
        road_km = self.road_km(points, points)
        speed_kmh = np.interp(road_km, self._profile_km, self._profile_kmh)
        # Rounded up, but not floating-point noise: at a pole every longitude is one place,
        # 7e-13 km apart by haversine, which rounded up to a minute's drive between visits
        # there. Below a millisecond is no drive (as an OSRM table's seconds are read).
        durations_s = np.ceil(np.round(road_km / speed_kmh * 3600.0, 3)).astype(np.int64)
        distances_m = np.rint(road_km * METRES_PER_KM).astype(np.int64)
        return durations_s, distances_m


def _coordinates(points: Sequence[LatLon]) -> NDArray[np.float64]:
    return np.array([(point.lat, point.lon) for point in points], dtype=np.float64).reshape(-1, 2)
