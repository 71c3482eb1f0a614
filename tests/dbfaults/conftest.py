"""Fixtures for the metrics-DB fault tests: a bot context (on the shared simulator and pinned clock of
tests/conftest.py) on a SQLite file in tmp_path whose Store has a short busy timeout, faults to switch on and
off, and the log lines the bot wrote.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from loguru import logger
from sqlalchemy import event

from bot.config import Settings
from bot.store import Store
from bot.wiring import Context

WATCHLIST = [
    {"asset_type": "FxSpot", "uic": 21, "symbol": "EURUSD", "quantity": 10000},
    {"asset_type": "FxSpot", "uic": 31, "symbol": "GBPUSD", "quantity": 10000},
    {"asset_type": "Stock", "uic": 211, "symbol": "AAPL:xnas", "quantity": 5},
]
BUSY_TIMEOUT_MS = 200
SQLITE_MAX_PAGES = 2**30


@pytest.fixture
def db_path(tmp_path: Path, bot_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Path:
    """Settings confined to tmp_path (the shared `bot_env`) with a three-instrument watchlist; the DB file."""
    monkeypatch.setenv("WATCHLIST", json.dumps(WATCHLIST))
    return tmp_path / "bot.db"


@pytest.fixture
def make_ctx(make_ctx: Callable[..., Context], db_path: Path) -> Callable[..., Context]:
    """`make_ctx(url=None, **settings)`: the shared context factory (simulator, pinned clock) with a Store that
    waits 200 ms for a lock; `url` opens the migrated DB through another URL (e.g. read-only)."""

    def make(url: str | None = None, **overrides: Any) -> Context:
        def store(settings: Settings) -> Store:
            writable = Store(settings.database_url, busy_timeout_ms=BUSY_TIMEOUT_MS)
            writable.migrate()
            if url is None:
                return writable
            writable.dispose()
            return Store(url, busy_timeout_ms=BUSY_TIMEOUT_MS)

        return make_ctx(store=store, **overrides)

    return make


@pytest.fixture
def logs() -> Iterator[list[str]]:
    """Every loguru record at DEBUG and above as "LEVEL message"."""
    lines: list[str] = []
    handler = logger.add(lambda m: lines.append(str(m).rstrip("\n")), level="DEBUG", format="{level} {message}")
    yield lines
    logger.remove(handler)


# ---- faults ----------------------------------------------------------------------------------------------


class Locker:
    """Another writer holding `BEGIN EXCLUSIVE` on the database (in WAL mode readers still read)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None

    def lock(self) -> None:
        self._conn = sqlite3.connect(self.path, timeout=5, isolation_level=None)
        self._conn.execute("BEGIN EXCLUSIVE")

    def release(self) -> None:
        if self._conn is not None:
            self._conn.execute("ROLLBACK")
            self._conn.close()
            self._conn = None


@pytest.fixture
def locker(db_path: Path) -> Iterator[Locker]:
    held = Locker(db_path)
    yield held
    held.release()


