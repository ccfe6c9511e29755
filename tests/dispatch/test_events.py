"""Events of the day (``dispatch.replanning.events``): reading a batch, checking it against the
day and its plan, and folding it into the day, as planned (the domain ``Problem``) and as
stored (its JSON), the two alike.

The plan is written by hand (no solver): on the line day, T1 serves V1 08:10-08:40,
V2 08:50-09:20 and V4 (an appointment at 11:00) 11:00-11:30; V3 and V5 are unassigned.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from dispatch.contract.validate import END_OF_DAY, parse_problem
from dispatch.errors import FieldError, InputError
from dispatch.model import (
    DepotId,
    DepotStop,
    PartQuantity,
    Plan,
    Route,
    Stop,
    StopStatus,
    TechnicianId,
    Unassigned,
    UnassignedCode,
    VisitId,
)
from dispatch.replanning.events import (
    EventBatch,
    VisitProgress,
    apply_to_problem,
    apply_to_problem_json,
    parse_events,
    read_batch,
)
from tests.conftest import line_day

ZONE = ZoneInfo("Asia/Shanghai")


def at(clock: str) -> datetime:
    hours, minutes = map(int, clock.split(":"))
    return datetime(2026, 11, 23, hours, minutes, tzinfo=ZONE)


def day() -> dict[str, Any]:
    raw = line_day()
    raw["technicians"].append(
        {"id": "T2", "skills": ["gas"], "location_index": 0,
         "shift": {"start": "08:00", "end": "18:00"}}
    )  # fmt: skip
    raw["visits"][1]["window"] = {"start": "08:00", "end": "17:00"}
    raw["visits"] += [
        {"id": "V4", "location_index": 2, "duration_min": 30, "appointment": "11:00",
         "required_skills": ["water_heater"]},
        {"id": "V5", "location_index": 3, "duration_min": 30, "crew_size": 2},
    ]  # fmt: skip
    return raw


def stop(
    visit_id: str,
    arrival: str,
    service: str,
    status: StopStatus = StopStatus.PLANNED,
    **actual: datetime,
) -> Stop:
    return Stop(
        visit_id=VisitId(visit_id),
        arrival=at(arrival),
        service_start=at(service),
        departure=at(service) + timedelta(minutes=30),
        travel=timedelta(minutes=10),
        distance_km=5.0,
        early=timedelta(0),
        late=timedelta(0),
        wait=timedelta(0),
        status=status,
        **actual,  # type: ignore[arg-type]
    )


def plan(*, v1: Stop | None = None, v3: UnassignedCode = UnassignedCode.NO_ROOM) -> Plan:
    stops = (v1 or stop("V1", "08:10", "08:10"), stop("V2", "08:50", "08:50"),
             stop("V4", "10:50", "11:00"))  # fmt: skip
    route = Route(
        technician_id=TechnicianId("T1"),
        start_time=at("08:00"),
        end_time=at("11:50"),
        stops=stops,
        breaks=(),
        distance_km=20.0,
        travel=timedelta(minutes=40),
        service=timedelta(minutes=90),
        wait=timedelta(0),
    )
    unassigned = (
        Unassigned(VisitId("V3"), v3, "no room" if v3 is UnassignedCode.NO_ROOM else "cancelled"),
        Unassigned(VisitId("V5"), UnassignedCode.CREW_SIZE, "needs a crew of 2"),
    )
    return Plan(routes=(route,), unassigned=unassigned)


def replanned_at_0930() -> Plan:
    """A later version: V1 done (08:12-09:10), V3 cancelled, re-planned at 09:30."""
    done = stop(
        "V1", "08:10", "08:10", StopStatus.DONE,
        actual_arrival=at("08:12"), actual_departure=at("09:10"),
    )  # fmt: skip
    return Plan(
        routes=plan(v1=done).routes,
        unassigned=plan(v3=UnassignedCode.CANCELLED).unassigned,
        at=at("09:30"),
    )


def parse(
    events: list[dict[str, Any]], when: str = "10:00", base: Plan | None = None
) -> EventBatch:
    raw = day()
    return parse_events({"at": when, "events": events}, raw, parse_problem(raw), base or plan())


def errors_of(
    events: list[dict[str, Any]], when: str = "10:00", base: Plan | None = None
) -> list[FieldError]:
    with pytest.raises(InputError) as caught:
        parse(events, when, base)
    assert caught.value.what == "events"
    return list(caught.value.errors)


def test_visit_progress_status_follows_the_last_report() -> None:
    assert VisitProgress().status is StopStatus.PLANNED
    assert VisitProgress(arrived=at("09:00")).status is StopStatus.ARRIVED
    assert VisitProgress(at("09:00"), at("09:05")).status is StopStatus.IN_PROGRESS
    assert VisitProgress(at("09:00"), at("09:05"), at("09:40")).status is StopStatus.DONE
    assert VisitProgress(departed=at("09:40")).status is StopStatus.DONE


def test_a_batch_of_every_kind_is_sorted_by_visit_and_technician() -> None:
    raw = day()
    events: list[dict[str, Any]] = [
        {"type": "arrived", "visit_id": "V1", "at": "08:12"},
        {"type": "started", "visit_id": "V1", "at": "08:15"},
        {"type": "completed", "visit_id": "V1", "at": "08:45"},
        {"type": "arrived", "visit_id": "V2"},
        {"type": "delay", "technician_id": "T1", "minutes": 10, "reason": "traffic"},
        {"type": "delay", "technician_id": "T1", "minutes": 5, "reason": "flat tyre"},
        {"type": "cancelled", "visit_id": "V3", "reason": "not home"},
        {"type": "moved", "visit_id": "V4", "appointment": "15:00"},
        {"type": "unavailable", "technician_id": "T2", "reason": "ill"},
        {"type": "new_visit", "visit": {"id": "V9", "location_index": 1, "duration_min": 20,
                                        "priority": "urgent"}},
    ]  # fmt: skip
    document = {"at": "10:00", "version": 1, "events": events}
    batch = parse_events(document, raw, parse_problem(raw), plan())
    assert (batch.at, batch.version, batch.raw) == (at("10:00"), 1, document)
    assert batch.progress == {
        "V1": VisitProgress(at("08:12"), at("08:15"), at("08:45")),
        "V2": VisitProgress(arrived=at("10:00")),  # no clock: the batch's time
    }
    # Delays add up; the last reason is kept.
    assert batch.delays == {"T1": timedelta(minutes=15)}
    assert batch.delay_reasons == {"T1": "flat tyre"}
    assert batch.cancelled == {"V3": "not home"}
    assert batch.unavailable == {"T2": "ill"}
    assert list(batch.moved) == ["V4"]
    assert (batch.moved[VisitId("V4")].appointment, batch.moved[VisitId("V4")].window) == (
        "15:00",
        None,
    )
    (row,) = batch.new_visits
    # An urgent visit reported without a time is reported now: its response clock starts.
    assert (row["id"], row["priority"], row["reported_at"], row["duration_min"]) == (
        "V9",
        "urgent",
        "10:00",
        20,
    )


def test_bad_events_are_all_named_by_index_and_id() -> None:
    # Against the version re-planned at 09:30 (V1 done at 09:10, V3 cancelled).
    events: list[dict[str, Any]] = [
        {"type": "completed", "visit_id": "V404"},
        {"type": "delay", "technician_id": "T9", "minutes": 5},
        {"type": "departed", "visit_id": "V2", "at": "09:00"},
        {"type": "completed", "visit_id": "V1"},
        {"type": "started", "visit_id": "V3"},
        {"type": "started", "visit_id": "V2", "at": "10:30"},
        {"type": "cancelled", "visit_id": "V1"},
        {"type": "moved", "visit_id": "V2", "appointment": "15:00"},
        {"type": "moved", "visit_id": "V4"},
        {"type": "moved", "visit_id": "V4", "appointment": "15:00",
         "window": {"start": "13:00", "end": "14:00"}},
        {"type": "moved", "visit_id": "V4", "technician_id": "T2"},
        {"type": "moved", "visit_id": "V5", "technician_id": "T1"},
        {"type": "moved", "visit_id": "V4", "appointment": "09:45"},
        {"type": "moved", "visit_id": "V4", "window": {"start": "08:00", "end": "09:59"}},
        {"type": "unavailable", "technician_id": "T7"},
        {"type": "new_visit", "visit": {"id": "V1", "location_index": 1, "duration_min": 10}},
        {"type": "new_visit", "visit": {"id": "V8", "location_index": 1, "duration_min": 10,
                                        "window": {"start": "12:00", "end": "11:00"}}},
        {"type": "new_visit", "visit": {"id": "V7", "location_index": 9, "duration_min": 10}},
    ]  # fmt: skip
    assert errors_of(events, base=replanned_at_0930()) == [
        FieldError("events[0]", "unknown visit 'V404'", "V404"),
        FieldError("events[1]", "unknown technician 'T9'", "T9"),
        FieldError("events[2]", "09:00 is before the previous re-plan at 09:30", "V2"),
        FieldError("events[3]", "V1 was already completed at 09:10", "V1"),
        FieldError("events[4]", "V3 was cancelled", "V3"),
        FieldError("events[5]", "10:30 is after the batch's time 10:00", "V2"),
        FieldError("events[5]", "V2 was already completed at 09:00", "V2"),  # events[2]
        FieldError("events[6]", "V1 is done or under way; it cannot be cancelled", "V1"),
        FieldError("events[7]", "V2 is done or under way; it cannot be moved", "V2"),
        FieldError("events[8]", "say where to move it: technician_id, appointment or window", "V4"),
        FieldError("events[9]", "give either an appointment or a window, not both", "V4"),
        FieldError("events[10]", "T2 lacks skill 'water_heater'", "V4"),
        FieldError("events[11]", "needs a crew of 2; T1 works in a crew of 1", "V5"),
        FieldError("events[12]", "09:45 has already passed (10:00)", "V4"),
        FieldError("events[13]", "09:59 has already passed (10:00)", "V4"),
        FieldError("events[14]", "unknown technician 'T7'", "T7"),
        FieldError("events[15]", "duplicate visit id 'V1'", "V1"),
        # A new visit is checked by the problem's own rules, its path inside the event.
        FieldError("events[16].visit.window.end", "11:00 is before start 12:00", "V8"),
        FieldError(
            "events[17].visit.location_index", "9 is outside the travel matrix (size 4)", "V7"
        ),
    ]


def test_an_error_reads_with_its_index_and_id() -> None:
    with pytest.raises(InputError) as caught:
        parse([{"type": "completed", "visit_id": "V404"}, {"type": "arrived", "visit_id": "V3"}])
    assert str(caught.value) == (
        "invalid events: 2 errors\n"
        "  - events[0] (V404): unknown visit 'V404'\n"
        "  - events[1] (V3): V3 is on no technician's route; move it to a technician first"
    )


def test_a_batch_before_the_last_replan_is_refused_at_its_time() -> None:
    found = errors_of(
        [{"type": "delay", "technician_id": "T1", "minutes": 5}], "09:00", replanned_at_0930()
    )
    assert found == [
        FieldError(
            "at",
            "09:00 is before the plan's last re-plan at 09:30; events must move forward in time",
        )
    ]
    assert str(found[0]).startswith("at: 09:00 is before")


def test_reports_at_one_visit_must_follow_each_other() -> None:
    arrived = stop("V1", "08:10", "08:10", StopStatus.ARRIVED, actual_arrival=at("08:12"))
    found = errors_of(
        [
            {"type": "started", "visit_id": "V1", "at": "08:11"},  # arrived 08:12 (the plan)
            {"type": "arrived", "visit_id": "V2", "at": "08:50"},
            {"type": "started", "visit_id": "V2", "at": "08:49"},
            {"type": "completed", "visit_id": "V2", "at": "08:48"},  # started 08:49 (just above)
        ],
        base=plan(v1=arrived),
    )
    assert found == [
        FieldError("events[0]", "started before it arrived (08:11)", "V1"),
        FieldError("events[2]", "started before it arrived (08:49)", "V2"),
        FieldError("events[3]", "completed before it started (08:48)", "V2"),
    ]


def test_a_report_that_moves_one_already_taken_is_refused_the_same_sent_again_is_not() -> None:
    # V1 started at 08:12 (stored); a late report said it started at 12:01, hours after T1
    # had gone on: the stop's times moved, and its next leg could not be driven.
    started = stop("V1", "08:10", "08:10", StopStatus.IN_PROGRESS, actual_start=at("08:12"))
    base = plan(v1=started)
    again = [{"type": "started", "visit_id": "V1", "at": "08:12"}]
    assert parse(again, base=base).progress[VisitId("V1")].started == at("08:12")
    moved = [{"type": "started", "visit_id": "V1", "at": "09:01"}]
    assert errors_of(moved, base=base) == [
        FieldError("events[0]", "V1 was already reported started at 08:12", "V1")
    ]
    arrived = [{"type": "arrived", "visit_id": "V2", "at": "08:50"}]
    assert errors_of([*arrived, {**arrived[0], "at": "08:55"}]) == [
        FieldError("events[1]", "V2 was already reported arrived at 08:50", "V2")
    ]
    # Done (or left) sent again at its time is taken too: it was refused as "already
    # completed" (a fresh-eyes hunt of the desk); at another time it still is.
    done = stop("V1", "08:10", "08:10", StopStatus.DONE, actual_departure=at("08:40"))
    for kind in ("completed", "departed"):
        same = {"type": kind, "visit_id": "V1", "at": "08:40"}
        assert parse([same], base=plan(v1=done)).progress[VisitId("V1")].departed == at("08:40")
        assert errors_of([{**same, "at": "08:45"}], base=plan(v1=done)) == [
            FieldError("events[0]", "V1 was already completed at 08:40", "V1")
        ]


def test_reports_that_put_a_technician_at_two_visits_at_once_are_refused() -> None:
    # T1 reached V1 at 08:10 and V2 at 08:50: a late tap leaving V1 that overlaps V2 by a few
    # minutes is taken, by hours is refused, naming the event that came last.
    reached = [
        {"type": "arrived", "visit_id": "V1", "at": "08:10"},
        {"type": "arrived", "visit_id": "V2", "at": "08:50"},
    ]
    left = {"type": "completed", "visit_id": "V1"}
    assert parse([*reached, {**left, "at": "09:00"}], "09:30").progress[VisitId("V1")].departed
    two_doors = (
        "T1 would be at V1 {} and at V2 {}: one visit at a time (reports may overlap by 15 "
        "min, a late tap)"
    )
    assert errors_of([*reached, {**left, "at": "11:20"}], "11:30") == [
        FieldError("events[2]", two_doors.format("08:10-11:20", "at 08:50"), "V1")
    ]
    # In either order: V2 taken first, then V1 from 09:20 (the technician swapped them) ...
    swapped = [
        {"type": "arrived", "visit_id": "V2", "at": "08:20"},
        {"type": "completed", "visit_id": "V2", "at": "09:10"},
        {"type": "arrived", "visit_id": "V1", "at": "09:20"},
    ]
    assert parse(swapped, "09:30").progress[VisitId("V1")].arrived == at("09:20")
    # ... but not V1 reached at 08:45, at V2 from 08:20 to 09:10, whatever the events' order.
    inside = {"type": "arrived", "visit_id": "V1", "at": "08:45"}
    assert [(e.path, e.entity_id) for e in errors_of([*swapped[:2], inside], "09:30")] == [
        ("events[2]", "V1")
    ]
    assert [(e.path, e.entity_id) for e in errors_of([inside, *swapped[:2]], "09:30")] == [
        ("events[2]", "V2")
    ]
    # Reports stored in an earlier version are judged against the batch's, not again alone.
    started = stop("V1", "08:10", "08:10", StopStatus.IN_PROGRESS, actual_start=at("08:12"))
    late = [{"type": "completed", "visit_id": "V1", "at": "10:40"}]
    assert parse(late, "11:00", base=plan(v1=started)).progress[VisitId("V1")].departed
    assert errors_of([reached[1], *late], "11:00", base=plan(v1=started)) == [
        FieldError("events[1]", two_doors.format("08:12-10:40", "at 08:50"), "V1")
    ]
    # A visit reached and not left is there until the next report elsewhere: V2 tapped
    # reached at 08:15 by mistake, V1 then reported left at 08:45 (V2 from 08:15 on, 30 min
    # together) was taken, and V2 could be closed by no report after it.
    mistake = {"type": "arrived", "visit_id": "V2", "at": "08:15"}
    assert errors_of([reached[0], mistake, {**left, "at": "08:45"}], "08:50") == [
        FieldError("events[2]", two_doors.format("08:10-08:45", "at 08:15"), "V1")
    ]
    assert errors_of([mistake, {**left, "at": "08:45"}], "08:50", base=plan(v1=started)) == [
        FieldError("events[1]", two_doors.format("08:12-08:45", "at 08:15"), "V1")
    ]


def test_progress_already_in_the_plan_carries_into_the_batch() -> None:
    arrived = stop("V1", "08:10", "08:10", StopStatus.ARRIVED, actual_arrival=at("08:12"))
    batch = parse([{"type": "completed", "visit_id": "V1", "at": "08:50"}], base=plan(v1=arrived))
    assert batch.progress == {"V1": VisitProgress(arrived=at("08:12"), departed=at("08:50"))}
    assert batch.progress[VisitId("V1")].status is StopStatus.DONE


def test_a_visit_cancelled_or_added_in_the_batch_is_known_to_later_events() -> None:
    found = errors_of(
        [
            {"type": "cancelled", "visit_id": "V2"},
            {"type": "arrived", "visit_id": "V2"},
            {"type": "arrived", "visit_id": "V1"},
            {"type": "cancelled", "visit_id": "V1"},
            {"type": "new_visit", "visit": {"id": "V9", "location_index": 1, "duration_min": 10}},
            {"type": "new_visit", "visit": {"id": "V9", "location_index": 2, "duration_min": 10}},
        ],
        when="08:45",  # before the plan reaches V2 at 08:50
    )
    assert found == [
        FieldError("events[1]", "V2 was cancelled", "V2"),
        FieldError("events[3]", "V1 is done or under way; it cannot be cancelled", "V1"),
        FieldError("events[5]", "duplicate visit id 'V9'", "V9"),
    ]


def test_a_visit_the_plan_has_reached_cannot_be_cancelled_or_moved_unless_gone_past() -> None:
    # Nothing reported at 09:00: the plan had T1 at V2 from 08:50, so V2 is taken as under way
    # and stays on the route; cancelled too, it was once on the route and once in unassigned.
    taken = (
        "V2 is taken as under way or done: the plan had T1 there at 08:50 and nothing says "
        "otherwise, so it cannot be {}; report it completed or not_completed"
    )
    cancel = {"type": "cancelled", "visit_id": "V2"}
    move = {"type": "moved", "visit_id": "V2", "appointment": "15:00"}
    assert errors_of([cancel], "09:00") == [
        FieldError("events[0]", taken.format("cancelled"), "V2")
    ]
    assert errors_of([move], "09:00") == [FieldError("events[0]", taken.format("moved"), "V2")]
    # Judged with the whole batch: T1 reported 15 minutes late reaches V2 at 09:05 ...
    late = {"type": "delay", "technician_id": "T1", "minutes": 15}
    assert parse([cancel, late], "09:00").cancelled == {"V2": ""}
    assert parse([late, move], "09:00").moved[VisitId("V2")].appointment == "15:00"
    # A report later in the batch makes it history too, whatever the order.
    report = {"type": "departed", "visit_id": "V2", "at": "08:58"}
    done = "V2 is done or under way; it cannot be moved"
    assert errors_of([late, move, report], "09:00") == [FieldError("events[1]", done, "V2")]
    assert errors_of([late, report, move], "09:00") == [FieldError("events[2]", done, "V2")]
    # ... and T1 at V4 since 08:55 went past V2 (planned again, so free to leave).
    arrived = {"type": "arrived", "visit_id": "V4", "at": "08:55"}
    assert parse([cancel, arrived], "09:00").cancelled == {"V2": ""}


def test_moves_unavailability_and_new_visits_are_applied_alike_to_the_day_and_its_json() -> None:
    raw = day()
    raw["technicians"].append(
        {"id": "T3", "location_index": 0, "shift": {"start": "08:00", "end": "18:00"},
         "unavailable_from": "09:30"}
    )  # fmt: skip
    before = copy.deepcopy(raw)
    events: list[dict[str, Any]] = [
        {"type": "moved", "visit_id": "V2", "appointment": "15:00"},  # had a window
        {"type": "moved", "visit_id": "V4", "technician_id": "T1",
         "window": {"start": "13:00", "end": "15:00"}},  # had an appointment
        {"type": "unavailable", "technician_id": "T2"},
        {"type": "unavailable", "technician_id": "T3"},
        {"type": "new_visit", "visit": {"id": "V9", "location_index": 1, "duration_min": 20}},
    ]  # fmt: skip
    problem = parse_problem(raw)
    # V2 waits in unassigned: one the plan had reached by 10:00 could not be moved.
    route = plan().routes[0]
    base = replace(
        plan(),
        routes=(replace(route, stops=(route.stops[0], route.stops[2])),),
        unassigned=(*plan().unassigned, Unassigned(VisitId("V2"), UnassignedCode.NO_ROOM, "")),
    )
    batch = parse_events({"at": "10:00", "events": events}, raw, problem, base)
    after = apply_to_problem_json(raw, batch)
    assert raw == before  # the stored day is not touched
    visits = {row["id"]: row for row in after["visits"]}
    assert [row["id"] for row in after["visits"]] == ["V1", "V2", "V3", "V4", "V5", "V9"]
    assert ("window" in visits["V2"], visits["V2"]["appointment"]) == (False, "15:00")
    assert "appointment" not in visits["V4"]
    assert (visits["V4"]["window"], visits["V4"]["technician"]) == (
        {"start": "13:00", "end": "15:00"},
        "T1",
    )
    # T2 stops at the batch's time; T3 was already unavailable earlier, which stays.
    assert [t.get("unavailable_from") for t in after["technicians"]] == [None, "10:00", "09:30"]
    # The stored day is plain contract input again, and it is the day that is planned.
    stored = parse_problem(after, stored=True)
    planned = apply_to_problem(problem, batch)
    assert (planned.visits, planned.technicians) == (stored.visits, stored.technicians)
    v4 = next(v for v in planned.visits if v.id == "V4")
    assert (v4.pinned_to, v4.appointment, v4.window is not None) == ("T1", None, True)
    assert planned.technicians[1].working_end == at("10:00")
    assert problem.visits == parse_problem(raw).visits  # the day it came from is untouched


def test_read_batch_checks_shapes_before_any_rule_of_the_day() -> None:
    data, wire = read_batch(b'{"at": "10:00", "events": [{"type": "cancelled", "visit_id": "V9"}]}')
    # V9 is no visit of any day, but that is a rule of the day, not of the shape.
    assert (data["at"], wire.at, len(wire.events), wire.version) == ("10:00", "10:00", 1, None)

    with pytest.raises(InputError) as caught:
        read_batch("[1, 2]")
    assert caught.value.errors == (FieldError("", "events must be a JSON object"),)

    with pytest.raises(InputError, match="not valid JSON") as caught:
        read_batch('{"at": "10:00",')
    assert caught.value.what == "events"

    with pytest.raises(InputError) as caught:
        read_batch({"at": "25:00", "events": [
            {"type": "delay", "technician_id": "T1", "minutes": 0},
            {"type": "lunch", "visit_id": "V1"}]})  # fmt: skip
    found = [(e.path, e.entity_id) for e in caught.value.errors]
    assert found == [("at", None), ("events[0].minutes", "T1"), ("events[1]", "V1")]
    assert "greater than 0" in caught.value.errors[1].message
    assert "'lunch'" in caught.value.errors[2].message


def test_a_reason_is_bounded_and_a_bad_value_is_quoted_short() -> None:
    # A delay's reason went into each change it caused and onto the call list, unbounded: one
    # 3 MB tap made a 9 MB version (a fresh-eyes hunt of the desk). The not_completed reason
    # was bounded, its error read "at most 500 items".
    with pytest.raises(InputError) as caught:
        read_batch({"at": "10:00", "events": [
            {"type": "delay", "technician_id": "T1", "minutes": 5, "reason": "x" * 501},
            {"type": "cancelled", "visit_id": "V1", "reason": "x" * 501},
            {"type": "not_completed", "visit_id": "V2", "reason": "x" * 600},
            {"type": "not_completed", "visit_id": "V3", "reason": ""},
            {"type": "delay", "technician_id": "T1", "minutes": "9" * 300}]})  # fmt: skip
    found = [(e.path, e.message) for e in caught.value.errors]
    assert found[:4] == [
        ("events[0].reason", "at most 500 characters (got 501)"),
        ("events[1].reason", "at most 500 characters (got 501)"),
        ("events[2].reason", "at most 500 characters (got 600)"),
        ("events[3].reason", "must not be empty"),
    ]
    assert found[4][0] == "events[4].minutes" and found[4][1].endswith("… (302 characters))")
    assert len(found[4][1]) < 200


# Engine bugs found while writing these tests, each fixed since: the tests below state the
# behaviour the module promises.


def test_a_visit_added_and_moved_in_one_batch_is_applied() -> None:
    # apply_to_problem used to look the moved visit up among the day's own visits only
    # (a KeyError, and a 500 from the service).
    raw = day()
    batch = parse_events(
        {"at": "10:00", "events": [
            {"type": "new_visit", "visit": {"id": "V9", "location_index": 1, "duration_min": 20}},
            {"type": "moved", "visit_id": "V9", "technician_id": "T1", "appointment": "15:00"}]},
        raw,
        parse_problem(raw),
        plan(),
    )  # fmt: skip
    after = apply_to_problem_json(raw, batch)
    assert (after["visits"][-1]["id"], after["visits"][-1]["technician"]) == ("V9", "T1")
    assert after["visits"][-1]["appointment"] == "15:00"
    added = apply_to_problem(parse_problem(raw), batch).visits[-1]
    assert (added.id, added.pinned_to, added.appointment) == ("V9", "T1", at("15:00"))


def test_a_window_moved_to_end_before_it_starts_is_refused() -> None:
    # Once caught only when the edited JSON was parsed again, as a 500 ("events produced an
    # invalid day"); the day is no longer parsed again, so the event itself is checked.
    found = errors_of(
        [{"type": "moved", "visit_id": "V3", "window": {"start": "15:00", "end": "13:00"}}]
    )
    assert found == [FieldError("events[0]", "window.end 13:00 is before start 15:00", "V3")]


def test_moving_a_new_visit_to_someone_without_its_skill_is_refused() -> None:
    found = errors_of(
        [
            {"type": "new_visit", "visit": {"id": "V9", "location_index": 1, "duration_min": 20,
                                            "required_skills": ["gas"]}},
            {"type": "moved", "visit_id": "V9", "technician_id": "T1"},
        ]
    )  # fmt: skip
    assert found == [FieldError("events[1]", "T1 lacks skill 'gas'", "V9")]


def test_an_appointment_or_report_at_24_00_in_events_is_refused_as_a_problem_s() -> None:
    # Stored, each read as 00:00 of the day (the visit left out "the appointment at 00:00"),
    # where the same visit in a problem is refused.
    new = {"id": "V9", "location_index": 1, "duration_min": 20}
    found = errors_of(
        [
            {"type": "new_visit", "visit": {**new, "appointment": "24:00"}},
            {"type": "new_visit", "visit": {**new, "id": "V8", "priority": "urgent",
                                            "reported_at": "24:00"}},
            {"type": "moved", "visit_id": "V3", "appointment": "24:00"},
        ]
    )  # fmt: skip
    assert found == [
        FieldError("events[0].visit.appointment", END_OF_DAY, "V9"),
        FieldError("events[1].visit.reported_at", END_OF_DAY, "V8"),
        FieldError("events[2].appointment", END_OF_DAY, "V3"),
    ]


def test_a_visit_moved_to_someone_off_for_the_rest_of_the_day_is_refused() -> None:
    # Accepted, the visit went back to the pool unsaid (its technician gone) and was left out
    # as "no technician is left to work the day".
    off = {"type": "unavailable", "technician_id": "T2", "reason": "ill"}
    moved = {"type": "moved", "visit_id": "V3", "technician_id": "T2"}
    assert errors_of([off, moved]) == [
        FieldError("events[1]", "T2 is off for the rest of the day", "V3")
    ]
    raw = day()
    raw["technicians"][1]["unavailable_from"] = "09:30"  # off before the batch
    with pytest.raises(InputError) as caught:
        parse_events({"at": "10:00", "events": [moved]}, raw, parse_problem(raw), plan())
    assert [e.message for e in caught.value.errors] == ["T2 is off for the rest of the day"]
    raw["technicians"][1]["unavailable_from"] = "15:00"  # still working: moved
    batch = parse_events({"at": "10:00", "events": [moved]}, raw, parse_problem(raw), plan())
    assert batch.moves[VisitId("V3")].technician == "T2"


def test_a_completion_before_the_arrival_is_refused() -> None:
    found = errors_of(
        [
            {"type": "arrived", "visit_id": "V2", "at": "09:00"},
            {"type": "completed", "visit_id": "V2", "at": "08:58"},
        ]
    )
    assert [(e.path, e.entity_id) for e in found] == [("events[1]", "V2")]


def test_an_arrival_after_the_start_is_refused() -> None:
    # Started 09:00, arrived 09:10: taken, the time card counted ten minutes twice (on the
    # way and at work) and a wait of -10 (a fresh-eyes hunt of the desk).
    started = {"type": "started", "visit_id": "V2", "at": "09:00"}
    assert errors_of([started, {"type": "arrived", "visit_id": "V2", "at": "09:10"}]) == [
        FieldError("events[1]", "arrived after it started (09:10)", "V2")
    ]
    same = parse([started, {"type": "arrived", "visit_id": "V2", "at": "09:00"}])
    assert same.progress[VisitId("V2")].arrived == at("09:00")


def test_a_report_from_before_the_visit_was_reported_is_refused() -> None:
    # A new urgent visit reported at 10:00, then "arrived at 09:00" from a phone: taken, it
    # made the stops before it done (a fresh-eyes hunt: simulated field days).
    raw = day()
    raw["visits"][1].update(priority="urgent", reported_at="09:00")
    problem = parse_problem(raw)
    early = {"type": "arrived", "visit_id": "V2", "at": "08:50"}
    with pytest.raises(InputError) as caught:
        parse_events({"at": "10:00", "events": [early]}, raw, problem, plan())
    assert list(caught.value.errors) == [
        FieldError("events[0]", "V2 was reported at 09:00: nobody was at it at 08:50", "V2")
    ]
    batch = parse_events(
        {"at": "10:00", "events": [{**early, "at": "09:05"}]}, raw, problem, plan()
    )
    assert batch.progress[VisitId("V2")].arrived == at("09:05")


def test_a_visit_not_completed_is_left_at_its_time_with_its_reason() -> None:
    arrived = stop("V1", "08:10", "08:10", StopStatus.ARRIVED, actual_arrival=at("08:12"))
    batch = parse(
        [{"type": "not_completed", "visit_id": "V1", "reason": "no part", "at": "08:30"}],
        base=plan(v1=arrived),
    )
    assert batch.not_completed == {"V1": "no part"}
    # The technician left: the stop is done for the route, with the reported times.
    assert batch.progress == {"V1": VisitProgress(arrived=at("08:12"), departed=at("08:30"))}
    assert batch.progress[VisitId("V1")].status is StopStatus.DONE


def test_a_visit_not_completed_must_be_on_a_route_and_not_over() -> None:
    found = errors_of(
        [
            {"type": "not_completed", "visit_id": "V404", "reason": "x"},
            {"type": "not_completed", "visit_id": "V3", "reason": "x"},  # cancelled at 09:30
            {"type": "not_completed", "visit_id": "V1", "reason": "x"},  # done at 09:10
            {"type": "not_completed", "visit_id": "V5", "reason": "x"},  # on no route
            {"type": "arrived", "visit_id": "V2", "at": "09:40"},
            {"type": "not_completed", "visit_id": "V2", "reason": "x", "at": "09:35"},
            {"type": "not_completed", "visit_id": "V4", "reason": "customer absent"},
            {"type": "completed", "visit_id": "V4"},
            {"type": "cancelled", "visit_id": "V4"},
        ],
        base=replanned_at_0930(),
    )
    assert found == [
        FieldError("events[0]", "unknown visit 'V404'", "V404"),
        FieldError("events[1]", "V3 was cancelled", "V3"),
        FieldError("events[2]", "V1 was already completed at 09:10", "V1"),
        FieldError(
            "events[3]", "V5 is on no technician's route; move it to a technician first", "V5"
        ),
        FieldError("events[5]", "left before it arrived (09:35)", "V2"),
        FieldError("events[7]", "V4 could not be completed and waits to be booked again", "V4"),
        FieldError("events[8]", "V4 could not be completed and waits to be booked again", "V4"),
    ]


def test_an_arrival_listed_after_the_visit_was_not_completed_is_read_by_its_time() -> None:
    # An offline phone's batch out of order: its arrival at 08:12 listed after "could not be
    # completed" at 08:30 was refused ("waits to be booked again"), though listed after a
    # completion it is taken (a hunt of re-plans after reports, 10 of 50 shuffled batches).
    left = {"type": "not_completed", "visit_id": "V1", "reason": "no part", "at": "08:30"}
    batch = parse([left, {"type": "arrived", "visit_id": "V1", "at": "08:12"}])
    assert batch.not_completed == {"V1": "no part"}
    assert batch.progress == {"V1": VisitProgress(arrived=at("08:12"), departed=at("08:30"))}
    later = errors_of([left, {"type": "arrived", "visit_id": "V1", "at": "08:40"}])
    assert [(e.path, e.entity_id) for e in later] == [("events[1]", "V1")]


def reached_v2_at_0935() -> Plan:
    """A version of 09:40: V1 done (08:12-09:10), V2 reported arrived at 09:35, V3 cancelled."""
    base = replanned_at_0930()
    route = base.routes[0]
    reached = stop("V2", "08:50", "08:50", StopStatus.ARRIVED, actual_arrival=at("09:35"))
    stops = (route.stops[0], reached, route.stops[2])
    return replace(base, routes=(replace(route, stops=stops),), at=at("09:40"))


def test_only_a_visit_reported_reached_and_not_left_can_be_taken_back() -> None:
    found = errors_of(
        [
            {"type": "retracted", "visit_id": "V404"},
            {"type": "retracted", "visit_id": "V3"},  # cancelled at 09:30
            {"type": "retracted", "visit_id": "V1"},  # done at 09:10
            {"type": "retracted", "visit_id": "V4"},  # not reached
            {"type": "retracted", "visit_id": "V5"},  # on no route
            {"type": "retracted", "visit_id": "V2", "reason": "wrong tap"},
            {"type": "arrived", "visit_id": "V2", "at": "09:50"},
        ],
        base=reached_v2_at_0935(),
    )
    assert found == [
        FieldError("events[0]", "unknown visit 'V404'", "V404"),
        FieldError("events[1]", "V3 was cancelled", "V3"),
        FieldError(
            "events[2]",
            "V1 was completed at 09:10; only a visit reported reached and not left can be "
            "taken back",
            "V1",
        ),
        FieldError(
            "events[3]", "V4 was not reported reached; there is no report to take back", "V4"
        ),
        FieldError("events[4]", "V5 is on no technician's route", "V5"),
        FieldError(
            "events[6]",
            "V2's reports are taken back in this batch; report it again in a later one",
            "V2",
        ),
    ]
    # Taken back, the visit is not reached for the rest of the batch: it may be cancelled,
    # wherever the retraction stands in the batch.
    batch = parse(
        [
            {"type": "cancelled", "visit_id": "V2", "reason": "customer called off"},
            {"type": "retracted", "visit_id": "V2", "reason": "wrong tap"},
        ],
        base=reached_v2_at_0935(),
    )
    assert batch.retracted == {"V2": "wrong tap"}
    assert batch.cancelled == {"V2": "customer called off"}
    assert "V2" not in batch.progress


def test_a_visit_not_completed_in_an_earlier_version_takes_no_more_events() -> None:
    left = stop("V1", "08:10", "08:10", StopStatus.DONE, actual_departure=at("08:30"))
    earlier = plan(v1=left)
    earlier = replace_unassigned(earlier, VisitId("V1"), UnassignedCode.NOT_COMPLETED)
    found = errors_of(
        [
            {"type": "arrived", "visit_id": "V1"},
            {"type": "moved", "visit_id": "V1", "technician_id": "T1"},
        ],
        base=earlier,
    )
    message = "V1 could not be completed and waits to be booked again"
    assert found == [FieldError("events[0]", message, "V1"), FieldError("events[1]", message, "V1")]


def replace_unassigned(base: Plan, visit_id: VisitId, code: UnassignedCode) -> Plan:
    return Plan(
        routes=base.routes,
        unassigned=(*base.unassigned, Unassigned(visit_id, code, "could not be completed")),
        at=base.at,
    )


def test_reports_sent_late_from_the_field_may_be_older_than_the_last_replan() -> None:
    # Re-planned at 09:30; a phone that was offline sends at 10:00 what it saw at 09:05-09:20.
    batch = parse(
        [
            {"type": "arrived", "visit_id": "V2", "at": "09:05"},
            {"type": "started", "visit_id": "V2", "at": "09:06"},
            {"type": "completed", "visit_id": "V2", "at": "09:20"},
            {"type": "not_completed", "visit_id": "V4", "reason": "no part", "at": "09:25"},
        ],
        base=replanned_at_0930(),
    )
    assert batch.progress == {
        "V2": VisitProgress(at("09:05"), at("09:06"), at("09:20")),
        "V4": VisitProgress(departed=at("09:25")),
    }
    # The desk's own clock times may not go back; nor may the batch's.
    assert errors_of(
        [{"type": "departed", "visit_id": "V2", "at": "09:20"}], base=replanned_at_0930()
    ) == [FieldError("events[0]", "09:20 is before the previous re-plan at 09:30", "V2")]
    assert errors_of(
        [{"type": "arrived", "visit_id": "V2", "at": "09:05"}], "09:10", replanned_at_0930()
    ) == [
        FieldError(
            "at",
            "09:10 is before the plan's last re-plan at 09:30; events must move forward in time",
        )
    ]


# --- spare parts -----------------------------------------------------------------------------


def parts_day() -> tuple[dict[str, Any], Plan]:
    """The line day with parts: T1's van starts with one P1; depot D1 (site 0) holds one P2,
    and one P4 arrives at 09:00 and another at 15:00. T1 serves V1 and V2 (08:10, 08:50),
    calls at D1 09:30-09:40 for V4's P2 and serves V4 at 11:00."""
    raw = day()
    raw["technicians"][0]["van_stock"] = [{"part": "P1", "quantity": 1}]
    raw["visits"][3]["parts"] = [{"part": "P2", "quantity": 1}]
    raw["depots"] = [
        {"id": "D1", "location_index": 0, "opening": {"start": "08:00", "end": "17:00"},
         "stock": [{"part": "P2", "quantity": 1}],
         "arrivals": [{"part": "P4", "quantity": 1, "at": "2026-11-23T09:00"},
                      {"part": "P4", "quantity": 1, "at": "2026-11-23T15:00"}]}
    ]  # fmt: skip
    call = DepotStop(
        DepotId("D1"), 2, at("09:30"), at("09:40"), timedelta(minutes=20), 10.0,
        (PartQuantity("P2", 1),),
    )  # fmt: skip
    route = replace(plan().routes[0], depot_stops=(call,))
    return raw, replace(plan(), routes=(route,))


