"""Charts, quotes, the scripted moving-average cross and large synthetic watchlists."""

from __future__ import annotations

import math
from datetime import datetime
from itertools import pairwise

import pytest

from bot.sim import SimServer
from bot.sim.config import parse_iso
from tests.sim.conftest import Api, set_now

FX_FIELDS = {"Time", "OpenBid", "OpenAsk", "HighBid", "HighAsk", "LowBid", "LowAsk", "CloseBid", "CloseAsk"}
STOCK_FIELDS = {"Time", "Open", "High", "Low", "Close", "Volume", "Interest"}


def _chart(api: Api, key: str, horizon: int = 1, **params: object) -> list[dict]:
    asset_type, uic = key.split(":")
    query = "&".join(f"{k}={v}" for k, v in params.items())
    answer = api.get(f"/chart/v3/charts?AssetType={asset_type}&Uic={uic}&Horizon={horizon}&{query}")
    assert answer.status_code == 200, answer.text
    return answer.json()["Data"]


def _close(sample: dict) -> float:
    return sample["Close"] if "Close" in sample else (sample["CloseBid"] + sample["CloseAsk"]) / 2


def _sma_cross(closes: list[float]) -> str:
    def gap(values: list[float]) -> float:
        return sum(values[-5:]) / 5 - sum(values[-20:]) / 20

    before, after = gap(closes[:-1]), gap(closes)
    return "up" if before <= 0 < after else "down" if before >= 0 > after else "none"


def _early_in_bar(sim: SimServer, horizon: int) -> None:
    """Put the clock 30 s into a bar, so no bar completes during the test and the last close is recent."""
    span = horizon * 60
    set_now(sim, math.floor(sim.control.now() / span) * span + 30)


def test_fx_samples_are_bid_ask_only_and_stock_samples_have_close_and_volume(api: Api) -> None:
    for key in ("FxSpot:21", "FxCrypto:21700189", "CfdOnIndex:4913"):
        assert {frozenset(s) for s in _chart(api, key, Count=10)} == {frozenset(FX_FIELDS)}
    for key in ("Stock:211", "Etf:36590"):
        samples = _chart(api, key, Count=10)
        assert {frozenset(s) for s in samples} == {frozenset(STOCK_FIELDS)}
        assert all(s["Volume"] > 0 and s["Interest"] == 0 for s in samples[:-1])


@pytest.mark.parametrize("horizon", [1, 5, 60, 1440])
def test_chart_is_oldest_first_and_the_last_bar_is_forming(api: Api, sim: SimServer, horizon: int) -> None:
    samples = _chart(api, "FxSpot:21", horizon)
    assert len(samples) == 1200
    times = [parse_iso(s["Time"]) for s in samples]
    assert all(b - a == horizon * 60 for a, b in pairwise(times))
    assert all(s["Time"].endswith("Z") for s in samples)
    now = sim.control.now()
    assert times[-1] + horizon * 60 > now >= times[-1]
    assert times[-2] + horizon * 60 <= now
    for s in samples:
        assert s["HighBid"] >= max(s["OpenBid"], s["CloseBid"]) and s["LowBid"] <= min(s["OpenBid"], s["CloseBid"])
        assert s["CloseAsk"] > s["CloseBid"]


def test_quote_sits_at_the_forming_bar(api: Api) -> None:
    for key, asset_type, uic in (("FxSpot:21", "FxSpot", 21), ("Stock:211", "Stock", 211)):
        last = _chart(api, key, Count=2)[-1]
        quote = api.get(f"/trade/v1/infoprices?Uic={uic}&AssetType={asset_type}").json()["Quote"]
        assert quote["Mid"] == pytest.approx(_close(last), rel=5e-4)
        assert quote["Bid"] < quote["Ask"]


