"""Working orders on the pinned clock: related stop / take-profit legs (OCO), limit entries, trailing stops.

Prices only move when the test moves the clock (the walk) or jumps them (`control.move_price`), so each order
is shown not to fill before its price is crossed and to fill right after.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import requests

from bot.sim import SimConfig, SimServer
from bot.sim.clock import SimClock
from tests.sim.conftest import Api
from tests.sim.working_helpers import EURUSD, log, order, pips, place, protected_buy, quote, statuses, working


def test_an_entry_with_two_legs_answers_every_order_id_and_lists_an_oco_pair(api: Api, sim: SimServer) -> None:
    answer, stop, limit = protected_buy(api, sim)
    assert set(answer) == {"OrderId", "Orders"}
    stop_id, limit_id = (leg["OrderId"] for leg in answer["Orders"])
    assert len({answer["OrderId"], stop_id, limit_id}) == 3
    [position] = api.get("/port/v1/positions/me").json()["Data"]
    assert position["PositionBase"]["SourceOrderId"] == answer["OrderId"]
    rows = working(api)
    assert set(rows) == {stop_id, limit_id}  # the filled entry is not working
    stop_row, limit_row = rows[stop_id], rows[limit_id]
    assert (stop_row["OpenOrderType"], stop_row["BuySell"], stop_row["Price"]) == ("StopIfTraded", "Sell", stop)
    assert (limit_row["OpenOrderType"], limit_row["Price"]) == ("Limit", limit)
    for row, other in ((stop_row, limit_id), (limit_row, stop_id)):
        assert (row["Status"], row["OrderRelation"], row["Amount"]) == ("Working", "Oco", 100000)
        assert row["RelatedPositionId"] == position["PositionId"]
        assert [r["OrderId"] for r in row["RelatedOpenOrders"]] == [other]
        assert row["Duration"] == {"DurationType": "GoodTillCancel"}
    assert rows[stop_id]["RelatedOpenOrders"][0] == {
        "Amount": 100000,
        "Duration": {"DurationType": "GoodTillCancel"},
        "OpenOrderType": "Limit",
        "OrderId": limit_id,
        "OrderPrice": limit,
        "Status": "Working",
    }
    net = api.get("/port/v1/netpositions/me").json()["Data"][0]["NetPositionBase"]
    assert net["NumberOfRelatedOrders"] == 2


def test_the_stop_fills_when_the_walk_crosses_it_and_cancels_the_take_profit(api: Api, sim: SimServer) -> None:
    answer, stop, _ = protected_buy(api, sim)
    entry, (stop_id, limit_id) = answer["OrderId"], (leg["OrderId"] for leg in answer["Orders"])
    sim.clock.advance(300)  # five minutes of walk: nowhere near 50 pips
    assert statuses(sim)[stop_id] == "Working"
    assert sim.control.state()["positions"] == {EURUSD: 100000}
    sim.control.move_price(EURUSD, mid=stop - 0.0010)
    sim.clock.advance(1)
    assert statuses(sim) == {entry: "Filled", stop_id: "Filled", limit_id: "Cancelled"}
    assert sim.control.state()["positions"] == {}
    assert working(api) == {}
    placed, filled = log(api, stop_id)
    assert (placed["Status"], filled["Status"], filled["OrderRelation"]) == ("Placed", "FinalFill", "Oco")
    assert filled["ExecutionPrice"] <= stop  # gapped through: filled at the bid, worse than the stop
    assert filled["ActivityTime"] > placed["ActivityTime"] and int(filled["LogId"]) > int(placed["LogId"])
    assert filled["PositionId"] != api.get("/port/v1/positions/me").json()["Data"][0]["PositionId"]
    cancelled = log(api, limit_id)[-1]
    assert (cancelled["Status"], cancelled["HandledBy"]) == ("Cancelled", "System")
    assert cancelled["ActivityTime"] == filled["ActivityTime"]


def test_the_take_profit_fills_when_crossed_and_cancels_the_stop(api: Api, sim: SimServer) -> None:
    answer, _, limit = protected_buy(api, sim)
    stop_id, limit_id = (leg["OrderId"] for leg in answer["Orders"])
    sim.control.move_price(EURUSD, mid=limit - 0.0002)  # just short of it: the bid stays below the limit
    sim.clock.advance(1)
    assert statuses(sim)[limit_id] == "Working"
    sim.control.move_price(EURUSD, mid=limit + 0.0010)
    sim.clock.advance(1)
    assert (statuses(sim)[limit_id], statuses(sim)[stop_id]) == ("Filled", "Cancelled")
    assert log(api, limit_id)[-1]["ExecutionPrice"] >= limit  # a limit fills at its price or better
    balance = api.get("/port/v1/balances/me").json()
    assert balance["CashBalance"] >= 1_000_000 + 100000 * 0.005  # bought at the ask, sold 50 pips or more above


def test_a_limit_entry_rests_then_fills_and_its_legs_start_working(api: Api, sim: SimServer) -> None:
    bid, _ = quote(api)
    entry_price = pips(bid - 0.0030)
    stop, take = pips(entry_price - 0.0030), pips(entry_price + 0.0020)  # take is below the bid: judged by the entry
    legs = [order("StopIfTraded", "Sell", stop), order("Limit", "Sell", take)]
    answer = place(api, sim, order("Limit", "Buy", entry_price, Orders=legs, ExternalReference="entry-1"))
    entry, (stop_id, take_id) = answer["OrderId"], (leg["OrderId"] for leg in answer["Orders"])
    [row] = working(api).values()  # the legs wait inside the entry's RelatedOpenOrders
    assert (row["OrderId"], row["OrderRelation"], row["Price"]) == (entry, "IfDoneMaster", entry_price)
    assert [(r["OrderId"], r["Status"]) for r in row["RelatedOpenOrders"]] == [
        (stop_id, "NotWorking"),
        (take_id, "NotWorking"),
    ]
    every = working(api, "All")
    assert (every[stop_id]["Status"], every[stop_id]["OrderRelation"]) == ("NotWorking", "IfDoneSlaveOco")
    assert "RelatedPositionId" not in every[stop_id]
    sim.clock.advance(600)
    assert statuses(sim) == {entry: "Working", stop_id: "NotWorking", take_id: "NotWorking"}
    assert api.get("/port/v1/positions/me").json()["Data"] == []
    sim.control.move_price(EURUSD, mid=entry_price - 0.0002)
    sim.clock.advance(1)
    assert statuses(sim) == {entry: "Filled", stop_id: "Working", take_id: "Working"}
    [position] = api.get("/port/v1/positions/me").json()["Data"]
    assert position["PositionBase"]["OpenPrice"] <= entry_price
    assert position["PositionBase"]["ExternalReference"] == "entry-1"
    rows = working(api)
    assert {rows[stop_id]["OrderRelation"], rows[take_id]["RelatedPositionId"]} == {"Oco", position["PositionId"]}
    assert statuses(sim)[take_id] == "Working"  # 20 pips above the entry: the jump left the bid below it
    sim.control.move_price(EURUSD, mid=take + 0.0005)
    sim.clock.advance(1)
    assert (statuses(sim)[take_id], statuses(sim)[stop_id]) == ("Filled", "Cancelled")


def test_a_trailing_stop_ratchets_up_by_whole_steps_and_never_back(api: Api, sim: SimServer) -> None:
    bid, _ = quote(api)
    start = pips(bid - 0.0050)
    leg = order("TrailingStopIfTraded", "Sell", start, TrailingStopDistanceToMarket=0.005, TrailingStopStep=0.001)
    answer = place(api, sim, order("Market", "Buy", Orders=[leg]))
    [trail_id] = [x["OrderId"] for x in answer["Orders"]]
    row = working(api)[trail_id]
    assert (row["TrailingStopDistanceToMarket"], row["TrailingStopStep"], row["Price"]) == (0.005, 0.001, start)
    assert row["OrderRelation"] == "StandAlone"  # one leg: nothing to cancel with it
    sim.control.move_price(EURUSD, mid=bid + 0.0032)  # 3.2 steps up
    sim.clock.advance(1)
    assert working(api)[trail_id]["Price"] == pytest.approx(start + 0.003, abs=1e-9)
    sim.control.move_price(EURUSD, mid=bid + 0.0015)  # back down, but above the stop: the stop stays
    sim.clock.advance(1)
    assert working(api)[trail_id]["Price"] == pytest.approx(start + 0.003, abs=1e-9)
    sim.control.move_price(EURUSD, mid=start + 0.0025)  # below the ratcheted stop, above the first one
    sim.clock.advance(1)
    assert statuses(sim)[trail_id] == "Filled"
    assert log(api, trail_id)[-1]["ExecutionPrice"] <= start + 0.003
    assert sim.control.state()["positions"] == {}


def test_a_standalone_sell_stop_opens_a_short_when_crossed(api: Api, sim: SimServer) -> None:
    bid, _ = quote(api)
    stop = pips(bid - 0.0040)
    order_id = place(api, sim, order("Stop", "Sell", stop))["OrderId"]
    assert working(api)[order_id]["OrderRelation"] == "StandAlone"
    sim.clock.advance(120)
    assert statuses(sim)[order_id] == "Working"
    sim.control.move_price(EURUSD, change_percent=-1)
    sim.clock.advance(1)
    assert statuses(sim)[order_id] == "Filled"
    assert sim.control.state()["positions"] == {EURUSD: -100000}


def test_closing_the_position_by_hand_cancels_its_legs(api: Api, sim: SimServer) -> None:
    answer, _, _ = protected_buy(api, sim)
    place(api, sim, order("Market", "Sell"))
    sim.clock.advance(1)
    assert working(api) == {}
    assert {statuses(sim)[leg["OrderId"]] for leg in answer["Orders"]} == {"Cancelled"}


def test_a_day_order_expires_at_the_end_of_its_utc_day(api: Api, sim: SimServer) -> None:
    bid, _ = quote(api)
    order_id = place(api, sim, order("Limit", "Buy", pips(bid - 0.02), duration="DayOrder"))["OrderId"]
    sim.clock.advance(3600)
    assert statuses(sim)[order_id] == "Working"
    sim.clock.advance(86400)
    assert statuses(sim)[order_id] == "Expired"
    expired = log(api, order_id)[-1]
    assert (expired["Status"], expired["ActivityTime"]) == ("Expired", "2026-01-08T00:00:00.000Z")


def test_a_price_is_moved_over_http_too(api: Api, sim: SimServer) -> None:
    bid, _ = quote(api)
    moved = requests.post(f"{sim.auth_base_url}/__sim/price", json={"instrument_key": EURUSD, "mid": 1.2}, timeout=5)
    assert moved.status_code == 200, moved.text
    assert moved.json()["Mid"] == pytest.approx(1.2, abs=1e-6)
    assert quote(api)[0] == pytest.approx(1.2 - 0.00005, abs=1e-5) and bid != quote(api)[0]


def test_a_position_lists_the_legs_protecting_it_also_after_netting(api: Api, sim: SimServer) -> None:
    place(api, sim, order("Market", "Buy"))  # an older lot: netting keeps its ids
    answer, _, _ = protected_buy(api, sim, distance=0.05)  # far away: a day of walk does not reach the legs
    leg_ids = [leg["OrderId"] for leg in answer["Orders"]]
    rows = api.get("/port/v1/positions/me?FieldGroups=PositionBase").json()["Data"]
    protected = {row["PositionId"]: row["PositionBase"].get("RelatedOpenOrders") for row in rows}
    older, newer = sorted(protected)
    assert protected[older] is None
    assert [info["OrderId"] for info in protected[newer] or []] == leg_ids
    sim.clock.set(datetime(2026, 1, 8, 0, 0, 30, tzinfo=UTC))  # the end-of-day run nets the two lots into one
    [row] = api.get("/port/v1/positions/me?FieldGroups=PositionBase").json()["Data"]
    assert (row["PositionId"], row["PositionBase"]["Amount"]) == (older, 200000)
    assert [info["OrderId"] for info in row["PositionBase"]["RelatedOpenOrders"]] == leg_ids
    assert {r["RelatedPositionId"] for r in working(api).values()} == {older}


def test_with_market_hours_a_stop_waits_for_the_open_and_fills_at_the_gap() -> None:
    clock = SimClock(start=datetime(2026, 1, 7, 16, 45, 5, tzinfo=UTC))  # 11:45 in New York, a Wednesday
    with SimServer(SimConfig(seed=7, enforce_hours=True), clock=clock) as sim:
        api = Api(sim)
        bid, _ = quote(api, 211, "Stock")
        stop = round(bid - 10.0, 2)  # far: the afternoon's walk does not reach it
        legs = [order("StopIfTraded", "Sell", stop, uic=211, asset_type="Stock", amount=10)]
        answer = place(api, sim, order("Market", "Buy", uic=211, asset_type="Stock", amount=10, Orders=legs))
        [stop_id] = [leg["OrderId"] for leg in answer["Orders"]]
        clock.set(datetime(2026, 1, 7, 22, 0, tzinfo=UTC))  # 17:00 in New York: after the close
        sim.control.move_price("Stock:211", mid=stop - 5.0)
        clock.advance(60)
        assert statuses(sim)[stop_id] == "Working"  # no trading, no trigger
        clock.set(datetime(2026, 1, 8, 14, 30, 30, tzinfo=UTC))  # 09:30:30: the regular session has opened
        assert statuses(sim)[stop_id] == "Filled"
        filled = log(api, stop_id)[-1]
        assert "2026-01-08T14:30:00" <= filled["ActivityTime"] <= "2026-01-08T14:30:30"  # at the open
        assert filled["ExecutionPrice"] < stop - 4  # gapped: filled at the open's bid, well below the stop
