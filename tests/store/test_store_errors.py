"""Database failures become StoreError (chained, with a clear message and no password), never a crash."""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError

from bot.errors import StoreError
from bot.store import CycleCounts, OrderRecord, SignalRecord, Store
from bot.store.engine import safe_url
from tests.store.conftest import T0, at


@pytest.fixture
def db_file(tmp_path: Path) -> Path:
    """A migrated SQLite file with one finished cycle in it, no connection left open."""
    path = tmp_path / "metrics.db"
    with Store(f"sqlite:///{path}") as store:
        store.migrate()
        cycle_id = store.start_cycle(started_at=T0, dry_run=False, hours_mode="always", instruments=1)
        store.finish_cycle(cycle_id, finished_at=at(1), status="ok", counts=CycleCounts())
    return path


def every_write(store: Store) -> list:
    """One call of each writing method, as thunks."""
    return [
        lambda: store.start_cycle(started_at=at(60), dry_run=False, hours_mode="always", instruments=1),
        lambda: store.finish_cycle(1, finished_at=at(2), status="ok", counts=CycleCounts()),
        lambda: store.add_signals(1, [SignalRecord("FxSpot:21", "EURUSD", "HOLD")]),
        lambda: store.add_order(1, OrderRecord("FxSpot:21", "EURUSD", "BUY", Decimal(1), created_at=T0)),
        lambda: store.set_day_baseline("2026-11-24", Decimal(1), "USD", T0),
        lambda: store.add_event("startup", "hello", at=T0),
        lambda: store.mark_interrupted_cycles(T0),
    ]


def read_only_url(path: Path) -> Iterator[str]:
    if os.geteuid() == 0:  # root writes through file modes: open the file read-only instead
        yield f"sqlite:///file:{path}?mode=ro&uri=true"
        return
    path.chmod(0o444)
    try:
        yield f"sqlite:///{path}"
    finally:
        path.chmod(0o644)


def test_read_only_database_file(db_file: Path) -> None:
    for url in read_only_url(db_file):
        with Store(url) as store:
            for write in every_write(store):
                with pytest.raises(StoreError, match=r"readonly|read-only|read only") as caught:
                    write()
                assert isinstance(caught.value.__cause__, SQLAlchemyError)
            assert [c.status for c in store.history()] == ["ok"]  # reads still work


def test_locked_database_fails_after_the_busy_timeout_and_recovers(db_file: Path) -> None:
    holder = sqlite3.connect(db_file, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    store = Store(f"sqlite:///{db_file}", busy_timeout_ms=100)
    try:
        started = time.monotonic()
        with pytest.raises(StoreError, match="database is locked") as caught:
            store.start_cycle(started_at=at(60), dry_run=False, hours_mode="always", instruments=1)
        assert time.monotonic() - started < 2
        assert "could not start a cycle" in str(caught.value)
        with pytest.raises(StoreError, match="locked"):
            store.add_event("store_error", "x", at=T0)
        assert len(store.history()) == 1  # WAL: readers are not blocked by the writer
        holder.execute("ROLLBACK")
        assert store.start_cycle(started_at=at(60), dry_run=False, hours_mode="always", instruments=1) == 2
    finally:
        holder.close()
        store.dispose()


def test_disk_full(db_file: Path) -> None:
    store = Store(f"sqlite:///{db_file}")
    try:
        with store.engine.connect() as conn:
            pages = conn.exec_driver_sql("PRAGMA page_count").scalar()
        store.engine.dispose()

        @event.listens_for(store.engine, "connect")
        def _cap(dbapi_conn, _record) -> None:
            dbapi_conn.execute(f"PRAGMA max_page_count = {pages}")

        big = [SignalRecord(f"Stock:{i}", "X", "HOLD", None, "r" * 2000) for i in range(200)]
        with pytest.raises(StoreError, match="full"):
            store.add_signals(1, big)
        assert store.history()[0].id == 1
    finally:
        store.dispose()


def test_postgres_unreachable_without_leaking_the_password() -> None:
    pytest.importorskip("psycopg")
    url = "postgresql+psycopg://bot:s3cret-pw@127.0.0.1:1/metrics?connect_timeout=2"
    store = Store(url)
    try:
        assert "s3cret-pw" not in repr(store) and "***" in store.url
        for call in (store.migrate, store.history, lambda: store.day_baseline("2026-11-24")):
            with pytest.raises(StoreError) as caught:
                call()
            assert "s3cret-pw" not in str(caught.value)
            assert "127.0.0.1" in str(caught.value)
    finally:
        store.dispose()


def test_not_migrated_database(tmp_path: Path) -> None:
    with Store(f"sqlite:///{tmp_path}/empty.db") as store:
        with pytest.raises(StoreError, match="could not start a cycle"):
            store.start_cycle(started_at=T0, dry_run=False, hours_mode="always", instruments=1)
        with pytest.raises(StoreError):
            store.history()


def test_database_folder_cannot_be_created(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="cannot create folder"):
        Store(f"sqlite:///{blocker}/metrics.db")


def test_bad_urls() -> None:
    with pytest.raises(StoreError, match="not a database URL"):
        Store("definitely not a url")
    with pytest.raises(StoreError):
        Store("nosuchdialect://x/y")


def test_database_file_removed_under_a_running_store(db_file: Path, tmp_path: Path) -> None:
    """The folder vanishing under a migrated store: recreated and migrated, the write succeeds (issue 10 item 14;
    tests/store/test_file_recovery.py has the other cases)."""
    with Store(f"sqlite:///{tmp_path}/gone/metrics.db") as store:
        store.migrate()
        store.dispose()
        shutil.rmtree(tmp_path / "gone")
        cycle_id = store.start_cycle(started_at=T0, dry_run=False, hours_mode="always", instruments=1)
        assert (tmp_path / "gone" / "metrics.db").exists()
        assert [c.id for c in store.history(5)] == [cycle_id]


def test_safe_url_hides_passwords() -> None:
    assert safe_url("postgresql://u:pw@h/db") == "postgresql://u:***@h/db"
    assert safe_url("sqlite:///data/bot.db") == "sqlite:///data/bot.db"


def test_database_from_a_newer_version_of_the_bot(db_file: Path) -> None:
    """A revision this code does not know (a newer bot upgraded the DB): StoreError, not a traceback."""
    with Store(f"sqlite:///{db_file}") as store:
        with store.engine.begin() as conn:
            conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999_future'")
        with pytest.raises(StoreError, match="migration failed"):
            store.migrate()
