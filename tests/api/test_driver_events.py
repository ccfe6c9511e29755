"""The driver's reports from the field (``POST /v1/plans/{id}/routes/{tech}/events``): with
their own signed link (``?token=`` or ``Authorization: Bearer``) or a dispatcher's key, about
their own route only, re-planned as the desk's events are, answered with their route in the
new version.

The day: T1 serves V1 then V2 (sites 1, 2; V1 must start by 08:30), T2 serves V3 (site 3),
every visit pinned."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import dispatch.desk.replan
from dispatch.desk.replan import replan_stored
from dispatch.persistence import Store
from tests.api.conftest import Service, start_service
from tests.conftest import line_day


def two_routes() -> dict[str, Any]:
    day = line_day()
    day["technicians"].append(
        {"id": "T2", "name": "Chen Jun", "skills": ["water_heater"], "location_index": 0,
         "shift": {"start": "08:00", "end": "18:00"}}
    )  # fmt: skip
    for visit, tech in zip(day["visits"], ("T1", "T1", "T2"), strict=True):
        visit["technician"] = tech
    # V1 first: either order drives as far, and the tests follow the route in this one.
    day["visits"][0]["window"] = {"start": "08:00", "end": "08:30"}
    return day


@pytest.fixture
def plan_id(service: Service) -> str:
    return service.solved_plan(two_routes())


def link(service: Service, plan_id: str, technician_id: str) -> str:
    answer = service.client.post(
        f"/v1/plans/{plan_id}/routes/{technician_id}/link", headers=service.auth
    )
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["token"]
    return token


def events_url(plan_id: str, technician_id: str) -> str:
    return f"/v1/plans/{plan_id}/routes/{technician_id}/events"


def batch(*events: dict[str, Any], at: str = "08:40") -> dict[str, Any]:
    return {"at": at, "events": list(events)}


def test_a_driver_reports_on_their_own_route_and_gets_it_back_re_planned(
    service: Service, plan_id: str
) -> None:
    token = link(service, plan_id, "T1")
    arrived = {"type": "arrived", "visit_id": "V1", "at": "08:12"}
    answer = service.client.post(f"{events_url(plan_id, 'T1')}?token={token}", json=batch(arrived))
    assert answer.status_code == 201, answer.text
    view = answer.json()
    assert (view["technician_id"], view["version"], view["at"]) == ("T1", 2, "08:40")
    first = view["stops"][0]
    assert (first["visit_id"], first["status"]) == ("V1", "arrived")
    assert first["actual_arrival"] == "2026-11-23T08:12:00+08:00"
    # As a header too; the desk's plan has the report, stored as sent.
    done = {"type": "completed", "visit_id": "V1", "at": "08:45"}
    answer = service.client.post(
        events_url(plan_id, "T1"),
        json=batch(done, at="08:50"),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["stops"][0]["status"] == "done"
    plan = service.client.get(f"/v1/plans/{plan_id}", headers=service.auth).json()
    assert plan["version"] == 3
    (v1,) = [s for r in plan["routes"] for s in r["stops"] if s["visit_id"] == "V1"]
    assert v1["actual_departure"] == "2026-11-23T08:45:00+08:00"
    store = Store(service.database_url)
    try:
        sent = [b["events"] for b in store.load_events(plan_id)]
    finally:
        store.close()
    assert sent == [[arrived], [done]]


def test_a_driver_may_not_report_on_another_route_or_technician(
    service: Service, plan_id: str
) -> None:
    token = link(service, plan_id, "T1")
    url = f"{events_url(plan_id, 'T1')}?token={token}"
    for event, named in (
        ({"type": "arrived", "visit_id": "V3"}, "V3 is not on T1's route"),
        ({"type": "not_completed", "visit_id": "V3", "reason": "x"}, "V3 is not on T1's route"),
        ({"type": "arrived", "visit_id": "V404"}, "V404 is not on T1's route"),
        ({"type": "retracted", "visit_id": "V3"}, "V3 is not on T1's route"),
        ({"type": "delay", "technician_id": "T2", "minutes": 10}, "not T2's"),
        ({"type": "cancelled", "visit_id": "V1"}, "'cancelled' is the desk's to post"),
        ({"type": "unavailable", "technician_id": "T1"}, "'unavailable' is the desk's"),
    ):
        own = {"type": "arrived", "visit_id": "V1"}
        answer = service.client.post(url, json=batch(own, event))
        assert answer.status_code == 403, (event, answer.text)
        assert answer.json()["detail"].startswith("events[1] (")
        assert named in answer.json()["detail"], answer.text
    versions = service.client.get(f"/v1/plans/{plan_id}/versions", headers=service.auth)
    assert versions.json()["versions"] == [1], "nothing was re-planned"


def test_a_link_opens_its_own_route_only(service: Service, plan_id: str) -> None:
    token = link(service, plan_id, "T1")
    own_visit = batch({"type": "arrived", "visit_id": "V3"})  # T2's, on T2's URL
    answer = service.client.post(f"{events_url(plan_id, 'T2')}?token={token}", json=own_visit)
    assert answer.status_code == 403, answer.text
    assert "another route" in answer.json()["detail"]
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    answer = service.client.post(f"{events_url(plan_id, 'T1')}?token={forged}", json=own_visit)
    assert answer.status_code == 401, answer.text
    answer = service.client.post(events_url(plan_id, "T1"), json=own_visit)
    assert answer.status_code == 401, answer.text


def test_an_expired_link_reports_nothing(service: Service, plan_id: str) -> None:
    token = link(service, plan_id, "T1")
    midnight = datetime(2026, 11, 24, 0, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    with start_service(service.database_url, now=midnight) as client:
        answer = client.post(
            f"{events_url(plan_id, 'T1')}?token={token}",
            json=batch({"type": "arrived", "visit_id": "V1"}),
        )
    assert answer.status_code == 401, answer.text
    assert "expired" in answer.json()["detail"]


def test_a_dispatcher_reports_for_a_driver_and_the_desk_calls_the_customer(
    service: Service, plan_id: str
) -> None:
    not_done = {"type": "not_completed", "visit_id": "V2", "reason": "customer absent"}
    answer = service.client.post(
        events_url(plan_id, "T1"), json=batch(not_done, at="09:15"), headers=service.auth
    )
    assert answer.status_code == 201, answer.text
    statuses = {s["visit_id"]: s["status"] for s in answer.json()["stops"]}
    assert statuses == {"V1": "done", "V2": "not_completed"}  # V1 passed by the plan
    calls = service.client.get(
        f"/v1/plans/{plan_id}/changes?notify=true", headers=service.auth
    ).json()
    (change,) = [c for v in calls["versions"] for c in v["changes"] if c["visit_id"] == "V2"]
    assert change["new_technician"] is None and "customer absent" in change["reason"]
    plan = service.client.get(f"/v1/plans/{plan_id}", headers=service.auth).json()
    (left,) = [u for u in plan["unassigned"] if u["visit_id"] == "V2"]
    assert left["code"] == "not_completed"


def test_a_report_that_breaks_a_rule_of_the_day_is_refused_with_its_reason(
    service: Service, plan_id: str
) -> None:
    token = link(service, plan_id, "T1")
    url = f"{events_url(plan_id, 'T1')}?token={token}"
    answer = service.client.post(
        url,
        json=batch(
            {"type": "arrived", "visit_id": "V1", "at": "08:20"},
            {"type": "completed", "visit_id": "V1", "at": "08:15"},
        ),
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"] == [
        {"path": "events[1]", "message": "completed before it arrived (08:15)", "id": "V1"}
    ]
    answer = service.client.post(url, json=batch({"type": "not_completed", "visit_id": "V1"}))
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["path"] == "events[0].reason"


def test_a_phone_whose_clock_runs_hours_ahead_is_refused_naming_the_time(
    service: Service, plan_id: str
) -> None:
    token = link(service, plan_id, "T1")
    url = f"{events_url(plan_id, 'T1')}?token={token}"
    answer = service.client.post(url, json=batch({"type": "arrived", "visit_id": "V1"}, at="23:59"))
    assert answer.status_code == 422, answer.text
    [error] = answer.json()["errors"]
    assert error["path"] == "at" and "later than the time now (09:00" in error["message"]
    # Nothing stored: the desk's next batch at the real time is taken.
    late = {"type": "delay", "technician_id": "T1", "minutes": 10}
    desk = service.client.post(
        f"/v1/plans/{plan_id}/events", json=batch(late, at="09:05"), headers=service.auth
    )
    assert desk.status_code == 201, desk.text


def test_a_driver_reports_nothing_on_a_day_not_begun(service: Service, plan_id: str) -> None:
    # Links are made the day before; T1's, used then, timed a batch of tomorrow at 24:00:
    # every later batch of the desk and of T2 was refused as before the last re-plan, and no
    # slot was offered, for good.
    token = link(service, plan_id, "T1")
    the_evening_before = datetime(2026, 11, 22, 18, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    late = {"type": "delay", "technician_id": "T1", "minutes": 1}
    with start_service(service.database_url, now=the_evening_before) as client:
        url = f"{events_url(plan_id, 'T1')}?token={token}"
        answer = client.post(url, json=batch(late, at="24:00"))
        assert answer.status_code == 422, answer.text
        [error] = answer.json()["errors"]
        assert error["path"] == "at"
        assert error["message"].startswith("the route's day 2026-11-23 has not begun")
    # Nothing stored: the day takes its reports when it comes.
    arrived = {"type": "arrived", "visit_id": "V1", "at": "08:20"}
    url = f"{events_url(plan_id, 'T1')}?token={token}"
    assert service.client.post(url, json=batch(arrived, at="08:40")).status_code == 201


def test_a_tap_sent_again_with_its_report_id_is_applied_once(
    service: Service, plan_id: str
) -> None:
    # The answer to "running late 30" was lost and the phone sent it again: both were
    # applied, and T1 was held 60 minutes (visits handed away, customers called for nothing).
    token = link(service, plan_id, "T1")
    late = {"type": "delay", "technician_id": "T1", "minutes": 30}
    sent = {**batch(late), "report_id": "1733475600000-k3j9"}
    first = service.client.post(f"{events_url(plan_id, 'T1')}?token={token}", json=sent)
    again = service.client.post(f"{events_url(plan_id, 'T1')}?token={token}", json=sent)
    assert (first.status_code, again.status_code) == (201, 201), again.text
    assert first.json() == again.json()  # the version the first made, as it was
    versions = service.client.get(f"/v1/plans/{plan_id}/versions", headers=service.auth)
    assert versions.json()["versions"] == [1, 2]
    # Another report (another id, or none) is another batch.
    other = service.client.post(
        f"{events_url(plan_id, 'T1')}?token={token}", json={**sent, "report_id": "x-2"}
    )
    assert other.status_code == 201 and other.json()["version"] == 3
    too_long = service.client.post(
        f"{events_url(plan_id, 'T1')}?token={token}", json={**sent, "report_id": "x" * 65}
    )
    assert too_long.status_code == 422 and "report_id" in too_long.text
    # Another report under a used id was answered as made and silently not applied.
    longer = {"type": "delay", "technician_id": "T1", "minutes": 45}
    reused = {**batch(longer), "report_id": "x-2"}
    refused = service.client.post(f"{events_url(plan_id, 'T1')}?token={token}", json=reused)
    assert refused.status_code == 422, refused.text
    [error] = refused.json()["errors"]
    assert error["path"] == "report_id" and "made version 3 with other events" in error["message"]
    versions = service.client.get(f"/v1/plans/{plan_id}/versions", headers=service.auth)
    assert versions.json()["versions"] == [1, 2, 3]
    # The history shows each batch with its report id (it was dropped).
    history = service.client.get(f"/v1/plans/{plan_id}/events", headers=service.auth).json()
    assert [b["report_id"] for b in history["batches"]] == ["1733475600000-k3j9", "x-2"]
    # As sent: 30 minutes, not 30.0.
    assert history["batches"][0]["events"] == [late]
    assert isinstance(history["batches"][0]["events"][0]["minutes"], int)


def test_a_tap_sent_again_after_its_visit_left_the_route_gets_the_version_it_made(
    service: Service, plan_id: str
) -> None:
    # T1 undid an arrival at V1, the answer was lost, the desk handed V1 to T2, and the phone
    # sent the undo again: 403 ("V1 is not on T1's route") for a report already applied.
    url = f"{events_url(plan_id, 'T1')}?token={link(service, plan_id, 'T1')}"
    arrived = batch({"type": "arrived", "visit_id": "V1", "at": "08:12"}, at="08:15")
    assert service.client.post(url, json=arrived).status_code == 201
    undo = {
        **batch({"type": "retracted", "visit_id": "V1"}, at="08:16"),
        "report_id": "undo-1",
    }
    first = service.client.post(url, json=undo)
    assert first.status_code == 201, first.text
    moved = batch({"type": "moved", "visit_id": "V1", "technician_id": "T2"}, at="08:20")
    desk = service.client.post(f"/v1/plans/{plan_id}/events", json=moved, headers=service.auth)
    assert desk.status_code == 201, desk.text
    again = service.client.post(url, json=undo)
    assert again.status_code == 201, again.text
    assert again.json() == first.json()
    versions = service.client.get(f"/v1/plans/{plan_id}/versions", headers=service.auth)
    assert versions.json()["versions"] == [1, 2, 3, 4]


def test_a_driver_s_batch_honours_if_match_as_the_desk_s(service: Service, plan_id: str) -> None:
    # The driver's endpoint ignored If-Match: a batch against version 99, or against version 1
    # once 2 was stored, was applied to the latest.
    url = f"{events_url(plan_id, 'T1')}?token={link(service, plan_id, 'T1')}"
    late = batch({"type": "delay", "technician_id": "T1", "minutes": 5})
    never = service.client.post(url, json=late, headers={"If-Match": '"99"'})
    assert never.status_code == 422 and never.json()["errors"][0]["path"] == "If-Match"
    first = service.client.post(url, json=late, headers={"If-Match": '"1"'})
    assert first.status_code == 201 and first.json()["version"] == 2
    stale = service.client.post(url, json=late, headers={"If-Match": '"1"'})
    assert stale.status_code == 409, stale.text
    both = service.client.post(url, json={**late, "version": 2}, headers={"If-Match": '"1"'})
    assert both.status_code == 422 and both.json()["errors"][0]["path"] == "version"
    versions = service.client.get(f"/v1/plans/{plan_id}/versions", headers=service.auth)
    assert versions.json()["versions"] == [1, 2]


def test_a_driver_reports_late_on_a_stop_gone_past_and_left_out(
    service: Service, plan_id: str
) -> None:
    # T1 went to V2 first (reached 08:30): V1, whose start must be by 08:30, was gone past and
    # left out ("window"). Their tap of V1 done at 08:20, sent late, was refused as not on
    # their route (403): the link's own stop, served (a hunt of re-plans after reports).
    token = link(service, plan_id, "T1")
    url = f"{events_url(plan_id, 'T1')}?token={token}"
    first = service.client.post(
        url, json=batch({"type": "arrived", "visit_id": "V2", "at": "08:30"}, at="08:32")
    )
    assert first.status_code == 201, first.text
    plan = service.client.get(f"/v1/plans/{plan_id}", headers=service.auth).json()
    assert [u["code"] for u in plan["unassigned"] if u["visit_id"] == "V1"] == ["window"]
    late = batch({"type": "completed", "visit_id": "V1", "at": "08:20"}, at="08:35")
    answer = service.client.post(url, json=late)
    assert answer.status_code == 201, answer.text
    stops = answer.json()["stops"]
    assert [(s["visit_id"], s["status"]) for s in stops] == [("V1", "done"), ("V2", "arrived")]
    # Another technician's link may not report it.
    other = link(service, plan_id, "T2")
    late_again = batch({"type": "arrived", "visit_id": "V1", "at": "08:10"}, at="08:36")
    refused = service.client.post(f"{events_url(plan_id, 'T2')}?token={other}", json=late_again)
    assert refused.status_code == 403, refused.text


def test_a_driver_s_batch_without_a_version_is_applied_on_a_version_stored_meanwhile(
    service: Service, plan_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The desk's batch stored while the driver's was being read: the driver's, sent without
    # a version, was refused (409) where the desk's is applied again on the newer version.
    reported = dispatch.desk.replan.made_by_report

    def desk_first(store: Store, plan: str, events: Any) -> Any:
        desk = batch({"type": "delay", "technician_id": "T2", "minutes": 5}, at="08:35")
        replan_stored(store, plan, desk)
        monkeypatch.setattr("api.routes.drivers.made_by_report", reported)
        return reported(store, plan, events)

    monkeypatch.setattr("api.routes.drivers.made_by_report", desk_first)
    url = f"{events_url(plan_id, 'T1')}?token={link(service, plan_id, 'T1')}"
    late = batch({"type": "delay", "technician_id": "T1", "minutes": 5})
    answer = service.client.post(url, json=late)
    assert answer.status_code == 201, answer.text
    assert answer.json()["version"] == 3
    versions = service.client.get(f"/v1/plans/{plan_id}/versions", headers=service.auth)
    assert versions.json()["versions"] == [1, 2, 3]
