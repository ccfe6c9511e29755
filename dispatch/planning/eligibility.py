"""Who may serve a visit, and in words why nobody can.

Each visit is screened against every technician (or only the one it is pinned to) in a fixed
order, the order a dispatcher would check by hand: skills, crew size, service radius, time
(can the visit's window be reached from the base inside the shift and back), van room. The
technicians that pass every check become the visit's allowed vehicles in the solver; a visit
nobody passes never reaches the solver and is reported with the first check that emptied the
list. The checks run on all visit-technician pairs at once; the order is walked, one visit at
a time, only for a visit nobody passes. Radius distances are kilometres on the WGS84 ellipsoid
from the technician's start, by Lambert's formula for all pairs at once; pairs so close to the
limit that its error could decide are measured again by the exact geodesic (geopy).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta

import numpy as np
from geopy.distance import geodesic
from numpy.typing import NDArray

from dispatch.model import (
    Problem,
    Technician,
    Unassigned,
    UnassignedCode,
    Visit,
)
from dispatch.travel.geodesic import ellipsoidal_km
from dispatch.units import (
    METRES_PER_KM,
    clock_of_offset,
    format_clock,
    quantity_units,
    seconds_after,
    shifted,
)

__all__ = ["RADIUS_RECHECK_SHARE", "Screening", "TimeBounds", "screen_visits", "wanted_time"]

#: Pairs whose distance by Lambert's formula lies within this share of the radius are measured
#: again by geopy's exact geodesic: 70 times the formula's largest error (1.4e-6 of the
#: distance), 10 m of a 100 km radius. The band was 1 % around haversine distances (which err
#: by up to 0.5 %): on a rural day of 800 visits and 211 technicians, 6,648 geopy calls took
#: 1.0 s, half of a 2 s budget.
RADIUS_RECHECK_SHARE = 1e-4


@dataclass(frozen=True, slots=True)
class TimeBounds:
    """Bounds in solver seconds of a visit's node: its cumul window and the time spent there."""

    earliest_s: int
    latest_s: int
    service_s: int
    #: Intervals ``(a, b)`` inside the bounds the service may not start in (the nights
    #: between the hours a horizon's visit is served in each day).
    gaps_s: tuple[tuple[int, int], ...] = ()
    #: Seconds from the cumul to the service start, part of ``service_s``: an appointment's
    #: minutes at the door (``dispatch.planning.compile.appointment_bounds``).
    door_buffer_s: int = 0


@dataclass(frozen=True, slots=True)
class Screening:
    """The outcome for one visit: the technicians allowed (indices), or why there are none."""

    allowed: tuple[int, ...]
    unassigned: Unassigned | None


def screen_visits(
    problem: Problem,
    bounds: Sequence[TimeBounds],
    travel_s: NDArray[np.int64],
    distance_m: NDArray[np.int64],
    visit_site: NDArray[np.int64],
    start_site: NDArray[np.int64],
    end_site: NDArray[np.int64],
    base_site: NDArray[np.int64] | None = None,
) -> list[Screening]:
    """Screen every visit of ``problem`` (see the module docstring).

    Parameters
    ----------
    bounds
        Per visit, its node's time bounds in seconds after the plan's midnight.
    travel_s, distance_m
        Matrices over deduplicated sites.
    visit_site, start_site, end_site, base_site
        Row of each visit, technician start, end and base (radius; default the start) in
        those matrices.
    """
    radius_km = _radius_km(
        problem, distance_m, visit_site, start_site if base_site is None else base_site
    )
    origin = problem.midnight
    shifts = np.array(
        [
            [seconds_after(t.shift.start, origin), seconds_after(t.working_end, origin)]
            for t in problem.technicians
        ],
        dtype=np.int64,
    ).reshape(-1, 2)
    # Rows are where a leg starts: the way out is start -> visit, the way back visit -> end
    # (a road matrix is not symmetric: one-way streets, motorway exits).
    reach_s = travel_s[np.ix_(start_site, visit_site)].T
    back_s = travel_s[np.ix_(visit_site, end_site)]
    earliest_s, latest_s, service_s = (
        np.array([getattr(b, name) for b in bounds], dtype=np.int64)[:, None]
        for name in ("earliest_s", "latest_s", "service_s")
    )
    earliest = np.maximum(shifts[None, :, 0] + reach_s, earliest_s)
    latest = np.minimum(shifts[None, :, 1] - back_s - service_s, latest_s)
    fits_time = earliest <= latest
    for i, bound in enumerate(bounds):
        if bound.gaps_s:
            # An array, not a list: with no technician at all (a week everyone is off) the
            # empty list was a float array, and ``&=`` a TypeError.
            fits_time[i] &= np.array(
                [
                    _starts_between(int(low), int(high), bound.gaps_s)
                    for low, high in zip(earliest[i], latest[i], strict=True)
                ],
                dtype=np.bool_,
            )
    checks = _checks(problem, radius_km, fits_time)
    able = np.logical_and.reduce(checks)
    outcomes = []
    for i, visit in enumerate(problem.visits):
        allowed = np.flatnonzero(able[i])
        if allowed.size:
            outcomes.append(Screening(tuple(allowed.tolist()), None))
        else:  # the checks in order, for the reason
            rows = tuple(check[i] for check in checks)
            outcomes.append(_screen(problem, visit, radius_km[i], rows))
    return outcomes


