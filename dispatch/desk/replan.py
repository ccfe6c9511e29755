"""The planning service's use cases over the store: re-plan a stored plan after events.

The one place where loading, checking, solving and storing meet, so the CLI and the HTTP API
behave alike: the new version and its events are stored in one transaction *before* the answer
is returned, and a batch that is refused (bad events, or a version another batch already took)
leaves every stored version as it was.

A day plan of a week (``Store.week_of_plan``) may send a visit the re-plan leaves out to a later
date of its span (``dispatch.desk.moves``), unless the batch says ``"move_across_dates":
false``: the day's next version and each later day's are checked by the independent checker
and stored together (``Store.save_replans``), all or nothing. A visit moved away stays in the
day, listed as ``moved``, and is set aside from its later re-plans (``moves.Aside``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, date, datetime
from functools import partial
from typing import Any

from dispatch.booking import DayPlan
from dispatch.contract.horizon import parse_horizon
from dispatch.contract.record import plan_record, read_record
from dispatch.contract.schema import PlanOut
from dispatch.contract.serialize import plan_document, read_plan
from dispatch.contract.validate import load_json, parse_stored_day
from dispatch.desk.moves import Aside, Moves, left_out, move_left_out
from dispatch.desk.solve import check_day, check_next_version, log_violations
from dispatch.desk.week import (
    WEEK_TRIES,
    save_in_week,
    visits_elsewhere_in_week,
    week_id_taken,
)
from dispatch.errors import FieldError, InputError, InternalError
from dispatch.model import DayRef, Plan, Problem, Stop, TechnicianId, UnassignedCode, VisitId
from dispatch.persistence import PlanWeek, Store, StoreConflictError, WeekMovedError, new_id
from dispatch.persistence.store import ReplannedDay
from dispatch.planning import SolveParams, policy_params
from dispatch.replanning.events import (
    FIELD_REPORTS,
    apply_to_problem,
    apply_to_problem_json,
    parse_events,
    with_returned,
)
from dispatch.replanning.replan import replan_day
from dispatch.travel import Roads, TravelTimeProvider, provider_for

__all__ = ["UNVERSIONED_TRIES", "made_by_report", "replan_stored", "returned_to"]

#: Times a batch written against no version is made, each on the latest version, when another
#: batch stored the next version first (``replan_stored``).
UNVERSIONED_TRIES = 10


def _release_pins(problem_raw: dict[str, Any], plan: Plan) -> dict[str, Any]:
    """Unpin visits from technicians who became unavailable before serving them: the re-plan
    handed them back to the pool, and the stored day must say so."""
    gone = {t["id"] for t in problem_raw["technicians"] if t.get("unavailable_from")}
    served = {stop.visit_id: r.technician_id for r in plan.routes for stop in r.stops}
    for row in problem_raw["visits"]:
        if row.get("technician") in gone and served.get(row["id"]) != row["technician"]:
            del row["technician"]
    return problem_raw


def replan_stored(
    store: Store,
    plan_id: str,
    events: str | bytes | Mapping[str, Any],
    *,
    version: int | None = None,
    provider: TravelTimeProvider | None = None,
    params: SolveParams | None = None,
    time_limit_s: float | None = None,
    seed: int | None = None,
    roads: Roads | None = None,
    now: datetime | None = None,
) -> PlanOut:
    """Apply a batch of events to the latest version of ``plan_id`` and store the next one.

    ``version`` (or the batch's own ``version`` field) is the version the events were written
    against; when a newer one exists the batch is refused with ``StoreConflictError`` (409),
    so a concurrent batch is never lost. Written against none, it applies to the latest: when
    another batch stores the next version while it is re-planned, it is applied again on
    that one (``UNVERSIONED_TRIES`` times at most: each time, another batch was stored, so the
    day moved on; ten drivers tapping at once with four re-plan workers got 409s after three).
    ``roads`` is the OSRM server this process was given,
    for a day on roads (``policy.travel.provider`` ``osrm``). ``now`` is the caller's clock
    (aware): a batch of today's plan timed well after it is refused (``parse_events``).

    The search is the stored policy's re-plan search (``replan_time_limit_s``, ``stall_share``);
    ``time_limit_s`` replaces its budget and a ``seed`` makes it reproducible. ``params``, when
    given, is the whole search instead.

    Raises
    ------
    NotFoundError
        Unknown plan.
    InputError
        Bad events, each named by index and id; nothing stored.
    StoreConflictError
        The version the batch applies to is no longer the latest, or, for a move across
        dates, the version of the other date it was booked into; or another date of the
        plan's week changed between reading and saving ``WEEK_TRIES`` times over (a batch
        that reads the week's other dates is applied again on a fresh reading when one of
        them changes meanwhile: a visit booked there at that moment is set aside here, never
        planned on both).
    InternalError
        A date a visit moved to breaks a rule of the independent checker that its version
        before did not (a bug); nothing stored. The day re-planned is checked as any
        re-plan's version: what its events force (a delay past the shift) is logged.
    """
    raw = load_json(events, what="events") if isinstance(events, str | bytes) else events
    if not isinstance(raw, Mapping):
        raise InputError([FieldError("", "events must be a JSON object")], what="events")
    once = partial(
        _replan_once,
        store,
        plan_id,
        raw,
        version=version,
        provider=provider,
        params=params,
        time_limit_s=time_limit_s,
        seed=seed,
        roads=roads,
        now=now,
    )
    # Written against no version, the batch applies to the latest: when another batch stored
    # the next version first, it is read again on that one (two desks at once got 409s).
    unversioned = version is None and type(raw.get("version")) is not int
    moved = beaten = 0
    while True:
        try:
            return once()
        except WeekMovedError:  # another date of the week changed: read it again
            moved += 1
            if moved >= WEEK_TRIES:
                raise
        except StoreConflictError:
            beaten += 1
            if not unversioned or beaten >= UNVERSIONED_TRIES:
                raise


def _replan_once(
    store: Store,
    plan_id: str,
    raw: Mapping[str, Any],
    *,
    version: int | None,
    provider: TravelTimeProvider | None,
    params: SolveParams | None,
    time_limit_s: float | None,
    seed: int | None,
    roads: Roads | None,
    now: datetime | None,
) -> PlanOut:
    """``replan_stored`` on one reading of the store; ``WeekMovedError`` when another date of
    the plan's week was saved after it was read."""
    week = store.week_of_plan(plan_id)  # before anything of its other dates is read
    latest = store.load_plan(plan_id)
    # Looked for after the version is read: a copy of the report stored meanwhile is found
    # here, or stored after this reading, so that this version's save conflicts with it (and
    # the retry finds it). Looked for first, a copy stored between the two readings was
    # applied again on top of itself (a driver held twice as long).
    again = made_by_report(store, plan_id, raw)
    if again is not None:  # sent again, its answer lost: applied once, answered alike
        return again
    asked = version if version is not None else raw.get("version")
    if type(asked) is int and asked > latest["version"]:  # reloading would never help
        field = "version" if raw.get("version") == asked else "If-Match"
        message = f"plan {plan_id} has no version {asked}: its latest is {latest['version']}"
        raise InputError([FieldError(field, message)], what="events")
    if type(asked) is int and asked != latest["version"]:  # a boolean is no version
        raise StoreConflictError(
            f"the events apply to version {asked} of plan {plan_id}, but version "
            f"{latest['version']} is the latest; reload it and send the events again"
        )
    stored_raw = store.load_problem_of_plan(plan_id, latest["version"])
    stored_problem = parse_stored_day(stored_raw, plan_id=plan_id, version=latest["version"])
    stored = _stored_plan(store, plan_id, latest)
    elsewhere = visits_elsewhere_in_week(store, week, plan_id)
    aside = Aside.of(stored_raw, stored_problem, stored, elsewhere)
    aside.refuse_events_on_moved(raw)
    problem_raw, problem, previous = aside.day(stored_raw, stored_problem, stored)
    previous = with_returned(previous, _returned_stops(store, plan_id, previous, raw))
    batch = parse_events(raw, problem_raw, problem, previous, now=now)
    _refuse_ids_of_the_week(elsewhere, raw, {visit.id for visit in batch.added})
    next_problem = apply_to_problem(problem, batch)
    given = provider

    def provider_of(day: Problem) -> TravelTimeProvider:
        return given or provider_for(day, roads=roads)

    provider = provider_of(next_problem)
    policy = next_problem.policy
    limit = policy.replan_time_limit_s if time_limit_s is None else time_limit_s
    search = params or policy_params(policy, limit, seed)
    try:
        plan = replan_day(next_problem, previous, batch, provider=provider, params=search)
    except InputError as error:  # sites off the roads, named by the day re-planned
        raise _as_sent(error, next_problem, stored_raw, raw) from error
    next_raw = _release_pins(apply_to_problem_json(problem_raw, batch), plan)
    version_next = latest["version"] + 1
    moves = None
    if raw.get("move_across_dates") is not False and left_out(previous, plan):
        moves = _moves(
            store,
            week,
            plan_id,
            version_next,
            next_problem,
            previous,
            plan,
            lambda day: provider_of(day.problem),
            now,
        )
    if moves is not None:
        plan = moves.plan
    next_raw, next_problem, plan = aside.restore(next_raw, next_problem, plan)
    created = datetime.now(UTC)
    document = plan_document(
        next_problem, plan, plan_id=plan_id, version=version_next, created_at=created
    )
    day = ReplannedDay(
        new_id("pb"), next_raw, document.model_dump(mode="json"), dict(raw), plan_record(plan)
    )
    report = check_day(day.problem, next_problem, day.plan, provider, previous=latest)
    log_violations(report, plan_id, version=version_next)
    into = _moved_into(store, moves, created, provider_of) if moves is not None else []

    def save(week: PlanWeek | None) -> None:
        if into:
            store.save_replans([day, *into], week=week)
        else:
            problem, plan, events, record = day.problem, day.plan, day.events, day.record
            store.save_replan(
                problem, plan, events, problem_id=day.problem_id, record=record, week=week
            )

    # Moved into other dates, it depends on their versions: made again when any changes.
    depends_on = None if into else {v.id for v in (*stored_problem.visits, *next_problem.visits)}
    try:
        save_in_week(store, plan_id, week, elsewhere, depends_on, save)
    except WeekMovedError:
        raise
    except StoreConflictError:
        # The same report sent twice at once: the other copy made the version; answer it.
        again = made_by_report(store, plan_id, raw)
        if again is None:
            raise
        return again
    return document


