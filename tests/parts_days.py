"""A small day with spare parts on real coordinates, for the driver's view, the maps and the
road lines: every kind of parts outcome a technician and a desk see.

- T1 (base at the south end) holds two HX-220 in the van: V1, early and near the base, uses
  one; V2, later and north, uses the other and two VLV-3, which only depot D1 holds, so T1
  calls at D1 between V1 and V2.
- T2 is based at D1 and loads TH-9 there before leaving (the morning pick list) for V3.
- V4 needs nothing.

Only T1 has ``water_heater`` and only T2 ``appliance``, so who serves what is fixed.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from dispatch.contract.schema import PlanOut, ProblemIn
from dispatch.contract.serialize import plan_document
from dispatch.contract.validate import parse_problem
from dispatch.planning import SolveParams, plan_day

__all__ = ["DEPOT", "HOSTILE_DEPOT_NAME", "HOSTILE_PART", "parts_day", "solved_parts_day"]

#: Where depot D1 is (T2's base too).
DEPOT = {"lat": 22.83, "lon": 113.83}
#: Text a store may type that runs script if a page splices it in unescaped.
HOSTILE_DEPOT_NAME = "Nanshan <script>window.__pwned=7</script> store"
HOSTILE_PART = "VLV</script><script>window.__pwned=6</script>"


def parts_day(*, depot_name: str = "Nanshan store", valve: str = "VLV-3") -> dict[str, Any]:
    """The day in the contract's JSON; ``depot_name`` and ``valve`` (the part number only D1
    holds) may carry typed text."""
    shift = {"start": "08:00", "end": "18:00"}

    def visit(visit_id: str, lat: float, lon: float, skill: str, **extra: Any) -> dict[str, Any]:
        return {
            "id": visit_id,
            "customer": f"Customer {visit_id}",
            "address": f"{visit_id} Shennan Rd",
            "phone": "+86 755 5550 0100",
            "location": {"lat": lat, "lon": lon},
            "duration_min": 30,
            "required_skills": [skill],
            **extra,
        }

    return copy.deepcopy(
        {
            "date": "2026-11-23",
            "timezone": "Asia/Shanghai",
            "policy": {"time_limit_s": 2},
            "technicians": [
                {
                    "id": "T1",
                    "name": "Li Wei",
                    "skills": ["water_heater"],
                    "start": {"lat": 22.80, "lon": 113.80},
                    "shift": shift,
                    "van_stock": [{"part": "HX-220", "quantity": 2}],
                },
                {
                    "id": "T2",
                    "name": "Chen Jun",
                    "skills": ["appliance"],
                    "start": DEPOT,
                    "shift": shift,
                },
            ],
            "visits": [
                visit(
                    "V1",
                    22.81,
                    113.80,
                    "water_heater",
                    window={"start": "08:00", "end": "09:00"},
                    parts=[{"part": "HX-220", "quantity": 1}],
                ),
                visit(
                    "V2",
                    22.86,
                    113.80,
                    "water_heater",
                    window={"start": "10:00", "end": "12:00"},
                    parts=[{"part": valve, "quantity": 2}, {"part": "HX-220", "quantity": 1}],
                ),
                visit("V3", 22.85, 113.86, "appliance", parts=[{"part": "TH-9", "quantity": 1}]),
                visit("V4", 22.84, 113.87, "appliance"),
            ],
            "depots": [
                {
                    "id": "D1",
                    "name": depot_name,
                    "location": {**DEPOT, "address": "8 Keji Rd"},
                    "opening": {"start": "07:30", "end": "17:30"},
                    "handling_min": 10,
                    "stock": [{"part": valve, "quantity": 4}, {"part": "TH-9", "quantity": 2}],
                }
            ],
        }
    )


def solved_parts_day(raw: dict[str, Any]) -> tuple[PlanOut, ProblemIn]:
    """``raw`` planned into a stored-plan document, and its day as the contract's model."""
    problem = parse_problem(raw)
    plan = plan_day(problem, params=SolveParams(time_limit_s=2))
    created = datetime(2026, 11, 23, tzinfo=UTC)
    document = plan_document(problem, plan, plan_id="pl_parts", version=1, created_at=created)
    return document, ProblemIn.model_validate(raw)
