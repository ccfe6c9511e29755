"""Pieces of route segments for the close-routes search: stretches of several routes that pass
near one place at about one time, with the left-out nodes near it, as one small instance.

A whole-route piece (``solver.lns``) can only trade visits between routes whose middles lie
close. On a crowded day routes of far-apart middles still cross the same streets at the same
hour, and a left-out appointment at 14:00 can only go to a route that passes by then. A segment
piece takes, from up to ``LNS_SEGMENT_ROUTES`` routes, a stretch of at most
``LNS_SEGMENT_LENGTH`` nodes around a node close to an anchor (nearest first, its service within
``LNS_SEGMENT_HORIZON_S`` of the anchor's time), and offers the ``LNS_LEFT_OUT`` left-out nodes
nearest the anchor whose windows meet that time.

Each stretch becomes a vehicle of its own: it leaves where the route's head ends, when the head
lets it leave at the earliest, and must reach where the tail starts by the latest start the
tail allows (``solver.insertion.latest_start``), with the breaks the head has not taken that the
tail cannot take, chosen so that the stretch as it stands still fits. Its capacity is what the
head and tail leave. So VROOM's answer, spliced back between head and tail, holds in time in
nearly every case; ``solver.lns`` checks each spliced route before keeping it.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from solver.insertion import NEVER, forward_states, latest_start, route_holds
from solver.instance import Instance, Vehicle, breaks_end, in_turn
from solver.params import (
    LNS_LEFT_OUT,
    LNS_SEGMENT_HORIZON_S,
    LNS_SEGMENT_LENGTH,
    LNS_SEGMENT_ROUTES,
)

__all__ = ["SegmentPiece", "earliest_starts", "segment_piece"]

#: A left-out anchor whose windows span more than this has no time of its own: the step takes
#: the time of the served node nearest it.
_WIDE_WINDOW_S = 4 * 3600


@dataclass(frozen=True, slots=True)
class SegmentPiece:
    """The stretches of ``vehicles``' routes, ``cuts[k] = (first, last)`` (positions,
    inclusive) of ``vehicles[k]``'s, and the left-out ``offered`` nodes, as ``instance``: its
    node ``i`` is ``nodes[i]`` of the day, its vehicle ``k`` the stretch of ``vehicles[k]``."""

    instance: Instance
    nodes: tuple[int, ...]
    vehicles: tuple[int, ...]
    cuts: tuple[tuple[int, int], ...]
    offered: tuple[int, ...]

    def spliced(
        self, routes: Sequence[Sequence[int]], answer: Sequence[Sequence[int]]
    ) -> list[list[int]]:
        """The routes of ``vehicles``, each with its stretch replaced by ``answer``'s route of
        its vehicle (in the piece's numbering)."""
        return [
            [*routes[v][:first], *(self.nodes[k] for k in stretch), *routes[v][last + 1 :]]
            for v, (first, last), stretch in zip(self.vehicles, self.cuts, answer, strict=True)
        ]


def earliest_starts(instance: Instance, vehicle: int, route: Sequence[int]) -> list[int]:
    """The earliest service start of each node of ``vehicle``'s ``route``."""
    return [min(state) for state in forward_states(instance, vehicle, route)[1:]]


def segment_piece(
    instance: Instance,
    routes: Sequence[Sequence[int]],
    starts: Sequence[Sequence[int]],
    left_out: np.ndarray,
    rng: random.Random,
    vehicles: Sequence[int] | None = None,
) -> SegmentPiece | None:
    """A piece of stretches near a random anchor, or ``None`` when none can be cut.

    Parameters
    ----------
    instance
        The numbers to route.
    routes, starts
        One node list per vehicle, and the earliest service start of each of its nodes
        (``earliest_starts``).
    left_out
        The nodes the piece may offer: left out, and the search's own.
    rng
        Draws the anchor (a left-out node, with odds in proportion to its penalty, or, as
        often, a served node) and the stretches' lengths.
    vehicles
        The vehicles whose routes may be cut (default: all).
    """
    candidates = list(range(len(routes))) if vehicles is None else list(vehicles)
    served = [(v, p) for v in candidates for p in range(len(routes[v]))]
    if not served:
        return None
    where = np.asarray([instance.node_location[routes[v][p]] for v, p in served], dtype=np.int64)
    times = np.asarray([starts[v][p] for v, p in served], dtype=np.int64)
    anchor, anchor_time = _anchor(instance, routes, starts, served, left_out, rng)
    place = int(instance.node_location[anchor])
    near = instance.travel_s[place, where] + instance.travel_s[where, place]
    if anchor_time is None:
        anchor_time = int(times[int(np.argmin(near))])
    in_time = np.abs(times - anchor_time) <= LNS_SEGMENT_HORIZON_S
    cuts: dict[int, tuple[int, int]] = {}
    for k in np.argsort(np.where(in_time, near, np.iinfo(np.int64).max), kind="stable"):
        if not in_time[k] or len(cuts) == LNS_SEGMENT_ROUTES:
            break
        v, p = served[int(k)]
        if v in cuts:
            continue
        length = rng.randint(2, LNS_SEGMENT_LENGTH)
        first = max(0, p - rng.randrange(length))
        cuts[v] = (first, min(len(routes[v]) - 1, first + length - 1))
    stretches = {
        v: stretch
        for v, cut in cuts.items()
        if (stretch := _stretch_vehicle(instance, v, routes[v], *cut)) is not None
    }
    if not stretches:
        return None
    cuts = {v: cuts[v] for v in stretches}
    chosen = list(cuts)
    offered = _offered(instance, left_out, chosen, place, anchor_time)
    nodes = [node for v, (first, last) in cuts.items() for node in routes[v][first : last + 1]]
    nodes += offered
    fleet = tuple(stretches.values())
    piece = replace(instance.restricted(nodes, chosen), vehicles=fleet).compacted()
    return SegmentPiece(piece, tuple(nodes), tuple(chosen), tuple(cuts.values()), tuple(offered))


def _anchor(
    instance: Instance,
    routes: Sequence[Sequence[int]],
    starts: Sequence[Sequence[int]],
    served: Sequence[tuple[int, int]],
    left_out: np.ndarray,
    rng: random.Random,
) -> tuple[int, int | None]:
    """A node and the time the piece gathers around: a left-out node (odds as its penalty)
    with a time drawn in its windows, none when they are wide; or a served node and its start."""
    if left_out.size and rng.random() < 0.5:
        weights = instance.penalty[left_out].astype(float).tolist()
        node = rng.choices(left_out.tolist(), weights)[0]
        windows = instance.windows(node)
        low, high = windows[0][0], windows[-1][1]
        return node, rng.randint(low, high) if high - low < _WIDE_WINDOW_S else None
    v, p = served[rng.randrange(len(served))]
    return routes[v][p], starts[v][p]


def _stretch_vehicle(
    instance: Instance, vehicle: int, route: Sequence[int], first: int, last: int
) -> Vehicle | None:
    """The vehicle of ``route[first : last + 1]`` between the route's head and tail, or
    ``None`` when no sharing of the breaks keeps the stretch as it stands.

    The head may leave having taken some of the breaks (each count it can reach, fewest
    first); the tail takes those it can of the rest, the stretch the others."""
    spec = instance.vehicles[vehicle]
    rules = in_turn(spec.breaks)
    start = spec.start_location if first == 0 else int(instance.node_location[route[first - 1]])
    stretch = route[first : last + 1]
    whole = first == 0 and last == len(route) - 1
    shared = replace(
        spec,
        start_location=start,
        capacity=_left_capacity(instance, spec, [*route[:first], *route[last + 1 :]]),
        fixed_cost=spec.fixed_cost if whole else 0,
    )
    for head_taken, leave_s in _head_leaves(instance, vehicle, route, first):
        if last == len(route) - 1:
            tails = [(len(rules), spec.end_location, spec.shift_end_s)]
        else:
            end = int(instance.node_location[route[last + 1]])
            tails = [
                (taken, end, by_s)
                for taken in range(head_taken, len(rules) + 1)
                if (by_s := latest_start(instance, vehicle, route, last + 1, taken)) is not None
            ]
        for tail_taken, end, by_s in tails:
            candidate = replace(
                shared,
                end_location=end,
                shift_start_s=leave_s,
                shift_end_s=max(leave_s, by_s),
                breaks=rules[head_taken:tail_taken],
            )
            if _breaks_inside(candidate) and _holds_alone(instance, vehicle, candidate, stretch):
                return candidate
    return None


def _breaks_inside(vehicle: Vehicle) -> bool:
    """Whether ``vehicle``'s breaks (in turn) can all be taken inside its shift, as VROOM asks
    of every vehicle. The solver's own timing also lets a route take its breaks once at its
    end (``solver.insertion``); a stretch's end is the next stop, due by the shift's end
    after them, and a piece VROOM refuses failed the whole search it was a step of."""
    end = breaks_end(vehicle.breaks, vehicle.shift_start_s)
    return end is not None and end <= vehicle.shift_end_s


def _head_leaves(
    instance: Instance, vehicle: int, route: Sequence[int], first: int
) -> list[tuple[int, int]]:
    """Each count of breaks the head before ``route[first]`` can have taken, fewest first,
    with the earliest moment it then leaves its last node (the shift's start for no head)."""
    if first == 0:
        return [(0, instance.vehicles[vehicle].shift_start_s)]
    state = forward_states(instance, vehicle, route)[first]
    service = int(instance.service_s[route[first - 1]])
    return [(taken, cumul + service) for taken, cumul in enumerate(state) if cumul < NEVER]


def _holds_alone(
    instance: Instance, vehicle: int, stretch_vehicle: Vehicle, nodes: Sequence[int]
) -> bool:
    """Whether ``nodes`` hold as the route of ``stretch_vehicle`` in place of ``vehicle``."""
    fleet = (*instance.vehicles[:vehicle], stretch_vehicle, *instance.vehicles[vehicle + 1 :])
    return route_holds(replace(instance, vehicles=fleet), vehicle, nodes)


def _left_capacity(instance: Instance, spec: Vehicle, nodes: Sequence[int]) -> tuple[int, ...]:
    """What ``spec``'s capacity leaves once ``nodes`` are on board."""
    if not instance.n_quantities or not nodes:
        return spec.capacity
    load = instance.demand[list(nodes)].sum(axis=0)
    return tuple(int(c - q) for c, q in zip(spec.capacity, load, strict=True))


def _offered(
    instance: Instance, left_out: np.ndarray, vehicles: Sequence[int], place: int, time_s: int
) -> list[int]:
    """The ``LNS_LEFT_OUT`` left-out nodes nearest ``place`` that one of ``vehicles`` may serve
    and whose windows meet ``time_s`` give or take ``LNS_SEGMENT_HORIZON_S``."""
    if not left_out.size:
        return []
    windows = instance.window_s[left_out]
    meets = (windows[:, 1] >= time_s - LNS_SEGMENT_HORIZON_S) & (
        windows[:, 0] <= time_s + LNS_SEGMENT_HORIZON_S
    )
    if instance.allowed:
        chosen = set(vehicles)
        meets &= np.asarray(
            [
                instance.allowed[n] is None or bool(chosen.intersection(instance.allowed[n]))
                for n in left_out.tolist()
            ],
            dtype=bool,
        )
    nodes = left_out[meets]
    if not nodes.size:
        return []
    where = instance.node_location[nodes]
    near = instance.travel_s[place, where] + instance.travel_s[where, place]
    return [int(n) for n in nodes[np.argsort(near, kind="stable")[:LNS_LEFT_OUT]]]
