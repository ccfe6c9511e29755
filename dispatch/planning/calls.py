"""How soon a technician is at a visit's door after a depot call on the way, breaks placed.

``compile`` folds a depot call into the way to its visit (one location per via-depot node), and
the solver counts a break anywhere on that way, even in the wait for the depot to open, where
nobody drives. A break whose window opens after the call must be taken on the drive on, or after
the visit: when the visit leaves no room after it, the door is that much later. The node's window
did not say so, and a technician ``T`` reached a visit half an hour sooner than they could
(leaving the depot at 08:10, 2 h 54 min of driving and a lunch between 09:00 and 10:30: at the
door at 11:15, not 11:34). ``by_door`` splits a via-depot option into one twin per earliest door
time of its technicians, which its node's window then holds.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import replace

from dispatch.stock.supply import Option
from solver import BreakRule

__all__ = ["by_door", "door_after_call", "taken_on_the_way"]

#: Where a break goes around a call: before it, on the drive on to the visit, or after the visit.
_BEFORE, _ON_THE_WAY, _AFTER = range(3)


def door_after_call(
    ready_s: int,
    handling_s: int,
    leg_s: int,
    earliest_s: int,
    service_s: int,
    breaks: Sequence[BreakRule],
) -> int | None:
    """The earliest service start of a visit ``leg_s`` after a depot call (begun at ``ready_s``
    at the earliest, ``handling_s`` long), not before ``earliest_s``, with every break of
    ``breaks`` taken before the call, on the drive on, or after the visit (``service_s`` long);
    ``None`` when no placement holds them all.

    The way to the depot is taken as free, so no route reaches the door sooner: a bound the
    solver's own counting of the way then tightens where there is no wait at the depot.
    """
    best: int | None = None
    for places in itertools.product(range(3), repeat=len(breaks)):
        placed = [
            [rule for rule, p in zip(breaks, places, strict=True) if p == k] for k in range(3)
        ]
        before_end = _taken(placed[_BEFORE], 0)
        if before_end is None:
            continue
        departure = max(ready_s, before_end) + handling_s
        arrival = _driven(placed[_ON_THE_WAY], departure, leg_s)
        if arrival is None:
            continue
        door = max(arrival, earliest_s)
        if _taken(placed[_AFTER], door + service_s) is None:
            continue
        best = door if best is None else min(best, door)
    return best


def by_door(
    option: Option,
    breaks: Sequence[Sequence[BreakRule]],
    handling_s: int,
    leg_s: int,
    service_s: int,
) -> tuple[Option, ...]:
    """``option`` (a call at a depot on the way, ``leg_s`` from the visit) as one twin per
    earliest door time of its technicians (``breaks``: each vehicle's), soonest first; the
    technicians who cannot be at the door by its latest are in none."""
    vehicles_at: dict[int, list[int]] = {}
    for v in option.vehicles:
        door = door_after_call(
            option.ready_s, handling_s, leg_s, option.earliest_s, service_s, breaks[v]
        )
        if door is not None and door <= option.latest_s:
            vehicles_at.setdefault(door, []).append(v)
    return tuple(
        replace(option, vehicles=tuple(vehicles), earliest_s=door)
        for door, vehicles in sorted(vehicles_at.items())
    )


def taken_on_the_way(
    start: int, drive_s: int, breaks: Sequence[BreakRule]
) -> tuple[int, list[tuple[int, int]]] | None:
    """When a drive of ``drive_s`` begun at ``start`` arrives with ``breaks`` taken on it in
    the order given, each as early as its bounds allow (waiting for one the drive has outrun,
    once the driving is done), and the breaks as ``(start, length)``; ``None`` when one could
    not begin by its latest start."""
    moment, left = start, drive_s
    placed = []
    for rule in breaks:
        step = min(left, max(0, rule.earliest_start_s - moment))
        moment, left = max(moment + step, rule.earliest_start_s), left - step
        if moment > rule.latest_start_s:
            return None
        placed.append((moment, rule.duration_s))
        moment += rule.duration_s
    return moment + left, placed


def _in_order(breaks: Sequence[BreakRule]) -> list[BreakRule]:
    return sorted(breaks, key=lambda rule: rule.earliest_start_s)


def _taken(breaks: Sequence[BreakRule], from_s: int) -> int | None:
    """When ``breaks``, taken one after another in the order they may begin, none before
    ``from_s``, are over; ``None`` when one could not begin in time."""
    taken = taken_on_the_way(from_s, 0, _in_order(breaks))
    return None if taken is None else taken[0]


def _driven(breaks: Sequence[BreakRule], departure: int, drive_s: int) -> int | None:
    """When a drive of ``drive_s`` begun at ``departure`` arrives with ``breaks`` taken on it
    in the order they may begin; ``None`` when one could not begin in time."""
    taken = taken_on_the_way(departure, drive_s, _in_order(breaks))
    return None if taken is None else taken[0]
