"""``POST /v1/slots`` and ``POST /v1/plans/{plan_id}/book``: slots best first, booking with
``If-Match``, 409 with fresh slots when the slot is gone, 422 naming the fields of bad input,
and what a customer typed escaped on the desk's map."""

from __future__ import annotations

import html
from contextlib import closing
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from dispatch.persistence import Store, StoreConflictError
from tests.api.conftest import Service, start_service
from tests.dispatch.test_replan import make_day
from tests.maps.test_pages import said

NEW_VISIT = {"id": "N1", "location_index": 3, "duration_min": 45, "customer": "Wu"}


def solved(service: Service) -> str:
    day = make_day()
    day["technicians"][0]["breaks"] = [{"start": "12:00", "end": "13:30", "duration_min": 30}]
    return service.solved_plan(day)


def slots(service: Service, body: dict[str, Any]) -> dict[str, Any]:
    answer = service.client.post("/v1/slots", json=body, headers=service.auth)
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def test_slots_then_book_with_if_match(service: Service) -> None:
    plan_id = solved(service)
    found = slots(service, {"visit": NEW_VISIT, "plan_id": plan_id, "shape": "two_hours"})
    assert found["code"] is None and found["slots"]
    grades = [slot["grade"] for slot in found["slots"]]
    assert grades == sorted(grades)
    first = found["slots"][0]
    assert first["rank"] == 1 and first["version"] == 1 and first["plan_id"] == plan_id
    assert first["slot"]["appointment"] is None and first["slot"]["window"]["start"]
    booked = service.client.post(
        f"/v1/plans/{plan_id}/book",
        json={"visit": NEW_VISIT, "slot": first["slot"]},
        headers={**service.auth, "If-Match": '"1"'},
    )
    assert booked.status_code == 201, booked.text
    assert booked.headers["ETag"] == '"2"'
    plan = booked.json()
    assert plan["version"] == 2
    stop = next(s for r in plan["routes"] for s in r["stops"] if s["visit_id"] == "N1")
    window = first["slot"]["window"]
    assert window["start"] <= stop["service_start"][11:16] <= window["end"]
    calls = service.client.get(
        f"/v1/plans/{plan_id}/changes?notify=true", headers=service.auth
    ).json()
    assert [c["visit_id"] for v in calls["versions"] for c in v["changes"]] == ["N1"]


def test_a_gone_slot_is_409_with_fresh_slots(service: Service) -> None:
    plan_id = solved(service)
    found = slots(service, {"visit": NEW_VISIT, "plan_id": plan_id, "shape": "appointment"})
    first = found["slots"][0]["slot"]
    # Book the same appointment for customers until nobody can take it any more.
    answer = service.client.get("/healthz")
    for k in range(1, 4):
        visit = {**NEW_VISIT, "id": f"N{k}"}
        answer = service.client.post(
            f"/v1/plans/{plan_id}/book",
            json={"visit": visit, "slot": first},
            headers={**service.auth, "If-Match": '"1"'},
        )
        if answer.status_code == 409:
            break
        assert answer.status_code == 201, answer.text
    assert answer.status_code == 409, answer.text
    body = answer.json()
    assert "no technician can take" in body["detail"]
    fresh = body["slots"]["slots"]
    assert fresh and all(s["version"] == k for s in fresh)
    assert first["appointment"] not in {s["slot"].get("appointment") for s in fresh}


def test_impossible_visit_says_why(service: Service) -> None:
    plan_id = solved(service)
    visit = {**NEW_VISIT, "required_skills": ["gas"]}
    found = slots(service, {"visit": visit, "plan_id": plan_id})
    assert found["slots"] == []
    assert found["code"] == "no_skill" and "'gas'" in found["reason"]


def test_bad_input_is_422_naming_the_fields(service: Service) -> None:
    plan_id = solved(service)
    answer = service.client.post(
        "/v1/slots",
        json={"visit": {"id": "N1", "duration_min": "30"}, "plan_id": plan_id, "shape": "x"},
        headers=service.auth,
    )
    assert answer.status_code == 422
    paths = {e["path"] for e in answer.json()["errors"]}
    assert {"visit.duration_min", "shape"} <= paths
    answer = service.client.post(
        "/v1/slots",
        json={"visit": {**NEW_VISIT, "appointment": "10:00"}, "plan_id": plan_id},
        headers=service.auth,
    )
    assert answer.status_code == 422
    assert [e["path"] for e in answer.json()["errors"]] == ["visit.appointment"]
    answer = service.client.post(
        f"/v1/plans/{plan_id}/book",
        json={"visit": NEW_VISIT, "slot": {"date": "2026-11-23"}},
        headers={**service.auth, "If-Match": "one"},
    )
    assert answer.status_code == 422
    answer = service.client.post(  # a version the plan has not reached: once booked anyway
        f"/v1/plans/{plan_id}/book",
        json={"visit": NEW_VISIT, "slot": {"date": "2026-11-23", "appointment": "10:00"}},
        headers={**service.auth, "If-Match": '"99"'},
    )
    assert answer.status_code == 422, answer.text
    assert [e["path"] for e in answer.json()["errors"]] == ["If-Match"]
    answer = service.client.post(
        f"/v1/plans/{plan_id}/book",
        json={"visit": NEW_VISIT, "slot": {"date": "2026-11-23"}},
        headers=service.auth,
    )
    assert answer.status_code == 422
    assert [e["path"] for e in answer.json()["errors"]] == ["slot"]
    answer = service.client.post(
        "/v1/plans/pl_nothing/book",
        json={"visit": NEW_VISIT, "slot": {"date": "2026-11-23", "appointment": "10:00"}},
        headers=service.auth,
    )
    assert answer.status_code == 404
    # A day plan outside the dates asked for: the bound that leaves it out is named (a
    # last_date before the plan's date was named first_date).
    for bound, field in (({"first_date": "2026-11-24"}, "first_date"),
                         ({"last_date": "2026-11-22"}, "last_date")):  # fmt: skip
        answer = service.client.post(
            "/v1/slots",
            json={"visit": NEW_VISIT, "plan_id": plan_id, **bound},
            headers=service.auth,
        )
        assert answer.status_code == 422
        assert [e["path"] for e in answer.json()["errors"]] == [field]


