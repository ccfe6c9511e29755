"""The dispatcher's map of a plan: one colour and one layer per technician (base, numbered stops
in visit order, the route drawn along its roads when the plan carries them, else in straight
legs), the service radii, what is unassigned and why, and a legend with each technician's stops,
km and utilisation.

On a day with spare parts: the depots (square brown store pins, a layer of their own, each
popup saying its hours, stock and the day's calls there), each route's depot calls (small
squares in the route's colour beside the depot, the route's line passing through the depot in
its place, each popup listing the parts taken) and each stop's parts in its popup.

Shown in the desk console's frame, the page tells the console where the dispatcher moved the
map and takes that view back when the next version of the plan replaces it (window messages
carrying numbers only: :data:`_FRAME_VIEW`); opened on its own it fits the day."""

from __future__ import annotations

from collections.abc import Iterable

import folium

from dispatch.contract.schema import (
    DepotIn,
    DepotStopOut,
    PartOut,
    PlanOut,
    ProblemIn,
    RouteOut,
    StockIn,
    StopOut,
    UnassignedOut,
)
from dispatch.units import counted, format_iso_clock, km_as_m
from maps.base import (
    LegPath,
    Places,
    Point,
    Popup,
    RawHtml,
    Tiles,
    Tooltip,
    colour,
    draw_line,
    escape,
    new_map,
    page_of,
    road_line,
    route_line,
    script_json,
    typed,
)

__all__ = ["desk_map", "desk_page"]

_STYLE = """<style>
.fr-stop, .fr-base, .fr-unassigned, .fr-depot, .fr-call {
  display: flex; align-items: center; justify-content: center; box-sizing: border-box;
  font: bold 12px/1 system-ui, sans-serif; color: #fff; border: 2px solid #fff;
  box-shadow: 0 0 3px rgba(0, 0, 0, .6);
}
.fr-stop { width: 24px; height: 24px; border-radius: 50%; }
.fr-base { width: 34px; height: 22px; border-radius: 3px; font-size: 11px; }
.fr-unassigned { width: 22px; height: 22px; background: #555; transform: rotate(45deg); }
.fr-depot { width: 26px; height: 26px; border-radius: 3px; font-size: 13px; }
.fr-call { width: 18px; height: 18px; border-radius: 2px; font-size: 10px; }
.fr-unassigned span { transform: rotate(-45deg); }
.fr-popup { font: 13px/1.35 system-ui, sans-serif; min-width: 200px; }
.fr-popup th { text-align: left; padding-right: 8px; color: #555; font-weight: normal; }
.fr-legend {
  position: fixed; left: 10px; bottom: 64px; z-index: 1000; max-height: 45vh; overflow: auto;
  background: rgba(255, 255, 255, .95); padding: 6px 8px; border-radius: 4px;
  box-shadow: 0 1px 5px rgba(0, 0, 0, .4); font: 12px/1.3 system-ui, sans-serif;
}
.fr-legend td, .fr-legend th { padding: 1px 5px; text-align: right; }
.fr-legend td:first-child, .fr-legend th:first-child { text-align: left; }
.fr-swatch { display: inline-block; width: 10px; height: 10px; margin-right: 4px; }
.leaflet-control-layers-expanded { max-width: min(60vw, 360px); max-height: 60vh;
  overflow: auto; }
.leaflet-control-layers label { overflow-wrap: anywhere; }
.fr-legend { max-width: min(90vw, 520px); }
.fr-legend td:first-child { overflow-wrap: anywhere; }
</style>"""


#: The script of a map shown in the console's frame (``maps/console``): once loaded it says
#: "map-ready" to the console, which answers with the view the dispatcher chose for an earlier
#: version of the plan ("map-view": zoom and centre), and it reports each move ("map-moved").
#: A new version replaced the page and its view jumped back to the whole day (a dispatcher
#: zoomed on a street lost it every few seconds). ``%s`` is the map's name, as JSON.
_FRAME_VIEW = """<script>
(function () {
  "use strict";
  if (window.parent === window) return;
  window.addEventListener("load", function () {
    var chart = window[%s];
    if (!chart) return;
    function report(kind) {
      var centre = chart.getCenter();
      window.parent.postMessage({fieldroute: kind, zoom: chart.getZoom(), lat: centre.lat,
        lng: centre.lng}, "*");
    }
    window.addEventListener("message", function (event) {
      var view = event.data || {};
      if (event.source !== window.parent || view.fieldroute !== "map-view") return;
      if (![view.zoom, view.lat, view.lng].every(Number.isFinite)) return;
      chart.setView([view.lat, view.lng], view.zoom, {animate: false});
    });
    chart.on("moveend", function () { report("map-moved"); });
    report("map-ready");
  });
})();
</script>"""


#: The colour of a depot's pin.
_STORE = "#5b3a1e"


