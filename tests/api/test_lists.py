"""``GET /v1/problems`` and ``GET /v1/plans``: what the desk stored, newest first, so a
dispatcher can pick a day or a plan instead of typing its id."""

from __future__ import annotations

import re
from collections.abc import Iterator

from fastapi.dependencies.models import Dependant

from api.routes import operations
from tests.api.conftest import Service
from tests.conftest import line_day


def test_the_desk_picks_its_days_and_plans_from_lists(service: Service) -> None:
    client, auth = service.client, service.auth
    first = service.post_problem(line_day(date="2026-11-23"))
    plan_id = service.solved_plan(line_day(date="2026-11-24"))
    second = client.get(f"/v1/plans/{plan_id}", headers=auth).json()["date"]
    events = {"at": "09:00", "events": [{"type": "delay", "technician_id": "T1", "minutes": 20}]}
    replanned = client.post(f"/v1/plans/{plan_id}/events", json=events, headers=auth)
    assert replanned.status_code == 201, replanned.text

    days = client.get("/v1/problems", headers=auth).json()
    # Both days the desk sent, newest first; the day of the re-planned version is not one.
    assert [(d["date"], d["technicians"], d["visits"]) for d in days] == [
        ("2026-11-24", 1, 3),
        ("2026-11-23", 1, 3),
    ]
    assert days[1]["problem_id"] == first
    plans = client.get("/v1/plans", headers=auth).json()
    assert [(p["plan_id"], p["version"], p["date"]) for p in plans] == [(plan_id, 2, second)]
    assert plans[0]["problem_id"] == days[0]["problem_id"]  # the day it was planned for
    assert len(client.get("/v1/problems?limit=1", headers=auth).json()) == 1


def test_the_lists_are_the_desks_only(service: Service) -> None:
    assert service.client.get("/v1/problems").status_code == 401
    assert service.client.get("/v1/plans").status_code == 401
    refused = service.client.get("/v1/plans?limit=0", headers=service.auth)
    assert refused.status_code == 422 and refused.json()["errors"][0]["path"] == "query.limit"


def test_a_misspelt_parameter_is_named_not_ignored(service: Service) -> None:
    answer = service.client.get("/v1/problems?limt=5", headers=service.auth)
    assert answer.status_code == 422
    assert answer.json()["errors"] == [
        {"path": "query.limt", "message": "unknown query parameter 'limt'", "id": None}
    ]


def test_a_parameter_given_twice_is_refused_not_read_as_its_last_value(service: Service) -> None:
    answer = service.client.get("/v1/problems?limit=5&limit=9", headers=service.auth)
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"] == [
        {"path": "query.limit", "message": "given more than once", "id": None}
    ]


def test_every_endpoint_names_a_parameter_it_does_not_take(service: Service) -> None:
    # `GET /v1/plans/{id}?version=1` answered the latest version, `?versoin=` too: silently.
    plan_id = service.solved_plan()
    for path in (f"/v1/plans/{plan_id}?version=1", f"/v1/plans/{plan_id}/routes/T1?versoin=1"):
        answer = service.client.get(path, headers=service.auth)
        assert answer.status_code == 422, (path, answer.text)
        assert answer.json()["errors"][0]["path"] in ("query.version", "query.versoin")
    # What an endpoint takes still passes, and a driver link's token everywhere.
    assert service.client.get(f"/v1/plans/{plan_id}/map?version=1", headers=service.auth).is_success
    link = service.client.post(f"/v1/plans/{plan_id}/routes/T1/link", headers=service.auth)
    assert link.status_code in (200, 201), link.text
    assert service.client.get(link.json()["url"].split("testserver")[-1]).is_success


def _query_params(dependant: Dependant) -> Iterator[str]:
    """The names of the whole-number query parameters an endpoint and its dependencies take."""
    for param in dependant.query_params:
        if "int" in str(param.field_info.annotation):
            yield param.alias
    for dependency in dependant.dependencies:
        yield from _query_params(dependency)


def test_a_query_number_is_digits_only_on_every_endpoint(service: Service) -> None:
    # `?limit=5_0` listed 50 (pydantic's lax integers), `?version=%205` read version 5.
    plan_id = service.solved_plan()
    asked = 0
    for path, route in operations():
        url = re.sub(r"\{[a-z_]+\}", lambda m: plan_id if m[0] == "{plan_id}" else "T1", path)
        for name in _query_params(route.dependant):
            for written in ("5_0", "%205", "5.0", "%2B5"):
                answer = service.client.get(f"{url}?{name}={written}", headers=service.auth)
                assert answer.status_code == 422, (url, name, written, answer.text)
                error = answer.json()["errors"][0]
                assert error["path"] == f"query.{name}", (url, error)
                assert error["message"].startswith("must be a whole number written in the digits")
                asked += 1
            assert service.client.get(f"{url}?{name}=1", headers=service.auth).is_success
    assert asked == 5 * 4  # limit on three lists, a map's version, the changes' since
