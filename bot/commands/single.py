"""`python main.py --single-cycle`: start up, run one cycle, print a summary; exit 0 (ok/skipped/halted) or 1.

SIGINT/SIGTERM stop it early (exit 0; the cycle row says what was not done); a second one exits at once (130).
"""

from __future__ import annotations

from loguru import logger

from bot.commands.summary import render
from bot.config import Settings
from bot.cycle import run_cycle
from bot.domain import CycleStatus
from bot.notify.hooks import after_cycle
from bot.ops.lock import instance_lock
from bot.ops.stopping import stop_on_signals
from bot.store.retention import prune_expired
from bot.wiring import build_context


def banner(settings: Settings) -> str:
    env = {"local": "local simulator", "sim": "Saxo SIM", "live": "Saxo LIVE (real money)"}[
        settings.saxo_env or "local"
    ]
    return (
        f"saxo-bot: {env}, {'DRY RUN (precheck only)' if settings.dry_run else 'placing orders'}, "
        f"hours {settings.trading_hours_mode}, strategy {settings.strategy}, {len(settings.items)} instruments"
    )


def run_single_cycle(settings: Settings) -> int:
    logger.info(banner(settings))
    with instance_lock(settings.jobstore_url, settings.jobstore_table):
        ctx = build_context(settings)
        # First SIGINT/SIGTERM: waits end, no further order is sent, the cycle is recorded. Second: exit at once.
        with stop_on_signals(ctx.stop.set):
            try:
                from bot.execution.reconcile import reconcile_at_startup

                reconcile_at_startup(ctx)
                result = run_cycle(ctx)
                after_cycle(ctx, result)  # notifications go out when ctx closes
                print(render(ctx, result), flush=True)
                if not ctx.stop.is_set():  # run from cron, no scheduler's daily job does it: after the cycle
                    prune_expired(ctx.store, settings.db_retention_days, ctx.clock.now(), ctx.clock.sleep)
            finally:
                ctx.close()
    if ctx.stop.is_set():
        logger.info("stopped on request (cycle ended {})", result.status)
        return 0
    return 1 if result.status is CycleStatus.ERROR else 0