def _as_sent(
    error: InputError, day: Problem, stored: Mapping[str, Any], raw: Mapping[str, Any]
) -> InputError:
    """``error`` about ``day`` (the day re-planned: the stored day with the events' new
    visits, less visits another date holds) naming each visit where the caller sent it: a new
    one as its event (``events[k].visit``), the others by their place in the stored day."""
    events = raw.get("events")
    sent = {
        str(event["visit"].get("id")): f"events[{k}].visit"
        for k, event in enumerate(events if isinstance(events, list) else [])
        if isinstance(event, Mapping)
        and event.get("type") == "new_visit"
        and isinstance(event.get("visit"), Mapping)
    }
    stored_visits = stored.get("visits", [])
    sent |= {
        str(visit.get("id")): f"visits[{j}]"
        for j, visit in enumerate(stored_visits)
        if isinstance(visit, Mapping) and str(visit.get("id")) not in sent
    }
    renamed = {
        f"visits[{i}]": sent[visit.id] for i, visit in enumerate(day.visits) if visit.id in sent
    }

    def where(path: str) -> str:
        head, dot, tail = path.partition(".")
        return renamed.get(head, head) + dot + tail

    named = [replace(found, path=where(found.path)) for found in error.errors]
    by_events = any(found.path.startswith("events[") for found in named)
    return InputError(named, what="events" if by_events else error.what)


