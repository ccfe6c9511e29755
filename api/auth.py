"""Who is asking: a dispatcher with an API key, or a driver with a signed link to one route.

A credential comes as ``Authorization: Bearer …`` or as ``X-API-Key: …``; a driver link, opened
on a phone, as ``?token=…`` too (never a dispatcher's key: a URL ends up in logs). Missing,
unknown, revoked or expired → 401 (a driver link too once the key that issued it is revoked); a
valid driver link used anywhere but its own route → 403.

This module holds the rules, as plain functions of the credential and the service's store,
link secret and clock; ``api.deps`` applies them to a request (``Dispatcher``,
``RouteReader``). It must not read ``request.app.state``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fastapi import HTTPException, Request, status

from api.links import LinkError, LinkExpiredError, RouteGrant, read_route_link
from dispatch.persistence import ApiKey, Store

__all__ = ["check_dispatcher", "check_route_reader", "credential_of", "has_credential"]

_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def credential_of(request: Request) -> str | None:
    """The credential of ``request``: a header's, else a driver link's ``?token=``.

    A dispatcher's key is never taken from the URL: URLs land in access logs, browser
    histories and proxies, and that key opens everything. A driver link belongs in its URL
    (it opens one route until the end of its day).

    Raises
    ------
    HTTPException
        401 for a ``?token=`` that is no driver link (a dispatcher's key in the URL).
    """
    token = request.query_params.get("token")
    if token is not None and not _looks_like_link(token):
        # Refused with a header credential too: the key in the URL is in the logs already,
        # and its owner must hear of it (with a header beside it, it was once let through).
        raise _unauthorized(
            "an API key goes in the Authorization header, never in the URL (?token= is for "
            "driver links)"
        )
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if request.headers.get("x-api-key"):
        return request.headers["x-api-key"]
    return token


def _looks_like_link(credential: str) -> bool:
    """Driver links are signed tokens with a dot; API keys have none."""
    return "." in credential


def has_credential(request: Request) -> bool:
    """Whether ``request`` carries any credential at all (checked before its body is read)."""
    try:
        return credential_of(request) is not None
    except HTTPException:
        return True  # a key in the URL: refused on its own terms


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail, headers=_CHALLENGE)


def _grant(credential: str, secret: str, clock: Callable[[], datetime]) -> RouteGrant | None:
    """The route a driver link opens; ``None`` when it is no genuine driver link at all, 401
    when it is one whose day is over."""
    if not _looks_like_link(credential):
        return None
    try:
        return read_route_link(secret, credential, clock())
    except LinkExpiredError as error:
        raise _unauthorized(str(error)) from error
    except LinkError:
        return None


def check_dispatcher(
    credential: str | None, *, store: Store, secret: str, clock: Callable[[], datetime]
) -> ApiKey:
    """The dispatcher's key that ``credential`` is.

    Raises
    ------
    HTTPException
        403 for a driver link (it opens only its own route); 401 for no credential, an
        unknown or revoked key, or an expired link.
    """
    if credential is None:
        raise _unauthorized("an API key is required (Authorization: Bearer <key>)")
    key = store.api_key_for(credential)
    if key is not None:
        return key
    if _grant(credential, secret, clock) is not None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "a driver link opens only its own route")
    raise _unauthorized("unknown or revoked API key")


def check_route_reader(
    credential: str | None,
    plan_id: str,
    technician_id: str,
    *,
    store: Store,
    secret: str,
    clock: Callable[[], datetime],
) -> ApiKey | RouteGrant:
    """A dispatcher's key, or the driver link that names this plan and technician.

    Raises
    ------
    HTTPException
        403 for a driver link to another route; 401 for no credential, an unknown or revoked
        key, or a link that is forged, expired or issued by a key since revoked.
    """
    if credential is None:
        raise _unauthorized("an API key or a driver link is required")
    grant = _grant(credential, secret, clock)  # checked without the database
    if grant is None:
        key = store.api_key_for(credential)
        if key is not None:
            return key
        raise _unauthorized("unknown or revoked API key, or a driver link that is not valid")
    if (grant.plan_id, grant.technician_id) != (plan_id, technician_id):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this driver link opens another route")
    if grant.issued_by is not None and not store.is_live_key(grant.issued_by):
        raise _unauthorized(
            "the key that issued this driver link was revoked; ask the desk for a new link"
        )
    return grant
