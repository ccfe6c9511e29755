"""The week benchmark runs both methods on the same week and both keep every rule."""

from __future__ import annotations

from benchmarks.week import day_by_day, one_horizon
from benchmarks.weekset import generate_week
from dispatch.contract.horizon import parse_horizon


def test_both_methods_plan_the_same_small_week_without_a_violation() -> None:
    raw = generate_week(12, seed=3, days=2)
    known = {visit.id for visit in parse_horizon(raw).visits}
    together = one_horizon(raw, seconds=2, seed=3)
    alone = day_by_day(raw, seconds_per_day=1, seed=3)
    for outcome in (together, alone):
        assert outcome.violations == 0
        assert outcome.served and set(outcome.served) <= known
        assert set(outcome.utilisation) <= set(parse_horizon(raw).dates)
    assert together.first_plan_s is not None
