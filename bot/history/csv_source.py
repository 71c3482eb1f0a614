"""`CsvBarSource`: bars from a directory of CSV files (`python main.py backtest --data DIR`).

One file per instrument, named `{AssetType}_{Uic}.csv` (e.g. `FxSpot_21.csv`, `Stock_211.csv`), with the header
`time,open,high,low,close` or `time,open,high,low,close,volume`; `time` is the bar's start in ISO-8601 UTC
(`2024-01-02T14:30:00Z`; an offset is converted to UTC, no offset is read as UTC, a bare date is midnight).
Rows are oldest first with unique times. Every bar in a file counts as completed.

A file that breaks these rules is refused whole, with `BarDataError` naming the file, the line and the problem
(main.py exits 2): a backtest on half-read data would look fine and mean nothing.
"""

from __future__ import annotations

import csv
import itertools
import math
import re
import threading
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.domain import Bar, WatchItem
from bot.history.source import BarDataError, in_window

HEADER = ("time", "open", "high", "low", "close")
VOLUME = "volume"
_NAME = re.compile(r"^([A-Za-z]+)_(\d+)\.csv$")
# Bars closer together than this share of the horizon mean the file is of a finer resolution than the strategy
# reads (a 23-hour gap between daily bars across a DST change, or a 28-day month at 43200 minutes, still passes).
_MIN_GAP_SHARE = 0.9


def file_name(item: WatchItem) -> str:
    return f"{item.asset_type}_{item.uic}.csv"


class CsvBarSource:
    """A `BarSource` over `directory`; each file is read and checked once, on first use."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        if not self.directory.is_dir():
            raise BarDataError(str(self.directory), "not a directory (--data needs a folder of {AssetType}_{Uic}.csv)")
        self._cache: dict[Path, tuple[list[Bar], list[int]]] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"CsvBarSource({str(self.directory)!r})"

    def path(self, item: WatchItem) -> Path:
        return self.directory / file_name(item)

    def bars(self, item: WatchItem, horizon: int, start: datetime | None, end: datetime | None) -> list[Bar]:
        all_bars, lines = self._load(self.path(item))
        check_spacing(all_bars, horizon, str(self.path(item)), lines)
        return in_window(all_bars, start, end)

    def check(self, items: Iterable[WatchItem], horizon: int) -> None:
        """Read every instrument's file now, so a bad or missing one stops a run before it starts."""
        for item in items:
            self.bars(item, horizon, None, None)

    def instruments(self) -> list[str]:
        """Instrument ids (`AssetType:Uic`) of the files present, sorted."""
        found = []
        for path in sorted(self.directory.iterdir()):
            match = _NAME.match(path.name)
            if match and path.is_file():
                found.append(f"{match.group(1)}:{int(match.group(2))}")
        return found

    def _load(self, path: Path) -> tuple[list[Bar], list[int]]:
        with self._lock:
            cached = self._cache.get(path)
        if cached is not None:
            return cached
        if not path.is_file():
            raise BarDataError(
                str(path), "no such file: every watchlist instrument needs one, named {AssetType}_{Uic}.csv"
            )
        loaded = read_csv(path)
        with self._lock:
            return self._cache.setdefault(path, loaded)


def read_csv(path: Path) -> tuple[list[Bar], list[int]]:
    """The bars of one file, checked, and the line each came from; `BarDataError` at the first problem."""
    where = str(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            return _parse(csv.reader(handle), where)
    except UnicodeDecodeError as exc:
        raise BarDataError(where, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except csv.Error as exc:
        raise BarDataError(where, f"not CSV: {exc}") from exc
    except OSError as exc:
        raise BarDataError(where, f"cannot read: {exc.strerror or exc}") from exc


def _parse(reader: Any, where: str) -> tuple[list[Bar], list[int]]:
    """Rows of a `csv.reader`; `reader.line_num` is the file line a row ends on (quoted fields may span lines)."""
    header: list[str] | None = None
    bars: list[Bar] = []
    lines: list[int] = []
    seen: dict[datetime, int] = {}
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if header is None:
            header = [cell.strip().lower() for cell in row]
            if tuple(header) not in (HEADER, (*HEADER, VOLUME)):
                expected = f"{','.join(HEADER)}[,{VOLUME}]"
                raise BarDataError(where, f"header is {','.join(header)!r}, expected {expected}", line)
            continue
        bar = _bar(row, len(header), len(header) > len(HEADER), where, line)
        if bar.time in seen:
            raise BarDataError(where, f"duplicate time {_iso(bar.time)} (also on line {seen[bar.time]})", line)
        if bars and bar.time < bars[-1].time:
            raise BarDataError(
                where, f"time {_iso(bar.time)} is before the previous row's {_iso(bars[-1].time)} (oldest first)", line
            )
        seen[bar.time] = line
        bars.append(bar)
        lines.append(line)
    if header is None:
        raise BarDataError(where, f"empty file (expected the header {','.join(HEADER)}[,{VOLUME}])")
    if not bars:
        raise BarDataError(where, "no bars after the header")
    return bars, lines


def _bar(row: list[str], width: int, has_volume: bool, where: str, line: int) -> Bar:
    if len(row) != width:
        raise BarDataError(where, f"{len(row)} fields, expected {width}", line)
    moment = _time(row[0].strip(), where, line)
    open_, high, low, close = (_price(row[i], HEADER[i], where, line) for i in range(1, 5))
    if high < low:
        raise BarDataError(where, f"high {high:g} is below low {low:g}", line)
    for name, value in (("open", open_), ("close", close)):
        if not low <= value <= high:
            raise BarDataError(where, f"{name} {value:g} is outside low..high ({low:g}..{high:g})", line)
    volume = None
    if has_volume and row[5].strip():
        volume = _number(row[5], VOLUME, where, line)
        if volume < 0:
            raise BarDataError(where, f"volume {volume:g} is negative", line)
    return Bar(time=moment, close=close, open=open_, high=high, low=low, volume=volume)


def _time(text: str, where: str, line: int) -> datetime:
    try:
        if len(text) == 10:
            moment = datetime.combine(date.fromisoformat(text), datetime.min.time())
        else:
            moment = datetime.fromisoformat(text)
    except ValueError:
        problem = f"time {text!r} is not an ISO-8601 date and time (e.g. 2024-01-02T14:30:00Z)"
        raise BarDataError(where, problem, line) from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _number(text: str, name: str, where: str, line: int) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise BarDataError(where, f"{name} {text.strip()!r} is not a number", line) from None
    if not math.isfinite(value):
        raise BarDataError(where, f"{name} {text.strip()!r} is not a finite number", line)
    return value


def _price(text: str, name: str, where: str, line: int) -> float:
    value = _number(text, name, where, line)
    if value <= 0:
        raise BarDataError(where, f"{name} {value:g} is not a positive price", line)
    return value


def check_spacing(bars: list[Bar], horizon: int, where: str, lines: list[int] | None = None) -> None:
    """Bars closer together than the horizon mean the data is of another resolution than the strategy reads."""
    least = timedelta(minutes=horizon * _MIN_GAP_SHARE)
    for index, (before, after) in enumerate(itertools.pairwise(bars), start=1):
        if after.time - before.time < least:
            minutes = (after.time - before.time).total_seconds() / 60
            raise BarDataError(
                where,
                f"bars {_iso(before.time)} and {_iso(after.time)} are {minutes:g} minutes apart, "
                f"but the strategy's horizon is {horizon} minutes (use files of {horizon}-minute bars)",
                lines[index] if lines else None,
            )


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
