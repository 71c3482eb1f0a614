"""A locked job store is logged and retried; the scheduler keeps running (issue 10 item 13)."""

from __future__ import annotations

import sqlite3
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import create_engine

from bot.ops.jobstore import RETRY_SECONDS, JobStoreUnavailable, ResilientJobStore


def noop() -> None:
    """The stored job (referenced by name, as the bot's jobs are)."""


class Holder:
    """A second connection holding `BEGIN EXCLUSIVE` on the job store's file."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, timeout=5, isolation_level=None)

    def lock(self) -> None:
        self.conn.execute("BEGIN EXCLUSIVE")

    def release(self) -> None:
        self.conn.execute("ROLLBACK")


@pytest.fixture
def store_and_scheduler(tmp_path: Path) -> Iterator[tuple[ResilientJobStore, BackgroundScheduler, Path]]:
    path = tmp_path / "jobs.db"
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 0.2, "check_same_thread": False})
    store = ResilientJobStore(engine=engine)
    scheduler = BackgroundScheduler(timezone=UTC, jobstores={"default": store})
    scheduler.start(paused=True)  # the store is live, nothing runs
    scheduler.add_job(f"{__name__}:noop", trigger="interval", seconds=60, id="cycle")
    try:
        yield store, scheduler, path
    finally:
        scheduler.shutdown(wait=False)


def stored_next_run(path: Path) -> datetime | None:
    engine = create_engine(f"sqlite:///{path}")
    plain = SQLAlchemyJobStore(engine=engine)
    try:
        return plain.get_next_run_time()
    finally:
        engine.dispose()


def test_a_refused_write_waits_in_memory_and_is_written_once_the_lock_goes(store_and_scheduler) -> None:
    store, scheduler, path = store_and_scheduler
    holder = Holder(path)
    later = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=3)
    job = scheduler.get_job("cycle")
    holder.lock()
    try:
        job._modify(next_run_time=later)  # what APScheduler's loop does after submitting a run
        store.update_job(job)  # plain SQLAlchemyJobStore: OperationalError here, the end of the scheduler
        assert store.lookup_job("cycle").next_run_time == later  # the pending version, not a stale one
        with pytest.raises(JobStoreUnavailable) as caught:
            store.get_due_jobs(datetime.now(UTC))
        assert "locked" in str(caught.value) and "\n" not in str(caught.value)
        soon = store.get_next_run_time()  # never None ("no jobs"): the scheduler must wake up and retry
        assert soon is not None and soon - datetime.now(UTC) <= timedelta(seconds=RETRY_SECONDS)
    finally:
        holder.release()
    assert store.get_next_run_time() == later
    assert stored_next_run(path) == later  # really written to the file


def test_a_lookup_while_locked_is_unknown_not_an_error(store_and_scheduler) -> None:
    _store, scheduler, path = store_and_scheduler
    holder = Holder(path)
    holder.lock()
    try:
        assert scheduler.get_job("cycle") is None  # /health shows no next run instead of failing
    finally:
        holder.release()
    assert scheduler.get_job("cycle") is not None


def test_a_refused_removal_is_done_later(store_and_scheduler) -> None:
    store, scheduler, path = store_and_scheduler
    holder = Holder(path)
    holder.lock()
    try:
        scheduler.remove_job("cycle")
        assert store.lookup_job("cycle") is None
    finally:
        holder.release()
    assert store.get_due_jobs(datetime.now(UTC) + timedelta(days=1)) == []
    assert stored_next_run(path) is None


def test_plain_sqlalchemy_store_raises_where_ours_does_not(tmp_path: Path) -> None:
    """The failure being fixed: APScheduler's own store raises from update_job (on the scheduler's loop)."""
    path = tmp_path / "jobs.db"
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 0.2})
    plain = SQLAlchemyJobStore(engine=engine)
    scheduler = BackgroundScheduler(timezone=UTC, jobstores={"default": plain})
    scheduler.start(paused=True)
    scheduler.add_job(f"{__name__}:noop", trigger="interval", seconds=60, id="cycle")
    holder = Holder(path)
    job = scheduler.get_job("cycle")
    holder.lock()
    try:
        job._modify(next_run_time=datetime.now(UTC) + timedelta(hours=1))
        with pytest.raises(Exception, match="locked"):
            plain.update_job(job)
    finally:
        holder.release()
        scheduler.shutdown(wait=False)


# ---- the real process -------------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_scheduler_survives_a_jobs_db_held_past_its_busy_timeout(tmp_path: Path) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from tests.crash.harness import SimProcess, bot_environment, finished_cycles, start_bot, wait_for

    sim = SimProcess(tmp_path, seed=5)
    env = bot_environment(sim)
    env["DRY_RUN"] = "true"
    run = start_bot(tmp_path, env)
    db = tmp_path / "data" / "bot.db"
    try:
        wait_for(lambda: finished_cycles(db) >= 2, 60, "two cycles", run)
        holder = Holder(tmp_path / "data" / "jobs.db")
        holder.lock()
        try:
            time.sleep(13)  # longer than the job store's 10 s busy timeout
            assert run.proc.poll() is None, run.err_text()[-3000:]
        finally:
            holder.release()
        released_at = finished_cycles(db)
        wait_for(lambda: finished_cycles(db) >= released_at + 3, 45, "cycles after the release", run)
        assert run.terminate(60) == 0
    finally:
        if run.proc.poll() is None:
            run.kill()
        sim.stop()
    err = run.err_text()
    assert "Traceback" not in err, err[-3000:]
    assert "job store sqlite:///data/jobs.db unavailable" in err and "available again" in err
