"""When a recurring round falls due inside a horizon (pure date arithmetic).

A round is due every ``weeks`` weeks or every ``months`` calendar months from the date it was
last served (or first falls due), give or take ``tolerance_days``. A due date whose tolerance
ran out before the horizon began is *overdue*: it becomes due on the horizon's first day, and
later due dates follow from there, so a round never falls through the gap between two horizons
and is never booked twice within one period.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

__all__ = ["Due", "Every", "add_months", "due_dates"]


@dataclass(frozen=True, slots=True)
class Every:
    """A round's period: ``weeks`` or ``months`` (exactly one is non-zero)."""

    weeks: int = 0
    months: int = 0

    def after(self, start: date, times: int = 1) -> date:
        """``start`` plus ``times`` periods."""
        if self.weeks:
            return start + timedelta(weeks=self.weeks * times)
        return add_months(start, self.months * times)

    @property
    def shortest_days(self) -> int:
        """The fewest days between two due dates one period apart (``due_dates`` counts each
        from the first, so 31 January, 28 February, 31 March: a month is 28 days at least).
        It was 25 for a month, and a monthly round's tolerance of 13 days was refused."""
        return 7 * self.weeks if self.weeks else _shortest_months(self.months)


@dataclass(frozen=True, slots=True)
class Due:
    """One due date in the horizon and the days it may be served on."""

    due: date
    earliest: date
    latest: date
    overdue_since: date | None = None


@cache
def _shortest_months(months: int) -> int:
    """The fewest days between ``add_months(first, k * months)`` and the next such date, over
    every first date of a leap cycle (the calendar repeats its month lengths every 4 years
    within 1901-2099, and no gap is shorter in a century year)."""
    firsts = (date(2024, 1, 1) + timedelta(days=k) for k in range(4 * 366))
    return min(
        (add_months(first, (k + 1) * months) - add_months(first, k * months)).days
        for first in firsts
        for k in range(12 // months + 1)  # from each first, a year's gaps: every month's
    )


def add_months(start: date, months: int) -> date:
    """``start`` moved by whole calendar months, the day clamped to the month's length
    (31 January plus one month is 28 or 29 February)."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def due_dates(
    every: Every, tolerance_days: int, first_due: date, dates: tuple[date, ...]
) -> list[Due]:
    """The due dates of a round over ``dates`` (consecutive), from the first one not yet served.

    ``first_due`` is the round's next due date (the last service plus one period, or the date
    the user gave). Each due date ``d`` may be served from ``d - tolerance`` to
    ``d + tolerance``, clipped to the horizon's start; one whose window opens after the
    horizon is left for the next.
    """
    start, last = dates[0], dates[-1]
    tolerance = timedelta(days=tolerance_days)
    overdue_since = None
    base = first_due
    if base + tolerance < start:
        overdue_since, base = base, start
    found: list[Due] = []
    times = 0
    while True:
        due = every.after(base, times)
        if due - tolerance > last:
            return found
        earliest = max(due - tolerance, start)
        latest = due + tolerance
        if times == 0 and overdue_since is not None:
            # Overdue: any day until the next due date's own window opens. Due on the first
            # day alone, a weekly round in horizons starting on its technician's day off was
            # never planned, horizon after horizon.
            latest = max(latest, every.after(base, 1) - tolerance - timedelta(days=1))
        found.append(Due(due, earliest, latest, overdue_since if times == 0 else None))
        times += 1
