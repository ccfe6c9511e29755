"""Door times after a depot call with breaks placed around it (``dispatch.planning.calls``)."""

from __future__ import annotations

from dispatch.planning.calls import door_after_call
from solver import BreakRule

HOUR = 3_600
LUNCH = BreakRule(9 * HOUR, 10 * HOUR + 1_800, 1_800)  # 30 min starting 09:00-10:30


def door(leg_s: int, service_s: int, *breaks: BreakRule, earliest_s: int = 0) -> int | None:
    """The door after a call at 08:00 with 10 min of handling."""
    return door_after_call(8 * HOUR, 600, leg_s, earliest_s, service_s, breaks)


def test_without_breaks_the_door_is_the_call_and_the_drive() -> None:
    assert door(HOUR, 1_800) == 8 * HOUR + 600 + HOUR
    assert door(HOUR, 1_800, earliest_s=12 * HOUR) == 12 * HOUR


def test_a_break_the_visit_leaves_room_for_is_taken_after_it() -> None:
    assert door(HOUR, 1_800, LUNCH) == 8 * HOUR + 600 + HOUR


def test_a_break_that_must_fall_on_the_drive_on_makes_the_door_later() -> None:
    # 3 h on from 08:10: lunch from 09:00, at the door 11:40 (not 11:10).
    assert door(3 * HOUR, 2_700, LUNCH) == 11 * HOUR + 2_400


def test_a_break_that_opens_after_the_drive_is_taken_at_the_door() -> None:
    late_lunch = BreakRule(12 * HOUR, 12 * HOUR, 1_800)
    # At the door at 09:10, but the visit (4 h) would run over a lunch fixed at 12:00.
    assert door(HOUR, 4 * HOUR, late_lunch) == 12 * HOUR + 1_800


def test_a_break_is_taken_before_the_call_when_that_is_sooner() -> None:
    early = BreakRule(7 * HOUR, 8 * HOUR, 3_600)  # an hour starting 07:00-08:00
    # Before the call (07:00-08:00) costs nothing; on the way or after it would.
    assert door(HOUR, 5 * HOUR, early) == 8 * HOUR + 600 + HOUR


def test_a_call_waits_for_a_break_that_would_fall_in_its_handling() -> None:
    fixed = BreakRule(9 * HOUR, 9 * HOUR, 1_800)  # 09:00 sharp
    # Ready at 08:55, the call would hold the lunch: it is made at 09:30, at the door 10:40.
    assert door_after_call(8 * HOUR + 3_300, 600, HOUR, 0, 7_200, (fixed,)) == 10 * HOUR + 2_400


def test_breaks_that_fit_nowhere_give_no_door() -> None:
    fixed = BreakRule(9 * HOUR, 9 * HOUR, 1_800)
    assert door(HOUR, 1_800, fixed, fixed) is None