def _table(rows: list[tuple[str, str]]) -> str:
    body = "".join(f"<tr><th>{escape(k)}</th><td>{v}</td></tr>" for k, v in rows if v)
    return f"<table>{body}</table>"


def _promise(stop: StopOut) -> str:
    if stop.appointment:
        return f"appointment {escape(stop.appointment)}"
    if stop.window is not None:
        return f"window {escape(stop.window.start)}&ndash;{escape(stop.window.end)}"
    return "any time"


def stop_popup(sequence: int, stop: StopOut, technician: str, duration_min: float) -> str:
    """What a stop's popup says."""
    rows = [
        ("stop", f"{sequence} of {typed(technician)}"),
        ("customer", typed(stop.customer or stop.visit_id)),
        ("address", typed(stop.address)),
        ("phone", f'<a href="tel:{escape(stop.phone)}">{typed(stop.phone)}</a>'),
        ("kind", typed(stop.kind)),
        ("agreed", _promise(stop)),
        ("arrival", escape(format_iso_clock(stop.arrival))),
        ("early", f"{stop.early_min} min" if not stop.late_min else ""),
        ("late", f"{stop.late_min} min" if stop.late_min else ""),
        ("duration", f"{duration_min:g} min"),
        ("parts", _parts(stop.parts)),
    ]
    return f'<div class="fr-popup"><b>{escape(stop.visit_id)}</b>{_table(rows)}</div>'


def _parts(parts: Iterable[PartOut | StockIn]) -> str:
    """Parts as a popup says them: ``2 &times; VLV-3, 1 &times; HX-220``."""
    return ", ".join(f"{item.quantity} &times; {typed(item.part)}" for item in parts)


def _store(depot: DepotIn | None, depot_id: str) -> str:
    """A depot by name and id."""
    name = depot.name if depot is not None else ""
    return f"{typed(name)} ({typed(depot_id)})" if name else typed(depot_id)


def call_popup(call: DepotStopOut, route: RouteOut, technician: str, depot: DepotIn | None) -> str:
    """What a depot call's popup says: who calls where, when, for which stop, taking what."""
    sequence = {stop.visit_id: n for n, stop in enumerate(route.stops, start=1)}
    if call.before_visit_id is None:
        before = "after the last stop"
    elif sequence.get(call.before_visit_id) == 1:
        before = f"before leaving (stop 1, {escape(call.before_visit_id)})"
    else:
        before = f"stop {sequence.get(call.before_visit_id, '?')} ({escape(call.before_visit_id)})"
    arrival, departure = format_iso_clock(call.arrival), format_iso_clock(call.departure)
    rows = [
        ("technician", typed(technician)),
        ("depot", _store(depot, call.depot_id)),
        ("for", before),
        ("at", f"{escape(arrival)}&ndash;{escape(departure)}"),
        ("parts taken", _parts(call.parts)),
    ]
    return f'<div class="fr-popup"><b>depot call</b>{_table(rows)}</div>'


