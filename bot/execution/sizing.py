"""RISK_PER_TRADE_PCT: size an opening order so that a fill at its stop loses that share of the account. Pure.

loss per unit = |entry - stop| x (account-currency value of one unit / entry price); amount = TotalValue x pct / 100
/ loss per unit, rounded down to AmountDecimals and the lot size, and never above the watchlist quantity (the
planned amount). Without a stop there is nothing to size against: the planned amount stands.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from bot.domain import InstrumentRules, NoOrderCode, OrderIntent
from bot.execution.planner import NoOrder, round_amount

HUNDRED = Decimal(100)


def risk_sized(
    intent: OrderIntent,
    rules: InstrumentRules,
    *,
    pct: Decimal,
    total_value: Decimal | None,
    entry: Decimal | None,
    unit_value: Decimal | None,
) -> OrderIntent | NoOrder:
    """The intent with its amount cut to what risks `pct` % of `total_value` at its stop (legs follow the amount)."""
    protection = intent.protection
    if not pct or protection is None or protection.stop is None or not intent.opening:
        return intent
    if not total_value or total_value <= 0 or not entry or entry <= 0 or not unit_value or unit_value <= 0:
        reason = "RISK_PER_TRADE_PCT: no account value or price to size the order from"
        return NoOrder(
            intent.instrument_id, reason, NoOrderCode.AMOUNT_TOO_SMALL, side=intent.side, amount=intent.amount
        )
    loss_per_unit = abs(entry - protection.stop) * unit_value / entry
    if loss_per_unit <= 0:
        return intent
    wanted = total_value * pct / HUNDRED / loss_per_unit
    amount = min(round_amount(wanted, rules), intent.amount)
    if amount <= 0 or amount < rules.minimum_trade_size:
        reason = (
            f"RISK_PER_TRADE_PCT {pct} % of {total_value} at a stop {abs(entry - protection.stop)} away allows "
            f"{wanted:.6f}, which rounds to {amount}, below the minimum trade size {rules.minimum_trade_size}"
        )
        return NoOrder(intent.instrument_id, reason, NoOrderCode.AMOUNT_TOO_SMALL, side=intent.side, amount=wanted)
    return intent if amount == intent.amount else replace(intent, amount=amount)
