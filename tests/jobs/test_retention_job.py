"""The retention job: prunes by DB_RETENTION_DAYS from the context's clock, registered by name, never raises."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import create_engine, text

from bot.config import load_settings
from bot.errors import StopRequested
from bot.store import CycleCounts, SignalRecord
from jobs import retention, runtime

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


class FixedClock:
    def __init__(self, now: datetime) -> None:
        self.moment, self.slept = now, []

    def now(self) -> datetime:
        return self.moment

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)

    def monotonic(self) -> float:
        return 0.0


@pytest.fixture
def install(make_ctx):
    def make(**overrides):
        ctx = make_ctx(dry_run=True, **overrides)
        ctx.clock = FixedClock(NOW)
        runtime.install(ctx)
        return ctx

    yield make
    runtime.clear()


def add_cycle(ctx, days_ago: float) -> int:
    started = NOW - timedelta(days=days_ago)
    cycle = ctx.store.start_cycle(started_at=started, dry_run=True, hours_mode="always", instruments=1)
    ctx.store.add_signals(cycle, [SignalRecord("FxSpot:21", "EURUSD", "HOLD")])
    ctx.store.finish_cycle(cycle, finished_at=started, status="ok", counts=CycleCounts())
    return cycle


def cycle_ids(ctx) -> list[int]:
    return [c.id for c in ctx.store.history(100)]


def test_the_job_prunes_what_is_older_than_the_retention(install) -> None:
    ctx = install(db_retention_days=30)
    old, edge, recent = add_cycle(ctx, 31), add_cycle(ctx, 30.01), add_cycle(ctx, 29.99)
    assert retention.run() == "2 cycles, 2 signals, 0 events in 1 batches"
    assert cycle_ids(ctx) == [recent]
    assert old not in cycle_ids(ctx) and edge not in cycle_ids(ctx)


def test_zero_keeps_everything(install) -> None:
    ctx = install(db_retention_days=0)
    kept = add_cycle(ctx, 5000)
    assert retention.run() == "off" and cycle_ids(ctx) == [kept]


def test_a_db_failure_is_logged_not_raised(install, monkeypatch) -> None:
    ctx = install()
    add_cycle(ctx, 400)
    ctx.store.engine.dispose()
    monkeypatch.setattr(ctx.store, "engine", create_engine("sqlite:////nonexistent-folder/x.db"))
    assert retention.run() == "error"


def test_a_stop_request_ends_the_run_quietly(install, monkeypatch) -> None:
    ctx = install()
    for k in range(3):
        add_cycle(ctx, 400 + k)

    def stop(_seconds: float) -> None:
        raise StopRequested("stop")

    monkeypatch.setattr(ctx.clock, "sleep", stop)
    monkeypatch.setattr("bot.store.retention.BATCH_CYCLES", 1)
    assert retention.run() == "stopped"
    assert len(cycle_ids(ctx)) == 2


@pytest.mark.parametrize("days", [90, 0])
def test_registered_by_reference_once_a_day_from_start_up(tmp_path, monkeypatch, days: int) -> None:
    for name in ("SAXO_ENV", "SAXO_ACCESS_TOKEN", "SAXO_APP_KEY"):
        monkeypatch.delenv(name, raising=False)
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    scheduler = BackgroundScheduler(timezone=UTC, jobstores={"default": SQLAlchemyJobStore(url=url)})
    scheduler.start(paused=True)
    try:
        retention.register(scheduler, load_settings(env_file=None, overrides={"db_retention_days": 90}), NOW)
        job = scheduler.get_job(retention.JOB_ID)
        assert job.next_run_time == NOW + timedelta(seconds=retention.STARTUP_DELAY_SECONDS)
        assert isinstance(job.trigger, IntervalTrigger) and job.trigger.interval == timedelta(days=1)
        assert job.coalesce is True and job.max_instances == 1
        settings = load_settings(env_file=None, overrides={"db_retention_days": days})
        retention.register(scheduler, settings, NOW)  # a restart with the setting changed
        present = scheduler.get_job(retention.JOB_ID) is not None
    finally:
        scheduler.shutdown(wait=False)
    assert present is (days > 0)
    if present:
        with create_engine(url).connect() as conn:
            blob = conn.execute(text("SELECT job_state FROM apscheduler_jobs WHERE id = 'db_retention'")).scalar()
        state = pickle.loads(blob)
        assert state["func"] == "jobs.retention:run" and state["args"] == () and state["kwargs"] == {}


def test_the_setting_is_validated() -> None:
    from bot.errors import ConfigError

    with pytest.raises(ConfigError, match="DB_RETENTION_DAYS"):
        load_settings(env_file=None, overrides={"db_retention_days": -1})
    assert load_settings(env_file=None).db_retention_days == 90
