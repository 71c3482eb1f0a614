"""download against the simulator on the pinned clock: paging back over 1,200 bars, only what is missing, pacing."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.domain import WatchItem
from bot.history import BarStore
from bot.history.download import Downloader, Fetched, Progress
from bot.saxo import ManualToken, SaxoClient
from bot.sim import SimServer
from tests.conftest import TOKEN
from tests.support.clock import RecordingClock

EURUSD = WatchItem("FxSpot", 21, "EURUSD")
AAPL = WatchItem("Stock", 211, "AAPL:xnas")
UNKNOWN = WatchItem("FxSpot", 999_999, "NOPE")
MINUTE = timedelta(minutes=1)


def floor_minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def minutes(first: datetime, last: datetime) -> list[datetime]:
    """Every minute from `first` to `last`, both included."""
    return [first + i * MINUTE for i in range(int((last - first) / MINUTE) + 1)]


@pytest.fixture
def connect(clock: RecordingClock) -> Iterator[Callable[[SimServer], SaxoClient]]:
    clients: list[SaxoClient] = []

    def make(server: SimServer) -> SaxoClient:
        client = SaxoClient.connect(server.base_url, ManualToken(TOKEN), clock=clock)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def saxo(sim: SimServer, connect: Callable[[SimServer], SaxoClient]) -> SaxoClient:
    return connect(sim)


@pytest.fixture
def make_store(tmp_path: Path) -> Iterator[Callable[[str], BarStore]]:
    stores: list[BarStore] = []

    def make(name: str = "bars.db") -> BarStore:
        store = BarStore(f"sqlite:///{tmp_path / name}")
        stores.append(store)
        return store

    yield make
    for store in stores:
        store.dispose()


@pytest.fixture
def store(make_store: Callable[[str], BarStore]) -> BarStore:
    return make_store("bars.db")


def download(
    saxo: SaxoClient, store: BarStore, clock: RecordingClock, days: float, items: list[WatchItem] | None = None
) -> list[Fetched]:
    return Downloader(saxo, store, 1, clock.now()).run(items or [EURUSD], days)


def test_the_first_download_pages_back_over_1200_bars_and_drops_the_forming_bar(
    saxo: SaxoClient, store: BarStore, clock: RecordingClock
) -> None:
    now = clock.now()
    start = now - timedelta(days=1)

    (fetched,) = download(saxo, store, clock, days=1)

    forming = floor_minute(now)
    assert fetched.error is None
    assert fetched.requests == 2  # 1,441 one-minute bars do not fit one 1,200-bar page
    assert fetched.newest == forming - MINUTE  # the bar still forming at `now` is not stored
    assert fetched.oldest is not None and fetched.oldest <= start
    stored = store.bars(EURUSD, 1, None, None)
    assert [b.time for b in stored] == minutes(fetched.oldest, forming - MINUTE)  # no gap, no duplicate
    assert fetched.new_bars == fetched.stored == len(stored)
    assert len(store.bars(EURUSD, 1, start, None)) == 1439  # every completed bar of the last 24 hours
    # the stored bars are Saxo's (the simulator's) bars as a plain chart call returns them
    latest = saxo.bars(EURUSD, 1, count=1200)
    assert [(b.time, b.close) for b in stored[-1199:]] == [(b.time, b.close) for b in latest[:-1]]


def test_a_second_run_at_the_same_time_fetches_nothing(
    saxo: SaxoClient, store: BarStore, clock: RecordingClock
) -> None:
    download(saxo, store, clock, days=1)
    before = store.bars(EURUSD, 1, None, None)

    (again,) = download(saxo, store, clock, days=1)

    assert (again.requests, again.new_bars, again.error) == (0, 0, None)
    assert store.bars(EURUSD, 1, None, None) == before
    assert again.line().startswith(f"EURUSD (FxSpot:21): 0 new, {len(before)} bars stored, ")
    assert again.line().endswith(", 0 requests")


def test_later_only_the_bars_completed_since_are_fetched(
    saxo: SaxoClient, store: BarStore, clock: RecordingClock
) -> None:
    download(saxo, store, clock, days=1)
    clock.advance(5 * 60)

    (later,) = download(saxo, store, clock, days=1)

    assert (later.requests, later.new_bars) == (1, 5)
    assert later.newest == floor_minute(clock.now()) - MINUTE


def test_more_days_fetch_only_the_older_end(saxo: SaxoClient, store: BarStore, clock: RecordingClock) -> None:
    (first,) = download(saxo, store, clock, days=1)
    assert first.oldest is not None

    (more,) = download(saxo, store, clock, days=3)

    start = clock.now() - timedelta(days=3)
    assert more.requests == 3  # 2,881 older bars in pages of 1,200; the newer end is up to date
    assert more.new_bars == 2880
    assert more.oldest is not None and more.oldest <= start
    assert more.newest == first.newest
    assert [b.time for b in store.bars(EURUSD, 1, None, None)] == minutes(more.oldest, first.newest)
    assert more.new_bars == more.stored - first.stored
    (after,) = download(saxo, store, clock, days=3)
    assert after.requests == 0


def test_history_is_the_same_for_the_same_seed_and_clock(
    make_sim: Callable[..., SimServer],
    connect: Callable[[SimServer], SaxoClient],
    make_store: Callable[[str], BarStore],
    clock: RecordingClock,
) -> None:
    runs = {}
    for name, seed in (("a.db", 5), ("b.db", 5), ("c.db", 6)):
        store = make_store(name)
        download(connect(make_sim(seed=seed)), store, clock, days=0.5, items=[EURUSD, AAPL])
        runs[name] = [store.bars(item, 1, None, None) for item in (EURUSD, AAPL)]

    assert runs["a.db"] == runs["b.db"]
    assert runs["a.db"][0] != runs["c.db"][0]


def test_an_unknown_instrument_fails_alone(saxo: SaxoClient, store: BarStore, clock: RecordingClock) -> None:
    unknown, eurusd = download(saxo, store, clock, days=0.5, items=[UNKNOWN, EURUSD])

    assert unknown.error is not None and unknown.requests == 1
    assert unknown.line().startswith("NOPE (FxSpot:999999): FAILED after 1 request: ")
    assert eurusd.error is None and eurusd.new_bars > 700


def test_downloading_stays_within_the_rate_limit(
    make_sim: Callable[..., SimServer],
    store: BarStore,
    clock: RecordingClock,
) -> None:
    server = make_sim(session_limit_per_minute=4)
    statuses: list[int | None] = []
    saxo = SaxoClient.connect(
        server.base_url, ManualToken(TOKEN), clock=clock, on_request=lambda *call: statuses.append(call[3])
    )

    try:
        (fetched,) = download(saxo, store, clock, days=5)  # 7,200 bars: 7 pages against 4 requests a minute
    finally:
        saxo.close()

    assert fetched.error is None and fetched.requests == 7
    assert statuses == [200] * 7  # no 429 met: the client's budget waited for the window instead
    assert sum(clock.slept) >= 30


def test_the_progress_bar_redraws_one_line_on_stderr(saxo: SaxoClient, store: BarStore, clock: RecordingClock) -> None:
    stream = io.StringIO()

    Downloader(saxo, store, 1, clock.now(), Progress(stream, enabled=True)).run([EURUSD], 1)

    text = stream.getvalue()
    assert text.startswith("\rEURUSD (FxSpot:21) [------------------------------] 0/2 requests")
    assert "\rEURUSD (FxSpot:21) [###############---------------] 1/2 requests" in text
    assert text.endswith("\rEURUSD (FxSpot:21) [##############################] 2/2 requests\n")


def test_the_progress_bar_is_silent_when_stderr_is_not_a_terminal() -> None:
    stream = io.StringIO()
    progress = Progress(stream)
    progress.show("x", 1, 2)
    progress.end()

    assert stream.getvalue() == ""
