"""Orders (`/trade/v2/orders`, `/trade/v2/orders/precheck`), domain `OrderIntent` <-> wire.

The order body is a Market order with `ManualOrder: false` (the bot is automated; Saxo wants the flag
on every order) and the intent's ExternalReference (at most 50 characters, so a lost answer can be
looked up). `IsForceOpen: false` makes an opposite order close a position instead of hedging it; it is
omitted for Stock, StockOption and Etf, where Saxo refuses it.

An opening order may carry its protection in the `Orders` array (one request, one order for the rate limit): a
`StopIfTraded` (or `TrailingStopIfTraded` with `TrailingStopDistanceToMarket` and `TrailingStopStep`) and a `Limit`,
opposite side, same amount, `GoodTillCancel`, `ManualOrder: false` on each (Saxo wants it on nested orders too). The
answer lists their OrderIds in the same order, and a precheck judges each of them (`Orders[].ErrorInfo`).

Precheck answers HTTP 200 even when the order would fail: "Ok" *with* an `ErrorInfo` (e.g. not enough
cash, costs still computed) is a failure, and pre-trade disclaimers a headless bot cannot accept are
surfaced as readable strings.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from bot.domain.models import OrderFate, OrderIntent, PlacedOrder, PrecheckOutcome, Protection
from bot.errors import SaxoRejected
from bot.saxo.ref_data import WIRE_DURATIONS
from bot.saxo.wire import WireError, as_dict, number_for_wire, opt_decimal, opt_id, opt_str, req_id, req_time, sub

ORDERS = "/trade/v2/orders"
PRECHECK = "/trade/v2/orders/precheck"
MAX_EXTERNAL_REFERENCE = 50
NO_FORCE_OPEN = frozenset({"Stock", "StockOption", "Etf"})
WIRE_SIDES = {"BUY": "Buy", "SELL": "Sell"}


def order_body(intent: OrderIntent, account_key: str) -> dict[str, Any]:
    """The JSON body of a market order. Raises ValueError for an intent Saxo would reject anyway."""
    reference = intent.external_reference
    if not reference or len(reference) > MAX_EXTERNAL_REFERENCE:
        limit = MAX_EXTERNAL_REFERENCE
        raise ValueError(f"ExternalReference must be 1..{limit} characters, got {len(reference)}")
    if intent.amount <= 0:
        raise ValueError(f"order amount must be positive, got {intent.amount}")
    body: dict[str, Any] = {
        "AccountKey": account_key,
        "Uic": intent.item.uic,
        "AssetType": intent.item.asset_type,
        "BuySell": WIRE_SIDES[intent.side.value],
        "Amount": number_for_wire(intent.amount),
        "OrderType": "Market" if intent.limit_price is None else "Limit",
        "OrderDuration": {"DurationType": WIRE_DURATIONS[intent.duration]},
        "ManualOrder": False,
        "ExternalReference": reference,
    }
    if intent.limit_price is not None:
        body["OrderPrice"] = number_for_wire(intent.limit_price)
    if intent.item.asset_type not in NO_FORCE_OPEN:
        body["IsForceOpen"] = False
    if intent.protection is not None and intent.protection.legs:
        body["Orders"] = related_orders(intent, intent.protection, account_key)
    return body


def related_orders(intent: OrderIntent, protection: Protection, account_key: str) -> list[dict[str, Any]]:
    """The stop (or trailing stop) and take-profit legs, in the order of `protection.legs`."""
    common: dict[str, Any] = {
        "AccountKey": account_key,
        "Uic": intent.item.uic,
        "AssetType": intent.item.asset_type,
        "BuySell": WIRE_SIDES["SELL" if intent.side.value == "BUY" else "BUY"],
        "Amount": number_for_wire(intent.amount),
        "OrderDuration": {"DurationType": "GoodTillCancel"},
        "ManualOrder": False,
    }
    legs: list[dict[str, Any]] = []
    if protection.stop is not None:
        if protection.trailing is not None:
            step = protection.trailing_step or protection.trailing
            legs.append(
                {
                    **common,
                    "OrderType": protection.stop_order_type,
                    "OrderPrice": number_for_wire(protection.stop),
                    "TrailingStopDistanceToMarket": number_for_wire(protection.trailing),
                    "TrailingStopStep": number_for_wire(step),
                }
            )
        else:
            stop = {"OrderType": protection.stop_order_type, "OrderPrice": number_for_wire(protection.stop)}
            legs.append({**common, **stop})
    if protection.take_profit is not None:
        legs.append({**common, "OrderType": "Limit", "OrderPrice": number_for_wire(protection.take_profit)})
    return legs


def precheck_body(intent: OrderIntent, account_key: str) -> dict[str, Any]:
    return {**order_body(intent, account_key), "FieldGroups": ["Costs"]}


def precheck_outcome(body: Any) -> PrecheckOutcome:
    answer = as_dict(body, "precheck")
    info = sub(answer, "ErrorInfo")
    result = opt_str(answer, "PreCheckResult")
    if result is None:
        if not info:
            raise WireError("PreCheckResult: missing")
        result = "Error"
    notices = disclaimers(answer.get("PreTradeDisclaimers")) + disclaimers(info.get("PreTradeDisclaimers"))
    leg_errors = related_errors(answer)
    if leg_errors and not info:
        info = {"ErrorCode": leg_errors[0][0], "Message": "related order: " + "; ".join(m for _, m in leg_errors)}
    return PrecheckOutcome(
        ok=result == "Ok" and not info,
        result=result,
        error_code=opt_str(info, "ErrorCode"),
        error_message=opt_str(info, "Message"),
        estimated_cost=estimated_cost(answer),
        estimated_cash_required=opt_decimal(answer, "EstimatedCashRequired"),
        disclaimers=notices,
    )


def rejected_precheck(exc: SaxoRejected) -> PrecheckOutcome:
    """A 400 on precheck is a business answer (bad amount, unknown instrument...), not a crash."""
    message = exc.message
    if exc.model_state:
        message += " " + "; ".join(f"{k}: {v}" for k, v in exc.model_state.items())
    return PrecheckOutcome(ok=False, result="Rejected", error_code=exc.error_code, error_message=message)


def estimated_cost(answer: dict[str, Any]) -> Decimal | None:
    for key in ("EstimatedTotalCostInAccountCurrency", "EstimatedTotalCost"):
        value = opt_decimal(answer, key)
        if value is not None:
            return value
    costs = sub(answer, "Cost")
    numeric = [k for k, v in costs.items() if isinstance(v, int | float) and not isinstance(v, bool)]
    parts = [opt_decimal(costs, k) for k in numeric]
    return sum((p for p in parts if p is not None), Decimal(0)) if parts else None


def disclaimers(value: Any) -> tuple[str, ...]:
    """`PreTradeDisclaimers` ({DisclaimerContext, DisclaimerTokens[]} or a list of them) as lines."""
    if value is None:
        return ()
    entries = value if isinstance(value, list) else [value]
    lines: list[str] = []
    for entry in entries:
        if isinstance(entry, str):
            lines.append(entry)
            continue
        disclaimer = as_dict(entry, "PreTradeDisclaimers")
        context = opt_str(disclaimer, "DisclaimerContext") or "disclaimer"
        tokens = disclaimer.get("DisclaimerTokens") or []
        if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
            raise WireError("DisclaimerTokens: expected a list of strings")
        if tokens:
            lines.extend(f"{context}: {token}" for token in tokens)
        else:
            lines.append(context)
    return tuple(lines)


def related_errors(answer: dict[str, Any]) -> list[tuple[str, str]]:
    """(ErrorCode, Message) of each related order in `Orders` that carries an ErrorInfo."""
    errors = []
    for entry in answer.get("Orders") or []:
        info = sub(as_dict(entry, "Orders[]"), "ErrorInfo")
        if info:
            errors.append((opt_str(info, "ErrorCode") or "Error", opt_str(info, "Message") or ""))
    return errors


def related_ids(body: Any) -> tuple[str, ...]:
    """The related orders' OrderIds from an order answer, in the order sent ("" for a leg without one)."""
    answer = as_dict(body, "order")
    return tuple(opt_id(as_dict(e, "Orders[]"), "OrderId") or "" for e in answer.get("Orders") or [])


