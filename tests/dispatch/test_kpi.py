"""KPIs: computed by planning on the line day, worked out by hand, and only shaped by the
serializer."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dispatch.contract.serialize import plan_document
from dispatch.contract.validate import parse_problem
from dispatch.errors import InternalError
from dispatch.model import TimeWindow, Visit
from dispatch.planning import SolveParams, plan_day
from dispatch.planning.kpi import compute_kpis
from tests.conftest import line_day

QUICK = SolveParams(time_limit_s=1, metaheuristic="greedy_descent", seeders=())


def test_planning_sets_the_kpis_of_the_line_day() -> None:
    problem = parse_problem(line_day())
    plan = plan_day(problem, params=QUICK)
    kpis = plan.kpis
    assert kpis is not None and kpis == compute_kpis(problem, plan)
    # One technician out to site 3 and back along a line of 10-minute legs: 60 minutes, 30 km.
    assert (kpis.visits, kpis.assigned, kpis.technicians_used) == (3, 3, 1)
    assert kpis.travel == timedelta(minutes=60) and kpis.distance_km == pytest.approx(30.0)
    assert kpis.service == timedelta(minutes=90) and kpis.on_time_rate == 1.0
    assert kpis.assigned_by_priority["normal"] == (3, 3)


def test_utilisation_is_over_the_shift_that_ends_when_the_technician_is_unavailable() -> None:
    # Off from 11:00, T1 works 08:00-11:00: 150 minutes busy over 3 hours, not over the 10 of
    # the shift as typed (0.25).
    day = line_day()
    day["technicians"][0]["unavailable_from"] = "11:00"
    problem = parse_problem(day)
    plan = plan_day(problem, params=QUICK)
    assert plan.kpis is not None and plan.kpis.assigned == 3
    assert plan.kpis.utilisation == round(150 / 180, 4)
    document = plan_document(problem, plan, plan_id="pl_k", version=1, created_at=datetime.now(UTC))
    assert document.routes[0].utilisation == round(150 / 180, 4)


def test_the_serializer_shapes_the_kpis_it_is_given_and_computes_none() -> None:
    problem = parse_problem(line_day())
    plan = plan_day(problem, params=QUICK)
    document = plan_document(problem, plan, plan_id="pl_k", version=1, created_at=datetime.now(UTC))
    assert document.kpis.assigned == 3 and document.kpis.distance_km == pytest.approx(30.0)
    with pytest.raises(InternalError, match="without its KPIs"):
        plan_document(
            problem,
            replace(plan, kpis=None),
            plan_id="pl_k",
            version=1,
            created_at=datetime.now(UTC),
        )


def test_the_latest_arrival_is_the_earliest_in_real_time_the_night_clocks_go_back() -> None:
    # Paris, 2026-10-25: a window ending 02:45 (CEST, 00:45 UTC) and a deadline at the second
    # 02:30 (CET, 01:30 UTC). min() of one zone compares wall clocks and took the deadline,
    # so an arrival at 02:50 CEST read as on time.
    paris = ZoneInfo("Europe/Paris")
    window = TimeWindow(
        datetime(2026, 10, 25, 1, 0, tzinfo=paris), datetime(2026, 10, 25, 2, 45, tzinfo=paris)
    )
    deadline = datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=paris)
    visit = replace(
        parse_problem(line_day()).visits[0], appointment=None, window=window, deadline=deadline
    )
    assert isinstance(visit, Visit)
    assert visit.latest_arrival == window.end


def test_an_urgent_fault_left_unserved_is_not_reached_within_the_response_time() -> None:
    # Two faults called in at 08:00, two hours of work each, one technician: one reached by
    # 10:00, the other left out. Over the served ones only, the rate read 100 %.
    day = line_day()
    for visit in day["visits"][:2]:
        visit.update(priority="urgent", reported_at="08:00", duration_min=120)
    problem = parse_problem(day)
    plan = plan_day(problem, params=QUICK)
    assert [u.visit_id for u in plan.unassigned] == ["V2"]
    kpis = plan.kpis
    assert kpis is not None and kpis.assigned_by_priority["urgent"] == (2, 1)
    assert (kpis.urgent_reached_in_time, kpis.urgent_faults) == (1, 2)
    assert kpis.urgent_within_response == 0.5
    document = plan_document(problem, plan, plan_id="pl_k", version=1, created_at=datetime.now(UTC))
    assert (document.kpis.urgent_reached_in_time, document.kpis.urgent_faults) == (1, 2)
