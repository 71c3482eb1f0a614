"""Order bodies and steps shared by the working-order tests (all on the shared simulator's pinned clock)."""

from __future__ import annotations

from typing import Any

from bot.sim import SimServer
from tests.sim.conftest import Api

EURUSD = "FxSpot:21"
LOG = "/cs/v1/audit/orderactivities"


def order(
    order_type: str,
    buy_sell: str,
    price: float | None = None,
    uic: int = 21,
    asset_type: str = "FxSpot",
    amount: float = 100000,
    duration: str = "GoodTillCancel",
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "Uic": uic,
        "AssetType": asset_type,
        "BuySell": buy_sell,
        "Amount": amount,
        "OrderType": order_type,
        "OrderDuration": {"DurationType": "DayOrder" if order_type == "Market" else duration},
        "ManualOrder": False,
        **extra,
    }
    if price is not None:
        body["OrderPrice"] = price
    return body


def quote(api: Api, uic: int = 21, asset_type: str = "FxSpot") -> tuple[float, float]:
    got = api.get(f"/trade/v1/infoprices?Uic={uic}&AssetType={asset_type}").json()["Quote"]
    return float(got["Bid"]), float(got["Ask"])


def pips(value: float) -> float:
    """EURUSD prices on its 0.00001 tick."""
    return round(value, 5)


def place(api: Api, sim: SimServer, body: dict[str, Any]) -> dict[str, Any]:
    """Place an order (one second after the last: 1 order per second) and answer its body; it must succeed."""
    sim.clock.advance(1.1)
    answer = api.post("/trade/v2/orders", body)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def protected_buy(api: Api, sim: SimServer, distance: float = 0.005) -> tuple[dict[str, Any], float, float]:
    """A market buy of 100000 EURUSD with a sell stop `distance` below the bid and a sell limit as far above the
    ask: (the answer, the stop price, the limit price)."""
    bid, ask = quote(api)
    stop, limit = pips(bid - distance), pips(ask + distance)
    body = order("Market", "Buy", Orders=[order("StopIfTraded", "Sell", stop), order("Limit", "Sell", limit)])
    return place(api, sim, body), stop, limit


def working(api: Api, status: str = "Working") -> dict[str, dict[str, Any]]:
    """orders/me rows by OrderId."""
    rows = api.get(f"/port/v1/orders/me?Status={status}").json()["Data"]
    return {row["OrderId"]: row for row in rows}


def statuses(sim: SimServer) -> dict[str, str]:
    return {o["OrderId"]: o["Status"] for o in sim.control.state()["orders"]}


def log(api: Api, order_id: str) -> list[dict[str, Any]]:
    return list(api.get(LOG, params={"OrderId": order_id}).json()["Data"])
