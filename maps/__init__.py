"""Folium maps of plans, as self-contained HTML pages that need no network: the desk's map of a
whole day and a driver's page of one route."""

from maps.base import OSM_TILES, LegPath, Tiles
from maps.desk import desk_map, desk_page
from maps.driver import driver_page

__all__ = ["OSM_TILES", "LegPath", "Tiles", "desk_map", "desk_page", "driver_page"]
