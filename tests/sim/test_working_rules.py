"""What the simulator refuses for non-market orders and their legs, cancelling (DELETE), precheck with legs, the
instrument details that describe it all, and the single-order look-up."""

from __future__ import annotations

from typing import Any

import pytest

from bot.sim import SimServer
from tests.sim.conftest import Api
from tests.sim.working_helpers import log, order, pips, place, protected_buy, quote, statuses, working

NOT_PLACED = {"ErrorCode": "OrderNotPlaced", "Message": "Order not placed as other order in request was rejected"}


def test_details_list_the_order_types_ticks_and_tick_ladder(api: Api) -> None:
    fx = api.get("/ref/v1/instruments/details/21/FxSpot?FieldGroups=SupportedOrderTypeSettings").json()
    assert fx["SupportedOrderTypes"] == ["Market", "Limit", "Stop", "StopIfTraded", "TrailingStopIfTraded"]
    assert [s["OrderType"] for s in fx["SupportedOrderTypeSettings"]] == fx["SupportedOrderTypes"]
    assert fx["TickSize"] == 0.00001 and "TickSizeScheme" not in fx
    stock = api.get("/ref/v1/instruments/details/211/Stock").json()
    assert "Stop" not in stock["SupportedOrderTypes"] and "StopIfTraded" in stock["SupportedOrderTypes"]
    toyota = api.get("/ref/v1/instruments/details/4940/Stock").json()
    assert toyota["TickSizeScheme"] == {
        "DefaultTickSize": 10.0,
        "Elements": [{"HighPrice": 3000.0, "TickSize": 1.0}, {"HighPrice": 5000.0, "TickSize": 5.0}],
    }


def _rejected(api: Api, sim: SimServer, body: dict[str, Any]) -> dict[str, Any]:
    sim.clock.advance(1.1)
    answer = api.post("/trade/v2/orders", body)
    assert answer.status_code == 400, answer.text
    assert api.get("/port/v1/orders/me?Status=All").json()["Data"] == []  # nothing placed
    assert api.get("/port/v1/positions/me").json()["Data"] == []
    return dict(answer.json())


@pytest.mark.parametrize(
    ("order_type", "buy_sell", "offset", "code"),
    [
        ("Limit", "Buy", +0.0010, "OnWrongSideOfMarket"),  # a buy limit above the ask
        ("Limit", "Sell", -0.0010, "OnWrongSideOfMarket"),  # a sell limit below the bid
        ("StopIfTraded", "Sell", +0.0010, "OnWrongSideOfMarket"),  # a sell stop above the bid
        ("Stop", "Buy", -0.0010, "OnWrongSideOfMarket"),  # a buy stop below the ask
        ("Limit", "Buy", -0.000105, "PriceNotInTickSizeIncrements"),  # half a tick
        ("StopIfTraded", "Buy", +0.0010, None),  # the right side: taken
    ],
)
def test_prices_on_the_wrong_side_or_off_tick_are_refused(
    api: Api, sim: SimServer, order_type: str, buy_sell: str, offset: float, code: str | None
) -> None:
    bid, ask = quote(api)
    price = round((ask if buy_sell == "Buy" else bid) + offset, 6)
    if code is None:
        assert place(api, sim, order(order_type, buy_sell, price))["OrderId"]
        return
    answer = _rejected(api, sim, order(order_type, buy_sell, price))
    assert answer["ErrorInfo"]["ErrorCode"] == code


def test_the_tick_ladder_and_unsupported_types(api: Api, sim: SimServer) -> None:
    toyota = {"uic": 4940, "asset_type": "Stock", "amount": 100, "duration": "DayOrder"}
    _, ask = quote(api, 4940, "Stock")
    assert 3100 < ask < 4900  # (seeded, pinned) so the ask sits on the ladder's 5-yen step
    refused = [order("Limit", "Buy", 2001.5, **toyota), order("Limit", "Buy", 3003, **toyota)]
    refused.append(order("StopIfTraded", "Buy", 5005, **toyota))  # above 5000: the 10-yen default tick
    for body in refused:
        assert _rejected(api, sim, body)["ErrorInfo"]["ErrorCode"] == "PriceNotInTickSizeIncrements"
    for price in (2001, 3005, 5010):
        kind = "Limit" if price < ask else "StopIfTraded"
        assert place(api, sim, order(kind, "Buy", price, **toyota))["OrderId"]
    stock_stop = order("Stop", "Buy", 500.0, uic=211, asset_type="Stock", amount=1, duration="DayOrder")
    assert _rejected_after(api, sim, stock_stop)["ErrorInfo"]["ErrorCode"] == "OrderTypeNotSupported"


