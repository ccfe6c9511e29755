"""The HTTP service: ``create_app`` wires the store, the worker pool, errors and limits.

The lifespan opens what every request shares (the settings, the store, the worker pools, or
with ``FIELDROUTE_JOBS=celery`` the broker the solve jobs go to and the re-plans' pool, the
link secret, the clock, the plan versions kept ready) and ``api.deps`` hands them to the
routes (``api.routes``). Every error a client can cause becomes a JSON answer (``ErrorOut``)
with the right status and never a traceback: 401/403 (access), 404 (unknown id), 408 (a body
too slow), 409 (conflict), 413 (too large), 415 (a body sent compressed), 422 (bad input, each
problem with its path and id, named by ``dispatch.contract.validate`` as for the command line).
Anything else is logged and answered 500.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import ExitStack, asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import routes
from api.auth import has_credential
from api.deps import Clock, dispatcher, route_reader
from api.jobs import JobRunner
from api.links import LINK_SECRET
from api.models import ErrorOut, FieldErrorOut
from api.routes import console, docs
from api.routes.plans import WEEK_PREFIX, no_plan
from api.server import HEAD_TIMEOUT_KEEP_ALIVES
from api.versions import PlanVersions
from api.workers import when_parent_is_gone
from dispatch.config import Settings
from dispatch.contract.schema import EventBatchIn, HorizonProblemIn, ProblemIn
from dispatch.contract.validate import field_errors, load_json
from dispatch.errors import DispatchError, FieldError, InputError, NotFoundError
from dispatch.persistence import Store
from dispatch.travel import Roads, RoadsNotGivenError
from dispatch.travel.routed import road_server

__all__ = ["MIN_BODY_BYTES_PER_S", "create_app"]

logger = logging.getLogger("fieldroute.api")


class _TooLargeError(Exception):
    pass


class _TooSlowError(Exception):
    """The body stopped coming, or came too slowly; the message says which, for the 408."""


#: The slowest a request body may come on average once its pause allowance is spent: a body of
#: ``n`` bytes has ``pause_s + n / MIN_BODY_BYTES_PER_S`` seconds from its first read. GPRS, the
#: slowest phone network in service, carries about 5 kB/s; a body trickled a byte every 2 s
#: (each pause under the limit) held its connection for ever, before any credential was read.
MIN_BODY_BYTES_PER_S = 1_000


class BodyLimit:
    """Answer 415 to a request body sent compressed (any ``Content-Encoding`` but
    ``identity``), 413 to one over ``limit`` bytes, declared or streamed, and 408 to one
    whose next part takes more than ``pause_s`` to come, or that comes slower on average than
    ``MIN_BODY_BYTES_PER_S`` after its first ``pause_s``: a body sent a byte every 2 s held its
    connection for ever, before any credential was read (the head has its own deadline,
    ``api.server``); 170 such connections took a server's file descriptors."""

    def __init__(self, app: ASGIApp, limit: int, pause_s: float = 10.0) -> None:
        self.app, self.limit, self.pause_s = app, limit, pause_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(send)
            return
        coding = headers.get(b"content-encoding", b"identity").decode("latin-1").strip()
        if coding.lower() not in ("", "identity"):
            await self._refuse_coding(send, coding)
            return
        seen = 0
        first_read: float | None = None  # the loop's time of the app's first read of the body
        started = False
        whole = False  # the body has come: what follows is the wait for a disconnect

        async def counting_receive() -> Message:
            nonlocal seen, whole, first_read
            if whole:
                return await receive()
            now = asyncio.get_running_loop().time()
            first_read = now if first_read is None else first_read
            wait_s = min(self.pause_s, self._deadline(first_read, seen) - now)
            if wait_s <= 0:
                raise _TooSlowError(self._too_slow(seen, now - first_read))
            try:
                async with asyncio.timeout(wait_s):
                    message = await receive()
            except TimeoutError as error:
                if wait_s >= self.pause_s:  # a pause, not the average, ran out
                    raise _TooSlowError(self._stopped()) from error
                elapsed_s = asyncio.get_running_loop().time() - first_read
                raise _TooSlowError(self._too_slow(seen, elapsed_s)) from error
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                whole = not message.get("more_body", False)
                if seen > self.limit:
                    raise _TooLargeError
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLargeError:
            if not started:
                await self._refuse(send)
        except _TooSlowError as slow:
            logger.info("a request body was too slow: %s; answered 408", slow)
            if not started:
                await self._refuse(send, str(slow), 408)

    def _deadline(self, first_read: float, seen: int) -> float:
        """When the body's next part is due at the latest, for a body of which ``seen`` bytes
        came since ``first_read``: its pause allowance, then the least average rate."""
        return first_read + self.pause_s + seen / MIN_BODY_BYTES_PER_S

    def _stopped(self) -> str:
        return f"the request body stopped coming for {self.pause_s:g} s"

    @staticmethod
    def _too_slow(seen: int, elapsed_s: float) -> str:
        return (
            f"the request body came too slowly ({seen} bytes in {elapsed_s:.0f} s; at least "
            f"{MIN_BODY_BYTES_PER_S // 1000} kB/s is needed)"
        )

    async def _refuse(
        self,
        send: Send,
        detail: str | None = None,
        status: int = 413,
        errors: Sequence[FieldErrorOut] = (),
    ) -> None:
        body = ErrorOut(detail=detail or _too_large(self.limit / 1_000_000), errors=list(errors))
        response = JSONResponse(body.model_dump(), status_code=status)
        await response({"type": "http"}, _no_receive, send)

    async def _refuse_coding(self, send: Send, coding: str) -> None:
        """415 to a body sent compressed: it was read as it came, and its bytes were refused
        as "not UTF-8 text" or "not valid JSON", which sent the client looking at its JSON."""
        why = f"{coding!r} is not accepted: send the body uncompressed, without Content-Encoding"
        named = FieldErrorOut(path="content-encoding", message=why)
        await self._refuse(send, "invalid request: 1 error", 415, [named])