def test_spreads_are_realistic(api: Api) -> None:
    rows = api.get("/trade/v1/infoprices/list?Uics=21,42&AssetType=FxSpot").json()["Data"]
    eurusd, usdjpy = (row["Quote"] for row in rows)
    assert eurusd["Ask"] - eurusd["Bid"] == pytest.approx(0.0001, abs=2e-5)
    assert usdjpy["Ask"] - usdjpy["Bid"] == pytest.approx(0.012, abs=2e-3)
    btc = api.get("/trade/v1/infoprices?Uic=21700189&AssetType=FxCrypto").json()["Quote"]
    assert 1 <= btc["Ask"] - btc["Bid"] <= 10
    aapl = api.get("/trade/v1/infoprices?Uic=211&AssetType=Stock").json()["Quote"]
    assert aapl["Ask"] - aapl["Bid"] == pytest.approx(0.01, abs=0.006)


def test_count_mode_and_time(api: Api) -> None:
    latest = _chart(api, "Stock:211", 5)
    pivot = latest[600]["Time"]
    upto = _chart(api, "Stock:211", 5, Count=10, Mode="UpTo", Time=pivot)
    assert [s["Time"] for s in upto] == [s["Time"] for s in latest[591:601]]
    assert upto == latest[591:601]
    since = _chart(api, "Stock:211", 5, Count=3, Mode="From", Time=pivot)
    assert since == latest[600:603]
    tail = _chart(api, "Stock:211", 5, Count=5, Mode="From", Time=latest[-2]["Time"])
    assert [s["Time"] for s in tail] == [s["Time"] for s in latest[-2:]]  # never past the forming bar


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("AssetType=FxSpot&Uic=21&Horizon=7", 400),
        ("AssetType=FxSpot&Uic=21&Horizon=1&Count=1201", 400),
        ("AssetType=FxSpot&Uic=21&Horizon=1&Mode=From", 400),
        ("AssetType=FxSpot&Uic=21&Horizon=1&Time=yesterday", 400),
        ("Uic=21&Horizon=1", 400),
        ("AssetType=FxSpot&Uic=211&Horizon=1", 404),
        ("AssetType=Stock&Uic=21&Horizon=1", 404),
    ],
)
def test_chart_errors(api: Api, query: str, status: int) -> None:
    answer = api.get("/chart/v3/charts?" + query)
    assert answer.status_code == status
    assert answer.json()["ErrorCode"] in ("InvalidModelState", "NotFound")


def test_prices_are_deterministic_per_seed_and_bars_extend_with_time(make_sim) -> None:
    one, two, other = make_sim(seed=11), make_sim(seed=11), make_sim(seed=12)
    for sim in (one, two, other):
        set_now(sim, datetime(2026, 3, 10, 15, 0, 30).timestamp())
    a, b, c = (_chart(Api(s), "FxSpot:21", Count=50)[:-1] for s in (one, two, other))
    assert a == b
    assert a != c
    one.control.set_clock_offset(one.core.clock.offset + 180)
    later = _chart(Api(one), "FxSpot:21", Count=50)
    assert parse_iso(later[-1]["Time"]) - parse_iso(a[-1]["Time"]) == 240
    assert later[:-4] == a[3:]  # completed bars never change


def test_moving_averages_cross_regularly(api: Api) -> None:
    closes = [_close(s) for s in _chart(api, "Stock:211")[:-1]]
    crosses = sum(_sma_cross(closes[: i + 1]) != "none" for i in range(20, len(closes)))
    assert crosses >= 20


@pytest.mark.parametrize(
    ("key", "horizon"), [("FxSpot:21", 1), ("Stock:211", 1), ("FxCrypto:21700189", 60), ("FxSpot:42", 1440)]
)
@pytest.mark.parametrize("direction", ["up", "down"])
def test_script_cross(api: Api, sim: SimServer, key: str, horizon: int, direction: str) -> None:
    _early_in_bar(sim, horizon)
    sim.control.script_cross(key, direction, horizon=horizon)
    samples = _chart(api, key, horizon, Count=60)
    completed = [_close(s) for s in samples[:-1]]
    assert _sma_cross(completed) == direction
    asset_type, uic = key.split(":")
    quote = api.get(f"/trade/v1/infoprices?Uic={uic}&AssetType={asset_type}").json()["Quote"]
    assert quote["Mid"] == pytest.approx(completed[-1], rel=0.003)


def test_script_cross_over_http_and_bad_input(api: Api, sim: SimServer) -> None:
    _early_in_bar(sim, 1)
    control = api.session.post(
        sim.auth_base_url + "/__sim/script",
        timeout=5,
        json={"instrument_key": "FxSpot:31", "direction": "down", "horizon": 1},
    )
    assert control.status_code == 200
    assert _sma_cross([_close(s) for s in _chart(api, "FxSpot:31", Count=40)[:-1]]) == "down"
    bad = api.session.post(
        sim.auth_base_url + "/__sim/script", json={"instrument_key": "Nope:1", "direction": "up"}, timeout=5
    )
    assert bad.status_code == 400 and "unknown instrument" in bad.json()["error"]
    with pytest.raises(ValueError):
        sim.control.script_cross("FxSpot:21", "sideways")


def test_info_prices_list_rules(api: Api) -> None:
    rows = api.get("/trade/v1/infoprices/list?Uics=21,999999,31&AssetType=FxSpot").json()["Data"]
    assert [r["Uic"] for r in rows] == [21, 31]
    assert set(rows[0]) == {"AssetType", "LastUpdated", "Quote", "Uic"}
    assert rows[0]["Quote"]["ErrorCode"] == "None" and rows[0]["Quote"]["MarketState"] == "Open"
    duplicate = api.get("/trade/v1/infoprices/list?Uics=21,21&AssetType=FxSpot")
    assert (duplicate.status_code, duplicate.json()["ErrorCode"]) == (400, "UicsInListNotUnique")
    missing = api.get("/trade/v1/infoprices/list?Uics=21")
    assert missing.status_code == 400 and "AssetType" in missing.json()["ModelState"]
    assert "Uics" in api.get("/trade/v1/infoprices/list?AssetType=FxSpot").json()["ModelState"]


def test_a_500_instrument_synthetic_watchlist(api: Api, sim: SimServer) -> None:
    sim.control.set_rate_limits(session_limit_per_minute=10_000)
    stocks, fx = list(range(100000, 100250)), list(range(200000, 200250))
    for asset_type, uics in (("Stock", stocks), ("FxSpot", fx)):
        rows = api.get(
            f"/trade/v1/infoprices/list?AssetType={asset_type}&Uics={','.join(map(str, uics))}"
            "&FieldGroups=Quote,DisplayAndFormat"
        ).json()["Data"]
        assert [r["Uic"] for r in rows] == uics
        assert all(r["Quote"]["Bid"] < r["Quote"]["Ask"] for r in rows)
    assert rows[0]["DisplayAndFormat"]["Symbol"] == "SYN000USD"
    for uic in stocks:
        assert len(_chart(api, f"Stock:{uic}", Count=25)) == 25
    for uic in fx:
        assert len(_chart(api, f"FxSpot:{uic}", Count=25)) == 25
    details = api.get("/ref/v1/instruments/details/100042/Stock").json()
    assert (details["Symbol"], details["AssetType"]) == ("SYNTH100042:xnas", "Stock")


@pytest.mark.parametrize("horizon", [10080, 43200, 129600, 518400])
def test_long_horizons_reach_back_with_valid_times(api: Api, horizon: int) -> None:
    samples = _chart(api, "Stock:211", horizon)
    assert len(samples) == 1200
    first = parse_iso(samples[0]["Time"])
    assert parse_iso(samples[1]["Time"]) - first == horizon * 60
    assert all(s["Close"] > 0 for s in samples)
