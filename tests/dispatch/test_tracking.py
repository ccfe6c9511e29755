"""The time-tracking card: planned against actual from reported events, by hand-made numbers."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from dispatch.contract.schema import PlanOut
from dispatch.contract.serialize import read_plan
from dispatch.contract.validate import parse_problem
from dispatch.desk.tracking import StopRecord, stored_time_card, time_card, to_csv
from dispatch.persistence import Store
from tests.dispatch.test_replan import make_day, planned, replan, stops_of


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(f"sqlite:///{tmp_path / 'card.db'}")


def _stops_of_t1(store: Store, *visit_ids: str, **windows: dict[str, str]) -> dict[str, Any]:
    """Plan ``make_day`` with only ``visit_ids``, all T1's (``windows``: new windows by id);
    the plan's document."""
    raw = make_day()
    raw["visits"] = [v for v in raw["visits"] if v["id"] in visit_ids]
    for visit in raw["visits"]:
        visit["technician"] = "T1"
        if visit["id"] in windows:
            visit["window"] = windows[visit["id"]]
    return planned(store, raw)


def test_card_compares_reported_times_with_the_plan(store: Store) -> None:
    raw = make_day()
    raw["visits"] = [v for v in raw["visits"] if v["id"] in ("V1", "V2")]  # T1: V1 then V2
    for visit in raw["visits"]:
        visit.pop("technician", None)
        visit["technician"] = "T1"
    first = planned(store, raw)
    v1 = stops_of(first)["V1"][1]
    assert v1["arrival"][11:16] == "08:10"  # 10 min from the base, window from 08:00
    replan(store, {"at": "11:30", "events": [
        {"type": "arrived", "visit_id": "V1", "at": "08:15"},
        {"type": "started", "visit_id": "V1", "at": "08:20"},
        {"type": "completed", "visit_id": "V1", "at": "09:35"},   # 75 min for a 60-min job
        {"type": "arrived", "visit_id": "V2", "at": "10:01"},     # 1 min after the 10:00 slot
        {"type": "departed", "visit_id": "V2", "at": "11:00"},
    ]})  # fmt: skip
    document = PlanOut.model_validate(store.load_plan("pl_day"))
    problem = parse_problem(store.load_problem_of_plan("pl_day", document.version))
    card = time_card(problem, read_plan(document))
    rows = {r.visit_id: r for r in card.stops}
    assert rows["V1"].arrival_delta_min == 5 and rows["V1"].late_min == 0
    assert rows["V1"].actual_service_min == 75 and rows["V1"].overrun_min == 15
    assert rows["V2"].late_min == 1 and rows["V2"].actual_travel_min == 26
    # The plan's gap from V1 (left at 09:10) to V2's door (09:50): a 10-minute drive and 30
    # idle before the appointment. The drive alone (10) read the 26 as 16 minutes lost.
    assert rows["V2"].planned_travel_min == 40
    assert card.reported_arrivals == 2 and card.on_time_rate == 0.5
    assert card.appointments_reported == 1 and card.early_band_rate == 0.0
    (tech,) = card.technicians
    assert tech.technician_id == "T1" and tech.on_time == 1 and tech.overrun_min == 15
    (repair,) = card.kinds
    assert repair.kind == "repair" and repair.reported == 2 and repair.mean_overrun_min == 7.0
    # Where T1's reported minutes went: 26 driving to V2 (V1's drive has no reported start),
    # 5 waiting at V1's door, 60 + 59 of service within the estimates, 15 over V1's.
    assert rows["V1"].actual_wait_min == 5 and rows["V2"].actual_wait_min is None
    (went,) = card.spent
    assert (went.travel_min, went.waiting_min, went.service_min, went.over_estimate_min) == (
        26,
        5,
        119,
        15,
    )
    assert stored_time_card(store, "pl_day")[1] == card  # the use case reads the same card
    table = list(csv.DictReader(io.StringIO(to_csv(card.stops))))
    assert [r["visit_id"] for r in table] == ["V1", "V2"]
    assert table[0]["overrun_min"] == "15" and table[1]["late_min"] == "1"


