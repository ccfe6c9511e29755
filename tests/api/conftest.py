"""Fixtures of the HTTP service: an app on each database with a dispatcher's key, and a
helper that takes a small day from a posted problem to a solved plan."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from api import cli
from api.app import create_app
from api.jobs import JobRunner
from dispatch.config import Settings
from dispatch.persistence import SolveJob, Store
from tests.conftest import line_day

#: The service's clock in tests: the morning of the test days (2026-11-23, Asia/Shanghai), when
#: their driver links are valid, whatever the date the suite runs on.
TEST_NOW = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
#: The CLI's clock in tests: before every test day, so that none is today (a batch of today
#: timed after the clock is refused) whatever the date the suite runs on. A CLI test of today's
#: rules sets its own.
CLI_NOW = datetime(2026, 11, 1, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def _cli_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "_now", lambda: CLI_NOW)


@dataclass
class Service:
    """A running app, its database and a dispatcher's key."""

    client: TestClient
    database_url: str
    key: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    def post_problem(self, day: dict[str, Any] | None = None) -> str:
        answer = self.client.post("/v1/problems", json=day or line_day(), headers=self.auth)
        assert answer.status_code == 201, answer.text
        problem_id: str = answer.json()["problem_id"]
        return problem_id

    def wait(self, job_id: str, timeout_s: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            job: dict[str, Any] = self.client.get(f"/v1/jobs/{job_id}", headers=self.auth).json()
            if job["state"] in ("done", "failed"):
                return job
            time.sleep(0.05)
        raise AssertionError(f"job {job_id} still {job['state']} after {timeout_s} s")

    def solved_plan(self, day: dict[str, Any] | None = None) -> str:
        problem_id = self.post_problem(day)
        body = {"problem_id": problem_id, "time_limit_s": 1}
        answer = self.client.post("/v1/plans", json=body, headers=self.auth)
        assert answer.status_code == 202, answer.text
        job = self.wait(answer.json()["id"])
        assert job["state"] == "done", job
        plan_id: str = job["plan_id"]
        return plan_id


def stored_job(database_url: str) -> tuple[Store, SolveJob]:
    """An open store holding ``line_day()`` as ``pb_day`` and a queued job solving it."""
    store = Store(database_url)
    store.save_problem(line_day(), problem_id="pb_day")
    return store, store.create_job(problem_id="pb_day", time_limit_s=1, visits_total=3)


def make_key(database_url: str, name: str = "desk") -> str:
    store = Store(database_url)
    try:
        return store.create_api_key(name)[1]
    finally:
        store.close()


@contextmanager
def start_service(
    database_url: str, *, in_threads: bool = True, now: datetime = TEST_NOW, **settings: Any
) -> Iterator[TestClient]:
    """A client of a fresh, started app whose clock stands at ``now``; solves run in a thread
    pool unless ``in_threads`` is off (then in worker processes, as in production)."""
    config = Settings(database_url=database_url, **settings)
    runner = (
        JobRunner(database_url, executor=ThreadPoolExecutor(max_workers=2)) if in_threads else None
    )
    try:
        with TestClient(create_app(config, runner=runner, clock=lambda: now)) as client:
            yield client
    finally:
        if runner is not None:
            runner.close()


@pytest.fixture
def service(database_url: str) -> Iterator[Service]:
    key = make_key(database_url)
    with start_service(database_url) as client:
        yield Service(client, database_url, key)
