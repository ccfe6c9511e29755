"""An independent plan checker: every rule of a plan re-derived from the problem and plan JSON.

It reads the two documents as plain dicts (the contract, ``CONTRACT.md``) and imports nothing
of the engine, so a bug in compile, the solver or decode cannot hide behind bookkeeping that
agrees with itself. Travel is asked of a ``TravelLookup`` per leg: the problem's own matrix
(``matrix_lookup``) or the engine's provider wrapped for single legs. Used by the tests, the
property tests and the CLI's summary ("checker: 0 violations").

No visit is served before its ``reported_at`` (nobody knew of the fault), and an urgent one
is reached within its response time of it.

Outside the early band is not a violation (it is a KPI); everything else listed in
``check_plan`` is. Under ``policy.appointment_start`` ``on_arrival`` (read from the problem)
an appointment's work starts on arrival, so its service start must be the arrival and lie
inside the band: a stop outside it is then a violation too.

A visit the technician could not complete (``unassigned`` code ``not_completed``) is the one
visit listed twice: in ``unassigned``, to be booked again, and as the attempt, a ``done`` stop
of the route that went there. A stop reported left before its planned departure
(``actual_departure``) is left then, and one reported started (``actual_start``) and not left
is left the visit's duration after that start when that is earlier (the re-plan has the
technician free then): the next leg and the breaks are checked from that time. A departure
reported later than that is an overrun the re-plan learns of, not a rule of the plan. The drive
into a stop reported reached or left (``actual_arrival``, ``actual_start`` or
``actual_departure``) is not checked: it happened, even when reports from two stops overlap (a
phone's late tap, a clock minutes off), or a stop was reported done hours before the time, and
the depot call, the plan had for it. Nor is a route's start before the shift when the reports
at its first stop put the technician out then (reached, or left, sooner than the drive there
and its work allow from the shift's start): they started early.

Spare parts: a route's ``depot_stops`` are walked in their place (before the stop they name),
their legs, opening hours and handling time checked like a stop's; the van starts with its
``van_stock``, gains what each call takes and loses what each visit uses (an attempt not
completed uses nothing), and must never hold less than zero of a part; every depot's calls,
over all routes in time order, never take more than it holds by then (its stock and the
arrivals due by that time). Given the version a re-plan came from (``previous``), every
depot call that version had made by the re-plan's ``at`` (arrived before it, after a stop this
version has as history: done or under way; a delay reported at ``at`` may leave the stop
before a call unreached, and the call unmade) must still be on the same technician's route,
at the same depot and times, taking no more than it took (less only by units reported gone
since): a call made is history, and the units it took are in that van, so no later version
may drop it and sell them again.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from geopy.distance import geodesic

__all__ = [
    "CheckReport",
    "LocationRef",
    "TravelLookup",
    "Violation",
    "check_plan",
    "location_ref",
    "matrix_lookup",
]

LocationRef = int | tuple[float, float]
TravelLookup = Callable[[LocationRef, LocationRef], tuple[float, float]]

_TOLERANCE = timedelta(seconds=1)
_CODES = {
    "no_skill",
    "crew_size",
    "radius",
    "pinned",
    "window",
    "capacity",
    "no_room",
    "cancelled",
    "not_completed",
    "no_part",
    "moved",
    "no_capacity_in_span",
}
_EARTH_KM = 6371.0088
#: A great circle on the sphere reads up to 0.56 % off the WGS84 ellipsoid the radius is
#: measured on (north-south near the equator, long): distances past this share of a radius are
#: measured again on the ellipsoid (geopy's exact geodesic). The sphere's 0.5 % slack read a
#: visit 9.998 km away near Singapore as 10.1 km, beyond a 10 km radius.
_RADIUS_RECHECK = 0.99
_RADIUS_SLACK = 1 + 1e-6


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule: a code for scripts, the visit or technician id, and a sentence."""

    code: str
    subject: str
    message: str


@dataclass(frozen=True, slots=True)
class CheckReport:
    """What the checker found, and the early-band figures it measured on the way."""

    violations: tuple[Violation, ...]
    stops: int
    appointment_stops: int
    appointments_in_band: int

    @property
    def ok(self) -> bool:
        """No violation at all."""
        return not self.violations

    @property
    def early_band_rate(self) -> float:
        """Share of appointment stops reached inside the band; 1.0 without any."""
        return self.appointments_in_band / self.appointment_stops if self.appointment_stops else 1.0


def location_ref(entity: Mapping[str, Any], *, end: bool = False) -> LocationRef:
    """Where a visit is, or where a technician starts (``end=False``) or ends.

    A matrix index wins over coordinates, as in the contract.
    """
    if "shift" in entity:  # a technician
        if end:
            if entity.get("end_location_index") is not None:
                return int(entity["end_location_index"])
            if entity.get("end") is not None and entity.get("location_index") is None:
                return (float(entity["end"]["lat"]), float(entity["end"]["lon"]))
        if entity.get("location_index") is not None:
            return int(entity["location_index"])
        return (float(entity["start"]["lat"]), float(entity["start"]["lon"]))
    if entity.get("location_index") is not None:
        return int(entity["location_index"])
    return (float(entity["location"]["lat"]), float(entity["location"]["lon"]))


