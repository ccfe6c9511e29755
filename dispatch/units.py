"""Conversions between the user's units and the solver's, in one place.

The solver counts whole seconds after the plan's local midnight and whole metres. Users speak
``HH:MM``, minutes and kilometres. Travel is rounded *up* to whole minutes, so that a plan's
promised times never rest on a fraction of a minute the technician does not have; every other
duration the user gives is in whole or fractional minutes and is rounded to the nearest second.

How a time is shown (``HH:MM``: ``format_clock`` of a datetime, ``format_iso_clock`` of the
contract's ISO text) and how durations, distances and counts are written back to the user
(whole minutes, km to 0.1, "1 stop"/"2 stops") live here too, so that no other module
multiplies or slices.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = [
    "METRES_PER_KM",
    "QUANTITY_SCALE",
    "SECONDS_PER_MINUTE",
    "after",
    "as_minutes",
    "clock_of_offset",
    "clock_to_datetime",
    "counted",
    "duration_to_s",
    "earliest",
    "elapsed",
    "format_clock",
    "format_iso_clock",
    "iso",
    "km_as_m",
    "km_to_m",
    "latest",
    "local_moment",
    "m_as_km",
    "m_to_km",
    "minutes_to_duration",
    "minutes_to_s",
    "moment_after",
    "percent",
    "quantity_units",
    "round_up_travel_s",
    "s_to_duration",
    "s_to_minutes",
    "seconds_after",
    "shifted",
    "travel_minutes_to_s",
    "whole_minutes",
]

SECONDS_PER_MINUTE = 60
METRES_PER_KM = 1000


def clock_to_datetime(clock: str, day: date, zone: ZoneInfo) -> datetime:
    """Return ``HH:MM`` on ``day`` in ``zone`` as an aware datetime; ``24:00`` is next midnight.
    A time a daylight-saving change skips or repeats is read as ``local_moment`` says.

    Raises
    ------
    ValueError
        If ``clock`` is not ``HH:MM``.
    """
    hours_text, _, minutes_text = clock.partition(":")
    hours, minutes = int(hours_text), int(minutes_text)
    if hours == 24 and minutes == 0:
        return datetime.combine(day, time(0, 0), tzinfo=zone) + timedelta(days=1)
    return local_moment(datetime.combine(day, time(hours, minutes)), zone)


def local_moment(wall: datetime, zone: ZoneInfo) -> datetime:
    """The moment the naive wall time ``wall`` is in ``zone``, shown as the wall clock then
    reads: a time a daylight-saving change skips is read with the offset before it (``02:30``
    the night New York springs forward is 03:30 EDT), one it repeats is its first occurrence.
    Datetimes of one zone then compare as the moments they are (but in a repeated hour)."""
    return wall.replace(tzinfo=zone).astimezone(UTC).astimezone(zone)


def hours_on(
    day: date, hours: tuple[timedelta, timedelta], zone: ZoneInfo
) -> tuple[datetime, datetime]:
    """The moments ``hours`` (offsets from local midnight: a visit's daily window) open and
    close on ``day`` in ``zone``, read on the wall clock as ``local_moment`` reads it."""
    midnight = datetime.combine(day, time())
    return local_moment(midnight + hours[0], zone), local_moment(midnight + hours[1], zone)


def seconds_after(moment: datetime, origin: datetime) -> int:
    """Whole seconds elapsed from ``origin`` to ``moment`` (both aware), as the solver counts.

    Both are taken to UTC first: Python subtracts datetimes of one zone as wall clocks, which
    is an hour off across a daylight-saving change.
    """
    return round((moment.astimezone(UTC) - origin.astimezone(UTC)).total_seconds())


def moment_after(origin: datetime, seconds: int) -> datetime:
    """The aware datetime ``seconds`` after ``origin``, in its zone: ``seconds_after`` undone."""
    return shifted(origin, timedelta(seconds=seconds))


def elapsed(start: datetime, end: datetime) -> timedelta:
    """The real time from ``start`` to ``end`` (both aware): ``end - start`` of one zone is
    the wall clocks' difference, an hour off across a daylight-saving change."""
    return end.astimezone(UTC) - start.astimezone(UTC)


def latest(*moments: datetime) -> datetime:
    """The latest of aware ``moments`` in real time: ``max`` of one zone compares wall
    clocks, and the night the clocks go back it takes 03:10 before the change for the later
    of two 03:10s."""
    return max(moments, key=lambda moment: moment.astimezone(UTC))


def earliest(*moments: datetime) -> datetime:
    """The earliest of aware ``moments`` in real time (see ``latest``)."""
    return min(moments, key=lambda moment: moment.astimezone(UTC))


def after(moment: datetime, other: datetime) -> bool:
    """Whether aware ``moment`` comes after ``other`` in real time (see ``latest``)."""
    return moment.astimezone(UTC) > other.astimezone(UTC)


def shifted(moment: datetime, by: timedelta) -> datetime:
    """``moment`` moved by ``by`` of real time, in its zone: ``moment + by`` moves the wall
    clock, an hour off across a daylight-saving change (and into the hour it skips)."""
    return (moment.astimezone(UTC) + by).astimezone(moment.tzinfo)


def minutes_to_s(minutes: float) -> int:
    """A user's duration in minutes as whole seconds, rounded to the nearest."""
    return round(minutes * SECONDS_PER_MINUTE)


def minutes_to_duration(minutes: float) -> timedelta:
    """A user's duration in minutes as a ``timedelta``, exactly: the domain keeps the fraction,
    and only the solver's seconds are rounded (``minutes_to_s``)."""
    return timedelta(minutes=minutes)


def duration_to_s(duration: timedelta) -> int:
    """A duration as whole seconds, rounded to the nearest, as the solver counts."""
    return round(duration.total_seconds())


def s_to_duration(seconds: float) -> timedelta:
    """The solver's seconds as a ``timedelta``: ``duration_to_s`` undone."""
    return timedelta(seconds=seconds)


def round_up_travel_s(seconds: float) -> int:
    """A travel time in seconds as whole seconds, rounded up to the next whole minute."""
    return travel_minutes_to_s(seconds / SECONDS_PER_MINUTE)


def travel_minutes_to_s(minutes: float) -> int:
    """A travel time in minutes as whole seconds, rounded up to the next whole minute."""
    return math.ceil(round(minutes, 6)) * SECONDS_PER_MINUTE


def s_to_minutes(seconds: float) -> float:
    """Seconds as fractional minutes."""
    return seconds / SECONDS_PER_MINUTE


def as_minutes(duration: timedelta) -> float:
    """A duration in minutes, as the contract writes durations."""
    return duration.total_seconds() / SECONDS_PER_MINUTE


def whole_minutes(duration: timedelta) -> int:
    """A duration in whole minutes, rounded to the nearest, as plans and cards show them."""
    return round(as_minutes(duration))


def km_to_m(km: float) -> int:
    """Kilometres as whole metres."""
    return round(km * METRES_PER_KM)


def km_as_m(km: float) -> float:
    """Kilometres as metres, not rounded: a length drawn on a map, which no one counts in whole
    metres (``km_to_m`` gives the solver's)."""
    return km * METRES_PER_KM


def m_as_km(metres: float) -> float:
    """Metres as kilometres, not rounded: what the domain keeps (``m_to_km`` gives the
    plan's 0.1 km)."""
    return metres / METRES_PER_KM


def m_to_km(metres: float) -> float:
    """Metres as kilometres rounded to 0.1 km, as plans show them."""
    return round(metres / METRES_PER_KM, 1)


def iso(moment: datetime) -> str:
    """ISO 8601 with offset and no fraction: ``2026-11-23T09:25:00+08:00``."""
    return moment.replace(microsecond=0).isoformat()


def format_clock(moment: datetime, day: date | None = None) -> str:
    """``HH:MM`` of an aware datetime in its own zone; as a clock time of ``day`` when given,
    where the midnight that ends it is ``24:00``, as the contract writes it (a batch at 24:00
    was stored as unavailable from 00:00: the day's start)."""
    if day is not None and moment.date() > day and moment.time() == time(0, 0):
        return "24:00"
    return moment.strftime("%H:%M")


def clock_of_offset(offset: timedelta) -> str:
    """A time after midnight as a clock ``HH:MM``, to the nearest minute (``24:00`` for the
    end of the day)."""
    minutes = round(offset.total_seconds() / 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def format_iso_clock(text: str | None) -> str:
    """``HH:MM`` of a time as the contract writes it, for display.

    Parameters
    ----------
    text
        An ISO 8601 date-time with its offset (``2026-11-23T09:25:00+08:00``: the clock of
        that offset, ``09:25``), or a clock time (``09:25`` stays ``09:25``).

    Returns
    -------
    The ``HH:MM``; ``""`` when ``text`` is ``None`` or empty.

    The text is cut, not parsed (``iso`` writes the clock at characters 11 to 15): a plan read
    from a file is not checked (``fieldroute map plan.json``), and a time edited there by hand
    shows as it was typed rather than failing the page.
    """
    if not text:
        return ""
    return text[11:16] if "T" in text else text[:5]


def percent(rate: float | None) -> str:
    """A rate (0 to 1) as a whole percent rounded down, "-" for none: a rate short of a target
    never reads as the target (26 of 29 on time, 89.7 %, read "90%" beside "target 90%"), nor
    a rate short of all as "100%"."""
    if rate is None:
        return "-"
    return f"{math.floor(rate * 100 + 1e-9)}%"  # 0.29 * 100 is 28.999999999999996


def counted(count: int, noun: str) -> str:
    """``count`` of ``noun`` as a person writes it: "1 stop", "0 stops", "2 stops"."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


#: Integer units of the capacity quantities: grams and cubic centimetres. Demands are rounded
#: up and capacities down (``quantity_units``), so the solver never loads a van past what it
#: holds: rounded to the nearest 0.1 kg each, three loads of 3.34 kg (33 units each) went into
#: a 10 kg van (100 units).
QUANTITY_SCALE = {"weight_kg": 1000, "volume_m3": 1_000_000}


def quantity_units(value: float, quantity: str, *, up: bool) -> int:
    """``value`` of ``quantity`` (``weight_kg``, ``volume_m3``) in whole ``QUANTITY_SCALE``
    units, rounded ``up`` (a demand) or down (a capacity); float noise (3.3 kg is
    3300.0000000000005 g) is not a unit."""
    scaled = round(value * QUANTITY_SCALE[quantity], 6)
    return math.ceil(scaled) if up else math.floor(scaled)
