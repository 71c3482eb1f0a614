"""One bot per job store: an exclusive lock next to it (two schedulers on one store would both trade)."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.errors import InstanceLockedError


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
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
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
