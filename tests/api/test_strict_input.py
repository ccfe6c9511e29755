"""Hostile input at the doors (HTTP and CLI): broken Unicode, nesting deep enough to exhaust the
parser, numbers given as booleans or strings, a problem without ``visits``. Each is a 422 (exit
code 2) naming the field and its id, never a 500, and nothing is stored."""

from __future__ import annotations

import json
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import update
from typer.testing import CliRunner

from api.cli import app
from dispatch.contract.schema import EventBatchIn
from dispatch.contract.validate import MAX_JSON_DEPTH, load_json, pydantic_errors
from dispatch.errors import InputError
from dispatch.persistence import Store
from dispatch.persistence.tables import ProblemRow
from tests.api.conftest import Service
from tests.api.test_service import problems_stored
from tests.conftest import line_day

#: A lone surrogate: JSON can spell it ("\ud800"), no UTF-8 encoder can write it.
SURROGATE = "\ud800"
BROKEN_TEXT = r"contains an unpaired surrogate (\ud800); send valid Unicode text"
TOO_DEEP = f"nests deeper than {MAX_JSON_DEPTH} levels of arrays and objects"
DEEP = "[" * 100_000 + "]" * 100_000
JSON = {"Content-Type": "application/json"}


def post(service: Service, url: str, body: Any) -> Any:
    """POST ``body`` as a client would send it: JSON text, non-ASCII written as escapes."""
    text = body if isinstance(body, str) else json.dumps(body)
    return service.client.post(url, content=text, headers=service.auth | JSON)


def quick_plan(service: Service) -> str:
    """A solved plan of ``line_day()``: its three visits need no second of search."""
    problem_id = service.post_problem()
    body = {"problem_id": problem_id, "time_limit_s": 0.05}
    answer = service.client.post("/v1/plans", json=body, headers=service.auth)
    assert answer.status_code == 202, answer.text
    job = service.wait(answer.json()["id"])
    assert job["state"] == "done", job
    return str(job["plan_id"])


def refused(answer: Any) -> list[dict[str, Any]]:
    """The errors of a 422 answer."""
    assert answer.status_code == 422, answer.text
    errors: list[dict[str, Any]] = answer.json()["errors"]
    return errors


def test_a_lone_surrogate_in_a_problem_is_422_naming_field_and_id(service: Service) -> None:
    day = line_day()
    day["technicians"][0]["name"] = f"Li {SURROGATE}"
    day["visits"][2]["customer"] = SURROGATE
    day["visits"][1]["notes"] = f"gate code {SURROGATE}"
    assert refused(post(service, "/v1/problems", day)) == [
        {"path": "technicians[0].name", "message": BROKEN_TEXT, "id": "T1"},
        {"path": "visits[1].notes", "message": BROKEN_TEXT, "id": "V2"},
        {"path": "visits[2].customer", "message": BROKEN_TEXT, "id": "V3"},
    ]
    assert problems_stored(service.database_url) == 0


def test_a_deeply_nested_problem_is_422_not_a_500(service: Service) -> None:
    for body in (DEEP, '{"date": "2026-11-23", "visits": ' + DEEP + "}"):
        assert refused(post(service, "/v1/problems", body)) == [
            {"path": "", "message": TOO_DEEP, "id": None}
        ]
    assert problems_stored(service.database_url) == 0


def test_loose_types_and_a_missing_visits_key_are_422(service: Service) -> None:
    day = line_day()
    day["policy"]["time_limit_s"] = True
    day["visits"][0]["duration_min"] = "30"
    day["visits"][1]["crew_size"] = 1.5
    assert refused(post(service, "/v1/problems", day)) == [
        {
            "path": "policy.time_limit_s",
            "message": "Input should be a valid number (got True)",
            "id": None,
        },
        {
            "path": "visits[0].duration_min",
            "message": "Input should be a valid number (got '30')",
            "id": "V1",
        },
        {
            "path": "visits[1].crew_size",
            "message": "Input should be a valid integer (got 1.5)",
            "id": "V2",
        },
    ]
    no_visits = line_day()
    del no_visits["visits"]
    assert refused(post(service, "/v1/problems", no_visits)) == [
        {"path": "visits", "message": "is required", "id": None}
    ]
    assert problems_stored(service.database_url) == 0


