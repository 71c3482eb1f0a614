"""Order precheck, placement, duplicates, validation, fills and cancellation."""

from __future__ import annotations

import pytest

from bot.sim import SimServer
from tests.sim.conftest import Api, market_order


def _later(sim: SimServer, seconds: float = 1.1) -> None:
    """Step the simulator's clock (the order rate limit is 1/s) without sleeping."""
    sim.control.set_clock_offset(sim.core.clock.offset + seconds)


def test_fill_moves_position_and_cash(api: Api, sim: SimServer) -> None:
    before = api.get("/port/v1/balances/me").json()
    quote = api.get("/trade/v1/infoprices?Uic=211&AssetType=Stock").json()["Quote"]
    answer = api.post(
        "/trade/v2/orders", market_order(amount=10, ExternalReference="buy-aapl"), headers={"X-Request-ID": "req-1"}
    )
    assert answer.status_code == 200
    assert answer.headers["X-Request-ID"] == "req-1"
    order_id = answer.json()["OrderId"]
    rows = api.get("/port/v1/positions/me").json()["Data"]
    assert len(rows) == 1
    base = rows[0]["PositionBase"]
    assert (base["Amount"], base["Uic"], base["AssetType"], base["SourceOrderId"]) == (10, 211, "Stock", order_id)
    assert base["ExternalReference"] == "buy-aapl" and base["Status"] == "Open" and base["IsForceOpen"] is False
    assert base["OpenPrice"] == pytest.approx(quote["Ask"], abs=0.05)
    after = api.get("/port/v1/balances/me").json()
    commission = 1.0
    assert after["CashBalance"] == pytest.approx(before["CashBalance"] - 10 * base["OpenPrice"] - commission)
    assert after["OpenPositionsCount"] == 1
    assert after["TotalValue"] < before["TotalValue"]  # spread and commission
    assert after["TotalValue"] > before["TotalValue"] - 10
    state = sim.control.state()
    assert state["positions"] == {"Stock:211": 10}
    [order] = state["orders"]
    assert (order["OrderId"], order["RequestId"], order["ExternalReference"]) == (order_id, "req-1", "buy-aapl")
    assert api.get("/port/v1/orders/me").json()["Data"] == []  # a filled market order is not working


def test_sell_opens_a_short_fx_position_and_converts_to_usd(api: Api) -> None:
    assert api.post("/trade/v2/orders", market_order(42, "FxSpot", "Sell", 100000)).status_code == 200
    view = api.get("/port/v1/positions/me").json()["Data"][0]
    assert view["PositionBase"]["Amount"] == -100000
    assert view["NetPositionId"] == "USDJPY_FxSpot"
    assert view["PositionView"]["CurrentPriceType"] == "Ask"
    assert view["PositionView"]["ExposureCurrency"] == "USD"
    # USDJPY: the amount is in USD, so the USD exposure is the amount itself
    assert view["PositionView"]["ExposureInBaseCurrency"] == pytest.approx(-100000, rel=1e-3)


def test_crypto_asked_as_fxspot_is_fxcrypto(api: Api) -> None:
    assert api.post("/trade/v2/orders", market_order(21700189, "FxSpot", amount=0.05)).status_code == 200
    base = api.get("/port/v1/positions/me").json()["Data"][0]["PositionBase"]
    assert (base["AssetType"], base["Amount"]) == ("FxCrypto", 0.05)
    prices = api.get("/trade/v1/infoprices/list?Uics=21700189,21750301&AssetType=FxSpot").json()["Data"]
    assert [row["AssetType"] for row in prices] == ["FxCrypto", "FxCrypto"]


def test_duplicate_within_window_is_409_unless_request_id_differs(api: Api, sim: SimServer) -> None:
    body = market_order(ExternalReference="dup")
    assert api.post("/trade/v2/orders", body, headers={"X-Request-ID": "a"}).status_code == 200
    _later(sim)
    again = api.post("/trade/v2/orders", body, headers={"X-Request-ID": "a"})
    assert again.status_code == 409
    assert again.json()["ErrorCode"]
    _later(sim)
    assert api.post("/trade/v2/orders", body, headers={"X-Request-ID": "b"}).status_code == 200
    _later(sim, 16)  # outside the 15 s window the same request is new again
    assert api.post("/trade/v2/orders", body, headers={"X-Request-ID": "b"}).status_code == 200
    assert len(sim.control.state()["orders"]) == 3
    assert sim.control.state()["events"]["duplicates"] == 1


def test_duplicate_precheck_is_409_too(api: Api) -> None:
    body = market_order()
    assert api.post("/trade/v2/orders/precheck", body).status_code == 200
    assert api.post("/trade/v2/orders/precheck", body).status_code == 409
    assert api.post("/trade/v2/orders/precheck", body, headers={"X-Request-ID": "x"}).status_code == 200


