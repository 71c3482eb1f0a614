"""Downloader edge cases on a scripted chart: the end of Saxo's history, an interrupted run, a stale store."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.domain import Bar, WatchItem
from bot.errors import SaxoAuthError, SaxoRetryable
from bot.history import BarStore
from bot.history.download import Downloader

EURUSD = WatchItem("FxSpot", 21, "EURUSD")
NOW = datetime(2026, 1, 7, 16, 45, 5, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


class ScriptedChart:
    """One-minute bars from `first` to the bar forming at `now`, served like Saxo's Mode=UpTo; fails on cue."""

    def __init__(self, first: datetime, now: datetime = NOW, fail_on: set[int] | None = None) -> None:
        self.first, self.now = first, now
        self.fail_on = fail_on or set()
        self.calls: list[tuple[datetime, int]] = []

    def bars_up_to(self, item: WatchItem, horizon: int, until: datetime, count: int = 1200) -> list[Bar]:
        self.calls.append((until, count))
        if len(self.calls) in self.fail_on:
            raise SaxoRetryable("GET /chart/v3/charts HTTP 503", status=503)
        last = min(until, self.now)
        last_index = math.floor((last - self.first) / MINUTE)
        first_index = max(0, last_index - count + 1)
        return [Bar(time=self.first + i * MINUTE, close=1.0 + i / 1e4) for i in range(first_index, last_index + 1)]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[BarStore]:
    made = BarStore(f"sqlite:///{tmp_path / 'bars.db'}")
    yield made
    made.dispose()


def test_a_short_page_ends_the_history_and_the_next_run_does_not_ask_again(store: BarStore) -> None:
    listed = NOW.replace(second=0) - timedelta(hours=30)  # Saxo has 30 hours of this instrument
    chart = ScriptedChart(first=listed)

    (fetched,) = Downloader(chart, store, 1, NOW).run([EURUSD], days=10)

    assert fetched.error is None
    assert fetched.requests == 2  # 1,200 + the remaining 601 (fewer than asked: history ends)
    assert fetched.oldest == listed and fetched.new_bars == 30 * 60
    (again,) = Downloader(chart, store, 1, NOW).run([EURUSD], days=10)
    assert again.requests == 0


def test_an_interrupted_run_keeps_its_pages_and_the_next_run_completes_the_window(store: BarStore) -> None:
    chart = ScriptedChart(first=NOW - timedelta(days=30), fail_on={2})

    (broken,) = Downloader(chart, store, 1, NOW).run([EURUSD], days=1)

    assert broken.error is not None and "503" in broken.error
    assert broken.new_bars == 0 and broken.stored == 1199  # the first page is kept (its forming bar is not)
    assert store.coverage(EURUSD.id, 1) is None  # the window is not complete: nothing claims it is

    (fixed,) = Downloader(chart, store, 1, NOW).run([EURUSD], days=1)

    assert fixed.error is None and fixed.requests == 2
    assert fixed.oldest is not None and fixed.oldest <= NOW - timedelta(days=1)
    times = [b.time for b in store.bars(EURUSD, 1, None, None)]
    assert times == [fixed.oldest + i * MINUTE for i in range(len(times))]


def test_a_store_older_than_the_window_is_not_filled_across_the_gap(store: BarStore) -> None:
    chart = ScriptedChart(first=NOW - timedelta(days=60))
    Downloader(chart, store, 1, NOW - timedelta(days=20)).run([EURUSD], days=0.5)
    chart.calls.clear()

    (fetched,) = Downloader(chart, store, 1, NOW).run([EURUSD], days=0.5)

    assert fetched.requests == 1  # the last 12 hours, not the 20 days since the last run
    assert chart.calls[0][0] == NOW
    assert store.coverage(EURUSD.id, 1).first == NOW - timedelta(days=0.5)  # type: ignore[union-attr]


def test_an_authentication_failure_stops_the_whole_run(store: BarStore) -> None:
    class Refused(ScriptedChart):
        def bars_up_to(self, item: WatchItem, horizon: int, until: datetime, count: int = 1200) -> list[Bar]:
            raise SaxoAuthError("GET /chart/v3/charts HTTP 401", status=401)

    with pytest.raises(SaxoAuthError):
        Downloader(Refused(first=NOW), store, 1, NOW).run([EURUSD, WatchItem("FxSpot", 31, "GBPUSD")], days=1)
