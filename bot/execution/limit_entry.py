"""ORDER_TYPE=Limit: opening orders as limit orders inside the quote, cancelled when unfilled for LIMIT_TTL_CYCLES.

A buy is limited LIMIT_OFFSET_PCT below the ask (rounded down to a tick), a sell that far above the bid (rounded up),
GoodTillCancel. Its stop-loss / take-profit are set from the limit price (the price it fills at or better). Closing
orders stay market orders: a close must happen.

While a limit entry may still be working (placed in the last LIMIT_TTL_CYCLES cycles), no other opening order goes to
that instrument. Each cycle, a limit entry placed LIMIT_TTL_CYCLES or more cycles ago that Saxo still lists as working
is cancelled (its legs go with it) and recorded: `error_code` LimitExpired on its row, and an event. A limit entry that
filled is an ordinary position from then on.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING

from loguru import logger

from bot.domain import Duration, InstrumentRules, OrderIntent, Quote, Side
from bot.errors import AuthError, BotError
from bot.execution.protection import HUNDRED, entry_price, to_tick

if TYPE_CHECKING:
    from bot.wiring import Context

EXPIRED = "LimitExpired"
SETTLE_WINDOW = 5  # cycles after its TTL during which an unfilled limit entry is still looked for


def limit_price(side: Side, quote: Quote | None, offset_pct: Decimal, rules: InstrumentRules) -> Decimal | None:
    price = entry_price(side, quote)
    if price is None:
        return None
    if side is Side.BUY:
        return to_tick(price * (1 - offset_pct / HUNDRED), rules, up=False)
    return to_tick(price * (1 + offset_pct / HUNDRED), rules, up=True)


def as_limit(intent: OrderIntent, quote: Quote | None, offset_pct: Decimal, rules: InstrumentRules) -> OrderIntent:
    """The opening intent as a GoodTillCancel limit order (unchanged when there is no quote to price it)."""
    price = limit_price(intent.side, quote, offset_pct, rules)
    if price is None or price <= 0:
        return intent
    return replace(intent, limit_price=price, duration=Duration.GOOD_TILL_CANCEL)


def limit_quote(intent: OrderIntent, quote: Quote | None) -> Quote | None:
    """The quote the legs are priced from: the limit price itself for a limit entry."""
    if intent.limit_price is None:
        return quote
    price = float(intent.limit_price)
    return Quote(intent.instrument_id, bid=price, ask=price)


def working_limit_instruments(ctx: Context, cycle_id: int) -> set[str]:
    """Instruments with a limit entry placed within the last LIMIT_TTL_CYCLES cycles (it may still be working)."""
    ttl = ctx.settings.limit_ttl_cycles
    rows = ctx.store.limit_entries(cycle_id - ttl + 1, cycle_id)
    return {row.instrument_id for row in rows if row.error_code is None}


def expire_limit_entries(ctx: Context, cycle_id: int) -> list[str]:
    """Cancel limit entries still working LIMIT_TTL_CYCLES cycles after they were placed; their OrderIds."""
    ttl = ctx.settings.limit_ttl_cycles
    rows = [r for r in ctx.store.limit_entries(cycle_id - ttl - SETTLE_WINDOW, cycle_id - ttl) if r.order_id]
    rows = [r for r in rows if r.error_code is None]
    if not rows:
        return []
    log = logger.bind(phase="place")
    try:
        working = {order.order_id for order in ctx.saxo.working_orders()}
        stale = [r for r in rows if r.order_id in working]
        outcome = ctx.saxo.cancel_orders([r.order_id for r in stale if r.order_id], ctx.account.account_key)
    except AuthError:
        raise
    except BotError as exc:
        log.warning("unfilled limit entries not checked this cycle: {}", exc)
        return []
    now = ctx.clock.now()
    done = []
    for row in stale:
        code = outcome.get(row.order_id or "")
        if code is not None:
            log.warning("limit entry {} could not be cancelled ({}); tried again next cycle", row.order_id, code)
            continue
        message = f"limit entry {row.order_id} unfilled after {ttl} cycle(s): cancelled"
        ctx.store.update_order(row.id, error_code=EXPIRED, error_message=message)
        ctx.store.add_event("protection", message, at=now, details={"instrument_id": row.instrument_id})
        log.info("{}", message)
        done.append(row.order_id or "")
    return done
