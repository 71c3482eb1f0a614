"""Fill the bar store from Saxo's chart history (`python main.py download [--days N]`).

Saxo's `/chart/v3/charts` gives at most 1,200 bars a call; `Mode=UpTo` with `Time` pages backwards. For each
instrument, at the strategy's horizon, only what the store lacks is fetched (see `BarStore` coverage):

- nothing stored (or the stored window ends before `now - days`): page back from now to `now - days`;
- the newer end: from now back to the last bar that might have completed after the previous run;
- the older end: from the oldest covered time back to `now - days`, when `--days` reaches further than before.

Every page is saved as it arrives (an interrupted run keeps what it fetched; saving twice is harmless), the bar
still forming (`time + horizon > now`) is dropped, and the coverage is moved only once a segment is complete.
A page with fewer bars than asked (or none) means Saxo's history ends there. Pacing is the client's: its rate
budget waits before a request that would exceed Saxo's 120 a minute per service group, so no 429 is met.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol, TextIO

from bot.domain import Bar, WatchItem
from bot.history.bar_store import BarStore, Coverage

MAX_COUNT = 1200
MIN_COUNT = 10  # Saxo has been seen to answer UpTo with Count=1 with no data; never ask for fewer than this
ONE_SECOND = timedelta(seconds=1)


class ChartReader(Protocol):
    """The one client call download needs (`SaxoClient.bars_up_to`)."""

    def bars_up_to(self, item: WatchItem, horizon: int, until: datetime, count: int = MAX_COUNT) -> list[Bar]: ...


def default_days(horizon: int) -> int:
    """30 days of intraday bars, a year of daily or longer ones (20-odd daily bars help no backtest)."""
    return 365 if horizon >= 1440 else 30


@dataclass
class Fetched:
    """What one instrument's download did."""

    item: WatchItem
    requests: int = 0
    new_bars: int = 0
    stored: int = 0
    oldest: datetime | None = None
    newest: datetime | None = None
    error: str | None = None

    def line(self) -> str:
        name = f"{self.item.symbol} ({self.item.id})"
        requests = f"{self.requests} request{'' if self.requests == 1 else 's'}"
        if self.error is not None:
            return f"{name}: FAILED after {requests}: {self.error}"
        held = f"{self.stored} bars stored"
        if self.oldest is not None and self.newest is not None:
            held += f", {_iso(self.oldest)} .. {_iso(self.newest)}"
        return f"{name}: {self.new_bars} new, {held}, {requests}"


@dataclass
class Progress:
    """A one-line progress bar on `stream` (stderr), redrawn in place; silent when `enabled` is false."""

    stream: TextIO = field(default_factory=lambda: sys.stderr)
    enabled: bool | None = None  # None: only when the stream is a terminal
    width: int = 30
    _drawn: bool = False

    def __post_init__(self) -> None:
        if self.enabled is None:
            isatty = getattr(self.stream, "isatty", None)
            self.enabled = bool(isatty and isatty())

    def show(self, label: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        total = max(total, done, 1)
        filled = round(self.width * done / total)
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(f"\r{label} [{bar}] {done}/{total} requests")
        self.stream.flush()
        self._drawn = True

    def end(self) -> None:
        if self.enabled and self._drawn:
            self.stream.write("\n")
            self.stream.flush()
        self._drawn = False


class Downloader:
    """Pages Saxo's chart history into the store for one horizon; `now` is fixed for the whole run."""

    def __init__(
        self, saxo: ChartReader, store: BarStore, horizon: int, now: datetime, progress: Progress | None = None
    ) -> None:
        self.saxo = saxo
        self.store = store
        self.horizon = horizon
        self.span = timedelta(minutes=horizon)
        self.now = now
        self.progress = progress or Progress(enabled=False)

    def run(self, items: Sequence[WatchItem], days: float) -> list[Fetched]:
        """Each instrument in turn; one that fails (e.g. unknown at Saxo) is reported and the rest go on.

        Authentication failures and a stop request are not per-instrument: they go up.
        """
        from bot.errors import AuthError, SaxoError

        start = self.now - timedelta(days=days)
        results = []
        for item in items:
            fetched = Fetched(item)
            try:
                self._one(item, start, fetched)
            except AuthError:
                raise
            except SaxoError as exc:
                fetched.error = str(exc)
            finally:
                self.progress.end()
            span = self.store.span(item.id, self.horizon)
            fetched.stored, fetched.oldest, fetched.newest = span.count, span.oldest, span.newest
            results.append(fetched)
        return results

    def _one(self, item: WatchItem, start: datetime, fetched: Fetched) -> None:
        coverage = self.store.coverage(item.id, self.horizon)
        if coverage is None or coverage.checked_at <= start:
            segments = [(self.now, start)]
        else:
            segments = []
            if self.now > coverage.checked_at:  # newer end: bars that may have completed since the last run
                segments.append((self.now, coverage.checked_at - self.span))
            if start < coverage.first:  # older end: --days reaches further back than before
                segments.append((coverage.first - ONE_SECOND, start))
        label = f"{item.symbol} ({item.id})"
        total = sum(self._pages(until, down_to) for until, down_to in segments)
        self.progress.show(label, 0, total)
        for until, down_to in segments:
            fetched.new_bars += self._page_back(item, until, down_to, fetched, label, total)
            coverage = self.store.coverage(item.id, self.horizon)
            if coverage is None or coverage.checked_at <= start:
                coverage = Coverage(first=start, checked_at=self.now)
            elif until == self.now:
                coverage = Coverage(first=coverage.first, checked_at=self.now)
            else:
                coverage = Coverage(first=min(start, coverage.first), checked_at=coverage.checked_at)
            self.store.set_coverage(item.id, self.horizon, coverage)

    def _pages(self, until: datetime, down_to: datetime) -> int:
        return max(1, math.ceil(self._bars_between(until, down_to) / MAX_COUNT))

    def _bars_between(self, until: datetime, down_to: datetime) -> int:
        return max(0, math.floor((until - down_to) / self.span)) + 1

    def _page_back(
        self, item: WatchItem, until: datetime, down_to: datetime, fetched: Fetched, label: str, total: int
    ) -> int:
        """Pages from `until` back until a bar at or before `down_to` arrives or history ends; new bars saved."""
        new = 0
        previous_oldest: datetime | None = None
        while True:
            count = min(MAX_COUNT, max(MIN_COUNT, self._bars_between(until, down_to)))
            fetched.requests += 1  # a request that fails was still used
            page = self.saxo.bars_up_to(item, self.horizon, until, count)
            self.progress.show(label, fetched.requests, total)
            completed = [bar for bar in page if bar.time + self.span <= self.now]
            new += self.store.save(item.id, self.horizon, completed)
            if not page or len(page) < count:
                return new  # Saxo has nothing older
            oldest = page[0].time
            if oldest <= down_to or (previous_oldest is not None and oldest >= previous_oldest):
                return new
            previous_oldest = oldest
            until = oldest - ONE_SECOND


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
