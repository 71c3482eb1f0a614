"""APScheduler (3.x) triggers for the three trading-hours modes.

- `always` and `instrument`: an `IntervalTrigger` of `CYCLE_INTERVAL_SECONDS` (UTC).
- `fixed`: an `OrTrigger` (`WindowTrigger`, a picklable subclass that remembers a human label) of
  `CronTrigger` pieces in the window's time zone on the window's days. Together they fire every interval
  from the window's start up to, but not including, its end: the window is half-open `[start, end)`, so
  09:30-16:00 at 60 s fires 09:30, 09:31, ... 15:59 and not at 16:00, and the gate
  (`bot.hours.gate.FixedWindow.is_open`) agrees.

How the fixed-window pieces are made: the fire times of one session are `start + k * interval` for
`start <= t < end`, restarting at each session's start. They are grouped into as few cron pieces as
possible (hour, minute and second lists per day offset; a window over midnight gets pieces on the following
weekdays too), so `hour='9-15', minute='30-59'` style gaps cannot happen: 09:30-16:00 at 60 s is
`hour=9, minute='30-59'` | `hour='10-15', minute='*'`. The interval is rounded to whole seconds (at least
1 s). When the exact grid would need more than `MAX_PIECES` cron pieces (an interval like 47 s that never
lines up with the clock), it is rounded to the nearest divisor of 60 s (under a minute) or to whole minutes
(a minute or more), and the trigger's label says so. Cron fires on local wall time, so 09:30 New York stays
09:30 across DST changes.

Holidays and half days are not in the triggers (cron knows no calendar): the gate skips those cycles.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from datetime import UTC, datetime, time, timedelta

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.hours.gate import MODES, FixedWindow

__all__ = ["MAX_PIECES", "WindowTrigger", "build_trigger", "describe_trigger", "window_pieces"]

MAX_PIECES = 24

_CRON_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY = 86_400
_DIVISORS_OF_60 = (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60)


class WindowTrigger(OrTrigger):
    """An `OrTrigger` of cron pieces that also carries a one-line description (kept through pickling)."""

    __slots__ = ("label",)

    def __init__(self, triggers: list[BaseTrigger], label: str, jitter: int | None = None) -> None:
        super().__init__(triggers, jitter)
        self.label = label

    def __getstate__(self) -> dict:
        state = super().__getstate__()
        state["label"] = self.label
        return state

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        self.label = state.get("label", "")

    def __str__(self) -> str:
        return f"window[{self.label}]"

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        """The earliest next fire time of the pieces, as an aware UTC datetime.

        Differs from `OrTrigger` in two ways, both for DST fall-back nights (the repeated local hour):
        APScheduler 3.11's `CronTrigger` can return a time *before* `now` there (agronholm/apscheduler#1021,
        which would loop the scheduler), so each piece's answer is checked and moved to the repeated pass; and
        the result is in UTC, because Python compares two datetimes of the same zone by wall time, ignoring
        `fold`, so 01:30 EDT and 01:30 EST would look equal to the scheduler.
        """
        moment = now.astimezone(UTC)
        if previous_fire_time is not None:
            moment = min(moment, previous_fire_time.astimezone(UTC) + timedelta(microseconds=1))
        fire_times = [t for t in (_piece_next(piece, moment) for piece in self.triggers) if t is not None]
        if not fire_times:
            return None
        return self._apply_jitter(min(fire_times), self.jitter, moment)


def _piece_next(piece: BaseTrigger, moment: datetime) -> datetime | None:
    """`piece`'s next fire time at or after `moment` (UTC), never earlier."""
    fire = piece.get_next_fire_time(None, moment)
    if fire is None or fire >= moment:
        return fire.astimezone(UTC) if fire is not None else None
    # Same wall time in the repeated (second) pass of a DST fall-back hour.
    again = fire.replace(fold=1).astimezone(UTC)
    if again >= moment:
        return again
    # Unexpected: do not loop, look again an hour on (at worst, a few fires in that hour are skipped).
    later = piece.get_next_fire_time(None, moment + timedelta(hours=1))
    return later.astimezone(UTC) if later is not None and later >= moment else None


def build_trigger(
    mode: str,
    *,
    interval_seconds: float,
    window: FixedWindow | None,
    start_date: datetime | None = None,
) -> BaseTrigger:
    """The scheduler trigger for `TRADING_HOURS_MODE` (see the module docstring).

    `start_date` is handed to APScheduler: for the interval modes it is the first fire time (without it
    APScheduler itself uses its own now + interval); for `fixed` no piece fires before it.
    """
    normalized = (mode or "").strip().lower()
    if normalized not in MODES:
        raise ValueError(f"unknown trading hours mode {mode!r}; use always, fixed or instrument")
    number = isinstance(interval_seconds, int | float) and not isinstance(interval_seconds, bool)
    if not (number and math.isfinite(interval_seconds) and interval_seconds > 0):
        raise ValueError(f"the cycle interval must be a number of seconds above 0, got {interval_seconds!r}")
    if normalized in ("always", "instrument"):
        return IntervalTrigger(seconds=interval_seconds, start_date=start_date, timezone=UTC)
    if window is None:
        raise ValueError("trading hours mode 'fixed' needs a FixedWindow")
    step, rounded = _window_step(window, interval_seconds)
    tz = window.tz
    pieces: list[BaseTrigger] = [
        CronTrigger(**f, timezone=tz, start_date=start_date) for f in window_pieces(window, step)
    ]
    label = f"every {_every(step)} {window.label}"
    if window.overnight:
        label += " (overnight)"
    if rounded:
        label += f" (interval {interval_seconds:g} s rounded)"
    return WindowTrigger(pieces, label)


