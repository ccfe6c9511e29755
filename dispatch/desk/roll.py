"""The desk's roll forward: the next horizon of a stored week, from what its days reported.

One use case for ``fieldroute roll WEEK_ID --from DATE`` and ``POST /v1/weeks/{id}/roll``
(``docs/contract.md``, Week plan, *Rolling forward*). It reads the week, its horizon problem and
the latest version of each day's plan, turns the day plans' reports into ``Outcomes`` and hands
them to ``dispatch.horizon.roll.next_horizon``, where the rules live. It stores nothing: the
caller plans (and so stores) the next horizon when it wants it.

What a day plan's latest version says of a visit:

- a stop with ``status`` ``done`` that has a report (its arrival, start or departure) was done
  that day; one the plan only took as done as the day went on (nobody reported on it) was
  not, and a stop on a date before ``DATE`` nobody reported on counts as done only with
  ``assume_done``;
- ``unassigned`` with code ``cancelled`` or ``not_completed``: cancelled, or attempted and not
  done (the attempt's ``done`` stop does not make it done);
- anything else (still planned, left out of the day or of the week): still open.

A visit a day's events added (``new_visit``) is not in the horizon: it joins the next one as a
visit fixed on the day it was added to (``dispatch.horizon.roll.added_visit``), so nothing
reported during the week falls through the gap. A visit of the horizon booked again by its own
id on a later date (cancelled, left out or not completed before; the desk books it by an event
or a slot) is that booking from then on: it joins as fixed on that date with the time booked,
and what became of it before that date (cancelled, not completed) no longer holds. A round's
due date moved to a later date of the week by a re-plan stays the round's: done there, the
round was served that date; otherwise it is due again (overdue) in the next horizon.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date
from typing import Any

from dispatch.errors import FieldError, InputError
from dispatch.horizon.roll import Outcomes, added_visit, next_horizon
from dispatch.model import UnassignedCode
from dispatch.persistence import Store

__all__ = ["roll_week"]

#: The times a report at a stop fills.
_REPORTED = ("actual_arrival", "actual_start", "actual_departure")

logger = logging.getLogger(__name__)


def roll_week(
    store: Store,
    week_id: str,
    *,
    start: date,
    days: int | None = None,
    assume_done: bool = False,
) -> dict[str, Any]:
    """The horizon that follows the stored week ``week_id`` from ``start``.

    Parameters
    ----------
    store
        Where the week, its horizon problem and its day plans are.
    week_id
        The week to roll forward.
    start
        The first date of the next horizon.
    days
        How many dates it plans; default: as many as the week.
    assume_done
        Count every stop still on a route of a date before ``start`` as done on that date,
        although nobody reported it done.

    Returns
    -------
    dict
        The next horizon problem, in the contract's JSON (not stored).

    Raises
    ------
    NotFoundError
        Unknown week (or a part of it missing from the store).
    InputError
        ``start`` before the week's first date, or the next horizon would not be valid: ``days``
        out of range, or a visit fixed on a date after its last date.
    """
    week = store.load_week(week_id)
    raw = store.load_problem(week["problem_id"])
    first = date.fromisoformat(raw["horizon"]["start"])
    if start < first:  # once stored as a horizon of days before the week it rolls on from
        message = f"{start} is before the week's first date {first}: a week rolls forward"
        raise InputError([FieldError("from", message, start.isoformat())], what="roll")
    known = {row["id"] for row in raw["visits"]}
    occurrences = {occurrence["visit_id"] for occurrence in week.get("rounds", [])}
    known |= occurrences
    done: dict[str, date] = {}
    cancelled: dict[str, date] = {}
    not_completed: dict[str, date] = {}
    # By id, the last date's: a visit added on one date and booked again on a later one (as
    # the desk books a visit not completed) came back twice, and the roll was refused.
    added: dict[str, dict[str, Any]] = {}
    # Visits of the horizon booked again on a date by their own id, by id: the last date's.
    rebooked: dict[str, date] = {}
    for entry in week["days"]:
        plan_id = entry.get("plan_id")
        if plan_id is None:
            continue
        day = date.fromisoformat(entry["date"])
        plan = store.load_plan(plan_id)
        for route in plan["routes"]:
            for stop in route["stops"]:
                if _reported_done(stop) or (assume_done and day < start):
                    done[stop["visit_id"]] = day
        for item in plan["unassigned"]:
            if item["code"] == UnassignedCode.CANCELLED.value:
                cancelled[item["visit_id"]] = day
            elif item["code"] == UnassignedCode.NOT_COMPLETED.value:
                not_completed[item["visit_id"]] = day
        if plan["version"] > 1:  # only events add visits to a day
            day_raw = store.load_problem_of_plan(plan_id)
            planned_first = {row["id"] for row in store.load_problem_of_plan(plan_id, 1)["visits"]}
            for row in day_raw["visits"]:
                if row["id"] not in known:
                    added[row["id"]] = added_visit(row, day)
                elif row["id"] not in planned_first and row["id"] not in occurrences:
                    # Booked again here by its own id. A round's due date moved here by a
                    # re-plan stays the round's: its outcome here is the round's (added as a
                    # visit, its id was the round's again and the roll refused; done, the round
                    # was not served).
                    added[row["id"]] = added_visit(row, day)
                    rebooked[row["id"]] = day
    # Cancelled, not completed (its attempt a done stop) on a date before it was booked again:
    # that booking stands.
    for visit_id, day in rebooked.items():
        for before in (cancelled, not_completed, done):
            if before.get(visit_id, day) < day:
                del before[visit_id]
    # Not completed on one date and done on a later one (booked again): done. On the same
    # date the attempt's stop is done and the visit not completed: not completed.
    failed = {visit_id for visit_id, day in not_completed.items() if done.get(visit_id, day) <= day}
    outcomes = Outcomes(done, frozenset(cancelled), frozenset(failed))
    logger.info(
        "rolling week %s forward from %s: %d done, %d cancelled, %d not completed, %d added",
        week_id,
        start,
        sum(1 for visit_id in done if outcomes.is_done(visit_id)),
        len(cancelled),
        len(not_completed),
        len(added),
        extra={"week_id": week_id},
    )
    kept = [row for row in raw["visits"] if row["id"] not in rebooked]
    horizon = {**raw, "visits": [*kept, *added.values()]}
    try:
        return next_horizon(horizon, outcomes, start=start, days=days)
    except InputError as error:
        # Named as the roll was asked for: a horizon running past 2999 was refused naming
        # ``horizon.days``, a field of the problem built here, not of the request.
        asked = {"horizon.start": "from", "horizon.days": "days"}
        raise InputError(
            [replace(e, path=asked.get(e.path, e.path)) for e in error.errors], what="roll"
        ) from error


def _reported_done(stop: dict[str, Any]) -> bool:
    """Whether a day plan's stop was done by what its technician reported: ``done`` and
    reported at (a re-plan takes a stop nobody reported on as done once its time has passed:
    read as done, a batch with only a delay at 17:30 lost the day's unreported visits)."""
    return stop.get("status") == "done" and any(stop.get(key) for key in _REPORTED)
