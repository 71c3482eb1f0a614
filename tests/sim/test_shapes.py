"""Every endpoint's answer has the recorded sample's field names and nesting (tests/fixtures/saxo/*.json).

Each comparison lists, by dotted path, the fields the simulator adds and the sample fields it leaves out,
so any drift from Saxo's shape shows up here.
"""

from __future__ import annotations

from typing import Any

from tests.sim.conftest import Api, fixture_sample, market_order


def _diff(ours: Any, theirs: Any, prefix: str = "") -> tuple[set[str], set[str]]:
    extra: set[str] = set()
    missing: set[str] = set()
    if isinstance(ours, dict) and isinstance(theirs, dict):
        extra |= {prefix + k for k in ours.keys() - theirs.keys()}
        missing |= {prefix + k for k in theirs.keys() - ours.keys()}
        for key in ours.keys() & theirs.keys():
            e, m = _diff(ours[key], theirs[key], f"{prefix}{key}.")
            extra, missing = extra | e, missing | m
    elif isinstance(ours, list) and isinstance(theirs, list) and ours and theirs:
        return _diff(ours[0], theirs[0], prefix[:-1] + "[].")
    return extra, missing


def assert_shape(ours: Any, sample: str, extra: tuple[str, ...] = (), missing: tuple[str, ...] = ()) -> None:
    got_extra, got_missing = _diff(ours, fixture_sample(sample))
    assert got_extra == set(extra), f"unexpected extra fields {sorted(got_extra - set(extra))}"
    assert got_missing == set(missing), f"unexpected missing fields {sorted(got_missing - set(missing))}"


def test_user_client_account_balance_shapes(api: Api) -> None:
    assert_shape(api.get("/port/v1/users/me").json(), "port_v1_users_me")
    # fields real answers carry beyond these samples: Saxo's spec (ClientResponse.AllowedNettingProfiles,
    # AccountResponse.AccountSubType) and saxo_openapi's captured balance (UnrealizedPositionsValue)
    assert_shape(api.get("/port/v1/clients/me").json(), "port_v1_clients_me", ("AllowedNettingProfiles",))
    accounts = api.get("/port/v1/accounts/me").json()
    assert_shape(accounts, "port_v1_accounts_me", ("Data[].AccountSubType",), ("__next",))
    assert_shape(api.get("/port/v1/balances/me").json(), "port_v1_balances_me", ("UnrealizedPositionsValue",))
    client = api.get("/port/v1/clients/me").json()
    assert client["PositionNettingMode"] == "EndOfDay"
    assert client["DefaultCurrency"] == "USD"
    assert client["DefaultAccountKey"] == api.account_key()


def test_position_shapes(api: Api) -> None:
    assert api.post("/trade/v2/orders", market_order(21, "FxSpot", amount=100000, ExternalReference="r1")).ok
    position_extra = (
        "Data[].PositionBase.AccountKey",
        "Data[].PositionBase.SourceOrderId",
        "Data[].PositionBase.ExternalReference",
        "Data[].PositionBase.CorrelationKey",  # in saxo_openapi's captured positions/me
        "Data[].PositionView.MarketValue",
    )
    position_missing = ("__next", "Data[].PositionView.SettlementInstruction")
    for path in ("/port/v1/positions/me", "/port/v1/positions?ClientKey=" + _client_key(api)):
        assert_shape(api.get(path).json(), "port_v1_positions_me", position_extra, position_missing)
    net_extra = (
        "Data[].NetPositionBase.AmountLong",
        "Data[].NetPositionBase.AmountShort",
        "Data[].NetPositionBase.SinglePositionId",
        "Data[].NetPositionView.ProfitLossOnTradeInBaseCurrency",
    )
    assert_shape(api.get("/port/v1/netpositions/me").json(), "port_v1_netpositions_me", net_extra, ("__next",))


def _client_key(api: Api) -> str:
    return api.get("/port/v1/clients/me").json()["ClientKey"]


def test_working_order_shape(api: Api) -> None:
    limit = {
        **market_order(21, "FxSpot", amount=250000, ExternalReference="lim-1"),
        "OrderType": "Limit",
        "OrderPrice": 0.5,
        "OrderDuration": {"DurationType": "GoodTillCancel"},
    }
    assert api.post("/trade/v2/orders", limit).status_code == 200
    extra = ("Data[].ExternalReference", "Data[].CorrelationKey", "Data[].MarketState")  # OrderResponse in Saxo's spec
    assert_shape(api.get("/port/v1/orders/me").json(), "port_v1_orders_me", extra, ("__next",))


