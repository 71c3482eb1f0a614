"""Quotes (`/trade/v1/infoprices/list`) and bars (`/chart/v3/charts`), wire -> domain."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from responses import matchers

from bot.domain.models import WatchItem
from bot.errors import SaxoBadResponse
from bot.saxo.prices import FIELD_GROUPS
from tests.saxo.helpers import BTC, FX, GBPAUD, STOCK, recorded, url

INFOPRICES = "/trade/v1/infoprices/list"
CHARTS = "/chart/v3/charts"


def price_row(uic: int, asset_type: str, bid: float | None = 1.0, ask: float | None = 1.2, **quote) -> dict:
    return {
        "Uic": uic,
        "AssetType": asset_type,
        "Quote": {"Bid": bid, "Ask": ask, "ErrorCode": "None", "DelayedByMinutes": 0, **quote},
        "InstrumentPriceDetails": {"IsMarketOpen": True},
    }


def test_quotes_from_the_recorded_list(rsps, client):
    rsps.add(
        "GET",
        url(INFOPRICES),
        json=recorded("trade_v1_infoprices_list"),
        match=[
            matchers.query_param_matcher(
                {"AccountKey": "acc", "AssetType": "FxSpot", "Uics": "22,23", "FieldGroups": FIELD_GROUPS}
            )
        ],
    )
    gbpcad = WatchItem("FxSpot", 23, "GBPCAD")
    quotes = client.quotes([GBPAUD, gbpcad], "acc")
    assert set(quotes) == {"FxSpot:22", "FxSpot:23"}
    quote = quotes["FxSpot:22"]
    assert (quote.bid, quote.ask, quote.mid) == (1.74858, 1.74948, 1.74903)
    assert quote.delayed_minutes == 15 and quote.market_open is True
    assert quote.error_code is None and quote.usable


def test_quotes_are_keyed_by_the_requested_id_when_saxo_answers_fxcrypto(rsps, client):
    body = {"Data": [price_row(21, "FxSpot"), price_row(21700189, "FxCrypto", 65000.0, 65010.0)]}
    rsps.add("GET", url(INFOPRICES), json=body)
    quotes = client.quotes([FX, BTC], "acc")
    assert set(quotes) == {"FxSpot:21", "FxSpot:21700189"}
    assert quotes["FxSpot:21700189"].instrument_id == "FxSpot:21700189"
    assert quotes["FxSpot:21700189"].price == pytest.approx(65005.0)
    assert len(rsps.calls) == 1


def test_an_instrument_missing_from_the_answer_is_absent_and_quote_errors_are_kept(rsps, client):
    body = {"Data": [price_row(21, "FxSpot", None, None, ErrorCode="NoValidQuote", MarketState="Closed")]}
    rsps.add("GET", url(INFOPRICES), json=body)
    quotes = client.quotes([FX, GBPAUD], "acc")
    assert list(quotes) == ["FxSpot:21"]
    quote = quotes["FxSpot:21"]
    assert quote.error_code == "NoValidQuote" and quote.market_state == "Closed"
    assert not quote.usable


@pytest.mark.parametrize(
    ("quote_fields", "state"),
    [
        ({"MarketState": "Closed"}, "Closed"),
        ({"PriceTypeBid": "NoMarket", "PriceTypeAsk": "NoMarket"}, "NoMarket"),
        ({"MarketState": "Open", "PriceTypeAsk": "NoMarket", "PriceTypeBid": "Indicative"}, "NoMarket"),
        ({"MarketState": "Closed", "PriceTypeAsk": "NoMarket"}, "Closed"),
    ],
)
def test_a_closed_market_state_or_no_market_price_type_reads_as_market_closed(rsps, client, quote_fields, state):
    rsps.add("GET", url(INFOPRICES), json={"Data": [price_row(21, "FxSpot", **quote_fields)]})
    quote = client.quotes([FX], "acc")["FxSpot:21"]
    assert quote.market_open is False and quote.market_state == state  # IsMarketOpen said true


def test_an_open_market_state_and_tradable_prices_stay_open(rsps, client):
    fields = {"MarketState": "Open", "PriceTypeBid": "Tradable", "PriceTypeAsk": "Indicative"}
    rsps.add("GET", url(INFOPRICES), json={"Data": [price_row(21, "FxSpot", **fields)]})
    quote = client.quotes([FX], "acc")["FxSpot:21"]
    assert quote.market_open is True and quote.market_state == "Open"


def test_one_call_per_asset_type_and_at_most_100_uics_per_call(rsps, client):
    items = [WatchItem("Stock", 1000 + n, f"S{n}") for n in range(250)] + [FX, FX, BTC]
    asked: list[tuple[str, list[str]]] = []

    def answer(request):
        uics = request.params["Uics"].split(",")
        asked.append((request.params["AssetType"], uics))
        rows = [price_row(int(u), request.params["AssetType"]) for u in uics]
        return 200, {}, json.dumps({"Data": rows})

    rsps.add_callback("GET", url(INFOPRICES), callback=answer)
    quotes = client.quotes(items, "acc")
    assert [(t, len(u)) for t, u in asked] == [("Stock", 100), ("Stock", 100), ("Stock", 50), ("FxSpot", 2)]
    assert asked[-1][1] == ["21", "21700189"]  # duplicates are an error at Saxo: sent once
    assert len(quotes) == 252


def test_a_quote_row_of_the_wrong_shape_is_a_bad_response(rsps, client):
    rsps.add("GET", url(INFOPRICES), json={"Data": [{"Uic": "twenty-one", "Quote": {}}]})
    with pytest.raises(SaxoBadResponse, match="Uic"):
        client.quotes([FX], "acc")


def test_bars_from_the_recorded_chart_use_close_when_present(rsps, client):
    rsps.add("GET", url(CHARTS), json=recorded("chart_v3_charts"))
    [bar] = client.bars(STOCK, 1)
    assert bar.close == 10 and bar.volume == 10
    assert bar.time == datetime(2027, 4, 11, 10, 18, 47, 692065, tzinfo=UTC)


FX_QUERY = {"AssetType": "FxSpot", "Uic": "21", "Horizon": "5", "Count": "1200"}


def test_fx_bars_are_the_mean_of_bid_and_ask_oldest_first(rsps, client):
    samples = [
        {
            "Time": "2026-01-05T10:01:00Z",
            "OpenBid": 1.0,
            "OpenAsk": 1.2,
            "HighBid": 1.4,
            "HighAsk": 1.6,
            "LowBid": 0.8,
            "LowAsk": 1.0,
            "CloseBid": 1.1,
            "CloseAsk": 1.3,
        },
        {"Time": "2026-01-05T10:00:00Z", "CloseBid": 2.0, "CloseAsk": 2.2},
        {"Time": "2026-01-05T10:02:00Z", "CloseBid": 2.0},  # no usable close: skipped
        {"Time": "2026-01-05T10:03:00Z", "CloseBid": None, "CloseAsk": None},
    ]
    rsps.add(
        "GET",
        url(CHARTS),
        json={"Data": samples},
        match=[matchers.query_param_matcher(FX_QUERY)],
    )
    bars = client.bars(FX, 5)
    assert [b.time.minute for b in bars] == [0, 1]
    first, second = bars
    assert first.close == pytest.approx(2.1) and first.open is None
    assert (second.open, second.high, second.low, second.close) == pytest.approx((1.1, 1.5, 0.9, 1.2))
    assert second.volume is None


def test_stock_bars_read_open_high_low_close_volume(rsps, client):
    sample = {"Time": "2026-01-05T15:00:00Z", "Open": 10, "High": 12, "Low": 9, "Close": 11, "Volume": 5000}
    rsps.add("GET", url(CHARTS), json={"Data": [sample], "DataVersion": 1})
    [bar] = client.bars(STOCK, 60, count=5000)
    assert (bar.open, bar.high, bar.low, bar.close, bar.volume) == (10, 12, 9, 11, 5000)
    assert rsps.calls[0].request.params["Count"] == "1200"  # Saxo's maximum


def test_bars_since_ask_only_for_newer_bars(rsps, client):
    since = datetime(2026, 1, 5, 12, 30, tzinfo=timezone(timedelta(hours=2)))
    query = {"AssetType": "Stock", "Uic": "211", "Horizon": "1", "Count": "10"}
    query |= {"Mode": "From", "Time": "2026-01-05T10:30:00.000Z"}
    rsps.add("GET", url(CHARTS), json={"Data": []}, match=[matchers.query_param_matcher(query)])
    assert client.bars(STOCK, 1, count=10, since=since) == []


@pytest.mark.parametrize(
    "body",
    [
        {"ChartInfo": {}},
        {"Data": None},
        {"Data": [{"Close": 1.0}]},
        {"Data": [{"Time": "yesterday", "Close": 1}]},
    ],
    ids=["no-data", "null-data", "no-time", "bad-time"],
)
def test_bars_of_the_wrong_shape_are_a_bad_response(rsps, client, body):
    rsps.add("GET", url(CHARTS), json=body)
    with pytest.raises(SaxoBadResponse):
        client.bars(FX, 1)
