"""The order log (/cs/v1/audit/orderactivities) and lagging portfolio views, on a pinned clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from bot.sim import SimConfig, SimServer
from bot.sim.clock import SimClock
from tests.sim.conftest import Api, fixture_sample, market_order

PINNED = datetime(2026, 1, 7, 15, 0, 5, tzinfo=UTC)
LOG = "/cs/v1/audit/orderactivities"


@pytest.fixture
def pinned() -> Iterator[tuple[SimServer, SimClock, Api]]:
    clock = SimClock(start=PINNED)
    with SimServer(SimConfig(seed=11), clock=clock) as sim:
        yield sim, clock, Api(sim)


def place(api: Api, **order: object) -> str:
    answer = api.post("/trade/v2/orders", market_order(**order))  # type: ignore[arg-type]
    assert answer.status_code == 200, answer.text
    return str(answer.json()["OrderId"])


def test_a_filled_market_order_is_placed_then_final_filled(pinned) -> None:
    _, _, api = pinned
    order_id = place(api, ExternalReference="sb-1-Stock-211-B-0a1b2c3d4e", amount=10)
    answer = api.get(LOG, params={"OrderId": order_id})
    assert answer.status_code == 200
    body = answer.json()
    assert body["__count"] == 2
    placed, filled = body["Data"]
    assert (placed["Status"], placed["SubStatus"], filled["Status"]) == ("Placed", "Confirmed", "FinalFill")
    assert int(filled["LogId"]) > int(placed["LogId"])
    for entry in (placed, filled):
        assert entry["OrderId"] == order_id and entry["ExternalReference"] == "sb-1-Stock-211-B-0a1b2c3d4e"
        assert (entry["Uic"], entry["AssetType"], entry["BuySell"], entry["Amount"]) == (211, "Stock", "Buy", 10)
        assert entry["ActivityTime"] == "2026-01-07T15:00:05.000Z"
    assert filled["FilledAmount"] == filled["FillAmount"] == 10 and filled["PositionId"]
    # the same keys as Saxo's documented example (fixture written from the learn page)
    documented = fixture_sample("cs_v1_audit_orderactivities")["Data"]
    assert set(placed) == set(documented[0]) and set(filled) == set(documented[1])


def test_last_entries_from_a_time_on_and_every_page(pinned) -> None:
    _, clock, api = pinned
    first = place(api, ExternalReference="a")
    clock.advance(60)
    second = place(api, ExternalReference="b", buy_sell="Sell", amount=10)  # closes the first: no position left
    last = api.get(LOG, params={"EntryType": "Last", "FromDateTime": "2026-01-07T15:01:00Z"}).json()
    assert [(e["OrderId"], e["Status"]) for e in last["Data"]] == [(second, "FinalFill")]
    every = api.get(LOG, params={"$top": 3}).json()
    assert len(every["Data"]) == 3 and "$skiptoken=" in every["__next"] and every["__count"] == 4
    rest = api.session.get(every["__next"], timeout=10).json()
    assert [e["OrderId"] for e in every["Data"] + rest["Data"]] == [first, first, second, second]
    assert "__next" not in rest


def test_bad_queries_and_other_accounts(pinned) -> None:
    _, _, api = pinned
    assert api.get(LOG, params={"FromDateTime": "yesterday"}).status_code == 400
    assert api.get(LOG, params={"EntryType": "First"}).status_code == 400
    assert api.get(LOG, params={"AccountKey": "someone-else"}).status_code == 404


def test_views_lag_the_order_by_the_configured_seconds(pinned) -> None:
    """Saxo's portfolio views can show an order seconds late; the order itself is taken at once."""
    sim, clock, api = pinned
    sim.control.set_view_lag(5)
    place(api, uic=21, asset_type="FxSpot", amount=10000, ExternalReference="late")
    assert sim.control.state()["positions"] == {"FxSpot:21": 10000}  # it happened

    def shown() -> tuple[int, int, int, int]:
        positions = api.get("/port/v1/positions/me").json()["Data"]
        net = api.get("/port/v1/netpositions/me").json()["Data"]
        orders = api.get("/port/v1/orders/me", params={"Status": "All"}).json()["Data"]
        log = api.get(LOG).json()["Data"]
        return len(positions), len(net), len(orders), len(log)

    assert shown() == (0, 0, 0, 0)
    clock.advance(4.9)
    assert shown() == (0, 0, 0, 0)
    clock.advance(0.1)
    assert shown() == (1, 1, 1, 2)
    sim.control.reset()
    assert sim.control.state()["view_lag_seconds"] == 0


def test_the_lag_is_set_over_http_and_checked(pinned) -> None:
    sim, _, api = pinned
    assert api.session.post(sim.auth_base_url + "/__sim/lag", json={"seconds": 3}, timeout=5).ok
    assert sim.control.state()["view_lag_seconds"] == 3
    assert api.session.post(sim.auth_base_url + "/__sim/lag", json={"seconds": -1}, timeout=5).status_code == 400
