"""Wire schemas of slots and booking (``docs/contract.md``, "Slots and booking"): what a desk
or a booking page sends and what it gets back. Shapes, types and ranges only, strict as the
contract's own schemas (``dispatch.contract.schema``): unknown keys are refused, a number is
never a string. The visit is the contract's ``VisitIn``; its time comes from the slot, so it
may carry neither ``appointment`` nor ``window`` (``dispatch.booking.slots`` says so).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from dispatch.contract.schema import (
    STORED_ID_PATTERN,
    Clock,
    DateText,
    Integer,
    Text,
    VisitIn,
    WindowIn,
)

__all__ = [
    "MAX_SLOTS",
    "BookIn",
    "Shape",
    "SlotIn",
    "SlotOut",
    "SlotRequestIn",
    "SlotsOut",
]

#: The most slots one answer lists.
MAX_SLOTS = 200

#: The shape of the times offered: two-hour windows, half days, or appointments on the half hour.
Shape = Literal["two_hours", "half_day", "appointment"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SlotRequestIn(_Strict):
    """Which times can this visit be offered, between two dates of a week or on one day plan."""

    visit: VisitIn
    shape: Shape = "two_hours"
    plan_id: Text = Field(
        min_length=1,
        max_length=32,
        pattern=STORED_ID_PATTERN,
        description="A stored day plan (its latest version), or a stored week (wk_…): the "
        "day plans of its dates from first_date to last_date.",
    )
    first_date: DateText | None = Field(
        default=None, description="A week's first date offered (default: its first date)."
    )
    last_date: DateText | None = Field(
        default=None, description="A week's last date offered (default: its last date)."
    )
    at: Clock | None = Field(
        default=None,
        description="The clock time of the booking on a day under way: nothing is offered "
        "before it, and stops reached by then stay as they are. Default: for a plan of today "
        "(in the problem's time zone), now (never before the plan's last re-plan); for "
        "another date, the plan's last re-plan, or 00:00 for a day not re-planned yet.",
    )
    preferred: WindowIn | None = Field(
        default=None, description="The time of day the customer would like best."
    )
    fill: Literal["fuller", "emptier", "none"] = Field(
        default="fuller",
        description="Grade days that are already busy better (fuller: fewer vans out) or "
        "worse (emptier: the work spread), or neither.",
    )
    limit: Integer = Field(default=20, ge=1, le=MAX_SLOTS)


class SlotIn(_Strict):
    """A slot to book: its date and time (a window or an appointment), and who takes it."""

    date: DateText
    window: WindowIn | None = None
    appointment: Clock | None = None
    technician_id: Text | None = Field(
        default=None, description="Who was offered; another may take it if they no longer can."
    )


class BookIn(_Strict):
    """Book ``visit`` into ``slot`` of a stored plan (the plan's latest version)."""

    visit: VisitIn
    slot: SlotIn
    at: Clock | None = Field(
        default=None, description="The clock time of the booking; default as for the slots."
    )


class SlotOut(_Strict):
    """One offered slot, best first; ``slot`` is what to send back to book it."""

    rank: int
    plan_id: str
    version: int
    date: str
    start: str = Field(description="ISO 8601: the window's start, or the appointment.")
    end: str = Field(description="ISO 8601: the window's end, or the appointment.")
    appointment: bool
    technician_id: str
    service_start: str = Field(description="ISO 8601: when the work would start as planned.")
    added_travel_min: float
    added_km: float
    grade: float = Field(description="Lower is better (minutes' worth, see the contract).")
    slot: SlotIn


class SlotsOut(_Strict):
    """The answer: slots best first, or why there are none (``code`` and ``reason``)."""

    visit_id: str
    shape: Shape
    slots: list[SlotOut]
    code: str | None = None
    reason: str | None = None
    first_date_with_room: str | None = None
