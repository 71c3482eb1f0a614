"""The one clock of an in-process end-to-end test: the simulator's and the bot's, pinned.

With both sides on one pinned `SimClock`, a cycle sees the same bars, quotes and sessions whatever the wall clock
says, so order counts do not depend on the minute a test runs in. The bot's sleeps (order pacing, rate-limit
waits, retry back-offs) advance the shared time at once and are recorded.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bot.sim.clock import SimClock

# A Wednesday, 11:45 in New York: FX, crypto and US stocks are all in session. With the simulator's seed 11,
# none of tests/conftest.py's watchlist (nor FxSpot:42) crosses its 5/20 one-minute averages on the bars that
# complete from one minute before PINNED to seven minutes after it (16:43 to 16:51), so only scripted crosses
# trade, even after minutes of (advanced, not slept) waits. tests/e2e/test_pinned_clock.py checks this.
PINNED = datetime(2026, 1, 7, 16, 45, 5, tzinfo=UTC)


class RecordingClock(SimClock):
    """A pinned `SimClock` that records every sleep (in seconds) before advancing by it."""

    def __init__(self, start: datetime = PINNED) -> None:
        super().__init__(start=start)
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        super().sleep(seconds)
