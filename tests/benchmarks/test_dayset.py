"""The generated field days: deterministic, valid, realistic in mix, and plannable."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from benchmarks.dayset import (
    MIN_TECHNICIANS,
    SERVICE_RADIUS_KM,
    generate_day,
    haversine_km,
    main,
)
from dispatch.contract.serialize import plan_document
from dispatch.contract.validate import parse_problem
from dispatch.planning import SolveParams, plan_day
from dispatch.travel import pair_lookup, provider_for
from dispatch.verify import check_plan

EXAMPLE = Path(__file__).parents[2] / "examples" / "changan-day.json"
CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def point(location: dict[str, float]) -> tuple[float, float]:
    return (location["lat"], location["lon"])


def test_same_seed_same_day_other_seed_other_day() -> None:
    assert generate_day(60, 7) == generate_day(60, 7)
    assert generate_day(60, 7) != generate_day(60, 8)


def test_the_shipped_example_is_the_generator_output_at_250_visits_seed_2026() -> None:
    assert json.loads(EXAMPLE.read_text(encoding="utf-8")) == generate_day(250, 2026)


def test_cli_writes_the_day(tmp_path: Path) -> None:
    out = tmp_path / "day.json"
    assert main(["--visits", "30", "--seed", "3", "-o", str(out)]) == 0
    assert json.loads(out.read_text(encoding="utf-8")) == generate_day(30, 3)


def test_too_small_a_day_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 10"):
        generate_day(9, 1)


@pytest.mark.parametrize(("visits", "technicians", "crews"), [(60, 6, 1), (250, 20, 3)])
def test_a_set_roster_staffs_the_day_and_the_desk_books_it(
    visits: int, technicians: int, crews: int
) -> None:
    day = generate_day(visits, 2026, technicians=technicians)
    parse_problem(day)
    roster = {t["id"] for t in day["technicians"]}
    named = {v[k] for v in day["visits"] for k in ("technician", "preferred_technician") if k in v}
    assert named and named <= roster  # pins and preferences for its own people
    sizes = [t.get("crew_size", 1) for t in day["technicians"]]
    assert len(sizes) == technicians and sizes.count(2) == crews
    assert len(day["visits"]) == visits
    assert generate_day(visits, 2026, technicians=technicians) == day
    assert len(generate_day(visits, 2026)["technicians"]) > technicians


def test_too_small_a_roster_is_refused() -> None:
    with pytest.raises(ValueError, match=f"at least {MIN_TECHNICIANS}"):
        generate_day(60, 1, technicians=MIN_TECHNICIANS - 1)


@pytest.mark.parametrize("visits", [60, 250, 800])
def test_day_is_valid_and_has_the_documented_mix(visits: int) -> None:
    day = generate_day(visits, 2026)
    problem = parse_problem(day)  # raises on any contract violation
    assert len(problem.visits) == visits
    ids = [v["id"] for v in day["visits"]] + [t["id"] for t in day["technicians"]]
    assert len(ids) == len(set(ids))

    technicians = [t for t in day["technicians"] if t.get("crew_size", 1) == 1]
    crews = [t for t in day["technicians"] if t.get("crew_size", 1) == 2]
    assert len(crews) >= 1 and all(c.get("capacity") for c in crews)
    assert 8 <= visits / len(technicians) <= 11

    rows: list[dict[str, Any]] = day["visits"]
    for row in rows:
        for clock in [row.get("appointment"), *(row.get("window") or {}).values()]:
            assert clock is None or CLOCK.match(clock), (row["id"], clock)
    share = {
        "appointment": sum("appointment" in r for r in rows) / visits,
        "window": sum("window" in r for r in rows) / visits,
        "urgent": sum(r.get("priority") == "urgent" for r in rows) / visits,
    }
    assert 0.2 <= share["appointment"] <= 0.4
    assert 0.3 <= share["window"] <= 0.5
    assert 0.03 <= share["urgent"] <= 0.08
    assert all("reported_at" in r for r in rows if r.get("priority") == "urgent")
    assert any(r.get("demand") for r in rows)  # big items for the vans

    bases = [point(t["start"]) for t in day["technicians"]]
    far = [r for r in rows if min(haversine_km(point(r["location"]), b) for b in bases) > 100]
    assert 0.02 <= len(far) / visits <= 0.06
    assert day["policy"]["service_radius_km"] == SERVICE_RADIUS_KM


def test_a_generated_day_plans_cleanly() -> None:
    day = generate_day(60, 11)
    problem = parse_problem(day)
    plan = plan_day(problem, params=SolveParams(time_limit_s=3))
    document = plan_document(
        problem, plan, plan_id="pl_test", version=1, created_at=datetime.now(UTC)
    ).model_dump(mode="json")
    report = check_plan(day, document, pair_lookup(provider_for(problem)))
    assert not report.violations, report.violations
    kpis = document["kpis"]
    assert kpis["assigned"] >= 0.8 * len(day["visits"])  # one or two holders per trade
    urgent = kpis["assigned_by_priority"]["urgent"]
    assert urgent["assigned"] == urgent["visits"] > 0
    assert kpis["appointments_in_band"] >= 0.95 * kpis["appointment_stops"]
    codes = {u["code"] for u in document["unassigned"]}
    assert "radius" in codes
