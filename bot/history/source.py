"""Where a backtest reads its bars from: the `BarSource` protocol (issue 11, "History").

Two implementations live beside it: `CsvBarSource` (`--data DIR`, one CSV file per instrument) and
`BarStore` (the local SQLite/PostgreSQL bar store that `python main.py download` fills from Saxo's chart
history). The backtest engine codes against this protocol only, so either can feed it.

The contract of `bars(item, horizon, start, end)`:

- completed bars only, oldest first, `Bar` from `bot.domain` (re-exported by `bot.strategies`);
- `bar.time` is the bar's start, a timezone-aware UTC `datetime`; times are unique and strictly increasing;
- `horizon` is the bar length in minutes (one of `bot.strategies.HORIZONS`);
- `start` is inclusive and `end` exclusive, both compared with the bar's start; `None` means unbounded;
  naive datetimes are read as UTC;
- an instrument the source has no data for at all raises `BarDataError` (for a CSV directory: its file is
  missing); an instrument with data but none in the window returns `[]`.

`instruments()` is optional: the instrument ids (`"{AssetType}:{Uic}"`) a source holds, for messages and
listings; callers must not rely on it (use `getattr(source, "instruments", None)`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

from bot.domain import Bar, WatchItem
from bot.errors import ConfigError


@runtime_checkable
class BarSource(Protocol):
    """Completed historical bars of one instrument at one horizon (see the module docstring)."""

    def bars(self, item: WatchItem, horizon: int, start: datetime | None, end: datetime | None) -> list[Bar]:
        """Completed bars with `start <= bar.time < end`, oldest first."""
        ...


class BarDataError(ConfigError):
    """Bar data that cannot be used: a missing or malformed CSV file, or no stored history for an instrument.

    A `ConfigError`, so `main.py` exits 2 with one line: `{source}:{line}: {problem}` (line omitted when the
    problem is not on one line, e.g. a missing file).
    """

    def __init__(self, source: str, problem: str, line: int | None = None) -> None:
        self.source = source
        self.line = line
        where = f"{source}:{line}" if line is not None else source
        super().__init__(where, problem)


def as_utc(moment: datetime | None) -> datetime | None:
    """`moment` as an aware UTC datetime (naive is read as UTC); `None` stays `None`."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def in_window(bars: list[Bar], start: datetime | None, end: datetime | None) -> list[Bar]:
    """The bars with `start <= time < end` (bounds as in `BarSource.bars`)."""
    lo, hi = as_utc(start), as_utc(end)
    return [b for b in bars if (lo is None or b.time >= lo) and (hi is None or b.time < hi)]
