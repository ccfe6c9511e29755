"""The documents' examples are real: the problem examples in the README and docs/contract.md
are valid input, and a plan of them passes the independent checker."""

from __future__ import annotations

import configparser
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from dispatch.contract.record import plan_record
from dispatch.contract.schema import EventBatchIn
from dispatch.contract.serialize import plan_document
from dispatch.contract.validate import parse_problem
from dispatch.desk.replan import replan_stored
from dispatch.persistence import Store
from dispatch.planning import SolveParams, plan_day
from dispatch.travel import pair_lookup, provider_for
from dispatch.verify import check_plan

ROOT = Path(__file__).parents[1]
JSON_BLOCK = re.compile(r"```json\n(.*?)```", re.DOTALL)


def first_json_block(document: str) -> str:
    match = JSON_BLOCK.search((ROOT / document).read_text(encoding="utf-8"))
    assert match, f"{document} has no JSON example"
    return match.group(1)


@pytest.mark.parametrize("document", ["README.md", "docs/contract.md"])
def test_problem_example_is_valid_and_plannable(document: str) -> None:
    raw = json.loads(first_json_block(document))
    problem = parse_problem(raw)
    plan = plan_day(problem, params=SolveParams(time_limit_s=1))
    doc = plan_document(
        problem, plan, plan_id="pl_doc", version=1, created_at=datetime.now(UTC)
    ).model_dump(mode="json")
    assert not check_plan(raw, doc, pair_lookup(provider_for(problem))).violations
    served = [stop["visit_id"] for route in doc["routes"] for stop in route["stops"]]
    assert served == ["V1"]
    # V2 is a two-person delivery and the example's only technician works alone.
    assert [(u["visit_id"], u["code"]) for u in doc["unassigned"]] == [("V2", "crew_size")]


def test_events_example_matches_the_schema() -> None:
    text = (ROOT / "docs/contract.md").read_text(encoding="utf-8")
    section = text[text.index("## Events") :]
    batch = EventBatchIn.model_validate(json.loads(first_json_block_of(section)))
    assert [event.type for event in batch.events] == [
        "delay", "completed", "started", "cancelled", "arrived", "departed", "moved",
        "unavailable", "not_completed", "retracted", "new_visit",
    ]  # fmt: skip


def first_json_block_of(text: str) -> str:
    match = JSON_BLOCK.search(text)
    assert match
    return match.group(1)


def test_every_picture_the_readme_shows_is_in_the_repository() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    pictures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", readme)
    assert len(pictures) >= 2, "the README shows the desk's map and a driver's page"
    for picture in pictures:
        assert (ROOT / picture).is_file(), picture


def test_the_contracts_horizon_example_is_valid_and_plans_a_week() -> None:
    from dispatch.contract.horizon import parse_horizon
    from dispatch.desk.week import solve_week

    text = (ROOT / "docs/contract.md").read_text(encoding="utf-8")
    horizon_block = next(
        block for block in JSON_BLOCK.findall(text) if block.lstrip().startswith('{\n  "horizon"')
    )
    raw = json.loads(horizon_block)
    horizon = parse_horizon(raw)
    assert [o.visit_id for o in horizon.rounds] == ["R1@2026-12-08"]
    week = solve_week(
        raw, horizon, params=SolveParams(time_limit_s=1), save=lambda _week, _days: None
    )
    assert week.violations == 0
    assert week.document["kpis"]["assigned"] == 4


@pytest.mark.parametrize("unit", ["fieldroute-service.service", "fieldroute-worker@.service"])
def test_a_systemd_unit_started_before_its_database_is_started_again_without_limit(
    unit: str,
) -> None:
    # A piece started before the database answers exits 1 (docs/deploy.md): systemd's
    # defaults (again after 0.1 s, at most 5 starts in 10 s) would give up on it for good.
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.read(ROOT / "deploy" / "systemd" / unit, encoding="utf-8")
    assert parser["Unit"]["StartLimitIntervalSec"] == "0"
    assert parser["Service"]["Restart"] in ("always", "on-failure")
    assert int(parser["Service"]["RestartSec"]) >= 1


