"""What the customer is told: the promised arrival window, and when a new plan breaks it.

A customer with an appointment at ``T`` is told the technician rings between ``T - band_far``
and ``T`` (09:20-09:30 for 09:30 with the default band). Anyone else is told a window of the
policy's ``promise_width`` (30 min by default) centred on the planned arrival rounded to five
minutes: "between 09:15 and 09:45". The promise is kept from one plan version to the next; the
customer must be called (``needs_call``) when a re-plan moves the arrival more than the policy's
``notify_tolerance`` from the promised time, the centre of that window, and is then told a new
window around the new arrival.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from dispatch.model import Plan, Policy, Route, Stop, TimeWindow, Visit, VisitId
from dispatch.units import SECONDS_PER_MINUTE, duration_to_s, elapsed, shifted

__all__ = ["needs_call", "promise_for", "with_promises"]

_ROUNDING = timedelta(minutes=5)


def _round(moment: datetime) -> datetime:
    """``moment`` to the nearest ``_ROUNDING`` of its wall clock, moved in real time (by at
    most half of it): from the top of its hour, on the night Lord Howe's clocks skip or repeat
    half an hour, it landed in the half hour and an arrival at 02:31 was promised 02:45-03:15."""
    seconds = moment.minute * SECONDS_PER_MINUTE + moment.second
    step = duration_to_s(_ROUNDING)
    rounded = round(seconds / step) * step
    return shifted(moment.replace(microsecond=0), timedelta(seconds=rounded - seconds))


def promise_for(visit: Visit, arrival: datetime, policy: Policy) -> TimeWindow:
    """The window to tell the customer of ``visit`` for a planned ``arrival``."""
    if visit.appointment is not None:
        return TimeWindow(shifted(visit.appointment, -policy.early_band[1]), visit.appointment)
    centre = _round(arrival)
    half = policy.promise_width / 2
    return TimeWindow(shifted(centre, -half), shifted(centre, half))


def needs_call(promise: TimeWindow, arrival: datetime, policy: Policy) -> bool:
    """Whether ``arrival`` is more than the tolerance away from the promised time."""
    centre = shifted(promise.start, elapsed(promise.start, promise.end) / 2)
    return abs(elapsed(centre, arrival)) > policy.notify_tolerance


def with_promises(plan: Plan, visits: dict[VisitId, Visit], policy: Policy) -> Plan:
    """``plan`` with a promise on every stop that has none yet."""

    def stop(item: Stop) -> Stop:
        if item.promised is not None:
            return item
        return replace(item, promised=promise_for(visits[item.visit_id], item.arrival, policy))

    def route(item: Route) -> Route:
        return replace(item, stops=tuple(stop(s) for s in item.stops))

    return replace(plan, routes=tuple(route(r) for r in plan.routes))
