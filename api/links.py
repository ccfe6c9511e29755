"""Signed driver links: a token that opens one technician's route of one plan until the end of
the plan's day, and nothing else.

A token is ``payload.signature``, both base64url: the payload names the plan, the technician
and the expiry (Unix seconds); the signature is HMAC-SHA256 of the payload under the service's
secret. Nothing is stored per link, so links cost nothing to issue and a stolen one dies with
the day, or sooner: the payload names the dispatcher's key that issued it, and revoking that key
closes every link it issued.

::

    LinkError (401)               a token that is no genuine driver link: malformed or forged
     └── LinkExpiredError         a genuine link whose day is over
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dispatch.errors import DispatchError

__all__ = [
    "LINK_SECRET",
    "LinkError",
    "LinkExpiredError",
    "RouteGrant",
    "end_of_day",
    "read_route_link",
    "sign_route_link",
]


LINK_SECRET = "driver_links"
"""Name of the stored service secret that signs driver links."""


class LinkError(DispatchError):
    """A driver link that is malformed, forged or expired."""

    http_status = 401


class LinkExpiredError(LinkError):
    """A genuine driver link whose day is over: the driver needs today's link."""


@dataclass(frozen=True, slots=True)
class RouteGrant:
    """What a valid driver link opens, and the dispatcher's key that issued it (``None`` for a
    link signed before links named their issuer): revoking that key closes the link."""

    plan_id: str
    technician_id: str
    expires_at: datetime
    issued_by: str | None = None


def end_of_day(day: str, timezone: str) -> datetime:
    """Midnight after ``day`` in ``timezone``: when that day's driver links expire."""
    zone = ZoneInfo(timezone)
    following = date.fromisoformat(day) + timedelta(days=1)
    return datetime.combine(following, time(0), tzinfo=zone)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(secret: str, payload: str) -> str:
    return _b64(hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest())


def sign_route_link(
    secret: str, plan_id: str, technician_id: str, expires_at: datetime, *, issued_by: str
) -> str:
    """A token opening ``technician_id``'s route of ``plan_id`` until ``expires_at``, or until
    the key ``issued_by`` (its id) is revoked."""
    body = {"p": plan_id, "t": technician_id, "e": int(expires_at.timestamp()), "k": issued_by}
    payload = _b64(json.dumps(body, separators=(",", ":")).encode())
    return f"{payload}.{_signature(secret, payload)}"


def read_route_link(secret: str, token: str, now: datetime) -> RouteGrant:
    """The grant of a genuine, unexpired token.

    Raises
    ------
    LinkExpiredError
        The token is genuine but ``now`` is at or past its expiry.
    LinkError
        The token is malformed or was not signed with ``secret``.
    """
    payload, _, signature = token.partition(".")
    # Compared as bytes: ``compare_digest`` raises on a str with a non-ASCII character (a
    # TypeError, once a 500 for anyone sending one, no key needed).
    genuine = _signature(secret, payload).encode()
    if not payload or not hmac.compare_digest(signature.encode("utf-8", "replace"), genuine):
        raise LinkError("this driver link is not valid")
    try:
        body = json.loads(_unb64(payload))
        grant = RouteGrant(
            plan_id=str(body["p"]),
            technician_id=str(body["t"]),
            expires_at=datetime.fromtimestamp(int(body["e"]), tz=now.tzinfo),
            issued_by=None if body.get("k") is None else str(body["k"]),
        )
    except (ValueError, KeyError, TypeError) as error:
        raise LinkError("this driver link is not valid") from error
    if now >= grant.expires_at:
        raise LinkExpiredError("this driver link has expired; ask the desk for today's link")
    return grant
