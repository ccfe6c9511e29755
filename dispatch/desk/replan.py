"""The planning service's use cases over the store: re-plan a stored plan after events.

The one place where loading, checking, solving and storing meet, so the CLI and the HTTP API
behave alike: the new version and its events are stored in one transaction *before* the answer
is returned, and a batch that is refused (bad events, or a version another batch already took)
leaves every stored version as it was.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from dispatch.contract.record import plan_record, read_record
from dispatch.contract.schema import PlanOut
from dispatch.contract.serialize import plan_document, read_plan
from dispatch.contract.validate import load_json, parse_problem
from dispatch.errors import FieldError, InputError
from dispatch.model import Plan
from dispatch.persistence import Store, StoreConflictError, new_id
from dispatch.planning import SolveParams
from dispatch.replanning.events import apply_to_problem, apply_to_problem_json, parse_events
from dispatch.replanning.replan import replan_day
from dispatch.travel import Roads, TravelTimeProvider, provider_for

__all__ = ["replan_stored"]


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
    roads: Roads | None = None,
) -> PlanOut:
    """Apply a batch of events to the latest version of ``plan_id`` and store the next one.

    ``version`` (or the batch's own ``version`` field) is the version the events were written
    against; when a newer one exists the batch is refused with ``StoreConflictError`` (409),
    so a concurrent batch is never lost. ``roads`` is the OSRM server this process was given,
    for a day on roads (``policy.travel.provider`` ``osrm``).

    Raises
    ------
    NotFoundError
        Unknown plan.
    InputError
        Bad events, each named by index and id; nothing stored.
    StoreConflictError
        The version the batch applies to is no longer the latest.
    """
    raw = load_json(events, what="events") if isinstance(events, str | bytes) else events
    if not isinstance(raw, Mapping):
        raise InputError([FieldError("", "events must be a JSON object")], what="events")
    latest = store.load_plan(plan_id)
    asked = version if version is not None else raw.get("version")
    if type(asked) is int and asked != latest["version"]:  # a boolean is no version
        raise StoreConflictError(
            f"the events apply to version {asked} of plan {plan_id}, but version "
            f"{latest['version']} is the latest; reload it and send the events again"
        )
    problem_raw = store.load_problem_of_plan(plan_id, latest["version"])
    problem = parse_problem(problem_raw, stored=True)
    previous = _stored_plan(store, plan_id, latest)
    batch = parse_events(raw, problem_raw, problem, previous)
    next_problem = apply_to_problem(problem, batch)
    provider = provider or provider_for(next_problem, roads=roads)
    plan = replan_day(next_problem, previous, batch, provider=provider, params=params)
    next_raw = _release_pins(apply_to_problem_json(problem_raw, batch), plan)
    document = plan_document(
        next_problem,
        plan,
        plan_id=plan_id,
        version=latest["version"] + 1,
        created_at=datetime.now(UTC),
    )
    store.save_replan(
        next_raw,
        document.model_dump(mode="json"),
        dict(raw),
        problem_id=new_id("pb"),
        record=plan_record(plan),
    )
    return document


def _stored_plan(store: Store, plan_id: str, document: Mapping[str, Any]) -> Plan:
    """The stored version as it was planned: from its full-precision record, or from its
    rounded document when it was stored before records were kept."""
    record = store.load_plan_record(plan_id, document["version"])
    if record is not None:
        return read_record(record)
    return read_plan(PlanOut.model_validate(document))
