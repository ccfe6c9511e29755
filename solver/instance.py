"""A routing instance in numbers only: what the solver knows of the world.

Time is whole seconds on one axis (the caller picks the origin), distance whole metres (or any
integer unit: the Solomon benchmarks use tenths). There are no ids, coordinates, clocks or JSON
here; ``dispatch.planning.compile`` builds an ``Instance`` from a day, the benchmarks from a
Solomon file.

Nodes are the visits, ``0 .. n_nodes - 1``. Each node sits at a *location*, a row of the travel
matrices (several nodes may share one). Vehicles start and end at locations too.

Two optional features serve commodities a vehicle carries and uses up (``dispatch`` uses them
for spare parts; here they are only numbers): nodes may be grouped as *alternatives*
(``node_group``: at most one node of a group is served, the group left out costs its penalty
once), and each vehicle may carry a stock of ``K`` commodities (``stock_start``) that each node
changes by ``stock_delta`` (negative: used up), never going below zero anywhere on a route.
An instance without them is the plain routing instance it always was.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from itertools import chain, permutations

import numpy as np
from numpy.typing import NDArray

from solver.errors import InstanceError

__all__ = [
    "MAX_PERMUTED_BREAKS",
    "BreakRule",
    "Instance",
    "Vehicle",
    "breaks_end",
    "in_turn",
    "turn_order",
]


@dataclass(frozen=True, slots=True)
class BreakRule:
    """A break of ``duration_s`` starting anywhere in ``[earliest_start_s, latest_start_s]``."""

    earliest_start_s: int
    latest_start_s: int
    duration_s: int


#: Up to this many breaks a vehicle, every order is tried when the usual ones leave no room.
MAX_PERMUTED_BREAKS = 6


def turn_order(rules: Sequence[BreakRule]) -> list[int]:
    """The order a vehicle takes its breaks in, as indices of ``rules``: by their bounds
    (earliest start, then latest) when all can be taken one after another that way; else the
    first order that can: by latest start, then any (up to ``MAX_PERMUTED_BREAKS``). A tea
    break of 12:30-12:45 inside a lunch window of 12:00-14:00 is taken first. By their bounds
    when no order can (``in_turn`` then leaves a rule no room). ``dispatch`` keeps a
    technician's breaks in this order, chosen by the same rule on clock times."""
    n = len(rules)
    by_bounds = sorted(range(n), key=lambda i: (rules[i].earliest_start_s, rules[i].latest_start_s))
    by_latest = sorted(range(n), key=lambda i: (rules[i].latest_start_s, rules[i].earliest_start_s))
    tries = chain(
        (by_bounds, by_latest),
        permutations(by_bounds) if n <= MAX_PERMUTED_BREAKS else (),
    )
    return list(next((order for order in tries if _can_take(rules, order)), by_bounds))


def _can_take(rules: Sequence[BreakRule], order: Sequence[int]) -> bool:
    """Whether the breaks can all be taken in ``order``, each as soon as the one before ends."""
    opens = min((rule.earliest_start_s for rule in rules), default=0)
    return breaks_end([rules[i] for i in order], opens) is not None


def breaks_end(rules: Sequence[BreakRule], free_s: int) -> int | None:
    """When ``rules``, taken in the order given from ``free_s`` on, each as soon as its window
    and the one before allow, are over; ``None`` when one cannot start by its latest start."""
    for rule in rules:
        start = max(free_s, rule.earliest_start_s)
        if start > rule.latest_start_s:
            return None
        free_s = start + rule.duration_s
    return free_s


def in_turn(rules: Sequence[BreakRule]) -> tuple[BreakRule, ...]:
    """A vehicle's breaks as it takes them: one after another in their ``turn_order``, never
    overlapping, each start's bounds narrowed to what its turn allows: no sooner than the break
    before it can end, no later than leaves the break after it its latest start. Every part of
    the solver times breaks this way; a rule left with ``latest_start_s < earliest_start_s``
    means the breaks cannot all be taken."""
    ordered = [rules[i] for i in turn_order(rules)]
    earliest: list[int] = []
    for k, rule in enumerate(ordered):
        after = earliest[k - 1] + ordered[k - 1].duration_s if k else rule.earliest_start_s
        earliest.append(max(rule.earliest_start_s, after))
    latest = [rule.latest_start_s for rule in ordered]
    for k in range(len(ordered) - 2, -1, -1):
        latest[k] = min(latest[k], latest[k + 1] - ordered[k].duration_s)
    return tuple(
        BreakRule(low, high, rule.duration_s)
        for low, high, rule in zip(earliest, latest, ordered, strict=True)
    )


