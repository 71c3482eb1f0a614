"""The persistent scheduler (DESIGN §6b): one BlockingScheduler, one SQLAlchemy job store, one cycle job.

The cycle job is stored by textual reference with a fixed id and re-registered at every start;
coalesce, max_instances=1 and a misfire grace of a fraction of the interval mean a stale cycle never
trades and missed cycles are logged, not replayed. SIGINT/SIGTERM stop new cycles, end every wait of the
running one (no further order is sent), and shut everything down; a second signal exits at once (130).
"""

from __future__ import annotations

from contextlib import ExitStack, suppress
from datetime import UTC, datetime
from typing import Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, EVENT_SCHEDULER_STARTED
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.blocking import BlockingScheduler
from loguru import logger
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url

from bot.config import Settings
from bot.hours.triggers import build_trigger, describe_trigger
from bot.ops.jobstore import RETRY_SECONDS, ResilientJobStore
from bot.ops.lock import instance_lock
from bot.ops.observe import start_health_server
from bot.ops.stopping import stop_on_signals
from bot.saxo.budget import budget_warnings
from bot.wiring import CYCLE_JOB_ID
from jobs import retention, runtime
from jobs.events import on_job_event, report_missed_runs

HEARTBEAT_JOB_ID = "heartbeat"
HEARTBEAT_SECONDS = 300
TOKEN_JOB_ID = "token_refresh"
TOKEN_REFRESH_SECONDS = 60


def misfire_grace_seconds(interval_seconds: float) -> int:
    """A quarter of the interval (at least 1 s): later than that, a cycle is stale and is skipped."""
    return max(1, int(interval_seconds / 4))


def jobstore_engine(url: str) -> Engine:
    """The job store's own engine; SQLite gets WAL and a busy timeout (the store writes on every run)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        from bot.log import private_file

        private_file(parsed.database)  # 0600 in a 0700 folder, like the metrics DB (-wal/-shm follow)
    engine = create_engine(url, connect_args={"timeout": 10, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    return engine


def build_scheduler(settings: Settings, engine: Engine, executor: ThreadPoolExecutor) -> BlockingScheduler:
    return BlockingScheduler(
        timezone=UTC,
        # A locked or unreachable job store is retried, never the end of the process.
        jobstores={"default": ResilientJobStore(engine=engine, tablename=settings.jobstore_table)},
        jobstore_retry_interval=RETRY_SECONDS,
        executors={"default": executor},
        job_defaults={"coalesce": True, "max_instances": 1},
    )


def register_jobs(scheduler: BlockingScheduler, settings: Settings, now: datetime) -> None:
    mode = settings.trading_hours_mode
    window = settings.fixed_window() if mode == "fixed" else None
    trigger = build_trigger(mode, interval_seconds=settings.cycle_interval_seconds, window=window)
    first: dict[str, Any] = {"next_run_time": now} if mode != "fixed" else {}
    scheduler.add_job(
        "jobs.trading_cycle:run",
        trigger=trigger,
        id=CYCLE_JOB_ID,
        name="trading cycle",
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=misfire_grace_seconds(settings.cycle_interval_seconds),
        **first,
    )
    scheduler.add_job(
        "jobs.trading_cycle:heartbeat",
        trigger="interval",
        seconds=HEARTBEAT_SECONDS,
        id=HEARTBEAT_JOB_ID,
        name="heartbeat",
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=60,
    )
    if settings.saxo_auth_mode == "oauth" and settings.saxo_env != "local":
        scheduler.add_job(
            "jobs.trading_cycle:refresh_token",
            trigger="interval",
            seconds=TOKEN_REFRESH_SECONDS,
            id=TOKEN_JOB_ID,
            name="token refresh",
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=30,
        )
    else:
        with suppress(JobLookupError):
            scheduler.remove_job(TOKEN_JOB_ID)
    retention.register(scheduler, settings, now)  # at start-up, then daily (DB_RETENTION_DAYS)
    logger.info("trading cycle scheduled {}", describe_trigger(trigger))
    if window is not None and not window.is_open(now)[0]:
        logger.info(
            "outside trading hours now ({}); next window opens {}",
            window.is_open(now)[1],
            window.next_open(now).isoformat(),
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
