"""The long-horizon benchmark plans its generated horizon within the rules."""

from __future__ import annotations

from benchmarks.long_horizon import VISITS, horizon_problem, run
from dispatch.contract.horizon import parse_horizon


def test_half_the_visits_are_in_at_set_hours_on_any_day_of_the_horizon() -> None:
    raw = horizon_problem(3, seed=7)
    assert raw["horizon"]["days"] == 3 and len(raw["visits"]) == VISITS
    daily = [visit for visit in parse_horizon(raw).visits if visit.daily_window is not None]
    assert len(daily) == VISITS // 2


def test_a_short_horizon_is_planned_without_a_violation() -> None:
    outcome = run(2, time_limit_s=1, seed=7)
    assert outcome["violations"] == 0 and outcome["served"] > 0
