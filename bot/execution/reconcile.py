"""Reconciliation: compare what Saxo holds with what the metrics DB recorded.

Before the first cycle: cycles left `running` by a dead process become `error`; orders left `pending`
(outcome unknown) or recorded `failed` are looked for in Saxo's order log, open orders and positions (matched
on the whole order, lookup.py) and corrected; positions the bot did not open are reported (and never touched
unless their instrument is on the watchlist); working orders the bot recorded as related orders (stop-loss,
take-profit) whose position is gone are cancelled (legs.py), other working orders are left alone. Between cycles,
`pending` orders are looked for again. A `pending` order Saxo does not show stays `pending` until
`VISIBILITY_GRACE` has passed since it was written, then it is `failed` (DESIGN §5). Every correction is logged
and stored as an event.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from loguru import logger

from bot.domain import EXTERNAL_REFERENCE_PREFIX, OrderStatus
from bot.errors import AuthError, BotError
from bot.execution.legs import cancel_orphans
from bot.execution.lookup import SentOrder, find, past_grace
from bot.store.records import parse_iso

if TYPE_CHECKING:
    from bot.saxo.orderlog import OrderTrace
    from bot.store import OrderView
    from bot.wiring import Context

LOOKBACK = timedelta(days=7)  # the order log is read at most this far back


@dataclass
class ReconcileReport:
    interrupted_cycles: int = 0
    confirmed: list[str] = field(default_factory=list)  # pending/failed rows found at Saxo → placed
    not_found: list[str] = field(default_factory=list)  # pending rows absent at Saxo past the grace → failed
    rejected: list[str] = field(default_factory=list)  # pending rows Saxo's order log shows rejected
    still_pending: list[str] = field(default_factory=list)  # pending rows not shown yet, within the grace
    foreign_positions: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)  # our related orders whose position was gone: cancelled
    error: str | None = None


def reconcile_at_startup(ctx: Context) -> ReconcileReport:
    report = ReconcileReport()
    now = ctx.clock.now()
    log = logger.bind(phase="reconcile")
    report.interrupted_cycles = ctx.store.mark_interrupted_cycles(now)
    if report.interrupted_cycles:
        log.warning("{} cycle(s) were interrupted by a previous stop; recorded as error", report.interrupted_cycles)
    rows = ctx.store.orders_needing_reconciliation()
    try:
        positions = ctx.saxo.positions()
        traces = _traces(ctx, rows, now)
    except AuthError:
        raise
    except BotError as exc:
        report.error = f"could not read Saxo orders/positions: {exc}"
        log.error("reconciliation skipped: {}", report.error)
        ctx.store.add_event("reconcile", report.error, at=now)
        return report
    _settle(ctx, rows, traces, report, "start-up")
    try:
        report.orphans = cancel_orphans(ctx, positions)
    except AuthError:
        raise
    except BotError as exc:
        message = f"could not check related orders against positions: {exc}"
        log.error("{}", message)
        ctx.store.add_event("reconcile", message, at=now)
    watched = {item.id for item in ctx.settings.items}
    for iid, position in positions.items():
        if position.amount == 0 or any(r.startswith(EXTERNAL_REFERENCE_PREFIX) for r in position.external_references):
            continue
        managed = "on the watchlist: the bot will manage it" if iid in watched else "not on the watchlist: left alone"
        message = f"position {iid} amount {position.amount} was not opened by this bot ({managed})"
        report.foreign_positions.append(iid)
        log.warning(message)
        ctx.store.add_event("reconcile", message, at=now, details={"instrument_id": iid})
    log.info(
        "reconciliation done: {} confirmed, {} not found, {} still pending, {} positions not opened by the bot, "
        "{} orphaned related orders cancelled",
        len(report.confirmed),
        len(report.not_found),
        len(report.still_pending),
        len(report.foreign_positions),
        len(report.orphans),
    )
    return report


def settle_pending_orders(ctx: Context) -> ReconcileReport | None:
    """Between cycles: orders left `pending` (outcome unknown) are looked for again.

    Costs three reads only when such rows exist; a failure here is logged and tried again next cycle (the rows
    stay `pending`, so their instruments stay blocked).
    """
    rows = [row for row in ctx.store.orders_needing_reconciliation(limit=50) if row.status == OrderStatus.PENDING]
    if not rows:
        return None
    report = ReconcileReport()
    try:
        traces = _traces(ctx, rows, ctx.clock.now())
    except AuthError:
        raise
    except BotError as exc:
        logger.bind(phase="reconcile").warning("{} pending order(s) not settled yet: {}", len(rows), exc)
        return None
    _settle(ctx, rows, traces, report, "a later cycle")
    return report


def _sent(row: OrderView) -> SentOrder | None:
    if not row.external_reference:
        return None
    return SentOrder(row.external_reference, row.instrument_id, row.side, row.amount, parse_iso(row.created_at))


def _traces(ctx: Context, rows: Sequence[OrderView], now: datetime) -> list[OrderTrace]:
    """Saxo's traces of orders since the oldest row (at most LOOKBACK ago); none to read when no row."""
    sent = [s for s in (_sent(row) for row in rows) if s is not None]
    if not sent:
        return []
    since = max(min(s.since for s in sent), now - LOOKBACK)
    return ctx.saxo.order_traces(since, ctx.account.account_key)


def _settle(
    ctx: Context,
    rows: Sequence[OrderView],
    traces: Sequence[OrderTrace],
    report: ReconcileReport,
    when: str,
) -> None:
    """Rows Saxo shows become `placed` (or `rejected`); `pending` rows it has no trace of become `failed` once
    the grace period has passed, and stay `pending` until then. Each change is an event."""
    now = ctx.clock.now()
    log = logger.bind(phase="reconcile")
    for row in rows:
        sent = _sent(row)
        if sent is None:
            continue
        reference = sent.external_reference
        trace = find(traces, sent)
        if trace is not None and not trace.rejected:
            message = f"order {reference} was recorded {row.status} but Saxo has it ({trace.where}); now placed"
            ctx.store.update_order(
                row.id,
                status=OrderStatus.PLACED,
                order_id=row.order_id or trace.order_id,
                error_code=None,
                error_message=f"reconciled at {when}: {message}",
            )
            report.confirmed.append(reference)
        elif row.status != OrderStatus.PENDING:
            continue
        elif trace is not None:
            message = f"order {reference} was left pending and Saxo shows it rejected ({trace.where})"
            ctx.store.update_order(
                row.id,
                status=OrderStatus.REJECTED,
                error_code="OrderRejected",
                error_message=f"reconciled at {when}: {message}",
            )
            report.rejected.append(reference)
        elif past_grace(sent, now):
            message = (
                f"order {reference} was left pending and Saxo has no trace of it after "
                f"{(now - sent.written_at).total_seconds():.0f} s; now recorded failed"
            )
            ctx.store.update_order(
                row.id,
                status=OrderStatus.FAILED,
                error_code="NotPlaced",
                error_message=f"reconciled at {when}: {message}",
            )
            report.not_found.append(reference)
        else:
            report.still_pending.append(reference)
            log.info("order {} is not visible at Saxo yet; it stays pending", reference)
            continue
        log.warning(message)
        ctx.store.add_event("reconcile", message, at=now, details={"external_reference": reference})