def test_part_events_strike_the_lot_that_held_the_unit_alike_in_the_day_and_its_json() -> None:
    raw, base = parts_day()
    problem = parse_problem(raw)
    events: list[dict[str, Any]] = [
        {"type": "part_used", "technician_id": "T1", "part": "P1"},  # from the day's stock
        {"type": "part_faulty", "technician_id": "T1", "part": "P2"},  # taken at 09:30
        {"type": "part_missing", "depot_id": "D1", "part": "P4"},  # the 09:00 arrival
    ]
    batch = parse_events({"at": "10:00", "events": events}, raw, problem, base)
    assert batch.van_cut == {"T1": {"P1": 1}}
    # The faulty P2 came from the call made at 09:30: the call took one less, and the
    # depot's stock, where that unit came from, is one less (it still holds none after it).
    assert batch.call_cut == {("T1", 0): {"P2": 1}}
    assert batch.depot_cut == {"D1": {"P2": 1}}
    assert batch.arrival_cut == {"D1": {0: 1}}
    stored = apply_to_problem_json(raw, batch)
    assert stored["technicians"][0]["van_stock"] == [{"part": "P1", "quantity": 0}]
    assert stored["depots"][0]["stock"] == [{"part": "P2", "quantity": 0}]
    assert stored["depots"][0]["arrivals"] == [
        {"part": "P4", "quantity": 1, "at": "2026-11-23T15:00"}
    ]
    planned = apply_to_problem(problem, batch)
    again = parse_problem(stored, stored=True)
    assert (planned.technicians, planned.depots) == (again.technicians, again.depots)


