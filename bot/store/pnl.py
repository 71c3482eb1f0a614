"""Fill prices and realised P&L in the metrics DB (`orders.fill_price/filled_at/realized_pnl`,
`order_legs.realized_pnl`), and the daily P&L `history --days` shows. `PnlStore` is mixed into `Store`.

Realised P&L uses the average-cost method, per instrument, over the bot's own fills in the order they happened
(an order row by its `created_at`, a filled stop / take-profit by when it was noticed, both on the bot's clock):
an opening fill moves the average price; a closing fill realises `closed amount x (fill - average)` (the mirror
for a short); a reversal closes the old position and opens the rest at its fill price. Average cost rather than
FIFO because Saxo nets an instrument into one position with one average open price: the figures then match
what Saxo shows. The P&L is in the instrument's price currency (fill prices are), not converted.

What the bot did not trade (positions opened by hand, or before the metrics DB) is not in it. A placed order
whose fill is still being looked up holds its instrument's replay back until it is known, so no close is
computed against an incomplete position; one older than `FILL_LOOKBACK` (never found) is left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select, update

from bot.domain.statuses import OrderStatus
from bot.store.models import cycles, day_baselines, order_legs, orders, to_decimal
from bot.store.queries import legs_of_bot, of_bot
from bot.store.records import OrderView, _View, iso

FILL_LOOKBACK = timedelta(days=7)  # Saxo's order log is read this far back for fills (reconcile.LOOKBACK)
NOT_FILLED = "NotFilled"  # error_code of a placed order that ended at Saxo with no fill: no longer looked up
PLACES = Decimal("1E-10")  # NUMERIC(28, 10)


@dataclass(frozen=True, slots=True)
class Fill:
    """One fill of the instrument, in the order it happened: `amount` signed (BUY +, SELL -)."""

    key: tuple[str, int]  # ("order" | "leg", row id)
    amount: Decimal
    price: Decimal


def average_cost(fills: Iterable[Fill]) -> dict[tuple[str, int], Decimal]:
    """Realised P&L of each fill that closed something (0 included), by key; opening fills are left out."""
    position, average = Decimal(0), Decimal(0)
    realised: dict[tuple[str, int], Decimal] = {}
    for fill in fills:
        if fill.amount == 0:
            continue
        if position == 0 or (position > 0) == (fill.amount > 0):
            total = abs(position) + abs(fill.amount)
            average = (abs(position) * average + abs(fill.amount) * fill.price) / total
            position += fill.amount
            continue
        closed = min(abs(fill.amount), abs(position))
        direction = 1 if position > 0 else -1
        realised[fill.key] = (closed * (fill.price - average) * direction).quantize(PLACES)
        position += fill.amount
        if position == 0:
            average = Decimal(0)
        elif (position > 0) != (direction > 0):  # reversed: the rest opened at this fill's price
            average = fill.price
    return realised


@dataclass(frozen=True, slots=True)
class DayPnl(_View):
    """One trading day (TIMEZONE): its baseline, the last recorded account value, and the realised P&L."""

    day: str
    baseline: Decimal | None
    end_value: Decimal | None
    pnl: Decimal | None  # end_value - baseline
    realized_pnl: Decimal  # of the closes the bot made that day (orders and filled stops / take-profits)


class PnlStore:
    """Methods `Store` gains for fills and P&L; relies on its `_write`/`_read` transactions. Fills are settled
    and P&L replayed over this bot's orders (`bot`), not those of other bots sharing the DB on other accounts."""

    bot: str | None = None

    def _write(self, action: str) -> AbstractContextManager[Connection]:  # pragma: no cover - Store's
        raise NotImplementedError

    def _read(self, action: str) -> AbstractContextManager[Connection]:  # pragma: no cover - Store's
        raise NotImplementedError

    def orders_without_fill(self, now: datetime, limit: int = 50) -> list[OrderView]:
        """Placed orders (with a Saxo OrderId) whose fill price is not known yet, newest first."""
        query = (
            select(orders)
            .where(
                orders.c.status == OrderStatus.PLACED.value,
                orders.c.order_id.is_not(None),
                orders.c.fill_price.is_(None),
                orders.c.error_code.is_(None),
                orders.c.created_at >= iso(now - FILL_LOOKBACK),
                of_bot(self.bot),
            )
            .order_by(orders.c.id.desc())
            .limit(limit)
        )
        with self._read("list orders without a fill price") as conn:
            return [OrderView.from_row(row) for row in conn.execute(query).mappings()]

    def record_fill(self, row_id: int, price: Decimal, filled_at: datetime | None, now: datetime) -> None:
        values = {"fill_price": to_decimal(price), "filled_at": iso(filled_at), "updated_at": iso(now)}
        with self._write(f"record the fill of order row {row_id}") as conn:
            conn.execute(update(orders).where(orders.c.id == row_id).values(values))

    def record_not_filled(self, row_id: int, now: datetime) -> None:
        """The order ended at Saxo (cancelled, expired) with no fill: stop looking for one."""
        values = {
            "error_code": NOT_FILLED,
            "error_message": "ended at Saxo without a fill (cancelled or expired)",
            "updated_at": iso(now),
        }
        with self._write(f"record order row {row_id} as not filled") as conn:
            conn.execute(update(orders).where(orders.c.id == row_id).values(values))

    def update_realized_pnl(self, instrument_ids: Sequence[str], now: datetime) -> int:
        """Replay each instrument's fills (average cost) and write the realised P&L of its closes; returns how
        many rows changed. An instrument with a placed order whose fill is still looked up waits."""
        changed = 0
        with self._write("compute realised P&L") as conn:
            for iid in instrument_ids:
                fills = _fills(conn, iid, now, self.bot)
                if fills is None:
                    continue
                changed += _write_realised(conn, average_cost(fills))
        return changed

    def instruments_awaiting_pnl(self) -> set[str]:
        """Instruments with a filled stop / take-profit whose realised P&L is not worked out yet."""
        query = select(order_legs.c.instrument_id).where(
            order_legs.c.status == "filled",
            order_legs.c.fill_price.is_not(None),
            order_legs.c.realized_pnl.is_(None),
            legs_of_bot(self.bot),
        )
        with self._read("list filled related orders without P&L") as conn:
            return set(conn.execute(query.distinct()).scalars())

    def realized_pnl_total(self) -> Decimal:
        """Every close's realised P&L summed (orders and filled stops / take-profits)."""
        with self._read("sum the realised P&L") as conn:
            return _sum(conn, orders.c.realized_pnl, ()) + _sum(conn, order_legs.c.realized_pnl, ())

    def daily_pnl(self, days: int, timezone: str, *, now: datetime | None = None) -> list[DayPnl]:
        """The last `days` trading days with a baseline (up to `now`'s day), newest first."""
        query = select(day_baselines.c.trading_day, day_baselines.c.total_value).order_by(
            day_baselines.c.trading_day.desc()
        )
        if now is not None:
            query = query.where(day_baselines.c.trading_day <= now.astimezone(ZoneInfo(timezone)).date().isoformat())
        out = []
        with self._read("read the daily P&L") as conn:
            for day, baseline in conn.execute(query.limit(max(1, days))).all():
                start, end = _utc_range(day, timezone)
                last = conn.execute(
                    select(cycles.c.total_value)
                    .where(cycles.c.started_at >= start, cycles.c.started_at < end, cycles.c.total_value.is_not(None))
                    .order_by(cycles.c.started_at.desc(), cycles.c.id.desc())
                    .limit(1)
                ).scalar()
                in_day = (orders.c.created_at >= start, orders.c.created_at < end)
                legs_in_day = (order_legs.c.updated_at >= start, order_legs.c.updated_at < end)
                realised = _sum(conn, orders.c.realized_pnl, in_day) + _sum(
                    conn, order_legs.c.realized_pnl, legs_in_day
                )
                pnl = None if last is None or baseline is None else last - baseline
                out.append(DayPnl(day, baseline, last, pnl, realised))
        return out


