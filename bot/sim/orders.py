"""Order precheck, placement and cancellation (/trade/v2/orders), with Saxo's checks in Saxo's order.

1. Malformed request -> 400 InvalidModelState with ModelState per field (ManualOrder is required on placement).
2. Identical body (same session, same endpoint) within the duplicate window -> 409 Conflict, unless the
   X-Request-ID differs from the earlier request's. The ErrorCode "DuplicateOperation" is the simulator's guess.
3. Business rules -> placement: 400 {"ErrorInfo": {...}}; precheck: 200 {"PreCheckResult": "Error", "ErrorInfo"}.
   A cash-settled buy beyond the cash gets `InsufficentCash` (sic): placement rejects it, precheck answers
   "Ok" with the ErrorInfo and the costs, as Saxo does.
Market orders fill at once at the ask (buy) or bid (sell). Limit orders rest as working orders and are never
filled; other order types are refused with `OrderTypeNotSupported` (the simulator's code).
Costs (the simulator's tariff): stocks/ETFs pay max(1, 0.05%) of the value in commission; FX, crypto and CFDs
pay the spread only. Cash needed: value + commission for cash-settled buys, the margin for the rest.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from bot.sim.book import Order
from bot.sim.catalogue import KNOWN_ASSET_TYPES, Instrument
from bot.sim.core import SimCore
from bot.sim.shapes import MARGIN_RATES
from bot.sim.valuation import balance_body
from bot.sim.wire import Request, Response, error, error_info, model_state, num, ok

ORDER_TYPES = {
    "Market",
    "Limit",
    "Stop",
    "StopIfTraded",
    "StopLimit",
    "TrailingStop",
    "TrailingStopIfTraded",
    "Algorithmic",
    "Switch",
    "Traspaso",
    "TraspasoIn",
}
DURATION_TYPES = {
    "DayOrder",
    "GoodTillCancel",
    "GoodTillDate",
    "ImmediateOrCancel",
    "FillOrKill",
    "AtTheOpening",
    "AtTheClose",
    "GoodForPeriod",
}


@dataclass(frozen=True)
class Ticket:
    """A well-formed order request."""

    inst: Instrument | None  # None: no such (Uic, AssetType)
    buy_sell: str
    amount: float
    order_type: str
    duration: str
    price: float | None
    external_reference: str | None
    manual: bool
    force_open: bool
    groups: frozenset[str]


class Rejected(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def parse(core: SimCore, body: Any, placing: bool) -> Ticket | Response:
    """Check the request's shape; a 400 ModelState Response when it is malformed."""
    if not isinstance(body, dict):
        return model_state({"request": ["A JSON object body is required."]})
    errors: dict[str, list[str]] = {}
    if placing and "ManualOrder" not in body:
        errors["ManualOrder"] = ["The ManualOrder field is required."]
    elif "ManualOrder" in body and not isinstance(body["ManualOrder"], bool):
        errors["ManualOrder"] = ["ManualOrder must be true or false."]
    if body.get("BuySell") not in ("Buy", "Sell"):
        errors["BuySell"] = ["BuySell is required and must be Buy or Sell."]
    if not _is_number(body.get("Amount")):
        errors["Amount"] = ["Amount is required and must be a number."]
    if not isinstance(body.get("Uic"), int) or isinstance(body.get("Uic"), bool):
        errors["Uic"] = ["Uic is required and must be an integer."]
    if body.get("AssetType") not in KNOWN_ASSET_TYPES:
        errors["AssetType"] = ["AssetType is required and must be a valid asset type."]
    if body.get("OrderType") not in ORDER_TYPES:
        errors["OrderType"] = ["OrderType is required and must be a valid order type."]
    duration = body.get("OrderDuration")
    if not isinstance(duration, dict) or duration.get("DurationType") not in DURATION_TYPES:
        errors["OrderDuration"] = ["OrderDuration.DurationType is required and must be a valid duration type."]
    reference = body.get("ExternalReference")
    if reference is not None and (not isinstance(reference, str) or len(reference) > 50):
        errors["ExternalReference"] = ["ExternalReference must be a string of at most 50 characters."]
    if body.get("AccountKey") not in (None, core.identity.account_key):
        errors["AccountKey"] = ["AccountKey is not valid for this client."]
    if body.get("OrderType") in ORDER_TYPES - {"Market"} and not _is_number(body.get("OrderPrice")):
        errors["OrderPrice"] = ["OrderPrice is required for this order type."]
    if errors or not isinstance(duration, dict):
        return model_state(errors)
    inst = core.catalogue.get(body["Uic"], body["AssetType"])
    field_groups = body.get("FieldGroups")
    groups: list[Any] = field_groups if isinstance(field_groups, list) else []
    return Ticket(
        inst=inst,
        buy_sell=body["BuySell"],
        amount=float(body["Amount"]),
        order_type=body["OrderType"],
        duration=duration["DurationType"],
        price=body.get("OrderPrice"),
        external_reference=reference,
        manual=bool(body.get("ManualOrder")),
        force_open="IsForceOpen" in body,
        groups=frozenset(str(g).lower() for g in groups),
    )


