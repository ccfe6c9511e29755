"""What an attacker or a careless client tried against the service: keys in URLs, bodies
before credentials, streamed bodies over the limit, links to days already over, a schema that
generated clients can trust, and connections that never send a request."""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import signal
import socket
import time
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.exc import OperationalError

from api.app import MIN_BODY_BYTES_PER_S, create_app
from api.server import HEAD_TIMEOUT_KEEP_ALIVES
from dispatch.persistence import Store
from tests.api.conftest import Service, make_key, start_service
from tests.api.test_readme_session import running_serve
from tests.conftest import line_day
from tests.processes import descendants, still_running

BATCH = {"at": "09:00", "events": [{"type": "delay", "technician_id": "T1", "minutes": 5}]}


def test_a_dispatcher_key_in_the_url_is_refused(service: Service) -> None:
    plan_id = service.solved_plan()
    answer = service.client.get(f"/v1/plans/{plan_id}", params={"token": service.key})
    assert answer.status_code == 401 and "Authorization header" in answer.json()["detail"]
    route = service.client.get(f"/v1/plans/{plan_id}/routes/T1", params={"token": service.key})
    assert route.status_code == 401
    # In a header it opens everything, as before; in the URL beside a header it is still
    # refused (it was let through, the key in the access log and nobody told).
    assert service.client.get(f"/v1/plans/{plan_id}", headers=service.auth).status_code == 200
    for header in (service.auth, {"X-API-Key": service.key}):
        both = service.client.get(
            f"/v1/plans/{plan_id}", params={"token": service.key}, headers=header
        )
        assert both.status_code == 401 and "never in the URL" in both.json()["detail"]


def test_no_key_is_401_even_with_a_bad_body(service: Service) -> None:
    plan_id = service.solved_plan()
    broken = {"Content-Type": "application/json"}
    for path in ("/v1/plans", f"/v1/plans/{plan_id}/events", "/v1/problems"):
        answer = service.client.post(path, content=b"{not json", headers=broken)
        assert answer.status_code == 401, (path, answer.text)
        assert answer.headers["WWW-Authenticate"] == "Bearer"
    wrong_shape = service.client.post("/v1/plans", json={"problem_id": 7})
    assert wrong_shape.status_code == 401
    # With the key, the same body is the caller's mistake: 422.
    answer = service.client.post(
        f"/v1/plans/{plan_id}/events", content=b"{not json", headers=broken | service.auth
    )
    assert answer.status_code == 422


def test_a_streamed_body_over_the_limit_is_413(database_url: str) -> None:
    key = make_key(database_url)
    auth = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    with start_service(database_url, max_upload_mb=0.01) as client:
        service = Service(client, database_url, key)
        plan_id = service.solved_plan()

        def chunks() -> Iterator[bytes]:  # no Content-Length: sent chunked
            yield b'{"at": "09:00", "events": ['
            for _ in range(200):
                yield b'{"type": "delay", "technician_id": "T1", "minutes": 5},'
            yield b"]}"

        answer = client.post(f"/v1/plans/{plan_id}/events", content=chunks(), headers=auth)
        assert answer.status_code == 413, answer.text
        assert "larger than 0.01 MB" in answer.json()["detail"]
        assert client.get(f"/v1/plans/{plan_id}", headers=auth).headers["ETag"] == '"1"'


def test_a_compressed_body_is_refused_naming_its_encoding(service: Service) -> None:
    # Read as it came, a gzipped day was refused as "not UTF-8 text": the client looked for
    # the fault in its JSON.
    day = json.dumps(line_day()).encode()
    for coding, body in (("gzip", gzip.compress(day)), ("br", day)):
        answer = service.client.post(
            "/v1/problems",
            content=body,
            headers=service.auth | {"Content-Type": "application/json", "Content-Encoding": coding},
        )
        assert answer.status_code == 415, answer.text
        [error] = answer.json()["errors"]
        assert error["path"] == "content-encoding" and error["message"].startswith(f"'{coding}'")
    plain = {"Content-Type": "application/json", "Content-Encoding": "identity"}
    answer = service.client.post("/v1/problems", content=day, headers=service.auth | plain)
    assert answer.status_code == 201, answer.text


