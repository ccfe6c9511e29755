"""Request parameters shared by the routes and the credential checks, so the schema gives
each one limit: the ids of problems, jobs, plans and technicians in a URL, the plan version
an ``If-Match`` header names, and the one reading of a whole number in a query
(``DigitsOnly``)."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Header, Path
from pydantic import BeforeValidator

from dispatch.contract.schema import STORED_ID_PATTERN
from dispatch.errors import FieldError, InputError

__all__ = [
    "IF_MATCH_PATTERN",
    "DigitsOnly",
    "EventsIfMatch",
    "JobId",
    "PlanId",
    "ProblemId",
    "TechnicianId",
    "batch_version",
    "if_match_version",
]

#: An ``If-Match`` header naming a plan version (its ETag, quoted or not, weak or not) or ``*``.
IF_MATCH_PATTERN = r'^(\*|(W/)?"?[0-9]{1,9}"?)$'

ProblemId = Annotated[
    str,
    Path(min_length=1, max_length=32, pattern=STORED_ID_PATTERN, examples=["pb_3f9a0c1b2d4e"]),
]
JobId = Annotated[
    str,
    Path(min_length=1, max_length=32, pattern=STORED_ID_PATTERN, examples=["jb_5e1d2c3b4a59"]),
]
PlanId = Annotated[
    str,
    Path(min_length=1, max_length=32, pattern=STORED_ID_PATTERN, examples=["pl_3f9a0c1b2d4e"]),
]
TechnicianId = Annotated[str, Path(min_length=1, max_length=64, examples=["T01"])]

_DIGITS = re.compile(r"[0-9]+")


def _digits_only(value: object) -> object:
    """Refuse a query's number written other than in the digits 0-9 alone: pydantic reads
    ``5_0`` as 50 and `` 5``, ``+5`` or ``5.0`` as 5 (a ``?limit=5_0`` listed 50)."""
    if isinstance(value, str) and not _DIGITS.fullmatch(value):
        raise ValueError("must be a whole number written in the digits 0-9 only")
    return value


#: A whole number in a query (``?limit=``, ``?version=``, ``?since=``) is digits only, else a
#: 422 naming the parameter: every integer query parameter carries it, after its ``Query``
#: (``Annotated[int, Query(ge=1), DigitsOnly]``; put inside, it hid the bounds from the schema).
DigitsOnly = BeforeValidator(_digits_only)

#: ``If-Match`` on a batch of events: the version it was written against.
EventsIfMatch = Annotated[
    str | None,
    Header(
        pattern=IF_MATCH_PATTERN,
        description="The version the events apply to (the ETag you read); or `version`.",
    ),
]


def if_match_version(header: str | None) -> int | None:
    """The version ``If-Match`` names; ``None`` without one, or for ``*`` (any version: the
    latest, RFC 9110)."""
    if header is None or header.strip() == "*":
        return None
    text = header.strip().removeprefix("W/").strip('"')
    if not text.isdigit() or int(text) < 1:  # as the body's version: "0" was a 409
        raise InputError(
            [FieldError("If-Match", f'must be a plan version such as "3" (got {header!r})')],
            what="request",
        )
    return int(text)


def batch_version(header: str | None, version: int | None) -> int | None:
    """The version a batch of events was written against: ``If-Match``'s or the body's
    ``version`` (422 when they differ), ``None`` for the latest."""
    asked = if_match_version(header)
    if asked is not None and version is not None and asked != version:
        raise InputError(
            [FieldError("version", f"says {version} but If-Match says {asked}")], what="events"
        )
    return asked if asked is not None else version
