"""Field days reshaped: the same generated day with one of its features pushed to an end.

A search tuned on the makers' days (``benchmarks.dayset``, ``benchmarks.townset``) meets days
of other shapes in the field: a tea break inside every lunch window, every visit booked to the
minute, jobs three times as long, two-person crews, narrow trades, a tight radius, a morning of
urgent faults. ``reshape(day, shape, seed)`` turns a generated day into one of them, the same
way for the same seed; ``benchmarks.field_seeds --shapes`` plans them beside VROOM. Each
shape keeps the day a valid problem of the contract.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from typing import Any

from benchmarks.dayset import clock_minutes, clock_text

__all__ = ["SHAPES", "reshape"]

Day = dict[str, Any]

#: Trades of ``narrow_skills``: each technician has one or two of them, each visit needs one.
TRADES = ("gas", "air_conditioner", "cctv", "piano")


def _tea_and_lunch(day: Day, rng: random.Random) -> None:
    """Three breaks each: a lunch of 45 minutes in the technician's own lunch window (their
    first break's; 11:30-13:30 without one), a tea of 10 minutes inside it from half an hour
    after it opens, for 20 minutes (taken first), and an afternoon rest of 15 minutes in the
    hour from an hour and a half after the lunch window closes, moved sooner to end by the
    shift's end. On a dayset day: lunch 11:30-13:30, tea 12:00-12:20, rest 15:00-16:00."""
    del rng
    for technician in day["technicians"]:
        own = technician.get("breaks") or [{"start": "11:30", "end": "13:30"}]
        opens, closes = clock_minutes(own[0]["start"]), clock_minutes(own[0]["end"])
        rest_end = min(closes + 150, clock_minutes(technician["shift"]["end"]))
        technician["breaks"] = [
            {"start": clock_text(opens), "end": clock_text(closes), "duration_min": 45},
            {"start": clock_text(opens + 30), "end": clock_text(opens + 50), "duration_min": 10},
            {"start": clock_text(rest_end - 60), "end": clock_text(rest_end), "duration_min": 15},
        ]


def _all_appointments(day: Day, rng: random.Random) -> None:
    """Every visit booked to the minute: an appointment on the half hour from 09:00 to 16:30
    (no window, no urgent clock)."""
    for visit in day["visits"]:
        for key in ("window", "reported_at"):
            visit.pop(key, None)
        visit["appointment"] = f"{rng.randint(9, 16):02d}:{rng.choice(('00', '30'))}"


def _no_appointments(day: Day, rng: random.Random) -> None:
    """No visit booked to the minute: appointments dropped, windows kept."""
    del rng
    for visit in day["visits"]:
        visit.pop("appointment", None)


def _long_jobs(day: Day, rng: random.Random) -> None:
    """Jobs three times as long (at most eight hours): installations rather than repairs."""
    del rng
    for visit in day["visits"]:
        visit["duration_min"] = min(480, visit["duration_min"] * 3)


def _crews(day: Day, rng: random.Random) -> None:
    """A third of the roster are two-person crews, and a quarter of the visits need one."""
    del rng
    for k, technician in enumerate(day["technicians"]):
        technician["crew_size"] = 2 if k % 3 == 0 else 1
    for k, visit in enumerate(day["visits"]):
        visit["crew_size"] = 2 if k % 4 == 0 else 1


def _narrow_skills(day: Day, rng: random.Random) -> None:
    """Narrow trades: each technician has one or two of four, each visit needs one; pins and
    preferences dropped (they would name someone without the trade)."""
    for k, technician in enumerate(day["technicians"]):
        technician["skills"] = [TRADES[k % 4], *([TRADES[(k + 1) % 4]] if k % 2 else [])]
    for visit in day["visits"]:
        visit["required_skills"] = [rng.choice(TRADES)]
        visit.pop("technician", None)
        visit.pop("preferred_technician", None)


def _tight_radius(day: Day, rng: random.Random) -> None:
    """Nobody is sent more than 8 km from their base."""
    del rng
    for technician in day["technicians"]:
        technician["service_radius_km"] = 8


def _urgent_heavy(day: Day, rng: random.Random) -> None:
    """A fifth of the visits (those without an appointment) are urgent faults reported between
    07:00 and 13:59."""
    for k, visit in enumerate(day["visits"]):
        if k % 5 == 0 and "appointment" not in visit:
            visit["priority"] = "urgent"
            visit["reported_at"] = f"{rng.randint(7, 13):02d}:{rng.randint(0, 59):02d}"


#: Every shape by name.
SHAPES: dict[str, Callable[[Day, random.Random], None]] = {
    "tea_and_lunch": _tea_and_lunch,
    "all_appointments": _all_appointments,
    "no_appointments": _no_appointments,
    "long_jobs": _long_jobs,
    "crews": _crews,
    "narrow_skills": _narrow_skills,
    "tight_radius": _tight_radius,
    "urgent_heavy": _urgent_heavy,
}


def reshape(day: Day, shape: str, seed: int) -> Day:
    """``day`` in ``shape`` (a name of ``SHAPES``), drawn from ``seed``; ``day`` is not
    changed.

    Raises
    ------
    ValueError
        An unknown shape.
    """
    if shape not in SHAPES:
        raise ValueError(f"shape must be one of {', '.join(SHAPES)}, got {shape!r}")
    shaped = copy.deepcopy(day)
    SHAPES[shape](shaped, random.Random(seed))
    return shaped
