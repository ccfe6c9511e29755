"""Signed driver links (``api.links``): a token opens one route until the end of its day; an
expired one is told apart by its type, a forged or tampered one is no link at all."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from api.links import (
    LinkError,
    LinkExpiredError,
    RouteGrant,
    end_of_day,
    read_route_link,
    sign_route_link,
)

SECRET = "s3cret-of-the-service"
SHANGHAI = ZoneInfo("Asia/Shanghai")
MORNING = datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)
MIDNIGHT = datetime(2026, 11, 24, 0, 0, tzinfo=SHANGHAI)


def token(expires_at: datetime = MIDNIGHT, secret: str = SECRET) -> str:
    return sign_route_link(secret, "pl_3f9a0c1b2d4e", "T01", expires_at, issued_by="ak_1")


def test_a_day_ends_at_the_next_midnight_in_its_time_zone() -> None:
    assert end_of_day("2026-11-23", "Asia/Shanghai") == MIDNIGHT
    assert end_of_day("2026-12-31", "Europe/Paris").isoformat() == "2027-01-01T00:00:00+01:00"


def test_a_signed_link_reads_back_as_its_route_until_it_expires() -> None:
    grant = read_route_link(SECRET, token(), MORNING)
    assert grant == RouteGrant("pl_3f9a0c1b2d4e", "T01", MIDNIGHT, issued_by="ak_1")
    assert grant.expires_at.utcoffset() == timedelta(hours=8)  # in the reader's zone
    last_second = read_route_link(SECRET, token(), MIDNIGHT - timedelta(seconds=1))
    assert last_second.technician_id == "T01"


def test_an_expired_link_is_a_link_expired_error() -> None:
    with pytest.raises(LinkExpiredError, match="expired") as raised:
        read_route_link(SECRET, token(), MIDNIGHT)
    assert isinstance(raised.value, LinkError) and raised.value.http_status == 401


def test_an_expired_link_is_checked_after_its_signature() -> None:
    """A forged link is refused as forged, whatever expiry it claims."""
    forged = token(MORNING - timedelta(hours=1), secret="another service")
    with pytest.raises(LinkError) as raised:
        read_route_link(SECRET, forged, MORNING)
    assert not isinstance(raised.value, LinkExpiredError)


def _payload(text: str) -> dict[str, object]:
    decoded: dict[str, object] = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    return decoded


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _encode(body: dict[str, object]) -> str:
    return _b64(json.dumps(body, separators=(",", ":")).encode())


def _signed(payload: str, secret: str = SECRET) -> str:
    """``payload`` signed as the service signs a link: HMAC-SHA256, base64url."""
    return f"{payload}.{_b64(hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest())}"


def test_a_tampered_link_is_refused_and_not_as_expired() -> None:
    payload, _, signature = token().partition(".")
    other_route = _encode(_payload(payload) | {"t": "T02"})
    later = _encode(_payload(payload) | {"e": int(MIDNIGHT.timestamp()) + 86_400})
    tampered = [
        f"{other_route}.{signature}",  # another technician under the same signature
        f"{later}.{signature}",  # a longer life under the same signature
        f"{payload}.{signature[:-2]}",  # a signature cut short
        f"{payload}.",  # no signature
        f".{signature}",  # no payload
        token(secret="another service"),  # signed with another secret
        "not-a-link",
        f"{payload}.{signature[:-1]}é",  # a character beyond ASCII
        "x.\udcff",  # a byte the header was decoded with as a lone surrogate
    ]
    for candidate in tampered:
        with pytest.raises(LinkError, match="not valid") as raised:
            read_route_link(SECRET, candidate, MORNING)
        assert not isinstance(raised.value, LinkExpiredError), candidate


def test_a_genuine_signature_over_a_malformed_payload_is_refused() -> None:
    """A payload that is no JSON of a route: signed with the right secret (a bug, or a token of
    another format), it is refused as not valid, never a 500."""
    assert read_route_link(SECRET, _signed(token().partition(".")[0]), MORNING).plan_id
    for body in (b"not json", b'{"p": "pl_x"}', b'{"p": "pl_x", "t": "T01", "e": "soon"}'):
        with pytest.raises(LinkError, match="not valid"):
            read_route_link(SECRET, _signed(_b64(body)), MORNING)