def test_a_done_tapped_late_from_the_next_door_and_a_wait_for_the_appointment(
    store: Store,
) -> None:
    # T1 reaches V2's door at 09:52 for its 10:00 appointment, then taps "Done" for V1 at
    # 10:00 (a late tap the events allow). V1's service ran to 10:00 and the way to V2 was
    # -8 minutes (a bar of negative width on the page). Tapping only "Arrived" and "Done" at
    # V2, the 8 minutes at the door (the policy has the work start at 10:00) were read as 8
    # over the estimate: the punctual technician looked the slowest.
    _stops_of_t1(store, "V1", "V2")
    replan(store, {"at": "11:30", "events": [
        {"type": "arrived", "visit_id": "V1", "at": "08:15"},
        {"type": "arrived", "visit_id": "V2", "at": "09:52"},
        {"type": "completed", "visit_id": "V1", "at": "10:00"},
        {"type": "completed", "visit_id": "V2", "at": "10:55"},
    ]})  # fmt: skip
    _, card = stored_time_card(store, "pl_day")
    rows = {r.visit_id: r for r in card.stops}
    assert rows["V1"].actual_service_min == 97  # 08:15 to the arrival at V2
    assert rows["V2"].actual_travel_min == 0
    assert rows["V2"].actual_wait_min == 8
    assert (rows["V2"].actual_service_min, rows["V2"].overrun_min) == (55, -5)
    (went,) = card.spent
    assert (went.travel_min, went.waiting_min) == (0, 8)
    assert all(r.actual_travel_min is None or r.actual_travel_min >= 0 for r in card.stops)


def test_csv_text_cells_never_start_a_formula_and_numbers_stay_numbers() -> None:
    # Ids are typed by the dispatcher: '=1+2' or '@SUM(1+1)' ran as formulas in Excel.
    def stop(technician_id: str, visit_id: str, delta_min: int | None) -> StopRecord:
        return StopRecord(
            technician_id, visit_id, "repair", "done", "08:06", "08:01",
            delta_min, 0, 20, 20, 0, 6, 6,
        )  # fmt: skip

    records = [
        stop("@SUM(1+1)", "=1+2", -5),
        stop("T1", "+cmd|' /C calc'!A0", None),
        stop("-T2", "\tV3", 3),
        stop("T3", "\r=V4", 0),
    ]
    table = list(csv.reader(io.StringIO(to_csv(records), newline="")))[1:]
    assert [row[:2] for row in table] == [
        ["'@SUM(1+1)", "'=1+2"],
        ["T1", "'+cmd|' /C calc'!A0"],
        ["'-T2", "'\tV3"],
        ["T3", "'\r=V4"],
    ]
    assert [row[6] for row in table] == ["-5", "", "3", "0"]  # arrival_delta_min, a number


def test_the_plan_s_own_figures_count_the_arrivals_reported(store: Store) -> None:
    # The re-planned version's kpis read the planned times only: V2's appointment, reached a
    # minute late, was "on time 100%" and in the band, where the time card said otherwise.
    _stops_of_t1(store, "V1", "V2")  # T1: V1 then V2
    replan(store, {"at": "11:30", "events": [
        {"type": "arrived", "visit_id": "V1", "at": "08:15"},
        {"type": "completed", "visit_id": "V1", "at": "09:20"},
        {"type": "arrived", "visit_id": "V2", "at": "10:01"},
    ]})  # fmt: skip
    kpis = store.load_plan("pl_day")["kpis"]
    assert kpis["on_time_rate"] == 0.5
    assert (kpis["appointments_in_band"], kpis["appointment_stops"]) == (0, 1)


def test_a_visit_not_completed_is_no_job_of_its_kind_on_the_card(store: Store) -> None:
    # Ten minutes without the part read as a 60-minute repair done in 10, "done".
    _stops_of_t1(store, "V1", "V2")  # T1: V1 then V2
    replan(store, {"at": "09:00", "events": [
        {"type": "arrived", "visit_id": "V1", "at": "08:10"},
        {"type": "not_completed", "visit_id": "V1", "at": "08:20", "reason": "no part"},
    ]})  # fmt: skip
    card = stored_time_card(store, "pl_day")[1]
    rows = {r.visit_id: r for r in card.stops}
    assert rows["V1"].status == "not_completed"
    assert rows["V1"].actual_service_min == 10 and rows["V1"].overrun_min is None
    assert card.kinds == ()  # no job done yet
    (went,) = card.spent
    assert (went.service_min, went.over_estimate_min) == (10, 0)  # the time was spent


