"""What both maps share: the offline Leaflet map itself, tiles, colours, where each technician
and visit of a day is on Earth (placed by ``dispatch.contract.sites``), the line a route is drawn
along (its road line when the plan carries one, :func:`road_line`), and how text reaches a
page.

Text typed by people (customers' names, addresses, notes, technicians' names) reaches a page in
one of two contexts and is escaped for the one it lands in: as HTML with :func:`escape` (in the
page's text with :func:`typed`, which also isolates its direction: a right-to-left name, or an
override character typed in one, cannot reorder the page's own words around it), and
into the page's script only as JSON data made by :func:`script_json` (what :class:`Popup` and
:class:`Tooltip` carry). Nothing here splices text into JavaScript source: folium's own popups
and tooltips put it inside template literals, where ``${...}`` runs and a backslash can break
the whole script, so they must not be used. Nor must branca's ``Element``: it reads its text as a
Jinja template, so ``{{ ... }}`` typed in a customer's name ran on the server; HTML goes into a
page through :class:`RawHtml`, put there as it is."""

from __future__ import annotations

import html
import itertools
import json
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import folium
import jinja2
import polyline
from branca.element import Element, Figure

from dispatch.contract.schema import DepotIn, LocationIn, ProblemIn, TechnicianIn, VisitIn
from dispatch.contract.serialize import POLYLINE_PRECISION
from dispatch.contract.sites import locate
from maps.assets import leaflet_head

__all__ = [
    "MAX_ZOOM",
    "OSM_TILES",
    "LegPath",
    "Places",
    "Point",
    "Popup",
    "RawHtml",
    "Tiles",
    "Tooltip",
    "colour",
    "draw_line",
    "escape",
    "new_map",
    "page_of",
    "page_policy",
    "road_line",
    "route_line",
    "script_json",
    "typed",
]

logger = logging.getLogger(__name__)

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


def colour(index: int) -> str:
    """The colour of the ``index``-th technician of a day."""
    return _PALETTE[index % len(_PALETTE)]


def escape(value: object) -> str:
    """Text made safe for HTML, and for the Jinja template folium makes of it: a ``{`` that
    opens a Jinja tag (``{{``, ``{%``, ``{#``) is written ``&#123;`` (see :class:`RawHtml`)."""
    return _TEMPLATE_OPENING.sub("&#123;", html.escape(str(value), quote=True))


#: A ``{`` that opens a Jinja tag: folium renders each marker's, popup's and layer's script and
#: hands branca the result as the text of a new template, which compiles and runs it.
_TEMPLATE_OPENING = re.compile(r"\{(?=[{%#])")


def typed(value: object) -> str:
    """Text someone typed, made safe for HTML and isolated from the text around it (``<bdi>``):
    its direction, right-to-left or forced by an override character, stays inside it; no text
    is ``""``."""
    text = str(value)
    return f"<bdi>{escape(text)}</bdi>" if text else ""


# What must not appear literally in JSON written into a ``<script>`` element: ``<`` and ``>``
# (``</script>`` ends the element, ``<!--`` changes how it is parsed), ``&`` (for a page read as
# XHTML) and the line and paragraph separators (line ends to older JavaScript).
_SCRIPT_ESCAPES = str.maketrans(
    {
        "<": "\\u003c",
        ">": "\\u003e",
        "&": "\\u0026",
        "\u2028": "\\u2028",
        "\u2029": "\\u2029",
    }
)


def script_json(value: object) -> str:
    """``value`` as a JavaScript expression for a page's ``<script>``: JSON, with ``<``, ``>``,
    ``&``, U+2028 and U+2029 written as ``\\uXXXX`` escapes, and a ``{`` that opens a Jinja tag
    (``{{``, ``{%``, ``{#``: folium's script becomes a template, :class:`RawHtml`) too.

    How this package puts text into a map's script (folium's own JSON for marker icons and
    layer names escapes the same way). Whatever the text holds (``${...}``, backticks,
    backslashes, ``</script>``), the script reads it as data: the same text back.

    Parameters
    ----------
    value
        Anything ``json.dumps`` takes; strings are the usual case.

    Returns
    -------
    The JSON text.
    """
    text = json.dumps(value, ensure_ascii=False).translate(_SCRIPT_ESCAPES)
    return _TEMPLATE_OPENING.sub("\\\\u007b", text)


