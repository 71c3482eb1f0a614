"""Order precheck, placement and cancellation (/trade/v2/orders), with Saxo's checks in Saxo's order.

1. Malformed request -> 400 InvalidModelState with ModelState per field (ManualOrder is required on placement).
2. Identical body (same session, same endpoint) within the duplicate window -> 409 Conflict, unless the
   X-Request-ID differs from the earlier request's. The ErrorCode "DuplicateOperation" is the simulator's guess.
3. Business rules -> placement: 400 {"ErrorInfo": {...}}; precheck: 200 {"PreCheckResult": "Error", "ErrorInfo"}.
   A cash-settled buy beyond the cash gets `InsufficentCash` (sic): placement rejects it, precheck answers
   "Ok" with the ErrorInfo and the costs, as Saxo does.
A placed order's answer echoes its ExternalReference. Amount and OrderPrice may be numeric strings, and
OrderDuration may be left out (tickets.py), as in the bodies saxo_openapi captured from Saxo's SIM.
Market orders fill at once at the ask (buy) or bid (sell). Limit, Stop, StopIfTraded and TrailingStopIfTraded
orders rest as working orders (working.py fills them against the price walk); the request's shape and the price
rules are in tickets.py. An entry may carry related `Orders` (one or two legs): the answer is
{"OrderId", "Orders": [{"OrderId"}, ...]}; when any order is rejected nothing is placed and the answer is
400 {"ErrorInfo", "Orders": [{"ErrorInfo"}, ...]}, the orders that were fine saying `OrderNotPlaced`
("Order not placed as other order in request was rejected"). A precheck answers each leg in `Orders` too.
Costs (the simulator's tariff): stocks/ETFs pay max(1, 0.05%) of the value in commission; FX, crypto and CFDs
pay the spread only. Cash needed: value + commission for cash-settled buys, the margin for the rest.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from bot.sim.book import Order
from bot.sim.catalogue import Instrument
from bot.sim.core import SimCore
from bot.sim.shapes import MARGIN_RATES
from bot.sim.tickets import Rejected, Ticket, check_price, parse
from bot.sim.valuation import balance_body
from bot.sim.wire import Request, Response, error, model_state, num, ok
from bot.sim.working import add_legs


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


def check(core: SimCore, ticket: Ticket, t: float, entry: Ticket | None = None) -> Instrument:
    """Saxo's business rules except cash, for an order or (with `entry`) one of its legs; raises Rejected."""
    inst = ticket.inst
    if inst is None:
        raise Rejected("IllegalInstrumentId", "Instrument ID is invalid")
    if ticket.order_type not in inst.order_types:
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
    short = ticket.amount > core.book.net_amount(inst.key) + 1e-9
    if entry is None and inst.cash_settled and ticket.buy_sell == "Sell" and short:
        raise Rejected("ShortTradeDisabled", "Short selling is not allowed for this instrument")
    if not core.is_open(inst, t):
        raise Rejected("MarketClosed", "The market is closed")
    if entry is not None and entry.order_type != "Market" and entry.price is not None:
        bid = ask = float(entry.price)  # a leg of a resting entry is judged against the entry's price
    else:
        bid, ask, _ = core.market.quote(inst, t)
    check_price(inst, ticket, bid, ask)
    return inst


NOT_PLACED = {"ErrorCode": "OrderNotPlaced", "Message": "Order not placed as other order in request was rejected"}


def _info(exc: Rejected | None) -> dict[str, str]:
    return {"ErrorCode": exc.code, "Message": exc.message} if exc is not None else NOT_PLACED


def check_legs(core: SimCore, ticket: Ticket, t: float) -> list[Rejected | None]:
    """Each leg's rejection, or None when it is fine."""
    found: list[Rejected | None] = []
    for leg in ticket.legs:
        try:
            check(core, leg, t, entry=ticket)
            found.append(None)
        except Rejected as exc:
            found.append(exc)
    return found


def rejection(ticket: Ticket, entry: Rejected | None, legs: list[Rejected | None]) -> Response:
    """400 with the entry's ErrorInfo and, when it has legs, one per leg (OrderNotPlaced for the fine ones)."""
    body: dict[str, Any] = {"ErrorInfo": _info(entry)}
    if ticket.legs:
        body["Orders"] = [{"ErrorInfo": _info(legs[i] if i < len(legs) else None)} for i in range(len(ticket.legs))]
    return Response(400, body)


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
    if ticket.legs:  # the simulator's reading: each leg's result, and the first failing leg's reason on top
        legs = check_legs(core, ticket, req.now)
        result["Orders"] = [
            {"PreCheckResult": "Ok"} if exc is None else {"ErrorInfo": _info(exc), "PreCheckResult": "Error"}
            for exc in legs
        ]
        failed = next((exc for exc in legs if exc is not None), None)
        if failed is not None:
            result.update(ErrorInfo=_info(failed), PreCheckResult="Error")
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
            return rejection(ticket, exc, [])
        leg_errors = check_legs(core, ticket, req.now)
        if any(leg_errors):
            core.stats.count(event="orders_rejected")
            return rejection(ticket, None, leg_errors)
        draft = _draft(ticket, inst, req.now, request_id)
        if ticket.order_type == "Market":
            signed = ticket.amount if ticket.buy_sell == "Buy" else -ticket.amount
            cash_delta = -signed * figures["fill"] * figures["rate"] - figures["commission"]
            order = core.book.fill(replace(draft, fill_price=figures["fill"]), cash_delta)
        else:
            relation = "IfDoneMaster" if ticket.legs else "StandAlone"
            order = core.book.add(replace(draft, status="Working", relation=relation, activated_at=req.now))
        legs = add_legs(core, order, [_draft(leg, inst, req.now, request_id) for leg in ticket.legs], req.now)
    core.stats.count(event="orders_placed")
    answer: dict[str, Any] = {"OrderId": order.order_id}
    if order.external_reference is not None:  # Saxo echoes it: {"ExternalReference", "OrderId"}
        answer["ExternalReference"] = order.external_reference
    if legs:
        answer["Orders"] = [
            {"OrderId": leg.order_id, **({"ExternalReference": r} if (r := leg.external_reference) else {})}
            for leg in legs
        ]
    return ok(answer)


def _draft(ticket: Ticket, inst: Instrument, now: float, request_id: str | None) -> Order:
    """The order a ticket describes, before the book gives it an id and a status."""
    price = None if ticket.order_type == "Market" or ticket.price is None else float(ticket.price)
    return Order("", inst, ticket.buy_sell, ticket.amount, ticket.order_type, ticket.duration, "", now, price=price,
                 external_reference=ticket.external_reference, request_id=request_id, manual_order=ticket.manual,
                 trailing_distance=ticket.trailing_distance, trailing_step=ticket.trailing_step,
                 expires_at=ticket.expires_at)  # fmt: skip
