"""The simulator's clock: the wall clock by default, or pinned to an instant that moves only when told.

Every price, bar, session, token expiry, rate-limit window and duplicate-order window is a function of this
clock's `time()`, so a pinned clock makes the simulator's answers a function of the test alone:

    clock = SimClock(start=datetime(2026, 1, 7, 15, 0, 5, tzinfo=UTC))
    sim = SimServer(SimConfig(seed=11), clock=clock).start()
    clock.advance(60)  # the next 1-minute bar has completed

A `SimClock` also satisfies the bot's `Clock` protocol (now, sleep, monotonic), so a test can hand the same
object to `build_context(clock=...)`: when pinned, the bot's sleeps (order pacing, rate-limit waits, retry
back-offs) advance the shared time instead of sleeping, and both sides agree on which bar is complete.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime


def _epoch(moment: datetime | float) -> float:
    if isinstance(moment, datetime):
        if moment.tzinfo is None:
            raise ValueError("a naive datetime is ambiguous: give the simulator clock an aware (UTC) one")
        return moment.timestamp()
    return float(moment)


class SimClock:
    """Wall clock + offset, or (with `start`) a pinned instant + offset. Thread-safe."""

    def __init__(self, start: datetime | float | None = None) -> None:
        self._lock = threading.Lock()
        self._base = None if start is None else _epoch(start)
        self._start = self._base
        self.offset = 0.0

    @property
    def pinned(self) -> bool:
        return self._base is not None

    # ---- reading ----------------------------------------------------------------------------------------------
    def time(self) -> float:
        """Now as epoch seconds: what every simulator route and the market read."""
        base = self._base
        return (time.time() if base is None else base) + self.offset

    def now(self) -> datetime:
        """Now as an aware UTC datetime (the bot's `Clock.now`)."""
        return datetime.fromtimestamp(self.time(), UTC)

    def monotonic(self) -> float:
        """Never goes back while the clock is only advanced; a pinned clock's monotonic time is its time."""
        return self.time() if self.pinned else time.monotonic() + self.offset

    # ---- moving -----------------------------------------------------------------------------------------------
    def sleep(self, seconds: float) -> None:
        """Real clock: sleep. Pinned clock: advance by `seconds` at once (nothing else would move it)."""
        if seconds <= 0:
            return
        if self.pinned:
            self.advance(seconds)
        else:
            time.sleep(seconds)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.offset += float(seconds)

    def set(self, moment: datetime | float) -> None:
        """Make now `moment`: a pinned clock is re-pinned there, a real one gets the offset that puts it there."""
        at = _epoch(moment)
        with self._lock:
            if self._base is None:
                self.offset = at - time.time()
            else:
                self._base, self.offset = at, 0.0

    def set_offset(self, seconds: float) -> None:
        """Now becomes the wall clock (or the pinned instant) + `seconds`."""
        with self._lock:
            self.offset = float(seconds)

    def reset(self) -> None:
        """Back to the start: the wall clock, or the instant the clock was pinned to when made."""
        with self._lock:
            self._base, self.offset = self._start, 0.0
