"""Job functions and scheduler listeners: thin, picklable by name, never losing an event."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobExecutionEvent,
    JobSubmissionEvent,
)
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import create_engine, text

from bot.errors import AuthError, SaxoRetryable
from bot.wiring import CYCLE_JOB_ID
from jobs import events, runtime, trading_cycle
from scheduler import misfire_grace_seconds

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


@pytest.fixture
def ctx(make_ctx):
    context = make_ctx(dry_run=True)
    runtime.install(context)
    yield context
    runtime.clear()


@pytest.mark.parametrize(
    ("code", "kind"),
    [(EVENT_JOB_ERROR, "job_error"), (EVENT_JOB_MISSED, "job_missed"), (EVENT_JOB_MAX_INSTANCES, "max_instances")],
)
def test_listener_turns_scheduler_events_into_rows_and_metrics(ctx, code: int, kind: str) -> None:
    # The event classes APScheduler really sends: a submission event (with run times) for max-instance skips.
    if code == EVENT_JOB_MAX_INSTANCES:
        event = JobSubmissionEvent(code, "trading_cycle", "default", [NOW])
    else:
        failure = RuntimeError("boom") if code == EVENT_JOB_ERROR else None
        event = JobExecutionEvent(code, "trading_cycle", "default", NOW, exception=failure)
    events.on_job_event(event)
    rendered = ctx.metrics.render().decode()
    assert f'saxobot_scheduler_events_total{{kind="{kind}"}} 1.0' in rendered
    with ctx.store.engine.connect() as conn:
        kinds = [row[0] for row in conn.execute(text("SELECT kind FROM events"))]
    assert kind in kinds


def test_a_missed_run_from_a_previous_process_is_reported(ctx, tmp_path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'jobs.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE apscheduler_jobs (id TEXT PRIMARY KEY, next_run_time REAL, job_state BLOB)"))
        due = (NOW - timedelta(minutes=10)).timestamp()
        conn.execute(text("INSERT INTO apscheduler_jobs VALUES ('trading_cycle', :t, x'00')"), {"t": due})
    events.report_missed_runs(engine, "apscheduler_jobs", "trading_cycle", misfire_grace_seconds(60), NOW)
    with ctx.store.engine.connect() as conn:
        messages = [row[0] for row in conn.execute(text("SELECT message FROM events WHERE kind = 'job_missed'"))]
    assert messages and "not replayed" in messages[0]


def test_cycle_job_records_status_and_metrics(ctx) -> None:
    assert trading_cycle.run() == "ok"
    assert runtime.state["last_status"] == "ok" and runtime.state["last_success_at"] is not None
    assert 'saxobot_cycles_total{status="ok"} 1.0' in ctx.metrics.render().decode()


def test_cycle_job_stops_the_process_with_exit_3_on_auth_failure(ctx, sim) -> None:
    sim.control.queue_fault("401", count=20)
    stopped = []
    runtime.install(ctx, on_stop=lambda: stopped.append(True))
    assert trading_cycle.run() == "auth"
    assert runtime.state["exit_code"] == 3 and ctx.stop.is_set() and stopped


def test_no_cycle_starts_once_stopping(ctx, sim) -> None:
    ctx.stop.set()
    before = sim.control.state()["requests"]
    assert trading_cycle.run() == "stopping"
    assert sim.control.state()["requests"] == before


class FakeTokens:
    def __init__(self, answer) -> None:
        self.answer = answer

    def refresh_if_due(self) -> bool:
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def test_token_refresh_job(ctx) -> None:
    ctx.tokens = FakeTokens(True)
    trading_cycle.refresh_token()
    assert runtime.state["exit_code"] == 0
    ctx.tokens = FakeTokens(SaxoRetryable("network down"))
    trading_cycle.refresh_token()  # retried at the next run; not fatal
    assert runtime.state["exit_code"] == 0 and not ctx.stop.is_set()
    ctx.tokens = FakeTokens(AuthError("refresh token expired"))
    trading_cycle.refresh_token()
    assert runtime.state["exit_code"] == 3 and ctx.stop.is_set()


def test_heartbeat_logs_a_line(ctx, capsys) -> None:
    from loguru import logger

    lines: list[str] = []
    sink = logger.add(lines.append, format="{message}")
    try:
        trading_cycle.heartbeat()
    finally:
        logger.remove(sink)
    assert lines and "heartbeat: pid" in lines[0] and "dry run" in lines[0]
    assert "next run none" in lines[0]  # no scheduler in this context


def test_heartbeat_names_the_cycle_jobs_next_run_from_the_scheduler_on_the_context(ctx) -> None:
    from loguru import logger

    due = NOW + timedelta(minutes=1)
    scheduler = BackgroundScheduler(timezone=UTC)
    scheduler.add_job(trading_cycle.heartbeat, "interval", seconds=60, id=CYCLE_JOB_ID, next_run_time=due)
    scheduler.start(paused=True)  # running, but nothing fires during the test
    ctx.scheduler = scheduler
    lines: list[str] = []
    sink = logger.add(lines.append, format="{message}")
    try:
        assert ctx.next_cycle_at() == due
        trading_cycle.heartbeat()
    finally:
        logger.remove(sink)
        scheduler.shutdown(wait=False)
    assert f"next run {due.isoformat()}" in lines[0]


def test_stored_jobs_are_references_with_no_secret(tmp_path, monkeypatch) -> None:
    """Register the real jobs in a real SQLAlchemy job store and read back what was pickled."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

    from bot.config import load_settings
    from scheduler import register_jobs

    token, secret = "tok-NEVER-STORED-123456", "app-secret-NEVER-STORED"
    for name, value in {
        "SAXO_ACCESS_TOKEN": token,
        "SAXO_APP_KEY": "key",
        "SAXO_APP_SECRET": secret,
        "SAXO_AUTH_MODE": "oauth",
        "TRADING_HOURS_MODE": "fixed",
    }.items():
        monkeypatch.setenv(name, value)
    settings = load_settings(env_file=None)
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    scheduler = BackgroundScheduler(timezone=UTC, jobstores={"default": SQLAlchemyJobStore(url=url)})
    scheduler.start(paused=True)
    try:
        register_jobs(scheduler, settings, NOW)
    finally:
        scheduler.shutdown(wait=False)
    with create_engine(url).connect() as conn:
        rows = dict(conn.execute(text("SELECT id, job_state FROM apscheduler_jobs")).all())
    assert set(rows) == {"trading_cycle", "heartbeat", "token_refresh", "db_retention"}
    states = {job_id: pickle.loads(blob) for job_id, blob in rows.items()}
    assert states["trading_cycle"]["func"] == "jobs.trading_cycle:run"
    assert states["trading_cycle"]["args"] == () and states["trading_cycle"]["kwargs"] == {}
    assert states["trading_cycle"]["coalesce"] is True and states["trading_cycle"]["max_instances"] == 1
    for blob in rows.values():
        assert token.encode() not in blob and secret.encode() not in blob
