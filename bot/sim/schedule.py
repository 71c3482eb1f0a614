"""Trading sessions per schedule kind, in UTC, built from local-time day templates (DST-correct via zoneinfo).

Kinds: `us_stock` (NYSE/Nasdaq: PreMarket 04:00-09:30, AutomatedTrading 09:30-16:00, PostMarket 16:00-20:00 ET,
weekends Closed), `fx` (AutomatedTrading Sunday 17:00 ET to Friday 17:00 ET), `globex` (crypto and index CFDs:
Sunday 18:00 ET to Friday 17:00 ET with a daily Break 17:00-18:00 ET) and `xtks` (Tokyo: 09:00-11:30 and
12:30-15:30 JST with a Break between). Exchange holidays are not modelled. Adjacent equal states are merged.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

AT, CLOSED, BREAK, PRE, POST = "AutomatedTrading", "Closed", "Break", "PreMarket", "PostMarket"
_ALL_DAY_CLOSED = ((0, 24 * 60, CLOSED),)

# per kind: time zone and, per weekday (Mon=0), [(start minute, end minute, state)] in local time
_TEMPLATES: dict[str, tuple[str, dict[int, tuple[tuple[int, int, str], ...]]]] = {
    "us_stock": (
        "America/New_York",
        {
            **{
                d: ((0, 240, CLOSED), (240, 570, PRE), (570, 960, AT), (960, 1200, POST), (1200, 1440, CLOSED))
                for d in range(5)
            },
            5: _ALL_DAY_CLOSED,
            6: _ALL_DAY_CLOSED,
        },
    ),
    "fx": (
        "America/New_York",
        {
            **{d: ((0, 1440, AT),) for d in range(4)},
            4: ((0, 1020, AT), (1020, 1440, CLOSED)),
            5: _ALL_DAY_CLOSED,
            6: ((0, 1020, CLOSED), (1020, 1440, AT)),
        },
    ),
    "globex": (
        "America/New_York",
        {
            **{d: ((0, 1020, AT), (1020, 1080, BREAK), (1080, 1440, AT)) for d in range(4)},
            4: ((0, 1020, AT), (1020, 1440, CLOSED)),
            5: _ALL_DAY_CLOSED,
            6: ((0, 1080, CLOSED), (1080, 1440, AT)),
        },
    ),
    "xtks": (
        "Asia/Tokyo",
        {
            **{
                d: ((0, 540, CLOSED), (540, 690, AT), (690, 750, BREAK), (750, 930, AT), (930, 1440, CLOSED))
                for d in range(5)
            },
            5: _ALL_DAY_CLOSED,
            6: _ALL_DAY_CLOSED,
        },
    ),
}
_TZ_IDS = {"America/New_York": 3, "Asia/Tokyo": 19}  # Saxo's numeric TimeZone ids are not documented: sim's own


@lru_cache(maxsize=4096)
def _day(kind: str, day: date) -> tuple[tuple[float, float, str], ...]:
    """The sessions of one local calendar day, as UTC epoch seconds."""
    tz_name, week = _TEMPLATES[kind]
    tz = ZoneInfo(tz_name)
    midnight = datetime(day.year, day.month, day.day, tzinfo=tz)
    # aware datetime + timedelta is wall-clock arithmetic, so 04:00 stays 04:00 local on DST days
    return tuple(
        ((midnight + timedelta(minutes=start)).timestamp(), (midnight + timedelta(minutes=end)).timestamp(), state)
        for start, end, state in week[day.weekday()]
    )


def sessions(kind: str, start: float, end: float) -> list[tuple[float, float, str]]:
    """Merged sessions (start, end, state) in UTC seconds that overlap [start, end)."""
    tz = ZoneInfo(_TEMPLATES[kind][0])
    first = datetime.fromtimestamp(start, tz).date() - timedelta(days=3)  # so a weekend merges whole
    last = datetime.fromtimestamp(end, tz).date() + timedelta(days=3)
    merged: list[list] = []
    day = first
    while day <= last:
        for s, e, state in _day(kind, day):
            if merged and merged[-1][2] == state and math.isclose(merged[-1][1], s):
                merged[-1][1] = e
            else:
                merged.append([s, e, state])
        day += timedelta(days=1)
    return [(s, e, st) for s, e, st in merged if e > start and s < end]


def state_at(kind: str, t: float) -> str:
    """The session state at time t."""
    tz = ZoneInfo(_TEMPLATES[kind][0])
    for s, e, state in _day(kind, datetime.fromtimestamp(t, tz).date()):
        if s <= t < e:
            return state
    return CLOSED  # pragma: no cover - the day templates cover all 24 hours


def zone_info(kind: str, t: float) -> dict[str, object]:
    """TimeZone, TimeZoneAbbreviation and TimeZoneOffset ("-04:00:00") of the kind's exchange at time t."""
    tz_name = _TEMPLATES[kind][0]
    local = datetime.fromtimestamp(t, ZoneInfo(tz_name))
    offset = local.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "-" if minutes < 0 else ""
    return {
        "TimeZone": _TZ_IDS[tz_name],
        "TimeZoneAbbreviation": local.tzname(),
        "TimeZoneOffset": f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}:00",
    }
