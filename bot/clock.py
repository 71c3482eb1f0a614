"""The one place that reads the wall clock or sleeps. Everything else takes a `Clock` (tests use fakes/freezegun).

`SystemClock.sleep` waits on the process's stop event (set by SIGINT/SIGTERM), so every wait in the bot (a
rate-limit window, a retry back-off, order pacing) ends within moments of a stop request by raising
`StopRequested`: the caller abandons what it was waiting to do, and nothing is sent after the signal.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Protocol

from bot.errors import StopRequested


class Clock(Protocol):
    def now(self) -> datetime: ...
    def sleep(self, seconds: float) -> None: ...
    def monotonic(self) -> float: ...


class SystemClock:
    """UTC wall clock; `sleep` is interruptible by `stop` (the Context's stop event)."""

    stop: threading.Event | None = None  # class default: subclasses that skip __init__ still sleep

    def __init__(self, stop: threading.Event | None = None) -> None:
        self.stop = stop if stop is not None else threading.Event()

    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        """Wait `seconds`; raises `StopRequested` at once if a stop is (or becomes) requested meanwhile."""
        if self.stop is None:
            if seconds > 0:
                time.sleep(seconds)
            return
        if seconds > 0 and self.stop.wait(seconds):
            raise StopRequested(f"stop requested; a {seconds:.1f} s wait was abandoned")

    def monotonic(self) -> float:
        return time.monotonic()


def utc_iso(moment: datetime) -> str:
    """UTC ISO-8601 with a trailing Z, the format every stored time uses."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
