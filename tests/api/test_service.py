"""The HTTP service end to end, on SQLite and PostgreSQL: every endpoint, and the 401, 403,
404, 409, 413 and 422 answers."""

from __future__ import annotations

import copy
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.links import sign_route_link
from dispatch.persistence import ProblemRow, Store
from tests.api.conftest import TEST_NOW, Service, make_key, start_service
from tests.conftest import STRANDED_T2, line_day

DELAY = {"at": "09:00", "events": [{"type": "delay", "technician_id": "T1", "minutes": 40}]}


def problems_stored(database_url: str) -> int:
    store = Store(database_url)
    try:
        with Session(store.engine) as session:
            return int(session.scalar(select(func.count()).select_from(ProblemRow)) or 0)
    finally:
        store.close()


def test_healthz_needs_no_key(service: Service) -> None:
    answer = service.client.get("/healthz")
    assert answer.status_code == 200
    assert answer.json() == {
        "status": "ok",
        "database": "ok",
        "roads": None,
        "queue": None,
        "worker_losses": 0,
        "last_worker_loss": None,
    }
    probed = service.client.head("/healthz")  # a load balancer's probe got 405
    assert probed.status_code == 200 and probed.content == b""


class _Refusing(BaseHTTPRequestHandler):
    """A road server that answers every request as OSRM does one it cannot serve."""

    def do_GET(self) -> None:
        self.send_response(400)
        self.end_headers()
        self.wfile.write(b'{"code":"NoSegment"}')

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_healthz_is_degraded_while_the_road_server_does_not_answer(tmp_path: Path) -> None:
    # It said ok while the service's own osrm-routed was gone and every solve on roads failed.
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Refusing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    roads = f"http://127.0.0.1:{server.server_address[1]}"
    with start_service(f"sqlite:///{tmp_path / 'health.db'}", roads=roads) as client:
        answer = client.get("/healthz")
        assert (answer.status_code, answer.json()["roads"]) == (200, "ok")
        server.shutdown()
        server.server_close()
        answer = client.get("/healthz")
        assert answer.status_code == 503
        assert answer.json() | {"worker_losses": 0} == {
            "status": "degraded",
            "database": "ok",
            "roads": "unreachable",
            "queue": None,
            "worker_losses": 0,
            "last_worker_loss": None,
        }


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/v1/problems"),
        ("get", "/v1/problems/pb_x"),
        ("post", "/v1/plans"),
        ("get", "/v1/jobs/jb_x"),
        ("post", "/v1/jobs/jb_x/retry"),
        ("get", "/v1/plans/pl_x"),
        ("get", "/v1/plans/pl_x/versions"),
        ("get", "/v1/plans/pl_x/versions/1"),
        ("post", "/v1/plans/pl_x/events"),
        ("get", "/v1/plans/pl_x/changes"),
        ("get", "/v1/plans/pl_x/routes/T1"),
        ("post", "/v1/plans/pl_x/routes/T1/link"),
        ("get", "/v1/plans/pl_x/map"),
        ("get", "/v1/plans/pl_x/routes/T1/map"),
    ],
)
def test_every_endpoint_needs_a_key(service: Service, method: str, path: str) -> None:
    for headers in ({}, {"Authorization": "Bearer fr_wrong"}, {"X-API-Key": "nope"}):
        answer = service.client.request(method, path, headers=headers)
        assert answer.status_code == 401, (path, headers, answer.text)
        assert answer.headers["WWW-Authenticate"] == "Bearer"
        assert answer.json()["detail"]


def test_a_revoked_key_stops_working(service: Service) -> None:
    assert service.client.get("/v1/jobs/jb_x", headers=service.auth).status_code == 404
    store = Store(service.database_url)
    store.revoke_api_key(store.api_keys()[0].id)
    store.close()
    assert service.client.get("/v1/jobs/jb_x", headers=service.auth).status_code == 401


