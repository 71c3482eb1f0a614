"""Trading schedules (US stocks, FX, crypto; DST) and enforced market hours."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import pairwise

import pytest

from bot.sim import SimServer
from bot.sim.config import parse_iso
from tests.sim.conftest import Api, market_order, set_now


def _utc(*parts: int) -> float:
    return datetime(*parts, tzinfo=UTC).timestamp()


def _current(api: Api, uic: int, asset_type: str) -> tuple[str, dict]:
    body = api.get(f"/ref/v1/instruments/tradingschedule/{uic}/{asset_type}").json()
    now = api.sim.control.now()
    [state] = [s["State"] for s in body["Sessions"] if parse_iso(s["StartTime"]) <= now < parse_iso(s["EndTime"])]
    return state, body


@pytest.mark.parametrize(
    ("moment", "state", "zone"),
    [
        (_utc(2026, 3, 10, 14, 0), "AutomatedTrading", ("EDT", "-04:00:00")),  # 10:00 New York, summer time
        (_utc(2026, 3, 10, 12, 0), "PreMarket", ("EDT", "-04:00:00")),
        (_utc(2026, 3, 10, 21, 0), "PostMarket", ("EDT", "-04:00:00")),
        (_utc(2026, 3, 11, 1, 30), "Closed", ("EDT", "-04:00:00")),
        (_utc(2026, 1, 13, 14, 0), "PreMarket", ("EST", "-05:00:00")),  # 09:00 New York, winter time
        (_utc(2026, 1, 13, 14, 30), "AutomatedTrading", ("EST", "-05:00:00")),
        (_utc(2026, 3, 14, 16, 0), "Closed", ("EDT", "-04:00:00")),  # Saturday
    ],
)
def test_us_stock_sessions(api: Api, sim: SimServer, moment: float, state: str, zone: tuple[str, str]) -> None:
    set_now(sim, moment)
    current, body = _current(api, 211, "Stock")
    assert current == state
    assert (body["TimeZoneAbbreviation"], body["TimeZoneOffset"]) == zone
    sessions = body["Sessions"]
    assert parse_iso(sessions[0]["StartTime"]) <= moment - 86400
    assert parse_iso(sessions[-1]["EndTime"]) >= moment + 7 * 86400
    for before, after in pairwise(sessions):
        assert before["EndTime"] == after["StartTime"] and before["State"] != after["State"]
    assert all(s["StartTime"].endswith("Z") for s in sessions)


@pytest.mark.parametrize(
    ("moment", "fx", "crypto"),
    [
        (_utc(2026, 1, 14, 12, 0), "AutomatedTrading", "AutomatedTrading"),  # Wednesday
        (_utc(2026, 1, 14, 22, 30), "AutomatedTrading", "Break"),  # 17:30 New York
        (_utc(2026, 1, 17, 12, 0), "Closed", "Closed"),  # Saturday
        (_utc(2026, 1, 18, 22, 30), "AutomatedTrading", "Closed"),  # Sunday 17:30 New York: FX open, crypto not yet
        (_utc(2026, 1, 18, 23, 30), "AutomatedTrading", "AutomatedTrading"),
        (_utc(2026, 1, 16, 22, 30), "Closed", "Closed"),  # Friday 17:30 New York
    ],
)
def test_fx_and_crypto_sessions(api: Api, sim: SimServer, moment: float, fx: str, crypto: str) -> None:
    set_now(sim, moment)
    assert _current(api, 21, "FxSpot")[0] == fx
    assert _current(api, 21700189, "FxCrypto")[0] == crypto


def test_tokyo_lunch_break(api: Api, sim: SimServer) -> None:
    set_now(sim, _utc(2026, 1, 14, 3, 0))  # 12:00 Tokyo
    state, body = _current(api, 4940, "Stock")
    assert (state, body["TimeZoneAbbreviation"], body["TimeZoneOffset"]) == ("Break", "JST", "09:00:00")


def test_schedule_of_a_wrong_pair_is_404(api: Api) -> None:
    assert api.get("/ref/v1/instruments/tradingschedule/211/FxSpot").status_code == 404


def test_enforced_hours_close_the_market(make_sim) -> None:
    sim = make_sim(enforce_hours=True)
    api = Api(sim)
    set_now(sim, _utc(2026, 3, 14, 16, 0))  # Saturday
    quote = api.get("/trade/v1/infoprices?Uic=211&AssetType=Stock&FieldGroups=Quote,InstrumentPriceDetails").json()
    assert quote["Quote"]["MarketState"] == "Closed"
    assert quote["InstrumentPriceDetails"]["IsMarketOpen"] is False
    rejected = api.post("/trade/v2/orders", market_order())
    assert rejected.json()["ErrorInfo"]["ErrorCode"] == "MarketClosed"
    checked = api.post("/trade/v2/orders/precheck", market_order(amount=2)).json()
    assert (checked["PreCheckResult"], checked["ErrorInfo"]["ErrorCode"]) == ("Error", "MarketClosed")
    set_now(sim, _utc(2026, 3, 16, 14, 0))  # Monday 10:00 New York
    assert api.post("/trade/v2/orders", market_order()).status_code == 200
    assert api.get("/port/v1/positions/me").json()["Data"][0]["PositionBase"]["IsMarketOpen"] is True