def _checks(
    problem: Problem, radius_km: NDArray[np.float64], fits_time: NDArray[np.bool_]
) -> tuple[NDArray[np.bool_], ...]:
    """Each check's outcome on every (visit, technician) pair, in a dispatcher's order: the
    pin, skills, crew, radius, time (``fits_time``) and van room."""
    techs, visits = problem.technicians, problem.visits
    ids = np.array([t.id for t in techs], dtype=object)
    crew = np.array([t.crew_size for t in techs], dtype=np.int64)
    limits = np.array([_limit(problem, t) for t in techs], dtype=np.float64)
    # In the solver's units (grams, cm³; demands up, capacities down), as the solve counts:
    # compared as floats, a 0.4 g load "fit" a 0.5 g van the solve then could not load.
    weight = np.array([_cap(t.capacity.weight_kg, "weight_kg") for t in techs], dtype=np.float64)
    volume = np.array([_cap(t.capacity.volume_m3, "volume_m3") for t in techs], dtype=np.float64)
    shape = (len(visits), len(techs))
    pinned, skilled, crewed, roomy = (np.ones(shape, dtype=np.bool_) for _ in range(4))
    held: dict[frozenset[str], NDArray[np.bool_]] = {}
    for i, visit in enumerate(visits):
        # A person works on several days of a horizon: a pin holds them on each.
        if visit.pinned_to:
            pinned[i] = ids == visit.pinned_to
        needed = visit.required_skills
        if needed not in held:
            held[needed] = np.array([needed <= t.skills for t in techs], dtype=np.bool_)
        skilled[i] = held[needed]
        crewed[i] = crew >= visit.crew_size
        load = (
            quantity_units(visit.demand.weight_kg, "weight_kg", up=True),
            quantity_units(visit.demand.volume_m3, "volume_m3", up=True),
        )
        roomy[i] = (load[0] <= weight) & (load[1] <= volume)
    near = radius_km <= limits[None, :]
    return pinned, skilled, crewed, near, fits_time, roomy


def _starts_between(low: int, high: int, gaps: Sequence[tuple[int, int]]) -> bool:
    """Whether some moment of ``[low, high]`` lies outside every gap."""
    for gap_low, gap_high in sorted(gaps):
        if low < gap_low:
            break
        low = max(low, gap_high + 1)
    return low <= high


def _radius_km(
    problem: Problem,
    distance_m: NDArray[np.int64],
    visit_site: NDArray[np.int64],
    start_site: NDArray[np.int64],
) -> NDArray[np.float64]:
    """``(visits, technicians)`` km from each technician's base to each visit: the straight
    line where both have coordinates (their own, or those of their row of the matrix's
    ``locations``: the matrix's 30 road km once refused a visit 20 km away), else (an
    explicit matrix without them) the matrix's road km, the one measure there is. Pair by
    pair: one visit given by its matrix index alone once made every pair of the day use the
    matrix's km, a visit 556 km away by its coordinates sent out because the matrix said 5."""
    techs, visits = problem.technicians, problem.visits
    km = distance_m[np.ix_(start_site, visit_site)].T.astype(np.float64) / METRES_PER_KM
    sites = [problem.coordinates(visit.site) for visit in visits]
    homes = [problem.coordinates(tech.home) for tech in techs]
    rows = [i for i, place in enumerate(sites) if place]
    columns = [j for j, place in enumerate(homes) if place]
    if not rows or not columns:  # nobody left to send, or no coordinates at all
        return km
    points = np.array([(loc.lat, loc.lon) for i in rows if (loc := sites[i])])
    bases = np.array([(loc.lat, loc.lon) for j in columns if (loc := homes[j])])
    straight = ellipsoidal_km(points, bases)
    limits = np.array([_limit(problem, techs[j]) for j in columns])
    near = np.abs(straight - limits[None, :]) <= RADIUS_RECHECK_SHARE * limits[None, :]
    for a, b in zip(*np.nonzero(near), strict=True):
        straight[a, b] = geodesic(tuple(points[a]), tuple(bases[b])).km
    km[np.ix_(rows, columns)] = straight
    return km