def matrix_lookup(problem: Mapping[str, Any]) -> TravelLookup:
    """Legs from the problem's explicit ``travel`` matrix, by location index."""
    travel = problem["travel"]
    minutes = travel["durations_min"]
    km = travel.get("distances_km")

    def leg(origin: LocationRef, destination: LocationRef) -> tuple[float, float]:
        if not isinstance(origin, int) or not isinstance(destination, int):
            raise ValueError("the explicit matrix is indexed by location_index")
        distance = float(km[origin][destination]) if km else 0.0
        return float(minutes[origin][destination]), distance

    return leg


def _after(moment: datetime, minutes: float) -> datetime:
    """``minutes`` of real time after ``moment``: adding to a datetime of a zone moves its wall
    clock, an hour off across a daylight-saving change."""
    return (moment.astimezone(UTC) + timedelta(minutes=minutes)).astimezone(moment.tzinfo)


def _unmatched_rules(fits: Sequence[Sequence[bool]]) -> list[int]:
    """The rules (rows) left without a break (column) by a largest matching of rules to the
    breaks that fit them (``fits[rule][rest]``), each break serving one rule. Matched in the
    order listed, one greedy pick could take the break another rule needed (a 10-minute rest
    took the 11-minute break a lunch of the same window needed, and the 10 minutes left fitted
    only the rest)."""
    owner: dict[int, int] = {}

    def assign(rule: int, seen: set[int]) -> bool:
        for rest, fit in enumerate(fits[rule]):
            if fit and rest not in seen:
                seen.add(rest)
                if rest not in owner or assign(owner[rest], seen):
                    owner[rest] = rule
                    return True
        return False

    return [rule for rule in range(len(fits)) if not assign(rule, set())]


def _great_circle_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    half = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * _EARTH_KM * math.asin(math.sqrt(min(1.0, half)))