def _fills(conn: Connection, iid: str, now: datetime, bot: str | None) -> list[Fill] | None:
    """The instrument's fills by `bot`'s orders and their legs, in order, or None while a recent placed order's
    fill is still unknown."""
    from bot.domain import equivalent_ids

    ids = equivalent_ids(iid)
    rows = conn.execute(
        select(orders.c.id, orders.c.side, orders.c.amount, orders.c.fill_price, orders.c.created_at)
        .where(
            orders.c.instrument_id.in_(ids),
            orders.c.status == OrderStatus.PLACED.value,
            (orders.c.error_code.is_(None)) | (orders.c.error_code != NOT_FILLED),
            of_bot(bot),
        )
        .order_by(orders.c.created_at, orders.c.id)
    ).all()
    cutoff = iso(now - FILL_LOOKBACK) or ""
    events: list[tuple[str, int, Fill]] = []
    for row_id, side, amount, price, created in rows:
        if price is None:
            if created >= cutoff:
                return None  # still being looked up: wait for it
            continue
        signed = amount if side == "BUY" else -amount
        events.append((created, row_id, Fill(("order", row_id), signed, price)))
    legs = conn.execute(
        select(
            order_legs.c.id, order_legs.c.side, order_legs.c.amount, order_legs.c.fill_price, order_legs.c.updated_at
        ).where(
            order_legs.c.instrument_id.in_(ids),
            order_legs.c.status == "filled",
            order_legs.c.fill_price.is_not(None),
            legs_of_bot(bot),
        )
    ).all()
    for leg_id, side, amount, price, noticed in legs:
        signed = amount if side == "BUY" else -amount
        events.append((noticed, leg_id, Fill(("leg", leg_id), signed, price)))
    return [fill for _, _, fill in sorted(events, key=lambda e: (e[0], e[2].key[0] == "order", e[1]))]


def _write_realised(conn: Connection, realised: dict[tuple[str, int], Decimal]) -> int:
    changed = 0
    for (kind, row_id), value in realised.items():
        table = orders if kind == "order" else order_legs
        query = (
            update(table)
            .where(table.c.id == row_id, (table.c.realized_pnl.is_(None)) | (table.c.realized_pnl != value))
            .values(realized_pnl=value)
        )
        changed += int(conn.execute(query).rowcount or 0)
    return changed


def _sum(conn: Connection, column: Any, where: Sequence[Any]) -> Decimal:
    """Sum of a Decimal column in Python: SQLite keeps these as text, which SQL's SUM would turn into floats."""
    query = select(column).where(column.is_not(None), *where)
    return sum((to_decimal(v) for v in conn.execute(query).scalars()), Decimal(0))


def _utc_range(day: str, timezone: str) -> tuple[str, str]:
    """The trading day (in `timezone`) as a [start, end) range of stored UTC times."""
    zone = ZoneInfo(timezone)
    first = datetime.combine(date.fromisoformat(day), time(0), zone)
    after = datetime.combine(date.fromisoformat(day) + timedelta(days=1), time(0), zone)
    return iso(first) or "", iso(after) or ""