def _cap(capacity: float | None, quantity: str) -> float:
    """A van's capacity as a bound in the solver's units: none is no bound."""
    return np.inf if capacity is None else quantity_units(capacity, quantity, up=False)


def _beyond(km: float, limit: float) -> str:
    """``km``, a distance past ``limit``, in whole km, or with as many decimals as it takes to
    read past it: 12.39 km from a base of radius 12 read "12 km (radius 12 km)"."""
    for decimals in range(4):
        shown = f"{km:.{decimals}f}"
        if float(shown) > limit:
            return shown
    return shown


def _limit(problem: Problem, technician: Technician) -> float:
    return technician.service_radius_km or problem.policy.service_radius_km


def _screen(
    problem: Problem,
    visit: Visit,
    radius_km: NDArray[np.float64],
    checks: tuple[NDArray[np.bool_], ...],
) -> Screening:
    """The reason nobody may serve ``visit``: its technicians' outcomes of each check
    (``_checks``' rows for it) walked in order, the first that empties the list named."""
    techs = problem.technicians
    pinned, skilled_row, crewed_row, near_row, timely_row, roomy_row = checks
    everyone = range(len(techs))

    def left_out(
        code: UnassignedCode, reason: str, candidates: Sequence[int], *, anyone: bool = False
    ) -> Screening:
        """Left out for ``code``; a pinned visit for its technician's failing (``pinned``),
        unless nobody at all could serve it (``anyone``: no skill, no crew that large)."""
        if visit.pinned_to and not anyone:
            code, reason = UnassignedCode.PINNED, f"pinned to {visit.pinned_to}, {reason}"
        ids = tuple(techs[c].id for c in candidates)
        return Screening((), Unassigned(visit.id, code, reason, ids))

    if not techs:  # every technician of a re-planned day is gone
        return left_out(UnassignedCode.NO_ROOM, "no technician is left to work the day", ())
    # The contract's order: no_skill and crew_size (nobody at all), then pinned, radius, ...
    if not any(skilled_row[c] for c in everyone):
        reason = _skill_reason(problem, visit, everyone, pinned_to=None)
        return left_out(UnassignedCode.NO_SKILL, reason, (), anyone=True)
    qualified = [c for c in everyone if skilled_row[c]]
    if not any(crewed_row[c] for c in qualified):
        reason = _crew_reason(problem, visit, qualified)
        return left_out(UnassignedCode.CREW_SIZE, reason, (), anyone=True)
    pool = [c for c in everyone if pinned[c]]
    if not pool:  # pinned to someone not on the day
        return left_out(UnassignedCode.PINNED, "who is not working today", ())
    skilled = [c for c in pool if skilled_row[c]]
    if not skilled:
        reason = _skill_reason(problem, visit, pool, pinned_to=visit.pinned_to)
        return left_out(UnassignedCode.NO_SKILL, reason, ())
    crewed = [c for c in skilled if crewed_row[c]]
    if not crewed:
        reason = (
            f"who works in a crew of {max(techs[c].crew_size for c in skilled)}; the visit "
            f"needs {visit.crew_size}"
            if visit.pinned_to
            else _crew_reason(problem, visit, skilled)
        )
        return left_out(UnassignedCode.CREW_SIZE, reason, ())
    near = [c for c in crewed if near_row[c]]
    if not near:
        closest = min(crewed, key=lambda c: radius_km[c])
        limit = _limit(problem, techs[closest])
        reason = (
            f"{_beyond(float(radius_km[closest]), limit)} km from every eligible base "
            f"(radius {limit:g} km; nearest {techs[closest].id})"
        )
        return left_out(UnassignedCode.RADIUS, reason, crewed)
    timely = [c for c in near if timely_row[c]]
    if not timely:
        return left_out(UnassignedCode.WINDOW, _time_reason(problem, visit, near), near)
    roomy = [c for c in timely if roomy_row[c]]
    if not roomy:
        reason = f"{_load_text(visit)} is more than any eligible van holds"
        return left_out(UnassignedCode.CAPACITY, reason, timely)
    return Screening(tuple(roomy), None)


def _skill_reason(
    problem: Problem, visit: Visit, pool: Sequence[int], *, pinned_to: str | None
) -> str:
    """Why no technician of ``pool`` has the skills: the one pinned to (it said "the
    technician has skill 'gas'" of one who lacked it), or everyone."""
    held = set().union(*(problem.technicians[c].skills for c in pool)) if pool else set()
    missing = sorted(visit.required_skills - held)
    plural = "s" if len(missing) > 1 else ""
    names = ", ".join(f"'{skill}'" for skill in missing)
    if pinned_to is not None:
        return f"who lacks skill{plural} {names}"
    if missing:
        return f"no technician has skill{plural} {names}"
    names = ", ".join(f"'{skill}'" for skill in sorted(visit.required_skills))
    return f"no single technician has all of {names}"


