"""Portfolio service group (/port/v1): positions, net positions, orders.

User, client, accounts and balances are in `bot/sim/routes_account.py` (its `own_account` check is shared).

Shapes follow the recorded samples (port_v1_*.json). Current prices of a position are the bid for a long and
the ask for a short; P/L and exposure are converted to the account currency at the current mid. With a view lag
(SimConfig.view_lag_seconds, /__sim/lag), orders and positions show only that many seconds after they happened.
"""

from __future__ import annotations

from typing import Any

from bot.sim.book import Order, Position
from bot.sim.config import iso
from bot.sim.core import SimCore
from bot.sim.routes_account import own_account
from bot.sim.shapes import (
    amount,
    correlation_key,
    display_and_format,
    exchange_info,
    net_position_id,
    price,
    value_date,
)
from bot.sim.valuation import Marks
from bot.sim.wire import Request, Response, field_groups, model_state, not_found, num, ok, paged
from bot.sim.working import OPEN, related_open


def _costs(core: SimCore, pos: Position, marks: Marks) -> dict[str, Any]:
    """PositionCost (FieldGroups Costs): the simulator's tariff, commission on stocks and ETFs only."""
    rate = marks.rate(pos.inst)
    bid, ask, _ = marks.quote(pos.inst)
    close_value = abs(pos.amount) * (bid if pos.amount > 0 else ask)

    def cost(value: float) -> dict[str, Any]:
        commission = max(1.0, 0.0005 * value) if pos.inst.cash_settled else 0.0
        return {
            "AdditionalTransactionCosts": 0,
            "Commission": num(commission),
            "ExchangeFee": 0,
            "ExternalCharges": 0,
            "PerformanceFee": 0,
            "StampDuty": 0,
        }

    open_cost = cost(abs(pos.amount) * pos.open_price)
    close_cost = cost(close_value)
    return {
        "CloseCost": close_cost,
        "CloseCostInBaseCurrency": {**close_cost, "Commission": num(close_cost["Commission"] * rate)},
        "OpenCost": open_cost,
        "OpenCostInBaseCurrency": {**open_cost, "Commission": num(open_cost["Commission"] * rate)},
    }


def _position_row(core: SimCore, pos: Position, marks: Marks, groups: set[str], orders: list[Order]) -> dict[str, Any]:
    inst, ident = pos.inst, core.identity
    bid, ask, _ = marks.quote(inst)
    current = bid if pos.amount > 0 else ask
    rate = marks.rate(inst)
    pnl = pos.amount * (current - pos.open_price)
    row: dict[str, Any] = {"NetPositionId": net_position_id(inst), "PositionId": pos.position_id}
    if "costs" in groups:
        row["Costs"] = _costs(core, pos, marks)
    if "displayandformat" in groups:
        row["DisplayAndFormat"] = display_and_format(inst)
    if "exchangeinfo" in groups:
        row["Exchange"] = exchange_info(inst, core.is_open(inst, marks.t))
    if "positionbase" in groups:
        base: dict[str, Any] = {
            "AccountId": ident.account_id,
            "AccountKey": ident.account_key,
            "Amount": amount(pos.amount),
            "AssetType": inst.asset_type,
            "CanBeClosed": True,
            "ClientId": ident.client_id,
            "CloseConversionRateSettled": False,
            "CorrelationKey": correlation_key(pos.position_id),
            "ExecutionTimeOpen": iso(pos.opened_at),
            "IsForceOpen": False,
            "IsMarketOpen": core.is_open(inst, marks.t),
            "LockedByBackOffice": False,
            "OpenPrice": price(inst, pos.open_price),
            "SourceOrderId": pos.source_order_id,
            "Status": "Open",
            "Uic": inst.uic,
            "ValueDate": value_date(inst, pos.opened_at),
        }
        if pos.external_reference is not None:
            base["ExternalReference"] = pos.external_reference
        protecting = [o for o in orders if o.status == "Working" and o.related_position_id == pos.position_id]
        if protecting:
            base["RelatedOpenOrders"] = [_related_info(o) for o in protecting]
        if inst.base:
            base["SpotDate"] = value_date(inst, pos.opened_at)
        row["PositionBase"] = dict(sorted(base.items()))
    if "positionview" in groups:
        row["PositionView"] = {
            "Ask": ask,
            "Bid": bid,
            "CalculationReliability": "Ok",
            "CurrentPrice": current,
            "CurrentPriceDelayMinutes": 0,
            "CurrentPriceType": "Bid" if pos.amount > 0 else "Ask",
            "Exposure": amount(pos.amount) if inst.base else num(pos.amount * current),
            "ExposureCurrency": inst.exposure_currency,
            "ExposureInBaseCurrency": num(pos.amount * current * rate),
            "InstrumentPriceDayPercentChange": marks.day_change(inst),
            "MarketValue": num(pos.amount * current),
            "ProfitLossOnTrade": num(pnl),
            "ProfitLossOnTradeInBaseCurrency": num(pnl * rate),
            "TradeCostsTotal": 0,
            "TradeCostsTotalInBaseCurrency": 0,
        }
    return row


