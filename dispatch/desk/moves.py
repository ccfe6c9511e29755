"""Re-planning a day of a week: a visit the day can no longer keep moves to a later date.

A week's day plans are ordinary plans, re-planned one day at a time; each day problem holds
only that date's part of a visit's span (``dispatch.horizon.days``), so the re-plan of a day
can only leave a visit out of it. ``move_left_out`` then takes each visit the re-plan left out
although it was on a route before the events (the events displaced it: its technician became
unavailable, a delay ran the day over) and, when its span in the week's horizon problem covers
a later date of the week (its ``earliest``/``latest``, a round's tolerance, a promise such as
the general 24 hours: ``dispatch.horizon.days.day_span``), books it into the latest version of
the first such date where it fits, in date order. The booking is booking's own
(``dispatch.booking.book_into``): the one insertion check, every other customer's promise kept,
made as a ``new_visit`` batch. A fixed appointment never moves; a visit added during the day
(not in the horizon), one cancelled or not completed stays where it is.

What a move leaves behind:

- the day's plan lists the visit in ``unassigned`` with code ``moved`` and ``moved_to`` (date
  and plan id); its change names both dates and both promised windows, ``notify`` true: the
  customer is called for consent;
- each later day the visits went to gets a next version (``MovedInto``): the visits booked,
  its batch of ``new_visit`` events with ``moved_from`` (date, plan id and version of the day
  they left), and the same change in its call list;
- a visit no later date of its span had room for stays unassigned with code
  ``no_capacity_in_span``, its reason saying which dates were tried.

Visits are tried by priority, then the earliest promise first, so what is due first gets the
room. A moved visit stays in its old day's problem, listed as ``moved`` in every later version
of that day: ``Aside`` keeps it out of the day's next re-plans and puts it back after.
Nothing here reads or writes the store (``dispatch.desk.replan`` does).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from dispatch.booking import DayPlan, SlotGoneError, book_into
from dispatch.booking.slots import booking_at
from dispatch.errors import FieldError, InputError
from dispatch.horizon.days import day_problem, day_span
from dispatch.model import (
    Change,
    DayRef,
    Horizon,
    Plan,
    Problem,
    Stop,
    TechnicianId,
    Unassigned,
    UnassignedCode,
    Visit,
    VisitId,
)
from dispatch.planning.kpi import compute_kpis
from dispatch.travel import TravelTimeProvider
from dispatch.units import format_clock

__all__ = ["Aside", "MovedInto", "Moves", "left_out", "move_left_out"]

#: Codes of visits that stay on their day whatever their span: the customer cancelled, the
#: technician's attempt waits to be booked again, or the visit moved already.
_STAYS = frozenset({UnassignedCode.CANCELLED, UnassignedCode.NOT_COMPLETED, UnassignedCode.MOVED})


@dataclass(frozen=True, slots=True)
class MovedInto:
    """The next version of a later day of the week: the visits moved into it.

    ``day`` is the version they were booked into; ``raw``, ``problem`` and ``plan`` the next
    one, made by ``events`` (its ``new_visit`` events and ``moved_from``).
    """

    day: DayPlan
    raw: dict[str, Any]
    problem: Problem
    plan: Plan
    events: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Moves:
    """The re-planned day with its moves recorded, and the later days the visits went to."""

    plan: Plan
    into: tuple[MovedInto, ...]


@dataclass(slots=True)
class _Target:
    """A later day being booked into: its version as loaded, as booked so far, and the steps."""

    ref: DayRef
    loaded: DayPlan
    current: DayPlan
    events: list[dict[str, Any]] = field(default_factory=list)
    changes: list[tuple[Change, ...]] = field(default_factory=list)
    moved: dict[VisitId, Change] = field(default_factory=dict)


def left_out(before: Plan, after: Plan) -> list[Unassigned]:
    """The visits ``after`` (a re-plan of ``before``) leaves out that were on a route of
    ``before``: the visits a move may take to a later date."""
    routed_before = {stop.visit_id for route in before.routes for stop in route.stops}
    routed_after = {stop.visit_id for route in after.routes for stop in route.stops}
    return [
        item
        for item in after.unassigned
        if item.visit_id in routed_before
        and item.visit_id not in routed_after
        and item.code not in _STAYS
    ]


def move_left_out(
    *,
    day: DayRef,
    version: int,
    problem: Problem,
    before: Plan,
    after: Plan,
    horizon_raw: Mapping[str, Any],
    horizon: Horizon,
    later: Sequence[DayRef],
    load: Callable[[str], DayPlan],
    provider_for_day: Callable[[DayPlan], TravelTimeProvider],
    now: datetime | None = None,
) -> Moves:
    """Move what the re-plan ``after`` of ``day`` left out to later dates of its span (see the
    module docstring).

    Parameters
    ----------
    day, version
        The re-planned day plan and the number of its next version (``after``).
    problem
        The re-planned day, the events folded in.
    before, after
        The version the events applied to, and the re-plan.
    horizon_raw, horizon
        The week's horizon problem, as stored and as validated.
    later
        The later dates of the week with a day plan, in date order.
    load
        The latest version of a day plan, by id (called once per date tried).
    provider_for_day
        Travel times for a day plan.
    now
        The caller's clock (aware): a visit moved into today's plan is booked from now, as a
        slot is, never into hours already gone (``booking_at``).
    """
    visits = {visit.id: visit for visit in problem.visits}
    spans = {visit.id: visit for visit in horizon.visits}
    order = {visit.id: k for k, visit in enumerate(problem.visits)}
    candidates: list[tuple[Unassigned, Visit, list[DayRef]]] = []
    for item in left_out(before, after):
        span = spans.get(item.visit_id)
        current = visits.get(item.visit_id)
        if span is None or current is None or current.appointment or span.appointment:
            continue  # added during the day, or a fixed appointment: it never moves
        dates = [d for d in later if d.date > day.date and day_span(span, d.date, horizon)]
        if dates:
            candidates.append((item, span, dates))
    if not candidates:
        return Moves(after, ())
    # What matters most, then what is due first, gets the room first.
    candidates.sort(
        key=lambda c: (-c[1].priority, c[1].latest_arrival or horizon.end, order[c[0].visit_id])
    )
    old_stops = {
        stop.visit_id: (route.technician_id, stop)
        for route in before.routes
        for stop in route.stops
    }
    targets: dict[str, _Target] = {}
    entries: dict[VisitId, Unassigned] = {}
    moved: dict[VisitId, Change] = {}
    for item, span, dates in candidates:
        old_technician, old_stop = old_stops[item.visit_id]
        placed = False
        for ref in dates:
            target = targets.get(ref.plan_id)
            if target is None:
                loaded = load(ref.plan_id)
                target = _Target(ref, loaded, loaded)
            provider = provider_for_day(target.current)
            if not _book(target, horizon_raw, horizon, span, provider, now):
                continue
            targets[ref.plan_id] = target
            technician, stop = _stop_of(target.current.plan, span.id)
            change = Change(
                span.id,
                old_technician,
                technician,
                old_stop.arrival,
                stop.arrival,
                True,
                f"moved from {day.date} to {ref.date}: {item.reason}",
                old_day=day,
                new_day=ref,
                old_window=old_stop.promised,
                new_window=stop.promised,
            )
            target.moved[span.id] = change
            moved[span.id] = change
            entries[span.id] = Unassigned(
                span.id,
                UnassignedCode.MOVED,
                f"moved to {ref.date} ({technician}, {_window_text(stop)}) in plan "
                f"{ref.plan_id}: {item.reason}",
                moved_to=ref,
            )
            placed = True
            break
        if not placed:
            tried = ", ".join(str(d.date) for d in dates)
            entries[item.visit_id] = replace(
                item,
                code=UnassignedCode.NO_CAPACITY_IN_SPAN,
                reason=f"{item.reason}; no later date of its span had room ({tried})",
            )
    changes = tuple(
        moved.get(change.visit_id)
        or (
            replace(change, reason=entries[change.visit_id].reason)
            if change.visit_id in entries
            else change
        )
        for change in after.changes
    )
    plan = replace(
        after,
        unassigned=tuple(entries.get(item.visit_id, item) for item in after.unassigned),
        changes=changes,
    )
    into = tuple(
        _moved_into(target, day, version)
        for target in sorted(targets.values(), key=lambda t: t.ref.date)
    )
    return Moves(plan, into)


def _book(
    target: _Target,
    horizon_raw: Mapping[str, Any],
    horizon: Horizon,
    span: Visit,
    provider: TravelTimeProvider,
    now: datetime | None,
) -> bool:
    """Book ``span`` into ``target``'s day with the times its span allows that date, from
    ``now`` when that date is today; whether it fitted (``target`` then holds the booked
    version)."""
    day = target.current
    row = day_problem(horizon_raw, horizon, day.date, [span.id])["visits"][0]
    timing = {key: row.pop(key) for key in ("window", "appointment") if key in row}
    try:
        booked = book_into(
            day,
            row,
            timing,
            row.get("preferred_technician"),
            at=booking_at(day, None, now),
            provider=provider,
            now=now,
        )
    except (SlotGoneError, InputError):
        return False  # no room that date, or the visit breaks a rule of it (its technician off)
    target.current = DayPlan(day.plan_id, day.version, booked.raw, booked.problem, booked.plan)
    target.events.extend(booked.events["events"])
    target.changes.append(booked.plan.changes)
    return True


def _stop_of(plan: Plan, visit_id: VisitId) -> tuple[TechnicianId, Stop]:
    return next(
        (route.technician_id, stop)
        for route in plan.routes
        for stop in route.stops
        if stop.visit_id == visit_id
    )


def _window_text(stop: Stop) -> str:
    promise = stop.promised
    if promise is None:
        return f"at {format_clock(stop.arrival)}"
    return f"{format_clock(promise.start)}-{format_clock(promise.end, promise.start.date())}"


def _moved_into(target: _Target, day: DayRef, version: int) -> MovedInto:
    """The next version of a later day: its bookings as one batch, their changes as one."""
    final = target.current
    at = format_clock(final.plan.at, final.date) if final.plan.at is not None else "00:00"
    events = {
        "at": at,
        "version": target.loaded.version,
        "events": target.events,
        "moved_from": {"date": day.date.isoformat(), "plan_id": day.plan_id, "version": version},
    }
    changes = [target.moved.get(c.visit_id, c) for c in _merged(target.changes)]
    plan = replace(final.plan, changes=tuple(changes))
    return MovedInto(target.loaded, dict(final.raw), final.problem, plan, events)


def _merged(steps: Sequence[tuple[Change, ...]]) -> list[Change]:
    """The changes of several bookings into one day, as one version's: each visit's first old
    and last new technician and arrival; a stop back where it was is no change."""
    first: dict[VisitId, Change] = {}
    last: dict[VisitId, Change] = {}
    notify: dict[VisitId, bool] = {}
    for changes in steps:
        for change in changes:
            first.setdefault(change.visit_id, change)
            last[change.visit_id] = change
            notify[change.visit_id] = notify.get(change.visit_id, False) or change.notify
    merged: list[Change] = []
    for visit_id, was in first.items():
        now = last[visit_id]
        change = replace(
            now,
            old_technician=was.old_technician,
            old_arrival=was.old_arrival,
            notify=notify[visit_id],
        )
        if (change.old_technician, change.old_arrival) != (
            change.new_technician,
            change.new_arrival,
        ):
            merged.append(change)
    return merged


@dataclass(frozen=True, slots=True)
class Aside:
    """The visits a day of a week moved to other dates, set aside while the day is re-planned
    again: they stay in its problem, listed as ``moved``, but are planned there no more.

    ``rows`` are their rows in the stored day, ``visits`` the same validated, ``entries``
    their ``moved`` entries in the version the events apply to.
    """

    rows: tuple[dict[str, Any], ...] = ()
    visits: tuple[Visit, ...] = ()
    entries: tuple[Unassigned, ...] = ()

    @classmethod
    def of(
        cls,
        problem_raw: Mapping[str, Any],
        problem: Problem,
        plan: Plan,
        elsewhere: Mapping[str, DayRef] | None = None,
    ) -> Aside:
        """The visits ``plan`` (of the day ``problem_raw``, validated as ``problem``) lists
        as moved, and those it leaves out that another date of the week has on a route
        (``elsewhere``: booked there by their own id), listed as moved there from now on: put
        back here, the customer was sent two technicians."""
        booked = {
            item.visit_id: elsewhere[item.visit_id]
            for item in plan.unassigned
            if elsewhere and item.visit_id in elsewhere and item.code not in _STAYS
        }
        entries = tuple(
            Unassigned(
                item.visit_id,
                UnassignedCode.MOVED,
                f"booked on {booked[item.visit_id].date} in plan "
                f"{booked[item.visit_id].plan_id}: {item.reason}",
                item.candidates,
                moved_to=booked[item.visit_id],
            )
            if item.visit_id in booked
            else item
            for item in plan.unassigned
            if item.code is UnassignedCode.MOVED or item.visit_id in booked
        )
        ids = {item.visit_id for item in entries}
        return cls(
            rows=tuple(row for row in problem_raw["visits"] if row["id"] in ids),
            visits=tuple(visit for visit in problem.visits if visit.id in ids),
            entries=entries,
        )

    def refuse_events_on_moved(self, events: Mapping[str, Any]) -> None:
        """Refuse a batch naming a moved visit (it is reported on its new date), each event
        named by index and id.

        Raises
        ------
        InputError
            An event names a moved visit, or adds a visit with its id.
        """
        where = {item.visit_id: item.moved_to for item in self.entries}
        listed = events.get("events")
        errors: list[FieldError] = []
        for index, event in enumerate(listed if isinstance(listed, list) else []):
            if not isinstance(event, Mapping):
                continue
            added = event.get("visit")
            named = [event.get("visit_id"), added.get("id") if isinstance(added, Mapping) else None]
            for visit_id in named:
                if visit_id in where:
                    ref = where[visit_id]
                    there = f" to {ref.date} (plan {ref.plan_id})" if ref else ""
                    errors.append(
                        FieldError(
                            f"events[{index}]",
                            f"{visit_id} was moved{there}: report it on that day's plan",
                            str(visit_id),
                        )
                    )
        if errors:
            raise InputError(errors, what="events")

    def day(
        self, problem_raw: Mapping[str, Any], problem: Problem, plan: Plan
    ) -> tuple[dict[str, Any], Problem, Plan]:
        """The day and the plan without the moved visits: what the events apply to."""
        if not self.entries:
            return dict(problem_raw), problem, plan
        ids = {item.visit_id for item in self.entries}
        raw = {**problem_raw, "visits": [r for r in problem_raw["visits"] if r["id"] not in ids]}
        return (
            raw,
            replace(problem, visits=tuple(v for v in problem.visits if v.id not in ids)),
            replace(plan, unassigned=tuple(u for u in plan.unassigned if u.visit_id not in ids)),
        )

    def restore(
        self, problem_raw: dict[str, Any], problem: Problem, plan: Plan
    ) -> tuple[dict[str, Any], Problem, Plan]:
        """The re-planned day and plan with the moved visits back, still listed as moved."""
        if not self.entries:
            return problem_raw, problem, plan
        raw = {**problem_raw, "visits": [*problem_raw["visits"], *self.rows]}
        whole = replace(problem, visits=(*problem.visits, *self.visits))
        order = {visit.id: k for k, visit in enumerate(whole.visits)}
        unassigned = sorted([*plan.unassigned, *self.entries], key=lambda u: order[u.visit_id])
        replanned = replace(plan, unassigned=tuple(unassigned))
        return raw, whole, replace(replanned, kpis=compute_kpis(whole, replanned))
