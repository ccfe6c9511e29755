"""Where a visit or a technician is on Earth, read from the contract: one answer for every view.

A visit (and a technician's start or end) is placed by its own ``location``, by a
``location_index`` into the explicit ``travel`` matrix, or by both. ``locate`` gives its
coordinates: its own, else those the matrix lists for its row (``travel.locations``), else none.
The desk's map, the driver's view and the driver's page all ask it.

Validation does not: the domain ``Site`` (``dispatch.contract.validate``) keeps exactly what the
user gave, since a site known only as a matrix row is measured on the matrix's road km
(``dispatch.planning.eligibility``). The plan checker (``dispatch.verify``) reads places on its
own, by design.
"""

from __future__ import annotations

from dispatch.contract.schema import LocationIn, TravelIn

__all__ = ["locate"]


def locate(
    location: LocationIn | None, index: int | None, travel: TravelIn | None
) -> LocationIn | None:
    """The coordinates of a visit or of a technician's start or end.

    Parameters
    ----------
    location
        Its own ``location`` (``start`` or ``end`` of a technician), if given.
    index
        Its ``location_index`` (or ``end_location_index``) into the travel matrix, if given.
    travel
        The problem's explicit ``travel`` matrix, if it has one.

    Returns
    -------
    LocationIn or None
        ``location`` when given; else the entry of ``travel.locations`` at ``index`` when there
        is one; else ``None`` (a site known only as a row of the matrix).
    """
    if location is not None:
        return location
    if index is None or travel is None or index >= len(travel.locations):
        return None
    return travel.locations[index]