def _too_large(megabytes: float) -> str:
    return f"the request is larger than {megabytes:g} MB"


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}


def _error(
    status: int,
    detail: str,
    errors: Sequence[FieldErrorOut] = (),
    headers: Mapping[str, str] | None = None,
) -> Any:
    body = ErrorOut(detail=detail, errors=list(errors))
    # ASCII with escapes: an error may quote what was sent, an unpaired surrogate included,
    # which no UTF-8 encoder writes.
    text = json.dumps(body.model_dump(), ensure_ascii=True)
    return Response(text, status_code=status, headers=headers, media_type="application/json")


def _missing_credential(request: Request) -> Any | None:
    """401 for a request to a guarded endpoint that carries no credential at all.

    FastAPI reads and parses a body before it runs the endpoint's credential check, so a bad
    body would otherwise be answered 422 to a caller who has not said who they are."""
    if request.url.path.startswith(routes.router.prefix + "/") and not has_credential(request):
        return _error(401, "an API key is required", headers={"WWW-Authenticate": "Bearer"})
    return None


def _request_errors(
    error: RequestValidationError, request_media: str | None = None
) -> list[FieldError]:
    """What FastAPI found wrong with a request, named as ``dispatch.contract.validate`` names
    the problems of a day: a body's errors by their path in the body (``events[0].minutes``)
    with the nearest id, a parameter's by where it is (``query.since``, ``header.if-match``).

    A body that is no JSON at all is named by ``load_json``, as ``POST /v1/problems`` names it;
    one sent as another type (``text/plain``: FastAPI leaves it unread) by its content type
    (``request_media``), as ``POST /v1/problems`` names it too.
    """
    body = getattr(error, "body", None)
    found: list[FieldError] = []
    for item in error.errors():
        where, *rest = item["loc"] or ("body",)
        if where != "body":
            found += field_errors([item], None)
        elif not rest and isinstance(body, bytes):  # a body FastAPI did not read as JSON
            why = "send the body as application/json, " + (
                f"not {request_media}" if request_media else "saying so in Content-Type"
            )
            found.append(FieldError("content-type", why))
        elif item["type"] == "json_invalid" and isinstance(body, str | bytes):
            try:
                load_json(body, what="request")
            except InputError as invalid:
                found += invalid.errors
            else:  # pragma: no cover - FastAPI's parser and json.loads disagree
                found += field_errors([{**item, "loc": ()}], None)
        else:
            found += field_errors([{**item, "loc": tuple(rest)}], body)
    return found


async def _on_request_error(request: Request, error: Exception) -> Any:
    assert isinstance(error, RequestValidationError)
    refused = _missing_credential(request)
    if refused is not None:
        return refused
    media = request.headers.get("content-type")
    return _input_error(InputError(_request_errors(error, media), what="request"))


def _input_error(error: InputError) -> Any:
    found = [FieldErrorOut(path=e.path, message=e.message, id=e.entity_id) for e in error.errors]
    noun = "error" if len(found) == 1 else "errors"
    return _error(422, f"invalid {error.what}: {len(found)} {noun}", found)