def describe_trigger(trigger: BaseTrigger) -> str:
    """One human line: `every 60 s`, `every minute 09:30-16:00 Mon-Fri America/New_York`."""
    if isinstance(trigger, WindowTrigger):
        return trigger.label
    if isinstance(trigger, IntervalTrigger):
        return f"every {trigger.interval.total_seconds():g} s"
    if isinstance(trigger, OrTrigger):
        return " or ".join(describe_trigger(t) for t in trigger.triggers)
    return str(trigger)


# -- fixed-window pieces ------------------------------------------------------------------------------------


def _seconds(moment: time) -> int:
    return moment.hour * 3600 + moment.minute * 60 + moment.second


def _fire_offsets(window: FixedWindow, step: int) -> range:
    """Fire times of one session in seconds after its start day's midnight (past a day when overnight)."""
    start = _seconds(window.start)
    end = _seconds(window.end) + (_DAY if window.overnight else 0)
    return range(start, end, step)


def window_pieces(window: FixedWindow, step: int) -> list[dict[str, str]]:
    """CronTrigger field sets (day_of_week, hour, minute, second) that fire exactly on the session grid."""
    seconds_by_minute: dict[tuple[int, int, int], set[int]] = defaultdict(set)
    for offset in _fire_offsets(window, step):
        day, rest = divmod(offset, _DAY)
        hour, rest = divmod(rest, 3600)
        minute, second = divmod(rest, 60)
        seconds_by_minute[(day, hour, minute)].add(second)
    minutes_by_hour: dict[tuple[int, frozenset[int]], dict[int, set[int]]] = {}
    for (day, hour, minute), secs in seconds_by_minute.items():
        minutes_by_hour.setdefault((day, frozenset(secs)), defaultdict(set))[hour].add(minute)
    pieces: list[tuple[tuple[int, int, int, int], dict[str, str]]] = []
    for (day, second_set), hours in minutes_by_hour.items():
        hours_by_minutes: dict[frozenset[int], set[int]] = defaultdict(set)
        for hour, minutes in hours.items():
            hours_by_minutes[frozenset(minutes)].add(hour)
        for minute_set, hour_set in hours_by_minutes.items():
            first = (day, min(hour_set), min(minute_set), min(second_set))
            fields = {
                "day_of_week": _day_field({(d + day) % 7 for d in window.days}),
                "hour": _field(hour_set, 24),
                "minute": _field(minute_set, 60),
                "second": _field(second_set, 60),
            }
            pieces.append((first, fields))
    pieces.sort(key=lambda piece: piece[0])
    return [fields for _, fields in pieces]


def _window_step(window: FixedWindow, interval_seconds: float) -> tuple[int, bool]:
    """The grid step in whole seconds, and whether it had to be rounded to keep the cron pieces few."""
    step = max(1, round(interval_seconds))
    if len(window_pieces(window, step)) <= MAX_PIECES:
        return step, step != interval_seconds
    if step < 60:
        return min(_DIVISORS_OF_60, key=lambda d: (abs(d - step), d)), True
    return 60 * max(1, round(step / 60)), True


def _every(step: int) -> str:
    if step % 60:
        return f"{step} s"
    if step % 3600 == 0:
        hours = step // 3600
        return "hour" if hours == 1 else f"{hours} hours"
    minutes = step // 60
    return "minute" if minutes == 1 else f"{minutes} minutes"


def _runs(values: list[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for value in values:
        if runs and value == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], value)
        else:
            runs.append((value, value))
    return runs


def _field(values: set[int] | frozenset[int], size: int) -> str:
    """A cron field for exactly these values: `*`, `7`, `30-59`, `0-50/10`, `*/15`, `1,5-9`."""
    ordered = sorted(values)
    if len(ordered) == size:
        return "*"
    if len(ordered) == 1:
        return str(ordered[0])
    gaps = {b - a for a, b in itertools.pairwise(ordered)}
    if len(gaps) == 1:
        gap = gaps.pop()
        if gap == 1:
            return f"{ordered[0]}-{ordered[-1]}"
        if len(ordered) >= 3:
            if ordered[0] == 0 and ordered[-1] + gap >= size:
                return f"*/{gap}"
            return f"{ordered[0]}-{ordered[-1]}/{gap}"
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in _runs(ordered))


def _day_field(days: set[int]) -> str:
    """Weekday numbers (0 = Monday) as APScheduler day names: `mon-fri`, `mon,wed,fri`, `*`."""
    if len(days) == 7:
        return "*"
    names = _CRON_DAYS
    return ",".join(names[a] if a == b else f"{names[a]}-{names[b]}" for a, b in _runs(sorted(days)))
