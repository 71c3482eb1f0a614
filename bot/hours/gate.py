"""The trading-hours gate: may this cycle trade now, and which instruments?

Three modes (`TRADING_HOURS_MODE`):

- `always`: every cycle trades.
- `fixed`: a `FixedWindow` of local times on chosen weekdays in one time zone, minus the exchange
  calendar's holidays, cut short on its half days.
- `instrument`: each watchlist instrument trades only while Saxo's trading schedule says its current
  session is `AutomatedTrading`; the schedule is fetched through `schedule_source` and cached per
  instrument until the current session ends.

The window is half-open, `[start, end)`: with 09:30-16:00 the gate is open at 09:30:00 and closed at
16:00:00 (a cycle at 15:59 is the last one). A window whose end is not after its start (22:00-02:00, or an
end of 00:00) runs over midnight: the session belongs to the day it starts on, so `TRADING_DAYS`, holidays
and half days are those of the start day (with mon-fri, Friday 22:00 - Saturday 02:00 trades, Monday
00:00-02:00 does not). On a half day the session ends at the early close (local exchange time on the
session's day); when the early close is not after the window's start, that day's session does not happen.

Nothing here reads the wall clock: `now` is always a parameter and must be timezone-aware.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain.models import TradingSession, WatchItem
from bot.hours.calendar import MarketCalendar, get_calendar, parse_days, parse_hhmm

__all__ = [
    "MODES",
    "FixedWindow",
    "GateDecision",
    "HoursGate",
    "current_session",
    "format_days",
]

MODES = ("always", "fixed", "instrument")

_DAY_ABBR = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

# How long an instrument whose schedule has no session covering now (and none ahead) waits before the schedule
# is asked again. Saxo's reference data is rate limited; a cycle every few seconds must not hammer it.
NO_SESSION_RECHECK = timedelta(minutes=15)

# next_open looks this far ahead before giving up (a calendar cannot close a year of trading days).
_NEXT_OPEN_HORIZON_DAYS = 400


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be timezone-aware, got naive {now.isoformat()}")


def _utc(moment: datetime) -> datetime:
    """Aware UTC; a naive time is taken as UTC (Saxo's schedule times are UTC)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def format_days(days: frozenset[int] | set[int]) -> str:
    """`{0,1,2,3,4}` -> `Mon-Fri`; `{0,2,4}` -> `Mon,Wed,Fri`; all seven -> `daily`."""
    ordered = sorted(days)
    if len(ordered) == 7:
        return "daily"
    runs: list[list[int]] = []
    for day in ordered:
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts = []
    for run in runs:
        if len(run) >= 3 or (len(run) == 2 and run == [5, 6]):
            parts.append(f"{_DAY_ABBR[run[0]]}-{_DAY_ABBR[run[-1]]}")
        else:
            parts.extend(_DAY_ABBR[d] for d in run)
    return ",".join(parts)


def _hhmm(moment: time) -> str:
    return moment.strftime("%H:%M:%S") if moment.second else moment.strftime("%H:%M")


@dataclass(frozen=True)
class FixedWindow:
    """Local hours `[start, end)` in `tz` on weekdays `days` (0 = Monday), minus the calendar's closures."""

    start: time
    end: time
    tz: ZoneInfo
    days: frozenset[int]
    calendar: MarketCalendar | None = None

    def __post_init__(self) -> None:
        if self.start == self.end:
            span = f"{_hhmm(self.start)}-{_hhmm(self.end)}"
            raise ValueError(f"trading window {span} is empty (start equals end)")
        for name, value in (("start", self.start), ("end", self.end)):
            if value.tzinfo is not None or value.microsecond:
                raise ValueError(f"window {name} must be a naive local time in whole seconds, got {value!r}")
        if not self.days:
            raise ValueError("a fixed trading window needs at least one trading day")
        if not set(self.days) <= set(range(7)):
            raise ValueError(f"trading days are weekday numbers 0-6 (0 = Monday), not {sorted(self.days)}")
        object.__setattr__(self, "days", frozenset(self.days))

    @classmethod
    def parse(cls, start: str, end: str, tz: str, days: str = "mon-fri", cal: str = "XNYS") -> FixedWindow:
        """A window from the settings' text (`TRADING_START`, `TRADING_END`, `TIMEZONE`, `TRADING_DAYS`,
        `TRADING_CALENDAR`); ValueError on junk."""
        try:
            zone = ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {tz!r}") from exc
        return cls(parse_hhmm(start), parse_hhmm(end), zone, parse_days(days), get_calendar(cal))

    # -- shape ---------------------------------------------------------------------------------------------

    @property
    def overnight(self) -> bool:
        """True when the window runs over midnight (its end is not after its start)."""
        return self.end <= self.start

    @property
    def label(self) -> str:
        """`09:30-16:00 Mon-Fri America/New_York` (the calendar is not part of it)."""
        return f"{_hhmm(self.start)}-{_hhmm(self.end)} {format_days(self.days)} {self.tz.key}"

    def _local(self, day: date, moment: time) -> datetime:
        """`day` at local wall time `moment` as aware UTC (a time skipped by DST lands after the gap)."""
        return datetime.combine(day, moment, tzinfo=self.tz).astimezone(UTC)

    def session_bounds(self, day: date) -> tuple[datetime, datetime] | None:
        """The UTC bounds `[open, close)` of the session that starts on local date `day`, calendar applied.

        None when `day` is not a trading day, is a holiday, or closes early before the window opens.
        """
        if day.weekday() not in self.days:
            return None
        if self.calendar is not None and self.calendar.is_holiday(day):
            return None
        opens = self._local(day, self.start)
        closes = self._local(day + timedelta(days=1) if self.overnight else day, self.end)
        early = self.calendar.early_close(day) if self.calendar is not None else None
        if early is not None:
            closes = min(closes, self._local(day, early))
        if closes <= opens:
            return None
        return opens, closes

    def _session_day(self, local: datetime) -> date | None:
        """The start day of the (calendar-free) session that contains the local wall time, or None."""
        clock = local.time()
        if not self.overnight:
            return local.date() if self.start <= clock < self.end else None
        if clock >= self.start:
            return local.date()
        if clock < self.end:
            return local.date() - timedelta(days=1)
        return None

    # -- questions -----------------------------------------------------------------------------------------

    def is_open(self, now: datetime) -> tuple[bool, str | None]:
        """(True, None) inside the window, else (False, reason) with a reason fit for a log line or DB row."""
        _require_aware(now)
        local = now.astimezone(self.tz)
        session_day = self._session_day(local)
        day = session_day if session_day is not None else local.date()
        if day.weekday() not in self.days:
            return False, f"weekend/non-trading day ({_DAY_ABBR[day.weekday()]})"
        if self.calendar is not None:
            name = self.calendar.holiday_name(day)
            if name is not None:
                return False, f"{name} ({self.calendar.name} holiday)"
        if session_day is None:
            return False, (
                f"outside trading hours {_hhmm(self.start)}-{_hhmm(self.end)} {self.tz.key} "
                f"(now {local:%H:%M} {local.tzname()})"
            )
        if self.calendar is not None:
            early = self.calendar.early_close(session_day)
            if early is not None and _utc(now) >= self._local(session_day, early):
                return False, f"half day: {self.calendar.name} closes at {early:%H:%M}"
        return True, None

    def next_open(self, now: datetime) -> datetime:
        """The next moment the window opens (aware UTC), skipping non-trading days, holidays, lost half days.

        While the window is open, that moment is `now` itself (in UTC).
        """
        _require_aware(now)
        moment = _utc(now)
        if self.is_open(now)[0]:
            return moment
        first = now.astimezone(self.tz).date() - timedelta(days=1)
        for offset in range(_NEXT_OPEN_HORIZON_DAYS):
            bounds = self.session_bounds(first + timedelta(days=offset))
            if bounds is not None and bounds[0] > moment:
                return bounds[0]
        raise ValueError(f"the window {self.label} does not open within {_NEXT_OPEN_HORIZON_DAYS} days")


@dataclass(frozen=True)
class GateDecision:
    """The gate's verdict for one cycle.

    `trade=False` skips the whole cycle (`reason` says why). In `instrument` mode `closed` maps each
    instrument that must not trade this cycle to its reason; the others trade.
    """

    trade: bool
    reason: str | None = None
    closed: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


def current_session(sessions: Sequence[TradingSession], now: datetime) -> TradingSession | None:
    """The session with `start <= now < end` (the latest-starting one if several overlap), else None.

    Naive session times are taken as UTC.
    """
    _require_aware(now)
    moment = _utc(now)
    found: TradingSession | None = None
    for session in sessions:
        start, end = _utc(session.start), _utc(session.end)
        if start <= moment < end and (found is None or start >= _utc(found.start)):
            found = session
    return found


@dataclass(frozen=True)
class _CachedSchedule:
    sessions: tuple[TradingSession, ...]
    valid_from: datetime
    valid_until: datetime


def _fmt_utc(moment: datetime) -> str:
    return f"{_utc(moment):%Y-%m-%d %H:%M} UTC"


class HoursGate:
    """Decides, per cycle, whether to trade and which instruments are closed. See the module docstring."""

    def __init__(
        self,
        mode: str,
        *,
        window: FixedWindow | None = None,
        schedule_source: Callable[[WatchItem], Sequence[TradingSession]] | None = None,
    ) -> None:
        normalized = (mode or "").strip().lower()
        if normalized not in MODES:
            raise ValueError(f"unknown trading hours mode {mode!r}; use always, fixed or instrument")
        if normalized == "fixed" and window is None:
            raise ValueError("trading hours mode 'fixed' needs a FixedWindow")
        if normalized == "instrument" and schedule_source is None:
            raise ValueError("trading hours mode 'instrument' needs a schedule_source")
        self.mode = normalized
        self.window = window
        self._schedule_source = schedule_source
        self._cache: dict[str, _CachedSchedule] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        detail = f", window={self.window.label!r}" if self.mode == "fixed" and self.window else ""
        return f"HoursGate({self.mode!r}{detail})"

    def check(self, now: datetime, items: Sequence[WatchItem]) -> GateDecision:
        _require_aware(now)
        if self.mode == "always":
            return GateDecision(True, None)
        if self.mode == "fixed":
            assert self.window is not None
            is_open, reason = self.window.is_open(now)
            return GateDecision(is_open, reason)
        return self._check_instruments(_utc(now), items)

    # -- instrument mode -----------------------------------------------------------------------------------

    def _check_instruments(self, now: datetime, items: Sequence[WatchItem]) -> GateDecision:
        closed: dict[str, str] = {}
        with self._lock:
            for item in items:
                reason = self._instrument_closed_reason(item, now)
                if reason is not None:
                    closed[item.id] = reason
        frozen = MappingProxyType(closed)
        if items and all(item.id in closed for item in items):
            return GateDecision(False, "no instrument in its trading session", frozen)
        return GateDecision(True, None, frozen)

    def _instrument_closed_reason(self, item: WatchItem, now: datetime) -> str | None:
        cached = self._cache.get(item.id)
        if cached is not None and cached.valid_from <= now < cached.valid_until:
            sessions = cached.sessions
        else:
            assert self._schedule_source is not None
            try:
                sessions = tuple(self._schedule_source(item))
            except Exception as exc:  # one instrument's schedule must not stop the others
                self._cache.pop(item.id, None)
                return f"trading schedule unavailable: {exc}"
            self._cache[item.id] = _CachedSchedule(sessions, now, self._valid_until(sessions, now))
        session = current_session(sessions, now)
        if session is None:
            return "no trading session covers now"
        if not session.automated_trading:
            return f"session {session.state} until {_fmt_utc(session.end)}"
        return None

    @staticmethod
    def _valid_until(sessions: Sequence[TradingSession], now: datetime) -> datetime:
        """Keep a schedule until the current session ends (or the next one starts, when none is current)."""
        session = current_session(sessions, now)
        if session is not None:
            return _utc(session.end)
        upcoming = [_utc(s.start) for s in sessions if _utc(s.start) > now]
        return min(upcoming) if upcoming else now + NO_SESSION_RECHECK
