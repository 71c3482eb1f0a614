"""Recording a cycle in the metrics DB: its signals, the orders it did not send, and its summary row."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from loguru import logger

from bot.cycle.result import CycleError, CycleResult, CycleSummary
from bot.cycle.steps import trading_day
from bot.domain import OrderStatus, Side, Signal, WatchItem
from bot.errors import StoreError
from bot.execution.planner import NoOrder, bar_key
from bot.risk import Blocked

if TYPE_CHECKING:
    from bot.store import CycleCounts
    from bot.wiring import Context


def record_signals(ctx: Context, result: CycleResult, items: Sequence[WatchItem]) -> None:
    from bot.store import SignalRecord

    records: list[SignalRecord] = []
    for item in items:
        decision = result.decisions.get(item.id)
        skipped = result.skipped.get(item.id)
        if decision is not None:
            note = skipped or (f"no order: {result.no_order[item.id]}" if item.id in result.no_order else None)
            reason = decision.reason + (f"; {note}" if note else "")
            records.append(
                SignalRecord(
                    item.id,
                    item.symbol,
                    decision.signal.value,
                    decision.price,
                    reason,
                    bar_key(decision.bar_time) or None,
                )
            )
        else:
            records.append(SignalRecord(item.id, item.symbol, "SKIP", None, skipped or "not evaluated", None))
    ctx.store.add_signals(_row(result), records)


def record_not_sent(ctx: Context, result: CycleResult, not_sent: list[NoOrder], blocked: Sequence[Blocked]) -> None:
    from bot.store import OrderRecord

    now = ctx.clock.now()
    rows: list[OrderRecord] = []
    for item in not_sent:
        rows.append(
            OrderRecord(
                instrument_id=item.instrument_id,
                symbol=_symbol(ctx, item.instrument_id),
                side=(item.side or Side.BUY).value,
                amount=item.amount,
                order_type="Market",
                status=OrderStatus.BLOCKED,
                error_code=item.code,
                error_message=item.reason,
                created_at=now,
            )
        )
    for b in blocked:
        rows.append(
            OrderRecord(
                instrument_id=b.intent.instrument_id,
                symbol=b.intent.item.symbol,
                side=b.intent.side.value,
                amount=b.intent.amount,
                order_type="Market",
                duration=b.intent.duration.value,
                status=OrderStatus.BLOCKED,
                external_reference=b.intent.external_reference,
                signal_bar_time=bar_key(b.intent.signal_bar_time) or None,
                opening=True,
                error_code=b.rule,
                error_message=b.reason,
                created_at=now,
            )
        )
    for row in rows:
        ctx.store.add_order(_row(result), row)


def _row(result: CycleResult) -> int:
    if result.cycle_id is None:  # run_cycle records nothing before the cycle has its row
        raise CycleError("the cycle has no row in the metrics DB")
    return result.cycle_id


def _symbol(ctx: Context, iid: str) -> str:
    return next((i.symbol for i in ctx.settings.items if i.id == iid), iid)


def counts(result: CycleResult) -> CycleCounts:
    from bot.store import CycleCounts

    signals = [d.signal for d in result.decisions.values()]
    ex = result.execution
    return CycleCounts(
        quotes_ok=result.quotes_ok,
        signals_buy=signals.count(Signal.BUY),
        signals_sell=signals.count(Signal.SELL),
        signals_hold=signals.count(Signal.HOLD),
        orders_placed=ex.count(OrderStatus.PLACED),
        orders_failed=ex.count(OrderStatus.FAILED) + ex.count(OrderStatus.PENDING),
        orders_rejected=ex.count(OrderStatus.REJECTED),
        orders_blocked=len(result.blocked) + ex.count(OrderStatus.BLOCKED),  # risk, or a pending earlier order
        orders_prechecked=ex.count(OrderStatus.PRECHECKED),
    )


def record_cycle(ctx: Context, result: CycleResult) -> None:
    """Write the cycle's summary row. A DB failure here is logged loudly; the process goes on."""
    finished = ctx.clock.now()
    result.duration_ms = int((finished - result.started_at).total_seconds() * 1000)
    if result.cycle_id is None:  # the cycle never got its row: nothing to finish
        return
    summary = CycleSummary(
        cycle_id=result.cycle_id,
        finished_at=finished,
        status=result.status,
        counts=counts(result),
        skip_reason=result.skip_reason,
        error=result.error,
        total_value=result.total_value,
        trading_day=trading_day(result.started_at, ctx.settings.timezone),
        cash=result.cash,
        unrealized_pnl=result.unrealized_pnl,
    )
    try:
        write_summary(ctx, summary)
    except StoreError as exc:
        logger.error(
            "could not record cycle {} summary in the metrics DB (retried next cycle): {}", result.cycle_id, exc
        )
        ctx.unrecorded.append(summary)


def write_summary(ctx: Context, summary: CycleSummary) -> None:
    ctx.store.finish_cycle(
        summary.cycle_id,
        finished_at=summary.finished_at,
        status=summary.status,
        counts=summary.counts,
        skip_reason=summary.skip_reason,
        error=summary.error,
        total_value=summary.total_value,
        trading_day=summary.trading_day,
        cash=summary.cash,
        unrealized_pnl=summary.unrealized_pnl,
    )


def record_late_summaries(ctx: Context) -> None:
    """Write cycle summaries an earlier DB failure kept back, so no cycle stays `running`."""
    pending = ctx.unrecorded
    while pending:
        write_summary(ctx, pending[0])  # StoreError: still down; try again next cycle
        summary = pending.pop(0)
        logger.info("recorded the summary of cycle {} that the metrics DB refused earlier", summary.cycle_id)
