"""``/v1/plans/{plan_id}/report``: the time-tracking card of a plan's latest version, as a page
(planned against actual, where the minutes went) for the desk."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from api.deps import Dispatcher, StoreDep, TilesDep
from api.models import HTML_PAGE
from api.pages import html_page
from api.params import PlanId
from dispatch.desk.tracking import stored_time_card
from maps.base import page_policy
from maps.report import report_page

__all__ = ["router"]

router = APIRouter(prefix="/plans/{plan_id}/report", tags=["maps"])


@router.get("", responses=HTML_PAGE)
async def get_report(
    key: Dispatcher, store: StoreDep, tiles: TilesDep, plan_id: PlanId
) -> HTMLResponse:
    """The time-tracking card of the plan's latest version: per technician, kind of visit and
    stop, planned against what was reported, and a chart of where the minutes went (driving,
    waiting at the door, service within and over its estimate). Fills as events arrive."""
    document, card = await run_in_threadpool(stored_time_card, store, plan_id)
    return html_page(report_page(document, card), page_policy(tiles))
