"""Shared fixtures: small hand-made days in the contract's JSON."""

from __future__ import annotations

import copy
from typing import Any

import pytest

#: Four sites on a line, 10 minutes and 5 km apart: 0 base, 1, 2, 3.
LINE_MINUTES = [[abs(i - j) * 10 for j in range(4)] for i in range(4)]
LINE_KM = [[abs(i - j) * 5.0 for j in range(4)] for i in range(4)]


def line_day(**overrides: Any) -> dict[str, Any]:
    """One technician at site 0, three visits at sites 1-3 of an explicit matrix."""
    day: dict[str, Any] = {
        "date": "2026-11-23",
        "timezone": "Asia/Shanghai",
        "policy": {"time_limit_s": 1},
        "travel": {"durations_min": LINE_MINUTES, "distances_km": LINE_KM},
        "technicians": [
            {
                "id": "T1",
                "name": "Li Wei",
                "skills": ["water_heater"],
                "location_index": 0,
                "shift": {"start": "08:00", "end": "18:00"},
            }
        ],
        "visits": [
            {"id": f"V{i}", "location_index": i, "duration_min": 30, "customer": f"C{i}"}
            for i in (1, 2, 3)
        ],
    }
    day.update(overrides)
    return copy.deepcopy(day)


@pytest.fixture
def day() -> dict[str, Any]:
    """A fresh copy of ``line_day()`` to modify."""
    return line_day()