def test_a_wait_for_a_window_to_open_is_waiting_not_service(store: Store) -> None:
    # At V2's door at 09:40 for a window opening at 10:00, only Arrived and Done tapped: read
    # as 50 minutes of a 30-minute job, 20 over and no waiting.
    _stops_of_t1(store, "V1", "V3", V3={"start": "10:00", "end": "13:00"})
    replan(store, {"at": "11:30", "events": [
        {"type": "arrived", "visit_id": "V1", "at": "08:10"},
        {"type": "completed", "visit_id": "V1", "at": "09:10"},
        {"type": "arrived", "visit_id": "V3", "at": "09:40"},
        {"type": "completed", "visit_id": "V3", "at": "11:00"},
    ]})  # fmt: skip
    card = stored_time_card(store, "pl_day")[1]
    rows = {r.visit_id: r for r in card.stops}
    assert (rows["V3"].actual_wait_min, rows["V3"].actual_service_min) == (20, 60)
    assert rows["V3"].overrun_min == 0


def test_the_plan_s_idle_before_a_window_opens_is_waiting_not_driving(store: Store) -> None:
    # The plan leaves V1 at 09:10 and reaches V3 when its window opens at 10:00, after a
    # 20-minute drive. T1 drives straight and waits at the door: 20 minutes on the way and 30
    # waiting, as planned, read against 50 planned minutes on the way (30 saved on the road).
    first = _stops_of_t1(store, "V1", "V3", V3={"start": "10:00", "end": "13:00"})
    v3 = stops_of(first)["V3"][1]
    assert (v3["arrival"][11:16], v3["travel_min"], v3["wait_min"]) == ("10:00", 20, 30)
    replan(store, {"at": "11:30", "events": [
        {"type": "arrived", "visit_id": "V1", "at": "08:10"},
        {"type": "completed", "visit_id": "V1", "at": "09:10"},
        {"type": "arrived", "visit_id": "V3", "at": "09:30"},
        {"type": "started", "visit_id": "V3", "at": "10:00"},
        {"type": "completed", "visit_id": "V3", "at": "11:00"},
    ]})  # fmt: skip
    card = stored_time_card(store, "pl_day")[1]
    rows = {r.visit_id: r for r in card.stops}
    assert (rows["V3"].planned_travel_min, rows["V3"].actual_travel_min) == (20, 20)
    assert rows["V3"].actual_wait_min == 30
    (tech,) = card.technicians
    assert (tech.planned_travel_min, tech.actual_travel_min) == (20, 20)


def test_an_early_first_arrival_leaves_the_planned_way_to_it_as_planned(store: Store) -> None:
    # T1 reaches V2, planned at 09:50 for its 10:00 appointment, at 09:00: the re-plan has the
    # route leave the base when that says they set off (09:00 less the drive), and the card
    # read the plan's way to V2 from there, 50 minutes more than the plan's drive.
    first = _stops_of_t1(store, "V2")
    v2 = stops_of(first)["V2"][1]
    assert v2["arrival"][11:16] == "09:50"
    answer = replan(store, {"at": "11:30", "events": [
        {"type": "arrived", "visit_id": "V2", "at": "09:00"},
        {"type": "completed", "visit_id": "V2", "at": "11:00"},
    ]})  # fmt: skip
    (route,) = answer["routes"]
    assert route["start_time"] < first["routes"][0]["start_time"]  # moved by the report
    card = stored_time_card(store, "pl_day")[1]
    (row,) = card.stops
    assert row.planned_travel_min == v2["travel_min"]


def test_planned_service_by_kind_is_summed_then_rounded_as_the_plan_s(store: Store) -> None:
    # Two repairs estimated at 59.6 minutes: the plan's service_min says 119 (119.2), the
    # card's kind row said 120, each stop rounded to 60 before the sum.
    raw = make_day()
    raw["visits"] = [v for v in raw["visits"] if v["id"] in ("V1", "V3")]
    for visit in raw["visits"]:
        visit["technician"] = "T1"
        visit["duration_min"] = 59.6
    first = planned(store, raw)
    assert first["kpis"]["service_min"] == 119
    events = [
        {"type": kind, "visit_id": stop["visit_id"], "at": stop[moment][11:16]}
        for stop in first["routes"][0]["stops"]
        for kind, moment in (("arrived", "arrival"), ("completed", "departure"))
    ]
    replan(store, {"at": "16:00", "events": events})
    (repair,) = stored_time_card(store, "pl_day")[1].kinds
    assert (repair.kind, repair.reported, repair.planned_service_min) == ("repair", 2, 119)
