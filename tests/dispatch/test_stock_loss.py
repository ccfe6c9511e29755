"""Units reported gone (``dispatch.stock.loss.strike``): struck from a lot that held them, the
holder never below zero, or not at all."""

from __future__ import annotations

from dispatch.stock.loss import strike


def test_a_unit_is_struck_from_the_first_lot_that_can_spare_it() -> None:
    # In 2 at the start, 1 used, 1 in at point 2: 2 held now; the start can spare one.
    assert strike([2, -1, 1], [(0, 2), (2, 1)], 1) == [1, 0]


def test_a_lot_used_up_before_a_later_one_came_in_cannot_give_a_unit() -> None:
    # The start's one was used (point 1); the unit gone must be the one that came in later.
    assert strike([1, -1, 1], [(0, 1), (2, 1)], 1) == [0, 1]
    # Two gone: one from each lot would leave the holder at -1 after point 1.
    assert strike([1, -1, 2], [(0, 1), (2, 2)], 2) == [0, 2]


def test_more_than_is_held_now_is_not_struck() -> None:
    assert strike([1, -1, 1], [(0, 1), (2, 1)], 2) is None
    assert strike([], [], 1) is None
