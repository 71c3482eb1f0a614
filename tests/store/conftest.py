"""Fixtures for the store tests: a fresh database per test.

Every test that takes `db_url` (or `store`) runs on a SQLite file in tmp_path, and again on PostgreSQL when
TEST_DATABASE_URL is set (marked `postgres`; skipped otherwise). That database must be a throwaway one:
every table in it is dropped before each test.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import MetaData

from bot.store import Store
from bot.store.engine import make_engine

T0 = datetime(2026, 11, 24, 14, 30, tzinfo=UTC)


def postgres_url() -> str | None:
    return os.environ.get("TEST_DATABASE_URL") or None


def reset_postgres(url: str) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            existing = MetaData()
            existing.reflect(conn)
            existing.drop_all(conn)
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/metrics.db"
    url = postgres_url()
    if url is None:
        pytest.skip("TEST_DATABASE_URL is not set")
    reset_postgres(url)
    return url


@pytest.fixture(scope="session")
def migrated_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file upgraded to head; tests get a copy (migrating per test would cost ~80 ms each)."""
    path = tmp_path_factory.mktemp("template") / "metrics.db"
    with Store(f"sqlite:///{path}") as template:
        template.migrate()
    return path


@pytest.fixture
def store(db_url: str, migrated_sqlite_template: Path) -> Iterator[Store]:
    if db_url.startswith("sqlite:///"):
        shutil.copyfile(migrated_sqlite_template, db_url.removeprefix("sqlite:///"))
    s = Store(db_url)
    if not db_url.startswith("sqlite:///"):
        s.migrate()
    yield s
    s.dispose()


def at(seconds: float = 0, *, days: int = 0) -> datetime:
    """T0 moved by some seconds (and days)."""
    return T0 + timedelta(days=days, seconds=seconds)
