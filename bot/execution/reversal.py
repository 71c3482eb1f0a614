"""A reversal under protection goes as two orders: the close, then the opening order with its own legs. Pure.

One order of twice the position (long to short, or short to long) cannot carry related orders: Saxo wants them
for the order's whole amount, so a stop for twice the position would reverse the new one again when it fills. So
when protection is configured for the instrument (or the strategy names its own stop / take-profit), the reversal
is split in the same cycle:

1. the close, for the whole current position (`reduces`: the old position's legs are cancelled before it);
2. the opening order for the target amount, with legs for that amount (`follows_close`): planned as an opening from
   flat (ORDER_TYPE, protection, RISK_PER_TRADE_PCT apply as to any entry) and sent only once the close is placed;
   when the close fails or its outcome is unknown it is not sent, and its row says why (executor.py).

Both count against MAX_ORDERS_PER_CYCLE, the close first (bot/risk orders closing before opening), and both are
paced like any order (1 a second). Without protection a reversal stays one order, as before.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING

from bot.domain import Decision, InstrumentRules, NoOrderCode, OrderIntent
from bot.execution.planner import NoOrder, external_reference, round_amount
from bot.execution.protection import protection_asked

if TYPE_CHECKING:
    from bot.config import Settings


def is_reversal(intent: OrderIntent) -> bool:
    """One order that closes the position and opens the opposite one (the planner marks it opening and reducing)."""
    return intent.opening and intent.reduces


def split_wanted(settings: Settings, intent: OrderIntent, decision: Decision | None) -> bool:
    """A reversal whose new position must carry protection."""
    return is_reversal(intent) and protection_asked(settings, intent.instrument_id, decision)


def split_reversal(
    intent: OrderIntent, current: Decimal, rules: InstrumentRules, *, cycle_id: int
) -> tuple[OrderIntent, OrderIntent | NoOrder]:
    """The close of `current` (the intent's own reference and request id), then the opening order for the rest.

    The opening part gets its own ExternalReference and request id: it is a second order at Saxo.
    """
    held = abs(current)
    close = replace(
        intent,
        amount=held,
        opening=False,
        reduces=True,
        protection=None,
        limit_price=None,
        reason=f"{intent.reason}; reversal: the close first",
    )
    wanted = intent.amount - held
    amount = round_amount(wanted, rules)
    if amount <= 0 or amount < rules.minimum_trade_size:
        reason = (
            f"reversal: after the close, the opening amount {wanted} rounds to {amount}, below the minimum trade "
            f"size {rules.minimum_trade_size}"
        )
        code = NoOrderCode.AMOUNT_TOO_SMALL
        return close, NoOrder(intent.instrument_id, reason, code, side=intent.side, amount=wanted)
    opening = replace(
        intent,
        amount=amount,
        opening=True,
        reduces=False,
        follows_close=True,
        external_reference=external_reference(cycle_id, intent.item, intent.side),
        request_id=str(uuid.uuid4()),
        reason=f"{intent.reason}; reversal: opened once the close is placed",
    )
    return close, opening
