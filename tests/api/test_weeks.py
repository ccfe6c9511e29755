"""Weeks in the service: a horizon stored by ``POST /v1/problems``, solved by ``POST /v1/plans``
into a week (``/v1/weeks``) whose days are ordinary plans, refused with every bad field named,
and rolled forward into the next horizon."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from dispatch.contract.validate import parse_problem
from dispatch.persistence import Store
from dispatch.travel import pair_lookup, provider_for
from dispatch.verify import check_plan
from tests.api.conftest import Service

#: Five days from Monday 2026-12-07: T1 off on Wednesday and on a late shift on Thursday, T2
#: every day; an appointment, reported faults (one urgent), a span, a visit after the horizon,
#: a daily window, a weekly round and an overdue monthly one.
WEEK: dict[str, Any] = {
    "horizon": {"start": "2026-12-07", "days": 5},
    "timezone": "Asia/Shanghai",
    "policy": {"time_limit_s": 1, "replan_time_limit_s": 1},
    "technicians": [
        {
            "id": "T1",
            "skills": ["water_heater", "cctv"],
            "start": {"lat": 22.54, "lon": 113.95},
            "shift": {"start": "08:00", "end": "18:00"},
            "breaks": [{"start": "11:30", "end": "13:30", "duration_min": 30}],
            "calendar": {
                "weekdays": {"sat": {"shift": {"start": "09:00", "end": "13:00"}}, "sun": None},
                "days_off": ["2026-12-09"],
                "dates": {"2026-12-10": {"shift": {"start": "12:00", "end": "20:00"}}},
            },
        },
        {
            "id": "T2",
            "skills": ["water_heater"],
            "start": {"lat": 22.56, "lon": 113.90},
            "shift": {"start": "08:30", "end": "17:30"},
        },
    ],
    "visits": [
        {
            "id": "A1",
            "location": {"lat": 22.55, "lon": 113.94},
            "duration_min": 45,
            "date": "2026-12-07",
            "appointment": "09:30",
            "required_skills": ["water_heater"],
        },
        {
            "id": "F1",
            "location": {"lat": 22.53, "lon": 113.93},
            "duration_min": 60,
            "reported_at": "2026-12-07T16:00",
            "required_skills": ["water_heater"],
        },
        {
            "id": "U1",
            "location": {"lat": 22.53, "lon": 113.93},
            "duration_min": 60,
            "priority": "urgent",
            "reported_at": "2026-12-08T10:00",
            "required_skills": ["water_heater"],
        },
        {
            "id": "F2",
            "location": {"lat": 22.52, "lon": 113.92},
            "duration_min": 30,
            "earliest": "2026-12-08T13:00",
            "latest": "2026-12-10T18:00",
        },
        {
            "id": "L1",
            "location": {"lat": 22.52, "lon": 113.92},
            "duration_min": 30,
            "earliest": "2026-12-14T13:00",
        },
        {
            "id": "W1",
            "location": {"lat": 22.51, "lon": 113.91},
            "duration_min": 30,
            "window": {"start": "14:00", "end": "16:00"},
        },
    ],
    "rounds": [
        {
            "id": "R1",
            "customer": "Block 7 car park",
            "location": {"lat": 22.56, "lon": 113.96},
            "kind": "inspection",
            "duration_min": 30,
            "required_skills": ["cctv"],
            "every": {"weeks": 1},
            "tolerance_days": 1,
            "last_served": "2026-12-01",
            "preferred_technician": "T1",
        },
        {
            "id": "R2",
            "location": {"lat": 22.56, "lon": 113.96},
            "duration_min": 30,
            "every": {"months": 1},
            "tolerance_days": 2,
            "last_served": "2026-10-20",
        },
    ],
}


def week_horizon() -> dict[str, Any]:
    """A fresh copy of ``WEEK``, to change in a test."""
    return copy.deepcopy(WEEK)


def solved_week(service: Service) -> tuple[str, dict[str, Any]]:
    """Post ``WEEK``, solve it, and return its problem id and the week document."""
    problem_id = service.post_problem(week_horizon())
    answer = service.client.post(
        "/v1/plans", json={"problem_id": problem_id, "time_limit_s": 1}, headers=service.auth
    )
    assert answer.status_code == 202, answer.text
    job = service.wait(answer.json()["id"])
    assert job["state"] == "done", job
    week = service.client.get(f"/v1/weeks/{job['plan_id']}", headers=service.auth)
    assert week.status_code == 200, week.text
    document: dict[str, Any] = week.json()
    return problem_id, document


def test_a_horizon_is_stored_as_a_problem_of_several_days(service: Service) -> None:
    answer = service.client.post("/v1/problems", json=week_horizon(), headers=service.auth)
    assert answer.status_code == 201, answer.text
    created = answer.json()
    # Seven visits in the horizon: five of its own (L1 starts after it) and two rounds' dates.
    assert (created["date"], created["days"], created["technicians"], created["visits"]) == (
        "2026-12-07",
        5,
        2,
        7,
    )
    stored = service.client.get(f"/v1/problems/{created['problem_id']}", headers=service.auth)
    assert stored.status_code == 200 and stored.json() == WEEK


def test_a_solve_job_of_a_horizon_makes_a_week_of_ordinary_day_plans(service: Service) -> None:
    client, auth = service.client, service.auth
    problem_id = service.post_problem(week_horizon())
    answer = client.post("/v1/plans", json={"problem_id": problem_id}, headers=auth)
    assert answer.status_code == 202, answer.text
    job = answer.json()
    assert job["plan_id"].startswith("wk_") and job["progress"]["visits_total"] == 7
    done = service.wait(job["id"])
    assert done["state"] == "done" and done["error"] is None, done
    week_id = done["plan_id"]

    week = client.get(f"/v1/weeks/{week_id}", headers=auth).json()
    assert week["week_id"] == week_id and week["problem_id"] == problem_id
    assert week["dates"] == [f"2026-12-{d:02d}" for d in range(7, 12)]
    assert [day["date"] for day in week["days"]] == week["dates"]
    assert {item["visit_id"]: item["code"] for item in week["unassigned"]} == {
        "L1": "beyond_horizon"
    }
    assert {(r["visit_id"], r["status"]) for r in week["rounds"]} == {
        ("R1@2026-12-08", "planned"),
        ("R2@2026-12-07", "overdue"),
    }
    assert week["kpis"]["assigned"] == 7 == done["progress"]["visits_placed"]
    # The days planned in turn are the week's first plan, told before the search as a whole.
    first = done["progress"]["first_plan_s"]
    assert first is not None and 0 < first <= done["progress"]["elapsed_s"]

    # Every date is an ordinary plan, stored with its own day, and it passes the checker.
    for day in week["days"]:
        plan = client.get(f"/v1/plans/{day['plan_id']}", headers=auth)
        assert plan.status_code == 200, plan.text
        assert plan.json()["date"] == day["date"]
        day_raw = client.get(f"/v1/problems/{day['problem_id']}", headers=auth).json()
        lookup = pair_lookup(provider_for(parse_problem(day_raw)))
        report = check_plan(day_raw, plan.json(), lookup)
        assert report.ok, (day["date"], report.violations)

    listed = client.get("/v1/weeks", headers=auth).json()
    assert [(w["week_id"], w["problem_id"], w["start"], w["days"]) for w in listed] == [
        (week_id, problem_id, "2026-12-07", 5)
    ]
    assert listed[0]["plans"] == [day["plan_id"] for day in week["days"]]

    not_a_plan = client.get(f"/v1/plans/{week_id}", headers=auth)
    assert not_a_plan.status_code == 404
    assert "is a week" in not_a_plan.json()["detail"]
    assert f"/v1/weeks/{week_id}" in not_a_plan.json()["detail"]
    # Events sent to it are told the same (they were told "no plan").
    batch = {"at": "08:00", "events": [{"type": "delay", "technician_id": "T1", "minutes": 5}]}
    sent = client.post(f"/v1/plans/{week_id}/events", json=batch, headers=auth)
    assert sent.status_code == 404 and "is a week" in sent.json()["detail"]
    for path in ("routes/T1", "map", "report", "versions"):
        read = client.get(f"/v1/plans/{week_id}/{path}", headers=auth)
        assert read.status_code == 404 and "is a week" in read.json()["detail"], path


def test_the_newest_week_is_listed_first(service: Service) -> None:
    _, first = solved_week(service)
    _, second = solved_week(service)
    listed = service.client.get("/v1/weeks?limit=5", headers=service.auth).json()
    assert [w["week_id"] for w in listed] == [second["week_id"], first["week_id"]]
    one = service.client.get("/v1/weeks?limit=1", headers=service.auth).json()
    assert [w["week_id"] for w in one] == [second["week_id"]]


def test_a_bad_horizon_is_refused_naming_each_field_and_stores_nothing(
    service: Service,
) -> None:
    bad = week_horizon()
    bad["visits"][0]["date"] = "2026-12-20"  # after the horizon's last date
    bad["visits"][3]["latest"] = "2026-12-08T09:00"  # before its earliest
    answer = service.client.post("/v1/problems", json=bad, headers=service.auth)
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert body["detail"] == "invalid problem: 2 errors"
    assert {(e["path"], e["id"]) for e in body["errors"]} == {
        ("visits[0].date", "A1"),
        ("visits[3].latest", "F2"),
    }
    assert "outside the horizon" in body["errors"][0]["message"]
    assert service.client.get("/v1/problems", headers=service.auth).json() == []


def test_unknown_weeks_are_named_in_a_404(service: Service) -> None:
    client, auth = service.client, service.auth
    for method, path in (("get", "/v1/weeks/wk_nope"), ("post", "/v1/weeks/wk_nope/roll")):
        body = {"from": "2026-12-14"} if method == "post" else None
        answer = client.request(method, path, json=body, headers=auth)
        assert answer.status_code == 404, answer.text
        assert "wk_nope" in answer.json()["detail"]
    plan_id = service.solved_plan()
    answer = client.get(f"/v1/weeks/{plan_id}", headers=auth)
    assert answer.status_code == 404 and f"/v1/plans/{plan_id}" in answer.json()["detail"]
    # A plan id of no stored plan was said to be one ("read it at /v1/plans/pl_nothere").
    answer = client.get("/v1/weeks/pl_nothere", headers=auth)
    assert answer.status_code == 404 and "/v1/plans/" not in answer.json()["detail"]
    assert "pl_nothere" in answer.json()["detail"]


def test_a_week_not_solved_yet_says_which_job_makes_it(service: Service) -> None:
    problem_id = service.post_problem(week_horizon())
    store = Store(service.database_url)
    try:  # a job nobody runs: it stays queued
        job = store.create_job(
            problem_id=problem_id, time_limit_s=1, visits_total=7, produces="week"
        )
    finally:
        store.close()
    answer = service.client.get(f"/v1/weeks/{job.plan_id}", headers=service.auth)
    assert answer.status_code == 404
    assert answer.json()["detail"] == f"week {job.plan_id} is not ready: job {job.id} is queued"
    assert service.client.get("/v1/weeks", headers=service.auth).json() == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/v1/weeks"),
        ("get", "/v1/weeks/wk_x"),
        ("post", "/v1/weeks/wk_x/roll"),
    ],
)
def test_weeks_need_a_dispatchers_key(service: Service, method: str, path: str) -> None:
    for headers in ({}, {"Authorization": "Bearer fr_wrong"}):
        answer = service.client.request(method, path, headers=headers)
        assert answer.status_code == 401, (path, headers, answer.text)


def test_a_week_rolls_forward_into_a_stored_horizon(service: Service) -> None:
    client, auth = service.client, service.auth
    _, week = solved_week(service)
    monday = week["days"][0]
    events = {
        "at": "10:30",
        "events": [
            {"type": "arrived", "visit_id": "A1", "at": "09:30"},
            {"type": "completed", "visit_id": "A1", "at": "10:15"},
        ],
    }
    replanned = client.post(f"/v1/plans/{monday['plan_id']}/events", json=events, headers=auth)
    assert replanned.status_code == 201, replanned.text

    answer = client.post(
        f"/v1/weeks/{week['week_id']}/roll", json={"from": "2026-12-09"}, headers=auth
    )
    assert answer.status_code == 201, answer.text
    rolled = answer.json()
    assert rolled["week_id"] == week["week_id"]
    assert answer.headers["Location"] == f"/v1/problems/{rolled['problem_id']}"
    horizon = rolled["problem"]
    assert horizon["horizon"] == {"start": "2026-12-09", "days": 5}
    ids = {visit["id"] for visit in horizon["visits"]}
    assert "A1" not in ids, "reported done"
    assert {"L1", "W1"} <= ids, "still open"
    stored = client.get(f"/v1/problems/{rolled['problem_id']}", headers=auth)
    assert stored.status_code == 200 and stored.json() == horizon

    # Assumed done, every stop of the days before 2026-12-09 stays behind.
    assumed = client.post(
        f"/v1/weeks/{week['week_id']}/roll",
        json={"from": "2026-12-09", "days": 3, "assume_done": True},
        headers=auth,
    )
    assert assumed.status_code == 201, assumed.text
    earlier = {
        visit_id
        for day in week["days"][:2]
        for visit_id in _stops(service, day["plan_id"])
        if "@" not in visit_id
    }
    assert earlier and not earlier & {v["id"] for v in assumed.json()["problem"]["visits"]}
    assert assumed.json()["problem"]["horizon"] == {"start": "2026-12-09", "days": 3}


def _stops(service: Service, plan_id: str) -> list[str]:
    plan = service.client.get(f"/v1/plans/{plan_id}", headers=service.auth).json()
    return [stop["visit_id"] for route in plan["routes"] for stop in route["stops"]]


#: Bad bodies of a roll, and the field each names.
BAD_ROLLS: list[tuple[dict[str, Any], str]] = [
    ({}, "from"),
    ({"from": "2026-02-30"}, "from"),
    ({"from": "next monday"}, "from"),
    ({"from": "9999-12-31"}, "from"),  # once a 500: the next horizon ran off the calendar
    ({"from": "2026-12-06"}, "from"),  # the day before the week: once stored as its horizon
    ({"from": "2026-12-14", "days": 0}, "days"),
    # Past the contract's last year: once named horizon.days, a field of the problem built.
    ({"from": "2999-12-28", "days": 5}, "days"),
    ({"from": "2026-12-14", "days": "5"}, "days"),
    ({"from": "2026-12-14", "assume_done": "yes"}, "assume_done"),
    ({"from": "2026-12-14", "until": "2026-12-20"}, "until"),
]


def test_a_bad_roll_is_refused_naming_the_field(service: Service) -> None:
    _, week = solved_week(service)
    stored = len(service.client.get("/v1/problems", headers=service.auth).json())
    for body, path in BAD_ROLLS:
        answer = service.client.post(
            f"/v1/weeks/{week['week_id']}/roll", json=body, headers=service.auth
        )
        assert answer.status_code == 422, (body, answer.text)
        assert [e["path"] for e in answer.json()["errors"]] == [path], body
    assert len(service.client.get("/v1/problems", headers=service.auth).json()) == stored
