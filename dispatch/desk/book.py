"""The desk's booking use cases over the store: the slots of a new visit, and booking one.

One place for the CLI (``fieldroute slots``, ``fieldroute book``) and the HTTP API
(``POST /v1/slots``, ``POST /v1/plans/{plan_id}/book``), so both behave alike. A slot request
names a day plan (its latest version) or a stored week and two of its dates (each date's day
plan). A booking is stored as the plan's next version with its ``new_visit`` batch, in one
transaction, after the independent checker (``dispatch.verify``) passed it; a booking the
plan no longer has room for, or whose next version another booking or batch stored first, is
refused with ``BookingRefusedError`` (409) carrying the fresh slots of the same shape. The
caller's clock (``now``, from the API or the CLI) makes the default booking time of a plan of
today (``dispatch.booking.slots.booking_at``) and the stored version's ``created_at``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from contextlib import suppress
from datetime import UTC, date, datetime, time
from functools import partial
from typing import Any

from pydantic import ValidationError

from dispatch.booking import DayPlan, Slot, SlotAsk, SlotGoneError, SlotsAnswer, book_into, offer
from dispatch.booking.schema import BookIn, SlotIn, SlotOut, SlotRequestIn, SlotsOut
from dispatch.booking.slots import booking_at, day_over, shape_of
from dispatch.contract.record import plan_record, read_record
from dispatch.contract.schema import PlanOut
from dispatch.contract.serialize import plan_document, read_plan
from dispatch.contract.validate import (
    END_OF_DAY,
    load_json,
    parse_stored_day,
    pydantic_errors,
)
from dispatch.desk.solve import check_next_version
from dispatch.desk.week import WEEK_TRIES, save_in_week, visits_elsewhere_in_week, week_id_taken
from dispatch.errors import FieldError, InputError, NotFoundError
from dispatch.persistence import PlanWeek, Store, StoreConflictError, WeekMovedError, new_id
from dispatch.replanning.events import ahead_of_now
from dispatch.travel import Roads, TravelTimeProvider, provider_for
from dispatch.units import clock_to_datetime, format_clock, iso

logger = logging.getLogger(__name__)

__all__ = ["BookingRefusedError", "asked_at_on", "book_stored", "slots_answer", "slots_stored"]

#: How a week's id begins.
_WEEK_PREFIX = "wk_"


class BookingRefusedError(SlotGoneError):
    """The slot is gone (409); ``answer`` holds the fresh slots of the plan as it now is."""

    def __init__(self, message: str, answer: SlotsOut) -> None:
        super().__init__(message)
        self.answer = answer


def _read(raw: str | bytes | Mapping[str, Any], model: type[Any], what: str) -> Any:
    data = load_json(raw, what=what) if isinstance(raw, str | bytes) else raw
    if not isinstance(data, Mapping):
        raise InputError([FieldError("", f"the {what} must be a JSON object")], what=what)
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise InputError(pydantic_errors(error, data), what=what) from error


def _day_plan(store: Store, plan_id: str, roster: frozenset[str] | None = None) -> DayPlan:
    """The latest version of the day plan ``plan_id``; ``roster``: its week's technicians,
    when the caller has read them (else read here, for a plan of a week)."""
    latest = store.load_plan(plan_id)
    version = int(latest["version"])
    raw = store.load_problem_of_plan(plan_id, version)
    record = store.load_plan_record(plan_id, version)
    plan = read_record(record) if record is not None else read_plan(PlanOut.model_validate(latest))
    problem = parse_stored_day(raw, plan_id=plan_id, version=version)
    if roster is None:
        week = store.week_of_plan(plan_id)
        roster = _roster(store, week.problem_id) if week is not None else frozenset()
    off = roster - {str(row["id"]) for row in raw["technicians"]}
    return DayPlan(plan_id, version, raw, problem, plan, off)


def _roster(store: Store, problem_id: str) -> frozenset[str]:
    """The technicians of a week's horizon problem ``problem_id``: a day plan's technicians
    not among them that date are off (``DayPlan.off``)."""
    return frozenset(str(row["id"]) for row in store.load_problem(problem_id)["technicians"])


def _date(text: str | None, field: str) -> date | None:
    """A request's date, or ``None``; a date that does not exist is bad input."""
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise InputError(
            [FieldError(field, f"{text} is not a date")], what="slot request"
        ) from error