def test_missing_manual_order_is_model_state(api: Api) -> None:
    body = market_order()
    del body["ManualOrder"]
    answer = api.post("/trade/v2/orders", body)
    assert answer.status_code == 400
    payload = answer.json()
    assert payload["ErrorCode"] == "InvalidModelState"
    assert payload["Message"] == "One or more properties of the request are invalid!"
    assert "ManualOrder" in payload["ModelState"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"BuySell": "Hold"}, "BuySell"),
        ({"Amount": "ten"}, "Amount"),
        ({"Uic": "211"}, "Uic"),
        ({"AssetType": "Shares"}, "AssetType"),
        ({"OrderType": "Whatever"}, "OrderType"),
        ({"OrderDuration": {}}, "OrderDuration"),
        ({"ExternalReference": "x" * 51}, "ExternalReference"),
        ({"AccountKey": "not-mine"}, "AccountKey"),
    ],
)
def test_malformed_orders_are_model_state(api: Api, change: dict, field: str) -> None:
    answer = api.post("/trade/v2/orders", {**market_order(), **change})
    assert answer.status_code == 400
    assert list(answer.json()["ModelState"]) == [field]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (market_order(999999, "Stock"), "IllegalInstrumentId"),
        (market_order(IsForceOpen=False), "ForceOpenNotAllowed"),
        (market_order(duration="GoodTillCancel"), "DurationNotSupported"),
        (market_order(21, "FxForwards", amount=100000), "DurationNotSupported"),
        (market_order(amount=0), "IllegalAmount"),
        (market_order(amount=1.5), "IllegalAmount"),
        (market_order(21700189, "FxCrypto", amount=0.015), "IllegalAmount"),
        (market_order(21, "FxSpot", amount=500), "AmountBelowMinimumLotSize"),
        (market_order(4940, "Stock", amount=150), "AmountNotInLotSize"),
        (market_order(buy_sell="Sell"), "ShortTradeDisabled"),
        (market_order(amount=10_000), "InsufficentCash"),
    ],
)
def test_business_rejections(api: Api, body: dict, code: str) -> None:
    answer = api.post("/trade/v2/orders", body)
    assert answer.status_code == 400
    assert answer.json() == {"ErrorInfo": {"ErrorCode": code, "Message": answer.json()["ErrorInfo"]["Message"]}}
    assert api.get("/port/v1/positions/me").json()["Data"] == []


def test_forwards_take_immediate_or_cancel(api: Api) -> None:
    settings = api.get("/ref/v1/instruments/details/21/FxForwards?FieldGroups=SupportedOrderTypeSettings").json()
    market = next(s for s in settings["SupportedOrderTypeSettings"] if s["OrderType"] == "Market")
    assert "DayOrder" not in market["DurationTypes"]
    body = market_order(21, "FxForwards", amount=100000, duration=market["DurationTypes"][0])
    assert api.post("/trade/v2/orders", body).status_code == 200


def test_precheck_ok_error_and_ok_with_error_info(api: Api) -> None:
    ok = api.post("/trade/v2/orders/precheck", market_order(amount=5)).json()
    assert ok["PreCheckResult"] == "Ok" and "ErrorInfo" not in ok
    assert ok["EstimatedCashRequiredCurrency"] == "USD"
    assert ok["EstimatedCashRequired"] > 5 * 100
    assert ok["Cost"]["Commission"] == 1
    error = api.post("/trade/v2/orders/precheck", market_order(999999, "Stock"))
    assert error.status_code == 200
    assert error.json() == {
        "ErrorInfo": {"ErrorCode": "IllegalInstrumentId", "Message": "Instrument ID is invalid"},
        "EstimatedCashRequired": 0.0,
        "PreCheckResult": "Error",
    }
    short = api.post("/trade/v2/orders/precheck", market_order(amount=10_000)).json()
    assert short["PreCheckResult"] == "Ok"
    assert short["ErrorInfo"]["ErrorCode"] == "InsufficentCash"
    assert short["EstimatedCashRequired"] > 1_000_000
    assert api.get("/port/v1/positions/me").json()["Data"] == []  # a precheck places nothing


def test_precheck_of_fx_asks_for_margin_only(api: Api) -> None:
    checked = api.post("/trade/v2/orders/precheck", market_order(21, "FxSpot", amount=100000)).json()
    assert checked["PreCheckResult"] == "Ok"
    assert checked["Cost"]["Commission"] == 0
    assert 2000 < checked["EstimatedCashRequired"] < 6000  # 1/30 of ~110k USD


def test_limit_order_rests_and_cancels(api: Api) -> None:
    body = {
        **market_order(21, "FxSpot", amount=100000),
        "OrderType": "Limit",
        "OrderPrice": 0.9,
        "OrderDuration": {"DurationType": "GoodTillCancel"},
    }
    order_id = api.post("/trade/v2/orders", body).json()["OrderId"]
    [working] = api.get("/port/v1/orders/me").json()["Data"]
    assert (working["OrderId"], working["Status"], working["OpenOrderType"]) == (order_id, "Working", "Limit")
    assert api.get("/port/v1/positions/me").json()["Data"] == []
    cancelled = api.delete(f"/trade/v2/orders/{order_id},123?AccountKey={api.account_key()}").json()
    assert cancelled["Orders"][0] == {"OrderId": order_id}
    assert cancelled["Orders"][1]["ErrorInfo"]["ErrorCode"] == "OrderNotFound"
    assert api.get("/port/v1/orders/me").json()["Data"] == []


def test_stop_orders_are_not_supported(api: Api) -> None:
    body = {**market_order(), "OrderType": "Stop", "OrderPrice": 1.0}
    assert api.post("/trade/v2/orders", body).json()["ErrorInfo"]["ErrorCode"] == "OrderTypeNotSupported"


def test_closing_a_position_nets_to_flat(api: Api, sim: SimServer) -> None:
    assert api.post("/trade/v2/orders", market_order(amount=3)).ok
    _later(sim)
    assert api.post("/trade/v2/orders", market_order(buy_sell="Sell", amount=3)).ok
    net = api.get("/port/v1/netpositions/me").json()["Data"][0]
    assert net["NetPositionBase"]["Amount"] == 0
    assert net["NetPositionView"]["PositionCount"] == 2
    assert sim.control.state()["positions"] == {}
