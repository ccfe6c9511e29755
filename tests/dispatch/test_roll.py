"""Rolling a week forward: what was done or cancelled leaves, everything else comes back with
its span, a round served moves its next due date on and one not served comes back overdue;
then the same over a real store, from a solved week and a day's events."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from dispatch.contract.horizon import parse_horizon
from dispatch.desk.book import book_stored
from dispatch.desk.replan import replan_stored
from dispatch.desk.roll import roll_week
from dispatch.desk.week import solve_week
from dispatch.errors import InputError, NotFoundError
from dispatch.horizon.roll import Outcomes, added_visit, next_horizon
from dispatch.persistence import Store
from dispatch.planning import SolveParams

MONDAY, TUESDAY = date(2026, 12, 7), date(2026, 12, 8)
NEXT_MONDAY = date(2026, 12, 14)
#: A base (0) and sites 1..7, each 10 minutes and 5 km from every other.
SITES = 8
MINUTES = [[0 if i == j else 10 for j in range(SITES)] for i in range(SITES)]
KM = [[0.0 if i == j else 5.0 for j in range(SITES)] for i in range(SITES)]


def _week() -> dict[str, Any]:
    """A week of five dates from Monday 7 December: fixed visits, spans, a visit beyond the
    horizon, a weekly round and a monthly one."""
    return {
        "horizon": {"start": "2026-12-07", "days": 5},
        "timezone": "Asia/Shanghai",
        "policy": {"time_limit_s": 1},
        "travel": {"durations_min": MINUTES, "distances_km": KM},
        "technicians": [
            {
                "id": "T1",
                "skills": ["cctv"],
                "location_index": 0,
                "shift": {"start": "08:00", "end": "18:00"},
                "calendar": {"days_off": ["2026-12-09"], "weekdays": {"sun": None}},
            }
        ],
        "visits": [
            {"id": "A1", "location_index": 1, "duration_min": 30, "date": "2026-12-07",
             "appointment": "09:00", "priority": "high", "notes": "gate code 41"},
            {"id": "A2", "location_index": 2, "duration_min": 30, "date": "2026-12-08",
             "window": {"start": "14:00", "end": "16:00"}},
            {"id": "A3", "location_index": 3, "duration_min": 30, "date": "2026-12-11",
             "appointment": "10:00"},
            {"id": "F1", "location_index": 4, "duration_min": 30,
             "earliest": "2026-12-08T13:00", "latest": "2026-12-10T18:00"},
            {"id": "L1", "location_index": 5, "duration_min": 30,
             "earliest": "2026-12-14T13:00"},
            {"id": "W1", "location_index": 6, "duration_min": 30,
             "window": {"start": "14:00", "end": "16:00"}},
        ],
        "rounds": [
            {"id": "R1", "location_index": 7, "duration_min": 30, "required_skills": ["cctv"],
             "every": {"weeks": 1}, "tolerance_days": 1, "last_served": "2026-11-30"},
            {"id": "R2", "location_index": 7, "duration_min": 30,
             "every": {"months": 1}, "first_due": "2026-12-10"},
        ],
    }  # fmt: skip


def _rows(horizon: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["id"]: row for row in horizon["visits"]}


def _rounds(horizon: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["id"]: row for row in horizon["rounds"]}


def _occurrences(horizon: dict[str, Any]) -> dict[str, date | None]:
    """Each due date of the parsed horizon, with since when it is overdue."""
    return {o.visit_id: o.overdue_since for o in parse_horizon(horizon).rounds}


# --- the rules, pure -----------------------------------------------------------------------


def test_done_and_cancelled_visits_leave_and_the_rest_come_back_as_they_were() -> None:
    raw = _week()
    outcomes = Outcomes(done={"A2": TUESDAY}, cancelled=frozenset({"W1"}))
    rolled = next_horizon(raw, outcomes, start=TUESDAY)
    assert rolled["horizon"] == {"start": "2026-12-08", "days": 5}
    assert set(_rows(rolled)) == {"A1", "A3", "F1", "L1"}
    # Not yet due, or fixed on a date still ahead: unchanged.
    assert _rows(rolled)["A3"] == raw["visits"][2]
    assert _rows(rolled)["L1"] == raw["visits"][4]
    assert _rows(rolled)["F1"] == raw["visits"][3]  # its earliest is still ahead
    assert rolled["technicians"] == raw["technicians"]  # calendar and all
    assert raw == _week()  # the stored horizon is not touched


def test_a_visit_not_completed_comes_back_even_with_its_attempt_reported_done() -> None:
    rolled = next_horizon(
        _week(),
        Outcomes(done={"A2": TUESDAY}, not_completed=frozenset({"A2"})),
        start=TUESDAY,
    )
    a2 = _rows(rolled)["A2"]
    # Its appointment failed: no longer fixed; its old window still ends ahead of the start.
    assert "date" not in a2 and "window" not in a2
    assert a2["latest"] == "2026-12-08T16:00"


def test_a_fixed_visit_whose_date_passed_is_due_now_with_its_priority_and_notes() -> None:
    rolled = next_horizon(_week(), Outcomes(), start=TUESDAY)
    a1 = _rows(rolled)["A1"]
    # Its old promise end, passed: overdue, due now. Given the end of the roll's first day
    # instead, one rolled from a Saturday nobody works had no day to be served on (a hunt of
    # weeks and rolls).
    assert a1 == {"id": "A1", "location_index": 1, "duration_min": 30, "priority": "high",
                  "notes": "gate code 41", "latest": "2026-12-07T09:00"}  # fmt: skip
    horizon = parse_horizon(rolled)
    assert "A1" in horizon.promised and "A1" in horizon.due_now  # served first among equals


def test_a_round_served_on_tuesday_is_next_due_a_week_after_tuesday() -> None:
    raw = _week()
    # R1 fell due on Monday (last served the Monday before), give or take a day.
    assert _occurrences(raw)["R1@2026-12-07"] is None
    rolled = next_horizon(raw, Outcomes(done={"R1@2026-12-07": TUESDAY}), start=NEXT_MONDAY)
    assert _rounds(rolled)["R1"]["last_served"] == "2026-12-08"
    occurrences = _occurrences(rolled)
    assert [key for key in occurrences if key.startswith("R1@")] == ["R1@2026-12-15"]
    assert occurrences["R1@2026-12-15"] is None


def test_a_round_not_served_comes_back_overdue_since_its_due_date() -> None:
    rolled = next_horizon(_week(), Outcomes(), start=NEXT_MONDAY)
    assert _rounds(rolled)["R1"] == _week()["rounds"][0]  # unchanged
    occurrences = _occurrences(rolled)
    # Its first due date of the old week, 7 December, was never served: due on day one.
    assert occurrences["R1@2026-12-14"] == MONDAY
    week = parse_horizon(rolled)
    assert next(o for o in week.rounds if o.round_id == "R1").visit_id in week.promised


def test_a_round_first_due_in_the_week_and_served_drops_first_due() -> None:
    rolled = next_horizon(_week(), Outcomes(done={"R2@2026-12-10": MONDAY}), start=NEXT_MONDAY)
    assert _rounds(rolled)["R2"]["last_served"] == "2026-12-07"
    assert "first_due" not in _rounds(rolled)["R2"]
    assert not [key for key in _occurrences(rolled) if key.startswith("R2@")]  # due 7 January


def test_a_cancelled_due_date_of_a_round_is_skipped_not_overdue() -> None:
    rolled = next_horizon(
        _week(), Outcomes(cancelled=frozenset({"R1@2026-12-07"})), start=NEXT_MONDAY
    )
    assert _rounds(rolled)["R1"]["first_due"] == "2026-12-14"
    assert "last_served" not in _rounds(rolled)["R1"]
    assert _occurrences(rolled) == {"R1@2026-12-14": None, "R2@2026-12-14": date(2026, 12, 10)}


def test_a_span_that_ended_before_the_start_comes_back_due_now() -> None:
    rolled = next_horizon(_week(), Outcomes(), start=NEXT_MONDAY)
    f1 = _rows(rolled)["F1"]
    assert "earliest" not in f1 and f1["latest"] == "2026-12-10T18:00"
    assert "F1" in parse_horizon(rolled).promised


def test_a_visit_beyond_the_old_horizon_comes_back_unchanged_and_is_planned() -> None:
    raw = _week()
    assert [u.visit_id for u in parse_horizon(raw).beyond] == ["L1"]
    rolled = next_horizon(raw, Outcomes(), start=NEXT_MONDAY)
    assert _rows(rolled)["L1"] == raw["visits"][4]
    horizon = parse_horizon(rolled)
    assert "L1" in {visit.id for visit in horizon.visits} and not horizon.beyond


def test_the_next_horizon_parses_strictly_and_keeps_its_number_of_days_unless_told() -> None:
    rolled = next_horizon(_week(), Outcomes(), start=NEXT_MONDAY)
    assert parse_horizon(rolled).dates[0] == NEXT_MONDAY
    assert len(parse_horizon(rolled).dates) == 5
    longer = next_horizon(_week(), Outcomes(), start=NEXT_MONDAY, days=7)
    assert len(parse_horizon(longer).dates) == 7


def test_a_horizon_that_stops_before_a_fixed_date_is_refused_naming_days() -> None:
    # Refused visit by visit, a week's 63 errors blamed the visits for the days asked.
    with pytest.raises(InputError) as caught:
        next_horizon(_week(), Outcomes(), start=TUESDAY, days=2)
    assert [(e.path, e.message) for e in caught.value.errors] == [
        (
            "days",
            "2 day(s) from 2026-12-08 end on 2026-12-09, before visits fixed on later dates "
            "(A3 on 2026-12-11): roll at least 4 days",
        )
    ]
    assert next_horizon(_week(), Outcomes(), start=TUESDAY, days=4)["horizon"]["days"] == 4


def test_a_visit_added_by_events_joins_the_horizon_on_its_day() -> None:
    plain = {"id": "N1", "location_index": 1, "duration_min": 20, "reported_at": "10:00"}
    # Not urgent: the moment it was reported promises nothing; it was booked for that day.
    assert added_visit(plain, MONDAY) == {
        "id": "N1", "location_index": 1, "duration_min": 20, "date": "2026-12-07",
    }  # fmt: skip
    urgent = {**plain, "priority": "urgent"}
    assert added_visit(urgent, MONDAY)["reported_at"] == "2026-12-07T10:00"
    assert "date" not in added_visit(urgent, MONDAY)
    booked = {**urgent, "appointment": "15:00"}
    assert added_visit(booked, MONDAY) == {
        "id": "N1", "location_index": 1, "duration_min": 20, "priority": "urgent",
        "appointment": "15:00", "date": "2026-12-07",
    }  # fmt: skip


# --- over the store ------------------------------------------------------------------------


def _small_week() -> dict[str, Any]:
    """Two dates: Monday's visits at set times (so events can be written against them), a
    visit fixed on Tuesday, one due after the horizon and a round due on Monday."""
    week = _week()
    week["horizon"]["days"] = 2
    week["technicians"][0].pop("calendar")
    week["visits"] = [
        {"id": "M1", "location_index": 1, "duration_min": 20, "date": "2026-12-07",
         "appointment": "08:30"},
        {"id": "M2", "location_index": 2, "duration_min": 20, "date": "2026-12-07",
         "appointment": "09:30"},
        {"id": "M3", "location_index": 3, "duration_min": 20, "date": "2026-12-07",
         "appointment": "15:00"},
        {"id": "M4", "location_index": 4, "duration_min": 20, "date": "2026-12-07",
         "appointment": "16:00"},
        {"id": "T1V", "location_index": 5, "duration_min": 20, "date": "2026-12-08",
         "appointment": "10:00"},
        {"id": "L1", "location_index": 6, "duration_min": 20, "earliest": "2026-12-10T08:00"},
    ]  # fmt: skip
    week["rounds"] = [
        {"id": "R1", "location_index": 7, "duration_min": 20, "required_skills": ["cctv"],
         "window": {"start": "11:00", "end": "11:30"}, "every": {"weeks": 1},
         "last_served": "2026-11-30"},
    ]  # fmt: skip
    return week


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    opened = Store(f"sqlite:///{tmp_path / 'store.db'}")
    yield opened
    opened.close()


def _solved(store: Store, raw: dict[str, Any]) -> dict[str, Any]:
    """Solve and store ``raw``; the week document."""
    solved = solve_week(
        raw,
        parse_horizon(raw),
        params=SolveParams(time_limit_s=1, seed=1, reproducible=True),
        save=lambda document, days: store.save_week(
            week=document, problem_id=document["problem_id"], problem=raw, days=days
        ),
    )
    assert solved.violations == 0
    return solved.document


def test_rolling_a_stored_week_after_a_days_events(sqlite_store: Store) -> None:
    raw = _small_week()
    week = _solved(sqlite_store, raw)
    monday = next(day for day in week["days"] if day["date"] == "2026-12-07")
    placed = sqlite_store.load_plan(monday["plan_id"])
    served = {stop["visit_id"] for route in placed["routes"] for stop in route["stops"]}
    assert served == {"M1", "M2", "M3", "M4", "R1@2026-12-07"}
    replan_stored(
        sqlite_store,
        monday["plan_id"],
        {
            "at": "12:30",
            "events": [
                {"type": "completed", "visit_id": "M1", "at": "08:50"},
                {"type": "not_completed", "visit_id": "M2", "reason": "no part", "at": "09:45"},
                {"type": "completed", "visit_id": "R1@2026-12-07", "at": "11:30"},
                {"type": "cancelled", "visit_id": "M3", "reason": "customer away"},
                {"type": "new_visit", "visit": {"id": "N1", "location_index": 6,
                                                "duration_min": 20, "appointment": "17:00"}},
            ],
        },
        params=SolveParams(time_limit_s=1, seed=1, reproducible=True),
    )  # fmt: skip

    rolled = roll_week(sqlite_store, week["week_id"], start=TUESDAY)
    rows = _rows(rolled)
    # M1 done, M3 cancelled: gone. M2 not completed and M4, N1 unreported on Monday: due now.
    assert set(rows) == {"M2", "M4", "T1V", "L1", "N1"}
    for visit_id in ("M2", "M4", "N1"):
        assert "date" not in rows[visit_id] and "appointment" not in rows[visit_id]
        assert rows[visit_id]["latest"] < "2026-12-08T00:00"  # its old promise end
    assert {"M2", "M4", "N1"} <= parse_horizon(rolled).due_now
    assert rows["T1V"] == raw["visits"][4]  # still ahead on Tuesday
    assert rows["L1"] == raw["visits"][5]  # beyond the old horizon
    assert _rounds(rolled)["R1"]["last_served"] == "2026-12-07"
    assert rolled["horizon"] == {"start": "2026-12-08", "days": 2}
    assert parse_horizon(rolled).dates == (TUESDAY, date(2026, 12, 9))

    # Taking Monday's unreported stops as done: only the failed attempt comes back from it.
    assumed = roll_week(sqlite_store, week["week_id"], start=TUESDAY, assume_done=True)
    assert set(_rows(assumed)) == {"M2", "T1V", "L1"}


def test_stops_a_re_plan_only_took_as_done_come_back(sqlite_store: Store) -> None:
    # A batch at 17:30 with a delay alone took every stop of Monday as done, nobody having
    # reported on one; the roll read them as done and the four visits were lost.
    week = _solved(sqlite_store, _small_week())
    monday = next(day for day in week["days"] if day["date"] == "2026-12-07")
    technician = sqlite_store.load_plan(monday["plan_id"])["routes"][0]["technician_id"]
    late = {"at": "17:30", "events": [{"type": "delay", "technician_id": technician, "minutes": 5}]}
    after = replan_stored(sqlite_store, monday["plan_id"], late, params=SolveParams(time_limit_s=1))
    taken = {
        stop.visit_id for route in after.routes for stop in route.stops if stop.status == "done"
    }
    assert {"M1", "M2", "M3", "M4"} <= taken  # taken as done by the plan's clock
    rolled = roll_week(sqlite_store, week["week_id"], start=TUESDAY)
    assert {"M1", "M2", "M3", "M4"} <= set(_rows(rolled))
    assert _rounds(rolled)["R1"].get("last_served") == "2026-11-30"  # not served either
    assumed = roll_week(sqlite_store, week["week_id"], start=TUESDAY, assume_done=True)
    assert not {"M1", "M2", "M3", "M4"} & set(_rows(assumed))


def test_a_round_due_date_moved_to_a_later_date_rolls_as_the_round_s(sqlite_store: Store) -> None:
    # R1 due Monday moved to Tuesday by a re-plan (T1 ill on Monday, T2 works Tuesday): every
    # roll from Monday or Tuesday was refused ("id R1@2026-12-07 is also a due date of round
    # R1"), and done on Tuesday, the round was not served: it was planned again.
    raw = _small_week()
    raw["rounds"][0] |= {"tolerance_days": 1, "preferred_technician": "T1"}
    t1 = raw["technicians"][0] | {"calendar": {"days_off": ["2026-12-08"]}}
    t2 = t1 | {"id": "T2", "calendar": {"days_off": ["2026-12-07"]}}  # Tuesday's
    raw["technicians"] = [t1, t2]
    week = _solved(sqlite_store, raw)
    plans = {day["date"]: day["plan_id"] for day in week["days"]}
    ill = {"at": "07:00", "events": [{"type": "unavailable", "technician_id": "T1"}]}
    monday = replan_stored(
        sqlite_store, plans["2026-12-07"], ill, params=SolveParams(time_limit_s=1)
    )
    moved = {item.visit_id: item.code for item in monday.unassigned}
    assert moved["R1@2026-12-07"] == "moved"
    for start in (MONDAY, TUESDAY):
        again = _occurrences(roll_week(sqlite_store, week["week_id"], start=start))
        assert "R1@2026-12-07" in again  # the round's due date, planned again
    done = {"type": "completed", "visit_id": "R1@2026-12-07", "at": "11:30"}
    replan_stored(
        sqlite_store,
        plans["2026-12-08"],
        {"at": "12:00", "events": [done]},
        params=SolveParams(time_limit_s=1),
    )
    rolled = roll_week(sqlite_store, week["week_id"], start=date(2026, 12, 9))
    assert _rounds(rolled)["R1"]["last_served"] == "2026-12-08"
    assert "R1@2026-12-07" not in _rows(rolled) and "R1@2026-12-07" not in _occurrences(rolled)


def test_rolling_an_unknown_week_is_not_found(sqlite_store: Store) -> None:
    with pytest.raises(NotFoundError, match="wk_missing"):
        roll_week(sqlite_store, "wk_missing", start=TUESDAY)


def test_a_visit_not_completed_then_booked_again_and_done_later_in_the_week_stays_done(
    sqlite_store: Store,
) -> None:
    # M2 not completed and N1 (added) left on Monday; the desk books both again on Tuesday,
    # same ids, and they are done there. M2 came back all the same (not completed won over a
    # later date's done), and N1, held by two dates' days, twice: the roll was refused for
    # its duplicate id.
    week = _solved(sqlite_store, _small_week())
    plans = {day["date"]: day["plan_id"] for day in week["days"]}
    quick = SolveParams(time_limit_s=1, seed=1, reproducible=True)
    for batch in (
        {"at": "12:00", "events": [
            {"type": "not_completed", "visit_id": "M2", "reason": "no part", "at": "09:45"},
            {"type": "new_visit", "visit": {"id": "N1", "location_index": 6,
                                            "duration_min": 20, "appointment": "17:00"}}]},
        {"at": "18:30", "events": [
            {"type": "not_completed", "visit_id": "N1", "reason": "away", "at": "17:20"}]},
    ):  # fmt: skip
        replan_stored(sqlite_store, plans["2026-12-07"], batch, params=quick)
    tuesday = plans["2026-12-08"]
    for visit_id, site, clock in (("M2", 2, "13:00"), ("N1", 6, "14:00")):
        visit = {"id": visit_id, "location_index": site, "duration_min": 20}
        slot = {"date": "2026-12-08", "appointment": clock}
        book_stored(sqlite_store, tuesday, {"visit": visit, "slot": slot, "at": "07:00"})
    replan_stored(
        sqlite_store,
        tuesday,
        {"at": "15:00", "events": [
            {"type": "completed", "visit_id": "M2", "at": "13:20"},
            {"type": "completed", "visit_id": "N1", "at": "14:20"}]},
        params=quick,
    )  # fmt: skip
    rolled = roll_week(sqlite_store, week["week_id"], start=date(2026, 12, 9))
    assert not {"M2", "N1"} & set(_rows(rolled))


def test_a_visit_cancelled_or_left_out_then_booked_again_later_comes_back_as_booked(
    sqlite_store: Store,
) -> None:
    # M3 cancelled and M2 not completed on Monday; the customers call back and both are booked
    # again on Tuesday by their own ids, at 13:00 and 14:00, and not done yet. Rolled from
    # Tuesday, M3 was gone (the cancellation won) and M2 came back due on Tuesday with its
    # old span, the booked time lost (a fresh-eyes hunt of the week).
    week = _solved(sqlite_store, _small_week())
    plans = {day["date"]: day["plan_id"] for day in week["days"]}
    quick = SolveParams(time_limit_s=1, seed=1, reproducible=True)
    replan_stored(
        sqlite_store,
        plans["2026-12-07"],
        {"at": "12:00", "events": [
            {"type": "cancelled", "visit_id": "M3", "reason": "away"},
            {"type": "not_completed", "visit_id": "M2", "reason": "no part", "at": "09:45"}]},
        params=quick,
    )  # fmt: skip
    tuesday = plans["2026-12-08"]
    for visit_id, site, clock in (("M3", 3, "13:00"), ("M2", 2, "14:00")):
        visit = {"id": visit_id, "location_index": site, "duration_min": 20}
        slot = {"date": "2026-12-08", "appointment": clock}
        book_stored(sqlite_store, tuesday, {"visit": visit, "slot": slot, "at": "07:00"})
    rows = _rows(roll_week(sqlite_store, week["week_id"], start=TUESDAY))
    for visit_id, clock in (("M3", "13:00"), ("M2", "14:00")):
        assert (rows[visit_id]["date"], rows[visit_id]["appointment"]) == ("2026-12-08", clock)
    # Cancelled again on Tuesday after the booking, M3 is gone.
    replan_stored(
        sqlite_store,
        tuesday,
        {"at": "08:00", "events": [{"type": "cancelled", "visit_id": "M3", "reason": "away"}]},
        params=quick,
    )
    assert "M3" not in _rows(roll_week(sqlite_store, week["week_id"], start=TUESDAY))