def _days(
    store: Store, request: SlotRequestIn, now: datetime | None
) -> tuple[list[DayPlan], list[DayPlan]]:
    """The day plans of the span asked for, and those of the week after it, leaving out the
    dates already over by the caller's clock ``now`` (``day_over``); a day plan, or a span of
    a week, all over is an input error."""
    first = _date(request.first_date, "first_date")
    last = _date(request.last_date, "last_date")
    if first and last and last < first:
        raise InputError(
            [FieldError("last_date", f"{last} is before first_date {first}")],
            what="slot request",
        )
    if not request.plan_id.startswith(_WEEK_PREFIX):
        day = _day_plan(store, request.plan_id)
        if first is not None and day.date < first:
            why = f"plan {day.plan_id} is for {day.date}, before {first}"
            raise InputError([FieldError("first_date", why)], what="slot request")
        if last is not None and day.date > last:
            why = f"plan {day.plan_id} is for {day.date}, after {last}"
            raise InputError([FieldError("last_date", why)], what="slot request")
        over = day_over(day, now)
        if over is not None:
            raise InputError([FieldError("plan_id", over, day.plan_id)], what="slot request")
        return [day], []
    week = store.load_week(request.plan_id)
    dates = [date.fromisoformat(str(entry["date"])) for entry in week.get("days", [])]
    outside = [
        (name, asked)
        for name, asked, beyond in (
            ("first_date", first, first is not None and dates and first > dates[-1]),
            ("last_date", last, last is not None and dates and last < dates[0]),
        )
        if beyond
    ]
    if outside:  # once 200 "nobody works on the dates asked for", of dates the week never had
        name, asked = outside[0]
        why = f"{asked} is outside week {request.plan_id} ({dates[0]} to {dates[-1]})"
        raise InputError([FieldError(name, why)], what="slot request")
    span: list[DayPlan] = []
    later: list[DayPlan] = []
    roster = _roster(store, week["problem_id"])  # once for the week, not once a date
    for entry in week.get("days", []):
        if entry.get("plan_id") is None:
            continue  # nobody works that date: no plan, no slot
        when = date.fromisoformat(entry["date"])
        if first is not None and when < first:
            continue
        if last is not None and when > last:
            later.append(_day_plan(store, entry["plan_id"], roster))
        else:
            span.append(_day_plan(store, entry["plan_id"], roster))
    going = [day for day in span if day_over(day, now) is None]
    if span and not going and now is not None:  # only a clock makes a date over
        zone = span[-1].problem.timezone
        why = (
            f"the dates asked for ({span[0].date} to {span[-1].date}) are over (today is "
            f"{now.astimezone(zone).date()} in {zone.key}): ask for today or a later date"
        )
        raise InputError([FieldError("first_date", why, request.plan_id)], what="slot request")
    return going, [day for day in later if day_over(day, now) is None]


def _time_of_day(text: str) -> time:
    """A clock time as a time of day; ``24:00`` is the day's last moment."""
    return time.max if text == "24:00" else time.fromisoformat(text)


def _ask(request: SlotRequestIn, now: datetime | None) -> SlotAsk:
    preferred = None
    if request.preferred is not None:
        low = _time_of_day(request.preferred.start)
        high = _time_of_day(request.preferred.end)
        if high < low:
            raise InputError(
                [FieldError("preferred.end", f"{request.preferred.end} is before start")],
                what="slot request",
            )
        preferred = (low, high)
    return SlotAsk(
        shape=request.shape,
        preferred=preferred,
        fill=request.fill,
        limit=request.limit,
        at=request.at,
        now=now,
    )