def made_by_report(store: Store, plan_id: str, raw: Mapping[str, Any]) -> PlanOut | None:
    """The version a batch of the same ``report_id`` as ``raw`` already made of ``plan_id``, if
    one did: a phone's tap sent again after its answer was lost ("running late 30" twice held
    the technician 60 minutes).

    Raises
    ------
    InputError
        That batch was not this one (its events or time differ): a report id names one report,
        and another report under it was answered as made and silently not applied.
    """
    report_id = raw.get("report_id")
    if not isinstance(report_id, str) or not report_id:
        return None
    for batch in store.load_events(plan_id):
        if batch.get("report_id") != report_id:
            continue
        made = int(batch["version"])
        if batch.get("events") != raw.get("events") or batch.get("at") != raw.get("at"):
            message = (
                f"report {report_id!r} made version {made} with other events: give each "
                "report its own id"
            )
            raise InputError([FieldError("report_id", message)], what="events")
        return PlanOut.model_validate(store.load_plan(plan_id, made))
    return None


def _refuse_ids_of_the_week(
    taken: Mapping[str, DayRef], raw: Mapping[str, Any], added: set[str]
) -> None:
    """``InputError`` naming each new visit whose id another date of the plan's week holds
    (``taken``: ``visits_elsewhere_in_week``)."""
    if not added:
        return
    errors = [
        FieldError(f"events[{k}].visit.id", week_id_taken(visit_id, taken[visit_id]), visit_id)
        for k, event in enumerate(raw.get("events", []))
        if isinstance(event, Mapping)
        and event.get("type") == "new_visit"
        and isinstance(event.get("visit"), Mapping)
        and (visit_id := str(event["visit"].get("id"))) in added
        and visit_id in taken
    ]
    if errors:
        raise InputError(errors, what="events")


