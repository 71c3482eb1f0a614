"""Signal → target position → order amount (DESIGN §4b). Pure: no I/O, no clock.

Three states per instrument: long `quantity`, flat, short `quantity` (only with ALLOW_SHORT).
BUY when not long → long (a short is closed in the same order); SELL when long → flat, or short
with ALLOW_SHORT; SELL when flat → short only with ALLOW_SHORT; repeated signals do nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, Decimal

from bot.domain import (
    EXTERNAL_REFERENCE_PREFIX,
    Decision,
    Duration,
    InstrumentRules,
    NoOrderCode,
    OrderIntent,
    Side,
    Signal,
    WatchItem,
)

DURATION_PREFERENCE = (Duration.DAY, Duration.IMMEDIATE_OR_CANCEL, Duration.FILL_OR_KILL)
MAX_REFERENCE = 50
REFERENCE_TOKEN_CHARS = 10  # 40 random bits: unique across DB loss and across bots


@dataclass(frozen=True)
class NoOrder:
    """A signal that leads to no order, and why (recorded, not sent)."""

    instrument_id: str
    reason: str
    code: NoOrderCode | None = None  # set when it deserves an `orders` row (its error_code), e.g. rounds to nothing
    side: Side | None = None
    amount: Decimal = Decimal(0)

    @property
    def recorded(self) -> bool:
        return self.code is not None


def target_position(signal: Signal, current: Decimal, quantity: Decimal, allow_short: bool) -> Decimal | None:
    """The net position the signal asks for, or None when it changes nothing."""
    if signal is Signal.BUY:
        return None if current > 0 else quantity
    if signal is Signal.SELL:
        if current < 0:
            return None
        if current > 0:
            return -quantity if allow_short else Decimal(0)
        return -quantity if allow_short else None
    return None


def round_amount(amount: Decimal, rules: InstrumentRules) -> Decimal:
    """Round down to `AmountDecimals` and to a whole number of lots."""
    step = Decimal(1).scaleb(-rules.amount_decimals)
    rounded = amount.quantize(step, rounding=ROUND_DOWN)
    if rules.lot_size and rules.lot_size > 0:
        rounded = (rounded / rules.lot_size).to_integral_value(rounding=ROUND_DOWN) * rules.lot_size
    return rounded


def market_duration(rules: InstrumentRules) -> Duration:
    """DayOrder when allowed for Market orders, else ImmediateOrCancel, else FillOrKill."""
    for duration in DURATION_PREFERENCE:
        if duration in rules.market_durations:
            return duration
    return rules.market_durations[0] if rules.market_durations else Duration.DAY


def external_reference(cycle_id: int, item: WatchItem, side: Side, token: str | None = None) -> str:
    """`sb-<cycle>-<AssetType>-<Uic>-<B|S>-<token>` (≤ 50 chars): ties an order to its cycle and instrument.

    Cycle numbers restart when the metrics DB is new, and several bots may trade one account, so the random
    `token` (REFERENCE_TOKEN_CHARS hex digits) makes the reference unique for the account; when the whole would
    be too long, the AssetType is shortened, never the token.
    """
    token = token or uuid.uuid4().hex[:REFERENCE_TOKEN_CHARS]
    fixed = f"{EXTERNAL_REFERENCE_PREFIX}{cycle_id}--{item.uic}-{side.value[0]}-{token}"
    asset_type = item.asset_type[: max(0, MAX_REFERENCE - len(fixed))]
    return f"{EXTERNAL_REFERENCE_PREFIX}{cycle_id}-{asset_type}-{item.uic}-{side.value[0]}-{token}"[:MAX_REFERENCE]


def plan_order(
    decision: Decision,
    item: WatchItem,
    current: Decimal,
    rules: InstrumentRules,
    *,
    cycle_id: int,
    allow_short: bool,
    quantity: Decimal,
    request_id: str | None = None,
) -> OrderIntent | NoOrder:
    """The order that moves `current` to the signal's target, or `NoOrder` with the reason."""
    iid = item.id
    short_ok = allow_short and not rules.short_trade_disabled
    target = target_position(decision.signal, current, quantity, short_ok)
    if target is None:
        state = "long" if current > 0 else "short" if current < 0 else "flat"
        return NoOrder(iid, f"{decision.signal.value} while {state}: nothing to do")
    delta = target - current
    if delta == 0:
        return NoOrder(iid, "already at target")
    side = Side.BUY if delta > 0 else Side.SELL
    amount = round_amount(abs(delta), rules)
    if amount <= 0 or amount < rules.minimum_trade_size:
        return NoOrder(
            iid,
            f"amount {abs(delta)} rounds to {amount}, below the minimum trade size {rules.minimum_trade_size} "
            f"(AmountDecimals {rules.amount_decimals}, lot size {rules.lot_size or 'none'})",
            NoOrderCode.AMOUNT_TOO_SMALL,
            side=side,
            amount=abs(delta),
        )
    if not rules.tradable:
        reason = "instrument is not tradable (instrument details)"
        return NoOrder(iid, reason, NoOrderCode.NOT_TRADABLE, side=side, amount=amount)
    opening = target != 0 and (current == 0 or (target > 0) != (current > 0))
    reduces = current != 0 and (delta > 0) != (current > 0)  # closes or reverses: its legs are cancelled first
    return OrderIntent(
        item=item,
        side=side,
        amount=amount,
        duration=market_duration(rules),
        external_reference=external_reference(cycle_id, item, side),
        request_id=request_id or str(uuid.uuid4()),
        opening=opening,
        signal_bar_time=decision.bar_time,
        reason=decision.reason,
        reduces=reduces,
    )


def bar_key(moment: datetime | None) -> str:
    """The signal bar as stored in the `orders` table (UTC ISO)."""
    from bot.clock import utc_iso

    return utc_iso(moment) if moment is not None else ""