def test_a_solve_worker_is_stopped_through_its_main_process_alone() -> None:
    # SIGTERM to the unit's every process (systemd's default KillMode) cut a prefork pool's
    # solves short; the worker's own warm shutdown lets them end and store their plans.
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.read(ROOT / "deploy" / "systemd" / "fieldroute-worker@.service", encoding="utf-8")
    assert parser["Service"]["KillMode"] == "mixed"
    assert parser["Service"]["KillSignal"] == "SIGTERM"


def test_the_readme_s_events_file_re_plans_the_sample_day(tmp_path: Path) -> None:
    # The README's re-plan example ran a file no one could find.
    raw = json.loads((ROOT / "examples" / "changan-day.json").read_text(encoding="utf-8"))
    problem = parse_problem(raw)
    plan = plan_day(problem, params=SolveParams(time_limit_s=1, seeders=()))
    document = plan_document(
        problem, plan, plan_id="pl_demo", version=1, created_at=datetime.now(UTC)
    )
    store = Store(f"sqlite:///{tmp_path / 'demo.db'}")
    store.save_problem_and_plan(
        raw, document.model_dump(mode="json"), problem_id="pb_demo", record=plan_record(plan)
    )
    events = json.loads((ROOT / "examples" / "changan-events.json").read_text(encoding="utf-8"))
    second = replan_stored(store, "pl_demo", events, time_limit_s=1).model_dump(mode="json")
    served = {stop["visit_id"] for route in second["routes"] for stop in route["stops"]}
    assert "V9001" in served | {item["visit_id"] for item in second["unassigned"]}
    assert any(change["visit_id"] == "V9001" for change in second["changes"])
    store.close()


def _contract_section(title: str) -> str:
    text = (ROOT / "docs/contract.md").read_text(encoding="utf-8")
    start = text.index(f"## {title}")
    end = text.find("\n## ", start + 1)
    return text[start:end]


def _documented_columns(section: str, sheet: str) -> tuple[set[str], set[str]]:
    """The columns the contract's table for ``sheet`` lists, and those it marks required."""
    table = section.split(f"<!-- sheet-columns {sheet} -->\n", 1)[1].split("\n\n", 1)[0]
    columns: set[str] = set()
    required: set[str] = set()
    for line in table.splitlines()[2:]:  # under the header and its rule
        cell = line.split("|")[1]
        for name, star in re.findall(r"`([a-z0-9_]+)`( \*)?", cell):
            columns.add(name)
            if star:
                required.add(name)
    return columns, required


@pytest.mark.parametrize("sheet", ["technicians", "visits"])
def test_the_contract_lists_every_column_a_sheet_may_have(sheet: str) -> None:
    # A day could be uploaded as sheets, but no document said which columns they hold.
    from dispatch.contract import sheets

    known = {"technicians": sheets.TECHNICIAN_COLUMNS, "visits": sheets.VISIT_COLUMNS}[sheet]
    columns, required = _documented_columns(_contract_section("Sheets"), sheet)
    assert columns == set(known)
    assert required == set(sheets._REQUIRED[sheet])


def test_the_contracts_sheet_examples_upload_as_a_valid_day() -> None:
    from api.uploads import UPLOAD_FORM
    from dispatch.contract.sheets import problem_from_sheets, read_table

    section = _contract_section("Sheets")
    technicians, visits = re.findall(r"```csv\n(.*?)```", section, re.DOTALL)
    fields = set(re.findall(r"-F ([a-z]+)=", section))
    assert fields == {"date", "timezone", "technicians", "visits"}
    assert fields <= set(UPLOAD_FORM["properties"])
    day = problem_from_sheets(
        read_table("technicians.csv", technicians.encode(), sheet="technicians"),
        read_table("visits.csv", visits.encode(), sheet="visits"),
        date="2026-11-23",
        timezone="Asia/Shanghai",
    )
    assert [t.id for t in day.problem.technicians] == ["T1"]
    assert [(v.id, v.kind) for v in day.problem.visits] == [("V1", "repair"), ("V2", "delivery")]
    assert day.raw["technicians"][0]["skills"] == ["water_heater", "electrical"]


