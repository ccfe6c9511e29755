"""What a route may ask for, as typed ``Annotated`` dependencies: the service's objects
(``SettingsDep``, ``StoreDep``, ``RunnerDep``, ``ClockDep``, ``VersionsDep``,
``LinkSecretDep``, ``RoadsDep``, ``TilesDep``) and the caller (``Dispatcher``, ``RouteReader``).

The app's lifespan (``api.app.create_app``) makes each object once and keeps it on
``app.state``; this module is the one place that reads them back, so that routes take what
they need as arguments and never reach into ``request.app.state``. The rules of who may call
what are ``api.auth``'s; here they are only applied to the request.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from api.auth import check_dispatcher, check_route_reader, credential_of, has_credential
from api.jobs import JobRunner
from api.links import RouteGrant
from api.params import PlanId, TechnicianId
from api.versions import PlanVersions
from dispatch.config import Settings
from dispatch.contract.validate import load_json
from dispatch.errors import FieldError, InputError
from dispatch.persistence import ApiKey, Store
from dispatch.travel import Roads
from maps import Tiles

__all__ = [
    "Clock",
    "ClockDep",
    "Dispatcher",
    "LinkSecretDep",
    "RoadsDep",
    "RouteReader",
    "RunnerDep",
    "SettingsDep",
    "StoreDep",
    "TilesDep",
    "VersionsDep",
    "dispatcher",
    "known_query_only",
    "route_reader",
]

Clock = Callable[[], datetime]
"""The service's wall clock: returns the aware present (it decides when driver links expire)."""

# The getters are coroutines so that FastAPI calls them on the event loop: reading an
# attribute is not worth a trip to the thread pool.


async def get_settings(request: Request) -> Settings:
    """The settings the service was created with."""
    settings: Settings = request.app.state.settings
    return settings


async def get_store(request: Request) -> Store:
    """The service's store (one per process, pooled connections)."""
    store: Store = request.app.state.store
    return store


async def get_runner(request: Request) -> JobRunner:
    """The worker pools that run solve jobs and re-plans."""
    runner: JobRunner = request.app.state.runner
    return runner


async def get_clock(request: Request) -> Clock:
    """The service's clock."""
    clock: Clock = request.app.state.clock
    return clock


async def get_versions(request: Request) -> PlanVersions:
    """The plan versions kept ready to send."""
    versions: PlanVersions = request.app.state.versions
    return versions


async def get_link_secret(request: Request) -> str:
    """The secret that signs driver links."""
    secret: str = request.app.state.link_secret
    return secret


async def get_roads(request: Request) -> Roads | None:
    """The road server the service's solves ask (``--roads``), ``None`` without one."""
    roads: Roads | None = request.app.state.roads
    return roads


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
RunnerDep = Annotated[JobRunner, Depends(get_runner)]
ClockDep = Annotated[Clock, Depends(get_clock)]
VersionsDep = Annotated[PlanVersions, Depends(get_versions)]
LinkSecretDep = Annotated[str, Depends(get_link_secret)]
RoadsDep = Annotated[Roads | None, Depends(get_roads)]


async def get_tiles(settings: SettingsDep) -> Tiles:
    """The tiles under the service's maps, as the settings name them."""
    return Tiles.from_setting(settings.map_tiles, settings.map_attribution)


TilesDep = Annotated[Tiles, Depends(get_tiles)]


async def dispatcher(
    request: Request, store: StoreDep, secret: LinkSecretDep, clock: ClockDep
) -> ApiKey:
    """The dispatcher's key; a driver link gets 403, anything else 401."""
    return check_dispatcher(credential_of(request), store=store, secret=secret, clock=clock)


async def route_reader(
    request: Request,
    plan_id: PlanId,
    technician_id: TechnicianId,
    store: StoreDep,
    secret: LinkSecretDep,
    clock: ClockDep,
) -> ApiKey | RouteGrant:
    """A dispatcher, or the driver whose link names this plan and technician (else 403)."""
    return check_route_reader(
        credential_of(request), plan_id, technician_id, store=store, secret=secret, clock=clock
    )


Dispatcher = Annotated[ApiKey, Depends(dispatcher)]
RouteReader = Annotated[ApiKey | RouteGrant, Depends(route_reader)]


async def known_query_only(request: Request) -> None:
    """Refuse query parameters the endpoint does not take, and any given more than once (every
    parameter takes one value), each named (422): on a list, a misspelt ``limt=5`` would
    otherwise quietly give the default, and ``limit=5&limit=9`` the last of the two."""
    route = request.scope.get("route")
    taken = _query_names(route.dependant) if isinstance(route, APIRoute) else set()
    taken.add("token")  # a driver link's credential, read by ``api.auth`` on every endpoint
    query = request.query_params
    unknown = sorted(set(query) - taken)
    repeated = sorted(name for name in set(query) & taken if len(query.getlist(name)) > 1)
    if unknown or repeated:
        raise InputError(
            [FieldError(f"query.{name}", f"unknown query parameter '{name}'") for name in unknown]
            + [FieldError(f"query.{name}", "given more than once") for name in repeated],
            what="request",
        )


def _read_as_json(content_type: str) -> bool:
    """Whether FastAPI parses a body of ``content_type`` as JSON: ``application/json`` and any
    ``application/*+json`` (a delay sent as ``merge-patch+json`` kept its second ``minutes``).
    Without a content type the body is refused before it is read (strict content type)."""
    media = content_type.split(";")[0].strip().lower()
    kind, _, subtype = media.partition("/")
    return kind == "application" and (subtype == "json" or subtype.endswith("+json"))


async def json_keys_once(request: Request) -> None:
    """Refuse a JSON body that gives a key twice in one object, naming the key (422):
    FastAPI's parser keeps the last value without a word (``"minutes": 5, "minutes": 600`` in
    a delay held the technician 600 minutes). A request without credentials is left to the
    credential check (401 first)."""
    if not _read_as_json(request.headers.get("content-type", "")) or not has_credential(request):
        return
    body = await request.body()
    if body:
        load_json(body, what="request")


def _query_names(dependant: Dependant) -> set[str]:
    """The query parameters an endpoint and its dependencies declare."""
    names = {param.alias for param in dependant.query_params}
    for dependency in dependant.dependencies:
        names |= _query_names(dependency)
    return names
