"""The service on roads: a day that asks for road travel is planned on the service's OSRM, and
refused up front by a service that has none."""

from __future__ import annotations

import subprocess
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import polyline
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api import cli
from api.app import create_app
from dispatch.config import Settings
from dispatch.contract.serialize import plan_document
from dispatch.contract.validate import parse_problem
from dispatch.persistence import Store
from dispatch.planning import SolveParams, plan_day
from dispatch.travel import NO_ROADS, GeodesicProvider
from dispatch.travel.osrm_tools import OsrmTools
from dispatch.travel.routed import road_server
from tests.api.conftest import Service, make_key, start_service
from tests.dispatch.test_roads_day import road_day

ANDORRA_MORNING = datetime(2026, 11, 23, 8, 10, tzinfo=ZoneInfo("Europe/Andorra"))


def test_a_service_without_roads_refuses_a_day_on_roads_naming_the_field(
    service: Service,
) -> None:
    answer = service.client.post("/v1/problems", json=road_day(), headers=service.auth)
    assert answer.status_code == 422, answer.text
    [error] = answer.json()["errors"]
    assert error["path"] == "policy.travel.provider" and error["message"] == NO_ROADS


def test_a_service_without_roads_refuses_re_planning_a_day_on_roads_naming_the_field(
    tmp_path: Path,
) -> None:
    # Planned where roads were given, the day was re-planned (and booked into) by a service
    # without them: a 502, as if a road server had failed, where POST /v1/problems says 422.
    raw = road_day()
    problem = parse_problem(raw)
    planned = plan_day(problem, provider=GeodesicProvider(), params=SolveParams(time_limit_s=1))
    document = plan_document(
        problem, planned, plan_id="pl_roads", version=1, created_at=ANDORRA_MORNING
    ).model_dump(mode="json")
    database_url = f"sqlite:///{tmp_path / 'no-roads.db'}"
    store = Store(database_url)
    try:
        store.save_problem_and_plan(raw, document, problem_id="pb_roads")
    finally:
        store.close()
    app = create_app(Settings(database_url=database_url), clock=lambda: ANDORRA_MORNING)
    service = Service(TestClient(app), database_url, make_key(database_url))
    busiest = max(document["routes"], key=lambda route: len(route["stops"]))
    late = {"type": "delay", "technician_id": busiest["technician_id"], "minutes": 30}
    with service.client:
        answer = service.client.post(
            "/v1/plans/pl_roads/events",
            json={"at": "08:05", "events": [late]},
            headers=service.auth,
        )
        assert answer.status_code == 422, answer.text
        [error] = answer.json()["errors"]
        assert error["path"] == "policy.travel.provider" and error["message"] == NO_ROADS
        latest = service.client.get("/v1/plans/pl_roads", headers=service.auth).json()
        assert latest["version"] == 1  # nothing stored


def test_a_service_given_an_extract_serves_its_roads_to_solves_and_re_plans(
    tmp_path: Path, andorra_extract: Path, tools: OsrmTools, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", f"{tools.bin_dir}:/usr/bin:/bin")  # the tools, not a download
    database_url = f"sqlite:///{tmp_path / 'roads.db'}"
    settings = Settings(
        database_url=database_url, roads=str(andorra_extract), cache_dir=tmp_path / "cache"
    )
    service = Service(
        # The morning of the Andorran day, as its re-plan at 08:05 is sent.
        TestClient(create_app(settings, clock=lambda: ANDORRA_MORNING)),
        database_url,
        make_key(database_url),
    )
    with service.client:
        serving = subprocess.run(["pgrep", "-f", str(tmp_path / "cache")], capture_output=True)
        assert serving.returncode == 0  # its own osrm-routed, on the dataset it prepared
        plan_id = service.solved_plan(road_day())
        plan = service.client.get(f"/v1/plans/{plan_id}", headers=service.auth).json()
        for route in plan["routes"]:
            assert len(polyline.decode(route["geometry"], 5)) > len(route["stops"]) + 2
        busiest = max(plan["routes"], key=lambda route: len(route["stops"]))
        late = {"type": "delay", "technician_id": busiest["technician_id"], "minutes": 30}
        events = {"at": "08:05", "events": [late]}
        second = service.client.post(
            f"/v1/plans/{plan_id}/events", json=events, headers=service.auth
        )
        assert second.status_code == 201, second.text
        assert all(route["geometry"] for route in second.json()["routes"])
    # The road server it started on the prepared dataset stopped with it.
    running = subprocess.run(["pgrep", "-f", str(tmp_path / "cache")], capture_output=True)
    assert running.returncode == 1, running.stdout


def test_a_straight_line_plan_carries_no_geometry(database_url: str) -> None:
    key = make_key(database_url)
    with start_service(database_url) as client:
        service = Service(client, database_url, key)
        plan = client.get(f"/v1/plans/{service.solved_plan()}", headers=service.auth).json()
        assert all("geometry" not in route for route in plan["routes"])


def test_fieldroute_serve_hands_its_processes_the_dataset_of_the_extract_it_serves(
    tmp_path: Path, andorra_extract: Path, tools: OsrmTools, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `serve --roads X.osm.pbf` handed its server processes the loopback URL alone: their
    # matrices were kept in memory, keyed by a port that changes at each start, and never on
    # disk beside the dataset, as a solve on the extract keeps them.
    monkeypatch.setenv("PATH", f"{tools.bin_dir}:/usr/bin:/bin")
    monkeypatch.setenv("FIELDROUTE_DATABASE_URL", f"sqlite:///{tmp_path / 'serve.db'}")
    monkeypatch.setenv("FIELDROUTE_CACHE_DIR", str(tmp_path / "cache"))
    given: list[Settings] = []
    monkeypatch.setattr(cli, "_run_service", lambda settings, host, port: given.append(settings))
    done = CliRunner().invoke(cli.app, ["serve", "--roads", str(andorra_extract)])
    assert done.exit_code == 0, done.output
    [settings] = given
    assert settings.roads is not None and settings.roads.startswith("http://127.0.0.1:")
    dataset = settings.roads_dataset_dir
    assert dataset is not None and dataset.parent == tmp_path / "cache" / "roads"
    # What each server process makes of those settings: the parent's dataset, on disk.
    with road_server(settings.roads, dataset_dir=dataset) as roads:
        assert roads is not None
        assert (roads.dataset_id, roads.matrix_dir) == (dataset.name, dataset / "matrices")