async def _on_dispatch_error(request: Request, error: Exception) -> Any:
    assert isinstance(error, DispatchError)
    if isinstance(error, InputError):
        return _input_error(error)
    if isinstance(error, RoadsNotGivenError):  # the day's field this service cannot serve
        return _input_error(InputError([FieldError(error.field, str(error))]))
    plan_id = str(request.path_params.get("plan_id", ""))
    if isinstance(error, NotFoundError) and plan_id.startswith(WEEK_PREFIX):
        error = no_plan(plan_id)  # a week's id where a plan's is asked: say where the week is
    if error.http_status >= 500:
        logger.error("%s: %s", type(error).__name__, error)
    return _error(error.http_status, str(error))


#: Bodies the form parser reads from the request's stream, which cannot be read again: a
#: broken multipart body's 400 read it for JSON and answered 500 ("Stream consumed").
_FORM_MEDIA = ("multipart/form-data", "application/x-www-form-urlencoded")


def _media(request: Request) -> str:
    """The request's media type, without its parameters, in lower case."""
    return (request.headers.get("content-type") or "").split(";")[0].strip().lower()


async def _on_http_error(request: Request, error: Exception) -> Any:
    assert isinstance(error, StarletteHTTPException)
    if error.status_code == 400:  # FastAPI could not read or parse the body
        if isinstance(error.__cause__, _TooLargeError):  # a streamed body over the limit
            return _error(413, _too_large(request.app.state.settings.max_upload_mb))
        if isinstance(error.__cause__, _TooSlowError):  # a body that stopped or crawled
            return _error(408, str(error.__cause__))
        refused = _missing_credential(request)
        if refused is not None:
            return refused
        if _media(request) not in _FORM_MEDIA:  # a form's stream is the form parser's, read
            try:  # as a problem file is: a body nested past the parser's depth is named so
                load_json(await request.body(), what="request")
            except InputError as named:
                return _input_error(named)
        return _error(422, "invalid request: the body is not valid JSON or form data")
    return _error(error.status_code, str(error.detail), headers=error.headers)


#: Seconds a client is told to wait before asking again while the database cannot be reached.
STORE_RETRY_AFTER_S = 5


async def _on_store_unreachable(request: Request, error: Exception) -> Any:
    """The database did not answer (down, restarting, a connection reset): 503 with a
    Retry-After, as /healthz says, not a 500."""
    logger.warning(
        "the database could not be reached on %s %s: %s", request.method, request.url.path, error
    )
    return _error(
        503,
        "the database cannot be reached; try again shortly",
        headers={"Retry-After": str(STORE_RETRY_AFTER_S)},
    )


async def _on_client_gone(request: Request, error: Exception) -> Any:
    """A client that hung up while sending its request: nothing to answer, nothing broken
    (logged as a crash with two tracebacks, it sent the operator looking for a fault)."""
    logger.info("client hung up during %s %s", request.method, request.url.path)
    return _error(400, "the request was not received whole")


async def _on_crash(request: Request, error: Exception) -> Any:
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return _error(500, "internal error; the service's log has the details")


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The schema, with the contract's problem (a day or a horizon) and events schemas under
    components."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in (ProblemIn, HorizonProblemIn, EventBatchIn):
        document = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, definition in document.pop("$defs", {}).items():
            components.setdefault(name, definition)
        components.setdefault(model.__name__, document)
    schema["components"]["securitySchemes"] = {
        "apiKey": {"type": "http", "scheme": "bearer", "description": "A dispatcher's API key"},
        "driverLink": {"type": "apiKey", "in": "query", "name": "token"},
    }
    for path, route in routes.operations():
        security = _security_of(route)
        for method in route.methods or ():
            operation = schema["paths"][path].get(method.lower())
            if operation is not None:
                if security:
                    operation["security"] = security
                for parameter in operation.get("parameters", []):
                    _drop_null(parameter)
    app.openapi_schema = schema
    return schema


def _security_of(route: APIRoute) -> list[dict[str, list[str]]]:
    """The credentials an operation takes, from the checks among its dependencies: what
    generated clients read to send a key."""
    calls = {dependency.call for dependency in route.dependant.dependencies}
    if route_reader in calls:
        return [{"apiKey": []}, {"driverLink": []}]
    if dispatcher in calls:
        return [{"apiKey": []}]
    return []


