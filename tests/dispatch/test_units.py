"""Unit conversions (``dispatch.units``): clocks, seconds after midnight, minutes, km, rounding.

Every expected value is worked out by hand in the comment beside it. Shanghai is UTC+8 all
year; Berlin springs forward at 02:00 on 2026-03-29 (+01:00 to +02:00) and falls back at 03:00
on 2026-10-25 (+02:00 to +01:00); New York is UTC-5 on 2026-11-23.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dispatch.units import (
    METRES_PER_KM,
    SECONDS_PER_MINUTE,
    after,
    clock_to_datetime,
    counted,
    duration_to_s,
    earliest,
    format_clock,
    format_iso_clock,
    iso,
    km_as_m,
    km_to_m,
    latest,
    m_as_km,
    m_to_km,
    minutes_to_duration,
    minutes_to_s,
    moment_after,
    percent,
    round_up_travel_s,
    s_to_duration,
    s_to_minutes,
    seconds_after,
    travel_minutes_to_s,
    whole_minutes,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
DAY = date(2026, 11, 23)


def test_a_minute_has_sixty_seconds() -> None:
    assert SECONDS_PER_MINUTE == 60


@pytest.mark.parametrize(
    ("clock", "expected"),
    [
        ("00:00", "2026-11-23T00:00:00+08:00"),
        ("09:05", "2026-11-23T09:05:00+08:00"),
        ("23:59", "2026-11-23T23:59:00+08:00"),
        ("24:00", "2026-11-24T00:00:00+08:00"),  # the end of the day is the next midnight
    ],
)
def test_clock_to_datetime_on_the_plans_date_in_its_zone(clock: str, expected: str) -> None:
    moment = clock_to_datetime(clock, DAY, SHANGHAI)
    assert moment.isoformat() == expected
    assert moment.tzinfo is SHANGHAI


def test_the_same_clock_in_two_zones_is_thirteen_hours_apart() -> None:
    # 09:00 in Shanghai is 01:00 UTC; 09:00 in New York (UTC-5) is 14:00 UTC.
    shanghai = clock_to_datetime("09:00", DAY, SHANGHAI)
    new_york = clock_to_datetime("09:00", DAY, NEW_YORK)
    assert shanghai.astimezone(UTC) == datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    assert new_york.astimezone(UTC) == datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
    assert seconds_after(new_york, shanghai) == 13 * 3600


def test_clock_to_datetime_takes_the_offset_of_each_side_of_a_daylight_saving_change() -> None:
    spring = date(2026, 3, 29)
    assert clock_to_datetime("01:30", spring, BERLIN).isoformat() == "2026-03-29T01:30:00+01:00"
    assert clock_to_datetime("03:30", spring, BERLIN).isoformat() == "2026-03-29T03:30:00+02:00"


@pytest.mark.parametrize("clock", ["0930", "9h30", "25:00", "24:30", "12:60", ":"])
def test_a_clock_that_is_not_hh_mm_is_a_value_error(clock: str) -> None:
    with pytest.raises(ValueError):
        clock_to_datetime(clock, DAY, SHANGHAI)


@pytest.mark.parametrize(
    ("clock", "seconds"),
    [
        ("00:00", 0),
        ("08:00", 28_800),  # 8 * 3600
        ("09:25", 33_900),  # 9 * 3600 + 25 * 60
        ("18:00", 64_800),
        ("24:00", 86_400),  # the whole day
    ],
)
def test_seconds_after_midnight_across_the_day(clock: str, seconds: int) -> None:
    midnight = clock_to_datetime("00:00", DAY, SHANGHAI)
    assert seconds_after(clock_to_datetime(clock, DAY, SHANGHAI), midnight) == seconds


def test_seconds_after_is_negative_before_the_origin_and_zone_blind() -> None:
    nine = clock_to_datetime("09:00", DAY, SHANGHAI)
    midnight = clock_to_datetime("00:00", DAY, SHANGHAI)
    assert seconds_after(midnight, nine) == -32_400
    # The same instant written in UTC: 01:00 UTC is 09:00 in Shanghai.
    assert seconds_after(datetime(2026, 11, 23, 1, 0, tzinfo=UTC), midnight) == 32_400


def test_seconds_after_counts_real_time_across_daylight_saving_changes() -> None:
    # Spring: midnight is 23:00 UTC the day before, 03:30+02:00 is 01:30 UTC: 2.5 h, not the
    # 3.5 h the wall clocks show.
    spring = date(2026, 3, 29)
    origin = clock_to_datetime("00:00", spring, BERLIN)
    assert seconds_after(clock_to_datetime("03:30", spring, BERLIN), origin) == 9_000
    # Autumn: midnight is 22:00 UTC, 12:00+01:00 is 11:00 UTC: 13 h, not 12.
    autumn = date(2026, 10, 25)
    origin = clock_to_datetime("00:00", autumn, BERLIN)
    assert seconds_after(clock_to_datetime("12:00", autumn, BERLIN), origin) == 46_800


def test_seconds_after_rounds_a_fraction_to_the_nearest_second() -> None:
    origin = clock_to_datetime("08:00", DAY, SHANGHAI)
    assert seconds_after(origin + timedelta(seconds=90, milliseconds=400), origin) == 90
    assert seconds_after(origin + timedelta(seconds=90, milliseconds=600), origin) == 91


def test_moment_after_undoes_seconds_after_in_the_origins_zone() -> None:
    spring = date(2026, 3, 29)
    origin = clock_to_datetime("00:00", spring, BERLIN)
    # 9000 s after midnight on the spring day is 03:30 summer time (see above).
    later = moment_after(origin, 9_000)
    assert later.isoformat() == "2026-03-29T03:30:00+02:00"
    assert later.tzinfo is BERLIN
    assert seconds_after(later, origin) == 9_000
    shanghai = clock_to_datetime("00:00", DAY, SHANGHAI)
    assert moment_after(shanghai, 33_900).isoformat() == "2026-11-23T09:25:00+08:00"
    assert moment_after(shanghai, -60).isoformat() == "2026-11-22T23:59:00+08:00"


@pytest.mark.parametrize(
    ("minutes", "seconds"),
    [
        (30, 1_800),
        (1.5, 90),
        (0.01, 1),  # 0.6 s to the nearest second
        (0.005, 0),  # 0.3 s
        (2.508, 150),  # 150.48 s
        (2.51, 151),  # 150.6 s: durations round to the nearest second, not up
    ],
)
def test_a_users_minutes_become_the_nearest_whole_second(minutes: float, seconds: int) -> None:
    assert minutes_to_s(minutes) == seconds


@pytest.mark.parametrize(
    ("minutes", "seconds"),
    [
        (0, 0),
        (10, 600),
        (9.2, 600),  # part of a minute counts as the whole minute
        (10.01, 660),
        (0.5, 60),
        (10.0000004, 600),  # float noise below a millionth of a minute is no extra minute
        (10.00001, 660),  # ... but a hundred-thousandth is
    ],
)
def test_travel_minutes_are_rounded_up_to_whole_minutes(minutes: float, seconds: int) -> None:
    assert travel_minutes_to_s(minutes) == seconds


@pytest.mark.parametrize(
    ("km", "metres"), [(5, 5_000), (2.5, 2_500), (0.0016, 2), (0.0004, 0), (12.3456, 12_346)]
)
def test_kilometres_become_whole_metres(km: float, metres: int) -> None:
    assert km_to_m(km) == metres


@pytest.mark.parametrize(
    ("metres", "km"), [(5_000, 5.0), (1_234, 1.2), (1_260, 1.3), (51, 0.1), (49, 0.0)]
)
def test_metres_become_kilometres_to_a_tenth(metres: float, km: float) -> None:
    assert m_to_km(metres) == km


def test_iso_has_the_offset_and_no_fraction() -> None:
    moment = datetime(2026, 11, 23, 9, 25, 30, 999_999, tzinfo=SHANGHAI)
    assert iso(moment) == "2026-11-23T09:25:30+08:00"  # the fraction is cut, not rounded
    assert iso(datetime(2026, 3, 29, 3, 30, tzinfo=BERLIN)) == "2026-03-29T03:30:00+02:00"
    assert iso(datetime(2026, 11, 23, 1, 0, tzinfo=UTC)) == "2026-11-23T01:00:00+00:00"


def test_format_clock_reads_the_moment_in_its_own_zone() -> None:
    in_utc = datetime(2026, 11, 23, 1, 5, tzinfo=UTC)
    assert format_clock(in_utc) == "01:05"
    assert format_clock(in_utc.astimezone(SHANGHAI)) == "09:05"
    assert format_clock(clock_to_datetime("24:00", DAY, SHANGHAI)) == "00:00"


def test_as_a_clock_time_of_its_day_the_midnight_that_ends_it_is_24_00() -> None:
    end = clock_to_datetime("24:00", DAY, SHANGHAI)
    assert format_clock(end, DAY) == "24:00"
    assert format_clock(clock_to_datetime("00:00", DAY, SHANGHAI), DAY) == "00:00"
    assert format_clock(clock_to_datetime("23:59", DAY, SHANGHAI), DAY) == "23:59"
    assert format_clock(datetime(2026, 11, 23, 17, 59, 59, tzinfo=SHANGHAI)) == "17:59"


@pytest.mark.parametrize(
    ("minutes", "duration"),
    [
        (30, timedelta(minutes=30)),
        (1.5, timedelta(seconds=90)),
        (0.0125, timedelta(milliseconds=750)),  # 0.75 s: the domain keeps the fraction
        (24 * 60, timedelta(days=1)),
    ],
)
def test_a_users_minutes_become_a_duration_exactly(minutes: float, duration: timedelta) -> None:
    assert minutes_to_duration(minutes) == duration


@pytest.mark.parametrize(
    ("duration", "minutes"),
    [
        (timedelta(minutes=30), 30),
        (timedelta(seconds=89), 1),  # 1.48 min
        (timedelta(seconds=91), 2),  # 1.52 min
        (timedelta(seconds=150), 2),  # 2.5 min: half to even, as Python rounds
        (timedelta(seconds=210), 4),  # 3.5 min: half to even
        (timedelta(seconds=-91), -2),  # arrivals moved earlier count down
        (timedelta(0), 0),
    ],
)
def test_a_duration_becomes_the_nearest_whole_minute(duration: timedelta, minutes: int) -> None:
    assert whole_minutes(duration) == minutes


@pytest.mark.parametrize(("km", "metres"), [(25, 25_000), (2.5, 2_500.0), (0.0004, 0.4)])
def test_kilometres_drawn_become_metres_unrounded(km: float, metres: float) -> None:
    assert km_as_m(km) == pytest.approx(metres)
    assert isinstance(km_as_m(float(km)), float)  # 25.0 km is 25000.0 m, not 25000


@pytest.mark.parametrize(
    ("text", "clock"),
    [
        ("2026-11-23T09:25:00+08:00", "09:25"),  # the clock of the text's own offset
        ("2026-11-23T01:05:59+00:00", "01:05"),  # seconds are cut, not rounded
        ("2026-03-29T03:30:00+02:00", "03:30"),  # Berlin just after springing forward
        ("2026-11-24T00:00:00+08:00", "00:00"),  # the end of a day is the next midnight
        ("09:25", "09:25"),  # a clock time stays as it is
        ("24:00", "24:00"),  # ... the contract's end of the day too
        ("", ""),
        (None, ""),
        ("2026-11-23T\\x:00+08:00", "\\x:00"),  # edited by hand: shown as typed, not refused
    ],
)
def test_format_iso_clock_shows_hh_mm_of_the_contracts_text(text: str | None, clock: str) -> None:
    assert format_iso_clock(text) == clock


def test_format_iso_clock_agrees_with_format_clock_on_what_iso_writes() -> None:
    for moment in (
        datetime(2026, 11, 23, 9, 25, 30, 999_999, tzinfo=SHANGHAI),
        datetime(2026, 11, 23, 23, 59, tzinfo=NEW_YORK),
        clock_to_datetime("03:30", date(2026, 3, 29), BERLIN),
    ):
        assert format_iso_clock(iso(moment)) == format_clock(moment)


@pytest.mark.parametrize(
    ("duration", "seconds"),
    [
        (timedelta(minutes=30), 1800),
        (timedelta(seconds=89.4), 89),  # the nearest second
        (timedelta(seconds=89.6), 90),
        (timedelta(0), 0),
    ],
)
def test_a_duration_becomes_the_solvers_whole_seconds_and_back(
    duration: timedelta, seconds: int
) -> None:
    assert duration_to_s(duration) == seconds
    assert s_to_duration(seconds) == timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("seconds", "rounded"),
    [(0, 0), (1, 60), (60, 60), (61, 120), (599.5, 600), (600.0000001, 600)],
)
def test_travel_seconds_are_rounded_up_to_whole_minutes(seconds: float, rounded: int) -> None:
    # The last case: float noise of a provider's answer is not a minute more (6 decimals).
    assert round_up_travel_s(seconds) == rounded


def test_metres_and_seconds_become_km_and_minutes_unrounded() -> None:
    assert METRES_PER_KM == 1000
    assert m_as_km(5040) == 5.04 and m_as_km(1) == 0.001  # m_to_km would give 5.0 and 0.0
    assert s_to_minutes(90) == 1.5 and s_to_minutes(1) == 1 / 60


@pytest.mark.parametrize(("count", "said"), [(0, "0 stops"), (1, "1 stop"), (2, "2 stops")])
def test_a_count_is_written_as_a_person_writes_it(count: int, said: str) -> None:
    assert counted(count, "stop") == said


def test_moments_of_the_hour_the_clocks_repeat_are_ordered_in_real_time() -> None:
    # Berlin, 2026-10-25: 02:30 happens twice; one zone's datetimes compare wall clocks.
    second = datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=BERLIN)
    before = datetime(2026, 10, 25, 2, 40, tzinfo=BERLIN)  # the first 02:40
    assert not second > before  # Python's own comparison: wall clocks
    assert after(second, before) and not after(before, second)
    assert latest(before, second) is second and earliest(second, before) is before


def test_a_rate_short_of_a_target_never_reads_as_the_target() -> None:
    # 26 of 29 on time (89.7 %) read "90%" beside "target 90%".
    assert percent(26 / 29) == "89%"
    assert percent(round(26 / 29, 4)) == "89%"
    assert percent(0.9) == "90%" and percent(0.29) == "29%" and percent(0.57) == "57%"
    assert percent(0.9999) == "99%" and percent(1.0) == "100%" and percent(0.0) == "0%"
    assert percent(None) == "-"
