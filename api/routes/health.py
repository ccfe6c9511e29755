"""``/healthz``: whether the service, its database, road server and job queue answer; the one
endpoint that needs no key, outside ``/v1``."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import RoadsDep, RunnerDep, StoreDep
from api.models import HealthOut

__all__ = ["router"]

router = APIRouter(tags=["service"])


@router.get("/healthz", response_model=HealthOut)
def healthz(store: StoreDep, runner: RunnerDep, roads: RoadsDep) -> JSONResponse:
    """Liveness, the database's, the road server's and the job queue's answers and the worker
    processes' losses; needs no key. Degraded (503) when one does not answer: a service whose
    road server is gone fails every solve on roads, one whose broker is gone every new job.
    ``HEAD`` answers the same status without the body (load balancers that probe with it got
    405)."""
    database = store.healthy()
    roads_answer = None if roads is None else roads.answers()
    queue_answer = runner.queue_answers()
    healthy = database and roads_answer is not False and queue_answer is not False
    body = HealthOut(
        status="ok" if healthy else "degraded",
        database="ok" if database else "unreachable",
        roads=None if roads_answer is None else "ok" if roads_answer else "unreachable",
        queue=None if queue_answer is None else "ok" if queue_answer else "unreachable",
        worker_losses=runner.worker_losses,
        last_worker_loss=runner.last_worker_loss,
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=200 if healthy else 503)


# A load balancer's probe: the same answer, its body dropped by the server (not in the schema:
# one operation, GET).
router.add_api_route("/healthz", healthz, methods=["HEAD"], include_in_schema=False)
