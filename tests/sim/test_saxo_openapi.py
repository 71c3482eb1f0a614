"""A third-party Saxo client, saxo_openapi (PyPI `saxo-openapi` 0.6, hootnot), runs unchanged against the simulator.

Each test makes saxo_openapi's own request objects and checks the answer against the shape of the response
saxo_openapi captured from Saxo's SIM and ships in its package (`saxo_openapi/endpoints/*/responses/*.py`,
`SAMPLES` below), or Saxo's published OpenAPI spec (the port and trade service groups' schemas) where the
capture lacks a field group. The client is pointed at the simulator by its "simulation" environment, as the
README shows: URLs become `<api>/sim/openapi/...`, which is the simulator's base.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import saxo_openapi.endpoints.chart as chart
import saxo_openapi.endpoints.portfolio as portfolio
import saxo_openapi.endpoints.referencedata as refdata
import saxo_openapi.endpoints.trading as trading
import saxo_openapi.saxo_openapi as saxo_module
from saxo_openapi import API
from saxo_openapi.contrib.orders import LimitOrder, MarketOrder
from saxo_openapi.endpoints.chart.responses.charts import responses as chart_samples
from saxo_openapi.endpoints.decorators import endpoint
from saxo_openapi.endpoints.portfolio.responses.accounts import responses as account_samples
from saxo_openapi.endpoints.portfolio.responses.balances import responses as balance_samples
from saxo_openapi.endpoints.portfolio.responses.clients import responses as client_samples
from saxo_openapi.endpoints.portfolio.responses.orders import responses as order_list_samples
from saxo_openapi.endpoints.portfolio.responses.positions import responses as position_samples
from saxo_openapi.endpoints.referencedata.responses.instruments import responses as instrument_samples
from saxo_openapi.endpoints.trading.responses.infoprices import responses as price_samples
from saxo_openapi.endpoints.trading.responses.orders import responses as trade_samples
from saxo_openapi.exceptions import OpenAPIError

from bot.sim import SimServer
from bot.sim.auth import pkce_challenge

GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@endpoint("openapi/chart/v3/charts")
class GetChartDataV3(chart.charts.GetChartData):
    """saxo_openapi 0.6 knows only /chart/v1/charts; v3 is the same request on the newer path."""


@pytest.fixture
def client(sim: SimServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[API]:
    """saxo_openapi's API on the simulator: its "simulation" environment with the simulator as gateway."""
    environment = {"api": sim.auth_base_url, "stream": sim.auth_base_url, "prefix": "sim"}
    monkeypatch.setitem(saxo_module.TRADING_ENVIRONMENTS, "simulation", environment)
    api = API(access_token="test-token", environment="simulation")
    yield api
    api.client.close()


def keys(client: API) -> tuple[str, str]:
    """(ClientKey, AccountKey) of the simulated client, read through saxo_openapi."""
    client_key = client.request(portfolio.clients.ClientDetailsMe())["ClientKey"]
    account_key = client.request(portfolio.accounts.AccountsMe())["Data"][0]["AccountKey"]
    return client_key, account_key


def missing(ours: dict[str, Any], captured: dict[str, Any], allowed: tuple[str, ...] = ()) -> set[str]:
    """The captured answer's field names (top level) that ours lacks, less the `allowed` ones."""
    return set(captured) - set(ours) - set(allowed)


def sample_order(account_key: str, **extra: Any) -> dict[str, Any]:
    """saxo_openapi's captured order body (_v3_Order): Amount "10000" as a string, no OrderDuration."""
    return {**trade_samples["_v3_Order"]["body"], "AccountKey": account_key, **extra}


def place(sim: SimServer, client: API, body: dict[str, Any]) -> dict[str, Any]:
    """Place an order through saxo_openapi a second after the last one (Saxo's one order per second per session;
    the simulator's clock is pinned, so it is moved on)."""
    sim.clock.advance(1.0)
    return client.request(trading.orders.Order(data=body))


