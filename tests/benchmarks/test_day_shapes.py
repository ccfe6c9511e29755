"""Reshaped field days: valid, what their name says, the same for the same seed."""

from __future__ import annotations

import pytest

from benchmarks.day_shapes import SHAPES, reshape
from benchmarks.dayset import generate_day
from benchmarks.field_seeds import generate
from dispatch.contract.validate import parse_problem


@pytest.mark.parametrize("shape", SHAPES)
def test_every_shape_keeps_the_day_valid_and_the_same_for_the_same_seed(shape: str) -> None:
    day = generate_day(60, 3)
    shaped = reshape(day, shape, 3)
    problem = parse_problem(shaped)
    assert len(problem.visits) == 60
    assert shaped == reshape(day, shape, 3)
    assert day == generate_day(60, 3)  # the day given is left as it was
    assert generate(f"dayset+{shape}", 60, 3) == shaped


@pytest.mark.parametrize("make", ["city", "rural"])
def test_every_shape_of_the_other_makers_days_is_valid(make: str) -> None:
    # Their early shifts end at 15:30: an afternoon rest from 15:00 to 16:00 for everyone
    # made each tea-and-lunch day of theirs an input error.
    for shape in SHAPES:
        problem = parse_problem(generate(f"{make}+{shape}", 60, 3))
        assert len(problem.visits) == 60


def test_each_shape_changes_what_its_name_says() -> None:
    day = generate_day(60, 3)
    tea = parse_problem(reshape(day, "tea_and_lunch", 1))
    # The tea inside the lunch window is taken first.
    assert all(
        [rest.window.start.strftime("%H:%M") for rest in t.breaks] == ["12:00", "11:30", "15:00"]
        for t in tea.technicians
    )
    booked = parse_problem(reshape(day, "all_appointments", 1))
    assert all(v.appointment is not None for v in booked.visits)
    free = parse_problem(reshape(day, "no_appointments", 1))
    assert all(v.appointment is None for v in free.visits)
    crews = parse_problem(reshape(day, "crews", 1))
    assert {v.crew_size for v in crews.visits} == {1, 2} == {t.crew_size for t in crews.technicians}
    trades = parse_problem(reshape(day, "narrow_skills", 1))
    assert all(len(v.required_skills) == 1 for v in trades.visits)
    assert all(1 <= len(t.skills) <= 2 for t in trades.technicians)
    near = parse_problem(reshape(day, "tight_radius", 1))
    assert {t.service_radius_km for t in near.technicians} == {8}
    urgent = parse_problem(reshape(day, "urgent_heavy", 1))
    assert sum(v.reported_at is not None for v in urgent.visits) >= 60 // 5 - 5
    longer = parse_problem(reshape(day, "long_jobs", 1))
    before = parse_problem(day).visits
    assert sum(v.duration.total_seconds() for v in longer.visits) > 2 * sum(
        v.duration.total_seconds() for v in before
    )


def test_an_unknown_shape_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="'square'"):
        reshape(generate_day(12, 1), "square", 1)
