"""Orders (`/trade/v2/orders`, `/trade/v2/orders/precheck`), domain `OrderIntent` <-> wire.

The order body is a Market order with `ManualOrder: false` (the bot is automated; Saxo wants the flag
on every order) and the intent's ExternalReference (at most 50 characters, so a lost answer can be
looked up). `IsForceOpen: false` makes an opposite order close a position instead of hedging it; it is
omitted for Stock, StockOption and Etf, where Saxo refuses it.

Precheck answers HTTP 200 even when the order would fail: "Ok" *with* an `ErrorInfo` (e.g. not enough
cash, costs still computed) is a failure, and pre-trade disclaimers a headless bot cannot accept are
surfaced as readable strings.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bot.domain.models import OrderIntent, PrecheckOutcome
from bot.errors import SaxoRejected
from bot.saxo.ref_data import WIRE_DURATIONS
from bot.saxo.wire import WireError, as_dict, number_for_wire, opt_decimal, opt_id, opt_str, sub

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
        "OrderType": "Market",
        "OrderDuration": {"DurationType": WIRE_DURATIONS[intent.duration]},
        "ManualOrder": False,
        "ExternalReference": reference,
    }
    if intent.item.asset_type not in NO_FORCE_OPEN:
        body["IsForceOpen"] = False
    return body


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
