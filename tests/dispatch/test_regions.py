"""A day of several regions is found before any matrix, planned region by region, and joined
into one plan that the independent checker accepts, with the reasons of the whole day."""

from __future__ import annotations

import random
import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from geopy.distance import geodesic, great_circle

from benchmarks.big_days import region_day
from dispatch.contract.serialize import plan_document
from dispatch.contract.validate import parse_problem
from dispatch.model import Plan, Problem, TechnicianId, WithoutRoute
from dispatch.planning import SolveParams, day, plan_day
from dispatch.planning.regions import regions
from dispatch.travel import pair_lookup, provider_for
from dispatch.verify import check_plan
from solver import solve


def test_regions_follow_service_centres_and_leave_the_unservable_to_everyone() -> None:
    problem = parse_problem(region_day(1500, 3))
    found = regions(problem)
    prefix = [
        {problem.technicians[t].id.split("-")[0] for t in region.technicians} for region in found
    ]
    centres = [p for p in prefix if len(p) == 1]
    assert sorted(min(p) for p in centres) == ["R1", "R2", "R3"]
    for region, names in zip(found, prefix, strict=True):
        if len(names) == 1:  # a centre's region holds its own customers only
            assert all(problem.visits[i].id.split("-")[0] in names for i in region.visits)
    unservable = [r for r, names in zip(found, prefix, strict=True) if len(names) == 3]
    assert [len(r.technicians) for r in unservable] == [len(problem.technicians)]
    covered = sorted(i for region in found for i in region.visits)
    assert covered == list(range(len(problem.visits)))


def test_a_visit_just_inside_a_base_s_radius_is_in_that_base_s_region() -> None:
    # 99.7 km north of a base at latitude 23 on the ellipsoid, 100.1 km by haversine: the
    # split put it in the group nobody could serve, planned with every technician, where the
    # screening (on the ellipsoid) gave it to that technician; the joined plan had them on
    # two routes at once.
    raw = region_day(1500, 3)
    problem = parse_problem(raw)
    top = max(
        (t for t in problem.technicians if t.id.startswith("R2-") and t.home.location),
        key=lambda t: t.home.location.lat if t.home.location else 0.0,
    )
    assert top.home.location is not None
    radius = top.service_radius_km or problem.policy.service_radius_km
    base = (top.home.location.lat, top.home.location.lon)
    edge = geodesic(kilometers=radius - 0.3).destination(base, 0)
    assert great_circle(base, (edge.latitude, edge.longitude)).km > radius  # by haversine
    raw["visits"].append(
        {
            "id": "EDGE",
            "location": {"lat": edge.latitude, "lon": edge.longitude},
            "duration_min": 20,
            "required_skills": sorted(top.skills),
        }
    )
    problem = parse_problem(raw)
    edge_index = len(problem.visits) - 1
    technicians = top.id.split("-")[0]
    (holding,) = [r for r in regions(problem) if edge_index in r.visits]
    assert {problem.technicians[t].id.split("-")[0] for t in holding.technicians} == {technicians}


def test_a_technician_without_a_route_is_listed_once_in_the_joined_plan() -> None:
    # The group nobody could serve is planned with every technician: one who cannot make
    # their day was listed by their region and again by that group.
    stranded = WithoutRoute(TechnicianId("R1-T01"), "their shift is too short for the drive")
    plans = [
        Plan(routes=(), unassigned=(), solve_s=0.0, without_route=(stranded,)),
        Plan(routes=(), unassigned=(), solve_s=0.0),
        Plan(routes=(), unassigned=(), solve_s=0.0, without_route=(stranded,)),
    ]
    problem = parse_problem(region_day(120, 3))
    joined = day.join_regions(problem, plans, 1.0)
    assert joined.without_route == (stranded,)


def test_two_centres_of_three_trades_each_are_two_regions() -> None:
    # Each centre's trades (80 visits each) were groups too small for a search of their own,
    # so no region was left and the day of two centres 300 km apart was planned as one.
    rng = random.Random(3)
    technicians, visits = [], []
    for k, (lat, lon) in enumerate([(22.82, 113.80), (22.82, 116.70)]):
        for trade in ("water_heater", "aircon", "cctv"):
            for t in range(5):
                base = {"lat": lat + rng.uniform(-0.1, 0.1), "lon": lon + rng.uniform(-0.1, 0.1)}
                technicians.append(
                    {"id": f"R{k}-{trade}-{t}", "skills": [trade], "start": base,
                     "shift": {"start": "08:00", "end": "18:00"}}
                )  # fmt: skip
            for i in range(80):
                site = {
                    "lat": lat + rng.uniform(-0.25, 0.25),
                    "lon": lon + rng.uniform(-0.25, 0.25),
                }
                visits.append(
                    {"id": f"R{k}-{trade}-V{i}", "location": site, "duration_min": 30,
                     "required_skills": [trade]}
                )  # fmt: skip
    problem = parse_problem({"date": "2026-11-23", "technicians": technicians, "visits": visits})
    found = regions(problem)
    centres = [{problem.technicians[t].id[:2] for t in region.technicians} for region in found]
    assert sorted(map(sorted, centres)) == [["R0"], ["R1"]]
    assert [len(region.visits) for region in found] == [240, 240]
    one = parse_problem(
        {"date": "2026-11-23", "technicians": technicians[:15], "visits": visits[:240]}
    )
    assert len(regions(one)) == 1  # one centre's trades stay one day


