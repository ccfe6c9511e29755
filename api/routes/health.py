"""``/healthz``: whether the service and its database answer; the one endpoint that needs no
key, outside ``/v1``."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import RunnerDep, StoreDep
from api.models import HealthOut

__all__ = ["router"]

router = APIRouter(tags=["service"])


@router.get("/healthz", response_model=HealthOut)
def healthz(store: StoreDep, runner: RunnerDep) -> JSONResponse:
    """Liveness, the database's answer and the worker processes' losses; needs no key."""
    healthy = store.healthy()
    body = HealthOut(
        status="ok" if healthy else "degraded",
        database="ok" if healthy else "unreachable",
        worker_losses=runner.worker_losses,
        last_worker_loss=runner.last_worker_loss,
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=200 if healthy else 503)
