"""The daily metrics DB retention job ("jobs.retention:run"): DB_RETENTION_DAYS, 0 = keep forever.

`register` (called by the scheduler) runs it shortly after start-up and then once a day, by textual reference
with a fixed id like the other jobs. It never raises: a DB failure is logged and the next run tries again; a
stop request ends it between two batches (each batch is committed, so nothing is half done).
"""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from apscheduler.jobstores.base import JobLookupError
from loguru import logger

from jobs import runtime

if TYPE_CHECKING:
    from apscheduler.schedulers.base import BaseScheduler

    from bot.config import Settings

JOB_ID = "db_retention"
INTERVAL_HOURS = 24
STARTUP_DELAY_SECONDS = 5  # the first cycle goes first
MISFIRE_GRACE_SECONDS = 3600  # a late daily run is still worth doing


def register(scheduler: BaseScheduler, settings: Settings, now: datetime) -> None:
    """Run at start-up (a few seconds after `now`) and then every 24 hours; removed when retention is off."""
    if settings.db_retention_days <= 0:
        with suppress(JobLookupError):
            scheduler.remove_job(JOB_ID)
        logger.info("metrics DB retention off (DB_RETENTION_DAYS=0): rows are kept forever")
        return
    scheduler.add_job(
        "jobs.retention:run",
        trigger="interval",
        hours=INTERVAL_HOURS,
        id=JOB_ID,
        name="metrics DB retention",
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=MISFIRE_GRACE_SECONDS,
        next_run_time=now + timedelta(seconds=STARTUP_DELAY_SECONDS),
    )


def run() -> str:
    """Prune cycles, signals and events older than DB_RETENTION_DAYS; returns what was done, for the log."""
    from bot.store.retention import prune_expired

    ctx = runtime.current()
    days = ctx.settings.db_retention_days
    if days > 0 and ctx.stop.is_set():
        return "stopping"
    return prune_expired(ctx.store, days, ctx.clock.now(), ctx.clock.sleep)
