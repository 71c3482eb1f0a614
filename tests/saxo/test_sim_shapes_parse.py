"""What Saxo's SIM really sends must parse: fields the bot does not use are never required (issue 10 item 8),
and every position that still carries exposure counts, whatever its PositionStatus (item 7)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from responses import matchers

from bot.domain.models import WatchItem
from bot.risk import net_amount
from tests.saxo.helpers import FX, STOCK, recorded, url

POSITIONS = "/port/v1/positions/me"


def position(uic: int, amount: float, status: str | None, asset_type: str = "FxSpot") -> dict:
    base = {"AssetType": asset_type, "Uic": uic, "Amount": amount}
    if status is not None:
        base["Status"] = status
    return {"PositionId": f"p-{uic}-{status}", "PositionBase": base, "PositionView": {"Exposure": amount}}


# -- positions as Saxo counts them -------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["Open", "PartiallyClosed", "Locked", "Closing", "RelatedClose", None])
def test_a_position_with_exposure_counts_whatever_its_status(rsps, client, status) -> None:
    rsps.add("GET", url(POSITIONS), json={"Data": [position(21, 100000, status)]})
    positions = client.positions()
    assert net_amount(positions, "FxSpot:21") == Decimal(100000)  # a Locked long is long: not bought again


def test_closed_and_square_positions_carry_no_exposure_and_do_not_count(rsps, client) -> None:
    rows = [
        position(21, 100000, "Locked"),
        position(21, 50000, "Closed"),  # end-of-day netting leftover: counting it would double a close
        position(31, -20000, "Square"),
        position(211, 5, "PartiallyClosed", "Stock"),
    ]
    rsps.add("GET", url(POSITIONS), json={"Data": rows})
    positions = client.positions()
    assert net_amount(positions, "FxSpot:21") == Decimal(100000)
    assert net_amount(positions, "FxSpot:31") == 0
    assert net_amount(positions, "Stock:211") == Decimal(5)


NET_POSITIONS = "/port/v1/netpositions/me"


def net_position(uic: int, amount: float, status: str, asset_type: str = "FxSpot", **view: float) -> dict:
    return {
        "NetPositionId": f"{uic}__{asset_type}",
        "NetPositionBase": {"AssetType": asset_type, "Uic": uic, "Amount": amount},
        "NetPositionView": {"Status": status, **view},
    }


def test_net_positions_from_the_recorded_fixture(rsps, client) -> None:
    rsps.add(
        "GET",
        url(NET_POSITIONS),
        json=recorded("port_v1_netpositions_me"),
        match=[matchers.query_param_matcher({"FieldGroups": "NetPositionBase,NetPositionView"})],
    )
    positions = client.net_positions()
    assert list(positions) == ["FxSpot:31"]
    assert positions["FxSpot:31"].amount == Decimal(100000)
    assert positions["FxSpot:31"].exposure == Decimal(129205)  # ExposureInBaseCurrency


def test_net_positions_are_saxos_amounts_whatever_the_status(rsps, client) -> None:
    rows = [
        net_position(21, 100000, "Locked", ExposureInBaseCurrency=110000),
        net_position(31, 0, "Square", Exposure=0),  # an end-of-day pair, netted by Saxo
        net_position(211, -5, "PartiallyClosed", "Stock", Exposure=-750),
        net_position(211, 2, "Open", "Stock", Exposure=300),  # the same instrument on another account
    ]
    rsps.add("GET", url(NET_POSITIONS), json={"__next": "/openapi/port/v1/netpositions/me?$skip=2", "Data": rows[:2]})
    rsps.add(
        "GET",
        url(NET_POSITIONS),
        json={"Data": rows[2:]},
        match=[matchers.query_param_matcher({"$skip": "2"}, strict_match=False)],
    )
    positions = client.net_positions()
    assert net_amount(positions, "FxSpot:21") == Decimal(100000)  # a Locked long is long: not bought again
    assert (positions["FxSpot:21"].exposure, positions["FxSpot:31"].amount) == (Decimal(110000), 0)
    assert net_amount(positions, "Stock:211") == Decimal(-3)
    assert positions["Stock:211"].exposure == Decimal(1050)


# -- fields the bot does not use are not required ----------------------------------------------------------


def test_a_real_sim_balance_without_cash_available_for_trading_parses(rsps, client) -> None:
    body = recorded("port_v1_balances_me")
    del body["CashAvailableForTrading"]
    rsps.add("GET", url("/port/v1/balances"), json=body)
    balance = client.balance("acc", "cli")
    assert balance.total_value == Decimal("100634324.36") and balance.cash_available is None
    assert balance.currency == "EUR"


def test_a_balance_with_only_total_value_parses(rsps, client) -> None:
    rsps.add("GET", url("/port/v1/balances"), json={"TotalValue": 1000})
    balance = client.balance("acc", "cli")
    assert (balance.total_value, balance.cash_available, balance.currency) == (Decimal(1000), None, "")


def test_positions_need_no_position_view_nor_position_id(rsps, client) -> None:
    rows = [{"PositionBase": {"AssetType": "Stock", "Uic": 211, "Amount": 5}}]
    rsps.add("GET", url(POSITIONS), json={"Data": rows})
    assert client.positions()["Stock:211"].amount == Decimal(5)


def test_a_quote_needs_only_its_uic_and_prices(rsps, client) -> None:
    body = {"Data": [{"Uic": 21, "Quote": {"Bid": 1.1, "Ask": 1.2}}]}  # no AssetType, ErrorCode, details...
    rsps.add("GET", url("/trade/v1/infoprices/list"), json=body)
    quote = client.quotes([FX], "acc")["FxSpot:21"]
    assert quote.price == pytest.approx(1.15) and quote.usable and quote.market_open is None


@pytest.mark.parametrize("delay", [-1, "soon", 1.5])
def test_an_odd_delayed_by_minutes_does_not_fail_the_quotes(rsps, client, delay) -> None:
    body = {"Data": [{"Uic": 21, "Quote": {"Bid": 1.1, "Ask": 1.2, "DelayedByMinutes": delay}}]}
    rsps.add("GET", url("/trade/v1/infoprices/list"), json=body)
    quote = client.quotes([FX], "acc")["FxSpot:21"]
    assert quote.usable and quote.delayed_minutes == 0


def test_fx_bars_need_only_time_and_close_bid_ask(rsps, client) -> None:
    body = {"Data": [{"Time": "2026-11-24T15:00:00Z", "CloseBid": 1.1, "CloseAsk": 1.2}]}  # no ChartInfo, no OHL
    rsps.add("GET", url("/chart/v3/charts"), json=body)
    [bar] = client.bars(FX, 1)
    assert bar.close == pytest.approx(1.15) and bar.open is None and bar.volume is None


def test_instrument_details_without_any_optional_field_parse(rsps, client) -> None:
    rsps.add("GET", url(f"/ref/v1/instruments/details/{STOCK.uic}/{STOCK.asset_type}"), json={})
    rules = client.instrument_rules(STOCK, "acc")
    assert rules.tradable and rules.amount_decimals == 0 and rules.currency == ""


def test_a_trading_schedule_needs_only_sessions(rsps, client) -> None:
    item = WatchItem("Stock", 211, "AAPL:xnas")
    session = {"StartTime": "2026-11-24T14:30:00Z", "EndTime": "2026-11-24T21:00:00Z", "State": "AutomatedTrading"}
    rsps.add("GET", url("/ref/v1/instruments/tradingschedule/211/Stock"), json={"Sessions": [session]})
    [only] = client.trading_schedule(item)
    assert only.automated_trading