def _posted_raw(
    client: Any, key: str, receive: Callable[[], Awaitable[dict[str, Any]]]
) -> list[dict[str, Any]]:
    """POST /v1/problems straight to the app, its body as ``receive`` gives it: what the
    app sent back."""
    sent: list[dict[str, Any]] = []

    async def send(message: Any) -> None:
        sent.append(dict(message))

    headers = [
        (b"host", b"testserver"),
        (b"authorization", f"Bearer {key}".encode()),
        (b"content-type", b"application/json"),
        (b"content-length", b"1000"),
    ]
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
        "method": "POST", "scheme": "http", "path": "/v1/problems",
        "raw_path": b"/v1/problems", "query_string": b"", "root_path": "",
        "headers": headers, "client": ("127.0.0.1", 50000), "server": ("testserver", 80),
        "state": dict(client.app_state),
    }  # fmt: skip

    async def call() -> None:
        await client.app(scope, receive, send)

    asyncio.run(call())
    return sent


def test_a_client_that_hangs_up_mid_body_is_no_crash(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Logged as "unhandled error" with two tracebacks (ClientDisconnect), each time.
    key = make_key(database_url)

    async def hung_up() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    with start_service(database_url) as client, caplog.at_level("INFO", logger="fieldroute.api"):
        sent = _posted_raw(client, key, hung_up)
    assert [m["status"] for m in sent if m["type"] == "http.response.start"] == [400]
    assert not [r for r in caplog.records if r.levelname == "ERROR"], caplog.text
    assert "client hung up during POST /v1/problems" in caplog.text


def test_a_body_that_stops_coming_is_answered_408(database_url: str) -> None:
    # A body sent a byte every 2 s held its connection for ever, before any credential was
    # read: 170 such connections took a server's file descriptors. A pause longer than the
    # head's deadline (twice keep_alive_s) ends the request.
    key = make_key(database_url)
    parts = [b'{"date": "2026-11-23", ']

    async def slow() -> dict[str, Any]:
        if parts:
            return {"type": "http.request", "body": parts.pop(), "more_body": True}
        await asyncio.sleep(5)
        return {"type": "http.request", "body": b"}", "more_body": False}

    with start_service(database_url, keep_alive_s=1) as client:
        started = time.monotonic()
        sent = _posted_raw(client, key, slow)
        waited = time.monotonic() - started
    assert [m["status"] for m in sent if m["type"] == "http.response.start"] == [408]
    assert b"stopped coming" in b"".join(m.get("body", b"") for m in sent)
    assert waited < 4


def _trickled(parts: int, every_s: float, size: int) -> Callable[[], Awaitable[dict[str, Any]]]:
    """A body's ``receive`` that gives ``parts`` parts of ``size`` bytes, one each ``every_s``,
    then the body's end."""
    left = [parts]

    async def receive() -> dict[str, Any]:
        await asyncio.sleep(every_s)
        left[0] -= 1
        return {"type": "http.request", "body": b" " * size, "more_body": left[0] > 0}

    return receive


def test_a_body_trickled_under_the_pause_limit_is_answered_408(database_url: str) -> None:
    # A byte every 0.2 s never paused past the limit (2 s here): such a body held its
    # connection as long as it was trickled, before any credential was read.
    key = make_key(database_url)
    with start_service(database_url, keep_alive_s=1) as client:
        started = time.monotonic()
        sent = _posted_raw(client, key, _trickled(parts=40, every_s=0.2, size=1))
        waited = time.monotonic() - started
        # A body that keeps the least rate may take longer than the pause limit in all.
        steady = _posted_raw(
            client, key, _trickled(parts=10, every_s=0.3, size=MIN_BODY_BYTES_PER_S)
        )
    assert [m["status"] for m in sent if m["type"] == "http.response.start"] == [408]
    detail = json.loads(b"".join(m.get("body", b"") for m in sent))["detail"]
    assert detail.startswith("the request body came too slowly (") and "1 kB/s" in detail
    assert 2 <= waited < 3.5
    assert [m["status"] for m in steady if m["type"] == "http.response.start"] == [422]


def test_a_link_for_a_day_already_over_is_refused(database_url: str) -> None:
    key = make_key(database_url)
    after = datetime(2026, 11, 24, 0, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    with start_service(database_url, now=after) as client:
        service = Service(client, database_url, key)
        plan_id = service.solved_plan()
        answer = client.post(f"/v1/plans/{plan_id}/routes/T1/link", headers=service.auth)
        assert answer.status_code == 409, answer.text
        assert "2026-11-23" in answer.json()["detail"] and "never open" in answer.json()["detail"]


def test_the_schema_declares_security_and_limits_as_the_service_enforces_them() -> None:
    schema = create_app().openapi()
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            if path == "/healthz":
                assert "security" not in operation
                continue
            expected: list[dict[str, list[str]]] = [{"apiKey": []}]
            # A driver's link opens their route, its page and worker, and posts its reports.
            if "/routes/{technician_id}" in path and not path.endswith("/link"):
                expected = [{"apiKey": []}, {"driverLink": []}]
            assert operation.get("security") == expected, (method, path)
            for parameter in operation.get("parameters", []):
                assert "anyOf" not in parameter["schema"], (path, parameter)
                if parameter["in"] == "path" and parameter["schema"]["type"] == "string":
                    assert parameter["schema"]["maxLength"] <= 64, (path, parameter)
    events = schema["paths"]["/v1/plans/{plan_id}/events"]["post"]["parameters"]
    if_match = next(p for p in events if p["name"] == "if-match")
    assert if_match["schema"]["type"] == "string" and not if_match.get("required", False)


#: The keep-alive idle limit the test's server is given, and so its head deadline (with the
#: default 5 s, 10 s: past this test's bound).
KEEP_ALIVE_S = 2
HEAD_TIMEOUT_S = HEAD_TIMEOUT_KEEP_ALIVES * KEEP_ALIVE_S


@pytest.mark.slow
def test_a_connection_that_sends_no_request_is_closed(tmp_path: Path) -> None:
    environment = {"FIELDROUTE_KEEP_ALIVE_S": str(KEEP_ALIVE_S)}
    with running_serve(tmp_path, environment=environment) as (port, _):
        silent = socket.create_connection(("127.0.0.1", port))
        # A head sent a byte at a time never completes either.
        trickle = socket.create_connection(("127.0.0.1", port))
        started = time.monotonic()
        for connection in (silent, trickle):
            connection.settimeout(HEAD_TIMEOUT_S + 10)
        for byte in b"GET /healthz HTTP/1.1\r\n":
            trickle.sendall(bytes([byte]))
            time.sleep(HEAD_TIMEOUT_S / 40)
        assert silent.recv(1) == b""
        assert trickle.recv(1) == b""
        assert HEAD_TIMEOUT_S - 1 < time.monotonic() - started < HEAD_TIMEOUT_S + 5
        silent.close()
        trickle.close()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz") as answer:
            assert answer.status == 200  # the server itself is fine


@pytest.mark.slow
def test_server_processes_end_when_their_supervisor_is_killed(tmp_path: Path) -> None:
    # uvicorn's workers do not watch their supervisor: once it was killed (SIGKILL) they went
    # on serving its port, orphaned, and a new `fieldroute serve` could not have it.
    with running_serve(tmp_path, "--processes", "2") as (port, _):
        (supervisor,) = [
            pid
            for pid in descendants(os.getpid())
            if f"--port\0{port}\0".encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
        ]
        started = descendants(supervisor)
        assert len(started) >= 2, "two server processes"
        os.kill(supervisor, signal.SIGKILL)
        assert not still_running(started, within_s=15)
        with pytest.raises(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5)


@pytest.mark.slow
def test_server_processes_slow_to_start_are_waited_for(tmp_path: Path) -> None:
    # Importing the service takes about uvicorn's 5 s health check on a quiet core: on a busy
    # machine each new server process of `serve --processes 2` was killed before it answered,
    # and another started in its place, for ever. Here each takes 6 s more to start.
    slow = tmp_path / "slow"
    slow.mkdir()
    (slow / "sitecustomize.py").write_text(
        "import sys, time\nif '--multiprocessing-fork' in sys.argv:\n    time.sleep(6)\n"
    )
    path = os.pathsep.join(filter(None, [str(slow), os.environ.get("PYTHONPATH")]))
    with running_serve(tmp_path, "--processes", "2", environment={"PYTHONPATH": path}):
        log = (tmp_path / "serve.log").read_text()
        deadline = time.monotonic() + 20
        while log.count("Started server process") < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
            log = (tmp_path / "serve.log").read_text()
    assert log.count("Started server process") == 2 and "died" not in log, log


def _call(port: int, key: str, method: str, path: str, body: Any = None) -> Any:
    """One JSON request to the service on ``port``; its answer's JSON."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


def _state_within(port: int, key: str, job_id: str, wanted: str, seconds: float) -> Any:
    deadline = time.monotonic() + seconds
    while (job := _call(port, key, "GET", f"/v1/jobs/{job_id}"))["state"] != wanted:
        assert time.monotonic() < deadline, job
        time.sleep(0.2)
    return job


@pytest.mark.slow
def test_a_job_whose_server_process_was_killed_fails_and_can_be_retried(tmp_path: Path) -> None:
    # Two server processes; the one holding a solve job is killed with its job's worker (an
    # OOM kill of both). uvicorn starts another in its place, which fails no running job (the
    # other's are alive): the job stayed running for ever and could not be retried.
    environment = {"FIELDROUTE_JOB_STALE_S": "2"}
    with running_serve(tmp_path, "--processes", "2", environment=environment) as (port, env):
        key = make_key(env["FIELDROUTE_DATABASE_URL"])
        day = line_day()
        day["policy"] = {"time_limit_s": 4, "stall_share": 0}  # a search of the whole 4 s
        problem = _call(port, key, "POST", "/v1/problems", day)
        job = _call(port, key, "POST", "/v1/plans", {"problem_id": problem["problem_id"]})
        _state_within(port, key, job["id"], "running", 20)
        time.sleep(1)

        def parent(pid: int) -> int:
            return int(Path(f"/proc/{pid}/stat").read_text().split()[3])

        def cpu(pid: int) -> int:
            return sum(map(int, Path(f"/proc/{pid}/stat").read_text().split()[13:15]))

        # Server processes and job workers are both spawned; a worker's parent is a server
        # process, a server process's the supervisor.
        spawned = {
            pid
            for pid in descendants(os.getpid())
            if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
        }
        workers = [pid for pid in spawned if parent(pid) in spawned]
        worker = max(workers, key=cpu)  # solving: the busiest
        holder = parent(worker)
        os.kill(holder, signal.SIGKILL)
        os.kill(worker, signal.SIGKILL)
        lost = _state_within(port, key, job["id"], "failed", 20)
        assert "no heartbeat for 2 s" in lost["error"]
        retried = _call(port, key, "POST", f"/v1/jobs/{job['id']}/retry")
        assert retried["attempt"] == 2
        _state_within(port, key, job["id"], "done", 60)


@pytest.mark.slow
def test_a_job_whose_service_was_killed_and_restarted_at_once_stores_its_plan(
    tmp_path: Path,
) -> None:
    # Killed (SIGKILL), the service's job worker finishes its job in hand; a service restarted
    # at once failed the job as left running, and the plan the worker then stored was thrown
    # away. The job is left to its heartbeat, which the worker goes on writing.
    with running_serve(tmp_path) as (port, env):
        key = make_key(env["FIELDROUTE_DATABASE_URL"])
        day = line_day()
        day["policy"] = {"time_limit_s": 4, "stall_share": 0}
        problem = _call(port, key, "POST", "/v1/problems", day)
        job = _call(port, key, "POST", "/v1/plans", {"problem_id": problem["problem_id"]})
        _state_within(port, key, job["id"], "running", 20)
        (server,) = [
            pid
            for pid in descendants(os.getpid())
            if f"--port\0{port}\0".encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
        ]
        os.kill(server, signal.SIGKILL)
        with running_serve(tmp_path) as (again, _):
            done = _state_within(again, key, job["id"], "done", 30)
            assert done["attempt"] == 1 and done["error"] is None


def test_a_database_that_cannot_be_reached_is_a_503_not_a_500(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PostgreSQL down: /healthz said 503, every other request answered 500 "internal error".
    def unreachable(*_: Any, **__: Any) -> Any:
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))

    monkeypatch.setattr(Store, "load_job", unreachable)
    answer = service.client.get("/v1/jobs/jb_x", headers=service.auth)
    assert answer.status_code == 503, answer.text
    assert answer.headers["Retry-After"] == "5"
    assert answer.json()["detail"] == "the database cannot be reached; try again shortly"
