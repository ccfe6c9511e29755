"""The road line of each route, when travel comes from a road network.

A provider that can draw routes on its roads (``dispatch.travel.base.RoadLines``: OSRM) gives
each route the line from the technician's start through every stop to their end, by way of
each depot call in its place (the route's legs run through the depot: the stop after a call
counts its leg from there); the plan document carries it and the maps follow it. Other
providers draw nothing: the maps join the stops with straight legs, which is what their travel
times assume.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from dispatch.errors import TravelTimeError
from dispatch.model import LatLon, Plan, Problem, Route
from dispatch.travel import RoadServerDownError, TravelTimeProvider
from dispatch.travel.base import RoadLines

__all__ = ["with_road_lines"]

logger = logging.getLogger(__name__)


def with_road_lines(plan: Plan, problem: Problem, provider: TravelTimeProvider) -> Plan:
    """``plan`` with each route's road line when ``provider`` draws them; as it is otherwise.

    A line the provider cannot draw (its server stopped answering after the search) is left
    out, logged: the plan, timed on the matrix it was searched on, is worth keeping without
    it (a long solve was thrown away for its drawing), and the maps join its stops straight.
    Once the server is down (``RoadServerDownError``), no other line is asked for: each
    waited out its own timeout, and a plan of 14 routes was stored 7 minutes late.
    """
    if not isinstance(provider, RoadLines):
        return plan
    down: list[RoadServerDownError] = []
    technicians = {tech.id: tech for tech in problem.technicians}
    sites = {visit.id: visit.site for visit in problem.visits}
    depots = {depot.id: depot.site for depot in problem.depots}

    def drawn(route: Route) -> Route:
        tech = technicians[route.technician_id]
        way = [tech.start]
        for index in range(len(route.stops) + 1):
            way.extend(depots[call.depot_id] for call in route.depot_stops if call.before == index)
            if index < len(route.stops):
                way.append(sites[route.stops[index].visit_id])
        way.append(tech.end)
        points = [site.location for site in way if site.location is not None]
        if len(points) < len(way) or down:  # a site known only as a matrix row, no server
            return route
        try:
            line = provider.route_geometry(points)
        except TravelTimeError as error:
            logger.warning("the road line of %s is left out: %s", route.technician_id, error)
            if isinstance(error, RoadServerDownError):
                down.append(error)
            return route
        return replace(route, geometry=tuple(LatLon(lat, lon) for lat, lon in line))

    return replace(plan, routes=tuple(drawn(route) for route in plan.routes))
