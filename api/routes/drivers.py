"""``/v1/plans/{plan_id}/routes/{technician_id}``: a technician's route as their phone shows
it (JSON, or a page with its map), and the signed link that opens it for the driver until the
end of the day. The route and its page open with a dispatcher's key or the driver's own link.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response, status
from fastapi.responses import HTMLResponse

from api.deps import (
    ClockDep,
    Dispatcher,
    LinkSecretDep,
    RouteReader,
    SettingsDep,
    StoreDep,
    TilesDep,
    VersionsDep,
)
from api.links import end_of_day, sign_route_link
from api.models import HTML_PAGE, ErrorOut, LinkOut
from api.params import PlanId, TechnicianId
from dispatch.contract.schema import DriverRouteOut

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
    the plan's day; 409 once that day is over (the link would never open)."""
    found = versions.get(store, plan_id)
    found.route(technician_id)  # 404 for a technician not in the day
    expires = end_of_day(found.plan["date"], found.plan["timezone"])
    if expires <= clock():
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"the day of plan {plan_id} ({found.plan['date']}) ended at "
            f"{expires.isoformat()}: a link to it would never open",
        )
    token = sign_route_link(secret, plan_id, technician_id, expires)
    base = settings.public_url or str(request.base_url)
    route = f"{base.rstrip('/')}/v1/plans/{plan_id}/routes/{technician_id}"
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
    return HTMLResponse(found.page(technician_id, tiles))
