"""Who may call what (``api.auth``), decided without a request or a database: a key opens
everything, a driver link its own route only, an expired link is 401 by its type."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import cast

import pytest
from fastapi import HTTPException

import api.auth
from api.auth import check_dispatcher, check_route_reader
from api.links import LinkError, LinkExpiredError, RouteGrant, sign_route_link
from dispatch.persistence import ApiKey, Store

SECRET = "s3cret"
NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
KEY = ApiKey(id="ak_1", name="desk", created_at=NOW, revoked_at=None)


class OneKeyStore:
    """The part of a store that credentials need: one valid key, ``fr_good``."""

    revoked: bool = False

    def api_key_for(self, credential: str) -> ApiKey | None:
        return KEY if credential == "fr_good" and not self.revoked else None

    def is_live_key(self, key_id: str) -> bool:
        return key_id == KEY.id and not self.revoked


STORE = cast(Store, OneKeyStore())


def link(technician_id: str = "T1", expires_at: datetime = NOW + timedelta(hours=1)) -> str:
    return sign_route_link(SECRET, "pl_1", technician_id, expires_at, issued_by=KEY.id)


def refusal(call: Callable[[], object]) -> tuple[int, str]:
    with pytest.raises(HTTPException) as raised:
        call()
    return raised.value.status_code, str(raised.value.detail)


def dispatcher(credential: str | None) -> ApiKey:
    return check_dispatcher(credential, store=STORE, secret=SECRET, clock=lambda: NOW)


def reader(credential: str | None, technician_id: str = "T1") -> ApiKey | RouteGrant:
    return check_route_reader(
        credential, "pl_1", technician_id, store=STORE, secret=SECRET, clock=lambda: NOW
    )


def test_a_dispatcher_key_opens_everything_and_a_driver_link_is_403() -> None:
    assert dispatcher("fr_good") == KEY
    assert reader("fr_good", "T9") == KEY
    assert refusal(lambda: dispatcher(link()))[0] == 403
    assert refusal(lambda: dispatcher(None)) == (
        401,
        "an API key is required (Authorization: Bearer <key>)",
    )
    assert refusal(lambda: dispatcher("fr_bad")) == (401, "unknown or revoked API key")


def test_a_driver_link_opens_its_own_route_only() -> None:
    grant = reader(link())
    assert isinstance(grant, RouteGrant) and grant.technician_id == "T1"
    assert refusal(lambda: reader(link(), "T2")) == (403, "this driver link opens another route")
    forged = sign_route_link(
        "another secret", "pl_1", "T1", NOW + timedelta(hours=1), issued_by=KEY.id
    )
    assert refusal(lambda: reader(forged))[0] == 401
    # Beyond ASCII, no key needed: once a 500 (compare_digest raised on the text).
    assert refusal(lambda: reader("x.é"))[0] == 401
    assert refusal(lambda: dispatcher("a.\xff"))[0] == 401


def test_an_expired_link_is_told_by_its_type_not_its_words(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def expired(secret: str, token: str, now: datetime) -> RouteGrant:
        raise LinkExpiredError("gone since midnight")

    def forged(secret: str, token: str, now: datetime) -> RouteGrant:
        raise LinkError("not valid: its expired-looking signature")

    monkeypatch.setattr(api.auth, "read_route_link", expired)
    assert refusal(lambda: reader(link())) == (401, "gone since midnight")
    assert refusal(lambda: dispatcher(link())) == (401, "gone since midnight")
    monkeypatch.setattr(api.auth, "read_route_link", forged)
    assert refusal(lambda: reader(link())) == (
        401,
        "unknown or revoked API key, or a driver link that is not valid",
    )
    assert refusal(lambda: dispatcher(link())) == (401, "unknown or revoked API key")


def test_a_driver_link_closes_when_the_key_that_issued_it_is_revoked() -> None:
    revoked = OneKeyStore()
    revoked.revoked = True

    def read(credential: str) -> ApiKey | RouteGrant:
        return check_route_reader(
            credential, "pl_1", "T1", store=cast(Store, revoked), secret=SECRET, clock=lambda: NOW
        )

    assert refusal(lambda: read(link())) == (
        401,
        "the key that issued this driver link was revoked; ask the desk for a new link",
    )
    # A link signed before links named their issuer lives to the end of its day, as it was told.
    payload = base64.urlsafe_b64encode(b'{"p":"pl_1","t":"T1","e":1795400000}').rstrip(b"=")
    signature = hmac.new(SECRET.encode(), payload, hashlib.sha256).digest()
    unnamed = f"{payload.decode()}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"
    grant = read(unnamed)
    assert isinstance(grant, RouteGrant) and grant.issued_by is None
