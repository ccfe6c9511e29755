"""A second maker of field days, built differently from ``benchmarks.dayset``, so that a search
tuned on one maker shows on the other.

``dayset`` draws a Guangdong service centre: technicians leave from a few shared bases, days run
08:00-18:00, appointments sit on quarter hours. Here two other kinds of area are drawn, each
from its own seed:

- ``city``: a dense centre of about 8 km across, technicians leaving from their own homes in the
  suburbs, three shifts (early, day, late), short hops, and many appointments on the half hour
  and two-hour windows;
- ``rural``: a county of about 160 x 120 km with a dozen towns and two service centres, long
  drives, the 100 km service radius binding for some technicians, longer jobs and more
  half-day windows.

Both keep the handbook rules of the contract (the 5-10 minute band, urgent faults reported in
the morning and reached within two hours, preferred technicians, two-person delivery crews with
van room) and load the technicians to about 110 % of their hours, so a plan must choose what to
leave out. Days are plain contract problems (``docs/contract.md``); nothing here reads
``../shared/data``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from random import Random
from typing import Any, Literal

from benchmarks.dayset import clock_minutes, clock_text

__all__ = ["AREAS", "Area", "generate_town_day"]

Area = Literal["city", "rural"]
#: The kinds of area this maker draws.
AREAS: tuple[Area, ...] = ("city", "rural")
#: The date every generated day is planned for (a Tuesday).
DATE = "2026-12-08"
#: The smallest day drawn: a crew and two technicians need something to do.
MIN_VISITS = 10


@dataclass(frozen=True, slots=True)
class _Shape:
    """What tells one kind of area from the other."""

    centre: tuple[float, float]
    towns: int
    spread_km: float  # how far towns lie from the centre
    town_km: float  # how far a visit lies from its town's middle
    visits_per_technician: float
    duration_min: tuple[int, int]
    appointment_share: float
    two_hour_share: float
    half_day_share: float
    bases: int  # service centres; 0: technicians leave from home


_SHAPES: dict[Area, _Shape] = {
    "city": _Shape(
        centre=(60.17, 24.94),
        towns=1,
        spread_km=0.0,
        town_km=4.5,
        visits_per_technician=6.5,
        duration_min=(20, 90),
        appointment_share=0.45,
        two_hour_share=0.25,
        half_day_share=0.1,
        bases=0,
    ),
    "rural": _Shape(
        centre=(62.6, 29.7),
        towns=12,
        spread_km=75.0,
        town_km=6.0,
        visits_per_technician=3.8,
        duration_min=(30, 120),
        appointment_share=0.25,
        two_hour_share=0.2,
        half_day_share=0.3,
        bases=2,
    ),
}

#: Trades and how often a visit needs each; technicians hold one to three of them.
_TRADES = (("heat_pump", 0.25), ("boiler", 0.2), ("appliance", 0.3), ("electrical", 0.15))
_CREW_TRADE = "delivery"
#: Shifts: (start, end, break window start, break window end) in minutes after midnight.
_SHIFTS = (
    (7 * 60, 15 * 60 + 30, 11 * 60, 12 * 60 + 30),
    (8 * 60 + 30, 17 * 60, 11 * 60 + 30, 13 * 60 + 30),
    (11 * 60, 19 * 60 + 30, 15 * 60, 16 * 60 + 30),
)
_PRIORITIES = (("urgent", 0.05), ("high", 0.2), ("normal", 0.6), ("low", 0.15))
#: Average driving speed used to judge what a technician can reach (the engine's own times
#: are geodesic with circuity; this only shapes the draw).
_DRAW_KMH = 35.0


def _offset(rng: Random, centre: tuple[float, float], km: float) -> tuple[float, float]:
    """A point up to ``km`` from ``centre``, denser near it."""
    distance = km * math.sqrt(rng.random())
    angle = rng.uniform(0, 2 * math.pi)
    lat = centre[0] + distance * math.cos(angle) / 111.0
    lon = centre[1] + distance * math.sin(angle) / (111.0 * math.cos(math.radians(centre[0])))
    return round(lat, 5), round(lon, 5)


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat = math.radians((a[0] + b[0]) / 2)
    return 111.0 * math.hypot(a[0] - b[0], (a[1] - b[1]) * math.cos(lat))


def _pick(rng: Random, weighted: Sequence[tuple[str, float]]) -> str:
    return rng.choices([name for name, _ in weighted], [w for _, w in weighted])[0]


def generate_town_day(visits: int, seed: int, area: Area = "city") -> dict[str, Any]:
    """A day of ``visits`` visits in an ``area`` drawn from ``seed``: a contract problem.

    Raises ``ValueError`` for fewer than ``MIN_VISITS`` visits or an unknown area.
    """
    if visits < MIN_VISITS:
        raise ValueError(f"visits must be at least {MIN_VISITS}, got {visits}")
    if area not in _SHAPES:
        raise ValueError(f"area must be one of {', '.join(AREAS)}, got {area!r}")
    shape = _SHAPES[area]
    rng = Random(f"{area}-{seed}-{visits}")
    towns = [shape.centre] + [
        _offset(rng, shape.centre, shape.spread_km) for _ in range(shape.towns - 1)
    ]
    count = shape.bases and max(shape.bases, visits // 300)
    bases = [_offset(rng, shape.centre, shape.spread_km * 0.6) for _ in range(count)]
    technicians = _technicians(rng, shape, visits, towns, bases)
    drawn = [_visit(rng, shape, k + 1, towns, technicians) for k in range(visits)]
    return {
        "date": DATE,
        "timezone": "Europe/Helsinki",
        "policy": {"early_arrival_min": [5, 10], "service_radius_km": 100},
        "technicians": technicians,
        "visits": drawn,
    }


def _technicians(
    rng: Random,
    shape: _Shape,
    visits: int,
    towns: Sequence[tuple[float, float]],
    bases: Sequence[tuple[float, float]],
) -> list[dict[str, Any]]:
    count = max(3, round(visits / shape.visits_per_technician))
    crews = max(1, round(count * 0.1))
    result = []
    for k in range(count):
        crew = k < crews
        # From a service centre, or from home in the suburbs around the centre.
        home = bases[k % len(bases)] if bases else _offset(rng, shape.centre, shape.town_km * 2.2)
        start, end, break_from, break_to = _SHIFTS[k % len(_SHIFTS)]
        if crew:
            skills = [_CREW_TRADE]
        else:
            skills = sorted({_pick(rng, _TRADES) for _ in range(rng.choice((1, 2, 2, 3)))})
        tech: dict[str, Any] = {
            "id": f"{'C' if crew else 'T'}{k + 1:03d}",
            "name": f"{'Crew' if crew else 'Technician'} {k + 1}",
            "skills": skills,
            "start": {"lat": home[0], "lon": home[1]},
            "end": {"lat": home[0], "lon": home[1]},
            "shift": {"start": clock_text(start), "end": clock_text(end)},
            "breaks": [
                {"start": clock_text(break_from), "end": clock_text(break_to), "duration_min": 30}
            ],
        }
        if crew:
            tech["crew_size"] = 2
            tech["capacity"] = {"weight_kg": 900, "volume_m3": 9}
        result.append(tech)
    return result


def _visit(
    rng: Random,
    shape: _Shape,
    number: int,
    towns: Sequence[tuple[float, float]],
    technicians: Sequence[dict[str, Any]],
) -> dict[str, Any]:
    town = towns[min(len(towns) - 1, int(len(towns) * rng.random() ** 1.4))]
    location = _offset(rng, town, shape.town_km)
    delivery = rng.random() < 0.1
    skills = [_CREW_TRADE] if delivery else [_pick(rng, _TRADES)]
    low, high = shape.duration_min
    duration = 5 * round(rng.triangular(low, high, low + (high - low) / 3) / 5)
    visit: dict[str, Any] = {
        "id": f"V{number:04d}",
        "customer": f"Customer {number}",
        "location": {"lat": location[0], "lon": location[1]},
        "kind": "delivery" if delivery else rng.choice(("repair", "maintenance", "install")),
        "duration_min": duration,
        "required_skills": skills,
        "priority": "normal" if delivery else _pick(rng, _PRIORITIES),
    }
    if delivery:
        visit["crew_size"] = 2
        visit["demand"] = {"weight_kg": rng.choice((40, 80, 120, 250)), "volume_m3": 1}
    able = [
        t
        for t in technicians
        if set(skills) <= set(t["skills"])
        and _km((t["start"]["lat"], t["start"]["lon"]), location) <= 95
    ]
    if visit["priority"] == "urgent":
        # Reported in the morning by someone's shift; reached within two hours of it.
        opens = min((clock_minutes(t["shift"]["start"]) for t in able), default=8 * 60)
        visit["reported_at"] = clock_text(opens - 30 + 5 * rng.randrange(0, 37))
        return visit
    if able and rng.random() < 0.1:
        visit["preferred_technician"] = rng.choice(able)["id"]
    draw = rng.random()
    if able and draw < shape.appointment_share:
        tech = rng.choice(able)
        start, end = clock_minutes(tech["shift"]["start"]), clock_minutes(tech["shift"]["end"])
        reach = 15 + round(
            60 * _km((tech["start"]["lat"], tech["start"]["lon"]), location) / _DRAW_KMH
        )
        first, last = start + reach, end - reach - duration
        if first <= last:
            visit["appointment"] = clock_text(30 * math.ceil(rng.randint(first, last) / 30))
            if clock_minutes(visit["appointment"]) > last:
                visit["appointment"] = clock_text(30 * (last // 30))
        return visit
    draw -= shape.appointment_share
    if draw < shape.two_hour_share:
        begin = 60 * rng.randint(8, 16)
        visit["window"] = {"start": clock_text(begin), "end": clock_text(begin + 120)}
    elif draw < shape.two_hour_share + shape.half_day_share:
        morning = rng.random() < 0.5
        visit["window"] = (
            {"start": "08:00", "end": "12:00"} if morning else {"start": "12:00", "end": "17:00"}
        )
    return visit


def main(argv: Sequence[str] | None = None) -> int:
    """Print a generated day: ``python -m benchmarks.townset 250 --seed 3 --area rural``."""
    parser = argparse.ArgumentParser(description="Generate a city or rural field day")
    parser.add_argument("visits", type=int)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--area", choices=AREAS, default="city")
    args = parser.parse_args(argv)
    json.dump(generate_town_day(args.visits, args.seed, args.area), sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
