"""Where a visit or technician is on Earth (``dispatch.contract.sites.locate``)."""

from __future__ import annotations

from dispatch.contract.schema import LocationIn, TravelIn
from dispatch.contract.sites import locate
from tests.conftest import LINE_MINUTES

#: The line day's matrix, rows 0 and 2 with coordinates, row 1 without, row 3 not listed.
TRAVEL = TravelIn(
    durations_min=LINE_MINUTES,
    locations=[
        LocationIn(lat=22.80, lon=113.80, address="depot"),
        None,
        LocationIn(lat=22.80, lon=113.82),
    ],
)
OWN = LocationIn(lat=31.2, lon=121.5, address="Room 5")


def test_its_own_location_wins_over_its_matrix_row() -> None:
    assert locate(OWN, 2, TRAVEL) is OWN
    assert locate(OWN, None, None) is OWN


def test_a_matrix_row_is_placed_by_travel_locations_address_and_all() -> None:
    assert locate(None, 0, TRAVEL) == LocationIn(lat=22.80, lon=113.80, address="depot")
    assert locate(None, 2, TRAVEL) == LocationIn(lat=22.80, lon=113.82)


def test_a_row_without_coordinates_is_nowhere() -> None:
    assert locate(None, 1, TRAVEL) is None  # listed as null
    assert locate(None, 3, TRAVEL) is None  # beyond the list
    assert locate(None, 0, TravelIn(durations_min=LINE_MINUTES)) is None  # no list at all
    assert locate(None, 0, None) is None  # no matrix
    assert locate(None, None, TRAVEL) is None  # neither location nor row
