"""The pinned simulator clock: every answer is a function of the clock, never of the wall clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import requests

from bot.clock import Clock
from bot.sim import SimConfig, SimServer
from bot.sim.clock import SimClock
from bot.sim.config import parse_iso
from tests.sim.conftest import Api, market_order

PINNED = datetime(2026, 1, 7, 15, 0, 5, tzinfo=UTC)


@pytest.fixture
def pinned() -> Iterator[tuple[SimServer, SimClock]]:
    clock = SimClock(start=PINNED)
    with SimServer(SimConfig(seed=11), clock=clock) as sim:
        yield sim, clock


def test_a_pinned_clock_stands_still_and_moves_only_when_told() -> None:
    clock = SimClock(start=PINNED)
    shared: Clock = clock  # the bot can share it (type-checked against the bot's protocol)
    assert all(callable(getattr(shared, name)) for name in ("now", "sleep", "monotonic"))
    assert clock.now() == PINNED and clock.time() == PINNED.timestamp() == clock.monotonic()
    clock.sleep(1.5)  # pinned: sleeping is advancing, at once
    clock.advance(60)
    assert clock.now() == datetime(2026, 1, 7, 15, 1, 6, 500000, tzinfo=UTC)
    clock.set(datetime(2026, 1, 8, tzinfo=UTC))
    assert clock.now() == datetime(2026, 1, 8, tzinfo=UTC) and clock.pinned
    clock.reset()
    assert clock.now() == PINNED
    with pytest.raises(ValueError, match="naive"):
        clock.set(datetime(2026, 1, 8))


def test_a_real_clock_follows_the_wall_clock_plus_its_offset() -> None:
    clock = SimClock()
    assert not clock.pinned
    assert abs(clock.time() - datetime.now(UTC).timestamp()) < 5
    clock.set(PINNED)
    assert abs(clock.time() - PINNED.timestamp()) < 5
    clock.reset()
    assert clock.offset == 0


def test_every_answer_reads_the_pinned_clock(pinned: tuple[SimServer, SimClock]) -> None:
    sim, clock = pinned
    api = Api(sim)
    state = sim.control.state()
    assert state["now"] == "2026-01-07T15:00:05.000Z" and state["clock_pinned"] is True
    bars = api.get("/chart/v3/charts?AssetType=FxSpot&Uic=21&Horizon=1&Count=3").json()["Data"]
    assert [parse_iso(b["Time"]) for b in bars] == [PINNED.timestamp() - 5 - 120 + 60 * i for i in range(3)]
    quote = api.get("/trade/v1/infoprices?Uic=21&AssetType=FxSpot").json()["Quote"]
    inst = sim.core.catalogue.by_key("FxSpot:21")
    assert inst is not None
    assert quote["Mid"] == sim.core.market.quote(inst, PINNED.timestamp())[2]
    assert api.get("/trade/v1/infoprices?Uic=21&AssetType=FxSpot").json()["Quote"] == quote  # no time passed
    clock.advance(60)
    later = api.get("/chart/v3/charts?AssetType=FxSpot&Uic=21&Horizon=1&Count=3").json()["Data"]
    assert later[0] == bars[1]  # a completed bar never changes
    assert later[1]["Time"] == bars[2]["Time"] and parse_iso(later[2]["Time"]) == PINNED.timestamp() - 5 + 60


def test_rate_limits_and_duplicate_orders_use_the_same_clock(pinned: tuple[SimServer, SimClock]) -> None:
    sim, clock = pinned
    api = Api(sim)
    assert api.post("/trade/v2/orders", market_order(21, "FxSpot", amount=1000)).status_code == 200
    assert api.post("/trade/v2/orders", market_order(31, "FxSpot", amount=1000)).status_code == 429  # 1/s
    clock.advance(1)
    assert api.post("/trade/v2/orders", market_order(31, "FxSpot", amount=1000)).status_code == 200
    clock.advance(1)
    assert api.post("/trade/v2/orders", market_order(31, "FxSpot", amount=1000)).status_code == 409  # duplicate
    clock.advance(15)
    assert api.post("/trade/v2/orders", market_order(31, "FxSpot", amount=1000)).status_code == 200
    assert [o["Time"] for o in sim.control.state()["orders"]] == [
        "2026-01-07T15:00:05.000Z",
        "2026-01-07T15:00:06.000Z",
        "2026-01-07T15:00:22.000Z",
    ]


def test_the_clock_is_driven_over_http(pinned: tuple[SimServer, SimClock]) -> None:
    sim, clock = pinned
    url = sim.auth_base_url + "/__sim/clock"
    assert requests.post(url, json={"at": "2026-02-02T10:00:00Z"}, timeout=5).status_code == 200
    assert clock.now() == datetime(2026, 2, 2, 10, tzinfo=UTC)
    assert requests.post(url, json={"advance": 30}, timeout=5).status_code == 200
    assert sim.control.state()["now"] == "2026-02-02T10:00:30.000Z"
    sim.control.reset()
    assert clock.now() == PINNED
