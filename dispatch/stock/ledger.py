"""What a plan's routes carry and take: van stock at every stop, depot stock handed out.

``ledger_of`` walks each route in order: the van starts with its stock, a depot call adds
what it takes, a visit uses its parts. ``stock_shortfalls`` lists every place the plan breaks
the stock rules (a van below zero at a stop, a depot handing out more than it holds by the
time of a call); an empty list means the stock allows the plan.

Booking and re-planning ask the same question through here (DESIGN.md: one implementation
answers it): **can this visit go into this route at this position as far as parts go?** is
``Ledger.van_margin(technician, position)``, the least the van holds from that position to the
end of the route (the visit may use at most that much of each part), and ``depot_left`` what a
depot can still give. A booked visit reserves its parts by being in the plan; a cancelled one
releases them by leaving it. ``stock_shortfalls`` of the plan with the visit inserted is the
whole check.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from dispatch.model import (
    Depot,
    DepotId,
    DepotStop,
    PartArrival,
    PartQuantity,
    Plan,
    Problem,
    TechnicianId,
    VisitId,
)

__all__ = [
    "Ledger",
    "StockShortfall",
    "depot_left",
    "depots_less",
    "ledger_of",
    "stock_shortfalls",
]


def depots_less(depots: Sequence[Depot], calls: Iterable[DepotStop]) -> tuple[Depot, ...]:
    """Each of ``depots`` less what ``calls`` took (calls made: their units left with the
    van): from its stock first, then from the arrivals in the order they came."""
    out: dict[tuple[str, str], int] = {}
    for call in calls:
        for item in call.taken:
            key = (call.depot_id, item.part)
            out[key] = out.get(key, 0) + item.quantity
    left = []
    for depot in depots:
        stock = []
        for item in depot.stock:
            used = min(item.quantity, out.get((depot.id, item.part), 0))
            out[(depot.id, item.part)] = out.get((depot.id, item.part), 0) - used
            stock.append(PartQuantity(item.part, item.quantity - used))
        arrivals = []
        for arrival in sorted(depot.arrivals, key=lambda a: a.at):
            used = min(arrival.quantity, out.get((depot.id, arrival.part), 0))
            out[(depot.id, arrival.part)] = out.get((depot.id, arrival.part), 0) - used
            if arrival.quantity > used:
                arrivals.append(PartArrival(arrival.part, arrival.quantity - used, arrival.at))
        left.append(replace(depot, stock=tuple(stock), arrivals=tuple(arrivals)))
    return tuple(left)


@dataclass(frozen=True, slots=True)
class StockShortfall:
    """A stock rule a plan breaks: ``subject`` (a visit or a depot id) short of ``part``."""

    subject: str
    part: str
    short: int
    message: str


@dataclass(frozen=True, slots=True)
class Ledger:
    """Stock along each route of a plan.

    ``on_board[tech][k]`` is the van's stock when it reaches its ``k``-th stop (before using
    that visit's parts; ``k`` = number of stops: back at the end, everything used);
    ``taken[(depot, part)]`` the calls' takings in time order as ``(moment, quantity)``.
    """

    on_board: Mapping[TechnicianId, tuple[dict[str, int], ...]]
    taken: Mapping[tuple[DepotId, str], tuple[tuple[datetime, int], ...]]
    shortfalls: tuple[StockShortfall, ...]

    def van_margin(self, technician: TechnicianId, position: int) -> dict[str, int]:
        """The least of each part the van holds from its ``position``-th stop to the end:
        what a visit inserted there may use without leaving a later stop short."""
        board = self.on_board.get(technician, ({},))
        later = board[min(position, len(board) - 1) :]
        parts = {part for stock in later for part in stock}
        return {part: min(stock.get(part, 0) for stock in later) for part in parts}


def _depot_stock(problem: Problem, depot_index: int, part: str, at: datetime) -> int:
    depot = problem.depots[depot_index]
    held = sum(item.quantity for item in depot.stock if item.part == part)
    return held + sum(a.quantity for a in depot.arrivals if a.part == part and a.at <= at)


def ledger_of(problem: Problem, plan: Plan, *, not_used: Collection[VisitId] = ()) -> Ledger:
    """Walk ``plan``'s routes (see the module docstring); visits in ``not_used`` (attempts not
    completed) use no parts."""
    techs = {tech.id: tech for tech in problem.technicians}
    visits = {visit.id: visit for visit in problem.visits}
    depot_index = {depot.id: d for d, depot in enumerate(problem.depots)}
    on_board: dict[TechnicianId, tuple[dict[str, int], ...]] = {}
    taken: dict[tuple[DepotId, str], list[tuple[datetime, int]]] = {}
    shortfalls: list[StockShortfall] = []
    for route in plan.routes:
        tech = techs.get(route.technician_id)
        stock = {item.part: item.quantity for item in tech.van_stock} if tech else {}
        calls = sorted(route.depot_stops, key=lambda call: (call.before, call.arrival))
        boards: list[dict[str, int]] = []
        c = 0
        for k, stop in enumerate((*route.stops, None)):
            while c < len(calls) and calls[c].before <= k:
                call = calls[c]
                for item in call.taken:
                    stock[item.part] = stock.get(item.part, 0) + item.quantity
                    taken.setdefault((call.depot_id, item.part), []).append(
                        (call.arrival, item.quantity)
                    )
                c += 1
            boards.append(dict(stock))
            if stop is None:
                break
            visit = visits.get(stop.visit_id)
            if visit is None or stop.visit_id in not_used:
                continue
            for item in visit.parts:
                left = stock.get(item.part, 0) - item.quantity
                if left < 0:
                    shortfalls.append(
                        StockShortfall(
                            stop.visit_id,
                            item.part,
                            -left,
                            f"{route.technician_id} reaches visit '{stop.visit_id}' with "
                            f"{stock.get(item.part, 0)} of part '{item.part}', "
                            f"{item.quantity} needed",
                        )
                    )
                stock[item.part] = left
        on_board[route.technician_id] = tuple(boards)
    for (depot_id, part), takings in taken.items():
        takings.sort()
        d = depot_index.get(depot_id)
        total = 0
        for moment, quantity in takings:
            total += quantity
            held = 0 if d is None else _depot_stock(problem, d, part, moment)
            if total > held:
                shortfalls.append(
                    StockShortfall(
                        depot_id,
                        part,
                        total - held,
                        f"depot '{depot_id}' hands out {total} of part '{part}' by "
                        f"{moment:%H:%M}, but holds {held}",
                    )
                )
                break
    return Ledger(
        on_board,
        {key: tuple(value) for key, value in taken.items()},
        tuple(shortfalls),
    )


def stock_shortfalls(
    problem: Problem, plan: Plan, *, not_used: Collection[VisitId] = ()
) -> tuple[StockShortfall, ...]:
    """Every place ``plan`` breaks the stock rules of ``problem``; empty when none.

    Parameters
    ----------
    problem
        The day, with its vans' and depots' stock.
    plan
        The routes to check (a booking's trial plan with the visit inserted, say).
    not_used
        Visits whose stops use no parts (attempts that were not completed).
    """
    return ledger_of(problem, plan, not_used=not_used).shortfalls


def depot_left(problem: Problem, plan: Plan, at: datetime) -> dict[tuple[DepotId, str], int]:
    """What each depot still holds of each part at ``at`` after ``plan``'s calls (all of
    them, also those after ``at``: those units are promised)."""
    ledger = ledger_of(problem, plan)
    left: dict[tuple[DepotId, str], int] = {}
    for d, depot in enumerate(problem.depots):
        parts = {item.part for item in depot.stock} | {a.part for a in depot.arrivals}
        for part in parts:
            out = sum(q for _, q in ledger.taken.get((depot.id, part), ()))
            left[(depot.id, part)] = _depot_stock(problem, d, part, at) - out
    return left
