"""Protective prices for an opening order: stop-loss, take-profit, trailing stop, on the instrument's ticks. Pure.

The prices come from the quote the entry trades on: a long is bought at the ask, so its stop sits STOP_LOSS_PCT below
the ask and its take-profit TAKE_PROFIT_PCT above it; a short is sold at the bid, its stop above and its take-profit
below. A strategy's own `Decision.stop_price` / `take_profit_price` win over the percentages. Each price is rounded to
a whole number of ticks (TickSize, or the TickSizeScheme step at that price) away from the entry, never towards it,
so rounding never tightens a stop. A trailing stop (TRAILING_STOP_PCT) trails at that distance, rounded down to
whole ticks (at least one), with a one-tick step. The stop is a StopIfTraded when the instrument supports it, else a
Stop (Saxo's FX sample lists only Stop); a trailing one TrailingStopIfTraded, else TrailingStop. When the instrument
supports none of them (or no Limit for the take-profit) the order is refused with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import TYPE_CHECKING

from loguru import logger

from bot.domain import (
    Decision,
    InstrumentRules,
    NoOrderCode,
    OrderIntent,
    Protection,
    ProtectionSettings,
    Quote,
    Side,
)
from bot.execution.planner import NoOrder

if TYPE_CHECKING:
    from bot.config import Settings

HUNDRED = Decimal(100)
# Preferred first: "IfTraded" stops trigger on a trade, not on a quote alone (fewer stop-outs on a spread spike).
STOP_TYPES = ("StopIfTraded", "Stop")
TRAILING_TYPES = ("TrailingStopIfTraded", "TrailingStop")
LIMIT_TYPE = "Limit"


@dataclass(frozen=True, slots=True)
class Unprotected:
    """Protection was asked for but cannot be sent: the opening order is not sent either."""

    reason: str


def to_tick(price: Decimal, rules: InstrumentRules, *, up: bool) -> Decimal:
    """`price` on a whole tick, rounded up or down; unchanged when the instrument gives no tick size."""
    tick = rules.tick_at(price)
    if not tick:
        return price
    steps = (price / tick).to_integral_value(rounding=ROUND_CEILING if up else ROUND_FLOOR)
    return steps * tick


def entry_price(side: Side, quote: Quote | None) -> Decimal | None:
    """The price the entry trades at: the ask for a buy, the bid for a sell (the mid when that side is missing)."""
    if quote is None:
        return None
    value = (quote.ask if side is Side.BUY else quote.bid) or quote.price
    return Decimal(str(value)) if value else None


def protection_for(
    side: Side,
    quote: Quote | None,
    levels: ProtectionSettings,
    rules: InstrumentRules,
    decision: Decision | None = None,
) -> Protection | Unprotected | None:
    """The protection an opening order on `side` carries; None when none is configured or suggested."""
    wanted_stop = decision.stop_price if decision else None
    wanted_target = decision.take_profit_price if decision else None
    if not levels.any and wanted_stop is None and wanted_target is None:
        return None
    price = entry_price(side, quote)
    if price is None or price <= 0:
        return Unprotected("no usable quote to set the stop-loss / take-profit from")
    long = side is Side.BUY
    away = -1 if long else 1  # the stop's direction from the entry
    stop: Decimal | None = None
    trailing: Decimal | None = None
    step: Decimal | None = None
    if wanted_stop is not None:
        stop = Decimal(str(wanted_stop))
    elif levels.trailing_stop_pct:
        distance = price * levels.trailing_stop_pct / HUNDRED
        tick = rules.tick_at(price) or Decimal(0)
        trailing = max(tick, to_tick(distance, _flat_ticks(rules, tick), up=False)) if tick else distance
        step = tick or None
        stop = price + away * trailing
    elif levels.stop_loss_pct:
        stop = price * (1 + away * levels.stop_loss_pct / HUNDRED)
    target: Decimal | None = None
    kind: str | None = None
    if wanted_target is not None:
        target = Decimal(str(wanted_target))
    elif levels.take_profit_pct:
        target = price * (1 - away * levels.take_profit_pct / HUNDRED)
    if stop is not None:
        stop = to_tick(stop, rules, up=not long)  # further from the entry: down for a long, up for a short
        if (stop >= price) if long else (stop <= price):
            return Unprotected(f"stop {stop} is not {'below' if long else 'above'} the entry price {price}")
        if stop <= 0:
            return Unprotected(f"stop {stop} is not a positive price")
        kinds = TRAILING_TYPES if trailing is not None else STOP_TYPES
        kind = next((k for k in kinds if rules.supports(k)), None)
        if kind is None:
            return Unprotected(f"the instrument supports none of {', '.join(kinds)} (SupportedOrderTypes)")
    if target is not None:
        target = to_tick(target, rules, up=long)
        if (target <= price) if long else (target >= price):
            return Unprotected(f"take-profit {target} is not {'above' if long else 'below'} the entry price {price}")
        if target <= 0:
            return Unprotected(f"take-profit {target} is not a positive price")
        if not rules.supports(LIMIT_TYPE):
            return Unprotected("the instrument does not support Limit orders (SupportedOrderTypes)")
    stop_type = kind if stop is not None and kind is not None else STOP_TYPES[0]
    return Protection(stop=stop, take_profit=target, trailing=trailing, trailing_step=step, stop_order_type=stop_type)


def _flat_ticks(rules: InstrumentRules, tick: Decimal) -> InstrumentRules:
    """Rules with one tick everywhere: a trailing distance is counted in the ticks at the entry price."""
    return replace(rules, tick_size=tick, tick_scheme=(), scheme_default_tick=None)


def protection_asked(settings: Settings, instrument_id: str, decision: Decision | None) -> bool:
    """True when an opening order on the instrument must carry protection: a level is configured for it, or the
    strategy's decision names its own stop / take-profit."""
    if settings.protection_for(instrument_id).any:
        return True
    return decision is not None and bool(decision.stop_price or decision.take_profit_price)


def protect(
    settings: Settings,
    intent: OrderIntent,
    quote: Quote | None,
    rules: InstrumentRules,
    decision: Decision | None,
    *,
    flat: bool,
) -> OrderIntent | NoOrder:
    """The intent with its protection when it opens a position from flat; a NoOrder when the protection asked for
    cannot be set (an opening order is never sent unprotected when protection is configured).

    A reversal in one order can carry no related orders: Saxo wants them for the order's whole amount, which would
    reverse the new position again when they fill. So a reversal under protection is split first
    (`reversal.split_reversal`: the close, then an opening order from flat, `flat=True` here). One that still
    reaches this unsplit is sent as before, with a warning.
    """
    if not intent.opening or not protection_asked(settings, intent.instrument_id, decision):
        return intent
    if not flat:
        logger.bind(instrument=intent.instrument_id, phase="plan").warning(
            "a reversal carries no stop-loss / take-profit (its related orders would be for twice the position)"
        )
        return intent
    levels = settings.protection_for(intent.instrument_id)
    found = protection_for(intent.side, quote, levels, rules, decision)
    if isinstance(found, Unprotected):
        reason = f"not sent unprotected: {found.reason}"
        return NoOrder(intent.instrument_id, reason, NoOrderCode.UNPROTECTED, side=intent.side, amount=intent.amount)
    return intent if found is None else replace(intent, protection=found)
