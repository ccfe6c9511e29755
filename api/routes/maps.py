"""``/v1/plans/{plan_id}/map``: the desk's map of a plan, one HTML page with Leaflet inside.
(A driver's page of one route is ``api.routes.drivers``'.)"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from api.deps import Dispatcher, StoreDep, TilesDep, VersionsDep
from api.models import HTML_PAGE
from api.pages import html_page
from api.params import DigitsOnly, PlanId
from maps.base import page_policy

__all__ = ["router"]

router = APIRouter(prefix="/plans/{plan_id}/map", tags=["maps"])


@router.get("", responses=HTML_PAGE)
def get_plan_map(
    key: Dispatcher,
    store: StoreDep,
    versions: VersionsDep,
    tiles: TilesDep,
    plan_id: PlanId,
    version: Annotated[int | None, Query(ge=1, le=1_000_000), DigitsOnly] = None,
) -> HTMLResponse:
    """The desk's map of the plan (its latest version, or ``version``): one colour and layer
    per technician, numbered stops, routes, service radii, the unassigned and why, a legend.
    The page carries Leaflet itself and works without internet (tiles aside)."""
    found = versions.get(store, plan_id, version)
    return html_page(found.page(None, tiles), page_policy(tiles))
