"""``/v1/slots``: the times a new visit can be offered on a day plan or between two dates of a
stored week, each with the technician who would take it, best first; or why there are none.
Booking one is ``POST /v1/plans/{plan_id}/book`` (``api.routes.plans``). The handler parses,
calls ``dispatch.desk.book`` and shapes the answer; nothing else."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from api.deps import ClockDep, Dispatcher, RunnerDep, StoreDep
from dispatch.booking.schema import SlotRequestIn, SlotsOut
from dispatch.desk.book import slots_stored

__all__ = ["router"]

router = APIRouter(prefix="/slots", tags=["booking"])


@router.post("", response_model=SlotsOut)
async def post_slots(
    key: Dispatcher, store: StoreDep, runner: RunnerDep, clock: ClockDep, body: SlotRequestIn
) -> SlotsOut:
    """Slots for a new visit (``shape``: ``two_hours``, ``half_day`` or ``appointment``) on
    ``plan_id``, or on the days of ``week_id`` from ``first_date`` to ``last_date``; none
    breaks a promise already made. An empty list comes with ``code`` and ``reason`` (and
    ``first_date_with_room`` when a later date of the week has room). Without ``at``, a plan of
    today is offered from the service clock's present."""
    request = body.model_dump(mode="json", exclude_unset=True)
    return await run_in_threadpool(slots_stored, store, request, roads=runner.roads, now=clock())
