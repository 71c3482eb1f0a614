"""Scheduler events as log lines, metrics and `events` rows: job errors, misses, max-instance skips."""

from __future__ import annotations

from datetime import UTC, datetime

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED, JobExecutionEvent, JobSubmissionEvent
from loguru import logger
from sqlalchemy import text
from sqlalchemy.engine import Engine

from jobs import runtime


def report_missed_runs(engine: Engine, table: str, job_id: str, grace_seconds: int, now: datetime) -> None:
    """Before re-registering, log a cycle the previous process was due to run but never did."""
    try:
        with engine.connect() as conn:
            stamp = conn.execute(text(f"SELECT next_run_time FROM {table} WHERE id = :id"), {"id": job_id}).scalar()
    except Exception:  # no table yet: a first start
        return
    if stamp is None:
        return
    due = datetime.fromtimestamp(float(stamp), UTC)
    if (now - due).total_seconds() > grace_seconds:
        message = f"missed cycles since {due.isoformat()} while the bot was not running (not replayed)"
        logger.warning(message)
        runtime.record_event("job_missed", message)


def on_job_event(event: JobExecutionEvent | JobSubmissionEvent) -> None:
    """Job errors, misses and max-instance skips become log lines and `events` rows.

    APScheduler sends a `JobExecutionEvent` for errors and misses, a `JobSubmissionEvent` (with a list of
    run times) for max-instance skips.
    """
    if event.code == EVENT_JOB_ERROR:
        kind, message = "job_error", f"job {event.job_id} failed: {event.exception!r}"
        logger.opt(exception=event.exception).error(message)
    elif event.code == EVENT_JOB_MISSED:
        kind, message = "job_missed", f"job {event.job_id} missed its run at {event.scheduled_run_time} (not replayed)"
        logger.warning(message)
    else:
        times = ", ".join(t.isoformat() for t in getattr(event, "scheduled_run_times", []))
        kind, message = "max_instances", f"job {event.job_id} still running; the run at {times} skipped"
        logger.warning(message)
    runtime.record_event(kind, message)
