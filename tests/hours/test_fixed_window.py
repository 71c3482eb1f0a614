"""FixedWindow: the `fixed` mode gate (half-open [start, end), weekdays, XNYS holidays and half days)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time

from bot.hours.calendar import get_calendar, parse_days
from bot.hours.gate import FixedWindow, GateDecision, HoursGate
from tests.hours.support import NY, ny, nyse_window, utc

MONDAY = (2026, 3, 2)  # an ordinary Monday (EST)


@pytest.mark.parametrize(
    ("hour", "minute", "second", "expected"),
    [
        (9, 29, 0, False),
        (9, 29, 59, False),
        (9, 30, 0, True),
        (10, 0, 0, True),
        (12, 0, 0, True),
        (15, 59, 0, True),
        (15, 59, 59, True),
        (16, 0, 0, False),
        (16, 0, 1, False),
        (0, 0, 0, False),
    ],
)
def test_monday_in_new_york(hour, minute, second, expected):
    is_open, reason = nyse_window().is_open(ny(*MONDAY, hour, minute, second))
    assert is_open is expected
    assert (reason is None) is expected


def test_outside_hours_reason_reads_well():
    assert nyse_window().is_open(ny(*MONDAY, 8, 12)) == (
        False,
        "outside trading hours 09:30-16:00 America/New_York (now 08:12 EST)",
    )
    # same moment given in UTC: the reason is still in exchange time
    assert nyse_window().is_open(utc(2026, 3, 2, 21, 5))[1] == (
        "outside trading hours 09:30-16:00 America/New_York (now 16:05 EST)"
    )
    assert nyse_window().is_open(ny(2026, 7, 6, 8, 0))[1].endswith("(now 08:00 EDT)")


def test_now_in_any_zone_is_the_same_moment():
    window = nyse_window()
    tokyo = ny(*MONDAY, 9, 30).astimezone(ZoneInfo("Asia/Tokyo"))
    assert window.is_open(tokyo) == (True, None)
    assert window.is_open(utc(2026, 3, 2, 14, 30)) == (True, None)  # 09:30 EST
    assert window.is_open(utc(2026, 3, 2, 14, 29))[0] is False


def test_naive_now_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        nyse_window().is_open(datetime(2026, 3, 2, 10, 0))


@pytest.mark.parametrize(("day", "abbr"), [((2026, 3, 7), "Sat"), ((2026, 3, 8), "Sun")])
def test_weekends(day, abbr):
    for hour in (3, 10, 15, 20):
        assert nyse_window().is_open(ny(*day, hour)) == (False, f"weekend/non-trading day ({abbr})")


def test_custom_days():
    window = nyse_window(days="mon,wed,fri")
    assert window.is_open(ny(2026, 3, 4, 10))[0]  # Wednesday
    assert window.is_open(ny(2026, 3, 3, 10)) == (False, "weekend/non-trading day (Tue)")
    weekend = nyse_window(calendar="none", days="sat-sun")
    assert weekend.is_open(ny(2026, 3, 7, 10)) == (True, None)
    assert weekend.is_open(ny(*MONDAY, 10)) == (False, "weekend/non-trading day (Mon)")


class TestDst:
    """The window is local wall time: 09:30 New York is 14:30 UTC in winter and 13:30 UTC in summer."""

    def test_march_change(self):
        window = nyse_window()
        # Friday before the change (EST, UTC-5) and Monday after 2026-03-08 (EDT, UTC-4)
        assert window.is_open(utc(2026, 3, 6, 14, 30)) == (True, None)
        assert window.is_open(utc(2026, 3, 6, 13, 30))[0] is False
        assert window.is_open(utc(2026, 3, 9, 13, 30)) == (True, None)
        assert window.is_open(utc(2026, 3, 9, 13, 29))[0] is False
        assert window.is_open(utc(2026, 3, 9, 19, 59)) == (True, None)
        assert window.is_open(utc(2026, 3, 9, 20, 0))[0] is False
        assert window.is_open(utc(2026, 3, 8, 14, 30)) == (False, "weekend/non-trading day (Sun)")

    def test_november_change(self):
        window = nyse_window()
        assert window.is_open(utc(2026, 10, 30, 13, 30)) == (True, None)  # EDT
        assert window.is_open(utc(2026, 11, 2, 13, 30))[0] is False  # EST: 08:30
        assert window.is_open(utc(2026, 11, 2, 14, 30)) == (True, None)
        assert window.is_open(utc(2026, 11, 2, 21, 0))[0] is False

    def test_next_open_across_changes(self):
        window = nyse_window()
        assert window.next_open(ny(2026, 3, 6, 17)) == utc(2026, 3, 9, 13, 30)
        assert window.next_open(ny(2026, 10, 30, 17)) == utc(2026, 11, 2, 14, 30)


class TestCalendar:
    def test_thanksgiving_is_closed_all_day(self):
        window = nyse_window()
        for hour in (4, 9, 10, 13, 15, 18):
            assert window.is_open(ny(2026, 11, 26, hour, 30)) == (False, "Thanksgiving Day (XNYS holiday)")

    def test_other_holidays_named(self):
        window = nyse_window()
        assert window.is_open(ny(2026, 4, 3, 11)) == (False, "Good Friday (XNYS holiday)")
        assert window.is_open(ny(2026, 7, 3, 11)) == (False, "Independence Day (observed) (XNYS holiday)")

    def test_half_day_after_thanksgiving(self):
        window = nyse_window()
        assert window.is_open(ny(2026, 11, 27, 9, 29))[0] is False
        assert window.is_open(ny(2026, 11, 27, 9, 30)) == (True, None)
        assert window.is_open(ny(2026, 11, 27, 12, 59)) == (True, None)
        assert window.is_open(ny(2026, 11, 27, 12, 59, 59)) == (True, None)
        assert window.is_open(ny(2026, 11, 27, 13, 0)) == (False, "half day: XNYS closes at 13:00")
        assert window.is_open(ny(2026, 11, 27, 15, 59)) == (False, "half day: XNYS closes at 13:00")
        assert window.is_open(ny(2026, 11, 27, 16, 30))[1].startswith("outside trading hours")

    def test_christmas_eve_half_day(self):
        window = nyse_window()
        assert window.is_open(ny(2026, 12, 24, 12, 0)) == (True, None)
        assert window.is_open(ny(2026, 12, 24, 14, 0)) == (False, "half day: XNYS closes at 13:00")
        assert window.is_open(ny(2026, 12, 25, 12, 0)) == (False, "Christmas Day (XNYS holiday)")

    def test_none_calendar_trades_on_holidays_and_half_days(self):
        window = nyse_window(calendar="none")
        assert window.calendar is None
        assert window.is_open(ny(2026, 11, 26, 10)) == (True, None)
        assert window.is_open(ny(2026, 11, 27, 15)) == (True, None)
        assert window.next_open(ny(2026, 11, 25, 18)) == ny(2026, 11, 26, 9, 30).astimezone(UTC)

    def test_window_starting_after_the_early_close_loses_the_half_day(self):
        window = nyse_window(start="14:00", end="16:00")
        assert window.is_open(ny(2026, 11, 27, 14, 30)) == (False, "half day: XNYS closes at 13:00")
        assert window.next_open(ny(2026, 11, 25, 18)) == ny(2026, 11, 30, 14).astimezone(UTC)
        assert window.session_bounds(ny(2026, 11, 27).date()) is None


class TestNextOpen:
    def test_friday_evening_is_monday_0930(self):
        result = nyse_window().next_open(ny(2026, 3, 6, 18, 0))
        assert result == ny(2026, 3, 9, 9, 30).astimezone(UTC)
        assert result.tzinfo == UTC

    def test_wednesday_before_thanksgiving_is_friday(self):
        assert nyse_window().next_open(ny(2026, 11, 25, 18)) == ny(2026, 11, 27, 9, 30).astimezone(UTC)
        assert nyse_window().next_open(ny(2026, 11, 26, 11)) == utc(2026, 11, 27, 14, 30)

    def test_half_day_afternoon_is_next_monday(self):
        assert nyse_window().next_open(ny(2026, 11, 27, 13, 0)) == ny(2026, 11, 30, 9, 30).astimezone(UTC)

    def test_before_the_open_is_today(self):
        assert nyse_window().next_open(ny(*MONDAY, 9, 29, 59)) == ny(*MONDAY, 9, 30).astimezone(UTC)
        assert nyse_window().next_open(ny(*MONDAY, 0, 0)) == ny(*MONDAY, 9, 30).astimezone(UTC)

    def test_after_the_close_is_tomorrow(self):
        assert nyse_window().next_open(ny(*MONDAY, 16, 0)) == ny(2026, 3, 3, 9, 30).astimezone(UTC)

    def test_while_open_is_now(self):
        now = ny(*MONDAY, 11, 0)
        assert nyse_window().next_open(now) == now.astimezone(UTC)

    def test_long_weekend_and_new_year(self):
        # Friday 2026-12-25 holiday; Thursday 24th is a half day; next after it is Monday 28th
        assert nyse_window().next_open(ny(2026, 12, 24, 13, 5)) == ny(2026, 12, 28, 9, 30).astimezone(UTC)
        # New Year's Day 2027 is a Friday
        assert nyse_window().next_open(ny(2026, 12, 31, 16, 0)) == ny(2027, 1, 4, 9, 30).astimezone(UTC)

    def test_next_open_is_open(self):
        window = nyse_window()
        now = ny(2026, 11, 20, 16, 0)
        for _ in range(30):
            opens = window.next_open(now)
            assert window.is_open(opens) == (True, None)
            assert window.is_open(opens - timedelta(seconds=1))[0] is False
            now = opens + timedelta(hours=7)


class TestOvernightWindow:
    """22:00-02:00: a session belongs to the day it starts on."""

    def window(self, calendar: str = "none") -> FixedWindow:
        return nyse_window(calendar=calendar, start="22:00", end="02:00")

    def test_shape(self):
        assert self.window().overnight
        assert not nyse_window().overnight

    def test_open_across_midnight(self):
        window = self.window()
        assert window.is_open(ny(2026, 3, 2, 21, 59))[0] is False
        assert window.is_open(ny(2026, 3, 2, 22, 0)) == (True, None)
        assert window.is_open(ny(2026, 3, 3, 0, 0)) == (True, None)
        assert window.is_open(ny(2026, 3, 3, 1, 59)) == (True, None)
        assert window.is_open(ny(2026, 3, 3, 2, 0))[1] == (
            "outside trading hours 22:00-02:00 America/New_York (now 02:00 EST)"
        )

    def test_days_are_the_start_day(self):
        window = self.window()
        assert window.is_open(ny(2026, 3, 7, 1, 0)) == (True, None)  # Saturday 01:00: Friday's session
        assert window.is_open(ny(2026, 3, 7, 22, 0)) == (False, "weekend/non-trading day (Sat)")
        assert window.is_open(ny(2026, 3, 9, 1, 0)) == (False, "weekend/non-trading day (Sun)")
        assert window.next_open(ny(2026, 3, 7, 3, 0)) == ny(2026, 3, 9, 22, 0).astimezone(UTC)

    def test_calendar_applies_to_the_start_day(self):
        window = self.window("XNYS")
        assert window.is_open(ny(2026, 11, 26, 23, 0)) == (False, "Thanksgiving Day (XNYS holiday)")
        assert window.is_open(ny(2026, 11, 27, 1, 0)) == (False, "Thanksgiving Day (XNYS holiday)")
        assert window.is_open(ny(2026, 11, 26, 1, 0)) == (True, None)  # Wednesday's session
        # the half day closes at 13:00, before this window opens: no Friday session
        assert window.is_open(ny(2026, 11, 27, 22, 30)) == (False, "half day: XNYS closes at 13:00")
        assert window.next_open(ny(2026, 11, 25, 3, 0)) == ny(2026, 11, 25, 22, 0).astimezone(UTC)
        assert window.next_open(ny(2026, 11, 26, 3, 0)) == ny(2026, 11, 30, 22, 0).astimezone(UTC)

    def test_end_at_midnight(self):
        window = nyse_window(calendar="none", start="18:00", end="00:00")
        assert window.is_open(ny(*MONDAY, 23, 59, 59)) == (True, None)
        assert window.is_open(ny(2026, 3, 3, 0, 0))[0] is False


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"start": time(9, 30), "end": time(9, 30)}, "empty"),
        ({"days": frozenset()}, "at least one trading day"),
        ({"days": frozenset({7})}, "0-6"),
        ({"start": time(9, 30, 0, 5)}, "whole seconds"),
    ],
)
def test_bad_windows(kwargs, message):
    args = {"start": time(9, 30), "end": time(16), "tz": NY, "days": parse_days("mon-fri"), "calendar": None}
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        FixedWindow(**args)


def test_parse_from_settings_text():
    window = FixedWindow.parse("09:30", "16:00", "America/New_York", "mon-fri", "XNYS")
    assert window == FixedWindow(time(9, 30), time(16), NY, parse_days("mon-fri"), get_calendar("XNYS"))
    assert window.label == "09:30-16:00 Mon-Fri America/New_York"
    with pytest.raises(ValueError, match="unknown timezone 'Mars/Olympus'"):
        FixedWindow.parse("09:30", "16:00", "Mars/Olympus")
    with pytest.raises(ValueError, match="expected HH:MM"):
        FixedWindow.parse("9.30", "16:00", "America/New_York")


class TestGateFixedAndAlways:
    def test_fixed_mode_uses_the_window(self):
        gate = HoursGate("fixed", window=nyse_window())
        assert gate.check(ny(*MONDAY, 10), []) == GateDecision(True, None, {})
        decision = gate.check(ny(2026, 11, 26, 10), [])
        assert decision.trade is False
        assert decision.reason == "Thanksgiving Day (XNYS holiday)"
        assert dict(decision.closed) == {}

    def test_always_mode_trades(self):
        gate = HoursGate("always")
        for now in (ny(2026, 11, 26, 3), ny(2026, 3, 7, 12), utc(2026, 12, 25)):
            assert gate.check(now, []) == GateDecision(True, None, {})

    def test_mode_validation(self):
        with pytest.raises(ValueError, match="unknown trading hours mode 'sometimes'"):
            HoursGate("sometimes")
        with pytest.raises(ValueError, match="FixedWindow"):
            HoursGate("fixed")
        with pytest.raises(ValueError, match="schedule_source"):
            HoursGate("instrument")
        assert HoursGate("ALWAYS").mode == "always"

    @freeze_time("2030-06-15 12:00:00")  # a Saturday: the gate must not care what the wall clock says
    def test_gate_reads_no_clock(self):
        gate = HoursGate("fixed", window=nyse_window())
        assert gate.check(ny(*MONDAY, 10), []).trade is True
        assert gate.check(ny(*MONDAY, 17), []).trade is False
        assert nyse_window().next_open(ny(2026, 3, 6, 18)) == ny(2026, 3, 9, 9, 30).astimezone(UTC)


def test_modules_do_not_read_the_wall_clock():
    import bot.hours.calendar
    import bot.hours.gate
    import bot.hours.triggers

    for module in (bot.hours.gate, bot.hours.calendar, bot.hours.triggers):
        with open(module.__file__, encoding="utf-8") as handle:
            source = handle.read()
        for needle in ("datetime.now", "date.today", "time.time(", "utcnow", "time.monotonic"):
            assert needle not in source, f"{module.__name__} reads the clock via {needle}"
