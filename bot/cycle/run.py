"""One trading cycle: kill switch → hours gate → market data → strategy → risk → precheck → place → summary.

`run_cycle` reads like a table of contents; each step is a small function. The error policy of
DESIGN §1 lives here: a failed phase ends the cycle as `error` with the reason, an authentication
failure propagates (the process must stop), and every cycle leaves its row even when it fails.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from loguru import logger

from bot.cycle.record import record_cycle, record_late_summaries, record_not_sent, record_signals
from bot.cycle.result import CycleError, CycleResult
from bot.cycle.steps import (
    acts,
    check_risk,
    day_baseline,
    decide,
    execute,
    fetch,
    note_account,
    plan,
    prefetch_rules,
)
from bot.domain import CycleStatus
from bot.errors import AuthError, BotError, StoreError
from bot.execution.fills import settle_fills
from bot.execution.reconcile import settle_pending_orders
from bot.risk import Portfolio

if TYPE_CHECKING:
    from bot.wiring import Context


def run_cycle(ctx: Context) -> CycleResult:
    """Run one cycle and record it. Raises only `AuthError` (the caller must stop)."""
    settings, now = ctx.settings, ctx.clock.now()
    result = CycleResult(cycle_id=None, status=CycleStatus.ERROR, started_at=now)
    try:
        record_late_summaries(ctx)
        result.cycle_id = ctx.store.start_cycle(
            started_at=now,
            dry_run=settings.dry_run,
            hours_mode=settings.trading_hours_mode,
            instruments=len(settings.items),
        )
    except StoreError as exc:
        logger.error("cycle not run: the metrics DB cannot be written ({}); nothing is sent", exc)
        result.error = f"metrics DB unavailable: {exc}"
        return result
    log = logger.bind(cycle_id=result.cycle_id)
    try:
        with logger.contextualize(cycle_id=result.cycle_id):  # every line of this cycle carries its id
            _trade(ctx, result, now)
    except AuthError as exc:
        result.status, result.error = CycleStatus.ERROR, f"authentication failed: {exc}"
        record_cycle(ctx, result)
        raise
    except BotError as exc:
        result.status, result.error = CycleStatus.ERROR, str(exc)
        log.error("cycle failed: {}", exc)
    except Exception as exc:  # the one broad catch: a bug must not lose the cycle's record
        result.status, result.error = CycleStatus.ERROR, f"{type(exc).__name__}: {exc}"
        log.opt(exception=exc).error("cycle failed unexpectedly")
    record_cycle(ctx, result)
    return result


def _trade(ctx: Context, result: CycleResult, now: datetime) -> None:
    settings = ctx.settings
    if settings.kill_switch_file.exists():
        result.status = CycleStatus.HALTED
        result.skip_reason = f"kill switch: {settings.kill_switch_file} exists; nothing is prechecked or placed"
        logger.warning("{} (remove the file to resume)", result.skip_reason)
        return
    settle_pending_orders(ctx)  # an order whose outcome was unknown in an earlier cycle
    settle_fills(ctx)  # fill prices of earlier orders, realised P&L of the closes
    items = list(settings.items)
    gate = ctx.gate.check(now, items)
    if not gate.trade:
        result.status, result.skip_reason = CycleStatus.SKIPPED, gate.reason
        logger.info("skipped: {}", gate.reason)
        return
    result.skipped.update(gate.closed)
    tradable = [item for item in items if item.id not in gate.closed]

    data, positions, balance = fetch(ctx, tradable, now)
    note_account(result, positions, balance)
    result.skipped.update(data.skipped)
    result.quotes_ok = data.quotes_ok
    if data.all_closed(tradable):  # a weekend or a holiday is not an error: nothing to trade, say why
        result.status = CycleStatus.SKIPPED
        result.skip_reason = f"market closed for every instrument ({'; '.join(sorted(set(data.skipped.values())))})"
        record_signals(ctx, result, items)
        logger.info("skipped: {}", result.skip_reason)
        return
    if not data.snapshots and tradable:
        record_signals(ctx, result, items)
        raise CycleError(f"no market data for any instrument ({'; '.join(sorted(set(data.skipped.values())))})")

    result.decisions = decide(ctx, data)
    result.skipped.update(data.skipped)  # decide adds the instruments whose strategy call failed
    if isinstance(positions, BotError) or isinstance(balance, BotError):
        reason = positions if isinstance(positions, BotError) else balance
        record_signals(ctx, result, items)
        raise CycleError(f"balance/positions unreadable, no order this cycle: {reason}")
    portfolio = Portfolio(positions, balance, day_baseline(ctx, now, balance))
    prefetch_rules(ctx, [item for item in tradable if acts(result.decisions.get(item.id))])
    intents, not_sent = plan(ctx, result, tradable, positions, data)
    verdict = check_risk(ctx, portfolio, intents, data)
    result.blocked = list(verdict.blocked)
    record_signals(ctx, result, items)
    record_not_sent(ctx, result, not_sent, verdict.blocked)
    if verdict.halted:
        result.status, result.skip_reason = CycleStatus.HALTED, verdict.halted
        logger.warning("halted for opening orders: {}", verdict.halted)
    result.execution = execute(ctx, result.cycle_id or 0, verdict)
    if result.execution.store_failed:
        raise CycleError(result.execution.store_failed)
    if result.status != CycleStatus.HALTED:
        result.status = CycleStatus.OK