def _rejected_after(api: Api, sim: SimServer, body: dict[str, Any]) -> dict[str, Any]:
    sim.clock.advance(1.1)
    answer = api.post("/trade/v2/orders", body)
    assert answer.status_code == 400
    return dict(answer.json())


def test_a_bad_leg_rejects_the_whole_request_with_an_error_per_leg(api: Api, sim: SimServer) -> None:
    bid, ask = quote(api)
    legs = [order("StopIfTraded", "Sell", pips(bid + 0.001)), order("Limit", "Sell", pips(ask + 0.005))]
    answer = _rejected(api, sim, order("Market", "Buy", Orders=legs))
    assert answer["ErrorInfo"] == NOT_PLACED
    assert answer["Orders"][0]["ErrorInfo"]["ErrorCode"] == "OnWrongSideOfMarket"
    assert answer["Orders"][1] == {"ErrorInfo": NOT_PLACED}
    small = [{**leg, "Amount": 500} for leg in legs]
    entry_refused = _rejected(api, sim, order("Market", "Buy", amount=500, Orders=small))  # below the minimum size
    assert entry_refused["ErrorInfo"]["ErrorCode"] == "AmountBelowMinimumLotSize"
    assert entry_refused["Orders"] == [{"ErrorInfo": NOT_PLACED}, {"ErrorInfo": NOT_PLACED}]


@pytest.mark.parametrize(
    ("leg", "message"),
    [
        (order("StopIfTraded", "Buy", 1.0), "opposite side"),
        (order("StopIfTraded", "Sell", 1.0, amount=50000), "amount"),
        (order("StopIfTraded", "Sell", 1.0, uic=31), "instrument"),
        (order("TrailingStopIfTraded", "Sell", 1.0), "TrailingStopDistanceToMarket"),
        (order("Market", "Sell"), "market order"),
    ],
)
def test_malformed_legs_are_model_state_under_orders(api: Api, sim: SimServer, leg: dict, message: str) -> None:
    answer = _rejected(api, sim, order("Market", "Buy", Orders=[leg]))
    assert answer["ErrorCode"] == "InvalidModelState"
    assert list(answer["ModelState"]) == ["Orders"]
    assert message in answer["ModelState"]["Orders"][0]


def test_a_leg_of_a_resting_entry_is_judged_against_the_entry_price(api: Api, sim: SimServer) -> None:
    bid, _ = quote(api)
    entry = pips(bid - 0.0050)
    above_entry = [order("StopIfTraded", "Sell", pips(entry + 0.0010))]  # below the bid, but above the entry
    answer = _rejected(api, sim, order("Limit", "Buy", entry, Orders=above_entry))
    assert answer["Orders"][0]["ErrorInfo"]["ErrorCode"] == "OnWrongSideOfMarket"


def test_precheck_answers_each_leg(api: Api, sim: SimServer) -> None:
    bid, ask = quote(api)
    good = [order("StopIfTraded", "Sell", pips(bid - 0.005)), order("Limit", "Sell", pips(ask + 0.005))]
    checked = api.post("/trade/v2/orders/precheck", order("Market", "Buy", Orders=good)).json()
    assert checked["PreCheckResult"] == "Ok" and "ErrorInfo" not in checked
    assert checked["Orders"] == [{"PreCheckResult": "Ok"}, {"PreCheckResult": "Ok"}]
    bad = [good[0], order("Limit", "Sell", pips(bid - 0.001))]
    failed = api.post("/trade/v2/orders/precheck", order("Market", "Buy", Orders=bad)).json()
    assert failed["PreCheckResult"] == "Error"
    assert failed["ErrorInfo"]["ErrorCode"] == failed["Orders"][1]["ErrorInfo"]["ErrorCode"] == "OnWrongSideOfMarket"
    assert failed["Orders"][0] == {"PreCheckResult": "Ok"}
    assert sim.control.state()["orders"] == []  # a precheck places nothing


