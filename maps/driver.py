"""The driver's page: one route on a map with big numbered markers and its line (along the roads
when the plan carries them, else in straight legs), and beside it (below it on a phone) the
stops in order with the planned arrival, the window promised to the customer, the address and
the phone to tap."""

from __future__ import annotations

import folium
from branca.element import Element

from dispatch.contract.schema import DriverRouteOut, DriverStopOut, PlanOut, ProblemIn
from dispatch.desk.driver import driver_route
from dispatch.units import format_iso_clock
from maps.base import (
    LegPath,
    Places,
    Point,
    Popup,
    Tiles,
    Tooltip,
    colour,
    draw_line,
    escape,
    new_map,
    page_of,
    road_line,
    route_line,
)

__all__ = ["driver_page"]

_STYLE = """<style>
html, body { height: 100%; margin: 0; }
body { display: flex; flex-direction: column; font: 16px/1.4 system-ui, sans-serif; }
.fr-head { order: 0; padding: 8px 12px; background: #1f2d3d; color: #fff; }
.fr-head b { font-size: 18px; }
.folium-map { order: 1; flex: 0 0 42vh; height: 42vh !important; width: 100% !important; }
.fr-list { order: 2; flex: 1 1 auto; overflow-y: auto; margin: 0; padding: 0; list-style: none; }
.fr-item { display: flex; gap: 10px; padding: 10px 12px; border-bottom: 1px solid #ddd; }
.fr-item .fr-num { flex: 0 0 34px; height: 34px; border-radius: 50%; color: #fff;
  font-weight: bold; display: flex; align-items: center; justify-content: center; }
.fr-item .fr-what { flex: 1; min-width: 0; overflow-wrap: anywhere; }
.fr-eta { font-size: 20px; font-weight: bold; }
.fr-tell { color: #064; }
.fr-phone { display: inline-block; margin-top: 4px; padding: 6px 12px; border-radius: 18px;
  background: #0a7d32; color: #fff; text-decoration: none; font-weight: bold; }
.fr-break { padding: 6px 12px; background: #f3f3f3; color: #555; }
.fr-done { opacity: .5; }
.fr-pin { display: flex; align-items: center; justify-content: center; width: 36px;
  height: 36px; border-radius: 50%; border: 3px solid #fff; color: #fff;
  font: bold 17px/1 system-ui, sans-serif; box-shadow: 0 0 4px rgba(0, 0, 0, .7);
  box-sizing: border-box; }
.fr-base { width: 40px; height: 26px; border-radius: 4px; font-size: 12px; }
@media (min-width: 800px) {
  body { flex-direction: row; flex-wrap: wrap; }
  .fr-head { flex: 0 0 100%; box-sizing: border-box; }
  .folium-map { flex: 1 1 60%; height: calc(100% - 50px) !important; }
  .fr-list { flex: 0 0 38%; height: calc(100% - 50px); }
}
</style>"""

_VIEWPORT = '<meta name="viewport" content="width=device-width, initial-scale=1">'


def _pin(label: str, fill: str, css_class: str = "fr-pin") -> folium.DivIcon:
    return folium.DivIcon(
        html=f'<div class="{css_class}" style="background:{fill}">{escape(label)}</div>',
        icon_size=(36, 36),
        icon_anchor=(18, 18),
        class_name="fr-icon",
    )


def _tell(stop: DriverStopOut) -> str:
    if stop.appointment:
        return f"agreed time {escape(stop.appointment)}"
    if stop.promised_window is not None:
        window = stop.promised_window
        start, end = format_iso_clock(window.start), format_iso_clock(window.end)
        return f"tell the customer {escape(start)}&ndash;{escape(end)}"
    return ""


def _item(stop: DriverStopOut, fill: str) -> str:
    phone = (
        f'<a class="fr-phone" href="tel:{escape(stop.phone)}">Call {escape(stop.phone)}</a>'
        if stop.phone
        else ""
    )
    place = escape(stop.address)
    if stop.location is not None:
        where = f"geo:{stop.location.lat:.6f},{stop.location.lon:.6f}"
        place = f'<a href="{where}">{place or "open in maps"}</a>'
    notes = f"<div>{escape(stop.notes)}</div>" if stop.notes else ""
    done = " fr-done" if stop.status == "done" else ""
    return (
        f'<li class="fr-item{done}" id="stop-{stop.sequence}">'
        f'<div class="fr-num" style="background:{fill}">{stop.sequence}</div>'
        f'<div class="fr-what"><span class="fr-eta">{escape(format_iso_clock(stop.eta))}</span> '
        f'<span class="fr-tell">{_tell(stop)}</span>'
        f"<div><b>{escape(stop.customer or stop.visit_id)}</b> · {escape(stop.kind)} · "
        f"{stop.duration_min:g} min</div><div>{place}</div>{notes}{phone}</div></li>"
    )


