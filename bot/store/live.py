"""What `python main.py report` reads from the metrics DB: the account value per cycle, each instrument's price per
cycle (its signals), and every fill the bot made (placed orders with a fill price, filled stops / take-profits).

Read-only. Cycles and signals are those started since `since`; fills are all of them (up to `until`), so a trade
opened before the window and closed inside it still pairs with its entry. Crypto pairs reported as FxSpot or
FxCrypto count as one instrument (`equivalent_ids`), as in the realised P&L (bot/store/pnl.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import select

from bot.domain import equivalent_ids
from bot.domain.statuses import OrderStatus
from bot.store.models import cycles, order_legs, orders, signals
from bot.store.records import iso, parse_iso

if TYPE_CHECKING:
    from bot.store.store import Store


@dataclass(frozen=True, slots=True)
class LiveFill:
    """One execution: `side` BUY/SELL, `kind` "order" or the leg's role (stop_loss, take_profit, ...)."""

    instrument_id: str
    side: str
    amount: Decimal
    price: Decimal
    at: datetime  # the fill time Saxo reported, else when the bot wrote (order) or noticed (leg) it
    kind: str


@dataclass
class LiveHistory:
    equity: list[tuple[datetime, Decimal]] = field(default_factory=list)  # (cycle start, account value)
    prices: dict[str, list[tuple[datetime, float]]] = field(default_factory=dict)  # instrument -> (cycle start, price)
    symbols: dict[str, str] = field(default_factory=dict)  # instrument -> symbol
    fills: list[LiveFill] = field(default_factory=list)  # in the order they happened (as the P&L replays them)


def canonical_id(instrument_id: str) -> str:
    return equivalent_ids(instrument_id)[0]


def read_live_history(store: Store, since: datetime, until: datetime) -> LiveHistory:
    start, end = iso(since) or "", iso(until) or ""
    out = LiveHistory()
    equity = (
        select(cycles.c.started_at, cycles.c.total_value)
        .where(cycles.c.started_at >= start, cycles.c.started_at <= end, cycles.c.total_value.is_not(None))
        .order_by(cycles.c.started_at, cycles.c.id)
    )
    priced = (
        select(cycles.c.started_at, signals.c.instrument_id, signals.c.symbol, signals.c.price)
        .join(cycles, signals.c.cycle_id == cycles.c.id)
        .where(cycles.c.started_at >= start, cycles.c.started_at <= end, signals.c.price.is_not(None))
        .order_by(cycles.c.started_at, cycles.c.id, signals.c.id)
    )
    placed = select(
        orders.c.id,
        orders.c.instrument_id,
        orders.c.symbol,
        orders.c.side,
        orders.c.amount,
        orders.c.fill_price,
        orders.c.filled_at,
        orders.c.created_at,
    ).where(
        orders.c.status == OrderStatus.PLACED.value,
        orders.c.fill_price.is_not(None),
        orders.c.created_at <= end,
    )
    legs = select(
        order_legs.c.id,
        order_legs.c.instrument_id,
        order_legs.c.role,
        order_legs.c.side,
        order_legs.c.amount,
        order_legs.c.fill_price,
        order_legs.c.updated_at,
    ).where(order_legs.c.status == "filled", order_legs.c.fill_price.is_not(None), order_legs.c.updated_at <= end)
    with store._read("read the live history for the report") as conn:
        out.equity = [(parse_iso(at), value) for at, value in conn.execute(equity).all()]
        for at, iid, symbol, price in conn.execute(priced).all():
            key = canonical_id(iid)
            out.prices.setdefault(key, []).append((parse_iso(at), float(price)))
            if symbol:
                out.symbols[key] = symbol
        events: list[tuple[str, bool, int, LiveFill]] = []
        for row_id, iid, symbol, side, amount, price, filled_at, created in conn.execute(placed).all():
            key = canonical_id(iid)
            if symbol:
                out.symbols.setdefault(key, symbol)
            fill = LiveFill(key, side, amount, price, parse_iso(filled_at or created), "order")
            events.append((created, True, row_id, fill))
        for leg_id, iid, role, side, amount, price, noticed in conn.execute(legs).all():
            fill = LiveFill(canonical_id(iid), side, amount, price, parse_iso(noticed), role)
            events.append((noticed, False, leg_id, fill))
    # the order of bot/store/pnl.py's replay: by the bot's time, a leg before an order at the same moment
    out.fills = [fill for *_, fill in sorted(events, key=lambda e: (e[0], e[1], e[2]))]
    return out