def placed(order_id: str, body: Any, intent: OrderIntent) -> str | PlacedOrder:
    """The OrderId alone for a plain order; with its related orders' ids when legs were sent."""
    if intent.protection is None or not intent.protection.legs:
        return order_id
    return PlacedOrder(order_id, related_ids(body))


def order_answer(body: Any) -> tuple[str | None, tuple[str | None, str | None] | None]:
    """(OrderId, None) for an accepted order; (None, (ErrorCode, Message)) when a 2xx carries ErrorInfo.

    Raises WireError when the body is neither: then nobody knows whether the order exists.
    """
    answer = as_dict(body, "order")
    order_id = opt_id(answer, "OrderId")
    if order_id:
        return order_id, None
    info = sub(answer, "ErrorInfo")
    if info:
        return None, (opt_str(info, "ErrorCode"), opt_str(info, "Message"))
    raise WireError("order answer has neither OrderId nor ErrorInfo")


def cancel_answer(body: Any, order_ids: Sequence[str]) -> dict[str, str | None]:
    """`{"Orders": [{"OrderId"} | {"OrderId", "ErrorInfo"}]}` -> id: None (cancelled) or its ErrorCode.

    An id the answer does not mention counts as cancelled only when the answer lists nothing at all (Saxo may
    answer a plain 200); an entry with an ErrorInfo and no OrderId is given to the ids in the order sent.
    """
    answer = as_dict(body, "cancel") if body is not None else {}
    entries = [as_dict(e, "Orders[]") for e in answer.get("Orders") or []]
    outcome: dict[str, str | None] = dict.fromkeys(order_ids)
    for index, entry in enumerate(entries):
        order_id = opt_id(entry, "OrderId") or (order_ids[index] if index < len(order_ids) else None)
        info = sub(entry, "ErrorInfo")
        if order_id is not None and info:
            outcome[order_id] = opt_str(info, "ErrorCode") or "Error"
    return outcome