@pytest.mark.parametrize(
    ("event", "path", "message", "entity"),
    [
        (
            {"type": "delay", "technician_id": "T1", "minutes": 5, "reason": SURROGATE},
            "events[0].reason",
            BROKEN_TEXT,
            "T1",
        ),
        (
            {"type": "cancelled", "visit_id": "V2", "reason": f"not home {SURROGATE}"},
            "events[0].reason",
            BROKEN_TEXT,
            "V2",
        ),
        (
            {
                "type": "new_visit",
                "visit": {
                    "id": "V9",
                    "location_index": 1,
                    "duration_min": 30,
                    "address": SURROGATE,
                },
            },
            "events[0].visit.address",
            BROKEN_TEXT,
            "V9",
        ),
        (
            {"type": "delay", "technician_id": "T1", "minutes": True},
            "events[0].minutes",
            "Input should be a valid number",
            "T1",
        ),
        (
            {"type": "delay", "technician_id": "T1", "minutes": "35"},
            "events[0].minutes",
            "Input should be a valid number",
            "T1",
        ),
    ],
    ids=["delay-reason", "cancelled-reason", "new-visit-address", "minutes-true", "minutes-str"],
)
def test_bad_text_and_loose_types_in_events_are_422_and_nothing_is_stored(
    service: Service, event: dict[str, Any], path: str, message: str, entity: str | None
) -> None:
    plan_id = quick_plan(service)
    answer = post(service, f"/v1/plans/{plan_id}/events", {"at": "09:00", "events": [event]})
    [error] = refused(answer)
    # FastAPI parses this body and dispatch.contract.validate names the error, as for the
    # command line: no union tag in the path (events[0].delay.reason), the id nearest along it.
    assert error["path"] == path and error["id"] == entity, error
    assert error["message"].startswith(message), error
    versions = service.client.get(f"/v1/plans/{plan_id}/versions", headers=service.auth)
    assert versions.json()["versions"] == [1]


def test_a_deep_or_loosely_typed_events_batch_is_422(service: Service) -> None:
    plan_id = quick_plan(service)
    url = f"/v1/plans/{plan_id}/events"
    delay = {"type": "delay", "technician_id": "T1", "minutes": 5}
    [error] = refused(post(service, url, {"at": "09:00", "version": True, "events": [delay]}))
    assert error["path"] == "version" and error["id"] is None
    assert error["message"].startswith("Input should be a valid integer")
    for body in (DEEP, '{"at": "09:00", "events": ' + DEEP + "}"):
        # FastAPI's own parsing hits the RecursionError; api/app.py answers its 400 as a 422.
        refused(post(service, url, body))
    versions = service.client.get(f"/v1/plans/{plan_id}/versions", headers=service.auth)
    assert versions.json()["versions"] == [1]


def test_the_cli_refuses_broken_text_and_deep_files_with_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    day = line_day()
    day["visits"][2]["customer"] = SURROGATE
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(day), encoding="utf-8")
    deep = tmp_path / "deep.json"
    deep.write_text(DEEP, encoding="utf-8")
    runner = CliRunner()
    for command in ("validate", "solve"):
        result = runner.invoke(app, [command, str(broken)])
        assert result.exit_code == 2, result.output
        assert f"visits[2] (V3).customer: {BROKEN_TEXT}" in result.output
        result = runner.invoke(app, [command, str(deep)])
        assert result.exit_code == 2, result.output
        assert TOO_DEEP in result.output


def test_a_surrogate_in_an_event_id_is_422_not_a_500(service: Service) -> None:
    plan_id = quick_plan(service)
    delay = {"type": "delay", "technician_id": SURROGATE, "minutes": 5}
    answer = post(service, f"/v1/plans/{plan_id}/events", {"at": "09:00", "events": [delay]})
    [error] = refused(answer)
    # The id is written as its escape, as for a problem's ids and on the command line.
    assert error["id"] == r"\ud800" and error["message"].startswith(BROKEN_TEXT)
    assert answer.content.isascii()


def test_a_boolean_time_limit_is_refused(service: Service) -> None:
    problem_id = service.post_problem()
    for limit in (True, "5"):
        answer = service.client.post(
            "/v1/plans",
            json={"problem_id": problem_id, "time_limit_s": limit},
            headers=service.auth,
        )
        [error] = refused(answer)
        assert error["path"] == "time_limit_s", error


