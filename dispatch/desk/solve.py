"""The desk's first job of a day: solve it, check the plan independently, and store it.

One use case for ``fieldroute solve`` and the service's solve jobs, so both plan alike: the
search's parameters (a seed makes the plan reproducible), the plan document, the independent
checker (``dispatch.verify``) and the store's write are here, once. The plan is stored before
the caller hears of it; a violation the checker finds is logged and reported, never hidden.
Draft plans, when asked for, are only shaped as the contract's plan: neither checked nor stored
here. A day whose regions are solved apart (one job each, ``solve_region``) is joined, checked
and stored alike (``join_and_store``); while they are solved, their drafts are joined into a
draft of the day the same way (``join_draft``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

from dispatch.contract.record import plan_record, read_record
from dispatch.contract.schema import PlanOut, ProblemIn
from dispatch.contract.serialize import plan_document
from dispatch.contract.validate import read_wire
from dispatch.model import Plan, Problem
from dispatch.persistence import new_id
from dispatch.planning import Progress, SolveParams, plan_day, policy_params
from dispatch.planning.compile import build_sites
from dispatch.planning.day import MIN_SEARCH_S, join_regions, plan_region
from dispatch.planning.regions import Region
from dispatch.travel import (
    PointRef,
    Roads,
    TravelTimeProvider,
    needs_roads,
    pair_lookup,
    provider_for,
)
from dispatch.verify import CheckReport, Violation, check_plan, matrix_lookup

__all__ = [
    "CHECKER_MATRIX_MAX_PLACES",
    "SolvedDay",
    "check_day",
    "check_next_version",
    "check_sites",
    "checker_places",
    "join_and_store",
    "join_draft",
    "log_violations",
    "solve_day",
    "solve_params",
    "solve_region",
]

#: Most places the checker's legs are read from one matrix of (see ``checker_places``).
CHECKER_MATRIX_MAX_PLACES = 3000

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SolvedDay:
    """A stored plan (version 1) and what the independent checker found in it."""

    document: PlanOut
    report: CheckReport


def solve_params(problem: Problem, time_limit_s: float | None, seed: int | None) -> SolveParams:
    """The search for ``problem``: its policy's time limit unless given; reproducible with a
    seed (the search counts work, and the time limit is only a cap)."""
    return policy_params(problem.policy, time_limit_s, seed)


def solve_day(
    raw: Mapping[str, Any],
    problem: Problem,
    *,
    params: SolveParams,
    save: Callable[[dict[str, Any], dict[str, Any]], object],
    plan_id: str | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    roads: Roads | None = None,
    on_draft: Callable[[dict[str, Any]], None] | None = None,
) -> SolvedDay:
    """Plan ``problem`` (``raw`` as sent, validated), check the plan and store it.

    Parameters
    ----------
    raw, problem
        The day as sent (the checker reads it) and as validated.
    params
        The search (``solve_params``).
    save
        Writes the plan's document and its full-precision record
        (``dispatch.contract.record``), both JSON: with a new day in one transaction (the CLI),
        or as a solve job's result, which marks the job done.
    plan_id
        The plan's id; a new one by default.
    on_progress
        Hears the search's progress.
    roads
        The OSRM server this process was given, for a day on roads
        (``policy.travel.provider`` ``osrm``).
    on_draft
        Hears draft plans while the search goes on (``plan_day``'s ``on_draft``), each as the
        contract's plan document in JSON (version 1 of ``plan_id``, no road lines; its
        ``status`` says whether every visit is placed, as the final's does, and its
        ``kpis.solve_s`` when the search found it), from a drafting thread and never after the
        final plan is saved. Not checked, not stored: the caller marks a draft as one.
        Default none.

    Raises
    ------
    InputError
        A site off the roads (for a day on roads).
    TravelTimeError
        No roads given for a day on roads, or the road server failed.
    """
    plan_id = plan_id or new_id("pl")
    provider = provider_for(problem, roads=roads)
    drafted = None if on_draft is None else partial(_tell_draft, problem, plan_id, on_draft)
    plan = plan_day(
        problem, provider=provider, params=params, on_progress=on_progress, on_draft=drafted
    )
    return _check_and_store(raw, problem, plan, plan_id=plan_id, provider=provider, save=save)


def solve_region(
    problem: Problem,
    region: Region,
    *,
    params: SolveParams,
    roads: Roads | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    on_draft: Callable[[dict[str, Any]], None] | None = None,
    least_s: float = MIN_SEARCH_S,
) -> dict[str, Any]:
    """Plan one region of ``problem`` on its own (``plan_region``, searching at least
    ``least_s``): its plan's full-precision record (``dispatch.contract.record``), to keep
    until the regions are joined (``join_and_store``). ``on_draft`` hears the region's draft
    plans as ``solve_day``'s does, each as such a record of the region alone (to join with
    the other regions' plans: ``join_draft``). Raises as ``solve_day`` does."""
    provider = provider_for(problem, roads=roads)
    drafted = None if on_draft is None else partial(_tell_record, on_draft)
    plan = plan_region(
        problem,
        region,
        provider=provider,
        params=params,
        on_progress=on_progress,
        on_draft=drafted,
        least_s=least_s,
    )
    return plan_record(plan)