def _drop_null(parameter: dict[str, Any]) -> None:
    """A header or query parameter is absent or a string, never JSON ``null``: FastAPI writes
    ``anyOf [..., null]`` for an optional one."""
    alternatives = parameter.get("schema", {}).get("anyOf")
    if alternatives:
        kept = [a for a in alternatives if a.get("type") != "null"]
        if len(kept) == 1:
            rest = {k: v for k, v in parameter["schema"].items() if k != "anyOf"}
            parameter["schema"] = {**kept[0], **rest}


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _runner(settings: Settings, roads: Roads | None) -> JobRunner:
    """The solve jobs' runner ``settings.jobs`` names: this service's worker pools, or the
    broker of ``fieldroute worker`` processes (re-plans in this service's pool)."""
    if settings.jobs == "celery":
        from api.celery_jobs import CeleryJobRunner  # Celery is imported only when used

        return CeleryJobRunner(settings, replan_workers=settings.replan_workers, roads=roads)
    return JobRunner(
        settings.database_url,
        workers=settings.workers,
        replan_workers=settings.replan_workers,
        roads=roads,
        time_limit_cap_s=settings.job_time_limit_max_s,
    )


def _stop_when_the_supervisor_is_gone() -> None:
    """In a server process of ``fieldroute serve --processes N`` (one of uvicorn's spawned
    workers), stop this process as SIGTERM would, gracefully (the lifespan closes the job pools,
    whose workers end after their job in hand), once the supervisor that started it is gone.
    uvicorn's workers do not watch their supervisor: one killed (SIGKILL) left them serving on,
    orphaned, on its port."""
    when_parent_is_gone(_stop, "supervisor-watch")


def _stop() -> None:
    logger.error("the supervisor of this server process is gone; stopping")
    os.kill(os.getpid(), signal.SIGTERM)


def create_app(
    settings: Settings | None = None,
    *,
    runner: JobRunner | None = None,
    clock: Clock = _utc_now,
) -> FastAPI:
    """The service over ``settings``' database.

    ``runner`` replaces the worker pool and ``clock`` the wall clock (which decides when a
    driver link has expired), in tests.
    """
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        exits = ExitStack()
        roads = exits.enter_context(
            road_server(
                settings.roads,
                cache_root=settings.cache_dir,
                table_size=settings.roads_table_size,
                dataset_dir=settings.roads_dataset_dir,
            )
        )
        store = Store(settings.database_url)
        pool = runner or _runner(settings, roads)
        # What api.deps hands the routes; made here, once per process, and nowhere else.
        app.state.store = store
        app.state.runner = pool
        app.state.roads = roads
        app.state.link_secret = store.secret(LINK_SECRET)
        app.state.settings = settings
        app.state.clock = clock
        app.state.versions = PlanVersions()
        # A running job is failed once its heartbeat is stale, by whichever process looks
        # first; with Celery, running jobs are the workers' and never failed here.
        recovered = pool.recover(store)
        if recovered:
            logger.info("queued %d waiting jobs again", len(recovered))
        stop_watching = pool.watch_lost_jobs(store, stale_after_s=settings.job_stale_s)
        if settings.processes > 1:
            _stop_when_the_supervisor_is_gone()
        try:
            yield
        finally:
            stop_watching()  # its rounds use the store closed below
            if runner is None:  # a runner handed in belongs to the caller
                pool.close()
            store.close()
            exits.close()  # the road server this process started, if any

    app = FastAPI(
        title="fieldroute",
        version="0.1.0",
        description="Plan field-service days: technicians and crews, visits, time windows and "
        "skills; re-plan on delays; driver routes. Every endpoint but /healthz needs a "
        "dispatcher's API key (`fieldroute apikey create NAME`) as `Authorization: Bearer`.",
        lifespan=lifespan,
        docs_url=None,  # served pinned and hash-checked by api.routes.docs
        redoc_url=None,
        responses={
            401: {"model": ErrorOut, "description": "Missing, unknown or expired credential"},
            422: {"model": ErrorOut, "description": "Invalid input"},
        },
    )
    app.add_middleware(
        BodyLimit,
        limit=int(settings.max_upload_mb * 1_000_000),
        pause_s=HEAD_TIMEOUT_KEEP_ALIVES * settings.keep_alive_s,
    )
    app.add_exception_handler(RequestValidationError, _on_request_error)
    app.add_exception_handler(DispatchError, _on_dispatch_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(OperationalError, _on_store_unreachable)
    app.add_exception_handler(ClientDisconnect, _on_client_gone)
    app.add_exception_handler(Exception, _on_crash)
    app.include_router(routes.router)
    app.include_router(routes.health.router)
    app.include_router(console.router)  # /console, the desk's page (outside /v1)
    app.include_router(docs.router)  # /docs, the API's documentation (outside /v1)

    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app