def is_duplicate(core: SimCore, req: Request, endpoint: str, body: Any) -> bool:
    """True when an identical request with the same (or no) X-Request-ID came within the window."""
    key = (req.session, endpoint, json.dumps(body, sort_keys=True, separators=(",", ":")))
    request_id = req.headers.get("x-request-id")
    window = core.config.duplicate_window_seconds
    with core.recent_lock:
        if len(core.recent) > 10000:
            for old in [k for k, (t, _) in core.recent.items() if req.now - t >= window]:
                del core.recent[old]
        earlier = core.recent.get(key)
        if earlier is not None and 0 <= req.now - earlier[0] < window and earlier[1] == request_id:
            return True
        core.recent[key] = (req.now, request_id)
        return False


def duplicate_response() -> Response:
    return error(
        409,
        "DuplicateOperation",
        "An identical request was received within the duplicate-order window. "
        "Send a distinct X-Request-ID header to place it intentionally.",
    )


def check(core: SimCore, ticket: Ticket, t: float) -> Instrument:
    """Saxo's business rules except cash; raises Rejected."""
    inst = ticket.inst
    if inst is None:
        raise Rejected("IllegalInstrumentId", "Instrument ID is invalid")
    if ticket.order_type not in ("Market", "Limit"):
        raise Rejected("OrderTypeNotSupported", f"Order type {ticket.order_type} is not supported")
    if ticket.force_open and inst.cash_settled:
        raise Rejected("ForceOpenNotAllowed", "IsForceOpen is not allowed for this asset type")
    if ticket.duration not in inst.durations(ticket.order_type):
        raise Rejected("DurationNotSupported", f"Duration {ticket.duration} is not supported for this order type")
    scaled = ticket.amount * 10**inst.amount_decimals
    if ticket.amount <= 0 or abs(scaled - round(scaled)) > 1e-6:
        raise Rejected("IllegalAmount", "Amount is not valid")
    if ticket.amount < inst.min_size - 1e-12:
        raise Rejected("AmountBelowMinimumLotSize", f"Amount is below the minimum trade size {inst.min_size:g}")
    if inst.lot_size_type != "NotUsed" and inst.lot_size and ticket.amount % inst.lot_size:
        raise Rejected("AmountNotInLotSize", f"Amount must be a multiple of the lot size {inst.lot_size:g}")
    if inst.cash_settled and ticket.buy_sell == "Sell" and ticket.amount > core.book.net_amount(inst.key) + 1e-9:
        raise Rejected("ShortTradeDisabled", "Short selling is not allowed for this instrument")
    if not core.is_open(inst, t):
        raise Rejected("MarketClosed", "The market is closed")
    return inst


def costs(core: SimCore, inst: Instrument, ticket: Ticket, t: float) -> dict[str, Any]:
    """Fill price, commission and cash figures for this order at time t."""
    bid, ask, _ = core.market.quote(inst, t)
    fill = ask if ticket.buy_sell == "Buy" else bid
    rate = core.market.rate(inst.currency, core.currency, t)
    value = ticket.amount * fill * rate
    commission = max(1.0, 0.0005 * value) if inst.cash_settled else 0.0
    if inst.cash_settled:
        cash_required = value + commission if ticket.buy_sell == "Buy" else commission
    else:
        cash_required = value * MARGIN_RATES.get(inst.asset_type, 0.1)
    return {"fill": fill, "rate": rate, "value": value, "commission": commission, "cash_required": cash_required}


def _short_of_cash(core: SimCore, inst: Instrument, ticket: Ticket, figures: dict[str, Any]) -> bool:
    return inst.cash_settled and ticket.buy_sell == "Buy" and figures["cash_required"] > core.book.cash + 1e-9


