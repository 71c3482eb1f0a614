"""Instrument rules (`/ref/v1/instruments/details/...`) and trading schedules, wire -> domain."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from responses import matchers

from bot.domain.models import Duration
from bot.errors import SaxoBadResponse, SaxoNotFound
from tests.saxo.helpers import BTC, GBPAUD, STOCK, recorded, url

DETAILS_22 = "/ref/v1/instruments/details/22/FxSpot"
DETAILS_211 = "/ref/v1/instruments/details/211/Stock"


def test_rules_from_the_recorded_details(rsps, client):
    query = {"AccountKey": "acc", "FieldGroups": "OrderSetting,SupportedOrderTypeSettings"}
    rsps.add(
        "GET",
        url(DETAILS_22),
        json=recorded("ref_v1_instruments_details_uic_assettype"),
        match=[matchers.query_param_matcher(query)],
    )
    rules = client.instrument_rules(GBPAUD, "acc")
    assert rules.instrument_id == "FxSpot:22"
    assert rules.minimum_trade_size == Decimal(1000)
    assert rules.lot_size is None  # IncrementSize 5000 is not a lot size
    assert rules.amount_decimals == 0
    assert rules.market_durations == (Duration.DAY,)  # no SupportedOrderTypeSettings; Market is supported
    assert rules.tradable is True  # TradingStatus NotDefined
    assert rules.short_trade_disabled is True
    assert rules.currency == "AUD"


def test_rules_are_cached_per_instrument(rsps, client):
    rsps.add("GET", url(DETAILS_22), json=recorded("ref_v1_instruments_details_uic_assettype"))
    first = client.instrument_rules(GBPAUD, "acc")
    assert client.instrument_rules(GBPAUD, "acc") is first
    assert len(rsps.calls) == 1


def stock_details(**overrides) -> dict:
    details = {
        "Uic": 211,
        "AssetType": "Stock",
        "CurrencyCode": "USD",
        "AmountDecimals": 0,
        "MinimumTradeSize": 1,
        "IsTradable": True,
        "TradingStatus": "Tradable",
        "SupportedOrderTypes": ["Market", "Limit"],
        "SupportedOrderTypeSettings": [
            {"OrderType": "Market", "DurationTypes": ["GoodTillCancel", "DayOrder"]},
            {"OrderType": "Limit", "DurationTypes": ["DayOrder", "GoodTillDate"]},
        ],
    }
    return details | overrides


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, (Duration.DAY, Duration.GOOD_TILL_CANCEL)),
        (
            {
                "SupportedOrderTypeSettings": [
                    {
                        "OrderType": "Market",
                        "DurationTypes": ["FillOrKill", "ImmediateOrCancel", "AtTheClose"],
                    },
                    {"OrderType": "Limit", "DurationTypes": ["DayOrder"]},
                ]
            },
            (Duration.IMMEDIATE_OR_CANCEL, Duration.FILL_OR_KILL),
        ),
        ({"SupportedOrderTypeSettings": [{"OrderType": "Limit", "DurationTypes": ["DayOrder"]}]}, ()),
        ({"SupportedOrderTypeSettings": None, "SupportedOrderTypes": ["Limit"]}, ()),
    ],
    ids=["day-first", "market-without-day", "no-market", "no-settings-no-market"],
)
def test_market_durations(rsps, client, overrides, expected):
    rsps.add("GET", url(DETAILS_211), json=stock_details(**overrides))
    assert client.instrument_rules(STOCK, "acc").market_durations == expected


@pytest.mark.parametrize(
    ("overrides", "lot_size"),
    [
        ({"LotSize": 100, "LotSizeType": "OddLotsNotAllowed"}, Decimal(100)),
        ({"LotSize": 100, "LotSizeType": "NotUsed"}, None),
        ({"IncrementSize": 10}, None),
    ],
)
def test_lot_size_only_when_it_is_used(rsps, client, overrides, lot_size):
    rsps.add("GET", url(DETAILS_211), json=stock_details(**overrides))
    assert client.instrument_rules(STOCK, "acc").lot_size == lot_size


@pytest.mark.parametrize(
    ("overrides", "tradable"),
    [({}, True), ({"TradingStatus": "NonTradable"}, False), ({"IsTradable": False}, False)],
)
def test_tradable(rsps, client, overrides, tradable):
    rsps.add("GET", url(DETAILS_211), json=stock_details(**overrides))
    assert client.instrument_rules(STOCK, "acc").tradable is tradable


def test_fractional_crypto_rules(rsps, client):
    details = {"AssetType": "FxCrypto", "AmountDecimals": 2, "MinimumTradeSize": 0.01, "CurrencyCode": "USD"}
    rsps.add("GET", url("/ref/v1/instruments/details/21700189/FxSpot"), json=details)
    rules = client.instrument_rules(BTC, "acc")
    assert rules.instrument_id == "FxSpot:21700189"  # the requested id, though Saxo says FxCrypto
    assert (rules.amount_decimals, rules.minimum_trade_size) == (2, Decimal("0.01"))


@pytest.mark.parametrize(
    "details",
    [
        [],
        {"AmountDecimals": "two"},
        {"MinimumTradeSize": "a lot"},
        {"IsTradable": "yes"},
        {"SupportedOrderTypeSettings": {"Market": 1}},
    ],
)
def test_details_of_the_wrong_shape_are_a_bad_response(rsps, client, details):
    rsps.add("GET", url(DETAILS_211), json=details)
    with pytest.raises(SaxoBadResponse):
        client.instrument_rules(STOCK, "acc")


def test_wrong_asset_type_is_not_found(rsps, client):
    rsps.add("GET", url(DETAILS_211), status=404, body=b"")
    with pytest.raises(SaxoNotFound):
        client.instrument_rules(STOCK, "acc")


def test_trading_schedule_from_the_recorded_fixture(rsps, client):
    rsps.add(
        "GET",
        url("/ref/v1/instruments/tradingschedule/22/FxSpot"),
        json=recorded("ref_v1_instruments_tradingschedule_uic_assettype"),
    )
    [session] = client.trading_schedule(GBPAUD)
    assert session.start == datetime(2021, 5, 21, tzinfo=UTC)
    assert session.state == "Undefined"


def test_trading_schedule_sessions_are_sorted_utc(rsps, client):
    body = {
        "Sessions": [
            {
                "StartTime": "2026-01-05T14:30:00.000000Z",
                "EndTime": "2026-01-05T21:00:00Z",
                "State": "AutomatedTrading",
            },
            {"StartTime": "2026-01-05T09:00:00+00:00", "EndTime": "2026-01-05T14:30Z", "State": "PreMarket"},
        ]
    }
    rsps.add("GET", url("/ref/v1/instruments/tradingschedule/211/Stock"), json=body)
    sessions = client.trading_schedule(STOCK)
    assert [s.state for s in sessions] == ["PreMarket", "AutomatedTrading"]
    assert sessions[1].automated_trading
    assert all(s.start.tzinfo is not None and s.start.utcoffset().total_seconds() == 0 for s in sessions)


@pytest.mark.parametrize("body", [{}, {"Sessions": [{"StartTime": "x", "EndTime": "y", "State": "Closed"}]}])
def test_a_schedule_of_the_wrong_shape_is_a_bad_response(rsps, client, body):
    rsps.add("GET", url("/ref/v1/instruments/tradingschedule/211/Stock"), json=body)
    with pytest.raises(SaxoBadResponse):
        client.trading_schedule(STOCK)