def test_the_readme_lists_every_endpoint_of_the_service() -> None:
    # Reading a plan's versions, a stored problem or the list of weeks was in no document.
    from api.app import create_app

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("<!-- endpoints -->\n", 1)[1].split("\n\n", 1)[0]
    listed = set(re.findall(r"`((?:GET|POST|PUT|PATCH|DELETE) /[^` ?]*)", table))
    served = {
        f"{method.upper()} {path}"
        for path, operations in create_app().openapi()["paths"].items()
        for method in operations
    }
    assert listed == served


def test_the_stall_figures_the_documents_give_are_the_solvers() -> None:
    # /docs said the search stalls after at least 0.25 s where the solver waits 0.05 s.
    from dispatch.contract.schema import PolicyIn
    from solver.params import MIN_STALL_S, SEEDER_STALL_S_PER_NODE, STALL_S_PER_NODE

    described = PolicyIn.model_fields["stall_share"].description or ""
    contract = (ROOT / "docs/contract.md").read_text(encoding="utf-8")
    row = next(line for line in contract.splitlines() if line.startswith("| `time_limit_s` |"))
    for text in (described, row):
        assert f"{STALL_S_PER_NODE * 1000:g} ms per visit" in text
        assert f"{SEEDER_STALL_S_PER_NODE * 1000:g} ms per visit" in text
        assert set(re.findall(r"at least ([\d.]+) s", text)) == {f"{MIN_STALL_S:g}"}


def planned_document(raw: dict[str, Any]) -> dict[str, Any]:
    """The plan document of the day ``raw``, planned by OR-Tools alone in a second."""
    problem = parse_problem(raw)
    plan = plan_day(problem, params=SolveParams(time_limit_s=1, seeders=()))
    return plan_document(
        problem, plan, plan_id="pl_doc", version=1, created_at=datetime.now(UTC)
    ).model_dump(mode="json")


def test_the_contract_gives_the_least_search_a_budget_gets() -> None:
    # A budget under a second searched a second, where the contract called it a cap alone.
    from dispatch.planning.day import MIN_SEARCH_S

    contract = (ROOT / "docs/contract.md").read_text(encoding="utf-8")
    row = next(line for line in contract.splitlines() if line.startswith("| `time_limit_s` |"))
    assert f"never less than {MIN_SEARCH_S:g} s of search" in row


def test_a_matrix_of_durations_alone_plans_as_the_contract_says() -> None:
    # The contract did not say a matrix may come without locations or distances, nor what
    # the plan's km and the radius are then.
    durations: dict[str, Any] = {"durations_min": [[0, 10], [10, 0]]}
    raw: dict[str, Any] = {
        "date": "2026-11-23",
        "policy": {"service_radius_km": 1},
        "travel": durations,
        "technicians": [
            {"id": "T1", "location_index": 0, "shift": {"start": "08:00", "end": "18:00"}}
        ],
        "visits": [{"id": "V1", "location_index": 1, "duration_min": 30}],
    }
    doc = planned_document(raw)
    [route] = doc["routes"]
    assert [stop["visit_id"] for stop in route["stops"]] == ["V1"]  # the radius held no one
    assert route["travel_min"] == 20
    assert route["distance_km"] == 0 and doc["kpis"]["distance_km"] == 0
    far = raw | {
        "travel": raw["travel"] | {"locations": [{"lat": 0, "lon": 0}, {"lat": 0, "lon": 1}]}
    }
    problem = parse_problem(far)
    plan = plan_day(problem, params=SolveParams(time_limit_s=1, seeders=()))
    assert [(u.visit_id, u.code) for u in plan.unassigned] == [("V1", "radius")]


