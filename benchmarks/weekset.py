"""Realistic field-service weeks: the Chang'an service centre of ``benchmarks.dayset``, five days.

``generate_week(visits_per_day, seed, days=5)`` returns one horizon problem in the contract's
JSON format (``docs/contract.md``, "Horizon: several days in one request"), deterministic for a
seed and sized by the visits of a working day (``python -m benchmarks.weekset --visits-per-day
250 --seed 1 -o week.json``). It is built from ``benchmarks.dayset``: the roster is a generated
day's, each working day's fixed work and faults are taken from a day generated for that date,
and rounds are placed with dayset's towns and addresses. Nothing here imports the engine: the
generator is a leaf that writes what a desk would type in, and the engine must cope with it.

The scenario
------------
The Chang'an after-sales centre plans the week from Monday 7 December 2026 (``Asia/Shanghai``)
in one request; ``policy`` is dayset's plus ``general_response_h`` 24.

- **Roster**: dayset's technicians (``T01``..) and delivery crews (``D1``..), sized for
  ``ROSTER_MARGIN`` times a day's visits (about one technician per nine visits) so that about
  90-97 % of the week can be served. Everyone has a ``calendar``: Monday to Friday with their
  shift, ``sun`` off; about a fifth of the technicians (one of each main trade first) work a
  short Saturday 09:00-13:00, the others have ``sat`` off. About 8 % of the roster take one
  weekday off (``days_off``) per five working days, never the last holder of a skill that day;
  one technician (two on a roster of 20 or more) works a late shift 12:00-20:00 with a meal
  break on one date (``dates``).
- **Each weekday** gets ``visits_per_day`` visits in all, from a day dayset generates for it:
  ~30 % appointments and ~25 % windows on that ``date`` (windows prefer deliveries and
  planned work), ~5 % urgent breakdowns reported during a qualified technician's shift
  (``reported_at``, 2-hour response; dayset's own urgent picks), ~20 % faults reported during
  working hours, most in the morning, with the 24-hour promise of ``general_response_h``
  (repairs first), ~8 % with a span (``earliest``/``latest``: "between Tuesday 13:00 and
  Thursday 18:00", a few with one end only; follow-ups pinned to a technician go here), and the
  rounds falling due that day (below) in place of the day's own work of their trades.
  Technicians named by a day (``technician``, ``preferred_technician``) are redrawn from the
  roster among those holding the skills who work that date, nearer ones likelier, at most
  dayset's two follow-ups per technician a day.
- **Saturday and Sunday** (when ``days`` reaches them): Saturday only brings faults, urgent and
  general, of trades someone works on Saturday, as many as Saturday's staff hours bear in
  proportion to a weekday's; Sunday brings nothing.
- **Rounds** (``R001``..), ~12 % of the week's visits: weekly CCTV inspections at shops,
  warehouses and estate offices (``{"weeks": 1}``, tolerance 1-2 days, last served on a
  weekday of the previous week; 15 % overdue, last served two weeks ago), monthly maintenance
  of air conditioners and water heaters at homes and businesses (``{"months": 1}``, or
  ``{"weeks": 4}`` for 30 % of them, tolerance 2-3 days). The centre's register of monthly
  contracts has last services spread over the past month; only those falling due inside the
  horizon are written. Due dates are spread evenly over the weekdays; a quarter of the rounds
  have a ``preferred_technician`` (a holder of the skill, nearer likelier) and a few a daily
  ``window``.

Shares are drawn as exact counts (rounded) per day; every random draw comes from one
``random.Random(seed)``, which also seeds the days dayset generates.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from random import Random
from typing import Any, Final

from benchmarks.dayset import (
    _BUSINESS_PREFIXES,
    _DONGGUAN_TOWNS,
    _DURATIONS,
    _NEAR_SHARE,
    _NEAR_TOWNS,
    MAX_PINS_PER_TECHNICIAN,
    MIN_VISITS,
    TIMEZONE,
    _access,
    _address,
    _duration,
    _largest_remainder,
    _person,
    _phone,
    _point_in,
    clock_minutes,
    clock_text,
    generate_day,
    haversine_km,
)

__all__ = [
    "DAYS",
    "GENERAL_RESPONSE_H",
    "MAX_DAYS",
    "ROSTER_MARGIN",
    "START",
    "generate_week",
    "main",
]

#: The horizon's first date (a Monday), its default length and the contract's longest.
START: Final = date(2026, 12, 7)
DAYS: Final = 5
MAX_DAYS: Final = 28

#: Hours within which a fault that is not urgent must be reached (``policy``).
GENERAL_RESPONSE_H: Final = 24

#: Visits the roster is sized for, per visit of a weekday: room for days off and rounds.
ROSTER_MARGIN: Final = 1.05
#: Visits dayset generates for a weekday, per visit kept: the spare feeds faults and spans;
#: for Saturday, per fault and share of the technicians at work (a third are repairs).
DAY_DRAW: Final = 1.1
SATURDAY_DRAW: Final = 3.0

#: Shares of a weekday's visits; faults reported with the 24-hour promise fill the rest.
APPOINTMENT_SHARE: Final = 0.30
WINDOW_SHARE: Final = 0.25
URGENT_SHARE: Final = 0.05
SPAN_SHARE: Final = 0.08
#: Share of the week's visits that are due dates of rounds.
ROUND_SHARE: Final = 0.12
#: Faults reported during the day, urgent or with the 24-hour promise (about 25 %).
FAULT_SHARE: Final = 1 - APPOINTMENT_SHARE - WINDOW_SHARE - SPAN_SHARE - ROUND_SHARE

#: Calendars: share of technicians on Saturday and their shift; weekday absences per worker
#: and five working days; late shifts (one, two from ``LATE_SHIFT_ROSTER`` people) and hours.
SATURDAY_SHARE: Final = 0.2
SATURDAY_SHIFT: Final = ("09:00", "13:00")
DAY_OFF_SHARE: Final = 0.08
LATE_SHIFT: Final = ("12:00", "20:00")
LATE_BREAK: Final = ("16:00", "18:00", 30)
LATE_SHIFT_ROSTER: Final = 20

#: Faults: minutes after the desk opens when calls peak; an urgent one is reported at least
#: this long before the last qualified shift ends; a general one before the desk closes.
CALL_PEAK_MIN: Final = 120
URGENT_CLOSE_MIN: Final = 180
GENERAL_CLOSE_MIN: Final = 30

#: Spans: days from the first to the last day, with weights; share with only one end given.
_SPAN_DAYS: Final = ((1, 0.3), (2, 0.4), (3, 0.3))
SPAN_LATEST_ONLY: Final = 0.15
SPAN_EARLIEST_ONLY: Final = 0.10

#: Rounds: overdue weekly ones, monthly ones every four weeks, with a preferred technician,
#: with a daily window, and low priority.
OVERDUE_SHARE: Final = 0.15
FOUR_WEEKS_SHARE: Final = 0.3
ROUND_PREFERRED_SHARE: Final = 0.25
ROUND_WINDOW_SHARE: Final = 0.15
ROUND_LOW_SHARE: Final = 0.2

_WEEKDAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SATURDAY: Final = 5
_HALF_DAYS: Final = (("08:00", "12:00"), ("13:00", "18:00"))
#: Where a span opens and closes on its first and last day.
_SPAN_OPENS: Final = ("08:00", "13:00")
_SPAN_CLOSES: Final = ("12:00", "18:00")


# --------------------------------------------------------------------------------------------
# Rounds


@dataclass(frozen=True, slots=True)
class _RoundKind:
    """A kind of recurring job: its trade, share of rounds, period and wording."""

    trade: str
    kind: str
    share: float
    weekly: bool
    tolerance_days: tuple[int, int]
    business_share: float
    clients: tuple[str, ...]
    notes: tuple[str, ...]


_ROUND_KINDS: Final = (
    _RoundKind(
        "cctv",
        "inspection",
        0.25,
        True,
        (1, 2),
        1.0,
        (
            "Supermarket",
            "Logistics Warehouse",
            "Kindergarten",
            "Property Management Office",
            "Hardware Factory",
            "Underground Car Park",
            "Electronics Factory",
        ),
        (
            "Weekly check: every camera recording, NVR disk health, clean dome lenses",
            "Weekly check: playback of the gate and loading-bay cameras, clock sync",
            "Weekly check: night-vision test, cable joints at the car-park ramp",
        ),
    ),
    _RoundKind(
        "air_conditioner",
        "maintenance",
        0.40,
        False,
        (2, 3),
        0.5,
        ("Restaurant", "Kindergarten", "Clinic", "Trading Co. Office", "Hotel", "Server Room"),
        (
            "Monthly contract: clean filters and drain pans, check refrigerant pressure",
            "Monthly contract: clean filters and outdoor coils, check condensate pump",
            "Monthly contract: filters, fan bearings, thermostat calibration",
        ),
    ),
    _RoundKind(
        "water_heater",
        "maintenance",
        0.35,
        False,
        (2, 3),
        0.5,
        ("Restaurant", "Hair Salon", "Gym", "Hotel", "Staff Dormitory"),
        (
            "Monthly contract: check burner, flue and pressure relief valve",
            "Monthly contract: flush tank, check anode and thermostat",
            "Monthly contract: gas leak test at the heater, clean ignition probe",
        ),
    ),
)


@dataclass(frozen=True, slots=True)
class _Every:
    """A round's period as the contract writes it: ``weeks`` or ``months``."""

    weeks: int = 0
    months: int = 0

    def after(self, start: date, times: int = 1) -> date:
        """``start`` plus ``times`` periods (a month keeps the day; ours are at most 28)."""
        if self.weeks:
            return start + timedelta(weeks=self.weeks * times)
        index = start.month - 1 + self.months * times
        return start.replace(year=start.year + index // 12, month=index % 12 + 1)

    def row(self) -> dict[str, int]:
        return {"weeks": self.weeks} if self.weeks else {"months": self.months}


def _month_before(day: date) -> date:
    """The same day a month earlier (ours are at most the 28th)."""
    if day.month == 1:
        return day.replace(year=day.year - 1, month=12)
    return day.replace(month=day.month - 1)


def _due_dates(every: _Every, tolerance: int, first_due: date, dates: Sequence[date]) -> list[date]:
    """The due dates that become visits of the horizon ``dates``, as the contract counts them:
    an overdue round is due on the first day, and each due date counts whose tolerance opens
    inside the horizon."""
    base = first_due if first_due + timedelta(days=tolerance) >= dates[0] else dates[0]
    found: list[date] = []
    while base - timedelta(days=tolerance) <= dates[-1]:
        found.append(base)
        base = every.after(base)
    return found


def _nearby_technician(
    rng: Random, rows: Sequence[Mapping[str, Any]], site: tuple[float, float]
) -> str | None:
    """One of ``rows``, nearer ones likelier (as dayset picks a preferred technician)."""
    if not rows:
        return None
    weights = [1.0 / (5.0 + haversine_km(_point(r["start"]), site)) for r in rows]
    return str(rng.choices(rows, weights=weights)[0]["id"])


def _round_site(rng: Random, business: bool) -> tuple[tuple[float, float], str, str]:
    """Where a contract customer is: location, address text and what the crew finds there."""
    if rng.random() < _NEAR_SHARE:
        town = rng.choices(_NEAR_TOWNS, weights=[t.weight for t in _NEAR_TOWNS])[0]
    else:
        town = rng.choices(_DONGGUAN_TOWNS, weights=[t.weight for t in _DONGGUAN_TOWNS])[0]
    site = _point_in(rng, town)
    address = _address(rng, town, business)
    return site, address.text, _access(address)


def _round_row(
    rng: Random,
    kind: _RoundKind,
    round_id: str,
    every: _Every,
    tolerance: int,
    last_served: date,
    technicians: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    """A round's JSON: the job, who is preferred, how often and when it was last served."""
    business = rng.random() < kind.business_share
    site, address, access = _round_site(rng, business)
    customer = (
        f"{rng.choice(_BUSINESS_PREFIXES)} {rng.choice(kind.clients)}" if business else _person(rng)
    )
    row: dict[str, Any] = {
        "id": round_id,
        "customer": customer,
        "address": address,
        "phone": _phone(rng),
        "location": {"lat": site[0], "lon": site[1]},
        "kind": kind.kind,
        "duration_min": _duration(rng, *_DURATIONS[kind.kind]),
        "required_skills": [kind.trade],
        "priority": "low" if rng.random() < ROUND_LOW_SHARE else "normal",
    }
    if rng.random() < ROUND_WINDOW_SHARE:
        start, end = rng.choice(_HALF_DAYS)
        row["window"] = {"start": start, "end": end}
    if rng.random() < ROUND_PREFERRED_SHARE:
        holders = [t for t in technicians if kind.trade in t["skills"]]
        preferred = _nearby_technician(rng, holders, site)
        if preferred is not None:
            row["preferred_technician"] = preferred
    row["every"] = every.row()
    row["tolerance_days"] = tolerance
    row["last_served"] = last_served.isoformat()
    row["notes"] = f"{rng.choice(kind.notes)}; {access}"
    return row


def _least_loaded(rng: Random, candidates: Sequence[date], load: Counter[date]) -> date:
    return min(candidates, key=lambda d: (load[d], rng.random()))


def _rounds(
    rng: Random,
    target: int,
    dates: Sequence[date],
    technicians: Sequence[Mapping[str, Any]],
    width: int,
) -> tuple[list[dict[str, Any]], Counter[tuple[date, str]]]:
    """Rounds whose due dates in the horizon number about ``target``; and, per date and
    trade, how many fall due there."""
    weekdays = [d for d in dates if d.weekday() < _SATURDAY]
    first_week = [d for d in weekdays if d < dates[0] + timedelta(weeks=1)]
    month_days = [d for d in weekdays if d.day <= 28]
    targets = _largest_remainder(target, [k.share for k in _ROUND_KINDS], floor=0)
    load: Counter[date] = Counter()
    due_by_trade: Counter[tuple[date, str]] = Counter()
    rows: list[dict[str, Any]] = []
    for kind, wanted in zip(_ROUND_KINDS, targets, strict=True):
        found = 0
        while found < wanted:
            tolerance = rng.randint(*kind.tolerance_days)
            if kind.weekly:
                every = _Every(weeks=1)
                if rng.random() < OVERDUE_SHARE:  # a weekday two weeks before the horizon
                    last = dates[0] - timedelta(days=14 - rng.randrange(5))
                    first_due = every.after(last)
                else:
                    first_due = _least_loaded(rng, first_week, load)
                    last = first_due - timedelta(weeks=1)
            else:
                four_weeks = not month_days or rng.random() < FOUR_WEEKS_SHARE
                every = _Every(weeks=4) if four_weeks else _Every(months=1)
                first_due = _least_loaded(rng, weekdays if four_weeks else month_days, load)
                last = first_due - timedelta(weeks=4) if four_weeks else _month_before(first_due)
            dues = _due_dates(every, tolerance, first_due, dates)
            for due in dues:
                load[due] += 1
                due_by_trade[due, kind.trade] += 1
            found += len(dues)
            round_id = f"R{len(rows) + 1:0{width}d}"
            rows.append(_round_row(rng, kind, round_id, every, tolerance, last, technicians))
    return rows, due_by_trade


# --------------------------------------------------------------------------------------------
# The roster


def _point(location: Mapping[str, float]) -> tuple[float, float]:
    return (location["lat"], location["lon"])


def _shift_on(row: Mapping[str, Any], day: date) -> tuple[int, int] | None:
    """The shift (start, end minutes) ``row`` works on ``day`` by its calendar, or ``None``."""
    calendar: Mapping[str, Any] = row.get("calendar", {})
    text = day.isoformat()
    weekdays: Mapping[str, Any] = calendar.get("weekdays", {})
    weekday = _WEEKDAYS[day.weekday()]
    if text in calendar.get("dates", {}):
        workday = calendar["dates"][text]
    elif text in calendar.get("days_off", []):
        workday = None
    elif weekday in weekdays:
        workday = weekdays[weekday]
    else:
        workday = {"shift": row["shift"]}
    if workday is None:
        return None
    return clock_minutes(workday["shift"]["start"]), clock_minutes(workday["shift"]["end"])


def _covered_without(rows: Sequence[Mapping[str, Any]], k: int, day: date) -> bool:
    """Whether every skill of ``rows[k]`` has another holder at work on ``day``."""
    return all(
        any(
            j != k and skill in other["skills"] and _shift_on(other, day) is not None
            for j, other in enumerate(rows)
        )
        for skill in rows[k]["skills"]
    )


def _give_calendars(rng: Random, rows: list[dict[str, Any]], dates: Sequence[date]) -> None:
    """Calendars: Monday to Friday; some Saturdays, days off and a late shift (see above)."""
    for row in rows:
        row["calendar"] = {"weekdays": {"sat": None, "sun": None}}
    technicians = [k for k, row in enumerate(rows) if row["crew_size"] == 1]
    by_trade: dict[str, list[int]] = {}
    for k in technicians:
        by_trade.setdefault(rows[k]["skills"][0], []).append(k)
    wanted = max(1, round(len(technicians) * SATURDAY_SHARE))
    trades = sorted(by_trade)
    rng.shuffle(trades)
    saturday = {rng.choice(by_trade[trade]) for trade in trades[:wanted]}
    others = [k for k in technicians if k not in saturday]
    saturday.update(rng.sample(others, max(0, wanted - len(saturday))))
    for k in sorted(saturday):
        shift = {"start": SATURDAY_SHIFT[0], "end": SATURDAY_SHIFT[1]}
        rows[k]["calendar"]["weekdays"]["sat"] = {"shift": shift}

    weekdays = [d for d in dates if d.weekday() < _SATURDAY]
    absences = max(1, round(len(rows) * DAY_OFF_SHARE * len(weekdays) / 5))
    off: set[tuple[int, date]] = set()
    for _ in range(absences * 5):  # a few tries each; a last holder keeps working
        if len(off) == absences:
            break
        k, day = rng.randrange(len(rows)), rng.choice(weekdays)
        if (k, day) in off or not _covered_without(rows, k, day):
            continue
        off.add((k, day))
        rows[k]["calendar"].setdefault("days_off", []).append(day.isoformat())
    for row in rows:
        row["calendar"].get("days_off", []).sort()

    on_leave = {k for k, _ in off}
    late_pool = [k for k in technicians if k not in on_leave]
    late = 1 if len(technicians) < LATE_SHIFT_ROSTER else 2
    for k in sorted(rng.sample(late_pool, min(late, len(late_pool)))):
        start, end, minutes = LATE_BREAK
        rows[k]["calendar"]["dates"] = {
            rng.choice(weekdays).isoformat(): {
                "shift": {"start": LATE_SHIFT[0], "end": LATE_SHIFT[1]},
                "breaks": [{"start": start, "end": end, "duration_min": minutes}],
            }
        }


# --------------------------------------------------------------------------------------------
# The days


@dataclass(frozen=True, slots=True)
class _Staff:
    """Who works on one date: the technicians' rows and their shifts in minutes."""

    day: date
    technicians: tuple[Mapping[str, Any], ...]
    shifts: tuple[tuple[int, int], ...]

    @classmethod
    def on(cls, rows: Sequence[Mapping[str, Any]], day: date) -> _Staff:
        working = [(r, _shift_on(r, day)) for r in rows if r["crew_size"] == 1]
        present = [(r, s) for r, s in working if s is not None]
        return cls(day, tuple(r for r, _ in present), tuple(s for _, s in present))

    def holders(self, skills: Sequence[str]) -> list[int]:
        """Positions of the working technicians holding every one of ``skills``."""
        return [k for k, r in enumerate(self.technicians) if set(skills) <= set(r["skills"])]


def _moment(day: date, minutes: int) -> str:
    return f"{day.isoformat()}T{clock_text(minutes)}"


def _call_time(rng: Random, opens: int, closes: int) -> int:
    """A 5-minute mark in ``[opens, closes]``, calls peaking ``CALL_PEAK_MIN`` after opening."""
    if closes <= opens:
        return opens
    peak = min(closes, opens + CALL_PEAK_MIN)
    return min(closes, 5 * math.ceil(rng.triangular(opens, closes, peak) / 5))


def _urgent_hours(row: Mapping[str, Any], staff: _Staff) -> tuple[int, int]:
    """When an urgent fault may be reported: while a technician holding its skills is at
    work, at least ``URGENT_CLOSE_MIN`` before the last of them goes home."""
    shifts = [staff.shifts[k] for k in staff.holders(row["required_skills"])] or list(staff.shifts)
    opens = min(start for start, _ in shifts)
    return opens, max(opens, max(end for _, end in shifts) - URGENT_CLOSE_MIN)


def _restaff(rng: Random, row: dict[str, Any], staff: _Staff, pins: Counter[str]) -> None:
    """Redraw the technician a day's visit names from the roster at work that date."""
    if "preferred_technician" not in row and "technician" not in row:
        return
    site = _point(row["location"])
    holders = [staff.technicians[k] for k in staff.holders(row["required_skills"])]
    if "preferred_technician" in row:
        preferred = _nearby_technician(rng, holders, site)
        if preferred is None:
            del row["preferred_technician"]
        else:
            row["preferred_technician"] = preferred
    if "technician" in row:
        free = [t for t in holders if pins[t["id"]] < MAX_PINS_PER_TECHNICIAN]
        pinned = _nearby_technician(rng, free, site)
        if pinned is None:
            del row["technician"]
        else:
            row["technician"] = pinned
            pins[pinned] += 1


def _take(
    rng: Random, pool: list[int], count: int, rank: Sequence[float], weights: bool = False
) -> list[int]:
    """Up to ``count`` of ``pool``: lowest ``rank`` first (ties at random), or drawn with
    chances in proportion to ``rank`` when ``weights``; taken ones leave ``pool``."""
    if weights:
        keys = {i: -(rng.random() ** (1.0 / rank[i])) for i in pool}
    else:
        keys = {i: rank[i] + rng.random() / 2 for i in pool}
    chosen = sorted(pool, key=keys.__getitem__)[: max(0, count)]
    taken = set(chosen)
    pool[:] = [i for i in pool if i not in taken]
    return sorted(chosen)


def _span(rng: Random, day: date, dates: Sequence[date]) -> dict[str, str]:
    """An ``earliest``/``latest`` span opening on ``day`` (a few give only one end)."""
    length = rng.choices([d for d, _ in _SPAN_DAYS], weights=[w for _, w in _SPAN_DAYS])[0]
    last = day + timedelta(days=length)
    while last.weekday() >= _SATURDAY:  # desks promise working days
        last += timedelta(days=1)
    earliest = f"{day.isoformat()}T{rng.choice(_SPAN_OPENS)}"
    latest = f"{last.isoformat()}T{rng.choice(_SPAN_CLOSES)}"
    draw = rng.random()
    if draw < SPAN_LATEST_ONLY:
        return {"latest": latest}
    if draw < SPAN_LATEST_ONLY + SPAN_EARLIEST_ONLY and day > dates[0]:
        return {"earliest": earliest}
    return {"earliest": earliest, "latest": latest}


#: Keys of a visit that say when: written first, so that a desk reads them first.
_WHEN_KEYS: Final[tuple[str, ...]] = (
    "date",
    "appointment",
    "window",
    "reported_at",
    "earliest",
    "latest",
)
#: Keys of a day's visit a Saturday fault does not keep: it is reported, not booked.
_DAY_ONLY_KEYS: Final = ("id", "reported_at", "appointment", "window", "technician")


def _visit_row(visit_id: str, row: Mapping[str, Any], when: Mapping[str, Any]) -> dict[str, Any]:
    rest = {k: v for k, v in row.items() if k not in _WHEN_KEYS}
    timing: dict[str, Any] = {k: row[k] for k in ("appointment", "window") if k in row}
    timing.update(when)
    ordered = {k: timing[k] for k in _WHEN_KEYS if k in timing}
    return {"id": visit_id, **ordered, **rest}


class _Ids:
    """Visit ids unique across the week: one running number per category letter."""

    def __init__(self, width: int) -> None:
        self.width = width
        self.counts: Counter[str] = Counter()

    def next(self, letter: str) -> str:
        self.counts[letter] += 1
        return f"{letter}{self.counts[letter]:0{self.width}d}"


def _weekday_visits(
    rng: Random,
    load: int,
    staff: _Staff,
    dates: Sequence[date],
    rounds_due: Mapping[str, int],
    ids: _Ids,
) -> list[dict[str, Any]]:
    """A weekday's own visits (rounds come on top): from a day dayset generates for it."""
    raw: list[dict[str, Any]] = generate_day(
        max(MIN_VISITS, math.ceil(load * DAY_DRAW)), rng.randrange(2**32)
    )["visits"]
    n = len(raw)
    crew = [r.get("crew_size", 1) > 1 for r in raw]
    repair = [r["kind"] == "repair" for r in raw]
    pinned = ["technician" in r for r in raw]
    urgent = [i for i in range(n) if raw[i]["priority"] == "urgent"]
    appointments = [i for i in range(n) if "appointment" in raw[i]]
    windows = [i for i in range(n) if "window" in raw[i]]

    n_rounds = sum(rounds_due.values())
    n_app = round(load * APPOINTMENT_SHARE)
    n_win = round(load * WINDOW_SHARE)
    n_urgent = round(load * URGENT_SHARE)
    n_span = round(load * SPAN_SHARE)
    kept_app = sorted(appointments[:n_app])
    window_weight = [
        8.0 if pinned[i] else 2.0 if crew[i] else 0.3 if repair[i] else 1.0 for i in range(n)
    ]
    kept_win = _take(rng, list(windows), n_win, window_weight, weights=True)
    kept_urgent = urgent[:n_urgent]
    chosen = {*kept_app, *kept_win, *kept_urgent}
    pool = [i for i in range(n) if i not in chosen]

    # Rounds due today stand in for the day's own work of their trades (maintenance first).
    for trade, count in sorted(rounds_due.items()):
        rank = [
            (0.0 if raw[i]["kind"] in ("maintenance", "inspection") else 1.0 + float(repair[i]))
            if raw[i]["required_skills"] == [trade] and not pinned[i]
            else 9.0
            for i in range(n)
        ]
        _take(rng, pool, count, rank)
    span_rank = [
        0.0 if pinned[i] else 1.0 if crew[i] else 3.0 if repair[i] else 2.0 for i in range(n)
    ]
    spans = _take(rng, pool, max(n_span, sum(pinned[i] for i in pool)), span_rank)
    n_general = load - n_rounds - len(kept_app) - len(kept_win) - len(kept_urgent) - len(spans)
    pool = [i for i in pool if not crew[i]]  # deliveries are no faults
    general = _take(rng, pool, n_general, [0.0 if repair[i] else 1.0 for i in range(n)])

    opens = min(s for s, _ in staff.shifts)
    closes = max(e for _, e in staff.shifts) - GENERAL_CLOSE_MIN
    pins: Counter[str] = Counter()
    rows: list[dict[str, Any]] = []
    for i in sorted({*chosen, *spans, *general}):
        row = {k: v for k, v in raw[i].items() if k not in ("id", "reported_at")}
        when: dict[str, Any]
        if i in kept_urgent:
            letter = "U"
            opens, closes = _urgent_hours(row, staff)  # dayset's time, kept inside them
            reported = max(opens, min(closes, clock_minutes(raw[i]["reported_at"])))
            when = {"reported_at": _moment(staff.day, reported)}
        elif i in chosen:
            letter = "A" if "appointment" in row else "W"
            when = {"date": staff.day.isoformat()}
        else:
            row.pop("appointment", None)
            row.pop("window", None)
            if row["priority"] == "urgent":
                row["priority"] = "high"  # a breakdown beyond the day's urgent share
            if i in spans:
                letter, when = "S", _span(rng, staff.day, dates)
            else:
                letter = "F"
                when = {"reported_at": _moment(staff.day, _call_time(rng, opens, closes))}
        _restaff(rng, row, staff, pins)
        rows.append(_visit_row(ids.next(letter), row, when))
    return rows


def _saturday_visits(
    rng: Random, load: int, staff: _Staff, roster_technicians: int, ids: _Ids
) -> list[dict[str, Any]]:
    """Saturday's faults, of trades someone works that day: urgent and general."""
    # Draw enough of a day that the trades at work on Saturday bring ``load`` repairs.
    at_work = len(staff.technicians) / roster_technicians
    draw = max(MIN_VISITS, math.ceil(SATURDAY_DRAW * load / at_work))
    raw: list[dict[str, Any]] = generate_day(draw, rng.randrange(2**32))["visits"]
    fitting = [
        i
        for i, r in enumerate(raw)
        if r.get("crew_size", 1) == 1
        and r["kind"] == "repair"
        and staff.holders(r["required_skills"])
    ]
    urgent = [i for i in fitting if raw[i]["priority"] == "urgent"]
    urgent = urgent[: round(load * URGENT_SHARE / FAULT_SHARE)]
    picked = urgent + [i for i in fitting if i not in set(urgent)]
    opens = min(s for s, _ in staff.shifts)
    closes = max(e for _, e in staff.shifts) - GENERAL_CLOSE_MIN
    rows: list[dict[str, Any]] = []
    pins: Counter[str] = Counter()
    for i in sorted(picked[:load]):
        row = {k: v for k, v in raw[i].items() if k not in _DAY_ONLY_KEYS}
        if i in urgent:
            letter = "U"
            reported = _call_time(rng, *_urgent_hours(row, staff))
        else:
            if row["priority"] == "urgent":
                row["priority"] = "high"  # a breakdown beyond the day's urgent share
            letter, reported = "F", _call_time(rng, opens, closes)
        _restaff(rng, row, staff, pins)
        when = {"reported_at": _moment(staff.day, reported)}
        rows.append(_visit_row(ids.next(letter), row, when))
    return rows


def _load(visits_per_day: int, staff: _Staff, roster: Sequence[Mapping[str, Any]]) -> int:
    """Visits of a date: a weekday's number; on Saturday, in proportion to its staff hours
    against the technicians' usual shifts; none on Sunday."""
    if staff.day.weekday() < _SATURDAY:
        return visits_per_day
    if staff.day.weekday() > _SATURDAY or not staff.shifts:
        return 0
    usual = sum(
        clock_minutes(r["shift"]["end"]) - clock_minutes(r["shift"]["start"])
        for r in roster
        if r["crew_size"] == 1
    )
    minutes = sum(end - start for start, end in staff.shifts)
    return round(visits_per_day * minutes / usual)


# --------------------------------------------------------------------------------------------
# The week


def generate_week(visits_per_day: int, seed: int, days: int = DAYS) -> dict[str, Any]:
    """A horizon of the Chang'an service centre from Monday 7 December 2026 (see the module
    docstring).

    Parameters
    ----------
    visits_per_day
        Visits of a working weekday, at least 10, rounds included; the roster scales with it.
    seed
        Seed of the only random source; the same seed gives the same week.
    days
        Dates in the horizon, 1 to 28 (default 5: Monday to Friday).

    Returns
    -------
    A horizon problem in the contract's JSON format.

    Raises
    ------
    ValueError
        When ``visits_per_day`` is below 10 or ``days`` outside 1-28.
    """
    if visits_per_day < MIN_VISITS:
        raise ValueError(f"visits_per_day must be at least {MIN_VISITS}, got {visits_per_day}")
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days must be between 1 and {MAX_DAYS}, got {days}")
    rng = Random(seed)
    dates = [START + timedelta(days=k) for k in range(days)]
    roster_day = generate_day(math.ceil(visits_per_day * ROSTER_MARGIN), rng.randrange(2**32))
    roster: list[dict[str, Any]] = roster_day["technicians"]
    _give_calendars(rng, roster, dates)

    staff = {day: _Staff.on(roster, day) for day in dates}
    loads = {day: _load(visits_per_day, staff[day], roster) for day in dates}
    width = max(4, len(str(visits_per_day * days)))
    technicians = [r for r in roster if r["crew_size"] == 1]
    rounds, due = _rounds(
        rng, round(ROUND_SHARE * sum(loads.values())), dates, technicians, width - 1
    )

    ids = _Ids(width)
    visits: list[dict[str, Any]] = []
    for day in dates:
        if day.weekday() < _SATURDAY:
            rounds_due = {trade: count for (d, trade), count in due.items() if d == day}
            visits += _weekday_visits(rng, loads[day], staff[day], dates, rounds_due, ids)
        elif loads[day] > 0:
            visits += _saturday_visits(rng, loads[day], staff[day], len(technicians), ids)
    return {
        "horizon": {"start": START.isoformat(), "days": days},
        "timezone": TIMEZONE,
        "policy": dict(roster_day["policy"], general_response_h=GENERAL_RESPONSE_H),
        "technicians": roster,
        "visits": visits,
        "rounds": rounds,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Write a generated week as JSON to ``-o`` or standard output; return the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.weekset",
        description="Generate a realistic field-service week (Chang'an, Dongguan).",
    )
    parser.add_argument(
        "--visits-per-day", type=int, default=250, help="visits of a weekday (default 250)"
    )
    parser.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
    parser.add_argument("--days", type=int, default=DAYS, help=f"dates (default {DAYS})")
    parser.add_argument("-o", "--output", type=Path, help="write here instead of stdout")
    args = parser.parse_args(argv)
    if args.visits_per_day < MIN_VISITS:
        parser.error(f"--visits-per-day must be at least {MIN_VISITS}")
    if not 1 <= args.days <= MAX_DAYS:
        parser.error(f"--days must be between 1 and {MAX_DAYS}")
    week = generate_week(args.visits_per_day, args.seed, args.days)
    text = json.dumps(week, indent=1, ensure_ascii=False) + "\n"
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
