"""Re-planning a day of a week: a visit the day can no longer keep moves to a later date of its
span that has room, booked there without moving another customer's promise, both versions
checked and stored together, the customer on both days' call lists; a fixed appointment, a span
that ends that day and a day of no week stay as they were."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

import dispatch.desk.replan
import dispatch.desk.solve
import dispatch.desk.week
from dispatch.contract.horizon import parse_horizon
from dispatch.contract.record import plan_record
from dispatch.contract.schema import ChangeOut
from dispatch.contract.serialize import plan_document
from dispatch.contract.validate import parse_problem
from dispatch.desk.book import book_stored, slots_stored
from dispatch.desk.replan import replan_stored
from dispatch.desk.solve import check_day
from dispatch.desk.week import WEEK_TRIES, SolvedWeek, solve_week
from dispatch.errors import InputError, InternalError
from dispatch.horizon.days import day_problem
from dispatch.model import Horizon
from dispatch.persistence import PlanWeek, Store, StoreConflictError, WeekMovedError
from dispatch.persistence.store import ReplannedDay
from dispatch.planning import SolveParams, plan_day
from dispatch.planning.week import PlannedWeek
from dispatch.travel import provider_for
from dispatch.verify import CheckReport, Violation

MONDAY, TUESDAY, WEDNESDAY = "2026-12-07", "2026-12-08", "2026-12-09"
QUICK = SolveParams(time_limit_s=1, seed=1, reproducible=True)
#: A base (0) and sites 1..8, each 10 minutes and 5 km from every other.
SITES = 9
MINUTES = [[0 if i == j else 10 for j in range(SITES)] for i in range(SITES)]
KM = [[0.0 if i == j else 5.0 for j in range(SITES)] for i in range(SITES)]


def week() -> dict[str, Any]:
    """Three dates from Monday 7 December. On Monday T1 works (T2 only for ten minutes, too
    short for any visit): a visit due by Tuesday noon (S1), an appointment (A1) and a visit due
    by Monday noon (E1). On Tuesday both work: an appointment (B1) and a window (B2)."""
    return {
        "horizon": {"start": MONDAY, "days": 3},
        "timezone": "Asia/Shanghai",
        "policy": {"time_limit_s": 1, "replan_time_limit_s": 1},
        "travel": {"durations_min": MINUTES, "distances_km": KM},
        "technicians": [
            {"id": "T1", "location_index": 0, "shift": {"start": "08:00", "end": "12:00"}},
            {"id": "T2", "location_index": 0, "shift": {"start": "08:00", "end": "12:00"},
             "calendar": {"dates": {MONDAY: {"shift": {"start": "11:50", "end": "12:00"}}}}},
        ],
        "visits": [
            {"id": "S1", "customer": "Wu Fang", "phone": "+86 199 4981 3576",
             "location_index": 1, "duration_min": 30,
             "earliest": f"{MONDAY}T08:00", "latest": f"{TUESDAY}T12:00"},
            {"id": "A1", "location_index": 2, "duration_min": 30, "date": MONDAY,
             "appointment": "10:00"},
            {"id": "E1", "location_index": 3, "duration_min": 30,
             "latest": f"{MONDAY}T12:00"},
            {"id": "B1", "location_index": 4, "duration_min": 30, "date": TUESDAY,
             "appointment": "09:00"},
            {"id": "B2", "location_index": 5, "duration_min": 30, "date": TUESDAY,
             "window": {"start": "10:00", "end": "11:00"}},
        ],
    }  # fmt: skip


#: Where the hand-made week puts each visit.
PLACED = {MONDAY: ["S1", "A1", "E1"], TUESDAY: ["B1", "B2"], WEDNESDAY: []}
#: Monday's only technician falls ill before the day starts.
ILL = {"at": "07:30", "events": [{"type": "unavailable", "technician_id": "T1", "reason": "ill"}]}
#: Tuesday's T2 held up five minutes.
_DELAY = {"at": "07:00", "events": [{"type": "delay", "technician_id": "T2", "minutes": 5}]}


def _placed_by_hand(placed: dict[str, list[str]]) -> Any:
    """A stand-in for the week's solver that puts each visit on the date ``placed`` says (the
    solver chooses a span visit's date freely; these tests need it on Monday) and plans each
    date as a day."""

    def plan_week(horizon: Horizon, **_: Any) -> PlannedWeek:
        raw = horizon_raw[0]
        days = []
        for day in horizon.dates:
            problem = parse_problem(day_problem(raw, horizon, day, placed[day.isoformat()]))
            plan = plan_day(problem, params=QUICK)
            assert not plan.unassigned, plan.unassigned
            days.append((day, plan))
        return PlannedWeek(tuple(days), (), 0.0, 0)

    horizon_raw: list[dict[str, Any]] = []
    return plan_week, horizon_raw


def solved_into(store: Store, raw: dict[str, Any]) -> SolvedWeek:
    """Plan the horizon ``raw`` and store it as a week, as the solve use case does."""
    return solve_week(
        raw,
        parse_horizon(raw),
        params=QUICK,
        save=lambda document, days: store.save_week(
            week=document, problem_id=document["problem_id"], problem=raw, days=days
        ),
    )


def store_week(
    store: Store, raw: dict[str, Any], placed: dict[str, list[str]] = PLACED
) -> dict[str, str]:
    """Plan ``raw`` with each visit on the date ``placed`` gives it, store it as a week like
    any other; each date's plan id."""
    fake, holder = _placed_by_hand(placed)
    holder.append(raw)
    with mock.patch.object(dispatch.desk.week, "plan_week", fake):
        solved = solved_into(store, raw)
    assert solved.violations == 0
    return {day["date"]: day["plan_id"] for day in solved.document["days"] if day["plan_id"]}