def coordinates_day() -> dict[str, Any]:
    """A day placed on the map: one technician and two visits in Shenzhen."""
    return {
        "date": "2026-11-23",
        "timezone": "Asia/Shanghai",
        "policy": {"time_limit_s": 1},
        "technicians": [
            {"id": "T1", "start": {"lat": 22.54, "lon": 113.95},
             "shift": {"start": "08:00", "end": "18:00"}},
        ],
        "visits": [
            {"id": "V1", "location": {"lat": 22.55, "lon": 113.94}, "duration_min": 30,
             "appointment": "10:00"},
            {"id": "V2", "location": {"lat": 22.53, "lon": 113.96}, "duration_min": 30},
        ],
    }  # fmt: skip


def test_what_a_customer_typed_is_escaped_on_the_map(service: Service) -> None:
    plan_id = service.solved_plan(coordinates_day())
    typed = "<script>alert('wu')</script>"
    visit = {
        "id": "N1",
        "location": {"lat": 22.545, "lon": 113.955},
        "duration_min": 30,
        "customer": typed,
    }
    found = slots(service, {"visit": visit, "plan_id": plan_id})
    booked = service.client.post(
        f"/v1/plans/{plan_id}/book",
        json={"visit": visit, "slot": found["slots"][0]["slot"]},
        headers=service.auth,
    )
    assert booked.status_code == 201, booked.text
    page = service.client.get(f"/v1/plans/{plan_id}/map", headers=service.auth)
    assert page.status_code == 200
    assert typed not in page.text
    assert html.escape(typed) in said(page.text)


def test_slots_need_a_key(service: Service) -> None:
    answer = service.client.post("/v1/slots", json={"visit": NEW_VISIT, "plan_id": "pl_x"})
    assert answer.status_code == 401


def test_a_plan_of_today_is_offered_and_booked_from_the_service_clock(service: Service) -> None:
    """Without ``at``: the service's clock stands at 14:10 on the plan's date (Shanghai), so
    nothing earlier is offered and the booking is made at 14:10."""
    plan_id = solved(service)
    body = {"visit": NEW_VISIT, "plan_id": plan_id, "shape": "appointment"}
    morning = slots(service, body)["slots"]
    assert min(s["start"][11:16] for s in morning) < "14:00"
    afternoon = datetime(2026, 11, 23, 14, 10, tzinfo=ZoneInfo("Asia/Shanghai"))
    with start_service(service.database_url, now=afternoon) as client:
        later = Service(client, service.database_url, service.key)
        found = slots(later, body)["slots"]
        assert found and min(s["start"][11:16] for s in found) >= "14:30"
        booked = client.post(
            f"/v1/plans/{plan_id}/book",
            json={"visit": NEW_VISIT, "slot": found[0]["slot"]},
            headers={**service.auth, "If-Match": '"1"'},
        )
    assert booked.status_code == 201, booked.text
    assert booked.json()["at"][11:16] == "14:10"


def test_a_day_already_over_offers_no_slot_and_books_nothing(service: Service) -> None:
    """By the service's clock the plan's day (2026-11-23, Shanghai) is over the next morning:
    no slot is offered on it (once every time of the day was, from 00:00, and booked) and a
    slot booked there is refused, naming the field, the plan left as it was."""
    plan_id = solved(service)
    body = {"visit": NEW_VISIT, "plan_id": plan_id, "shape": "two_hours"}
    offered = slots(service, body)["slots"][0]["slot"]
    next_day = datetime(2026, 11, 24, 0, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    with start_service(service.database_url, now=next_day) as client:
        asked = client.post("/v1/slots", json=body, headers=service.auth)
        booked = client.post(
            f"/v1/plans/{plan_id}/book",
            json={"visit": NEW_VISIT, "slot": offered},
            headers=service.auth,
        )
    assert asked.status_code == 422, asked.text
    [error] = asked.json()["errors"]
    assert error["path"] == "plan_id" and error["id"] == plan_id
    assert (
        "2026-11-23, a day already over (today is 2026-11-24 in Asia/Shanghai)" in error["message"]
    )
    assert booked.status_code == 422, booked.text
    assert [e["path"] for e in booked.json()["errors"]] == ["slot.date"]
    with closing(Store(service.database_url)) as store:
        assert store.plan_versions(plan_id) == [1]


def test_a_version_stored_first_while_booking_is_409_with_fresh_slots(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another batch stores the next version between the booking's check and its save: the
    same 409 with a fresh list as a stale If-Match."""
    plan_id = solved(service)
    found = slots(service, {"visit": NEW_VISIT, "plan_id": plan_id, "shape": "two_hours"})

    def raced(self: Store, *args: object, **kwargs: object) -> None:
        raise StoreConflictError(f"plan {plan_id} version 2 already exists")

    monkeypatch.setattr(Store, "save_replan", raced)
    answer = service.client.post(
        f"/v1/plans/{plan_id}/book",
        json={"visit": NEW_VISIT, "slot": found["slots"][0]["slot"]},
        headers={**service.auth, "If-Match": '"1"'},
    )
    assert answer.status_code == 409, answer.text
    body = answer.json()
    assert "moved on" in body["detail"]
    fresh = body["slots"]
    assert fresh["shape"] == "two_hours" and fresh["slots"]
