"""One bot per job store: a lock file for SQLite, an advisory lock for PostgreSQL."""

from __future__ import annotations

import os

import pytest

from bot.errors import InstanceLockedError
from bot.ops.lock import InstanceLock, PostgresAdvisoryLock, instance_lock, lock_path_for


def test_lock_file_sits_beside_the_sqlite_job_store(tmp_path) -> None:
    path = lock_path_for(f"sqlite:///{tmp_path}/jobs.db", "apscheduler_jobs")
    assert path == tmp_path / "jobs.db.apscheduler_jobs.lock"
    assert isinstance(instance_lock(f"sqlite:///{tmp_path}/jobs.db", "t"), InstanceLock)
    assert isinstance(instance_lock("postgresql+psycopg://u:p@127.0.0.1/db", "t"), PostgresAdvisoryLock)


def test_second_holder_is_refused_and_the_first_release_frees_it(tmp_path) -> None:
    path = tmp_path / "jobs.db.lock"
    with InstanceLock(path):
        assert path.read_text() == str(os.getpid())
        with pytest.raises(InstanceLockedError, match="already running"):
            InstanceLock(path).acquire()
    with InstanceLock(path):  # released: free again
        pass


@pytest.mark.postgres
def test_postgres_advisory_lock_is_exclusive_per_table() -> None:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.skip("TEST_DATABASE_URL is not set")
    with PostgresAdvisoryLock(url, "bot_a_jobs"):
        with pytest.raises(InstanceLockedError, match="bot_a_jobs"):
            PostgresAdvisoryLock(url, "bot_a_jobs").acquire()
        with PostgresAdvisoryLock(url, "bot_b_jobs"):  # another bot, another table: allowed
            pass
    with PostgresAdvisoryLock(url, "bot_a_jobs"):
        pass


def test_a_lock_file_that_cannot_be_created_is_a_config_error(tmp_path) -> None:
    from bot.errors import ConfigError

    (tmp_path / "afile").write_text("")
    with pytest.raises(ConfigError) as caught:
        InstanceLock(tmp_path / "afile" / "jobs.db.lock").acquire()
    assert caught.value.setting == "JOBSTORE_URL" and "cannot create the lock file" in caught.value.problem