def test_a_part_event_on_units_not_held_now_is_refused_naming_index_field_and_part() -> None:
    raw, base = parts_day()
    events: list[dict[str, Any]] = [
        {"type": "part_used", "technician_id": "T1", "part": "P1"},
        {"type": "part_used", "technician_id": "T1", "part": "P1"},  # the van had one
        {"type": "part_faulty", "technician_id": "T2", "part": "P2"},  # T2 never had one
        {"type": "part_missing", "depot_id": "D1", "part": "P4", "quantity": 2},  # one is in
        {"type": "part_missing", "depot_id": "D1", "part": "P2"},  # T1 took the only one
    ]
    with pytest.raises(InputError) as caught:
        parse_events({"at": "10:00", "events": events}, raw, parse_problem(raw), base)
    found = {(e.path, e.entity_id): e.message for e in caught.value.errors}
    assert list(found) == [
        ("events[1].technician_id", "T1"),
        ("events[2].technician_id", "T2"),
        ("events[3].depot_id", "D1"),
        ("events[4].depot_id", "D1"),
    ]
    assert "part 'P1'" in found[("events[1].technician_id", "T1")]
    assert "holds 0" in found[("events[1].technician_id", "T1")]
    assert "2 units of part 'P4'" in found[("events[3].depot_id", "D1")]
    assert "holds 1" in found[("events[3].depot_id", "D1")]
    assert "part 'P2'" in found[("events[4].depot_id", "D1")]
    # Before the call is made (09:20), the depot still holds its P2: it can be missing.
    batch = parse_events({"at": "09:20", "events": events[4:]}, raw, parse_problem(raw), base)
    assert batch.depot_cut == {"D1": {"P2": 1}} and batch.call_cut == {}


