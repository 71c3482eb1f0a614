"""The jobs the scheduler runs (DESIGN §6b step 6), registered by textual reference with fixed ids at every start.

The trading cycle (`jobs.trading_cycle:run`, trigger per TRADING_HOURS_MODE), the heartbeat, the OAuth token refresh
(removed again when the settings no longer call for it) and the daily retention job. Coalesce, max_instances=1 and a
misfire grace of a quarter of the interval mean a stale cycle never trades and missed cycles are not replayed.
Called by scheduler.py.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime
from typing import TYPE_CHECKING, Any

from apscheduler.jobstores.base import JobLookupError
from loguru import logger

from bot.hours.triggers import build_trigger, describe_trigger
from bot.wiring import CYCLE_JOB_ID
from jobs import retention

if TYPE_CHECKING:
    from apscheduler.schedulers.base import BaseScheduler

    from bot.config import Settings

HEARTBEAT_JOB_ID = "heartbeat"
HEARTBEAT_SECONDS = 300
TOKEN_JOB_ID = "token_refresh"
TOKEN_REFRESH_SECONDS = 60


def misfire_grace_seconds(interval_seconds: float) -> int:
    """A quarter of the interval (at least 1 s): later than that, a cycle is stale and is skipped."""
    return max(1, int(interval_seconds / 4))


def register_jobs(scheduler: BaseScheduler, settings: Settings, now: datetime) -> None:
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
