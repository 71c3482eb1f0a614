"""Reference data (/ref/v1/instruments...) and root services (/root/v1/...).

Details follow ref_v1_instruments_details*.json. `SupportedOrderTypes` lists what the simulator executes
(Market, Limit, StopIfTraded, TrailingStopIfTraded; FX-like ones also Stop); `TickSize` is the price tick, and
an instrument with a tick ladder (7203:xtks) adds `TickSizeScheme` {DefaultTickSize, Elements[].{HighPrice,
TickSize}}. With FieldGroups=SupportedOrderTypeSettings each type gets its DurationTypes (Market: DayOrder,
ImmediateOrCancel, FillOrKill for FX/crypto/CFDs; DayOrder for stocks; ImmediateOrCancel, FillOrKill for the
FxForwards entry). Trading schedules cover one day back to seven days ahead (schedule.py).
"""

from __future__ import annotations

from typing import Any

from bot.sim import schedule
from bot.sim.catalogue import EXCHANGES, KNOWN_ASSET_TYPES, Instrument
from bot.sim.config import iso, midnight_iso
from bot.sim.core import SimCore
from bot.sim.shapes import value_date
from bot.sim.wire import Request, Response, error, field_groups, model_state, not_found, num, ok, paged

_ASSET_TYPES = ("FxSpot", "FxCrypto", "FxForwards", "Stock", "Etf", "CfdOnIndex")
_ORDER_DISTANCES = {
    "EntryDefaultDistance": 0,
    "EntryDefaultDistanceType": "Percentage",
    "LimitDefaultDistance": 0,
    "LimitDefaultDistanceType": "Percentage",
    "StopLimitDefaultDistance": 5,
    "StopLimitDefaultDistanceType": "Pips",
    "StopLossDefaultDistance": 0.5,
    "StopLossDefaultDistanceType": "Percentage",
    "StopLossDefaultEnabled": False,
    "StopLossDefaultOrderType": "Stop",
    "TakeProfitDefaultDistance": 0.5,
    "TakeProfitDefaultDistanceType": "Percentage",
    "TakeProfitDefaultEnabled": False,
}


def _tradable_as(inst: Instrument) -> list[str]:
    return ["FxSpot", "FxForwards"] if inst.asset_type in ("FxSpot", "FxForwards") else [inst.asset_type]


def _lookup(core: SimCore, uic: str, asset_type: str) -> Instrument | None:
    return core.catalogue.get(int(uic), asset_type) if uic.isdigit() else None


def _standard_amounts(inst: Instrument) -> list[float | int]:
    return [num(inst.min_size * k, 8) for k in (1, 5, 10, 50, 100)]


def details_row(core: SimCore, inst: Instrument, t: float, groups: set[str]) -> dict[str, Any]:
    exchange_id, name, country = EXCHANGES[inst.exchange]
    row: dict[str, Any] = {
        "AmountDecimals": inst.amount_decimals,
        "AssetType": inst.asset_type,
        "CurrencyCode": inst.currency,
        "DefaultAmount": num(inst.default_amount, 8),
        "DefaultSlippage": 0.01,
        "DefaultSlippageType": "Percentage",
        "Description": inst.description,
        "Exchange": {"CountryCode": country, "ExchangeId": exchange_id, "Name": name},
        "Format": {"Decimals": inst.decimals, "Format": inst.fmt, "OrderDecimals": inst.decimals},
        "GroupId": 0,
        "IncrementSize": num(inst.increment, 8),
        "IsRedemptionByAmounts": False,
        "IsTradable": True,
        "LotSizeType": inst.lot_size_type,
        "MinimumTradeSize": num(inst.min_size, 8),
        "NonTradableReason": "None",
        "OrderDistances": _ORDER_DISTANCES,
        "ShortTradeDisabled": inst.cash_settled,
        "StandardAmounts": _standard_amounts(inst),
        "SupportedOrderTypes": list(inst.order_types),
        "Symbol": inst.symbol,
        "TickSize": inst.tick,
        "TradableAs": _tradable_as(inst),
        "TradableOn": [core.identity.account_id],
        "TradingStatus": "Tradable",
        "Uic": inst.uic,
    }
    if inst.tick_scheme:
        row["TickSizeScheme"] = {
            "DefaultTickSize": inst.scheme_default_tick,
            "Elements": [{"HighPrice": high, "TickSize": tick} for high, tick in inst.tick_scheme],
        }
    if inst.lot_size is not None:
        row.update(LotSize=num(inst.lot_size, 8), MinimumLotSize=num(inst.lot_size, 8))
    if not inst.base:
        row["PrimaryListing"] = inst.uic
    else:  # FX fields of saxo_openapi's captured details (referencedata/responses/instruments.py)
        row.update(FxSpotDate=value_date(inst, t), TickSizeLimitOrder=inst.tick, TickSizeStopOrder=inst.tick)
        row.update(FxForwardMinForwardDate=midnight_iso(t, 3), FxForwardMaxForwardDate=midnight_iso(t, 368))
        row["TradingSignals"] = "Allowed"
    if "supportedordertypesettings" in groups:
        row["SupportedOrderTypeSettings"] = [
            {"DurationTypes": list(inst.durations(kind)), "OrderType": kind} for kind in inst.order_types
        ]
    if "tradingsessions" in groups:
        row["TradingSessions"] = schedule_body(inst, t)
    return dict(sorted(row.items()))