def _moved_into(
    store: Store,
    moves: Moves,
    created: datetime,
    provider_of: Callable[[Problem], TravelTimeProvider],
) -> list[ReplannedDay]:
    """The next versions of the dates the visits moved to, each checked, to store: one that
    breaks a rule its version before did not is a bug, and nothing is stored."""
    days = []
    for into in moves.into:
        document = plan_document(
            into.problem,
            into.plan,
            plan_id=into.day.plan_id,
            version=into.day.version + 1,
            created_at=created,
        ).model_dump(mode="json")
        added = check_next_version(
            into.raw,
            into.problem,
            document,
            provider_of(into.problem),
            before_raw=into.day.raw,
            before_problem=into.day.problem,
            before=store.load_plan(into.day.plan_id, into.day.version),
        )
        if added:
            found = "; ".join(v.message for v in added[:5])
            raise InternalError(
                f"plan {into.day.plan_id} version {into.day.version + 1} of a move across "
                f"dates breaks {len(added)} rules: {found}"
            )
        days.append(
            ReplannedDay(new_id("pb"), into.raw, document, into.events, plan_record(into.plan))
        )
    return days


def _moves(
    store: Store,
    week: PlanWeek | None,
    plan_id: str,
    version: int,
    problem: Problem,
    before: Plan,
    after: Plan,
    provider_for_day: Callable[[DayPlan], TravelTimeProvider],
    now: datetime | None,
) -> Moves | None:
    """The re-plan ``after`` with what it left out moved to later dates of the plan's week
    (into today's plan from ``now``); ``None`` for a plan that is no day of a week."""
    if week is None:
        return None
    horizon_raw = store.load_problem(week.problem_id)
    this = date.fromisoformat(week.date)
    later = [
        DayRef(when, other)
        for text, other in week.days
        if other is not None and (when := date.fromisoformat(text)) > this
    ]
    return move_left_out(
        day=DayRef(this, plan_id),
        version=version,
        problem=problem,
        before=before,
        after=after,
        horizon_raw=horizon_raw,
        horizon=parse_horizon(horizon_raw, stored=True),
        later=later,
        load=lambda other: _day_plan(store, other),
        provider_for_day=provider_for_day,
        now=now,
    )


def _day_plan(store: Store, plan_id: str) -> DayPlan:
    """The latest version of a stored day plan, as booking reads it."""
    latest = store.load_plan(plan_id)
    raw = store.load_problem_of_plan(plan_id, latest["version"])
    plan = _stored_plan(store, plan_id, latest)
    version = int(latest["version"])
    problem = parse_stored_day(raw, plan_id=plan_id, version=version)
    return DayPlan(plan_id, version, raw, problem, plan)


def _returned_stops(
    store: Store, plan_id: str, plan: Plan, raw: Mapping[str, Any]
) -> dict[VisitId, tuple[TechnicianId, Stop]]:
    """The visits ``raw``'s field reports name that ``plan`` left out after a technician went
    past them (their time could no longer be met, or no route had room), with the technician
    and the stop of the last version that had them on a route. The technician may have served
    it after all, or before the stop they were reported at: a late 'completed' was refused as
    'on no technician's route; move it to a technician first', and no move could place it (a
    hunt of re-plans after reports)."""
    reported = {
        VisitId(str(event.get("visit_id")))
        for event in raw.get("events", [])
        if isinstance(event, Mapping) and event.get("type") in FIELD_REPORTS
    }
    routed = {stop.visit_id for route in plan.routes for stop in route.stops}
    left = {
        item.visit_id
        for item in plan.unassigned
        if item.code in (UnassignedCode.WINDOW, UnassignedCode.NO_ROOM)
        and item.visit_id in reported
        and item.visit_id not in routed
    }
    found: dict[VisitId, tuple[TechnicianId, Stop]] = {}
    if not left:  # the usual batch: no older version read
        return found
    for version in reversed(store.plan_versions(plan_id)[:-1]):
        if not left - found.keys():
            break
        older = _stored_plan(store, plan_id, store.load_plan(plan_id, version))
        for route in older.routes:
            for stop in route.stops:
                if stop.visit_id in left and stop.visit_id not in found:
                    found[stop.visit_id] = (route.technician_id, stop)
    return found


def returned_to(
    store: Store, plan_id: str, technician_id: str, raw: Mapping[str, Any]
) -> frozenset[str]:
    """The visits ``raw`` reports on that the latest version of ``plan_id`` left out after
    ``technician_id`` went past them (``_returned_stops``): theirs to report from their link."""
    latest = _stored_plan(store, plan_id, store.load_plan(plan_id))
    found = _returned_stops(store, plan_id, latest, raw)
    return frozenset(visit_id for visit_id, (tech, _) in found.items() if tech == technician_id)


def _stored_plan(store: Store, plan_id: str, document: Mapping[str, Any]) -> Plan:
    """The stored version as it was planned: from its full-precision record, or from its
    rounded document when it was stored before records were kept."""
    record = store.load_plan_record(plan_id, document["version"])
    if record is not None:
        return read_record(record)
    return read_plan(PlanOut.model_validate(document))