def _crew_reason(problem: Problem, visit: Visit, qualified: Sequence[int]) -> str:
    """Why none of the ``qualified`` technicians (with the skills) works in a crew large
    enough."""
    largest = max(problem.technicians[c].crew_size for c in qualified)
    return (
        f"needs a crew of {visit.crew_size}; the qualified technicians work in crews of at "
        f"most {largest}"
    )


def wanted_time(visit: Visit) -> str:
    """The time ``visit`` asks for, in words: its appointment, its window or neither, and the
    urgent deadline if it has one."""
    if visit.appointment is not None:
        wanted = f"the appointment at {format_clock(visit.appointment)}"
    elif visit.window is not None:
        start, end = visit.window.start, visit.window.end
        closing = format_clock(end, start.date())
        over_days = end.date() > start.date() and closing != "24:00"  # a horizon's span
        if visit.daily_window is not None:  # its hours on any day of its span
            opens, closes = (clock_of_offset(offset) for offset in visit.daily_window)
            wanted = f"the window {opens}-{closes}"
            if over_days:
                wanted += f" on a day of the span {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M}"
        elif over_days:
            wanted = f"the span {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M}"
        else:
            wanted = f"the window {format_clock(start)}-{closing}"
    else:
        wanted = "the visit"
    if visit.deadline is not None:
        wanted += f" (urgent: reach by {format_clock(visit.deadline)})"
    return wanted


def _span_missed(visit: Visit) -> str | None:
    """Why ``visit``'s daily window (a horizon's) cannot be kept: its hours never meet its span
    (``window``) on any day, as a span 13:00-18:00 of one date and a window 08:00-12:00;
    ``None`` when they meet, or it has no daily window. Days are read as compile reads them
    (``_nights``), on the wall clock from each midnight."""
    if visit.daily_window is None or visit.window is None:
        return None
    opens, closes = visit.daily_window
    span = visit.window
    day = span.start.date()
    while day <= span.end.date():
        midnight = datetime.combine(day, time(0), tzinfo=span.start.tzinfo)
        if midnight + opens <= span.end and midnight + closes >= span.start:
            return None
        day += timedelta(days=1)
    hours = "-".join(clock_of_offset(offset) for offset in visit.daily_window)
    return (
        f"the window {hours} never meets the span asked for, {span.start:%Y-%m-%d %H:%M} to "
        f"{span.end:%Y-%m-%d %H:%M}: no day of the span has those hours"
    )


def _time_needed(problem: Problem, visit: Visit) -> tuple[datetime, datetime] | None:
    """When ``visit`` needs a technician: its window, or for an appointment from the far edge
    of the early band to the end of the work (a week's reason for an appointment fixed on one
    date named the shifts of every date); ``None`` for a visit of any time."""
    if visit.appointment is not None:
        door = shifted(visit.appointment, -problem.policy.early_band[1])
        return door, shifted(visit.appointment, visit.duration)
    if visit.window is not None:
        return visit.window.start, visit.window.end
    return None


def _time_reason(problem: Problem, visit: Visit, candidates: Sequence[int]) -> str:
    """Why no eligible shift can serve ``visit`` in time, naming the shifts that meet its time
    (on a horizon, of its days, each with its date): a week's reason listed every shift of
    the week, and a fault's 24 hours read "the window 15:45-15:45". A daily window that never
    meets its span says so (``_span_missed``): it read "cannot be reached inside any eligible
    shift", naming shifts that held the window."""
    missed = _span_missed(visit)
    if missed is not None:
        return missed
    eligible = [problem.technicians[c] for c in candidates]
    needed = _time_needed(problem, visit)
    meeting = [
        t
        for t in eligible
        if needed is None or (t.shift.start < needed[1] and t.working_end > needed[0])
    ]
    its_days = [  # the shifts of the dates its time touches
        t
        for t in eligible
        if needed is not None and needed[0].date() <= t.shift.start.date() <= needed[1].date()
    ]
    shown = meeting or its_days or eligible
    dated = len({t.shift.start.date() for t in shown}) > 1
    shifts = sorted(
        {
            f"{t.shift.start:%Y-%m-%d }" * dated
            + f"{format_clock(t.shift.start)}-{format_clock(t.working_end, t.shift.start.date())}"
            for t in shown
        }
    )
    return (
        f"{wanted_time(visit)} cannot be reached and finished inside any eligible shift "
        f"({', '.join(shifts)}), counting travel from and back to base"
    )


def _load_text(visit: Visit) -> str:
    parts = []
    if visit.demand.weight_kg:
        parts.append(f"{visit.demand.weight_kg:g} kg")
    if visit.demand.volume_m3:
        parts.append(f"{visit.demand.volume_m3:g} m³")
    return " / ".join(parts) or "the load"
