"""Exchange calendars and the small parsers behind the `fixed` trading-hours settings.

`MarketCalendar` answers three questions about a local exchange date: is it a full holiday, does the
exchange close early, and what is the holiday called. Only the NYSE (`XNYS`) is built in:

- full holidays come from the `holidays` package's NYSE financial calendar (`holidays.financial_holidays`),
  which also knows one-off closures (days of mourning, Hurricane Sandy, 9/11);
- early closes (13:00 New York time) are derived here, because the package does not list them:
  the day after Thanksgiving, Christmas Eve (Dec 24 on a weekday that is not itself a holiday) and July 3
  (on a weekday that is not itself a holiday: when July 4 falls on a Saturday the NYSE closes on Friday July 3
  for the whole day, so there is no half day that year).

No function here reads the wall clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time, timedelta
from functools import lru_cache

import holidays

__all__ = ["MarketCalendar", "get_calendar", "parse_days", "parse_hhmm"]

_NYSE_EARLY_CLOSE = time(13, 0)


@lru_cache(maxsize=64)
def _nyse_holidays(year: int) -> dict[date, str]:
    """Full NYSE closures of one year, date -> name (built once per year, then read-only)."""
    return dict(holidays.financial_holidays("NYSE", years=year).items())


def _thanksgiving(year: int) -> date:
    """Fourth Thursday of November."""
    first = date(year, 11, 1)
    first_thursday = first + timedelta(days=(3 - first.weekday()) % 7)
    return first_thursday + timedelta(weeks=3)


@dataclass(frozen=True)
class MarketCalendar:
    """An exchange's holidays and early closes, by local exchange date.

    `name` is the exchange code used in settings and log lines (`XNYS`). Weekends are not holidays here:
    which weekdays trade is `TRADING_DAYS`' business.
    """

    name: str

    def __post_init__(self) -> None:
        if self.name != "XNYS":
            raise ValueError(f"unknown trading calendar {self.name!r}; use XNYS or none")

    def holiday_name(self, day: date) -> str | None:
        """The name of the full-day closure on `day`, or None when the exchange is not closed all day."""
        return _nyse_holidays(day.year).get(day)

    def is_holiday(self, day: date) -> bool:
        return self.holiday_name(day) is not None

    def early_close(self, day: date) -> time | None:
        """Local exchange time of an early close on `day` (e.g. `time(13, 0)`), or None on a normal day."""
        if day.weekday() >= 5 or self.is_holiday(day):
            return None
        if day == _thanksgiving(day.year) + timedelta(days=1):
            return _NYSE_EARLY_CLOSE
        if (day.month, day.day) in ((12, 24), (7, 3)):
            return _NYSE_EARLY_CLOSE
        return None


_CALENDAR_ALIASES = {"XNYS": "XNYS", "NYSE": "XNYS"}


def get_calendar(name: str) -> MarketCalendar | None:
    """`XNYS` (or `NYSE`, any case) -> the NYSE calendar; `none` -> None (no holidays, no half days)."""
    key = (name or "").strip()
    if key.lower() == "none":
        return None
    code = _CALENDAR_ALIASES.get(key.upper())
    if code is None:
        raise ValueError(f"unknown trading calendar {name!r}; use XNYS or none")
    return MarketCalendar(code)


_DAY_NAMES: dict[str, int] = {}
for _number, _names in enumerate(
    (
        ("mon", "monday"),
        ("tue", "tues", "tuesday"),
        ("wed", "weds", "wednesday"),
        ("thu", "thur", "thurs", "thursday"),
        ("fri", "friday"),
        ("sat", "saturday"),
        ("sun", "sunday"),
    )
):
    for _name in _names:
        _DAY_NAMES[_name] = _number

_DAY_SETS = {
    "daily": frozenset(range(7)),
    "all": frozenset(range(7)),
    "weekdays": frozenset(range(5)),
    "weekends": frozenset({5, 6}),
}
_DAYS_HINT = "use day names like mon-fri, mon,wed,fri, sat-sun, mon-sun or daily"


def _day_number(token: str, spec: str) -> int:
    number = _DAY_NAMES.get(token)
    if number is None:
        raise ValueError(f"unknown day {token!r} in {spec!r}; {_DAYS_HINT}")
    return number


def parse_days(spec: str) -> frozenset[int]:
    """Trading days from a spec such as `mon-fri`, `mon,wed,fri`, `sat-sun`, `mon-sun` or `daily`.

    Weekday numbers follow Python: 0 = Monday ... 6 = Sunday. A range may wrap over the week end
    (`fri-mon` is Fri, Sat, Sun, Mon). Case and spaces do not matter. Numbers are refused because
    cron and Python disagree on which day 0 is.
    """
    text = (spec or "").strip().lower()
    if not text:
        raise ValueError(f"no trading days given; {_DAYS_HINT}")
    if text in _DAY_SETS:
        return _DAY_SETS[text]
    days: set[int] = set()
    for raw in text.split(","):
        token = raw.strip()
        if not token:
            raise ValueError(f"empty day in {spec!r}; {_DAYS_HINT}")
        if token in _DAY_SETS:
            days |= _DAY_SETS[token]
            continue
        if "-" in token:
            first_text, _, last_text = (part.strip() for part in token.partition("-"))
            if "-" in last_text:
                raise ValueError(f"bad day range {token!r} in {spec!r}; {_DAYS_HINT}")
            first, last = _day_number(first_text, spec), _day_number(last_text, spec)
            span = (last - first) % 7
            days.update((first + i) % 7 for i in range(span + 1))
        else:
            days.add(_day_number(token, spec))
    return frozenset(days)


_HHMM = re.compile(r"(\d{1,2}):(\d{2})")


def parse_hhmm(text: str) -> time:
    """`"09:30"` -> `time(9, 30)`. One- or two-digit hour, two-digit minute, 00:00-23:59 (not 24:00)."""
    match = _HHMM.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"expected HH:MM, got {text!r}")
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        raise ValueError(f"expected HH:MM, got {text!r} (hours 00-23, minutes 00-59)")
    return time(hour, minute)
