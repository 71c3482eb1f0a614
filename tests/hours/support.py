"""Time helpers for the trading-hours tests."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from bot.hours.calendar import get_calendar, parse_days
from bot.hours.gate import FixedWindow

NY = ZoneInfo("America/New_York")


def ny(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    """A New York wall time as an aware datetime."""
    return datetime(year, month, day, hour, minute, second, tzinfo=NY)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def nyse_window(calendar: str = "XNYS", start: str = "09:30", end: str = "16:00", days: str = "mon-fri"):
    """The default settings: 09:30-16:00 Mon-Fri America/New_York on the XNYS calendar."""
    opens, closes = time.fromisoformat(start), time.fromisoformat(end)
    return FixedWindow(opens, closes, NY, parse_days(days), get_calendar(calendar))