def stops_of(plan: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    return {s["visit_id"]: (r["technician_id"], s) for r in plan["routes"] for s in r["stops"]}


def unassigned_of(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["visit_id"]: item for item in plan["unassigned"]}


def replan(store: Store, plan_id: str, events: dict[str, Any]) -> dict[str, Any]:
    return replan_stored(store, plan_id, events, params=QUICK).model_dump(mode="json")


def assert_checked(store: Store, plan_id: str) -> None:
    """The latest version of ``plan_id`` passes the independent checker."""
    plan = store.load_plan(plan_id)
    raw = store.load_problem_of_plan(plan_id, plan["version"])
    problem = parse_problem(raw, stored=True)
    report = check_day(raw, problem, plan, provider_for(problem))
    assert not report.violations, report.violations


@pytest.fixture
def plans(store: Store) -> dict[str, str]:
    return store_week(store, week())


def test_a_visit_its_technician_cannot_serve_moves_to_the_next_date_of_its_span(
    store: Store, plans: dict[str, str]
) -> None:
    tuesday_before = store.load_plan(plans[TUESDAY])
    monday = replan(store, plans[MONDAY], ILL)

    # Monday's next version: S1 is no longer on the day; its entry says where it went.
    assert "S1" not in stops_of(monday)
    s1 = unassigned_of(monday)["S1"]
    assert s1["code"] == "moved"
    assert s1["moved_to"] == {"date": TUESDAY, "plan_id": plans[TUESDAY]}
    # Tuesday's next version holds it, stored with Monday's in one go.
    assert store.plan_versions(plans[MONDAY]) == [1, 2]
    assert store.plan_versions(plans[TUESDAY]) == [1, 2]
    tuesday = store.load_plan(plans[TUESDAY])
    technician, stop = stops_of(tuesday)["S1"]
    assert stop["arrival"].startswith(TUESDAY)
    # Nobody else's promise moved on Tuesday.
    for visit_id in ("B1", "B2"):
        assert (
            stops_of(tuesday)[visit_id][1]["promised_window"]
            == stops_of(tuesday_before)[visit_id][1]["promised_window"]
        )
    # The call list of the answer names the customer with both dates and both windows, and
    # Tuesday's version carries the same change.
    (call,) = [c for c in monday["changes"] if c["visit_id"] == "S1"]
    old_technician, old_stop = stops_of(store.load_plan(plans[MONDAY], 1))["S1"]
    assert call == {
        "visit_id": "S1", "customer": "Wu Fang", "phone": "+86 199 4981 3576",
        "old_technician": old_technician, "new_technician": technician,
        "old_arrival": old_stop["arrival"], "new_arrival": stop["arrival"],
        "moved_min": call["moved_min"], "notify": True, "reason": call["reason"],
        "old_date": MONDAY, "new_date": TUESDAY,
        "old_plan_id": plans[MONDAY], "new_plan_id": plans[TUESDAY],
        "old_window": old_stop["promised_window"], "new_window": stop["promised_window"],
    }  # fmt: skip
    assert call["reason"].startswith(f"moved from {MONDAY} to {TUESDAY}")
    assert [c for c in tuesday["changes"] if c["visit_id"] == "S1"] == [call]
    # Tuesday's batch records the booking and why.
    (batch,) = store.load_events(plans[TUESDAY])
    assert [(e["type"], e["visit"]["id"]) for e in batch["events"]] == [("new_visit", "S1")]
    assert batch["moved_from"] == {"date": MONDAY, "plan_id": plans[MONDAY], "version": 2}
    assert batch["version"] == 2  # the version it made (it was written against 1)
    # Both days pass the checker.
    assert_checked(store, plans[MONDAY])
    assert_checked(store, plans[TUESDAY])


def test_a_visit_moved_into_today_s_plan_is_booked_from_now_not_into_hours_gone(
    store: Store, plans: dict[str, str]
) -> None:
    # Monday's batch sent on Tuesday at 10:05: S1 went into Tuesday at 08:10, a promised
    # window the customer heard of two hours after it had passed.
    now = datetime.fromisoformat(f"{TUESDAY}T10:05:00+08:00")
    monday = replan_stored(store, plans[MONDAY], ILL, params=QUICK, now=now)
    assert unassigned_of(monday.model_dump(mode="json"))["S1"]["code"] == "moved"
    _, stop = stops_of(store.load_plan(plans[TUESDAY]))["S1"]
    assert datetime.fromisoformat(stop["arrival"]) >= now
    assert_checked(store, plans[TUESDAY])


def test_a_new_visit_may_not_take_the_id_of_a_visit_of_another_date_of_its_week(
    store: Store, plans: dict[str, str]
) -> None:
    # Tuesday's new "A1" was accepted; reported done, rolling the week forward dropped
    # Monday's A1, an appointment nobody had served.
    taken = {"id": "A1", "location_index": 6, "duration_min": 30}
    batch = {"at": "08:00", "events": [{"type": "delay", "technician_id": "T1", "minutes": 5},
                                       {"type": "new_visit", "visit": taken}]}  # fmt: skip
    with pytest.raises(InputError) as caught:
        replan(store, plans[TUESDAY], batch)
    [error] = caught.value.errors
    assert (error.path, error.entity_id) == ("events[1].visit.id", "A1")
    assert error.message.startswith(f"'A1' is already a visit on {MONDAY} in this plan's week")
    slot = {"date": TUESDAY, "window": {"start": "10:00", "end": "12:00"}}
    with pytest.raises(InputError) as caught:
        book_stored(store, plans[TUESDAY], {"visit": taken, "slot": slot})
    assert [(e.path, e.entity_id) for e in caught.value.errors] == [("visit.id", "A1")]
    # Nor are slots offered for it (each was refused when booked), by plan or by week.
    week = store.week_of_plan(plans[TUESDAY])
    assert week is not None
    for asked in (plans[TUESDAY], week.week_id):
        with pytest.raises(InputError) as caught:
            slots_stored(store, {"plan_id": asked, "visit": taken, "shape": "two_hours"})
        assert [(e.path, e.entity_id) for e in caught.value.errors] == [("visit.id", "A1")]
    assert store.plan_versions(plans[TUESDAY]) == [1]  # nothing stored
    fresh = {"type": "new_visit", "visit": {**taken, "id": "N1"}}
    assert replan(store, plans[TUESDAY], {"at": "08:00", "events": [fresh]})["version"] == 2


def test_a_fixed_appointment_and_a_span_ending_that_day_stay_on_it(
    store: Store, plans: dict[str, str]
) -> None:
    monday = replan(store, plans[MONDAY], ILL)
    left = unassigned_of(monday)
    assert left["A1"]["code"] not in ("moved", "no_capacity_in_span")
    assert left["E1"]["code"] not in ("moved", "no_capacity_in_span")
    assert "moved_to" not in left["A1"] and "moved_to" not in left["E1"]
    tuesday = store.load_plan(plans[TUESDAY])
    assert set(stops_of(tuesday)) == {"B1", "B2", "S1"}
    assert {c["visit_id"] for c in monday["changes"] if "new_date" in c} == {"S1"}


def _tuesday_full(raw: dict[str, Any]) -> dict[str, Any]:
    """Tuesday: T2 off, T1 for the hour and a quarter B1 (now at 08:30) fills."""
    raw = copy.deepcopy(raw)
    raw["technicians"][1]["calendar"]["days_off"] = [TUESDAY]
    raw["technicians"][0]["calendar"] = {
        "dates": {TUESDAY: {"shift": {"start": "08:00", "end": "09:15"}}}
    }
    raw["visits"][3]["appointment"] = "08:30"
    return raw


def test_no_room_on_a_later_date_leaves_the_visit_on_its_day_saying_so(store: Store) -> None:
    raw = _tuesday_full(week())
    plans = store_week(store, raw, {**PLACED, TUESDAY: ["B1"]})
    monday = replan(store, plans[MONDAY], ILL)
    s1 = unassigned_of(monday)["S1"]
    assert s1["code"] == "no_capacity_in_span"
    assert s1["reason"].endswith(f"no later date of its span had room ({TUESDAY})")
    assert "moved_to" not in s1
    assert store.plan_versions(plans[TUESDAY]) == [1]
    assert store.plan_versions(plans[MONDAY]) == [1, 2]


def test_the_first_later_date_with_room_takes_it(store: Store) -> None:
    raw = _tuesday_full(week())
    raw["visits"][0]["latest"] = f"{WEDNESDAY}T12:00"
    plans = store_week(store, raw, {**PLACED, TUESDAY: ["B1"]})
    monday = replan(store, plans[MONDAY], ILL)
    assert unassigned_of(monday)["S1"]["moved_to"] == {
        "date": WEDNESDAY,
        "plan_id": plans[WEDNESDAY],
    }
    assert store.plan_versions(plans[TUESDAY]) == [1]
    assert "S1" in stops_of(store.load_plan(plans[WEDNESDAY]))
    assert_checked(store, plans[WEDNESDAY])


def test_several_visits_moving_to_one_date_make_one_version_of_it(store: Store) -> None:
    raw = week()
    raw["visits"].append(
        {"id": "S2", "customer": "Li Na", "location_index": 6, "duration_min": 30,
         "reported_at": f"{MONDAY}T11:00"}
    )  # fmt: skip
    plans = store_week(store, raw, {**PLACED, MONDAY: ["S1", "S2", "A1", "E1"]})
    tuesday_before = store.load_plan(plans[TUESDAY])
    monday = replan(store, plans[MONDAY], ILL)
    assert {u["visit_id"]: u["code"] for u in monday["unassigned"]}["S2"] == "moved"
    assert store.plan_versions(plans[TUESDAY]) == [1, 2]
    tuesday = store.load_plan(plans[TUESDAY])
    (batch,) = store.load_events(plans[TUESDAY])
    assert sorted(e["visit"]["id"] for e in batch["events"]) == ["S1", "S2"]
    moved = {c["visit_id"] for c in tuesday["changes"] if c.get("old_date") == MONDAY}
    assert moved == {"S1", "S2"}
    for visit_id in ("B1", "B2"):
        assert (
            stops_of(tuesday)[visit_id][1]["promised_window"]
            == stops_of(tuesday_before)[visit_id][1]["promised_window"]
        )
    assert_checked(store, plans[TUESDAY])


def test_a_move_the_checker_faults_stores_nothing(
    store: Store, plans: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def faulting(
        raw: Any, problem: Any, document: Any, provider: Any, *, previous: Any = None
    ) -> CheckReport:
        if (document["plan_id"], document["version"]) != (plans[TUESDAY], 2):
            return check_day(raw, problem, document, provider, previous=previous)
        broken = Violation("late", "B1", "B1 reached after its appointment")
        return CheckReport((broken,), 3, 1, 1)

    monkeypatch.setattr(dispatch.desk.solve, "check_day", faulting)
    with pytest.raises(InternalError, match="B1 reached after its appointment"):
        replan(store, plans[MONDAY], ILL)
    assert store.plan_versions(plans[MONDAY]) == [1]
    assert store.plan_versions(plans[TUESDAY]) == [1]


def test_a_delay_that_runs_past_the_shift_still_moves_what_it_displaced(store: Store) -> None:
    # T1 reports S1 started at 08:10 and 230 minutes' delay: S1 runs to 12:30, T1 is home at
    # 12:40, past their shift (the report forces it), and S2 moves to Tuesday. The move held
    # Monday's version to the checker and refused the whole batch for the overtime (a 500).
    # Monday is checked as any re-plan (the overtime logged), Tuesday as a booking is.
    raw = week()
    raw["visits"].append(
        {"id": "S2", "location_index": 6, "duration_min": 30,
         "earliest": f"{MONDAY}T08:00", "latest": f"{TUESDAY}T12:00"}
    )  # fmt: skip
    plans = store_week(store, raw, {**PLACED, MONDAY: ["S1", "A1", "E1", "S2"]})
    assert stops_of(store.load_plan(plans[MONDAY]))["S1"][1]["arrival"][11:16] == "08:10"
    monday = replan(store, plans[MONDAY], {"at": "08:30", "events": [
        {"type": "started", "visit_id": "S1", "at": "08:10"},
        {"type": "delay", "technician_id": "T1", "minutes": 230}]})  # fmt: skip
    assert monday["routes"][0]["end_time"][11:16] == "12:40"
    left = {item["visit_id"]: item for item in monday["unassigned"]}
    assert left["S2"]["code"] == "moved" and left["S2"]["moved_to"]["date"] == TUESDAY
    assert "S2" in stops_of(store.load_plan(plans[TUESDAY]))
    assert_checked(store, plans[TUESDAY])
    raw_monday = store.load_problem_of_plan(plans[MONDAY], 2)
    report = check_day(
        raw_monday,
        parse_problem(raw_monday, stored=True),
        monday,
        provider_for(parse_problem(raw_monday, stored=True)),
    )
    assert [(v.code, v.subject) for v in report.violations] == [("shift", "T1")]


class _Meanwhile(Store):
    """A store where, as each of its next saves of re-planned versions begins, another writer
    does one thing more (``meanwhile``, first first) through a store of its own: a desk at
    another screen, between this writer's reading and its save."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.meanwhile: list[Callable[[Store], object]] = []

    def save_replans(self, days: Sequence[ReplannedDay], *, week: PlanWeek | None = None) -> None:
        if self.meanwhile:
            other = Store(self.url)
            try:
                self.meanwhile.pop(0)(other)
            finally:
                other.close()
        super().save_replans(days, week=week)


def _tuesday_delayed(plan_id: str) -> Callable[[Store], object]:
    return lambda other: replan_stored(other, plan_id, _DELAY, params=QUICK)


def test_a_version_of_another_date_stored_meanwhile_is_read_and_the_batch_made_again(
    database_url: str,
) -> None:
    racing = _Meanwhile(database_url)
    try:
        plans = store_week(racing, week())
        racing.meanwhile = [_tuesday_delayed(plans[TUESDAY])]
        monday = replan(racing, plans[MONDAY], ILL)
        # Made again on Tuesday's version 2: S1 moved into version 3, the delay kept.
        assert unassigned_of(monday)["S1"]["code"] == "moved"
        assert racing.plan_versions(plans[MONDAY]) == [1, 2]
        assert racing.plan_versions(plans[TUESDAY]) == [1, 2, 3]
        assert "S1" in stops_of(racing.load_plan(plans[TUESDAY]))
        assert [len(batch["events"]) for batch in racing.load_events(plans[TUESDAY])] == [1, 1]
        stored = racing.week_of_plan(plans[MONDAY])
        assert stored is not None and stored.revision == 2  # Tuesday's batch, then Monday's
        assert_checked(racing, plans[MONDAY])
        assert_checked(racing, plans[TUESDAY])
    finally:
        racing.close()


def test_a_week_that_keeps_changing_refuses_the_batch_whole(database_url: str) -> None:
    racing = _Meanwhile(database_url)
    try:
        plans = store_week(racing, week())
        racing.meanwhile = [_tuesday_delayed(plans[TUESDAY]) for _ in range(WEEK_TRIES)]
        with pytest.raises(StoreConflictError, match=f"another date of week .* {MONDAY}"):
            replan(racing, plans[MONDAY], ILL)
        assert racing.plan_versions(plans[MONDAY]) == [1]
        assert racing.plan_versions(plans[TUESDAY]) == list(range(1, WEEK_TRIES + 2))
        assert "S1" not in stops_of(racing.load_plan(plans[TUESDAY]))
        assert racing.load_events(plans[MONDAY]) == []
    finally:
        racing.close()


def test_a_save_against_a_week_read_before_another_date_changed_is_refused(
    store: Store, plans: dict[str, str]
) -> None:
    before = store.week_of_plan(plans[MONDAY])
    assert before is not None and before.revision == 0
    replan(store, plans[TUESDAY], _DELAY)
    after = store.week_of_plan(plans[MONDAY])
    assert after is not None and after.revision == 1
    again = ReplannedDay(
        "pb_again",
        store.load_problem_of_plan(plans[MONDAY], 1),
        {**store.load_plan(plans[MONDAY]), "version": 2},
        _DELAY,
        None,
    )
    with pytest.raises(WeekMovedError, match=f"another date of week {before.week_id}"):
        store.save_replans([again], week=before)
    assert store.plan_versions(plans[MONDAY]) == [1]
    store.save_replans([again], week=after)
    assert store.plan_versions(plans[MONDAY]) == [1, 2]
    moved_on = store.week_of_plan(plans[MONDAY])
    assert moved_on is not None and moved_on.revision == 2


def test_the_store_finds_a_plans_week_on_each_database(store: Store) -> None:
    plans = store_week(store, week())
    found = store.week_of_plan(plans[TUESDAY])
    assert found is not None
    assert found.date == TUESDAY
    assert found.days == (
        (MONDAY, plans[MONDAY]),
        (TUESDAY, plans[TUESDAY]),
        (WEDNESDAY, plans[WEDNESDAY]),
    )
    assert store.load_week(found.week_id)["problem_id"] == found.problem_id
    assert store.week_of_plan("pl_missing") is None


def test_a_batch_may_keep_the_days_visits_on_it(store: Store, plans: dict[str, str]) -> None:
    monday = replan(store, plans[MONDAY], {**ILL, "move_across_dates": False})
    s1 = unassigned_of(monday)["S1"]
    assert s1["code"] not in ("moved", "no_capacity_in_span")
    assert store.plan_versions(plans[TUESDAY]) == [1]


def test_a_moved_visit_stays_listed_as_moved_and_is_reported_on_its_new_date(
    store: Store, plans: dict[str, str]
) -> None:
    replan(store, plans[MONDAY], ILL)
    again = replan(
        store,
        plans[MONDAY],
        {"at": "08:00", "events": [{"type": "cancelled", "visit_id": "E1", "reason": "away"}]},
    )
    s1 = unassigned_of(again)["S1"]
    assert (s1["code"], s1["moved_to"]) == ("moved", {"date": TUESDAY, "plan_id": plans[TUESDAY]})
    assert unassigned_of(again)["E1"]["code"] == "cancelled"
    assert again["kpis"]["visits"] == 3
    assert_checked(store, plans[MONDAY])
    with pytest.raises(InputError) as caught:
        replan(
            store,
            plans[MONDAY],
            {"at": "08:30", "events": [{"type": "cancelled", "visit_id": "S1"}]},
        )
    (error,) = caught.value.errors
    assert (error.path, error.entity_id) == ("events[0]", "S1")
    assert f"moved to {TUESDAY} (plan {plans[TUESDAY]})" in error.message
    assert store.plan_versions(plans[MONDAY]) == [1, 2, 3]


def test_a_day_of_no_week_re_plans_as_before(store: Store) -> None:
    raw = {
        "date": MONDAY,
        "timezone": "Asia/Shanghai",
        "policy": {"time_limit_s": 1, "replan_time_limit_s": 1},
        "travel": {"durations_min": MINUTES, "distances_km": KM},
        "technicians": [
            {"id": "T1", "location_index": 0, "shift": {"start": "08:00", "end": "12:00"}},
            {"id": "T2", "location_index": 0, "shift": {"start": "11:50", "end": "12:00"}},
        ],
        "visits": [{"id": "S1", "location_index": 1, "duration_min": 30}],
    }
    problem = parse_problem(raw)
    plan = plan_day(problem, params=QUICK)
    document = plan_document(
        problem, plan, plan_id="pl_day", version=1, created_at=datetime.now(UTC)
    ).model_dump(mode="json")
    store.save_problem_and_plan(raw, document, problem_id="pb_day", record=plan_record(plan))
    assert store.week_of_plan("pl_day") is None
    answer = replan(store, "pl_day", ILL)
    (item,) = answer["unassigned"]
    assert item["visit_id"] == "S1" and item["code"] not in ("moved", "no_capacity_in_span")
    assert "moved_to" not in item
    (change,) = answer["changes"]
    assert "new_date" not in change and change["notify"] is True


def test_the_contracts_example_of_a_move_is_a_change_it_writes() -> None:
    text = (Path(__file__).parents[2] / "docs/contract.md").read_text(encoding="utf-8")
    section = text[text.index("## Re-planning a day of a week") :]
    example = json.loads(section[section.index("```json") + 7 : section.index("```\n\n")])
    change = ChangeOut.model_validate(example)
    assert (change.old_date, change.new_date) == (MONDAY, TUESDAY)
    assert change.new_window is not None and change.notify


def _s1_pushed_out_of_monday(store: Store) -> dict[str, str]:
    """A week where S1 (low) made way on Monday for an urgent visit (U1), left out there (not
    moved); each date's plan id."""
    raw = week()
    raw["technicians"][0]["calendar"] = {
        "dates": {MONDAY: {"shift": {"start": "08:00", "end": "09:30"}}}
    }
    raw["visits"] = [v for v in raw["visits"] if v["id"] != "A1"]
    raw["visits"][0]["priority"] = "low"  # S1
    plans = store_week(store, raw, {MONDAY: ["S1", "E1"], TUESDAY: ["B1", "B2"], WEDNESDAY: []})
    urgent = {"id": "U1", "location_index": 6, "duration_min": 30, "priority": "urgent",
              "technician": "T1"}  # fmt: skip
    pushing = {"type": "new_visit", "visit": urgent}
    pushed = replan(
        store, plans[MONDAY], {"at": "07:30", "move_across_dates": False, "events": [pushing]}
    )
    assert "S1" in unassigned_of(pushed) and "S1" not in stops_of(pushed)
    return plans


#: S1 as the desk books it again, by its own id, and the slot it is booked into on Tuesday.
S1_AGAIN = {"id": "S1", "location_index": 1, "duration_min": 30}
TUESDAY_MORNING = {"date": TUESDAY, "window": {"start": "10:00", "end": "12:00"}}
#: Monday's urgent visit called off: Monday has room for S1 again.
CALLED_OFF = {"at": "07:40", "events": [{"type": "cancelled", "visit_id": "U1"}]}


def _dates_serving(store: Store, plans: dict[str, str], visit_id: str) -> list[str]:
    """The dates whose latest version has ``visit_id`` on a route."""
    return [
        when for when, plan_id in plans.items() if visit_id in stops_of(store.load_plan(plan_id))
    ]


def test_a_visit_booked_again_on_another_date_is_not_put_back_on_its_day(store: Store) -> None:
    # S1 (low) made way on Monday for an urgent visit and was booked on Tuesday by its own id;
    # the urgent visit then cancelled, Monday's re-plan put S1 back on its route: the same
    # customer was sent two technicians, on Monday and on Tuesday.
    plans = _s1_pushed_out_of_monday(store)
    s1 = S1_AGAIN
    # Asked over the week, its slots are on the other dates (the whole request was refused:
    # "duplicate visit id 'S1' in the day").
    stored_week = store.week_of_plan(plans[MONDAY])
    assert stored_week is not None
    asked = {"plan_id": stored_week.week_id, "visit": s1, "shape": "two_hours"}
    offered = slots_stored(store, asked)
    assert offered.slots and {slot.date for slot in offered.slots} <= {TUESDAY, WEDNESDAY}
    book_stored(store, plans[TUESDAY], {"visit": s1, "slot": TUESDAY_MORNING})
    back = replan(store, plans[MONDAY], CALLED_OFF)
    assert "S1" not in stops_of(back)
    entry = unassigned_of(back)["S1"]
    assert entry["code"] == "moved"
    assert entry["moved_to"] == {"date": TUESDAY, "plan_id": plans[TUESDAY]}
    assert entry["reason"].startswith(f"booked on {TUESDAY} in plan {plans[TUESDAY]}")
    with pytest.raises(InputError) as caught:
        replan(store, plans[MONDAY], {"at": "07:45", "events": [{"type": "cancelled",
                                                                "visit_id": "S1"}]})  # fmt: skip
    assert "S1 was moved to" in caught.value.errors[0].message
    assert_checked(store, plans[MONDAY])


def test_a_booking_on_another_date_landing_during_a_re_plan_is_read_before_the_save(
    database_url: str,
) -> None:
    # The same two writes at once: Monday's re-plan read Tuesday before S1 was booked there,
    # saved after, and put S1 back on Monday's route as well.
    racing = _Meanwhile(database_url)
    try:
        plans = _s1_pushed_out_of_monday(racing)
        booking = {"visit": S1_AGAIN, "slot": TUESDAY_MORNING}
        racing.meanwhile = [lambda other: book_stored(other, plans[TUESDAY], booking)]
        back = replan(racing, plans[MONDAY], CALLED_OFF)
        assert unassigned_of(back)["S1"]["code"] == "moved"
        assert _dates_serving(racing, plans, "S1") == [TUESDAY]
        assert_checked(racing, plans[MONDAY])
    finally:
        racing.close()


def test_two_dates_booking_one_visit_at_once_book_it_on_one(database_url: str) -> None:
    racing = _Meanwhile(database_url)
    try:
        plans = _s1_pushed_out_of_monday(racing)
        wednesday = {"visit": S1_AGAIN, "slot": {**TUESDAY_MORNING, "date": WEDNESDAY}}
        racing.meanwhile = [lambda other: book_stored(other, plans[WEDNESDAY], wednesday)]
        with pytest.raises(InputError) as caught:
            book_stored(racing, plans[TUESDAY], {"visit": S1_AGAIN, "slot": TUESDAY_MORNING})
        [error] = caught.value.errors
        assert (error.path, error.entity_id) == ("visit.id", "S1")
        assert error.message.startswith(f"'S1' is already a visit on {WEDNESDAY}")
        assert _dates_serving(racing, plans, "S1") == [WEDNESDAY]
        assert racing.plan_versions(plans[TUESDAY]) == [1]
    finally:
        racing.close()


def test_bookings_and_taps_are_not_refused_for_other_dates_changing_meanwhile(
    database_url: str,
) -> None:
    # Desks booking on other dates all the while: one driver's delay tap in 27, and one
    # booking in ten, was refused 409 "another date of week ... changed", though none of
    # those bookings touched a visit of theirs.
    racing = _Meanwhile(database_url)
    try:
        plans = _s1_pushed_out_of_monday(racing)
        held_up = {**_DELAY, "events": [{"type": "delay", "technician_id": "T2", "minutes": 1}]}
        elsewhere = [
            lambda other: replan_stored(other, plans[WEDNESDAY], held_up, params=QUICK)
            for _ in range(2 * WEEK_TRIES + 2)
        ]
        racing.meanwhile = list(elsewhere)
        booked = book_stored(racing, plans[TUESDAY], {"visit": S1_AGAIN, "slot": TUESDAY_MORNING})
        assert booked.version == 2 and _dates_serving(racing, plans, "S1") == [TUESDAY]
        racing.meanwhile = list(elsewhere)
        tapped = replan(racing, plans[TUESDAY], {**_DELAY, "at": "08:00"})
        assert tapped["version"] == 3
        assert racing.plan_versions(plans[WEDNESDAY]) == list(range(1, 2 * len(elsewhere) + 2))
    finally:
        racing.close()
