"""MarketCalendar (XNYS holidays and derived half days) and the settings parsers."""

from __future__ import annotations

from datetime import date, time

import pytest

from bot.hours.calendar import MarketCalendar, get_calendar, parse_days, parse_hhmm

XNYS = get_calendar("XNYS")


def test_get_calendar_names():
    assert get_calendar("XNYS") == MarketCalendar("XNYS")
    assert get_calendar("xnys").name == "XNYS"
    assert get_calendar("NYSE").name == "XNYS"
    assert get_calendar(" nyse ").name == "XNYS"
    assert get_calendar("none") is None
    assert get_calendar("NONE") is None


@pytest.mark.parametrize("name", ["XLON", "", "nasdaq", "XNYS2"])
def test_get_calendar_unknown(name):
    with pytest.raises(ValueError, match=r"unknown trading calendar '.*'; use XNYS or none"):
        get_calendar(name)


def test_unknown_calendar_message_is_exact():
    with pytest.raises(ValueError) as info:
        get_calendar("XLON")
    assert str(info.value) == "unknown trading calendar 'XLON'; use XNYS or none"


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (date(2026, 1, 1), "New Year's Day"),
        (date(2026, 4, 3), "Good Friday"),
        (date(2026, 6, 19), "Juneteenth National Independence Day"),
        (date(2026, 7, 3), "Independence Day (observed)"),
        (date(2026, 11, 26), "Thanksgiving Day"),
        (date(2026, 12, 25), "Christmas Day"),
        (date(2025, 1, 9), "National Day of Mourning for former President Jimmy Carter"),
    ],
)
def test_full_holidays(day, name):
    assert XNYS.is_holiday(day)
    assert XNYS.holiday_name(day) == name
    assert XNYS.early_close(day) is None


@pytest.mark.parametrize("day", [date(2026, 11, 25), date(2026, 11, 27), date(2026, 3, 9), date(2026, 5, 1)])
def test_ordinary_days_are_not_holidays(day):
    assert not XNYS.is_holiday(day)
    assert XNYS.holiday_name(day) is None


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 11, 27),  # day after Thanksgiving
        date(2026, 12, 24),  # Christmas Eve, a Thursday
        date(2025, 11, 28),
        date(2025, 12, 24),  # Wednesday
        date(2025, 7, 3),  # Thursday
        date(2024, 7, 3),  # Wednesday
        date(2023, 7, 3),  # Monday
        date(2018, 12, 24),  # Monday
    ],
)
def test_half_days_close_at_13(day):
    assert XNYS.early_close(day) == time(13, 0)
    assert not XNYS.is_holiday(day)


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 7, 3),  # July 4 is a Saturday: Friday July 3 is the (full) holiday, no half day
        date(2026, 7, 2),  # ... and the Thursday before is a normal day
        date(2020, 7, 3),  # same in 2020
        date(2021, 12, 24),  # Christmas on Saturday: Friday Dec 24 is the observed holiday
        date(2022, 12, 24),  # Saturday
        date(2022, 12, 23),  # Friday before a weekend Christmas Eve: normal
        date(2022, 7, 3),  # Sunday
        date(2027, 7, 3),  # Saturday
        date(2026, 11, 28),  # Saturday after Thanksgiving
        date(2026, 11, 30),
    ],
)
def test_no_half_day(day):
    assert XNYS.early_close(day) is None


def test_holidays_load_any_year():
    assert XNYS.holiday_name(date(2040, 12, 25)) == "Christmas Day"
    assert XNYS.early_close(date(2040, 11, 23)) == time(13, 0)  # Thanksgiving 2040 is Nov 22


@pytest.mark.parametrize(
    ("spec", "days"),
    [
        ("mon-fri", {0, 1, 2, 3, 4}),
        ("MON-FRI", {0, 1, 2, 3, 4}),
        (" mon - fri ", {0, 1, 2, 3, 4}),
        ("mon,wed,fri", {0, 2, 4}),
        ("mon, wed ,fri", {0, 2, 4}),
        ("sat-sun", {5, 6}),
        ("mon-sun", set(range(7))),
        ("daily", set(range(7))),
        ("Daily", set(range(7))),
        ("weekdays", {0, 1, 2, 3, 4}),
        ("fri-mon", {4, 5, 6, 0}),
        ("monday,tuesday", {0, 1}),
        ("mon-wed,fri", {0, 1, 2, 4}),
        ("sun", {6}),
    ],
)
def test_parse_days(spec, days):
    result = parse_days(spec)
    assert result == frozenset(days)
    assert isinstance(result, frozenset)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "no trading days"),
        ("   ", "no trading days"),
        ("mon-fry", "unknown day 'fry' in 'mon-fry'"),
        ("0-4", "unknown day '0'"),
        ("mon,,fri", "empty day in 'mon,,fri'"),
        ("mon-tue-wed", "bad day range 'mon-tue-wed'"),
        ("weekly", "unknown day 'weekly'"),
    ],
)
def test_parse_days_errors(spec, message):
    with pytest.raises(ValueError, match="use day names") as info:
        parse_days(spec)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("09:30", time(9, 30)),
        ("9:30", time(9, 30)),
        ("00:00", time(0, 0)),
        ("23:59", time(23, 59)),
        (" 16:00 ", time(16)),
    ],
)
def test_parse_hhmm(text, value):
    assert parse_hhmm(text) == value


def test_parse_hhmm_message_is_exact():
    with pytest.raises(ValueError) as info:
        parse_hhmm("9.30")
    assert str(info.value) == "expected HH:MM, got '9.30'"


@pytest.mark.parametrize("text", ["9.30", "24:00", "12:60", "0930", "9:3", "09:30:00", "", "noon", "123:00"])
def test_parse_hhmm_errors(text):
    with pytest.raises(ValueError, match=r"^expected HH:MM, got "):
        parse_hhmm(text)
