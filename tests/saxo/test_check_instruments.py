"""`check` verifies every watchlist instrument: it exists, its details are readable, a Market order may trade it."""

from __future__ import annotations

from bot.commands.check import check_instruments
from bot.domain.models import WatchItem
from tests.saxo.helpers import FX, GBPAUD, STOCK, recorded, url

NOPE = WatchItem("Stock", 99999999, "NOPE")
HALTED = WatchItem("Stock", 261, "MSFT:xnas")
LIMIT_ONLY = WatchItem("Stock", 300, "LMT")


def details(item: WatchItem) -> str:
    return url(f"/ref/v1/instruments/details/{item.uic}/{item.asset_type}")


def test_each_instrument_is_reported_with_what_is_wrong(rsps, client) -> None:
    rsps.add("GET", details(GBPAUD), json=recorded("ref_v1_instruments_details_uic_assettype"))
    rsps.add("GET", details(NOPE), status=404, json={"ErrorCode": "IllegalInstrumentId", "Message": "no such"})
    rsps.add("GET", details(HALTED), json={"IsTradable": False, "TradingStatus": "NonTradable"})
    rsps.add("GET", details(LIMIT_ONLY), json={"SupportedOrderTypes": ["Limit"]})
    rsps.add("GET", details(FX), body="<html>502 Bad Gateway</html>", status=200)
    checks = check_instruments(client, [GBPAUD, NOPE, HALTED, LIMIT_ONLY, FX], "acc")
    by_symbol = {c.item.symbol: c for c in checks}
    assert [c.item.symbol for c in checks] == ["GBPAUD", "NOPE", "MSFT:xnas", "LMT", "EURUSD"]  # watchlist order
    assert by_symbol["GBPAUD"].ok and by_symbol["GBPAUD"].detail == "tradable in AUD, Market DAY, minimum size 1000"
    assert not by_symbol["NOPE"].ok and "not found at Saxo" in by_symbol["NOPE"].detail
    assert not by_symbol["MSFT:xnas"].ok and "not tradable" in by_symbol["MSFT:xnas"].detail
    assert not by_symbol["LMT"].ok and "Market" in by_symbol["LMT"].detail
    assert not by_symbol["EURUSD"].ok and by_symbol["EURUSD"].detail.startswith("details unreadable")
    assert by_symbol["NOPE"].line().startswith("instrument    NOPE (Stock:99999999): FAILED, not found")


def test_a_good_watchlist_passes(rsps, client) -> None:
    rsps.add("GET", details(STOCK), json={"IsTradable": True, "CurrencyCode": "USD", "MinimumTradeSize": 1})
    [only] = check_instruments(client, [STOCK], "acc")
    expected = "instrument    AAPL:xnas (Stock:211): ok, tradable in USD, Market DAY, minimum size 1"
    assert only.ok and only.line() == expected