def positions(core: SimCore, req: Request) -> Response:
    refused = own_account(core, req)
    if refused:
        return refused
    _, held, orders = core.book.snapshot()
    held = [p for p in held if core.visible(p.opened_at, req.now)]
    wanted = req.query.get("PositionId")
    if wanted:
        held = [p for p in held if p.position_id == wanted]
    net_id = req.query.get("NetPositionId")
    if net_id:
        held = [p for p in held if net_position_id(p.inst) == net_id]
    groups, marks = field_groups(req, ("PositionBase", "PositionView")), Marks(core, req.now)
    return paged(req, held, lambda pos: _position_row(core, pos, marks, groups, orders))


def net_positions(core: SimCore, req: Request) -> Response:
    refused = own_account(core, req)
    if refused:
        return refused
    _, held, orders = core.book.snapshot()
    held = [p for p in held if core.visible(p.opened_at, req.now)]
    orders = [o for o in orders if core.visible(o.time, req.now)]
    by_key: dict[str, list[Position]] = {}
    for pos in held:
        by_key.setdefault(pos.inst.key, []).append(pos)
    groups, marks = field_groups(req, ("NetPositionBase", "NetPositionView")), Marks(core, req.now)
    return paged(req, list(by_key.values()), lambda lots: _net_row(core, lots, marks, orders, groups))


def _net_row(
    core: SimCore, lots: list[Position], marks: Marks, orders: list[Order], groups: set[str]
) -> dict[str, Any]:
    inst, ident = lots[0].inst, core.identity
    bid, ask, _ = marks.quote(inst)
    total = round(sum(p.amount for p in lots), 8)
    current = bid if total >= 0 else ask
    rate = marks.rate(inst)
    side = [p for p in lots if (p.amount > 0) == (total > 0)] or lots
    average = sum(p.amount * p.open_price for p in side) / sum(p.amount for p in side)
    pnl = sum(p.amount * ((bid if p.amount > 0 else ask) - p.open_price) for p in lots)
    row: dict[str, Any] = {"NetPositionId": net_position_id(inst)}
    if "netpositionbase" in groups:
        base = {
            "AccountId": ident.account_id,
            "Amount": amount(total),
            "AmountLong": amount(sum(p.amount for p in lots if p.amount > 0)),
            "AmountShort": amount(sum(p.amount for p in lots if p.amount < 0)),
            "AssetType": inst.asset_type,
            "CanBeClosed": total != 0,
            "ClientId": ident.client_id,
            "HasForceOpenPositions": False,
            "IsMarketOpen": core.is_open(inst, marks.t),
            "NonTradableReason": "None",
            "NumberOfRelatedOrders": sum(
                1 for o in orders if o.status == "Working" and o.related_position_id and o.inst.key == inst.key
            ),
            "OpeningDirection": "Buy" if total > 0 else ("Sell" if total < 0 else "None"),
            "OpenIpoOrdersCount": 0,
            "OpenOrdersCount": sum(1 for o in orders if o.status == "Working" and o.inst.key == inst.key),
            "OpenTriggerOrdersCount": 0,
            "PositionsAccount": ident.account_id,
            "Uic": inst.uic,
            "ValueDate": value_date(inst, lots[0].opened_at),
        }
        if len(lots) == 1:
            base.update(SinglePositionId=lots[0].position_id, SinglePositionStatus="Open")
        row["NetPositionBase"] = dict(sorted(base.items()))
    if "netpositionview" in groups:
        row["NetPositionView"] = {
            "AverageOpenPrice": price(inst, average),
            "AverageOpenPriceIncludingCosts": price(inst, average),
            "CalculationReliability": "Ok",
            "CurrentPrice": current,
            "CurrentPriceDelayMinutes": 0,
            "CurrentPriceType": "Bid" if total >= 0 else "Ask",
            "Exposure": amount(total) if inst.base else num(total * current),
            "ExposureInBaseCurrency": num(total * current * rate),
            "InstrumentPriceDayPercentChange": marks.day_change(inst),
            "PositionCount": len(lots),
            "PositionsNotClosedCount": len(lots),
            "ProfitLossOnTrade": num(pnl),
            "ProfitLossOnTradeInBaseCurrency": num(pnl * rate),
            "Status": "Open" if total else "Closed",
            "TradeCostsTotal": 0,
            "TradeCostsTotalInBaseCurrency": 0,
        }
    return row


