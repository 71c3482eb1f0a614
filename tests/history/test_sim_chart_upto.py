"""The simulator answers chart `Mode=UpTo` with `Time` as paging needs it, the same for the same seed and clock."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import timedelta

import pytest
import requests

from bot.domain import WatchItem
from bot.saxo import ManualToken, SaxoClient
from bot.saxo.chart import params_up_to
from bot.sim import SimServer
from tests.conftest import TOKEN
from tests.support.clock import RecordingClock

EURUSD = WatchItem("FxSpot", 21, "EURUSD")
AAPL = WatchItem("Stock", 211, "AAPL:xnas")
MINUTE = timedelta(minutes=1)


@pytest.fixture
def saxo(sim: SimServer, clock: RecordingClock) -> Iterator[SaxoClient]:
    client = SaxoClient.connect(sim.base_url, ManualToken(TOKEN), clock=clock)
    yield client
    client.close()


def test_up_to_ends_at_the_bar_that_contains_time(saxo: SaxoClient, clock: RecordingClock) -> None:
    until = clock.now() - timedelta(hours=3, seconds=20)

    page = saxo.bars_up_to(EURUSD, 1, until, count=5)

    last = until.replace(second=0, microsecond=0)
    assert [b.time for b in page] == [last - i * MINUTE for i in range(4, -1, -1)]


def test_pages_back_join_without_gap_or_overlap(saxo: SaxoClient, clock: RecordingClock) -> None:
    newer = saxo.bars_up_to(AAPL, 5, clock.now() - timedelta(days=2), count=1200)
    older = saxo.bars_up_to(AAPL, 5, newer[0].time - timedelta(seconds=1), count=1200)

    joined = [b.time for b in older + newer]
    assert len(joined) == 2400
    assert all(b - a == timedelta(minutes=5) for a, b in itertools.pairwise(joined))


def test_up_to_now_ends_with_the_forming_bar(saxo: SaxoClient, clock: RecordingClock) -> None:
    page = saxo.bars_up_to(EURUSD, 1, clock.now() + timedelta(hours=1), count=3)

    assert page[-1].time == clock.now().replace(second=0, microsecond=0)  # never a bar from the future


def test_the_same_request_gives_the_same_bars(saxo: SaxoClient, clock: RecordingClock) -> None:
    until = clock.now() - timedelta(days=10)

    assert saxo.bars_up_to(EURUSD, 60, until, 50) == saxo.bars_up_to(EURUSD, 60, until, 50)


def test_the_wire_parameters(clock: RecordingClock) -> None:
    params = params_up_to(EURUSD, 1, 5000, clock.now())

    assert params == {
        "AssetType": "FxSpot",
        "Uic": 21,
        "Horizon": 1,
        "Count": 1200,
        "Mode": "UpTo",
        "Time": "2026-01-07T16:45:05.000Z",
    }


def test_up_to_without_time_is_refused(sim: SimServer) -> None:
    reply = requests.get(
        sim.base_url + "/chart/v3/charts",
        params={"AssetType": "FxSpot", "Uic": 21, "Horizon": 1, "Mode": "UpTo"},
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=5,
    )

    assert reply.status_code == 400
    assert "Time" in reply.json()["ModelState"]
