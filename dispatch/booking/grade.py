"""How offered slots are graded: one figure in minutes' worth, lower is better.

A slot's grade adds up, in minutes of driving a dispatcher would trade for each:

- **sooner**: ``SOONER_MIN_PER_HOUR`` for each hour its start lies after the start of the span
  asked for (midnight of the first date), in real hours: the same slot a day later costs two
  hours' worth (23 or 25 hours' worth past a daylight-saving change);
- **less added travel**: each minute of detour the visit adds to the technician's route;
- **the customer's preferred technician**: minus the policy's ``preferred_technician_min``
  (30 by default) when the slot's technician is the visit's ``preferred_technician``;
- **the customer's preferred time**: minus ``PREFERRED_TIME_MIN`` when the slot overlaps the
  ``preferred`` time of day asked for: the two share more than a moment (a window that only
  touches it, 10:00-12:00 against 12:00-14:00, does not count); an appointment (or a preferred
  time of one moment) counts when it lies inside the other, its ends included;
- **a fuller or emptier day**, as asked (``fill``): ``fuller`` (the default) takes off
  ``FILL_MIN_PER_HOUR`` for each hour of work already on the route (fewer vans out, tighter
  days), ``emptier`` adds it (work spread over the team), ``none`` leaves it out.

Slots are sorted by grade, then by start, then by technician id, so equal grades keep a stable
order.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Literal

from dispatch.model import Policy, TechnicianId
from dispatch.units import elapsed

__all__ = [
    "FILL_MIN_PER_HOUR",
    "PREFERRED_TIME_MIN",
    "SOONER_MIN_PER_HOUR",
    "Fill",
    "grade",
]

#: Minutes' worth of each hour a slot starts after the start of the span asked for.
SOONER_MIN_PER_HOUR = 5.0
#: Minutes' worth of a slot inside the customer's preferred time of day.
PREFERRED_TIME_MIN = 30.0
#: Minutes' worth of each hour of work already on the route (``fill``).
FILL_MIN_PER_HOUR = 5.0

Fill = Literal["fuller", "emptier", "none"]

_HOUR = timedelta(hours=1)
_MINUTE = timedelta(minutes=1)


def grade(
    *,
    start: datetime,
    end: datetime,
    span_start: datetime,
    added_travel: timedelta,
    technician_id: TechnicianId,
    preferred_technician: TechnicianId | None,
    preferred_time: tuple[time, time] | None,
    busy: timedelta,
    fill: Fill,
    policy: Policy,
) -> float:
    """The grade of one slot (see the module docstring), rounded to a tenth of a minute."""
    score = SOONER_MIN_PER_HOUR * max(0.0, elapsed(span_start, start) / _HOUR)  # real hours
    score += added_travel / _MINUTE
    if preferred_technician is not None and technician_id == preferred_technician:
        score -= policy.preferred_technician_bonus / _MINUTE
    if preferred_time is not None and _overlaps(start, end, preferred_time):
        score -= PREFERRED_TIME_MIN
    if fill == "fuller":
        score -= FILL_MIN_PER_HOUR * (busy / _HOUR)
    elif fill == "emptier":
        score += FILL_MIN_PER_HOUR * (busy / _HOUR)
    return round(score, 1)


def _overlaps(start: datetime, end: datetime, preferred: tuple[time, time]) -> bool:
    """Whether the slot ``start``-``end`` overlaps the ``preferred`` time of its start's day
    (see the module docstring)."""
    low = datetime.combine(start.date(), preferred[0], tzinfo=start.tzinfo)
    high = datetime.combine(start.date(), preferred[1], tzinfo=start.tzinfo)
    if start == end or low == high:
        return max(start, low) <= min(end, high)
    return max(start, low) < min(end, high)