def precheck(core: SimCore, req: Request) -> Response:
    try:
        body = req.json()
    except ValueError:
        return model_state({"request": ["The request body is not valid JSON."]})
    ticket = parse(core, body, placing=False)
    if isinstance(ticket, Response):
        return ticket
    if is_duplicate(core, req, "precheck", body):
        core.stats.count(event="duplicates")
        return duplicate_response()
    core.stats.count(event="prechecks")
    try:
        inst = check(core, ticket, req.now)
    except Rejected as exc:
        return ok(
            {
                "ErrorInfo": {"ErrorCode": exc.code, "Message": exc.message},
                "EstimatedCashRequired": 0.0,
                "PreCheckResult": "Error",
            }
        )
    figures = costs(core, inst, ticket, req.now)
    rate, acct = figures["rate"], core.currency
    result: dict[str, Any] = {
        "Cost": {
            "Commission": num(figures["commission"] / rate),
            "ExchangeFee": 0,
            "GuaranteedStopFee": 0,
            "StampDuty": 0,
        },
        "EstimatedCashRequired": num(figures["cash_required"]),
        "EstimatedCashRequiredCurrency": acct,
        "EstimatedTotalCost": num(figures["commission"] / rate),
        "EstimatedTotalCostInAccountCurrency": num(figures["commission"]),
        "InstrumentToAccountConversionRate": round(rate, 8),
        "PreCheckResult": "Ok",
    }
    if "marginimpactbuysell" in ticket.groups:
        result["MarginImpactBuySell"] = _margin_impact(core, inst, figures, req.now)
    if ticket.external_reference is not None:
        result["ExternalReference"] = ticket.external_reference
    if _short_of_cash(core, inst, ticket, figures):
        result["ErrorInfo"] = {"ErrorCode": "InsufficentCash", "Message": "Insufficient cash on the account"}
    return ok(dict(sorted(result.items())))


def _margin_impact(core: SimCore, inst: Instrument, figures: dict[str, Any], t: float) -> dict[str, Any]:
    available = float(balance_body(core, t)["MarginAvailableForTrading"])
    initial = 0.0 if inst.cash_settled else figures["value"] * MARGIN_RATES.get(inst.asset_type, 0.1)
    return {
        "Currency": core.currency,
        "InitialMarginAvailableBuy": num(available - initial),
        "InitialMarginAvailableCurrent": num(available),
        "InitialMarginAvailableSell": num(available - initial),
        "InitialMarginBuy": num(initial),
        "InitialMarginSell": num(initial),
        "MaintenanceMarginBuy": num(initial * 0.5),
        "MaintenanceMarginSell": num(initial * 0.5),
    }


def place(core: SimCore, req: Request) -> Response:
    try:
        body = req.json()
    except ValueError:
        return model_state({"request": ["The request body is not valid JSON."]})
    ticket = parse(core, body, placing=True)
    if isinstance(ticket, Response):
        return ticket
    if is_duplicate(core, req, "place", body):
        core.stats.count(event="duplicates")
        return duplicate_response()
    request_id = req.headers.get("x-request-id")
    with core.book.lock:  # check and fill atomically: cash and positions cannot change in between
        try:
            inst = check(core, ticket, req.now)
            figures = costs(core, inst, ticket, req.now)
            if _short_of_cash(core, inst, ticket, figures):
                raise Rejected("InsufficentCash", "Insufficient cash on the account")
        except Rejected as exc:
            core.stats.count(event="orders_rejected")
            return error_info(exc.code, exc.message)
        draft = Order("", inst, ticket.buy_sell, ticket.amount, ticket.order_type, ticket.duration, "", req.now,
                      external_reference=ticket.external_reference, request_id=request_id,
                      manual_order=ticket.manual)  # fmt: skip
        if ticket.order_type == "Limit":
            order = core.book.add_working(replace(draft, price=float(ticket.price or 0)))
        else:
            signed = ticket.amount if ticket.buy_sell == "Buy" else -ticket.amount
            cash_delta = -signed * figures["fill"] * figures["rate"] - figures["commission"]
            order = core.book.fill(replace(draft, fill_price=figures["fill"]), cash_delta)
    core.stats.count(event="orders_placed")
    return ok({"OrderId": order.order_id})


def cancel(core: SimCore, req: Request, order_ids: str) -> Response:
    """DELETE /trade/v2/orders/{OrderIds}: cancel working orders; unknown ones get an ErrorInfo each."""
    results: list[dict[str, Any]] = []
    for order_id in [o.strip() for o in order_ids.split(",") if o.strip()]:
        if core.book.cancel(order_id):
            results.append({"OrderId": order_id})
        else:
            results.append(
                {"ErrorInfo": {"ErrorCode": "OrderNotFound", "Message": "Order not found"}, "OrderId": order_id}
            )
    return ok({"Orders": results})
