"""The metrics DB file deleted or replaced while the bot runs: recreated and migrated in-process (item 14).

Before: pooled connections went on writing into the deleted file's inode with no error, so every later
cycle was recorded nowhere (and, once the pool reconnected, into an empty file without tables).
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from loguru import logger

from bot.errors import StoreError
from bot.store import Store

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "bot.db"


@pytest.fixture
def store(path: Path) -> Iterator[Store]:
    opened = Store(f"sqlite:///{path}")
    opened.migrate()
    yield opened
    opened.dispose()


@pytest.fixture
def warnings() -> Iterator[list[str]]:
    lines: list[str] = []
    sink = logger.add(lambda m: lines.append(m.record["message"]), level="WARNING", format="{message}")
    yield lines
    logger.remove(sink)


def start(store: Store) -> int:
    return store.start_cycle(started_at=NOW, dry_run=True, hours_mode="always", instruments=1)


def ids_in_file(path: Path) -> list[int]:
    """What another process (e.g. `main.py history`) sees in the file now at `path`."""
    conn = sqlite3.connect(path)
    try:
        return [row[0] for row in conn.execute("SELECT id FROM cycles ORDER BY id")]
    finally:
        conn.close()


def remove_db_files(path: Path, *, wal_too: bool = True) -> None:
    for suffix in ("", "-wal", "-shm") if wal_too else ("",):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


@pytest.mark.parametrize("wal_too", [True, False], ids=["all-files", "main-file-only"])
def test_deleted_file_is_recreated_and_migrated(store: Store, path: Path, warnings: list[str], wal_too: bool) -> None:
    start(store)
    remove_db_files(path, wal_too=wal_too)
    new_id = start(store)
    assert path.exists()
    assert ids_in_file(path) == [new_id]  # in the file on disk, where `history` reads it
    assert [c.id for c in store.history(5)] == [new_id]
    assert any("was deleted while running" in line for line in warnings)
    start(store)
    assert len(ids_in_file(path)) == 2
    assert sum("was deleted" in line for line in warnings) == 1  # once, not every write


def test_deleted_folder_is_recreated(store: Store, path: Path) -> None:
    start(store)
    shutil.rmtree(path.parent)
    new_id = start(store)
    assert ids_in_file(path) == [new_id]


def test_a_file_replaced_by_a_restored_copy_is_used(store: Store, path: Path, tmp_path: Path) -> None:
    first = start(store)
    store.dispose()  # checkpoint the WAL so the copy is complete
    backup = tmp_path / "backup.db"
    shutil.copy(path, backup)
    start(store)
    remove_db_files(path)
    shutil.move(backup, path)  # restore the backup while the bot runs
    assert [c.id for c in store.history(5)] == [first]
    later = start(store)
    assert ids_in_file(path) == [first, later]


def test_reads_notice_the_deletion_too(store: Store, path: Path) -> None:
    start(store)
    remove_db_files(path)
    assert store.history(5) == []  # an empty, migrated file, not "no such table"
    assert ids_in_file(path) == []


def test_a_folder_that_cannot_be_recreated_is_a_store_error_and_retried(store: Store, path: Path) -> None:
    start(store)
    shutil.rmtree(path.parent)
    path.parent.write_text("a file where the folder was")
    with pytest.raises(StoreError) as caught:
        start(store)
    assert "cannot recreate folder" in str(caught.value) and "\n" not in str(caught.value)
    path.parent.unlink()
    new_id = start(store)  # the next write tries again and succeeds
    assert ids_in_file(path) == [new_id]


def test_a_store_never_migrated_does_not_create_anything(path: Path) -> None:
    """Readers (`main.py history`) open without migrating: nothing is created behind their back."""
    reader = Store(f"sqlite:///{path}")
    try:
        with pytest.raises(StoreError):
            reader.history(1)
    finally:
        reader.dispose()


@pytest.mark.slow
def test_a_running_bot_recreates_its_deleted_metrics_db(tmp_path: Path) -> None:
    """`python main.py` on the simulator; `rm data/bot.db*` while it runs: the next cycles are in the new file."""
    from tests.crash.harness import SimProcess, bot_environment, finished_cycles, start_bot, wait_for

    sim = SimProcess(tmp_path, seed=7)
    env = bot_environment(sim)
    env["DRY_RUN"] = "true"
    run = start_bot(tmp_path, env)
    db = tmp_path / "data" / "bot.db"
    try:
        wait_for(lambda: finished_cycles(db) >= 2, 60, "two cycles", run)
        remove_db_files(db)
        wait_for(lambda: finished_cycles(db) >= 2, 45, "two cycles in the recreated file", run)
        assert run.terminate(60) == 0
    finally:
        if run.proc.poll() is None:
            run.kill()
        sim.stop()
    err = run.err_text()
    assert "Traceback" not in err and "was deleted while running" in err
