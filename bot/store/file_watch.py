"""Notice a SQLite file deleted or replaced under a running process (issue 10 item 14).

Pooled SQLite connections keep writing into a deleted file's inode without an error: every cycle after
`rm data/bot.db` would be recorded nowhere, and once the pool reconnected, the fresh empty file would have
no tables. `FileWatch` remembers the file's identity once the schema is in place; the store asks it before
each transaction (one `stat`) and, when the file is gone or another one, reconnects, recreates and migrates.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

from loguru import logger

from bot.errors import StoreError
from bot.log import private_dir


class FileWatch:
    """The identity (device, inode) of a database file, remembered after a successful migration."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.lock = threading.Lock()
        self._identity: tuple[int, int] | None = None

    def _current(self) -> tuple[int, int] | None:
        assert self.path is not None
        try:
            st = os.stat(self.path)
        except (FileNotFoundError, NotADirectoryError):
            return None
        return st.st_dev, st.st_ino

    def remember(self) -> None:
        """The file as it is now is the one the store uses (call after the schema is at head)."""
        if self.path is not None:
            try:
                self._identity = self._current()
            except OSError:
                self._identity = None

    def changed(self) -> bool:
        """True when the remembered file was deleted or replaced since (never before `remember`)."""
        if self.path is None or self._identity is None:
            return False
        try:
            return self._current() != self._identity
        except OSError:  # e.g. permission: not ours to judge here, the database call reports it
            return False

    def describe(self) -> str:
        return "deleted" if self.path is not None and not self.path.exists() else "replaced by another file"

    def reopen_if_changed(self, url: str, dispose: Callable[[], None], migrate: Callable[[], None]) -> None:
        """When the file changed: drop pooled connections, recreate its folder, migrate (raises StoreError)."""
        if not self.changed():
            return
        with self.lock:
            if not self.changed():
                return
            assert self.path is not None
            logger.warning("metrics DB {} was {} while running: reopening and migrating it", url, self.describe())
            dispose()  # pooled connections still point at the old file
            try:
                private_dir(self.path.parent)  # owner-only (0700) like the first time
            except OSError as exc:
                raise StoreError(f"metrics DB {url}: cannot recreate folder {self.path.parent}: {exc}") from exc
            migrate()  # calls remember() once the schema is at head
