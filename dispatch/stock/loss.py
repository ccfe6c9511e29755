"""Units of a part reported gone (used, faulty, missing): which lot they come out of.

An event says "one unit of ``HX-220`` is gone from T1's van" or "from depot D1"; the day must
then hold one unit less of it from now on, and every version before and after must still add
up (``dispatch.stock.ledger``, ``dispatch.verify``). A holder's stock at a moment is a flow
along a **timeline** of points: lots coming in (a van's stock when the day starts, what each
depot call already made took; a depot's stock, each arrival already in) and units going out
(each visit already done; each call already made at the depot). A unit gone is struck from a
lot that came in before it, so that the holder never falls below zero at any point:

- from a **van**: its stock when the day started first (the stored day's ``van_stock`` is
  lowered), then what calls made earlier today took, the latest call first; a unit struck
  from a call was never usable, so the call takes one less and the depot's lot it came out
  of one less too (its stock, or the latest arrival in by the call's time): the depot still
  holds what it held after the call, and the van what it holds now, less the unit;
- from a **depot**: its stock first, then its arrivals already in, the latest first (an
  arrival due later is not there to be reported gone).

A holder that does not hold the units now is not guessed at: ``Losses.from_van`` and
``Losses.from_depot`` say what it holds instead, for the caller to refuse the event.
``strike`` is the rule on a plain timeline; ``Losses`` builds the timelines of a plan at a
clock time and keeps what one batch struck, event after event.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from dispatch.model import DepotId, DepotStop, Plan, Problem, Route, TechnicianId, VisitId

__all__ = ["History", "Losses", "strike"]


def strike(
    changes: Sequence[int], sources: Sequence[tuple[int, int]], quantity: int
) -> list[int] | None:
    """How many units to strike from each source so that ``quantity`` are gone and the stock
    never falls below zero.

    Parameters
    ----------
    changes
        The timeline: each point's change of stock, in time order (lots in, units out).
    sources
        ``(point, units)``: the lots units may be struck from, in order of preference; a unit
        struck from a lot is missing from that point on.
    quantity
        Units gone.

    Returns
    -------
    list[int] | None
        Units struck from each source, or ``None`` when the holder does not hold
        ``quantity`` at the end of the timeline.
    """
    levels: list[int] = []
    level = 0
    for change in changes:
        level += change
        levels.append(level)
    if (levels[-1] if levels else 0) < quantity:
        return None
    struck = [0] * len(sources)
    left = quantity
    for k, (point, units) in enumerate(sources):
        if left == 0:
            break
        room = min(levels[point:], default=0)
        take = max(0, min(left, units, room))
        struck[k] = take
        left -= take
        for p in range(point, len(levels)):
            levels[p] -= take
    return struck if left == 0 else None


@dataclass(frozen=True, slots=True)
class History:
    """What of one route is history at the batch's clock time: its first ``passed`` stops but
    those ``skipped`` (the technician went past them), and its calls ``made`` (indexes in
    ``depot_stops``)."""

    route: Route
    passed: int
    made: tuple[int, ...]
    skipped: frozenset[int] = frozenset()


@dataclass(slots=True)
class Losses:
    """What one batch's part events struck, event after event (see the module docstring).

    ``van_cut[tech][part]``: units off the van's stock when the day started;
    ``call_cut[(tech, k)][part]``: units off what the ``k``-th depot call of the technician's
    route (in the plan the batch applies to) took; ``depot_cut[depot][part]``: units off a
    depot's stock; ``arrival_cut[depot][k]``: units off its ``k``-th arrival.
    """

    problem: Problem
    history: Mapping[TechnicianId, History]
    not_used: Collection[VisitId]
    at: datetime
    van_cut: dict[TechnicianId, dict[str, int]] = field(default_factory=dict)
    call_cut: dict[tuple[TechnicianId, int], dict[str, int]] = field(default_factory=dict)
    depot_cut: dict[DepotId, dict[str, int]] = field(default_factory=dict)
    arrival_cut: dict[DepotId, dict[int, int]] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        problem: Problem,
        plan: Plan,
        passed: Mapping[TechnicianId, tuple[int, tuple[int, ...], frozenset[int]]],
        not_used: Collection[VisitId],
        at: datetime,
    ) -> Losses:
        """The losses of a batch at ``at`` on ``plan``, each route's history given by
        ``passed`` (stops passed, calls made, stops skipped)."""
        history = {
            route.technician_id: History(route, *passed[route.technician_id])
            for route in plan.routes
            if route.technician_id in passed
        }
        return cls(problem, history, not_used, at)

    def taken(self, tech: TechnicianId, k: int, call: DepotStop, part: str) -> int:
        """What call ``k`` of ``tech`` took of ``part``, less what was struck from it."""
        got = sum(item.quantity for item in call.taken if item.part == part)
        return got - self.call_cut.get((tech, k), {}).get(part, 0)

    def van_holds(self, tech: TechnicianId, part: str) -> int:
        """What the van of ``tech`` holds of ``part`` at the batch's time."""
        changes, _ = self._van_line(tech, part)
        return sum(changes)

    def depot_holds(self, depot: DepotId, part: str) -> int:
        """What ``depot`` holds of ``part`` at the batch's time."""
        changes, _ = self._depot_line(depot, part, self.at)
        return sum(changes)

    def from_van(self, tech: TechnicianId, part: str, quantity: int) -> int | None:
        """Strike ``quantity`` of ``part`` from the van of ``tech``; ``None`` when done, else
        what the van holds (and nothing is struck)."""
        changes, sources = self._van_line(tech, part)
        struck = strike(changes, [(point, units) for point, units, _ in sources], quantity)
        if struck is None:
            return sum(changes)
        for (_, _, k), units in zip(sources, struck, strict=True):
            if units == 0:
                continue
            if k is None:
                cut = self.van_cut.setdefault(tech, {})
                cut[part] = cut.get(part, 0) + units
                continue
            call = self.history[tech].route.depot_stops[k]
            cut = self.call_cut.setdefault((tech, k), {})
            cut[part] = cut.get(part, 0) + units
            self._lot_out(call.depot_id, part, units, call.arrival)
        return None

    def from_depot(self, depot: DepotId, part: str, quantity: int) -> int | None:
        """Strike ``quantity`` of ``part`` from the lots ``depot`` holds now; ``None`` when
        done, else what it holds (and nothing is struck)."""
        if self.depot_holds(depot, part) < quantity:
            return self.depot_holds(depot, part)
        self._lot_out(depot, part, quantity, self.at)
        return None

    def _van_line(
        self, tech: TechnicianId, part: str
    ) -> tuple[list[int], list[tuple[int, int, int | None]]]:
        """The van's timeline of ``part`` up to now and its lots as ``(point, units, call
        index or None for the day's start)``, in the order units are struck."""
        van = next(t for t in self.problem.technicians if t.id == tech)
        start = sum(item.quantity for item in van.van_stock if item.part == part)
        start -= self.van_cut.get(tech, {}).get(part, 0)
        changes = [start]
        calls: list[tuple[int, int, int | None]] = []
        history = self.history.get(tech)
        if history is not None:
            visits = {visit.id: visit for visit in self.problem.visits}
            route = history.route
            made = sorted(history.made, key=lambda k: (route.depot_stops[k].before, k))
            m = 0
            for position in range(history.passed + 1):
                while m < len(made) and route.depot_stops[made[m]].before <= position:
                    k = made[m]
                    units = self.taken(tech, k, route.depot_stops[k], part)
                    calls.append((len(changes), units, k))
                    changes.append(units)
                    m += 1
                if position == history.passed:
                    break
                stop = route.stops[position]
                visit = visits.get(stop.visit_id)
                if visit is None or stop.visit_id in self.not_used or position in history.skipped:
                    continue
                changes.append(-sum(i.quantity for i in visit.parts if i.part == part))
        return changes, [(0, start, None), *reversed(calls)]

    def _depot_line(
        self, depot_id: DepotId, part: str, by: datetime
    ) -> tuple[list[int], list[tuple[int, int, int | None]]]:
        """The depot's timeline of ``part`` up to now (its lots in, the calls made by every
        route) and the lots in by ``by`` as ``(point, units, arrival index or None for the
        stock)``, in the order units are struck."""
        depot = next(d for d in self.problem.depots if d.id == depot_id)
        stock = sum(item.quantity for item in depot.stock if item.part == part)
        stock -= self.depot_cut.get(depot_id, {}).get(part, 0)
        # (moment, 0 for a lot / 1 for a call, change, arrival index or None)
        points: list[tuple[datetime, int, int, int | None]] = []
        cut = self.arrival_cut.get(depot_id, {})
        for k, arrival in enumerate(depot.arrivals):
            if arrival.part == part and arrival.at <= self.at:
                points.append((arrival.at, 0, arrival.quantity - cut.get(k, 0), k))
        for tech, history in self.history.items():
            for k in history.made:
                call = history.route.depot_stops[k]
                if call.depot_id == depot_id:
                    points.append((call.arrival, 1, -self.taken(tech, k, call, part), None))
        points.sort(key=lambda p: (p[0], p[1]))
        changes = [stock, *(change for _, _, change, _ in points)]
        lots = [
            (1 + n, change, k)
            for n, (moment, kind, change, k) in enumerate(points)
            if kind == 0 and moment <= by
        ]
        return changes, [(0, stock, None), *reversed(lots)]

    def _lot_out(self, depot_id: DepotId, part: str, units: int, by: datetime) -> None:
        """Take ``units`` out of the depot's lots in by ``by`` (see the module docstring)."""
        changes, sources = self._depot_line(depot_id, part, by)
        struck = strike(changes, [(point, lot) for point, lot, _ in sources], units)
        if struck is None:  # pragma: no cover - the caller checked the depot holds them
            raise AssertionError(f"depot {depot_id!r} cannot give up {units} of {part!r}")
        for (_, _, k), lot in zip(sources, struck, strict=True):
            if lot == 0:
                continue
            if k is None:
                cut = self.depot_cut.setdefault(depot_id, {})
                cut[part] = cut.get(part, 0) + lot
            else:
                arrivals = self.arrival_cut.setdefault(depot_id, {})
                arrivals[k] = arrivals.get(k, 0) + lot
