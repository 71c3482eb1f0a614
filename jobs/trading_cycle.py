"""Job functions referenced by name from the job store ("jobs.trading_cycle:run")."""

from __future__ import annotations

import os

from loguru import logger

from bot.domain import SUCCESSFUL_CYCLES, OrderStatus, Signal
from bot.errors import AuthError, BotError
from bot.notify.hooks import after_cycle
from bot.ops.observe import health_of, observe_cycle
from jobs import runtime


def run() -> str:
    """One trading cycle. An authentication failure asks the scheduler to stop with exit code 3."""
    from bot.cycle import run_cycle

    ctx = runtime.current()
    if ctx.stop.is_set():
        return "stopping"
    try:
        result = run_cycle(ctx)
    except AuthError as exc:
        logger.critical("authentication failed: {}; stopping. Log in again (python main.py login)", exc)
        ctx.notifier.auth_lost(exc)
        runtime.request_stop(exit_code=3)
        return "auth"
    runtime.state["last_status"] = result.status
    runtime.state["last_cycle_at"] = result.started_at
    if result.status in SUCCESSFUL_CYCLES:
        runtime.state["last_success_at"] = result.started_at
    observe_cycle(ctx, result)
    after_cycle(ctx, result)  # notifications: queued, never blocks
    logger.bind(cycle_id=result.cycle_id).info(
        "{} in {} ms: {} BUY/SELL signals, {} placed, {} prechecked, {} rejected, {} blocked{}",
        result.status,
        result.duration_ms,
        sum(1 for d in result.decisions.values() if d.signal is not Signal.HOLD),
        result.execution.count(OrderStatus.PLACED),
        result.execution.count(OrderStatus.PRECHECKED),
        result.execution.count(OrderStatus.REJECTED),
        len(result.blocked),
        f" ({result.skip_reason or result.error})" if (result.skip_reason or result.error) else "",
    )
    return result.status


def heartbeat() -> None:
    """A periodic sign of life: PID, mode, dry/live, next run, last cycle status."""
    ctx = runtime.current()
    next_cycle = ctx.next_cycle_at()
    next_run = next_cycle.isoformat() if next_cycle is not None else "none"
    logger.info(
        "heartbeat: pid {} {} {} hours={} next run {} last cycle {} at {}",
        os.getpid(),
        ctx.environment,
        "dry run" if ctx.settings.dry_run else "placing orders",
        ctx.settings.trading_hours_mode,
        next_run,
        runtime.state["last_status"],
        runtime.state["last_cycle_at"],
    )
    if ctx.notifier.enabled:  # a message when /health turns stale
        _, health = health_of(ctx, runtime.state.get("started_at") or ctx.clock.now(), runtime.state)
        ctx.notifier.health(health["status"], runtime.state["last_success_at"], health["stale_after_seconds"])


def refresh_token() -> None:
    """Refresh OAuth tokens ahead of expiry (access tokens live 20 minutes, refresh tokens 1 hour)."""
    ctx = runtime.current()
    refresh = getattr(ctx.tokens, "refresh_if_due", None)
    if refresh is None or ctx.stop.is_set():
        return
    try:
        if refresh():
            logger.info("OAuth tokens refreshed")
    except AuthError as exc:
        logger.critical("token refresh refused: {}; stopping. Log in again: python main.py login", exc)
        ctx.notifier.auth_lost(exc)
        runtime.request_stop(exit_code=3)
    except BotError as exc:  # network trouble: the next run (or the next request) tries again
        logger.warning("token refresh failed, will retry: {}", exc)
