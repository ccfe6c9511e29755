"""Ring-and-river days: a third maker of field days, built unlike ``dayset`` and ``townset``.

``python -m benchmarks.ringset --visits 250 --seed 3 -o ring-250-3.json``

The two other makers give coordinates and leave travel to the engine's geodesic model; this
one gives an explicit, one-way-biased matrix (``travel.durations_min``/``distances_km``, the
coordinates riding along for the radius): a ring city cut by a river with four bridges, where
crossing north queues 9 minutes at the bridge and crossing south 2, the ring is 10 % faster
clockwise and 12 % slower anticlockwise, and the core is slow. On it:

- a water-heater and air-conditioner service centre: each technician a trade or two and some
  certificates (``gas_safe``, ``heights``, ``refrigerant``); most visits ask a trade and a
  certificate, so one to seven technicians may serve them; a few pins and preferences;
- two-person delivery crews (furniture, pianos) from an out-of-town warehouse, with van room,
  jobs of 60-180 minutes in two-hour windows or at appointments;
- staggered shifts (07:00-15:30, 08:30-17:30 with a tea break, 11:00-20:00) with lunches, and
  three technicians in ten ending their day at home;
- urgent faults reported through the morning (07:15-13:00, most of them early), appointments
  on the quarter hour, two-hour, half-day and evening windows;
- more work than the roster's hours (about 1.3 times), so choosing by priority matters.

``MIXES`` vary the share of deliveries and of urgent faults (``base``, ``crews``, ``urgent``).
The matrix grows with the square of the sites: ``MAX_VISITS`` keeps a day's JSON to some
tens of megabytes. Written by an outside hunt of the solver's quality on days it never saw
(issue 18), and kept as a maker of ``benchmarks.field_seeds`` (``ring``).
"""

from __future__ import annotations

import argparse
import json
import math
import random
from collections.abc import Callable, Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any

__all__ = ["MAX_VISITS", "MIXES", "generate_ring_day", "main"]

#: The most visits a day may have: the matrix of 1,000 visits' sites is about 30 MB of JSON.
MAX_VISITS = 1_000
#: The mixes: (share of deliveries, share of urgent faults among service visits, visits a crew).
MIXES: dict[str, tuple[float, float, int]] = {
    "base": (0.2, 0.18, 30),
    "crews": (0.5, 0.18, 14),
    "urgent": (0.2, 0.4, 30),
}

_CENTRE = (30.25, 120.17)  # lat, lon of the city's centre
_KM_LAT = 111.2
_KM_LON = 111.2 * math.cos(math.radians(_CENTRE[0]))
_RIVER = (0.3, 1.0)  # the river: y = 0.3 x + 1 (km)
_BRIDGES_X = (-11.0, -2.5, 4.0, 13.0)
_TRADES = {"wh": ["wh_gas", "wh_electric"], "ac": ["ac_split", "ac_central"]}
_CERTIFICATES = ["gas_safe", "heights", "refrigerant"]
_SHIFTS = (  # (start, end, breaks as (window start, window end, minutes)), in minutes
    (7 * 60, 15 * 60 + 30, [(11 * 60, 12 * 60 + 30, 30)]),
    (8 * 60 + 30, 17 * 60 + 30, [(12 * 60, 13 * 60 + 30, 45), (15 * 60, 15 * 60 + 40, 10)]),
    (11 * 60, 20 * 60, [(14 * 60 + 30, 16 * 60, 30)]),
)
_SPEEDS = ((0, 14), (3, 22), (10, 36), (25, 52), (60, 60))  # km/h by trip length (km)

Point = tuple[float, float]


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _north_of_river(p: Point) -> bool:
    return p[1] > _RIVER[0] * p[0] + _RIVER[1]


def _speed_kmh(km: float, core: bool) -> float:
    speed = float(_SPEEDS[-1][1])
    for (d0, s0), (d1, s1) in pairwise(_SPEEDS):
        if km <= d1:
            speed = s0 + (s1 - s0) * (km - d0) / (d1 - d0)
            break
    return speed * (0.7 if core else 1.0)


def _leg(a: Point, b: Point) -> tuple[float, float]:
    """(minutes, km) from ``a`` to ``b``: over a bridge when they lie across the river (with
    the northbound queue), faster clockwise on the ring, slow in the core, a minute to park."""
    if a == b:
        return 0.0, 0.0
    queue = 0.0
    if _north_of_river(a) == _north_of_river(b):
        km = 1.3 * math.dist(a, b)
    else:
        bridges = [(x, _RIVER[0] * x + _RIVER[1]) for x in _BRIDGES_X]
        km = 1.25 * min(math.dist(a, bridge) + math.dist(bridge, b) for bridge in bridges)
        queue = 9.0 if not _north_of_river(a) else 2.0
    from_centre, to_centre = math.hypot(*a), math.hypot(*b)
    minutes = 60 * km / _speed_kmh(km, from_centre < 4 and to_centre < 4) + queue
    if from_centre > 6 and to_centre > 6:
        turn = math.atan2(b[1], b[0]) - math.atan2(a[1], a[0])
        turn = (turn + math.pi) % (2 * math.pi) - math.pi
        minutes *= 0.9 if turn < 0 else 1.12
    return round(minutes + 1.0, 1), round(km, 2)


def _point(rng: random.Random, zone: str) -> Point:
    if zone == "core":
        r = 4 * math.sqrt(rng.random())
    elif zone == "ring":
        r = rng.uniform(5, 18)
    else:
        r = rng.uniform(18, 32)
    angle = rng.uniform(-math.pi, math.pi)
    return (r * math.cos(angle), r * math.sin(angle))


def _latlon(p: Point) -> dict[str, float]:
    return {
        "lat": round(_CENTRE[0] + p[1] / _KM_LAT, 6),
        "lon": round(_CENTRE[1] + p[0] / _KM_LON, 6),
    }


def generate_ring_day(visits: int, seed: int, mix: str = "base") -> dict[str, Any]:
    """The ring-and-river day of ``visits`` visits that ``seed`` draws, of ``mix``."""
    if mix not in MIXES:
        raise ValueError(f"mix must be one of {', '.join(MIXES)}, got {mix!r}")
    if not 1 <= visits <= MAX_VISITS:
        raise ValueError(f"visits must be 1 to {MAX_VISITS} (an explicit matrix), got {visits}")
    p_delivery, p_urgent, per_crew = MIXES[mix]
    rng = random.Random(seed * 7919 + visits + {"base": 0, "crews": 101, "urgent": 202}[mix])
    points: list[Point] = []

    def site(p: Point) -> int:
        points.append(p)
        return len(points) - 1

    bases = {
        "north": site((-3.0, 9.0)),
        "south": site((5.0, -8.0)),
        "east": site((14.0, 4.0)),
        "warehouse": site((-20.0, -14.0)),
    }
    technicians, skills_of = _service_technicians(rng, visits, bases, points, site)
    crews = _crews(max(2, round(visits / per_crew)), bases["warehouse"], points)
    technicians += crews
    skills_of += [(row["id"], set(row["skills"])) for row in crews]
    rows = [_visit(rng, i, site, p_delivery, p_urgent, skills_of) for i in range(visits)]
    legs = [[_leg(a, b) for b in points] for a in points]
    return {
        "date": "2026-12-09",
        "timezone": "Asia/Shanghai",
        "policy": {"service_radius_km": 45, "time_limit_s": 10},
        "travel": {
            "locations": [_latlon(p) for p in points],
            "durations_min": [[minutes for minutes, _ in row] for row in legs],
            "distances_km": [[km for _, km in row] for row in legs],
        },
        "technicians": technicians,
        "visits": rows,
    }


def _service_technicians(
    rng: random.Random,
    visits: int,
    bases: dict[str, int],
    points: list[Point],
    site: Callable[[Point], int],
) -> tuple[list[dict[str, Any]], list[tuple[str, set[str]]]]:
    """The service centre's technicians (one for seven visits, at least eight) and the skills
    of each."""
    rows: list[dict[str, Any]] = []
    skills_of: list[tuple[str, set[str]]] = []
    for k in range(max(8, round(visits / 7))):
        family = "wh" if k % 5 in (0, 1, 3) else "ac"
        skills = set(rng.sample(_TRADES[family], rng.choice((1, 1, 2))))
        if rng.random() < 0.15:  # cross-trained
            skills.add(rng.choice(_TRADES["ac" if family == "wh" else "wh"]))
        skills |= {c for c in _CERTIFICATES if rng.random() < 0.4}
        start, end, breaks = _SHIFTS[k % 3]
        base = bases[("north", "south", "east")[k % 3 if rng.random() < 0.7 else rng.randrange(3)]]
        row: dict[str, Any] = {
            "id": f"S{k + 1:03d}",
            "name": f"Service technician {k + 1}",
            "skills": sorted(skills),
            "location_index": base,
            "start": _latlon(points[base]),
            "shift": {"start": _clock(start), "end": _clock(end)},
            "breaks": [
                {"start": _clock(a), "end": _clock(b), "duration_min": d} for a, b, d in breaks
            ],
            "capacity": {"weight_kg": 300, "volume_m3": 2.5},
        }
        if rng.random() < 0.3:  # ends the day at home
            home = site(_point(rng, rng.choice(("ring", "core"))))
            row["end_location_index"] = home
            row["end"] = _latlon(points[home])
        rows.append(row)
        skills_of.append((row["id"], skills))
    return rows, skills_of