class _Checker:
    """One run of the checks; collects violations."""

    def __init__(
        self,
        problem: Mapping[str, Any],
        plan: Mapping[str, Any],
        travel: TravelLookup,
        previous: Mapping[str, Any] | None = None,
    ) -> None:
        self.problem, self.plan, self.travel = problem, plan, travel
        self.previous = previous
        self.day = date.fromisoformat(problem["date"])
        self.zone = ZoneInfo(problem.get("timezone", "UTC"))
        self.policy = problem.get("policy", {})
        self.visits = {v["id"]: v for v in problem.get("visits", [])}
        self.techs = {t["id"]: t for t in problem.get("technicians", [])}
        self.depots = {d["id"]: d for d in problem.get("depots", [])}
        #: Every depot call's takings: (depot, part) -> [(arrival, quantity)].
        self.taken: dict[tuple[str, str], list[tuple[datetime, int]]] = {}
        self.found: list[Violation] = []
        self.appointments = 0
        self.in_band = 0
        self.stops = 0

    def add(self, code: str, subject: str, message: str) -> None:
        self.found.append(Violation(code, subject, message))

    def clock(self, text: str) -> datetime:
        """A problem's ``HH:MM`` on its date; a time a daylight-saving change skips read with
        the offset before it and shown as the wall clock then reads, as the contract says."""
        hours, minutes = (int(part) for part in text.split(":"))
        if hours == 24:
            return self.wall(datetime.combine(self.day + timedelta(days=1), time(0)))
        return self.wall(datetime.combine(self.day, time(hours, minutes)))

    def wall(self, naive: datetime) -> datetime:
        """The moment a naive local time of the problem's zone is (``clock``), at its fixed
        offset: Python adds to and compares datetimes of one zone on the wall clock, an hour
        off across a daylight-saving change; fixed offsets, as the plan's times have, do not."""
        moment = naive.replace(tzinfo=self.zone).astimezone(UTC).astimezone(self.zone)
        return moment.astimezone(timezone(moment.utcoffset() or timedelta(0)))

    def moment(self, text: Any, subject: str, what: str) -> datetime | None:
        try:
            value = datetime.fromisoformat(str(text))
        except ValueError:
            self.add("format", subject, f"{what} {text!r} is not an ISO 8601 time")
            return None
        if value.utcoffset() is None:
            self.add("format", subject, f"{what} {text!r} has no UTC offset")
            return None
        return value

    def reported_out_before(self, stop: Mapping[str, Any], shift_start: datetime) -> bool:
        """Whether the reports at a route's first stop put its technician on the road before
        their shift: reached (arrived or started) sooner than the drive there from the shift's
        start allows, or left sooner than that drive and the work there. The route then leaves
        when they did: a fact, not a rule of the plan."""
        drive = timedelta(minutes=float(stop.get("travel_min") or 0))

        def reported(key: str) -> datetime | None:
            text = stop.get(key)
            return None if text is None else self.moment(text, str(stop.get("visit_id")), key)

        reached = [m for m in (reported("actual_arrival"), reported("actual_start")) if m]
        left = reported("actual_departure")
        if reached:
            out = min(reached) - drive
        elif left is not None:
            planned = [self.moment(stop.get(k), "", k) for k in ("service_start", "departure")]
            if planned[0] is None or planned[1] is None:
                return False
            out = left - (planned[1] - planned[0]) - drive
        else:
            return False
        return out < shift_start - _TOLERANCE

    def run(self) -> CheckReport:
        self.coverage()
        for route in self.plan.get("routes", []):
            self.route(route)
        self.depot_stock()
        self.calls_kept()
        self.kpis()
        return CheckReport(tuple(self.found), self.stops, self.appointments, self.in_band)

    def coverage(self) -> None:
        seen: Counter[str] = Counter()
        attempts = {
            item.get("visit_id", "")
            for item in self.plan.get("unassigned", [])
            if item.get("code") == "not_completed"
        }
        attempted: Counter[str] = Counter()
        for route in self.plan.get("routes", []):
            for stop in route.get("stops", []):
                visit_id = stop.get("visit_id", "")
                if visit_id not in attempts:
                    seen[visit_id] += 1
                    continue
                attempted[visit_id] += 1
                if stop.get("status") != "done":
                    self.add(
                        "coverage",
                        visit_id,
                        f"visit {visit_id!r} could not be completed, but its stop is "
                        f"{stop.get('status', 'planned')!r}, not 'done'",
                    )
        for visit_id, count in attempted.items():
            if count > 1:
                self.add("coverage", visit_id, f"visit {visit_id!r} was attempted {count} times")
        for item in self.plan.get("unassigned", []):
            seen[item.get("visit_id", "")] += 1
            if item.get("code") not in _CODES:
                self.add(
                    "unassigned", item.get("visit_id", ""), f"unknown code {item.get('code')!r}"
                )
            if not str(item.get("reason", "")).strip():
                self.add("unassigned", item.get("visit_id", ""), "left out without a reason")
        for visit_id, count in seen.items():
            if visit_id not in self.visits:
                self.add("coverage", visit_id, f"visit {visit_id!r} is not in the problem")
            elif count > 1:
                self.add("coverage", visit_id, f"visit {visit_id!r} appears {count} times")
        for visit_id in self.visits:
            if visit_id not in seen:
                self.add(
                    "coverage", visit_id, f"visit {visit_id!r} is neither routed nor unassigned"
                )
        self.status()
        owners = Counter(route.get("technician_id") for route in self.plan.get("routes", []))
        for tech_id, count in owners.items():
            if tech_id not in self.techs:
                self.add("coverage", str(tech_id), f"technician {tech_id!r} is not in the problem")
            elif count > 1:
                self.add("coverage", str(tech_id), f"technician {tech_id!r} has {count} routes")

    def status(self) -> None:
        """``feasible`` when nothing is unassigned, else ``partial`` when some route serves a
        visit and ``empty`` when none does."""
        if "status" not in self.plan:
            return
        if not self.plan.get("unassigned"):
            expected = "feasible"
        elif any(route.get("stops") for route in self.plan.get("routes", [])):
            expected = "partial"
        else:
            expected = "empty"
        if self.plan["status"] != expected:
            self.add("coverage", "status", f"status is {self.plan['status']!r}, not {expected!r}")

    def route(self, route: Mapping[str, Any]) -> None:
        tech_id = str(route.get("technician_id"))
        tech = self.techs.get(tech_id)
        if tech is None:
            return
        start = self.moment(route.get("start_time"), tech_id, "start_time")
        end = self.moment(route.get("end_time"), tech_id, "end_time")
        breaks = self.breaks(route, tech, tech_id)
        stops = [s for s in route.get("stops", []) if s.get("visit_id") in self.visits]
        if start is None or end is None:
            return
        shift_start, shift_end = (
            self.clock(tech["shift"]["start"]),
            self.clock(tech["shift"]["end"]),
        )
        early = self.reported_out_before(stops[0], shift_start) if stops else False
        if start < shift_start - _TOLERANCE and not early:
            self.add("shift", tech_id, f"{tech_id} leaves at {start:%H:%M}, before the shift")
        if end > shift_end + _TOLERANCE:
            self.add("shift", tech_id, f"{tech_id} is back at {end:%H:%M}, after the shift")
        place, departure = location_ref(tech), start
        total_km = 0.0
        weight = volume = 0.0
        calls = self.calls_before(route, stops)
        on_board: Counter[str] = Counter()
        for item in tech.get("van_stock", []):
            on_board[str(item["part"])] += int(item["quantity"])
        attempts = {
            item.get("visit_id")
            for item in self.plan.get("unassigned", [])
            if item.get("code") == "not_completed"
        }
        for position, stop in enumerate([*stops, None]):
            for k, call in enumerate(calls.get(position, [])):
                # Only the route's first call can be the morning pick list, loaded at its base.
                morning = stops[0].get("visit_id") if position == 0 and k == 0 and stops else None
                reached = self.call(tech_id, call, place, departure, breaks, on_board, morning)
                if reached is None:
                    return
                place, departure, km = reached
                total_km += km
            if stop is None:
                break
            visit = self.visits[stop["visit_id"]]
            if stop["visit_id"] not in attempts:
                for item in visit.get("parts", []):
                    part, needed = str(item["part"]), int(item.get("quantity", 1))
                    if on_board[part] < needed:
                        self.add(
                            "stock",
                            visit["id"],
                            f"{tech_id} reaches visit {visit['id']!r} with {on_board[part]} of "
                            f"part {part!r} in the van, {needed} needed",
                        )
                    on_board[part] -= needed
            times = [
                self.moment(stop.get(k), visit["id"], k)
                for k in ("arrival", "service_start", "departure")
            ]
            arrival, service_start, leaving = times
            if arrival is None or service_start is None or leaving is None:
                return
            self.stops += 1
            here = location_ref(visit)
            minutes, km = self.travel(place, here)
            total_km += km
            if not any(stop.get(k) for k in ("actual_arrival", "actual_start", "actual_departure")):
                # A stop reported reached (or left) was reached: the drive into it happened.
                self.leg(tech_id, visit["id"], departure, arrival, minutes, breaks)
            self.stop(
                tech, visit, stop, arrival, service_start, leaving, shift_start, shift_end, breaks
            )
            weight += float(visit.get("demand", {}).get("weight_kg") or 0)
            volume += float(visit.get("demand", {}).get("volume_m3") or 0)
            place, departure = here, self.left(stop, leaving)
        if stops or calls:  # a route may be only a call made before its technician left
            minutes, km = self.travel(place, location_ref(tech, end=True))
            total_km += km
            self.leg(tech_id, "the base", departure, end, minutes, breaks)
        reported = float(route.get("distance_km", 0))
        legs = len(stops) + len(route.get("depot_stops", [])) + 1
        if abs(reported - total_km) > 0.01 * total_km + 0.1 + 0.05 * legs:
            self.add(
                "kpi",
                tech_id,
                f"{tech_id}: route says {reported} km, its legs add up to {total_km:.1f} km",
            )
        capacity = tech.get("capacity") or {}
        for name, load in (("weight_kg", weight), ("volume_m3", volume)):
            limit = capacity.get(name)
            if limit is not None and load > float(limit) + 1e-9:
                self.add(
                    "capacity", tech_id, f"{tech_id} carries {load:g} {name}, more than {limit}"
                )

    def calls_before(
        self, route: Mapping[str, Any], stops: list[Mapping[str, Any]]
    ) -> dict[int, list[Mapping[str, Any]]]:
        """The route's depot calls by the index of the stop they come before (the number of
        stops: after the last), each list in arrival order."""
        index = {stop.get("visit_id"): k for k, stop in enumerate(stops)}
        found: dict[int, list[Mapping[str, Any]]] = {}
        for call in route.get("depot_stops", []):
            before = call.get("before_visit_id")
            k = len(stops) if before is None else index.get(before)
            if k is None:
                self.add(
                    "depot",
                    str(call.get("depot_id")),
                    f"a call at depot {call.get('depot_id')!r} comes before {before!r}, "
                    "which is not a stop of the route",
                )
                continue
            found.setdefault(k, []).append(call)
        for calls in found.values():
            calls.sort(key=lambda call: str(call.get("arrival")))
        return found

    def call(
        self,
        tech_id: str,
        call: Mapping[str, Any],
        place: LocationRef,
        departure: datetime,
        breaks: list[tuple[datetime, datetime]],
        on_board: Counter[str],
        first: str | None,
    ) -> tuple[LocationRef, datetime, float] | None:
        """Check one depot call and load what it takes; where and when the route goes on, and
        the km of the leg there (``None`` when its times cannot be read)."""
        depot_id = str(call.get("depot_id"))
        depot = self.depots.get(depot_id)
        if depot is None:
            self.add("depot", depot_id, f"{tech_id} calls at unknown depot {depot_id!r}")
            return None
        arrival = self.moment(call.get("arrival"), depot_id, "arrival")
        leaving = self.moment(call.get("departure"), depot_id, "departure")
        if arrival is None or leaving is None:
            return None
        here = location_ref(depot)
        minutes, km = self.travel(place, here)
        self.leg(tech_id, f"depot {depot_id}", departure, arrival, minutes, breaks)
        opens, closes = self.clock(depot["opening"]["start"]), self.clock(depot["opening"]["end"])
        if arrival < opens - _TOLERANCE or leaving > closes + _TOLERANCE:
            self.add(
                "depot",
                depot_id,
                f"{tech_id} calls at depot {depot_id!r} {arrival:%H:%M}-{leaving:%H:%M}, outside "
                f"its opening hours {depot['opening']['start']}-{depot['opening']['end']}",
            )
        handling = timedelta(minutes=float(depot.get("handling_min", 10)))
        if place == here and call.get("before_visit_id") == first:
            handling = timedelta(0)  # the morning pick list at their own base, before the shift
        if leaving < arrival + handling - _TOLERANCE:
            self.add(
                "depot",
                depot_id,
                f"{tech_id} leaves depot {depot_id!r} before its {handling} of handling",
            )
        for b_start, b_end in breaks:  # a break over a call's handling, as over a visit's work
            if b_start < arrival + handling - _TOLERANCE and b_end > arrival + _TOLERANCE:
                self.add(
                    "break",
                    depot_id,
                    f"{tech_id}'s break {b_start:%H:%M}-{b_end:%H:%M} falls in the call at "
                    f"depot {depot_id!r} ({arrival:%H:%M}-{arrival + handling:%H:%M})",
                )
        for item in call.get("parts", []):
            part, quantity = str(item["part"]), int(item["quantity"])
            on_board[part] += quantity
            self.taken.setdefault((depot_id, part), []).append((arrival, quantity))
        return here, leaving, km

    def depot_stock(self) -> None:
        """No depot hands out more of a part than it holds by the time of each call."""
        for (depot_id, part), takings in sorted(self.taken.items()):
            depot = self.depots.get(depot_id, {})
            held = sum(
                int(item["quantity"]) for item in depot.get("stock", []) if item["part"] == part
            )
            due = [
                (self.local_moment(a["at"]), int(a["quantity"]))
                for a in depot.get("arrivals", [])
                if a["part"] == part
            ]
            total = 0
            for moment, quantity in sorted(takings):
                total += quantity
                there = held + sum(q for at, q in due if at <= moment + _TOLERANCE)
                if total > there:
                    self.add(
                        "stock",
                        depot_id,
                        f"depot {depot_id!r} hands out {total} of part {part!r} by "
                        f"{moment:%H:%M}, but holds {there} by then",
                    )
                    break

    def calls_kept(self) -> None:
        """Every call the previous version had made by this version's ``at`` is still here,
        taking no more (see the module docstring)."""
        if self.previous is None or self.plan.get("at") is None:
            return
        at = self.moment(self.plan["at"], "at", "at")
        if at is None:
            return
        # Two calls at one depot may begin together (the morning pick list and a call with
        # handling): each made call is matched to one of this version's, once.
        here: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for route in self.plan.get("routes", []):
            tech_id = str(route.get("technician_id"))
            for c in route.get("depot_stops", []):
                times = (str(c.get("arrival")), str(c.get("departure")))
                here.setdefault((tech_id, str(c.get("depot_id")), *times), []).append(c)
        # A call after a stop that is not history here was not made (a delay reported at
        # ``at`` left that stop unreached, or they are still at an earlier one).
        history = {
            str(stop.get("visit_id"))
            for route in self.plan.get("routes", [])
            for stop in route.get("stops", [])
            if stop.get("status", "planned") != "planned"
            and not (
                # reported reached and not left: still there, the call after it not made
                (stop.get("actual_arrival") or stop.get("actual_start"))
                and not stop.get("actual_departure")
                and stop.get("status") != "done"
            )
        }
        for route in self.previous.get("routes", []):
            tech_id = str(route.get("technician_id"))
            order = [str(stop.get("visit_id")) for stop in route.get("stops", [])]
            for call in route.get("depot_stops", []):
                arrival = self.moment(call.get("arrival"), str(call.get("depot_id")), "arrival")
                if arrival is None or arrival >= at:
                    continue
                k = (
                    order.index(str(call["before_visit_id"]))
                    if call.get("before_visit_id") in order
                    else len(order)
                )
                if k > 0 and order[k - 1] not in history:
                    continue
                depot_id = str(call.get("depot_id"))
                same = here.get(
                    (tech_id, depot_id, str(call.get("arrival")), str(call.get("departure"))), []
                )
                took = Counter({str(i["part"]): int(i["quantity"]) for i in call.get("parts", [])})
                kept = _taking_no_more(same, took)
                if kept is None:
                    self.add(
                        "stock",
                        depot_id,
                        f"{tech_id}'s call at depot {depot_id!r} at {arrival:%H:%M} was made "
                        f"before {at:%H:%M}, but this version does not keep it as it was",
                    )
                    continue
                now = Counter({str(i["part"]): int(i["quantity"]) for i in kept.get("parts", [])})
                more = sorted(part for part in now if now[part] > took[part])
                if more:
                    self.add(
                        "stock",
                        depot_id,
                        f"{tech_id}'s call at depot {depot_id!r} at {arrival:%H:%M} took "
                        f"{dict(took)}; this version says it took more of {', '.join(more)}",
                    )

    def local_moment(self, text: str) -> datetime:
        """A local ``YYYY-MM-DDTHH:MM`` of the problem's zone."""
        return self.wall(datetime.fromisoformat(text))

    def leg(
        self,
        tech_id: str,
        to: str,
        departure: datetime,
        arrival: datetime,
        minutes: float,
        breaks: list[tuple[datetime, datetime]],
    ) -> None:
        # A break counts for the part of it that lies in the leg: one begun on the way and
        # going on after the arrival (over a call's handling) still stops the drive.
        rest = sum(
            (
                min(b_end, arrival) - max(b_start, departure)
                for b_start, b_end in breaks
                if b_start < arrival - _TOLERANCE and b_end > departure + _TOLERANCE
            ),
            timedelta(0),
        )
        needed = departure + timedelta(minutes=minutes) + rest
        if arrival < needed - _TOLERANCE:
            self.add(
                "travel",
                to,
                f"{tech_id} reaches {to} at {arrival:%H:%M}, but leaving at {departure:%H:%M} "
                f"with {minutes:.1f} min of driving (and {rest} of breaks) it cannot be before "
                f"{needed:%H:%M:%S}",
            )

    def stop(
        self,
        tech: Mapping[str, Any],
        visit: Mapping[str, Any],
        stop: Mapping[str, Any],
        arrival: datetime,
        service_start: datetime,
        leaving: datetime,
        shift_start: datetime,
        shift_end: datetime,
        breaks: list[tuple[datetime, datetime]],
    ) -> None:
        vid, tid = visit["id"], tech["id"]
        if arrival > service_start + _TOLERANCE:
            self.add("window", vid, f"visit {vid!r}: arrives {arrival:%H:%M} after service starts")
        if leaving < service_start + timedelta(minutes=float(visit["duration_min"])) - _TOLERANCE:
            self.add(
                "window",
                vid,
                f"visit {vid!r}: leaves before its {visit['duration_min']} min of work",
            )
        target: datetime | None = None
        latest: datetime | None = None
        if visit.get("appointment"):
            target = latest = self.clock(visit["appointment"])
            near, far = self.policy.get("early_arrival_min", [5, 10])
            if self.policy.get("appointment_start", "at_time") == "on_arrival":
                self.on_arrival(vid, arrival, service_start, target, near, far)
            elif abs(service_start - target) > _TOLERANCE:
                self.add(
                    "window",
                    vid,
                    f"visit {vid!r}: service at {service_start:%H:%M}, appointment {target:%H:%M}",
                )
            if arrival > target + _TOLERANCE:
                self.add(
                    "late", vid, f"visit {vid!r}: arrives {arrival:%H:%M}, after the appointment"
                )
            self.appointments += 1
            early = target - arrival
            if timedelta(minutes=near) - _TOLERANCE <= early <= timedelta(minutes=far) + _TOLERANCE:
                self.in_band += 1
        elif visit.get("window"):
            target = self.clock(visit["window"]["start"])
            latest = self.clock(visit["window"]["end"])
            if service_start < target - _TOLERANCE or service_start > latest + _TOLERANCE:
                self.add(
                    "window",
                    vid,
                    f"visit {vid!r}: service starts {service_start:%H:%M}, outside its window "
                    f"{visit['window']['start']}-{visit['window']['end']}",
                )
        if visit.get("reported_at") and visit.get("priority") == "urgent":
            deadline = _after(
                self.clock(visit["reported_at"]), float(self.policy.get("urgent_response_min", 120))
            )
            if arrival > deadline + _TOLERANCE:
                self.add(
                    "late",
                    vid,
                    f"urgent visit {vid!r}: reached {arrival:%H:%M}, after {deadline:%H:%M}",
                )
        if visit.get("reported_at"):  # nobody knows of a fault before it is reported
            reported = self.clock(visit["reported_at"])
            if service_start < reported - _TOLERANCE:
                self.add(
                    "window",
                    vid,
                    f"visit {vid!r}: served from {service_start:%H:%M}, before it was reported "
                    f"at {reported:%H:%M}",
                )
        early_min = max(0.0, (target - arrival).total_seconds() / 60) if target else 0.0
        late_min = max(0.0, (arrival - latest).total_seconds() / 60) if latest else 0.0
        if abs(float(stop.get("early_min", 0)) - early_min) > 1:
            self.add(
                "kpi",
                vid,
                f"visit {vid!r}: early_min {stop.get('early_min')} should be {early_min:.0f}",
            )
        if abs(float(stop.get("late_min", 0)) - late_min) > 1:
            self.add(
                "kpi",
                vid,
                f"visit {vid!r}: late_min {stop.get('late_min')} should be {late_min:.0f}",
            )
        if arrival < shift_start - _TOLERANCE or leaving > shift_end + _TOLERANCE:
            self.add(
                "shift",
                vid,
                f"visit {vid!r}: {arrival:%H:%M}-{leaving:%H:%M} is outside {tid}'s shift",
            )
        gone = self.left(stop, leaving)
        for b_start, b_end in breaks:
            if b_start < gone - _TOLERANCE and arrival + _TOLERANCE < b_end:
                self.add(
                    "break",
                    vid,
                    f"{tid}'s break {b_start:%H:%M}-{b_end:%H:%M} overlaps visit {vid!r}",
                )
        self.eligibility(tech, visit)

    def on_arrival(
        self,
        vid: str,
        arrival: datetime,
        service_start: datetime,
        target: datetime,
        near: float,
        far: float,
    ) -> None:
        """An appointment at ``target`` under ``policy.appointment_start`` ``on_arrival``: the
        work starts when the door is reached, inside the band ``[target - far, target - near]``
        (instead of at ``target``)."""
        if abs(service_start - arrival) > _TOLERANCE:
            self.add(
                "window",
                vid,
                f"visit {vid!r}: service at {service_start:%H:%M:%S}, not on arrival at "
                f"{arrival:%H:%M:%S} (policy.appointment_start is on_arrival)",
            )
        opens, closes = _after(target, -far), _after(target, -near)
        if not opens - _TOLERANCE <= service_start <= closes + _TOLERANCE:
            self.add(
                "window",
                vid,
                f"visit {vid!r}: service at {service_start:%H:%M:%S}, outside the band "
                f"{opens:%H:%M}-{closes:%H:%M} before its appointment {target:%H:%M}",
            )

    def left(self, stop: Mapping[str, Any], planned: datetime) -> datetime:
        """When the technician was gone from a stop at the latest: its reported departure, or,
        for work reported started and not yet left, the start plus the visit's duration (when
        a re-plan has them free: a visit started hours before its planned time ends hours
        before it; reached and not started, the work starts on arrival, or when the visit
        allows: its window's start, its report, an appointment's held start), when earlier
        than the planned one (work cut short or started early, or not
        completed), else the planned one. A later report (an overrun) is the re-plan's
        business, not a rule of the plan: also a departure reported after a visit started
        before its planned time ended (reported out of the plan's order, its planned times are
        those of the place it had, hours later), once the next stop was taken as reached."""
        vid = str(stop.get("visit_id"))
        visit = self.visits[vid]
        duration = timedelta(minutes=float(visit.get("duration_min", 0)))
        if stop.get("actual_start"):
            started = self.moment(stop["actual_start"], vid, "actual_start")
            if started is not None:
                planned = min(planned, started + duration)
        elif stop.get("actual_arrival"):  # the work starts on arrival, as the visit allows
            allowed = [self.moment(stop["actual_arrival"], vid, "actual_arrival")]
            if visit.get("appointment"):
                allowed.append(self.moment(stop.get("service_start"), vid, "service_start"))
            elif visit.get("window"):
                allowed.append(self.clock(visit["window"]["start"]))
            if visit.get("reported_at"):
                allowed.append(self.clock(visit["reported_at"]))
            read = [moment for moment in allowed if moment is not None]
            if len(read) == len(allowed):
                planned = min(planned, max(read) + duration)
        if stop.get("actual_departure"):
            actual = self.moment(stop["actual_departure"], vid, "actual_departure")
            return planned if actual is None else min(actual, planned)
        return planned

    def coordinates(self, own: Any, index: Any) -> Any:
        """Where a technician's base or a visit is: its own coordinates, else those of its row
        of the travel matrix's ``locations``, when the problem gives them."""
        if own is not None or not isinstance(index, int):
            return own
        rows = (self.problem.get("travel") or {}).get("locations") or []
        return rows[index] if 0 <= index < len(rows) else None

    def eligibility(self, tech: Mapping[str, Any], visit: Mapping[str, Any]) -> None:
        vid, tid = visit["id"], tech["id"]
        missing = set(visit.get("required_skills", [])) - set(tech.get("skills", []))
        if missing:
            self.add("skill", vid, f"visit {vid!r} needs {sorted(missing)}, which {tid} lacks")
        if int(visit.get("crew_size", 1)) > int(tech.get("crew_size", 1)):
            self.add(
                "crew",
                vid,
                f"visit {vid!r} needs a crew of {visit.get('crew_size')}, {tid} is smaller",
            )
        if visit.get("technician") and visit["technician"] != tid:
            self.add(
                "pinned", vid, f"visit {vid!r} is pinned to {visit['technician']}, served by {tid}"
            )
        limit = float(tech.get("service_radius_km") or self.policy.get("service_radius_km", 100))
        base = self.coordinates(tech.get("start"), tech.get("location_index"))
        site = self.coordinates(visit.get("location"), visit.get("location_index"))
        if base is not None and site is not None:
            ends = (base["lat"], base["lon"]), (site["lat"], site["lon"])
            km = _great_circle_km(*ends)
            if km > limit * _RADIUS_RECHECK:
                km = geodesic(*ends).km
        elif isinstance(location_ref(tech), int) and isinstance(location_ref(visit), int):
            km = self.travel(location_ref(tech), location_ref(visit))[1]
        else:
            return
        if km > limit * _RADIUS_SLACK:
            self.add(
                "radius",
                vid,
                f"visit {vid!r} is {km:.1f} km from {tid}'s base (radius {limit:g} km)",
            )

    def breaks(
        self, route: Mapping[str, Any], tech: Mapping[str, Any], tech_id: str
    ) -> list[tuple[datetime, datetime]]:
        placed: list[tuple[datetime, datetime]] = []
        for item in route.get("breaks", []):
            start = self.moment(item.get("start"), tech_id, "break start")
            end = self.moment(item.get("end"), tech_id, "break end")
            if start is not None and end is not None:
                placed.append((start, end))
        placed.sort()
        rules = list(tech.get("breaks", []))
        due = [rule for rule in rules if self.break_due(tech, rule)]
        if route.get("stops") and not len(due) <= len(placed) <= len(rules):
            self.add(
                "break",
                tech_id,
                f"{tech_id} takes {len(placed)} breaks, the shift has {len(due)}"
                + (f" due of {len(rules)}" if len(due) < len(rules) else ""),
            )
        fits = [[self.fits(rule, rest) for rest in placed] for rule in due]
        for k in _unmatched_rules(fits):
            if route.get("stops"):
                rule = due[k]
                self.add(
                    "break",
                    tech_id,
                    f"{tech_id} has no {rule['duration_min']} min break inside "
                    f"{rule['start']}-{rule['end']}",
                )
        for (_, first_end), (second_start, _) in itertools.pairwise(placed):
            if second_start < first_end - _TOLERANCE:
                self.add("break", tech_id, f"{tech_id}'s breaks overlap")
        return placed

    def fits(self, rule: Mapping[str, Any], rest: tuple[datetime, datetime]) -> bool:
        """Whether the break taken at ``rest`` is one ``rule`` asks for: inside its window, as
        long as it says."""
        lo, hi = self.clock(rule["start"]), self.clock(rule["end"])
        needed = timedelta(minutes=float(rule["duration_min"]))
        start, end = rest
        return (
            start >= lo - _TOLERANCE
            and end <= hi + _TOLERANCE
            and end - start >= needed - _TOLERANCE
        )

    def break_due(self, tech: Mapping[str, Any], rule: Mapping[str, Any]) -> bool:
        """Whether a break rule binds a technician's route: one that fits in their shift (its
        window's start plus its length by the shift's end, as the engine plans them) and, for
        one who became unavailable (``unavailable_from``), whose window was over by then: a
        technician sent home ill at 10:40 takes no lunch, nor one who left in its hour."""
        ends = _after(self.clock(rule["start"]), float(rule["duration_min"]))
        if ends > self.clock(tech["shift"]["end"]):
            return False
        gone = tech.get("unavailable_from")
        return gone is None or self.clock(rule["end"]) <= self.clock(gone)

    def kpis(self) -> None:
        kpis = self.plan.get("kpis", {})
        routes = self.plan.get("routes", [])
        attempts = {
            item.get("visit_id")
            for item in self.plan.get("unassigned", [])
            if item.get("code") == "not_completed"
        }
        served = sum(
            1 for r in routes for stop in r.get("stops", []) if stop.get("visit_id") not in attempts
        )
        checks: Iterable[tuple[str, float, float, float]] = (
            ("visits", kpis.get("visits", -1), len(self.visits), 0),
            ("assigned", kpis.get("assigned", -1), served, 0),
            (
                "distance_km",
                kpis.get("distance_km", -1),
                sum(r.get("distance_km", 0) for r in routes),
                0.1 * (len(routes) + 1),
            ),
            (
                "travel_min",
                kpis.get("travel_min", -1),
                sum(r.get("travel_min", 0) for r in routes),
                len(routes) + 1,
            ),
        )
        for name, reported, expected, tolerance in checks:
            if abs(float(reported) - float(expected)) > tolerance:
                self.add("kpi", "", f"kpis.{name} is {reported}, the plan adds up to {expected}")


