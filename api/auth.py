"""Who is asking: a dispatcher with an API key, or a driver with a signed link to one route.

A credential comes as ``Authorization: Bearer …`` or as ``X-API-Key: …``; a driver link, opened
on a phone, as ``?token=…`` too (never a dispatcher's key: a URL ends up in logs). Missing,
unknown, revoked or expired → 401; a valid driver link used anywhere but its own route → 403.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from api.links import LinkError, RouteGrant, read_route_link
from api.params import PlanId, TechnicianId
from dispatch.persistence import ApiKey, Store

__all__ = ["Dispatcher", "RouteReader", "dispatcher", "has_credential", "route_reader"]

_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def _credential(request: Request) -> str | None:
    """The credential of ``request``: a header's, else a driver link's ``?token=``.

    A dispatcher's key is never taken from the URL: URLs land in access logs, browser
    histories and proxies, and that key opens everything. A driver link belongs in its URL
    (it opens one route until the end of its day)."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if request.headers.get("x-api-key"):
        return request.headers["x-api-key"]
    token = request.query_params.get("token")
    if token is None:
        return None
    if not _looks_like_link(token):
        raise _unauthorized(
            "an API key goes in the Authorization header, never in the URL (?token= is for "
            "driver links)"
        )
    return token


def _looks_like_link(credential: str) -> bool:
    """Driver links are signed tokens with a dot; API keys have none."""
    return "." in credential


def has_credential(request: Request) -> bool:
    """Whether ``request`` carries any credential at all (checked before its body is read)."""
    try:
        return _credential(request) is not None
    except HTTPException:
        return True  # a key in the URL: refused on its own terms


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail, headers=_CHALLENGE)


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _grant(request: Request, credential: str) -> RouteGrant | None:
    """The route a driver link opens, ``None`` when it is no driver link at all."""
    if not _looks_like_link(credential):
        return None
    secret: str = request.app.state.link_secret
    now: datetime = request.app.state.clock()
    try:
        return read_route_link(secret, credential, now)
    except LinkError as error:
        if "expired" in str(error):
            raise _unauthorized(str(error)) from error
        return None


async def dispatcher(request: Request) -> ApiKey:
    """The dispatcher's key; a driver link gets 403, anything else 401."""
    credential = _credential(request)
    if credential is None:
        raise _unauthorized("an API key is required (Authorization: Bearer <key>)")
    key = _store(request).api_key_for(credential)
    if key is not None:
        return key
    if _grant(request, credential) is not None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "a driver link opens only its own route")
    raise _unauthorized("unknown or revoked API key")


async def route_reader(
    request: Request, plan_id: PlanId, technician_id: TechnicianId
) -> ApiKey | RouteGrant:
    """A dispatcher, or the driver whose link names this plan and technician (else 403)."""
    credential = _credential(request)
    if credential is None:
        raise _unauthorized("an API key or a driver link is required")
    grant = _grant(request, credential)  # checked without the database
    if grant is None:
        key = _store(request).api_key_for(credential)
        if key is not None:
            return key
        raise _unauthorized("unknown or revoked API key, or a driver link that is not valid")
    if (grant.plan_id, grant.technician_id) != (plan_id, technician_id):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this driver link opens another route")
    return grant


Dispatcher = Annotated[ApiKey, Depends(dispatcher)]
RouteReader = Annotated[ApiKey | RouteGrant, Depends(route_reader)]
