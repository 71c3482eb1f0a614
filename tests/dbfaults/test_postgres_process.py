"""The whole bot on PostgreSQL (`make test-postgres` sets TEST_DATABASE_URL; skipped otherwise).

`alembic upgrade head` from the command line, then `python main.py` with DATABASE_URL and JOBSTORE_URL both
on the server: it runs 1 s cycles, records them, keeps its job in the server's job table, and stops with
exit 0 on SIGTERM. Every table in the TEST_DATABASE_URL database is dropped first: it must be a throwaway.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import MetaData, create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from tests.store.alembic_helpers import head_revision
from tests.support.processes import ROOT, clean_env, start_main, stop, wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
def pg_url() -> Iterator[str]:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.skip("TEST_DATABASE_URL is not set (make test-postgres sets it)")
    drop_everything(url)
    yield url
    drop_everything(url)


@pytest.fixture
def pg(pg_url: str) -> Iterator[Engine]:
    engine = create_engine(pg_url)
    yield engine
    engine.dispose()


def drop_everything(url: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            existing = MetaData()
            existing.reflect(conn)
            existing.drop_all(conn)
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    finally:
        engine.dispose()


def start_bot(cwd: Path, url: str) -> subprocess.Popen[str]:
    env = clean_env(DATABASE_URL=url, JOBSTORE_URL=url, CYCLE_INTERVAL_SECONDS="1", DRY_RUN="true")
    return start_main([], cwd, env)


def finished_cycles(pg: Engine) -> list[tuple[int, str]]:
    try:
        with pg.connect() as conn:
            rows = conn.execute(text("SELECT id, status FROM cycles WHERE status <> 'running' ORDER BY id"))
            return [(int(r[0]), str(r[1])) for r in rows]
    except SQLAlchemyError:  # not migrated yet
        return []


def wait_for_cycles(pg: Engine, count: int, proc: subprocess.Popen[str], timeout: float = 60) -> None:
    wait_until(lambda: len(finished_cycles(pg)) >= count, timeout, f"{count} finished cycles", proc, interval=0.2)


def test_alembic_cli_upgrades_postgres_to_head(pg_url: str, pg: Engine) -> None:
    env = clean_env(DATABASE_URL=pg_url)
    upgrade = subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert upgrade.returncode == 0, upgrade.stderr
    current = subprocess.run(
        [sys.executable, "-m", "alembic", "current"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert current.returncode == 0, current.stderr
    assert f"{head_revision()} (head)" in current.stdout
    with pg.connect() as conn:
        tables = set(conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars())
    assert {"cycles", "signals", "orders", "day_baselines", "events", "alembic_version"} <= tables
    password = pg_url.split("://", 1)[1].split("@", 1)[0].partition(":")[2]
    if password:
        assert password not in upgrade.stdout + upgrade.stderr + current.stdout + current.stderr


def test_scheduler_on_postgres_runs_cycles_and_stops_on_sigterm(tmp_path: Path, pg_url: str, pg: Engine) -> None:
    proc = start_bot(tmp_path, pg_url)
    try:
        wait_for_cycles(pg, 2, proc)
    finally:
        code, err = stop(proc)
    assert code == 0, err
    cycles = finished_cycles(pg)
    assert len(cycles) >= 2 and all(status == "ok" for _, status in cycles), cycles
    with pg.connect() as conn:
        jobs = set(conn.execute(text("SELECT id FROM apscheduler_jobs")).scalars())
        kinds = list(conn.execute(text("SELECT kind FROM events ORDER BY id")).scalars())
        running = conn.execute(text("SELECT count(*) FROM cycles WHERE status = 'running'")).scalar()
    assert "trading_cycle" in jobs
    assert kinds[0] == "startup" and kinds[-1] == "shutdown", kinds
    assert running == 0
    assert "saxo-bot stopped" in err
    assert not (tmp_path / "data" / "bot.db").exists() and not (tmp_path / "data" / "jobs.db").exists()


def test_a_second_machine_on_the_same_postgres_job_store_is_refused(tmp_path: Path, pg_url: str, pg: Engine) -> None:
    first = start_bot(tmp_path / "machine-a", pg_url)
    second: subprocess.Popen[str] | None = None
    try:
        wait_for_cycles(pg, 1, first)
        second = start_bot(tmp_path / "machine-b", pg_url)
        try:
            second.wait(timeout=20)
        except subprocess.TimeoutExpired:
            raise AssertionError("a second bot on the same PostgreSQL job store is still running after 20 s") from None
        _, err = second.communicate()
        assert second.returncode == 1 and "already running" in err, err
    finally:
        if second is not None:
            stop(second)
        code, err = stop(first)
    assert code == 0, err
