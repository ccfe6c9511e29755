"""Plan versions kept ready to send, with their days, drivers' routes and map pages made once.

A version never changes once stored, so what is kept is never stale: reads of the same version
(every driver of the day, every desk) then cost one small query for the latest version number.
The service makes one ``PlanVersions`` in its lifespan and hands it to the routes
(``api.deps.VersionsDep``); nothing here is module state.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from typing import Any

from dispatch.contract.schema import PlanOut, ProblemIn
from dispatch.desk.driver import driver_route
from dispatch.errors import NotFoundError
from dispatch.persistence import Store
from maps import Tiles, desk_page, driver_page

__all__ = ["CACHED_VERSIONS", "PlanVersion", "PlanVersions", "stored_plan_text"]

#: Plan versions a service process keeps ready: a day's plan and its few latest re-plans for
#: every desk that reads them, with room to spare; the least recently read goes first.
CACHED_VERSIONS = 64


def stored_plan_text(store: Store, plan_id: str, version: int | None = None) -> tuple[int, str]:
    """Version ``version`` of ``plan_id`` (default: its latest) as stored: its number and JSON.

    Raises
    ------
    NotFoundError
        No such plan or version; for the latest of a plan whose job has not stored it yet,
        saying so and naming the job (a job that finished between the two reads is answered).
    """
    try:
        return store.plan_text(plan_id, version)
    except NotFoundError:
        job = store.job_of_plan(plan_id) if version is None else None
        if job is None:
            raise
        if job.state == "done":
            return store.plan_text(plan_id, version)
        raise NotFoundError(f"plan {plan_id} is not ready: job {job.id} is {job.state}") from None


class PlanVersion:
    """One stored plan version, its day, and the drivers' routes and pages made from them on
    demand.

    Parameters
    ----------
    version
        The version number.
    text
        The version's JSON as stored (sent as it is).
    problem
        The day it plans, as stored.
    """

    def __init__(self, version: int, text: str, problem: dict[str, Any]) -> None:
        self.version, self.text, self.problem = version, text, problem
        self.plan: dict[str, Any] = json.loads(text)
        self._routes: dict[str, bytes] = {}
        self._pages: dict[tuple[str | None, Tiles], str] = {}

    def route(self, technician_id: str) -> bytes:
        """The driver's view of ``technician_id``'s route, as JSON.

        Raises
        ------
        NotFoundError
            ``technician_id`` is not in the plan's day.
        """
        if technician_id not in self._routes:
            route = driver_route(self.plan, self.problem, technician_id)
            self._routes[technician_id] = route.model_dump_json().encode()
        return self._routes[technician_id]

    def page(self, technician_id: str | None, tiles: Tiles) -> str:
        """The desk's map (``technician_id`` ``None``) or a driver's page, as HTML."""
        key = (technician_id, tiles)
        if key not in self._pages:
            plan = PlanOut.model_validate(self.plan)
            # A stored day: read with lenient types, as parse_problem(stored=True) reads it.
            problem = ProblemIn.model_validate(self.problem, strict=False)
            self._pages[key] = (
                desk_page(plan, problem, tiles=tiles)
                if technician_id is None
                else driver_page(plan, problem, technician_id, tiles=tiles)
            )
        return self._pages[key]


class PlanVersions:
    """The ``size`` plan versions read last, shared by the threads of one service process.

    Parameters
    ----------
    size
        Versions kept; default ``CACHED_VERSIONS``.
    """

    def __init__(self, size: int = CACHED_VERSIONS) -> None:
        self._items: OrderedDict[tuple[str, int], PlanVersion] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, store: Store, plan_id: str, version: int | None = None) -> PlanVersion:
        """Version ``version`` of ``plan_id`` (default: its latest), read from ``store`` unless
        kept.

        Raises
        ------
        NotFoundError
            No such plan or version, or the plan's job has not stored it yet (``stored_plan_text``).
        """
        if version is None:
            try:
                version = store.latest_version(plan_id)
            except NotFoundError:  # says why, or finds the plan its job stored since
                version, _ = stored_plan_text(store, plan_id)
        key = (plan_id, version)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        number, text = store.plan_text(plan_id, version)
        found = PlanVersion(number, text, store.load_problem_of_plan(plan_id, version))
        with self._lock:
            self._items[key] = found
            if len(self._items) > self._size:
                self._items.popitem(last=False)
        return found
