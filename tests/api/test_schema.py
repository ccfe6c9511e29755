"""Schemathesis against the service's OpenAPI schema: whatever a client sends within (or just
outside) the schema, the service answers as documented and never with a 500."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, reject, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api.app import create_app
from tests.api.conftest import Service, make_key, start_service

# Bounded: the suite must stay fast; run with more examples by hand when the API changes.
EXAMPLES = 12


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, dict[str, str], str]]:
    """One app for the whole module, with a solved plan for the generated calls to find."""
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('schema')) / 'schema.db'}"
    key = make_key(url)
    with start_service(url) as client:
        plan_id = Service(client, url, key).solved_plan()
        app: Any = client.app
        session = asgi.get_client(app)
        yield session, {"Authorization": f"Bearer {key}"}, plan_id


@pytest.fixture(scope="module")
def api_schema(live: tuple[Any, dict[str, str], str]) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", live[0].app)


SEMANTIC = {
    "/v1/problems",
    "/v1/plans/{plan_id}/events",
    "/v1/plans/{plan_id}/routes/{technician_id}/events",
    # A new visit must fit the day it is offered on (its id new there, the slot on its date).
    "/v1/slots",
    "/v1/plans/{plan_id}/book",
}
OPERATIONS = [
    (method.upper(), path)
    for path, methods in create_app().openapi()["paths"].items()
    for method in methods
]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_the_service_keeps_its_schema(
    live: tuple[Any, dict[str, str], str],
    api_schema: Any,
    method: str,
    path: str,
    mode: GenerationMode,
) -> None:
    session, auth, plan_id = live
    operation = api_schema[path][method]

    # A day or a batch of events can match the schema and still break a rule that ties
    # fields together (a window ending before it starts, an unknown visit): 422 is right.
    excluded = [positive_data_acceptance] if path in SEMANTIC else []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
    def check(case: Any) -> None:
        if mode == GenerationMode.NEGATIVE and _unsent_query(case):
            reject()
        if "plan_id" in (case.path_parameters or {}) and mode == GenerationMode.POSITIVE:
            case.path_parameters["plan_id"] = plan_id
        case.call_and_validate(session=session, headers=auth, excluded_checks=excluded)

    try:
        check()
    except Unsatisfiable:
        # Only free-text parameters: nothing lies outside the schema to send.
        assert mode == GenerationMode.NEGATIVE


def _unsent_query(case: Any) -> bool:
    """A query parameter whose value is an empty list is not sent at all (``{'': []}`` gives
    no ``?=``): schemathesis would count the unchanged request as accepted bad input."""
    return any(value == [] for value in (case.query or {}).values())


def test_the_schema_documents_every_endpoint() -> None:
    app = create_app()
    paths = app.openapi()["paths"]
    assert set(paths) >= {
        "/healthz",
        "/v1/problems",
        "/v1/plans",
        "/v1/jobs/{job_id}",
        "/v1/plans/{plan_id}",
        "/v1/plans/{plan_id}/versions/{version}",
        "/v1/plans/{plan_id}/events",
        "/v1/plans/{plan_id}/changes",
        "/v1/plans/{plan_id}/routes/{technician_id}",
    }
    body = paths["/v1/problems"]["post"]["requestBody"]["content"]
    assert {"application/json", "multipart/form-data"} <= set(body)
