"""The desk's plan of the coming days: solve a horizon, cut it into day plans, check, store.

One use case for ``fieldroute solve WEEK.json`` and the service's solve jobs of a stored
horizon. Every date with someone working becomes an ordinary day plan (its own day problem,
``dispatch.horizon.days``), checked by the independent checker like any day, so each keeps its
map, driver links, events and time-tracking card; the week document
(``dispatch.contract.week``) points at them. Everything is stored in one transaction before
the caller hears of it. A violation the checker finds is logged and stored with the day, as a
single day's is: the week document counts it on its day and in its figures (``violations``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

from dispatch.contract.record import plan_record
from dispatch.contract.serialize import plan_document
from dispatch.contract.validate import parse_problem
from dispatch.contract.week import WeekDay, week_document
from dispatch.desk.solve import check_day
from dispatch.errors import FieldError, InputError
from dispatch.horizon.days import day_problem
from dispatch.model import DayRef, Horizon
from dispatch.persistence.store import PlanWeek, Store, StoredDay, WeekMovedError, new_id
from dispatch.planning import Progress, SolveParams
from dispatch.planning.kpi import compute_kpis
from dispatch.planning.week import plan_week
from dispatch.travel import Roads, provider_for
from dispatch.verify import CheckReport

__all__ = [
    "WEEK_RECHECKS",
    "WEEK_TRIES",
    "SolvedWeek",
    "on_the_roster",
    "save_in_week",
    "solve_week",
    "visits_elsewhere_in_week",
    "week_id_taken",
]

logger = logging.getLogger(__name__)

#: Times a booking or batch on a day of a week is made, each on a fresh reading of the week's
#: other dates, when a visit it depends on moves on or off one of them between that reading and
#: the save (``WeekMovedError``); after that it is refused as any conflict (409).
WEEK_TRIES = 3
#: Times one is saved again against a fresh reading of the week when other dates changed
#: meanwhile but none of the visits it depends on (``save_in_week``).
WEEK_RECHECKS = 10


@dataclass(frozen=True, slots=True)
class SolvedWeek:
    """A stored week: its document and what the checker found in each day's plan."""

    document: dict[str, Any]
    reports: dict[date, CheckReport]

    @property
    def violations(self) -> int:
        """Rules broken, over every day."""
        return sum(len(report.violations) for report in self.reports.values())


def solve_week(
    raw: Mapping[str, Any],
    horizon: Horizon,
    *,
    params: SolveParams,
    save: Callable[[dict[str, Any], Sequence[StoredDay]], object],
    week_id: str | None = None,
    problem_id: str | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    on_first_plan: Callable[[], None] | None = None,
    roads: Roads | None = None,
) -> SolvedWeek:
    """Plan ``horizon`` (``raw`` as sent, validated), check each day's plan and store it all.

    Parameters
    ----------
    raw, horizon
        The horizon as sent and as validated (``dispatch.contract.horizon.parse_horizon``).
    params
        The search (``dispatch.desk.solve.solve_params``).
    save
        Writes the week document and its days (``Store.save_week``), in one transaction.
    week_id, problem_id
        The week's id and its horizon problem's; new ones by default.
    on_progress
        Hears the search's progress.
    on_first_plan
        Told once, when a plan of the whole week first exists (``plan_week``).
    roads
        The OSRM server this process was given, for a horizon on roads.
    """
    week_id = week_id or new_id("wk")
    problem_id = problem_id or new_id("pb")
    provider = provider_for(horizon.as_problem(), roads=roads)
    try:
        planned = plan_week(
            horizon,
            provider=provider,
            params=params,
            on_progress=on_progress,
            on_first_plan=on_first_plan,
        )
    except InputError as error:  # a place no road reaches, named by its workday's copy
        raise on_the_roster(error, raw) from None
    created = datetime.now(UTC)
    entries: list[WeekDay] = []
    stored: list[StoredDay] = []
    reports: dict[date, CheckReport] = {}
    working = {t.shift.start.date() for t in horizon.workdays}
    for day, day_plan in planned.days:
        if day not in working:
            entries.append(WeekDay(day))
            continue
        placed = [stop.visit_id for route in day_plan.routes for stop in route.stops]
        day_raw = day_problem(raw, horizon, day, placed)
        problem = parse_problem(day_raw)
        plan = replace(day_plan, kpis=compute_kpis(problem, day_plan))
        plan_id, day_problem_id = new_id("pl"), new_id("pb")
        document = plan_document(
            problem, plan, plan_id=plan_id, version=1, created_at=created
        ).model_dump(mode="json")
        report = check_day(day_raw, problem, document, provider)
        if report.violations:
            logger.error(
                "week %s, %s: the plan breaks %d rules: %s",
                week_id,
                day,
                len(report.violations),
                report.violations[:5],
            )
        reports[day] = report
        entries.append(WeekDay(day, plan_id, day_problem_id, problem, plan, len(report.violations)))
        stored.append(StoredDay(day_problem_id, day_raw, document, plan_record(plan)))
    document = week_document(
        horizon,
        entries,
        planned.unassigned,
        week_id=week_id,
        problem_id=problem_id,
        created_at=created,
        solve_s=planned.solve_s,
    )
    save(document, stored)
    return SolvedWeek(document, reports)


