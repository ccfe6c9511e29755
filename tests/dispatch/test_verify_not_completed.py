"""The checker and stops left before their planned departure: a visit the technician could not
complete, listed in ``unassigned`` (code ``not_completed``) and, as its attempt, a done stop of
the route, left when reported; a visit reported started early, left its duration later, and
an overrun past that reported late not held against the plan; the drive into a stop reported
reached, not checked."""

from __future__ import annotations

from typing import Any

from tests.dispatch.test_verify import T, codes, first_route, plan, problem


def attempted(status: str = "done") -> dict[str, Any]:
    """The hand-made plan with V2 attempted and not completed: left at 10:05, not 10:30."""
    result = plan()
    second = result["routes"][0]["stops"][1]
    second.update(status=status, actual_arrival=T.format("10:00"))
    second["actual_departure"] = T.format("10:05")
    result["unassigned"].append(
        {"visit_id": "V2", "code": "not_completed", "reason": "could not be completed (no part)"}
    )
    result["kpis"]["assigned"] -= 1  # a stop made, not a visit served
    return result


def test_a_visit_not_completed_is_unassigned_and_its_attempt_a_done_stop() -> None:
    assert codes(problem(), attempted()) == set()
    counted = attempted()
    counted["kpis"]["assigned"] += 1  # the attempt counted as a visit served
    assert codes(problem(), counted) == {("kpi", "")}


def test_its_attempt_must_be_done_and_made_once() -> None:
    assert codes(problem(), attempted("in_progress")) == {("coverage", "V2")}
    twice = attempted()
    twice["routes"][0]["stops"].append(dict(twice["routes"][0]["stops"][1]))
    assert ("coverage", "V2") in codes(problem(), twice)
    # Any other code still means "in exactly one of the two".
    other = attempted()
    other["unassigned"][-1]["code"] = "cancelled"
    assert ("coverage", "V2") in codes(problem(), other)


def test_a_stop_left_early_is_checked_from_the_time_it_was_left() -> None:
    # A break from 10:10, while V2 was planned until 10:30: fine once V2 was left at 10:05.
    early = attempted()
    early["routes"][0]["breaks"] = [{"start": T.format("10:10"), "end": T.format("10:40")}]
    day = problem()
    day["technicians"][0]["breaks"][0]["start"] = "10:00"
    assert codes(day, early) == set()
    planned = attempted()
    planned["routes"][0]["stops"][1].pop("actual_departure")
    planned["routes"][0]["breaks"] = [{"start": T.format("10:10"), "end": T.format("10:40")}]
    assert ("break", "V2") in codes(day, planned)


def test_a_stop_started_early_and_not_left_is_left_its_duration_after_the_start() -> None:
    # V2 (30 min) under way since 09:35, not 10:00 as planned: the re-plan has its technician
    # free at 10:05, so a break from 10:10 is after it, not over it.
    started = plan()
    second = started["routes"][0]["stops"][1]
    second.update(status="in_progress", actual_start=T.format("09:35"))
    started["routes"][0]["breaks"] = [{"start": T.format("10:10"), "end": T.format("10:40")}]
    day = problem()
    day["technicians"][0]["breaks"][0]["start"] = "10:00"
    assert codes(day, started) == set()
    second["actual_start"] = T.format("09:50")  # free at 10:20: the break is over the work
    assert ("break", "V2") in codes(day, started)


def test_the_drive_into_a_stop_reported_reached_is_not_checked() -> None:
    # V2 reached at 09:35 after V1 was left at 09:30, ten minutes away: a plan's leg too short,
    # unless the arrival was reported (a phone's late tap on V1, a clock minutes off): then it
    # happened, and it is no rule of the plan.
    early = plan()
    first_route(early)["stops"][1].update(arrival=T.format("09:35"))
    assert ("travel", "V2") in codes(problem(), early)
    first_route(early)["stops"][1].update(status="arrived", actual_arrival=T.format("09:35"))
    assert ("travel", "V2") not in codes(problem(), early)
    # Reported left only (a driver who taps Done alone, or a report of a stop done out of the
    # plan's order): it was reached too.
    left = plan()
    first_route(left)["stops"][1].update(arrival=T.format("09:35"))
    first_route(left)["stops"][1].update(status="done", actual_departure=T.format("10:05"))
    assert ("travel", "V2") not in codes(problem(), left)


def test_an_overrun_reported_after_the_next_stop_was_taken_as_reached_is_not_the_plan_s() -> None:
    # V1 reported started at 08:20, out of the plan's order (its planned times, 11:00-11:30,
    # are those of a later place); the re-plan took V2 as under way from 10:00, as planned.
    # A phone offline then sent that V1 was left at 09:55: an overrun past 08:50 the plan
    # could not know, not a drive too short into V2.
    overran = plan()
    first, second = first_route(overran)["stops"]
    first.update(
        arrival=T.format("11:00"),
        service_start=T.format("11:00"),
        departure=T.format("11:30"),
        status="done",
        actual_start=T.format("08:20"),
    )
    second["status"] = "in_progress"
    first_route(overran)["breaks"] = []
    day = problem()
    day["technicians"][0].pop("breaks", None)
    assert ("travel", "V2") not in codes(day, overran)
    first["actual_departure"] = T.format("09:55")
    assert ("travel", "V2") not in codes(day, overran)
    # Without the start reported, the departure is all there is: V2 is not reached by 10:00.
    first.pop("actual_start")
    assert ("travel", "V2") in codes(day, overran)
