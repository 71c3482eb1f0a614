"""Fill prices of placed orders, and the realised P&L of the closes, settled a cycle after the order.

Saxo's answer to an order POST carries no fill price. The next cycle reads the order log once (only when a placed
order still lacks its fill) and records each filled order's price and time (`orders.fill_price`, `filled_at`); an
order that ended unfilled (cancelled, expired) is marked so it is not looked up again. Then the realised P&L of
every instrument that got a fill (or a filled stop / take-profit) is worked out from the fill prices in the DB
(average cost, bot/store/pnl.py). A failure here is logged and tried again next cycle: it never stops trading.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from loguru import logger

from bot.errors import AuthError, BotError
from bot.execution.lookup import CLOCK_SKEW
from bot.store.records import parse_iso

if TYPE_CHECKING:
    from bot.wiring import Context


def settle_fills(ctx: Context) -> list[str]:
    """Record the fills Saxo's order log shows for placed orders without one; returns the instruments filled."""
    log = logger.bind(phase="fills")
    try:
        return _settle(ctx)
    except AuthError:
        raise
    except BotError as exc:
        log.warning("fill prices not settled this cycle (tried again next cycle): {}", exc)
        return []


def _settle(ctx: Context) -> list[str]:
    now = ctx.clock.now()
    # An order confirmed only by its position ("position:<id>", no SourceOrderId) has no entry to look up.
    rows = [row for row in ctx.store.orders_without_fill(now) if not (row.order_id or "").startswith("position:")]
    filled: set[str] = set()
    if rows:
        since = min(parse_iso(row.created_at) for row in rows) - CLOCK_SKEW
        fates = ctx.saxo.order_fates([row.order_id for row in rows if row.order_id], since, ctx.account.account_key)
        for row in rows:
            fate = fates.get(row.order_id or "")
            if fate is None or fate.state == "working":
                continue  # not in the log yet (it lags), or a working order
            if fate.state == "filled" and fate.price is not None:
                ctx.store.record_fill(row.id, fate.price, fate.at, now)
                filled.add(row.instrument_id)
                logger.bind(instrument=row.instrument_id, phase="fills").info(
                    "order {} {} {} filled at {}", row.order_id, row.side, row.amount, fate.price
                )
            elif fate.state == "ended":
                ctx.store.record_not_filled(row.id, now)
    instruments = sorted(filled | ctx.store.instruments_awaiting_pnl())
    if instruments:
        ctx.store.update_realized_pnl(instruments, now)
    return sorted(filled)
