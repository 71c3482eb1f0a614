"""The wire side of protection, pinned with `responses`: the entry's `Orders` legs, the answer's leg OrderIds, a
precheck that fails on a leg, and DELETE /trade/v2/orders/{ids}."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal

import pytest
import responses

from bot.domain import PlacedOrder, Protection, Side
from bot.errors import OrderOutcomeUnknown
from bot.saxo import SaxoClient
from tests.saxo.helpers import STOCK, FakeClock, intent, make_http, url

D = Decimal


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def client() -> Iterator[SaxoClient]:
    saxo = SaxoClient(make_http(FakeClock()))
    yield saxo
    saxo.close()


ENTRY = replace(intent(amount="10000"), protection=Protection(stop=D("1.07150"), take_profit=D("1.10405")))
LEG = {
    "AccountKey": "acc",
    "Uic": 21,
    "AssetType": "FxSpot",
    "BuySell": "Sell",
    "Amount": 10000,
    "OrderDuration": {"DurationType": "GoodTillCancel"},
    "ManualOrder": False,
}


def test_an_opening_order_carries_its_stop_and_take_profit_as_related_orders(rsps, client) -> None:
    rsps.add(
        "POST", url("/trade/v2/orders"), json={"OrderId": "5001", "Orders": [{"OrderId": "5002"}, {"OrderId": "5003"}]}
    )
    placed = client.place(ENTRY, "acc")
    assert placed == PlacedOrder("5001", ("5002", "5003"))
    assert json.loads(rsps.calls[0].request.body) == {
        "AccountKey": "acc",
        "Uic": 21,
        "AssetType": "FxSpot",
        "BuySell": "Buy",
        "Amount": 10000,
        "OrderType": "Market",
        "OrderDuration": {"DurationType": "DayOrder"},
        "ManualOrder": False,
        "ExternalReference": "c42-FxSpot:21-BUY",
        "IsForceOpen": False,
        "Orders": [
            {**LEG, "OrderType": "StopIfTraded", "OrderPrice": 1.0715},
            {**LEG, "OrderType": "Limit", "OrderPrice": 1.10405},
        ],
    }


def test_a_trailing_stop_sends_its_distance_and_step_and_a_short_gets_buy_legs(rsps, client) -> None:
    trailing = Protection(
        stop=D("191"), trailing=D("2"), trailing_step=D("0.01"), stop_order_type="TrailingStopIfTraded"
    )
    short = replace(intent(STOCK, amount="5"), side=Side.SELL)
    short = replace(short, protection=trailing)
    rsps.add("POST", url("/trade/v2/orders"), json={"OrderId": "7", "Orders": [{"OrderId": "8"}]})
    assert client.place(short, "acc") == PlacedOrder("7", ("8",))
    [leg] = json.loads(rsps.calls[0].request.body)["Orders"]
    assert leg == {
        "AccountKey": "acc",
        "Uic": 211,
        "AssetType": "Stock",
        "BuySell": "Buy",
        "Amount": 5,
        "OrderDuration": {"DurationType": "GoodTillCancel"},
        "ManualOrder": False,
        "OrderType": "TrailingStopIfTraded",
        "OrderPrice": 191,
        "TrailingStopDistanceToMarket": 2,
        "TrailingStopStep": 0.01,
    }


def test_a_plain_order_still_answers_its_order_id_alone(rsps, client) -> None:
    rsps.add("POST", url("/trade/v2/orders"), json={"OrderId": "123"})
    assert client.place(intent(), "acc") == "123"
    assert "Orders" not in json.loads(rsps.calls[0].request.body)


def test_the_whole_order_is_prechecked_and_a_leg_error_fails_it(rsps, client) -> None:
    answer = {
        "PreCheckResult": "Ok",
        "EstimatedCashRequired": 0,
        "Orders": [
            {"PreCheckResult": "Ok"},
            {"ErrorInfo": {"ErrorCode": "PriceNotInTickSizeIncrements", "Message": "Price 1.104 is not whole ticks"}},
        ],
    }
    rsps.add("POST", url("/trade/v2/orders/precheck"), json=answer)
    outcome = client.precheck(ENTRY, "acc")
    assert not outcome.ok and outcome.error_code == "PriceNotInTickSizeIncrements"
    assert len(json.loads(rsps.calls[0].request.body)["Orders"]) == 2


def test_cancel_answers_each_order(rsps, client) -> None:
    body = {"Orders": [{"OrderId": "5002"}, {"OrderId": "5003", "ErrorInfo": {"ErrorCode": "TooLateToCancelOrder"}}]}
    rsps.add("DELETE", url("/trade/v2/orders/5002,5003"), json=body)
    assert client.cancel_orders(["5002", "5003"], "acc") == {"5002": None, "5003": "TooLateToCancelOrder"}
    assert rsps.calls[0].request.url.endswith("/trade/v2/orders/5002,5003?AccountKey=acc")


def test_a_cancel_without_an_answer_is_not_taken_for_done(rsps, client) -> None:
    rsps.add("DELETE", url("/trade/v2/orders/5002"), status=503)
    with pytest.raises(OrderOutcomeUnknown):
        client.cancel_orders(["5002"], "acc")
    assert len(rsps.calls) == 1  # never re-sent blind


def test_a_limit_entry_sends_its_price_and_good_till_cancel(rsps, client) -> None:
    from bot.domain import Duration

    entry = replace(intent(amount="10000"), limit_price=D("1.07695"), duration=Duration.GOOD_TILL_CANCEL)
    rsps.add("POST", url("/trade/v2/orders"), json={"OrderId": "9"})
    assert client.place(entry, "acc") == "9"
    body = json.loads(rsps.calls[0].request.body)
    assert (body["OrderType"], body["OrderPrice"], body["OrderDuration"]) == (
        "Limit",
        1.07695,
        {"DurationType": "GoodTillCancel"},
    )