def _keys(value: Any, path: str = "") -> set[str]:
    """Every key path of a JSON document, a list read by its first item."""
    if isinstance(value, dict):
        return {f"{path}.{key}" for key in value} | {
            found for key, item in value.items() for found in _keys(item, f"{path}.{key}")
        }
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return _keys(value[0], f"{path}[]")
    return set()


def test_the_contracts_week_document_has_the_keys_a_week_has() -> None:
    # A week's rounds carried earliest and latest, which the contract's example did not show.
    from dispatch.contract.horizon import parse_horizon
    from dispatch.desk.week import solve_week

    text = (ROOT / "docs/contract.md").read_text(encoding="utf-8")
    horizon_block, week_block = (
        next(block for block in JSON_BLOCK.findall(text) if block.lstrip().startswith(start))
        for start in ('{\n  "horizon"', '{\n  "week_id"')
    )
    raw = json.loads(horizon_block)
    later = {"id": "Z1", "location": {"lat": 22.55, "lon": 113.94}, "duration_min": 30}
    raw["visits"].append(later | {"earliest": "2026-12-21T08:00"})  # unassigned: beyond it
    week = solve_week(
        raw,
        parse_horizon(raw),
        params=SolveParams(time_limit_s=1),
        save=lambda _week, _days: None,
    )
    documented = json.loads(week_block)
    assert _keys(week.document) == _keys(documented)


@pytest.mark.parametrize(
    ("skills", "status"),
    [(None, "feasible"), ([], "feasible"), (["gas"], "empty"), (["gas", "none"], "partial")],
)
def test_a_plans_status_is_as_the_contract_defines_it(
    skills: list[str] | None, status: str
) -> None:
    # "feasible when every visit is on a route, empty when no route serves anything" left a
    # day of no visits both; the contract now says it is feasible.
    raw = json.loads(first_json_block("docs/contract.md"))
    [first, _] = raw["visits"]
    raw["visits"] = [] if skills is None else [first]
    if skills:
        raw["visits"] = [
            first | {"id": f"V{k}", "required_skills": [s]} for k, s in enumerate(skills)
        ]
        raw["technicians"][0]["skills"] = ["none"]
    assert planned_document(raw)["status"] == status


def test_the_contracts_promise_example_is_what_a_customer_is_told() -> None:
    # The contract said "30 minutes around the planned arrival" and customers were told a
    # window centred on the arrival rounded to five minutes.
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from dispatch.model import LatLon, Policy, Site, Visit, VisitId
    from dispatch.planning.promise import promise_for

    text = (ROOT / "docs/contract.md").read_text(encoding="utf-8")
    found = re.search(r"an arrival at (\d\d):(\d\d) is promised (\d\d:\d\d)-(\d\d:\d\d)", text)
    assert found, "the contract's promise example is gone"
    zone = ZoneInfo("Asia/Shanghai")
    arrival = datetime(2026, 11, 23, int(found[1]), int(found[2]), tzinfo=zone)
    site = Site(location=LatLon(22.54, 113.95))
    visit = Visit(id=VisitId("V1"), site=site, duration=timedelta(minutes=30))
    told = promise_for(visit, arrival, Policy())
    assert (told.start.strftime("%H:%M"), told.end.strftime("%H:%M")) == (found[3], found[4])