def test_a_day_stored_before_types_were_strict_still_replans_and_maps(service: Service) -> None:
    plan_id = quick_plan(service)
    store = Store(service.database_url)
    try:
        # As an older version stored what it accepted: numbers sent as strings and booleans.
        version = store.load_plan(plan_id)
        raw = store.load_problem_of_plan(plan_id, version["version"])
        raw["visits"][0]["duration_min"] = str(raw["visits"][0]["duration_min"])
        raw["technicians"][0]["crew_size"] = True
        # Coordinates as text: the checker did arithmetic on them (a 500 on every re-plan).
        raw["technicians"][0]["start"] = {"lat": "22.5", "lon": "113.9"}
        raw["visits"][1]["location"] = {"lat": "22.51", "lon": "113.9"}
        with store.engine.begin() as connection:
            connection.execute(update(ProblemRow).values(payload=json.dumps(raw)))
    finally:
        store.close()
    page = service.client.get(f"/v1/plans/{plan_id}/map", headers=service.auth)
    assert page.status_code == 200
    batch = {"at": "09:00", "events": [{"type": "delay", "technician_id": "T1", "minutes": 5}]}
    answer = post(service, f"/v1/plans/{plan_id}/events", batch)
    assert answer.status_code == 201, answer.text


def test_a_stored_day_a_newer_rule_refuses_is_named_as_the_stored_day(service: Service) -> None:
    # An older release stored two breaks that cannot follow each other (a rule added since):
    # every re-plan, booking and time card answered "invalid problem", blaming what the
    # caller sent (events, a booking) for the day in the store.
    plan_id = quick_plan(service)
    store = Store(service.database_url)
    try:
        raw = store.load_problem_of_plan(plan_id, 1)
        raw["technicians"][0]["breaks"] = [
            {"start": "12:00", "end": "12:40", "duration_min": 30},
            {"start": "12:00", "end": "12:40", "duration_min": 20},
        ]
        with store.engine.begin() as connection:
            connection.execute(update(ProblemRow).values(payload=json.dumps(raw)))
    finally:
        store.close()
    batch = {"at": "09:00", "events": [{"type": "delay", "technician_id": "T1", "minutes": 5}]}
    for answer in (
        post(service, f"/v1/plans/{plan_id}/events", batch),
        service.client.get(f"/v1/plans/{plan_id}/report", headers=service.auth),
    ):
        assert answer.status_code == 422, answer.text
        detail = answer.json()["detail"]
        assert detail.startswith(f"invalid stored day of plan {plan_id} version 1, which a rule")
        assert "send the day again as a new problem" in detail
        assert [e["path"][:21] for e in answer.json()["errors"]] == ["technicians[0].breaks"]


def test_the_service_names_a_refused_body_as_the_contract_does(service: Service) -> None:
    """One translation of pydantic's errors: FastAPI refuses this batch before any handler
    runs, and the answer lists the paths, ids and messages ``dispatch.contract.validate``
    gives the command line for the same batch."""
    plan_id = quick_plan(service)
    batch = {
        "at": "09:00",
        "version": True,
        "events": [
            {"type": "delay", "technician_id": "T1", "minutes": -3, "why": "traffic"},
            {"type": "new_visit", "visit": {"id": "V9", "location_index": 1, "duration_min": "30"}},
            {"type": "cancelled"},
        ],
    }
    with pytest.raises(ValidationError) as raised:
        EventBatchIn.model_validate(batch)
    expected = [
        {"path": e.path, "message": e.message, "id": e.entity_id}
        for e in pydantic_errors(raised.value, batch)
    ]
    assert [(e["path"], e["id"]) for e in expected] == [
        ("version", None),
        ("events[0].minutes", "T1"),
        ("events[0].why", "T1"),
        ("events[1].visit.duration_min", "V9"),
        ("events[2].visit_id", None),
    ]
    assert refused(post(service, f"/v1/plans/{plan_id}/events", batch)) == expected


def test_a_body_that_is_no_json_is_named_as_a_problem_file_is(service: Service) -> None:
    plan_id = quick_plan(service)
    text = '{"at": "09:00", "events": [}'
    with pytest.raises(InputError) as raised:
        load_json(text)
    [invalid] = raised.value.errors
    assert invalid.message.startswith("not valid JSON") and "column 28" in invalid.message
    expected = {"path": invalid.path, "message": invalid.message, "id": invalid.entity_id}
    for url in ("/v1/problems", "/v1/plans", f"/v1/plans/{plan_id}/events"):
        assert refused(post(service, url, text)) == [expected], url
    # Nested past the parser's depth, or sent as text: named as a problem file's would be
    # (the events said only "not valid JSON or form data", or "Input should be a valid
    # dictionary ... (got b'...')" at no path).
    deep = '{"at": "10:00", "events": ' + "[" * 100_000 + "]" * 100_000 + "}"
    for url in ("/v1/problems", f"/v1/plans/{plan_id}/events"):
        [error] = refused(post(service, url, deep))
        assert "64 levels" in error["message"], url
    batch = json.dumps({"at": "09:00", "events": []})
    for media, said in (("text/plain", "not text/plain"), (None, "saying so in Content-Type")):
        headers = service.auth | ({"Content-Type": media} if media else {})
        answer = service.client.post(f"/v1/plans/{plan_id}/events", content=batch, headers=headers)
        [error] = refused(answer)
        assert error["path"] == "content-type" and said in error["message"], error


