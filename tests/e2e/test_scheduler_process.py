"""`python main.py` as a long-running process against the embedded simulator, stopped every way a user would."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.support.processes import clean_env, start_main, stop, wait_until

pytestmark = pytest.mark.slow


def start(cwd: Path, **settings: str) -> subprocess.Popen[str]:
    """The scheduler (1 s cycles, dry run) in `cwd`; `settings` on top."""
    return start_main([], cwd, clean_env(CYCLE_INTERVAL_SECONDS="1", DRY_RUN="true", **settings))


def cycles(cwd: Path) -> list[tuple[int, str]]:
    db = cwd / "data" / "bot.db"
    if not db.exists():
        return []
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return conn.execute("SELECT id, status FROM cycles ORDER BY id").fetchall()
    except sqlite3.OperationalError:  # not migrated yet
        return []


def wait_for_cycles(cwd: Path, count: int, proc: subprocess.Popen[str], timeout: float = 30) -> None:
    def finished() -> bool:
        return len([c for c in cycles(cwd) if c[1] != "running"]) >= count

    wait_until(finished, timeout, f"{count} finished cycles", proc)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_stops_cleanly_on_a_signal(tmp_path: Path, signum: int) -> None:
    proc = start(tmp_path)
    try:
        wait_for_cycles(tmp_path, 2, proc)
    finally:
        code, err = stop(proc, signum, timeout=20)
    assert code == 0, err
    done = cycles(tmp_path)
    assert len(done) >= 2 and all(status == "ok" for _, status in done), done
    assert "received" in err and "saxo-bot stopped" in err


def test_second_instance_on_the_same_job_store_exits_1(tmp_path: Path) -> None:
    first = start(tmp_path)
    try:
        wait_for_cycles(tmp_path, 1, first)
        second = start(tmp_path)
        _, err = second.communicate(timeout=30)
        assert second.returncode == 1
        assert "already running" in err
    finally:
        code, first_err = stop(first, timeout=20)
    assert code == 0, first_err


def test_killed_mid_run_restarts_and_goes_on(tmp_path: Path) -> None:
    proc = start(tmp_path)
    wait_for_cycles(tmp_path, 2, proc)
    stop(proc, signal.SIGKILL, timeout=10)
    before = len(cycles(tmp_path))
    again = start(tmp_path)
    try:
        wait_for_cycles(tmp_path, before + 2, again)
    finally:
        code, err = stop(again, timeout=20)
    assert code == 0, err
    statuses = [s for _, s in cycles(tmp_path)]
    assert "running" not in statuses  # a cycle cut short by SIGKILL is recorded as error at the restart
    with sqlite3.connect(tmp_path / "data" / "bot.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        jobs = sqlite3.connect(tmp_path / "data" / "jobs.db").execute("SELECT id FROM apscheduler_jobs").fetchall()
    assert ("trading_cycle",) in jobs


def test_no_secret_in_any_file_the_bot_wrote(tmp_path: Path) -> None:
    """SIM mode with a pasted token: the token must not be in the log, the metrics DB or the job store."""
    from bot.sim import SimConfig, SimServer

    token = "pasted-token-MUST-NOT-LEAK-7f3a9c"
    with SimServer(SimConfig(token=token)) as sim:
        proc = start(tmp_path, SAXO_ENV="sim", SAXO_BASE_URL=sim.base_url, SAXO_ACCESS_TOKEN=token, LOG_LEVEL="DEBUG")
        try:
            wait_for_cycles(tmp_path, 2, proc)
        finally:
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    written = [p for p in (tmp_path / "data").rglob("*") if p.is_file()]
    assert {p.name for p in written} >= {"bot.db", "jobs.db", "bot.log"}
    for path in written:
        assert token.encode() not in path.read_bytes(), path
    assert token not in out + err
