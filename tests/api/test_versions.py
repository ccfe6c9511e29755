"""The plan versions a service keeps ready (``api.versions``): read from the store once, kept
while they are read, the least recently read dropped first; the app's own, made in its
lifespan."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from api.versions import PlanVersions
from dispatch.errors import NotFoundError
from dispatch.persistence import Store
from tests.api.conftest import Service

DELAY = {"at": "09:00", "events": [{"type": "delay", "technician_id": "T1", "minutes": 20}]}


class CountingStore(Store):
    """A store that counts the plan versions read from it."""

    reads: int = 0

    def plan_text(self, plan_id: str, version: int | None = None) -> tuple[int, str]:
        self.reads += 1
        return super().plan_text(plan_id, version)


@pytest.fixture
def counting(service: Service) -> Iterator[CountingStore]:
    store = CountingStore(service.database_url)
    yield store
    store.close()


def two_versions(service: Service) -> str:
    plan_id = service.solved_plan()
    answer = service.client.post(f"/v1/plans/{plan_id}/events", json=DELAY, headers=service.auth)
    assert answer.status_code == 201, answer.text
    return plan_id


def test_a_version_is_read_once_and_kept(service: Service, counting: CountingStore) -> None:
    plan_id = two_versions(service)
    versions = PlanVersions()
    latest = versions.get(counting, plan_id)
    assert latest.version == 2 and latest.plan["version"] == 2
    assert latest.text == counting.plan_text(plan_id, 2)[1]
    counting.reads = 0
    assert versions.get(counting, plan_id) is latest
    assert versions.get(counting, plan_id, 2) is latest
    assert counting.reads == 0
    first = versions.get(counting, plan_id, 1)
    assert first.version == 1 and counting.reads == 1


def test_the_least_recently_read_version_goes_first(
    service: Service, counting: CountingStore
) -> None:
    plan_id = two_versions(service)
    versions = PlanVersions(size=1)
    first = versions.get(counting, plan_id, 1)
    versions.get(counting, plan_id, 2)
    counting.reads = 0
    again = versions.get(counting, plan_id, 1)
    assert again is not first and again.text == first.text and counting.reads == 1


def test_routes_are_made_once_and_unknown_ids_are_404(
    service: Service, counting: CountingStore
) -> None:
    plan_id = service.solved_plan()
    found = PlanVersions().get(counting, plan_id)
    route: dict[str, Any] = json.loads(found.route("T1"))
    assert route["technician_id"] == "T1" and len(route["stops"]) == 3
    assert found.route("T1") is found.route("T1")
    with pytest.raises(NotFoundError, match="T9"):
        found.route("T9")
    with pytest.raises(NotFoundError):
        PlanVersions().get(counting, "pl_nope")


def test_the_service_reads_through_the_versions_its_lifespan_made(
    service: Service, counting: CountingStore
) -> None:
    plan_id = service.solved_plan()
    answer = service.client.get(f"/v1/plans/{plan_id}", headers=service.auth)
    assert answer.status_code == 200
    kept: PlanVersions = service.client.app.state.versions  # type: ignore[attr-defined]
    assert kept.get(counting, plan_id).text == answer.text
    assert counting.reads == 0  # the route's read is the one kept