def test_delete_cancels_an_entry_with_its_legs(api: Api, sim: SimServer) -> None:
    bid, _ = quote(api)
    entry_price = pips(bid - 0.003)
    legs = [order("StopIfTraded", "Sell", pips(entry_price - 0.003)), order("Limit", "Sell", pips(entry_price + 0.003))]
    answer = place(api, sim, order("Limit", "Buy", entry_price, Orders=legs))
    entry, leg_ids = answer["OrderId"], [leg["OrderId"] for leg in answer["Orders"]]
    key = api.account_key()
    sim.clock.advance(1)
    cancelled = api.delete(f"/trade/v2/orders/{entry}?AccountKey={key}")
    assert cancelled.status_code == 200
    assert cancelled.json() == {"Orders": [{"OrderId": entry}]}
    assert statuses(sim) == {entry: "Cancelled", leg_ids[0]: "Cancelled", leg_ids[1]: "Cancelled"}
    assert working(api) == {}
    assert [e["Status"] for e in log(api, entry)] == ["Placed", "Cancelled"]
    again = api.delete(f"/trade/v2/orders/{entry}?AccountKey={key}")
    assert again.status_code == 200 and again.json()["Orders"][0]["ErrorInfo"]["ErrorCode"] == "OrderNotFound"


def test_delete_one_leg_leaves_the_other_working_on_its_own(api: Api, sim: SimServer) -> None:
    answer, _, _ = protected_buy(api, sim)
    stop_id, limit_id = (leg["OrderId"] for leg in answer["Orders"])
    done = api.delete(f"/trade/v2/orders/{limit_id}?AccountKey={api.account_key()}").json()
    assert done == {"Orders": [{"OrderId": limit_id}]}
    [row] = working(api).values()
    assert (row["OrderId"], row["OrderRelation"]) == (stop_id, "StandAlone")
    assert "RelatedOpenOrders" not in row
    filled = api.delete(f"/trade/v2/orders/{answer['OrderId']}?AccountKey={api.account_key()}").json()
    assert filled["Orders"][0]["ErrorInfo"]["ErrorCode"] == "TooLateToCancelOrder"  # the market entry filled


def test_delete_errors(api: Api, sim: SimServer) -> None:
    unknown = api.delete(f"/trade/v2/orders/1,2?AccountKey={api.account_key()}")
    assert unknown.status_code == 404
    assert [o["ErrorInfo"]["ErrorCode"] for o in unknown.json()["Orders"]] == ["OrderNotFound", "OrderNotFound"]
    assert api.delete("/trade/v2/orders/1").status_code == 400  # AccountKey is required
    assert api.delete("/trade/v2/orders/1?AccountKey=someone-else").status_code == 404


def test_one_order_by_client_key_and_the_client_list(api: Api, sim: SimServer) -> None:
    answer, stop, _ = protected_buy(api, sim)
    stop_id = answer["Orders"][0]["OrderId"]
    client = api.get("/port/v1/clients/me").json()["ClientKey"]
    one = api.get(f"/port/v1/orders/{client}/{stop_id}")
    assert one.status_code == 200 and (one.json()["OrderId"], one.json()["Price"]) == (stop_id, stop)
    assert api.get(f"/port/v1/orders/{client}/{answer['OrderId']}").status_code == 404  # filled: not open
    assert api.get(f"/port/v1/orders/other/{stop_id}").status_code == 404
    listed = api.get("/port/v1/orders", params={"ClientKey": client}).json()["Data"]
    assert sorted(row["OrderId"] for row in listed) == sorted(leg["OrderId"] for leg in answer["Orders"])
    assert api.get("/port/v1/orders").status_code == 400


def test_a_good_till_date_order_expires_at_its_time_and_needs_one(api: Api, sim: SimServer) -> None:
    bid, _ = quote(api)
    body = order("Limit", "Buy", pips(bid - 0.02), duration="GoodTillDate")
    assert "OrderDuration" in _rejected(api, sim, body)["ModelState"]
    body["OrderDuration"]["ExpirationDateTime"] = "2026-01-07T18:00:00Z"
    order_id = place(api, sim, body)["OrderId"]
    assert working(api)[order_id]["Duration"] == {
        "DurationType": "GoodTillDate",
        "ExpirationDateTime": "2026-01-07T18:00:00Z",
    }
    sim.clock.advance(3600)
    assert statuses(sim)[order_id] == "Working"
    sim.clock.advance(3600)
    assert statuses(sim)[order_id] == "Expired"
    assert log(api, order_id)[-1]["ActivityTime"] == "2026-01-07T18:00:00.000Z"