def _slot_in(slot: Slot) -> SlotIn:
    if slot.appointment:
        return SlotIn(
            date=slot.date.isoformat(),
            appointment=format_clock(slot.start),
            technician_id=slot.technician_id,
        )
    return SlotIn.model_validate(
        {
            "date": slot.date.isoformat(),
            "window": {"start": format_clock(slot.start), "end": format_clock(slot.end, slot.date)},
            "technician_id": slot.technician_id,
        }
    )


def slots_answer(answer: SlotsAnswer) -> SlotsOut:
    """The wire form of an answer."""
    return SlotsOut(
        visit_id=answer.visit_id,
        shape=answer.shape,
        slots=[
            SlotOut(
                rank=k + 1,
                plan_id=slot.plan_id,
                version=slot.version,
                date=slot.date.isoformat(),
                start=iso(slot.start),
                end=iso(slot.end),
                appointment=slot.appointment,
                technician_id=slot.technician_id,
                service_start=iso(slot.service_start),
                added_travel_min=round(slot.added_travel.total_seconds() / 60, 1),
                added_km=slot.added_km,
                grade=slot.grade,
                slot=_slot_in(slot),
            )
            for k, slot in enumerate(answer.slots)
        ],
        code=answer.code,
        reason=answer.reason,
        first_date_with_room=answer.first_date_with_room.isoformat()
        if answer.first_date_with_room
        else None,
    )


def _provider(roads: Roads | None, given: TravelTimeProvider | None) -> Any:
    def for_day(day: DayPlan) -> TravelTimeProvider:
        return given or provider_for(day.problem, roads=roads)

    return for_day


def slots_stored(
    store: Store,
    request: str | bytes | Mapping[str, Any],
    *,
    provider: TravelTimeProvider | None = None,
    roads: Roads | None = None,
    now: datetime | None = None,
) -> SlotsOut:
    """The slots of a request (``SlotRequestIn``) over the stored plans it names; ``now`` (the
    caller's clock, aware) makes the default booking time of a plan of today.

    Raises
    ------
    InputError
        A bad request or visit, each problem named by its field.
    NotFoundError
        An unknown plan or week.
    """
    wire: SlotRequestIn = _read(request, SlotRequestIn, "slot request")
    days, later = _days(store, wire, now)
    if days and wire.at is not None:
        # Offered at a time ahead of the clock, a slot was refused when booked at it.
        opening = days[0]
        asked = clock_to_datetime(wire.at, opening.date, opening.problem.timezone)
        ahead = ahead_of_now(opening.problem, opening.plan, asked, now)
        if ahead is not None:
            raise InputError([FieldError("at", ahead)], what="slot request")
    if days:
        # Offered, such a slot was refused when booked: the id is a visit of another date.
        first = days[0].plan_id
        taken = visits_elsewhere_in_week(store, store.week_of_plan(first), first)
        if wire.visit.id in taken:
            message = week_id_taken(wire.visit.id, taken[wire.visit.id])
            raise InputError([FieldError("visit.id", message, wire.visit.id)], what="slot request")
    row = wire.visit.model_dump(mode="json", exclude_none=True)
    answer = offer(days, row, _ask(wire, now), _provider(roads, provider), later=later)
    return slots_answer(answer)


def asked_at_on(
    store: Store, request: str | bytes | Mapping[str, Any], on: date, now: datetime | None
) -> str | None:
    """The ``at`` a slot of ``on`` was offered with by ``request`` (``SlotRequestIn``): over a
    week, the asked ``at`` is the clock time of the span's first working date only (the later
    dates are not under way: ``booking_at`` gives theirs), so booking a later date's slot with
    it (``fieldroute book WEEK … --at``) refused the slot just offered there."""
    wire: SlotRequestIn = _read(request, SlotRequestIn, "slot request")
    if wire.at is None:
        return None
    days, _ = _days(store, wire, now)
    return wire.at if days and days[0].date == on else None