def test_a_day_whose_visits_need_parts_from_depots_stays_whole() -> None:
    # Depot stock is shared by every route of the day: regions planned apart would each see
    # all of it and could take the same unit twice.
    raw = region_day(1500, 3)
    assert len(regions(parse_problem(raw))) > 1
    first = raw["visits"][0]["location"]
    raw["depots"] = [
        {
            "id": "D1",
            "location": first,
            "opening": {"start": "07:00", "end": "19:00"},
            "stock": [{"part": "TH-9", "quantity": 2}],
        }
    ]
    raw["visits"][0]["parts"] = [{"part": "TH-9"}]
    whole = regions(parse_problem(raw))
    assert [(len(r.technicians), len(r.visits)) for r in whole] == [
        (len(raw["technicians"]), len(raw["visits"]))
    ]


def test_one_centre_is_one_region_and_so_are_small_groups() -> None:
    assert len(regions(parse_problem(region_day(400, 1)))) == 1
    assert len(regions(parse_problem(region_day(120, 3)))) == 1  # 40 visits a centre


def test_a_day_of_regions_is_one_checked_plan() -> None:
    raw = region_day(660, 3)
    problem = parse_problem(raw)
    plan = plan_day(problem, params=SolveParams(time_limit_s=6))
    document = plan_document(
        problem, plan, plan_id="pl_regions", version=1, created_at=datetime.now(UTC)
    ).model_dump(mode="json")
    report = check_plan(raw, document, pair_lookup(provider_for(problem)))
    assert report.violations == ()
    served = {s["visit_id"] for r in document["routes"] for s in r["stops"]}
    left = {u["visit_id"] for u in document["unassigned"]}
    assert served | left == {v.id for v in problem.visits} and not served & left
    for route in document["routes"]:  # nobody crosses to another region
        prefix = route["technician_id"].split("-")[0]
        assert all(stop["visit_id"].startswith(prefix) for stop in route["stops"])
    assert plan.kpis is not None and plan.kpis.visits == len(problem.visits)
    far = [u for u in document["unassigned"] if u["code"] == "radius"]
    assert far, "the generated days have customers beyond every radius"


def test_the_checker_asks_a_big_days_legs_one_by_one_not_a_matrix_of_every_pair() -> None:
    from dataclasses import replace

    from dispatch.desk.solve import CHECKER_MATRIX_MAX_PLACES, checker_places

    problem = parse_problem(region_day(400, 1))
    places = checker_places(problem)
    assert places and len(places) == len(set(places))  # each place once
    many = replace(problem, visits=problem.visits * (CHECKER_MATRIX_MAX_PLACES // 400 + 1))
    spread = replace(
        many,
        visits=tuple(
            replace(v, site=replace(v.site, location=replace(v.site.location, lat=k * 1e-4)))
            for k, v in enumerate(many.visits)
            if v.site.location
        ),
    )
    assert checker_places(spread) == []


def test_regions_go_smallest_first_and_the_time_one_leaves_goes_to_the_next(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    problem = parse_problem(region_day(1500, 3))
    sizes = sorted(len(region.visits) for region in regions(problem))
    assert len(sizes) > 2 and sizes[0] < sizes[-1]
    given: list[tuple[int, float]] = []
    plan_whole = day._plan_whole

    def quick(part: Problem, provider: Any, params: SolveParams, *rest: Any) -> Plan:
        # Each region's search ends within a second, whatever its share (it stalled).
        given.append((len(part.visits), params.time_limit_s))
        return plan_whole(part, provider, replace(params, time_limit_s=1.0), *rest)

    monkeypatch.setattr(day, "_plan_whole", quick)
    budget_s = 60.0
    plan = plan_day(problem, params=SolveParams(time_limit_s=budget_s))
    assert [visits for visits, _ in given] == sizes
    total = sum(sizes)
    for k, (visits, share_s) in enumerate(given):
        fair_s = budget_s * visits / total  # its share had every region taken all of its own
        assert share_s > fair_s if k else share_s == pytest.approx(fair_s, rel=0.01)
    assert plan.kpis is not None and plan.kpis.visits == len(problem.visits)


def test_a_day_of_many_regions_keeps_to_a_short_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    # Each of five regions was given at least MIN_SEARCH_S of its own: a 2 s day took 6 s.
    problem = parse_problem(region_day(1000, 4))
    assert len(regions(problem)) == 5
    started = time.monotonic()
    ends: list[float] = []

    def timed(instance: Any, params: SolveParams, **kwargs: Any) -> Any:
        ends.append(time.monotonic() - started + params.time_limit_s)
        return solve(instance, params, **kwargs)

    monkeypatch.setattr("dispatch.planning.day.solve", timed)
    budget_s = 2.0
    plan = plan_day(problem, params=SolveParams(time_limit_s=budget_s))
    assert len(ends) == 5
    # Every region's search is set to end inside the budget, less the least search
    # (MIN_SEARCH_S) the regions share.
    assert max(ends) <= budget_s + day.MIN_SEARCH_S
    assert plan.kpis is not None and plan.kpis.visits == len(problem.visits)