def test_a_batch_of_today_s_plan_may_not_run_ahead_of_the_clock() -> None:
    # One phone with its clock hours fast moved the plan to 23:59: every report after it was
    # refused as before the last re-plan until midnight.
    raw = day()
    problem = parse_problem(raw)
    arrived = {"type": "arrived", "visit_id": "V1"}

    def sent(when: str, now: datetime) -> EventBatch:
        return parse_events({"at": when, "events": [arrived]}, raw, problem, plan(), now=now)

    with pytest.raises(InputError) as caught:
        sent("23:59", at("15:50"))
    assert caught.value.errors == (
        FieldError(
            "at",
            "23:59 is later than the time now (15:50 in Asia/Shanghai): events report what "
            "has happened; send them once it has",
        ),
    )
    assert sent("16:05", at("15:50")).at == at("16:05")  # a clock a quarter of an hour fast
    assert sent("23:59", at("15:50") - timedelta(days=1)).at == at("23:59")  # not today's plan


def test_a_plan_re_planned_ahead_takes_batches_at_its_own_time_from_the_day_s_start() -> None:
    # Re-planned the evening before for 08:15, today's plan took nothing from midnight until
    # 07:45: 08:15 was after the clock, anything sooner before its last re-plan; a booking
    # without its own time (defaulting to 08:15) was refused too, while slots were offered.
    raw = day()
    problem = parse_problem(raw)
    ahead = replace(plan(), at=at("08:15"))
    arrived = {"type": "arrived", "visit_id": "V1"}

    def sent(when: str) -> EventBatch:
        batch = {"at": when, "events": [arrived]}
        return parse_events(batch, raw, problem, ahead, now=at("00:10"))

    assert sent("08:15").at == at("08:15")
    with pytest.raises(InputError) as caught:
        sent("08:16")
    assert "08:16 is later than the time now (00:10" in caught.value.errors[0].message
