"""The persistent scheduler (DESIGN §6b): one BlockingScheduler, one SQLAlchemy job store, one cycle job.

The cycle job is stored by textual reference with a fixed id and re-registered at every start;
coalesce, max_instances=1 and a misfire grace of a fraction of the interval mean a stale cycle never
trades and missed cycles are logged, not replayed. SIGINT/SIGTERM stop new cycles, end every wait of the
running one (no further order is sent), and shut everything down; a second signal exits at once (130).

The jobs and their settings are registered by jobs/schedule.py; the job store's engine is made by
bot/ops/jobstore.py (both re-exported here). This module builds the scheduler and runs the start-up sequence.
"""

from __future__ import annotations

from contextlib import ExitStack
from datetime import UTC

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, EVENT_SCHEDULER_STARTED
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from loguru import logger
from sqlalchemy.engine import Engine

from bot.config import Settings
from bot.ops.jobstore import RETRY_SECONDS, ResilientJobStore, jobstore_engine
from bot.ops.lock import instance_lock
from bot.ops.observe import start_health_server
from bot.ops.stopping import stop_on_signals
from bot.saxo.budget import budget_warnings
from bot.wiring import CYCLE_JOB_ID
from jobs import runtime
from jobs.events import on_job_event, report_missed_runs
from jobs.schedule import (
    HEARTBEAT_JOB_ID,
    HEARTBEAT_SECONDS,
    TOKEN_JOB_ID,
    TOKEN_REFRESH_SECONDS,
    misfire_grace_seconds,
    register_jobs,
)

__all__ = [
    "HEARTBEAT_JOB_ID",
    "HEARTBEAT_SECONDS",
    "TOKEN_JOB_ID",
    "TOKEN_REFRESH_SECONDS",
    "build_scheduler",
    "jobstore_engine",
    "misfire_grace_seconds",
    "register_jobs",
    "run_scheduler",
]


def build_scheduler(settings: Settings, engine: Engine, executor: ThreadPoolExecutor) -> BlockingScheduler:
    return BlockingScheduler(
        timezone=UTC,
        # A locked or unreachable job store is retried, never the end of the process.
        jobstores={"default": ResilientJobStore(engine=engine, tablename=settings.jobstore_table)},
        jobstore_retry_interval=RETRY_SECONDS,
        executors={"default": executor},
        job_defaults={"coalesce": True, "max_instances": 1},
    )


def run_scheduler(settings: Settings) -> int:
    """Start-up sequence of DESIGN §6b, then block until stopped. Returns the exit code."""
    from bot.commands.single import banner
    from bot.execution.reconcile import reconcile_at_startup
    from bot.wiring import build_context

    logger.info(banner(settings))
    with instance_lock(settings.jobstore_url, settings.jobstore_table):
        ctx = build_context(settings)
        engine = jobstore_engine(settings.jobstore_url)
        executor = ThreadPoolExecutor(max_workers=2)
        scheduler = build_scheduler(settings, engine, executor)
        runtime.install(ctx, on_stop=lambda: scheduler.shutdown(wait=False) if scheduler.running else None)
        ctx.scheduler = scheduler
        health = None
        signals = ExitStack()  # our SIGINT/SIGTERM handlers, kept through the shutdown below
        try:
            reconcile_at_startup(ctx)
            for warning in budget_warnings(settings.items, ctx.strategy.horizon, settings.cycle_interval_seconds):
                logger.warning(warning)
            now = ctx.clock.now()
            report_missed_runs(
                engine,
                settings.jobstore_table,
                CYCLE_JOB_ID,
                misfire_grace_seconds(settings.cycle_interval_seconds),
                now,
            )
            scheduler.add_listener(on_job_event, EVENT_JOB_ERROR | EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES)
            # A stop asked for before the scheduler ran (its on_stop saw nothing to shut down) ends it at once.
            scheduler.add_listener(
                lambda _event: scheduler.shutdown(wait=False) if ctx.stop.is_set() else None, EVENT_SCHEDULER_STARTED
            )
            register_jobs(scheduler, settings, now)
            # First signal: no new cycles, the running one stops before its next order. Second: exit at once.
            signals.enter_context(stop_on_signals(runtime.request_stop))
            runtime.record_event("startup", f"scheduler started ({ctx.environment})")
            runtime.state["started_at"] = now
            ctx.notifier.started(settings)
            health = start_health_server(ctx, now, runtime.state)
            scheduler.start()
        finally:
            if health is not None:
                health.stop()
            if scheduler.running:
                scheduler.shutdown(wait=False)
            executor.shutdown(wait=True)  # the running cycle finishes its current order first
            runtime.record_event("shutdown", f"scheduler stopped (exit code {runtime.state['exit_code']})")
            ctx.notifier.stopped(int(runtime.state["exit_code"]))
            ctx.close()
            engine.dispose()
            runtime.clear()
            logger.info("saxo-bot stopped")
            logger.complete()
            signals.close()
    return int(runtime.state["exit_code"])