def test_info_price_shapes(api: Api) -> None:
    groups = "Quote,DisplayAndFormat,InstrumentPriceDetails,PriceInfo,PriceInfoDetails,HistoricalChanges"
    listed = api.get(f"/trade/v1/infoprices/list?Uics=21,31&AssetType=FxSpot&FieldGroups={groups}").json()
    extra = ("Data[].Quote.MarketState", "Data[].Quote.PriceSource")
    assert_shape(listed, "trade_v1_infoprices_list", extra)
    single = api.get(f"/trade/v1/infoprices?Uic=21&AssetType=FxSpot&FieldGroups={groups}").json()
    assert_shape(single, "trade_v1_infoprices", ("Quote.MarketState", "Quote.PriceSource"))


def test_chart_shapes(api: Api) -> None:
    fx = api.get(
        "/chart/v3/charts?AssetType=FxSpot&Uic=21&Horizon=1&Count=5&FieldGroups=ChartInfo,Data,DisplayAndFormat"
    ).json()
    sample_only = ("Close", "Growth", "High", "Interest", "Low", "MarketTradingState", "Open", "Volume")
    assert_shape(
        fx, "chart_v3_charts", missing=(*(f"Data[].{k}" for k in sample_only), "DisplayAndFormat.NumeratorDecimals")
    )
    stock = api.get("/chart/v3/charts?AssetType=Stock&Uic=211&Horizon=1&Count=5").json()
    bid_ask = ("OpenBid", "OpenAsk", "HighBid", "HighAsk", "LowBid", "LowAsk", "CloseBid", "CloseAsk")
    assert_shape(
        stock,
        "chart_v3_charts",
        missing=(
            "ChartInfo",
            "DisplayAndFormat",
            "Data[].Growth",
            "Data[].MarketTradingState",
            *(f"Data[].{k}" for k in bid_ask),
        ),
    )


def test_reference_data_shapes(api: Api) -> None:
    found = api.get("/ref/v1/instruments?Keywords=usd&AssetTypes=FxSpot&$top=2").json()
    assert_shape(found, "ref_v1_instruments", ("Data[].CurrencyCode",))
    omitted = ("ExerciseCutOffTime", "IpoDetails", "SettlementStyle")
    fx_extra = ("FxSpotDate", "TickSizeLimitOrder", "TickSizeStopOrder", "TradingSignals")  # saxo_openapi's FX capture
    one = api.get("/ref/v1/instruments/details/21/FxSpot?FieldGroups=SupportedOrderTypeSettings").json()
    assert_shape(
        one,
        "ref_v1_instruments_details_uic_assettype",
        ("LotSizeType", "SupportedOrderTypeSettings", *fx_extra),
        omitted,
    )
    listed = api.get("/ref/v1/instruments/details?Uics=21,31,42&AssetTypes=FxSpot&$top=2").json()
    assert_shape(
        listed,
        "ref_v1_instruments_details",
        (
            "Data[].LotSizeType",
            "Data[].MinimumTradeSize",
            "Data[].ShortTradeDisabled",
            *(f"Data[].{k}" for k in fx_extra),
        ),
    )
    schedule = api.get("/ref/v1/instruments/tradingschedule/211/Stock").json()
    assert_shape(schedule, "ref_v1_instruments_tradingschedule_uic_assettype")


def test_order_shapes(api: Api) -> None:
    body = {**market_order(), "AccountKey": api.account_key(), "FieldGroups": ["Costs", "MarginImpactBuySell"]}
    checked = api.post("/trade/v2/orders/precheck", body).json()
    extra = (
        "MarginImpactBuySell.InitialMarginAvailableSell",
        "MarginImpactBuySell.InitialMarginSell",
        "MarginImpactBuySell.MaintenanceMarginSell",
    )
    assert_shape(checked, "post_trade_v2_orders_precheck", extra)
    placed = api.post("/trade/v2/orders", market_order(), headers={"X-Request-ID": "shape-1"}).json()
    assert_shape(placed, "post_trade_v2_orders", missing=("Orders",))
    assert placed["OrderId"].isdigit()


def test_root_services(api: Api) -> None:
    assert api.get("/root/v1/sessions/capabilities").json() == {"DataLevel": "Standard", "TradeLevel": "OrdersOnly"}
    diag = api.get("/root/v1/diagnostics/get")
    assert diag.status_code == 200 and diag.content == b""
    assert (
        api.session.put(
            api.sim.base_url + "/root/v1/sessions/capabilities", json={"TradeLevel": "FullTradingAndChat"}
        ).status_code
        == 202
    )
    assert api.get("/root/v1/sessions/capabilities").json()["TradeLevel"] == "FullTradingAndChat"


def test_unknown_path_and_correlation(api: Api) -> None:
    answer = api.get("/port/v9/nothing")
    assert answer.status_code == 404
    assert answer.json()["ErrorCode"] == "NotFound"
    ids = {api.get("/port/v1/users/me").headers["X-Correlation"] for _ in range(3)}
    assert len(ids) == 3 and answer.headers["X-Correlation"] not in ids