def join_and_store(
    raw: Mapping[str, Any],
    problem: Problem,
    records: Sequence[dict[str, Any]],
    *,
    plan_id: str,
    solve_s: float,
    save: Callable[[dict[str, Any], dict[str, Any]], object],
    roads: Roads | None = None,
) -> SolvedDay:
    """Join the plans of every region of ``problem`` (``solve_region``'s records, by region)
    as ``plan_day`` joins a day's regions, then check the plan and store it as ``solve_day``
    does (version 1 of ``plan_id``; ``solve_s``: the time the day took)."""
    plan = _joined(problem, records, solve_s)
    provider = provider_for(problem, roads=roads)
    return _check_and_store(raw, problem, plan, plan_id=plan_id, provider=provider, save=save)


def join_draft(
    problem: Problem, records: Sequence[dict[str, Any]], *, plan_id: str, solve_s: float
) -> dict[str, Any]:
    """A draft plan of the whole day while its regions are solved apart: the newest plan of
    each region of ``problem`` (``solve_region``'s records, by region: a region's draft, or
    its plan once done) joined as ``join_and_store`` joins them, as the contract's plan
    document in JSON (version 1 of ``plan_id``; ``solve_s``: the time the day has taken so
    far), like a draft ``solve_day``'s ``on_draft`` hears. Neither checked nor stored."""
    return _document(problem, _joined(problem, records, solve_s), plan_id)


def _joined(problem: Problem, records: Sequence[dict[str, Any]], solve_s: float) -> Plan:
    """The regions' plans (records, by region) joined into one plan of ``problem``."""
    return join_regions(problem, [read_record(record) for record in records], solve_s)


def _check_and_store(
    raw: Mapping[str, Any],
    problem: Problem,
    plan: Plan,
    *,
    plan_id: str,
    provider: TravelTimeProvider,
    save: Callable[[dict[str, Any], dict[str, Any]], object],
) -> SolvedDay:
    """The plan's document checked (a violation is logged, never hidden), then stored."""
    document = plan_document(problem, plan, plan_id=plan_id, version=1, created_at=_now())
    stored = document.model_dump(mode="json")
    report = check_day(raw, problem, stored, provider)
    log_violations(report, plan_id, version=1)
    save(stored, plan_record(plan))
    return SolvedDay(document, report)


def check_sites(problem: Problem, roads: Roads | None) -> bool:
    """Whether every place of a day on roads is on ``roads``, asked as its solve asks: True
    when they are, False when nothing was asked (the day does not travel on roads, or no
    roads were given).

    Raises
    ------
    InputError
        Each visit, technician or depot no road reaches, by field and id, as its solve would
        say (``dispatch.planning.compile.build_sites``).
    TravelTimeError
        The road server cannot be asked.
    """
    if roads is None or not needs_roads(problem):
        return False
    build_sites(problem, provider_for(problem, roads=roads))
    return True


