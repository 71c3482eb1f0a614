"""Trade service group, prices part: /trade/v1/infoprices and /trade/v1/infoprices/list (orders: orders.py).

Info prices follow trade_v1_infoprices*.json. FieldGroups default to Quote; also DisplayAndFormat,
InstrumentPriceDetails, PriceInfo, PriceInfoDetails, HistoricalChanges, Commissions and MarketDepth.
Quotes are not delayed (DelayedByMinutes 0, PriceType "Tradable"); with enforce_hours a closed market shows
MarketState "Closed", IsMarketOpen false and PriceType "Indicative". Unknown Uics are left out of a list.
"""

from __future__ import annotations

from typing import Any

from bot.sim.catalogue import KNOWN_ASSET_TYPES, Instrument
from bot.sim.config import iso
from bot.sim.core import SimCore
from bot.sim.shapes import display_and_format, price, value_date
from bot.sim.wire import Request, Response, error, field_groups, model_state, not_found, num, ok

_DAYS = (
    ("PercentChangeDaily", 1),
    ("PercentChangeWeekly", 7),
    ("PercentChange1Month", 30),
    ("PercentChange2Months", 60),
    ("PercentChange3Months", 91),
    ("PercentChange6Months", 182),
)


def info_price(core: SimCore, inst: Instrument, t: float, groups: set[str], amount: float | None) -> dict[str, Any]:
    """One info-price row as in the fixture, with the asked field groups."""
    bid, ask, mid = core.market.quote(inst, t)
    is_open = core.is_open(inst, t)
    row: dict[str, Any] = {"AssetType": inst.asset_type}
    if "commissions" in groups:
        row["Commissions"] = _commissions(core, inst, t, amount)
    if "displayandformat" in groups:
        row["DisplayAndFormat"] = display_and_format(inst)
    if "historicalchanges" in groups:
        row["HistoricalChanges"] = {
            name: round((mid / core.market.mid(inst, t - days * 86400) - 1) * 100, 2) for name, days in _DAYS
        }
    if "instrumentpricedetails" in groups:
        row["InstrumentPriceDetails"] = {
            "IsMarketOpen": is_open,
            "ShortTradeDisabled": inst.cash_settled,
            "ValueDate": value_date(inst, t),
        }
    row["LastUpdated"] = iso(t, ms=True)
    if "marketdepth" in groups:
        row["MarketDepth"] = _market_depth(inst, bid, ask)
    if "priceinfo" in groups or "priceinfodetails" in groups:
        day = core.market.day_bar(inst, t)
        if "priceinfo" in groups:
            row["PriceInfo"] = {
                "High": price(inst, day.high),
                "Low": price(inst, day.low),
                "NetChange": price(inst, day.close - day.open),
                "PercentChange": round((day.close / day.open - 1) * 100, 2),
            }
        if "priceinfodetails" in groups:
            traded = 0 if inst.bid_ask_bars else price(inst, day.close)
            row["PriceInfoDetails"] = {
                "AskSize": 1000000 if inst.base else 500,
                "BidSize": 1000000 if inst.base else 500,
                "LastClose": price(inst, day.open),
                "LastTraded": traded,
                "LastTradedSize": 0 if inst.bid_ask_bars else 100,
                "Open": 0 if inst.bid_ask_bars else price(inst, day.open),
                "Volume": 0 if inst.bid_ask_bars else int(day.volume),
            }
    if "quote" in groups:
        quote: dict[str, Any] = {
            "Amount": num(amount if amount else inst.default_amount, 8),
            "Ask": ask,
            "Bid": bid,
            "DelayedByMinutes": 0,
            "ErrorCode": "None",
            "MarketState": "Open" if is_open else "Closed",
            "Mid": mid,
            "PriceSource": inst.exchange,
            "PriceTypeAsk": "Tradable" if is_open else "Indicative",
            "PriceTypeBid": "Tradable" if is_open else "Indicative",
        }
        row["Quote"] = quote
    row["Uic"] = inst.uic
    return row


def _commissions(core: SimCore, inst: Instrument, t: float, amount: float | None) -> dict[str, Any]:
    """Commissions (Saxo's InfoPriceResponse schema) in the account currency for `Amount` at the quote: the
    simulator's tariff (orders.py), max(1, 0.05 %) on stocks and ETFs, none on FX, crypto and CFDs."""
    bid, ask, _ = core.market.quote(inst, t)
    size = amount if amount else inst.default_amount
    rate = core.market.rate(inst.currency, core.currency, t)

    def cost(fill: float) -> float | int:
        return num(max(1.0, 0.0005 * size * fill * rate)) if inst.cash_settled else 0

    return {"CostBuy": cost(ask), "CostIpoCashSubscription": 0, "CostIpoSubscription": 0, "CostSell": cost(bid)}


def _market_depth(inst: Instrument, bid: float, ask: float) -> dict[str, Any]:
    """MarketDepth (Saxo's schema and its example: three levels each side, sizes growing away from the top)."""
    levels = range(3)
    step = max(inst.spread / 2, inst.tick)
    base = inst.default_amount * (40 if inst.base else 1)
    return {
        "Ask": [price(inst, ask + i * step) for i in levels],
        "AskOrders": [0, 0, 0] if inst.base else [3 + i for i in levels],
        "AskSize": [num(base * (1 + i), 8) for i in levels],
        "Bid": [price(inst, bid - i * step) for i in levels],
        "BidOrders": [0, 0, 0] if inst.base else [3 + i for i in levels],
        "BidSize": [num(base * (1 + i), 8) for i in levels],
        "NoOfBids": 3,
        "NoOfOffers": 3,
        "UsingOrders": not inst.base,
    }


def _amount(req: Request) -> float | None:
    text = req.query.get("Amount")
    try:
        return float(text) if text else None
    except ValueError:
        return None


def info_prices_list(core: SimCore, req: Request) -> Response:
    asset_type, uics_text = req.query.get("AssetType"), req.query.list("Uics")
    errors = {}
    if asset_type not in KNOWN_ASSET_TYPES:
        errors["AssetType"] = ["AssetType is required and must be a valid asset type."]
    if not uics_text:
        errors["Uics"] = ["Uics is required."]
    try:
        uics = [int(u) for u in uics_text]
    except ValueError:
        errors["Uics"] = ["Uics must be a comma-separated list of integers."]
        uics = []
    if errors:
        return model_state(errors)
    if len(set(uics)) != len(uics):
        return error(400, "UicsInListNotUnique", "The list of Uics contains duplicates")
    groups = field_groups(req, ("Quote",))
    amount = _amount(req)
    rows = []
    for uic in uics:
        inst = core.catalogue.get(uic, str(asset_type))
        if inst is not None:
            rows.append(info_price(core, inst, req.now, groups, amount))
    return ok({"Data": rows})


def info_price_single(core: SimCore, req: Request) -> Response:
    asset_type, uic_text = req.query.get("AssetType"), req.query.get("Uic")
    errors = {}
    if asset_type not in KNOWN_ASSET_TYPES:
        errors["AssetType"] = ["AssetType is required and must be a valid asset type."]
    if not (uic_text or "").isdigit():
        errors["Uic"] = ["Uic is required and must be an integer."]
    if errors:
        return model_state(errors)
    inst = core.catalogue.get(int(str(uic_text)), str(asset_type))
    if inst is None:
        return not_found(f"No instrument with Uic {uic_text} and AssetType {asset_type}")
    return ok(info_price(core, inst, req.now, field_groups(req, ("Quote",)), _amount(req)))
