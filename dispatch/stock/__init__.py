"""Spare parts: where a visit's parts come from, and what the routes carry and take.

``dispatch.stock.supply`` decides, before the solve, each visit's options (from the van, or
via a call at a depot whose units are reserved to it) and which parts the solver must count;
``dispatch.stock.ledger`` walks a plan's routes and says what every van holds at each stop,
what each depot hands out, and whether a visit can be added to a route (the one door booking
uses); ``dispatch.stock.loss`` says which lot a unit reported gone (used, faulty, missing)
comes out of. Nothing here solves; ``dispatch.planning.compile`` turns the supply into numbers.
"""

from dispatch.stock.ledger import (
    Ledger,
    StockShortfall,
    depot_left,
    depots_less,
    ledger_of,
    stock_shortfalls,
)
from dispatch.stock.loss import Losses, strike
from dispatch.stock.supply import (
    Option,
    Supply,
    nearest_supply,
    no_part_reason,
    plan_supply,
    van_stock,
)

__all__ = [
    "Ledger",
    "Losses",
    "Option",
    "StockShortfall",
    "Supply",
    "depot_left",
    "depots_less",
    "ledger_of",
    "nearest_supply",
    "no_part_reason",
    "plan_supply",
    "stock_shortfalls",
    "strike",
    "van_stock",
]