def schedule_body(inst: Instrument, t: float) -> dict[str, Any]:
    sessions = schedule.sessions(inst.schedule, t - 86400, t + 7 * 86400)
    return {
        "Sessions": [{"EndTime": iso(e), "StartTime": iso(s), "State": state} for s, e, state in sessions],
        **schedule.zone_info(inst.schedule, t),
    }


def _bad_asset_type(asset_type: str) -> Response | None:
    """400 InvalidAssetType for a name that is no asset type (Saxo answers so, not 404), else None."""
    if asset_type in KNOWN_ASSET_TYPES:
        return None
    return error(400, "InvalidAssetType", f"'{asset_type}' is not a valid AssetType")


def details(core: SimCore, req: Request, uic: str, asset_type: str) -> Response:
    bad = _bad_asset_type(asset_type)
    if bad is not None:
        return bad
    inst = _lookup(core, uic, asset_type)
    if inst is None:
        return not_found(f"No instrument with Uic {uic} and AssetType {asset_type}")
    return ok(details_row(core, inst, req.now, field_groups(req, ())))


def details_list(core: SimCore, req: Request) -> Response:
    found = _find(core, req.query.list("Uics"), req.query.list("AssetTypes"))
    if isinstance(found, Response):
        return found
    groups = field_groups(req, ())
    return paged(req, [details_row(core, inst, req.now, groups) for inst in found])


def trading_schedule(core: SimCore, req: Request, uic: str, asset_type: str) -> Response:
    bad = _bad_asset_type(asset_type)
    if bad is not None:
        return bad
    inst = _lookup(core, uic, asset_type)
    if inst is None:
        return not_found(f"No instrument with Uic {uic} and AssetType {asset_type}")
    return ok(schedule_body(inst, req.now))


def _find(core: SimCore, uics: list[str], asset_types: list[str], keywords: str = "") -> list[Instrument] | Response:
    if any(not u.isdigit() for u in uics):
        return model_state({"Uics": ["Uics must be a comma-separated list of integers."]})
    types = set(asset_types) if asset_types else None
    if not uics:
        return core.catalogue.search(keywords, types)
    found: dict[str, Instrument] = {}
    for uic in uics:
        for asset_type in asset_types or _ASSET_TYPES:
            inst = core.catalogue.get(int(uic), asset_type)
            if inst is not None and inst.asset_type == asset_type:
                found.setdefault(inst.key, inst)
    words = keywords.lower().split()
    return [i for i in found.values() if all(w in f"{i.symbol} {i.description}".lower() for w in words)]


def search(core: SimCore, req: Request) -> Response:
    keywords = req.query.get("Keywords") or ""
    found = _find(core, req.query.list("Uics"), req.query.list("AssetTypes"), keywords)
    if isinstance(found, Response):
        return found
    rows = [
        {
            "AssetType": i.asset_type,
            "CurrencyCode": i.currency,
            "Description": i.description,
            "ExchangeId": EXCHANGES[i.exchange][0],
            "GroupId": 0,
            "Identifier": i.uic,
            "IsKeywordMatch": bool(keywords.strip()),
            "PrimaryListing": i.uic,
            "SummaryType": "Instrument",
            "Symbol": i.symbol,
            "TradableAs": _tradable_as(i),
        }
        for i in found
    ]
    return paged(req, rows)


def capabilities(core: SimCore, req: Request) -> Response:
    if req.method in ("PUT", "PATCH"):
        try:
            level = req.json().get("TradeLevel")
        except (ValueError, AttributeError):
            level = None
        if level not in ("OrdersOnly", "FullTradingAndChat"):
            return model_state({"TradeLevel": ["TradeLevel must be OrdersOnly or FullTradingAndChat."]})
        core.trade_level = level
        return Response(202)
    return ok({"DataLevel": "Standard", "TradeLevel": core.trade_level})


def diagnostics(core: SimCore, req: Request) -> Response:
    return Response(200)