class RawHtml(Element):
    """HTML put into a page as it is. branca's ``Element`` compiles its text as a Jinja
    template: typed text inside it (``{{ cycler.__init__.__globals__.os... }}``) ran as code
    on the server, from a driver's link too, and ``{% raw %}`` answered 500."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.html = html

    def render(self, **kwargs: Any) -> str:
        """The HTML, as given."""
        return self.html


class Popup(folium.Popup):
    """A marker's popup showing ``content``, HTML whose typed text the caller has escaped.

    It reaches the script as JSON (:func:`script_json`), which Leaflet sets as the popup's HTML;
    folium's own ``Popup`` would splice it into the script as a template literal.

    Parameters
    ----------
    content
        The popup's HTML.
    max_width
        Its widest, in pixels (300, Leaflet's default, unless given).
    """

    _template = jinja2.Template(
        """
        var {{ this.get_name() }} = L.popup({{ this.options_json }})
            .setContent({{ this.content_json }});
        {{ this._parent.get_name() }}.bindPopup({{ this.get_name() }});
        """
    )

    def __init__(self, content: str, *, max_width: int = 300) -> None:
        super().__init__(max_width=max_width)
        self.options_json = script_json({"maxWidth": max_width})
        self.content_json = script_json(content)


class Tooltip(folium.Tooltip):
    """A marker's tooltip showing ``content``, HTML whose typed text the caller has escaped;
    it reaches the script as JSON, like :class:`Popup`'s content.

    Parameters
    ----------
    content
        The tooltip's HTML.
    """

    _template = jinja2.Template(
        """
        {% macro script(this, kwargs) %}
            {{ this._parent.get_name() }}.bindTooltip(
                {{ this.content_json }}, {{ this.options_json }}
            );
        {% endmacro %}
        """
    )

    def __init__(self, content: str) -> None:
        super().__init__(content)
        self.options_json = script_json({"sticky": True})
        self.content_json = script_json(content)


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


#: The closest a map zooms: a street's houses.
MAX_ZOOM = 19


def new_map(tiles: Tiles, *, title: str) -> folium.Map:
    """An empty map whose page carries Leaflet inline and fetches nothing but ``tiles``."""
    # The map's own zoom bound (Leaflet's maxZoom; folium gives its max_zoom to a tile layer
    # only): without tiles, bounds of one point zoomed to Infinity and the page threw
    # "Invalid LatLng object: (NaN, NaN)" (a driver with no stops: their base alone).
    chart = folium.Map(tiles=None, control_scale=True, prefer_canvas=False, maxZoom=MAX_ZOOM)
    chart.default_js = []  # folium's CDN links: Leaflet comes inline instead
    chart.default_css = []
    root = page_of(chart)
    root.header.add_child(RawHtml(f"<title>{escape(title)}</title>"), name="title")
    root.header.add_child(RawHtml(leaflet_head()), name="leaflet")
    if tiles.url is not None:
        folium.TileLayer(
            tiles=tiles.url, attr=tiles.attribution, name="map", control=False, max_zoom=MAX_ZOOM
        ).add_to(chart)
    return chart


def _as_point(location: LocationIn | None) -> Point | None:
    return None if location is None else (location.lat, location.lon)


class Places:
    """Coordinates of where a day's technicians start and end, of its visits and of its depots;
    ``None`` for a site known only as a row of an explicit travel matrix. (``Technician.home``
    of the domain is the base a service radius is measured from, another thing.)"""

    def __init__(self, problem: ProblemIn) -> None:
        self.problem = problem
        self.technicians: dict[str, TechnicianIn] = {t.id: t for t in problem.technicians}
        self.visits: dict[str, VisitIn] = {v.id: v for v in problem.visits}
        self.depots: dict[str, DepotIn] = {d.id: d for d in problem.depots}

    def start(self, technician_id: str) -> Point | None:
        """Where the technician starts the day."""
        technician = self.technicians[technician_id]
        return _as_point(locate(technician.start, technician.location_index, self.problem.travel))

    def end(self, technician_id: str) -> Point | None:
        """Where the technician ends the day (where it starts unless another end is given)."""
        technician = self.technicians[technician_id]
        end = _as_point(locate(technician.end, technician.end_location_index, self.problem.travel))
        return end or self.start(technician_id)

    def visit(self, visit_id: str) -> Point | None:
        """Where a visit is."""
        visit = self.visits.get(visit_id)
        if visit is None:
            return None
        return _as_point(locate(visit.location, visit.location_index, self.problem.travel))

    def depot(self, depot_id: str) -> Point | None:
        """Where a depot is (``None`` too for a depot the day does not list)."""
        depot = self.depots.get(depot_id)
        if depot is None:
            return None
        return _as_point(locate(depot.location, depot.location_index, self.problem.travel))


def route_line(points: Sequence[Point], path: LegPath | None) -> list[Point]:
    """The line through ``points`` in order: each leg's road geometry when known, else straight."""
    line: list[Point] = []
    for origin, destination in itertools.pairwise(points):
        leg = list(path(origin, destination) or []) if path is not None else []
        if len(leg) < 2:
            leg = [origin, destination]
        line.extend(leg if not line else leg[1:])
    return line if line else list(points)


def road_line(geometry: str | None, *, technician_id: str = "") -> list[Point] | None:
    """A route's road line, decoded from the plan (``RouteOut.geometry``, and the driver view's
    copy of it): the streets from the technician's start through every stop to the end.

    Parameters
    ----------
    geometry
        The route's encoded polyline (precision
        :data:`~dispatch.contract.serialize.POLYLINE_PRECISION`, latitude first), or ``None``
        when the plan's travel did not come from roads.
    technician_id
        Whose route it is, named in the warning about a line that does not decode ("" unless
        given).

    Returns
    -------
    The line's ``(lat, lon)`` points in driving order; ``None`` when there is no line of two
    points or more to draw (no geometry, or one that does not decode, which is logged): the
    route is then drawn with straight legs between its markers.
    """
    if not geometry:
        return None
    try:
        line = polyline.decode(geometry, POLYLINE_PRECISION)
    except IndexError:  # how polyline reports a string cut short or not a polyline
        logger.warning(
            "a route's road line does not decode; drawing it straight",
            extra={"technician_id": technician_id},
        )
        return None
    return line if len(line) >= 2 else None


def _tile_source(tiles: Tiles) -> str | None:
    """Where the map's tiles come from, as a CSP source (``https://tiles.example.com``)."""
    if tiles.url is None:
        return None
    parts = urlsplit(tiles.url)
    host = parts.netloc
    if parts.scheme not in {"http", "https"} or not host:
        return None
    if "{" in host:  # a template such as {s}.tile.example.com: any subdomain, or the scheme
        head, _, rest = host.partition(".")
        if "{" in rest or not head.startswith("{"):
            return f"{parts.scheme}:"
        host = f"*.{rest}"
    return f"{parts.scheme}://{host}"


def page_policy(tiles: Tiles) -> str:
    """The Content-Security-Policy of every page the service serves (the console, the desk's
    map, a driver's page, the time card), for a service whose maps use ``tiles``.

    A page talks only to its own service (``connect-src 'self'``; a driver's page keeps its
    taps made without signal through its own service worker, ``worker-src 'self'``), loads
    nothing from elsewhere, cannot be framed (``frame-ancestors 'none'``: a driver's Done
    button under another site's page) and submits no form anywhere. Inline scripts and
    styles are allowed (Leaflet and the pages' own, all written into the pages; the console's
    map, shown in a ``srcdoc`` frame, inherits the console's policy) and images may come from
    the tile server; defence against typed text running as script is that it is always
    escaped or set as text (``escape``, the console's ``el``), not this header.

    Parameters
    ----------
    tiles
        The tile source of the service's maps (``Tiles(None)``: no images from anywhere).

    Returns
    -------
    The header's value.
    """
    images = ["'self'", "data:", "blob:"]
    source = _tile_source(tiles)
    if source is not None:
        images.append(source)
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'unsafe-inline'",
            "style-src 'unsafe-inline'",
            f"img-src {' '.join(images)}",
            "connect-src 'self'",
            "worker-src 'self'",
            "font-src data:",
            "frame-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )
