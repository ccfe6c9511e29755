"""Road travel benchmark (issue 19): OSRM on the Helsinki extract, and what roads change for a day.

``python -m benchmarks.roads --time-limit 30`` measures, on ``osm/helsinki.osm.pbf`` of the
shared benchmark data (``benchmarks.vrptw.data_dir()``):

1. **Preparation**: ``dispatch.travel.roads.prepare`` into a fresh cache folder (cold: hash,
   ``osrm-extract``, ``osrm-contract``), then the same call again (cached: hash only). Fetching
   OSRM's tools (``ensure_tools``) happens before and is not timed.
2. **Matrices**: 1,000 x 1,000 and 2,500 x 2,500 durations and distances end to end through
   ``OsrmProvider`` (HTTP, JSON, numpy) against the ``osrm-routed`` that
   ``dispatch.travel.routed.serve`` starts on loopback; the provider's in-process matrix cache
   is emptied before each of ``MATRIX_REPEATS`` timings. Targets: <= 2 s and <= 10 s. Timed
   twice: with the block the engine uses against that server (its ``max_table_size``, capped
   by ``TABLE_BLOCK``) and with ``FITTING_BLOCK`` (see there); a size that fails is a row
   saying why.
3. **Road / geodesic ratio** of durations (and distances) over every pair of the 2,500 points,
   geodesic = the engine's default ``GeodesicProvider``; pairs that snap onto the same spot of
   road (road duration 0) are left out.
4. **A day**: ``build_day`` makes a 250-visit day inside the extract (the Chang'an generator of
   ``benchmarks.dayset`` cannot be moved: its towns and bases are fixed), plans it on the
   geodesic model, re-times the same routes on road durations (``retime``) and counts the
   appointments, windows and promised arrival windows that would then be missed; then plans it
   on road durations (``OsrmProvider``) and checks that plan with the independent checker
   (``dispatch.verify.check_plan``) over the road matrix.

Points
------
The extract is a clip of central Helsinki (about 1.0 x 1.7 km): many of its roads lead out of
the clip one way only, so about a quarter of random points cannot reach, or cannot be reached
from, the rest. Every point used here (matrix points, bases, customers) is drawn uniformly in
the clip's bounding box and kept only if a car can drive from ``Region.centre`` to it and
back (``connected_points``: one thin ``table`` request each way per block of candidates) and it
lies within ``DOOR_TO_ROAD_M`` of a road; so every pair has a road between them.

The day
-------
``build_day`` is the desk of an after-sales service (heat pumps, appliances, plumbing,
electrical) on Monday 23 November 2026 in Helsinki: one technician per ``VISITS_PER_TECHNICIAN``
visits, two in three at a base in the west of the clip and the rest at one in the east, shifts
of eight hours with a 30-minute lunch inside 11:00-13:00; visits of four kinds with durations
skewed short; exact shares of appointments (30 %) and windows (40 %), the rest any time;
15 % high and 14 % low priority. As in ``benchmarks.dayset``, the desk only promises what it can
keep *by its own estimate*: a greedy provisional plan on the engine's default geodesic times
books each visit, an appointment on the next quarter hour at least ``EARLY_ARRIVAL_MIN[1]``
after the estimated arrival, a window (half day or two-hour slot) around it. A visit the desk
could not book gets a half-day window.

Re-timing
---------
``retime`` walks each route of a plan as a driver would follow it on other travel times:
leave the base at the planned start; arrival = previous departure + travel, a break planned on
that leg taken no earlier than planned (``max(t, break start) + its length``); an appointment's
service starts at the appointment (or on arrival, late), a window's at ``max(arrival, window
start)``, anything else on arrival; departure = service start + duration.
"""

from __future__ import annotations

import argparse
import math
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from random import Random
from typing import Any, Final
from zoneinfo import ZoneInfo

import httpx2
import numpy as np
from numpy.typing import NDArray

from benchmarks.results import record
from benchmarks.vrptw import DATA_ENV, data_dir
from dispatch.contract.serialize import plan_document
from dispatch.contract.validate import parse_problem
from dispatch.errors import TravelTimeError
from dispatch.model import LatLon, Site, TravelSettings
from dispatch.planning import SolveParams, plan_day
from dispatch.travel.base import Matrices, TravelTimeProvider
from dispatch.travel.geodesic import GeodesicProvider
from dispatch.travel.osrm import TABLE_BLOCK, OsrmProvider, clear_matrix_cache
from dispatch.travel.osrm_tools import OsrmTools, ensure_tools
from dispatch.travel.roads import Dataset, prepare
from dispatch.travel.routed import RoutedServer, serve
from dispatch.units import m_as_km, s_to_minutes
from dispatch.verify import LocationRef, TravelLookup, check_plan, location_ref

__all__ = [
    "DOOR_TO_ROAD_M",
    "HELSINKI",
    "MATRIX_REPEATS",
    "MATRIX_SIZES",
    "MATRIX_TARGET_S",
    "SEED",
    "VISITS_PER_TECHNICIAN",
    "DayFigures",
    "MatrixTiming",
    "Ratios",
    "Region",
    "Retimed",
    "build_day",
    "connected_points",
    "extract_path",
    "main",
    "matrix_lookup_over",
    "plan_both",
    "ratios",
    "retime",
    "road_server",
    "time_matrices",
    "time_prepare",
]


@dataclass(frozen=True, slots=True)
class Region:
    """An OpenStreetMap extract of the shared data and where its points are drawn.

    Parameters
    ----------
    extract
        File name under ``<data>/osm/``.
    south, west, north, east
        The bounding box points are drawn in (degrees): the extract's header box.
    centre
        A point on the extract's main road network, ``(lat, lon)``: every point kept reaches
        it and is reached from it.
    timezone
        The day's IANA time zone.
    """

    extract: str
    south: float
    west: float
    north: float
    east: float
    centre: tuple[float, float]
    timezone: str

    def at(self, fraction_lat: float, fraction_lon: float) -> tuple[float, float]:
        """The point at these fractions of the box, from its south-west corner."""
        return (
            self.south + fraction_lat * (self.north - self.south),
            self.west + fraction_lon * (self.east - self.west),
        )


#: Central Helsinki: the clip's header box; the centre is Mikonkatu by the Central Station.
HELSINKI: Final = Region(
    extract="helsinki.osm.pbf",
    south=60.164155,
    west=24.935176,
    north=60.179113,
    east=24.953415,
    centre=(60.171634, 24.944295),
    timezone="Europe/Helsinki",
)

#: Seed of every random draw (points, day).
SEED: Final = 2026

#: Matrix sizes timed, their targets on 2 cores (issue 19), and timings per size.
MATRIX_SIZES: Final = (1000, 2500)
#: A block whose off-diagonal requests fit osrm-routed's request limit. Measured on OSRM
#: 26.10.0: a request of up to 48 KiB (request line and headers) is answered, a longer one
#: dropped without an answer. Two blocks of 1,000 points at 6 decimals (about 20 bytes each)
#: plus their ``sources`` and ``destinations`` lists come to about 49.5 KB, so a table over
#: more than 1,000 points fails with blocks of 1,000; blocks of 800 take about 40 KB.
FITTING_BLOCK: Final = 800
MATRIX_TARGET_S: Final = {1000: 2.0, 2500: 10.0}
MATRIX_REPEATS: Final = 3

#: Visits of the day.
DAY_VISITS: Final = 250

#: A door lies at most this far from a street a car may use (m); candidates farther are drawn
#: again (the engine's snap limit, 500 m, would accept them).
DOOR_TO_ROAD_M: Final = 100.0

#: Candidates asked per ``table`` request when keeping connected points (the centre is one
#: more): within the server's ``--max-table-size`` and a URL OSRM accepts.
CANDIDATE_BLOCK: Final = 999

#: Share of candidates expected to be kept, to size each draw; more are drawn if short.
_EXPECTED_KEPT: Final = 0.6

#: Seconds an HTTP request of ``connected_points`` may take.
_TABLE_TIMEOUT_S: Final = 60.0

#: The day: its date, the policy's early band (minutes before an appointment the technician
#: should ring), staffing, shifts and lunch.
DATE: Final = "2026-11-23"
EARLY_ARRIVAL_MIN: Final = (5, 10)
VISITS_PER_TECHNICIAN: Final = 8
SHIFTS: Final = ((("08:00", "16:00"), 0.6), (("07:30", "15:30"), 0.2), (("09:00", "17:00"), 0.2))
LUNCH: Final = ("11:00", "13:00", 30)

#: Bases as fractions of the box (lat, lon): west and east; share of technicians at the first.
BASES: Final = ((0.55, 0.2), (0.45, 0.8))
FIRST_BASE_SHARE: Final = 2 / 3

#: Trades, staffed and demanded in these shares; share of technicians (not electricians) who
#: also hold ``electrical``.
TRADES: Final = (("heat_pump", 0.3), ("appliance", 0.35), ("plumbing", 0.2), ("electrical", 0.15))
SECOND_SKILL: Final = "electrical"
SECOND_SKILL_SHARE: Final = 0.3

#: Kinds of work: (kind, shortest, longest minutes, share); durations skewed short (u**2).
KINDS: Final = (
    ("repair", 30, 90, 0.45),
    ("maintenance", 30, 60, 0.25),
    ("inspection", 20, 40, 0.15),
    ("install", 60, 120, 0.15),
)

#: Shares of appointments and windows (the rest any time), and of high and low priority.
APPOINTMENT_SHARE: Final = 0.30
WINDOW_SHARE: Final = 0.40
HIGH_SHARE: Final = 0.15
LOW_SHARE: Final = 0.14

#: Appointments on quarter hours; windows are half days or two-hour slots (half of each).
APPOINTMENT_STEP_MIN: Final = 15
HALF_DAYS: Final = (("08:00", "12:00"), ("12:00", "17:00"))
HALF_DAY_SHARE: Final = 0.5
SLOT_MIN: Final = 120

#: A lateness or overrun is counted from one second on, as the checker counts.
_TOLERANCE: Final = timedelta(seconds=1)

_MINUTES_PER_HOUR: Final = 60


# --------------------------------------------------------------------------------------------
# Preparation, server, points


def extract_path(region: Region) -> Path:
    """The region's extract in the shared data (``$FIELDROUTE_BENCHMARK_DATA/osm``)."""
    return data_dir() / "osm" / region.extract


def time_prepare(extract: Path, tools: OsrmTools, cache_dir: Path) -> tuple[Dataset, float, float]:
    """Prepare ``extract`` into the empty ``cache_dir``, then again: (dataset, cold s, cached s)."""
    started = time.perf_counter()
    dataset = prepare(extract, cache_dir=cache_dir, tools=tools)
    cold_s = time.perf_counter() - started
    started = time.perf_counter()
    again = prepare(extract, cache_dir=cache_dir, tools=tools)
    cached_s = time.perf_counter() - started
    if again != dataset:
        raise RuntimeError(f"the cached call returned {again}, not {dataset}")
    return dataset, cold_s, cached_s


@contextmanager
def road_server(dataset: Dataset, tools: OsrmTools) -> Iterator[tuple[RoutedServer, OsrmProvider]]:
    """``osrm-routed`` on ``dataset`` and a provider asking it, for the ``with`` block."""
    with serve(dataset, tools=tools) as server:
        yield (
            server,
            OsrmProvider(
                server.base_url, max_table_size=server.max_table_size, dataset_id=dataset.key
            ),
        )


def connected_points(
    base_url: str, region: Region, count: int, rng: Random, *, block: int = CANDIDATE_BLOCK
) -> list[LatLon]:
    """``count`` points drawn uniformly in ``region``'s box that a car can drive to and from.

    Candidates are asked in blocks: one ``table`` request from the centre to the block and one
    from the block to the centre; a candidate is kept when both have a duration and it lies
    within ``DOOR_TO_ROAD_M`` of a road. Then every pair of kept points has a road between
    them (through the centre at worst). Raises ``RuntimeError`` when the server refuses.
    """
    kept: list[LatLon] = []
    centre = f"{region.centre[1]:.6f},{region.centre[0]:.6f}"
    with httpx2.Client(base_url=base_url, timeout=_TABLE_TIMEOUT_S, trust_env=False) as client:
        while len(kept) < count:
            wanted = math.ceil((count - len(kept)) / _EXPECTED_KEPT)
            candidates = [
                LatLon(
                    round(rng.uniform(region.south, region.north), 6),
                    round(rng.uniform(region.west, region.east), 6),
                )
                for _ in range(wanted)
            ]
            for start in range(0, len(candidates), block):
                chunk = candidates[start : start + block]
                path = "/table/v1/driving/" + ";".join(
                    [centre, *(f"{p.lon:.6f},{p.lat:.6f}" for p in chunk)]
                )
                there = _table(client, path, {"sources": "0"})
                back = _table(client, path, {"destinations": "0"})
                to_point = there["durations"][0][1:]
                from_point = [row[0] for row in back["durations"][1:]]
                snapped = [w["distance"] for w in there["destinations"][1:]]
                for point, out, home, snap_m in zip(
                    chunk, to_point, from_point, snapped, strict=True
                ):
                    if out is not None and home is not None and snap_m <= DOOR_TO_ROAD_M:
                        kept.append(point)
    return kept[:count]


def _table(client: httpx2.Client, path: str, params: dict[str, str]) -> dict[str, Any]:
    answer = client.get(path, params=params)
    document: dict[str, Any] = answer.json()
    if document.get("code") != "Ok":
        raise RuntimeError(f"OSRM refused a table of connected_points: {document}")
    return document


def _sites(points: Sequence[LatLon]) -> list[Site]:
    return [Site(location=point) for point in points]


# --------------------------------------------------------------------------------------------
# Matrices and ratios


@dataclass(frozen=True, slots=True)
class MatrixTiming:
    """End-to-end timings of one matrix size and block (seconds, one per repeat), or why it
    failed."""

    size: int
    block: int
    requests: int
    seconds: tuple[float, ...]
    failed: str | None = None

    @property
    def median_s(self) -> float:
        """The median timing (NaN when it failed)."""
        return statistics.median(self.seconds) if self.seconds else math.nan

    @property
    def max_s(self) -> float:
        """The slowest timing (NaN when it failed)."""
        return max(self.seconds) if self.seconds else math.nan


def time_matrices(
    provider: OsrmProvider,
    points: Sequence[LatLon],
    sizes: Sequence[int],
    repeats: int,
) -> tuple[list[MatrixTiming], Matrices | None]:
    """Time ``provider.matrix`` on the first ``size`` points for each size, ``repeats`` times,
    the in-process matrix cache emptied before each; a ``TravelTimeError`` ends that size as a
    failed row. Also return the matrices of the largest size (``None`` if it failed)."""
    timings = []
    largest: Matrices | None = None
    block = min(provider.max_table_size, TABLE_BLOCK)
    for size in sizes:
        sites = _sites(points[:size])
        requests = math.ceil(size / block) ** 2
        seconds: list[float] = []
        try:
            for _ in range(repeats):
                clear_matrix_cache()
                started = time.perf_counter()
                matrices = provider.matrix(sites)
                seconds.append(time.perf_counter() - started)
        except TravelTimeError as error:
            timings.append(MatrixTiming(size, block, requests, (), _short(error)))
            continue
        timings.append(MatrixTiming(size, block, requests, tuple(seconds)))
        if size == max(sizes):
            largest = matrices
    clear_matrix_cache()
    return timings, largest


def _short(error: TravelTimeError) -> str:
    """The provider's message without the server's address and the request's text."""
    text = re.sub(r" \((table|route) /[^)]*\)", "", str(error))
    return re.sub(r"^OSRM server \S+ ", "", text)


@dataclass(frozen=True, slots=True)
class Ratios:
    """Road over geodesic, per ordered pair: durations (mean, 5th, 95th percentile) and the
    mean of distances; ``pairs`` counted, ``same_spot`` left out (road duration 0)."""

    pairs: int
    same_spot: int
    duration_mean: float
    duration_p5: float
    duration_p95: float
    distance_mean: float
    road_min_mean: float
    geodesic_min_mean: float


def ratios(road: Matrices, geodesic: Matrices) -> Ratios:
    """Road over geodesic durations and distances over the off-diagonal pairs of the matrices."""
    road_s, road_m = road
    geo_s, geo_m = geodesic
    off = ~np.eye(len(road_s), dtype=bool)
    kept = off & (road_s > 0) & (geo_s > 0) & (geo_m > 0)
    duration = road_s[kept] / geo_s[kept]
    distance = road_m[kept] / geo_m[kept]
    return Ratios(
        pairs=int(kept.sum()),
        same_spot=int((off & ~kept).sum()),
        duration_mean=float(duration.mean()),
        duration_p5=float(np.percentile(duration, 5)),
        duration_p95=float(np.percentile(duration, 95)),
        distance_mean=float(distance.mean()),
        road_min_mean=float(road_s[kept].mean() / _MINUTES_PER_HOUR),
        geodesic_min_mean=float(geo_s[kept].mean() / _MINUTES_PER_HOUR),
    )


# --------------------------------------------------------------------------------------------
# The day


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * _MINUTES_PER_HOUR + int(minutes)


def _clock(minutes: int) -> str:
    return f"{minutes // _MINUTES_PER_HOUR:02d}:{minutes % _MINUTES_PER_HOUR:02d}"


def _exact(rng: Random, n: int, shares: Sequence[tuple[Any, float]]) -> list[Any]:
    """``n`` labels in exact shares (largest remainder), shuffled."""
    raw = [share * n for _, share in shares]
    counts = [math.floor(r) for r in raw]
    for i in sorted(range(len(raw)), key=lambda i: counts[i] - raw[i])[: n - sum(counts)]:
        counts[i] += 1
    labels = [label for (label, _), c in zip(shares, counts, strict=True) for _ in range(c)]
    rng.shuffle(labels)
    return labels


@dataclass(slots=True)
class _Tech:
    """A technician as the booking desk simulates them."""

    id: str
    skills: frozenset[str]
    base: int
    start: int
    end: int
    clock: int = 0
    at: int = 0
    lunch_done: bool = False


def _book(
    techs: list[_Tech],
    skills: Sequence[str],
    durations: Sequence[int],
    appointment: Sequence[bool],
    travel_min: NDArray[np.int64],
) -> dict[int, int]:
    """The desk's greedy provisional plan: visit -> planned service start (minutes).

    Each technician, the one free soonest first, takes the pending visit of their trade they
    can start soonest (an appointment on the next quarter hour at least the early band after
    arrival) that leaves room for lunch and the way home; lunch when nothing fits before it.
    """
    lunch_open, lunch_close, lunch_min = _minutes(LUNCH[0]), _minutes(LUNCH[1]), LUNCH[2]
    early = EARLY_ARRIVAL_MIN[1]
    pending = set(range(len(skills)))
    booked: dict[int, int] = {}
    for tech in techs:
        tech.clock, tech.at, tech.lunch_done = tech.start, tech.base, False
    queue = sorted(range(len(techs)), key=lambda k: (techs[k].clock, k))
    while queue:
        k = queue.pop(0)
        tech = techs[k]
        best: tuple[int, int] | None = None
        for v in sorted(pending):
            if skills[v] not in tech.skills:
                continue
            arrival = tech.clock + int(travel_min[tech.at, v])
            start = arrival
            if appointment[v]:
                step = APPOINTMENT_STEP_MIN
                start = math.ceil((arrival + early) / step) * step
            end = start + durations[v]
            if not tech.lunch_done and end > lunch_close - lunch_min:
                continue
            if end + int(travel_min[v, tech.base]) > tech.end:
                continue
            if best is None or (start, v) < best:
                best = (start, v)
        if best is None:
            if tech.lunch_done:
                continue
            tech.clock = max(tech.clock, lunch_open) + lunch_min
            tech.lunch_done = True
        else:
            start, v = best
            pending.discard(v)
            booked[v] = start
            tech.clock, tech.at = start + durations[v], v
            if not tech.lunch_done and tech.clock >= lunch_open:
                tech.clock += lunch_min
                tech.lunch_done = True
        queue.append(k)
        queue.sort(key=lambda j: (techs[j].clock, j))
    return booked


def _window_around(rng: Random, start: int) -> tuple[str, str]:
    """A half day or a two-hour slot holding ``start`` with half an hour to spare."""
    if rng.random() < HALF_DAY_SHARE:
        morning = start < _minutes(HALF_DAYS[0][1]) - 30
        return HALF_DAYS[0] if morning else HALF_DAYS[1]
    slot = (start - 30) // _MINUTES_PER_HOUR * _MINUTES_PER_HOUR
    return _clock(slot), _clock(slot + SLOT_MIN)


def build_day(
    points: Sequence[LatLon],
    bases: Sequence[LatLon],
    *,
    region: Region = HELSINKI,
    seed: int = SEED,
) -> dict[str, Any]:
    """A day in the contract's JSON: one visit per point, technicians at ``bases``.

    Parameters
    ----------
    points
        The customers' locations (one visit each), e.g. from ``connected_points``.
    bases
        Two depots: the first takes ``FIRST_BASE_SHARE`` of the technicians.
    region
        Gives the time zone.
    seed
        Seed of the day's only random source.

    Returns
    -------
    A problem on the geodesic model (the policy names no provider); see the module docstring.
    """
    rng = Random(seed)
    n = len(points)
    n_techs = max(len(TRADES), math.ceil(n / VISITS_PER_TECHNICIAN))
    n_first = round(n_techs * FIRST_BASE_SHARE)
    trades = _exact(rng, n_techs, TRADES)
    shifts = _exact(rng, n_techs, SHIFTS)
    techs: list[_Tech] = []
    tech_rows: list[dict[str, Any]] = []
    for k in range(n_techs):
        skills = {trades[k]}
        if trades[k] != SECOND_SKILL and rng.random() < SECOND_SKILL_SHARE:
            skills.add(SECOND_SKILL)
        base = 0 if k < n_first else 1
        shift = shifts[k]
        tech_id = f"T{k + 1:02d}"
        techs.append(
            _Tech(tech_id, frozenset(skills), base, _minutes(shift[0]), _minutes(shift[1]))
        )
        where = {"lat": bases[base].lat, "lon": bases[base].lon}
        tech_rows.append(
            {
                "id": tech_id,
                "name": f"Technician {k + 1}",
                "skills": sorted(skills),
                "start": where,
                "end": where,
                "shift": {"start": shift[0], "end": shift[1]},
                "breaks": [{"start": LUNCH[0], "end": LUNCH[1], "duration_min": LUNCH[2]}],
            }
        )
    # Every trade held by someone: the visit trades follow the technicians' main trades.
    needs = _exact(rng, n, TRADES)
    kinds = _exact(rng, n, [((kind, lo, hi), share) for kind, lo, hi, share in KINDS])
    durations = [lo + 5 * round((hi - lo) * rng.random() ** 2 / 5) for _, lo, hi in kinds]
    labels = _exact(
        rng,
        n,
        [
            ("appointment", APPOINTMENT_SHARE),
            ("window", WINDOW_SHARE),
            ("free", 1 - APPOINTMENT_SHARE - WINDOW_SHARE),
        ],
    )
    priorities = _exact(
        rng, n, [("high", HIGH_SHARE), ("low", LOW_SHARE), ("normal", 1 - HIGH_SHARE - LOW_SHARE)]
    )
    # The desk estimates travel as the engine does by default: geodesic, whole minutes up.
    # Rows: the visits, then the bases.
    geodesic_s, _ = GeodesicProvider(TravelSettings()).matrix(_sites([*points, *bases]))
    travel_min = np.ceil(geodesic_s / _MINUTES_PER_HOUR).astype(np.int64)
    for tech in techs:
        tech.base += n
    booked = _book(
        techs, needs, durations, [label == "appointment" for label in labels], travel_min
    )
    visits: list[dict[str, Any]] = []
    width = max(3, len(str(n)))
    for i, point in enumerate(points):
        kind = kinds[i][0]
        row: dict[str, Any] = {
            "id": f"V{i + 1:0{width}d}",
            "customer": f"Customer {i + 1}",
            "location": {"lat": point.lat, "lon": point.lon},
            "kind": kind,
            "duration_min": durations[i],
            "required_skills": [needs[i]],
            "priority": priorities[i],
        }
        start = booked.get(i)
        if labels[i] == "appointment" and start is not None:
            row["appointment"] = _clock(start)
        elif labels[i] == "window" and start is not None:
            first, last = _window_around(rng, start)
            row["window"] = {"start": first, "end": last}
        elif labels[i] != "free":
            first, last = rng.choice(HALF_DAYS)
            row["window"] = {"start": first, "end": last}
        visits.append(row)
    return {
        "date": DATE,
        "timezone": region.timezone,
        "policy": {"early_arrival_min": list(EARLY_ARRIVAL_MIN)},
        "technicians": tech_rows,
        "visits": visits,
    }


# --------------------------------------------------------------------------------------------
# Re-timing and checking


def matrix_lookup_over(
    points: Sequence[LatLon], durations_s: NDArray[np.int64], distances_m: NDArray[np.int64]
) -> TravelLookup:
    """A checker's travel lookup, ``(lat, lon)`` pairs -> (minutes, km), over one matrix whose
    rows are ``points``."""
    row = {(point.lat, point.lon): i for i, point in enumerate(points)}

    def leg(origin: LocationRef, destination: LocationRef) -> tuple[float, float]:
        if isinstance(origin, int) or isinstance(destination, int):
            raise ValueError("the lookup over a matrix of points takes (lat, lon) pairs")
        i, j = row[origin], row[destination]
        return s_to_minutes(float(durations_s[i, j])), m_as_km(float(distances_m[i, j]))

    return leg


@dataclass(frozen=True, slots=True)
class Retimed:
    """A plan's routes walked on other travel times (see the module docstring).

    ``late_min`` lists how late each late appointment is; promises are the 30-minute arrival
    windows told to customers without an appointment; ``km`` is driven on those travel times.
    """

    stops: int
    appointments: int
    appointments_late: int
    late_min: tuple[float, ...]
    windows: int
    windows_missed: int
    promises: int
    promises_missed: int
    routes: int
    routes_over_shift: int
    km: float


def retime(problem: Mapping[str, Any], plan: Mapping[str, Any], travel: TravelLookup) -> Retimed:
    """Walk every route of ``plan`` (contract JSON) with legs from ``travel`` and count what
    is then late: appointments reached after their time, windows whose service starts after
    they close, promised arrival windows missed, routes back after the shift."""
    zone = ZoneInfo(problem.get("timezone", "UTC"))
    day = date.fromisoformat(problem["date"])
    visits = {visit["id"]: visit for visit in problem["visits"]}
    techs = {tech["id"]: tech for tech in problem["technicians"]}

    def at(text: str) -> datetime:
        return datetime.combine(day, clock_time.fromisoformat(text), tzinfo=zone)

    counts: Counter[str] = Counter()
    late_min: list[float] = []
    km = 0.0
    for route in plan["routes"]:
        tech = techs[route["technician_id"]]
        breaks = sorted(
            (datetime.fromisoformat(b["start"]), datetime.fromisoformat(b["end"]))
            for b in route["breaks"]
        )
        planned_departure = clock = datetime.fromisoformat(route["start_time"])
        place = location_ref(tech)
        stops = route["stops"]
        counts["routes"] += 1
        for stop in stops:
            visit = visits[stop["visit_id"]]
            here = location_ref(visit)
            planned_arrival = datetime.fromisoformat(stop["arrival"])
            minutes, leg_km = travel(place, here)
            km += leg_km
            arrival = _drive(clock, minutes, breaks, planned_departure, planned_arrival)
            counts["stops"] += 1
            if visit.get("appointment"):
                target = at(visit["appointment"])
                counts["appointments"] += 1
                if arrival > target + _TOLERANCE:
                    counts["appointments_late"] += 1
                    late_min.append((arrival - target).total_seconds() / _MINUTES_PER_HOUR)
                service_start = max(arrival, target)
            elif visit.get("window"):
                service_start = max(arrival, at(visit["window"]["start"]))
                counts["windows"] += 1
                if service_start > at(visit["window"]["end"]) + _TOLERANCE:
                    counts["windows_missed"] += 1
            else:
                service_start = arrival
            promised = stop.get("promised_window")
            if promised and not visit.get("appointment"):
                counts["promises"] += 1
                if arrival > datetime.fromisoformat(promised["end"]) + _TOLERANCE:
                    counts["promises_missed"] += 1
            clock = service_start + timedelta(minutes=float(visit["duration_min"]))
            place = here
            planned_departure = datetime.fromisoformat(stop["departure"])
        if stops:
            minutes, leg_km = travel(place, location_ref(tech, end=True))
            km += leg_km
            end = _drive(
                clock,
                minutes,
                breaks,
                planned_departure,
                datetime.fromisoformat(route["end_time"]),
            )
            if end > at(tech["shift"]["end"]) + _TOLERANCE:
                counts["routes_over_shift"] += 1
    return Retimed(
        stops=counts["stops"],
        appointments=counts["appointments"],
        appointments_late=counts["appointments_late"],
        late_min=tuple(late_min),
        windows=counts["windows"],
        windows_missed=counts["windows_missed"],
        promises=counts["promises"],
        promises_missed=counts["promises_missed"],
        routes=counts["routes"],
        routes_over_shift=counts["routes_over_shift"],
        km=km,
    )


def _drive(
    departure: datetime,
    minutes: float,
    breaks: Sequence[tuple[datetime, datetime]],
    planned_departure: datetime,
    planned_arrival: datetime,
) -> datetime:
    """Arrival after a leg of ``minutes``, with the breaks the plan put on this leg taken no
    earlier than planned."""
    clock = departure + timedelta(minutes=minutes)
    for start, end in breaks:
        if start >= planned_departure - _TOLERANCE and end <= planned_arrival + _TOLERANCE:
            clock = max(clock, start) + (end - start)
    return clock


@dataclass(frozen=True, slots=True)
class DayFigures:
    """One plan of the day: what it assigns, how it fares on roads, and the checker's word."""

    model: str
    wall_s: float
    assigned: int
    visits: int
    km_planned: float
    on_roads: Retimed
    violations: Counter[str]


def plan_both(
    raw: Mapping[str, Any], road: TravelTimeProvider, time_limit_s: float
) -> tuple[DayFigures, DayFigures]:
    """Plan ``raw`` on the geodesic model and on ``road``, then judge both plans on the road
    matrix: walked by ``retime`` and checked by ``dispatch.verify.check_plan``."""
    problem = parse_problem(dict(raw))
    points = [LatLon(t["start"]["lat"], t["start"]["lon"]) for t in raw["technicians"]]
    points += [LatLon(v["location"]["lat"], v["location"]["lon"]) for v in raw["visits"]]
    distinct = sorted(set(points), key=lambda p: (p.lat, p.lon))
    road_lookup = matrix_lookup_over(distinct, *road.matrix(_sites(distinct)))
    figures = []
    for model, provider in (("geodesic", GeodesicProvider(TravelSettings())), ("road", road)):
        started = time.perf_counter()
        plan = plan_day(problem, provider=provider, params=SolveParams(time_limit_s=time_limit_s))
        wall_s = time.perf_counter() - started
        document = plan_document(
            problem, plan, plan_id=f"pl_{model}", version=1, created_at=datetime.now(UTC)
        ).model_dump(mode="json")
        report = check_plan(raw, document, road_lookup)
        figures.append(
            DayFigures(
                model=model,
                wall_s=wall_s,
                assigned=int(document["kpis"]["assigned"]),
                visits=len(raw["visits"]),
                km_planned=float(document["kpis"]["distance_km"]),
                on_roads=retime(raw, document, road_lookup),
                violations=Counter(v.code for v in report.violations),
            )
        )
    return figures[0], figures[1]


def _bases(points: Sequence[LatLon], region: Region) -> tuple[list[LatLon], list[LatLon]]:
    """The two points nearest the bases' places, and the rest."""
    geodesic = GeodesicProvider(TravelSettings())
    anchors = [LatLon(*region.at(*fractions)) for fractions in BASES]
    km = geodesic.road_km(anchors, points)
    chosen = [int(np.argmin(row)) for row in km]
    if len(set(chosen)) != len(anchors):
        raise ValueError("the bases fell on one point: too few points")
    return [points[i] for i in chosen], [p for i, p in enumerate(points) if i not in chosen]


# --------------------------------------------------------------------------------------------
# The run


def run(
    time_limit_s: float,
    *,
    region: Region = HELSINKI,
    sizes: Sequence[int] = MATRIX_SIZES,
    repeats: int = MATRIX_REPEATS,
    visits: int = DAY_VISITS,
    tools: OsrmTools | None = None,
) -> dict[str, Any]:
    """Every measurement of the module docstring; the figures as a dict."""
    extract = extract_path(region)
    if not extract.is_file():
        raise FileNotFoundError(
            f"{extract} not found: put shared/ beside the repository or set {DATA_ENV}"
        )
    tools = tools or ensure_tools()
    with tempfile.TemporaryDirectory(prefix="roads-bench-") as folder:
        dataset, cold_s, cached_s = time_prepare(extract, tools, Path(folder) / "cache")
        with road_server(dataset, tools) as (server, provider):
            rng = Random(SEED)
            points = connected_points(server.base_url, region, max(sizes), rng)
            timings: list[MatrixTiming] = []
            road: Matrices | None = None
            for block in (provider.max_table_size, FITTING_BLOCK):
                blocked = OsrmProvider(
                    server.base_url, max_table_size=block, dataset_id=dataset.key
                )
                found, largest = time_matrices(blocked, points, sizes, repeats)
                timings += found
                road = road if road is not None else largest
            if road is None:
                raise RuntimeError(f"no {max(sizes)}-point matrix could be fetched: {timings}")
            geodesic = GeodesicProvider(TravelSettings()).matrix(_sites(points[: max(sizes)]))
            ratio = ratios(road, geodesic)
            day_points = connected_points(server.base_url, region, visits + len(BASES), rng)
            bases, customers = _bases(day_points, region)
            raw = build_day(customers[:visits], bases, region=region)
            geodesic_day, road_day = plan_both(raw, provider, time_limit_s)
    return {
        "extract": extract.name,
        "extract_kb": round(extract.stat().st_size / 1024),
        "tools": f"OSRM {tools.version} ({tools.origin})",
        "prepare_cold_s": cold_s,
        "prepare_cached_s": cached_s,
        "timings": timings,
        "engine_block": min(server.max_table_size, TABLE_BLOCK),
        "repeats": repeats,
        "ratio_points": max(sizes),
        "ratios": ratio,
        "technicians": len(raw["technicians"]),
        "appointments": sum(1 for v in raw["visits"] if "appointment" in v),
        "windows": sum(1 for v in raw["visits"] if "window" in v),
        "days": (geodesic_day, road_day),
    }


def _day_row(day: DayFigures) -> str:
    walked = day.on_roads
    late = f"{walked.appointments_late}/{walked.appointments}"
    if walked.late_min:
        late += (
            f" (median {statistics.median(walked.late_min):.0f}, "
            f"max {max(walked.late_min):.0f} min)"
        )
    checker = ", ".join(f"{code} {n}" for code, n in sorted(day.violations.items())) or "0"
    return (
        f"| {day.model} | {day.assigned}/{day.visits} | {day.km_planned:.1f} "
        f"| {walked.km:.1f} | {day.wall_s:.1f} "
        f"| {late} | {walked.windows_missed}/{walked.windows} "
        f"| {walked.promises_missed}/{walked.promises} "
        f"| {walked.routes_over_shift}/{walked.routes} | {checker} |\n"
    )


def _matrix_row(timing: MatrixTiming, engine_block: int) -> str:
    block = f"{timing.block}" + (" (engine)" if timing.block == engine_block else "")
    head = f"| {timing.size} x {timing.size} | {block} | {timing.requests} "
    target = MATRIX_TARGET_S.get(timing.size)
    goal = "-" if target is None else f"<= {target:g}"
    if timing.failed is not None:
        return head + f"| failed: {timing.failed} | | {goal} | missed |\n"
    met = "-" if target is None else "met" if timing.max_s <= target else "missed"
    return head + f"| {timing.median_s:.2f} | {timing.max_s:.2f} | {goal} | {met} |\n"


def report(figures: Mapping[str, Any], time_limit_s: float) -> str:
    """The figures as the Markdown body of a RESULTS.md section."""
    ratio: Ratios = figures["ratios"]
    timings: list[MatrixTiming] = figures["timings"]
    geodesic_day, road_day = figures["days"]
    matrix_rows = "".join(_matrix_row(t, figures["engine_block"]) for t in timings)
    return (
        f"{figures['extract']} ({figures['extract_kb']} KB, central Helsinki, about "
        f"1.0 x 1.7 km), {figures['tools']}, car profile, contraction hierarchies; "
        "`osrm-routed` on loopback (`--max-table-size 1000`). Points drawn in the clip and kept "
        "only where a car can drive from the centre and back (module notes).\n\n"
        "| preparation | cold (fresh cache) s | cached s |\n|---|---:|---:|\n"
        f"| {figures['extract']} | {figures['prepare_cold_s']:.2f} "
        f"| {figures['prepare_cached_s']:.3f} |\n\n"
        "Matrices end to end through `OsrmProvider` (durations and distances; in-process cache "
        f"emptied before each of {figures['repeats']} timings), in blocks of the server's "
        f"`--max-table-size` as the engine asks, and of {FITTING_BLOCK}: osrm-routed drops a "
        "request over 48 KiB, and an off-diagonal block of 1,000 x 1,000 points asks about "
        "49.5 KB (module notes).\n\n"
        "| matrix | block | requests | median s | max s | target s | |\n"
        "|---|---:|---:|---:|---:|---:|---|\n"
        + matrix_rows
        + f"\nRoad / geodesic (engine default `GeodesicProvider`) over the {ratio.pairs:,} "
        f"ordered pairs of the {figures['ratio_points']} points ({ratio.same_spot:,} pairs on the "
        "same spot of road left out): durations mean "
        f"{ratio.duration_mean:.2f}, 5th percentile {ratio.duration_p5:.2f}, 95th "
        f"{ratio.duration_p95:.2f} (mean leg {ratio.road_min_mean:.1f} min on roads, "
        f"{ratio.geodesic_min_mean:.1f} min geodesic); distances mean "
        f"{ratio.distance_mean:.2f}.\n\n"
        f"A day inside the clip (`build_day`, seed {SEED}): {geodesic_day.visits} visits "
        f"({figures['appointments']} appointments, {figures['windows']} windows), "
        f"{figures['technicians']} technicians at two bases; planned for {time_limit_s:g} s "
        "on each travel model, then every route walked on road durations (module notes) and "
        "checked by `dispatch.verify.check_plan` over the road matrix.\n\n"
        "| planned on | assigned | km as planned | km on roads | plan wall s "
        "| appointments late on roads | windows missed | promises missed | routes over shift "
        "| checker on roads |\n"
        "|---|---:|---:|---:|---:|---|---:|---:|---:|---|\n"
        + _day_row(geodesic_day)
        + _day_row(road_day)
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark, print the figures and append them to RESULTS.md."""
    parser = argparse.ArgumentParser(description="Road travel (OSRM) benchmark")
    parser.add_argument(
        "--time-limit", type=float, default=30.0, help="seconds per day plan (default 30)"
    )
    parser.add_argument("--no-record", action="store_true", help="do not append to RESULTS.md")
    args = parser.parse_args(argv)
    figures = run(args.time_limit)
    body = report(figures, args.time_limit)
    command = f"python -m benchmarks.roads --time-limit {args.time_limit:g}"
    if args.no_record:
        sys.stdout.write(f"Command: `{command}`\n{body}")
    else:
        record("Road travel (OSRM)", command, body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
