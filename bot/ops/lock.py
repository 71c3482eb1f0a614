"""One bot per job store (two schedulers on one store would both trade).

SQLite job store: an exclusive `flock` on a file beside it. PostgreSQL job store (bots on several
machines): a session-level advisory lock keyed by the job-store table, held on its own connection for
the life of the process; the server releases it when the process dies, even by SIGKILL.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine, make_url

from bot.errors import ConfigError, InstanceLockedError
from bot.log import private_dir


def lock_path_for(jobstore_url: str, table: str) -> Path:
    """`data/jobs.db` → `data/jobs.db.lock`; a server URL → `data/<table>.lock`."""
    url = make_url(jobstore_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(f"{url.database}.{table}.lock")
    return Path("data") / f"{table}.lock"


class InstanceLock:
    """An advisory `flock`; the OS releases it when the process dies, even by SIGKILL."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> InstanceLock:
        try:
            private_dir(self.path.parent)  # data/ is owner-only (0700) when we create it
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:  # the job store's folder cannot hold files: the setting is wrong
            raise ConfigError(
                "JOBSTORE_URL", f"cannot create the lock file {self.path}: {exc.strerror or exc}"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 64).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise InstanceLockedError(
                f"another saxo-bot (PID {holder}) is already running on this job store ({self.path}); "
                "stop it first or give this one its own JOBSTORE_URL/JOBSTORE_TABLE"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> InstanceLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


class PostgresAdvisoryLock:
    """`pg_try_advisory_lock` on a dedicated connection; released by closing it."""

    def __init__(self, url: str, table: str) -> None:
        self.url = url
        self.table = table
        self.key = int.from_bytes(hashlib.sha256(f"saxo-bot:{table}".encode()).digest()[:8], "big", signed=True)
        self._engine: Engine | None = None
        self._conn: Connection | None = None

    def acquire(self) -> PostgresAdvisoryLock:
        self._engine = create_engine(self.url, pool_size=1, max_overflow=0)
        self._conn = self._engine.connect()
        got = self._conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}).scalar()
        self._conn.commit()
        if not got:
            self.release()
            raise InstanceLockedError(
                f"another saxo-bot is already running on the job store table '{self.table}' of this PostgreSQL "
                "server; stop it first or give this one its own JOBSTORE_TABLE"
            )
        return self

    def release(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def __enter__(self) -> PostgresAdvisoryLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def instance_lock(jobstore_url: str, table: str) -> InstanceLock | PostgresAdvisoryLock:
    """The right lock for the job store: an advisory lock on PostgreSQL, a lock file otherwise."""
    if make_url(jobstore_url).get_backend_name() == "postgresql":
        return PostgresAdvisoryLock(jobstore_url, table)
    return InstanceLock(lock_path_for(jobstore_url, table))
