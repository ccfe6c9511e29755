"""Re-planning a day of a week from the service and the command line: a visit its day can no
longer keep moves to the next date of its span, and the desk is told whom to call."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from dispatch.persistence import Store
from tests.api.conftest import Service
from tests.dispatch.test_replan_week import ILL, MONDAY, TUESDAY, stops_of, store_week, week


def _week_in(database_url: str) -> dict[str, str]:
    store = Store(database_url)
    try:
        return store_week(store, week())
    finally:
        store.close()


def test_events_on_a_day_of_a_week_move_a_visit_to_the_next_date(service: Service) -> None:
    plans = _week_in(service.database_url)
    answer = service.client.post(
        f"/v1/plans/{plans[MONDAY]}/events",
        json=ILL,
        headers=service.auth | {"If-Match": '"1"'},
    )
    assert answer.status_code == 201, answer.text
    monday = answer.json()
    s1 = {item["visit_id"]: item for item in monday["unassigned"]}["S1"]
    assert (s1["code"], s1["moved_to"]) == ("moved", {"date": TUESDAY, "plan_id": plans[TUESDAY]})
    tuesday = service.client.get(f"/v1/plans/{plans[TUESDAY]}", headers=service.auth).json()
    assert tuesday["version"] == 2 and "S1" in stops_of(tuesday)
    # Both days' call lists name the customer with the two dates.
    for plan_id in (plans[MONDAY], plans[TUESDAY]):
        calls = service.client.get(
            f"/v1/plans/{plan_id}/changes", params={"notify": "true"}, headers=service.auth
        ).json()
        (moved,) = [
            change
            for version in calls["versions"]
            for change in version["changes"]
            if change["visit_id"] == "S1"
        ]
        assert (moved["customer"], moved["old_date"], moved["new_date"]) == (
            "Wu Fang",
            MONDAY,
            TUESDAY,
        )
        assert moved["new_window"]["start"].startswith(TUESDAY)
    # The history says why: Monday's batch as sent, Tuesday's booking with where it came from
    # (the contract's promise; nothing read it but the tests).
    history = service.client.get(f"/v1/plans/{plans[MONDAY]}/events", headers=service.auth)
    assert history.status_code == 200, history.text
    (sent,) = history.json()["batches"]
    assert (sent["version"], sent["at"], sent["events"]) == (2, ILL["at"], ILL["events"])
    (booked,) = service.client.get(
        f"/v1/plans/{plans[TUESDAY]}/events", headers=service.auth
    ).json()["batches"]
    assert booked["moved_from"] == {"date": MONDAY, "plan_id": plans[MONDAY], "version": 2}
    assert [(e["type"], e["visit"]["id"]) for e in booked["events"]] == [("new_visit", "S1")]
    unknown = service.client.get("/v1/plans/pl_nothere/events", headers=service.auth)
    assert unknown.status_code == 404


@pytest.mark.parametrize("given", ["no", None])  # null was taken as the default
def test_a_batch_option_that_is_no_boolean_is_refused_naming_it(
    service: Service, given: str | None
) -> None:
    plans = _week_in(service.database_url)
    answer = service.client.post(
        f"/v1/plans/{plans[MONDAY]}/events",
        json={**ILL, "move_across_dates": given},
        headers=service.auth,
    )
    assert answer.status_code == 422, answer.text
    assert "move_across_dates" in answer.text
    versions = service.client.get(f"/v1/plans/{plans[MONDAY]}/versions", headers=service.auth)
    assert versions.json()["versions"] == [1]


def test_fieldroute_replan_prints_the_move_on_the_call_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", database)
    plans = _week_in(database)
    events = tmp_path / "events.json"
    events.write_text(json.dumps(ILL), encoding="utf-8")
    result = CliRunner().invoke(app, ["replan", plans[MONDAY], str(events)])
    assert result.exit_code == 0, result.output
    assert "Call list" in result.output
    assert f"moved to {TUESDAY} between" in " ".join(result.output.split())