def test_the_contracts_plan_example_has_the_keys_a_plan_has() -> None:
    # The example left out a plan's at and changes and a stop's status and actual times, and
    # called a plan with a visit left out feasible.
    text = (ROOT / "docs/contract.md").read_text(encoding="utf-8")
    block = next(b for b in JSON_BLOCK.findall(text) if b.lstrip().startswith('{\n  "plan_id"'))
    documented = json.loads(block)
    made = planned_document(json.loads(first_json_block("docs/contract.md")))
    by_priority = ".kpis.assigned_by_priority."  # the example shows one priority of four
    assert {k for k in _keys(made) if not k.startswith(by_priority)} == {
        k for k in _keys(documented) if not k.startswith(by_priority)
    }
    assert documented["status"] == made["status"] == "partial"  # both leave a visit out
    [route] = documented["routes"]
    kpis = documented["kpis"]
    assert kpis["assigned"] == sum(len(r["stops"]) for r in documented["routes"])
    assert kpis["visits"] == kpis["assigned"] + len(documented["unassigned"])
    for figure in ("distance_km", "travel_min", "service_min", "utilisation"):
        assert kpis[figure] == route[figure]


def test_the_contracts_event_history_example_has_the_keys_the_service_sends() -> None:
    # GET /v1/plans/{id}/events was named, but its answer's shape was in no document.
    from api.models import EventBatchOut, EventHistoryOut

    text = (ROOT / "docs/contract.md").read_text(encoding="utf-8")
    block = next(b for b in JSON_BLOCK.findall(text) if '"batches"' in b)
    history = json.loads(block)
    assert set(history) == set(EventHistoryOut.model_fields)
    [batch] = history["batches"]
    assert set(batch) == set(EventBatchOut.model_fields)
    EventBatchIn.model_validate({"at": batch["at"], "events": batch["events"]})


def test_the_readme_names_every_code_of_a_visit_left_out() -> None:
    # The README's promise listed seven codes; the sample parts day's plan shows no_part, and
    # re-plans and weeks have codes of their own.
    from dispatch.model import UnassignedCode

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("- every visit is either in exactly one route or in `unassigned`")
    bullet = readme[start : readme.index("\n- ", start + 1)]
    assert set(re.findall(r"`([a-z_]+)`", bullet)) - {"unassigned"} == {
        code.value for code in UnassignedCode
    }


def test_the_architecture_places_every_package_and_who_imports_the_solver() -> None:
    # dispatch/booking and dispatch/stock were in no row of the table, and "only
    # dispatch.planning imports solver" while the layering contract lets booking import it too.
    import tomllib

    text = (ROOT / "docs/architecture.md").read_text(encoding="utf-8")
    rows = set(re.findall(r"^\| `(dispatch/[a-z_]+/)` \|", text, re.MULTILINE))
    packages = {
        f"dispatch/{found.parent.name}/" for found in (ROOT / "dispatch").glob("*/__init__.py")
    }
    assert packages <= rows
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    [solver_rule] = [
        rule
        for rule in config["tool"]["importlinter"]["contracts"]
        if rule.get("forbidden_modules") == ["solver"]
    ]
    forbidden = set(solver_rule["source_modules"])
    allowed = {f"dispatch.{p.split('/')[1]}" for p in packages} - forbidden
    bullet = next(line for line in text.split("\n- ") if line.startswith("Only "))
    assert set(re.findall(r"`(dispatch\.[a-z_]+)`", bullet)) == allowed


def test_a_plans_utilisation_counts_every_technician_on_duty() -> None:
    # The contract defined a route's utilisation but not the day's, which counts the shift of
    # a technician given no visit (and no route) too.
    raw = json.loads(first_json_block("docs/contract.md"))
    idle = {"id": "T2", "start": {"lat": 22.54, "lon": 113.95}}
    raw["technicians"].append(idle | {"shift": {"start": "08:00", "end": "12:00"}})
    doc = planned_document(raw)
    [route] = doc["routes"]
    kpis = doc["kpis"]
    assert route["technician_id"] == "T1" and kpis["technicians_used"] == 1
    busy = kpis["travel_min"] + kpis["service_min"]
    assert kpis["utilisation"] == round(busy / (600 + 240), 4) < route["utilisation"]
    text = " ".join((ROOT / "docs/contract.md").read_text(encoding="utf-8").split())
    assert "over the shift time of every technician on duty, with a route or not" in text