def book_stored(
    store: Store,
    plan_id: str,
    request: str | bytes | Mapping[str, Any],
    *,
    if_match: int | None = None,
    provider: TravelTimeProvider | None = None,
    roads: Roads | None = None,
    now: datetime | None = None,
) -> PlanOut:
    """Book a visit into a slot of ``plan_id`` and store the next version; its document.

    ``if_match`` is the version the slot was offered on: when the plan has moved on since, the
    slot is checked again on the latest version and booked if it still holds there; when it
    does not (or on any version, when no technician can take it any more), or when another
    booking or batch stores the next version between that check and the save,
    ``BookingRefusedError`` (409) carries the fresh slots of the slot's shape on that day.
    ``now`` (the caller's clock, aware) makes the default booking time of a plan of today.

    Raises
    ------
    InputError
        A bad request or visit, or a slot on another date than the plan's.
    NotFoundError
        An unknown plan.
    BookingRefusedError
        The slot is gone, or the plan moved on while it was being booked.
    InternalError
        The booked plan breaks a rule of the checker that the version booked into did not (a
        bug); nothing is stored. What events forced on that version stays, logged.
    """
    wire: BookIn = _read(request, BookIn, "booking")
    if wire.slot.appointment == "24:00":  # as a day's visit: the end of the day starts nothing
        raise InputError([FieldError("slot.appointment", END_OF_DAY)], what="booking")
    if plan_id.startswith(_WEEK_PREFIX):
        raise NotFoundError(f"{plan_id} is a week: book into the plan of the slot's date")
    once = partial(
        _book_once, store, plan_id, wire, if_match=if_match, provider=provider, roads=roads, now=now
    )
    for _ in range(WEEK_TRIES - 1):
        with suppress(WeekMovedError):  # another date of the week changed: read it again
            return once(last=False)
    return once(last=True)


