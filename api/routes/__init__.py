"""The HTTP API's routes, one ``APIRouter`` per resource, assembled here into ``router``
(``/v1``); ``health.router`` (``/healthz``) stands outside the version.

::

    problems.py   /v1/problems                                 store and read a day or horizon
    plans.py      /v1/plans …                                  solve, versions, events, changes
    weeks.py      /v1/weeks …                                  a solved horizon's week, roll on
    jobs.py       /v1/jobs/{job_id} …                          a solve's progress, draft, retry
    drivers.py    /v1/plans/{plan_id}/routes/{technician_id} …  a driver's route, link and page
    maps.py       /v1/plans/{plan_id}/map                      the desk's map
    reports.py    /v1/plans/{plan_id}/report                   the time-tracking card's page
    slots.py      /v1/slots                                    times a new visit can be booked
    health.py     /healthz
    console.py    /console                                     the desk's console (a page)

A route takes what it needs as dependencies (``api.deps``), parses, calls ``dispatch`` and
shapes the answer; nothing else.
"""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter, Depends
from fastapi.routing import APIRoute

from api.deps import json_keys_once, known_query_only
from api.models import FORBIDDEN, NOT_FOUND
from api.routes import drivers, health, jobs, maps, plans, problems, reports, slots, weeks

__all__ = ["health", "operations", "router"]

#: The resources of ``/v1``, in the order the schema lists them.
_RESOURCES = (
    problems.router,
    plans.router,
    weeks.router,
    jobs.router,
    drivers.router,
    maps.router,
    reports.router,
    slots.router,
)

#: Every endpoint refuses a query parameter it does not take (``known_query_only``): a typo
#: such as ``?versoin=1`` on a plan answered its latest version, silently; and a JSON body
#: giving a key twice (``json_keys_once``).
router = APIRouter(
    prefix="/v1",
    responses=NOT_FOUND | FORBIDDEN,
    dependencies=[Depends(known_query_only), Depends(json_keys_once)],
)
for _resource in _RESOURCES:
    router.include_router(_resource)


def operations() -> Iterator[tuple[str, APIRoute]]:
    """Each route of the service with its path as the schema writes it (``/v1/plans``).

    Read from the resources' own routers: how an app keeps the routers it includes differs
    between FastAPI versions (copied routes, or the routers themselves)."""
    for resource in _RESOURCES:
        for route in resource.routes:
            if isinstance(route, APIRoute):
                yield router.prefix + route.path_format, route
    for route in health.router.routes:
        if isinstance(route, APIRoute):
            yield route.path_format, route
