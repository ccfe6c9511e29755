"""``/v1/plans/{plan_id}/routes/{technician_id}``: a technician's route as their phone shows
it (JSON, or a page with its map), the signed link that opens it for the driver until the
end of the day, and the driver's reports from the field (``/events``). The route, its page and
its reports open with a dispatcher's key or the driver's own link.
"""

from __future__ import annotations

import asyncio
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from api.deps import (
    ClockDep,
    Dispatcher,
    LinkSecretDep,
    RouteReader,
    RunnerDep,
    SettingsDep,
    StoreDep,
    TilesDep,
    VersionsDep,
)
from api.links import end_of_day, sign_route_link
from api.models import CONFLICT, FORBIDDEN, HTML_PAGE, ErrorOut, LinkOut
from api.pages import html_page
from api.params import EventsIfMatch, PlanId, TechnicianId, batch_version
from dispatch.contract.schema import DriverRouteOut, EventBatchIn
from dispatch.desk.driver import day_not_begun, foreign_events
from dispatch.desk.replan import UNVERSIONED_TRIES, made_by_report, returned_to
from dispatch.errors import InputError
from dispatch.persistence import StoreConflictError
from maps.base import page_policy
from maps.driver import driver_worker

__all__ = ["router"]

router = APIRouter(prefix="/plans/{plan_id}/routes/{technician_id}", tags=["drivers"])


@router.get("", responses={200: {"model": DriverRouteOut}})
async def get_route(
    reader: RouteReader,
    store: StoreDep,
    versions: VersionsDep,
    plan_id: PlanId,
    technician_id: TechnicianId,
) -> Response:
    """A technician's route in the latest version: stops in order, ETAs, promised windows,
    customers' phones. Opens with a dispatcher's key or the driver's own link."""
    found = versions.get(store, plan_id)
    return Response(found.route(technician_id), media_type="application/json")


@router.post(
    "/link",
    response_model=LinkOut,
    responses={409: {"model": ErrorOut, "description": "The plan's day is over"}},
)
def create_link(
    request: Request,
    key: Dispatcher,
    store: StoreDep,
    versions: VersionsDep,
    settings: SettingsDep,
    secret: LinkSecretDep,
    clock: ClockDep,
    plan_id: PlanId,
    technician_id: TechnicianId,
) -> LinkOut:
    """A link for the driver's phone that opens this route (and nothing else) until the end of
    the plan's day, or until the key asking for it is revoked; 409 once that day is over (the
    link would never open)."""
    found = versions.get(store, plan_id)
    found.route(technician_id)  # 404 for a technician not in the day
    expires = end_of_day(found.plan["date"], found.plan["timezone"])
    if expires <= clock():
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"the day of plan {plan_id} ({found.plan['date']}) ended at "
            f"{expires.isoformat()}: a link to it would never open",
        )
    token = sign_route_link(secret, plan_id, technician_id, expires, issued_by=key.id)
    base = settings.public_url or str(request.base_url)
    # Quoted: an id with '#' or '?' put the token in the link's fragment or query name.
    route = f"{base.rstrip('/')}/v1/plans/{plan_id}/routes/{quote(technician_id, safe='')}"
    return LinkOut(
        url=f"{route}?token={token}",
        map_url=f"{route}/map?token={token}",
        token=token,
        expires_at=expires.isoformat(),
    )


@router.get("/map", responses=HTML_PAGE, tags=["maps"])
def get_route_map(
    reader: RouteReader,
    store: StoreDep,
    versions: VersionsDep,
    tiles: TilesDep,
    plan_id: PlanId,
    technician_id: TechnicianId,
) -> HTMLResponse:
    """The driver's page of a route (latest version): the map with big numbered stops and the
    list beside it (arrival, the window to tell the customer, address, phone to tap). Opens
    with a dispatcher's key or the driver's own link."""
    found = versions.get(store, plan_id)
    return html_page(found.page(technician_id, tiles), page_policy(tiles))


@router.post(
    "/events",
    status_code=201,
    responses={201: {"model": DriverRouteOut}, **FORBIDDEN, **CONFLICT},
)
async def post_route_events(
    request: Request,
    reader: RouteReader,
    store: StoreDep,
    versions: VersionsDep,
    runner: RunnerDep,
    clock: ClockDep,
    plan_id: PlanId,
    technician_id: TechnicianId,
    batch: EventBatchIn,
    if_match: EventsIfMatch = None,
) -> Response:
    """The driver's reports from the route (``arrived``, ``started``, ``completed``,
    ``not_completed`` at their own stops, their own ``delay``), re-planned as the desk's events
    are; the answer is their route in the new version. 403 for an event about another route or
    technician, or one only the desk posts (``cancelled``, ``moved``...); 409 when another batch
    made a newer version first (send it again); ``If-Match`` or ``version`` as on the desk's
    events."""
    asked = batch_version(if_match, batch.version)
    found = await run_in_threadpool(versions.get, store, plan_id)
    found.route(technician_id)  # 404 for a technician not in the day
    events = await request.json()  # as sent (read as ``batch``): the history keeps it so
    # Sent again, its answer lost: the version it made, whatever came since (its visit may
    # have left the route since, or the day ended).
    again = await run_in_threadpool(made_by_report, store, plan_id, events)
    if again is None:
        for tried in range(1, UNVERSIONED_TRIES + 1):
            refused = foreign_events(found.plan, technician_id, batch)
            if refused:  # a stop gone past and left out, reported late, is still theirs
                back = await run_in_threadpool(returned_to, store, plan_id, technician_id, events)
                refused = foreign_events(found.plan, technician_id, batch, back)
            if refused:
                raise HTTPException(status.HTTP_403_FORBIDDEN, "; ".join(map(str, refused)))
            too_soon = day_not_begun(found.plan, clock())
            if too_soon is not None:
                raise InputError([too_soon], what="events")
            # Checked against this version: a batch that lands first makes this one a
            # conflict; sent without a version, it is checked and applied again on the newer
            # one, as the desk's is (up to ``UNVERSIONED_TRIES`` times).
            against = asked if asked is not None else found.version
            replanned = runner.replan(plan_id, events, against, now=clock())
            try:
                plan = await asyncio.wrap_future(replanned)
                break
            except StoreConflictError:
                if asked is not None or tried == UNVERSIONED_TRIES:
                    raise
            found = await run_in_threadpool(versions.get, store, plan_id)
        version = int(plan["version"])
    else:
        version = again.version
    made = await run_in_threadpool(versions.get, store, plan_id, version)
    return Response(
        made.route(technician_id),
        status_code=201,
        media_type="application/json",
        headers={"Location": f"/v1/plans/{plan_id}/routes/{quote(technician_id, safe='')}"},
    )


@router.get(
    "/offline.js",
    response_class=Response,
    responses={200: {"content": {"text/javascript": {"schema": {"type": "string"}}}}},
    tags=["maps"],
)
async def get_route_worker(
    reader: RouteReader,
    store: StoreDep,
    versions: VersionsDep,
    plan_id: PlanId,
    technician_id: TechnicianId,
) -> Response:
    """The driver page's service worker: it keeps the last copy of the page, so that the page
    opens again on a phone without signal (its taps wait in the phone until it is back). 404
    beside a plan or route that does not exist, as the page."""
    found = await run_in_threadpool(versions.get, store, plan_id)
    found.route(technician_id)
    return Response(
        driver_worker(),
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache"},
    )