def test_a_problem_is_stored_only_when_valid(service: Service) -> None:
    problem_id = service.post_problem()
    stored = service.client.get(f"/v1/problems/{problem_id}", headers=service.auth)
    assert stored.status_code == 200 and stored.json() == line_day()
    bad = line_day()
    bad["visits"][1]["duration_min"] = -5
    bad["visits"][2]["window"] = {"start": "25:00", "end": "10:00"}
    answer = service.client.post("/v1/problems", json=bad, headers=service.auth)
    assert answer.status_code == 422
    body = answer.json()
    assert body["detail"] == "invalid problem: 2 errors"
    assert {(e["path"], e["id"]) for e in body["errors"]} == {
        ("visits[1].duration_min", "V2"),
        ("visits[2].window.start", "V3"),
    }
    broken = service.client.post(
        "/v1/problems",
        content=b"{not json",
        headers=service.auth | {"Content-Type": "application/json"},
    )
    assert broken.status_code == 422 and "JSON" in broken.text
    wrong_type = service.client.post(
        "/v1/problems", content=b"x", headers=service.auth | {"Content-Type": "text/plain"}
    )
    assert (
        wrong_type.status_code == 422 and wrong_type.json()["errors"][0]["path"] == "content-type"
    )
    assert problems_stored(service.database_url) == 1
    assert service.client.get("/v1/problems/pb_x", headers=service.auth).status_code == 404


def test_a_solve_job_reports_progress_and_stores_the_plan_before_done(service: Service) -> None:
    problem_id = service.post_problem()
    answer = service.client.post(
        "/v1/plans", json={"problem_id": problem_id, "time_limit_s": 1}, headers=service.auth
    )
    assert answer.status_code == 202
    job = answer.json()
    assert answer.headers["Location"] == f"/v1/jobs/{job['id']}"
    assert job["state"] in ("queued", "running") and job["progress"]["visits_total"] == 3
    done = service.wait(job["id"])
    assert done["state"] == "done" and done["finished_at"] and done["error"] is None
    assert done["progress"]["visits_placed"] == 3 and done["progress"]["elapsed_s"] > 0
    plan = service.client.get(f"/v1/plans/{done['plan_id']}", headers=service.auth)
    assert plan.status_code == 200 and plan.headers["ETag"] == '"1"'
    assert plan.json()["version"] == 1 and plan.json()["kpis"]["assigned"] == 3
    versions = service.client.get(f"/v1/plans/{done['plan_id']}/versions", headers=service.auth)
    assert versions.json() == {"plan_id": done["plan_id"], "versions": [1]}
    first = service.client.get(f"/v1/plans/{done['plan_id']}/versions/1", headers=service.auth)
    assert first.json() == plan.json()


