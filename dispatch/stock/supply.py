"""Where each visit's spare parts come from: the options a visit may be served by.

The modelling of spare parts (DESIGN.md, "Horizon, booking, parts"), decided here before the
solve and compiled into numbers by ``dispatch.planning.compile``:

- a visit needing parts is served **directly** (its parts come out of the van: the van held
  them at the start of the day and earlier stops of the route did not use them up) or **via a
  depot** (the technician calls at the depot on the way to the visit, inside its opening hours,
  and takes the parts there). Each way is a node of the solver; the nodes of one visit are
  alternatives, at most one served (``Instance.node_group``).
- depot stock is shared by every route, so it is **reserved unit by unit to visits before the
  solve**: each unit a depot holds (or receives today, from the moment it arrives) goes to at
  most one visit's via-depot option. Two routes can then never take the same unit, whatever the
  search does, and the solver needs no constraint across routes. Units go first to the visits
  that no eligible van can serve from its stock (by priority, then the earliest deadline, then
  the shortest leg from a depot holding its parts), each from the nearest depot able to supply
  all it lacks in time; the units left then back up the
  visits that vans could serve, so the search may choose. A unit reserved to a visit the plan
  does not serve, or serves from a van, is not taken (the plan says what is taken).
- van stock is a quantity carried along the route (one solver commodity per part that is
  *scarce*: some van holds some but not all that its eligible visits could use). A van with
  none of a part is simply not allowed the nodes that take it from the van; a part every van
  holds enough of is no constraint at all.
- a call at a depot before a visit is folded into the way there: the via node sits at a
  location of its own whose legs in are ``travel(previous, depot) + handling + travel(depot,
  visit)``, and its service start is bounded so that the call fits the opening hours (open, and
  the unit arrived, before the call; the call over by closing time).
- a visit no option can serve is left out before the solve with code ``no_part``, naming the
  first part it cannot have and the nearest moment it can be had (``nearest_supply``).

A technician whose base is a depot may load the morning pick list there: a visit whose units
are reserved at that depot has a third option, **loaded in the morning**, for the technicians
based there whose shift starts inside its opening hours (after the units are in): no detour,
and no handling time (the store prepares the pick list before the shift; the contract says
so): its units need only be in when they leave, not in time for a call on the way (a first
visit at 08:10, 10 minutes from a depot opening at 08:00). The plan lists those loads as a
call before the first visit, when the route leaves.
A part no allowed van holds enough of may be made up at a call: the van's units and the depot's
together (a visit needing 2, a van holding 1, a depot 1 more), the van holding them serving it.
Known limits: a visit takes all of its depot parts at one depot (parts spread over two depots
for one visit are not combined); arrivals on later dates serve only the ``no_part`` reasons.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from copy import deepcopy
from dataclasses import dataclass
from datetime import datetime, time
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from dispatch.model import (
    Depot,
    PartQuantity,
    Problem,
    TechnicianId,
    Unassigned,
    UnassignedCode,
    Visit,
)
from dispatch.units import duration_to_s, seconds_after

if TYPE_CHECKING:  # planning imports this module: a type only, no import cycle at run time
    from dispatch.planning.eligibility import TimeBounds

__all__ = [
    "Option",
    "Supply",
    "Way",
    "nearest_supply",
    "no_part_reason",
    "plan_supply",
    "van_stock",
]


@dataclass(frozen=True, slots=True)
class Option:
    """One way to serve a visit needing parts: from the van (``depot`` is ``None``) or via a
    call at depot ``depot`` (its index in the problem) taking ``from_depot`` there.

    ``vehicles`` are the technicians allowed (whose vans hold ``from_van``); ``earliest_s`` and
    ``latest_s`` bound the service start (the node's cumul) in solver seconds; ``ready_s`` is
    when the depot call may start at the earliest (opening, or the reserved units' arrival).
    ``morning``: the parts are loaded at the depot before leaving (the technicians allowed are
    based there), not on the way.
    """

    depot: int | None
    from_depot: tuple[PartQuantity, ...]
    from_van: tuple[PartQuantity, ...]
    vehicles: tuple[int, ...]
    earliest_s: int
    latest_s: int
    ready_s: int = 0
    morning: bool = False


@dataclass(frozen=True, slots=True)
class Way:
    """How a plan serves a visit through a call on the way: at depot ``depot`` (its index in
    the problem), taking ``parts`` there, the call over at ``over_s`` (solver seconds)."""

    depot: int
    parts: tuple[PartQuantity, ...]
    over_s: int


@dataclass(frozen=True, slots=True)
class Supply:
    """The spare-parts side of a day: each visit's options, those left out, and the scarce
    parts (one solver commodity each, in this order)."""

    options: Mapping[int, tuple[Option, ...]]
    left_out: Mapping[int, Unassigned]
    scarce: tuple[str, ...]


def van_stock(problem: Problem) -> list[dict[str, int]]:
    """Each technician's van stock, by part number."""
    return [{item.part: item.quantity for item in tech.van_stock} for tech in problem.technicians]


def _units(depot: Depot, origin: datetime) -> dict[str, list[list[int]]]:
    """Each part's units at ``depot`` today as ``[usable_from_s, quantity]`` lots, earliest
    first: the stock from opening, then each arrival from its time (arrivals after closing
    are not today's)."""
    open_s, close_s = (
        seconds_after(depot.opening.start, origin),
        seconds_after(depot.opening.end, origin),
    )
    lots: dict[str, list[list[int]]] = {}
    for item in depot.stock:
        if item.quantity > 0:
            lots.setdefault(item.part, []).append([open_s, item.quantity])
    for arrival in depot.arrivals:
        at_s = max(open_s, seconds_after(arrival.at, origin))
        if at_s <= close_s:
            lots.setdefault(arrival.part, []).append([at_s, arrival.quantity])
    for found in lots.values():
        found.sort()
    return lots


def _take(
    lots: list[list[int]], quantity: int, by_s: int, dry_run: bool, latest: bool = False
) -> int | None:
    """Take ``quantity`` units usable by ``by_s`` from ``lots`` (earliest first, or the latest
    usable first); the moment the last one taken is usable, or ``None`` when there are not
    enough."""
    usable = sum(q for at_s, q in lots if at_s <= by_s)
    if usable < quantity:
        return None
    ready = 0
    left = quantity
    for lot in reversed(lots) if latest else lots:
        if left == 0:
            break
        if lot[0] > by_s or lot[1] == 0:
            continue
        used = min(left, lot[1])
        ready = max(ready, lot[0])
        left -= used
        if not dry_run:
            lot[1] -= used
    return ready


def plan_supply(
    problem: Problem,
    allowed: Mapping[int, Sequence[int]],
    bounds: Sequence[TimeBounds],
    travel_s: NDArray[np.int64],
    visit_row: NDArray[np.int64],
    depot_row: NDArray[np.int64],
    start_row: NDArray[np.int64] | None = None,
    last: int | None = None,
    ways: Mapping[int, Way] | None = None,
    weights: Mapping[int, int] | None = None,
) -> Supply:
    """The options of every visit needing parts among those screened in (``allowed``: visit
    index -> its eligible technicians), with depot units reserved (see the module docstring).

    Parameters
    ----------
    bounds
        Each visit's node bounds in seconds after the plan's midnight.
    travel_s, visit_row, depot_row, start_row
        Travel between deduplicated sites, and the rows of visits, depots and technicians'
        starts (without starts, nobody loads in the morning).
    last
        A visit served after every other (a booking's new visit: the plan's visits keep the
        units they are served with). Ranked by its own window, a slot's window, it could take
        the van units of a visit the plan serves later, which the route still uses, and keep
        nothing: slots offered (asked with no window) were refused when booked. When its
        option takes some parts from a van, it also has one taking all of them at a depot.
        Its vans hold what the others leave (a booking day pins each to its route).
    ways
        Visits a plan already serves through a call (a booking's day: visit index -> its
        ``Way``): their units are reserved there first, the van giving the rest. Ranked afresh,
        a visit the plan serves with a depot's units could be given the van's instead, and
        those units sold to a second visit. Each takes the latest units in by its call, which
        leaves the earliest to the others (a morning pick list, the newcomer): taking the
        earliest, a call at 14:00 took the one unit there before that hour's arrivals, the
        visit the plan loaded it for at 12:43 had none, its route could not be read, and a slot
        was offered on a unit the plan takes (refused when booked).
    weights
        What leaving each visit out costs, by visit index (its priority's weight and a re-plan's
        promise, ``dispatch.planning.compile``): units go to the weightier first. Ranked by
        priority alone, a re-plan gave a promised visit's units to a new one of its priority
        needing more, and the promised one was left out (even when the new one then fitted
        nowhere). Default: by priority.
    """
    origin = problem.midnight
    vans = van_stock(problem)
    lots = [_units(depot, origin) for depot in problem.depots]
    handling = [duration_to_s(depot.handling) for depot in problem.depots]
    closes = [seconds_after(depot.opening.end, origin) for depot in problem.depots]
    needing = [i for i in allowed if problem.visits[i].parts]
    # Vans' stock as the greedy pass below imagines it used, to judge who lacks a part.
    imagined = [dict(van) for van in vans]
    order = sorted(
        needing,
        key=lambda i: (
            i == last,
            -(weights[i] if weights is not None else problem.visits[i].priority),
            bounds[i].latest_s,
            _leg_from_stock(problem.visits[i], lots, travel_s, depot_row, int(visit_row[i])),
            i,
        ),
    )
    via: dict[int, Option] = {}

    def call_window(i: int, d: int, leg: int, ready: int) -> tuple[int, int]:
        """The service starts of visit ``i`` that a call at depot ``d`` (``leg`` away, its
        units in at ``ready``) allows: made after the units are in, over by closing time."""
        earliest = max(bounds[i].earliest_s, ready + handling[d] + leg)
        return earliest, min(bounds[i].latest_s, closes[d] + leg)

    def reserve(
        i: int,
        wanted: tuple[PartQuantity, ...],
        from_van: tuple[PartQuantity, ...] | None = None,
        way: Way | None = None,
    ) -> Option | None:
        """Reserve ``wanted`` for visit ``i`` at the nearest depot holding all of it in time
        (or at the depot of ``way``, the latest units in by its call); the van gives the rest
        (``from_van``: the parts not ``wanted``, when not given)."""
        row = int(visit_row[i])
        visit = problem.visits[i]
        if from_van is None:
            taken = {item.part for item in wanted}
            from_van = tuple(item for item in visit.parts if item.part not in taken)
        holders = _holding(allowed[i], left_for_last if i == last else vans, from_van)
        if not holders:
            return None  # nobody could use the units: they stay for the others
        latest_in = way is not None

        def by(d: int, leg: int) -> int:
            """The moment a call at depot ``d`` (``leg`` away) begins at the latest, or a
            holder based there leaves with a morning pick list, whichever is later: a first
            stop fixed at 08:10, 10 minutes from the depot, had no call in time (by 07:50)
            for the units in at 08:00, though the van loaded them leaving at 08:00."""
            if way is not None:
                return way.over_s - handling[d]
            call_s = min(closes[d], bounds[i].latest_s - leg) - handling[d]
            return max(call_s, _loading_by(problem, d, holders, start_row, depot_row))

        best: tuple[int, int] | None = None
        for d in range(len(problem.depots)) if way is None else (way.depot,):
            leg = int(travel_s[int(depot_row[d]), row])
            readies = [
                _take(lots[d].get(item.part, []), item.quantity, by(d, leg), True, latest_in)
                for item in wanted
            ]
            if any(r is None for r in readies) or (best is not None and leg >= best[1]):
                continue
            # The units must be usable: by a call on the way that fits the visit's window, or
            # by a morning load. A depot that closes before the visit can start, to nobody
            # based there, keeps its units for the others.
            ready = max(r or 0 for r in readies)
            earliest, latest = call_window(i, d, leg, ready)
            if earliest <= latest or _loading_at(problem, d, ready, holders, start_row, depot_row):
                best = (d, leg)
        if best is None:
            return None
        d, leg = best
        ready = max(
            _take(lots[d][item.part], item.quantity, by(d, leg), False, latest_in) or 0
            for item in wanted
        )
        earliest, latest = call_window(i, d, leg, ready)
        return Option(
            depot=d,
            from_depot=wanted,
            from_van=from_van,
            vehicles=holders,
            earliest_s=earliest,
            latest_s=latest,
            ready_s=ready,
        )

    for i, way in sorted((ways or {}).items(), key=lambda item: item[1].over_s):
        if i in allowed and problem.visits[i].parts:
            option = reserve(i, way.parts, _rest(problem.visits[i].parts, way.parts), way)
            if option is not None:
                via[i] = option
                for item in option.from_van:
                    v = max(option.vehicles, key=lambda v: imagined[v].get(item.part, 0))
                    imagined[v][item.part] = imagined[v].get(item.part, 0) - item.quantity
    before_last = lots  # as they were before the newcomer's reservation (read below)
    # What the vans can spare the newcomer once the others are served (``_spare_for_last``).
    # Read whole, a van whose every unit of a part its own stops use was said to hold one for
    # it, and the booking answered "span_full" (no place on the route held) where the part is
    # missing ("no_part").
    left_for_last = vans
    for i in order:
        if i in via:
            continue  # served as the plan serves it
        if i == last:
            before_last = deepcopy(lots)
            left_for_last = _spare_for_last(vans, imagined, lots)
        visit = problem.visits[i]
        lacking: list[PartQuantity] = []
        for item in visit.parts:
            holders = [v for v in allowed[i] if imagined[v].get(item.part, 0) >= item.quantity]
            if holders:
                v = max(holders, key=lambda v: imagined[v][item.part])
                imagined[v][item.part] -= item.quantity
            else:
                lacking.append(item)
        if lacking:
            option = reserve(i, tuple(lacking))
            for wanted, from_van in _van_and_depot(visit, lacking, allowed[i], vans):
                if option is not None:
                    break
                option = reserve(i, wanted, from_van)
            if option is not None:
                via[i] = option
    # A newcomer whose van gives some parts may be served by a van without them too: the
    # depot gives all, from the units its other option was reserved from (one of the two is
    # served; a unit either holds is no one else's). Ranked by a slot's window it found a van
    # that could spare a part, which the chosen technician's could not, and the slot offered
    # (all from the depot, asked with no window) was refused when booked.
    whole: Option | None = None
    if last is not None and last in via and via[last].from_van and problem.depots:
        after_last, lots[:] = lots[:], before_last
        whole = reserve(last, tuple(problem.visits[last].parts))
        for mine, theirs in zip(after_last, lots, strict=True):
            for part, held in mine.items():
                for lot, twin in zip(held, theirs[part], strict=True):
                    lot[1] = min(lot[1], twin[1])
        lots[:] = after_last
    # Units left back up the visits vans could serve: the search may choose.
    for i in order:
        if i not in via and problem.depots:
            option = reserve(i, tuple(problem.visits[i].parts))
            if option is not None:
                via[i] = option

    # Units reserved to a visit's call are not there for the reasons of the others.
    reserved: dict[tuple[int, str], int] = {}
    for d, depot in enumerate(problem.depots):
        for part, had in _units(depot, origin).items():
            out = sum(q for _, q in had) - sum(q for _, q in lots[d].get(part, []))
            if out > 0:
                reserved[(d, part)] = out
    options: dict[int, tuple[Option, ...]] = {}
    left_out: dict[int, Unassigned] = {}
    for i in needing:
        visit = problem.visits[i]
        found: list[Option] = []
        stock = left_for_last if i == last else vans
        direct = _holding(allowed[i], stock, visit.parts)
        if direct:
            found.append(
                Option(None, (), visit.parts, direct, bounds[i].earliest_s, bounds[i].latest_s)
            )
        if i in via and start_row is not None:
            morning = _morning(problem, via[i], allowed[i], vans, start_row, depot_row, bounds[i])
            if morning is not None:
                found.append(morning)
        if i in via and via[i].vehicles and via[i].earliest_s <= via[i].latest_s:
            found.append(via[i])
        if i == last and whole is not None and whole.earliest_s <= whole.latest_s:
            found.append(whole)
        if found:
            options[i] = tuple(found)
        else:
            left_out[i] = _left_out(problem, visit, allowed[i], stock, reserved)
    return Supply(options, left_out, _scarce(options, vans))


def _rest(parts: Sequence[PartQuantity], taken: Sequence[PartQuantity]) -> tuple[PartQuantity, ...]:
    """What is left of ``parts`` once ``taken`` is: what the van gives when a call takes
    ``taken``."""
    took = {item.part: item.quantity for item in taken}
    return tuple(
        PartQuantity(item.part, item.quantity - took.get(item.part, 0))
        for item in parts
        if item.quantity > took.get(item.part, 0)
    )


def _van_and_depot(
    visit: Visit,
    lacking: Sequence[PartQuantity],
    candidates: Sequence[int],
    vans: Sequence[Mapping[str, int]],
) -> list[tuple[tuple[PartQuantity, ...], tuple[PartQuantity, ...]]]:
    """The ways to make up ``lacking`` parts from a van's units and a depot's together, as
    ``(from the depot, from the van)``, the fewest depot units first: for a visit needing 2 of
    a part, a van holding 1 of it and a depot 1 more. One way per candidate whose van holds
    some of a lacking part (the parts not lacking come from the van whole)."""
    short = {item.part for item in lacking}
    whole = tuple(item for item in visit.parts if item.part not in short)
    ways: dict[tuple[PartQuantity, ...], tuple[PartQuantity, ...]] = {}
    for v in candidates:
        in_van = [min(vans[v].get(item.part, 0), item.quantity) for item in lacking]
        if not any(in_van):
            continue
        counts = list(zip(lacking, in_van, strict=True))
        from_van = whole + tuple(PartQuantity(item.part, held) for item, held in counts if held)
        wanted = tuple(
            PartQuantity(item.part, item.quantity - held)
            for item, held in counts
            if item.quantity > held
        )
        if wanted:  # else the van holds all: the direct option
            ways.setdefault(wanted, from_van)
    return sorted(ways.items(), key=lambda way: sum(item.quantity for item in way[0]))


def _leg_from_stock(
    visit: Visit,
    lots: Sequence[Mapping[str, list[list[int]]]],
    travel_s: NDArray[np.int64],
    depot_row: NDArray[np.int64],
    row: int,
) -> int:
    """Seconds from the nearest depot holding some of each of ``visit``'s parts today to the
    visit (``2**62`` when none does): of two visits alike in weight and deadline, the one a
    call costs less travel gets the depot's units first, as the contract's "least travel
    wins" would have it, not the one listed first."""
    legs = [
        int(travel_s[int(depot_row[d]), row])
        for d, held in enumerate(lots)
        if all(item.part in held for item in visit.parts)
    ]
    return min(legs, default=2**62)


def _morning(
    problem: Problem,
    via: Option,
    candidates: Sequence[int],
    vans: Sequence[Mapping[str, int]],
    start_row: NDArray[np.int64],
    depot_row: NDArray[np.int64],
    bounds: TimeBounds,
) -> Option | None:
    """The morning-load twin of a via-depot option: for the candidates based at its depot who
    leave while it is open and its units are in; ``None`` when nobody is. A technician
    re-planned after setting out (from a stop or a call, even one at their base) is not
    loading a morning pick list: a call there takes its handling time."""
    assert via.depot is not None
    based = _loading_at(
        problem,
        via.depot,
        via.ready_s,
        _holding(candidates, vans, via.from_van),
        start_row,
        depot_row,
    )
    if not based:
        return None
    return Option(
        via.depot,
        via.from_depot,
        via.from_van,
        based,
        bounds.earliest_s,
        bounds.latest_s,
        via.ready_s,
        morning=True,
    )


def _loading_at(
    problem: Problem,
    d: int,
    ready_s: int,
    holders: Sequence[int],
    start_row: NDArray[np.int64] | None,
    depot_row: NDArray[np.int64],
) -> tuple[int, ...]:
    """The ``holders`` who may load a morning pick list at depot ``d`` (its units in at
    ``ready_s``): based there, not yet set out, leaving while it is open and the units are in."""
    if start_row is None:
        return ()
    store = problem.depots[d]
    origin = problem.midnight
    opens, closes = (
        seconds_after(store.opening.start, origin),
        seconds_after(store.opening.end, origin),
    )
    return tuple(
        v
        for v in holders
        if int(start_row[v]) == int(depot_row[d])
        and not problem.technicians[v].set_out
        and max(opens, ready_s)
        <= seconds_after(problem.technicians[v].shift.start, origin)
        <= closes
    )


def _loading_by(
    problem: Problem,
    d: int,
    holders: Sequence[int],
    start_row: NDArray[np.int64] | None,
    depot_row: NDArray[np.int64],
) -> int:
    """The latest moment (seconds after midnight) one of ``holders`` may load a morning pick
    list at depot ``d`` (``_loading_at``): when they leave; ``-1`` when none may."""
    if start_row is None:
        return -1
    origin = problem.midnight
    leaving = [seconds_after(problem.technicians[v].shift.start, origin) for v in holders]
    return max(
        (
            s
            for v, s in zip(holders, leaving, strict=True)
            if _loading_at(problem, d, s, (v,), start_row, depot_row)
        ),
        default=-1,
    )


def _spare_for_last(
    vans: Sequence[Mapping[str, int]],
    used: Sequence[Mapping[str, int]],
    lots: Sequence[Mapping[str, list[list[int]]]],
) -> list[dict[str, int]]:
    """What each van can spare a booking's new visit: what the other visits leave in it
    (``used``: the vans as they are imagined used; a booking day pins each visit to its route),
    plus, up to the van's own stock, the units the depots still hold unreserved (``lots``),
    which a visit served from the van could take instead."""
    free: dict[str, int] = {}
    for depot in lots:
        for part, held in depot.items():
            free[part] = free.get(part, 0) + sum(quantity for _, quantity in held)
    return [
        {part: min(had, left.get(part, 0) + free.get(part, 0)) for part, had in van.items()}
        for van, left in zip(vans, used, strict=True)
    ]


def _holding(
    candidates: Sequence[int], vans: Sequence[Mapping[str, int]], parts: Sequence[PartQuantity]
) -> tuple[int, ...]:
    """The candidates whose vans hold each of ``parts`` (at the start of the day)."""
    return tuple(v for v in candidates if all(vans[v].get(p.part, 0) >= p.quantity for p in parts))


def _scarce(
    options: Mapping[int, tuple[Option, ...]], vans: Sequence[Mapping[str, int]]
) -> tuple[str, ...]:
    """Parts some van holds less of than the visits it may serve could take from it."""
    need: dict[tuple[int, str], int] = {}
    for found in options.values():
        most: dict[tuple[int, str], int] = {}
        for option in found:
            for v in option.vehicles:
                for item in option.from_van:
                    key = (v, item.part)
                    most[key] = max(most.get(key, 0), item.quantity)
        for key, quantity in most.items():
            need[key] = need.get(key, 0) + quantity
    scarce = {part for (v, part), total in need.items() if vans[v].get(part, 0) < total}
    return tuple(sorted(scarce))


def _left_out(
    problem: Problem,
    visit: Visit,
    candidates: Sequence[int],
    vans: Sequence[Mapping[str, int]],
    reserved: Mapping[tuple[int, str], int],
) -> Unassigned:
    """``no_part`` for a visit no option serves: the first part none of its candidates' vans
    holds and no depot can give in time (units ``reserved`` to other visits' calls, by depot
    index and part, are not there for it), one no depot will ever give first (a visit needing
    a part a depot on the way held and one nowhere to be had was said to lack the first)."""
    lacking = [
        item
        for item in visit.parts
        if not any(vans[v].get(item.part, 0) >= item.quantity for v in candidates)
    ]
    nowhere = [
        item
        for item in lacking
        if nearest_supply(problem, item.part, problem.midnight, reserved, item.quantity) is None
    ]
    missing = (nowhere or lacking or list(visit.parts))[0]
    return no_part_reason(
        problem, visit, missing, tuple(problem.technicians[v].id for v in candidates), reserved
    )


def nearest_supply(
    problem: Problem,
    part: str,
    after: datetime,
    taken: Mapping[tuple[int, str], int] | None = None,
    quantity: int = 1,
) -> tuple[datetime, str] | None:
    """The nearest moment after ``after`` that ``quantity`` of ``part`` can be had at one
    depot, and the depot; ``None`` when no depot will ever hold that many.

    A depot's units come in lots: its stock, there from its opening on the plan's day (or
    ``after``, if later), and each arrival, from its time (or the depot's opening that day, if
    later). ``taken`` (by depot index and part) are units already spoken for: a plan's calls,
    or the units reserved to other visits before the solve. They go first, so the part can be
    had once the lots in add up to them plus ``quantity``: an arrival due then, or the
    opening on the plan's day when the depot holds enough that day (the visit could not
    reach it in time).
    """
    found: list[tuple[datetime, str]] = []
    for d, depot in enumerate(problem.depots):
        opens = max(after, depot.opening.start)
        lots = [(opens, item.quantity) for item in depot.stock if item.part == part]
        lots += [
            (max(opens, arrival.at, _opening_on(depot, arrival.at)), arrival.quantity)
            for arrival in depot.arrivals
            if arrival.part == part
        ]
        wanted = (taken or {}).get((d, part), 0) + quantity
        total = 0
        for moment, units in sorted(lots):
            total += units
            if total >= wanted:
                found.append((moment, depot.id))
                break
    return min(found) if found else None


def _opening_on(depot: Depot, moment: datetime) -> datetime:
    """The depot's opening time on the date of ``moment``."""
    opens = depot.opening.start
    return datetime.combine(moment.date(), time(opens.hour, opens.minute), tzinfo=opens.tzinfo)


def no_part_reason(
    problem: Problem,
    visit: Visit,
    missing: PartQuantity,
    candidates: tuple[str, ...],
    taken: Mapping[tuple[int, str], int] | None = None,
) -> Unassigned:
    """The ``no_part`` entry of ``visit`` for ``missing``, with the nearest moment it can be
    had (after the plan's day starts), ``taken`` not counted (``nearest_supply``)."""
    nearest = nearest_supply(problem, missing.part, problem.midnight, taken, missing.quantity)
    wanted = f"part '{missing.part}' ({missing.quantity} needed)"
    if nearest is None:
        count = "one" if missing.quantity == 1 else str(missing.quantity)
        when = f"no depot holds {count} to spare and none is due"
        moment = None
    else:
        moment, depot_id = nearest
        when = f"it can be had from {moment:%Y-%m-%d %H:%M} at depot '{depot_id}'"
    # A van's units spoken for by other visits: said so (the reason said the part was in no
    # van, and a dispatcher looked for a stock error where two jobs wanted one part).
    vans = [
        f"{tech.id}'s {held.quantity}"
        for tech in problem.technicians
        if tech.id in candidates
        for held in tech.van_stock
        if held.part == missing.part and held.quantity > 0
    ]
    where = (
        f"{wanted}: the units in eligible technicians' vans ({', '.join(vans)}) go to other "
        "visits, and no depot they can call at in time has one to spare"
        if vans
        else f"{wanted} is in no eligible technician's van and at no depot they can call at in time"
    )
    reason = f"{where}; {when}"
    return Unassigned(
        visit.id,
        UnassignedCode.NO_PART,
        reason,
        tuple(TechnicianId(c) for c in candidates),
        part=missing.part,
        part_available=moment,
    )
