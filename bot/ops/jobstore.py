"""A job store that survives its database being locked or unreachable for a while (issue 10 item 13).

APScheduler 3.x guards only `get_due_jobs`: when `update_job` (called on the scheduler's main loop after
every run), `get_next_run_time` or `remove_job` raise, the exception ends `BlockingScheduler` with a
traceback. Here a write the database refuses is kept in memory and written at the next chance (before any
read, so the store never hands out a stale next run time); a read that fails is one short warning, and
the scheduler tries again a few seconds later. The process keeps running and goes on with its cycles once
the database answers again. Only database errors are absorbed; anything else is still a bug and raises.

`jobstore_engine` makes the store's own engine (SQLite: WAL and a busy timeout, the file owner-only).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from apscheduler.job import Job
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from loguru import logger
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError

from bot.clock import SystemClock
from bot.errors import FatalError
from bot.store.engine import describe, safe_url

RETRY_SECONDS = 5  # how soon the scheduler tries an unavailable job store again
_REMOVED = None  # a pending removal


class JobStoreUnavailable(Exception):
    """The job store's database did not answer (locked past its busy timeout, gone, read-only)."""


class ResilientJobStore(SQLAlchemyJobStore):
    """`SQLAlchemyJobStore` whose failed writes wait in memory instead of stopping the scheduler."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pending: dict[str, Job | None] = {}
        self._failing = False

    # -- start-up: a clear error, no traceback -----------------------------------------------------------

    def start(self, scheduler: Any, alias: str) -> None:
        try:
            super().start(scheduler, alias)
        except DBAPIError as exc:
            raise FatalError(
                f"job store {safe_url(self.engine.url)}: cannot create its table: {describe(exc)}"
            ) from exc

    # -- writes: kept when the database refuses them -----------------------------------------------------

    def add_job(self, job: Job) -> None:
        try:
            self._flush()
            super().add_job(job)
        except DBAPIError as exc:
            self._keep(job.id, job, exc)

    def update_job(self, job: Job) -> None:
        try:
            self._flush()
            super().update_job(job)
        except DBAPIError as exc:
            self._keep(job.id, job, exc)

    def remove_job(self, job_id: str) -> None:
        try:
            self._flush()
            super().remove_job(job_id)
        except DBAPIError as exc:
            self._keep(job_id, _REMOVED, exc)

    # -- reads: pending writes first, then a short error the scheduler retries ---------------------------

    def get_due_jobs(self, now: datetime) -> list[Job]:
        # APScheduler catches what this raises, logs it and tries again in `jobstore_retry_interval`.
        try:
            self._flush()
            jobs = super().get_due_jobs(now)
        except DBAPIError as exc:
            self._failed(exc)
            raise JobStoreUnavailable(f"{describe(exc)}; retrying in {RETRY_SECONDS} s") from None
        self._recovered()
        return jobs

    def get_next_run_time(self) -> datetime | None:
        try:
            self._flush()
            found = super().get_next_run_time()
        except DBAPIError as exc:
            self._failed(exc)
            return SystemClock().now() + timedelta(seconds=RETRY_SECONDS)  # never "no jobs": wake up and retry
        self._recovered()
        return found

    def lookup_job(self, job_id: str) -> Job | None:
        """Only for display (/health, the heartbeat's next run): unknown while the database does not answer."""
        if job_id in self._pending:
            return self._pending[job_id]
        try:
            return super().lookup_job(job_id)
        except DBAPIError as exc:
            self._failed(exc)
            return None

    def shutdown(self) -> None:
        try:
            self._flush()
        except DBAPIError as exc:
            logger.warning("job store: {} change(s) not written at shutdown ({})", len(self._pending), describe(exc))
        super().shutdown()

    # -- internals ---------------------------------------------------------------------------------------

    def _flush(self) -> None:
        for job_id in list(self._pending):
            job = self._pending[job_id]
            if job is _REMOVED:
                try:
                    super().remove_job(job_id)
                except JobLookupError:
                    pass
            else:
                try:
                    super().update_job(job)
                except JobLookupError:
                    super().add_job(job)
            del self._pending[job_id]

    def _keep(self, job_id: str, job: Job | None, exc: DBAPIError) -> None:
        self._pending[job_id] = job
        self._failed(exc)

    def _failed(self, exc: DBAPIError) -> None:
        if not self._failing:
            logger.warning(
                "job store {} unavailable ({}); the scheduler keeps running and retries every {} s",
                safe_url(self.engine.url),
                describe(exc),
                RETRY_SECONDS,
            )
        self._failing = True

    def _recovered(self) -> None:
        if self._failing:
            logger.info("job store {} available again", safe_url(self.engine.url))
        self._failing = False


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
