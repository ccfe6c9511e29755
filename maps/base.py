"""What both maps share: the offline Leaflet map itself, tiles, colours, and where each
technician and visit of a day is on Earth."""

from __future__ import annotations

import html
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import folium
from branca.element import Element, Figure

from dispatch.schema import LocationIn, ProblemIn, TechnicianIn, VisitIn
from maps.assets import leaflet_head

__all__ = [
    "OSM_TILES",
    "LegPath",
    "Places",
    "Point",
    "Tiles",
    "clock",
    "colour",
    "draw_line",
    "escape",
    "new_map",
    "page_of",
    "route_line",
]

#: ``(lat, lon)``.
Point = tuple[float, float]

#: Road geometry of one leg when the travel provider has it (``None``: draw it straight).
LegPath = Callable[[Point, Point], Sequence[Point] | None]

# Distinct on a map and to most colour-blind eyes first (Okabe-Ito), then more.
_PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#D55E00",
    "#56B4E9",
    "#8C6D1F",
    "#332288",
    "#117733",
    "#AA4499",
    "#882255",
    "#44AA99",
    "#999933",
    "#661100",
    "#6699CC",
    "#DDAA33",
)


def clock(moment: str | None) -> str:
    """``HH:MM`` of an ISO date-time (or of a clock time)."""
    if not moment:
        return ""
    return moment[11:16] if "T" in moment else moment[:5]


def colour(index: int) -> str:
    """The colour of the ``index``-th technician of a day."""
    return _PALETTE[index % len(_PALETTE)]


def escape(value: object) -> str:
    """Text made safe for HTML."""
    return html.escape(str(value), quote=True)


@dataclass(frozen=True, slots=True)
class Tiles:
    """A slippy-map tile source; ``url`` ``None`` draws on a blank background (no network)."""

    url: str | None
    attribution: str = ""

    @classmethod
    def from_setting(cls, setting: str | None, attribution: str = "") -> Tiles:
        """``"none"`` (or empty) → blank; ``"osm"`` → OpenStreetMap; else a URL template
        such as ``https://tiles.example.com/{z}/{x}/{y}.png`` credited with ``attribution``."""
        chosen = (setting or "").strip()
        if chosen.lower() in {"", "none", "blank"}:
            return cls(None)
        if chosen.lower() == "osm":
            return OSM_TILES
        return cls(chosen, attribution)


OSM_TILES = Tiles(
    "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
    '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
)


def page_of(chart: folium.Map) -> Figure:
    """The HTML page a map is drawn on (its header, body and script)."""
    root = chart.get_root()
    assert isinstance(root, Figure), "a map made by new_map sits on a page"
    return root


def draw_line(
    points: Sequence[Point], *, fill: str, weight: int, layer: folium.FeatureGroup
) -> None:
    """A route's line on ``layer``; its path gets the CSS class ``fr-route``."""
    line = folium.PolyLine(  # type: ignore[no-untyped-call]  # folium's own annotations lack it
        list(points), color=fill, weight=weight, opacity=0.85, class_name="fr-route"
    )
    line.add_to(layer)


def new_map(tiles: Tiles, *, title: str) -> folium.Map:
    """An empty map whose page carries Leaflet inline and fetches nothing but ``tiles``."""
    chart = folium.Map(tiles=None, control_scale=True, prefer_canvas=False)
    chart.default_js = []  # folium's CDN links: Leaflet comes inline instead
    chart.default_css = []
    root = page_of(chart)
    root.header.add_child(Element(f"<title>{escape(title)}</title>"), name="title")
    root.header.add_child(Element(leaflet_head()), name="leaflet")
    if tiles.url is not None:
        folium.TileLayer(
            tiles=tiles.url, attr=tiles.attribution, name="map", control=False, max_zoom=19
        ).add_to(chart)
    return chart


def _point(location: LocationIn | None, index: int | None, problem: ProblemIn) -> Point | None:
    if location is not None:
        return (location.lat, location.lon)
    if index is not None and problem.travel is not None:
        known = problem.travel.locations
        if index < len(known) and known[index] is not None:
            found = known[index]
            assert found is not None
            return (found.lat, found.lon)
    return None


class Places:
    """Coordinates of a day's bases and visits; ``None`` for a site known only as a row of
    an explicit travel matrix."""

    def __init__(self, problem: ProblemIn) -> None:
        self.problem = problem
        self.technicians: dict[str, TechnicianIn] = {t.id: t for t in problem.technicians}
        self.visits: dict[str, VisitIn] = {v.id: v for v in problem.visits}

    def base(self, technician_id: str) -> Point | None:
        """Where the technician starts the day."""
        technician = self.technicians[technician_id]
        return _point(technician.start, technician.location_index, self.problem)

    def home(self, technician_id: str) -> Point | None:
        """Where the technician ends the day (the base unless another end is given)."""
        technician = self.technicians[technician_id]
        end = _point(technician.end, technician.end_location_index, self.problem)
        return end or self.base(technician_id)

    def visit(self, visit_id: str) -> Point | None:
        """Where a visit is."""
        visit = self.visits.get(visit_id)
        return None if visit is None else _point(visit.location, visit.location_index, self.problem)


def route_line(points: Sequence[Point], path: LegPath | None) -> list[Point]:
    """The line through ``points`` in order: each leg's road geometry when known, else straight."""
    line: list[Point] = []
    for origin, destination in itertools.pairwise(points):
        leg = list(path(origin, destination) or []) if path is not None else []
        if len(leg) < 2:
            leg = [origin, destination]
        line.extend(leg if not line else leg[1:])
    return line if line else list(points)
