"""The plan's full-precision record (``dispatch.contract.record``): nothing rounded or lost."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dispatch.contract.record import RECORD_FORMAT, plan_record, read_record
from dispatch.contract.validate import parse_problem
from dispatch.errors import StoredDataError
from dispatch.model import (
    BreakSlot,
    LatLon,
    Plan,
    Route,
    Stop,
    StopStatus,
    TechnicianId,
    TimeWindow,
    Unassigned,
    UnassignedCode,
    VisitId,
    WithoutRoute,
)
from dispatch.planning import SolveParams, plan_day
from tests.conftest import line_day

ZONE = ZoneInfo("Asia/Shanghai")


def moment(hour: int, minute: int, second: int = 0, micro: int = 0) -> datetime:
    return datetime(2026, 11, 23, hour, minute, second, micro, tzinfo=ZONE)


def awkward_plan() -> Plan:
    """Everything the document rounds: seconds, fractions of a second and of a kilometre."""
    stop = Stop(
        visit_id=VisitId("V1"),
        arrival=moment(8, 9, 31, 250_000),
        service_start=moment(8, 10),
        departure=moment(8, 42, 30),
        travel=timedelta(seconds=569.75),
        distance_km=5.0437,
        early=timedelta(seconds=29),
        late=timedelta(0),
        wait=timedelta(seconds=28.75),
        status=StopStatus.DONE,
        actual_arrival=moment(8, 9, 40),
        actual_start=moment(8, 10, 5),
        actual_departure=moment(8, 43, 1),
        promised=TimeWindow(moment(8, 0), moment(8, 10)),
    )
    route = Route(
        technician_id=TechnicianId("T1"),
        start_time=moment(8, 0),
        end_time=moment(12, 31, 7),
        stops=(stop, replace(stop, visit_id=VisitId("V2"), status=StopStatus.PLANNED,
                             actual_arrival=None, actual_start=None, actual_departure=None,
                             promised=None)),
        breaks=(BreakSlot(moment(12, 0), moment(12, 30, 30)),),
        distance_km=10.0874,
        travel=timedelta(seconds=1139.5),
        service=timedelta(minutes=65),
        wait=timedelta(seconds=57.5),
        geometry=(LatLon(42.50631, 1.52181), LatLon(42.507185, 1.526774)),
    )  # fmt: skip
    return Plan(
        routes=(route,),
        unassigned=(
            Unassigned(VisitId("V3"), UnassignedCode.NO_ROOM, "no room", (TechnicianId("T1"),)),
            Unassigned(VisitId("V4"), UnassignedCode.CANCELLED, "cancelled at 10:05"),
        ),
        solve_s=1.234567,
        objective=987654321,
        at=moment(10, 5),
        without_route=(WithoutRoute(TechnicianId("T2"), "cannot get from their start ..."),),
    )


def test_a_record_gives_back_the_plan_it_was_written_from() -> None:
    plan = awkward_plan()
    stored = json.loads(json.dumps(plan_record(plan)))  # as the store keeps it
    assert read_record(stored) == plan


def test_a_solved_plan_round_trips_except_what_a_replan_works_out_again() -> None:
    problem = parse_problem(line_day())
    plan = plan_day(problem, params=SolveParams(time_limit_s=1, seeders=()))
    assert plan.kpis is not None
    again = read_record(json.loads(json.dumps(plan_record(plan))))
    assert again == replace(plan, kpis=None, changes=())


def test_a_record_written_before_technicians_without_route_were_kept_reads_as_none() -> None:
    record = plan_record(awkward_plan())
    del record["without_route"]
    assert read_record(record).without_route == ()


def test_a_record_of_another_format_is_refused_by_name_and_format_1_is_read() -> None:
    record = plan_record(awkward_plan())
    assert record["format"] == RECORD_FORMAT == 2  # holds came in: a reader of 1 dropped them
    # A rollback's newer record was a bare ValueError: a traceback in the CLI, a 500 on reads.
    with pytest.raises(StoredDataError, match=r"format 3 is stored.*a newer release wrote it"):
        read_record(record | {"format": RECORD_FORMAT + 1})
    assert read_record(record | {"format": 1}) == awkward_plan()
