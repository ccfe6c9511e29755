"""The booking benchmark on a tiny week: every figure is there, and the roster option staffs
the days it plans."""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks import slots
from benchmarks.dayset import generate_day


@pytest.mark.parametrize("technicians", [None, 8])
def test_the_booking_benchmark_books_what_it_offers(technicians: int | None) -> None:
    figures = slots.run(24, 2, 2, 1.0, "two_hours", technicians)
    assert figures["booked"] == figures["offered"] and figures["violations"] == 0
    assert figures["day_median_s"] > 0 and figures["week_median_s"] > 0


def test_a_roster_given_staffs_each_day_with_it(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []

    def counting(visits: int, seed: int, technicians: int | None = None) -> dict[str, Any]:
        raw = generate_day(visits, seed, technicians=technicians)
        seen.append(len(raw["technicians"]))
        return raw

    monkeypatch.setattr(slots, "generate_day", counting)
    slots.run(24, 2, 1, 1.0, "two_hours", 9)
    assert seen == [9, 9]
