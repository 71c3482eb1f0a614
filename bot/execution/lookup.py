"""Was this order taken by Saxo? Matching what the bot sent against what Saxo's views show.

An unclear answer to an order POST (timeout, 5xx, a cut-off body) leaves the order's fate unknown, and
Saxo's portfolio views can lag the order by seconds. So an order that is not found yet stays `pending` and
is looked up again each cycle; only after `VISIBILITY_GRACE` with no trace is it `failed` (DESIGN §5).

A trace matches only the whole order: the same ExternalReference, instrument, side and amount (a position
may hold less than the order after netting), seen no earlier than the order was written minus `CLOCK_SKEW`.
A reference alone is not proof: an older order with the same reference (a lost metrics DB restarting the
cycle numbers) must never confirm a new one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from bot.domain import equivalent_ids

if TYPE_CHECKING:
    from bot.saxo.orderlog import OrderTrace

VISIBILITY_GRACE = timedelta(minutes=5)  # how long Saxo's views get to show an order before "not found" counts
CLOCK_SKEW = timedelta(minutes=2)  # the bot's clock against Saxo's, when comparing times
# Which view to believe when several show the order: the order log knows the final state.
_PREFERENCE = {"filled": 0, "ended": 0, "working": 1, "position": 2, "rejected": 3}


@dataclass(frozen=True, slots=True)
class SentOrder:
    """What the bot sent (or may have sent), as recorded in its `orders` row."""

    external_reference: str
    instrument_id: str
    side: str  # "BUY" | "SELL"
    amount: Decimal
    written_at: datetime  # the row's created_at: the order cannot be older

    @property
    def since(self) -> datetime:
        """From when Saxo's order log is read for it."""
        return self.written_at - CLOCK_SKEW


def matches(trace: OrderTrace, order: SentOrder) -> bool:
    if trace.external_reference != order.external_reference:
        return False
    if trace.instrument_id not in equivalent_ids(order.instrument_id) or trace.side.value != order.side:
        return False
    if trace.amount is None:
        return False
    if trace.state == "position":  # netting and reversals: a position holds at most the order's amount
        if not 0 < trace.amount <= order.amount:
            return False
    elif trace.amount != order.amount:
        return False
    return trace.at is None or trace.at >= order.since


def find(traces: Sequence[OrderTrace], order: SentOrder) -> OrderTrace | None:
    """The view that best shows this order, or None when none does (yet)."""
    found = [t for t in traces if matches(t, order)]
    return min(found, key=lambda t: _PREFERENCE.get(t.state, 9)) if found else None


def past_grace(order: SentOrder, now: datetime) -> bool:
    """True once Saxo's views have had time to show the order: then "not found" means not placed."""
    return now - order.written_at >= VISIBILITY_GRACE
