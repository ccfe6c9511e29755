"""``GET /console``: the desk console's page, served to anyone and holding nothing; everything
it shows comes from ``/v1`` with the dispatcher's key."""

from __future__ import annotations

import re

from api.routes.docs import SWAGGER_UI
from tests.api.conftest import Service, start_service


def test_the_console_is_the_same_page_for_anyone(service: Service) -> None:
    plan_id = service.solved_plan()
    anonymous = service.client.get("/console")
    with_key = service.client.get("/console", headers=service.auth)
    assert anonymous.status_code == with_key.status_code == 200
    assert anonymous.headers["content-type"].startswith("text/html")
    assert anonymous.text == with_key.text, "the shell is the same bytes, key or not"
    for secret in (plan_id, service.key, "Li Wei", "C1"):
        assert secret not in anonymous.text
    assert 'id="key-form"' in anonymous.text
    assert '<main id="console" hidden>' in anonymous.text


def test_the_console_is_sent_with_its_policy(service: Service) -> None:
    answer = service.client.get("/console")
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "no-referrer"
    policy = answer.headers["content-security-policy"]
    assert "connect-src 'self'" in policy and "frame-ancestors 'none'" in policy


def test_the_policy_lets_the_maps_tiles_in(database_url: str) -> None:
    tiles = "https://tiles.example.com/{z}/{x}/{y}.png"
    with start_service(database_url, map_tiles=tiles, map_attribution="© Example") as client:
        policy = client.get("/console").headers["content-security-policy"]
    assert "img-src 'self' data: blob: https://tiles.example.com;" in policy


def test_the_data_it_shows_still_needs_the_key(service: Service) -> None:
    plan_id = service.solved_plan()
    assert service.client.get(f"/v1/plans/{plan_id}").status_code == 401
    assert service.client.get(f"/v1/plans/{plan_id}/map").status_code == 401
    assert service.client.get(f"/v1/plans/{plan_id}", headers=service.auth).status_code == 200


def test_the_console_is_no_operation_of_the_api(service: Service) -> None:
    paths = service.client.get("/openapi.json").json()["paths"]
    assert "/console" not in paths and "/v1/plans/{plan_id}" in paths


def test_the_docs_load_a_pinned_swagger_ui_checked_by_its_hash(service: Service) -> None:
    # FastAPI's page loaded swagger-ui-dist@5 (whatever 5.x was newest) with no integrity
    # check into the page where a dispatcher types their key.
    answer = service.client.get("/docs")
    assert answer.status_code == 200
    page = answer.text
    for name in ("swagger-ui-bundle.js", "swagger-ui.css"):
        url = f"{SWAGGER_UI}/{name}"
        assert re.search(rf'"{re.escape(url)}" integrity="sha384-[A-Za-z0-9+/]{{64}}"', page)
    assert "@5/" not in page and "tiangolo" not in page
    policy = answer.headers["content-security-policy"]
    assert f"script-src {SWAGGER_UI}/ 'unsafe-inline'" in policy
    assert "frame-ancestors 'none'" in policy
    assert service.client.get("/redoc").status_code == 404