@dataclass
class DiskCap:
    """A full disk for one Store: `PRAGMA max_page_count` on every connection it checks out.

    `fill()` caps the database at its current size and packs every table's last page with tiny rows, so
    the bot's next insert (its rows are all bigger) needs a page the cap refuses: SQLITE_FULL, "database
    or disk is full". `lift()` puts the cap back to SQLite's maximum: the next write succeeds.
    """

    path: Path
    cap: int = SQLITE_MAX_PAGES
    filler_rows: int = 0
    _installed: list[Any] = field(default_factory=list)

    def install(self, store: Store) -> None:
        def _apply(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
            cursor = dbapi_conn.cursor()
            try:
                cursor.execute(f"PRAGMA max_page_count = {int(self.cap)}")
            finally:
                cursor.close()

        event.listen(store.engine, "checkout", _apply)
        self._installed.append((store.engine, _apply))

    def fill(self) -> None:
        conn = sqlite3.connect(self.path, timeout=5, isolation_level=None)
        try:
            conn.execute("PRAGMA synchronous = OFF")
            self.cap = int(conn.execute("PRAGMA page_count").fetchone()[0])
            conn.execute(f"PRAGMA max_page_count = {self.cap}")
            cycle_id = self._insert_until_full(
                conn, "INSERT INTO cycles (started_at, status, dry_run) VALUES ('', 'ok', 0)"
            )
            for statement in (
                f"INSERT INTO signals (cycle_id, instrument_id, signal) VALUES ({cycle_id}, '', '')",
                "INSERT INTO orders (cycle_id, instrument_id, side, amount, order_type, status, opening, "
                f"created_at, updated_at) VALUES ({cycle_id}, '', '', '0', '', 'blocked', 0, '', '')",
                "INSERT INTO events (at, kind, message) VALUES ('', '', '')",
                "INSERT INTO day_baselines (trading_day, total_value, recorded_at) "
                "VALUES (printf('%d', abs(random()) % 100000), '0', '')",
            ):
                self._insert_until_full(conn, statement)
        finally:
            conn.close()

    def _insert_until_full(self, conn: sqlite3.Connection, statement: str) -> int:
        first: int | None = None
        while True:
            try:
                cursor = conn.execute(statement)
            except sqlite3.IntegrityError:  # a random day_baselines key met twice: try another
                continue
            except sqlite3.OperationalError as exc:
                assert "full" in str(exc), exc
                return first or 0
            first = first or int(cursor.lastrowid or 0)
            self.filler_rows += 1
            if self.filler_rows > 200_000:
                raise AssertionError("the capped database never filled up")

    def lift(self) -> None:
        self.cap = SQLITE_MAX_PAGES

    def remove(self) -> None:
        for engine, listener in self._installed:
            event.remove(engine, "checkout", listener)
        self._installed.clear()


@pytest.fixture
def disk(db_path: Path) -> Iterator[DiskCap]:
    cap = DiskCap(db_path)
    yield cap
    cap.remove()


class ReadOnlyFile:
    """Make the database file (and its WAL) read-only at the OS level, and writable again.

    Not root: chmod 0444. Root ignores file modes, so as root the files get the immutable attribute
    (`chattr +i`), which binds root too; where that is unavailable the test is skipped with the reason.
    The `-shm` file is left alone: SQLite maps it into memory, and making a mapped file immutable kills the
    process with SIGBUS (a test artefact, not a disk a bot would ever meet).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.root = os.geteuid() == 0
        self._done: list[Path] = []

    def files(self) -> list[Path]:
        return [p for p in (self.path, Path(f"{self.path}-wal")) if p.exists()]

    def usable_reason(self, probe_dir: Path) -> str | None:
        """None when this machine can make a file read-only for this user, else why not."""
        if not self.root:
            return None
        if shutil.which("chattr") is None:
            return "running as root (chmod does not stop root) and chattr is not installed"
        probe = probe_dir / "immutable-probe"
        probe.write_text("x")
        try:
            if subprocess.run(["chattr", "+i", str(probe)], capture_output=True).returncode != 0:
                return "running as root (chmod does not stop root) and chattr +i is not supported on this filesystem"
            try:
                with probe.open("a") as handle:
                    handle.write("y")
            except PermissionError:
                return None
            return "running as root and chattr +i did not stop a write here"
        finally:
            subprocess.run(["chattr", "-i", str(probe)], capture_output=True)
            probe.unlink(missing_ok=True)

    def make_read_only(self) -> None:
        for path in self.files():
            if self.root:
                subprocess.run(["chattr", "+i", str(path)], check=True)
            else:
                path.chmod(0o444)
            self._done.append(path)

    def make_writable(self) -> None:
        for path in self._done:
            if self.root:
                subprocess.run(["chattr", "-i", str(path)], check=True)
            else:
                path.chmod(0o644)
        self._done.clear()


@pytest.fixture
def read_only_file(db_path: Path, tmp_path: Path) -> Iterator[ReadOnlyFile]:
    handle = ReadOnlyFile(db_path)
    reason = handle.usable_reason(tmp_path)
    if reason is not None:
        pytest.skip(reason)
    yield handle
    handle.make_writable()  # tmp_path must stay removable
