"""Precheck and placement: the order body, PreCheckResult handling, OrderId and ambiguous outcomes."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from bot.domain.models import Duration, Side
from bot.errors import OrderOutcomeUnknown, SaxoBadResponse, SaxoRejected
from bot.saxo.trading import order_body
from tests.saxo.helpers import BTC, FX, STOCK, WatchItem, intent, recorded, url

PRECHECK = "/trade/v2/orders/precheck"
ORDERS = "/trade/v2/orders"


def sent(rsps, index: int = 0) -> dict:
    return json.loads(rsps.calls[index].request.body)


# -- the body ---------------------------------------------------------------------------------


def test_fx_market_order_body():
    sell = intent(FX, side=Side.SELL, amount="100000.00", duration=Duration.IMMEDIATE_OR_CANCEL)
    body = order_body(sell, "acc")
    assert body == {
        "AccountKey": "acc",
        "Uic": 21,
        "AssetType": "FxSpot",
        "BuySell": "Sell",
        "Amount": 100000,
        "OrderType": "Market",
        "OrderDuration": {"DurationType": "ImmediateOrCancel"},
        "ManualOrder": False,
        "ExternalReference": "c42-FxSpot:21-BUY",
        "IsForceOpen": False,
    }
    assert isinstance(body["Amount"], int)


@pytest.mark.parametrize("asset_type", ["Stock", "StockOption", "Etf"])
def test_no_is_force_open_for_stocks_options_and_etfs(asset_type):
    body = order_body(intent(WatchItem(asset_type, 211, "X")), "acc")
    assert "IsForceOpen" not in body


def test_fractional_amounts_are_floats_and_durations_map():
    body = order_body(intent(BTC, amount="0.05", duration=Duration.GOOD_TILL_CANCEL), "acc")
    assert body["Amount"] == 0.05 and isinstance(body["Amount"], float)
    assert body["OrderDuration"] == {"DurationType": "GoodTillCancel"}
    fok = order_body(intent(duration=Duration.FILL_OR_KILL), "a")
    assert fok["OrderDuration"]["DurationType"] == "FillOrKill"


@pytest.mark.parametrize(("reference", "amount"), [("x" * 51, "1"), ("", "1"), ("ok", "0"), ("ok", "-5")])
def test_invalid_intents_are_refused_before_sending(rsps, client, reference, amount):
    with pytest.raises(ValueError):
        client.place(intent(reference=reference, amount=amount), "acc")
    with pytest.raises(ValueError):
        client.precheck(intent(reference=reference, amount=amount), "acc")
    assert len(rsps.calls) == 0


def test_a_50_character_reference_is_fine():
    assert order_body(intent(reference="r" * 50), "acc")["ExternalReference"] == "r" * 50


# -- precheck ---------------------------------------------------------------------------------


def test_precheck_ok_from_the_recorded_fixture(rsps, client):
    rsps.add("POST", url(PRECHECK), json=recorded("post_trade_v2_orders_precheck"))
    outcome = client.precheck(intent(STOCK, amount="10", request_id="rid-1"), "acc")
    assert outcome.ok and outcome.result == "Ok"
    assert outcome.error_code is None
    assert outcome.estimated_cost == Decimal(1500000)
    assert outcome.estimated_cash_required == Decimal(1500000)
    assert outcome.disclaimers == ()
    request = rsps.calls[0].request
    assert request.headers["x-request-id"] == "rid-1"
    body = sent(rsps)
    assert body["FieldGroups"] == ["Costs"]
    assert body["ManualOrder"] is False and "IsForceOpen" not in body


def test_precheck_error(rsps, client):
    answer = {
        "ErrorInfo": {"ErrorCode": "IllegalInstrumentId", "Message": "Instrument ID is invalid"},
        "EstimatedCashRequired": 0.0,
        "PreCheckResult": "Error",
    }
    rsps.add("POST", url(PRECHECK), json=answer)
    outcome = client.precheck(intent(), "acc")
    assert not outcome.ok and outcome.result == "Error"
    assert (outcome.error_code, outcome.error_message) == ("IllegalInstrumentId", "Instrument ID is invalid")
    assert outcome.estimated_cash_required == Decimal(0)


def test_precheck_ok_with_error_info_is_not_ok(rsps, client):
    answer = {
        "PreCheckResult": "Ok",
        "ErrorInfo": {"ErrorCode": "InsufficentCash", "Message": "Not enough cash"},
        "Cost": {"Commission": 3.5, "ExchangeFee": 0.5, "StampDuty": 0},
    }
    rsps.add("POST", url(PRECHECK), json=answer)
    outcome = client.precheck(intent(), "acc")
    assert not outcome.ok and outcome.result == "Ok"
    assert outcome.error_code == "InsufficentCash"
    assert outcome.estimated_cost == Decimal("4.0")  # summed from Cost


def test_precheck_disclaimers_top_level_and_inside_error_info(rsps, client):
    answer = {
        "PreCheckResult": "Ok",
        "PreTradeDisclaimers": {"DisclaimerContext": "ctx-1", "DisclaimerTokens": ["tok-a", "tok-b"]},
        "ErrorInfo": {
            "ErrorCode": "DisclaimersNotAccepted",
            "Message": "Accept the disclaimers",
            "PreTradeDisclaimers": {"DisclaimerContext": "ctx-2", "DisclaimerTokens": ["tok-c"]},
        },
    }
    rsps.add("POST", url(PRECHECK), json=answer)
    outcome = client.precheck(intent(), "acc")
    assert not outcome.ok
    assert outcome.disclaimers == ("ctx-1: tok-a", "ctx-1: tok-b", "ctx-2: tok-c")


def test_precheck_prefers_the_account_currency_cost(rsps, client):
    answer = {"PreCheckResult": "Ok", "EstimatedTotalCost": 12, "EstimatedTotalCostInAccountCurrency": 11.5}
    rsps.add("POST", url(PRECHECK), json=answer)
    assert client.precheck(intent(), "acc").estimated_cost == Decimal("11.5")


@pytest.mark.parametrize(
    "answer",
    [{}, {"PreCheckResult": 1}, {"PreCheckResult": "Ok", "EstimatedCashRequired": "much"}, ["Ok"]],
)
def test_a_precheck_answer_of_the_wrong_shape_is_a_bad_response(rsps, client, answer):
    rsps.add("POST", url(PRECHECK), json=answer)
    with pytest.raises(SaxoBadResponse):
        client.precheck(intent(), "acc")


def test_a_400_precheck_keeps_the_model_state_in_the_message(rsps, client):
    error = {"ErrorCode": "InvalidModelState", "Message": "Invalid", "ModelState": {"Amount": ["too small"]}}
    rsps.add("POST", url(PRECHECK), status=400, json=error)
    outcome = client.precheck(intent(), "acc")
    assert not outcome.ok and outcome.result == "Rejected"
    assert outcome.error_code == "InvalidModelState"
    assert "too small" in (outcome.error_message or "")


# -- placing ----------------------------------------------------------------------------------


def test_place_returns_the_order_id_and_sends_the_request_id(rsps, client):
    rsps.add("POST", url(ORDERS), json=recorded("post_trade_v2_orders"))
    buy = intent(STOCK, amount="10", request_id="rid-42", reference="c1-Stock:211-BUY")
    order_id = client.place(buy, "acc")
    assert order_id == "67762872"
    request = rsps.calls[0].request
    assert request.headers["x-request-id"] == "rid-42"
    body = sent(rsps)
    assert body["ManualOrder"] is False
    assert "IsForceOpen" not in body
    assert "FieldGroups" not in body
    assert body["ExternalReference"] == "c1-Stock:211-BUY"
    assert body["Amount"] == 10


def test_a_numeric_order_id_is_a_string(rsps, client):
    rsps.add("POST", url(ORDERS), json={"OrderId": 123})
    assert client.place(intent(), "acc") == "123"


def test_a_2xx_with_error_info_is_a_rejection(rsps, client):
    rsps.add("POST", url(ORDERS), json={"ErrorInfo": {"ErrorCode": "MarketClosed", "Message": "closed"}})
    with pytest.raises(SaxoRejected) as caught:
        client.place(intent(), "acc")
    assert caught.value.error_code == "MarketClosed"
    assert caught.value.request_id == "req-0001"


@pytest.mark.parametrize("answer", [{}, {"Orders": []}, []])
def test_an_unreadable_2xx_order_answer_is_an_unknown_outcome(rsps, client, answer):
    rsps.add("POST", url(ORDERS), json=answer)
    with pytest.raises(OrderOutcomeUnknown) as caught:
        client.place(intent(reference="c7-FxSpot:21-BUY"), "acc")
    assert caught.value.external_reference == "c7-FxSpot:21-BUY"
    assert len(rsps.calls) == 1
