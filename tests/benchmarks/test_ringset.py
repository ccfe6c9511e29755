"""The ring-and-river maker: valid days with an explicit one-way-biased matrix, staffed by
trades, certificates and crews, and a maker of the many-seed benchmark."""

from __future__ import annotations

import pytest

from benchmarks.field_seeds import generate, run_one
from benchmarks.ringset import MAX_VISITS, generate_ring_day
from dispatch.contract.validate import parse_problem
from dispatch.model import Priority


@pytest.mark.parametrize("mix", ["base", "crews", "urgent"])
def test_a_ring_day_is_valid_and_its_travel_is_one_way_biased(mix: str) -> None:
    raw = generate_ring_day(60, 3, mix)
    problem = parse_problem(raw)
    assert len(problem.visits) == 60 and problem.travel is not None
    minutes = raw["travel"]["durations_min"]
    n = len(minutes)
    assert any(minutes[a][b] != minutes[b][a] for a in range(n) for b in range(a + 1, n))
    crews = [t for t in problem.technicians if t.crew_size == 2]
    assert crews and all("delivery" in t.skills for t in crews)
    urgent = [v for v in problem.visits if v.priority is Priority.URGENT]
    assert urgent and all(v.reported_at is not None for v in urgent)
    assert generate_ring_day(60, 3, mix) == raw  # a seed draws the same day
    assert generate("ring", 60, 3) == generate_ring_day(60, 3)


def test_a_ring_day_refuses_what_it_cannot_make() -> None:
    with pytest.raises(ValueError, match="mix must be one of base, crews, urgent"):
        generate_ring_day(60, 1, "moon")
    with pytest.raises(ValueError, match=f"visits must be 1 to {MAX_VISITS}"):
        generate_ring_day(MAX_VISITS + 1, 1)
    with pytest.raises(ValueError, match="only the dayset maker takes a roster size"):
        generate("ring", 60, 1, technicians=12)


def test_ours_plans_a_ring_day_checked_against_the_contract() -> None:
    row = run_one("ring", 30, 1, 1.0, "ours")
    assert row["violations"] == 0 and row["weighted"] > 0
