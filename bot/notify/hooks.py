"""The notifier's hook points, so the scheduler, the jobs and the commands each need one line.

`after_cycle` seeds the error streak and the halt from the metrics DB on the first cycle a process sees: a restart,
or `--single-cycle` run from cron every minute, neither resets the streak nor repeats a halt already reported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from loguru import logger

from bot.domain import CycleStatus
from bot.errors import BotError
from bot.notify.events import halt_cause
from bot.notify.sender import Notifier, build_notifier

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.cycle.result import CycleResult
    from bot.wiring import Context


def after_cycle(ctx: Context, result: CycleResult) -> None:
    """Order, halt and error-streak messages of a finished cycle (never raises)."""
    notifier = ctx.notifier
    if not notifier.enabled:
        return
    try:
        if not notifier.watcher.seeded:
            seed_from_history(ctx, result.cycle_id)
        notifier.cycle_finished(result)
    except Exception as exc:  # a notification must never break a cycle
        logger.warning("notifications for cycle {} not sent: {}", result.cycle_id, exc)


def seed_from_history(ctx: Context, current_cycle_id: int | None) -> None:
    watcher = ctx.notifier.watcher
    watcher.seeded = True
    try:
        rows = [c for c in ctx.store.history(watcher.error_after + 1) if c.id != current_cycle_id]
    except BotError as exc:
        logger.debug("error streak not seeded from the metrics DB: {}", exc)
        return
    streak = 0
    for cycle in rows:  # newest first
        if cycle.status != CycleStatus.ERROR:
            break
        streak += 1
    watcher.errors_in_a_row = streak
    if rows and rows[0].status == CycleStatus.HALTED:
        watcher.current_halt = halt_cause(rows[0].skip_reason or "")


def notify_auth_lost(settings: Settings, error: object) -> None:
    """From `main.py`, where start-up or a single cycle ends in exit 3: a notifier of its own, flushed at once."""
    if not settings.notify_url_list:
        return
    from bot.wiring import ENVIRONMENTS

    notifier: Notifier = build_notifier(settings, ENVIRONMENTS[settings.saxo_env or "local"])
    notifier.auth_lost(error)
    notifier.close()