@dataclass(frozen=True, slots=True)
class Vehicle:
    """A technician or crew in numbers: where the day starts and ends, when, and what fits.

    ``capacity`` has one entry per quantity of ``Instance.demand``'s columns.
    """

    start_location: int
    end_location: int
    shift_start_s: int
    shift_end_s: int
    capacity: tuple[int, ...] = ()
    breaks: tuple[BreakRule, ...] = ()
    fixed_cost: int = 0


@dataclass(frozen=True, slots=True)
class Instance:
    """Everything the routing model needs, as arrays.

    Parameters
    ----------
    travel_s
        ``(L, L)`` travel time between locations.
    distance_m
        ``(L, L)`` distance between locations (reported, and part of the cost when
        ``distance_weight`` > 0).
    node_location
        ``(N,)`` the location of each node.
    service_s
        ``(N,)`` time spent at each node; breaks never overlap it.
    window_s
        ``(N, 2)`` bounds of the time the node's service starts (its cumul).
    demand
        ``(N, K)`` what each node takes of each of ``K`` quantities.
    penalty
        ``(N,)`` cost of leaving the node out; every node is optional.
    allowed
        Per node, the vehicles that may serve it; ``None`` means every vehicle.
    vehicles
        The fleet.
    preferred
        ``(N,)`` a vehicle group of the fleet the node prefers, or -1; serving it with a vehicle
        of another group costs ``preference_cost`` (one figure for all nodes, or one per node).
    vehicle_group
        ``(V,)`` the group of each vehicle (a person who drives on several days is one group
        of several vehicles); empty means each vehicle is its own group, numbered as itself.
    gaps_s
        Per node, intervals ``(a, b)`` (inclusive) removed from its window: a service start
        that must fall in the same hours each day is a window over the days with the nights
        taken out. Empty means no gaps anywhere.
    soft_window_s
        ``(N, 2)`` a soft interval for the node's service start, or empty for none: each second
        outside it costs ``soft_window_cost`` (re-planning keeps promised times this way). A
        row of ``(-1, -1)`` means no soft interval for that node.
    busy_target_s, busy_cost
        ``(V,)`` a soft limit on each vehicle's busy time (service and travel, no waiting), each
        second above it costing ``busy_cost``: a horizon spreads its work over the days this way.
        Empty means no limit.
    time_weight, distance_weight
        Arc cost = ``time_weight * travel_s + distance_weight * distance_m``.
    node_group
        ``(N,)`` the group of each node: nodes of one group are alternatives, at most one of
        them served, and leaving the whole group out costs the penalty of its first node once
        (the others' penalties are not read). Empty means each node is its own group.
    stock_delta
        ``(N, K)`` how a node changes the stock of each of ``K`` commodities on the vehicle
        serving it (negative: used up there). Empty (``K`` = 0) means no commodities.
    stock_start
        ``(V, K)`` each vehicle's stock of each commodity when its route starts; no route ever
        takes a stock below zero.
    stopover_s
        ``(N, 3)`` a stop on the way into a node, as ``(opens_s, stop_s, on_s)``: the way in
        ends with a stop of ``stop_s`` seconds that cannot begin before ``opens_s`` and a drive
        of ``on_s`` (both already in ``travel_s``); a break on that way is taken before the
        stop (which then waits for it) or on the drive on, never in the wait for the stop to
        open as if it were driving. A row of -1: no stop on the way into that node; empty
        means none anywhere.
    """

    travel_s: NDArray[np.int64]
    distance_m: NDArray[np.int64]
    node_location: NDArray[np.int64]
    service_s: NDArray[np.int64]
    window_s: NDArray[np.int64]
    demand: NDArray[np.int64]
    penalty: NDArray[np.int64]
    vehicles: tuple[Vehicle, ...]
    allowed: tuple[tuple[int, ...] | None, ...] = ()
    preferred: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    preference_cost: int | NDArray[np.int64] = 0
    soft_window_s: NDArray[np.int64] = field(
        default_factory=lambda: np.zeros((0, 2), dtype=np.int64)
    )
    soft_window_cost: int = 0
    vehicle_group: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    gaps_s: tuple[tuple[tuple[int, int], ...], ...] = ()
    busy_target_s: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    busy_cost: int = 0
    time_weight: int = 1
    distance_weight: int = 0
    node_group: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    stock_delta: NDArray[np.int64] = field(default_factory=lambda: np.zeros((0, 0), dtype=np.int64))
    stock_start: NDArray[np.int64] = field(default_factory=lambda: np.zeros((0, 0), dtype=np.int64))
    stopover_s: NDArray[np.int64] = field(default_factory=lambda: np.zeros((0, 2), dtype=np.int64))

    @property
    def n_commodities(self) -> int:
        """Number of commodities vehicles carry (columns of ``stock_delta``)."""
        return int(self.stock_delta.shape[1]) if self.stock_delta.ndim == 2 else 0

    @property
    def has_alternatives(self) -> bool:
        """Whether some group holds more than one node, vehicles carry commodities or a way in
        has a stop on it: what only OR-Tools' own model expresses (no seeder does)."""
        grouped = bool(self.node_group.size) and len(np.unique(self.node_group)) < self.n_nodes
        return grouped or self.n_commodities > 0 or bool(self.stopover_s.size)

    def groups_of_nodes(self) -> list[list[int]]:
        """The nodes of each group, groups in order of their first node."""
        if not self.node_group.size:
            return [[node] for node in range(self.n_nodes)]
        found: dict[int, list[int]] = {}
        for node, group in enumerate(self.node_group.tolist()):
            found.setdefault(group, []).append(node)
        return list(found.values())

    @property
    def n_nodes(self) -> int:
        """Number of visit nodes."""
        return int(self.node_location.shape[0])

    @property
    def n_vehicles(self) -> int:
        """Number of vehicles."""
        return len(self.vehicles)

    @property
    def groups(self) -> NDArray[np.int64]:
        """``(V,)`` the group of each vehicle (``vehicle_group``, or each its own)."""
        if self.vehicle_group.size:
            return self.vehicle_group
        return np.arange(self.n_vehicles, dtype=np.int64)

    def allowed_vehicles(self, node: int) -> Sequence[int]:
        """The vehicles that may serve ``node``: ``allowed``'s, or every vehicle."""
        vehicles = self.allowed[node] if self.allowed else None
        return range(self.n_vehicles) if vehicles is None else vehicles

    def windows(self, node: int) -> list[tuple[int, int]]:
        """The intervals the node's service may start in: its window without its gaps."""
        low, high = (int(x) for x in self.window_s[node])
        found = []
        for gap_low, gap_high in sorted(self.gaps_s[node] if self.gaps_s else ()):
            if gap_low > low:
                found.append((low, min(high, gap_low - 1)))
            low = max(low, gap_high + 1)
            if low > high:
                return [w for w in found if w[0] <= w[1]]
        found.append((low, high))
        return [w for w in found if w[0] <= w[1]]

    def restricted(self, nodes: Sequence[int], vehicles: Sequence[int]) -> Instance:
        """The instance of ``nodes`` and ``vehicles`` only, numbered in the given order (a
        part of a bigger instance solved on its own: one day of a horizon).

        A node that prefers a vehicle group none of ``vehicles`` belongs to prefers none in the
        part: nobody there can honour it, so it would only make serving the node dearer on
        every vehicle alike, and OR-Tools 9.15 then refused every plan of some parts, even
        the one that serves nobody (nodes at one fixed time preferring absent groups).
        """
        picked = np.asarray(nodes, dtype=np.int64)
        groups = self.groups[np.asarray(vehicles, dtype=np.int64)]
        preferred = self.preferred[picked] if self.preferred.size else self.preferred
        preferred = np.where(np.isin(preferred, groups), preferred, -1)
        new_index = {old: new for new, old in enumerate(vehicles)}
        allowed = (
            tuple(
                None
                if self.allowed[i] is None
                else tuple(new_index[v] for v in self.allowed[i] or () if v in new_index)
                for i in nodes
            )
            if self.allowed
            else ()
        )
        cost = np.asarray(self.preference_cost, dtype=np.int64)
        return replace(
            self,
            node_location=self.node_location[picked],
            service_s=self.service_s[picked],
            window_s=self.window_s[picked].reshape(len(nodes), 2),
            demand=self.demand[picked].reshape(len(nodes), self.n_quantities),
            penalty=self.penalty[picked],
            vehicles=tuple(self.vehicles[v] for v in vehicles),
            allowed=allowed,
            preferred=preferred,
            preference_cost=cost[picked] if cost.ndim else self.preference_cost,
            soft_window_s=self.soft_window_s[picked]
            if self.soft_window_s.size
            else self.soft_window_s,
            vehicle_group=groups,
            gaps_s=tuple(self.gaps_s[i] for i in nodes) if self.gaps_s else (),
            busy_target_s=self.busy_target_s[np.asarray(vehicles, dtype=np.int64)]
            if self.busy_target_s.size
            else self.busy_target_s,
            node_group=self.node_group[picked] if self.node_group.size else self.node_group,
            stock_delta=self.stock_delta[picked].reshape(len(nodes), self.n_commodities)
            if self.n_commodities
            else self.stock_delta,
            stock_start=self.stock_start[np.asarray(vehicles, dtype=np.int64)].reshape(
                len(vehicles), self.n_commodities
            )
            if self.n_commodities
            else self.stock_start,
            stopover_s=self.stopover_s[picked].reshape(len(nodes), 3)
            if self.stopover_s.size
            else self.stopover_s,
        )

    def compacted(self) -> Instance:
        """The same instance over only the locations its nodes and vehicles use: smaller
        matrices for a small piece of a big day (``restricted`` keeps the whole matrices)."""
        used = set(self.node_location.tolist())
        for vehicle in self.vehicles:
            used.update((vehicle.start_location, vehicle.end_location))
        kept = np.asarray(sorted(used), dtype=np.int64)
        new_location = np.full(self.travel_s.shape[0], -1, dtype=np.int64)
        new_location[kept] = np.arange(len(kept))
        rows = np.ix_(kept, kept)
        return replace(
            self,
            travel_s=self.travel_s[rows],
            distance_m=self.distance_m[rows],
            node_location=new_location[self.node_location],
            vehicles=tuple(
                replace(
                    vehicle,
                    start_location=int(new_location[vehicle.start_location]),
                    end_location=int(new_location[vehicle.end_location]),
                )
                for vehicle in self.vehicles
            ),
        )

    @property
    def n_quantities(self) -> int:
        """Number of capacity quantities (columns of ``demand``)."""
        return int(self.demand.shape[1]) if self.demand.ndim == 2 else 0

    def check(self) -> None:
        """Raise ``InstanceError`` when the arrays do not fit together."""
        n, n_locations = self.n_nodes, self.travel_s.shape[0]
        problems: list[str] = []
        if self.travel_s.shape != (n_locations, n_locations):
            problems.append(f"travel_s must be square, got {self.travel_s.shape}")
        if self.distance_m.shape != self.travel_s.shape:
            problems.append("distance_m must have the shape of travel_s")
        if n and (self.node_location.min() < 0 or self.node_location.max() >= n_locations):
            problems.append("node_location points outside the matrices")
        for name, array, shape in (
            ("service_s", self.service_s, (n,)),
            ("window_s", self.window_s, (n, 2)),
            ("penalty", self.penalty, (n,)),
        ):
            if array.shape != shape:
                problems.append(f"{name} must have shape {shape}, got {array.shape}")
        if self.demand.shape[0] != n or self.demand.ndim != 2:
            problems.append(f"demand must have shape ({n}, K), got {self.demand.shape}")
        if self.allowed and len(self.allowed) != n:
            problems.append("allowed must have one entry per node")
        if self.preferred.size and self.preferred.shape != (n,):
            problems.append("preferred must have one entry per node")
        if np.ndim(self.preference_cost) and np.shape(self.preference_cost) != (n,):
            problems.append("preference_cost must be one figure or one per node")
        if self.vehicle_group.size and self.vehicle_group.shape != (self.n_vehicles,):
            problems.append("vehicle_group must have one entry per vehicle")
        elif self.preferred.shape == (n,):
            # OR-Tools finds no plan at all, not even serving nobody, for some such instances.
            absent = set(self.preferred.tolist()) - set(self.groups.tolist()) - {-1}
            if absent:
                problems.append(f"preferred names groups no vehicle is in: {sorted(absent)}")
        if self.busy_target_s.size and self.busy_target_s.shape != (self.n_vehicles,):
            problems.append("busy_target_s must have one entry per vehicle")
        if self.gaps_s and len(self.gaps_s) != n:
            problems.append("gaps_s must have one entry per node")
        if self.soft_window_s.size and self.soft_window_s.shape != (n, 2):
            problems.append(f"soft_window_s must have shape ({n}, 2)")
        if self.node_group.size and self.node_group.shape != (n,):
            problems.append("node_group must have one entry per node")
        k = self.n_commodities
        if k and self.stock_delta.shape != (n, k):
            problems.append(f"stock_delta must have shape ({n}, K), got {self.stock_delta.shape}")
        if k and self.stock_start.shape != (self.n_vehicles, k):
            problems.append(f"stock_start must have shape ({self.n_vehicles}, {k})")
        if k and (self.stock_start < 0).any():
            problems.append("a vehicle starts with a negative stock")
        if self.stopover_s.size and self.stopover_s.shape != (n, 3):
            problems.append(f"stopover_s must have shape ({n}, 3)")
        if n and (self.window_s[:, 0] > self.window_s[:, 1]).any():
            problems.append("a window ends before it starts")
        for v, vehicle in enumerate(self.vehicles):
            if len(vehicle.capacity) != self.n_quantities:
                problems.append(f"vehicle {v} capacity must have {self.n_quantities} entries")
            if not (
                0 <= vehicle.start_location < n_locations
                and 0 <= vehicle.end_location < n_locations
            ):
                problems.append(f"vehicle {v} starts or ends outside the matrices")
            if vehicle.shift_start_s > vehicle.shift_end_s:
                problems.append(f"vehicle {v} shift ends before it starts")
        if problems:
            raise InstanceError("; ".join(problems))