def _book_once(
    store: Store,
    plan_id: str,
    wire: BookIn,
    *,
    if_match: int | None,
    provider: TravelTimeProvider | None,
    roads: Roads | None,
    now: datetime | None,
    last: bool,
) -> PlanOut:
    """``book_stored`` on one reading of the store; ``WeekMovedError`` when another date of
    the plan's week was saved after it was read, unless this is the ``last`` try (then it is
    refused as any conflict, with fresh slots)."""
    week = store.week_of_plan(plan_id)  # before anything of its other dates is read
    day = _day_plan(store, plan_id)
    slot = wire.slot
    errors = []
    if slot.date != day.date.isoformat():
        errors.append(FieldError("slot.date", f"plan {plan_id} is for {day.date}, not {slot.date}"))
    elif (over := day_over(day, now)) is not None:
        errors.append(FieldError("slot.date", over))
    if (slot.window is None) == (slot.appointment is None):
        errors.append(
            FieldError("slot", "give the slot's window or its appointment, one of the two")
        )
    if if_match is not None and if_match > day.version:  # once booked as if it were the latest
        errors.append(
            FieldError(
                "If-Match",
                f"plan {plan_id} has no version {if_match}: its latest is {day.version}",
            )
        )
    if slot.window is not None and slot.window.end < slot.window.start:
        # Said of the slot: left to the visit it makes, it was said of visit.window.end.
        errors.append(
            FieldError(
                "slot.window.end",
                f"{slot.window.end} is before start {slot.window.start}",
            )
        )
    pinned = wire.visit.technician
    if pinned is not None and pinned in day.off:  # the contract names the visit's pin
        errors.append(FieldError("visit.technician", f"{pinned} is off on {day.date}", pinned))
    if slot.technician_id not in (None, pinned) and slot.technician_id not in {
        technician.id for technician in day.problem.technicians
    }:
        # Once booked onto whoever could take it, without a word.
        errors.append(
            FieldError(
                "slot.technician_id",
                f"no technician {slot.technician_id!r} works the day of plan {plan_id}",
                slot.technician_id,
            )
        )
    taken = visits_elsewhere_in_week(store, week, plan_id)
    if wire.visit.id in taken:
        message = week_id_taken(wire.visit.id, taken[wire.visit.id])
        errors.append(FieldError("visit.id", message, wire.visit.id))
    if errors:
        raise InputError(errors, what="booking")
    at = booking_at(day, wire.at, now)
    row = wire.visit.model_dump(mode="json", exclude_none=True)
    timing: dict[str, Any] = (
        {"window": slot.window.model_dump(mode="json")}
        if slot.window is not None
        else {"appointment": slot.appointment}
    )
    provider = provider or provider_for(day.problem, roads=roads)
    before = store.load_plan(plan_id, day.version)
    refused: set[tuple[int, int, int]] = set()
    while True:
        try:
            booked = book_into(
                day,
                row,
                timing,
                slot.technician_id,
                at=at,
                provider=provider,
                now=now,
                skip=frozenset(refused),
            )
        except SlotGoneError as error:
            moved = (
                f" (the plan is at version {day.version} now)"
                if if_match not in (None, day.version)
                else ""
            )
            raise _refused(f"{error}{moved}", day, wire, provider, now) from error
        document = plan_document(
            booked.problem,
            booked.plan,
            plan_id=plan_id,
            version=day.version + 1,
            created_at=now or datetime.now(UTC),
        )
        stored = document.model_dump(mode="json")
        added = check_next_version(
            booked.raw,
            booked.problem,
            stored,
            provider,
            before_raw=day.raw,
            before_problem=day.problem,
            before=before,
        )
        if not added:
            break
        # The engine's bug, logged; the customer gets the next place that keeps every rule
        # (none left: the slot is gone, with fresh slots), never a plan that breaks one, nor
        # a 500.
        logger.error(
            "booking %s into plan %s at %s breaks %d rules: %s",
            booked.visit.id,
            plan_id,
            booked.place,
            len(added),
            "; ".join(v.message for v in added[:5]),
        )
        refused.add(booked.place)
    record = plan_record(booked.plan)

    def save(week: PlanWeek | None) -> None:
        events, problem_id = booked.events, new_id("pb")
        store.save_replan(
            booked.raw, stored, events, problem_id=problem_id, record=record, week=week
        )

    depends_on = {visit.id for visit in day.problem.visits} | {booked.visit.id}
    try:
        save_in_week(store, plan_id, week, taken, depends_on, save)
    except StoreConflictError as error:
        if isinstance(error, WeekMovedError) and not last:
            raise
        latest = _day_plan(store, plan_id)
        message = (
            f"{error} (booking visit {booked.visit.id})"
            if isinstance(error, WeekMovedError)
            else f"plan {plan_id} moved on to version {latest.version} while visit "
            f"{booked.visit.id} was being booked"
        )
        raise _refused(message, latest, wire, provider, now) from error
    return document


def _refused(
    message: str,
    day: DayPlan,
    wire: BookIn,
    provider: TravelTimeProvider,
    now: datetime | None,
) -> BookingRefusedError:
    """The 409 of a booking that cannot be made on ``day`` (its latest version): ``message``
    and the fresh slots there, in the shape of the slot refused (an appointment, two hours or
    half a day)."""
    slot = wire.slot
    if slot.window is not None:
        zone = day.problem.timezone
        start = clock_to_datetime(slot.window.start, day.date, zone)
        end = clock_to_datetime(slot.window.end, day.date, zone)
        shape = shape_of(day.problem, start, end)
    else:
        shape = "appointment"
    again = SlotRequestIn(visit=wire.visit, shape=shape, plan_id=day.plan_id, at=wire.at)
    row = wire.visit.model_dump(mode="json", exclude_none=True)
    fresh = slots_answer(offer([day], row, _ask(again, now), lambda _: provider))
    return BookingRefusedError(f"{message}; here are the slots that hold now", fresh)