def test_unknown_ids_are_404_and_bad_requests_422(service: Service) -> None:
    auth = service.auth
    assert service.client.get("/v1/plans/pl_x", headers=auth).status_code == 404
    assert service.client.get("/v1/plans/pl_x/versions", headers=auth).status_code == 404
    assert service.client.get("/v1/plans/pl_x/changes", headers=auth).status_code == 404
    missing = service.client.post("/v1/plans", json={"problem_id": "pb_x"}, headers=auth)
    assert missing.status_code == 404 and "pb_x" in missing.json()["detail"]
    bad = service.client.post(
        "/v1/plans", json={"problem_id": "pb_x", "time_limit_s": -1}, headers=auth
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["path"] == "time_limit_s"
    plan_id = service.solved_plan()
    assert service.client.get(f"/v1/plans/{plan_id}/versions/9", headers=auth).status_code == 404
    nobody = service.client.get(f"/v1/plans/{plan_id}/routes/T9", headers=auth)
    assert nobody.status_code == 404 and "T9" in nobody.json()["detail"]
    # The driver page's worker exists only beside a page that does.
    worker = service.client.get(f"/v1/plans/{plan_id}/routes/T1/offline.js", headers=auth)
    assert worker.status_code == 200 and "fetch" in worker.text
    for path in (
        f"/v1/plans/{plan_id}/routes/T9/offline.js",
        "/v1/plans/pl_x/routes/T1/offline.js",
    ):
        assert service.client.get(path, headers=auth).status_code == 404, path
    assert service.client.get(f"/v1/plans/{plan_id}/versions/x", headers=auth).status_code == 422


def test_every_read_of_a_plan_whose_job_has_not_stored_it_says_so(service: Service) -> None:
    # The plan said "not ready: job ... is queued" while its map, routes and driver pages said
    # there was no such plan.
    problem_id = service.post_problem()
    store = Store(service.database_url)
    try:  # a job nobody runs: it stays queued
        job = store.create_job(problem_id=problem_id, time_limit_s=1, visits_total=3)
    finally:
        store.close()
    waiting = f"plan {job.plan_id} is not ready: job {job.id} is queued"
    for path in ("", "/map", "/routes/T1", "/routes/T1/map", "/routes/T1/offline.js"):
        answer = service.client.get(f"/v1/plans/{job.plan_id}{path}", headers=service.auth)
        assert answer.status_code == 404, path
        assert answer.json()["detail"] == waiting, path


def test_events_make_the_next_version_and_a_stale_batch_is_409(service: Service) -> None:
    plan_id = service.solved_plan()
    auth = service.auth
    answer = service.client.post(
        f"/v1/plans/{plan_id}/events", json=DELAY, headers=auth | {"If-Match": '"1"'}
    )
    assert answer.status_code == 201, answer.text
    assert answer.headers["ETag"] == '"2"'
    assert answer.headers["Location"] == f"/v1/plans/{plan_id}/versions/2"
    assert answer.json()["version"] == 2 and answer.json()["at"]
    stale = service.client.post(
        f"/v1/plans/{plan_id}/events", json=DELAY, headers=auth | {"If-Match": '"1"'}
    )
    assert stale.status_code == 409 and "version 2" in stale.json()["detail"]
    in_body = service.client.post(f"/v1/plans/{plan_id}/events", json=DELAY | {"version": 1})
    assert in_body.status_code == 401
    in_body = service.client.post(
        f"/v1/plans/{plan_id}/events", json=DELAY | {"version": 1}, headers=auth
    )
    assert in_body.status_code == 409
    versions = service.client.get(f"/v1/plans/{plan_id}/versions", headers=auth).json()
    assert versions["versions"] == [1, 2]
    changes = service.client.get(f"/v1/plans/{plan_id}/changes", headers=auth).json()
    assert changes["latest_version"] == 2 and [v["version"] for v in changes["versions"]] == [2]
    moved = changes["versions"][0]["changes"]
    assert moved and all(c["moved_min"] == 40 for c in moved)
    calls = service.client.get(f"/v1/plans/{plan_id}/changes?notify=true", headers=auth).json()
    assert all(c["notify"] for c in calls["versions"][0]["changes"])
    assert calls["versions"][0]["changes"], "a 40-minute delay is past the 15-minute tolerance"


def test_two_batches_on_one_version_never_lose_an_update(service: Service) -> None:
    plan_id = service.solved_plan()
    headers = service.auth | {"If-Match": '"1"'}

    def post(minutes: int) -> int:
        batch = {
            "at": "09:00",
            "events": [{"type": "delay", "technician_id": "T1", "minutes": minutes}],
        }
        return service.client.post(
            f"/v1/plans/{plan_id}/events", json=batch, headers=headers
        ).status_code

    with ThreadPoolExecutor(max_workers=2) as pool:
        codes = sorted(pool.map(post, (20, 30)))
    assert codes == [201, 409]
    assert service.client.get(f"/v1/plans/{plan_id}/versions", headers=service.auth).json()[
        "versions"
    ] == [1, 2]


def test_bad_events_are_422_naming_the_event_and_nothing_is_stored(service: Service) -> None:
    plan_id = service.solved_plan()
    batch = {
        "at": "09:00",
        "events": [
            {"type": "cancelled", "visit_id": "V9"},
            {"type": "delay", "technician_id": "T1", "minutes": -3},
        ],
    }
    answer = service.client.post(f"/v1/plans/{plan_id}/events", json=batch, headers=service.auth)
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["path"].startswith("events[1]")
    assert answer.json()["errors"][0]["id"] == "T1"
    unknown = {"at": "09:00", "events": [{"type": "cancelled", "visit_id": "V9"}]}
    answer = service.client.post(f"/v1/plans/{plan_id}/events", json=unknown, headers=service.auth)
    assert answer.status_code == 422 and "V9" in answer.text
    not_a_version = service.client.post(
        f"/v1/plans/{plan_id}/events", json=DELAY, headers=service.auth | {"If-Match": "latest"}
    )
    assert not_a_version.status_code == 422
    zero = service.client.post(  # as "version": 0 in the body; it was a 409
        f"/v1/plans/{plan_id}/events", json=DELAY, headers=service.auth | {"If-Match": '"0"'}
    )
    assert zero.status_code == 422 and zero.json()["errors"][0]["path"] == "If-Match"
    # A version the plan never had: 409 "reload it and send the events again" was advice that
    # never helps (a client following it retried for ever); named as booking names it.
    for headers, body, field in (
        ({"If-Match": '"99"'}, DELAY, "If-Match"),
        ({}, DELAY | {"version": 99}, "version"),
    ):
        ahead = service.client.post(
            f"/v1/plans/{plan_id}/events", json=body, headers=service.auth | headers
        )
        assert ahead.status_code == 422, ahead.text
        [error] = ahead.json()["errors"]
        assert error["path"] == field and "has no version 99: its latest is 1" in error["message"]
    nowhere = service.client.post("/v1/plans/pl_x/events", json=DELAY, headers=service.auth)
    assert nowhere.status_code == 404
    versions = service.client.get(f"/v1/plans/{plan_id}/versions", headers=service.auth).json()
    assert versions["versions"] == [1]
    # "*" is any version (RFC 9110): the latest. It was refused as no version (a fresh-eyes
    # hunt of the week's booking).
    anyone = service.client.post(
        f"/v1/plans/{plan_id}/events", json=DELAY, headers=service.auth | {"If-Match": "*"}
    )
    assert anyone.status_code == 201, anyone.text


def test_a_driver_link_opens_its_own_route_and_nothing_else(service: Service) -> None:
    day = line_day()
    day["technicians"].append(day["technicians"][0] | {"id": "T2", "name": "Wang Fang"})
    day["visits"][0]["phone"] = "+86 138 0000 0001"
    plan_id = service.solved_plan(day)
    link = service.client.post(f"/v1/plans/{plan_id}/routes/T1/link", headers=service.auth)
    assert link.status_code == 200
    token = link.json()["token"]
    assert link.json()["url"].endswith(f"/v1/plans/{plan_id}/routes/T1?token={token}")
    assert link.json()["expires_at"].startswith("2026-11-24T00:00:00+08:00")
    route = service.client.get(f"/v1/plans/{plan_id}/routes/T1", params={"token": token})
    assert route.status_code == 200, route.text
    body = route.json()
    assert body["technician_name"] == "Li Wei"
    assert [s["sequence"] for s in body["stops"]] == list(range(1, len(body["stops"]) + 1))
    for stop in body["stops"]:
        assert stop["eta"] and stop["promised_window"] and stop["customer"]
    assert "+86 138 0000 0001" in {s["phone"] for s in body["stops"]}
    as_bearer = {"Authorization": f"Bearer {token}"}
    assert (
        service.client.get(f"/v1/plans/{plan_id}/routes/T1", headers=as_bearer).status_code == 200
    )
    other = service.client.get(f"/v1/plans/{plan_id}/routes/T2", params={"token": token})
    assert other.status_code == 403
    for path in (f"/v1/plans/{plan_id}", f"/v1/plans/{plan_id}/changes", "/v1/jobs/jb_x"):
        assert service.client.get(path, headers=as_bearer).status_code == 403, path
    by_desk = service.client.get(f"/v1/plans/{plan_id}/routes/T2", headers=service.auth)
    assert by_desk.status_code == 200 and by_desk.json()["technician_id"] == "T2"


def test_a_driver_link_opens_as_given_whatever_the_technician_id_holds(service: Service) -> None:
    # Written raw into the link, '#' put the token in the fragment and '?' in the query's
    # name: the link opened nothing (401).
    for odd in ("T#1", "T?1", "Lì Wěi 1"):
        day = line_day()
        day["technicians"][0]["id"] = odd
        plan_id = service.solved_plan(day)
        address = f"/v1/plans/{plan_id}/routes/{quote(odd, safe='')}"
        made = service.client.post(f"{address}/link", headers=service.auth)
        assert made.status_code == 200, made.text
        for url in (made.json()["url"], made.json()["map_url"]):
            parts = urlsplit(url)
            opened = service.client.get(f"{parts.path}?{parts.query}")
            assert opened.status_code == 200, (url, opened.text)
    # An id with '/' could never be addressed: refused when the day is sent.
    day = line_day()
    day["technicians"][0]["id"] = "T/1"
    answer = service.client.post("/v1/problems", json=day, headers=service.auth)
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["path"] == "technicians[0].id"


def test_the_maps_are_served_to_the_desk_and_to_the_driver_link(service: Service) -> None:
    day = line_day()
    locations = [{"lat": 22.80, "lon": 113.80 + 0.01 * i} for i in range(4)]
    day["travel"]["locations"] = locations
    day["technicians"].append(day["technicians"][0] | {"id": "T2", "name": "Wang Fang"})
    plan_id = service.solved_plan(day)
    plan = service.client.get(f"/v1/plans/{plan_id}", headers=service.auth).json()
    stops = sum(len(route["stops"]) for route in plan["routes"])

    desk = service.client.get(f"/v1/plans/{plan_id}/map", headers=service.auth)
    assert desk.status_code == 200 and desk.headers["content-type"].startswith("text/html")
    # Marker icons sit in the page's script as JSON strings, quotes escaped.
    assert desk.text.count('class=\\"fr-stop\\"') == stops == 3
    assert desk.text.count('class=\\"fr-base\\"') == 2
    assert "<script src=" not in desk.text, "Leaflet comes inline, never from a CDN"
    again = service.client.get(f"/v1/plans/{plan_id}/map?version=1", headers=service.auth)
    assert again.text == desk.text
    missing = service.client.get(f"/v1/plans/{plan_id}/map?version=9", headers=service.auth)
    assert missing.status_code == 404

    link = service.client.post(f"/v1/plans/{plan_id}/routes/T1/link", headers=service.auth)
    token = link.json()["token"]
    assert link.json()["map_url"].endswith(f"/v1/plans/{plan_id}/routes/T1/map?token={token}")
    page = service.client.get(f"/v1/plans/{plan_id}/routes/T1/map", params={"token": token})
    assert page.status_code == 200, page.text
    assert page.text.count('class="fr-item') == stops
    assert 'name="viewport"' in page.text
    other = service.client.get(f"/v1/plans/{plan_id}/routes/T2/map", params={"token": token})
    assert other.status_code == 403
    assert (
        service.client.get(f"/v1/plans/{plan_id}/map", params={"token": token}).status_code == 403
    )
    unknown = service.client.get(f"/v1/plans/{plan_id}/routes/T9/map", headers=service.auth)
    assert unknown.status_code == 404 and "T9" in unknown.json()["detail"]


def test_a_driver_link_expires_at_midnight_after_its_day(database_url: str) -> None:
    key = make_key(database_url)
    with start_service(database_url) as client:
        service = Service(client, database_url, key)
        plan_id = service.solved_plan()
        link = client.post(f"/v1/plans/{plan_id}/routes/T1/link", headers=service.auth)
    token = link.json()["token"]
    midnight = datetime(2026, 11, 24, tzinfo=ZoneInfo("Asia/Shanghai"))
    for now, status in ((midnight - timedelta(seconds=1), 200), (midnight, 401)):
        with start_service(database_url, now=now) as client:
            answer = client.get(f"/v1/plans/{plan_id}/routes/T1", params={"token": token})
            assert answer.status_code == status, now


def test_expired_and_forged_driver_links_are_401(service: Service) -> None:
    plan_id = service.solved_plan()
    secret = service.client.app.state.link_secret  # type: ignore[attr-defined]
    store = Store(service.database_url)
    try:
        issuer = store.api_key_for(service.key)
    finally:
        store.close()
    assert issuer is not None
    expired = sign_route_link(
        secret, plan_id, "T1", TEST_NOW - timedelta(minutes=1), issued_by=issuer.id
    )
    answer = service.client.get(f"/v1/plans/{plan_id}/routes/T1", params={"token": expired})
    assert answer.status_code == 401 and "expired" in answer.json()["detail"]
    forged = sign_route_link(
        "0" * 64, plan_id, "T1", TEST_NOW + timedelta(hours=1), issued_by=issuer.id
    )
    answer = service.client.get(f"/v1/plans/{plan_id}/routes/T1", params={"token": forged})
    assert answer.status_code == 401


def test_revoking_a_key_closes_the_driver_links_it_issued(service: Service) -> None:
    """A stolen phone: the desk revokes the key that made its link, and the link dies at once,
    not at midnight; links made with another key still open."""
    plan_id = service.solved_plan()
    route = f"/v1/plans/{plan_id}/routes/T1"
    stolen = service.client.post(f"{route}/link", headers=service.auth).json()["token"]
    other_key = make_key(service.database_url, "evening desk")
    other = {"Authorization": f"Bearer {other_key}"}
    kept = service.client.post(f"{route}/link", headers=other).json()["token"]
    store = Store(service.database_url)
    try:
        issuer = store.api_key_for(service.key)
        assert issuer is not None
        store.revoke_api_key(issuer.id)
    finally:
        store.close()
    answer = service.client.get(route, params={"token": stolen})
    assert answer.status_code == 401 and "revoked" in answer.json()["detail"]
    report = service.client.post(f"{route}/events", params={"token": stolen}, json={"events": []})
    assert report.status_code == 401
    assert service.client.get(route, params={"token": kept}).status_code == 200


def test_oversized_requests_are_413(database_url: str) -> None:
    key = make_key(database_url)
    with start_service(database_url, max_upload_mb=0.001) as client:
        auth = {"Authorization": f"Bearer {key}"}
        big = line_day(
            visits=[{"id": f"V{i}", "location_index": 1, "duration_min": 5} for i in range(200)]
        )
        answer = client.post("/v1/problems", json=big, headers=auth)
        assert answer.status_code == 413 and "larger than" in answer.json()["detail"]

        def chunks() -> Any:
            for _ in range(10):
                yield b" " * 500

        streamed = client.post(
            "/v1/problems", content=chunks(), headers=auth | {"Content-Type": "application/json"}
        )
        assert streamed.status_code == 413
    assert problems_stored(database_url) == 0


def test_a_day_uploads_as_two_csv_sheets(service: Service) -> None:
    from tests.dispatch.test_sheets import TECHNICIANS_CSV, VISITS_CSV

    files = {
        "technicians": ("technicians.csv", TECHNICIANS_CSV.encode(), "text/csv"),
        "visits": ("visits.csv", VISITS_CSV.encode(), "text/csv"),
    }
    form = {"date": "2026-11-23", "timezone": "Asia/Shanghai", "policy": '{"time_limit_s": 1}'}
    answer = service.client.post("/v1/problems", data=form, files=files, headers=service.auth)
    assert answer.status_code == 201, answer.text
    assert answer.json()["technicians"] == 2 and answer.json()["visits"] == 3
    stored = service.client.get(f"/v1/problems/{answer.json()['problem_id']}", headers=service.auth)
    assert stored.json()["policy"] == {"time_limit_s": 1}
    assert stored.json()["visits"][0]["window"] == {"start": "09:00", "end": "12:00"}


def test_a_bad_upload_is_422_naming_sheet_row_and_column(service: Service) -> None:
    from tests.dispatch.test_sheets import TECHNICIANS_CSV, VISITS_CSV

    visits = VISITS_CSV.replace("45,09:00,12:00", "45,9h00,12:00")
    files = {
        "technicians": ("technicians.csv", TECHNICIANS_CSV.encode(), "text/csv"),
        "visits": ("visits.csv", visits.encode(), "text/csv"),
    }
    answer = service.client.post(
        "/v1/problems", data={"date": "2026-11-23"}, files=files, headers=service.auth
    )
    assert answer.status_code == 422
    assert answer.json()["errors"] == [
        {
            "path": "visits sheet, row 2, column window_start",
            "message": "'9h00' is not a time HH:MM",
            "id": "V1",
        }
    ]
    one_file = {"visits": files["visits"]}
    answer = service.client.post(
        "/v1/problems", data={"date": "2026-11-23"}, files=one_file, headers=service.auth
    )
    assert answer.status_code == 422 and "workbook" in answer.json()["errors"][0]["message"]
    no_date = service.client.post("/v1/problems", files=files, headers=service.auth)
    assert no_date.status_code == 422 and no_date.json()["errors"][0]["path"] == "date"
    assert problems_stored(service.database_url) == 0


def test_a_plan_says_which_technician_could_get_no_route_and_why(service: Service) -> None:
    day = line_day()
    day["technicians"].append(copy.deepcopy(STRANDED_T2))
    plan_id = service.solved_plan(day)
    auth = service.auth
    first = service.client.get(f"/v1/plans/{plan_id}", headers=auth).json()
    (stranded,) = first["technicians_without_route"]
    assert stranded["technician_id"] == "T2"
    assert "inside their shift (08:00-08:20) even serving no visit" in stranded["reason"]
    assert [route["technician_id"] for route in first["routes"]] == ["T1"]
    # Their driver link says why too (the route and its page); a working driver's says nothing.
    route = service.client.get(f"/v1/plans/{plan_id}/routes/T2", headers=auth).json()
    assert route["stops"] == [] and route["no_route"] == stranded["reason"]
    assert (
        "no_route" not in service.client.get(f"/v1/plans/{plan_id}/routes/T1", headers=auth).json()
    )
    page = service.client.get(f"/v1/plans/{plan_id}/routes/T2/map", headers=auth).text
    assert "No route today: cannot get from their start to their end" in page
    # A re-planned version still says so; a day where everyone can work says nothing.
    answer = service.client.post(f"/v1/plans/{plan_id}/events", json=DELAY, headers=auth)
    assert answer.status_code == 201, answer.text
    assert answer.json()["technicians_without_route"] == first["technicians_without_route"]
    other = service.solved_plan()
    assert (
        "technicians_without_route"
        not in service.client.get(f"/v1/plans/{other}", headers=auth).json()
    )