def visits_elsewhere_in_week(
    store: Store, week: PlanWeek | None, plan_id: str
) -> dict[str, DayRef]:
    """The visits on a route of another date of ``week``, the week of day plan ``plan_id``
    (``Store.week_of_plan``; read before this, so that a save against it is refused when one
    of those dates changes after this reading), at their latest versions, each with that
    date's day plan: a visit added to one day must not take one of their ids, or rolling the
    week forward read the added visit's outcome as theirs (a fixed appointment nobody served,
    dropped as done), and a visit of this day booked there by its own id is planned here no
    more. A visit that date left out, or whose attempt there was not completed, may be booked
    again by its own id. Empty for a plan of no week."""
    if week is None:
        return {}
    taken: dict[str, DayRef] = {}
    for when, other in week.days:
        if other is None or other == plan_id:
            continue
        latest = store.load_plan(other)
        left = {str(item["visit_id"]) for item in latest.get("unassigned", [])}
        for route in latest.get("routes", []):
            for stop in route.get("stops", []):
                if str(stop["visit_id"]) not in left:
                    taken[str(stop["visit_id"])] = DayRef(date.fromisoformat(when), other)
    return taken


def save_in_week(
    store: Store,
    plan_id: str,
    week: PlanWeek | None,
    taken: Mapping[str, DayRef],
    depends_on: Collection[str] | None,
    save: Callable[[PlanWeek | None], None],
) -> None:
    """``save`` a version of day plan ``plan_id`` against ``week``, read before ``taken`` (the
    visits on its other dates' routes, ``visits_elsewhere_in_week``). When another date was
    saved meanwhile (``WeekMovedError``), the week is read again: if none of the visits
    ``depends_on`` moved on or off another date's route, the version is saved against that
    reading (a desk booking on another date is no reason to refuse a driver's tap here);
    if one did, or the version depends on the other dates whole (``None``: visits moved into
    them), ``WeekMovedError``: the caller makes the version again."""
    for _ in range(WEEK_RECHECKS):
        try:
            save(week)
            return
        except WeekMovedError:
            if depends_on is None:
                raise
            fresh = store.week_of_plan(plan_id)
            now = visits_elsewhere_in_week(store, fresh, plan_id)
            if any(taken.get(visit_id) != now.get(visit_id) for visit_id in depends_on):
                raise
            week = fresh
    save(week)


def week_id_taken(visit_id: str, where: DayRef) -> str:
    """Why a new visit may not take ``visit_id``, a visit on a route of ``where`` in its
    week."""
    return (
        f"{visit_id!r} is already a visit on {where.date} in this plan's week: give the new "
        "one its own id"
    )


#: A technician's path in the horizon's planning problem: one copy per person and workday.
_WORKDAY = re.compile(r"^technicians\[(\d+)\]")
_OCCURRENCE = re.compile(r"^visits\[(\d+)\]")


def _places(raw: Mapping[str, Any], key: str) -> dict[str, int]:
    """Each row of ``raw[key]`` by its id: its place in the list."""
    rows = raw.get(key, [])
    return {
        str(row["id"]): k
        for k, row in enumerate(rows if isinstance(rows, list) else [])
        if isinstance(row, Mapping) and "id" in row
    }


def on_the_roster(error: InputError, raw: Mapping[str, Any]) -> InputError:
    """``error`` of a horizon's planning problem (a technician per person and workday: the
    fourth is ``technicians[3]`` in a roster of two; a visit per round and due date after
    the horizon's own visits) as the horizon names it: each technician by their place on its
    roster, once however many days they work; each occurrence of a round (``R1@2026-12-15``)
    by the round's place in ``rounds``, once however many fall in the horizon."""
    roster = _places(raw, "technicians")
    rounds = _places(raw, "rounds")
    found: list[FieldError] = []
    for item in error.errors:
        path, entity = item.path, item.entity_id
        if entity in roster and _WORKDAY.match(path):
            path = _WORKDAY.sub(f"technicians[{roster[entity]}]", path)
        elif entity is not None and _OCCURRENCE.match(path):
            round_id = entity.rpartition("@")[0]
            if round_id in rounds:
                path = _OCCURRENCE.sub(f"rounds[{rounds[round_id]}]", path)
                entity = round_id
        renamed = FieldError(path, item.message, entity)
        if renamed not in found:
            found.append(renamed)
    return InputError(found, what=error.what)