def orders_me(core: SimCore, req: Request) -> Response:
    """Open orders. Status=Working (default): top-level working orders and working OCO legs (a leg waiting for its
    entry shows in the entry's RelatedOpenOrders only); Status=All: every order the simulator took (NotWorking
    legs, filled, cancelled and expired ones too)."""
    wanted_all = (req.query.get("Status") or "Working").lower() == "all"
    every = core.book.snapshot()[2]
    chosen = [o for o in every if (wanted_all or o.status == "Working") and core.visible(o.time, req.now)]
    marks = Marks(core, req.now)
    groups = field_groups(req, ())
    return paged(req, chosen, lambda order: _order_row(core, order, marks, every, groups))


def orders_of_client(core: SimCore, req: Request) -> Response:
    """GET /port/v1/orders?ClientKey=...: the same list as orders/me for the one client."""
    if not req.query.get("ClientKey"):
        return model_state({"ClientKey": ["ClientKey is required"]})
    return own_account(core, req) or orders_me(core, req)


def order_of_client(core: SimCore, req: Request, client_key: str, order_id: str) -> Response:
    """GET /port/v1/orders/{ClientKey}/{OrderId}: one open order (404 when it is not open or not known)."""
    if client_key != core.identity.client_key:
        return not_found(f"ClientKey {client_key} is not known")
    every = core.book.snapshot()[2]
    order = next((o for o in every if o.order_id == order_id and core.visible(o.time, req.now)), None)
    if order is None or order.status not in OPEN:
        return not_found(f"No open order {order_id}")
    return ok(_order_row(core, order, Marks(core, req.now), every, field_groups(req, ())))


def _related_info(order: Order) -> dict[str, Any]:
    """A RelatedOrderInfo (Saxo's schema) for RelatedOpenOrders."""
    info: dict[str, Any] = {
        "Amount": amount(order.amount),
        "Duration": {"DurationType": order.duration},
        "OpenOrderType": order.order_type,
        "OrderId": order.order_id,
        "Status": order.status,
    }
    if order.price is not None:
        info["OrderPrice"] = order.price
    if order.trailing_distance is not None:
        info.update(TrailingStopDistanceToMarket=order.trailing_distance, TrailingStopStep=order.trailing_step)
    return dict(sorted(info.items()))


def _order_row(
    core: SimCore, order: Order, marks: Marks, every: list[Order], groups: set[str] | None = None
) -> dict[str, Any]:
    """One open order; FieldGroups DisplayAndFormat and ExchangeInfo add those objects."""
    ident, inst = core.identity, order.inst
    bid, ask, _ = marks.quote(inst)
    current = ask if order.buy_sell == "Buy" else bid
    is_open = core.is_open(inst, marks.t)
    row: dict[str, Any] = {
        "AccountId": ident.account_id,
        "AccountKey": ident.account_key,
        "Amount": amount(order.amount),
        "AssetType": inst.asset_type,
        "BuySell": order.buy_sell,
        "CalculationReliability": "Ok",
        "ClientKey": ident.client_key,
        "CorrelationKey": correlation_key(order.order_id),
        "CurrentPrice": current,
        "CurrentPriceDelayMinutes": 0,
        "CurrentPriceType": "Ask" if order.buy_sell == "Buy" else "Bid",
        "DistanceToMarket": price(inst, abs((order.price or current) - current)),
        "Duration": {"DurationType": order.duration},
        "IsForceOpen": False,
        "IsMarketOpen": is_open,
        "MarketPrice": current,
        "MarketState": "Open" if is_open else "Closed",
        "NonTradableReason": "None",
        "OpenOrderType": order.order_type,
        "OrderAmountType": "Quantity",
        "OrderId": order.order_id,
        "OrderRelation": order.relation,
        "OrderTime": iso(order.time),
        "Status": order.status,
        "Uic": inst.uic,
    }
    if order.price is not None:
        row["Price"] = order.price
    if order.external_reference is not None:
        row["ExternalReference"] = order.external_reference
    if order.trailing_distance is not None:
        row.update(TrailingStopDistanceToMarket=order.trailing_distance, TrailingStopStep=order.trailing_step)
    if order.related_position_id is not None:
        row["RelatedPositionId"] = order.related_position_id
    if order.expires_at is not None:
        row["Duration"] = {"DurationType": order.duration, "ExpirationDateTime": iso(order.expires_at)}
    related = related_open(every, order)
    if related:
        row["RelatedOpenOrders"] = [_related_info(o) for o in related]
    if groups and "displayandformat" in groups:
        row["DisplayAndFormat"] = display_and_format(inst)
    if groups and "exchangeinfo" in groups:
        row["Exchange"] = exchange_info(inst, core.is_open(inst, marks.t))
    return dict(sorted(row.items()))