def check_day(
    raw: Mapping[str, Any],
    problem: Problem,
    document: Mapping[str, Any],
    provider: TravelTimeProvider,
    *,
    previous: Mapping[str, Any] | None = None,
) -> CheckReport:
    """The independent checker's report on ``document``, a plan of the day ``raw`` (validated
    as ``problem``): legs read from its explicit matrix, or asked of ``provider``. ``previous``
    is the stored version a re-plan continues (the depot calls it had made must stay made).
    The checker reads the day in the contract's types: a day stored before types were strict
    (a latitude as text) is read as the engine read it, not done arithmetic on as text."""
    raw = read_wire(raw, ProblemIn, stored=True).model_dump(mode="json", exclude_unset=True)
    lookup = (
        matrix_lookup(raw)
        if problem.travel is not None
        else pair_lookup(provider, known=checker_places(problem))
    )
    return check_plan(raw, dict(document), lookup, previous=previous)


def log_violations(report: CheckReport, plan_id: str, *, version: int) -> None:
    """Log what the checker found wrong in a plan version, if anything: a fault is logged
    (with the first five rules broken) and the version stored, never hidden."""
    if report.ok:
        return
    logger.error(
        "plan %s version %s breaks %d rules of the contract: %s",
        plan_id,
        version,
        len(report.violations),
        report.violations[:5],
    )


def _added_violations(report: CheckReport, before: CheckReport) -> tuple[Violation, ...]:
    """The rules ``report`` finds broken that ``before``, the report on the version it
    continues, did not: what a booking or a move must never add. What events forced on that
    version (a Done tapped late keeping a technician past their shift) stays broken in the
    next one on a route nobody touched, and is not the booking's fault."""
    known = set(before.violations)
    return tuple(violation for violation in report.violations if violation not in known)


def check_next_version(
    raw: Mapping[str, Any],
    problem: Problem,
    document: Mapping[str, Any],
    provider: TravelTimeProvider,
    *,
    before_raw: Mapping[str, Any],
    before_problem: Problem,
    before: Mapping[str, Any],
) -> tuple[Violation, ...]:
    """The independent checker on ``document`` (of the day ``raw``, validated as
    ``problem``), the next version a booking or a move makes of the stored version ``before``
    (of the day ``before_raw``, ``before_problem``), held to the depot calls ``before`` made:
    the rules it breaks that ``before`` did not (``_added_violations``), which refuse it. The
    others, what events forced on ``before``, are logged with the version, as a re-plan's."""
    report = check_day(raw, problem, document, provider, previous=before)
    if report.ok:
        return ()
    added = _added_violations(report, check_day(before_raw, before_problem, before, provider))
    if not added:
        log_violations(report, document["plan_id"], version=document["version"])
    return added


def checker_places(problem: Problem) -> list[PointRef]:
    """Where the day's visits and technicians are, as the checker names places: asked in one
    matrix up front. Past ``CHECKER_MATRIX_MAX_PLACES`` distinct places none are (the checker
    asks each leg on its own, as many as the plan has): a 10,000-visit day's matrix of every
    pair took 7.8 GB to check a plan that has 10,000 legs."""
    sites = [visit.site for visit in problem.visits]
    sites += [site for tech in problem.technicians for site in (tech.start, tech.end)]
    places: list[PointRef] = list(
        dict.fromkeys((site.location.lat, site.location.lon) for site in sites if site.location)
    )
    return places if len(places) <= CHECKER_MATRIX_MAX_PLACES else []


def _tell_draft(
    problem: Problem, plan_id: str, on_draft: Callable[[dict[str, Any]], None], plan: Plan
) -> None:
    """A draft plan, told as the contract's plan document."""
    on_draft(_document(problem, plan, plan_id))


def _tell_record(on_draft: Callable[[dict[str, Any]], None], plan: Plan) -> None:
    """A region's draft plan, told as its full-precision record."""
    on_draft(plan_record(plan))


def _document(problem: Problem, plan: Plan, plan_id: str) -> dict[str, Any]:
    """A draft ``plan`` of ``problem`` as the contract's plan document in JSON (version 1 of
    ``plan_id``, the version its job will store)."""
    document = plan_document(problem, plan, plan_id=plan_id, version=1, created_at=_now())
    return document.model_dump(mode="json")


def _now() -> datetime:
    return datetime.now(UTC)
