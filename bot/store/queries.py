"""The read side's SQL, as pure statement builders (no connection, no I/O): `Store` runs them.

Each query is shaped to use an index: the started_at index for history and the daily summary (a bounded
range, never a full scan), (instrument_id, side, signal_bar_time) for the same-bar rule, status and
created_at for reconciliation.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, case, exists, func, or_, select, true

from bot.domain.statuses import CycleStatus, OrderStatus
from bot.store.models import cycles, order_legs, orders, signals
from bot.store.records import ACTED_STATUSES


def history(last: int) -> Select[Any]:
    newest_first = (cycles.c.started_at.desc(), cycles.c.id.desc())
    return select(cycles).order_by(*newest_first).limit(max(0, last))


def newest_start() -> Select[Any]:
    return select(func.max(cycles.c.started_at))


def one_cycle(cycle_id: int) -> Select[Any]:
    return select(cycles).where(cycles.c.id == cycle_id)


def signals_of(cycle_id: int) -> Select[Any]:
    return select(signals).where(signals.c.cycle_id == cycle_id).order_by(signals.c.id)


def orders_of(cycle_id: int) -> Select[Any]:
    return select(orders).where(orders.c.cycle_id == cycle_id).order_by(orders.c.id)


def of_bot(bot: str | None) -> ColumnElement[bool]:
    """Order rows of `bot` (its JOBSTORE_TABLE), and rows written before orders said whose they were; every row
    when `bot` is None. Bots sharing one metrics DB must not block, or settle, each other's orders."""
    return true() if bot is None else or_(orders.c.bot == bot, orders.c.bot.is_(None))


def legs_of_bot(bot: str | None) -> ColumnElement[bool]:
    """Stop-loss / take-profit legs whose entry is an order row of `bot` (see `of_bot`): one primary-key look-up
    per candidate leg, not a scan of the orders table."""
    if bot is None:
        return true()
    return exists().where(orders.c.id == order_legs.c.order_row_id, of_bot(bot))


def acted(instrument_id: str, side: str, signal_bar_time: str | None, bot: str | None = None) -> Select[Any]:
    return (
        select(orders.c.id)
        .where(
            orders.c.instrument_id == instrument_id,
            orders.c.side == side,
            orders.c.signal_bar_time == signal_bar_time,
            orders.c.status.in_(ACTED_STATUSES),
            of_bot(bot),
        )
        .limit(1)
    )


def pending_instruments(bot: str | None = None) -> Select[Any]:
    """Instruments with an order whose outcome is not known yet (few rows: uses the status index)."""
    pending = orders.c.status == OrderStatus.PENDING.value
    return select(orders.c.instrument_id).where(pending, of_bot(bot)).distinct()


def to_reconcile(limit: int, since: str | None, bot: str | None = None) -> Select[Any]:
    query = select(orders).where(
        orders.c.status.in_((OrderStatus.PENDING.value, OrderStatus.FAILED.value)),
        orders.c.external_reference.is_not(None),
        of_bot(bot),
    )
    if since is not None:
        query = query.where(orders.c.created_at >= since)
    return query.order_by(orders.c.id.desc()).limit(max(0, limit))


def daily(end_day: date, days: int) -> Select[Any]:
    """Per UTC day of `started_at` for the `days` days ending with `end_day`, newest first."""
    first = (end_day - timedelta(days=max(1, days) - 1)).isoformat()
    after = (end_day + timedelta(days=1)).isoformat()  # "2026-11-25" sorts before any time on that day
    day = func.substr(cycles.c.started_at, 1, 10).label("day")

    def tally(status: CycleStatus) -> Any:
        return func.coalesce(func.sum(case((cycles.c.status == status.value, 1), else_=0)), 0)

    def total(column: Any) -> Any:
        return func.coalesce(func.sum(column), 0)

    return (
        select(
            day,
            func.count().label("cycles"),
            tally(CycleStatus.OK).label("ok"),
            tally(CycleStatus.SKIPPED).label("skipped"),
            tally(CycleStatus.HALTED).label("halted"),
            tally(CycleStatus.ERROR).label("errors"),
            tally(CycleStatus.RUNNING).label("running"),
            total(cycles.c.orders_placed).label("orders_placed"),
            total(cycles.c.orders_rejected).label("orders_rejected"),
            total(cycles.c.orders_failed).label("orders_failed"),
            total(cycles.c.orders_blocked).label("orders_blocked"),
        )
        .where(cycles.c.started_at >= first, cycles.c.started_at < after)
        .group_by(day)
        .order_by(day.desc())
    )