def _crews(count: int, warehouse: int, points: Sequence[Point]) -> list[dict[str, Any]]:
    """Two-person delivery crews from the warehouse, every other one carrying pianos."""
    rows: list[dict[str, Any]] = []
    for k in range(count):
        start = 7 * 60 + 30 if k % 2 == 0 else 9 * 60
        rows.append(
            {
                "id": f"C{k + 1:02d}",
                "name": f"Crew {k + 1}",
                "skills": ["delivery", "piano"] if k % 2 == 0 else ["delivery"],
                "location_index": warehouse,
                "start": _latlon(points[warehouse]),
                "shift": {"start": _clock(start), "end": _clock(start + 10 * 60)},
                "breaks": [
                    {"start": _clock(start + 240), "end": _clock(start + 330), "duration_min": 40}
                ],
                "crew_size": 2,
                "capacity": {"weight_kg": 1400, "volume_m3": 16.0},
            }
        )
    return rows


def _visit(
    rng: random.Random,
    i: int,
    site: Callable[[Point], int],
    p_delivery: float,
    p_urgent: float,
    skills_of: Sequence[tuple[str, set[str]]],
) -> dict[str, Any]:
    """Visit ``i``: a delivery (a crew's) or a service call (a technician's)."""
    p = _point(rng, rng.choices(("core", "ring", "outer"), (0.35, 0.55, 0.10))[0])
    row: dict[str, Any] = {"id": f"R{i + 1:04d}", "location_index": site(p), "location": _latlon(p)}
    if rng.random() < p_delivery:
        piano = rng.random() < 0.25
        long_job = piano or rng.random() < 0.6
        row.update(
            kind="delivery",
            required_skills=["delivery", "piano"] if piano else ["delivery"],
            crew_size=2,
            duration_min=rng.choice((60, 75, 90, 120, 150, 180)) if long_job else 60,
            demand={
                "weight_kg": rng.randint(200, 350) if piano else rng.randint(40, 260),
                "volume_m3": round(rng.uniform(1.5, 3.5) if piano else rng.uniform(0.3, 4.0), 2),
            },
            priority=rng.choices(("high", "normal", "low"), (0.2, 0.65, 0.15))[0],
        )
        if rng.random() < 0.35:
            row["appointment"] = _clock(rng.randrange(9 * 60, 17 * 60, 30))
        else:
            start = rng.randrange(8 * 60 + 30, 16 * 60 + 1, 30)
            row["window"] = {"start": _clock(start), "end": _clock(start + 120)}
        return row
    family = rng.choice(("wh", "wh", "ac"))
    need = [rng.choice(_TRADES[family])]
    if rng.random() < 0.6:
        need.append(rng.choice(_CERTIFICATES))
    install = rng.random() < 0.15
    row.update(
        kind="install" if install else rng.choice(("repair", "repair", "maintenance")),
        required_skills=sorted(need),
        duration_min=rng.randint(90, 150) if install else rng.choice((30, 40, 45, 60, 75, 90)),
        demand={"weight_kg": 60 if install else 5, "volume_m3": 0.6 if install else 0.05},
    )
    if rng.random() < p_urgent:  # reported through the morning, most of them early
        row.update(
            priority="urgent",
            reported_at=_clock(int(7 * 60 + 15 + (rng.random() ** 1.5) * 345)),
            kind="repair",
            duration_min=rng.choice((30, 45, 60, 75)),
        )
    else:
        row["priority"] = rng.choices(("high", "normal", "low"), (0.15, 0.6, 0.25))[0]
        when = rng.random()
        if when < 0.35:
            row["appointment"] = _clock(rng.randrange(7 * 60 + 30, 19 * 60 + 1, 15))
        elif when < 0.62:
            start = rng.randrange(8 * 60, 18 * 60 + 1, 60)
            row["window"] = {"start": _clock(start), "end": _clock(start + 120)}
        elif when < 0.82:
            row["window"] = rng.choice(
                (
                    {"start": "08:00", "end": "12:00"},
                    {"start": "13:00", "end": "18:00"},
                    {"start": "17:00", "end": "20:00"},
                )
            )
    able = [tid for tid, held in skills_of if set(need) <= held and tid.startswith("S")]
    if able and rng.random() < 0.06:
        row["preferred_technician"] = rng.choice(able)
    elif able and rng.random() < 0.02:
        row["technician"] = rng.choice(able)
    return row


def main(argv: Sequence[str] | None = None) -> int:
    """Write one ring-and-river day as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--mix", choices=list(MIXES), default="base")
    parser.add_argument("-o", "--output", required=True)
    args = parser.parse_args(argv)
    day = generate_ring_day(args.visits, args.seed, args.mix)
    Path(args.output).write_text(json.dumps(day), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
