"""`python main.py ...` as a user runs it, for every test that needs the real process (tests/e2e, tests/crash,
tests/soak, tests/dbfaults), and waiting for what it does: polling with a deadline, never a fixed sleep.

A subprocess cannot share a test's in-process pinned clock, so these tests run on the wall clock and assert
only what holds whichever instruments cross by themselves: dry runs, cycle statuses, exit codes, and the
simulator's orders against the DB rows (never an exact order count for unscripted instruments).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import IO, Any

from bot.config import Settings
from tests.support.waiting import wait_until

__all__ = ["MAIN", "ROOT", "clean_env", "run_main", "start_main", "stop", "wait_until"]

ROOT = Path(__file__).resolve().parents[2]
MAIN = ROOT / "main.py"


def clean_env(**settings: str) -> dict[str, str]:
    """This process's environment without Saxo credentials or any bot setting a developer's shell may have set
    (every `Settings` field, by its environment name), plus `settings`."""
    ours = {name.upper() for name in Settings.model_fields}
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("SAXO_") and k.upper() not in ours}
    env.update(settings)
    return env


def start_main(
    args: list[str],
    cwd: Path,
    env: dict[str, str],
    stdout: int | IO[Any] = subprocess.PIPE,
    stderr: int | IO[Any] = subprocess.PIPE,
) -> subprocess.Popen[str]:
    """Start `python main.py *args` in `cwd` (made if missing) with exactly `env` (see `clean_env`)."""
    cwd.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [sys.executable, str(MAIN), *args], cwd=cwd, env=env, stdout=stdout, stderr=stderr, text=True
    )


def run_main(args: list[str], cwd: Path, timeout: float = 60, **settings: str) -> subprocess.CompletedProcess[str]:
    """Run `python main.py *args` to the end in a clean environment plus `settings`; output captured."""
    cwd.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        [sys.executable, str(MAIN), *args],
        cwd=cwd,
        env=clean_env(**settings),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def stop(proc: subprocess.Popen[str], signum: int = signal.SIGTERM, timeout: float = 30) -> tuple[int, str]:
    """Send `signum` (if still running) and wait; killed when it outlives `timeout`. (exit code, stderr)."""
    if proc.poll() is None:
        proc.send_signal(signum)
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    return proc.returncode, err or ""
