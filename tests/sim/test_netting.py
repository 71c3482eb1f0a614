"""EndOfDay netting: a position per fill during the day, one per instrument after the UTC date changes."""

from __future__ import annotations

import math

import pytest

from bot.sim import SimServer
from tests.sim.conftest import Api, market_order, set_now


def _step(sim: SimServer, seconds: float = 1.5) -> None:
    sim.control.set_clock_offset(sim.core.clock.offset + seconds)


def test_positions_are_netted_at_the_date_change(api: Api, sim: SimServer) -> None:
    set_now(sim, math.floor(sim.control.now() / 86400) * 86400 + 3600)  # 01:00 UTC today
    fills = [
        market_order(amount=10),
        market_order(amount=5),
        market_order(buy_sell="Sell", amount=3),
        market_order(21, "FxSpot", amount=100000),
        market_order(21, "FxSpot", "Sell", 100000),
    ]
    for body in fills:
        assert api.post("/trade/v2/orders", body).status_code == 200
        _step(sim)
    rows = api.get("/port/v1/positions/me").json()["Data"]
    assert len(rows) == 5
    buys = [r["PositionBase"] for r in rows if r["PositionBase"]["Uic"] == 211 and r["PositionBase"]["Amount"] > 0]
    cash = api.get("/port/v1/balances/me").json()["CashBalance"]
    _step(sim, 86400)
    [netted] = api.get("/port/v1/positions/me").json()["Data"]
    base = netted["PositionBase"]
    assert (base["Uic"], base["Amount"], base["Status"]) == (211, 12, "Open")
    expected = sum(b["Amount"] * b["OpenPrice"] for b in buys) / sum(b["Amount"] for b in buys)
    assert base["OpenPrice"] == pytest.approx(expected, abs=0.01)
    assert netted["PositionId"] == rows[0]["PositionId"]  # the oldest lot's id survives
    assert api.get("/port/v1/balances/me").json()["CashBalance"] == cash  # netting moves no cash
    [net] = api.get("/port/v1/netpositions/me").json()["Data"]
    assert net["NetPositionBase"]["Amount"] == 12 and net["NetPositionView"]["PositionCount"] == 1
    assert net["NetPositionBase"]["SinglePositionId"] == netted["PositionId"]
    assert sim.control.state()["positions"] == {"Stock:211": 12}


def test_no_netting_within_the_day(api: Api, sim: SimServer) -> None:
    set_now(sim, math.floor(sim.control.now() / 86400) * 86400 + 3600)
    for amount in (1, 2):
        assert api.post("/trade/v2/orders", market_order(amount=amount)).ok
        _step(sim, 3600)
    assert len(api.get("/port/v1/positions/me").json()["Data"]) == 2