def _icon(
    css_class: str,
    label: str,
    fill: str,
    size: tuple[int, int],
    *,
    shift: tuple[int, int] = (0, 0),
) -> folium.DivIcon:
    """A marker icon, centred on its place unless ``shift`` moves it (pixels right, down)."""
    inner = f"<span>{escape(label)}</span>" if css_class == "fr-unassigned" else escape(label)
    return folium.DivIcon(
        html=f'<div class="{css_class}" style="background:{fill}">{inner}</div>',
        icon_size=size,
        icon_anchor=(size[0] // 2 - shift[0], size[1] // 2 - shift[1]),
        class_name="fr-icon",
    )


def _beside(count: int) -> tuple[int, int]:
    """Where the ``count``-th call at a depot is drawn: in rows of six to the right of the
    depot's pin, so that every call can be clicked."""
    return (24 + 20 * (count % 6), -9 + 20 * (count // 6))


def _route_layer(
    route: RouteOut | None,
    technician_id: str,
    fill: str,
    places: Places,
    path: LegPath | None,
    calls_at: dict[str, int],
    no_route: str | None = None,
) -> tuple[folium.FeatureGroup, list[Point]]:
    """The route's layer and the places it shows; ``calls_at`` counts the calls drawn at each
    depot so far (each goes beside the ones before). ``no_route``: why the technician could
    get no route at all (``technicians_without_route``), said on their layer and base."""
    technician = places.technicians[technician_id]
    name = f"{technician_id} {technician.name}".strip()
    stops = route.stops if route else []
    label = f'<span class="fr-swatch" style="background:{fill}"></span>{typed(name)}'
    layer = folium.FeatureGroup(
        name=f"{label} · no route" if no_route else f"{label} · {counted(len(stops), 'stop')}"
    )
    seen: list[Point] = []
    base = places.start(technician_id)
    if base is not None:
        why = f" · no route: {escape(no_route)}" if no_route else ""
        folium.Marker(
            base,
            icon=_icon("fr-base", technician_id, fill, (34, 22)),
            tooltip=Tooltip(f"{typed(name)}: base{why}"),
            z_index_offset=1000,
        ).add_to(layer)
        seen.append(base)
    line = [base] if base is not None else []
    # The line passes each depot call in its place: before its stop, or after the last one.
    calls: dict[str | None, list[Point]] = {}
    for call in route.depot_stops if route else []:
        depot = places.depot(call.depot_id)
        if depot is None:
            continue
        calls.setdefault(call.before_visit_id, []).append(depot)
        count = calls_at.get(call.depot_id, 0)
        calls_at[call.depot_id] = count + 1
        assert route is not None
        popup = call_popup(call, route, name, places.depots.get(call.depot_id))
        folium.Marker(
            depot,
            icon=_icon("fr-call", "D", fill, (18, 18), shift=_beside(count)),
            popup=Popup(popup, max_width=320),
            tooltip=Tooltip(
                f"{typed(name)}: depot {typed(call.depot_id)} "
                f"{escape(format_iso_clock(call.arrival))}"
            ),
        ).add_to(layer)
        seen.append(depot)
    for sequence, stop in enumerate(stops, start=1):
        line.extend(calls.get(stop.visit_id, []))
        where = places.visit(stop.visit_id)
        if where is None:
            continue
        visit = places.visits.get(stop.visit_id)
        popup = stop_popup(sequence, stop, name, visit.duration_min if visit else 0)
        folium.Marker(
            where,
            icon=_icon("fr-stop", str(sequence), fill, (24, 24)),
            popup=Popup(popup, max_width=320),
            tooltip=Tooltip(
                f"{sequence}. {typed(stop.customer or stop.visit_id)} "
                f"{escape(format_iso_clock(stop.arrival))}"
            ),
        ).add_to(layer)
        seen.append(where)
        line.append(where)
    line.extend(calls.get(None, []))
    home = places.end(technician_id)
    if stops and home is not None:
        line.append(home)
    road = road_line(route.geometry, technician_id=technician_id) if route and stops else None
    if road is not None:
        draw_line(road, fill=fill, weight=4, layer=layer)
        seen.extend(road)  # the view opens on the whole line, bends round a river too
    elif len(line) >= 2:
        draw_line(route_line(line, path), fill=fill, weight=4, layer=layer)
    return layer, seen


def _unassigned_layer(
    unassigned: list[UnassignedOut], places: Places
) -> tuple[folium.FeatureGroup, list[Point]]:
    layer = folium.FeatureGroup(name=f"Unassigned · {len(unassigned)}")
    seen: list[Point] = []
    for item in unassigned:
        where = places.visit(item.visit_id)
        if where is None:
            continue
        visit = places.visits.get(item.visit_id)
        rows = [
            ("customer", typed(visit.customer) if visit else ""),
            ("address", typed(visit.address) if visit else ""),
            ("phone", typed(visit.phone) if visit else ""),
            ("why", f"<b>{escape(item.code)}</b>: {escape(item.reason)}"),
            ("could go to", ", ".join(typed(c) for c in item.candidates)),
        ]
        popup = f'<div class="fr-popup"><b>{escape(item.visit_id)}</b>{_table(rows)}</div>'
        folium.Marker(
            where,
            icon=_icon("fr-unassigned", "!", "#555", (22, 22)),
            popup=Popup(popup, max_width=360),
            tooltip=Tooltip(f"{escape(item.visit_id)}: {escape(item.code)}"),
        ).add_to(layer)
        seen.append(where)
    return layer, seen


def _depot_layer(plan: PlanOut, places: Places) -> tuple[folium.FeatureGroup, list[Point]]:
    """The day's depots: where, when open, what they hold, and the day's calls there; a depot
    that is also a technician's base is drawn just above the base's pin."""
    layer = folium.FeatureGroup(name=f"Depots · {len(places.depots)}")
    seen: list[Point] = []
    bases = {places.start(technician_id) for technician_id in places.technicians}
    for depot in places.depots.values():
        where = places.depot(depot.id)
        if where is None:
            continue
        calls = "<br>".join(
            f"{escape(pick.technician_id)} {escape(format_iso_clock(pick.arrival))}"
            f"{' (before leaving)' if pick.before_leaving else ''}: {_parts(pick.parts)}"
            for pick in plan.pick_lists
            if pick.depot_id == depot.id
        )
        stock = _parts(item for item in depot.stock if item.quantity)
        arrivals = ", ".join(
            f"{item.quantity} &times; {escape(item.part)} at {escape(item.at)}"
            for item in depot.arrivals
        )
        rows = [
            ("depot", _store(depot, depot.id)),
            ("address", typed(depot.location.address or "") if depot.location else ""),
            ("open", f"{escape(depot.opening.start)}&ndash;{escape(depot.opening.end)}"),
            ("stock", stock),
            ("arriving", arrivals),
            ("calls", calls or "none"),
        ]
        folium.Marker(
            where,
            # Just above a technician's base there (the base's pin would hide it).
            icon=_icon("fr-depot", "D", _STORE, (26, 26), shift=(0, -24 if where in bases else 0)),
            popup=Popup(f'<div class="fr-popup"><b>depot</b>{_table(rows)}</div>', max_width=360),
            tooltip=Tooltip(f"depot {_store(depot, depot.id)}"),
            z_index_offset=900,
        ).add_to(layer)
        seen.append(where)
    return layer, seen


def _legend(plan: PlanOut, places: Places, colours: dict[str, str]) -> str:
    routes = {route.technician_id: route for route in plan.routes}
    rows = []
    for technician_id, fill in colours.items():
        route = routes.get(technician_id)
        stops = len(route.stops) if route else 0
        km = f"{route.distance_km:.1f}" if route else "0"
        used = f"{route.utilisation:.0%}" if route else "&ndash;"
        rows.append(
            f'<tr><td><span class="fr-swatch" style="background:{fill}"></span>'
            f"{escape(technician_id)}</td><td>{stops}</td><td>{km}</td><td>{used}</td></tr>"
        )
    kpis = plan.kpis
    return (
        f'<div class="fr-legend"><b>{escape(plan.date)}</b> · plan {escape(plan.plan_id)} '
        f"v{plan.version}<br>{kpis.assigned}/{kpis.visits} visits placed, "
        f"{len(plan.unassigned)} unassigned, {kpis.distance_km:.1f} km"
        f"<table><tr><th>technician</th><th>stops</th><th>km</th><th>used</th></tr>"
        f"{''.join(rows)}</table></div>"
    )


def desk_map(
    plan: PlanOut, problem: ProblemIn, *, tiles: Tiles, path: LegPath | None = None
) -> folium.Map:
    """The desk's map of ``plan`` (a version of ``problem``'s day).

    A route whose plan carries its road line (``RouteOut.geometry``, when the plan's travel
    came from roads) is drawn along it. Otherwise ``path`` gives a leg's road geometry when
    the travel provider knows it, and legs without one are drawn straight.
    """
    places = Places(problem)
    chart = new_map(tiles, title=f"fieldroute · {plan.date} · plan {plan.plan_id}")
    page_of(chart).header.add_child(RawHtml(_STYLE), name="fieldroute_style")
    routes = {route.technician_id: route for route in plan.routes}
    no_route = {item.technician_id: item.reason for item in plan.technicians_without_route}
    colours = {t.id: colour(i) for i, t in enumerate(problem.technicians)}
    seen: list[Point] = []
    radius = folium.FeatureGroup(name="Service radius", show=False)
    calls_at: dict[str, int] = {}
    for technician in problem.technicians:
        fill = colours[technician.id]
        layer, points = _route_layer(
            routes.get(technician.id),
            technician.id,
            fill,
            places,
            path,
            calls_at,
            no_route.get(technician.id),
        )
        layer.add_to(chart)
        seen.extend(points)
        base = places.start(technician.id)
        if base is not None:
            km = technician.service_radius_km or problem.policy.service_radius_km
            folium.Circle(
                base, radius=km_as_m(km), color=fill, weight=1, fill=False, dash_array="6 6"
            ).add_to(radius)
    radius.add_to(chart)
    if places.depots:
        depots, points = _depot_layer(plan, places)
        depots.add_to(chart)
        seen.extend(points)
    unassigned, points = _unassigned_layer(plan.unassigned, places)
    unassigned.add_to(chart)
    # The view opens on the routes; a visit left out because it is far stays a zoom away.
    seen = seen or points
    folium.LayerControl(collapsed=len(colours) > 12).add_to(chart)
    page_of(chart).html.add_child(RawHtml(_legend(plan, places, colours)), name="legend")
    if seen:
        chart.fit_bounds(_bounds(seen), padding=(20, 20))
    page_of(chart).html.add_child(
        RawHtml(_FRAME_VIEW % script_json(chart.get_name())), name="frame_view"
    )
    return chart


def _bounds(points: list[Point]) -> list[list[float]]:
    lats = [p[0] for p in points]
    lons = [p[1] for p in points]
    return [[min(lats), min(lons)], [max(lats), max(lons)]]


def desk_page(
    plan: PlanOut, problem: ProblemIn, *, tiles: Tiles, path: LegPath | None = None
) -> str:
    """The desk's map as one self-contained HTML page."""
    return page_of(desk_map(plan, problem, tiles=tiles, path=path)).render()