def test_accounts_by_client_key_and_client_details(client: API) -> None:
    """Source: saxo_openapi portfolio/responses/accounts.py _v3_AccountListByClient (GET /port/v1/accounts
    with ClientKey) and clients.py _v3_ClientDetailsMe; AccountSubType and AllowedNettingProfiles from Saxo's
    spec (AccountResponse, ClientResponse)."""
    client_key, account_key = keys(client)
    listed = client.request(portfolio.accounts.AccountListByClient(params={"ClientKey": client_key}))
    captured = account_samples["_v3_AccountListByClient"]["response"]["Data"][0]
    assert [row["AccountKey"] for row in listed["Data"]] == [account_key]
    assert missing(listed["Data"][0], captured) == set()
    assert listed["Data"][0]["AccountSubType"] == "None"
    details = client.request(portfolio.clients.ClientDetailsMe())
    assert (
        missing(details, client_samples["_v3_ClientDetailsMe"]["response"], ("AccountValueProtectionLimit",)) == set()
    )
    assert set(details["AllowedNettingProfiles"]) <= {"AverageRealTime", "FifoEndOfDay", "FifoRealTime"}
    assert details["PositionNettingProfile"] in details["AllowedNettingProfiles"]
    with pytest.raises(OpenAPIError) as refused:
        client.request(portfolio.accounts.AccountListByClient(params={"ClientKey": "someone-else"}))
    assert refused.value.code == 404


def test_order_placement_with_the_captured_body(sim: SimServer, client: API) -> None:
    """Source: saxo_openapi trading/responses/orders.py _v3_Order: the body it sent to Saxo's SIM (Amount as
    "10000", no OrderDuration) and the answer {"OrderId"}; ExternalReference is echoed (OrderResponse)."""
    _, account_key = keys(client)
    placed = place(sim, client, sample_order(account_key))
    assert set(placed) == set(trade_samples["_v3_Order"]["response"]) == {"OrderId"}
    assert placed["OrderId"].isdigit()
    tagged = place(sim, client, sample_order(account_key, ExternalReference="my-ref-1"))
    assert tagged["ExternalReference"] == "my-ref-1"
    positions = client.request(portfolio.positions.PositionsMe())["Data"]
    assert [p["PositionBase"]["Amount"] for p in positions] == [10000, 10000]
    assert {p["PositionBase"]["Uic"] for p in positions} == {31}
    contrib = MarketOrder(Uic=21, Amount=25000, AssetType="FxSpot").data  # saxo_openapi's own order builder
    assert place(sim, client, {**contrib, "AccountKey": account_key})["OrderId"]


def test_a_malformed_string_amount_is_still_refused(sim: SimServer, client: API) -> None:
    _, account_key = keys(client)
    with pytest.raises(OpenAPIError) as refused:
        place(sim, client, sample_order(account_key, Amount="ten thousand"))
    assert refused.value.code == 400
    assert "Amount" in refused.value.content
    assert client.request(portfolio.positions.PositionsMe())["Data"] == []


def test_precheck_with_the_captured_body(client: API) -> None:
    """Source: saxo_openapi trading/responses/orders.py _v3_PrecheckOrder (body and answer)."""
    _, account_key = keys(client)
    body = {**trade_samples["_v3_PrecheckOrder"]["body"], "AccountKey": account_key}
    checked = client.request(trading.orders.PrecheckOrder(data=body))
    assert missing(checked, trade_samples["_v3_PrecheckOrder"]["response"]) == set()
    assert checked["PreCheckResult"] == "Ok"
    assert checked["EstimatedCashRequired"] > 0
    assert client.request(portfolio.positions.PositionsMe())["Data"] == []  # a precheck places nothing


def test_balances_with_margin_overview(sim: SimServer, client: API) -> None:
    """Source: saxo_openapi portfolio/responses/balances.py _v3_AccountBalancesMe (UnrealizedPositionsValue =
    UnrealizedMarginProfitLoss + CostToClosePositions there: -3533.34 - 37.39 = -3570.73) and _v3_MarginOverview
    (the MarginOverview field group's Groups/Contributors)."""
    client_key, account_key = keys(client)
    place(sim, client, sample_order(account_key))
    params = {"ClientKey": client_key, "AccountKey": account_key, "FieldGroups": "MarginOverview"}
    balance = client.request(portfolio.balances.AccountBalances(params=params))
    captured = balance_samples["_v3_AccountBalancesMe"]["response"]
    assert missing(balance, captured, ("CollateralCreditValue",)) == set()
    assert balance["UnrealizedPositionsValue"] == pytest.approx(
        balance["UnrealizedMarginProfitLoss"] + balance["CostToClosePositions"], abs=0.011
    )
    assert balance["UnrealizedPositionsValue"] < 0  # just bought at the ask: worth less at the bid
    overview_sample = balance_samples["_v3_MarginOverview"]["response"]["Groups"][0]
    (group,) = balance["MarginOverview"]["Groups"]
    assert set(group) == set(overview_sample)
    (contributor,) = group["Contributors"]
    assert set(contributor) == set(overview_sample["Contributors"][0])
    assert (contributor["Uic"], contributor["InstrumentSpecifier"], group["GroupType"]) == (31, "GBPUSD", "FX")
    assert group["TotalMargin"] == pytest.approx(-balance["MarginUsedByCurrentPositions"], abs=0.011)
    assert "MarginOverview" not in client.request(portfolio.balances.AccountBalancesMe())


def test_positions_with_field_groups(sim: SimServer, client: API) -> None:
    """Source: saxo_openapi portfolio/responses/positions.py _v3_PositionsMe (PositionBase/PositionView fields,
    CorrelationKey); DisplayAndFormat, Exchange and Costs per Saxo's spec (PositionResponse,
    InstrumentExchangeDetails, PositionCost/CostData)."""
    _, account_key = keys(client)
    place(sim, client, sample_order(account_key))
    groups = "PositionBase,PositionView,DisplayAndFormat,ExchangeInfo,Costs"
    (row,) = client.request(portfolio.positions.PositionsMe(params={"FieldGroups": groups}))["Data"]
    captured = position_samples["_v3_PositionsMe"]["response"]["Data"][0]
    assert missing(row, captured) == set()
    # RelatedOpenOrders: [] in this capture, absent in Saxo's own positions sample; ours lists it when there are some
    assert missing(row["PositionBase"], captured["PositionBase"], ("RelatedOpenOrders",)) == set()
    assert (
        missing(row["PositionView"], captured["PositionView"], ("ConversionRateCurrent", "ConversionRateOpen")) == set()
    )
    assert GUID.match(row["PositionBase"]["CorrelationKey"])
    assert row["DisplayAndFormat"]["Symbol"] == "GBPUSD"
    assert row["Exchange"] == {"Description": "Inter Bank", "ExchangeId": "SBFX", "IsOpen": True}
    cost_fields = {"AdditionalTransactionCosts", "Commission", "ExchangeFee", "ExternalCharges", "PerformanceFee"}
    assert set(row["Costs"]) == {"CloseCost", "CloseCostInBaseCurrency", "OpenCost", "OpenCostInBaseCurrency"}
    assert set(row["Costs"]["OpenCost"]) == cost_fields | {"StampDuty"}
    plain = client.request(portfolio.positions.PositionsMe())["Data"][0]
    assert not {"Costs", "DisplayAndFormat", "Exchange"} & set(plain)


def test_open_orders_by_client_key_and_account_key(sim: SimServer, client: API) -> None:
    """Source: saxo_openapi portfolio/responses/orders.py _v3_GetAllOpenOrders (GET /port/v1/orders with
    ClientKey; CorrelationKey among its fields); MarketState, DisplayAndFormat and Exchange per Saxo's spec
    (OrderResponse)."""
    client_key, account_key = keys(client)
    limit = LimitOrder(Uic=16, Amount=100000, AssetType="FxSpot", OrderPrice=7.0).data  # EURDKK, as captured
    order_id = place(sim, client, {**limit, "AccountKey": account_key})["OrderId"]
    captured = order_list_samples["_v3_GetAllOpenOrders"]["response"]["Data"][0]
    by_client = client.request(portfolio.orders.GetAllOpenOrders(params={"ClientKey": client_key}))["Data"]
    both = {"ClientKey": client_key, "AccountKey": account_key}
    by_account = client.request(portfolio.orders.GetAllOpenOrders(params=both))["Data"]
    assert [o["OrderId"] for o in by_client] == [o["OrderId"] for o in by_account] == [order_id]
    (row,) = by_client
    assert missing(row, captured, ("RelatedOpenOrders",)) == set()  # Saxo's [] when none; ours leaves it out
    assert GUID.match(row["CorrelationKey"])
    assert row["MarketState"] == "Open"
    assert (row["Uic"], row["Price"], row["Status"]) == (16, 7.0, "Working")
    params = {"FieldGroups": "DisplayAndFormat,ExchangeInfo"}
    (shown,) = client.request(portfolio.orders.GetOpenOrdersMe(params=params))["Data"]
    assert shown["DisplayAndFormat"]["Symbol"] == "EURDKK"
    assert shown["Exchange"]["ExchangeId"] == "SBFX"
    with pytest.raises(OpenAPIError) as refused:
        client.request(portfolio.orders.GetAllOpenOrders(params={"ClientKey": client_key, "AccountKey": "other"}))
    assert refused.value.code == 404


def test_info_prices_for_the_captured_crosses(client: API) -> None:
    """Source: saxo_openapi trading/responses/infoprices.py _v3_InfoPrice and _v3_InfoPrices (Uics 22, 23:
    GBPAUD and GBPCAD); Commissions and MarketDepth per Saxo's spec (InfoPriceResponse and its examples)."""
    _, account_key = keys(client)
    groups = "Quote,DisplayAndFormat,HistoricalChanges,InstrumentPriceDetails,PriceInfo,PriceInfoDetails"
    params = {"Uic": 22, "AccountKey": account_key, "AssetType": "FxSpot", "FieldGroups": groups}
    one = client.request(trading.infoprices.InfoPrice(params=params))
    captured = price_samples["_v3_InfoPrice"]["response"]
    assert missing(one, captured) == set()
    for group in ("DisplayAndFormat", "Quote", "PriceInfo", "PriceInfoDetails", "InstrumentPriceDetails"):
        assert missing(one[group], captured[group]) == set(), group
    assert one["DisplayAndFormat"] == captured["DisplayAndFormat"]  # GBPAUD's display, field for field
    listed = client.request(
        trading.infoprices.InfoPrices(params={"Uics": "22,23", "AccountKey": account_key, "AssetType": "FxSpot"})
    )
    assert [row["Uic"] for row in listed["Data"]] == [22, 23]
    deep = client.request(
        trading.infoprices.InfoPrice(params={**params, "FieldGroups": "Quote,Commissions,MarketDepth"})
    )
    assert set(deep["Commissions"]) == {"CostBuy", "CostIpoCashSubscription", "CostIpoSubscription", "CostSell"}
    depth = deep["MarketDepth"]
    assert depth["Bid"][0] == deep["Quote"]["Bid"] and depth["Ask"][0] == deep["Quote"]["Ask"]
    assert depth["Bid"] == sorted(depth["Bid"], reverse=True) and depth["Ask"] == sorted(depth["Ask"])
    assert depth["NoOfBids"] == len(depth["BidSize"]) == 3


def test_charts_v1_and_v3(client: API) -> None:
    """Source: saxo_openapi chart/responses/charts.py _v3_GetChartData (GET /chart/v1/charts, Uic 23 FxSpot,
    Horizon 60, Count 24: Data rows of Time and Open/High/Low/Close Bid/Ask, and DataVersion)."""
    params = chart_samples["_v3_GetChartData"]["params"]
    captured = chart_samples["_v3_GetChartData"]["response"]
    v1 = client.request(chart.charts.GetChartData(params=dict(params)))
    v3 = client.request(GetChartDataV3(params=dict(params)))
    assert set(v1) == set(captured) == {"Data", "DataVersion"}
    assert len(v1["Data"]) == params["Count"] == 24
    assert set(v1["Data"][0]) == set(captured["Data"][0])
    assert v1["Data"] == v3["Data"]
    with pytest.raises(OpenAPIError) as refused:
        client.request(chart.charts.GetChartData(params={**params, "Horizon": 7}))
    assert refused.value.code == 400


def test_instrument_details_and_trading_schedule(client: API) -> None:
    """Source: saxo_openapi referencedata/responses/instruments.py _v3_InstrumentDetails (23 FxForwards),
    _v3_InstrumentsDetails (Uics=23: every asset type of that Uic) and _v3_TradingSchedule."""
    one = client.request(refdata.instruments.InstrumentDetails(Uic=23, AssetType="FxForwards"))
    captured = instrument_samples["_v3_InstrumentDetails"]["response"]
    assert missing(one, captured) == set()
    assert (one["Symbol"], one["AssetType"], one["CurrencyCode"]) == ("GBPCAD", "FxForwards", "CAD")
    listed = client.request(refdata.instruments.InstrumentsDetails(params={"Uics": "23"}))
    assert {row["AssetType"] for row in listed["Data"]} == {"FxSpot", "FxForwards"}
    schedule = client.request(refdata.instruments.TradingSchedule(Uic=21, AssetType="FxSpot"))
    sample = instrument_samples["_v3_TradingSchedule"]["response"]
    assert set(schedule) == set(sample)
    assert set(schedule["Sessions"][0]) == set(sample["Sessions"][0])


def test_an_unknown_asset_type_is_400_invalid_asset_type(client: API) -> None:
    for request in (
        refdata.instruments.InstrumentDetails(Uic=21, AssetType="NoSuchType"),
        refdata.instruments.TradingSchedule(Uic=21, AssetType="NoSuchType"),
    ):
        with pytest.raises(OpenAPIError) as refused:
            client.request(request)
        assert refused.value.code == 400
        assert '"ErrorCode":"InvalidAssetType"' in refused.value.content
    with pytest.raises(OpenAPIError) as unknown:  # a real asset type without that Uic stays 404
        client.request(refdata.instruments.InstrumentDetails(Uic=999999, AssetType="FxSpot"))
    assert unknown.value.code == 404


def test_token_parameters_in_the_query_string(sim: SimServer, client: API) -> None:
    """Saxo's Python PKCE sample posts the token request's parameters in the query string (issue 14); the
    simulator takes them there as from a form body, and the token works with saxo_openapi."""
    verifier, redirect = secrets.token_urlsafe(48), "http://127.0.0.1:8765/callback"
    authorize = {
        "response_type": "code",
        "client_id": "app-key",
        "redirect_uri": redirect,
        "state": "s1",
        "code_challenge": pkce_challenge(verifier),
        "code_challenge_method": "S256",
    }
    answer = requests.get(sim.auth_base_url + "/authorize", params=authorize, allow_redirects=False, timeout=5)
    code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
    query = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect,
        "client_id": "app-key",
        "code_verifier": verifier,
    }
    token = requests.post(sim.auth_base_url + "/token", params=query, timeout=5)
    assert token.status_code == 201
    own = API(access_token=token.json()["access_token"], environment="simulation")
    assert own.request(portfolio.users.UsersMe())["ClientKey"]
    refreshed = requests.post(
        sim.auth_base_url + "/token",
        params={"grant_type": "refresh_token", "refresh_token": token.json()["refresh_token"]},
        timeout=5,
    )
    assert refreshed.status_code == 201