def test_a_key_given_twice_is_named_and_nothing_is_stored(service: Service) -> None:
    # The parser kept a repeated key's last value without a word: "visits" twice stored a day
    # of the second list alone, and a delay of "minutes": 5 then 600 held T1 600 minutes.
    plan_id = quick_plan(service)
    day = json.dumps(line_day())
    twice = day[:-1] + ', "visits": []}'
    [error] = refused(post(service, "/v1/problems", twice))
    assert error["path"] == "visits" and "'visits' is given twice" in error["message"]
    batch = '{"at": "09:00", "events": [{"type": "delay", "technician_id": "T1", "minutes": 5, "minutes": 600}]}'  # noqa: E501
    [error] = refused(post(service, f"/v1/plans/{plan_id}/events", batch))
    assert error["path"] == "minutes"
    # Any application/*+json is parsed as JSON too, and was let through with its last value.
    for media in ("application/merge-patch+json", "Application/Problem+JSON; charset=utf-8"):
        answer = service.client.post(
            f"/v1/plans/{plan_id}/events",
            content=batch,
            headers=service.auth | {"Content-Type": media},
        )
        assert [e["path"] for e in refused(answer)] == ["minutes"], media
    with pytest.raises(InputError):
        load_json('{"a": {"b": 1, "b": 1}}')
    assert problems_stored(service.database_url) == 1
    with closing(Store(service.database_url)) as store:
        assert store.plan_versions(plan_id) == [1]
    # Without a key, the credential is asked for first.
    bare = service.client.post("/v1/problems", content=twice, headers=JSON)
    assert bare.status_code == 401


def test_a_problem_sent_as_a_json_string_is_named_not_a_500(service: Service) -> None:
    # A client that encoded the day twice sent a JSON string holding it: the day inside was
    # validated, and storing the string failed (500).
    for body, said in (
        (json.dumps(json.dumps(line_day())), "not a string (was the day encoded twice?)"),
        ("[1, 2]", "not an array"),
        ("7", "not a single value"),
    ):
        [error] = refused(post(service, "/v1/problems", body))
        assert error["path"] == "" and error["message"].endswith(said), body
    assert problems_stored(service.database_url) == 0


def test_a_media_type_is_read_whatever_its_case_and_another_is_named(service: Service) -> None:
    # Media types are case-insensitive: "Application/JSON" was refused as not JSON.
    text = json.dumps(line_day())
    for media in ("Application/JSON", "APPLICATION/JSON; charset=utf-8"):
        headers = service.auth | {"Content-Type": media}
        answer = service.client.post("/v1/problems", content=text, headers=headers)
        assert answer.status_code == 201, (media, answer.text)
    plain = service.client.post(
        "/v1/problems", content=text, headers=service.auth | {"Content-Type": "text/plain"}
    )
    assert plain.status_code == 422
    assert plain.json()["errors"][0]["path"] == "content-type"


def test_a_nul_in_a_stored_id_is_refused_naming_it_on_either_store(service: Service) -> None:
    # PostgreSQL refuses a NUL in any text it compares: a lookup of "pl_\0" was a 500 there
    # (a 404 on SQLite), with or without a key's worth of harm.
    for path in ("/v1/plans/pl_%00", "/v1/problems/pb_%00", "/v1/jobs/jb_%00", "/v1/weeks/wk_%00"):
        answer = service.client.get(path, headers=service.auth)
        assert answer.status_code == 422, (path, answer.text)
    solve = post(service, "/v1/plans", {"problem_id": "pb_\u0000"})
    assert [e["path"] for e in refused(solve)] == ["problem_id"]
    visit = {"id": "N1", "location_index": 1, "duration_min": 30}
    slots = post(service, "/v1/slots", {"plan_id": "pl_\u0000", "visit": visit})
    assert [e["path"] for e in refused(slots)] == ["plan_id"]
