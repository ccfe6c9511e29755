"""The engine's one exception tree; every error a user can cause is an ``InputError``.

::

    DispatchError                 base; ``http_status`` and ``exit_code`` for the edges
     ├── InputError               bad problem or events; carries every ``FieldError`` found
     ├── TravelTimeError          a travel-time provider could not answer
     ├── NotFoundError            an unknown plan, problem or version id
     ├── WorkerLostError          the worker process doing the work stopped (killed, out of memory)
     ├── StoredDataError          the store holds what a newer fieldroute wrote (schema, record)
     └── InternalError            a bug: the engine broke one of its own promises

``FieldError`` is not an exception: it is one problem found in the input, with its path
(``visits[12].window.end``), the entity id when known and a message. Validation collects them
all and raises one ``InputError``, so the user fixes a file in one pass. The CLI and the API
catch ``DispatchError`` once, at the top, and turn it into an exit code or an HTTP status.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

__all__ = [
    "DispatchError",
    "FieldError",
    "InputError",
    "InternalError",
    "NotFoundError",
    "StoredDataError",
    "TravelTimeError",
    "WorkerLostError",
]


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem in the input.

    Parameters
    ----------
    path
        Where it is, e.g. ``visits[12].window.end``.
    message
        What is wrong, in words a dispatcher understands.
    entity_id
        The id of the visit or technician concerned, when known.
    """

    path: str
    message: str
    entity_id: str | None = None

    def __str__(self) -> str:
        head, sep, tail = self.path.partition(".")
        where = f"{head} ({self.entity_id}){sep}{tail}" if self.entity_id else self.path
        return f"{where}: {self.message}" if where else self.message


class DispatchError(Exception):
    """Base of every error the engine raises on purpose."""

    http_status: ClassVar[int] = 500
    exit_code: ClassVar[int] = 1


class InputError(DispatchError):
    """The input breaks the contract; ``errors`` lists every problem found."""

    http_status = 422
    exit_code = 2

    def __init__(self, errors: Iterable[FieldError], *, what: str = "problem") -> None:
        self.errors: tuple[FieldError, ...] = tuple(errors)
        self.what = what
        count = len(self.errors)
        lines = "\n".join(f"  - {error}" for error in self.errors)
        noun = "error" if count == 1 else "errors"
        super().__init__(f"invalid {what}: {count} {noun}\n{lines}")

    def __reduce__(self) -> tuple[Any, ...]:
        # Crosses process boundaries (solve workers) whole, not as its message alone.
        return (_input_error, (self.errors, self.what))


def _input_error(errors: tuple[FieldError, ...], what: str) -> InputError:
    return InputError(errors, what=what)


class TravelTimeError(DispatchError):
    """A travel-time provider could not produce a matrix."""

    http_status = 502


class NotFoundError(DispatchError):
    """An id that the store does not hold."""

    http_status = 404
    exit_code = 2


class WorkerLostError(DispatchError):
    """The worker process doing the work stopped before it answered (killed, or out of
    memory); nothing was stored, and the same request may be sent again."""

    http_status = 503


class StoredDataError(DispatchError):
    """The store holds what this release cannot read: a schema revision or a plan record a
    newer fieldroute wrote (a rollback). Refused, never guessed at."""

    http_status = 409


class InternalError(DispatchError):
    """The engine broke one of its own promises; a bug to report."""
