"""Waiting for something another thread or process does: polling with a deadline, never a fixed sleep."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable


def wait_until(
    predicate: Callable[[], object],
    timeout: float,
    what: str,
    proc: subprocess.Popen[str] | None = None,
    interval: float = 0.05,
    stderr: Callable[[], str] | None = None,
) -> None:
    """Poll `predicate` until it is true; an AssertionError naming `what` after `timeout` seconds, or at once
    when `proc` exits first (with the end of its stderr: `stderr()` when given, else its pipe). On a timeout
    `proc` is killed, so no process outlives a failed wait."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return
        if proc is not None and proc.poll() is not None:
            text = stderr() if stderr is not None else (proc.stderr.read() if proc.stderr else "")
            raise AssertionError(f"the process exited ({proc.returncode}) before {what}: {text[-3000:]}")
        if time.monotonic() >= deadline:
            text = ""
            if proc is not None:
                proc.kill()
                text = stderr() if stderr is not None else (proc.communicate()[1] or "")
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}: {text[-3000:]}")
        time.sleep(interval)
