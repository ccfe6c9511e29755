"""Promised windows (``dispatch.planning.promise``): what the customer is told, and when a new
arrival means calling them. Default policy: band 5-10 min, 30-min promise, 15-min tolerance."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dispatch.model import (
    LatLon,
    Plan,
    Policy,
    Route,
    Site,
    Stop,
    TechnicianId,
    TimeWindow,
    Visit,
    VisitId,
)
from dispatch.planning.promise import needs_call, promise_for, with_promises

ZONE = ZoneInfo("Asia/Shanghai")
POLICY = Policy()
SITE = Site(location=LatLon(22.54, 113.95))


def at(clock: str, second: int = 0) -> datetime:
    hours, minutes = map(int, clock.split(":"))
    return datetime(2026, 11, 23, hours, minutes, second, tzinfo=ZONE)


def window(start: str, end: str) -> TimeWindow:
    return TimeWindow(at(start), at(end))


def visit(
    visit_id: str = "V1", appointment: datetime | None = None, hours: TimeWindow | None = None
) -> Visit:
    return Visit(
        id=VisitId(visit_id),
        site=SITE,
        duration=timedelta(minutes=30),
        appointment=appointment,
        window=hours,
    )


def test_an_appointment_is_promised_from_the_bands_far_edge_to_its_time() -> None:
    booked = visit(appointment=at("09:30"))
    # [T - 10, T], whatever the planned arrival inside the band.
    assert promise_for(booked, at("09:22"), POLICY) == window("09:20", "09:30")
    assert promise_for(booked, at("09:25"), POLICY) == window("09:20", "09:30")


def test_an_appointment_promise_follows_the_policys_band() -> None:
    wide = replace(POLICY, early_band=(timedelta(minutes=5), timedelta(minutes=15)))
    assert promise_for(visit(appointment=at("09:30")), at("09:20"), wide) == window(
        "09:15", "09:30"
    )


@pytest.mark.parametrize(
    ("arrival", "start", "end"),
    [
        (at("10:05"), "09:50", "10:20"),  # on a five: centred on it
        (at("10:07"), "09:50", "10:20"),  # 10:07 rounds down to 10:05
        (at("10:08"), "09:55", "10:25"),  # 10:08 rounds up to 10:10
        (at("10:58"), "10:45", "11:15"),  # 10:58 rounds up across the hour to 11:00
        (at("10:06", 20), "09:50", "10:20"),  # 10:06:20 is nearer 10:05 than 10:10
    ],
)
def test_any_other_visit_is_promised_thirty_minutes_around_the_rounded_arrival(
    arrival: datetime, start: str, end: str
) -> None:
    assert promise_for(visit(), arrival, POLICY) == window(start, end)


@pytest.mark.parametrize(
    ("arrival", "centre"),
    [
        # Lord Howe springs forward half an hour at 02:00 (+10:30 -> +11:00) on 2026-10-04
        ("2026-10-04T02:31:00+11:00", "2026-10-04T02:30:00+11:00"),
        # and falls back half an hour at 02:00 (+11:00 -> +10:30) on 2026-04-05
        ("2026-04-05T01:45:00+10:30", "2026-04-05T01:45:00+10:30"),
        ("2026-04-05T01:47:00+11:00", "2026-04-05T01:45:00+11:00"),
    ],
)
def test_the_rounded_arrival_is_within_minutes_of_it_when_the_clocks_change_half_an_hour(
    arrival: str, centre: str
) -> None:
    # Rounded from the top of its hour on the wall clock, an arrival at 02:31 just after the
    # clocks skipped 02:00-02:30 was promised 02:45-03:15, a window it is not in, and every
    # slot then offered on that route was refused (a hunt of bookings).
    zone = ZoneInfo("Australia/Lord_Howe")
    moment = datetime.fromisoformat(arrival).astimezone(zone)
    half = POLICY.promise_width / 2
    expected = datetime.fromisoformat(centre).timestamp()
    promised = promise_for(visit(), moment, POLICY)
    assert (promised.start.timestamp(), promised.end.timestamp()) == (
        expected - half.total_seconds(),
        expected + half.total_seconds(),
    )


def test_a_window_visit_is_promised_around_its_arrival_not_its_window() -> None:
    afternoon = visit(hours=window("13:00", "17:00"))
    assert promise_for(afternoon, at("14:12"), POLICY) == window("13:55", "14:25")


def test_the_promise_width_comes_from_the_policy() -> None:
    hour = replace(POLICY, promise_width=timedelta(minutes=60))
    assert promise_for(visit(), at("10:05"), hour) == window("09:35", "10:35")


@pytest.mark.parametrize(
    ("arrival", "call"),
    [
        (at("10:05"), False),  # on the promised time
        (at("10:20"), False),  # 15 min late: exactly the tolerance
        (at("10:20", 1), True),  # one second beyond it
        (at("09:50"), False),  # 15 min early
        (at("09:49", 59), True),
    ],
)
def test_a_call_is_needed_when_the_arrival_leaves_the_promise_beyond_the_tolerance(
    arrival: datetime, call: bool
) -> None:
    # Promised 09:50-10:20: the promised time is its centre, 10:05.
    assert needs_call(window("09:50", "10:20"), arrival, POLICY) is call


def test_an_appointments_promised_time_is_the_centre_of_its_band() -> None:
    promise = window("09:20", "09:30")  # centre 09:25
    assert needs_call(promise, at("09:40"), POLICY) is False
    assert needs_call(promise, at("09:41"), POLICY) is True
    assert needs_call(promise, at("09:09"), POLICY) is True


def test_the_tolerance_comes_from_the_policy() -> None:
    strict = replace(POLICY, notify_tolerance=timedelta(minutes=5))
    assert needs_call(window("09:50", "10:20"), at("10:11"), strict) is True
    assert needs_call(window("09:50", "10:20"), at("10:10"), strict) is False


def stop(visit_id: str, arrival: datetime, promised: TimeWindow | None = None) -> Stop:
    return Stop(
        visit_id=VisitId(visit_id),
        arrival=arrival,
        service_start=arrival,
        departure=arrival + timedelta(minutes=30),
        travel=timedelta(minutes=10),
        distance_km=5.0,
        early=timedelta(0),
        late=timedelta(0),
        wait=timedelta(0),
        promised=promised,
    )


def test_with_promises_fills_each_stop_without_one_and_keeps_the_rest() -> None:
    kept = window("08:00", "08:30")
    route = Route(
        technician_id=TechnicianId("T1"),
        start_time=at("08:00"),
        end_time=at("12:00"),
        stops=(
            stop("V1", at("08:12"), promised=kept),
            stop("V2", at("09:52")),
            stop("V3", at("11:03")),
        ),
        breaks=(),
        distance_km=20.0,
        travel=timedelta(minutes=40),
        service=timedelta(minutes=90),
        wait=timedelta(0),
    )
    visits = {
        VisitId("V1"): visit("V1"),
        VisitId("V2"): visit("V2", appointment=at("10:00")),
        VisitId("V3"): visit("V3"),
    }
    plan = with_promises(Plan(routes=(route,), unassigned=()), visits, POLICY)
    promised = [s.promised for s in plan.routes[0].stops]
    # V1 keeps its old promise (its arrival would give 07:55-08:25); V2 is an appointment at
    # 10:00 (09:50-10:00); V3 at 11:03 rounds to 11:05 (10:50-11:20).
    assert promised == [kept, window("09:50", "10:00"), window("10:50", "11:20")]
    assert [s.arrival for s in plan.routes[0].stops] == [at("08:12"), at("09:52"), at("11:03")]