def fates_from_activities(rows: list[Any], order_ids: Sequence[str]) -> dict[str, OrderFate]:
    """The newest order-log entry of each of `order_ids` (`/cs/v1/audit/orderactivities` Data[]) as an OrderFate:
    `Fill`/`FinalFill` -> filled at AveragePrice (over all the order's fills; ExecutionPrice is the last part's
    alone, so it is the fallback, then Price), `Cancelled`/`Expired`/`DoneForDay` -> ended, anything else ->
    working. Orders the log does not show are left out."""
    wanted = set(order_ids)
    newest: dict[str, dict[str, Any]] = {}
    for entry in rows:
        row = as_dict(entry, "orderactivities Data[]")
        order_id = req_id(row, "OrderId")
        if order_id not in wanted:
            continue
        key = _log_key(row)
        old = newest.get(order_id)
        if old is None or key >= _log_key(old):
            newest[order_id] = row
    fates = {}
    for order_id, row in newest.items():
        status = opt_str(row, "Status") or ""
        if status in ("Fill", "FinalFill"):
            price = next((p for k in ("AveragePrice", "ExecutionPrice", "Price") if (p := opt_decimal(row, k))), None)
            fates[order_id] = OrderFate(order_id, "filled", price, req_time(row, "ActivityTime"))
        elif status in ("Cancelled", "Expired", "DoneForDay"):
            fates[order_id] = OrderFate(order_id, "ended", None, req_time(row, "ActivityTime"))
        else:
            fates[order_id] = OrderFate(order_id, "working")
    return fates


def _log_key(row: dict[str, Any]) -> tuple[Any, int]:
    log_id = opt_id(row, "LogId") or "0"
    return req_time(row, "ActivityTime"), int(log_id) if log_id.isdigit() else 0


def related_from_rows(orders: list[Any], positions: list[Any], reference: str) -> list[tuple[str, str]]:
    """(OrderId, order type) of the related orders of the order with ExternalReference `reference`: from its entry's
    `RelatedOpenOrders` in `/port/v1/orders/me` while it works, or from the position it opened (PositionBase)."""
    found: dict[str, str] = {}
    rows = [as_dict(r, "orders Data[]") for r in orders]
    rows += [sub(as_dict(r, "positions Data[]"), "PositionBase") for r in positions]
    for row in rows:
        if opt_str(row, "ExternalReference") != reference:
            continue
        for entry in row.get("RelatedOpenOrders") or []:
            info = as_dict(entry, "RelatedOpenOrders[]")
            kind = opt_str(info, "OpenOrderType") or opt_str(info, "OrderType") or ""
            found.setdefault(req_id(info, "OrderId"), kind)
    return list(found.items())
