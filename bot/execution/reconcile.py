"""Start-up reconciliation: compare what Saxo holds with what the metrics DB recorded.

Before the first cycle: cycles left `running` by a dead process become `error`; orders left
`pending` (outcome unknown) or recorded `failed` are looked up by ExternalReference in Saxo's open
orders and positions and corrected; positions the bot did not open are reported (and never touched
unless their instrument is on the watchlist). Every difference is logged and stored as an event.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from loguru import logger

from bot.domain import OpenOrder, Position
from bot.errors import AuthError, BotError

if TYPE_CHECKING:
    from bot.store import OrderView
    from bot.wiring import Context

BOT_REFERENCE_PREFIX = "sb-"


@dataclass
class ReconcileReport:
    interrupted_cycles: int = 0
    confirmed: list[str] = field(default_factory=list)  # pending/failed rows found at Saxo → placed
    not_found: list[str] = field(default_factory=list)  # pending rows absent at Saxo → failed
    foreign_positions: list[str] = field(default_factory=list)
    error: str | None = None


def reconcile_at_startup(ctx: Context) -> ReconcileReport:
    report = ReconcileReport()
    now = ctx.clock.now()
    log = logger.bind(phase="reconcile")
    report.interrupted_cycles = ctx.store.mark_interrupted_cycles(now)
    if report.interrupted_cycles:
        log.warning("{} cycle(s) were interrupted by a previous stop; recorded as error", report.interrupted_cycles)
    try:
        open_orders = ctx.saxo.open_orders()
        positions = ctx.saxo.positions()
    except AuthError:
        raise
    except BotError as exc:
        report.error = f"could not read Saxo orders/positions: {exc}"
        log.error("reconciliation skipped: {}", report.error)
        ctx.store.add_event("reconcile", report.error, at=now)
        return report
    _settle(ctx, ctx.store.orders_needing_reconciliation(), _seen_at_saxo(open_orders, positions), report, "start-up")
    watched = {item.id for item in ctx.settings.items}
    for iid, position in positions.items():
        if position.amount == 0 or any(r.startswith(BOT_REFERENCE_PREFIX) for r in position.external_references):
            continue
        managed = "on the watchlist: the bot will manage it" if iid in watched else "not on the watchlist: left alone"
        message = f"position {iid} amount {position.amount} was not opened by this bot ({managed})"
        report.foreign_positions.append(iid)
        log.warning(message)
        ctx.store.add_event("reconcile", message, at=now, details={"instrument_id": iid})
    log.info(
        "reconciliation done: {} confirmed, {} not found, {} positions not opened by the bot",
        len(report.confirmed),
        len(report.not_found),
        len(report.foreign_positions),
    )
    return report


def settle_pending_orders(ctx: Context) -> ReconcileReport | None:
    """Between cycles: orders left `pending` (their outcome lookup failed) are looked up again.

    Costs two reads only when such rows exist; a failure here is logged and tried again next cycle.
    """
    rows = [row for row in ctx.store.orders_needing_reconciliation(limit=50) if row.status == "pending"]
    if not rows:
        return None
    report = ReconcileReport()
    try:
        seen = _seen_at_saxo(ctx.saxo.open_orders(), ctx.saxo.positions())
    except AuthError:
        raise
    except BotError as exc:
        logger.bind(phase="reconcile").warning("{} pending order(s) not settled yet: {}", len(rows), exc)
        return None
    _settle(ctx, rows, seen, report, "a later cycle")
    return report


def _seen_at_saxo(
    open_orders: Sequence[OpenOrder], positions: Mapping[str, Position]
) -> dict[str, tuple[str | None, str]]:
    """ExternalReference -> (OrderId if known, where Saxo shows it)."""
    seen: dict[str, tuple[str | None, str]] = {}
    for order in open_orders:
        if order.external_reference:
            seen[order.external_reference] = (order.order_id, f"open order {order.order_id}")
    for iid, position in positions.items():
        for reference in position.external_references:
            seen.setdefault(reference, (None, f"a position in {iid}"))
    return seen


def _settle(
    ctx: Context,
    rows: Sequence[OrderView],
    seen: Mapping[str, tuple[str | None, str]],
    report: ReconcileReport,
    when: str,
) -> None:
    """Rows Saxo has become `placed`; `pending` rows it has no trace of become `failed`. Each is an event."""
    now = ctx.clock.now()
    log = logger.bind(phase="reconcile")
    for row in rows:
        reference = row.external_reference
        if reference in seen:
            order_id, where = seen[reference]
            message = f"order {reference} was recorded {row.status} but Saxo has it ({where}); now recorded placed"
            ctx.store.update_order(
                row.id,
                status="placed",
                order_id=row.order_id or order_id,
                error_message=f"reconciled at {when}: {message}",
            )
            report.confirmed.append(reference)
        elif row.status == "pending":
            message = f"order {reference} was left pending and Saxo has no trace of it; now recorded failed"
            ctx.store.update_order(
                row.id, status="failed", error_code="NotPlaced", error_message=f"reconciled at {when}: {message}"
            )
            report.not_found.append(reference)
        else:
            continue
        log.warning(message)
        ctx.store.add_event("reconcile", message, at=now, details={"external_reference": reference})
