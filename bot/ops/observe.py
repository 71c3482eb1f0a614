"""Operability of the long-running process: feeding Prometheus metrics and serving `/health`.

Kept apart from the scheduler so `scheduler.py` stays about scheduling.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from loguru import logger

from bot.errors import StoreError
from bot.ops.health import HealthServer, health_report

if TYPE_CHECKING:
    from bot.cycle import CycleResult
    from bot.wiring import Context


def observe_cycle(ctx: Context, result: CycleResult) -> None:
    """Metrics after a cycle: outcome, duration, signals, orders, risk blocks, rate-limit headroom, and the
    account's figures (value, unrealised P&L, open positions, realised P&L so far)."""
    ctx.metrics.cycle_finished(result)
    ctx.metrics.rate_limits(ctx.saxo.rate_limits())
    try:
        realized = ctx.store.realized_pnl_total()
    except StoreError as exc:  # the DB's trouble is the cycle's to report; the gauge keeps its last value
        logger.debug("realised P&L total not read for /metrics: {}", exc)
        realized = None
    ctx.metrics.account(result, realized)


def in_trading_hours(ctx: Context, now: datetime) -> bool:
    if ctx.settings.trading_hours_mode != "fixed" or ctx.gate.window is None:
        return True
    return ctx.gate.window.is_open(now)[0]


def health_of(ctx: Context, started_at: datetime, state: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    now = ctx.clock.now()
    return health_report(
        now=now,
        started_at=started_at,
        interval_seconds=ctx.settings.cycle_interval_seconds,
        last_cycle_at=state.get("last_cycle_at"),
        last_cycle_status=state.get("last_status"),
        last_success_at=state.get("last_success_at"),
        next_run_at=ctx.next_cycle_at(),
        in_trading_hours=in_trading_hours(ctx, now),
        mode=ctx.settings.trading_hours_mode,
        dry_run=ctx.settings.dry_run,
        kill_switch=ctx.settings.kill_switch_file.exists(),
        environment=ctx.environment,
    )


def start_health_server(ctx: Context, started_at: datetime, state: dict[str, Any]) -> HealthServer | None:
    """`/health` and `/metrics` on 127.0.0.1:HEALTH_PORT, when HEALTH_PORT is set."""
    if not ctx.settings.health_port:
        return None
    server = HealthServer(ctx.settings.health_port, lambda: health_of(ctx, started_at, state), ctx.metrics).start()
    logger.info("health on http://127.0.0.1:{}/health, metrics on /metrics", server.port)
    return server