def check_plan(
    problem: Mapping[str, Any],
    plan: Mapping[str, Any],
    travel: TravelLookup,
    *,
    previous: Mapping[str, Any] | None = None,
) -> CheckReport:
    """Check ``plan`` against ``problem`` (both contract JSON) with legs from ``travel``;
    ``previous``, the version ``plan`` was re-planned from, adds the depot calls it had made.

    Checked: coverage (each visit once, known ids, valid codes and reasons, the status); per
    stop arrival before service, appointment kept (service at its time, or on arrival inside
    the band under ``policy.appointment_start`` ``on_arrival``) and never late, windows,
    urgent response, ``early_min`` and ``late_min``; travel between stops (breaks in between
    counted); shifts; breaks (one per rule that binds the day, ``break_due``: inside its
    window, long enough, never over a visit); skills, crew, pinned person, service radius; van
    capacity; route distance against the lookup; KPI sums; spare parts (depot calls' legs and
    opening hours, no van below zero of a part at any stop, no depot handing out more than it
    holds; with ``previous``, no call made dropped or taking more).
    """
    return _Checker(problem, plan, travel, previous).run()


def _taking_no_more(calls: list[dict[str, Any]], took: Counter[str]) -> dict[str, Any] | None:
    """Take from ``calls`` (this version's at one depot and moment) the one that keeps a call
    made that took ``took``: one taking no more of any part if there is one, else the first;
    ``None`` when none is left."""
    for k, call in enumerate(calls):
        now = Counter({str(i["part"]): int(i["quantity"]) for i in call.get("parts", [])})
        if all(now[part] <= took[part] for part in now):
            return calls.pop(k)
    return calls.pop(0) if calls else None