def _list(route: DriverRouteOut, fill: str) -> str:
    entries: list[tuple[str, str]] = [(stop.eta, _item(stop, fill)) for stop in route.stops]
    for pause in route.breaks:
        start, end = format_iso_clock(pause.start), format_iso_clock(pause.end)
        text = f"Break {escape(start)}&ndash;{escape(end)}"
        entries.append((pause.start, f'<li class="fr-break">{text}</li>'))
    entries.sort(key=lambda entry: entry[0])
    if not entries:
        entries.append(("", '<li class="fr-break">No visits today.</li>'))
    return f'<ol class="fr-list">{"".join(html for _, html in entries)}</ol>'


def driver_page(
    plan: PlanOut,
    problem: ProblemIn,
    technician_id: str,
    *,
    tiles: Tiles,
    path: LegPath | None = None,
) -> str:
    """``technician_id``'s route of ``plan`` as one self-contained HTML page for a phone.

    The route is drawn along its road line when the plan carries one (``RouteOut.geometry``,
    through the driver view); otherwise ``path`` gives a leg's road geometry when the travel
    provider knows it, and legs without one are drawn straight. An unknown technician is
    ``NotFoundError``.
    """
    route = driver_route(
        plan.model_dump(mode="json"), problem.model_dump(mode="json"), technician_id
    )
    places = Places(problem)
    index = [t.id for t in problem.technicians].index(technician_id)
    fill = colour(index)
    name = route.technician_name or technician_id
    chart = new_map(tiles, title=f"{name} · {route.date}")
    root = page_of(chart)
    root.header.add_child(Element(_VIEWPORT), name="viewport")
    root.header.add_child(Element(_STYLE), name="fieldroute_style")
    leaves, back = format_iso_clock(route.start_time), format_iso_clock(route.end_time)
    span = f"{escape(leaves)}&ndash;{escape(back)}" if route.start_time else ""
    head = (
        f'<div class="fr-head"><b>{escape(name)}</b> · {escape(route.date)} · '
        f"{len(route.stops)} stops · {route.distance_km:.0f} km · {span}</div>"
    )
    # Header, map, list: in that order on the page whatever order folium writes them in
    # (see the CSS ``order``s).
    root.html.add_child(Element(head), name="fr_head")
    # Markers go in a layer added to the map after their icons are set: added to the map
    # directly, each would first show (and fetch) Leaflet's default image icon.
    layer = folium.FeatureGroup(name=name, control=False)
    seen: list[Point] = []
    base = places.start(technician_id)
    line: list[Point] = []
    if base is not None:
        folium.Marker(
            base, icon=_pin(technician_id, fill, "fr-pin fr-base"), tooltip=Tooltip("base")
        ).add_to(layer)
        seen.append(base)
        line.append(base)
    for stop in route.stops:
        if stop.location is None:
            continue
        where = (stop.location.lat, stop.location.lon)
        folium.Marker(
            where,
            icon=_pin(str(stop.sequence), fill),
            tooltip=Tooltip(f"{stop.sequence}. {escape(format_iso_clock(stop.eta))}"),
            popup=Popup(f'<a href="#stop-{stop.sequence}">stop {stop.sequence}</a>'),
        ).add_to(layer)
        seen.append(where)
        line.append(where)
    home = places.end(technician_id)
    if route.stops and home is not None:
        line.append(home)
    # The driver view carries this technician's road line only: no one else's is drawn.
    road = road_line(route.geometry, technician_id=technician_id) if route.stops else None
    if road is not None:
        draw_line(road, fill=fill, weight=6, layer=layer)
        seen.extend(road)
    elif len(line) >= 2:
        draw_line(route_line(line, path), fill=fill, weight=6, layer=layer)
    layer.add_to(chart)
    if seen:
        lats, lons = [p[0] for p in seen], [p[1] for p in seen]
        chart.fit_bounds([[min(lats), min(lons)], [max(lats), max(lons)]], padding=(24, 24))
    root.html.add_child(Element(_list(route, fill)), name="fr_list")
    return root.render()
